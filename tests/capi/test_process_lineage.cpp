// SPDX-License-Identifier: Apache-2.0
// What a worker process is and what becomes of it: the copy of the creating
// thread it starts as (signal mask and dispositions, locks other threads
// held at create), its process group and the children its tasks start, and
// the fork server behind it (a standby takes over when it is killed). Also
// the run-at-most-once rule and max_message in inline mode.
#include <lox/lox.h>

#include <gtest/gtest.h>

#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>

#include "process_util.hpp"

using namespace loxtest;

namespace {

// Shared with the workers (MAP_SHARED, made before any pool).
struct Board {
  std::atomic<int> helper_pid{0};
  std::atomic<int> runs[256];
};

Board* board() {
  static Board* b = [] {
    void* m = mmap(nullptr, sizeof(Board), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) std::abort();
    return new (m) Board();
  }();
  return b;
}

void reset_board() {
  board()->helper_pid.store(0);
  for (auto& r : board()->runs) r.store(0);
}

pthread_mutex_t g_held_at_create = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t g_taken_after_create = PTHREAD_MUTEX_INITIALIZER;

enum ProbeOp : int32_t {
  kInfo = 1,          // reply a WorkerInfo
  kHelperThenAbort,   // fork a helper that waits for ever (arg 1: in a session of its own), then abort
  kHelperThenReturn,  // fork a helper that waits for ever, then reply
  kCountThenDie,      // count a run of task `arg`, then SIGKILL the worker
  kCount,             // count a run of task `arg`, reply
  kBigResult,         // append `arg` bytes
  kNapMs,             // sleep `arg` ms, then reply a WorkerInfo
};

struct Probe {
  int32_t op;
  int32_t arg;
};

struct WorkerInfo {
  int32_t pid, ppid, pgrp;
  int32_t sigint_blocked, sigterm_blocked, sigusr1_blocked;
  int32_t sigpipe_ignored;
  int32_t held_trylock, later_trylock;  // pthread_mutex_trylock results
};

int reply_info(lox_buffer* out) {
  WorkerInfo w{};
  w.pid = getpid();
  w.ppid = getppid();
  w.pgrp = getpgrp();
  sigset_t mask;
  sigprocmask(SIG_SETMASK, nullptr, &mask);
  w.sigint_blocked = sigismember(&mask, SIGINT);
  w.sigterm_blocked = sigismember(&mask, SIGTERM);
  w.sigusr1_blocked = sigismember(&mask, SIGUSR1);
  struct sigaction pipe_action {};
  sigaction(SIGPIPE, nullptr, &pipe_action);
  w.sigpipe_ignored = pipe_action.sa_handler == SIG_IGN;
  w.held_trylock = pthread_mutex_trylock(&g_held_at_create);
  w.later_trylock = pthread_mutex_trylock(&g_taken_after_create);
  return lox_buffer_append(out, &w, sizeof w) == LOX_OK ? 0 : 90;
}

// Forks a helper that stays (until SIGKILL) and records its pid.
void start_helper(bool own_session) {
  const pid_t pid = fork();
  if (pid == 0) {
    if (own_session) setsid();
    board()->helper_pid.store(getpid());
    for (;;) pause();
  }
  worker_poll([] { return board()->helper_pid.load() != 0; });
}

int probe_fn(void*, const void* in, size_t len, lox_buffer* out) {
  Probe p{};
  if (len != sizeof p) return 91;
  std::memcpy(&p, in, sizeof p);
  switch (p.op) {
    case kInfo:
      return reply_info(out);
    case kHelperThenAbort:
      start_helper(p.arg == 1);
      abort();
    case kHelperThenReturn:
      start_helper(false);
      return reply_info(out);
    case kCountThenDie:
      board()->runs[p.arg].fetch_add(1);
      die_by_sigkill();
    case kCount:
      board()->runs[p.arg].fetch_add(1);
      return reply_info(out);
    case kBigResult: {
      std::string big(static_cast<size_t>(p.arg), 'x');
      return lox_buffer_append(out, big.data(), big.size()) == LOX_OK ? 0 : 93;
    }
    case kNapMs:
      usleep(static_cast<useconds_t>(p.arg) * 1000);
      return reply_info(out);
    default:
      return 92;
  }
}

int scatter_probe(lox_process* pool, ProbeOp op, int32_t arg = 0) {
  Probe p{op, arg};
  return lox_process_scatter(pool, &p, sizeof p, nullptr);
}

WorkerInfo info_at(const lox_results* r, size_t i) {
  WorkerInfo w{};
  std::string b = bytes_at(r, i);
  EXPECT_TRUE(pod_from(b, w)) << "task " << i << ": " << b.size() << " bytes, not a WorkerInfo";
  return w;
}

// One kInfo task, gathered: what a worker of `pool` looks like now.
WorkerInfo probe_worker(lox_process* pool) {
  EXPECT_EQ(scatter_probe(pool, kInfo), LOX_OK);
  Results r = pgather_ok(pool);
  if (!r || lox_results_count(r.get()) != 1) return WorkerInfo{};
  return info_at(r.get(), 0);
}

bool gone(pid_t pid) {
  ProcEntry e;
  return !read_proc_entry(pid, e) || e.state == 'Z';
}

// A process gone within a generous moment (its reaper may lag).
bool goes_away(pid_t pid) {
  return eventually([&] { return gone(pid); }, std::chrono::seconds(20));
}

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

}  // namespace

// --------------------------------------------------- a task's children --

TEST(ProcessLineage, WorkerDeathIsSeenWhileItsChildHoldsTheSocket) {
  // The helper inherits the worker's socket and never exits: the death must
  // be learnt from the worker process itself, not from end of file.
  QuietLog quiet;
  reset_board();
  Proc p = make_proc(1, probe_fn);
  ASSERT_NE(p, nullptr);
  const auto t0 = Clock::now();
  ASSERT_EQ(scatter_probe(p.get(), kHelperThenAbort), LOX_OK);
  int rc = 0;
  Results r = pgather(p.get(), &rc, 60.0);
  ASSERT_NE(rc, LOX_TIMEOUT) << "the worker's death was not noticed while its child lived";
  ASSERT_EQ(rc, LOX_ETASK) << lox_last_error();
  EXPECT_EQ(lox_results_status(r.get(), 0), LOX_EWORKER);
  EXPECT_NE(error_at(r.get(), 0).find("SIGABRT"), std::string::npos) << error_at(r.get(), 0);
  const pid_t helper = board()->helper_pid.load();
  ASSERT_GT(helper, 0);
  // Killed with the worker's process group.
  EXPECT_TRUE(goes_away(helper)) << "the task's child " << helper << " outlived its worker";
  std::printf("lineage: worker death noticed after %.2f s (the helper would have waited for ever)\n",
              seconds_since(t0));
  // The pool goes on with a new worker.
  WorkerInfo w = probe_worker(p.get());
  EXPECT_GT(w.pid, 0);
  if (!gone(helper)) kill(helper, SIGKILL);
}

TEST(ProcessLineage, AChildInItsOwnSessionOutlivesTheWorker) {
  // The stated rule's other half: a child that left the worker's process
  // group (setsid) is not the pool's to kill.
  QuietLog quiet;
  reset_board();
  Proc p = make_proc(1, probe_fn);
  ASSERT_NE(p, nullptr);
  ASSERT_EQ(scatter_probe(p.get(), kHelperThenAbort, 1), LOX_OK);
  int rc = 0;
  Results r = pgather(p.get(), &rc, 60.0);
  ASSERT_EQ(rc, LOX_ETASK) << lox_last_error();
  EXPECT_EQ(lox_results_status(r.get(), 0), LOX_EWORKER);
  p.reset();
  const pid_t helper = board()->helper_pid.load();
  ASSERT_GT(helper, 0);
  EXPECT_FALSE(gone(helper)) << "a child in a session of its own was killed";
  kill(helper, SIGKILL);
  EXPECT_TRUE(goes_away(helper));
}

TEST(ProcessLineage, DestroyKillsWhatTasksLeftRunningInTheWorkersGroup) {
  reset_board();
  Proc p = make_proc(1, probe_fn);
  ASSERT_NE(p, nullptr);
  ASSERT_EQ(scatter_probe(p.get(), kHelperThenReturn), LOX_OK);
  Results r = pgather_ok(p.get());
  const WorkerInfo w = info_at(r.get(), 0);
  EXPECT_EQ(w.pgrp, w.pid) << "a worker leads a process group of its own";
  const pid_t helper = board()->helper_pid.load();
  ASSERT_GT(helper, 0);
  EXPECT_FALSE(gone(helper));
  const auto t0 = Clock::now();
  p.reset();
  std::printf("lineage: destroy took %.3f s with a task's child alive\n", seconds_since(t0));
  EXPECT_TRUE(goes_away(helper)) << "the task's child " << helper << " outlived the pool";
  if (!gone(helper)) kill(helper, SIGKILL);
}

// ------------------------------------------------- the creator's state --

TEST(ProcessLineage, WorkersKeepTheCreatingThreadsSignalMaskAndDispositions) {
  // The signal-thread design: SIGINT and SIGTERM blocked, SIGPIPE ignored,
  // in the thread that creates the pool (here not the test's main thread,
  // whose mask stays as it was).
  struct sigaction old_pipe {};
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  sigemptyset(&ignore.sa_mask);
  ASSERT_EQ(sigaction(SIGPIPE, &ignore, &old_pipe), 0);
  lox_process* raw = nullptr;
  int create_rc = -100;
  std::thread creator([&] {
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &block, nullptr);
    create_rc = lox_process_create(1, probe_fn, nullptr, &raw);
  });
  creator.join();
  ASSERT_EQ(create_rc, LOX_OK) << lox_last_error();
  Proc p(raw);
  WorkerInfo w = probe_worker(p.get());
  EXPECT_EQ(w.sigint_blocked, 1);
  EXPECT_EQ(w.sigterm_blocked, 1);
  EXPECT_EQ(w.sigusr1_blocked, 0) << "only what the creator blocked";
  EXPECT_EQ(w.sigpipe_ignored, 1);
  // A Ctrl-C meant for the task's process group leaves the task running.
  ASSERT_EQ(scatter_probe(p.get(), kNapMs, 300), LOX_OK);
  usleep(100 * 1000);
  if (w.pgrp != getpgrp())  // never at this test's own group
    kill(-w.pgrp, SIGINT);
  else
    ADD_FAILURE() << "the worker is in the test's process group";
  kill(w.pid, SIGTERM);
  Results r = pgather_ok(p.get());
  ASSERT_EQ(lox_results_count(r.get()), 1u);
  EXPECT_EQ(lox_results_status(r.get(), 0), 0) << error_at(r.get(), 0);
  sigaction(SIGPIPE, &old_pipe, nullptr);
}

TEST(ProcessLineage, WorkersDefaultSignalStateWhenTheCreatorHasNone) {
  Proc p = make_proc(1, probe_fn);
  ASSERT_NE(p, nullptr);
  WorkerInfo w = probe_worker(p.get());
  EXPECT_EQ(w.sigint_blocked, 0);
  EXPECT_EQ(w.sigterm_blocked, 0);
  EXPECT_EQ(w.sigpipe_ignored, 0) << "the fork server's own SIGPIPE setting leaked into a worker";
}

TEST(ProcessLineage, ALockAnotherThreadHeldAtCreateStaysHeldInWorkers) {
  // Workers are copies of the process at lox_process_create: what another
  // thread held then stays held in them; what it takes later is not.
  std::atomic<int> step{0};
  auto reached = [&](int n) { return eventually([&] { return step.load() == n; }, kMust, 1ms); };
  std::thread other([&] {
    pthread_mutex_lock(&g_held_at_create);
    step.store(1);
    EXPECT_TRUE(reached(2));
    pthread_mutex_lock(&g_taken_after_create);
    step.store(3);
    EXPECT_TRUE(reached(4));
    pthread_mutex_unlock(&g_taken_after_create);
    pthread_mutex_unlock(&g_held_at_create);
  });
  EXPECT_TRUE(reached(1));
  Proc p = make_proc(1, probe_fn);
  step.store(2);
  EXPECT_TRUE(reached(3));
  WorkerInfo w{};
  if (p) w = probe_worker(p.get());
  step.store(4);
  other.join();
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(w.held_trylock, EBUSY) << "held by another thread during create";
  EXPECT_EQ(w.later_trylock, 0) << "taken only after create";
}

// --------------------------------------------------- the fork server --

TEST(ProcessLineage, AKilledForkServerIsReplacedByItsStandby) {
  QuietLog quiet;
  LogCapture log;
  lox_log_set_level(LOX_LOG_WARN);
  warm_up_process_pool();
  LeakCheck leaks;
  std::vector<pid_t> servers;
  {
    Proc p = make_proc(2, probe_fn);
    ASSERT_NE(p, nullptr);
    const WorkerInfo first = probe_worker(p.get());
    ASSERT_GT(first.ppid, 1);
    ProcEntry server;
    ASSERT_TRUE(read_proc_entry(first.ppid, server));
    EXPECT_EQ(server.ppid, getpid()) << "the first fork server is our child";
    servers.push_back(first.ppid);
    leaks.remember();
    for (int kill_round = 0; kill_round < 2; ++kill_round) {
      const pid_t killed = servers.back();
      ASSERT_EQ(kill(killed, SIGKILL), 0);
      ASSERT_TRUE(goes_away(killed));
      // Tasks that meet a worker of the dead server fail as such (how many
      // do depends on which drivers take them); then every worker comes
      // from the standby that took over.
      WorkerInfo after{};
      ASSERT_TRUE(eventually([&] {
        EXPECT_EQ(scatter_probe(p.get(), kInfo), LOX_OK);
        int rc = 0;
        Results r = pgather(p.get(), &rc);
        EXPECT_TRUE(rc == LOX_OK || rc == LOX_ETASK) << lox_status_str(rc) << ": " << lox_last_error();
        if (rc != LOX_OK) {
          EXPECT_EQ(lox_results_status(r.get(), 0), LOX_EWORKER) << error_at(r.get(), 0);
          EXPECT_NE(error_at(r.get(), 0).find("died with its fork server"), std::string::npos) << error_at(r.get(), 0);
          return false;
        }
        after = info_at(r.get(), 0);
        return true;
      })) << "no worker could be started after the fork server was killed";
      EXPECT_NE(after.ppid, killed) << "workers still come from the killed server";
      EXPECT_FALSE(gone(after.ppid));
      servers.push_back(after.ppid);
      leaks.remember();
    }
  }
  for (pid_t s : servers) EXPECT_TRUE(goes_away(s)) << "fork server " << s << " outlived the pool";
  leaks.check_clean("after destroy");
  int took_over = 0;
  for (auto& e : log.entries())
    if (e.message.find("took over") != std::string::npos) ++took_over;
  EXPECT_EQ(took_over, 2) << "each take-over is logged";
}

// --------------------------------------------------- at most once --

TEST(ProcessLineage, ATaskThatKilledItsWorkerIsNotRunAgain) {
  QuietLog quiet;
  reset_board();
  Proc p = make_proc(1, probe_fn);
  ASSERT_NE(p, nullptr);
  // Quick tasks first, so that tasks travel in batches; then a round with
  // one task that kills its worker in the middle of a batch.
  for (int i = 0; i < 200; ++i) ASSERT_EQ(scatter_probe(p.get(), kCount, 255), LOX_OK);
  pgather_ok(p.get());
  for (int i = 0; i < 200; ++i) ASSERT_EQ(scatter_probe(p.get(), i == 100 ? kCountThenDie : kCount, i), LOX_OK);
  int rc = 0;
  Results r = pgather(p.get(), &rc);
  ASSERT_EQ(rc, LOX_ETASK) << lox_last_error();
  ASSERT_EQ(lox_results_count(r.get()), 200u);
  for (int i = 0; i < 200; ++i) {
    EXPECT_EQ(board()->runs[i].load(), 1) << "task " << i << " ran " << board()->runs[i].load() << " times";
    EXPECT_EQ(lox_results_status(r.get(), static_cast<size_t>(i)), i == 100 ? LOX_EWORKER : 0) << "task " << i;
  }
}

// --------------------------------------------------- max_message --

TEST(ProcessLineage, MaxMessageLimitsResultsInlineAsInAWorker) {
  QuietLog quiet;
  std::string detail[2];
  for (size_t workers : {size_t{0}, size_t{1}}) {
    lox_process_opts o = proc_opts(LOX_FOREVER, 16);
    Proc p = make_proc(workers, probe_fn, nullptr, &o);
    ASSERT_NE(p, nullptr);
    ASSERT_EQ(scatter_probe(p.get(), kBigResult, 16), LOX_OK);
    ASSERT_EQ(scatter_probe(p.get(), kBigResult, 17), LOX_OK);
    int rc = 0;
    Results r = pgather(p.get(), &rc);
    ASSERT_EQ(rc, LOX_ETASK) << workers << " workers: " << lox_last_error();
    EXPECT_EQ(lox_results_status(r.get(), 0), 0);
    EXPECT_EQ(bytes_at(r.get(), 0), std::string(16, 'x'));
    EXPECT_EQ(lox_results_status(r.get(), 1), LOX_EWORKER) << workers << " workers";
    detail[workers] = error_at(r.get(), 1);
    EXPECT_NE(detail[workers].find("max_message"), std::string::npos) << detail[workers];
    // The worker that produced it lives on.
    if (workers == 1) EXPECT_EQ(lox_process_workers(p.get()), 1u);
  }
  EXPECT_EQ(detail[0], detail[1]) << "inline and worker pools report an oversized result alike";
}
