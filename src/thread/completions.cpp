// SPDX-License-Identifier: Apache-2.0
#include "thread/completions.hpp"

#include <fmt/format.h>

#include "common/futex.hpp"

namespace lox::core::thread {
namespace {
// How long next() spins before sleeping: catches the next batch of quick
// tasks without a futex round trip.
constexpr std::chrono::microseconds kSpin{50};

std::string failure_text(size_t i, const Outcome& o) {
  if (o.thread_exited)
    return fmt::format("task {} called pthread_exit (or its thread was cancelled): its worker thread exited", i);
  if (o.status == to_int(Status::cancelled)) return fmt::format("task {} was cancelled", i);
  if (o.status == to_int(Status::dependency_failed))
    return fmt::format("task {} did not run: a predecessor failed or was cancelled (its handle's lox_task_error "
                       "names it)",
                       i);
  return fmt::format("task {} failed with status {}", i, o.status);
}
}  // namespace

RoundCompletions::RoundCompletions(std::shared_ptr<Round> round) : round_(std::move(round)) {
  if (!round_) return;
  total_ = round_->sealed_size();
  for (Chunk* c = round_->first_chunk(); c; c = c->next.load(std::memory_order_acquire)) chunks_.push_back(c);
  known_.assign(total_, false);
  ready_.reserve(total_);
  auto log = std::make_unique<std::atomic<size_t>[]>(total_);
  for (size_t i = 0; i < total_; ++i) log[i].store(0, std::memory_order_relaxed);
  // Nothing below throws.
  round_->watch_completions(std::move(log));
  for (size_t i = 0; i < total_; ++i) {
    if (outcome(i).is_done_seq_cst()) {
      known_[i] = true;
      ready_.push_back(i);
    }
  }
}

const Outcome& RoundCompletions::outcome(size_t i) const noexcept {
  size_t c, off;
  chunk_layout::locate(i, c, off);
  return chunks_[c]->outcomes()[off];
}

void RoundCompletions::read_log() noexcept {
  const size_t end = round_->log_size();
  while (log_read_ < end) {
    size_t entry = round_->logged(log_read_);
    if (entry == 0) {
      // Reserved, not yet written: a worker is between its two steps.
      await_step([&] { return round_->logged(log_read_) != 0; });
      entry = round_->logged(log_read_);
    }
    ++log_read_;
    const size_t i = entry - 1;
    if (!known_[i]) {
      known_[i] = true;
      ready_.push_back(i);
    }
  }
}

Status RoundCompletions::next(const Deadline& deadline, Completed& out) noexcept {
  if (delivered_ == total_) return Status::closed;
  auto have = [&] {
    if (ready_head_ < ready_.size()) return true;
    read_log();
    return ready_head_ < ready_.size();
  };
  if (!have()) spin_until(have, kSpin);
  while (!have()) {
    EventCount& ev = round_->gather_event();
    auto ticket = ev.prepare();
    if (have()) {
      ev.cancel();
      break;
    }
    if (!ev.wait(ticket, deadline) && !have()) return Status::timeout;
  }
  const size_t i = ready_[ready_head_++];
  const Outcome& o = outcome(i);
  out = Completed{};
  out.index = i;
  out.status = o.status;
  out.value = o.result;
  if (o.status != 0) {
    try {
      errors_.push_back(failure_text(i, o));
      out.error = errors_.back().c_str();
    } catch (...) {
      out.error = "task failed (no memory for the detail text)";
    }
  }
  ++delivered_;
  return Status::ok;
}

}  // namespace lox::core::thread
