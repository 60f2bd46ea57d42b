// SPDX-License-Identifier: Apache-2.0
// The work every peer's nodes do, and what the graph must give (graph.hpp's
// Shape), computed by a plain loop.
#pragma once

#include "graph.hpp"

#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace lox_bench::graph {

// A node's work: a tiny add, not commutative across the chain (a skipped or
// reordered node changes the result). noinline, so that every peer (and the
// serial loop) makes one real call per node.
__attribute__((noinline)) inline uint64_t step(uint64_t prev, uint64_t k) { return prev * 3 + k; }

// The result every peer must return for `s` (the serial peer is this loop).
inline uint64_t expected(const Shape& s) {
  if (s.kind == Shape::chain) {
    uint64_t v = s.seed;
    for (size_t k = 1; k < s.n; ++k) v = step(v, k);
    return v;
  }
  uint64_t sum = 0;
  for (size_t k = 0; k < s.n; ++k) sum += step(s.seed, k);
  return sum;
}

inline void* as_ptr(uint64_t v) { return reinterpret_cast<void*>(static_cast<uintptr_t>(v)); }
inline uint64_t as_u64(const void* p) { return static_cast<uint64_t>(reinterpret_cast<uintptr_t>(p)); }

// The "gated" variants hold their root task on this until the whole graph
// is built (as TBB's graph runs only once try_put starts it): every
// dependency is then registered on a predecessor that has not completed.
// The root blocks one worker on a condition variable (asleep) meanwhile.
class Gate {
 public:
  void wait() {
    std::unique_lock lk(m_);
    cv_.wait(lk, [&] { return open_; });
  }
  void open() {
    {
      std::lock_guard lk(m_);
      open_ = true;
    }
    cv_.notify_all();
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  bool open_ = false;
};

// Opens the gate when it goes out of scope (also when a scatter throws, so
// the blocked worker is never left behind).
struct GateOpener {
  Gate* gate;
  ~GateOpener() {
    if (gate) gate->open();
  }
};

}  // namespace lox_bench::graph
