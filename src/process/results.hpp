// SPDX-License-Identifier: Apache-2.0
// Results of a process-pool round: the round's tasks, bytes in hand.
#pragma once

#include <deque>

#include "common/results.hpp"
#include "process/pool.hpp"

namespace lox::core::process {

class ProcessResults final : public Results {
 public:
  // Not noexcept: libstdc++'s deque move constructor allocates (a map for
  // the moved-from deque), so an out-of-memory here must reach the caller.
  explicit ProcessResults(std::deque<Task> tasks) : tasks_(std::move(tasks)) {}
  // Takes `tasks` without allocating (a swap): gather builds the results
  // object first, then moves the round into it, so an out-of-memory never
  // happens after the round was taken (it would be lost).
  void adopt(std::deque<Task>& tasks) noexcept { tasks_.swap(tasks); }
  size_t count() const noexcept override { return tasks_.size(); }
  int status(size_t i) const noexcept override { return tasks_[i].status; }
  void* value(size_t) const noexcept override { return nullptr; }
  bool bytes(size_t i, const void** data, size_t* len) const noexcept override {
    *data = tasks_[i].output.data();
    *len = tasks_[i].output.size();
    return true;
  }
  const char* error(size_t i) const noexcept override {
    return tasks_[i].status == 0 ? nullptr : tasks_[i].detail.c_str();
  }

 private:
  std::deque<Task> tasks_;
};

}  // namespace lox::core::process
