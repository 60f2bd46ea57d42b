// SPDX-License-Identifier: Apache-2.0
// Ring: a bounded lock-free MPMC queue over a preallocated array of slots
// (Dmitry Vyukov's bounded queue with stamped slots). Each slot carries a
// stamp telling which lap of the ring may use it next, so producers and
// consumers only compare-and-swap their own end (tail or head) and never
// lock. Indices are "lap + position" stamps with laps a power of two apart,
// so any capacity works without a division on the hot path.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "queue/storage.hpp"

namespace lox::core::queue {

class Ring final : public Storage {
 public:
  explicit Ring(size_t capacity);  // 0 < capacity <= 2^31; throws bad_alloc

  Push try_push(void* item) noexcept override;
  Pop try_pop(void*& item) noexcept override;
  bool reserve_one() noexcept override { return true; }
  bool has_room() const noexcept override;
  void close() noexcept override { tail_.fetch_or(kClosedBit, std::memory_order_seq_cst); }
  bool closed() const noexcept override { return (tail_.load(std::memory_order_seq_cst) & kClosedBit) != 0; }
  uint64_t pushed() const noexcept override { return count(tail_.load(std::memory_order_seq_cst) & ~kClosedBit); }
  uint64_t popped() const noexcept override { return count(head_.load(std::memory_order_seq_cst)); }

 private:
  struct Slot {
    std::atomic<uint64_t> stamp;
    void* item;
  };
  // Items that went through the end with index `stamp`.
  uint64_t count(uint64_t stamp) const noexcept { return (stamp >> lap_shift_) * capacity_ + (stamp & (one_lap_ - 1)); }
  // The index after `stamp`: the next position, or position 0 of the next lap.
  uint64_t advance(uint64_t stamp) const noexcept {
    uint64_t pos = stamp & (one_lap_ - 1);
    return pos + 1 < capacity_ ? stamp + 1 : (stamp & ~(one_lap_ - 1)) + one_lap_;
  }

  const uint64_t capacity_;
  const uint64_t one_lap_;  // smallest power of two > capacity
  const unsigned lap_shift_;
  std::unique_ptr<Slot[]> slots_;
  // Producers and consumers each hammer their own index: separate lines.
  alignas(64) std::atomic<uint64_t> head_{0};
  alignas(64) std::atomic<uint64_t> tail_{0};
};

}  // namespace lox::core::queue
