// SPDX-License-Identifier: Apache-2.0
// Results of a thread-pool round: the round's own task slots (no copy) plus
// the detail text of failed tasks.
#pragma once

#include <string>
#include <unordered_map>

#include "common/results.hpp"
#include "thread/task.hpp"

namespace lox::core::thread {

class ThreadResults final : public Results {
 public:
  // Does not throw once `tasks` is constructed (see results.cpp).
  // `details`: texts of failed graph nodes by slot (used as they are).
  ThreadResults(TaskTable tasks, bool any_failed, std::unordered_map<size_t, std::string> details = {});
  size_t count() const noexcept override { return tasks_.size(); }
  int status(size_t i) const noexcept override { return tasks_[i].status; }
  void* value(size_t i) const noexcept override { return tasks_[i].result; }
  bool bytes(size_t, const void**, size_t*) const noexcept override { return false; }
  const char* error(size_t i) const noexcept override;

  size_t failed() const noexcept { return failed_; }
  size_t first_failed() const noexcept { return first_failed_; }

 private:
  TaskTable tasks_;
  std::unordered_map<size_t, std::string> errors_;
  size_t first_failed_ = 0;
  size_t failed_ = 0;
};

}  // namespace lox::core::thread
