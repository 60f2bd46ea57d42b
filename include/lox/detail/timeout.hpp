// SPDX-License-Identifier: Apache-2.0
// liblox C++ layer: std::chrono durations and deadlines as the C layer's
// `double` seconds. Every timed call of the C++ layer converts through here.
#ifndef LOX_DETAIL_TIMEOUT_HPP
#define LOX_DETAIL_TIMEOUT_HPP

#include <chrono>

namespace lox {

// Any `std::chrono::duration` as the C layer's `double` seconds (exact up to
// double precision; `std::chrono::hours::max()` and the like are far beyond
// the ~30 years the C layer treats as "forever").
template <class Rep, class Period>
constexpr double to_seconds(const std::chrono::duration<Rep, Period>& d) noexcept {
  return std::chrono::duration<double>(d).count();
}

namespace detail {

// A try_* duration as the C layer's timeout: negative waits not at all
// (the standard's meaning; the C layer would read it as "forever"), NaN
// stays NaN (LOX_EINVAL from the C call).
template <class Rep, class Period>
double try_timeout(const std::chrono::duration<Rep, Period>& d) noexcept {
  const double s = to_seconds(d);
  return s < 0 ? 0.0 : s;
}

// Runs `attempt(timeout_seconds) -> bool` until it succeeds or `Clock` has
// reached `deadline`. One attempt for a steady clock unless it wakes up
// early; a clock that is adjusted (system_clock) is re-read after each
// attempt, so the deadline is honoured on that clock as the standard asks.
// At least one attempt is made, even for a deadline in the past.
template <class Clock, class Duration, class Attempt>
bool until(const std::chrono::time_point<Clock, Duration>& deadline, Attempt&& attempt) {
  for (;;) {
    const auto left = deadline - Clock::now();
    const double s = to_seconds(left);
    if (attempt(s > 0 ? s : 0.0)) return true;
    if (!(s > 0) || Clock::now() >= deadline) return false;
  }
}

}  // namespace detail
}  // namespace lox

#endif  // LOX_DETAIL_TIMEOUT_HPP
