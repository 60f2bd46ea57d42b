// SPDX-License-Identifier: Apache-2.0
// Queue: the closable MPMC FIFO behind lox_queue (and each announcement
// subscriber's receive queue). The items live in a lock-free Storage; this
// class adds what blocks: waiting for an item or for room (the shared
// sync::wait_until loop: spin briefly, then sleep on an EventCount), close,
// and task_done/join.
//
// Costs: a put or get that does not wait is the Storage's compare-and-swap
// plus one store, then a fence and a load to see whether anyone sleeps on
// the other side (a futex wake only if someone does).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "common/deadline.hpp"
#include "common/futex.hpp"
#include "common/status.hpp"
#include "queue/storage.hpp"
#include "sync/wait.hpp"

namespace lox::core::queue {

// Bounds up to this many items get a preallocated Ring (16 bytes a slot:
// 1 MiB at most); larger bounds and unbounded queues use Segments.
inline constexpr size_t kMaxRing = size_t{1} << 16;

class Queue {
 public:
  // 0 = unbounded; throws bad_alloc. `what` names the owner in the ERROR
  // logged when it is destroyed with waiters ("queue", "announcement").
  explicit Queue(size_t maxsize, const char* what = "queue");
  ~Queue();  // waiters still blocked get bad_state
  Queue(const Queue&) = delete;
  Queue& operator=(const Queue&) = delete;

  // `op` names the operation in detail messages ("queue put").
  Status put(void* item, const Deadline& deadline, const char* op = "queue put") noexcept;
  Status get(void*& item, const Deadline& deadline, const char* op = "queue get") noexcept;
  void close() noexcept;
  bool closed() const noexcept { return storage_->closed(); }
  Status task_done() noexcept;
  Status join(const Deadline& deadline) noexcept;

  size_t size() const noexcept;
  size_t maxsize() const noexcept { return maxsize_; }
  bool full() const noexcept { return maxsize_ != 0 && size() >= maxsize_; }

  // For a single producer that must know a put will succeed before making
  // it (the announcement's all-or-none delivery, under its group mutex):
  // room for one more item (and the memory for it) is there. A put made
  // right after by the same producer then cannot fail for lack of room.
  bool has_room() const noexcept { return storage_->has_room(); }
  bool reserve_one() noexcept { return storage_->reserve_one(); }

  // Notified after every get that made room (the announcement's blocked
  // puts wait on it). Must outlive the queue; set before any get.
  void set_room_listener(EventCount* listener) noexcept { room_listener_ = listener; }

 private:
  void item_taken() noexcept;
  // `r` = attempt(); while that is `busy` and the deadline allows, sleeps
  // on `ec` and attempts again. ok when the caller should look at `r` (the
  // last attempt's result, `busy` on timeout), bad_state (detail recorded)
  // when the queue is destroyed meanwhile.
  template <typename Result, typename Attempt>
  Status attempt_or_wait(Result& r, Result busy, EventCount& ec, const Deadline& deadline, const char* op,
                         Attempt&& attempt) noexcept;

  // Read by every put and get, written only at construction: one line.
  const size_t maxsize_;
  const char* const what_;
  std::unique_ptr<Storage> storage_;
  EventCount* room_listener_ = nullptr;
  // Each written by one side while it sleeps and read by the other side
  // after every put or get: separate lines, so that a sleeping consumer
  // does not slow the producers' reads of the line above, and vice versa.
  alignas(64) EventCount not_empty_;  // getters sleep here
  alignas(64) EventCount not_full_;   // putters sleep here (bounded queues only)
  alignas(64) EventCount all_done_;   // joiners sleep here
  std::atomic<uint64_t> done_{0};     // task_done calls
  alignas(64) sync::Lifeline life_;
};

}  // namespace lox::core::queue
