// SPDX-License-Identifier: Apache-2.0
// Detail texts built where an allocation failure must not escape (a task's
// outcome is recorded in noexcept paths): on std::bad_alloc the text is
// empty and the outcome keeps its status.
#pragma once

#include <cstddef>
#include <string>
#include <utility>

#include <fmt/format.h>

namespace lox::core {

template <typename... Args>
std::string describe(fmt::format_string<Args...> format, Args&&... args) noexcept {
  try {
    return fmt::format(format, std::forward<Args>(args)...);
  } catch (...) {
    return {};
  }
}

// The detail of a task cancelled before it started, in every pool.
inline std::string cancelled_before_start(size_t index) noexcept {
  return describe("task {} was cancelled before it started", index);
}

}  // namespace lox::core
