// SPDX-License-Identifier: Apache-2.0
// Lock: a plain lock any thread may release (Python's threading.Lock).
#pragma once

#include <cstddef>

#include "sync/wait.hpp"

namespace lox::core::sync {

class Lock : Pinned {
 public:
  ~Lock();

  // ok, timeout, or bad_state when the lock (or `also`, the lifeline of an
  // object waiting through this lock) is destroyed during the wait. `op`
  // names the operation in the detail message.
  Status acquire(const Deadline& deadline, const char* op = "lock acquire", const Lifeline* also = nullptr) noexcept;
  bool try_acquire() noexcept { return take_if_free(state_, uint32_t{1}, std::memory_order_seq_cst); }
  // bad_state if not locked.
  Status release(const char* op = "lock release") noexcept;
  bool locked() const noexcept { return state_.load(std::memory_order_relaxed) != 0; }

  // Wakes every sleeper so it re-checks its abort condition (LightSwitch
  // destroy uses this for the waiters it has on this lock).
  void wake_all() noexcept { ec_.notify_all(); }

 private:
  std::atomic<uint32_t> state_{0};  // 0 free, 1 locked
  EventCount ec_;
  Lifeline life_;
};

}  // namespace lox::core::sync
