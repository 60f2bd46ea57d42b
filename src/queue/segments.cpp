// SPDX-License-Identifier: Apache-2.0
#include "queue/segments.hpp"

#include <new>

#include "common/futex.hpp"

namespace lox::core::queue {

namespace {

constexpr uint32_t kRead = 1;     // the item was taken out
constexpr uint32_t kDestroy = 2;  // the block's release waits for this slot's reader

// Waits out the gap at a block's end (the thread that took the block's
// last slot is moving `index` on to the next block), then re-reads the
// index and its block.
template <typename Block>
void cross_gap(const std::atomic<uint64_t>& index, const std::atomic<Block*>& blocks, uint64_t& seen,
               Block*& block) noexcept {
  await_step([&] { return index.load(std::memory_order_acquire) != seen; });
  seen = index.load(std::memory_order_acquire);
  block = blocks.load(std::memory_order_acquire);
}

}  // namespace

struct Segments::Block {
  struct Slot {
    void* item = nullptr;
    std::atomic<uint32_t> written{0};  // set by the producer: a plain store
    std::atomic<uint32_t> state{0};    // kRead, kDestroy: read-modify-writes by consumers
  };
  std::atomic<Block*> next{nullptr};
  Slot slots[kSlots];

  void reset() noexcept {
    next.store(nullptr, std::memory_order_relaxed);
    for (Slot& s : slots) {
      s.written.store(0, std::memory_order_relaxed);
      s.state.store(0, std::memory_order_relaxed);
    }
  }
};

Segments::Segments(size_t limit) : limit_(limit) {
  Block* first = new Block();
  head_block_.store(first, std::memory_order_relaxed);
  tail_block_.store(first, std::memory_order_relaxed);
}

Segments::~Segments() {
  Block* b = head_block_.load(std::memory_order_relaxed);
  while (b) {
    Block* next = b->next.load(std::memory_order_relaxed);
    delete b;
    b = next;
  }
  delete spare_.load(std::memory_order_relaxed);
}

Segments::Block* Segments::new_block() noexcept {
  if (Block* b = spare_.exchange(nullptr, std::memory_order_acquire)) return b;
  return new (std::nothrow) Block();
}

void Segments::release_block(Block* b) noexcept {
  b->reset();
  Block* none = nullptr;
  if (!spare_.compare_exchange_strong(none, b, std::memory_order_release, std::memory_order_relaxed)) delete b;
}

bool Segments::reserve_one() noexcept {
  if (spare_.load(std::memory_order_acquire)) return true;
  Block* b = new (std::nothrow) Block();
  if (!b) return false;
  release_block(b);
  return true;
}

bool Segments::take_count() noexcept {
  size_t c = count_.load(std::memory_order_seq_cst);
  while (c < limit_)
    if (count_.compare_exchange_weak(c, c + 1, std::memory_order_seq_cst, std::memory_order_relaxed)) return true;
  return false;
}

void Segments::give_count() noexcept { count_.fetch_sub(1, std::memory_order_seq_cst); }

Push Segments::try_push(void* item) noexcept {
  if (limit_ != 0 && !take_count()) return closed() ? Push::closed : Push::full;
  Push r = push_claimed(item);
  if (r != Push::ok && limit_ != 0) give_count();
  return r;
}

Push Segments::push_claimed(void* item) noexcept {
  constexpr uint64_t one = uint64_t{1} << kShift;
  uint64_t tail = tail_.load(std::memory_order_acquire);
  Block* block = tail_block_.load(std::memory_order_acquire);
  Block* next = nullptr;  // allocated before claiming a block's last slot
  for (;;) {
    if (tail & kMarkBit) {
      if (next) release_block(next);
      return Push::closed;
    }
    const uint64_t offset = (tail >> kShift) % kLap;
    if (offset == kSlots) {
      // The gap: whoever took the block's last slot is linking the next one.
      cross_gap(tail_, tail_block_, tail, block);
      continue;
    }
    if (offset + 1 == kSlots && next == nullptr) {
      next = new_block();
      if (!next) return Push::no_memory;
    }
    // `block` is only dereferenced once the claim succeeded: an index that
    // still names a slot of `block` proves `block` is alive (it is released
    // only after all its slots were read).
    if (tail_.compare_exchange_weak(tail, tail + one, std::memory_order_seq_cst, std::memory_order_acquire)) {
      if (offset + 1 == kSlots) {
        tail_block_.store(next, std::memory_order_release);
        tail_.fetch_add(one, std::memory_order_release);  // past the gap; keeps the closed bit
        block->next.store(next, std::memory_order_release);
        next = nullptr;
      }
      typename Block::Slot& slot = block->slots[offset];
      slot.item = item;
      slot.written.store(1, std::memory_order_release);
      if (next) release_block(next);  // prepared for a last slot another producer took
      return Push::ok;
    }
    block = tail_block_.load(std::memory_order_acquire);
  }
}

Pop Segments::try_pop(void*& item) noexcept {
  constexpr uint64_t one = uint64_t{1} << kShift;
  uint64_t head = head_.load(std::memory_order_acquire);
  Block* block = head_block_.load(std::memory_order_acquire);
  for (;;) {
    const uint64_t offset = (head >> kShift) % kLap;
    if (offset == kSlots) {
      // The gap: whoever took the block's last slot is moving the head on.
      cross_gap(head_, head_block_, head, block);
      continue;
    }
    uint64_t new_head = head + one;
    if ((new_head & kMarkBit) == 0) {
      // No later block known yet: compare with the tail to tell "empty".
      // Sequentially consistent: a consumer that registered to sleep and
      // then finds the queue empty here is seen by the next producer (whose
      // claim is a sequentially consistent compare-and-swap).
      const uint64_t tail = tail_.load(std::memory_order_seq_cst);
      if ((head >> kShift) == (tail >> kShift)) return (tail & kMarkBit) ? Pop::closed : Pop::empty;
      if ((head >> kShift) / kLap != (tail >> kShift) / kLap) new_head |= kMarkBit;
    }
    if (head_.compare_exchange_weak(head, new_head, std::memory_order_seq_cst, std::memory_order_acquire)) {
      if (offset + 1 == kSlots) {
        // Took the block's last slot: move the head to the next block.
        await_step([&] { return block->next.load(std::memory_order_acquire) != nullptr; });
        Block* following = block->next.load(std::memory_order_acquire);
        uint64_t next_index = (new_head & ~kMarkBit) + one;
        if (following->next.load(std::memory_order_relaxed) != nullptr) next_index |= kMarkBit;
        head_block_.store(following, std::memory_order_release);
        head_.store(next_index, std::memory_order_release);
      }
      typename Block::Slot& slot = block->slots[offset];
      await_step([&] { return slot.written.load(std::memory_order_acquire) != 0; });
      item = slot.item;
      if (offset + 1 == kSlots)
        retire(block, 0);
      else if (slot.state.fetch_add(kRead, std::memory_order_acq_rel) & kDestroy)  // add: each bit is set
        // once, so add is or, and it is one locked add instead of a compare-and-swap loop
        retire(block, offset + 1);
      if (limit_ != 0) give_count();
      return Pop::ok;
    }
    block = head_block_.load(std::memory_order_acquire);
  }
}

void Segments::retire(Block* block, uint64_t from) noexcept {
  // Slots [from, kSlots - 1) may still be being read; the reader of the
  // last slot started the release. A reader still busy finds kDestroy when
  // it is done and continues from its slot.
  for (uint64_t i = from; i + 1 < kSlots; ++i) {
    auto& state = block->slots[i].state;
    if ((state.load(std::memory_order_acquire) & kRead) == 0 &&
        (state.fetch_add(kDestroy, std::memory_order_acq_rel) & kRead) == 0)
      return;
  }
  release_block(block);
}

}  // namespace lox::core::queue
