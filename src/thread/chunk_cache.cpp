// SPDX-License-Identifier: Apache-2.0
#include "thread/chunk_cache.hpp"

namespace lox::core::thread {
namespace {
constexpr size_t kSteadyBytes = Chunk::bytes(chunk_layout::steady);
}

ChunkCache::ChunkCache(size_t max_bytes) noexcept : max_chunks_(max_bytes / kSteadyBytes) {}

ChunkCache::~ChunkCache() { close(); }

Chunk* ChunkCache::take(size_t base, size_t capacity) {
  if (capacity == chunk_layout::steady) {
    std::lock_guard lk(mu_);
    if (!free_.empty()) {
      Chunk* c = free_.back();
      free_.pop_back();
      c->reset(base);
      return c;
    }
  }
  return Chunk::create(base, capacity);
}

void ChunkCache::give(Chunk* list) noexcept {
  while (list) {
    Chunk* next = list->next.load(std::memory_order_relaxed);
    bool kept = false;
    if (list->capacity == chunk_layout::steady) {
      std::lock_guard lk(mu_);
      if (!closed_ && free_.size() < max_chunks_) {
        try {
          list->clear_outcomes();
          free_.push_back(list);
          kept = true;
        } catch (...) {  // no room to remember it: free it
        }
      }
    }
    if (!kept) Chunk::destroy(list);
    list = next;
  }
}

void ChunkCache::close() noexcept {
  std::vector<Chunk*> drop;
  {
    std::lock_guard lk(mu_);
    closed_ = true;
    drop.swap(free_);
  }
  for (Chunk* c : drop) Chunk::destroy(c);
}

}  // namespace lox::core::thread
