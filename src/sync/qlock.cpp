// SPDX-License-Identifier: Apache-2.0
#include "sync/qlock.hpp"

#include "common/error.hpp"

namespace lox::core::sync {

QLock::~QLock() {
  retire("qlock", life_, [this] {
    std::lock_guard lk(mu_);
    for (Node* n = head_; n; n = n->next) n->ec.notify_all();
  });
}

void QLock::unlink(Node* n) noexcept {
  (n->prev ? n->prev->next : head_) = n->next;
  (n->next ? n->next->prev : tail_) = n->prev;
  n->prev = n->next = nullptr;
  waiting_.fetch_sub(1, std::memory_order_seq_cst);
  if (!head_) state_.fetch_and(~kQueued, std::memory_order_seq_cst);
}

Status QLock::acquire(const Deadline& deadline) noexcept {
  if (take_if_free(state_, kLocked, std::memory_order_acquire)) return Status::ok;
  if (deadline.expired()) return Status::timeout;

  Inside in(life_);
  Node node;
  {
    std::lock_guard lk(mu_);
    if (life_.is_dead()) return fail(Status::bad_state, "qlock acquire: the qlock is being destroyed");
    uint32_t s = state_.load(std::memory_order_relaxed);
    for (;;) {
      if (s == 0) {  // freed meanwhile and nobody in line: take it
        if (state_.compare_exchange_weak(s, kLocked, std::memory_order_acquire, std::memory_order_relaxed))
          return Status::ok;
        continue;
      }
      // Held: mark the line non-empty, so release comes here to hand over.
      if (state_.compare_exchange_weak(s, s | kQueued, std::memory_order_seq_cst, std::memory_order_relaxed)) break;
    }
    node.prev = tail_;
    (tail_ ? tail_->next : head_) = &node;
    tail_ = &node;
    waiting_.fetch_add(1, std::memory_order_seq_cst);
  }

  Wait w = wait_until(
      node.ec, deadline, [&node] { return node.granted.load(std::memory_order_acquire) != 0; },
      [this] { return life_.is_dead(); });
  std::lock_guard lk(mu_);  // also: the releaser is done with `node` once we hold mu_
  if (w == Wait::acquired || node.granted.load(std::memory_order_acquire) != 0) return Status::ok;
  unlink(&node);  // leave the line; the others keep their order
  if (w == Wait::timed_out) return Status::timeout;
  return fail(Status::bad_state, "qlock acquire: the qlock was destroyed while this thread waited");
}

Status QLock::release() noexcept {
  uint32_t expected = kLocked;
  if (state_.compare_exchange_strong(expected, 0, std::memory_order_release, std::memory_order_relaxed))
    return Status::ok;
  if ((expected & kLocked) == 0) return fail(Status::bad_state, "qlock release: not locked");
  std::lock_guard lk(mu_);
  uint32_t s = state_.load(std::memory_order_relaxed);
  if ((s & kLocked) == 0) return fail(Status::bad_state, "qlock release: not locked");
  if (Node* n = head_) {
    // Hand over: the lock stays locked and now belongs to the head waiter.
    unlink(n);
    n->granted.store(1, std::memory_order_release);
    n->ec.notify_one();
  } else {
    state_.fetch_and(~kLocked, std::memory_order_release);
  }
  return Status::ok;
}

}  // namespace lox::core::sync
