// SPDX-License-Identifier: Apache-2.0
// Segments: a lock-free MPMC queue that grows in blocks, for unbounded
// queues and for bounds too large to preallocate as a Ring. Producers claim
// positions with a compare-and-swap on the tail index, consumers on the head
// index; each index carries its block's position, and the last position of
// a block is a gap during which the thread that claimed the block's last
// slot links in the next block. A block is freed (or kept as the one spare)
// by the last consumer that leaves it: every slot carries WRITE/READ bits,
// and a consumer that finishes reading after the block's last slot was
// taken finishes the release (DESTROY bit). This is the scheme of
// crossbeam's SegQueue, with close folded into the tail index.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "queue/storage.hpp"

namespace lox::core::queue {

class Segments final : public Storage {
 public:
  // `limit` 0: unbounded; otherwise at most `limit` items at once.
  explicit Segments(size_t limit);  // throws bad_alloc
  ~Segments() override;

  Push try_push(void* item) noexcept override;
  Pop try_pop(void*& item) noexcept override;
  bool reserve_one() noexcept override;
  bool has_room() const noexcept override { return limit_ == 0 || count_.load(std::memory_order_seq_cst) < limit_; }
  void close() noexcept override { tail_.fetch_or(kMarkBit, std::memory_order_seq_cst); }
  bool closed() const noexcept override { return (tail_.load(std::memory_order_seq_cst) & kMarkBit) != 0; }
  uint64_t pushed() const noexcept override { return count(tail_.load(std::memory_order_seq_cst)); }
  uint64_t popped() const noexcept override { return count(head_.load(std::memory_order_seq_cst)); }

  static constexpr uint64_t kLap = 1024;        // positions per block
  static constexpr uint64_t kSlots = kLap - 1;  // the last position is the gap

 private:
  struct Block;
  // Indices are positions shifted left by one; bit 0 is a flag: on the
  // tail "closed", on the head "a next block is known to exist" (spares the
  // consumer a look at the tail).
  static constexpr uint64_t kShift = 1;
  static constexpr uint64_t kMarkBit = 1;
  static uint64_t count(uint64_t index) noexcept {
    uint64_t pos = index >> kShift;
    return (pos / kLap) * kSlots + pos % kLap;
  }
  Push push_claimed(void* item) noexcept;
  Block* new_block() noexcept;            // the spare if there is one; nullptr if out of memory
  void release_block(Block* b) noexcept;  // keeps it as the spare or frees it
  void retire(Block* b, uint64_t from) noexcept;
  bool take_count() noexcept;
  void give_count() noexcept;

  const size_t limit_;
  alignas(64) std::atomic<uint64_t> head_{0};
  std::atomic<Block*> head_block_{nullptr};
  alignas(64) std::atomic<uint64_t> tail_{0};
  std::atomic<Block*> tail_block_{nullptr};
  alignas(64) std::atomic<size_t> count_{0};  // items in, only when limit_ > 0
  std::atomic<Block*> spare_{nullptr};
};

}  // namespace lox::core::queue
