// SPDX-License-Identifier: Apache-2.0
// What the C-API harness checks after each call: the status is a LOX_* code
// and the one the model predicts, and lox_last_error() tells whether the
// call failed. A sentinel failure is recorded before each call, so a
// failing call must replace its text (and a successful one must leave it:
// "successful calls do not clear it").
#pragma once

#include <lox/lox.h>

#include <cmath>
#include <initializer_list>
#include <cstring>
#include <limits>
#include <string>

#include "fuzz_input.hpp"

namespace loxfuzz {

// The lowest status of LOX_STATUS_MAP (values run from it up to LOX_TIMEOUT).
#define LOX_FUZZ_VALUE(name, value, text, meaning) value,
constexpr int lowest_status() {
  int m = 0;
  for (int v : {LOX_STATUS_MAP(LOX_FUZZ_VALUE) 0}) m = v < m ? v : m;
  return m;
}
inline bool known_status(int s) { return s >= lowest_status() && s <= LOX_TIMEOUT; }

// The sentinel: a failure whose text no call under test produces.
inline const std::string& sentinel() {
  static const std::string text = [] {
    lox_index_semaphore* s = nullptr;
    if (lox_index_semaphore_create(0, &s) != LOX_EINVAL || s) std::abort();
    return std::string(lox_last_error());
  }();
  return text;
}

// Records the sentinel as this thread's last error.
inline void arm() {
  lox_index_semaphore* s = nullptr;
  FUZZ_CHECK(lox_index_semaphore_create(0, &s) == LOX_EINVAL && s == nullptr);
  FUZZ_CHECK(sentinel() == lox_last_error());
}

inline void detail_set() {
  const char* e = lox_last_error();
  FUZZ_CHECK(e != nullptr && *e != '\0');
  FUZZ_CHECK(sentinel() != e);
}
inline void detail_untouched() {
  if (sentinel() != lox_last_error()) {
    std::fprintf(stderr, "a call that did not fail set the detail: %s\n", lox_last_error());
    broken(__FILE__, __LINE__, "detail changed without a failure");
  }
}

// Checks a status against the model's prediction and the detail against
// the status. Returns the status.
inline int expect(int got, int want) {
  if (!known_status(got)) broken(__FILE__, __LINE__, "status is not a LOX_* code");
  if (got != want) {
    std::fprintf(stderr, "status %d (%s), model expects %d (%s); detail: %s\n", got, lox_status_str(got), want,
                 lox_status_str(want), lox_last_error());
    broken(__FILE__, __LINE__, "status differs from the model");
  }
  if (got < 0) detail_set();
  if (got == LOX_OK) detail_untouched();
  return got;
}

// Timeouts. `wait_none` is for calls the model knows may block: 0 or at
// most 1 ms. `any` for calls the model knows return at once: also
// forever, negative, huge, infinite and tiny values.
inline double timeout_short(Input& in) {
  static const double v[] = {0.0, -0.0, 5e-324, 1e-9, 1e-6, 1e-4, 1e-3};
  return v[in.below(sizeof v / sizeof v[0])];
}
inline double timeout_any(Input& in) {
  static const double v[] = {0.0,    -0.0, LOX_FOREVER, -1e300, -std::numeric_limits<double>::infinity(), 1e-3,
                             2.5,    1e9,  1e10,        1e300,  std::numeric_limits<double>::infinity(),  5e-324,
                             -5e-324};
  return v[in.below(sizeof v / sizeof v[0])];
}
inline double timeout_nan(Input& in) {
  static const double v[] = {std::numeric_limits<double>::quiet_NaN(), -std::numeric_limits<double>::quiet_NaN(),
                             std::numeric_limits<double>::signaling_NaN()};
  return v[in.below(sizeof v / sizeof v[0])];
}

// A timeout for a call that blocks when `would_block`: NaN 1 time in 8
// (then `*nan` is set), otherwise short or any.
inline double timeout_for(Input& in, bool would_block, bool* nan) {
  uint8_t k = in.u8();
  *nan = (k & 7) == 7;
  if (*nan) return timeout_nan(in);
  return would_block ? timeout_short(in) : timeout_any(in);
}

}  // namespace loxfuzz
