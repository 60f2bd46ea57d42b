// SPDX-License-Identifier: Apache-2.0
// Shared helpers for the C ABI tests: thread-pool owners and gathers, gates
// and counters that make timing-dependent tests deterministic, stderr and
// log capture. Polling is eventually.hpp's, handle owners handles.hpp's.
#pragma once

#include <lox/lox.h>

#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "eventually.hpp"
#include "handles.hpp"

namespace loxtest {

// ---------------------------------------------------------------- handles --

using Pool = Owned<lox_thread>;
using Results = Owned<lox_results>;

inline Pool make_pool(size_t max_workers, lox_task_fn fn, void* ctx = nullptr) {
  return created<lox_thread>(lox_thread_create, max_workers, fn, ctx);
}

inline Pool make_pool_ex(size_t max_workers, lox_task_fn fn, void* ctx, double idle_timeout) {
  lox_thread_opts o;
  lox_thread_opts_init(&o);
  o.idle_timeout = idle_timeout;
  return created<lox_thread>(lox_thread_create_ex, max_workers, fn, ctx, &o);
}

// Gathers with `timeout` (LOX_FOREVER by default); `rc` receives the status.
inline Results gather(lox_thread* pool, int* rc = nullptr, double timeout = LOX_FOREVER) {
  lox_gather_opts o;
  lox_gather_opts_init(&o);
  o.timeout = timeout;
  lox_results* r = nullptr;
  int st = lox_thread_gather(pool, &o, &r);
  if (rc) *rc = st;
  return Results(r);
}

// Gathers forever and expects LOX_OK.
inline Results gather_ok(lox_thread* pool) {
  int rc = 0;
  Results r = gather(pool, &rc);
  EXPECT_EQ(rc, LOX_OK) << lox_last_error();
  EXPECT_NE(r, nullptr);
  return r;
}

// Integers travel through void* (arg and result) without allocation.
inline void* to_ptr(intptr_t v) { return reinterpret_cast<void*>(v); }
inline intptr_t from_ptr(const void* p) { return reinterpret_cast<intptr_t>(p); }

inline intptr_t value_at(const lox_results* r, size_t i) { return from_ptr(lox_results_value(r, i)); }

// All values of a round as integers.
inline std::vector<intptr_t> values(const lox_results* r) {
  std::vector<intptr_t> v;
  for (size_t i = 0; i < lox_results_count(r); ++i) v.push_back(value_at(r, i));
  return v;
}

// A task that returns its argument as its value.
inline int identity_task(void*, void* arg, void** result) {
  *result = arg;
  return 0;
}

// ------------------------------------------------------------ sync tools --

// A one-shot gate: tasks block in wait() until open() (or until a long
// safety deadline, reported as false so a test fails instead of hanging).
class Gate {
 public:
  void open() {
    {
      std::lock_guard lk(mu_);
      open_ = true;
    }
    cv_.notify_all();
  }
  bool wait(std::chrono::nanoseconds limit = kMust) {
    std::unique_lock lk(mu_);
    return cv_.wait_for(lk, limit, [&] { return open_; });
  }
  bool is_open() {
    std::lock_guard lk(mu_);
    return open_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

// A counter one can wait on: "wait until at least n".
class Counter {
 public:
  void add(long d = 1) {
    {
      std::lock_guard lk(mu_);
      n_ += d;
    }
    cv_.notify_all();
  }
  long get() {
    std::lock_guard lk(mu_);
    return n_;
  }
  bool wait_at_least(long n, std::chrono::nanoseconds limit = kMust) {
    std::unique_lock lk(mu_);
    return cv_.wait_for(lk, limit, [&] { return n_ >= n; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  long n_ = 0;
};

// Tracks how many tasks run at once and the highest value seen.
class Concurrency {
 public:
  void enter() {
    int now = cur_.fetch_add(1) + 1;
    int m = max_.load();
    while (now > m && !max_.compare_exchange_weak(m, now)) {
    }
  }
  void leave() { cur_.fetch_sub(1); }
  int current() const { return cur_.load(); }
  int max() const { return max_.load(); }

 private:
  std::atomic<int> cur_{0};
  std::atomic<int> max_{0};
};

// ------------------------------------------------------ stderr capture --

// Redirects file descriptor 2 (and the stderr FILE*) to a temporary file for
// its lifetime; text() returns what was written so far.
class StderrCapture {
 public:
  StderrCapture() {
    std::fflush(stderr);
    char name[] = "/tmp/lox_test_stderr_XXXXXX";
    fd_ = mkstemp(name);
    EXPECT_GE(fd_, 0);
    unlink(name);
    saved_ = dup(2);
    dup2(fd_, 2);
  }
  ~StderrCapture() {
    restore();
    if (fd_ >= 0) close(fd_);
  }
  std::string text() {
    std::fflush(stderr);
    std::string out;
    char buf[4096];
    off_t off = 0;
    for (;;) {
      ssize_t n = pread(fd_, buf, sizeof buf, off);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
      off += n;
    }
    return out;
  }
  void restore() {
    if (saved_ < 0) return;
    std::fflush(stderr);
    dup2(saved_, 2);
    close(saved_);
    saved_ = -1;
  }

 private:
  int fd_ = -1;
  int saved_ = -1;
};

// ------------------------------------------------------------- logging --

// Collects log messages through lox_log_set_callback for its lifetime, then
// restores the default sink and the previous level.
class LogCapture {
 public:
  struct Entry {
    int level;
    std::string message;
  };
  LogCapture() : saved_level_(lox_log_get_level()) { lox_log_set_callback(&LogCapture::sink, this); }
  ~LogCapture() {
    lox_log_set_callback(nullptr, nullptr);
    lox_log_set_level(saved_level_);
  }
  std::vector<Entry> entries() {
    std::lock_guard lk(mu_);
    return entries_;
  }
  void clear() {
    std::lock_guard lk(mu_);
    entries_.clear();
  }

 private:
  static void sink(void* ctx, int level, const char* message) {
    auto* self = static_cast<LogCapture*>(ctx);
    std::lock_guard lk(self->mu_);
    self->entries_.push_back({level, message ? message : "(null)"});
  }
  int saved_level_;
  std::mutex mu_;
  std::vector<Entry> entries_;
};

// Silences the library's log for a scope (some tests provoke errors on
// purpose and would otherwise litter the output).
class QuietLog {
 public:
  QuietLog() : saved_(lox_log_get_level()) { lox_log_set_level(LOX_LOG_OFF); }
  ~QuietLog() { lox_log_set_level(saved_); }

 private:
  int saved_;
};

// Scoped environment variable (set or unset), restored on exit.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) {
      had_ = true;
      old_ = old;
    }
    if (value)
      setenv(name, value, 1);
    else
      unsetenv(name);
  }
  ~ScopedEnv() {
    if (had_)
      setenv(name_.c_str(), old_.c_str(), 1);
    else
      unsetenv(name_.c_str());
  }

 private:
  std::string name_;
  bool had_ = false;
  std::string old_;
};

}  // namespace loxtest
