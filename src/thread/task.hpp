// SPDX-License-Identifier: Apache-2.0
// Storage for the tasks of one round: an append-only list of chunks whose
// sizes double from 32 to 2048 slots. Doubling keeps a one-task round cheap
// (one small block) and a million-task round at ~40 bytes per task with few
// allocations; slot i's chunk is computed, not searched.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <new>
#include <utility>
#include <vector>

namespace lox::core::thread {

class ChunkCache;
using TaskFn = int (*)(void* ctx, void* arg, void** result);

// What the scattering thread writes...
struct Task {
  TaskFn fn;
  void* ctx;
  void* arg;
};
// ...and what the worker writes, in a separate array of the chunk: the
// producer never writes a cache line a worker writes (results next to the
// arguments being appended would bounce the line between the two cores on
// every scatter).
struct Outcome {
  void* result;
  int status;
  bool thread_exited;  // the task ended its thread (fits in the padding)
  // Set (release) once the fields above are written: a consumer of the
  // round's completions reads outcomes before the round is finished.
  // Cleared when the chunk is made or recycled.
  std::atomic<uint8_t> done;

  void set(void* r, int s, bool exited = false) noexcept {
    result = r;
    status = s;
    thread_exited = exited;
    done.store(1, std::memory_order_release);
  }
  bool is_done() const noexcept { return done.load(std::memory_order_acquire) != 0; }
  // The outcome of a graph node's slot, written before the node's waiters
  // wake: seq_cst, to pair with the completion log (Round::record_node).
  void set_seq_cst(void* r, int s) noexcept {
    result = r;
    status = s;
    thread_exited = false;
    done.store(1, std::memory_order_seq_cst);
  }
  bool is_done_seq_cst() const noexcept { return done.load(std::memory_order_seq_cst) != 0; }
};
static_assert(sizeof(Outcome) == 16);

struct Chunk {
  std::atomic<Chunk*> next{nullptr};
  size_t base;      // index of tasks[0] in the round
  size_t capacity;  // slots in tasks[] and outcomes[]
  Task* tasks() noexcept { return reinterpret_cast<Task*>(this + 1); }
  Outcome* outcomes() noexcept { return reinterpret_cast<Outcome*>(tasks() + capacity); }
  static constexpr size_t bytes(size_t capacity) noexcept {
    return sizeof(Chunk) + capacity * (sizeof(Task) + sizeof(Outcome));
  }

  static Chunk* create(size_t base, size_t capacity) {
    void* mem = ::operator new(bytes(capacity));
    Chunk* c = new (mem) Chunk(base, capacity);
    for (size_t i = 0; i < capacity; ++i) new (&c->outcomes()[i]) Outcome{nullptr, 0, false, {0}};
    return c;
  }
  static void destroy(Chunk* c) noexcept {
    c->~Chunk();
    ::operator delete(c);
  }
  // Makes a recycled chunk hold slots from `new_base` (same capacity).
  void reset(size_t new_base) noexcept {
    next.store(nullptr, std::memory_order_relaxed);
    base = new_base;
  }
  // Forgets the outcomes of its last round (before it is reused).
  void clear_outcomes() noexcept {
    for (size_t i = 0; i < capacity; ++i) outcomes()[i].done.store(0, std::memory_order_relaxed);
  }

 private:
  Chunk(size_t b, size_t cap) : base(b), capacity(cap) {}
};
static_assert(sizeof(Chunk) % alignof(Task) == 0 && sizeof(Task) % alignof(Outcome) == 0);

namespace chunk_layout {
inline constexpr size_t first = 32;                                              // slots in chunk 0
inline constexpr size_t doublings = 6;                                           // chunks 0..5 double: 32 .. 1024
inline constexpr size_t steady = first << doublings;                             // 2048 from chunk 6 on
inline constexpr size_t doubling_span = first * ((size_t{1} << doublings) - 1);  // 2016 slots

// Capacity of the chunk that starts at slot `base`.
constexpr size_t capacity_at(size_t base) noexcept { return base >= doubling_span ? steady : base + first; }

// Which chunk holds slot i, and where in it.
inline void locate(size_t i, size_t& chunk, size_t& offset) noexcept {
  if (i < doubling_span) {
    size_t k = 63 - static_cast<size_t>(__builtin_clzll(i / first + 1));
    chunk = k;
    offset = i - first * ((size_t{1} << k) - 1);
  } else {
    chunk = doublings + (i - doubling_span) / steady;
    offset = (i - doubling_span) % steady;
  }
}
}  // namespace chunk_layout

// Owns a finished round's chunks and gives O(1) access to slot i.
class TaskTable {
 public:
  TaskTable() = default;
  // Takes ownership of the list; its chunks go back to `cache` at the end.
  TaskTable(Chunk* head, size_t count, std::shared_ptr<ChunkCache> cache) : count_(count), cache_(std::move(cache)) {
    for (Chunk* c = head; c; c = c->next.load(std::memory_order_relaxed)) chunks_.push_back(c);
    head_ = head;
  }
  TaskTable(TaskTable&& o) noexcept
      : head_(std::exchange(o.head_, nullptr)),
        count_(o.count_),
        chunks_(std::move(o.chunks_)),
        cache_(std::move(o.cache_)) {}
  TaskTable& operator=(TaskTable&&) = delete;
  ~TaskTable();

  size_t size() const noexcept { return count_; }
  const Outcome& operator[](size_t i) const noexcept {
    size_t c, off;
    chunk_layout::locate(i, c, off);
    return chunks_[c]->outcomes()[off];
  }

 private:
  Chunk* head_ = nullptr;
  size_t count_ = 0;
  std::vector<Chunk*> chunks_;
  std::shared_ptr<ChunkCache> cache_;
};

}  // namespace lox::core::thread
