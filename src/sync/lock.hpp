// SPDX-License-Identifier: Apache-2.0
// Lock: a plain lock any thread may release (Python's threading.Lock), and
// LightSwitch: first in acquires a borrowed Lock, last out releases it.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "common/deadline.hpp"
#include "common/futex.hpp"
#include "common/status.hpp"
#include "sync/wait.hpp"

namespace lox::core::sync {

class Lock {
 public:
  Lock() = default;
  ~Lock();
  Lock(const Lock&) = delete;
  Lock& operator=(const Lock&) = delete;

  // ok, timeout, or bad_state when the lock (or `also`, the lifeline of an
  // object waiting through this lock) is destroyed during the wait. `op`
  // names the operation in the detail message.
  Status acquire(const Deadline& deadline, const char* op = "lock acquire", const Lifeline* also = nullptr) noexcept;
  bool try_acquire() noexcept {
    uint32_t expected = 0;
    return state_.compare_exchange_strong(expected, 1, std::memory_order_seq_cst, std::memory_order_relaxed);
  }
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

class LightSwitch {
 public:
  explicit LightSwitch(Lock& lock) noexcept : lock_(lock) {}
  ~LightSwitch();
  LightSwitch(const LightSwitch&) = delete;
  LightSwitch& operator=(const LightSwitch&) = delete;

  Status acquire(const Deadline& deadline) noexcept;
  Status release() noexcept;  // bad_state at count 0
  size_t count() const noexcept { return count_.load(std::memory_order_relaxed); }

 private:
  Lock& lock_;
  std::atomic<size_t> count_{0};
  // Serialises the 0 -> 1 transition: the first entrant holds it while it
  // waits for the borrowed lock, so later entrants queue behind it (and
  // a first entrant that times out leaves the count at 0).
  Lock gate_;
  Lifeline life_;
};

}  // namespace lox::core::sync
