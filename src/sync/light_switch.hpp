// SPDX-License-Identifier: Apache-2.0
// LightSwitch: the first one in acquires a borrowed Lock, the last one out
// releases it, and any number are in between.
#pragma once

#include <atomic>
#include <cstddef>

#include "sync/lock.hpp"

namespace lox::core::sync {

class LightSwitch : Pinned {
 public:
  explicit LightSwitch(Lock& lock) noexcept : lock_(lock) {}
  ~LightSwitch();

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
