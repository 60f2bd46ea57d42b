// SPDX-License-Identifier: Apache-2.0
// thrown(fn): the lox::error a call of the C++ layer throws.
#pragma once

#include <lox/lox.hpp>

#include <gtest/gtest.h>

namespace loxtest {

// Runs `fn` and returns the lox::error it throws (fails the test if it
// throws nothing).
template <class Fn>
lox::error thrown(Fn&& fn) {
  try {
    fn();
  } catch (const lox::error& e) {
    return e;
  }
  ADD_FAILURE() << "expected lox::error";
  return lox::error(LOX_OK, "");
}

}  // namespace loxtest
