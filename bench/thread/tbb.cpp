// SPDX-License-Identifier: Apache-2.0
// tbb: tbb::task_arena(threads) + tbb::task_group::run per task + wait().
#include "peers.hpp"

#include <oneapi/tbb/task_arena.h>
#include <oneapi/tbb/task_group.h>
#include <oneapi/tbb/version.h>

namespace lox_bench::thread {
namespace {

template <class F>
class TbbPeer final : public Batcher {
 public:
  TbbPeer(const F* f, int threads) : f_(f), arena_(threads) { arena_.initialize(); }
  void batch(uint64_t first, size_t n, uint64_t* out) override {
    Job<F, void> job{f_, out, first, nullptr};
    Job<F, void>* jp = &job;
    arena_.execute([&] {
      tbb::task_group tg;
      for (size_t k = 0; k < n; ++k) tg.run([jp, k] { jp->out[k] = (*jp->f)(jp->first + k); });
      tg.wait();
    });
  }
  std::string note() const override { return "task_arena(" + std::to_string(arena_.max_concurrency()) + ")"; }

 private:
  const F* f_;
  tbb::task_arena arena_;
};

}  // namespace

LOX_THREAD_PEER(make_tbb, TbbPeer)

std::string tbb_version() {
  return "oneTBB " + std::to_string(TBB_VERSION_MAJOR) + "." + std::to_string(TBB_VERSION_MINOR);
}

}  // namespace lox_bench::thread
