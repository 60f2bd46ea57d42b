// SPDX-License-Identifier: Apache-2.0
#include "queue/announcement.hpp"

#include <algorithm>

#include "common/error.hpp"

namespace lox::core::queue {

class AnnouncementGroup {
 public:
  AnnouncementGroup(size_t maxsize, long long backlog) : default_maxsize_(maxsize), backlog_limit_(backlog) {}

  enum class Delivery { done, blocked, no_memory };

  // Under mu_: to every receiver but `sender`'s inbox, all or none.
  Delivery deliver(const Queue* sender, void* item) {
    for (const auto& r : receivers_)
      if (r.get() != sender && !r->has_room()) return Delivery::blocked;
    for (const auto& r : receivers_)
      if (r.get() != sender && !r->reserve_one()) return Delivery::no_memory;
    if (backlog_limit_ != kBacklogOff && !finalized_) {
      backlog_.push_back(item);  // may throw bad_alloc: nothing delivered yet
      if (backlog_limit_ > 0 && backlog_.size() > static_cast<size_t>(backlog_limit_)) backlog_.pop_front();
    }
    for (const auto& r : receivers_) {
      if (r.get() == sender) continue;
      // Cannot fail: room and memory were checked, and only puts (holding
      // mu_) add to a receive queue.
      Status s = r->put(item, Deadline::after_seconds(0));
      (void)s;
    }
    return Delivery::done;
  }

  std::mutex mu_;
  const size_t default_maxsize_;
  const long long backlog_limit_;
  bool finalized_ = false;
  std::deque<void*> backlog_;
  std::vector<std::shared_ptr<Queue>> receivers_;
  EventCount room_;  // a receive queue made room (or a receiver left)
};

Announcement::Announcement(std::shared_ptr<AnnouncementGroup> group, std::shared_ptr<Queue> inbox)
    : group_(std::move(group)), inbox_(std::move(inbox)) {}

std::shared_ptr<Queue> Announcement::make_inbox(AnnouncementGroup& group, size_t maxsize) {
  auto inbox = std::make_shared<Queue>(maxsize, "announcement");
  inbox->set_room_listener(&group.room_);
  return inbox;
}

std::unique_ptr<Announcement> Announcement::create(size_t maxsize, long long backlog) {
  auto group = std::make_shared<AnnouncementGroup>(maxsize, backlog);
  // The creator is the first member. Its queue is not pre-filled: the
  // backlog is empty now, and from here on it receives live, like any
  // member (it never needs what it missed, since it missed nothing).
  auto inbox = make_inbox(*group, maxsize);
  group->receivers_.push_back(inbox);
  return std::unique_ptr<Announcement>(new Announcement(std::move(group), std::move(inbox)));
}

Announcement::~Announcement() {
  // The receive queue is not closed first: threads blocked in this
  // handle's get see the queue destroyed (bad_state), not a quiet close.
  leave();
  sync::retire("announcement", life_, [this] { group_->room_.notify_all(); });
}

std::unique_ptr<Announcement> Announcement::clone() const {
  return std::unique_ptr<Announcement>(new Announcement(group_, nullptr));
}

Status Announcement::subscribe(size_t maxsize, std::unique_ptr<Announcement>& out) {
  AnnouncementGroup& g = *group_;
  if (maxsize == 0) maxsize = g.default_maxsize_;
  auto inbox = make_inbox(g, maxsize);
  std::unique_ptr<Announcement> member(new Announcement(group_, inbox));
  std::lock_guard<std::mutex> lock(g.mu_);
  if (g.finalized_) return fail(Status::closed, "announcement subscribe: the announcement was finalized");
  if (maxsize != 0 && g.backlog_.size() > maxsize)
    return fail(Status::bad_state,
                "announcement subscribe: the backlog holds {} items, more than the new receive queue's maxsize {}",
                g.backlog_.size(), maxsize);
  for (void* item : g.backlog_) {
    if (!inbox->reserve_one()) throw std::bad_alloc();  // the new member is dropped: nothing subscribed
    Status s = inbox->put(item, Deadline::after_seconds(0));
    (void)s;
  }
  g.receivers_.push_back(inbox);
  out = std::move(member);
  return Status::ok;
}

Status Announcement::put(void* item, const Deadline& deadline) noexcept {
  AnnouncementGroup& g = *group_;
  const Queue* self = inbox_.get();
  using Delivery = AnnouncementGroup::Delivery;
  Delivery d;
  bool no_memory = false;
  auto attempt = [&] {
    try {
      std::lock_guard<std::mutex> lock(g.mu_);
      d = g.deliver(self, item);
    } catch (const std::bad_alloc&) {
      d = Delivery::no_memory;
    }
    no_memory = d == Delivery::no_memory;
    return d != Delivery::blocked;
  };
  if (!attempt() && !deadline.expired()) {
    sync::Inside in(life_);
    sync::Wait w = sync::wait_until(g.room_, deadline, attempt, [this] { return life_.is_dead(); });
    if (w == sync::Wait::aborted)
      return fail(Status::bad_state, "announcement put: the announcement was destroyed while this thread waited");
  }
  if (no_memory) return fail(Status::no_memory, "announcement put: out of memory (nobody got the item)");
  return d == Delivery::done ? Status::ok : Status::timeout;
}

Status Announcement::get(void*& item, const Deadline& deadline) noexcept {
  if (!inbox_)
    return fail(Status::closed, "announcement get: this handle is a clone (a publisher) and receives nothing");
  return inbox_->get(item, deadline, "announcement get");
}

bool Announcement::leave() noexcept {
  if (!inbox_) return false;
  AnnouncementGroup& g = *group_;
  {
    std::lock_guard<std::mutex> lock(g.mu_);
    auto it = std::find(g.receivers_.begin(), g.receivers_.end(), inbox_);
    if (it == g.receivers_.end()) return false;
    g.receivers_.erase(it);
  }
  g.room_.notify_all();  // a put waiting for this receiver's room can go on
  return true;
}

Status Announcement::unsubscribe() noexcept {
  if (!leave())
    return fail(Status::bad_state,
                "announcement unsubscribe: this handle is not a member (a clone, or already unsubscribed)");
  inbox_->close();  // its gets drain what is left, then closed
  return Status::ok;
}

void Announcement::finalize() noexcept {
  std::lock_guard<std::mutex> lock(group_->mu_);
  group_->finalized_ = true;
  std::deque<void*>().swap(group_->backlog_);
}

size_t Announcement::subscribers() const noexcept {
  std::lock_guard<std::mutex> lock(group_->mu_);
  return group_->receivers_.size();
}

size_t Announcement::backlog() const noexcept {
  std::lock_guard<std::mutex> lock(group_->mu_);
  return group_->backlog_.size();
}

}  // namespace lox::core::queue
