// SPDX-License-Identifier: Apache-2.0
// fork / socketpair failure, injected through
// sys_hook.cpp: lox_process_create fails cleanly with LOX_ESYS and the errno
// text when the fork server cannot be made; a worker that cannot be started
// fails only the tasks it was given (LOX_ESYS, errno text), and the pool
// goes on once the system calls work again. No descriptor, thread (resource
// guard) or child process (no_children_left) is left behind.
//
// liblox does not call pipe or pipe2 (the pool uses socketpairs only); the
// hook interposes them so a future use is covered by the same plans.
#include <lox/lox.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

#include "fault_util.hpp"
#include "process_check.hpp"
#include "sys_hook.hpp"
#include "test_util.hpp"

namespace {

using loxfault::Sys;

class SysFaults : public testing::Test {
 protected:
  void TearDown() override {
    loxfault::clear_plans();
    EXPECT_TRUE(loxfault::no_children_left());
  }
  // Creates a pool whose first system call `which` fails with `err`.
  void expect_create_fails(Sys which, int err) {
    loxfault::plan_failures(which, 0, 1, err);
    const long before = loxfault::sys_faults_injected(which);
    lox_process* p = nullptr;
    EXPECT_EQ(lox_process_create(2, loxfault::echo_task, nullptr, &p), LOX_ESYS);
    EXPECT_EQ(p, nullptr);
    EXPECT_NE(std::strstr(lox_last_error(), std::strerror(err)), nullptr) << lox_last_error();
    EXPECT_EQ(loxfault::sys_faults_injected(which), before + 1);
    loxfault::clear_plans();
    EXPECT_TRUE(loxfault::no_children_left());
    // The next pool works.
    ASSERT_EQ(lox_process_create(2, loxfault::echo_task, nullptr, &p), LOX_OK) << lox_last_error();
    EXPECT_EQ(loxfault::run_round(p, 20, "-").ok, 20u);
    lox_process_destroy(p);
  }
  // Counts the pool's "cannot start a worker" log lines.
  static size_t spawn_failures(loxtest::LogCapture& log) {
    size_t n = 0;
    for (const auto& e : log.entries())
      if (e.message.rfind("process pool: fork of a worker failed: ", 0) == 0 ||
          e.message.rfind("process pool: socketpair for a worker failed: ", 0) == 0)
        ++n;  // (gather's "N of M tasks failed (first: ...)" line quotes one of them: not counted)
    return n;
  }
};

TEST_F(SysFaults, ForkServerForkFails) {
  expect_create_fails(Sys::fork, EAGAIN);
  loxfault::report("sys", "fork (fork server)", loxfault::sys_faults_injected(Sys::fork));
}

TEST_F(SysFaults, ForkServerSocketpairFails) {
  expect_create_fails(Sys::socketpair, EMFILE);
  loxfault::report("sys", "socketpair (fork server)", loxfault::sys_faults_injected(Sys::socketpair));
}

// The fork server inherits the plan "let 2 forks through (its own and its
// standby's), fail the next 3": its first three worker forks fail with EAGAIN.
TEST_F(SysFaults, WorkerForkFails) {
  constexpr int kFailures = 3;
  loxtest::LogCapture log;
  loxfault::plan_failures(Sys::fork, 2, kFailures, EAGAIN);
  lox_process* p = nullptr;
  ASSERT_EQ(lox_process_create(2, loxfault::echo_task, nullptr, &p), LOX_OK) << lox_last_error();
  loxfault::clear_plans();  // in this process; the fork server keeps its copy
  const auto first = loxfault::run_round(p, 64, std::strerror(EAGAIN));
  EXPECT_GE(first.sys_failed, static_cast<size_t>(kFailures));
  EXPECT_EQ(spawn_failures(log), static_cast<size_t>(kFailures));
  EXPECT_EQ(loxfault::run_round(p, 64, "-").ok, 64u);  // forks work again: the pool recovered
  lox_process_destroy(p);
  loxfault::report("sys", "fork (worker, in the fork server)", static_cast<long>(spawn_failures(log)));
}

// The parent's socketpair for a worker fails twice with EMFILE.
TEST_F(SysFaults, WorkerSocketpairFails) {
  constexpr int kFailures = 2;
  loxtest::LogCapture log;
  const long before = loxfault::sys_faults_injected(Sys::socketpair);
  loxfault::plan_failures(Sys::socketpair, 1, kFailures, EMFILE);
  lox_process* p = nullptr;
  ASSERT_EQ(lox_process_create(2, loxfault::echo_task, nullptr, &p), LOX_OK) << lox_last_error();
  const auto first = loxfault::run_round(p, 64, std::strerror(EMFILE));
  EXPECT_GE(first.sys_failed, static_cast<size_t>(kFailures));
  EXPECT_EQ(loxfault::sys_faults_injected(Sys::socketpair), before + kFailures);
  EXPECT_EQ(spawn_failures(log), static_cast<size_t>(kFailures));
  EXPECT_EQ(loxfault::run_round(p, 64, "-").ok, 64u);
  lox_process_destroy(p);
  loxfault::report("sys", "socketpair (worker)", kFailures);
}

// The system refuses every new thread: scatter still queues the tasks
// (nothing to run them yet), gather reports LOX_ESYS with the reason instead
// of waiting for ever and keeps the round; once threads can start again the
// next gather returns every task, run once.
int double_it(void*, void* arg, void** result) {
  *result = reinterpret_cast<void*>(reinterpret_cast<uintptr_t>(arg) * 2);
  return 0;
}

TEST_F(SysFaults, NoWorkerThreadCanStart) {
  loxtest::LogCapture log;
  lox_thread* pool = nullptr;
  ASSERT_EQ(lox_thread_create(2, double_it, nullptr, &pool), LOX_OK);  // starts no thread yet
  const long before = loxfault::sys_faults_injected(Sys::thread);
  loxfault::plan_failures(Sys::thread, 0, 1000000, EAGAIN);
  constexpr uintptr_t kTasks = 10;
  for (uintptr_t i = 0; i < kTasks; ++i)
    ASSERT_EQ(lox_thread_scatter(pool, reinterpret_cast<void*>(i), nullptr), LOX_OK) << lox_last_error();
  lox_results* r = nullptr;
  EXPECT_EQ(lox_thread_gather(pool, nullptr, &r), LOX_ESYS);
  EXPECT_EQ(r, nullptr);
  EXPECT_NE(std::strstr(lox_last_error(), std::strerror(EAGAIN)), nullptr) << lox_last_error();
  const long injected = loxfault::sys_faults_injected(Sys::thread) - before;
  EXPECT_GE(injected, 2);  // scatter's attempt and gather's
  loxfault::clear_plans();
  ASSERT_EQ(lox_thread_gather(pool, nullptr, &r), LOX_OK) << lox_last_error();
  ASSERT_EQ(lox_results_count(r), kTasks);
  for (uintptr_t i = 0; i < kTasks; ++i) EXPECT_EQ(reinterpret_cast<uintptr_t>(lox_results_value(r, i)), i * 2);
  lox_results_destroy(r);
  lox_thread_destroy(pool);
  loxfault::report("sys", "pthread_create (thread pool)", injected);
}

}  // namespace
