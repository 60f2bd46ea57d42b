// SPDX-License-Identifier: Apache-2.0
// Case b's C work, shared by the serial loop and liblox's workers.
#include "process.hpp"

#include <algorithm>
#include <vector>

namespace lox_bench::process {

// A dependent multiply/xor-shift chain: no closed form, no vectorisation.
__attribute__((noinline)) uint64_t spin(uint64_t iters, uint64_t seed) {
  uint64_t x = seed | 1;
  for (uint64_t i = 0; i < iters; ++i) {
    x ^= x >> 29;
    x *= 0xBF58476D1CE4E5B9ULL;
    x ^= x >> 32;
    x += i;
  }
  return x;
}

uint64_t calibrate_spin(double seconds) {
  uint64_t iters = 1'000'000;
  for (;;) {
    auto t0 = Clock::now();
    volatile uint64_t sink = spin(iters, 7);
    (void)sink;
    double dt = seconds_since(t0);
    if (dt >= 0.05) {
      iters = static_cast<uint64_t>(static_cast<double>(iters) * seconds / dt);
      break;
    }
    iters *= 4;
  }
  std::vector<double> t;
  for (int k = 0; k < 3; ++k) {
    auto t0 = Clock::now();
    volatile uint64_t sink = spin(iters, 7);
    (void)sink;
    t.push_back(seconds_since(t0));
  }
  std::sort(t.begin(), t.end());
  return std::max<uint64_t>(1, static_cast<uint64_t>(static_cast<double>(iters) * seconds / t[1]));
}

}  // namespace lox_bench::process
