// SPDX-License-Identifier: Apache-2.0
// Announcement: a group of handles that publish to every member's receive
// queue, with an optional backlog for late subscribers.
//
// Membership is lox's: the handle from create is a member with its own
// receive queue (lox's Announcement() appends itself to its subscribers),
// and so is every subscriber; a put reaches every member but the sender,
// so members talk many-to-many. A clone is a publisher outside the member
// list: its puts reach every member, it receives nothing.
//
// The group (shared by all handles, freed with the last one) keeps the
// receivers and the backlog under one mutex. A put delivers to all
// receivers or to none: under the mutex it first checks that every
// receiver has room (only puts, all under this mutex, ever add to a
// receive queue, so room cannot vanish before the put is done), then
// pushes to each. When a receiver is full the put sleeps on the group's
// `room` event, which every get from a receive queue notifies.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

#include "common/deadline.hpp"
#include "common/futex.hpp"
#include "common/status.hpp"
#include "queue/queue.hpp"
#include "sync/wait.hpp"

namespace lox::core::queue {

inline constexpr long long kBacklogOff = -1;
inline constexpr long long kBacklogUnbounded = 0;

class AnnouncementGroup;

// One handle of a group: a member with its own receive queue (the create
// handle, subscribers) or a publisher (a clone).
class Announcement {
 public:
  // A new group and its first member, whose receive queue has the group's
  // default bound `maxsize` (0 = unbounded; any size_t works: a Queue
  // preallocates only bounds up to kMaxRing). `backlog` >= -1 (any
  // positive count works: the backlog grows as items come). Throws
  // bad_alloc.
  static std::unique_ptr<Announcement> create(size_t maxsize, long long backlog);
  ~Announcement();  // leaves the members; threads blocked in put or get get bad_state
  Announcement(const Announcement&) = delete;
  Announcement& operator=(const Announcement&) = delete;

  Status subscribe(size_t maxsize, std::unique_ptr<Announcement>& out);
  std::unique_ptr<Announcement> clone() const;
  Status put(void* item, const Deadline& deadline) noexcept;
  Status get(void*& item, const Deadline& deadline) noexcept;
  Status unsubscribe() noexcept;
  void finalize() noexcept;

  size_t subscribers() const noexcept;
  size_t backlog() const noexcept;
  size_t size() const noexcept { return inbox_ ? inbox_->size() : 0; }
  bool full() const noexcept { return inbox_ && inbox_->full(); }

 private:
  Announcement(std::shared_ptr<AnnouncementGroup> group, std::shared_ptr<Queue> inbox);
  // A receive queue for a new member of `group` (throws bad_alloc).
  static std::shared_ptr<Queue> make_inbox(AnnouncementGroup& group, size_t maxsize);
  bool leave() noexcept;  // false if not (or no longer) a member

  std::shared_ptr<AnnouncementGroup> group_;
  std::shared_ptr<Queue> inbox_;  // null for a clone
  sync::Lifeline life_;           // threads inside this handle's put
};

}  // namespace lox::core::queue
