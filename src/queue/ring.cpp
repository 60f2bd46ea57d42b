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
  const uint64_t tail = tail_.load(std::memory_order_seq_cst) & ~kClosedBit;
  return slots_[tail & (one_lap_ - 1)].stamp.load(std::memory_order_acquire) == tail;
}

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
      // The slot still holds the previous lap's item: full, unless a
      // consumer has already claimed it and is about to free it.
      // Either way there is no room now; a consumer in flight notifies
      // when it is done, so do not spin on it here (it may be preempted).
      std::atomic_thread_fence(std::memory_order_seq_cst);
      if (head_.load(std::memory_order_relaxed) + one_lap_ == tail) return Push::full;
      const uint64_t seen = tail;
      tail = tail_.load(std::memory_order_relaxed);
      if (tail == seen) return Push::full;
    } else {
      // Another producer claimed this slot first; retry with the new tail.
      cpu_relax();
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
      // Not written yet: empty, or a producer has claimed the slot and is
      // about to write it.
      // Either way no item is ready; the producer in flight notifies when
      // it has written, so do not spin on it here (it may be preempted).
      std::atomic_thread_fence(std::memory_order_seq_cst);
      const uint64_t tail = tail_.load(std::memory_order_relaxed);
      if ((tail & ~kClosedBit) == head) return (tail & kClosedBit) ? Pop::closed : Pop::empty;
      const uint64_t seen = head;
      head = head_.load(std::memory_order_relaxed);
      if (head == seen) return Pop::empty;
    } else {
      cpu_relax();
      head = head_.load(std::memory_order_relaxed);
    }
  }
}

}  // namespace lox::core::queue
