// SPDX-License-Identifier: Apache-2.0
// The work the thread-pool cases give every pool.
#pragma once

#include <atomic>
#include <cstdint>
#include <thread>

namespace lox_bench::thread {

// Case a: trivial work. noinline so every pool (and the serial loop) makes
// one real call per task and the serial loop cannot be vectorised away.
__attribute__((noinline)) inline uint64_t tiny(uint64_t x) { return x * 2 + 1; }

struct Tiny {
  uint64_t operator()(uint64_t x) const { return tiny(x); }
};

// Case b: a dependent chain of multiply/xor-shift steps: no closed form, the
// result is stored and compared, so the compiler cannot drop or shorten it.
__attribute__((noinline)) inline uint64_t spin_work(uint64_t seed, uint64_t iters) {
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull;
  for (uint64_t k = 0; k < iters; ++k) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    x ^= x >> 29;
  }
  return x;
}

struct Spin {
  uint64_t iters;
  uint64_t operator()(uint64_t x) const { return spin_work(x, iters); }
};

// Case c: trivial work that also records whether it ran on another thread
// than the caller (TBB's waiting thread may run the task itself).
struct Tracked {
  std::thread::id caller;
  std::atomic<uint64_t>* off_caller;
  uint64_t operator()(uint64_t x) const {
    if (std::this_thread::get_id() != caller) off_caller->fetch_add(1, std::memory_order_relaxed);
    return tiny(x);
  }
};

}  // namespace lox_bench::thread
