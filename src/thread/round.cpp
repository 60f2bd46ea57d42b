// SPDX-License-Identifier: Apache-2.0
#include "thread/round.hpp"

#include <algorithm>

#include "common/status.hpp"

#include "log/log.hpp"
#include "thread/context.hpp"

namespace lox::core::thread {

size_t Round::append(TaskFn fn, void* ctx, void* arg, Chunk*& chunk) {
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
  published_.store(size_, std::memory_order_release);
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
  try {
    status = invoke_task(t.fn, t.ctx, t.arg, &result);
  } catch (...) {  // only the forced unwind gets through invoke_task
    cursor->outcomes()[slot] = Outcome{nullptr, to_int(Status::worker_died), true};
    ++tally.finished;
    ++tally.failed;
    flush(tally);
    throw;
  }
  cursor->outcomes()[slot] = Outcome{result, status};
  ++tally.finished;
  if (status != 0) ++tally.failed;
  if (progress_wakeups_.load(std::memory_order_relaxed)) flush(tally);
}

void Round::flush(Tally& tally) noexcept {
  if (tally.finished) complete(tally.finished, tally.failed);
  tally = Tally{};
}

void Round::run(const Batch& b, Chunk*& cursor) {
  Tally tally;
  for (size_t i = b.begin; i < b.end; ++i) execute(i, cursor, tally);
  flush(tally);
}

void Round::complete(size_t n, size_t failed) noexcept {
  if (failed) failed_.fetch_add(failed, std::memory_order_relaxed);
  size_t now = done_.fetch_add(n, std::memory_order_seq_cst) + n;
  // From here on the gatherer may take the chunks: touch only the counters
  // (the Round itself stays alive, the worker holds a reference).
  size_t sealed = sealed_size_.load(std::memory_order_seq_cst);
  if ((sealed != kOpen && now >= sealed) || progress_wakeups_.load(std::memory_order_relaxed))
    gather_event_.notify_all();
}

}  // namespace lox::core::thread
