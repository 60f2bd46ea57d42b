// SPDX-License-Identifier: Apache-2.0
#include "thread/results.hpp"

#include <fmt/format.h>

#include "common/status.hpp"
#include "thread/chunk_cache.hpp"

namespace lox::core::thread {

TaskTable::~TaskTable() {
  if (cache_) {
    cache_->give(head_);
  } else {
    for (Chunk* c = head_; c;) {
      Chunk* n = c->next.load(std::memory_order_relaxed);
      Chunk::destroy(c);
      c = n;
    }
  }
}

ThreadResults::ThreadResults(TaskTable tasks, bool any_failed, std::unordered_map<size_t, std::string> details)
    : tasks_(std::move(tasks)), errors_(std::move(details)) {
  if (!any_failed) return;  // the common case skips the scan
  for (size_t i = tasks_.size(); i-- > 0;) {
    int st = tasks_[i].status;
    if (st == 0) continue;
    first_failed_ = i;
    ++failed_;
    if (errors_.count(i)) continue;  // a graph node's own detail
    // Out of memory here must not throw: this object already owns the
    // round's tasks (throwing would free them and lose the round), so a
    // text that cannot be made falls back to kNoDetail in error().
    try {
      if (tasks_[i].thread_exited)
        errors_.emplace(i, fmt::format("task {} called pthread_exit (or its thread was cancelled): its worker "
                                       "thread exited (status {})",
                                       i, st));
      else if (st == to_int(Status::cancelled))
        errors_.emplace(i, fmt::format("task {} was cancelled", i));
      else if (st == to_int(Status::dependency_failed))
        errors_.emplace(i, fmt::format("task {} did not run: a predecessor failed or was cancelled (its handle's "
                                       "lox_task_error names it)",
                                       i));
      else
        errors_.emplace(i, fmt::format("task {} failed with status {}", i, st));
    } catch (const std::exception&) {
    }
  }
}

const char* ThreadResults::error(size_t i) const noexcept {
  static constexpr const char* kNoDetail = "task failed (no memory for the detail text)";
  auto it = errors_.find(i);
  if (it != errors_.end()) return it->second.c_str();
  return tasks_[i].status != 0 ? kNoDetail : nullptr;
}

}  // namespace lox::core::thread
