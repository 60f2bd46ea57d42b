// SPDX-License-Identifier: Apache-2.0
// A mutex in one 32-bit word, for objects that exist by the million (a
// task graph's nodes) and hold their lock for a few instructions: 4 bytes
// instead of std::mutex's 40. States: 0 free, 1 locked, 2 locked with
// sleepers (Drepper, "Futexes Are Tricky", mutex 2). A contended lock
// spins briefly (the holder is a few instructions from releasing it), then
// sleeps on the word through the one futex wrapper (common/futex.hpp).
// BasicLockable, so std::lock_guard works. Not recursive, no timeout.
#pragma once

#include <atomic>
#include <cstdint>

#include "common/futex.hpp"

namespace lox::core {

class WordLock {
 public:
  void lock() noexcept {
    uint32_t c = 0;
    if (state_.compare_exchange_strong(c, 1, std::memory_order_acquire, std::memory_order_relaxed)) return;
    lock_slow(c);
  }
  void unlock() noexcept {
    if (state_.exchange(0, std::memory_order_release) == 2) futex_wake(state_, 1);
  }

 private:
  void lock_slow(uint32_t c) noexcept {
    for (int i = 0; i < 64 && c == 1; ++i) {
      cpu_relax();
      c = 0;
      if (state_.compare_exchange_weak(c, 1, std::memory_order_acquire, std::memory_order_relaxed)) return;
    }
    // Announce a sleeper (2) and sleep until the word changes; whoever
    // takes the lock from here on takes it as 2, so its unlock wakes the
    // next sleeper.
    if (c != 2) c = state_.exchange(2, std::memory_order_acquire);
    while (c != 0) {
      futex_wait(state_, 2, Deadline::never());
      c = state_.exchange(2, std::memory_order_acquire);
    }
  }

  std::atomic<uint32_t> state_{0};
};

}  // namespace lox::core
