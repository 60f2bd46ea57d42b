// SPDX-License-Identifier: Apache-2.0
// Rounds of the thread pool: gather timeouts (nothing lost, *out untouched),
// the "reopen" and "abandoned round" rules, concurrent gathers and
// scatters, progress reporting, and calls made from inside the pool's own
// tasks.
#include <lox/lox.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <latch>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "progress_log.hpp"
#include "test_util.hpp"
#include "timed_call.hpp"

using namespace loxtest;

namespace {

// A pool whose default task blocks on a gate, then returns its argument.
struct Gated {
  Gate gate;
  Counter started;
  Counter finished;
};

int gated_task(void* ctx, void* arg, void** result) {
  auto* g = static_cast<Gated*>(ctx);
  g->started.add();
  bool opened = g->gate.wait();
  *result = arg;
  g->finished.add();
  return opened ? 0 : 99;  // 99: the gate never opened (test bug or hang)
}

// Untimed companion for scatter_fn: returns its argument at once.
int quick_task(void*, void* arg, void** result) {
  *result = arg;
  return 0;
}

bool is_increasing(const std::vector<intptr_t>& v) {
  return std::adjacent_find(v.begin(), v.end(), [](intptr_t a, intptr_t b) { return a >= b; }) == v.end();
}

// ---------------------------------------------------------------- timeout --

TEST(GatherTimeout, TimesOutLeavesOutUntouchedAndLosesNothing) {
  Gated g;
  Pool p = make_pool(2, gated_task, &g);
  for (intptr_t i = 0; i < 3; ++i) ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr(i + 10), nullptr), LOX_OK);

  // Prime the error detail: a timeout is an outcome, it leaves no trace.
  ASSERT_EQ(lox_results_status(nullptr, 0), LOX_EINVAL);
  const std::string detail = lox_last_error();

  lox_gather_opts o;
  lox_gather_opts_init(&o);
  o.timeout = 0.05;
  auto* sentinel = reinterpret_cast<lox_results*>(0xBEEF);
  lox_results* out = sentinel;
  EXPECT_EQ(lox_thread_gather(p.get(), &o, &out), LOX_TIMEOUT);
  EXPECT_EQ(out, sentinel);
  EXPECT_EQ(std::string(lox_last_error()), detail);

  g.gate.open();
  Results r = gather_ok(p.get());
  EXPECT_EQ(values(r.get()), (std::vector<intptr_t>{10, 11, 12}));
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(lox_results_status(r.get(), i), 0);
  Results empty = gather_ok(p.get());
  EXPECT_EQ(lox_results_count(empty.get()), 0u);
}

TEST(GatherTimeout, ZeroTriesOnce) {
  Gated g;
  Pool p = make_pool(2, gated_task, &g);
  // Empty round: 0 succeeds at once.
  int rc = -100;
  Results e = gather(p.get(), &rc, 0.0);
  EXPECT_EQ(rc, LOX_OK);
  EXPECT_EQ(lox_results_count(e.get()), 0u);

  for (intptr_t i = 0; i < 4; ++i) ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr(i), nullptr), LOX_OK);
  for (int k = 0; k < 5; ++k) {
    lox_results* out = reinterpret_cast<lox_results*>(0x77);
    lox_gather_opts o = LOX_GATHER_OPTS_INIT;
    o.timeout = 0.0;
    EXPECT_EQ(lox_thread_gather(p.get(), &o, &out), LOX_TIMEOUT);
    EXPECT_EQ(out, reinterpret_cast<lox_results*>(0x77));
  }
  g.gate.open();
  // Poll with timeout 0 until the round is complete: every TIMEOUT in
  // between must leave the round intact.
  Results r = poll_gather<Results>([&](int* st) { return gather(p.get(), st, 0.0); });
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(values(r.get()), (std::vector<intptr_t>{0, 1, 2, 3}));
}

TEST(GatherTimeout, ReopenedRoundContinuesItsNumbering) {
  // Nothing was scattered after the timed-out gather began: the round is
  // reopened, later scatters continue its numbering, the next gather
  // returns everything.
  Gated g;
  Pool p = make_pool(2, gated_task, &g);
  for (intptr_t i = 0; i < 3; ++i) {
    size_t index = 99;
    ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr(i), &index), LOX_OK);
    EXPECT_EQ(index, static_cast<size_t>(i));
  }
  for (int k = 0; k < 3; ++k) {  // several timeouts in a row
    int rc = -100;
    Results none = gather(p.get(), &rc, 0.02);
    ASSERT_EQ(rc, LOX_TIMEOUT);
    EXPECT_EQ(none, nullptr);
  }
  for (intptr_t i = 3; i < 6; ++i) {
    size_t index = 99;
    ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr(i), &index), LOX_OK);
    EXPECT_EQ(index, static_cast<size_t>(i)) << "numbering continues after a reopened round";
  }
  g.gate.open();
  Results r = gather_ok(p.get());
  EXPECT_EQ(values(r.get()), (std::vector<intptr_t>{0, 1, 2, 3, 4, 5}));
  Results empty = gather_ok(p.get());
  EXPECT_EQ(lox_results_count(empty.get()), 0u);
}

TEST(GatherTimeout, ReopenedRoundWhoseTasksAllFinished) {
  // The timed-out round gets more tasks after it was reopened, and its
  // first tasks have all finished meanwhile: the next gather must still
  // wait for the new ones and return all of them.
  Gated g;
  Pool p = make_pool(2, gated_task, &g);
  intptr_t v = 0;
  ASSERT_EQ(lox_thread_scatter_fn(p.get(), quick_task, nullptr, to_ptr(v++), nullptr), LOX_OK);
  ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr(v++), nullptr), LOX_OK);  // gated
  int rc = -100;
  Results none = gather(p.get(), &rc, 0.02);
  ASSERT_EQ(rc, LOX_TIMEOUT);
  g.gate.open();
  ASSERT_TRUE(g.finished.wait_at_least(1));
  Gated g2;
  size_t index = 0;
  ASSERT_EQ(lox_thread_scatter_fn(p.get(), gated_task, &g2, to_ptr(v++), &index), LOX_OK);
  EXPECT_EQ(index, 2u);
  std::atomic<bool> returned{false};
  Results r;
  std::thread gatherer([&] {
    r = gather_ok(p.get());
    returned = true;
  });
  ASSERT_TRUE(g2.started.wait_at_least(1));
  EXPECT_FALSE(returned.load()) << "gather returned before the reopened round's last task finished";
  g2.gate.open();
  gatherer.join();
  EXPECT_EQ(values(r.get()), (std::vector<intptr_t>{0, 1, 2}));
}

// The abandoned-round rule: another thread scattered while the gather
// waited, then the gather timed out. The next gather returns the timed-out
// round alone; the one after returns the later tasks.
//
// "While it waited" is made certain without timing: the helper scatters
// probes until scatter returns index 0, which proves the gather sealed the
// round (probes before that belong to the first round). If the gather
// happened to time out before the helper got there, the round was reopened
// instead (a different, also valid, path), and the attempt is repeated with a
// longer timeout.
TEST(GatherTimeout, AbandonedRoundIsReturnedAloneFirst) {
  bool exercised = false;
  for (double timeout : {0.5, 2.0, 8.0}) {
    Gated g;
    Pool p = make_pool(3, gated_task, &g);
    for (intptr_t i = 0; i < 3; ++i) ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr(i), nullptr), LOX_OK);

    std::atomic<bool> timed_out{false};
    std::atomic<bool> saw_new_round{false};
    std::vector<intptr_t> before_seal;  // probes that went into round 1
    std::vector<intptr_t> round2;
    Gate go;
    std::thread helper([&] {
      ASSERT_TRUE(go.wait());
      intptr_t arg = 1000;
      while (!timed_out.load()) {
        size_t index = 0;
        ASSERT_EQ(lox_thread_scatter_fn(p.get(), quick_task, nullptr, to_ptr(arg), &index), LOX_OK);
        if (index == 0) {
          saw_new_round = true;
          round2.push_back(arg);
          ASSERT_EQ(lox_thread_scatter_fn(p.get(), quick_task, nullptr, to_ptr(arg + 1), &index), LOX_OK);
          EXPECT_EQ(index, 1u);
          round2.push_back(arg + 1);
          return;
        }
        EXPECT_EQ(index, before_seal.size() + 3);
        before_seal.push_back(arg++);
        std::this_thread::yield();
      }
    });
    go.open();
    int rc = -100;
    Results none = gather(p.get(), &rc, timeout);
    timed_out = true;
    helper.join();
    ASSERT_EQ(rc, LOX_TIMEOUT);
    EXPECT_EQ(none, nullptr);
    g.gate.open();

    std::vector<intptr_t> expect1 = {0, 1, 2};
    expect1.insert(expect1.end(), before_seal.begin(), before_seal.end());
    if (!saw_new_round) {
      // Reopened instead: everything comes back in one round.
      Results all = gather_ok(p.get());
      EXPECT_EQ(values(all.get()), expect1);
      continue;
    }
    Results r1 = gather_ok(p.get());
    EXPECT_EQ(values(r1.get()), expect1) << "the timed-out round comes back alone";
    Results r2 = gather_ok(p.get());
    EXPECT_EQ(values(r2.get()), round2) << "the later round comes next";
    Results r3 = gather_ok(p.get());
    EXPECT_EQ(lox_results_count(r3.get()), 0u);
    exercised = true;
    break;
  }
  EXPECT_TRUE(exercised) << "the helper never scattered while the gather waited";
}

TEST(GatherTimeout, AbandonedRoundIsNotMergedWithScattersAfterTheTimeout) {
  // Same as above, and more scatters after the timeout: they belong to the
  // later round (the one the helper opened), not to the abandoned one.
  for (double timeout : {0.5, 2.0, 8.0}) {
    Gated g;
    Pool p = make_pool(3, gated_task, &g);
    ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr(0), nullptr), LOX_OK);
    std::atomic<bool> timed_out{false}, saw_new_round{false};
    std::vector<intptr_t> before_seal;
    std::thread helper([&] {
      intptr_t arg = 1000;
      while (!timed_out.load()) {
        size_t index = 0;
        ASSERT_EQ(lox_thread_scatter_fn(p.get(), quick_task, nullptr, to_ptr(arg), &index), LOX_OK);
        if (index == 0) {
          saw_new_round = true;
          return;
        }
        before_seal.push_back(arg++);
        std::this_thread::yield();
      }
    });
    int rc = -100;
    Results none = gather(p.get(), &rc, timeout);
    timed_out = true;
    helper.join();
    ASSERT_EQ(rc, LOX_TIMEOUT);
    if (!saw_new_round) {
      g.gate.open();
      continue;
    }
    const intptr_t helper_arg = 1000 + static_cast<intptr_t>(before_seal.size());
    size_t index = 99;
    ASSERT_EQ(lox_thread_scatter_fn(p.get(), quick_task, nullptr, to_ptr(5000), &index), LOX_OK);
    EXPECT_EQ(index, 1u) << "continues the helper's round";
    g.gate.open();
    std::vector<intptr_t> expect1 = {0};
    expect1.insert(expect1.end(), before_seal.begin(), before_seal.end());
    Results r1 = gather_ok(p.get());
    EXPECT_EQ(values(r1.get()), expect1);
    Results r2 = gather_ok(p.get());
    EXPECT_EQ(values(r2.get()), (std::vector<intptr_t>{helper_arg, 5000}));
    return;
  }
  ADD_FAILURE() << "the helper never scattered while the gather waited";
}

// -------------------------------------------------------- concurrent gathers --

TEST(ConcurrentGather, TwoGatherersGetDisjointRounds) {
  // Deterministic: A gathers a blocked round; once scatter restarts at index
  // 0 (A sealed its round), B gathers the later round and returns while A is
  // still waiting.
  Gated g;
  Pool p = make_pool(4, gated_task, &g);
  for (intptr_t i = 0; i < 3; ++i) ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr(i), nullptr), LOX_OK);
  std::atomic<bool> a_returned{false};
  Results ra;
  std::thread a([&] {
    ra = gather_ok(p.get());
    a_returned = true;
  });
  std::vector<intptr_t> round1 = {0, 1, 2}, round2;
  intptr_t arg = 100;
  for (;;) {
    size_t index = 0;
    ASSERT_EQ(lox_thread_scatter_fn(p.get(), quick_task, nullptr, to_ptr(arg), &index), LOX_OK);
    if (index == 0) {
      round2.push_back(arg++);
      break;
    }
    round1.push_back(arg++);
    std::this_thread::yield();
  }
  for (int k = 0; k < 5; ++k) {
    ASSERT_EQ(lox_thread_scatter_fn(p.get(), quick_task, nullptr, to_ptr(arg), nullptr), LOX_OK);
    round2.push_back(arg++);
  }
  Results rb = gather_ok(p.get());
  EXPECT_FALSE(a_returned.load()) << "A's round is still blocked";
  EXPECT_EQ(values(rb.get()), round2);
  g.gate.open();
  a.join();
  EXPECT_EQ(values(ra.get()), round1);
}

TEST(ConcurrentGather, StressDisjointOrderedAndComplete) {
  // One scatterer, two gatherers in a loop: every round is in scatter order,
  // rounds are disjoint and together hold every task exactly once.
  constexpr intptr_t kTasks = 20000;
  Pool p = make_pool(4, identity_task);
  std::atomic<bool> scattering{true};
  std::mutex mu;
  std::vector<std::vector<intptr_t>> rounds;
  auto gatherer = [&] {
    for (;;) {
      bool last = !scattering.load();
      Results r = gather_ok(p.get());
      auto v = values(r.get());
      if (!v.empty()) {
        std::lock_guard lk(mu);
        rounds.push_back(std::move(v));
      }
      if (last) return;
    }
  };
  std::thread g1(gatherer), g2(gatherer);
  for (intptr_t i = 0; i < kTasks; ++i) ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr(i), nullptr), LOX_OK);
  scattering = false;
  g1.join();
  g2.join();
  Results rest = gather_ok(p.get());
  if (lox_results_count(rest.get())) rounds.push_back(values(rest.get()));

  std::vector<intptr_t> all;
  for (auto& r : rounds) {
    EXPECT_TRUE(is_increasing(r)) << "a round is out of scatter order";
    // One scatterer: a round is a contiguous run of its tasks.
    EXPECT_EQ(r.back() - r.front() + 1, static_cast<intptr_t>(r.size()));
    all.insert(all.end(), r.begin(), r.end());
  }
  std::sort(all.begin(), all.end());
  ASSERT_EQ(all.size(), static_cast<size_t>(kTasks));
  for (intptr_t i = 0; i < kTasks; ++i) ASSERT_EQ(all[static_cast<size_t>(i)], i);
}

// ------------------------------------------------------- concurrent scatter --

TEST(ConcurrentScatter, EightThreadsEveryTaskOnceAndPerThreadOrder) {
  constexpr int kThreads = 8;
  constexpr intptr_t kPerThread = 4000;
  Pool p = make_pool(4, identity_task);
  std::vector<std::vector<size_t>> indices(kThreads);
  std::latch start(kThreads);
  std::vector<std::thread> ts;
  for (int t = 0; t < kThreads; ++t)
    ts.emplace_back([&, t] {
      start.arrive_and_wait();
      for (intptr_t s = 0; s < kPerThread; ++s) {
        size_t index = 0;
        ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr((static_cast<intptr_t>(t) << 24) | s), &index), LOX_OK);
        indices[t].push_back(index);
      }
    });
  for (auto& t : ts) t.join();
  Results r = gather_ok(p.get());
  ASSERT_EQ(lox_results_count(r.get()), static_cast<size_t>(kThreads * kPerThread));

  std::vector<intptr_t> next_seq(kThreads, 0);
  std::set<size_t> all_indices;
  for (size_t i = 0; i < lox_results_count(r.get()); ++i) {
    intptr_t v = value_at(r.get(), i);
    int t = static_cast<int>(v >> 24);
    intptr_t s = v & 0xffffff;
    ASSERT_GE(t, 0);
    ASSERT_LT(t, kThreads);
    // Per-thread order preserved, each task exactly once.
    ASSERT_EQ(s, next_seq[t]) << "thread " << t << " at result " << i;
    // scatter's index is the task's position in the results.
    ASSERT_EQ(indices[t][static_cast<size_t>(s)], i);
    ++next_seq[t];
  }
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(next_seq[t], kPerThread);
}

// --------------------------------------------------------------- progress --

int jitter_task(void*, void* arg, void** result) {
  if (from_ptr(arg) % 7 == 0) std::this_thread::sleep_for(std::chrono::microseconds(200));
  *result = arg;
  return 0;
}

// Gathers `p`'s round with a progress log in this thread, expecting status
// `want`, and checks the progress calls against `total`.
Results gather_with_progress(lox_thread* p, int want, size_t total) {
  ProgressLog log;
  log.expected_thread = std::this_thread::get_id();
  lox_gather_opts o = progress_opts(log);
  lox_results* out = nullptr;
  EXPECT_EQ(lox_thread_gather(p, &o, &out), want);
  Results r(out);
  check_progress_calls(log, total);
  return r;
}

TEST(Progress, CalledInGatheringThreadNeverConcurrentlyEndingAtTotal) {
  Pool p = make_pool(4, jitter_task);
  constexpr size_t n = 500;
  for (size_t i = 0; i < n; ++i)
    ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr(static_cast<intptr_t>(i)), nullptr), LOX_OK);
  Results r = gather_with_progress(p.get(), LOX_OK, n);
  EXPECT_EQ(lox_results_count(r.get()), n);
}

TEST(Progress, EmptyRoundReportsZeroOfZero) {
  Pool p = make_pool(4, identity_task);
  Results r = gather_with_progress(p.get(), LOX_OK, 0);
  EXPECT_EQ(lox_results_count(r.get()), 0u);
}

TEST(Progress, FailedRoundStillEndsAtTotal) {
  QuietLog quiet;
  Pool p = make_pool(2, [](void*, void* arg, void**) -> int { return from_ptr(arg) == 3 ? 5 : 0; });
  for (intptr_t i = 0; i < 8; ++i) ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr(i), nullptr), LOX_OK);
  gather_with_progress(p.get(), LOX_ETASK, 8);
}

// A thread that gathers `p`'s round with progress into `log` (its own id is
// the expected one, set before the gather starts), expecting LOX_OK; the
// results go to `r`.
std::thread gathering_thread(lox_thread* p, ProgressLog& log, Results& r) {
  return std::thread([p, &log, &r] {
    log.expected_thread = std::this_thread::get_id();
    lox_gather_opts o = progress_opts(log);
    lox_results* out = nullptr;
    EXPECT_EQ(lox_thread_gather(p, &o, &out), LOX_OK);
    r.reset(out);
  });
}

TEST(Progress, FirstCallWhenTheWaitStarts) {
  // Nothing can finish (every task is gated): the callback is still called
  // once the wait starts, with the count already finished (0).
  Gated g;
  Pool p = make_pool(2, gated_task, &g);
  for (intptr_t i = 0; i < 3; ++i) ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr(i), nullptr), LOX_OK);
  ProgressLog log;
  Results r;
  std::thread gatherer = gathering_thread(p.get(), log, r);
  expect_first_call(log, 3);
  g.gate.open();
  gatherer.join();
  EXPECT_EQ(lox_results_count(r.get()), 3u);
  check_progress_calls(log, 3);
}

TEST(Progress, NotCalledAfterATimeout) {
  Gated g;
  Pool p = make_pool(2, gated_task, &g);
  for (intptr_t i = 0; i < 3; ++i) ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr(i), nullptr), LOX_OK);
  ProgressLog log;
  log.expected_thread = std::this_thread::get_id();
  lox_gather_opts o = progress_opts(log);
  o.timeout = 0.02;
  lox_results* out = nullptr;
  ASSERT_EQ(lox_thread_gather(p.get(), &o, &out), LOX_TIMEOUT);
  size_t calls_at_timeout;
  {
    std::lock_guard lk(log.mu);
    calls_at_timeout = log.calls.size();
    for (auto [done, total] : log.calls) EXPECT_LT(done, total) << "reported complete, then timed out";
  }
  g.gate.open();
  Results r = gather_ok(p.get());  // without a callback
  ASSERT_EQ(lox_results_count(r.get()), 3u);
  std::lock_guard lk(log.mu);
  EXPECT_EQ(log.calls.size(), calls_at_timeout);
}

// Each task blocks on its own gate; releasing them one at a time, the
// gathering thread's progress callback must report each newly finished task
// before the next one is released ("called each time the count of finished
// tasks grows").
struct StepGates {
  std::vector<std::unique_ptr<Gate>> gates;
};
int step_task(void* ctx, void* arg, void** result) {
  auto* s = static_cast<StepGates*>(ctx);
  bool ok = s->gates[static_cast<size_t>(from_ptr(arg))]->wait();
  *result = arg;
  return ok ? 0 : 99;
}

TEST(Progress, ReportsEachTaskAsItFinishes) {
  constexpr size_t n = 6;
  StepGates steps;
  for (size_t i = 0; i < n; ++i) steps.gates.push_back(std::make_unique<Gate>());
  Pool p = make_pool(1, step_task, &steps);
  for (size_t i = 0; i < n; ++i)
    ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr(static_cast<intptr_t>(i)), nullptr), LOX_OK);
  ProgressLog log;
  Results r;
  std::thread gatherer = gathering_thread(p.get(), log, r);
  // Gathering thread's id is set before gather runs; calls read it after.
  for (size_t k = 0; k < n; ++k) {
    steps.gates[k]->open();
    std::unique_lock lk(log.mu);
    bool reported = log.cv.wait_for(lk, 10s, [&] { return !log.calls.empty() && log.calls.back().first >= k + 1; });
    EXPECT_TRUE(reported) << "task " << k << " finished but progress never reported done >= " << k + 1;
    if (!reported) {
      lk.unlock();
      for (auto& gt : steps.gates) gt->open();  // let the test end
      break;
    }
  }
  gatherer.join();
  ASSERT_EQ(lox_results_count(r.get()), n);
  check_progress_calls(log, n);
}

TEST(Progress, BarPrintsNothingWhenStderrIsNotATerminal) {
  Pool p = make_pool(3, jitter_task);
  for (intptr_t i = 0; i < 200; ++i) ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr(i), nullptr), LOX_OK);
  std::string text;
  {
    StderrCapture cap;
    ASSERT_EQ(isatty(2), 0);
    lox_gather_opts o = LOX_GATHER_OPTS_INIT;
    o.progress_bar = 1;
    lox_results* out = nullptr;
    EXPECT_EQ(lox_thread_gather(p.get(), &o, &out), LOX_OK);
    Results r(out);
    EXPECT_EQ(lox_results_count(out), 200u);
    // Together with a callback, and for an empty round.
    ProgressLog log;
    log.expected_thread = std::this_thread::get_id();
    o.progress = progress_cb;
    o.progress_ctx = &log;
    EXPECT_EQ(lox_thread_gather(p.get(), &o, &out), LOX_OK);
    Results e(out);
    check_progress_calls(log, 0);
    text = cap.text();
  }
  EXPECT_EQ(text, "") << "progress bar drawn although stderr is not a terminal";
}

TEST(Progress, CallbackMayScatterToThePool) {
  // The callback must not gather, but scattering is fine: those tasks form
  // the next round.
  Pool p = make_pool(2, identity_task);
  for (intptr_t i = 0; i < 10; ++i) ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr(i), nullptr), LOX_OK);
  struct Ctx {
    lox_thread* pool;
    int scattered = 0;
  } ctx{p.get()};
  lox_gather_opts o = LOX_GATHER_OPTS_INIT;
  o.progress = [](void* c, size_t, size_t) {
    auto* x = static_cast<Ctx*>(c);
    if (lox_thread_scatter(x->pool, to_ptr(100 + x->scattered), nullptr) == LOX_OK) ++x->scattered;
  };
  o.progress_ctx = &ctx;
  lox_results* out = nullptr;
  ASSERT_EQ(lox_thread_gather(p.get(), &o, &out), LOX_OK);
  Results r1(out);
  EXPECT_EQ(values(r1.get()), (std::vector<intptr_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  ASSERT_GE(ctx.scattered, 1);
  Results r2 = gather_ok(p.get());
  ASSERT_EQ(lox_results_count(r2.get()), static_cast<size_t>(ctx.scattered));
  for (int i = 0; i < ctx.scattered; ++i) EXPECT_EQ(value_at(r2.get(), static_cast<size_t>(i)), 100 + i);
}

// ------------------------------------------------ from inside a pool's task --

struct SelfCtx {
  lox_thread* self = nullptr;
  lox_thread* other = nullptr;
  std::atomic<int> gather_rc{12345};
  std::string gather_detail;
  std::string destroy_detail;
  std::atomic<int> other_rc{12345};
  size_t other_count = 0;
};

int gather_self_task(void* ctx, void* arg, void** result) {
  auto* c = static_cast<SelfCtx*>(ctx);
  lox_results* out = reinterpret_cast<lox_results*>(0x31);
  lox_gather_opts o = LOX_GATHER_OPTS_INIT;
  c->gather_rc = lox_thread_gather(c->self, &o, &out);
  c->gather_detail = lox_last_error();
  if (out != reinterpret_cast<lox_results*>(0x31)) return 50;  // *out touched
  *result = arg;
  return 0;
}

TEST(Reentrancy, GatherFromInsideOwnTaskIsEState) {
  SelfCtx c;
  Pool p = make_pool(2, gather_self_task, &c);
  c.self = p.get();
  ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr(7), nullptr), LOX_OK);
  Results r = gather_ok(p.get());  // would deadlock if the inner gather waited
  ASSERT_EQ(lox_results_count(r.get()), 1u);
  EXPECT_EQ(lox_results_status(r.get(), 0), 0) << "the inner gather touched *out";
  EXPECT_EQ(value_at(r.get(), 0), 7);
  EXPECT_EQ(c.gather_rc.load(), LOX_ESTATE);
  EXPECT_NE(c.gather_detail.find("thread gather"), std::string::npos) << c.gather_detail;
}

int destroy_self_task(void* ctx, void* arg, void** result) {
  auto* c = static_cast<SelfCtx*>(ctx);
  lox_thread_destroy(c->self);  // must do nothing
  c->destroy_detail = lox_last_error();
  *result = arg;
  return 0;
}

TEST(Reentrancy, DestroyFromInsideOwnTaskDoesNothing) {
  LogCapture logs;
  SelfCtx c;
  Pool p = make_pool(2, destroy_self_task, &c);
  c.self = p.get();
  ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr(8), nullptr), LOX_OK);
  Results r = gather_ok(p.get());
  ASSERT_EQ(lox_results_count(r.get()), 1u);
  EXPECT_EQ(value_at(r.get(), 0), 8);
  EXPECT_NE(c.destroy_detail.find("destroy"), std::string::npos) << c.destroy_detail;
  // An error was logged.
  bool logged = false;
  for (auto& e : logs.entries())
    if (e.level == LOX_LOG_ERROR && e.message.find("destroy") != std::string::npos) logged = true;
  EXPECT_TRUE(logged);
  // The pool still works.
  c.self = nullptr;  // the next tasks would destroy NULL: a no-op
  ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr(9), nullptr), LOX_OK);
  Results r2 = gather_ok(p.get());
  ASSERT_EQ(lox_results_count(r2.get()), 1u);
  EXPECT_EQ(value_at(r2.get(), 0), 9);
}

int gather_other_task(void* ctx, void* arg, void** result) {
  auto* c = static_cast<SelfCtx*>(ctx);
  for (intptr_t i = 0; i < 5; ++i)
    if (lox_thread_scatter(c->other, to_ptr(i), nullptr) != LOX_OK) return 60;
  lox_results* out = nullptr;
  c->other_rc = lox_thread_gather(c->other, nullptr, &out);
  c->other_count = lox_results_count(out);
  lox_results_destroy(out);
  *result = arg;
  return 0;
}

TEST(Reentrancy, TaskMayGatherAnotherPool) {
  SelfCtx c;
  Pool other = make_pool(2, identity_task);
  Pool p = make_pool(2, gather_other_task, &c);
  c.other = other.get();
  ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr(1), nullptr), LOX_OK);
  Results r = gather_ok(p.get());
  ASSERT_EQ(lox_results_count(r.get()), 1u);
  EXPECT_EQ(c.other_rc.load(), LOX_OK);
  EXPECT_EQ(c.other_count, 5u);
}

// A task with argument n scatters n - 1 more tasks into its own pool.
struct TreeCtx {
  lox_thread* pool = nullptr;
  Counter ran;
  std::atomic<int> scatter_failures{0};
};
int tree_task(void* ctx, void* arg, void** result) {
  auto* t = static_cast<TreeCtx*>(ctx);
  intptr_t n = from_ptr(arg);
  for (intptr_t k = 0; k < n; ++k)
    if (lox_thread_scatter(t->pool, to_ptr(k), nullptr) != LOX_OK) t->scatter_failures.fetch_add(1);
  *result = arg;
  t->ran.add();
  return 0;
}

TEST(Reentrancy, TaskCanScatterIntoItsOwnPool) {
  // Tree: root 5 -> children 0..4; child k -> k grandchildren ... total
  // nodes T(n) = 1 + sum_{k<n} T(k) = 2^n.
  TreeCtx t;
  Pool p = make_pool(3, tree_task, &t);
  t.pool = p.get();
  ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr(5), nullptr), LOX_OK);
  ASSERT_TRUE(t.ran.wait_at_least(32));
  // No gather ran meanwhile: all 32 tasks are in one round.
  Results r = gather_ok(p.get());
  ASSERT_EQ(lox_results_count(r.get()), 32u);
  EXPECT_EQ(value_at(r.get(), 0), 5);
  std::map<intptr_t, int> histogram;
  for (auto v : values(r.get())) ++histogram[v];
  // Value k appears 2^(4-k) times for k < 5 (and the root once).
  EXPECT_EQ(histogram[0], 16);
  EXPECT_EQ(histogram[1], 8);
  EXPECT_EQ(histogram[2], 4);
  EXPECT_EQ(histogram[3], 2);
  EXPECT_EQ(histogram[4], 1);
  EXPECT_EQ(histogram[5], 1);
  EXPECT_EQ(t.scatter_failures.load(), 0);
}

TEST(Reentrancy, TasksScatteredDuringGatherGoToLaterRounds) {
  TreeCtx t;
  Pool p = make_pool(3, tree_task, &t);
  t.pool = p.get();
  ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr(8), nullptr), LOX_OK);
  size_t total = 0;
  bool complete = eventually([&] {
    Results r = gather_ok(p.get());
    total += lox_results_count(r.get());
    return total >= 256;
  });
  EXPECT_TRUE(complete) << total;
  EXPECT_EQ(total, 256u);
  ASSERT_TRUE(t.ran.wait_at_least(256));
  Results rest = gather_ok(p.get());
  EXPECT_EQ(lox_results_count(rest.get()), 0u);
  EXPECT_EQ(t.scatter_failures.load(), 0);
}

}  // namespace
