// SPDX-License-Identifier: Apache-2.0
#include "thread/round.hpp"

#include <algorithm>
#include <string>

#include <fmt/format.h>

#include "common/describe.hpp"
#include "common/status.hpp"

#include "log/log.hpp"
#include "thread/context.hpp"

namespace lox::core::thread {
namespace {
thread_local const Round* tl_round = nullptr;

// Marks the round whose task runs on this thread (lox_task_cancelled).
class CurrentRound {
 public:
  explicit CurrentRound(const Round* r) noexcept : outer_(tl_round) { tl_round = r; }
  ~CurrentRound() { tl_round = outer_; }
  CurrentRound(const CurrentRound&) = delete;
  CurrentRound& operator=(const CurrentRound&) = delete;

 private:
  const Round* outer_;
};

}  // namespace

int node_slot(void*, void*, void**) { return to_int(Status::bad_state); }

const Round* Round::current() noexcept { return tl_round; }

size_t Round::append(TaskFn fn, void* ctx, void* arg, Chunk*& chunk, bool publish) {
  size_t i = size_;
  if (!tail_ || i == tail_->base + tail_->capacity) {
    Chunk* c = cache_->take(i, chunk_layout::capacity_at(i));  // may throw: nothing changed yet
    if (tail_) {
      tail_->next.store(c, std::memory_order_release);
    } else {
      head_ = c;
    }
    tail_ = c;
  }
  Task& t = tail_->tasks()[i - tail_->base];
  t.fn = fn;
  t.ctx = ctx;
  t.arg = arg;
  chunk = tail_;
  size_ = i + 1;
  if (publish) published_.store(size_, std::memory_order_release);
  return i;
}

bool Round::claim(size_t max_batch, Batch& out) noexcept {
  size_t c = claimed_.load(std::memory_order_relaxed);
  for (;;) {
    size_t p = published_.load(std::memory_order_acquire);
    if (c >= p) return false;
    size_t avail = p - c;
    size_t n = std::clamp<size_t>(avail, 1, std::max<size_t>(max_batch, 1));
    if (claimed_.compare_exchange_weak(c, c + n, std::memory_order_acq_rel, std::memory_order_relaxed)) {
      out.begin = c;
      out.end = c + n;
      return true;
    }
  }
}

void Round::execute(size_t i, Chunk*& cursor, Tally& tally) {
  if (!cursor || i < cursor->base) cursor = head_;
  // The chunk holding a published slot is linked before the slot is
  // published, and indices only move forward, so walking is amortised O(1).
  while (i >= cursor->base + cursor->capacity) cursor = cursor->next.load(std::memory_order_acquire);
  const size_t slot = i - cursor->base;
  const Task& t = cursor->tasks()[slot];
  void* result = nullptr;
  int status;
  graph::Node* node = t.fn == &node_slot ? static_cast<graph::Node*>(t.ctx) : nullptr;
  try {
    if (node) {
      switch (node->reach()) {
        case graph::Node::Reach::parked:
          return;  // counted by finish_parked() when the node completes
        case graph::Node::Reach::run:
          run_node(*node);
          break;
        case graph::Node::Reach::completed:
          break;
      }
      result = node->value();
      status = node->status();
    } else if (cancelled()) {
      status = to_int(Status::cancelled);
    } else {
      CurrentRound running(this);
      status = invoke_task(t.fn, t.ctx, t.arg, &result);
    }
  } catch (...) {  // only the forced unwind gets through invoke_task
    if (node) flush(tally);
    count(tally, i);
    tally.logged = node != nullptr;
    if (!node) cursor->outcomes()[slot].set(nullptr, to_int(Status::worker_died), true);
    ++tally.failed;
    flush(tally);
    if (node) {
      node->host()->slot_finished(*node);
      node->release();  // the slot's reference
    }
    throw;
  }
  if (node) {
    // Counted on its own: record_node logged it already.
    flush(tally);
    count(tally, i);
    tally.logged = true;
    if (status != 0) ++tally.failed;
    flush(tally);
  } else {
    count(tally, i);
    cursor->outcomes()[slot].set(result, status);
    if (status != 0) ++tally.failed;
  }
  if (node) {
    node->host()->slot_finished(*node);
    node->release();  // the slot's reference
  }
  if (progress_wakeups_.load(std::memory_order_relaxed)) flush(tally);
}

void Round::run_node(graph::Node& node) const {
  size_t position = 0;
  if (const graph::Node* pred = node.failed_predecessor(&position)) {
    std::string detail;
    try {
      detail = node.dependency_detail(*pred, position);
    } catch (...) {
    }
    node.complete(to_int(Status::dependency_failed), nullptr, {}, std::move(detail));
    return;
  }
  if (node.cancel_requested() || cancelled()) {
    node.complete(to_int(Status::cancelled), nullptr, {}, cancelled_before_start(node.index()));
    return;
  }
  void* result = nullptr;
  int status;
  try {
    graph::Node::RunningScope running_node(&node);
    CurrentRound running(this);
    const auto& call = node.thread_call;
    status = invoke_task(call.fn, call.ctx, call.arg, &result);
  } catch (...) {  // the forced unwind: the task ended its thread
    node.complete(to_int(Status::worker_died), nullptr, {},
                  describe("task {} called pthread_exit (or its thread was cancelled): its worker thread exited",
                           node.index()));
    throw;
  }
  node.complete(status, result, {}, {});
}

void Round::record_node(Chunk* chunk, size_t i, void* result, int status, const char* detail) noexcept {
  if (status != 0 && detail) {
    try {
      std::lock_guard lk(details_mu_);
      details_.emplace(i, detail);
    } catch (...) {  // the results fall back to the status text
    }
  }
  // Logged now, not when the slot is counted: a consumer of the round's
  // completions must see them in the order the nodes' waiters do. The
  // flag store and the load of log_active_ pair (seq_cst) with the
  // consumer's store of log_active_ and its scan of the flags.
  chunk->outcomes()[i - chunk->base].set_seq_cst(result, status);
  if (log_active_.load(std::memory_order_seq_cst)) {
    const size_t at = log_end_.fetch_add(1, std::memory_order_relaxed);
    log_[at].store(i + 1, std::memory_order_release);
    gather_event_.notify_all();
  }
}

void Round::finish_parked(size_t i, int status) noexcept {
  Tally t{1, status != 0 ? size_t{1} : 0, i, true};
  flush(t);
}

void Round::count(Tally& tally, size_t i) noexcept {
  // A tally is one range of slots (the completion log records ranges): a
  // gap (a parked slot) closes the range so far.
  if (tally.finished != 0 && i != tally.first + tally.finished) flush(tally);
  if (tally.finished == 0) tally.first = i;
  ++tally.finished;
}

void Round::flush(Tally& tally) noexcept {
  if (tally.finished) complete(tally);
  tally = Tally{};
}

void Round::watch_completions(std::unique_ptr<std::atomic<size_t>[]> log) noexcept {
  log_ = std::move(log);
  log_active_.store(true, std::memory_order_seq_cst);
  // Orders the caller's scan of the done flags after this (see complete()).
  (void)done_.load(std::memory_order_seq_cst);
}

size_t Round::logged(size_t position) const noexcept {
  return log_[position].load(std::memory_order_acquire);
}

void Round::run(const Batch& b, Chunk*& cursor) {
  Tally tally;
  for (size_t i = b.begin; i < b.end; ++i) execute(i, cursor, tally);
  flush(tally);
}

void Round::complete(const Tally& t) noexcept {
  if (t.failed) failed_.fetch_add(t.failed, std::memory_order_relaxed);
  size_t now = done_.fetch_add(t.finished, std::memory_order_seq_cst) + t.finished;
  // From here on the gatherer may take the chunks: touch only the counters
  // and the log (the Round itself stays alive, the worker holds a
  // reference).
  //
  // Completion log: read after done_ (both seq_cst), while a consumer sets
  // log_active_ before it reads done_ and scans the slots: either it sees
  // these slots done, or this sees the log active (and records them).
  const bool logging = log_active_.load(std::memory_order_seq_cst);
  if (logging && !t.logged) {
    size_t at = log_end_.fetch_add(t.finished, std::memory_order_relaxed);
    for (size_t k = 0; k < t.finished; ++k) log_[at + k].store(t.first + k + 1, std::memory_order_release);
  }
  size_t sealed = sealed_size_.load(std::memory_order_seq_cst);
  if ((sealed != kOpen && now >= sealed) || logging || progress_wakeups_.load(std::memory_order_relaxed))
    gather_event_.notify_all();
}

}  // namespace lox::core::thread
