// SPDX-License-Identifier: Apache-2.0
// The one blocking-wait loop of the synchronization objects (lock,
// LightSwitch, RWLock, QLock, IndexSemaphore), built on common/futex.hpp:
// try, spin briefly, then sleep on an EventCount until notified, the
// deadline passes or the object is destroyed under the waiter. Every object
// describes only "what acquiring means" (a try function) and who notifies.
//
// Wake-up policy shared by all objects: releasers call notify only when
// has_waiters() (no system call when nobody sleeps), usually notify_one; a
// waiter that gives up (timeout) passes a wake-up it may have consumed on
// with notify_one, so a notify_one is never lost on a thread that left.
//
// It is the common header of the objects: it brings their atomics, fixed-
// width integers, deadlines, statuses and the EventCount.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include "common/deadline.hpp"
#include "common/futex.hpp"
#include "common/status.hpp"

namespace lox::core::sync {

// How long a blocked acquirer spins (and, after 5 us, yields) before it
// sleeps: long enough to catch a hand-over from a short critical section,
// short enough not to burn a core.
inline constexpr std::chrono::nanoseconds kSpin = std::chrono::microseconds(20);

// Tracks the threads inside an object's slow (blocking) paths, so that
// destroying the object while threads wait on it is detected: the destroyer
// marks it dead, wakes the waiters (they return LOX_ESTATE) and waits until
// every one has left before the memory is freed.
struct Lifeline {
  std::atomic<uint32_t> inside{0};
  std::atomic<bool> dead{false};

  bool is_dead() const noexcept { return dead.load(std::memory_order_seq_cst); }
  uint32_t waiters() const noexcept { return inside.load(std::memory_order_seq_cst); }
};

// RAII: the calling thread is inside `life`'s slow path for its lifetime.
// Leaving it must be the thread's last access to the object.
class Inside {
 public:
  explicit Inside(Lifeline& life) noexcept : life_(life) { life_.inside.fetch_add(1, std::memory_order_seq_cst); }
  ~Inside() { life_.inside.fetch_sub(1, std::memory_order_seq_cst); }
  Inside(const Inside&) = delete;
  Inside& operator=(const Inside&) = delete;

 private:
  Lifeline& life_;
};

// The objects threads wait on are neither copied nor moved: waiters hold
// their address.
class Pinned {
 public:
  Pinned() = default;
  Pinned(const Pinned&) = delete;
  Pinned& operator=(const Pinned&) = delete;
};

// The uncontended fast path of every lock: `state` from 0 (free) to
// `taken` in one compare-and-swap with `order` on success.
template <typename T>
bool take_if_free(std::atomic<T>& state, T taken, std::memory_order order) noexcept {
  T expected = 0;
  return state.compare_exchange_strong(expected, taken, order, std::memory_order_relaxed);
}

// Outcome of a wait.
enum class Wait { acquired, timed_out, aborted };

// Waits until `try_acquire()` returns true (it must take the resource when
// it does), the deadline passes, or `aborted()` holds (the object, or one it
// depends on, is being destroyed). Spurious wake-ups and notifies meant for
// others are absorbed by re-trying. The caller has already made its first,
// non-blocking attempt and checked for a zero timeout.
template <typename Try, typename Aborted>
Wait wait_until(EventCount& ec, const Deadline& deadline, Try&& try_acquire, Aborted&& aborted) {
  Wait outcome = Wait::timed_out;
  if (spin_until(
          [&] {
            if (try_acquire()) {
              outcome = Wait::acquired;
              return true;
            }
            if (aborted()) {
              outcome = Wait::aborted;
              return true;
            }
            return false;
          },
          kSpin))
    return outcome;
  for (;;) {
    EventCount::Ticket t = ec.prepare();
    if (try_acquire()) {
      ec.cancel();
      return Wait::acquired;
    }
    if (aborted()) {
      ec.cancel();
      return Wait::aborted;
    }
    if (!ec.wait(t, deadline)) {
      // Last chance: the resource may have been freed just as we timed out.
      if (try_acquire()) return Wait::acquired;
      ec.notify_one();  // pass on a wake-up we may have consumed
      return Wait::timed_out;
    }
  }
}

// Called by lox_X_destroy: if threads wait on the object, logs an ERROR
// naming `what`, marks the object dead, and keeps calling `wake()` until
// every waiter has left (each returns LOX_ESTATE). Returns the number of
// waiters found (0: nothing was done).
template <typename Wake>
uint32_t retire(const char* what, Lifeline& life, Wake&& wake);

void report_destroyed_with_waiters(const char* what, uint32_t waiters) noexcept;
void pause_for_waiters() noexcept;

template <typename Wake>
uint32_t retire(const char* what, Lifeline& life, Wake&& wake) {
  uint32_t n = life.waiters();
  if (n == 0) return 0;
  report_destroyed_with_waiters(what, n);
  life.dead.store(true, std::memory_order_seq_cst);
  for (;;) {
    wake();
    if (life.waiters() == 0) break;
    pause_for_waiters();
  }
  return n;
}

}  // namespace lox::core::sync
