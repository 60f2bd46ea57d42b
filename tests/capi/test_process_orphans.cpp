// SPDX-License-Identifier: Apache-2.0
// When the process that owns a pool dies without destroying it (crash,
// SIGKILL), its fork server and workers must not live on: the fork server
// sees its control socket close and kills the workers, which also die with
// the fork server (PR_SET_PDEATHSIG).
#include <gtest/gtest.h>
#include <lox/lox.h>

#include <chrono>
#include <string>
#include <csignal>
#include <thread>

#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

int sleepy(void*, const void*, size_t, lox_buffer*) {
  ::sleep(60);
  return 0;
}

// Reaps every child of this process, waiting at most `seconds`. Returns
// how many were reaped; `left` is set when some were still alive.
int reap_all(double seconds, bool& left) {
  auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  int reaped = 0;
  left = false;
  for (;;) {
    pid_t pid = ::waitpid(-1, nullptr, WNOHANG);
    if (pid < 0 && errno == ECHILD) return reaped;
    if (pid > 0) {
      ++reaped;
      continue;
    }
    if (std::chrono::steady_clock::now() > until) {
      left = true;
      return reaped;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace

TEST(ProcessOrphans, WorkersAndForkServerDieWithTheirOwner) {
  // Orphans of our child are re-parented to us, so we can see (and reap)
  // the fork server and workers it leaves behind.
  ASSERT_EQ(::prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  const pid_t owner = ::fork();
  ASSERT_GE(owner, 0);
  if (owner == 0) {
    lox_process* pool = nullptr;
    if (lox_process_create(2, sleepy, nullptr, &pool) != LOX_OK) ::_exit(2);
    for (int i = 0; i < 2; ++i) lox_process_scatter(pool, nullptr, 0, nullptr);
    // Wait until both workers are busy in their 60 s task, then die hard.
    for (int i = 0; i < 500 && lox_process_workers(pool) < 2; ++i) ::usleep(10000);
    ::usleep(100000);
    ::raise(SIGKILL);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(owner, &status, 0), owner);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "the owner should have killed itself";
  // The fork server and the two workers, now our children, must all exit
  // on their own, long before their 60 s tasks would end.
  bool left = false;
  const int reaped = reap_all(20.0, left);
  EXPECT_FALSE(left) << "processes of the dead owner's pool are still alive";
  EXPECT_GE(reaped, 1) << "the fork server should have been re-parented to us and exited";
  ::prctl(PR_SET_CHILD_SUBREAPER, 0);
}

namespace {

int crash(void*, const void*, size_t, lox_buffer*) {
  // Back to the default action first: a sanitizer's handler would turn the
  // crash into an ordinary exit.
  ::signal(SIGSEGV, SIG_DFL);
  ::raise(SIGSEGV);
  return 0;
}

}  // namespace

// An owner that ignores SIGCHLD (children then vanish without a status)
// must still learn how its workers died: the fork server, not the owner,
// reaps them, with the default disposition restored.
TEST(ProcessOrphans, ExitStatusIsKnownWhenTheOwnerIgnoresSigchld) {
  auto previous = ::signal(SIGCHLD, SIG_IGN);
  lox_process* pool = nullptr;
  ASSERT_EQ(lox_process_create(1, crash, nullptr, &pool), LOX_OK);
  ASSERT_EQ(lox_process_scatter(pool, nullptr, 0, nullptr), LOX_OK);
  lox_results* r = nullptr;
  EXPECT_EQ(lox_process_gather(pool, nullptr, &r), LOX_ETASK);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(lox_results_status(r, 0), LOX_EWORKER);
  const char* why = lox_results_error(r, 0);
  EXPECT_NE(std::string(why ? why : "").find("SIGSEGV"), std::string::npos) << (why ? why : "(null)");
  lox_results_destroy(r);
  lox_process_destroy(pool);
  ::signal(SIGCHLD, previous);
}
