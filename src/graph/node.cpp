// SPDX-License-Identifier: Apache-2.0
#include "graph/node.hpp"

#include <utility>

#include <fmt/format.h>

#include "common/describe.hpp"
#include "common/status.hpp"

namespace lox::core::graph {
namespace {
thread_local const Node* tl_current = nullptr;
}

void Host::cancel_running(Node&) noexcept {}
void Host::slot_finished(Node&) noexcept {}
void Host::launch_batch(Node* const* nodes, size_t n) noexcept {
  for (size_t i = 0; i < n; ++i) launch(*nodes[i]);
}

ExternalHost& ExternalHost::instance() noexcept {
  static ExternalHost host;
  return host;
}

Node::Node(Kind kind, void (*free_fn)(void*), void* owner) noexcept : kind_(kind), free_fn_(free_fn), owner_(owner) {}

Node::~Node() {
  release_predecessors();
  // Callbacks never called (a node destroyed before it completed: its
  // scatter failed after the handle was made).
  for (Callback* c = callbacks_; c;) delete std::exchange(c, c->next);
  if (links_ != &inline_link_) delete[] links_;
}

void Node::release() noexcept {
  if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) free_fn_(owner_);
}

void Node::release_predecessors() noexcept {
  const size_t n = std::exchange(n_preds_, 0);
  for (size_t i = 0; i < n; ++i) links_[i].pred->release();
}

void Node::place(Host& host, void* round, void* slot, size_t index) noexcept {
  host_ = &host;
  round_ = round;
  slot_ = slot;
  index_ = index;
}

bool Node::link() noexcept {
  size_t already_done = 0;
  for (size_t k = 0; k < n_preds_; ++k) {
    Node& p = *links_[k].pred;
    std::lock_guard lk(p.mu_);
    if (p.closed_) {
      ++already_done;
      continue;
    }
    retain();  // the edge's: dropped when the predecessor completes
    links_[k].edge.next = p.dependents_;
    p.dependents_ = &links_[k].edge;
  }
  // The slot token is still held, so this cannot make the node runnable.
  std::lock_guard lk(mu_);
  waiting_ -= already_done;
  return already_done != n_preds_;
}

Node::Reach Node::reach(bool always_park) noexcept {
  std::lock_guard lk(mu_);
  if (closed_) return Reach::completed;
  --waiting_;
  if (waiting_ == 0 && !claimed_) {
    claimed_ = true;
    parked_ = always_park;
    return Reach::run;
  }
  parked_ = true;
  return Reach::parked;
}

bool Node::predecessor_done() noexcept {
  std::lock_guard lk(mu_);
  --waiting_;
  const bool runnable = waiting_ == 0 && !claimed_ && !closed_;
  if (runnable) claimed_ = true;
  return runnable;
}

const Node* Node::failed_predecessor(size_t* position) const noexcept {
  for (size_t k = 0; k < n_preds_; ++k) {
    if (links_[k].pred->status_ != 0) {
      if (position) *position = k;
      return links_[k].pred;
    }
  }
  return nullptr;
}

std::string Node::dependency_detail(const Node& pred, size_t position) const {
  if (pred.status_ == to_int(Status::cancelled))
    return fmt::format("task {} did not run: predecessor {} (task {} of its round) was cancelled", index_, position,
                       pred.index_);
  return fmt::format("task {} did not run: predecessor {} (task {} of its round) failed with status {}: {}", index_,
                     position, pred.index_, pred.status_, pred.detail_);
}

void Node::cancel() noexcept {
  cancel_.store(true, std::memory_order_relaxed);
  bool not_started;
  {
    std::lock_guard lk(mu_);
    if (closed_) return;
    // Claimed: running, or queued to run (its runner sees cancel_requested()).
    not_started = !claimed_;
    claimed_ = true;
  }
  if (!not_started) {
    host_->cancel_running(*this);
    return;
  }
  complete(to_int(Status::cancelled), nullptr, {}, cancelled_before_start(index_));
}

bool Node::claim() noexcept {
  std::lock_guard lk(mu_);
  if (closed_ || claimed_) return false;
  claimed_ = true;
  return true;
}

bool Node::cancel_if_waiting(const char* why) noexcept {
  {
    std::lock_guard lk(mu_);
    if (closed_ || claimed_) return false;
    claimed_ = true;
  }
  cancel_.store(true, std::memory_order_relaxed);
  complete(to_int(Status::cancelled), nullptr, {}, describe("task {} {}", index_, why));
  return true;
}

void Node::complete(int status, void* value, std::string bytes, std::string detail) noexcept {
  // Once: a second completion (destroy racing a late launch) is ignored.
  if (completing_.exchange(true, std::memory_order_acq_rel)) return;
  status_ = status;
  value_ = value;
  bytes_ = std::move(bytes);
  detail_ = std::move(detail);
  if (status != 0 && detail_.empty()) {
    detail_ = describe("task {} failed with status {}", index_, status);
  }
  final_.store(true, std::memory_order_release);
  host_->record_slot(*this);
  Edge* dependents;
  Callback* callbacks;
  bool parked;
  {
    std::lock_guard lk(mu_);
    // From here on a new callback runs at once and a new dependent counts
    // this as complete (they check closed_); waiters see done_ only after
    // the callbacks, so that a callback's effects (a completions set's
    // order) are in place when lox_task_wait returns.
    closed_ = true;
    claimed_ = true;  // nothing launches it any more
    dependents = std::exchange(dependents_, nullptr);
    callbacks = std::exchange(callbacks_, nullptr);
    callbacks_tail_ = nullptr;
    parked = parked_;
  }
  while (callbacks) {
    Callback* c = std::exchange(callbacks, callbacks->next);
    c->fn(c->a, c->b, *this);
    delete c;
  }
  done_.store(true, std::memory_order_release);
  done_event_.notify_all();
  // Runnable dependents are launched in batches per host; each keeps its
  // edge's reference until it was handed over.
  constexpr size_t kBatch = 64;
  Node* batch[kBatch];
  size_t batched = 0;
  auto launch_batched = [&] {
    if (batched == 0) return;
    batch[0]->host_->launch_batch(batch, batched);
    for (size_t i = 0; i < batched; ++i) batch[i]->release();
    batched = 0;
  };
  while (dependents) {
    Edge* e = std::exchange(dependents, dependents->next);
    Node* d = e->dependent;  // read before it may go: the edge lives in d
    if (!d->predecessor_done()) {
      d->release();
      continue;
    }
    if (batched == kBatch || (batched != 0 && batch[0]->host_ != d->host_)) launch_batched();
    batch[batched++] = d;
  }
  launch_batched();
  release_predecessors();
  if (parked) host_->finish_slot(*this);  // last: it may drop the last reference
}

bool Node::wait(const Deadline& deadline) const noexcept {
  for (;;) {
    if (done()) return true;
    auto ticket = done_event_.prepare();
    if (done()) {
      done_event_.cancel();
      return true;
    }
    if (!done_event_.wait(ticket, deadline)) return done();
  }
}

bool Node::add_callback(DoneFn fn, void* a, void* b) {
  auto* c = new Callback{fn, a, b, nullptr};
  std::lock_guard lk(mu_);
  if (closed_) {
    delete c;
    return false;
  }
  if (callbacks_tail_)
    callbacks_tail_->next = c;
  else
    callbacks_ = c;
  callbacks_tail_ = c;
  return true;
}

Node::RunningScope::RunningScope(const Node* node) noexcept : outer_(tl_current) { tl_current = node; }
Node::RunningScope::~RunningScope() { tl_current = outer_; }
const Node* Node::current() noexcept { return tl_current; }

}  // namespace lox::core::graph
