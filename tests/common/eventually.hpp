// SPDX-License-Identifier: Apache-2.0
// Waiting for what must happen: eventually() polls a condition until it
// holds or a generous deadline passes, finishes_within() runs a call that
// must return. The one polling helper of every suite.
//
// Rule of thumb used throughout: anything that *must* happen is waited for
// with a long deadline (kMust, tens of seconds, so a slow sanitizer build
// still passes and a real hang still fails instead of blocking forever);
// nothing is ever asserted to happen within a short time.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>

namespace loxtest {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// How long we are prepared to wait for something that must happen.
inline constexpr auto kMust = 30s;

// Polls `pred` every `step` until it holds (true) or `limit` passes (false).
// Only sleeps between polls, so it also works in a forked worker (no
// threads, no condition variables across processes).
template <typename Pred>
bool eventually(Pred&& pred, std::chrono::nanoseconds limit = kMust, std::chrono::nanoseconds step = 2ms) {
  const auto end = Clock::now() + limit;
  for (;;) {
    if (pred()) return true;
    if (Clock::now() >= end) return false;
    std::this_thread::sleep_for(step);
  }
}

// Runs `body` in a thread of its own and waits at most `limit` for it: a
// call that must return (not block for ever, not deadlock) then fails the
// test instead of hanging it. A body still running after `limit` cannot be
// stopped or joined safely, so the program is aborted with `what` (CTest
// reports the failure). Returns once `body` has returned.
template <typename Body>
void finishes_within(const char* what, Body&& body, std::chrono::nanoseconds limit = kMust) {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  std::thread t([&] {
    body();
    std::lock_guard lk(mu);
    done = true;
    cv.notify_all();
  });
  {
    std::unique_lock lk(mu);
    if (!cv.wait_for(lk, limit, [&] { return done; })) {
      std::fprintf(stderr, "FATAL: %s did not finish within %lld s (a hang or a deadlock)\n", what,
                   static_cast<long long>(std::chrono::duration_cast<std::chrono::seconds>(limit).count()));
      std::fflush(stderr);
      std::abort();
    }
  }
  t.join();
}

}  // namespace loxtest
