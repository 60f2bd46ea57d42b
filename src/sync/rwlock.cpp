// SPDX-License-Identifier: Apache-2.0
#include "sync/rwlock.hpp"

#include "common/error.hpp"

namespace lox::core::sync {

RWLock::~RWLock() {
  retire("rwlock", life_, [this] {
    readers_ec_.notify_all();
    writers_ec_.notify_all();
  });
}

bool RWLock::try_write_waiting() noexcept {
  uint64_t s = state_.load(std::memory_order_seq_cst);
  while ((s & (kWriter | kReaders)) == 0)
    if (state_.compare_exchange_weak(s, s - kOneWaitingWriter + kWriter, std::memory_order_seq_cst,
                                     std::memory_order_relaxed))
      return true;
  return false;
}

Status RWLock::acquire_read_slow(const Deadline& deadline) noexcept {
  if (deadline.expired()) return Status::timeout;
  Inside in(life_);
  Wait w = wait_until(
      readers_ec_, deadline, [this] { return try_read(); }, [this] { return life_.is_dead(); });
  if (w == Wait::acquired) return Status::ok;
  if (w == Wait::timed_out) return Status::timeout;
  return fail(Status::bad_state, "rwlock acquire: the rwlock was destroyed while this thread waited (mode 'r')");
}

Status RWLock::acquire_write(const Deadline& deadline) noexcept {
  if (take_if_free(state_, kWriter, std::memory_order_seq_cst)) return Status::ok;
  if (deadline.expired()) return Status::timeout;
  Inside in(life_);
  // Register as a waiting writer: from now on no new reader gets in.
  state_.fetch_add(kOneWaitingWriter, std::memory_order_seq_cst);
  Wait w = wait_until(
      writers_ec_, deadline, [this] { return try_write_waiting(); }, [this] { return life_.is_dead(); });
  if (w == Wait::acquired) return Status::ok;
  // Gave up: unregister; if we were the last waiting writer and no writer
  // holds the lock, the readers blocked behind us may go in now.
  uint64_t s = state_.fetch_sub(kOneWaitingWriter, std::memory_order_seq_cst) - kOneWaitingWriter;
  if ((s & (kWaitingWriters | kWriter)) == 0 && readers_ec_.has_waiters()) readers_ec_.notify_all();
  if (w == Wait::timed_out) return Status::timeout;
  return fail(Status::bad_state, "rwlock acquire: the rwlock was destroyed while this thread waited (mode 'w')");
}

Status RWLock::not_held(char mode) noexcept {
  return fail(Status::bad_state, "rwlock release: mode '{}' not held", mode);
}

void RWLock::wake_writer() noexcept {
  if (writers_ec_.has_waiters()) writers_ec_.notify_one();
}

Status RWLock::release_write() noexcept {
  uint64_t s = state_.load(std::memory_order_relaxed);
  do {
    if ((s & kWriter) == 0) return not_held('w');
  } while (!state_.compare_exchange_weak(s, s - kWriter, std::memory_order_seq_cst, std::memory_order_relaxed));
  // Writer preference: the next waiting writer goes first; readers are
  // woken only when no writer waits.
  if ((s & kWaitingWriters) != 0) {
    if (writers_ec_.has_waiters()) writers_ec_.notify_one();
  } else if (readers_ec_.has_waiters()) {
    readers_ec_.notify_all();
  }
  return Status::ok;
}

}  // namespace lox::core::sync
