// SPDX-License-Identifier: Apache-2.0
#include "queue/funnel.hpp"

#include <deque>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "common/error.hpp"
#include "common/futex.hpp"

namespace lox::core::queue {

class FunnelState {
 public:
  struct Set {
    uint64_t jid;
    std::vector<void*> items;
  };
  // Items put for one jid whose set is not complete: one FIFO per input.
  struct Pending {
    std::vector<std::deque<void*>> per_input;
    size_t filled = 0;  // inputs with at least one item waiting
  };

  mutable std::mutex mu_;
  size_t inputs_ = 0;
  std::unordered_map<uint64_t, Pending> pending_;
  std::deque<Set> ready_;
  std::atomic<size_t> ready_count_{0};  // ready_.size(), readable without mu_
  EventCount ready_event_;
};

Funnel::Funnel(std::shared_ptr<FunnelState> state, long index) : state_(std::move(state)), index_(index) {}

std::unique_ptr<Funnel> Funnel::create() {
  return std::unique_ptr<Funnel>(new Funnel(std::make_shared<FunnelState>(), -1));
}

Funnel::~Funnel() {
  sync::retire("funnel", life_, [this] { state_->ready_event_.notify_all(); });
}

std::unique_ptr<Funnel> Funnel::subscribe() {
  FunnelState& s = *state_;
  std::lock_guard<std::mutex> lock(s.mu_);
  std::unique_ptr<Funnel> input(new Funnel(state_, static_cast<long>(s.inputs_)));
  ++s.inputs_;  // pending sets now also wait for this input (sized lazily in put)
  return input;
}

Status Funnel::put(uint64_t jid, void* item) {
  if (index_ < 0) return fail(Status::bad_state, "funnel put: cannot put on the top of a funnel, only on its inputs");
  FunnelState& s = *state_;
  const auto me = static_cast<size_t>(index_);
  {
    std::lock_guard<std::mutex> lock(s.mu_);
    FunnelState::Pending& p = s.pending_[jid];
    if (p.per_input.size() < s.inputs_) p.per_input.resize(s.inputs_);
    std::deque<void*>& mine = p.per_input[me];
    mine.push_back(item);
    if (mine.size() == 1) ++p.filled;
    if (p.filled < s.inputs_) return Status::ok;
    // Complete: the oldest item of every input forms the set. (At most one
    // set completes per put: before it, some input had nothing waiting.)
    try {
      s.ready_.push_back(FunnelState::Set{jid, std::vector<void*>(s.inputs_)});
    } catch (...) {
      mine.pop_back();  // out of memory: the put leaves no trace
      if (mine.empty()) --p.filled;
      throw;
    }
    FunnelState::Set& done = s.ready_.back();
    for (size_t i = 0; i < s.inputs_; ++i) {
      done.items[i] = p.per_input[i].front();
      p.per_input[i].pop_front();
      if (p.per_input[i].empty()) --p.filled;
    }
    if (p.filled == 0) s.pending_.erase(jid);
    s.ready_count_.fetch_add(1, std::memory_order_seq_cst);
  }
  s.ready_event_.notify_one();
  return Status::ok;
}

Status Funnel::get(const Deadline& deadline, uint64_t& jid, void** items, size_t capacity, size_t& count) noexcept {
  if (index_ >= 0)
    return fail(Status::bad_state, "funnel get: complete sets come out of the top, not of input {}", index_);
  FunnelState& s = *state_;
  size_t too_small = 0;  // the size of a set that did not fit
  auto take = [&] {
    if (s.ready_count_.load(std::memory_order_seq_cst) == 0) return false;
    std::lock_guard<std::mutex> lock(s.mu_);
    if (s.ready_.empty()) return false;
    FunnelState::Set& set = s.ready_.front();
    if (set.items.size() > capacity) {
      too_small = set.items.size();
      return true;
    }
    jid = set.jid;
    count = set.items.size();
    std::copy(set.items.begin(), set.items.end(), items);
    s.ready_.pop_front();
    s.ready_count_.fetch_sub(1, std::memory_order_seq_cst);
    return true;
  };
  bool got = take();
  if (!got && !deadline.expired()) {
    sync::Inside in(life_);
    sync::Wait w = sync::wait_until(s.ready_event_, deadline, take, [this] { return life_.is_dead(); });
    if (w == sync::Wait::aborted)
      return fail(Status::bad_state, "funnel get: the funnel was destroyed while this thread waited");
    got = w == sync::Wait::acquired;
  }
  if (!got) return Status::timeout;
  if (too_small != 0) {
    count = too_small;
    // Someone else may take the set; pass the wake-up on.
    s.ready_event_.notify_one();
    return fail(Status::invalid, "funnel get: the set has {} items but capacity is {} (nothing was taken)", too_small,
                capacity);
  }
  return Status::ok;
}

size_t Funnel::inputs() const noexcept {
  std::lock_guard<std::mutex> lock(state_->mu_);
  return state_->inputs_;
}

size_t Funnel::ready() const noexcept { return state_->ready_count_.load(std::memory_order_seq_cst); }

}  // namespace lox::core::queue
