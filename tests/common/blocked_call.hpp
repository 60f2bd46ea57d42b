// SPDX-License-Identifier: Apache-2.0
// What a blocked call returns when another thread acts on its object
// (destroys it, closes it): the call runs in a Sleeper until it sleeps in
// the kernel, then `act` runs, then the call's status and the detail it
// left in its thread are returned.
#pragma once

#include <lox/lox.h>

#include <gtest/gtest.h>

#include <atomic>
#include <string>

#include "queue_util.hpp"

namespace loxtest {

struct CallOutcome {
  int rc;
  std::string detail;
};

template <typename Call, typename Act>
CallOutcome outcome_when_blocked(Call call, Act act) {
  std::atomic<int> rc{99};
  std::string detail;
  Sleeper s([&] {
    rc = call();
    detail = lox_last_error();
  });
  EXPECT_TRUE(s.wait_asleep()) << "the call did not block";
  act();
  s.join();
  return {rc.load(), detail};
}

}  // namespace loxtest
