// SPDX-License-Identifier: Apache-2.0
// Faults in the process pool (lox.h, "Process pool"): a worker that dies
// while running a task (SIGSEGV, abort, _exit, SIGKILL) fails only that
// task with LOX_EWORKER and a detail naming the signal or exit code, is
// replaced, and the pool goes on; the per-task time limit; destroy in the
// middle of a round with a worker stuck in a task; repeated create/destroy;
// workers that die on every task; and replacement workers forked while the
// test's other threads hammer malloc and a liblox lock. After every pool:
// no process left (zombies included), no descriptor left.
#include <lox/lox.h>

#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "process_util.hpp"
#include "queue_util.hpp"
#include "test_util.hpp"

using namespace loxtest;

namespace {

constexpr int32_t kRound = 20;
constexpr int32_t kBadTask = 7;

// A round of kRound tasks where task kBadTask runs `bad` and every other
// task i computes i * (i + 1).
void scatter_round(lox_process* p, const Cmd& bad) {
  for (int32_t i = 0; i < kRound; ++i) {
    size_t index = 999;
    ASSERT_EQ(scatter_cmd(p, i == kBadTask ? bad : cmd(kMul, i, i + 1), &index), LOX_OK) << lox_last_error();
    ASSERT_EQ(index, static_cast<size_t>(i));
  }
}

// Every task but `bad_index` (-1: none) succeeded with its product.
void expect_others_intact(const lox_results* r, int32_t bad_index) {
  ASSERT_EQ(lox_results_count(r), static_cast<size_t>(kRound));
  for (int32_t i = 0; i < kRound; ++i) {
    if (i == bad_index) continue;
    size_t k = static_cast<size_t>(i);
    EXPECT_EQ(lox_results_status(r, k), 0) << "task " << i << ": " << error_at(r, k);
    EXPECT_EQ(lox_results_error(r, k), nullptr) << "task " << i;
    Reply rep = reply_at(r, k);
    EXPECT_EQ(rep.value, int64_t{i} * (i + 1)) << "task " << i;
    EXPECT_NE(rep.pid, getpid()) << "task " << i;
  }
}

// A worker dies (`bad`) in the middle of a round of 20 on 2 workers: that
// task is LOX_EWORKER with a detail containing `expect`, the other 19 are
// intact, the death is logged, the pool runs a second round normally, and
// destroying it leaves nothing behind.
void check_worker_death(const Cmd& bad, const char* expect) {
  warm_up_process_pool();
  LeakCheck leaks;
  LogCapture cap;
  lox_log_set_level(LOX_LOG_WARN);
  {
    Proc p = make_proc(2, command_fn);
    ASSERT_NE(p, nullptr);
    scatter_round(p.get(), bad);
    leaks.remember();
    Results r = pgather_expect(p.get(), LOX_ETASK);
    ASSERT_NE(r, nullptr);
    ASSERT_EQ(lox_results_count(r.get()), static_cast<size_t>(kRound));
    EXPECT_EQ(lox_results_status(r.get(), kBadTask), LOX_EWORKER);
    std::string detail = error_at(r.get(), kBadTask);
    EXPECT_NE(detail.find(expect), std::string::npos) << "detail was: \"" << detail << "\"";
    expect_others_intact(r.get(), kBadTask);
    bool logged = false;
    for (auto& e : cap.entries())
      if (e.level >= LOX_LOG_WARN) logged = true;
    EXPECT_TRUE(logged) << "a dead worker is logged at WARN or ERROR";

    // The pool keeps working (the dead worker was replaced).
    scatter_round(p.get(), cmd(kMul, kBadTask, kBadTask + 1));
    leaks.remember();
    Results r2 = pgather_ok(p.get());
    expect_others_intact(r2.get(), -1);
    EXPECT_LE(lox_process_workers(p.get()), 2u);
  }
  leaks.check_clean("after destroy");
}

TEST(ProcessFaults, SigsegvByRaise) { check_worker_death(cmd(kSegv), "SIGSEGV"); }

TEST(ProcessFaults, SigsegvByNullWrite) { check_worker_death(cmd(kNullWrite), "SIGSEGV"); }

TEST(ProcessFaults, Abort) { check_worker_death(cmd(kAbort), "SIGABRT"); }

TEST(ProcessFaults, ExitWithCode3) { check_worker_death(cmd(kExit3), "exited with code 3"); }

TEST(ProcessFaults, Sigkill) { check_worker_death(cmd(kSigkill), "SIGKILL"); }

TEST(ProcessFaults, DeathsInConsecutiveRoundsAndOnOneWorker) {
  // One worker only: the round cannot go on unless the replacement works.
  QuietLog quiet;
  warm_up_process_pool();
  LeakCheck leaks;
  {
    Proc p = make_proc(1, command_fn);
    const Cmd kinds[] = {cmd(kSegv), cmd(kAbort), cmd(kExit3), cmd(kSigkill)};
    for (const Cmd& bad : kinds) {
      scatter_round(p.get(), bad);
      leaks.remember();
      Results r = pgather_expect(p.get(), LOX_ETASK);
      ASSERT_NE(r, nullptr);
      EXPECT_EQ(lox_results_status(r.get(), kBadTask), LOX_EWORKER) << "op " << bad.op;
      expect_others_intact(r.get(), kBadTask);
    }
  }
  leaks.check_clean("after destroy");
}

// ------------------------------------------------------------ task timeout --

TEST(ProcessFaults, TaskTimeoutKillsOnlyThatTask) {
  QuietLog quiet;
  warm_up_process_pool();
  LeakCheck leaks;
  {
    lox_process_opts o = proc_opts(1.0);
    Shared sh;
    Proc p = make_proc(2, command_fn, sh.get(), &o);
    ASSERT_NE(p, nullptr);
    auto t0 = Clock::now();
    scatter_round(p.get(), cmd(kSleep, 30));
    leaks.remember();
    Results r = pgather_expect(p.get(), LOX_ETASK);
    auto took = Clock::now() - t0;
    ASSERT_NE(r, nullptr);
    EXPECT_LT(took, std::chrono::seconds(20)) << "the 30 s task was not stopped by its 1 s limit";
    EXPECT_EQ(lox_results_status(r.get(), kBadTask), LOX_TIMEOUT) << error_at(r.get(), kBadTask);
    EXPECT_NE(lox_results_error(r.get(), kBadTask), nullptr);
    expect_others_intact(r.get(), kBadTask);
    // Replaced: the next round runs normally.
    scatter_round(p.get(), cmd(kMul, kBadTask, kBadTask + 1));
    leaks.remember();
    Results r2 = pgather_ok(p.get());
    expect_others_intact(r2.get(), -1);
  }
  leaks.check_clean("after destroy");
}

TEST(ProcessFaults, TaskTimeoutIsPerTask) {
  // One worker, a 1 s limit, six tasks of 400 ms each (2.4 s in all): each
  // task is within its limit, also those that waited in line behind the
  // others for longer than the limit.
  QuietLog quiet;
  lox_process_opts o = proc_opts(1.0);
  Proc p = make_proc(1, command_fn, nullptr, &o);
  constexpr int32_t n = 6;
  for (int32_t i = 0; i < n; ++i) ASSERT_EQ(scatter_cmd(p.get(), cmd(kSleepMs, 400, i)), LOX_OK);
  Results r = pgather_ok(p.get());
  ASSERT_EQ(lox_results_count(r.get()), static_cast<size_t>(n));
  for (int32_t i = 0; i < n; ++i) {
    size_t k = static_cast<size_t>(i);
    EXPECT_EQ(lox_results_status(r.get(), k), 0) << "task " << i << ": " << error_at(r.get(), k);
    if (lox_results_status(r.get(), k) == 0) {
      EXPECT_EQ(reply_at(r.get(), k).value, 400 * i);
    }
  }
}

// ------------------------------------------------------------------ destroy --

TEST(ProcessFaults, DestroyMidRoundWithAWorkerStuckInATask) {
  QuietLog quiet;
  warm_up_process_pool();
  LeakCheck leaks;
  Shared sh;
  lox_process* p = nullptr;
  ASSERT_EQ(lox_process_create(2, command_fn, sh.get(), &p), LOX_OK) << lox_last_error();
  // Both workers stuck (the second task is scattered once the first runs,
  // so that the idle worker takes it), then more tasks queued behind them.
  ASSERT_EQ(scatter_cmd(p, cmd(kSleep, 60)), LOX_OK);
  ASSERT_TRUE(eventually([&] { return sh->sleeping.load() >= 1; })) << "the first sleeping task did not start";
  ASSERT_EQ(scatter_cmd(p, cmd(kSleep, 60)), LOX_OK);
  ASSERT_TRUE(eventually([&] { return sh->sleeping.load() >= 2; })) << "the second sleeping task did not start";
  for (int32_t i = 0; i < 5; ++i) ASSERT_EQ(scatter_cmd(p, cmd(kMul, i, 2)), LOX_OK);
  leaks.remember();
  EXPECT_GE(leaks.seen().size(), 3u) << "expected the fork server and two workers below the test:\n"
                                     << describe(leaks.seen());
  auto t0 = Clock::now();
  lox_process_destroy(p);
  auto took = Clock::now() - t0;
  EXPECT_LT(took, std::chrono::seconds(10)) << "destroy waited for the stuck tasks";
  leaks.check_clean("after destroy mid-round");
}

TEST(ProcessFaults, DestroyWithUngatheredResultsAndIdlePools) {
  warm_up_process_pool();
  LeakCheck leaks;
  {
    Proc idle = make_proc(3, command_fn);  // never used
    Proc done = make_proc(2, command_fn);
    for (int32_t i = 0; i < 6; ++i) ASSERT_EQ(scatter_cmd(done.get(), cmd(kMul, i, 2)), LOX_OK);
    // Results finished but never gathered are freed by destroy.
    ASSERT_TRUE(eventually([&] { return lox_process_pending(done.get()) == 0; }));
    leaks.remember();
  }
  leaks.check_clean("after destroy");
}

TEST(ProcessFaults, RepeatedCreateDestroyLeavesNothingBehind) {
  QuietLog quiet;
  warm_up_process_pool();
  LeakCheck leaks;
  const long n = scaled(50);
  Shared sh;
  for (long k = 0; k < n; ++k) {
    lox_process* p = nullptr;
    ASSERT_EQ(lox_process_create(2, command_fn, sh.get(), &p), LOX_OK) << "iteration " << k << ": " << lox_last_error();
    switch (k % 4) {
      case 0:  // unused
        break;
      case 1: {  // a full round
        ASSERT_EQ(scatter_cmd(p, cmd(kMul, 3, 4)), LOX_OK);
        ASSERT_EQ(scatter_cmd(p, cmd(kMul, 5, 6)), LOX_OK);
        Results r = pgather_ok(p);
        ASSERT_EQ(lox_results_count(r.get()), 2u);
        EXPECT_EQ(reply_at(r.get(), 1).value, 30);
        break;
      }
      case 2:  // destroyed mid-round (tasks wait for a gate that never opens)
        ASSERT_EQ(scatter_cmd(p, cmd(kWaitGate, 1, 1)), LOX_OK);
        ASSERT_EQ(scatter_cmd(p, cmd(kMul, 1, 1)), LOX_OK);
        break;
      case 3: {  // a crash, then destroyed
        ASSERT_EQ(scatter_cmd(p, cmd(kSegv)), LOX_OK);
        Results r = pgather_expect(p, LOX_ETASK);
        break;
      }
    }
    leaks.remember();
    lox_process_destroy(p);
  }
  leaks.check_clean("after the create/destroy loop");
}

// --------------------------------------------------- deaths on every task --

TEST(ProcessFaults, WorkersThatDieOnEveryTaskNeverHang) {
  QuietLog quiet;
  warm_up_process_pool();
  LeakCheck leaks;
  {
    Proc p = make_proc(2, command_fn);
    const Op kinds[] = {kSegv, kAbort, kExit3, kSigkill};
    for (int32_t i = 0; i < kRound; ++i) ASSERT_EQ(scatter_cmd(p.get(), cmd(kinds[i % 4])), LOX_OK);
    Results r = pgather_expect(p.get(), LOX_ETASK);
    ASSERT_EQ(lox_results_count(r.get()), static_cast<size_t>(kRound));
    const char* names[] = {"SIGSEGV", "SIGABRT", "exited with code 3", "SIGKILL"};
    for (int32_t i = 0; i < kRound; ++i) {
      size_t k = static_cast<size_t>(i);
      EXPECT_EQ(lox_results_status(r.get(), k), LOX_EWORKER) << "task " << i;
      EXPECT_NE(error_at(r.get(), k).find(names[i % 4]), std::string::npos)
          << "task " << i << ": " << error_at(r.get(), k);
    }
    leaks.remember();
    // Still usable.
    scatter_round(p.get(), cmd(kMul, kBadTask, kBadTask + 1));
    Results r2 = pgather_ok(p.get());
    expect_others_intact(r2.get(), -1);
    leaks.remember();
  }
  leaks.check_clean("after destroy");
}

// ------------------------------------------------ death outside a task --

TEST(ProcessFaults, WorkerKilledWhileIdleNeverRaisesSigpipeHere) {
  // A worker killed from outside while it waits for work; the next input
  // (larger than a socket buffer) goes to the dead worker's socket or to a
  // replacement. SIGPIPE keeps its default action here: if it reached this
  // process, the test program would die.
  QuietLog quiet;
  warm_up_process_pool();
  LeakCheck leaks;
  struct sigaction dfl {
  }, old{};
  dfl.sa_handler = SIG_DFL;
  sigaction(SIGPIPE, &dfl, &old);
  {
    Proc p = make_proc(1, command_fn);
    ASSERT_EQ(scatter_cmd(p.get(), cmd(kMul, 2, 3)), LOX_OK);
    Results r = pgather_ok(p.get());
    ASSERT_EQ(lox_results_count(r.get()), 1u);
    const pid_t worker = reply_at(r.get(), 0).pid;
    ASSERT_GT(worker, 0);
    ASSERT_NE(worker, getpid());
    leaks.remember();
    ProcEntry before;
    ASSERT_TRUE(read_proc_entry(worker, before));
    ASSERT_EQ(kill(worker, SIGKILL), 0);
    ASSERT_TRUE(eventually([&] {
      ProcEntry now;
      return !read_proc_entry(worker, now) || now.start != before.start || now.state == 'Z';
    })) << "the worker did not die";
    std::string big(8 << 20, 'b');
    Cmd c = cmd(kMul, 7, 6);
    std::memcpy(big.data(), &c, sizeof c);
    ASSERT_EQ(lox_process_scatter(p.get(), big.data(), big.size(), nullptr), LOX_OK);  // 91: not a command
    ASSERT_EQ(scatter_cmd(p.get(), cmd(kMul, 7, 6)), LOX_OK);
    int rc = -100;
    Results r2 = pgather(p.get(), &rc);
    ASSERT_NE(rc, LOX_TIMEOUT) << "hang after a worker died while idle";
    ASSERT_EQ(lox_results_count(r2.get()), 2u);
    int st0 = lox_results_status(r2.get(), 0);
    EXPECT_TRUE(st0 == 91 || st0 == LOX_EWORKER) << "status " << st0 << ": " << error_at(r2.get(), 0);
    int st1 = lox_results_status(r2.get(), 1);
    EXPECT_TRUE(st1 == 0 || st1 == LOX_EWORKER) << "status " << st1 << ": " << error_at(r2.get(), 1);
    if (st1 == 0) {
      EXPECT_EQ(reply_at(r2.get(), 1).value, 42);
    }
    leaks.remember();
    // And the pool goes on.
    ASSERT_EQ(scatter_cmd(p.get(), cmd(kMul, 5, 5)), LOX_OK);
    Results r3 = pgather_ok(p.get());
    ASSERT_EQ(lox_results_count(r3.get()), 1u);
    EXPECT_EQ(reply_at(r3.get(), 0).value, 25);
    EXPECT_NE(reply_at(r3.get(), 0).pid, worker);
    leaks.remember();
  }
  sigaction(SIGPIPE, &old, nullptr);
  leaks.check_clean("after destroy");
}

TEST(ProcessFaults, WorkersAndForkServerExitWhenTheirParentDies) {
  // A child of the test makes a pool, runs a round, reports the pool's
  // processes (fork server and workers, below itself) and is killed
  // without destroying the pool. They must go away on their own (an
  // orphan's zombie is reaped by its new parent, not by us: a zombie counts
  // as gone).
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(fds[0]);
    lox_process* p = nullptr;
    if (lox_process_create(2, command_fn, nullptr, &p) != LOX_OK) _exit(2);
    for (int32_t i = 0; i < 4; ++i) {
      Cmd c = cmd(kMul, i, 2);
      lox_process_scatter(p, &c, sizeof c, nullptr);
    }
    lox_results* r = nullptr;
    if (lox_process_gather(p, nullptr, &r) != LOX_OK) _exit(3);
    auto mine = descendants();
    std::vector<ProcEntry> list(mine.begin(), mine.end());
    for (auto& e : list) {
      int64_t rec[2] = {e.pid, static_cast<int64_t>(e.start)};
      if (write(fds[1], rec, sizeof rec) != static_cast<ssize_t>(sizeof rec)) _exit(4);
    }
    close(fds[1]);
    pause();  // killed by the test
    _exit(5);
  }
  close(fds[1]);
  std::vector<ProcEntry> pool_procs;
  int64_t rec[2];
  while (read(fds[0], rec, sizeof rec) == static_cast<ssize_t>(sizeof rec)) {
    ProcEntry e;
    e.pid = static_cast<pid_t>(rec[0]);
    e.start = static_cast<unsigned long long>(rec[1]);
    pool_procs.push_back(e);
  }
  close(fds[0]);
  kill(child, SIGKILL);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the child failed before reporting (exit code "
                                   << (WIFEXITED(status) ? WEXITSTATUS(status) : -1) << ")";
  EXPECT_GE(pool_procs.size(), 2u) << "expected the fork server and at least one worker";
  std::vector<ProcEntry> alive;
  bool gone = eventually(
      [&] {
        alive.clear();
        for (auto& e : pool_procs) {
          ProcEntry now;
          if (read_proc_entry(e.pid, now) && now.start == e.start && now.state != 'Z') alive.push_back(now);
        }
        return alive.empty();
      },
      std::chrono::seconds(20));
  EXPECT_TRUE(gone) << "pool processes outlived their parent:\n" << describe(alive);
  for (auto& e : alive) kill(e.pid, SIGKILL);  // do not leave them behind
}

// ------------------------------------------- respawn under malloc and locks --

struct HammerCtx {
  lox_lock* lock = nullptr;
};

enum HammerOp : int32_t { kProbe = 1, kCrash = 2 };

struct ProbeReply {
  int32_t acquire_rc;
  int32_t release_rc;
  int32_t malloc_ok;
  int32_t pid;
};

// In the worker: use malloc and the liblox lock the test's threads hammer.
// A worker forked while another thread held either would deadlock here, or
// find the lock taken (acquire with timeout 0 returns LOX_TIMEOUT).
int hammer_fn(void* ctx, const void* in, size_t in_len, lox_buffer* out) {
  auto* h = static_cast<HammerCtx*>(ctx);
  int32_t op = 0;
  if (in_len >= sizeof op) std::memcpy(&op, in, sizeof op);
  std::vector<void*> blocks;
  int32_t ok = 1;
  for (size_t sz = 8; sz <= (size_t{1} << 20); sz *= 4) {
    void* b = std::malloc(sz);
    if (!b)
      ok = 0;
    else
      std::memset(b, 0x5A, sz);
    blocks.push_back(b);
  }
  for (void* b : blocks) std::free(b);
  if (op == kCrash) die_by_raise_segv();
  ProbeReply rep{};
  rep.acquire_rc = lox_lock_acquire(h->lock, 0);
  rep.release_rc = rep.acquire_rc == LOX_OK ? lox_lock_release(h->lock) : -100;
  rep.malloc_ok = ok;
  rep.pid = static_cast<int32_t>(getpid());
  return lox_buffer_append(out, &rep, sizeof rep) == LOX_OK ? 0 : 1;
}

TEST(ProcessFaults, RespawnWhileOtherThreadsHammerMallocAndALock) {
  QuietLog quiet;
  warm_up_process_pool();
  LeakCheck leaks;
  HammerCtx h;
  ASSERT_EQ(lox_lock_create(&h.lock), LOX_OK);
  {
    Proc p = make_proc(2, hammer_fn, &h);
    ASSERT_NE(p, nullptr);
    std::atomic<bool> stop{false};
    std::atomic<long> mallocs{0}, locks{0};
    std::thread malloc_hammer([&] {
      std::mt19937 rng(7);
      std::vector<void*> live(64, nullptr);
      while (!stop.load(std::memory_order_relaxed)) {
        size_t slot = rng() % live.size();
        std::free(live[slot]);
        live[slot] = std::malloc(1 + rng() % 70000);
        mallocs.fetch_add(1, std::memory_order_relaxed);
      }
      for (void* b : live) std::free(b);
    });
    std::thread lock_hammer([&] {
      while (!stop.load(std::memory_order_relaxed)) {
        if (lox_lock_acquire(h.lock, LOX_FOREVER) == LOX_OK) {
          void* b = std::malloc(128);
          std::free(b);
          lox_lock_release(h.lock);
        }
        locks.fetch_add(1, std::memory_order_relaxed);
      }
    });
    // Let both hammers get going before the first replacement is forked.
    ASSERT_TRUE(eventually([&] { return mallocs.load() > 1000 && locks.load() > 1000; }));

    const long crashes = scaled(200);
    std::vector<int32_t> ops;
    for (long k = 0; k < crashes; ++k) {
      ops.push_back(kCrash);
      ops.push_back(kProbe);
    }
    for (int32_t op : ops) ASSERT_EQ(lox_process_scatter(p.get(), &op, sizeof op, nullptr), LOX_OK);
    leaks.remember();
    int rc = -100;
    auto t0 = Clock::now();
    Results r = pgather(p.get(), &rc, 240.0);
    auto took = std::chrono::duration<double>(Clock::now() - t0).count();
    stop = true;
    malloc_hammer.join();
    lock_hammer.join();
    ASSERT_NE(rc, LOX_TIMEOUT) << "the round of " << crashes << " crashes did not finish in 240 s (deadlock?)";
    EXPECT_EQ(rc, LOX_ETASK) << lox_last_error();
    ASSERT_EQ(lox_results_count(r.get()), ops.size());
    long eworker = 0, probes_ok = 0;
    for (size_t i = 0; i < ops.size(); ++i) {
      if (ops[i] == kCrash) {
        EXPECT_EQ(lox_results_status(r.get(), i), LOX_EWORKER) << "task " << i;
        if (lox_results_status(r.get(), i) == LOX_EWORKER) ++eworker;
        continue;
      }
      ASSERT_EQ(lox_results_status(r.get(), i), 0) << "task " << i << ": " << error_at(r.get(), i);
      ProbeReply rep{};
      ASSERT_TRUE(pod_from(bytes_at(r.get(), i), rep)) << "task " << i;
      EXPECT_EQ(rep.acquire_rc, LOX_OK) << "task " << i << ": the worker's copy of the lock was held";
      EXPECT_EQ(rep.release_rc, LOX_OK) << "task " << i;
      EXPECT_EQ(rep.malloc_ok, 1) << "task " << i;
      EXPECT_NE(rep.pid, getpid());
      ++probes_ok;
    }
    EXPECT_EQ(eworker, crashes);
    EXPECT_EQ(probes_ok, crashes);
    RecordProperty("respawn_round_seconds", std::to_string(took));
    // Still usable after all that.
    int32_t op = kProbe;
    ASSERT_EQ(lox_process_scatter(p.get(), &op, sizeof op, nullptr), LOX_OK);
    Results r2 = pgather_ok(p.get());
    EXPECT_EQ(lox_results_count(r2.get()), 1u);
    leaks.remember();
  }
  lox_lock_destroy(h.lock);
  leaks.check_clean("after destroy");
}

}  // namespace
