// SPDX-License-Identifier: Apache-2.0
// Recording a gather's progress callback (thread pool and process pool
// alike): every (done, total) call, whether two calls overlapped, and
// whether one came from a thread other than the gathering one.
#pragma once

#include <lox/lox.h>

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "eventually.hpp"

namespace loxtest {

struct ProgressLog {
  std::thread::id expected_thread;  // the gathering thread
  std::atomic<int> inside{0};
  std::atomic<bool> concurrent{false};
  std::atomic<bool> wrong_thread{false};
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::pair<size_t, size_t>> calls;
};

inline void progress_cb(void* ctx, size_t done, size_t total) {
  auto* log = static_cast<ProgressLog*>(ctx);
  if (log->inside.fetch_add(1) != 0) log->concurrent = true;
  if (std::this_thread::get_id() != log->expected_thread) log->wrong_thread = true;
  {
    std::lock_guard lk(log->mu);
    log->calls.emplace_back(done, total);
  }
  log->cv.notify_all();
  std::this_thread::yield();  // widen the window for a concurrent call
  log->inside.fetch_sub(1);
}

// Gather options that report progress into `log`.
inline lox_gather_opts progress_opts(ProgressLog& log) {
  lox_gather_opts o = LOX_GATHER_OPTS_INIT;
  o.progress = progress_cb;
  o.progress_ctx = &log;
  return o;
}

// Waits for the first call, which comes once the gather waits (its round is
// sealed from then on), and checks that it is (0, total).
inline void expect_first_call(ProgressLog& log, size_t total) {
  std::unique_lock lk(log.mu);
  EXPECT_TRUE(log.cv.wait_for(lk, kMust, [&] { return !log.calls.empty(); }))
      << "no progress call when the wait started";
  if (!log.calls.empty()) EXPECT_EQ(log.calls.front(), std::make_pair(size_t{0}, total));
}

// The calls came one at a time from the gathering thread, with this total,
// `done` never decreasing, the last one (total, total).
inline void check_progress_calls(ProgressLog& log, size_t total) {
  std::lock_guard lk(log.mu);
  EXPECT_FALSE(log.concurrent.load()) << "progress called concurrently";
  EXPECT_FALSE(log.wrong_thread.load()) << "progress called outside the gathering thread";
  ASSERT_FALSE(log.calls.empty());
  size_t prev = 0;
  for (auto [done, t] : log.calls) {
    EXPECT_EQ(t, total);
    EXPECT_LE(done, total);
    EXPECT_GE(done, prev) << "done decreased";
    prev = done;
  }
  EXPECT_EQ(log.calls.back(), std::make_pair(total, total));
}

}  // namespace loxtest
