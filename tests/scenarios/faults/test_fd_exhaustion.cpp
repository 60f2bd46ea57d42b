// SPDX-License-Identifier: Apache-2.0
// Descriptor exhaustion: RLIMIT_NOFILE is lowered to
// "what is open now + k" for k = 0, 1, 2, ... (restored after each step;
// each CTest test runs in its own process), so the fork server's socketpair,
// the fork server's reply descriptors, or a worker's socketpair runs out.
// Every call must return a status (create: LOX_OK or LOX_ESYS with the
// EMFILE text; a task: its echo or LOX_ESYS with the EMFILE text): no crash,
// no hang (the gather waits kMust at most), and once the limit is restored
// and the pool destroyed, no descriptor, thread or child is left.
#include <lox/lox.h>

#include <gtest/gtest.h>

#include <sys/resource.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <system_error>
#include <vector>

#include "fault_util.hpp"
#include "proc_self.hpp"
#include "process_check.hpp"
#include "test_util.hpp"

namespace {

// The lowest descriptor limit under which exactly `spare` more descriptors
// can be opened: a new descriptor takes the lowest free number, which must
// be below the limit, so the limit is the number of the (spare+1)-th free
// slot (open descriptors need not be contiguous).
rlim_t limit_with_spare(size_t spare) {
  std::vector<bool> open(4096, false);
  for (int fd : loxtest::open_fds())
    if (fd < static_cast<int>(open.size())) open[static_cast<size_t>(fd)] = true;
  size_t free_seen = 0;
  for (size_t fd = 0; fd < open.size(); ++fd)
    if (!open[fd] && free_seen++ == spare) return fd;
  return RLIM_INFINITY;
}

// Lowers the soft RLIMIT_NOFILE so that exactly `spare` more descriptors can
// be opened; restores it when destroyed.
class NofileLimit {
 public:
  explicit NofileLimit(size_t spare) {
    EXPECT_EQ(getrlimit(RLIMIT_NOFILE, &saved_), 0);
    rlimit low = saved_;
    low.rlim_cur = limit_with_spare(spare);
    EXPECT_EQ(setrlimit(RLIMIT_NOFILE, &low), 0) << std::strerror(errno);
  }
  ~NofileLimit() { EXPECT_EQ(setrlimit(RLIMIT_NOFILE, &saved_), 0); }

 private:
  rlimit saved_{};
};

TEST(FdExhaustion, ProcessPoolCreateAndWorkers) {
  lox_log_set_level(LOX_LOG_OFF);  // failed workers are logged on purpose
  const char* emfile = std::strerror(EMFILE);
  long create_failures = 0, task_failures = 0, pools = 0;
  // A baseline round with descriptors to spare. It also matters under UBSan:
  // its vptr check, the first time it meets a type, probes the object's
  // memory through a pipe; with no descriptor free that probe fails and it
  // reports a false "invalid vptr" (seen on CRunner and std::system_error).
  // After this round and the throw below those types are in its cache.
  // The warm-up makes the calls liblox's boundary makes on a caught
  // system_error (what(), and comparing its category with both errno ones),
  // for each category liblox may throw.
  for (const std::error_category* thrown : {&std::generic_category(), &std::system_category()}) {
    try {
      throw std::system_error(EMFILE, *thrown, "warm-up");
    } catch (const std::system_error& e) {
      const std::error_category& cat = e.code().category();
      EXPECT_EQ(e.code().value(), EMFILE);
      EXPECT_NE(e.what(), nullptr);
      EXPECT_TRUE(cat == std::generic_category() || cat == std::system_category()) << cat.name();
    }
  }
  {
    lox_process* p = nullptr;
    ASSERT_EQ(lox_process_create(2, loxfault::echo_task, nullptr, &p), LOX_OK) << lox_last_error();
    EXPECT_EQ(loxfault::run_round(p, 8, "(no task may fail)").ok, 8u);
    lox_process_destroy(p);
  }
  for (size_t spare = 0; spare <= 12; ++spare) {
    NofileLimit limit(spare);
    lox_process* p = nullptr;
    const int rc = lox_process_create(2, loxfault::echo_task, nullptr, &p);
    if (rc != LOX_OK) {
      EXPECT_EQ(rc, LOX_ESYS) << "spare " << spare << ": " << lox_last_error();
      EXPECT_NE(std::strstr(lox_last_error(), emfile), nullptr) << lox_last_error();
      EXPECT_EQ(p, nullptr);
      ++create_failures;
      continue;
    }
    ++pools;
    const auto o = loxfault::run_round(p, 8, emfile);
    task_failures += static_cast<long>(o.sys_failed);
    lox_process_destroy(p);
    EXPECT_TRUE(loxfault::no_children_left()) << "spare " << spare;
  }
  lox_log_set_level(LOX_LOG_WARN);
  EXPECT_GT(create_failures, 0);
  EXPECT_GT(task_failures, 0);
  EXPECT_GT(pools, 0);
  loxfault::report("fds", "process create failed with EMFILE", create_failures);
  loxfault::report("fds", "tasks failed with EMFILE (worker not started)", task_failures);
}

}  // namespace
