// SPDX-License-Identifier: Apache-2.0
// The rules of the process pool (include/lox/lox.h, "Process pool"): lox's
// example computed in other processes, result order, rounds,
// gather timeouts that lose nothing, progress reporting, inline mode (n = 0
// and LOX_DEBUG), LOX_DEFAULT_WORKERS, task failure codes, bad input with
// its detail, the results and buffer conventions, what a worker inherits
// (state as of create, stdio only) and close-on-exec descriptors.
#include <lox/lox.h>

#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <limits>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "process_util.hpp"
#include "progress_log.hpp"
#include "queue_util.hpp"
#include "test_util.hpp"
#include "timed_call.hpp"

using namespace loxtest;

namespace {

// The detail names the process pool and the operation, and is fresh.
#define EXPECT_PDETAIL(op) EXPECT_DETAIL2("process", op)

// The detail names the offending field.
#define EXPECT_DETAIL_HAS(word)                                                    \
  do {                                                                             \
    std::string d_ = lox_last_error();                                             \
    EXPECT_NE(d_.find(word), std::string::npos) << "detail was: \"" << d_ << "\""; \
  } while (0)

// ------------------------------------------------------------ lox example --

// lox's example for processes: fn(x, y) = x * y over (i, i + 1), i < 5.
void run_lox_example(size_t n_workers) {
  Proc p = make_proc(n_workers, command_fn);
  ASSERT_NE(p, nullptr);
  for (int32_t i = 0; i < 5; ++i) {
    size_t index = 99;
    ASSERT_EQ(scatter_cmd(p.get(), cmd(kMul, i, i + 1), &index), LOX_OK) << lox_last_error();
    EXPECT_EQ(index, static_cast<size_t>(i));
  }
  Results r = pgather_ok(p.get());
  ASSERT_EQ(lox_results_count(r.get()), 5u);
  std::vector<int64_t> values;
  std::set<int32_t> pids;
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(lox_results_status(r.get(), i), 0);
    EXPECT_EQ(lox_results_error(r.get(), i), nullptr);
    Reply rep = reply_at(r.get(), i);
    values.push_back(rep.value);
    EXPECT_NE(rep.pid, getpid()) << "task " << i << " ran in the test process";
    pids.insert(rep.pid);
  }
  EXPECT_EQ(values, (std::vector<int64_t>{0, 2, 6, 12, 20})) << "n_workers " << n_workers;
  size_t limit = n_workers == LOX_DEFAULT_WORKERS ? online_cpus() : n_workers;
  EXPECT_LE(pids.size(), limit) << "more distinct worker processes than workers (no worker died)";
  EXPECT_LE(lox_process_workers(p.get()), limit);
}

TEST(ProcessRules, LoxExampleRunsInOtherProcesses) { run_lox_example(2); }

TEST(ProcessRules, LoxExampleWithOneAndDefaultWorkers) {
  run_lox_example(1);
  run_lox_example(LOX_DEFAULT_WORKERS);
}

TEST(ProcessRules, ResultsComeInScatterOrder) {
  // Later tasks finish first (they sleep less); the results keep scatter
  // order.
  Proc p = make_proc(4, command_fn);
  constexpr int32_t n = 24;
  for (int32_t i = 0; i < n; ++i) {
    size_t index = 999;
    ASSERT_EQ(scatter_cmd(p.get(), cmd(kSleepMs, (n - i) % 6, 1000 + i), &index), LOX_OK);
    EXPECT_EQ(index, static_cast<size_t>(i));
  }
  Results r = pgather_ok(p.get());
  ASSERT_EQ(lox_results_count(r.get()), static_cast<size_t>(n));
  for (int32_t i = 0; i < n; ++i) {
    Reply rep = reply_at(r.get(), static_cast<size_t>(i));
    EXPECT_EQ(rep.value, int64_t{(n - i) % 6} * (1000 + i)) << "task " << i;
  }
}

TEST(ProcessRules, ConcurrentScattersKeepEachThreadsOrder) {
  Proc p = make_proc(2, command_fn);
  constexpr int kThreads = 4;
  constexpr int32_t kPer = 100;
  std::vector<std::vector<size_t>> indices(kThreads);
  std::vector<std::thread> ts;
  for (int t = 0; t < kThreads; ++t)
    ts.emplace_back([&, t] {
      for (int32_t k = 0; k < kPer; ++k) {
        size_t index = 0;
        ASSERT_EQ(scatter_cmd(p.get(), cmd(kMul, t, k), &index), LOX_OK);
        indices[t].push_back(index);
      }
    });
  for (auto& t : ts) t.join();
  Results r = pgather_ok(p.get());
  ASSERT_EQ(lox_results_count(r.get()), size_t{kThreads * kPer});
  std::set<size_t> all;
  for (int t = 0; t < kThreads; ++t) {
    ASSERT_EQ(indices[t].size(), size_t{kPer});
    EXPECT_TRUE(std::is_sorted(indices[t].begin(), indices[t].end()));
    for (int32_t k = 0; k < kPer; ++k) {
      size_t i = indices[t][k];
      all.insert(i);
      EXPECT_EQ(reply_at(r.get(), i).value, int64_t{t} * k) << "thread " << t << " task " << k;
    }
  }
  EXPECT_EQ(all.size(), size_t{kThreads * kPer}) << "indices are distinct";
}

// ------------------------------------------------------------------ rounds --

TEST(ProcessRounds, GatherReturnsOnlyTasksScatteredSinceTheLastGather) {
  Proc p = make_proc(2, command_fn);
  for (int32_t i = 0; i < 3; ++i) ASSERT_EQ(scatter_cmd(p.get(), cmd(kMul, i, 10)), LOX_OK);
  Results r1 = pgather_ok(p.get());
  ASSERT_EQ(lox_results_count(r1.get()), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(reply_at(r1.get(), i).value, static_cast<int64_t>(i) * 10);

  for (int32_t i = 0; i < 2; ++i) {
    size_t index = 99;
    ASSERT_EQ(scatter_cmd(p.get(), cmd(kMul, i, 100), &index), LOX_OK);
    EXPECT_EQ(index, static_cast<size_t>(i)) << "numbering restarts in a new round";
  }
  Results r2 = pgather_ok(p.get());
  ASSERT_EQ(lox_results_count(r2.get()), 2u);
  EXPECT_EQ(reply_at(r2.get(), 0).value, 0);
  EXPECT_EQ(reply_at(r2.get(), 1).value, 100);

  Results empty = pgather_ok(p.get());
  EXPECT_EQ(lox_results_count(empty.get()), 0u);
  // Results outlive later rounds and the pool itself.
  p.reset();
  EXPECT_EQ(reply_at(r1.get(), 2).value, 20);
  EXPECT_EQ(reply_at(r2.get(), 1).value, 100);
}

// --------------------------------------------------------------- progress --

TEST(ProcessRounds, ScatterDuringAGatherBelongsToTheNextRound) {
  Shared sh;
  Proc p = make_proc(2, command_fn, sh.get());
  for (int32_t i = 0; i < 3; ++i) ASSERT_EQ(scatter_cmd(p.get(), cmd(kWaitGate, i, 1)), LOX_OK);
  ProgressLog log;
  Results r1;
  int rc1 = -100;
  std::thread gatherer([&] {
    log.expected_thread = std::this_thread::get_id();
    lox_gather_opts o = progress_opts(log);
    r1 = pgather(p.get(), &rc1, kMustSeconds, &o);
  });
  expect_first_call(log, 3);
  for (int32_t i = 0; i < 2; ++i) {
    size_t index = 99;
    ASSERT_EQ(scatter_cmd(p.get(), cmd(kMul, i, 7), &index), LOX_OK);
    EXPECT_EQ(index, static_cast<size_t>(i)) << "a scatter during the gather opens the next round";
  }
  sh.open_gate();
  gatherer.join();
  EXPECT_EQ(rc1, LOX_OK) << lox_status_str(rc1);
  ASSERT_EQ(lox_results_count(r1.get()), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(reply_at(r1.get(), i).value, static_cast<int64_t>(i));
  check_progress_calls(log, 3);
  Results r2 = pgather_ok(p.get());
  ASSERT_EQ(lox_results_count(r2.get()), 2u);
  EXPECT_EQ(reply_at(r2.get(), 0).value, 0);
  EXPECT_EQ(reply_at(r2.get(), 1).value, 7);
}

TEST(ProcessProgress, CalledInGatheringThreadIncreasingToTotal) {
  Proc p = make_proc(2, command_fn);
  constexpr size_t n = 40;
  for (size_t i = 0; i < n; ++i) ASSERT_EQ(scatter_cmd(p.get(), cmd(kSleepMs, static_cast<int32_t>(i % 3), 1)), LOX_OK);
  ProgressLog log;
  log.expected_thread = std::this_thread::get_id();
  lox_gather_opts o = progress_opts(log);
  int rc = -100;
  Results r = pgather(p.get(), &rc, kMustSeconds, &o);
  ASSERT_EQ(rc, LOX_OK) << lox_last_error();
  ASSERT_EQ(lox_results_count(r.get()), n);
  check_progress_calls(log, n);
}

TEST(ProcessProgress, EmptyRoundReportsZeroOfZero) {
  Proc p = make_proc(2, command_fn);
  ProgressLog log;
  log.expected_thread = std::this_thread::get_id();
  lox_gather_opts o = progress_opts(log);
  int rc = -100;
  Results r = pgather(p.get(), &rc, kMustSeconds, &o);
  ASSERT_EQ(rc, LOX_OK);
  EXPECT_EQ(lox_results_count(r.get()), 0u);
  check_progress_calls(log, 0);
}

TEST(ProcessProgress, FailedRoundStillEndsAtTotal) {
  QuietLog quiet;
  Proc p = make_proc(2, command_fn);
  for (int32_t i = 0; i < 8; ++i) ASSERT_EQ(scatter_cmd(p.get(), i == 3 ? cmd(kFail, i, 5) : cmd(kMul, i, 2)), LOX_OK);
  ProgressLog log;
  log.expected_thread = std::this_thread::get_id();
  lox_gather_opts o = progress_opts(log);
  int rc = -100;
  Results r = pgather(p.get(), &rc, kMustSeconds, &o);
  ASSERT_EQ(rc, LOX_ETASK);
  check_progress_calls(log, 8);
}

// ---------------------------------------------------------- gather timeout --

TEST(ProcessGatherTimeout, TimesOutLeavesOutUntouchedAndLosesNothing) {
  Shared sh;
  Proc p = make_proc(2, command_fn, sh.get());
  for (int32_t i = 0; i < 3; ++i) {
    size_t index = 99;
    ASSERT_EQ(scatter_cmd(p.get(), cmd(kWaitGate, i + 10, 1), &index), LOX_OK);
    EXPECT_EQ(index, static_cast<size_t>(i));
  }
  ASSERT_EQ(lox_results_status(nullptr, 0), LOX_EINVAL);  // prime the detail
  const std::string detail = lox_last_error();
  ProgressLog log;
  log.expected_thread = std::this_thread::get_id();
  for (double timeout : {0.05, 0.0, 0.02}) {
    lox_gather_opts o = progress_opts(log);
    o.timeout = timeout;
    auto* sentinel = reinterpret_cast<lox_results*>(0xBEEF);
    lox_results* out = sentinel;
    EXPECT_EQ(lox_process_gather(p.get(), &o, &out), LOX_TIMEOUT) << "timeout " << timeout;
    EXPECT_EQ(out, sentinel) << "*out must be untouched by a timeout";
    EXPECT_EQ(std::string(lox_last_error()), detail) << "a timeout is an outcome, not an error";
  }
  {
    std::lock_guard lk(log.mu);
    for (auto [done, total] : log.calls) {
      EXPECT_EQ(total, 3u);
      EXPECT_LT(done, total) << "reported complete, then timed out";
    }
  }
  const size_t calls_at_timeout = log.calls.size();
  // The round was reopened: later scatters continue its numbering.
  for (int32_t i = 3; i < 5; ++i) {
    size_t index = 99;
    ASSERT_EQ(scatter_cmd(p.get(), cmd(kMul, i + 10, 1), &index), LOX_OK);
    EXPECT_EQ(index, static_cast<size_t>(i)) << "numbering continues after a timed-out gather";
  }
  sh.open_gate();
  Results r = pgather_ok(p.get());
  ASSERT_EQ(lox_results_count(r.get()), 5u) << "nothing is lost";
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(lox_results_status(r.get(), i), 0);
    EXPECT_EQ(reply_at(r.get(), i).value, static_cast<int64_t>(i) + 10);
  }
  EXPECT_EQ(log.calls.size(), calls_at_timeout) << "progress called again after a timeout";
  Results empty = pgather_ok(p.get());
  EXPECT_EQ(lox_results_count(empty.get()), 0u);
}

TEST(ProcessGatherTimeout, PollingWithZeroEventuallyReturnsTheRound) {
  Shared sh;
  Proc p = make_proc(2, command_fn, sh.get());
  for (int32_t i = 0; i < 4; ++i) ASSERT_EQ(scatter_cmd(p.get(), cmd(kWaitGate, i, 3)), LOX_OK);
  int rc = -100;
  Results none = pgather(p.get(), &rc, 0.0);
  EXPECT_EQ(rc, LOX_TIMEOUT);
  EXPECT_EQ(none, nullptr);
  sh.open_gate();
  Results r = poll_gather<Results>([&](int* st) { return pgather(p.get(), st, 0.0); });
  ASSERT_NE(r, nullptr);
  ASSERT_EQ(lox_results_count(r.get()), 4u);
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(reply_at(r.get(), i).value, static_cast<int64_t>(i) * 3);
}

// ------------------------------------------------------------ inline mode --

struct InlineProbe {
  std::atomic<int> runs{0};
};

int inline_probe_fn(void* ctx, const void* in, size_t in_len, lox_buffer* out) {
  static_cast<InlineProbe*>(ctx)->runs.fetch_add(1);
  Cmd c{};
  if (in_len == sizeof c) std::memcpy(&c, in, sizeof c);
  if (c.op == kFail) {
    std::string msg = "bad input " + std::to_string(c.a);
    lox_buffer_append(out, msg.data(), msg.size());
    return c.b;
  }
  return reply(out, int64_t{c.a} * c.b, c.op);
}

TEST(ProcessInline, ZeroWorkersRunsEachTaskInsideScatter) {
  QuietLog quiet;
  InlineProbe probe;
  Proc p = make_proc(0, inline_probe_fn, &probe);
  for (int32_t i = 0; i < 5; ++i) {
    size_t index = 99;
    ASSERT_EQ(scatter_cmd(p.get(), i == 2 ? cmd(kFail, 2, 7) : cmd(kMul, i, i + 1), &index), LOX_OK);
    EXPECT_EQ(index, static_cast<size_t>(i));
    EXPECT_EQ(probe.runs.load(), i + 1) << "the task ran before scatter returned";
  }
  EXPECT_EQ(lox_process_workers(p.get()), 0u);
  EXPECT_EQ(lox_process_pending(p.get()), 0u);
  Results r = pgather_expect(p.get(), LOX_ETASK);
  ASSERT_EQ(lox_results_count(r.get()), 5u);
  const int64_t want[] = {0, 2, -1, 12, 20};
  for (size_t i = 0; i < 5; ++i) {
    if (i == 2) {
      EXPECT_EQ(lox_results_status(r.get(), i), 7);
      EXPECT_NE(error_at(r.get(), i).find("bad input 2"), std::string::npos) << error_at(r.get(), i);
      continue;
    }
    EXPECT_EQ(lox_results_status(r.get(), i), 0);
    Reply rep = reply_at(r.get(), i);
    EXPECT_EQ(rep.value, want[i]);
    EXPECT_EQ(rep.pid, getpid()) << "inline: in this process";
  }
}

// Creates a pool of 4 workers under LOX_DEBUG = value; true if its task ran
// in this process.
bool runs_inline_with_lox_debug(const char* value) {
  InlineProbe probe;
  lox_process* raw = nullptr;
  {
    ScopedEnv env("LOX_DEBUG", value);
    EXPECT_EQ(lox_process_create(4, inline_probe_fn, &probe, &raw), LOX_OK) << lox_last_error();
  }
  Proc p(raw);
  EXPECT_EQ(scatter_cmd(p.get(), cmd(kMul, 6, 7)), LOX_OK);
  bool ran_in_scatter = probe.runs.load() == 1;
  Results r = pgather_ok(p.get());
  EXPECT_EQ(lox_results_count(r.get()), 1u);
  Reply rep = reply_at(r.get(), 0);
  EXPECT_EQ(rep.value, 42);
  bool here = rep.pid == getpid();
  EXPECT_EQ(here, ran_in_scatter) << "LOX_DEBUG=" << (value ? value : "(unset)");
  if (here) {
    EXPECT_EQ(lox_process_workers(p.get()), 0u);
  }
  return here;
}

TEST(ProcessInline, LoxDebugForcesInlineMode) {
  for (const char* v : {"1", "true", "yes", "on", "TRUE"})
    EXPECT_TRUE(runs_inline_with_lox_debug(v)) << "LOX_DEBUG=" << v;
}

TEST(ProcessInline, OtherLoxDebugValuesDoNot) {
  for (const char* v : {static_cast<const char*>(nullptr), "0", "off", ""})
    EXPECT_FALSE(runs_inline_with_lox_debug(v)) << "LOX_DEBUG=" << (v ? v : "(unset)");
}

// -------------------------------------------------------- default workers --

// Scatters 2 * limit tasks that each wait until `limit` of them run at once:
// the pool must reach exactly `limit` concurrent workers, never more.
void check_concurrency(size_t n_workers, size_t limit) {
  Shared sh;
  Proc p = make_proc(n_workers, command_fn, sh.get());
  ASSERT_NE(p, nullptr);
  const int32_t n = static_cast<int32_t>(2 * limit);
  for (int32_t i = 0; i < n; ++i)
    ASSERT_EQ(scatter_cmd(p.get(), cmd(kConcurrency, i, static_cast<int32_t>(limit))), LOX_OK);
  std::atomic<bool> stop{false};
  std::atomic<size_t> max_workers{0};
  std::thread watcher([&] {
    while (!stop.load()) {
      size_t w = lox_process_workers(p.get());
      if (w > max_workers.load()) max_workers = w;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
  int rc = -100;
  Results r = pgather(p.get(), &rc);
  stop = true;
  watcher.join();
  EXPECT_EQ(rc, LOX_OK) << lox_status_str(rc) << " (98: fewer than " << limit << " tasks ever ran at once)";
  EXPECT_EQ(sh->max_in_task.load(), static_cast<int>(limit)) << "tasks running at once";
  EXPECT_LE(max_workers.load(), limit) << "lox_process_workers exceeded the limit";
  EXPECT_LE(lox_process_workers(p.get()), limit);
  std::set<int32_t> pids;
  for (size_t i = 0; i < lox_results_count(r.get()); ++i)
    if (lox_results_status(r.get(), i) == 0) pids.insert(reply_at(r.get(), i).pid);
  EXPECT_LE(pids.size(), limit);
  EXPECT_EQ(pids.count(getpid()), 0u);
}

TEST(ProcessWorkers, DefaultIsTheNumberOfOnlineCpus) { check_concurrency(LOX_DEFAULT_WORKERS, online_cpus()); }

TEST(ProcessWorkers, ExplicitCountIsTheLimit) {
  check_concurrency(2, 2);
  check_concurrency(3, 3);
}

TEST(ProcessWorkers, PendingCountsTasksNotYetStarted) {
  // One worker; its first task blocks at a closed gate, so the other four
  // certainly have not started: pending is 4 for as long as the gate stays
  // closed.
  Shared sh;
  Proc p = make_proc(1, command_fn, sh.get());
  EXPECT_EQ(lox_process_pending(p.get()), 0u);
  for (int32_t i = 0; i < 5; ++i) ASSERT_EQ(scatter_cmd(p.get(), cmd(kWaitGate, i, 1)), LOX_OK);
  EXPECT_LE(lox_process_pending(p.get()), 5u);
  ASSERT_TRUE(eventually([&] { return sh->started.load() >= 1; })) << "no task started";
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // room for a wrong count to show
  EXPECT_EQ(sh->started.load(), 1);
  EXPECT_EQ(lox_process_pending(p.get()), 4u) << "one task runs; four were scattered and have not started";
  EXPECT_EQ(lox_process_workers(p.get()), 1u);
  sh.open_gate();
  Results r = pgather_ok(p.get());
  EXPECT_EQ(lox_results_count(r.get()), 5u);
  EXPECT_EQ(lox_process_pending(p.get()), 0u);
}

TEST(ProcessWorkers, PendingWhenScatteredWhileTheWorkerIsBusy) {
  // The same, with the four scattered after the first task started.
  Shared sh;
  Proc p = make_proc(1, command_fn, sh.get());
  ASSERT_EQ(scatter_cmd(p.get(), cmd(kWaitGate, 0, 1)), LOX_OK);
  ASSERT_TRUE(eventually([&] { return sh->started.load() >= 1; })) << "no task started";
  for (int32_t i = 1; i < 5; ++i) ASSERT_EQ(scatter_cmd(p.get(), cmd(kWaitGate, i, 1)), LOX_OK);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(sh->started.load(), 1);
  EXPECT_EQ(lox_process_pending(p.get()), 4u);
  sh.open_gate();
  Results r = pgather_ok(p.get());
  EXPECT_EQ(lox_results_count(r.get()), 5u);
  EXPECT_EQ(lox_process_pending(p.get()), 0u);
}

TEST(ProcessWorkers, NoWorkerIsLeftAsleepWhileTasksWait) {
  // A stream of tiny tasks, scattered one by one while the workers keep
  // finishing tasks, exercises every interleaving of "a worker goes idle"
  // with "a task is scattered". Afterwards both workers must still take
  // work: two tasks that wait until two of them run at once must succeed.
  Shared sh;
  Proc p = make_proc(2, command_fn, sh.get());
  for (int rep = 0; rep < 10; ++rep) {
    const int32_t n = static_cast<int32_t>(scaled(2000));
    for (int32_t i = 0; i < n; ++i) {
      ASSERT_EQ(scatter_cmd(p.get(), cmd(kMul, i, 1)), LOX_OK);
      if (i % 64 == 0) std::this_thread::yield();
    }
    Results stream = pgather_ok(p.get());
    ASSERT_EQ(lox_results_count(stream.get()), static_cast<size_t>(n));
    sh->max_in_task.store(0);
    sh->released.store(0);
    for (int32_t i = 0; i < 4; ++i) ASSERT_EQ(scatter_cmd(p.get(), cmd(kConcurrency, i, 2)), LOX_OK);
    int rc = -100;
    Results r = pgather(p.get(), &rc);
    ASSERT_EQ(rc, LOX_OK) << "repetition " << rep << ": status " << lox_status_str(rc)
                          << " (98: the second worker never took a task; pending " << lox_process_pending(p.get())
                          << ", max at once " << sh->max_in_task.load() << ")";
  }
}

// While the first task of a round is blocked (a closed gate), the highest
// count of finished tasks a gather reports, polled until it reaches `want`
// or `limit` passes. Every poll is a gather that times out (nothing lost).
size_t finished_while_blocked(lox_process* p, size_t want, std::chrono::seconds limit) {
  std::atomic<size_t> best{0};
  auto cb = [](void* ctx, size_t done, size_t) {
    auto* b = static_cast<std::atomic<size_t>*>(ctx);
    if (done > b->load()) b->store(done);
  };
  auto end = Clock::now() + limit;
  while (best.load() < want && Clock::now() < end) {
    lox_gather_opts o = LOX_GATHER_OPTS_INIT;
    o.progress = cb;
    o.progress_ctx = &best;
    o.timeout = 0.1;
    lox_results* out = nullptr;
    int rc = lox_process_gather(p, &o, &out);
    EXPECT_EQ(rc, LOX_TIMEOUT) << "the round completed with its first task blocked";
    if (rc != LOX_TIMEOUT) {
      lox_results_destroy(out);
      break;
    }
  }
  return best.load();
}

// A pool of 2: one task blocks a worker, the other worker must get through
// every quick task scattered with it (none waits behind the blocked one).
void check_quick_tasks_not_held_back(bool warmed_up) {
  Shared sh;
  Proc p = make_proc(2, command_fn, sh.get());
  if (warmed_up) {
    // Many quick tasks first, so that whatever a worker learns about quick
    // tasks (batching) is in effect.
    for (int32_t i = 0; i < 2000; ++i) ASSERT_EQ(scatter_cmd(p.get(), cmd(kMul, i, 1)), LOX_OK);
    Results warm = pgather_ok(p.get());
    ASSERT_EQ(lox_results_count(warm.get()), 2000u);
  }
  // The header's bound: once tasks have proved quick, a worker is sent up
  // to 64 at a time, so a task that then blocks holds at most 63 others of
  // its batch; everything else goes to the free worker. Before that (no
  // warm-up) tasks go one at a time and nothing is held back.
  const int32_t kQuick = warmed_up ? 200 : 30;
  const size_t must_finish = warmed_up ? static_cast<size_t>(kQuick) - 63 : static_cast<size_t>(kQuick);
  ASSERT_EQ(scatter_cmd(p.get(), cmd(kWaitGate, 0, 0)), LOX_OK);
  for (int32_t i = 1; i <= kQuick; ++i) ASSERT_EQ(scatter_cmd(p.get(), cmd(kMul, i, 2)), LOX_OK);
  ASSERT_TRUE(eventually([&] { return sh->started.load() >= 1; })) << "the blocking task did not start";
  size_t done = finished_while_blocked(p.get(), must_finish, std::chrono::seconds(10));
  EXPECT_GE(done, must_finish)
      << "quick tasks were held behind the blocked one while the other worker was free (pending "
      << lox_process_pending(p.get()) << ", workers " << lox_process_workers(p.get()) << ")";
  EXPECT_EQ(sh->finished.load(), 0) << "the gate was closed all along";
  sh.open_gate();
  Results r = pgather_ok(p.get());
  ASSERT_EQ(lox_results_count(r.get()), static_cast<size_t>(kQuick + 1));
  for (int32_t i = 1; i <= kQuick; ++i) EXPECT_EQ(reply_at(r.get(), static_cast<size_t>(i)).value, 2 * i);
}

TEST(ProcessWorkers, QuickTasksAreNotHeldBehindABlockedOne) { check_quick_tasks_not_held_back(false); }

TEST(ProcessWorkers, QuickTasksAreNotHeldBehindABlockedOneAfterManyQuickOnes) { check_quick_tasks_not_held_back(true); }

// -------------------------------------------------------------- failures --

void check_failure_round(size_t n_workers) {
  QuietLog quiet;
  Proc p = make_proc(n_workers, command_fn);
  constexpr int32_t n = 10;
  for (int32_t i = 0; i < n; ++i) {
    Cmd c = cmd(kMul, i, 3);
    if (i == 3) c = cmd(kFail, 3, 7);
    if (i == 6) c = cmd(kFailSilent, 6, 9);
    ASSERT_EQ(scatter_cmd(p.get(), c), LOX_OK);
  }
  Results r = pgather_expect(p.get(), LOX_ETASK);
  ASSERT_EQ(lox_results_count(r.get()), static_cast<size_t>(n));
  for (int32_t i = 0; i < n; ++i) {
    size_t k = static_cast<size_t>(i);
    if (i == 3) {
      EXPECT_EQ(lox_results_status(r.get(), k), 7);
      EXPECT_NE(error_at(r.get(), k).find("bad input 3"), std::string::npos)
          << "the bytes the task appended are its error detail; got: " << error_at(r.get(), k);
    } else if (i == 6) {
      EXPECT_EQ(lox_results_status(r.get(), k), 9);
      EXPECT_NE(lox_results_error(r.get(), k), nullptr) << "a failed task has a detail";
    } else {
      EXPECT_EQ(lox_results_status(r.get(), k), 0) << "task " << i;
      EXPECT_EQ(lox_results_error(r.get(), k), nullptr) << "task " << i;
      EXPECT_EQ(reply_at(r.get(), k).value, int64_t{i} * 3) << "task " << i;
    }
  }
  // The pool goes on.
  ASSERT_EQ(scatter_cmd(p.get(), cmd(kMul, 4, 5)), LOX_OK);
  Results r2 = pgather_ok(p.get());
  ASSERT_EQ(lox_results_count(r2.get()), 1u);
  EXPECT_EQ(reply_at(r2.get(), 0).value, 20);
}

TEST(ProcessFailure, TaskFailureCodeAndDetailOthersIntact) { check_failure_round(2); }

TEST(ProcessFailure, TaskFailureCodeAndDetailInline) { check_failure_round(0); }

TEST(ProcessFailure, FailedTaskIsLogged) {
  LogCapture cap;
  lox_log_set_level(LOX_LOG_WARN);
  Proc p = make_proc(1, command_fn);
  ASSERT_EQ(scatter_cmd(p.get(), cmd(kFail, 1, 7)), LOX_OK);
  Results r = pgather_expect(p.get(), LOX_ETASK);
  bool logged = false;
  for (auto& e : cap.entries())
    if (e.level >= LOX_LOG_WARN) logged = true;
  EXPECT_TRUE(logged) << "a failed task is logged at WARN or ERROR";
}

// -------------------------------------------------------------- bad input --

TEST(ProcessBadInput, CreateWithoutFnOrOut) {
  auto* sentinel = reinterpret_cast<lox_process*>(0x5678);
  lox_process* p = sentinel;
  prime_detail();
  EXPECT_EQ(lox_process_create(2, nullptr, nullptr, &p), LOX_EINVAL);
  EXPECT_EQ(p, sentinel);
  EXPECT_PDETAIL("create");
  prime_detail();
  EXPECT_EQ(lox_process_create(0, nullptr, nullptr, &p), LOX_EINVAL);
  EXPECT_EQ(p, sentinel);
  EXPECT_PDETAIL("create");
  prime_detail();
  EXPECT_EQ(lox_process_create(2, command_fn, nullptr, nullptr), LOX_EINVAL);
  EXPECT_PDETAIL("create");
  prime_detail();
  lox_process_opts o = LOX_PROCESS_OPTS_INIT;
  EXPECT_EQ(lox_process_create_ex(2, nullptr, nullptr, &o, &p), LOX_EINVAL);
  EXPECT_EQ(p, sentinel);
  EXPECT_PDETAIL("create");
  prime_detail();
  EXPECT_EQ(lox_process_create_ex(2, command_fn, nullptr, &o, nullptr), LOX_EINVAL);
  EXPECT_PDETAIL("create");
}

TEST(ProcessBadInput, OptsInitMatchesMacro) {
  lox_process_opts by_macro = LOX_PROCESS_OPTS_INIT;
  lox_process_opts by_fn;
  std::memset(&by_fn, 0xAB, sizeof by_fn);
  lox_process_opts_init(&by_fn);
  EXPECT_EQ(by_fn.struct_size, sizeof(lox_process_opts));
  EXPECT_EQ(by_fn.struct_size, by_macro.struct_size);
  EXPECT_EQ(by_fn.task_timeout, LOX_FOREVER);
  EXPECT_EQ(by_fn.task_timeout, by_macro.task_timeout);
  EXPECT_EQ(by_fn.max_message, size_t{1} << 30);
  EXPECT_EQ(by_fn.max_message, by_macro.max_message);
  lox_process_opts_init(nullptr);  // ignored
}

TEST(ProcessBadInput, BadOptionsAreRejected) {
  auto* sentinel = reinterpret_cast<lox_process*>(0x5678);
  auto before = descendants();
  for (size_t bad : {size_t{0}, size_t{1}, sizeof(lox_process_opts) - 1, sizeof(lox_process_opts) + 8}) {
    lox_process_opts o = proc_opts();
    o.struct_size = bad;
    lox_process* p = sentinel;
    prime_detail();
    EXPECT_EQ(lox_process_create_ex(2, command_fn, nullptr, &o, &p), LOX_EINVAL) << "struct_size " << bad;
    EXPECT_EQ(p, sentinel);
    EXPECT_PDETAIL("create");
    EXPECT_DETAIL_HAS("struct_size");
  }
  for (double bad : {kNaN, 0.0}) {
    lox_process_opts o = proc_opts(bad);
    lox_process* p = sentinel;
    prime_detail();
    EXPECT_EQ(lox_process_create_ex(2, command_fn, nullptr, &o, &p), LOX_EINVAL) << "task_timeout " << bad;
    EXPECT_EQ(p, sentinel);
    EXPECT_PDETAIL("create");
    EXPECT_DETAIL_HAS("task_timeout");
  }
  {
    lox_process_opts o = proc_opts(LOX_FOREVER, 0);
    lox_process* p = sentinel;
    prime_detail();
    EXPECT_EQ(lox_process_create_ex(2, command_fn, nullptr, &o, &p), LOX_EINVAL) << "max_message 0";
    EXPECT_EQ(p, sentinel);
    EXPECT_PDETAIL("create");
    EXPECT_DETAIL_HAS("max_message");
  }
  auto extra = minus(descendants(), before);
  EXPECT_TRUE(extra.empty()) << "a refused create started processes:\n" << describe(extra);
}

TEST(ProcessBadInput, GoodOptionsAreAccepted) {
  for (double ok : {LOX_FOREVER, -5.0, 0.5, 1e9, std::numeric_limits<double>::infinity()}) {
    lox_process_opts o = proc_opts(ok, 4096);
    lox_process* p = nullptr;
    ASSERT_EQ(lox_process_create_ex(1, command_fn, nullptr, &o, &p), LOX_OK) << ok << ": " << lox_last_error();
    Proc owner(p);
    ASSERT_EQ(scatter_cmd(p, cmd(kMul, 6, 7)), LOX_OK);
    Results r = pgather_ok(p);
    ASSERT_EQ(lox_results_count(r.get()), 1u);
    EXPECT_EQ(reply_at(r.get(), 0).value, 42);
  }
  lox_process* p = nullptr;
  ASSERT_EQ(lox_process_create_ex(1, command_fn, nullptr, nullptr, &p), LOX_OK) << "NULL options: the defaults";
  Proc owner(p);
  lox_process_opts tiny = proc_opts(LOX_FOREVER, 1);
  lox_process* q = nullptr;
  ASSERT_EQ(lox_process_create_ex(1, command_fn, nullptr, &tiny, &q), LOX_OK) << "max_message 1";
  lox_process_destroy(q);
}

TEST(ProcessBadInput, ScatterRefusalsChangeNothing) {
  lox_process_opts o = proc_opts(LOX_FOREVER, 64);
  Proc p = make_proc(2, command_fn, nullptr, &o);
  ASSERT_EQ(scatter_cmd(p.get(), cmd(kMul, 2, 21)), LOX_OK);
  Cmd c = cmd(kMul, 1, 1);
  size_t index = 777;
  prime_detail();
  EXPECT_EQ(lox_process_scatter(nullptr, &c, sizeof c, &index), LOX_EINVAL);
  EXPECT_PDETAIL("scatter");
  prime_detail();
  EXPECT_EQ(lox_process_scatter(p.get(), nullptr, 5, &index), LOX_EINVAL);
  EXPECT_PDETAIL("scatter");
  std::string big(65, 'x');
  prime_detail();
  EXPECT_EQ(lox_process_scatter(p.get(), big.data(), big.size(), &index), LOX_EINVAL) << "above max_message";
  EXPECT_PDETAIL("scatter");
  prime_detail();
  EXPECT_EQ(lox_process_scatter(p.get(), big.data(), size_t{1} << 40, &index), LOX_EINVAL) << "far above";
  EXPECT_PDETAIL("scatter");
  EXPECT_EQ(index, 777u) << "*index untouched on error";
  // Exactly max_message is allowed (command_fn rejects it as a command: 91).
  ASSERT_EQ(lox_process_scatter(p.get(), big.data(), 64, &index), LOX_OK) << lox_last_error();
  EXPECT_EQ(index, 1u) << "the refused scatters took no index";
  // NULL with length 0 is an empty input.
  ASSERT_EQ(lox_process_scatter(p.get(), nullptr, 0, &index), LOX_OK) << lox_last_error();
  EXPECT_EQ(index, 2u);
  QuietLog quiet;
  Results r = pgather_expect(p.get(), LOX_ETASK);
  ASSERT_EQ(lox_results_count(r.get()), 3u);
  EXPECT_EQ(lox_results_status(r.get(), 0), 0);
  EXPECT_EQ(reply_at(r.get(), 0).value, 42);
  EXPECT_EQ(lox_results_status(r.get(), 1), 91);
  EXPECT_EQ(lox_results_status(r.get(), 2), 91);
}

TEST(ProcessBadInput, GatherRefusalsChangeNothing) {
  Proc p = make_proc(2, command_fn);
  for (int32_t i = 0; i < 3; ++i) ASSERT_EQ(scatter_cmd(p.get(), cmd(kMul, i, 5)), LOX_OK);
  auto* sentinel = reinterpret_cast<lox_results*>(0x1234);
  lox_results* out = sentinel;
  prime_detail();
  EXPECT_EQ(lox_process_gather(nullptr, nullptr, &out), LOX_EINVAL);
  EXPECT_EQ(out, sentinel);
  EXPECT_PDETAIL("gather");
  prime_detail();
  EXPECT_EQ(lox_process_gather(p.get(), nullptr, nullptr), LOX_EINVAL);
  EXPECT_PDETAIL("gather");
  {
    lox_gather_opts o = LOX_GATHER_OPTS_INIT;
    o.timeout = kNaN;
    prime_detail();
    EXPECT_EQ(lox_process_gather(p.get(), &o, &out), LOX_EINVAL);
    EXPECT_EQ(out, sentinel);
    EXPECT_PDETAIL("gather");
  }
  for (size_t bad : {size_t{0}, size_t{1}, sizeof(lox_gather_opts) - 1, sizeof(lox_gather_opts) + 8}) {
    lox_gather_opts o = LOX_GATHER_OPTS_INIT;
    o.struct_size = bad;
    prime_detail();
    EXPECT_EQ(lox_process_gather(p.get(), &o, &out), LOX_EINVAL) << "struct_size " << bad;
    EXPECT_EQ(out, sentinel);
    EXPECT_PDETAIL("gather");
  }
  // The round is intact; NULL options mean the defaults.
  int rc = lox_process_gather(p.get(), nullptr, &out);
  ASSERT_EQ(rc, LOX_OK) << lox_last_error();
  Results r(out);
  ASSERT_EQ(lox_results_count(r.get()), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(reply_at(r.get(), i).value, static_cast<int64_t>(i) * 5);
}

TEST(ProcessBadInput, NullHandleQueries) {
  EXPECT_EQ(lox_process_pending(nullptr), 0u);
  EXPECT_EQ(lox_process_workers(nullptr), 0u);
  lox_process_destroy(nullptr);  // a no-op
}

// ---------------------------------------------------------------- results --

TEST(ProcessResults, BytesStatusErrorValueConventions) {
  QuietLog quiet;
  Proc p = make_proc(1, command_fn);
  ASSERT_EQ(scatter_cmd(p.get(), cmd(kMul, 3, 4)), LOX_OK);
  ASSERT_EQ(scatter_cmd(p.get(), cmd(kFail, 1, 7)), LOX_OK);
  Results r = pgather_expect(p.get(), LOX_ETASK);
  ASSERT_EQ(lox_results_count(r.get()), 2u);
  EXPECT_EQ(lox_results_count(nullptr), 0u);

  const void* data = reinterpret_cast<const void*>(0x42);
  size_t len = 4242;
  prime_detail();
  EXPECT_EQ(lox_results_bytes(nullptr, 0, &data, &len), LOX_EINVAL);
  EXPECT_DETAIL2("results", "bytes");
  prime_detail();
  EXPECT_EQ(lox_results_bytes(r.get(), 2, &data, &len), LOX_EINVAL) << "index out of range";
  EXPECT_DETAIL2("results", "bytes");
  prime_detail();
  EXPECT_EQ(lox_results_bytes(r.get(), static_cast<size_t>(-1), &data, &len), LOX_EINVAL);
  prime_detail();
  EXPECT_EQ(lox_results_bytes(r.get(), 0, nullptr, &len), LOX_EINVAL);
  EXPECT_DETAIL2("results", "bytes");
  prime_detail();
  EXPECT_EQ(lox_results_bytes(r.get(), 0, &data, nullptr), LOX_EINVAL);
  EXPECT_DETAIL2("results", "bytes");
  EXPECT_EQ(data, reinterpret_cast<const void*>(0x42)) << "outputs untouched on error";
  EXPECT_EQ(len, 4242u) << "outputs untouched on error";

  ASSERT_EQ(lox_results_bytes(r.get(), 0, &data, &len), LOX_OK);
  ASSERT_EQ(len, sizeof(Reply));
  Reply rep;
  std::memcpy(&rep, data, sizeof rep);
  EXPECT_EQ(rep.value, 12);
  // The same pointer each time: it points into r.
  const void* again = nullptr;
  size_t len2 = 0;
  ASSERT_EQ(lox_results_bytes(r.get(), 0, &again, &len2), LOX_OK);
  EXPECT_EQ(again, data);
  EXPECT_EQ(len2, len);

  prime_detail();
  EXPECT_EQ(lox_results_status(r.get(), 2), LOX_EINVAL);
  EXPECT_DETAIL2("results", "status");
  EXPECT_EQ(lox_results_status(nullptr, 0), LOX_EINVAL);
  EXPECT_EQ(lox_results_status(r.get(), 1), 7);
  EXPECT_EQ(lox_results_error(r.get(), 0), nullptr);
  EXPECT_NE(lox_results_error(r.get(), 1), nullptr);
  EXPECT_EQ(lox_results_error(r.get(), 2), nullptr) << "out of range";
  EXPECT_EQ(lox_results_error(nullptr, 0), nullptr);
  // Process results hold bytes, not values.
  EXPECT_EQ(lox_results_value(r.get(), 0), nullptr);
  EXPECT_EQ(lox_results_value(r.get(), 2), nullptr);

  // Thread-pool results hold values, not bytes.
  Pool tp = make_pool(1, identity_task);
  ASSERT_EQ(lox_thread_scatter(tp.get(), to_ptr(5), nullptr), LOX_OK);
  Results tr = gather_ok(tp.get());
  data = reinterpret_cast<const void*>(0x42);
  len = 4242;
  prime_detail();
  EXPECT_EQ(lox_results_bytes(tr.get(), 0, &data, &len), LOX_EINVAL);
  EXPECT_DETAIL2("results", "bytes");
  EXPECT_EQ(data, reinterpret_cast<const void*>(0x42));
  EXPECT_EQ(len, 4242u);
  lox_results_destroy(nullptr);  // a no-op
}

// ----------------------------------------------------------------- buffer --

struct AppendRcs {
  int32_t null_data_len5;
  int32_t null_data_len0;
  int32_t data_len0;
  int32_t abc;
  int32_t def;
};

int append_rules_fn(void*, const void*, size_t, lox_buffer* out) {
  AppendRcs rcs{};
  rcs.null_data_len5 = lox_buffer_append(out, nullptr, 5);
  rcs.null_data_len0 = lox_buffer_append(out, nullptr, 0);
  rcs.data_len0 = lox_buffer_append(out, "zz", 0);
  rcs.abc = lox_buffer_append(out, "abc", 3);
  rcs.def = lox_buffer_append(out, "def", 3);
  return lox_buffer_append(out, &rcs, sizeof rcs) == LOX_OK ? 0 : 1;
}

void check_append_rules(size_t n_workers) {
  Proc p = make_proc(n_workers, append_rules_fn);
  ASSERT_EQ(lox_process_scatter(p.get(), "x", 1, nullptr), LOX_OK);
  Results r = pgather_ok(p.get());
  ASSERT_EQ(lox_results_count(r.get()), 1u);
  std::string b = bytes_at(r.get(), 0);
  ASSERT_EQ(b.size(), 6 + sizeof(AppendRcs)) << "the refused append added nothing";
  EXPECT_EQ(b.substr(0, 6), "abcdef");
  AppendRcs rcs;
  std::memcpy(&rcs, b.data() + 6, sizeof rcs);
  EXPECT_EQ(rcs.null_data_len5, LOX_EINVAL) << "data NULL with len > 0";
  EXPECT_EQ(rcs.null_data_len0, LOX_OK) << "data NULL with len 0";
  EXPECT_EQ(rcs.data_len0, LOX_OK);
  EXPECT_EQ(rcs.abc, LOX_OK);
  EXPECT_EQ(rcs.def, LOX_OK);
}

TEST(ProcessBuffer, AppendRulesInAWorker) { check_append_rules(1); }

TEST(ProcessBuffer, AppendRulesInline) { check_append_rules(0); }

TEST(ProcessBuffer, NullBufferIsRefused) {
  prime_detail();
  EXPECT_EQ(lox_buffer_append(nullptr, "x", 1), LOX_EINVAL);
  EXPECT_DETAIL2("buffer", "append");
  prime_detail();
  EXPECT_EQ(lox_buffer_append(nullptr, nullptr, 0), LOX_EINVAL);
  EXPECT_DETAIL2("buffer", "append");
}

// ------------------------------------------------- what a worker inherits --

TEST(ProcessInherit, WorkersSeeThisProcessAsOfCreate) {
  QuietLog quiet;
  static int value = 0;  // a global and a heap object, both changed after create
  auto heap = std::make_unique<int>(10);
  value = 1;
  Proc p1 = make_proc(1, command_fn, &value);
  Proc p2 = make_proc(1, command_fn, heap.get());
  value = 2;
  *heap = 20;
  ASSERT_EQ(scatter_cmd(p1.get(), cmd(kCtxValue)), LOX_OK);
  ASSERT_EQ(scatter_cmd(p1.get(), cmd(kSegv)), LOX_OK);  // its replacement too
  ASSERT_EQ(scatter_cmd(p1.get(), cmd(kCtxValue)), LOX_OK);
  ASSERT_EQ(scatter_cmd(p2.get(), cmd(kCtxValue)), LOX_OK);
  Results r1 = pgather_expect(p1.get(), LOX_ETASK);
  Results r2 = pgather_ok(p2.get());
  ASSERT_EQ(lox_results_count(r1.get()), 3u);
  EXPECT_EQ(reply_at(r1.get(), 0).value, 1);
  EXPECT_EQ(lox_results_status(r1.get(), 1), LOX_EWORKER);
  EXPECT_EQ(reply_at(r1.get(), 2).value, 1) << "a replacement worker is also a copy as of create";
  EXPECT_NE(reply_at(r1.get(), 2).pid, reply_at(r1.get(), 0).pid) << "the crashed worker was replaced";
  ASSERT_EQ(lox_results_count(r2.get()), 1u);
  EXPECT_EQ(reply_at(r2.get(), 0).value, 10);
}

// Reports, for a worker: how many of its descriptors lead to the probe file
// (must be 0: only stdio is kept), and which of 0, 1, 2 are open (bits).
struct FdProbe {
  char path[256];
};

int fd_probe_fn(void* ctx, const void*, size_t, lox_buffer* out) {
  auto* probe = static_cast<FdProbe*>(ctx);
  int32_t leaked = 0;
  for (int fd : open_fds())
    if (fd_target(fd) == probe->path) ++leaked;
  int32_t stdio = 0;
  for (int fd = 0; fd < 3; ++fd)
    if (fcntl(fd, F_GETFD) != -1) stdio |= 1 << fd;
  int32_t v[3] = {leaked, stdio, static_cast<int32_t>(getpid())};
  return lox_buffer_append(out, v, sizeof v) == LOX_OK ? 0 : 1;
}

TEST(ProcessInherit, WorkersKeepOnlyStdio) {
  FdProbe probe{};
  std::snprintf(probe.path, sizeof probe.path, "/tmp/lox_fd_probe_XXXXXX");
  int fd = mkstemp(probe.path);
  ASSERT_GE(fd, 0);
  // Inheritable (no close-on-exec): the fork server must close it anyway.
  ASSERT_EQ(fcntl(fd, F_SETFD, 0), 0);
  int parent_stdio = 0;
  for (int k = 0; k < 3; ++k)
    if (fcntl(k, F_GETFD) != -1) parent_stdio |= 1 << k;
  {
    Proc p = make_proc(2, fd_probe_fn, &probe);
    for (int i = 0; i < 4; ++i) ASSERT_EQ(lox_process_scatter(p.get(), "x", 1, nullptr), LOX_OK);
    Results r = pgather_ok(p.get());
    ASSERT_EQ(lox_results_count(r.get()), 4u);
    for (size_t i = 0; i < 4; ++i) {
      std::string b = bytes_at(r.get(), i);
      int32_t v[3] = {-1, -1, -1};
      ASSERT_EQ(b.size(), sizeof v);
      std::memcpy(v, b.data(), sizeof v);
      EXPECT_NE(v[2], getpid());
      EXPECT_EQ(v[0], 0) << "a worker inherited the test's descriptor to " << probe.path;
      EXPECT_EQ(v[1], parent_stdio) << "workers keep stdin, stdout and stderr";
    }
  }
  close(fd);
  unlink(probe.path);
}

TEST(ProcessInherit, PoolDescriptorsAreCloseOnExec) {
  warm_up_process_pool();
  auto before = open_fds();
  Proc p = make_proc(2, command_fn);
  for (int32_t i = 0; i < 4; ++i) ASSERT_EQ(scatter_cmd(p.get(), cmd(kMul, i, 2)), LOX_OK);
  Results r = pgather_ok(p.get());
  auto added = fds_minus(open_fds(), before);
  for (int fd : added) {
    int flags = fcntl(fd, F_GETFD);
    if (flags == -1) continue;  // closed meanwhile
    EXPECT_TRUE(flags & FD_CLOEXEC) << "fd " << fd << " -> " << fd_target(fd) << " is not close-on-exec";
  }
}

}  // namespace
