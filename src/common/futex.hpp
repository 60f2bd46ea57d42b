// SPDX-License-Identifier: Apache-2.0
// The one place where a thread goes to sleep and is woken. Every blocking
// wait in liblox is "spin briefly, then sleep on a 32-bit word until it
// changes or the deadline passes" (see Parker below), so the spin/sleep and
// timeout policy lives here and nowhere else.
#pragma once

#include <atomic>
#include <cstdint>

#include <sched.h>

#include "common/deadline.hpp"

namespace lox::core {

// Sleeps while `word == expected`, until woken, the deadline passes or a
// spurious wake-up. Returns false only when the deadline has passed.
bool futex_wait(const std::atomic<uint32_t>& word, uint32_t expected, const Deadline& deadline) noexcept;

// Wakes up to `count` threads sleeping on `word`.
void futex_wake(const std::atomic<uint32_t>& word, int count) noexcept;

// One CPU "pause": tells the core we are spinning (cheaper for the sibling
// hyper-thread, less power) without giving up the time slice.
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

// Spin while `ready()` is false, for at most about `budget`; true as soon
// as `ready()` holds. The first 5 us spin with `cpu_relax` (catches
// a hand-over already in flight); after that each round also yields the
// CPU, because on a machine with fewer cores than runnable threads a pure
// spinner steals the time slice of the very thread it waits for. Bounded in
// time, not iterations, since a pause costs 10 to 150 cycles depending on
// the CPU.
template <typename Ready>
bool spin_until(Ready&& ready, std::chrono::nanoseconds budget) {
  // A first round without reading the clock: most hand-overs (a lock
  // released, a slot freed) arrive within a few hundred cycles.
  for (int i = 0; i < 4; ++i) {
    if (ready()) return true;
    for (int k = 0; k < 8; ++k) cpu_relax();
  }
  if (ready()) return true;
  const auto start = std::chrono::steady_clock::now();
  bool yielding = false;
  for (;;) {
    // Poll every 8 pauses, not every one: each poll of a line another core
    // is writing pulls the line over, and makes that core's next write miss.
    for (int i = 0; i < 4; ++i) {
      for (int k = 0; k < 8; ++k) cpu_relax();
      if (ready()) return true;
    }
    if (yielding) sched_yield();
    auto spent = std::chrono::steady_clock::now() - start;
    if (spent >= budget) return ready();
    yielding = spent >= std::chrono::microseconds(5);
  }
}

// Waits for a step another thread takes right after a compare-and-swap
// it won (writing the slot it claimed, linking a block): a few instructions
// away, unless that thread was preempted in between, hence the yield after
// a short spin. Unbounded: only for steps that are certain to come.
template <typename Ready>
void await_step(Ready&& ready) noexcept {
  for (unsigned i = 0; !ready(); ++i) {
    if (i < 64)
      cpu_relax();
    else
      sched_yield();
  }
}

// An event count: the waiter/notifier pair that lets a thread sleep until
// some condition (checked by the caller) may have changed, without lost
// wake-ups and without a system call on notify when nobody sleeps.
//
//   waiter:   auto t = ec.prepare(); if (!cond()) ec.wait(t, deadline); else ec.cancel();
//   notifier: make cond() true; ec.notify_all();   (or notify_one)
//
// prepare() registers the waiter before it re-checks the condition, and
// notify() reads the waiter count after the condition was made true (both
// sequentially consistent), so either the waiter sees the condition or the
// notifier sees the waiter.
class EventCount {
 public:
  using Ticket = uint32_t;

  Ticket prepare() noexcept {
    waiters_.fetch_add(1, std::memory_order_seq_cst);
    return epoch_.load(std::memory_order_seq_cst);
  }
  void cancel() noexcept { waiters_.fetch_sub(1, std::memory_order_seq_cst); }
  // Sleeps unless notified since prepare(); returns false if the deadline
  // passed. Unregisters the waiter either way.
  bool wait(Ticket t, const Deadline& deadline) noexcept {
    bool ok = futex_wait(epoch_, t, deadline);
    waiters_.fetch_sub(1, std::memory_order_seq_cst);
    return ok;
  }
  bool has_waiters() const noexcept { return waiters_.load(std::memory_order_seq_cst) != 0; }
  // Both return false when nobody was registered (no system call made).
  bool notify_one() noexcept { return notify(1); }
  bool notify_all() noexcept { return notify(INT32_MAX); }

 private:
  bool notify(int count) noexcept {
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (waiters_.load(std::memory_order_relaxed) == 0) return false;
    epoch_.fetch_add(1, std::memory_order_seq_cst);
    futex_wake(epoch_, count);
    return true;
  }
  std::atomic<uint32_t> epoch_{0};
  std::atomic<uint32_t> waiters_{0};
};

}  // namespace lox::core
