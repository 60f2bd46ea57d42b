// SPDX-License-Identifier: Apache-2.0
// A thread-pool round delivered in completion order. The round is taken
// from the pool as a gather takes it; slots that completed before are
// found by their done flags, later ones through the round's completion
// log (Round::watch_completions), so a worker pays one atomic add per
// batch, and only while a consumer watches.
#pragma once

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "common/completions.hpp"
#include "thread/round.hpp"

namespace lox::core::thread {

class RoundCompletions final : public Completions {
 public:
  // `round` is sealed (or null: an empty round). Throws std::bad_alloc.
  explicit RoundCompletions(std::shared_ptr<Round> round);
  Status next(const Deadline& deadline, Completed& out) noexcept override;
  size_t remaining() const noexcept override { return total_ - delivered_; }

 private:
  const Outcome& outcome(size_t i) const noexcept;
  // Moves what the log holds into ready_ (skipping slots already known).
  void read_log() noexcept;

  std::shared_ptr<Round> round_;
  size_t total_ = 0;
  size_t delivered_ = 0;
  std::vector<Chunk*> chunks_;
  std::vector<bool> known_;   // slot already queued in ready_ or delivered
  std::vector<size_t> ready_;  // completed slots not delivered, in order (capacity total_)
  size_t ready_head_ = 0;
  size_t log_read_ = 0;  // log entries consumed
  std::deque<std::string> errors_;  // detail texts handed out
};

}  // namespace lox::core::thread
