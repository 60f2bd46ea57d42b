// Announcement: a group of handles that publish to every subscribed
// member's receive queue, with an optional backlog for late subscribers.
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

// One handle of a group: a publisher (the create handle, clones) or a
// subscriber with its own receive queue.
class Announcement {
 public:
  // A new group and its publisher handle. `backlog` >= -1.
  static std::unique_ptr<Announcement> create(size_t maxsize, long long backlog);
  ~Announcement();  // unsubscribes; threads blocked in put or get get bad_state
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
  bool leave() noexcept;  // false if not (or no longer) a subscriber

  std::shared_ptr<AnnouncementGroup> group_;
  std::shared_ptr<Queue> inbox_;  // null for a publisher
  sync::Lifeline life_;           // threads inside this handle's put
};

}  // namespace lox::core::queue
