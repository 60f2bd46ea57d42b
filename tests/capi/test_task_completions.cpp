// SPDX-License-Identifier: Apache-2.0
// Results in completion order (lox_thread_completions,
// lox_process_completions, lox_completions_of, lox_completions_next): each
// task delivered once with its index, in the order tasks completed (forced
// with one gate per task, never by timing), those completed before the
// object existed first; a timeout delivers nothing and loses nothing;
// LOX_ECLOSED once everything was delivered; the round is taken (the next
// gather gets the next round); argument errors; destroying the object early.
#include <lox/lox.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "process_util.hpp"
#include "queue_util.hpp"
#include "task_util.hpp"
#include "test_util.hpp"
#include "timed_call.hpp"

using namespace loxtest;

namespace {

// Task i waits for gate i, then returns 10 * i (fails with code 7 when i is
// a multiple of 7 and `fail_sevens`).
struct Gates {
  explicit Gates(size_t n) : gates(n) {}
  std::deque<Gate> gates;
  Counter started;
  bool fail_sevens = false;
};

int gate_task(void* ctx, void* arg, void** result) {
  auto* g = static_cast<Gates*>(ctx);
  const size_t i = static_cast<size_t>(from_ptr(arg));
  g->started.add();
  if (!g->gates[i].wait()) return 99;
  *result = to_ptr(10 * static_cast<intptr_t>(i));
  return g->fail_sevens && i % 7 == 0 ? 7 : 0;
}

Completions thread_completions(lox_thread* p) { return created<lox_completions>(lox_thread_completions, p); }

Completions process_completions(lox_process* p) { return created<lox_completions>(lox_process_completions, p); }

Completions completions_of(const std::vector<lox_task*>& ts) {
  return created<lox_completions>(lox_completions_of, ts.data(), ts.size());
}

// The next delivery, which must come.
Delivery next_ok(lox_completions* c) {
  Delivery d;
  const int rc = next_delivery(c, kMustSeconds, &d);
  EXPECT_EQ(rc, LOX_OK) << lox_status_name(rc) << ": " << lox_last_error();
  return d;
}

// ------------------------------------------------------------- the order --

TEST(TaskCompletions, RoundIsDeliveredInTheForcedCompletionOrder) {
  // Tasks 3 and 1 complete before the completions object exists, then 4, 0,
  // 2: each gate opens only once the previous task completed.
  constexpr size_t n = 5;
  Gates g(n);
  Pool p = make_pool(n, gate_task, &g);
  std::vector<Task> ts;
  for (size_t i = 0; i < n; ++i) ts.push_back(tscatter(p.get(), nullptr, nullptr, to_ptr(static_cast<intptr_t>(i))));
  ASSERT_TRUE(g.started.wait_at_least(n));
  for (size_t i : {3, 1}) {
    g.gates[i].open();
    ASSERT_TRUE(wait_done(ts[i].get()));
  }
  Completions c = thread_completions(p.get());
  EXPECT_EQ(lox_completions_remaining(c.get()), n);
  for (size_t i : {4, 0, 2}) {
    g.gates[i].open();
    ASSERT_TRUE(wait_done(ts[i].get()));
  }
  auto got = drain_completions(c.get());
  // A thread round's slots keep no completion time: those done before the
  // object come first in index order (lox_completions_next).
  EXPECT_EQ(indices_of(got), (std::vector<size_t>{1, 3, 4, 0, 2}));
  for (const Delivery& d : got) {
    EXPECT_EQ(d.value, static_cast<intptr_t>(10 * d.index));
    EXPECT_EQ(d.status, 0);
    EXPECT_EQ(d.error, "(null)");
    EXPECT_EQ(d.task, nullptr) << "a round's deliveries carry no handle";
    EXPECT_FALSE(d.has_data) << "thread tasks have no bytes";
  }
  EXPECT_EQ(lox_completions_remaining(c.get()), 0u);
  // The round was taken: the next gather has nothing of it.
  Results r = gather_ok(p.get());
  EXPECT_EQ(lox_results_count(r.get()), 0u);
}

TEST(TaskCompletions, TasksCompletedBeforeTheObjectComeFirst) {
  // The weaker half of the rule above, on its own: whatever their order,
  // the tasks that had completed (their handles say so) before the object
  // existed are delivered before any that completed later. Repeated, since
  // a completion that is seen by the handle but not yet by the round shows
  // only sometimes.
  for (int attempt = 0; attempt < 20; ++attempt) {
    SCOPED_TRACE("attempt " + std::to_string(attempt));
    constexpr size_t n = 4;
    Gates g(n);
    Pool p = make_pool(n, gate_task, &g);
    std::vector<Task> ts;
    for (size_t i = 0; i < n; ++i) ts.push_back(tscatter(p.get(), nullptr, nullptr, to_ptr(static_cast<intptr_t>(i))));
    ASSERT_TRUE(g.started.wait_at_least(n));
    for (size_t i : {2, 0}) {
      g.gates[i].open();
      ASSERT_TRUE(wait_done(ts[i].get()));
    }
    Completions c = thread_completions(p.get());
    for (size_t i : {3, 1}) {
      g.gates[i].open();
      ASSERT_TRUE(wait_done(ts[i].get()));
    }
    auto got = indices_of(drain_completions(c.get()));
    ASSERT_EQ(got.size(), n);
    std::sort(got.begin(), got.begin() + 2);
    ASSERT_EQ(got, (std::vector<size_t>{0, 2, 3, 1}));
  }
}

TEST(TaskCompletions, EachDeliveryWaitsForTheNextCompletion) {
  constexpr size_t n = 4;
  Gates g(n);
  Pool p = make_pool(n, gate_task, &g);
  for (size_t i = 0; i < n; ++i)
    ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr(static_cast<intptr_t>(i)), nullptr), LOX_OK);
  ASSERT_TRUE(g.started.wait_at_least(n));
  Completions c = thread_completions(p.get());
  for (size_t i : {2, 3, 0, 1}) {
    Delivery none;
    EXPECT_EQ(next_delivery(c.get(), 0, &none), LOX_TIMEOUT) << "delivered before the task completed";
    g.gates[i].open();
    Delivery d = next_ok(c.get());
    EXPECT_EQ(d.index, i);
    EXPECT_EQ(d.value, static_cast<intptr_t>(10 * i));
  }
  Delivery d;
  EXPECT_EQ(next_delivery(c.get(), 0, &d), LOX_ECLOSED);
}

TEST(TaskCompletions, TimeoutDeliversNothingAndLosesNothing) {
  Gates g(2);
  Pool p = make_pool(2, gate_task, &g);
  ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr(0), nullptr), LOX_OK);
  ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr(1), nullptr), LOX_OK);
  Completions c = thread_completions(p.get());
  lox_completed out = completed_init();
  out.index = 4242;
  out.status = -4242;
  EXPECT_EQ(lox_completions_next(c.get(), 0, &out), LOX_TIMEOUT);
  expect_times_out_after_50ms([&] { return lox_completions_next(c.get(), 0.05, &out); });
  EXPECT_EQ(out.index, 4242u) << "a timeout delivers nothing";
  EXPECT_EQ(out.status, -4242);
  EXPECT_EQ(lox_completions_remaining(c.get()), 2u);
  g.gates[1].open();
  Delivery d = next_ok(c.get());
  EXPECT_EQ(d.index, 1u);
  EXPECT_EQ(lox_completions_remaining(c.get()), 1u);
  EXPECT_EQ(next_delivery(c.get(), 0.01, &d), LOX_TIMEOUT);
  g.gates[0].open();
  d = next_ok(c.get());
  EXPECT_EQ(d.index, 0u);
  EXPECT_EQ(d.value, 0);
  EXPECT_EQ(lox_completions_remaining(c.get()), 0u);
  // At the end: LOX_ECLOSED at once, also for an untimed wait, and again.
  finishes_within("completions_next after the last delivery", [&] {
    lox_completed o = completed_init();
    EXPECT_EQ(lox_completions_next(c.get(), LOX_FOREVER, &o), LOX_ECLOSED);
    EXPECT_EQ(lox_completions_next(c.get(), 0, &o), LOX_ECLOSED);
  });
}

TEST(TaskCompletions, EveryTaskOnceWithItsIndexWhilePolling) {
  // 1,000 tasks on 2 workers, some failing; the consumer polls with
  // timeout 0 while they run.
  const size_t n = 1000;
  Gates g(n);
  g.fail_sevens = true;
  for (auto& gate : g.gates) gate.open();
  Pool p = make_pool(2, gate_task, &g);
  for (size_t i = 0; i < n; ++i)
    ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr(static_cast<intptr_t>(i)), nullptr), LOX_OK);
  Completions c = thread_completions(p.get());
  std::map<size_t, Delivery> seen;
  size_t timeouts = 0;
  bool closed = eventually(
      [&] {
        for (;;) {
          Delivery d;
          const int rc = next_delivery(c.get(), 0, &d);
          if (rc == LOX_TIMEOUT) {
            ++timeouts;
            return false;
          }
          if (rc == LOX_ECLOSED) return true;
          EXPECT_EQ(rc, LOX_OK) << lox_last_error();
          if (rc != LOX_OK) return true;
          EXPECT_TRUE(seen.emplace(d.index, d).second) << "index " << d.index << " delivered twice";
          EXPECT_EQ(lox_completions_remaining(c.get()), n - seen.size());
        }
      },
      kMust, std::chrono::microseconds(100));
  EXPECT_TRUE(closed);
  ASSERT_EQ(seen.size(), n);
  for (auto& [i, d] : seen) {
    ASSERT_LT(i, n);
    EXPECT_EQ(d.value, static_cast<intptr_t>(10 * i));
    if (i % 7 == 0) {
      EXPECT_EQ(d.status, 7) << i;
      EXPECT_NE(d.error, "(null)") << "a failed task's delivery has its detail";
    } else {
      EXPECT_EQ(d.status, 0) << i;
      EXPECT_EQ(d.error, "(null)");
    }
  }
}

TEST(TaskCompletions, ProcessRoundInTheForcedCompletionOrder) {
  // Four workers each run one task; task i finishes when the shared gate
  // reaches its turn; each turn begins after the previous delivery.
  Shared sh;
  Proc p = make_proc(4, task_fn, sh.get());
  const int64_t turn_of[4] = {3, 1, 4, 2};  // completion order: 1, 3, 0, 2
  for (int64_t i = 0; i < 4; ++i) ASSERT_EQ(pscatter(p.get(), pcmd(kPWaitTurn, turn_of[i], 100 + i)) != nullptr, true);
  ASSERT_TRUE(eventually([&] { return sh->started.load() == 4; })) << "the four tasks did not run at once";
  Completions c = process_completions(p.get());
  std::vector<size_t> order;
  for (int turn = 1; turn <= 4; ++turn) {
    sh->gate.store(turn);
    Delivery d = next_ok(c.get());
    order.push_back(d.index);
    EXPECT_EQ(d.status, 0) << d.error;
    EXPECT_EQ(d.data, i64_bytes(100 + static_cast<int64_t>(d.index)));
    EXPECT_EQ(d.value, 0) << "process tasks have bytes, not a value";
    EXPECT_EQ(d.error, "(null)");
  }
  EXPECT_EQ(order, (std::vector<size_t>{1, 3, 0, 2}));
  Delivery d;
  EXPECT_EQ(next_delivery(c.get(), 0, &d), LOX_ECLOSED);
  Results r = pgather_ok(p.get());
  EXPECT_EQ(lox_results_count(r.get()), 0u) << "the round was taken";
}

TEST(TaskCompletions, ProcessTasksCompletedBeforeTheObjectComeFirstInTheirOrder) {
  Shared sh;
  Proc p = make_proc(4, task_fn, sh.get());
  const int64_t turn_of[4] = {2, 4, 1, 3};  // completion order: 2, 0, 3, 1
  std::vector<Task> ts;
  for (int64_t i = 0; i < 4; ++i) ts.push_back(pscatter(p.get(), pcmd(kPWaitTurn, turn_of[i], 100 + i)));
  ASSERT_TRUE(eventually([&] { return sh->started.load() == 4; })) << "the four tasks did not run at once";
  sh->gate.store(1);
  ASSERT_TRUE(wait_done(ts[2].get()));
  sh->gate.store(2);
  ASSERT_TRUE(wait_done(ts[0].get()));
  Completions c = process_completions(p.get());
  sh->gate.store(3);
  ASSERT_TRUE(wait_done(ts[3].get()));
  sh->gate.store(4);
  ASSERT_TRUE(wait_done(ts[1].get()));
  auto got = drain_completions(c.get());
  EXPECT_EQ(indices_of(got), (std::vector<size_t>{2, 0, 3, 1}));
  for (const Delivery& d : got) EXPECT_EQ(d.data, i64_bytes(100 + static_cast<int64_t>(d.index)));
}

TEST(TaskCompletions, DeliveredPointersStayValidUntilDestroy) {
  QuietLog quiet;
  Shared sh;
  Proc p = make_proc(2, task_fn, sh.get());
  for (int64_t i = 0; i < 20; ++i)
    ASSERT_NE(i % 3 == 0 ? pscatter(p.get(), pcmd(kPFail, i, 17)) : pscatter(p.get(), pcmd(kPSum, i)), nullptr);
  Completions c = process_completions(p.get());
  std::vector<lox_completed> raw;
  for (;;) {
    lox_completed o = completed_init();
    const int rc = lox_completions_next(c.get(), kMustSeconds, &o);
    if (rc == LOX_ECLOSED) break;
    ASSERT_EQ(rc, LOX_OK) << lox_last_error();
    raw.push_back(o);
  }
  ASSERT_EQ(raw.size(), 20u);
  for (const lox_completed& o : raw) {  // read after every later delivery
    const int64_t i = static_cast<int64_t>(o.index);
    if (i % 3 == 0) {
      EXPECT_EQ(o.status, 17);
      ASSERT_NE(o.error, nullptr);
      EXPECT_EQ(std::string(o.error), "failed on purpose " + std::to_string(i));
    } else {
      EXPECT_EQ(o.status, 0);
      EXPECT_EQ(o.error, nullptr);
      ASSERT_NE(o.data, nullptr);
      EXPECT_EQ(std::string(static_cast<const char*>(o.data), o.len), i64_bytes(i));
    }
  }
}

// ---------------------------------------------------------------- handles --

TEST(TaskCompletions, HandlesFromTwoPoolsByPositionInTheSet) {
  Gates g(2);
  Pool tp = make_pool(2, gate_task, &g);
  Shared sh;
  Proc pp = make_proc(1, task_fn, sh.get());
  Task done = tscatter(tp.get(), identity_task, nullptr, to_ptr(77));
  ASSERT_TRUE(wait_done(done.get()));
  Task t0 = tscatter(tp.get(), nullptr, nullptr, to_ptr(0));
  Task pt = pscatter(pp.get(), pcmd(kPWaitTurn, 1, 55));
  Task t1 = tscatter(tp.get(), nullptr, nullptr, to_ptr(1));
  ASSERT_TRUE(t0 && pt && t1);
  std::vector<lox_task*> set{t0.get(), pt.get(), t1.get(), done.get()};
  Completions c = completions_of(set);
  set.clear();  // read during the call only
  EXPECT_EQ(lox_completions_remaining(c.get()), 4u);
  g.gates[1].open();
  ASSERT_TRUE(wait_done(t1.get()));
  sh.open_gate();
  ASSERT_TRUE(wait_done(pt.get()));
  g.gates[0].open();
  ASSERT_TRUE(wait_done(t0.get()));
  auto got = drain_completions(c.get());
  ASSERT_EQ(indices_of(got), (std::vector<size_t>{3, 2, 1, 0})) << "completed before the object first, then in order";
  EXPECT_EQ(got[0].task, done.get());
  EXPECT_EQ(got[0].value, 77);
  EXPECT_EQ(got[1].task, t1.get());
  EXPECT_EQ(got[1].value, 10);
  EXPECT_EQ(got[2].task, pt.get());
  EXPECT_EQ(got[2].data, i64_bytes(55));
  EXPECT_EQ(got[3].task, t0.get());
  EXPECT_EQ(got[3].value, 0);
  // The rounds are untouched: their gathers return the tasks as usual.
  Results rt = gather_ok(tp.get());
  EXPECT_EQ(values(rt.get()), (std::vector<intptr_t>{77, 0, 10}));
  Results rp = pgather_ok(pp.get());
  EXPECT_EQ(bytes_at(rp.get(), 0), i64_bytes(55));
}

TEST(TaskCompletions, HandlesOfCancelledAndDependentTasks) {
  // One worker, held by the blocker: the cancelled task completes at once;
  // its dependent completes with LOX_EDEPENDENCY (when exactly, before or
  // after the blocker, the contract leaves open: the two are compared as a
  // set).
  Gates g(1);
  Pool p = make_pool(1, gate_task, &g);
  Task blocker = tscatter(p.get(), nullptr, nullptr, to_ptr(0));
  ASSERT_TRUE(g.started.wait_at_least(1));
  Task queued = tscatter(p.get(), identity_task, nullptr, to_ptr(5));
  Task dep = tscatter(p.get(), sum_task, nullptr, to_ptr(1), {queued.get()});
  Completions c = completions_of({blocker.get(), queued.get(), dep.get()});
  ASSERT_EQ(lox_task_cancel(queued.get()), LOX_OK);
  Delivery a = next_ok(c.get());
  EXPECT_EQ(a.index, 1u) << "the cancelled task completes first";
  EXPECT_EQ(a.status, LOX_ECANCELLED);
  EXPECT_EQ(a.task, queued.get());
  g.gates[0].open();
  std::map<size_t, Delivery> rest;
  for (int k = 0; k < 2; ++k) {
    Delivery d = next_ok(c.get());
    EXPECT_TRUE(rest.emplace(d.index, d).second) << "index " << d.index << " twice";
  }
  ASSERT_EQ(rest.size(), 2u);
  ASSERT_EQ(rest.count(0), 1u);
  ASSERT_EQ(rest.count(2), 1u);
  EXPECT_EQ(rest[0].status, 0);
  EXPECT_EQ(rest[2].status, LOX_EDEPENDENCY);
  EXPECT_NE(rest[2].error.find("predecessor 0"), std::string::npos) << rest[2].error;
  EXPECT_EQ(rest[2].task, dep.get());
  Delivery none;
  EXPECT_EQ(next_delivery(c.get(), 0, &none), LOX_ECLOSED);
  Results r = gather(p.get());
}

TEST(TaskCompletions, DestroyedEarlyTheTasksStillRun) {
  Gates g(6);
  Pool p = make_pool(6, gate_task, &g);
  std::vector<Task> ts;
  for (size_t i = 0; i < 3; ++i) ts.push_back(tscatter(p.get(), nullptr, nullptr, to_ptr(static_cast<intptr_t>(i))));
  Completions round = thread_completions(p.get());
  for (size_t i = 3; i < 6; ++i) ts.push_back(tscatter(p.get(), nullptr, nullptr, to_ptr(static_cast<intptr_t>(i))));
  Completions set = completions_of({ts[3].get(), ts[4].get(), ts[5].get()});
  g.gates[0].open();
  g.gates[3].open();
  EXPECT_EQ(next_ok(round.get()).index, 0u);
  EXPECT_EQ(next_ok(set.get()).index, 0u);
  round.reset();
  set.reset();
  for (auto& gate : g.gates) gate.open();
  for (auto& t : ts) {
    ASSERT_TRUE(wait_done(t.get()));
    EXPECT_EQ(lox_task_status(t.get()), 0);
  }
  Results r = gather_ok(p.get());
  ASSERT_EQ(lox_results_count(r.get()), 3u) << "only the round scattered after the first was taken";
  EXPECT_EQ(values(r.get()), (std::vector<intptr_t>{30, 40, 50}));
}

TEST(TaskCompletions, TakingTheRoundStartsTheNext) {
  Pool p = make_pool(2, identity_task);
  for (intptr_t i = 0; i < 3; ++i) ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr(i), nullptr), LOX_OK);
  Completions c = thread_completions(p.get());
  for (intptr_t i = 0; i < 2; ++i) {
    size_t index = 99;
    ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr(100 + i), &index), LOX_OK);
    EXPECT_EQ(index, static_cast<size_t>(i));
  }
  Results r = gather_ok(p.get());
  EXPECT_EQ(values(r.get()), (std::vector<intptr_t>{100, 101}));
  auto got = drain_completions(c.get());
  ASSERT_EQ(got.size(), 3u);
  std::vector<bool> seen(3, false);
  for (auto& d : got) {
    ASSERT_LT(d.index, 3u);
    EXPECT_FALSE(seen[d.index]);
    seen[d.index] = true;
    EXPECT_EQ(d.value, static_cast<intptr_t>(d.index));
  }
}

TEST(TaskCompletions, EmptyRoundsAndSets) {
  Pool p = make_pool(1, identity_task);
  Completions c = thread_completions(p.get());
  EXPECT_EQ(lox_completions_remaining(c.get()), 0u);
  Delivery d;
  finishes_within("next on an empty round", [&] { EXPECT_EQ(next_delivery(c.get(), LOX_FOREVER, &d), LOX_ECLOSED); });
  Completions none = created<lox_completions>(lox_completions_of, nullptr, size_t{0});
  EXPECT_EQ(lox_completions_remaining(none.get()), 0u);
  EXPECT_EQ(next_delivery(none.get(), 0, &d), LOX_ECLOSED);
  Proc pp = make_proc(1, task_fn);
  Completions pc = process_completions(pp.get());
  EXPECT_EQ(next_delivery(pc.get(), 0, &d), LOX_ECLOSED);
}

TEST(TaskCompletions, CancelledRoundThroughCompletions) {
  Gates g(4);
  Pool p = make_pool(1, gate_task, &g);
  for (intptr_t i = 0; i < 4; ++i) ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr(i), nullptr), LOX_OK);
  ASSERT_TRUE(g.started.wait_at_least(1));
  Completions c = thread_completions(p.get());
  ASSERT_EQ(lox_thread_cancel(p.get()), LOX_OK);
  std::vector<Delivery> first;
  for (int k = 0; k < 3; ++k) first.push_back(next_ok(c.get()));
  for (auto& d : first) {
    EXPECT_NE(d.index, 0u) << "the running task completed before its gate opened";
    EXPECT_EQ(d.status, LOX_ECANCELLED);
  }
  g.gates[0].open();
  Delivery last = next_ok(c.get());
  EXPECT_EQ(last.index, 0u);
  EXPECT_EQ(last.status, 0);
  EXPECT_EQ(last.value, 0);
}

// ----------------------------------------------------------------- errors --

TEST(TaskCompletionsErrors, NextRefusesBadArgumentsAndConsumesNothing) {
  Pool p = make_pool(1, identity_task);
  ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr(1), nullptr), LOX_OK);
  Completions c = thread_completions(p.get());
  lox_completed o = completed_init();
  EXPECT_EQ(lox_completions_next(nullptr, 0, &o), LOX_EINVAL);
  EXPECT_EQ(lox_completions_next(c.get(), 0, nullptr), LOX_EINVAL);
  prime_detail();
  EXPECT_EQ(lox_completions_next(c.get(), kNaN, &o), LOX_EINVAL);
  EXPECT_NE(std::string(lox_last_error()).find("NaN"), std::string::npos) << lox_last_error();
  for (size_t bad : {size_t{0}, size_t{1}, sizeof(lox_completed) - 1}) {
    lox_completed b = completed_init();
    b.struct_size = bad;
    prime_detail();
    EXPECT_EQ(lox_completions_next(c.get(), kMustSeconds, &b), LOX_EINVAL) << "struct_size " << bad;
    EXPECT_NE(std::string(lox_last_error()).find("struct_size"), std::string::npos) << lox_last_error();
  }
  EXPECT_EQ(lox_completions_remaining(c.get()), 1u) << "a refused call consumes nothing";
  Delivery d = next_ok(c.get());
  EXPECT_EQ(d.index, 0u);
  EXPECT_EQ(d.value, 1);
  EXPECT_EQ(lox_completions_remaining(nullptr), 0u);
  lox_completions_destroy(nullptr);
}

TEST(TaskCompletionsErrors, ConstructorsRefuseBadArguments) {
  Pool p = make_pool(1, identity_task);
  Proc pp = make_proc(1, task_fn);
  lox_completions* sentinel = reinterpret_cast<lox_completions*>(0x31);
  lox_completions* c = sentinel;
  EXPECT_EQ(lox_thread_completions(nullptr, &c), LOX_EINVAL);
  EXPECT_EQ(lox_thread_completions(p.get(), nullptr), LOX_EINVAL);
  EXPECT_EQ(lox_process_completions(nullptr, &c), LOX_EINVAL);
  EXPECT_EQ(lox_process_completions(pp.get(), nullptr), LOX_EINVAL);
  Task t = tscatter(p.get(), nullptr, nullptr, to_ptr(1));
  std::vector<lox_task*> set{t.get()};
  EXPECT_EQ(lox_completions_of(set.data(), 1, nullptr), LOX_EINVAL);
  EXPECT_EQ(lox_completions_of(nullptr, 1, &c), LOX_EINVAL);
  std::vector<lox_task*> with_null{t.get(), nullptr};
  EXPECT_EQ(lox_completions_of(with_null.data(), 2, &c), LOX_EINVAL);
  EXPECT_EQ(c, sentinel) << "*out untouched on error";
  Results r = gather_ok(p.get());
  EXPECT_EQ(lox_results_count(r.get()), 1u) << "refused calls took no round";
}

// From inside one of its tasks, a pool's round cannot be taken.
struct Inside {
  lox_thread* pool = nullptr;
  std::atomic<int> rc{-100};
};
int take_own_round(void* ctx, void*, void**) {
  auto* in = static_cast<Inside*>(ctx);
  lox_completions* c = nullptr;
  in->rc = lox_thread_completions(in->pool, &c);
  lox_completions_destroy(c);
  return 0;
}

TEST(TaskCompletionsErrors, FromInsideAPoolsTaskIsAStateError) {
  Pool p = make_pool(1, take_own_round);
  Inside in{p.get()};
  Task t = tscatter(p.get(), take_own_round, &in, nullptr);
  ASSERT_TRUE(wait_done(t.get()));
  EXPECT_EQ(in.rc.load(), LOX_ESTATE);
  Results r = gather_ok(p.get());
  EXPECT_EQ(lox_results_count(r.get()), 1u);
}

}  // namespace
