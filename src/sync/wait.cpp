// SPDX-License-Identifier: Apache-2.0
#include "sync/wait.hpp"

#include <thread>

#include "log/log.hpp"

namespace lox::core::sync {

void report_destroyed_with_waiters(const char* what, uint32_t waiters) noexcept {
  log::emit(log::Level::error,
            "{} destroy: {} thread(s) still waiting on it; they are woken and get LOX_ESTATE (usage error: "
            "destroy an object only when nobody uses it)",
            what, waiters);
}

void pause_for_waiters() noexcept { std::this_thread::sleep_for(std::chrono::microseconds(50)); }

}  // namespace lox::core::sync
