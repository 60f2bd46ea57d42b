// SPDX-License-Identifier: Apache-2.0
// lox: lox_thread_create(threads, fn, ctx), lox_thread_scatter per task,
// lox_thread_gather, values read with lox_results_value, then
// lox_results_destroy.
#include "peers.hpp"

#include "../common/harness.hpp"
#include "../common/output.hpp"

#include <lox/lox.h>

#include <chrono>
#include <cstdio>
#include <stdexcept>

namespace lox_bench::thread {
namespace {

template <class F>
class LoxPeer final : public Batcher {
 public:
  LoxPeer(const F* f, int threads) {
    must(lox_thread_create(static_cast<size_t>(threads), &task, const_cast<F*>(f), &pool_), "lox_thread_create");
  }
  ~LoxPeer() override { lox_thread_destroy(pool_); }
  void batch(uint64_t first, size_t n, uint64_t* out) override {
    // Where the time goes, for big batches only (three clock reads would
    // weigh on case c's single-task rounds): scatter loop, gather, reading
    // the values + destroying the results.
    const bool timed = n >= kTimedBatch;
    Clock::time_point t0, t1, t2;
    if (timed) t0 = Clock::now();
    for (size_t k = 0; k < n; ++k)
      must(lox_thread_scatter(pool_, reinterpret_cast<void*>(static_cast<uintptr_t>(first + k)), nullptr),
           "lox_thread_scatter");
    if (timed) t1 = Clock::now();
    lox_results* r = nullptr;
    int rc = lox_thread_gather(pool_, nullptr, &r);
    if (timed) t2 = Clock::now();
    if (rc != LOX_OK) {
      lox_results_destroy(r);
      lox_failed(rc, "lox_thread_gather");
    }
    size_t count = lox_results_count(r);
    if (count != n) {
      lox_results_destroy(r);
      throw std::runtime_error("lox_thread_gather returned " + std::to_string(count) + " results for " +
                               std::to_string(n) + " scattered tasks");
    }
    for (size_t k = 0; k < n; ++k) out[k] = static_cast<uint64_t>(reinterpret_cast<uintptr_t>(lox_results_value(r, k)));
    lox_results_destroy(r);
    if (timed) {
      auto t3 = Clock::now();
      scatter_s_ += std::chrono::duration<double>(t1 - t0).count();
      gather_s_ += std::chrono::duration<double>(t2 - t1).count();
      read_s_ += std::chrono::duration<double>(t3 - t2).count();
      timed_tasks_ += n;
    }
  }
  void reset_stats() override { scatter_s_ = gather_s_ = read_s_ = 0, timed_tasks_ = 0; }
  std::string note() const override {
    if (!timed_tasks_) return "";
    double n = static_cast<double>(timed_tasks_);
    return strf("phases per task: scatter loop %.1f ns, gather %.1f ns, values+destroy %.1f ns", scatter_s_ * 1e9 / n,
                gather_s_ * 1e9 / n, read_s_ * 1e9 / n);
  }

 private:
  static int task(void* ctx, void* arg, void** result) {
    const F* f = static_cast<const F*>(ctx);
    *result = reinterpret_cast<void*>(static_cast<uintptr_t>((*f)(reinterpret_cast<uintptr_t>(arg))));
    return 0;
  }
  static constexpr size_t kTimedBatch = 1000;
  lox_thread* pool_ = nullptr;
  double scatter_s_ = 0, gather_s_ = 0, read_s_ = 0;
  size_t timed_tasks_ = 0;
};

}  // namespace

LOX_THREAD_PEER(make_lox, LoxPeer)

}  // namespace lox_bench::thread
