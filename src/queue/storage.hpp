// SPDX-License-Identifier: Apache-2.0
// The lock-free item storage behind core::queue::Queue: non-blocking push
// and pop plus the counters that task_done/join and size() derive from.
// Two implementations: Ring (bounded, preallocated) and Segments (grows in
// blocks; unbounded, or bounded by a count for very large maxsizes). The
// blocking, waking and close/join policy lives once, in Queue.
#pragma once

#include <cstddef>
#include <cstdint>

namespace lox::core::queue {

enum class Push { ok, full, closed, no_memory };
enum class Pop { ok, empty, closed };  // closed: closed *and* empty

class Storage {
 public:
  virtual ~Storage() = default;

  // Appends `item` unless full or closed. Linearizable with close(): a push
  // either takes effect before the close or returns Push::closed.
  virtual Push try_push(void* item) noexcept = 0;
  // Removes the oldest item. Never returns Pop::closed while items remain.
  virtual Pop try_pop(void*& item) noexcept = 0;
  // Makes the next push unable to fail for lack of memory (it may still be
  // full or closed). Only meaningful when the caller is the only producer
  // (the announcement delivers under its group mutex); false: no memory.
  virtual bool reserve_one() noexcept = 0;
  // True if a push now would find room. With a single producer (see
  // reserve_one) it stays true until that producer pushes: consumers only
  // ever make room.
  virtual bool has_room() const noexcept = 0;
  virtual void close() noexcept = 0;
  virtual bool closed() const noexcept = 0;
  // Pushes and pops that have taken effect so far (a claimed slot counts
  // before its item is written or read: it is certain to complete).
  virtual uint64_t pushed() const noexcept = 0;
  virtual uint64_t popped() const noexcept = 0;
};

// The bit of a producer index that marks the storage closed: push claims a
// slot with a compare-and-swap on that index, so once the bit is set no
// push can take effect any more.
inline constexpr uint64_t kClosedBit = uint64_t{1} << 63;

}  // namespace lox::core::queue
