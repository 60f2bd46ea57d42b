// SPDX-License-Identifier: Apache-2.0
// Dependencies (lox_scatter_opts.after): chains, diamonds, fan-outs and
// fan-ins of 10,000 tasks across two thread pools of 1 and 2 workers (no
// worker ever blocks on a predecessor), inputs in the order given
// (duplicates included), thread -> process -> thread chains through
// `encode` and the documented framing of a process task's inputs
// (lox_inputs_count / lox_inputs_get), failure propagation (LOX_EDEPENDENCY,
// a detail naming the predecessor, the dependent never runs), predecessors
// from the pool's own earlier round, debug mode (max_workers 0), and
// dependents registered while their predecessor completes.
#include <lox/lox.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "process_util.hpp"
#include "queue_util.hpp"
#include "task_util.hpp"
#include "test_util.hpp"

using namespace loxtest;

namespace {

constexpr size_t kBig = 10000;

// Gathers a round that must complete (fails instead of hanging).
Results gather_round(lox_thread* p, int want = LOX_OK) {
  int rc = -100;
  Results r = gather(p, &rc, kMustSeconds);
  EXPECT_NE(rc, LOX_TIMEOUT) << "the round did not complete within " << kMustSeconds << " s (a worker blocked?)";
  EXPECT_EQ(rc, want) << lox_status_str(rc) << ": " << lox_last_error();
  return r;
}

// A diamond layer's task: both inputs (the previous layer's two tasks) hold
// the same value v; its value is v + 1. 97 when they differ or are not two.
int diamond_task(void*, void*, void** result) {
  const size_t n = lox_task_input_count();
  if (n == 0) {
    *result = to_ptr(1);
    return 0;
  }
  if (n != 2) return 97;
  const intptr_t a = task_value(lox_task_input(0)), b = task_value(lox_task_input(1));
  if (a != b || lox_task_input(2) != nullptr) return 97;
  *result = to_ptr(a + 1);
  return 0;
}

// A fan-in sink: input i must hold the value the test expects at i
// (ctx: the expected values); its value is their sum. 97 on a mismatch.
int ordered_sink(void* ctx, void*, void** result) {
  const auto* want = static_cast<const std::vector<intptr_t>*>(ctx);
  const size_t n = lox_task_input_count();
  if (n != want->size()) return 97;
  intptr_t sum = 0;
  for (size_t i = 0; i < n; ++i) {
    const intptr_t v = task_value(lox_task_input(i));
    if (v != (*want)[i]) return 98;
    sum += v;
  }
  if (lox_task_input(n) != nullptr || lox_task_input(SIZE_MAX) != nullptr) return 99;
  *result = to_ptr(sum);
  return 0;
}

// A gated thread task that records its thread.
struct Gated {
  Gate gate;
  Counter started;
  std::mutex mu;
  std::thread::id thread;
};

int gated_task(void* ctx, void* arg, void** result) {
  auto* g = static_cast<Gated*>(ctx);
  g->started.add();
  const bool opened = g->gate.wait();
  *result = arg;
  return opened ? 0 : 99;
}

// sum_task that records its thread.
struct Where {
  std::mutex mu;
  std::thread::id thread;
  RunCount runs;
};
int where_task(void* ctx, void* arg, void** result) {
  auto* w = static_cast<Where*>(ctx);
  {
    std::lock_guard lk(w->mu);
    w->thread = std::this_thread::get_id();
  }
  return sum_task(&w->runs, arg, result);
}

// ------------------------------------------------------------------ chains --

TEST(TaskGraph, ChainOf10000OnOneWorker) {
  RunCount runs;
  Pool p = make_pool(1, sum_task, &runs);
  Task prev = tscatter(p.get(), nullptr, nullptr, to_ptr(1));
  ASSERT_NE(prev, nullptr);
  for (size_t i = 1; i < kBig; ++i) {
    size_t index = 0;
    Task t = tscatter(p.get(), nullptr, nullptr, to_ptr(1), {prev.get()}, &index);
    ASSERT_NE(t, nullptr) << "task " << i;
    ASSERT_EQ(index, i);
    prev = std::move(t);  // the predecessor's handle is released while it may still be queued
  }
  Results r = gather_round(p.get());
  ASSERT_EQ(lox_results_count(r.get()), kBig);
  for (size_t i = 0; i < kBig; ++i) ASSERT_EQ(value_at(r.get(), i), static_cast<intptr_t>(i + 1)) << "task " << i;
  EXPECT_EQ(task_value(prev.get()), static_cast<intptr_t>(kBig));
  EXPECT_EQ(runs.runs.load(), static_cast<long>(kBig));
}

TEST(TaskGraph, ChainOf10000AlternatingBetweenPoolsOf1And2Workers) {
  Pool a = make_pool(1, sum_task);
  Pool b = make_pool(2, sum_task);
  Task prev;
  for (size_t i = 0; i < kBig; ++i) {
    lox_thread* pool = i % 2 == 0 ? a.get() : b.get();
    size_t index = 0;
    Task t = prev ? tscatter(pool, nullptr, nullptr, to_ptr(1), {prev.get()}, &index)
                  : tscatter(pool, nullptr, nullptr, to_ptr(1), {}, &index);
    ASSERT_NE(t, nullptr);
    ASSERT_EQ(index, i / 2);
    prev = std::move(t);
  }
  Results ra = gather_round(a.get());
  Results rb = gather_round(b.get());
  ASSERT_EQ(lox_results_count(ra.get()), kBig / 2);
  ASSERT_EQ(lox_results_count(rb.get()), kBig / 2);
  for (size_t k = 0; k < kBig / 2; ++k) {
    ASSERT_EQ(value_at(ra.get(), k), static_cast<intptr_t>(2 * k + 1));
    ASSERT_EQ(value_at(rb.get(), k), static_cast<intptr_t>(2 * k + 2));
  }
}

TEST(TaskGraph, DiamondsOf10000TasksAcrossTwoPools) {
  // 5,000 layers of two tasks, one on each pool, each after both tasks of
  // the layer before.
  Pool a = make_pool(1, diamond_task);
  Pool b = make_pool(2, diamond_task);
  Task x, y;
  for (size_t layer = 0; layer < kBig / 2; ++layer) {
    std::vector<lox_task*> after;
    if (x) after = {x.get(), y.get()};
    Task nx = tscatter(a.get(), nullptr, nullptr, nullptr, after);
    Task ny = tscatter(b.get(), nullptr, nullptr, nullptr, after);
    ASSERT_TRUE(nx && ny) << "layer " << layer;
    x = std::move(nx);
    y = std::move(ny);
  }
  Results ra = gather_round(a.get());
  Results rb = gather_round(b.get());
  ASSERT_EQ(lox_results_count(ra.get()), kBig / 2);
  for (size_t k = 0; k < kBig / 2; ++k) {
    ASSERT_EQ(lox_results_status(ra.get(), k), 0) << "layer " << k << ": " << error_at(ra.get(), k);
    ASSERT_EQ(lox_results_status(rb.get(), k), 0) << "layer " << k << ": " << error_at(rb.get(), k);
    ASSERT_EQ(value_at(ra.get(), k), static_cast<intptr_t>(k + 1));
    ASSERT_EQ(value_at(rb.get(), k), static_cast<intptr_t>(k + 1));
  }
}

TEST(TaskGraph, FanOutAndFanInOf10000AcrossTwoPools) {
  // One source on the 2-worker pool, 10,000 tasks after it spread over both
  // pools (task i adds i to the source's value), one sink after all of them
  // on the 1-worker pool: it sees them in the order given.
  Pool a = make_pool(1, sum_task);
  Pool b = make_pool(2, sum_task);
  Task source = tscatter(b.get(), nullptr, nullptr, to_ptr(1000));
  ASSERT_NE(source, nullptr);
  std::vector<Task> mid;
  std::vector<lox_task*> after;
  std::vector<intptr_t> want;
  for (size_t i = 0; i < kBig; ++i) {
    mid.push_back(
        tscatter(i % 2 ? a.get() : b.get(), nullptr, nullptr, to_ptr(static_cast<intptr_t>(i)), {source.get()}));
    ASSERT_NE(mid.back(), nullptr);
    after.push_back(mid.back().get());
    want.push_back(1000 + static_cast<intptr_t>(i));
  }
  size_t index = 0;
  Task sink = tscatter(a.get(), ordered_sink, &want, nullptr, after, &index);
  ASSERT_NE(sink, nullptr);
  EXPECT_EQ(index, kBig / 2);
  mid.clear();  // released before they (may) have run
  ASSERT_TRUE(wait_done(sink.get()));
  ASSERT_EQ(lox_task_status(sink.get()), 0) << task_error(sink.get());
  intptr_t sum = 0;
  for (intptr_t v : want) sum += v;
  EXPECT_EQ(task_value(sink.get()), sum);
  Results ra = gather_round(a.get());
  Results rb = gather_round(b.get());
  EXPECT_EQ(lox_results_count(ra.get()) + lox_results_count(rb.get()), kBig + 2);
}

TEST(TaskGraph, InputsComeInTheOrderGivenWithDuplicates) {
  // Predecessors complete in the reverse of the order they are named in
  // (each is let go only once the previous one completed); the dependent
  // sees them in the order given, a duplicate twice.
  Gated g0, g1, g2;
  Pool p = make_pool(4, nullptr);
  Task t0 = tscatter(p.get(), gated_task, &g0, to_ptr(10));
  Task t1 = tscatter(p.get(), gated_task, &g1, to_ptr(11));
  Task t2 = tscatter(p.get(), gated_task, &g2, to_ptr(12));
  std::vector<intptr_t> want{10, 12, 11, 10, 12};
  Task sink = tscatter(p.get(), ordered_sink, &want, nullptr, {t0.get(), t2.get(), t1.get(), t0.get(), t2.get()});
  ASSERT_TRUE(t0 && t1 && t2 && sink);
  g2.gate.open();
  ASSERT_TRUE(wait_done(t2.get()));
  g1.gate.open();
  ASSERT_TRUE(wait_done(t1.get()));
  EXPECT_EQ(lox_task_done(sink.get()), 0) << "the dependent completed before its last predecessor";
  g0.gate.open();
  ASSERT_TRUE(wait_done(sink.get()));
  EXPECT_EQ(lox_task_status(sink.get()), 0) << "inputs not in the order given (97: count, 98: order)";
  EXPECT_EQ(task_value(sink.get()), 55);
  Results r = gather_round(p.get());
}

TEST(TaskGraph, NoWorkerWaitsForAPredecessor) {
  // A 1-worker pool holds a task whose predecessor (on another pool) is
  // blocked; a plain task scattered after it must still run: the dependent
  // is not on the worker. It keeps the index it took at scatter.
  Gated g;
  Pool other = make_pool(1, gated_task, &g);
  RunCount runs;
  Pool one = make_pool(1, sum_task, &runs);
  Task pred = tscatter(other.get(), nullptr, nullptr, to_ptr(5));
  ASSERT_TRUE(g.started.wait_at_least(1));
  size_t di = 99, qi = 99;
  Task dep = tscatter(one.get(), nullptr, nullptr, to_ptr(1), {pred.get()}, &di);
  Task quick = tscatter(one.get(), nullptr, nullptr, to_ptr(2), {}, &qi);
  ASSERT_TRUE(dep && quick);
  EXPECT_EQ(di, 0u);
  EXPECT_EQ(qi, 1u);
  ASSERT_TRUE(wait_done(quick.get())) << "the only worker was held by a task waiting for its predecessor";
  EXPECT_EQ(lox_task_done(dep.get()), 0);
  EXPECT_EQ(lox_task_wait(dep.get(), 0), LOX_TIMEOUT);
  EXPECT_EQ(runs.runs.load(), 1) << "the dependent ran before its predecessor completed";
  g.gate.open();
  Results r = gather_round(one.get());
  ASSERT_EQ(lox_results_count(r.get()), 2u);
  EXPECT_EQ(value_at(r.get(), 0), 6);
  EXPECT_EQ(value_at(r.get(), 1), 2);
  EXPECT_EQ(lox_task_index(dep.get()), 0u);
  Results ro = gather_round(other.get());
}

TEST(TaskGraph, APredecessorReleasedBeforeItEndsStillFeedsItsDependent) {
  Gated g;
  Pool p = make_pool(2, nullptr);
  lox_task* pred = nullptr;
  lox_scatter_opts o = LOX_SCATTER_OPTS_INIT;
  ASSERT_EQ(lox_thread_scatter_ex(p.get(), gated_task, &g, to_ptr(30), &o, nullptr, &pred), LOX_OK);
  Task dep = tscatter(p.get(), sum_task, nullptr, to_ptr(1), {pred});
  lox_task_release(pred);
  ASSERT_NE(dep, nullptr);
  g.gate.open();
  ASSERT_TRUE(wait_done(dep.get()));
  EXPECT_EQ(lox_task_status(dep.get()), 0) << task_error(dep.get());
  EXPECT_EQ(task_value(dep.get()), 31);
  Results r = gather_round(p.get());
}

TEST(TaskGraph, DependentsRegisteredWhileTheirPredecessorCompletes) {
  // Four threads scatter dependents of one predecessor while it completes
  // (some before, some after): each runs once and sees its value.
  Gated g;
  Pool src = make_pool(1, gated_task, &g);
  RunCount runs;
  Pool p = make_pool(2, sum_task, &runs);
  Task pred = tscatter(src.get(), nullptr, nullptr, to_ptr(100));
  ASSERT_NE(pred, nullptr);
  const int per_thread = static_cast<int>(scaled(1000));
  std::vector<std::vector<Task>> deps(4);
  std::vector<std::thread> ts;
  std::atomic<int> scattered{0};
  for (int k = 0; k < 4; ++k)
    ts.emplace_back([&, k] {
      for (int i = 0; i < per_thread; ++i) {
        deps[k].push_back(tscatter(p.get(), nullptr, nullptr, to_ptr(k), {pred.get()}));
        if (scattered.fetch_add(1) + 1 == per_thread) g.gate.open();  // completes mid-way
      }
    });
  for (auto& t : ts) t.join();
  Results r = gather_round(p.get());
  ASSERT_EQ(lox_results_count(r.get()), static_cast<size_t>(4 * per_thread));
  EXPECT_EQ(runs.runs.load(), 4 * per_thread);
  for (int k = 0; k < 4; ++k)
    for (auto& d : deps[k]) {
      ASSERT_NE(d, nullptr);
      ASSERT_EQ(task_value(d.get()), 100 + k);
    }
  Results rs = gather_round(src.get());
}

// ------------------------------------------------------- own earlier round --

TEST(TaskGraph, PredecessorFromThePoolsOwnEarlierRound) {
  Gated g;
  Pool p = make_pool(1, sum_task);
  // Gathered already.
  Task a = tscatter(p.get(), nullptr, nullptr, to_ptr(5));
  Results r1 = gather_round(p.get());
  Task b = tscatter(p.get(), nullptr, nullptr, to_ptr(1), {a.get()});
  Results r2 = gather_round(p.get());
  ASSERT_EQ(lox_results_count(r2.get()), 1u);
  EXPECT_EQ(value_at(r2.get(), 0), 6);
  // Still running, its round handed over to a completions object; the
  // dependent is in the next round.
  Task c = tscatter(p.get(), gated_task, &g, to_ptr(40));
  lox_completions* raw = nullptr;
  ASSERT_EQ(lox_thread_completions(p.get(), &raw), LOX_OK) << lox_last_error();
  Completions comp(raw);
  size_t index = 99;
  Task d = tscatter(p.get(), nullptr, nullptr, to_ptr(2), {c.get(), b.get()}, &index);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(index, 0u) << "scattered after the round was taken: the next round";
  g.gate.open();
  auto got = drain_completions(comp.get());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].value, 40);
  Results r3 = gather_round(p.get());
  ASSERT_EQ(lox_results_count(r3.get()), 1u);
  EXPECT_EQ(value_at(r3.get(), 0), 2 + 40 + 6);
}

// ------------------------------------------------------------ failures --

TEST(TaskGraph, AFailedPredecessorFailsItsDependentsWhichNeverRun) {
  RunCount runs;
  Pool p = make_pool(2, sum_task, &runs);
  Task ok = tscatter(p.get(), nullptr, nullptr, to_ptr(1));
  Task bad = tscatter(p.get(), fail_task, nullptr, to_ptr(7));
  size_t di = 99, ei = 99;
  Task dep = tscatter(p.get(), nullptr, nullptr, to_ptr(1), {ok.get(), bad.get()}, &di);
  Task dep2 = tscatter(p.get(), nullptr, nullptr, to_ptr(1), {dep.get()}, &ei);
  Task fine = tscatter(p.get(), nullptr, nullptr, to_ptr(1), {ok.get()});
  ASSERT_TRUE(ok && bad && dep && dep2 && fine);
  std::atomic<int> calls{0};
  auto count = [](void* ctx, lox_task*) { static_cast<std::atomic<int>*>(ctx)->fetch_add(1); };
  ASSERT_EQ(lox_task_on_done(dep2.get(), count, &calls), LOX_OK);
  Results r = gather_round(p.get(), LOX_ETASK);
  ASSERT_EQ(lox_results_count(r.get()), 5u);
  expect_dependency_failure(dep.get(), 1);
  EXPECT_NE(task_error(dep.get()).find('7'), std::string::npos)
      << "the detail names the predecessor's status: " << task_error(dep.get());
  expect_dependency_failure(dep2.get(), 0);
  EXPECT_EQ(lox_results_status(r.get(), di), LOX_EDEPENDENCY);
  EXPECT_EQ(lox_results_status(r.get(), ei), LOX_EDEPENDENCY);
  EXPECT_EQ(lox_task_value(dep.get()), nullptr);
  EXPECT_EQ(lox_task_status(fine.get()), 0);
  EXPECT_EQ(task_value(fine.get()), 2);
  EXPECT_EQ(runs.runs.load(), 2) << "a dependent of a failed task ran";
  EXPECT_EQ(calls.load(), 1) << "the callback of a task failed by its predecessor runs once";
  EXPECT_EQ(std::string(lox_status_name(LOX_EDEPENDENCY)), "LOX_EDEPENDENCY");
}

TEST(TaskGraph, GatherDetailOfADependencyFailureNamesThePredecessor) {
  // lox_scatter_opts.after: the task "completes with LOX_EDEPENDENCY and a
  // detail naming the first such predecessor"; the round's gather returns
  // its outcome, detail included (lox_results_error), also for a scatter
  // that asked for no handle.
  Pool p = make_pool(2, sum_task);
  Task ok = tscatter(p.get(), nullptr, nullptr, to_ptr(1));
  Task bad = tscatter(p.get(), fail_task, nullptr, to_ptr(7));
  std::vector<lox_task*> after{ok.get(), bad.get()};
  lox_scatter_opts o = after_opts(after);
  size_t index = 99;
  ASSERT_EQ(lox_thread_scatter_ex(p.get(), nullptr, nullptr, to_ptr(1), &o, &index, nullptr), LOX_OK)
      << lox_last_error();
  Results r = gather_round(p.get(), LOX_ETASK);
  ASSERT_EQ(index, 2u);
  EXPECT_EQ(lox_results_status(r.get(), index), LOX_EDEPENDENCY);
  const std::string e = error_at(r.get(), index);
  EXPECT_NE(e.find("predecessor 1"), std::string::npos) << "detail was: \"" << e << "\"";
}

TEST(TaskGraph, ProcessFailuresFailThreadAndProcessDependents) {
  QuietLog quiet;
  Shared sh;
  Proc pp = make_proc(2, task_fn, sh.get());
  RunCount runs;
  Pool tp = make_pool(2, sum_task, &runs);
  Task crash = pscatter(pp.get(), pcmd(kPCrash));
  Task fail = pscatter(pp.get(), pcmd(kPFail, 3, 17));
  Task ok = pscatter(pp.get(), pcmd(kPSum, 4));
  Task tdep = tscatter(tp.get(), nullptr, nullptr, to_ptr(1), {ok.get(), crash.get()});
  Task pdep = pscatter(pp.get(), pcmd(kPWaitTurn, 0, 1, true), {fail.get()});
  Task good = tscatter(tp.get(), nullptr, nullptr, to_ptr(1), {ok.get()});
  ASSERT_TRUE(crash && fail && ok && tdep && pdep && good);
  Results rp = pgather_expect(pp.get(), LOX_ETASK);
  Results rt = gather_round(tp.get(), LOX_ETASK);
  EXPECT_EQ(lox_task_status(crash.get()), LOX_EWORKER);
  expect_dependency_failure(tdep.get(), 1);
  expect_dependency_failure(pdep.get(), 0);
  EXPECT_EQ(lox_results_status(rp.get(), lox_task_index(pdep.get())), LOX_EDEPENDENCY);
  EXPECT_EQ(sh->started.load(), 0) << "the process dependent of a failed task ran";
  EXPECT_EQ(runs.runs.load(), 1) << "the thread dependent of a crashed task ran";
  EXPECT_EQ(task_value(good.get()), 5);
}

// --------------------------------------------------- thread <-> process --

TEST(TaskGraph, ThreadProcessThreadChainWithEncode) {
  Shared sh;
  Proc pp = make_proc(2, task_fn, sh.get());
  Pool tp = make_pool(2, sum_task);
  EncodeLog enc;
  Task t1 = tscatter(tp.get(), nullptr, nullptr, to_ptr(20));
  Task p1 = pscatter(pp.get(), pcmd(kPSum, 1, 0, true), {t1.get()}, nullptr, encode_i64, &enc);
  Task t2 = tscatter(tp.get(), nullptr, nullptr, to_ptr(100), {p1.get()});
  // The framing itself, byte for byte: an echo of the input of a process
  // task after a thread and a process predecessor.
  const std::string own = pcmd(kPEcho, 0, 0, true);
  Task echo = pscatter(pp.get(), own, {t1.get(), p1.get()}, nullptr, encode_i64, &enc);
  ASSERT_TRUE(t1 && p1 && t2 && echo);
  ASSERT_TRUE(wait_done(t2.get()));
  EXPECT_EQ(lox_task_status(p1.get()), 0) << task_error(p1.get());
  EXPECT_EQ(task_i64(p1.get()), 21);
  EXPECT_EQ(lox_task_status(t2.get()), 0) << task_error(t2.get());
  EXPECT_EQ(task_value(t2.get()), 121);
  ASSERT_TRUE(wait_done(echo.get()));
  ASSERT_EQ(lox_task_status(echo.get()), 0) << task_error(echo.get());
  const std::string in = task_bytes(echo.get());
  EXPECT_EQ(in, framed({i64_bytes(20), i64_bytes(21)}, own)) << "not the documented framing";
  EXPECT_EQ(unframed(in), (std::vector<std::string>{i64_bytes(20), i64_bytes(21), own}));
  EXPECT_EQ(enc.calls.load(), 2) << "encode is called once per thread predecessor";
  Results rp = pgather_ok(pp.get());
  Results rt = gather_round(tp.get());
}

TEST(TaskGraph, ChainOf1000AlternatingThreadAndProcess) {
  Shared sh;
  Proc pp = make_proc(1, task_fn, sh.get());
  Pool tp = make_pool(1, sum_task);
  constexpr size_t n = 1000;
  Task prev;
  for (size_t i = 0; i < n; ++i) {
    std::vector<lox_task*> after;
    if (prev) after.push_back(prev.get());
    Task t = i % 2 == 0 ? tscatter(tp.get(), nullptr, nullptr, to_ptr(1), after)
                        : pscatter(pp.get(), pcmd(kPSum, 1, 0, true), after, nullptr, encode_i64, nullptr);
    ASSERT_NE(t, nullptr) << "task " << i;
    prev = std::move(t);
  }
  ASSERT_TRUE(wait_done(prev.get()));
  EXPECT_EQ(lox_task_status(prev.get()), 0) << task_error(prev.get());
  EXPECT_EQ(task_i64(prev.get()), static_cast<int64_t>(n));
  Results rp = pgather_ok(pp.get());
  Results rt = gather_round(tp.get());
  ASSERT_EQ(lox_results_count(rp.get()), n / 2);
  for (size_t k = 0; k < n / 2; ++k) ASSERT_EQ(bytes_at(rp.get(), k), i64_bytes(static_cast<int64_t>(2 * k + 2)));
}

TEST(TaskGraph, EncodeFailureFailsTheProcessTaskWithoutRunningIt) {
  Shared sh;
  Proc pp = make_proc(1, task_fn, sh.get());
  Pool tp = make_pool(1, sum_task);
  EncodeLog enc;
  enc.fail_on = 20;
  Task t1 = tscatter(tp.get(), nullptr, nullptr, to_ptr(20));
  Task p1 = pscatter(pp.get(), pcmd(kPWaitTurn, 0, 1, true), {t1.get()}, nullptr, encode_i64, &enc);
  ASSERT_TRUE(t1 && p1);
  ASSERT_TRUE(wait_done(p1.get()));
  EXPECT_EQ(lox_task_status(p1.get()), LOX_EDEPENDENCY) << task_error(p1.get());
  EXPECT_EQ(enc.calls.load(), 1);
  Results rp = pgather_expect(pp.get(), LOX_ETASK);
  EXPECT_EQ(sh->started.load(), 0) << "the process task ran although its input could not be encoded";
  Results rt = gather_round(tp.get());
}

TEST(TaskGraph, ProcessInputOverMaxMessageOnceFramedFailsTheTask) {
  // max_message 64: a predecessor's 54-byte reply plus a 24-byte own input
  // and 12 bytes of framing is 90 bytes; 24 + 24 + 12 = 60 fits.
  Shared sh;
  lox_process_opts o = proc_opts(LOX_FOREVER, 64);
  Proc pp = make_proc(1, task_fn, sh.get(), &o);
  const std::string small_in = pcmd(kPEcho);
  const std::string big_in = std::string(30, 'p') + pcmd(kPEcho);
  Task small = pscatter(pp.get(), small_in);
  Task big = pscatter(pp.get(), big_in);
  const std::string own = pcmd(kPEcho, 0, 0, true);
  Task fits = pscatter(pp.get(), own, {small.get()});
  Task too_big = pscatter(pp.get(), own, {big.get()});
  ASSERT_TRUE(small && big && fits && too_big);
  Results r = pgather_expect(pp.get(), LOX_ETASK);
  EXPECT_EQ(task_bytes(small.get()), small_in) << "a task without predecessors gets its input as it was scattered";
  EXPECT_EQ(task_bytes(big.get()), big_in);
  ASSERT_EQ(lox_task_status(fits.get()), 0) << task_error(fits.get());
  EXPECT_EQ(task_bytes(fits.get()), framed({small_in}, own));
  EXPECT_EQ(lox_task_status(too_big.get()), LOX_EDEPENDENCY) << task_error(too_big.get());
}

// ------------------------------------------------------------ debug mode --

TEST(TaskGraph, DebugModeDependents) {
  // Predecessors complete: the dependent runs inside scatter. One that
  // waits runs in the thread that completes its last predecessor.
  Where w;
  Pool dbg = make_pool(0, where_task, &w);
  Task a = tscatter(dbg.get(), nullptr, nullptr, to_ptr(3));
  Task b = tscatter(dbg.get(), nullptr, nullptr, to_ptr(4), {a.get()});
  ASSERT_TRUE(a && b);
  EXPECT_EQ(lox_task_done(b.get()), 1);
  EXPECT_EQ(task_value(b.get()), 7);
  {
    std::lock_guard lk(w.mu);
    EXPECT_EQ(w.thread, std::this_thread::get_id());
  }
  Gated g;
  Pool p = make_pool(1, gated_task, &g);
  Task pred = tscatter(p.get(), nullptr, nullptr, to_ptr(50));
  ASSERT_TRUE(g.started.wait_at_least(1));
  size_t index = 99;
  Task dep = tscatter(dbg.get(), nullptr, nullptr, to_ptr(1), {pred.get(), b.get()}, &index);
  ASSERT_NE(dep, nullptr);
  EXPECT_EQ(index, 2u);
  EXPECT_EQ(lox_task_done(dep.get()), 0) << "ran before its predecessor completed";
  EXPECT_EQ(w.runs.runs.load(), 2);
  g.gate.open();
  ASSERT_TRUE(wait_done(dep.get()));
  EXPECT_EQ(task_value(dep.get()), 58);
  {
    std::lock_guard lk(w.mu);
    EXPECT_NE(w.thread, std::this_thread::get_id()) << "not run by the thread that completed its predecessor";
  }
  Results r = gather_round(dbg.get());
  ASSERT_EQ(lox_results_count(r.get()), 3u);
  EXPECT_EQ(values(r.get()), (std::vector<intptr_t>{3, 7, 58}));
  Results rp = gather_round(p.get());
}

// ---------------------------------------------------- framing functions --

TEST(TaskInputs, ParsesTheDocumentedFraming) {
  const std::string own = "own input";
  for (const auto& preds : std::vector<std::vector<std::string>>{
           {}, {"a"}, {"", "bc", std::string(300, 'z')}, {std::string("\0\1\2", 3)}}) {
    const std::string in = framed(preds, own);
    ASSERT_EQ(lox_inputs_count(in.data(), in.size()), preds.size());
    std::vector<std::string> want = preds;
    want.push_back(own);
    EXPECT_EQ(unframed(in), want);
    const void* d = nullptr;
    size_t n = 0;
    EXPECT_EQ(lox_inputs_get(in.data(), in.size(), preds.size() + 1, &d, &n), LOX_EINVAL) << "i > N";
    EXPECT_EQ(lox_inputs_get(in.data(), in.size(), SIZE_MAX, &d, &n), LOX_EINVAL);
    EXPECT_EQ(lox_inputs_get(in.data(), in.size(), 0, nullptr, &n), LOX_EINVAL);
    EXPECT_EQ(lox_inputs_get(in.data(), in.size(), 0, &d, nullptr), LOX_EINVAL);
  }
  // Empty own input; data points into the input.
  const std::string in = framed({"xy"}, "");
  const void* d = nullptr;
  size_t n = 99;
  ASSERT_EQ(lox_inputs_get(in.data(), in.size(), 1, &d, &n), LOX_OK);
  EXPECT_EQ(n, 0u);
  ASSERT_EQ(lox_inputs_get(in.data(), in.size(), 0, &d, &n), LOX_OK);
  EXPECT_EQ(n, 2u);
  EXPECT_EQ(d, in.data() + 12);
}

TEST(TaskInputs, MalformedInputsAreRefused) {
  const void* d = nullptr;
  size_t n = 0;
  for (size_t len = 0; len < 4; ++len) {
    const char buf[4] = {0, 0, 0, 0};
    EXPECT_EQ(lox_inputs_count(buf, len), SIZE_MAX) << len << " bytes";
    EXPECT_EQ(lox_inputs_get(buf, len, 0, &d, &n), LOX_EINVAL);
  }
  EXPECT_EQ(lox_inputs_count(nullptr, 0), SIZE_MAX);
  EXPECT_EQ(lox_inputs_count(nullptr, 16), SIZE_MAX);
  // A length running past the end, by one byte and by 2^64 - 1 (no wrap).
  std::string in = framed({"abc"}, "");
  in.pop_back();
  EXPECT_EQ(lox_inputs_count(in.data(), in.size()), SIZE_MAX);
  EXPECT_EQ(lox_inputs_get(in.data(), in.size(), 1, &d, &n), LOX_EINVAL);
  std::string huge = framed({"abc", "de"}, "tail");
  for (int k = 0; k < 8; ++k) huge[4 + k] = static_cast<char>(0xff);
  EXPECT_EQ(lox_inputs_count(huge.data(), huge.size()), SIZE_MAX);
  EXPECT_EQ(lox_inputs_get(huge.data(), huge.size(), 1, &d, &n), LOX_EINVAL);
  // A count of 2^32 - 1 with no frames behind it.
  const std::string many("\xff\xff\xff\xff", 4);
  EXPECT_EQ(lox_inputs_count(many.data(), many.size()), SIZE_MAX);
  // A truncated length field.
  std::string cut = framed({"abc"}, "");
  cut.resize(4 + 5);
  EXPECT_EQ(lox_inputs_count(cut.data(), cut.size()), SIZE_MAX);
}

}  // namespace
