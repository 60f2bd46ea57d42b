// SPDX-License-Identifier: Apache-2.0
// Task handles (lox/c/task.h): lox_thread_scatter_ex / lox_process_scatter_ex
// hand back a handle to their task; wait with a timeout, done, status and
// detail, value (thread) or bytes (process), the index matching the scatter's
// and the gather's position, completion callbacks (exactly once, on the
// completing thread or inline when already done, before gather returns the
// task, in registration order), retain/release (a handle released before its
// task ends), and the argument errors: NULL and dead handles, bad
// struct_size, n_after limits, NaN timeouts.
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
#include "timed_call.hpp"

using namespace loxtest;

namespace {

// A thread task that records its thread, blocks on the gate, then returns
// its argument.
struct Gated {
  Gate gate;
  Counter started;
  std::mutex mu;
  std::thread::id thread;
};

int gated_task(void* ctx, void* arg, void** result) {
  auto* g = static_cast<Gated*>(ctx);
  {
    std::lock_guard lk(g->mu);
    g->thread = std::this_thread::get_id();
  }
  g->started.add();
  const bool opened = g->gate.wait();
  *result = arg;
  return opened ? 0 : 99;
}

// What a completion callback saw.
struct DoneLog {
  std::atomic<int> calls{0};
  std::mutex mu;
  std::thread::id thread;
  bool done_inside = false;  // lox_task_done was 1 in the callback
  int status_inside = -100;
  intptr_t value_inside = 0;
  std::vector<int> order;  // tags of the callbacks, in call order
  lox_task* task = nullptr;
};

void record_done(void* ctx, lox_task* t) {
  auto* log = static_cast<DoneLog*>(ctx);
  std::lock_guard lk(log->mu);
  log->thread = std::this_thread::get_id();
  log->done_inside = lox_task_done(t) == 1;
  log->status_inside = lox_task_status(t);
  log->value_inside = task_value(t);
  log->task = t;
  log->calls.fetch_add(1);
}

// Callbacks tagged 1, 2, 3: each appends its tag.
struct Tagged {
  DoneLog* log;
  int tag;
};
void record_tag(void* ctx, lox_task*) {
  auto* t = static_cast<Tagged*>(ctx);
  std::lock_guard lk(t->log->mu);
  t->log->order.push_back(t->tag);
  t->log->calls.fetch_add(1);
}

void ignore_done(void*, lox_task*) {}

// --------------------------------------------------------------- options --

TEST(TaskHandles, ScatterOptsInitMatchesTheMacro) {
  lox_scatter_opts by_macro = LOX_SCATTER_OPTS_INIT;
  lox_scatter_opts by_fn;
  std::memset(&by_fn, 0x5a, sizeof by_fn);
  lox_scatter_opts_init(&by_fn);
  EXPECT_EQ(by_fn.struct_size, sizeof(lox_scatter_opts));
  EXPECT_EQ(by_macro.struct_size, sizeof(lox_scatter_opts));
  EXPECT_EQ(by_fn.after, nullptr);
  EXPECT_EQ(by_fn.n_after, 0u);
  EXPECT_EQ(by_fn.encode, nullptr);
  EXPECT_EQ(by_fn.encode_ctx, nullptr);
  EXPECT_EQ(by_macro.after, nullptr);
  EXPECT_EQ(by_macro.n_after, 0u);
  lox_scatter_opts_init(nullptr);  // ignored
}

// ----------------------------------------------------- wait, done, status --

TEST(TaskHandles, WaitTimesOutWhileRunningThenReportsTheOutcome) {
  Gated g;
  Pool p = make_pool(2, gated_task, &g);
  size_t index = 99;
  Task t = tscatter(p.get(), nullptr, nullptr, to_ptr(41), {}, &index);
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(index, 0u);
  ASSERT_TRUE(g.started.wait_at_least(1));

  EXPECT_EQ(lox_task_wait(t.get(), 0), LOX_TIMEOUT);
  expect_times_out_after_50ms([&] { return lox_task_wait(t.get(), 0.05); });
  EXPECT_EQ(lox_task_done(t.get()), 0);
  EXPECT_EQ(lox_task_status(t.get()), LOX_ESTATE);
  EXPECT_NE(std::string(lox_last_error()).find("has not completed"), std::string::npos) << lox_last_error();
  EXPECT_EQ(lox_task_error(t.get()), nullptr);
  EXPECT_EQ(lox_task_value(t.get()), nullptr);
  EXPECT_EQ(lox_task_index(t.get()), 0u);

  g.gate.open();
  ASSERT_TRUE(wait_done(t.get()));
  EXPECT_EQ(lox_task_done(t.get()), 1);
  EXPECT_EQ(lox_task_status(t.get()), 0);
  EXPECT_EQ(lox_task_error(t.get()), nullptr);
  EXPECT_EQ(task_value(t.get()), 41);
  EXPECT_EQ(lox_task_wait(t.get(), 0), LOX_OK) << "a completed task's wait returns at once";
  EXPECT_EQ(lox_task_wait(t.get(), LOX_FOREVER), LOX_OK);

  Results r = gather_ok(p.get());
  ASSERT_EQ(lox_results_count(r.get()), 1u);
  EXPECT_EQ(value_at(r.get(), 0), 41);
}

TEST(TaskHandles, WaitFromAnotherThreadIsWokenByCompletion) {
  Gated g;
  Pool p = make_pool(1, gated_task, &g);
  Task t = tscatter(p.get(), nullptr, nullptr, to_ptr(5));
  ASSERT_NE(t, nullptr);
  std::atomic<int> rc{-100};
  Sleeper s([&] { rc = lox_task_wait(t.get(), LOX_FOREVER); });
  ASSERT_TRUE(s.wait_asleep()) << "lox_task_wait returned before the task completed";
  g.gate.open();
  s.join();
  EXPECT_EQ(rc.load(), LOX_OK);
  EXPECT_EQ(task_value(t.get()), 5);
  Results r = gather_ok(p.get());
}

TEST(TaskHandles, FailedThreadTaskHasItsStatusAndADetail) {
  Pool p = make_pool(2, fail_task);
  Task ok = tscatter(p.get(), sum_task, nullptr, to_ptr(3));
  Task bad = tscatter(p.get(), nullptr, nullptr, to_ptr(7));
  ASSERT_TRUE(ok && bad);
  ASSERT_TRUE(wait_done(bad.get()));
  EXPECT_EQ(lox_task_status(bad.get()), 7);
  ASSERT_NE(lox_task_error(bad.get()), nullptr);
  EXPECT_NE(task_error(bad.get()).find('7'), std::string::npos) << task_error(bad.get());
  int rc = 0;
  Results r = gather(p.get(), &rc);
  EXPECT_EQ(rc, LOX_ETASK);
  ASSERT_EQ(lox_results_count(r.get()), 2u);
  EXPECT_EQ(lox_results_status(r.get(), 1), 7);
  EXPECT_EQ(lox_task_status(ok.get()), 0);
  EXPECT_EQ(task_value(ok.get()), 3);
}

// ------------------------------------------------------ index and gather --

TEST(TaskHandles, IndexMatchesTheScatterIndexAndTheGathersPosition) {
  Pool p = make_pool(3, identity_task);
  for (int round = 0; round < 2; ++round) {
    std::vector<Task> handles;
    std::vector<size_t> idx;
    for (intptr_t i = 0; i < 30; ++i) {
      size_t index = 999;
      if (i % 3 == 0) {
        ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr(100 * round + i), &index), LOX_OK);  // no handle
      } else {
        handles.push_back(tscatter(p.get(), nullptr, nullptr, to_ptr(100 * round + i), {}, &index));
        ASSERT_NE(handles.back(), nullptr);
        idx.push_back(index);
      }
      EXPECT_EQ(index, static_cast<size_t>(i)) << "round " << round;
    }
    Results r = gather_ok(p.get());
    ASSERT_EQ(lox_results_count(r.get()), 30u);
    for (size_t k = 0; k < handles.size(); ++k) {
      const size_t i = lox_task_index(handles[k].get());
      EXPECT_EQ(i, idx[k]);
      ASSERT_LT(i, 30u);
      EXPECT_EQ(lox_task_done(handles[k].get()), 1) << "gather returned a task that is not done";
      EXPECT_EQ(task_value(handles[k].get()), value_at(r.get(), i));
    }
    for (size_t i = 0; i < 30; ++i) EXPECT_EQ(value_at(r.get(), i), static_cast<intptr_t>(100 * round + i));
  }
}

TEST(TaskHandles, ScatterExWithoutOptionsOrHandleIsAPlainScatter) {
  Pool p = make_pool(2, identity_task);
  size_t index = 99;
  ASSERT_EQ(lox_thread_scatter_ex(p.get(), nullptr, nullptr, to_ptr(3), nullptr, &index, nullptr), LOX_OK)
      << lox_last_error();
  EXPECT_EQ(index, 0u);
  ASSERT_EQ(lox_thread_scatter_ex(p.get(), sum_task, nullptr, to_ptr(4), nullptr, nullptr, nullptr), LOX_OK);
  Results r = gather_ok(p.get());
  EXPECT_EQ(values(r.get()), (std::vector<intptr_t>{3, 4}));
  Shared sh;
  Proc pp = make_proc(1, task_fn, sh.get());
  const std::string in = pcmd(kPSum, 8);
  ASSERT_EQ(lox_process_scatter_ex(pp.get(), in.data(), in.size(), nullptr, &index, nullptr), LOX_OK)
      << lox_last_error();
  EXPECT_EQ(index, 0u);
  Results pr = pgather_ok(pp.get());
  EXPECT_EQ(bytes_at(pr.get(), 0), i64_bytes(8));
}

TEST(TaskHandles, ProcessTaskBytesIndexAndFailure) {
  Shared sh;
  Proc p = make_proc(2, task_fn, sh.get());
  std::vector<Task> ts;
  for (int64_t i = 0; i < 8; ++i) {
    size_t index = 999;
    ts.push_back(i == 5 ? pscatter(p.get(), pcmd(kPFail, 5, 17), {}, &index)
                        : pscatter(p.get(), pcmd(kPSum, 10 * i), {}, &index));
    ASSERT_NE(ts.back(), nullptr);
    EXPECT_EQ(index, static_cast<size_t>(i));
    EXPECT_EQ(lox_task_index(ts.back().get()), static_cast<size_t>(i));
  }
  Results r = pgather_expect(p.get(), LOX_ETASK);
  ASSERT_EQ(lox_results_count(r.get()), 8u);
  for (size_t i = 0; i < 8; ++i) {
    lox_task* t = ts[i].get();
    EXPECT_EQ(lox_task_done(t), 1);
    EXPECT_EQ(lox_task_value(t), nullptr) << "a process task has bytes, not a value";
    if (i == 5) {
      EXPECT_EQ(lox_task_status(t), 17);
      EXPECT_EQ(task_error(t), "failed on purpose 5");
      EXPECT_EQ(task_error(t), error_at(r.get(), 5));
      continue;
    }
    EXPECT_EQ(lox_task_status(t), 0) << task_error(t);
    EXPECT_EQ(lox_task_error(t), nullptr);
    EXPECT_EQ(task_i64(t), static_cast<int64_t>(10 * i));
    EXPECT_EQ(task_bytes(t), bytes_at(r.get(), i));
  }
}

TEST(TaskHandles, ProcessTaskBytesBeforeCompletionAreAStateError) {
  Shared sh;
  Proc p = make_proc(1, task_fn, sh.get());
  Task t = pscatter(p.get(), pcmd(kPWaitTurn, 1, 77));
  ASSERT_NE(t, nullptr);
  const void* data = reinterpret_cast<const void*>(0x1);
  size_t len = 12345;
  EXPECT_EQ(lox_task_bytes(t.get(), &data, &len), LOX_ESTATE);
  EXPECT_EQ(data, reinterpret_cast<const void*>(0x1)) << "outputs untouched on error";
  EXPECT_EQ(len, 12345u);
  EXPECT_EQ(lox_task_status(t.get()), LOX_ESTATE);
  EXPECT_EQ(lox_task_wait(t.get(), 0), LOX_TIMEOUT);
  sh.open_gate();
  ASSERT_TRUE(wait_done(t.get()));
  EXPECT_EQ(task_i64(t.get()), 77);
  Results r = pgather_ok(p.get());
}

TEST(TaskHandles, HandlesOutliveTheirPool) {
  // A handle is the caller's: its outcome (a thread task's value, a process
  // task's bytes) stays readable after the pool that ran it is gone.
  Task tt, pt;
  {
    Pool p = make_pool(1, identity_task);
    tt = tscatter(p.get(), nullptr, nullptr, to_ptr(9));
    Results r = gather_ok(p.get());
  }
  {
    Shared sh;
    Proc p = make_proc(1, task_fn, sh.get());
    pt = pscatter(p.get(), pcmd(kPSum, 1234));
    Results r = pgather_ok(p.get());
  }
  ASSERT_TRUE(tt && pt);
  EXPECT_EQ(lox_task_done(tt.get()), 1);
  EXPECT_EQ(task_value(tt.get()), 9);
  EXPECT_EQ(lox_task_status(pt.get()), 0);
  EXPECT_EQ(task_i64(pt.get()), 1234);
}

// ------------------------------------------------------------- callbacks --

TEST(TaskCallbacks, RegisteredBeforeCompletionRunsOnceOnTheWorkerBeforeGatherReturns) {
  Gated g;
  Pool p = make_pool(2, gated_task, &g);
  Task t = tscatter(p.get(), nullptr, nullptr, to_ptr(8));
  ASSERT_NE(t, nullptr);
  ASSERT_TRUE(g.started.wait_at_least(1));
  DoneLog log;
  ASSERT_EQ(lox_task_on_done(t.get(), record_done, &log), LOX_OK) << lox_last_error();
  EXPECT_EQ(log.calls.load(), 0) << "called before the task completed";
  g.gate.open();
  Results r = gather_ok(p.get());
  // No waiting here: the callback must have run before gather returned.
  EXPECT_EQ(log.calls.load(), 1);
  std::lock_guard lk(log.mu);
  std::lock_guard lk2(g.mu);
  EXPECT_EQ(log.thread, g.thread) << "not called on the worker that completed the task";
  EXPECT_NE(log.thread, std::this_thread::get_id());
  EXPECT_TRUE(log.done_inside) << "the outcome was not readable in the callback";
  EXPECT_EQ(log.status_inside, 0);
  EXPECT_EQ(log.value_inside, 8);
  EXPECT_EQ(log.task, t.get()) << "the callback gets the task's handle";
}

TEST(TaskCallbacks, RegisteredAfterCompletionRunsAtOnceInTheCaller) {
  Pool p = make_pool(2, identity_task);
  Task t = tscatter(p.get(), nullptr, nullptr, to_ptr(3));
  ASSERT_TRUE(wait_done(t.get()));
  DoneLog log;
  ASSERT_EQ(lox_task_on_done(t.get(), record_done, &log), LOX_OK);
  EXPECT_EQ(log.calls.load(), 1) << "not called inline for a completed task";
  {
    std::lock_guard lk(log.mu);
    EXPECT_EQ(log.thread, std::this_thread::get_id());
    EXPECT_TRUE(log.done_inside);
    EXPECT_EQ(log.value_inside, 3);
  }
  Results r = gather_ok(p.get());
  p.reset();  // joins the workers: nothing may call it again
  EXPECT_EQ(log.calls.load(), 1);
}

TEST(TaskCallbacks, SeveralRunInRegistrationOrderEachOnce) {
  Gated g;
  Pool p = make_pool(1, gated_task, &g);
  Task t = tscatter(p.get(), nullptr, nullptr, to_ptr(1));
  ASSERT_NE(t, nullptr);
  DoneLog log;
  Tagged a{&log, 1}, b{&log, 2}, c{&log, 3}, d{&log, 4};
  ASSERT_EQ(lox_task_on_done(t.get(), record_tag, &a), LOX_OK);
  ASSERT_EQ(lox_task_on_done(t.get(), record_tag, &b), LOX_OK);
  ASSERT_EQ(lox_task_on_done(t.get(), record_tag, &c), LOX_OK);
  g.gate.open();
  Results r = gather_ok(p.get());
  ASSERT_EQ(lox_task_on_done(t.get(), record_tag, &d), LOX_OK);  // after: inline
  p.reset();
  std::lock_guard lk(log.mu);
  EXPECT_EQ(log.order, (std::vector<int>{1, 2, 3, 4}));
  EXPECT_EQ(log.calls.load(), 4);
}

TEST(TaskCallbacks, ProcessTaskCallbackRunsOnceBeforeGatherReturns) {
  Shared sh;
  Proc p = make_proc(1, task_fn, sh.get());
  Task t = pscatter(p.get(), pcmd(kPWaitTurn, 1, 66));
  ASSERT_NE(t, nullptr);
  DoneLog log;
  ASSERT_EQ(lox_task_on_done(t.get(), record_done, &log), LOX_OK);
  EXPECT_EQ(log.calls.load(), 0);
  sh.open_gate();
  Results r = pgather_ok(p.get());
  EXPECT_EQ(log.calls.load(), 1);
  {
    std::lock_guard lk(log.mu);
    EXPECT_TRUE(log.done_inside);
    EXPECT_EQ(log.status_inside, 0);
    EXPECT_NE(log.thread, std::this_thread::get_id()) << "registered before completion: called on a liblox thread";
  }
  p.reset();
  EXPECT_EQ(log.calls.load(), 1);
}

// A callback may scatter, to another pool, and read other handles.
struct Forward {
  lox_thread* next;
  std::atomic<int> rc{-100};
};
void forward_done(void* ctx, lox_task* t) {
  auto* f = static_cast<Forward*>(ctx);
  f->rc = lox_thread_scatter(f->next, to_ptr(task_value(t) * 2), nullptr);
}

TEST(TaskCallbacks, ACallbackMayScatter) {
  Pool second = make_pool(1, identity_task);
  Pool first = make_pool(2, identity_task);
  Forward f{second.get()};
  std::vector<Task> ts;
  for (intptr_t i = 1; i <= 5; ++i) {
    ts.push_back(tscatter(first.get(), nullptr, nullptr, to_ptr(i)));
    ASSERT_EQ(lox_task_on_done(ts.back().get(), forward_done, &f), LOX_OK);
  }
  Results r1 = gather_ok(first.get());
  EXPECT_EQ(f.rc.load(), LOX_OK);
  Results r2 = gather_ok(second.get());
  ASSERT_EQ(lox_results_count(r2.get()), 5u);
  intptr_t sum = 0;
  for (auto v : values(r2.get())) sum += v;
  EXPECT_EQ(sum, 2 * (1 + 2 + 3 + 4 + 5));
}

// A callback may cancel another task.
struct CancelOther {
  lox_task* other;
  std::atomic<int> rc{-100};
};
void cancel_other(void* ctx, lox_task*) {
  auto* c = static_cast<CancelOther*>(ctx);
  c->rc = lox_task_cancel(c->other);
}

TEST(TaskCallbacks, ACallbackMayCancelAnotherTask) {
  Gated g;
  Pool p = make_pool(1, gated_task, &g);
  Task first = tscatter(p.get(), nullptr, nullptr, to_ptr(1));
  Task second = tscatter(p.get(), identity_task, nullptr, to_ptr(2));
  CancelOther c{second.get()};
  ASSERT_EQ(lox_task_on_done(first.get(), cancel_other, &c), LOX_OK);
  g.gate.open();
  int rc = 0;
  Results r = gather(p.get(), &rc, kMustSeconds);
  EXPECT_EQ(c.rc.load(), LOX_OK);
  EXPECT_EQ(lox_results_status(r.get(), 0), 0);
  // The worker completes the first task (and runs its callback) before it
  // can take the second: the cancel comes first.
  EXPECT_EQ(lox_results_status(r.get(), 1), LOX_ECANCELLED);
  EXPECT_EQ(rc, LOX_ETASK);
}

// A task of one pool waits for a task of another.
struct WaitFor {
  const lox_task* other = nullptr;
  std::atomic<int> rc{-100};
};
int wait_for_other(void* ctx, void*, void** result) {
  auto* w = static_cast<WaitFor*>(ctx);
  w->rc = lox_task_wait(w->other, kMustSeconds);
  *result = lox_task_value(w->other);
  return 0;
}

TEST(TaskHandles, ATaskMayWaitForATaskOfAnotherPool) {
  Gated g;
  Pool other = make_pool(1, gated_task, &g);
  Pool p = make_pool(1, nullptr);
  Task t = tscatter(other.get(), nullptr, nullptr, to_ptr(31));
  WaitFor w;
  w.other = t.get();
  Task waiter = tscatter(p.get(), wait_for_other, &w, nullptr);
  ASSERT_TRUE(g.started.wait_at_least(1));
  EXPECT_EQ(lox_task_wait(waiter.get(), 0), LOX_TIMEOUT);
  g.gate.open();
  ASSERT_TRUE(wait_done(waiter.get()));
  EXPECT_EQ(w.rc.load(), LOX_OK);
  EXPECT_EQ(task_value(waiter.get()), 31);
  Results r1 = gather_ok(p.get());
  Results r2 = gather_ok(other.get());
}

// ---------------------------------------------------- retain and release --

TEST(TaskHandles, ReleasedBeforeItsTaskEndsTheTaskStillRunsAndCallsBack) {
  Gated g;
  Pool p = make_pool(1, gated_task, &g);
  DoneLog log;
  lox_task* t = nullptr;
  lox_scatter_opts o = LOX_SCATTER_OPTS_INIT;
  size_t index = 99;
  ASSERT_EQ(lox_thread_scatter_ex(p.get(), nullptr, nullptr, to_ptr(12), &o, &index, &t), LOX_OK);
  ASSERT_EQ(lox_task_on_done(t, record_done, &log), LOX_OK);
  lox_task_release(t);  // before the task even started
  g.gate.open();
  Results r = gather_ok(p.get());
  ASSERT_EQ(lox_results_count(r.get()), 1u);
  EXPECT_EQ(value_at(r.get(), 0), 12);
  EXPECT_EQ(log.calls.load(), 1) << "the callback of a released handle's task must still run, once";
  std::lock_guard lk(log.mu);
  EXPECT_EQ(log.value_inside, 12);
}

TEST(TaskHandles, RetainAddsAReference) {
  Pool p = make_pool(1, identity_task);
  Task t = tscatter(p.get(), nullptr, nullptr, to_ptr(4));
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(lox_task_retain(nullptr), nullptr);
  lox_task* extra = lox_task_retain(t.get());
  EXPECT_EQ(extra, t.get());
  Results r = gather_ok(p.get());
  p.reset();
  t.reset();  // the first reference goes; `extra` keeps the handle
  EXPECT_EQ(lox_task_done(extra), 1);
  EXPECT_EQ(task_value(extra), 4);
  EXPECT_EQ(lox_task_wait(extra, 0), LOX_OK);
  lox_task_release(extra);
  lox_task_release(nullptr);  // ignored
}

// --------------------------------------------------------- debug mode --

TEST(TaskHandles, DebugModeRunsTheTaskInsideScatter) {
  Gated g;
  g.gate.open();
  Pool p = make_pool(0, gated_task, &g);
  size_t index = 99;
  Task t = tscatter(p.get(), nullptr, nullptr, to_ptr(6), {}, &index);
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(index, 0u);
  EXPECT_EQ(lox_task_done(t.get()), 1) << "debug mode: the task runs before scatter returns";
  {
    std::lock_guard lk(g.mu);
    EXPECT_EQ(g.thread, std::this_thread::get_id());
  }
  EXPECT_EQ(task_value(t.get()), 6);
  DoneLog log;
  ASSERT_EQ(lox_task_on_done(t.get(), record_done, &log), LOX_OK);
  EXPECT_EQ(log.calls.load(), 1);
  Results r = gather_ok(p.get());
  ASSERT_EQ(lox_results_count(r.get()), 1u);
  EXPECT_EQ(value_at(r.get(), 0), 6);
}

TEST(TaskHandles, InlineProcessPoolTaskIsDoneWhenScatterReturns) {
  Proc p = make_proc(0, task_fn);
  Task t = pscatter(p.get(), pcmd(kPSum, 21));
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(lox_task_done(t.get()), 1);
  EXPECT_EQ(task_i64(t.get()), 21);
  Results r = pgather_ok(p.get());
  EXPECT_EQ(bytes_at(r.get(), 0), i64_bytes(21));
}

// -------------------------------------------------------- argument errors --

TEST(TaskHandleErrors, NullHandles) {
  prime_detail();
  const std::string stale = lox_last_error();
  EXPECT_EQ(lox_task_wait(nullptr, 0), LOX_EINVAL);
  EXPECT_NE(std::string(lox_last_error()), stale) << "no detail set";
  EXPECT_EQ(lox_task_wait(nullptr, LOX_FOREVER), LOX_EINVAL) << "a NULL handle must not wait";
  EXPECT_EQ(lox_task_done(nullptr), 0);
  EXPECT_EQ(lox_task_status(nullptr), LOX_EINVAL);
  EXPECT_EQ(lox_task_error(nullptr), nullptr);
  EXPECT_EQ(lox_task_index(nullptr), SIZE_MAX);
  EXPECT_EQ(lox_task_value(nullptr), nullptr);
  const void* d = nullptr;
  size_t n = 0;
  EXPECT_EQ(lox_task_bytes(nullptr, &d, &n), LOX_EINVAL);
  int x = 0;
  EXPECT_EQ(lox_task_on_done(nullptr, ignore_done, &x), LOX_EINVAL);
  EXPECT_EQ(lox_task_cancel(nullptr), LOX_EINVAL);
  EXPECT_EQ(lox_task_retain(nullptr), nullptr);
  lox_task_release(nullptr);
}

TEST(TaskHandleErrors, OutsideATaskTheInTaskCallsAreNeutral) {
  EXPECT_EQ(lox_task_cancelled(), 0);
  EXPECT_EQ(lox_task_input_count(), 0u);
  EXPECT_EQ(lox_task_input(0), nullptr);
  EXPECT_EQ(lox_task_input(SIZE_MAX), nullptr);
}

TEST(TaskHandleErrors, BadArgumentsOnALiveHandle) {
  Gated g;
  Pool p = make_pool(1, gated_task, &g);
  Task t = tscatter(p.get(), nullptr, nullptr, to_ptr(2));
  ASSERT_NE(t, nullptr);
  prime_detail();
  EXPECT_EQ(lox_task_wait(t.get(), kNaN), LOX_EINVAL);
  EXPECT_NE(std::string(lox_last_error()).find("NaN"), std::string::npos) << lox_last_error();
  EXPECT_EQ(lox_task_on_done(t.get(), nullptr, nullptr), LOX_EINVAL);
  g.gate.open();
  ASSERT_TRUE(wait_done(t.get()));
  EXPECT_EQ(lox_task_wait(t.get(), kNaN), LOX_EINVAL) << "NaN is refused also when the task is done";
  // Bytes of a thread task: a value, not bytes; NULL out-pointers.
  const void* d = reinterpret_cast<const void*>(0x2);
  size_t n = 777;
  EXPECT_EQ(lox_task_bytes(t.get(), &d, &n), LOX_EINVAL);
  EXPECT_NE(std::string(lox_last_error()).find("value"), std::string::npos) << lox_last_error();
  EXPECT_EQ(d, reinterpret_cast<const void*>(0x2));
  EXPECT_EQ(n, 777u);
  Shared sh;
  Proc pp = make_proc(1, task_fn, sh.get());
  Task pt = pscatter(pp.get(), pcmd(kPSum, 1));
  ASSERT_TRUE(wait_done(pt.get()));
  EXPECT_EQ(lox_task_bytes(pt.get(), nullptr, &n), LOX_EINVAL);
  EXPECT_EQ(lox_task_bytes(pt.get(), &d, nullptr), LOX_EINVAL);
  EXPECT_EQ(lox_task_status(pt.get()), 0) << "a refused call changes nothing";
  Results r = gather_ok(p.get());
  Results pr = pgather_ok(pp.get());
}

TEST(TaskHandleErrors, DeadHandlesAreRefused) {
  // The last reference of a handle goes (its pool is destroyed, the caller
  // releases it): calls on it are refused (lox.h's handle check) instead of
  // touching freed memory; a scatter naming it as a predecessor too.
  QuietLog quiet;
  lox_task* dead = nullptr;
  {
    Pool p = make_pool(1, identity_task);
    Task t = tscatter(p.get(), nullptr, nullptr, to_ptr(1));
    ASSERT_TRUE(wait_done(t.get()));
    Results r = gather_ok(p.get());
    dead = t.get();
  }  // the pool, then the only reference
  EXPECT_EQ(lox_task_wait(dead, 0), LOX_EINVAL);
  EXPECT_EQ(lox_task_status(dead), LOX_EINVAL);
  EXPECT_EQ(lox_task_done(dead), 0);
  EXPECT_EQ(lox_task_index(dead), SIZE_MAX);
  EXPECT_EQ(lox_task_value(dead), nullptr);
  EXPECT_EQ(lox_task_cancel(dead), LOX_EINVAL);
  EXPECT_EQ(lox_task_on_done(dead, ignore_done, nullptr), LOX_EINVAL);
  Pool p = make_pool(1, sum_task);
  std::vector<lox_task*> after{dead};
  lox_scatter_opts o = after_opts(after);
  lox_task* out = reinterpret_cast<lox_task*>(0x99);
  EXPECT_EQ(lox_thread_scatter_ex(p.get(), nullptr, nullptr, to_ptr(1), &o, nullptr, &out), LOX_EINVAL);
  EXPECT_EQ(out, reinterpret_cast<lox_task*>(0x99));
  Proc pp = make_proc(1, task_fn);
  EXPECT_EQ(lox_process_scatter_ex(pp.get(), nullptr, 0, &o, nullptr, &out), LOX_EINVAL);
  lox_completions* c = reinterpret_cast<lox_completions*>(0x98);
  EXPECT_EQ(lox_completions_of(after.data(), 1, &c), LOX_EINVAL);
  EXPECT_EQ(c, reinterpret_cast<lox_completions*>(0x98));
  Results r = gather_ok(p.get());
  EXPECT_EQ(lox_results_count(r.get()), 0u) << "a refused scatter scatters nothing";
}

// The detail of the last (refused) call is not the one prime_detail() left
// and contains one of the '|'-separated words of `what` (any detail: "").
void expect_detail_names(const std::string& what) {
  const std::string d = lox_last_error();
  EXPECT_EQ(d.find("thread call"), std::string::npos) << "detail not set (stale): \"" << d << "\"";
  if (what.empty()) return;
  bool found = false;
  size_t from = 0;
  for (;;) {
    const size_t bar = what.find('|', from);
    const std::string word = what.substr(from, bar == std::string::npos ? std::string::npos : bar - from);
    if (d.find(word) != std::string::npos) found = true;
    if (bar == std::string::npos) break;
    from = bar + 1;
  }
  EXPECT_TRUE(found) << "detail was: \"" << d << "\", expected it to name " << what;
}

// A thread scatter_ex refused with LOX_EINVAL leaves *index and *task alone,
// names `what` in its detail, and scatters nothing.
void expect_thread_scatter_refused(lox_thread* p, lox_task_fn fn, const lox_scatter_opts* o, const char* what) {
  size_t index = 4242;
  lox_task* t = reinterpret_cast<lox_task*>(0x77);
  prime_detail();
  EXPECT_EQ(lox_thread_scatter_ex(p, fn, nullptr, to_ptr(1), o, &index, &t), LOX_EINVAL) << what;
  EXPECT_EQ(index, 4242u) << what;
  EXPECT_EQ(t, reinterpret_cast<lox_task*>(0x77)) << what;
  expect_detail_names(what);
}

TEST(TaskScatterErrors, ThreadScatterExRefusesBadArguments) {
  Pool p = make_pool(2, identity_task);
  Pool no_fn = make_pool(2, nullptr);
  Task done = tscatter(p.get(), nullptr, nullptr, to_ptr(1));
  ASSERT_TRUE(wait_done(done.get()));
  Results first = gather_ok(p.get());

  lox_scatter_opts o = LOX_SCATTER_OPTS_INIT;
  size_t index = 4242;
  lox_task* t = reinterpret_cast<lox_task*>(0x77);
  prime_detail();
  EXPECT_EQ(lox_thread_scatter_ex(nullptr, identity_task, nullptr, nullptr, &o, &index, &t), LOX_EINVAL);
  EXPECT_EQ(t, reinterpret_cast<lox_task*>(0x77));
  EXPECT_EQ(index, 4242u);
  EXPECT_EQ(lox_thread_scatter_ex(no_fn.get(), nullptr, nullptr, nullptr, &o, &index, &t), LOX_EINVAL)
      << "no task function at all";
  EXPECT_EQ(t, reinterpret_cast<lox_task*>(0x77));

  for (size_t bad : {size_t{0}, size_t{1}, sizeof(lox_scatter_opts) - 1, sizeof(lox_scatter_opts) + 8, SIZE_MAX}) {
    SCOPED_TRACE(bad);
    lox_scatter_opts b = LOX_SCATTER_OPTS_INIT;
    b.struct_size = bad;
    expect_thread_scatter_refused(p.get(), nullptr, &b, "struct_size");
  }
  {
    lox_scatter_opts b = LOX_SCATTER_OPTS_INIT;
    b.after = nullptr;
    b.n_after = 1;
    expect_thread_scatter_refused(p.get(), nullptr, &b, "after");
  }
  {
    std::vector<lox_task*> after{done.get(), nullptr, done.get()};
    lox_scatter_opts b = after_opts(after);
    expect_thread_scatter_refused(p.get(), nullptr, &b, "predecessor|after");
  }
  {
    // Checked before anything is read: a huge count with a 1-entry array.
    std::vector<lox_task*> after{done.get()};
    lox_scatter_opts b = after_opts(after);
    b.n_after = SIZE_MAX;
    expect_thread_scatter_refused(p.get(), nullptr, &b, "n_after");
    b.n_after = 1000001;
    expect_thread_scatter_refused(p.get(), nullptr, &b, "n_after");
  }
  // Nothing was scattered by any of these.
  Results r = gather_ok(p.get());
  EXPECT_EQ(lox_results_count(r.get()), 0u);
  Results r2 = gather_ok(no_fn.get());
  EXPECT_EQ(lox_results_count(r2.get()), 0u);
}

TEST(TaskScatterErrors, NAfterLimitIsOneMillionInclusive) {
  // 1,000,001 entries (one handle repeated: duplicates are allowed) are
  // refused; 1,000,000 are accepted and the task sees them all.
  Pool p = make_pool(1, sum_task);
  Task one = tscatter(p.get(), nullptr, nullptr, to_ptr(1));
  ASSERT_TRUE(wait_done(one.get()));
  std::vector<lox_task*> after(1000001, one.get());
  lox_scatter_opts o = after_opts(after);
  lox_task* t = nullptr;
  EXPECT_EQ(lox_thread_scatter_ex(p.get(), nullptr, nullptr, to_ptr(0), &o, nullptr, &t), LOX_EINVAL);
  EXPECT_EQ(t, nullptr);
  o.n_after = 1000000;
  size_t index = 99;
  ASSERT_EQ(lox_thread_scatter_ex(p.get(), nullptr, nullptr, to_ptr(0), &o, &index, &t), LOX_OK) << lox_last_error();
  Task owner(t);
  EXPECT_EQ(index, 1u);
  ASSERT_TRUE(wait_done(t));
  EXPECT_EQ(lox_task_status(t), 0) << task_error(t);
  EXPECT_EQ(task_value(t), 1000000) << "each of the 1,000,000 inputs is the same task, value 1";
  Results r = gather_ok(p.get());
  ASSERT_EQ(lox_results_count(r.get()), 2u);
}

TEST(TaskScatterErrors, ProcessScatterExRefusesBadArguments) {
  Proc p = make_proc(1, task_fn);
  lox_process_opts small = proc_opts(LOX_FOREVER, 64);
  Proc limited = make_proc(1, task_fn, nullptr, &small);
  Pool tp = make_pool(1, identity_task);
  Task thread_pred = tscatter(tp.get(), nullptr, nullptr, to_ptr(1));
  ASSERT_TRUE(wait_done(thread_pred.get()));
  const std::string in = pcmd(kPSum, 1);

  auto refused = [&](lox_process* pool, const void* data, size_t len, const lox_scatter_opts* o, const char* what) {
    size_t index = 4242;
    lox_task* t = reinterpret_cast<lox_task*>(0x77);
    prime_detail();
    EXPECT_EQ(lox_process_scatter_ex(pool, data, len, o, &index, &t), LOX_EINVAL) << what;
    EXPECT_EQ(index, 4242u) << what;
    EXPECT_EQ(t, reinterpret_cast<lox_task*>(0x77)) << what;
    expect_detail_names(what);
  };
  lox_scatter_opts o = LOX_SCATTER_OPTS_INIT;
  refused(nullptr, in.data(), in.size(), &o, "");
  refused(p.get(), nullptr, 5, &o, "");
  std::string big(65, 'x');
  refused(limited.get(), big.data(), big.size(), &o, "max_message");
  for (size_t bad : {size_t{0}, sizeof(lox_scatter_opts) - 1, sizeof(lox_scatter_opts) + 8}) {
    lox_scatter_opts b = LOX_SCATTER_OPTS_INIT;
    b.struct_size = bad;
    refused(p.get(), in.data(), in.size(), &b, "struct_size");
  }
  {
    lox_scatter_opts b = LOX_SCATTER_OPTS_INIT;
    b.n_after = 2;
    refused(p.get(), in.data(), in.size(), &b, "after");
  }
  {
    std::vector<lox_task*> after{nullptr};
    lox_scatter_opts b = after_opts(after);
    refused(p.get(), in.data(), in.size(), &b, "predecessor|after");
  }
  {
    std::vector<lox_task*> after{thread_pred.get()};
    lox_scatter_opts b = after_opts(after);
    refused(p.get(), in.data(), in.size(), &b, "encode");
    b.n_after = 1000001;
    refused(p.get(), in.data(), in.size(), &b, "n_after");
  }
  Results r = pgather_ok(p.get());
  EXPECT_EQ(lox_results_count(r.get()), 0u);
  Results rl = pgather_ok(limited.get());
  EXPECT_EQ(lox_results_count(rl.get()), 0u);
  Results rt = gather_ok(tp.get());
}

}  // namespace
