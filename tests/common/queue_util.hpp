// SPDX-License-Identifier: Apache-2.0
// Helpers for the queue, announcement and funnel tests (test_queue_*.cpp,
// test_announcement*.cpp, test_funnel.cpp): RAII owners, the announcement
// item helpers (get_now, drain, put_ok), the detail-text check, "is this
// thread asleep in the kernel", per-thread CPU time, ERROR log lookup and
// the sanitizer-dependent size of stress runs.
#pragma once

#include <lox/lox.h>

#include <gtest/gtest.h>

#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <limits>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "test_util.hpp"

namespace loxtest {

// ------------------------------------------------------------ handles --

using Queue = Owned<lox_queue>;
using Ann = Owned<lox_announcement>;
using Funnel = Owned<lox_funnel>;

inline Queue make_queue(size_t maxsize) { return created<lox_queue>(lox_queue_create, maxsize); }

inline Ann make_ann(size_t maxsize = 0, long long backlog = LOX_BACKLOG_OFF) {
  return created<lox_announcement>(lox_announcement_create, maxsize, backlog);
}

inline Ann subscribe(lox_announcement* a, size_t maxsize = 0) {
  return created<lox_announcement>(lox_announcement_subscribe, a, maxsize, LOX_FOREVER);
}

inline Ann clone_of(lox_announcement* a) { return created<lox_announcement>(lox_announcement_clone, a); }

// Announcement items are small integers carried in the pointer.
// Gets one item without waiting; -1000 when there is none (or on error).
inline intptr_t get_now(lox_announcement* a) {
  void* it = to_ptr(-1000);
  int rc = lox_announcement_get(a, &it, 0);
  EXPECT_EQ(rc, LOX_OK) << lox_last_error();
  return rc == LOX_OK ? from_ptr(it) : -1000;
}

// Every item left in `a`'s queue, in order (without waiting).
inline std::vector<intptr_t> drain(lox_announcement* a) {
  std::vector<intptr_t> v;
  void* it = nullptr;
  while (lox_announcement_get(a, &it, 0) == LOX_OK) v.push_back(from_ptr(it));
  return v;
}

// A put that must succeed at once.
inline void put_ok(lox_announcement* a, intptr_t v) {
  EXPECT_EQ(lox_announcement_put(a, to_ptr(v), 0), LOX_OK) << lox_last_error();
}

inline Funnel make_funnel() { return created<lox_funnel>(lox_funnel_create); }

inline Funnel add_input(lox_funnel* f) { return created<lox_funnel>(lox_funnel_subscribe, f); }

// ------------------------------------------------------------- detail --

inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Puts an unrelated detail ("thread call: pool is NULL") in this thread's
// slot, so a later check cannot be satisfied by a stale message.
inline void prime_detail() { EXPECT_EQ(lox_thread_call(nullptr, nullptr, nullptr), LOX_EINVAL); }

// The detail names the object and the operation ("queue put: ...",
// "lox_queue_put: ..."; both words must appear).
#define EXPECT_DETAIL2(object, op)                                                                      \
  do {                                                                                                  \
    std::string d_ = lox_last_error();                                                                  \
    EXPECT_NE(d_.find(object), std::string::npos) << "detail was: \"" << d_ << "\"";                    \
    EXPECT_NE(d_.find(op), std::string::npos) << "detail was: \"" << d_ << "\"";                        \
    EXPECT_EQ(d_.find("thread call"), std::string::npos) << "detail not set (stale): \"" << d_ << "\""; \
  } while (0)

// --------------------------------------------------- kernel thread state --

inline pid_t this_tid() { return static_cast<pid_t>(syscall(SYS_gettid)); }

// True once thread `tid` sleeps in the kernel (state S).
inline bool sleeping_now(pid_t tid) {
  std::ifstream f("/proc/self/task/" + std::to_string(tid) + "/stat");
  std::string line;
  std::getline(f, line);
  auto p = line.rfind(')');
  return p != std::string::npos && p + 2 < line.size() && line[p + 2] == 'S';
}

// Sleeping, and still sleeping a little later (not a passing blocking call).
inline bool sleeping(pid_t tid) {
  if (!sleeping_now(tid)) return false;
  std::this_thread::sleep_for(std::chrono::milliseconds(10));
  return sleeping_now(tid);
}

// A thread that records its kernel id and then makes one blocking call;
// wait_asleep() returns once it sleeps inside that call.
class Sleeper {
 public:
  template <typename Fn>
  explicit Sleeper(Fn fn)
      : t_([this, fn]() mutable {
          tid_.store(this_tid());
          fn();
          done_.store(true);
        }) {}
  ~Sleeper() {
    if (t_.joinable()) t_.join();
  }
  bool wait_asleep() {
    return eventually([&] { return tid_.load() != 0 && (done_.load() || sleeping(tid_.load())); }) && !done_.load();
  }
  bool done() const { return done_.load(); }
  void join() {
    if (t_.joinable()) t_.join();
  }

 private:
  std::atomic<pid_t> tid_{0};
  std::atomic<bool> done_{false};
  std::thread t_;
};

// `receiver` blocks in an untimed get; a put of 11 by `sender`, from another
// thread, must wake it with that item.
inline void expect_blocked_get_receives_put(lox_announcement* receiver, lox_announcement* sender) {
  std::atomic<int> rc{99};
  void* got = nullptr;
  Sleeper s([&] { rc = lox_announcement_get(receiver, &got, LOX_FOREVER); });
  ASSERT_TRUE(s.wait_asleep());
  std::thread([&] { put_ok(sender, 11); }).join();
  s.join();
  EXPECT_EQ(rc.load(), LOX_OK);
  EXPECT_EQ(from_ptr(got), 11);
}

// CPU time the calling thread has used so far.
inline std::chrono::nanoseconds thread_cpu_time() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
}

// ------------------------------------------------------------------ log --

inline bool has_error_log(LogCapture& cap, const std::string& what) {
  for (auto& e : cap.entries())
    if (e.level == LOX_LOG_ERROR && e.message.find(what) != std::string::npos) return true;
  return false;
}

// An ERROR message that contains both words ("queue" and "destroy").
inline bool has_error_log(LogCapture& cap, const std::string& a, const std::string& b) {
  for (auto& e : cap.entries())
    if (e.level == LOX_LOG_ERROR && e.message.find(a) != std::string::npos && e.message.find(b) != std::string::npos)
      return true;
  return false;
}

inline bool has_any_error_log(LogCapture& cap) {
  for (auto& e : cap.entries())
    if (e.level >= LOX_LOG_ERROR) return true;
  return false;
}

// ---------------------------------------------------------- stress size --

#if defined(__SANITIZE_THREAD__)
inline constexpr bool kThreadSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
inline constexpr bool kThreadSanitizer = true;
#else
inline constexpr bool kThreadSanitizer = false;
#endif
#else
inline constexpr bool kThreadSanitizer = false;
#endif

// Stress counts: the full count normally, a fifth under ThreadSanitizer
// (which slows every atomic operation down by an order of magnitude).
inline constexpr long scaled(long n) { return kThreadSanitizer ? n / 5 : n; }

}  // namespace loxtest
