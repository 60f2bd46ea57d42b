// Results of a process-pool round: the round's tasks, bytes in hand.
#pragma once

#include <deque>

#include "common/results.hpp"
#include "process/pool.hpp"

namespace lox::core::process {

class ProcessResults final : public Results {
 public:
  explicit ProcessResults(std::deque<Task> tasks) noexcept : tasks_(std::move(tasks)) {}
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
