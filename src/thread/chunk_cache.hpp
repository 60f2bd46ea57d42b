// SPDX-License-Identifier: Apache-2.0
// Reuse of task storage between rounds. A million-task round is ~40 MB of
// chunks; handing them back to the allocator when its results are freed
// lets glibc return the memory to the kernel, and the next round pays a
// page fault per 4 KiB to get it back (measured: ~20% of scatter time). A
// pool therefore keeps the full-size chunks of finished rounds, up to a
// bound, and frees them all when it is destroyed.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

#include "thread/task.hpp"

namespace lox::core::thread {

class ChunkCache {
 public:
  // Keeps at most `max_bytes` of chunks.
  explicit ChunkCache(size_t max_bytes) noexcept;
  ~ChunkCache();
  ChunkCache(const ChunkCache&) = delete;
  ChunkCache& operator=(const ChunkCache&) = delete;

  // A chunk for slots [base, base + capacity); throws std::bad_alloc.
  Chunk* take(size_t base, size_t capacity);
  // Takes back a list of chunks (keeps full-size ones while there is room,
  // frees the rest). Safe from any thread, also after close().
  void give(Chunk* list) noexcept;
  // Frees what is kept; chunks given later are freed at once.
  void close() noexcept;

 private:
  const size_t max_chunks_;
  std::mutex mu_;
  std::vector<Chunk*> free_;
  bool closed_ = false;
};

using ChunkCachePtr = std::shared_ptr<ChunkCache>;

}  // namespace lox::core::thread
