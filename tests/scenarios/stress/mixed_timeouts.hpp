// SPDX-License-Identifier: Apache-2.0
// The timeouts of the test_*_stress.cpp programs: one of 0 (one attempt),
// 50 us, 1 ms, 10 ms or LOX_FOREVER, chosen at random for each call.
#pragma once

#include <lox/lox.h>

#include <random>

namespace loxtest {

inline double mixed_timeout(std::mt19937& rng) {
  switch (rng() % 5) {
    case 0:
      return 0.0;
    case 1:
      return 0.00005;
    case 2:
      return 0.001;
    case 3:
      return 0.01;
    default:
      return LOX_FOREVER;
  }
}

}  // namespace loxtest
