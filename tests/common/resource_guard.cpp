// SPDX-License-Identifier: Apache-2.0
// A GoogleTest listener linked into every test program: it counts the
// process's open file descriptors and threads when a test starts and checks
// that both are back to that count when the test ends, so a test whose
// objects leak a descriptor or a thread fails, with the descriptors listed.
//
// Threads and descriptors are released asynchronously in a few places (a
// joined thread's kernel task disappears a moment after pthread_join
// returns; a reaped worker's socket is closed by the pool's reaper), so the
// end count is polled for up to kSettle before it is judged. Nothing passes
// by waiting: a real leak stays and fails the test after kSettle.
//
// Registered at static-initialisation time, before gtest_main's main runs.
// The check can be switched off with LOX_TEST_NO_RESOURCE_GUARD=1 (for a
// debugger session; CI never sets it).
// A test that knowingly keeps something alive (e.g. a deliberately leaked
// handle) calls loxtest::allow_resource_change() to opt out.
#include "resource_guard.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>

#include "proc_self.hpp"

namespace loxtest {
namespace {

constexpr auto kSettle = std::chrono::seconds(10);
bool g_allowed = false;

class ResourceGuard : public testing::EmptyTestEventListener {
 public:
  void OnTestStart(const testing::TestInfo&) override {
    g_allowed = false;
    start_ = resource_counts();
  }

  void OnTestEnd(const testing::TestInfo& info) override {
    if (g_allowed || info.result()->Skipped()) return;
    const ResourceCounts end = settled_counts(start_, kSettle);
    if (end.fds > start_.fds)
      ADD_FAILURE() << "resource guard: " << end.fds - start_.fds << " file descriptor(s) more at the end of "
                    << info.test_suite_name() << "." << info.name() << " than at its start (" << start_.fds << " -> "
                    << end.fds << "); open now:\n"
                    << describe_fds(open_fds());
    if (end.threads > start_.threads)
      ADD_FAILURE() << "resource guard: " << end.threads - start_.threads << " thread(s) more at the end of "
                    << info.test_suite_name() << "." << info.name() << " than at its start (" << start_.threads
                    << " -> " << end.threads << ")";
  }

 private:
  ResourceCounts start_;
};

const bool g_registered = [] {
  start_thread_runtime();  // TSan's own thread is then part of every count
  if (const char* off = std::getenv("LOX_TEST_NO_RESOURCE_GUARD"); off && *off && *off != '0') return false;
  testing::UnitTest::GetInstance()->listeners().Append(new ResourceGuard);
  return true;
}();

}  // namespace

void allow_resource_change() { g_allowed = true; }

}  // namespace loxtest
