// SPDX-License-Identifier: Apache-2.0
#include "queue/queue.hpp"

#include "common/error.hpp"
#include "queue/ring.hpp"
#include "queue/segments.hpp"

namespace lox::core::queue {

namespace {

std::unique_ptr<Storage> make_storage(size_t maxsize) {
  if (maxsize != 0 && maxsize <= kMaxRing) return std::make_unique<Ring>(maxsize);
  return std::make_unique<Segments>(maxsize);
}

}  // namespace

Queue::Queue(size_t maxsize, const char* what) : maxsize_(maxsize), what_(what), storage_(make_storage(maxsize)) {}

Queue::~Queue() {
  sync::retire(what_, life_, [this] {
    not_empty_.notify_all();
    not_full_.notify_all();
    all_done_.notify_all();
  });
}

template <typename Result, typename Attempt>
Status Queue::attempt_or_wait(Result& r, Result busy, EventCount& ec, const Deadline& deadline, const char* op,
                              Attempt&& attempt) noexcept {
  r = attempt();
  if (r != busy || deadline.expired()) return Status::ok;
  sync::Inside in(life_);
  sync::Wait w = sync::wait_until(
      ec, deadline, [&] { return (r = attempt()) != busy; }, [this] { return life_.is_dead(); });
  if (w == sync::Wait::aborted)
    return fail(Status::bad_state, "{}: the {} was destroyed while this thread waited", op, what_);
  return Status::ok;
}

Status Queue::put(void* item, const Deadline& deadline, const char* op) noexcept {
  Push r = Push::full;
  if (Status s = attempt_or_wait(r, Push::full, not_full_, deadline, op, [&] { return storage_->try_push(item); });
      s != Status::ok)
    return s;
  switch (r) {
    case Push::ok:
      // The push was a sequentially consistent compare-and-swap on the
      // index that getters test for emptiness after registering to sleep:
      // either they see the item or we see them (no fence needed).
      if (not_empty_.has_waiters()) not_empty_.notify_one();
      return Status::ok;
    case Push::full:
      return Status::timeout;
    case Push::closed:
      return fail(Status::closed, "{}: the queue is closed", op);
    case Push::no_memory:
      break;
  }
  return fail(Status::no_memory, "{}: out of memory for a new block of the queue", op);
}

Status Queue::get(void*& item, const Deadline& deadline, const char* op) noexcept {
  Pop r = Pop::empty;
  Status s = attempt_or_wait(r, Pop::empty, not_empty_, deadline, op, [&] { return storage_->try_pop(item); });
  if (s != Status::ok) return s;
  switch (r) {
    case Pop::ok:
      item_taken();
      return Status::ok;
    case Pop::empty:
      return Status::timeout;
    case Pop::closed:
      break;
  }
  return fail(Status::closed, "{}: the queue is closed and drained", op);
}

void Queue::item_taken() noexcept {
  // As in put: the pop's compare-and-swap pairs with a putter's
  // registration (fullness is tested on the indices).
  if (maxsize_ != 0 && not_full_.has_waiters()) not_full_.notify_one();
  if (room_listener_ && room_listener_->has_waiters()) room_listener_->notify_all();
}

void Queue::close() noexcept {
  storage_->close();
  not_empty_.notify_all();
  not_full_.notify_all();
}

Status Queue::task_done() noexcept {
  uint64_t done = done_.load(std::memory_order_seq_cst);
  for (;;) {
    const uint64_t got = storage_->popped();
    if (done >= got)
      return fail(Status::bad_state, "queue task_done: called more times than items were got ({} got)", got);
    if (done_.compare_exchange_weak(done, done + 1, std::memory_order_seq_cst, std::memory_order_seq_cst)) break;
  }
  if (done + 1 == storage_->pushed()) all_done_.notify_all();
  return Status::ok;
}

Status Queue::join(const Deadline& deadline) noexcept {
  auto all_done = [this] { return done_.load(std::memory_order_seq_cst) == storage_->pushed(); };
  if (all_done()) return Status::ok;
  if (deadline.expired()) return Status::timeout;
  sync::Inside in(life_);
  sync::Wait w = sync::wait_until(all_done_, deadline, all_done, [this] { return life_.is_dead(); });
  if (w == sync::Wait::acquired) return Status::ok;
  if (w == sync::Wait::timed_out) return Status::timeout;
  return fail(Status::bad_state, "queue join: the {} was destroyed while this thread waited", what_);
}

size_t Queue::size() const noexcept {
  // A count the queue really had at one instant: `in` read while `out` did
  // not move. Under a stream of gets that may not settle; then the bound
  // keeps the answer possible.
  uint64_t out = storage_->popped();
  for (int attempt = 0;; ++attempt) {
    const uint64_t in = storage_->pushed();
    const uint64_t out_again = storage_->popped();
    if (out_again == out || attempt == 8) {
      uint64_t n = in > out_again ? in - out_again : 0;
      if (maxsize_ != 0 && n > maxsize_) n = maxsize_;
      return static_cast<size_t>(n);
    }
    out = out_again;
  }
}

}  // namespace lox::core::queue
