// SPDX-License-Identifier: Apache-2.0
// Status codes of the core. They have the same values as the C ABI's LOX_*
// codes (capi/ checks that at compile time) so translation is a cast.
#pragma once

namespace lox::core {

enum class Status : int {
  ok = 0,
  timeout = 1,
  invalid = -1,   // bad argument
  no_memory = -2,
  bad_state = -3, // not valid in the object's current state
  closed = -4,
  task_failed = -5,
  worker_died = -6,
  system = -7,    // an OS call failed; errno text in the detail
};

constexpr int to_int(Status s) noexcept { return static_cast<int>(s); }

}  // namespace lox::core
