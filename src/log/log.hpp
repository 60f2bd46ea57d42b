// SPDX-License-Identifier: Apache-2.0
// liblox's logger: a private spdlog logger (not registered in spdlog's
// global registry, so it never collides with the application's own spdlog
// use) whose sink is either colored stderr or the user's callback.
#pragma once

#include <fmt/format.h>

#include <string_view>

namespace lox::core::log {

enum class Level : int { trace = 0, debug, info, warn, error, off };

// Current threshold; cheap (one relaxed atomic load), so callers can skip
// formatting entirely when a message would be dropped.
Level level() noexcept;
inline bool enabled(Level l) noexcept { return l >= level() && l != Level::off; }

void set_level(Level l) noexcept;

using Callback = void (*)(void* ctx, int level, const char* message);
// nullptr restores the default stderr sink.
void set_callback(Callback fn, void* ctx) noexcept;

// Emits one message; never throws (a failing sink drops the message).
void write(Level l, std::string_view message) noexcept;

template <typename... Args>
void emit(Level l, fmt::format_string<Args...> format, Args&&... args) noexcept {
  if (!enabled(l)) return;
  try {
    write(l, fmt::format(format, std::forward<Args>(args)...));
  } catch (...) {
  }
}

// Parses LOX_LOG_LEVEL-style text: a level name or digit; returns false if
// it is neither.
bool parse_level(std::string_view text, Level& out) noexcept;

}  // namespace lox::core::log
