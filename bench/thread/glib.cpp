// SPDX-License-Identifier: Apache-2.0
// glib: g_thread_pool_new(fn, job, threads, FALSE, ..), g_thread_pool_push
// per task, a completion counter with GLib's own GMutex/GCond.
#include "peers.hpp"

#include <glib.h>

#include <stdexcept>

namespace lox_bench::thread {
namespace {

class GCompletion {
 public:
  GCompletion() {
    g_mutex_init(&m_);
    g_cond_init(&cv_);
  }
  ~GCompletion() {
    g_cond_clear(&cv_);
    g_mutex_clear(&m_);
  }
  void arm(size_t n) {
    remaining_.store(n, std::memory_order_relaxed);
    done_ = false;
  }
  void task_done() {
    if (remaining_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      g_mutex_lock(&m_);
      done_ = true;
      g_cond_signal(&cv_);
      g_mutex_unlock(&m_);
    }
  }
  void wait() {
    g_mutex_lock(&m_);
    while (!done_) g_cond_wait(&cv_, &m_);
    g_mutex_unlock(&m_);
  }

 private:
  std::atomic<size_t> remaining_{0};
  GMutex m_;
  GCond cv_;
  bool done_ = false;
};

template <class F>
class GlibPeer final : public Batcher {
 public:
  GlibPeer(const F* f, int threads) : f_(f) {
    GError* err = nullptr;
    pool_ = g_thread_pool_new(&run, &job_, threads, FALSE, &err);
    if (!pool_) {
      std::string msg = err ? err->message : "unknown error";
      g_clear_error(&err);
      throw std::runtime_error("g_thread_pool_new: " + msg);
    }
  }
  ~GlibPeer() override { g_thread_pool_free(pool_, FALSE, TRUE); }
  void batch(uint64_t first, size_t n, uint64_t* out) override {
    done_.arm(n);
    job_ = Job<F, GCompletion>{f_, out, first, &done_};  // published to workers by the pushes below
    for (size_t k = 0; k < n; ++k) g_thread_pool_push(pool_, GSIZE_TO_POINTER(k + 1), nullptr);  // data != NULL
    done_.wait();
  }

 private:
  static void run(gpointer data, gpointer user) {
    static_cast<Job<F, GCompletion>*>(user)->run(GPOINTER_TO_SIZE(data) - 1);
  }
  const F* f_;
  GCompletion done_;
  Job<F, GCompletion> job_{};
  GThreadPool* pool_ = nullptr;
};

}  // namespace

LOX_THREAD_PEER(make_glib, GlibPeer)

std::string glib_version() {
  return "GLib " + std::to_string(glib_major_version) + "." + std::to_string(glib_minor_version) + "." +
         std::to_string(glib_micro_version);
}

}  // namespace lox_bench::thread
