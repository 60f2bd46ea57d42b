// SPDX-License-Identifier: Apache-2.0
#include "sync/lock.hpp"

#include "common/error.hpp"

namespace lox::core::sync {

Lock::~Lock() {
  retire("lock", life_, [this] { ec_.notify_all(); });
}

Status Lock::acquire(const Deadline& deadline, const char* op, const Lifeline* also) noexcept {
  if (try_acquire()) return Status::ok;
  if (deadline.expired()) return Status::timeout;
  Inside in(life_);
  Wait w = wait_until(
      ec_, deadline, [this] { return try_acquire(); },
      [this, also] { return life_.is_dead() || (also && also->is_dead()); });
  if (w == Wait::acquired) return Status::ok;
  if (w == Wait::timed_out) return Status::timeout;
  return fail(Status::bad_state, "{}: the object was destroyed while this thread waited", op);
}

Status Lock::release(const char* op) noexcept {
  // A seq_cst exchange then a seq_cst load of the waiter count: either a
  // waiter registered before the load (we notify it) or its re-check after
  // registering sees the lock free.
  if (state_.exchange(0, std::memory_order_seq_cst) == 0) return fail(Status::bad_state, "{}: not locked", op);
  if (ec_.has_waiters()) ec_.notify_one();
  return Status::ok;
}

}  // namespace lox::core::sync
