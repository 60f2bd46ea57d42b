// SPDX-License-Identifier: Apache-2.0
// RWLock: many readers or one writer, writer-preferring.
//
// One 64-bit state word: bits 0-31 count the readers holding the lock, bits
// 32-62 count the writers waiting for it, bit 63 is "a writer holds it". A
// reader enters with one CAS when no writer holds or waits (no mutex on the
// read path); a waiting writer stops new readers, takes the lock when the
// readers have left, and if it times out it unregisters, letting the readers
// blocked behind it in. Readers and writers sleep on separate EventCounts.
#pragma once

#include <cstddef>

#include "sync/wait.hpp"

namespace lox::core::sync {

class RWLock : Pinned {
 public:
  ~RWLock();

  // The read paths' uncontended case is inline (one CAS each).
  Status acquire_read(const Deadline& deadline) noexcept {
    if (try_read()) return Status::ok;
    return acquire_read_slow(deadline);
  }
  Status acquire_write(const Deadline& deadline) noexcept;
  // bad_state if no reader holds it.
  Status release_read() noexcept {
    uint64_t s = state_.load(std::memory_order_relaxed);
    do {
      if ((s & kReaders) == 0) return not_held('r');
    } while (!state_.compare_exchange_weak(s, s - 1, std::memory_order_seq_cst, std::memory_order_relaxed));
    // The last reader out hands the lock to a waiting writer.
    if ((s & kReaders) == 1 && (s & kWaitingWriters) != 0) wake_writer();
    return Status::ok;
  }
  Status release_write() noexcept;  // bad_state if no writer holds it
  size_t readers() const noexcept { return static_cast<size_t>(state_.load(std::memory_order_relaxed) & kReaders); }

 private:
  static constexpr uint64_t kReaders = 0xffffffffu;
  static constexpr uint64_t kOneWaitingWriter = uint64_t{1} << 32;
  static constexpr uint64_t kWaitingWriters = uint64_t{0x7fffffff} << 32;
  static constexpr uint64_t kWriter = uint64_t{1} << 63;

  bool try_read() noexcept {
    uint64_t s = state_.load(std::memory_order_seq_cst);
    while ((s & (kWriter | kWaitingWriters)) == 0 && (s & kReaders) != kReaders)
      if (state_.compare_exchange_weak(s, s + 1, std::memory_order_seq_cst, std::memory_order_relaxed)) return true;
    return false;
  }
  Status acquire_read_slow(const Deadline& deadline) noexcept;
  Status not_held(char mode) noexcept;
  void wake_writer() noexcept;
  bool try_write_waiting() noexcept;  // for a registered waiting writer

  std::atomic<uint64_t> state_{0};
  EventCount readers_ec_;
  EventCount writers_ec_;
  Lifeline life_;
};

}  // namespace lox::core::sync
