// SPDX-License-Identifier: Apache-2.0
#include "common/error.hpp"

namespace lox::core {
namespace {
thread_local std::string tl_last_error;
}

const std::string& last_error() noexcept { return tl_last_error; }

void set_last_error(std::string_view message) noexcept {
  try {
    tl_last_error.assign(message);
  } catch (...) {
    tl_last_error.clear();
  }
}

}  // namespace lox::core
