// SPDX-License-Identifier: Apache-2.0
// std: the textbook pool (bench/common/std_pool.hpp) and a completion
// counter.
#include "peers.hpp"
#include "../common/std_pool.hpp"

#include <deque>
#include <functional>
#include <thread>
#include <vector>

namespace lox_bench::thread {
namespace {

using lox_bench::StdPool;

template <class F>
class StdPeer final : public Batcher {
 public:
  StdPeer(const F* f, int threads) : f_(f), pool_(threads) {}
  void batch(uint64_t first, size_t n, uint64_t* out) override {
    post_batch(f_, done_, first, n, out, [this](auto&& task) { pool_.submit(std::forward<decltype(task)>(task)); });
  }

 private:
  const F* f_;
  Completion done_;
  StdPool pool_;
};

}  // namespace

LOX_THREAD_PEER(make_std, StdPeer)

}  // namespace lox_bench::thread
