// SPDX-License-Identifier: Apache-2.0
// Timing checks of calls with a timeout: a call with timeout 0.05 s must
// return LOX_TIMEOUT after about that long (at least 45 ms, well under
// 10 s); polling with timeout 0 until a round is complete.
#pragma once

#include <lox/lox.h>

#include <gtest/gtest.h>

#include <utility>

#include "eventually.hpp"

namespace loxtest {

// fn() is a call with timeout 0.05 s that cannot succeed.
template <typename Fn>
void expect_times_out_after_50ms(Fn&& fn) {
  const auto t0 = Clock::now();
  EXPECT_EQ(fn(), LOX_TIMEOUT);
  const auto took = Clock::now() - t0;
  EXPECT_GE(took, 45ms);
  EXPECT_LT(took, 10s);
}

// Calls gather(&status) (a gather with timeout 0) until it returns
// something other than LOX_TIMEOUT: every LOX_TIMEOUT in between must leave
// no results (and the round intact); the last one must be LOX_OK. Returns
// the round's results (empty if none came within kMust).
template <typename Results, typename Gather>
Results poll_gather(Gather&& gather) {
  Results r;
  const bool done = eventually([&] {
    int st = -100;
    Results got = gather(&st);
    if (st == LOX_TIMEOUT) {
      EXPECT_EQ(got, nullptr);
      return false;
    }
    EXPECT_EQ(st, LOX_OK) << lox_last_error();
    r = std::move(got);
    return true;
  });
  EXPECT_TRUE(done) << "the round never completed";
  return r;
}

}  // namespace loxtest
