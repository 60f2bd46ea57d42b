// SPDX-License-Identifier: Apache-2.0
#include "sync/light_switch.hpp"

#include "common/error.hpp"
#include "log/log.hpp"

namespace lox::core::sync {

LightSwitch::~LightSwitch() {
  retire("lightswitch", life_, [this] {
    gate_.wake_all();
    lock_.wake_all();
  });
  size_t n = count_.load();
  if (n != 0) log::emit(log::Level::warn, "lightswitch destroy: count is {}; the borrowed lock stays locked", n);
}

Status LightSwitch::acquire(const Deadline& deadline) noexcept {
  // Fast path: the lights are on (count > 0 means the switch holds the
  // borrowed lock): just join.
  size_t c = count_.load(std::memory_order_relaxed);
  while (c != 0)
    if (count_.compare_exchange_weak(c, c + 1, std::memory_order_acquire, std::memory_order_relaxed)) return Status::ok;
  // Count 0: only a holder of the gate turns the lights on.
  Inside in(life_);
  Status st = gate_.acquire(deadline, "lightswitch acquire", &life_);
  if (st != Status::ok) return st;
  if (life_.is_dead()) {
    gate_.release();
    return fail(Status::bad_state, "lightswitch acquire: the object was destroyed while this thread waited");
  }
  c = count_.load(std::memory_order_relaxed);
  while (c != 0) {
    if (count_.compare_exchange_weak(c, c + 1, std::memory_order_acquire, std::memory_order_relaxed)) {
      gate_.release();
      return Status::ok;
    }
  }
  st = lock_.acquire(deadline, "lightswitch acquire", &life_);
  if (st == Status::ok) count_.store(1, std::memory_order_release);
  gate_.release();
  return st;
}

Status LightSwitch::release() noexcept {
  size_t c = count_.load(std::memory_order_relaxed);
  for (;;) {
    if (c == 0) return fail(Status::bad_state, "lightswitch release: count is 0 (released more often than acquired)");
    if (count_.compare_exchange_weak(c, c - 1, std::memory_order_acq_rel, std::memory_order_relaxed)) break;
  }
  if (c == 1) return lock_.release("lightswitch release: the borrowed lock");
  return Status::ok;
}

}  // namespace lox::core::sync
