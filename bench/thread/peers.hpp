// SPDX-License-Identifier: Apache-2.0
// The pools of lox_bench behind one interface. Every peer file (serial.cpp,
// lox.cpp, tbb.cpp, asio.cpp, glib.cpp, std_pool.cpp, pingpong.cpp) defines
// its Batcher for each kind of work and nothing else.
#pragma once

#include "work.hpp"

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

namespace lox_bench::thread {

// A Batcher runs tasks f(first), f(first+1), ..., f(first+n-1) on its pool,
// stores f(first+k) in out[k] and returns when all n are done. One virtual
// call per batch; the per-task code is fully typed.
struct Batcher {
  virtual ~Batcher() = default;
  virtual void batch(uint64_t first, size_t n, uint64_t* out) = 0;
  virtual std::string note() const { return ""; }
  virtual void reset_stats() {}  // called after the warm-up
};

// "Wait until the whole batch is done" for the pools that have no gather of
// their own (Asio, GLib, the std pool): a counter decremented by each task;
// the task that brings it to zero signals the waiter.
class Completion {
 public:
  void arm(size_t n) {
    remaining_.store(n, std::memory_order_relaxed);
    done_ = false;
  }
  void task_done() {
    if (remaining_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      {
        std::lock_guard lk(m_);
        done_ = true;
      }
      cv_.notify_one();
    }
  }
  void wait() {
    std::unique_lock lk(m_);
    cv_.wait(lk, [&] { return done_; });
  }

 private:
  std::atomic<size_t> remaining_{0};
  std::mutex m_;
  std::condition_variable cv_;
  bool done_ = false;
};

// What every queue-based peer's task closure points to; the closure itself
// is {Job*, k}: two words, so std::function stores it without allocating.
template <class F, class C>
struct Job {
  const F* f;
  uint64_t* out;
  uint64_t first;
  C* completion;
  void run(size_t k) const {
    out[k] = (*f)(first + k);
    completion->task_done();
  }
};

// One batch on a pool that takes closures: `submit` posts each {Job*, k}
// closure; returns when the completion has counted all n.
template <class F, class Submit>
void post_batch(const F* f, Completion& done, uint64_t first, size_t n, uint64_t* out, Submit&& submit) {
  done.arm(n);
  Job<F, Completion> job{f, out, first, &done};
  auto* jp = &job;
  for (size_t k = 0; k < n; ++k) submit([jp, k] { jp->run(k); });
  done.wait();
}

// make_<peer>(f, threads) for each kind of work, defined in the peer's file.
#define LOX_THREAD_PEER_FACTORY(name) \
  template <class F>                  \
  std::unique_ptr<Batcher> name(const F* f, int threads);
LOX_THREAD_PEER_FACTORY(make_serial)
LOX_THREAD_PEER_FACTORY(make_lox)
LOX_THREAD_PEER_FACTORY(make_tbb)
LOX_THREAD_PEER_FACTORY(make_asio)
LOX_THREAD_PEER_FACTORY(make_glib)
LOX_THREAD_PEER_FACTORY(make_std)
LOX_THREAD_PEER_FACTORY(make_pingpong)
#undef LOX_THREAD_PEER_FACTORY

// In a peer's file: defines make_<peer> for Tiny, Spin and Tracked as a
// `Peer<F>(f, threads)`.
#define LOX_THREAD_PEER(name, Peer)                               \
  template <class F>                                              \
  std::unique_ptr<Batcher> name(const F* f, int threads) {        \
    return std::make_unique<Peer<F>>(f, threads);                 \
  }                                                               \
  template std::unique_ptr<Batcher> name<Tiny>(const Tiny*, int); \
  template std::unique_ptr<Batcher> name<Spin>(const Spin*, int); \
  template std::unique_ptr<Batcher> name<Tracked>(const Tracked*, int);

// The peer called `name` (serial, lox, tbb, asio, glib, std, pingpong).
template <class F>
std::unique_ptr<Batcher> make_peer(const std::string& name, const F* f, int threads);

}  // namespace lox_bench::thread
