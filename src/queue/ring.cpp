// SPDX-License-Identifier: Apache-2.0
#include "queue/ring.hpp"

#include <bit>

#include "common/futex.hpp"

namespace lox::core::queue {

Ring::Ring(size_t capacity)
    : capacity_(capacity),
      one_lap_(std::bit_ceil(uint64_t{capacity} + 1)),
      lap_shift_(static_cast<unsigned>(std::countr_zero(one_lap_))),
      slots_(new Slot[capacity]) {
  for (size_t i = 0; i < capacity; ++i) {
    slots_[i].stamp.store(i, std::memory_order_relaxed);
    slots_[i].item = nullptr;
  }
}

bool Ring::has_room() const noexcept {
  const uint64_t out = popped();
  return pushed() - out < capacity_;
}

// Emptiness and fullness are decided on the indices alone (tail == head,
// tail a lap ahead of head), never on a slot's stamp: the index moves with
// a sequentially consistent compare-and-swap, which is what a sleeper's
// registration pairs with (see Queue). So a slot that is claimed but not yet
// written (or read) is waited for here, never reported as empty (or full).

Push Ring::try_push(void* item) noexcept {
  uint64_t tail = tail_.load(std::memory_order_relaxed);
  for (;;) {
    if (tail & kClosedBit) return Push::closed;
    Slot& slot = slots_[tail & (one_lap_ - 1)];
    const uint64_t stamp = slot.stamp.load(std::memory_order_acquire);
    if (stamp == tail) {
      // The slot is free for this lap: claim it by moving the tail on.
      if (tail_.compare_exchange_weak(tail, advance(tail), std::memory_order_seq_cst, std::memory_order_relaxed)) {
        slot.item = item;
        slot.stamp.store(tail + 1, std::memory_order_release);
        return Push::ok;
      }
    } else if (stamp + one_lap_ == tail + 1) {
      // The slot still holds the previous lap's item: full, or its
      // consumer has claimed it and is about to free it.
      if (head_.load(std::memory_order_seq_cst) + one_lap_ == tail) return Push::full;
      await_step([&] { return slot.stamp.load(std::memory_order_acquire) != stamp; });
      tail = tail_.load(std::memory_order_relaxed);
    } else {
      // Another producer claimed this slot first; retry with the new tail.
      tail = tail_.load(std::memory_order_relaxed);
    }
  }
}

Pop Ring::try_pop(void*& item) noexcept {
  uint64_t head = head_.load(std::memory_order_relaxed);
  for (;;) {
    Slot& slot = slots_[head & (one_lap_ - 1)];
    const uint64_t stamp = slot.stamp.load(std::memory_order_acquire);
    if (stamp == head + 1) {
      // Holds this lap's item: claim it by moving the head on.
      if (head_.compare_exchange_weak(head, advance(head), std::memory_order_seq_cst, std::memory_order_relaxed)) {
        item = slot.item;
        slot.stamp.store(head + one_lap_, std::memory_order_release);
        return Pop::ok;
      }
    } else if (stamp == head) {
      // Not written: empty, or its producer has claimed it and is about to
      // write it.
      const uint64_t tail = tail_.load(std::memory_order_seq_cst);
      if ((tail & ~kClosedBit) == head) return (tail & kClosedBit) ? Pop::closed : Pop::empty;
      await_step([&] { return slot.stamp.load(std::memory_order_acquire) != stamp; });
      head = head_.load(std::memory_order_relaxed);
    } else {
      // Another consumer took this slot first; retry with the new head.
      head = head_.load(std::memory_order_relaxed);
    }
  }
}

}  // namespace lox::core::queue
