// SPDX-License-Identifier: Apache-2.0
// The C boundary's exception translation (capi/boundary.hpp, guard): every
// exception becomes the status lox.h's table gives it, and the detail is in
// liblox's words, never a standard library's what() text.
#include <gtest/gtest.h>

#include <ios>
#include <new>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "boundary.hpp"

namespace {

template <typename Throw>
std::pair<int, std::string> translated(Throw&& t) {
  lox::core::log::set_level(lox::core::log::Level::off);
  int rc = lox::capi::guard("probe", [&]() -> int {
    t();
    return LOX_OK;
  });
  return {rc, lox::core::last_error()};
}

void expect_no_std_text(const std::string& d) {
  for (const char* leak : {"vector::", "basic_string", "std::", "bad_alloc", "future"})
    EXPECT_EQ(d.find(leak), std::string::npos) << d;
}

TEST(Boundary, LengthErrorIsOutOfMemory) {
  auto [rc, d] = translated([] {
    std::vector<int> v;
    v.reserve(v.max_size() + 1);
  });
  EXPECT_EQ(rc, LOX_ENOMEM);
  EXPECT_EQ(d, "probe: out of memory (a size beyond what can be allocated)");
  auto [rc2, d2] = translated([] { std::string().append(static_cast<const char*>(nullptr), SIZE_MAX / 2); });
  EXPECT_EQ(rc2, LOX_ENOMEM);
  expect_no_std_text(d2);
}

TEST(Boundary, BadAllocIsOutOfMemory) {
  auto [rc, d] = translated([] { throw std::bad_alloc(); });
  EXPECT_EQ(rc, LOX_ENOMEM);
  EXPECT_EQ(d, "probe: out of memory");
}

TEST(Boundary, SystemErrorIsSysWithTheOsText) {
  auto [rc, d] = translated([] { throw std::system_error(EMFILE, std::generic_category(), "socketpair for x"); });
  EXPECT_EQ(rc, LOX_ESYS);
  EXPECT_EQ(d, "probe: socketpair for x: Too many open files");
  auto [rc2, d2] = translated([] { throw std::system_error(EAGAIN, std::system_category()); });
  EXPECT_EQ(rc2, LOX_ESYS);
  EXPECT_EQ(d2, "probe: Resource temporarily unavailable");
  // Not errno: named by its code, without the library's text.
  auto [rc3, d3] = translated([] { throw std::system_error(std::make_error_code(std::io_errc::stream), "basic_ios"); });
  EXPECT_EQ(rc3, LOX_ESYS);
  EXPECT_EQ(d3, "probe: error 1 of category iostream") << d3;
}

TEST(Boundary, AnythingElseIsAnInternalErrorWithoutItsText) {
  auto [rc, d] = translated([] { throw std::out_of_range("vector::_M_range_check: __n"); });
  EXPECT_EQ(rc, LOX_ESTATE);
  EXPECT_EQ(d, "probe: internal error (unexpected C++ exception)");
  auto [rc2, d2] = translated([] { throw 42; });
  EXPECT_EQ(rc2, LOX_ESTATE);
  EXPECT_EQ(d2, "probe: internal error (unexpected C++ exception)");
}

}  // namespace
