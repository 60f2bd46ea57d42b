// SPDX-License-Identifier: Apache-2.0
// A point on the monotonic clock by which a wait must end, or "never".
// Timeouts enter the core as a Deadline so every wait computes its end once
// (spurious wake-ups and retries do not stretch the total wait).
#pragma once

#include <chrono>
#include <cmath>
#include <ctime>

namespace lox::core {

class Deadline {
 public:
  using clock = std::chrono::steady_clock;

  static Deadline never() noexcept { return Deadline(); }
  static Deadline at(clock::time_point t) noexcept { return Deadline(t); }

  // `seconds` < 0 means never; 0 means "already expired" (try once);
  // callers reject NaN before building a deadline. Timeouts beyond ~30
  // years are treated as never rather than overflowing the clock.
  static Deadline after_seconds(double seconds) noexcept {
    if (seconds < 0 || seconds > 1e9) return never();
    if (seconds == 0) return Deadline(clock::time_point::min());  // "try once": no clock read
    auto d = std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(seconds));
    return Deadline(clock::now() + d);
  }

  bool is_never() const noexcept { return never_; }
  // A zero timeout is expired without reading the clock (a clock read
  // costs tens of nanoseconds on a VM: more than a whole queue put).
  bool expired() const noexcept { return !never_ && (when_ == clock::time_point::min() || clock::now() >= when_); }
  clock::time_point when() const noexcept { return when_; }

  // Absolute CLOCK_MONOTONIC time for futex(FUTEX_WAIT_BITSET); steady_clock
  // is CLOCK_MONOTONIC on Linux.
  timespec to_timespec() const noexcept {
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(when_.time_since_epoch()).count();
    if (ns < 0) ns = 0;
    return timespec{static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
  }

  // The earlier of the two.
  Deadline min(const Deadline& other) const noexcept {
    if (never_) return other;
    if (other.never_) return *this;
    return when_ <= other.when_ ? *this : other;
  }

 private:
  Deadline() noexcept : never_(true) {}
  explicit Deadline(clock::time_point t) noexcept : never_(false), when_(t) {}
  bool never_;
  clock::time_point when_{};
};

}  // namespace lox::core
