// SPDX-License-Identifier: Apache-2.0
// Per-thread error detail (what lox_last_error returns). The core records
// the detail where it detects the problem, so the message can name the
// operation and the offending value; the C boundary only translates.
#pragma once

#include <fmt/format.h>

#include <string>
#include <string_view>

#include "common/status.hpp"

namespace lox::core {

// The calling thread's last detail message ("" if none yet).
const std::string& last_error() noexcept;

// Replaces the calling thread's detail message. Never throws: on allocation
// failure the previous text is cleared instead.
void set_last_error(std::string_view message) noexcept;

// Records the formatted detail, logs it at DEBUG and returns `status`, so a
// failing path reads `return fail(Status::invalid, "...: {}", x);`.
template <typename... Args>
Status fail(Status status, fmt::format_string<Args...> format, Args&&... args) noexcept {
  try {
    set_last_error(fmt::format(format, std::forward<Args>(args)...));
  } catch (...) {
    set_last_error("");
  }
  return status;
}

}  // namespace lox::core
