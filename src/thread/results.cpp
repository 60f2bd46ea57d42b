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

ThreadResults::ThreadResults(TaskTable tasks, bool any_failed) : tasks_(std::move(tasks)) {
  if (!any_failed) return;  // the common case skips the scan
  for (size_t i = tasks_.size(); i-- > 0;) {
    int st = tasks_[i].status;
    if (st == 0) continue;
    first_failed_ = i;
    errors_.emplace(i, fmt::format("task {} failed with status {}", i, st));
  }
}

const char* ThreadResults::error(size_t i) const noexcept {
  auto it = errors_.find(i);
  return it == errors_.end() ? nullptr : it->second.c_str();
}

}  // namespace lox::core::thread
