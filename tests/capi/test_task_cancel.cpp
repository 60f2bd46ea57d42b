// SPDX-License-Identifier: Apache-2.0
// Cancellation (lox_task_cancel, lox_thread_cancel, lox_process_cancel):
// unstarted tasks never run and complete with LOX_ECANCELLED (their
// dependents with LOX_EDEPENDENCY), a running thread task sees
// lox_task_cancelled() and returns what it decides, a running process task
// is stopped by SIGTERM or, when it ignores SIGTERM, by SIGKILL after the
// grace period (lox_process_set_cancel_grace); a pool cancel closes the
// round; the pool survives and its next round works, finished results are
// kept, callbacks run once, and no process, zombie or descriptor is left
// behind.
#include <lox/lox.h>

#include <gtest/gtest.h>

#include <signal.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "process_util.hpp"
#include "queue_util.hpp"
#include "task_util.hpp"
#include "test_util.hpp"

using namespace loxtest;

namespace {

Results gather_round(lox_thread* p, int want) {
  int rc = -100;
  Results r = gather(p, &rc, kMustSeconds);
  EXPECT_NE(rc, LOX_TIMEOUT) << "the round did not complete within " << kMustSeconds << " s";
  EXPECT_EQ(rc, want) << lox_status_str(rc) << ": " << lox_last_error();
  return r;
}

// Thread tasks that record which arguments ran.
struct Ran {
  std::mutex mu;
  std::multiset<intptr_t> args;
  Counter started;
  Gate gate;
  std::atomic<int> saw_cancel_at_start{0};
  std::atomic<int> saw_cancel_at_end{0};

  void add(intptr_t a) {
    std::lock_guard lk(mu);
    args.insert(a);
  }
  bool ran(intptr_t a) {
    std::lock_guard lk(mu);
    return args.count(a) != 0;
  }
  size_t count() {
    std::lock_guard lk(mu);
    return args.size();
  }
};

// Records its argument and returns it.
int record_task(void* ctx, void* arg, void** result) {
  auto* r = static_cast<Ran*>(ctx);
  r->add(from_ptr(arg));
  *result = arg;
  return 0;
}

// Records, then waits until it is cancelled (polling lox_task_cancelled)
// and returns 42 with its argument as its value; 99 if never cancelled.
int until_cancelled_task(void* ctx, void* arg, void** result) {
  auto* r = static_cast<Ran*>(ctx);
  if (lox_task_cancelled()) r->saw_cancel_at_start.fetch_add(1);
  r->add(from_ptr(arg));
  r->started.add();
  const bool cancelled = eventually([] { return lox_task_cancelled() != 0; }, kMust, std::chrono::microseconds(200));
  *result = arg;
  return cancelled ? 42 : 99;
}

// Records, then waits for the gate (does not look at the cancel flag).
int gated_task(void* ctx, void* arg, void** result) {
  auto* r = static_cast<Ran*>(ctx);
  r->add(from_ptr(arg));
  r->started.add();
  const bool opened = r->gate.wait();
  if (lox_task_cancelled()) r->saw_cancel_at_end.fetch_add(1);
  *result = arg;
  return opened ? 0 : 99;
}

struct OnceLog {
  std::atomic<int> calls{0};
  std::atomic<int> status{-100};
};
void once_cb(void* ctx, lox_task* t) {
  auto* l = static_cast<OnceLog*>(ctx);
  l->status = lox_task_status(t);
  l->calls.fetch_add(1);
}

// ------------------------------------------------------------ thread pool --

TEST(TaskCancel, UnstartedThreadTaskNeverRunsAndIsCancelled) {
  Ran ran;
  Pool p = make_pool(1, record_task, &ran);
  Task blocker = tscatter(p.get(), gated_task, &ran, to_ptr(0));
  ASSERT_TRUE(ran.started.wait_at_least(1));
  std::vector<Task> ts;
  for (intptr_t i = 1; i < 10; ++i) ts.push_back(tscatter(p.get(), nullptr, nullptr, to_ptr(i)));
  OnceLog log;
  ASSERT_EQ(lox_task_on_done(ts[4].get(), once_cb, &log), LOX_OK);
  ASSERT_EQ(lox_task_cancel(ts[4].get()), LOX_OK);  // argument 5, index 5
  ASSERT_TRUE(wait_done(ts[4].get()));
  EXPECT_EQ(lox_task_status(ts[4].get()), LOX_ECANCELLED);
  EXPECT_EQ(lox_task_value(ts[4].get()), nullptr);
  EXPECT_EQ(lox_task_cancel(ts[4].get()), LOX_OK) << "a second cancel changes nothing";
  ran.gate.open();
  Results r = gather_round(p.get(), LOX_ETASK);
  ASSERT_EQ(lox_results_count(r.get()), 10u);
  for (size_t i = 0; i < 10; ++i) EXPECT_EQ(lox_results_status(r.get(), i), i == 5 ? LOX_ECANCELLED : 0) << i;
  EXPECT_FALSE(ran.ran(5)) << "a cancelled task ran";
  EXPECT_EQ(ran.count(), 9u);
  EXPECT_EQ(log.calls.load(), 1);
  EXPECT_EQ(log.status.load(), LOX_ECANCELLED);
  EXPECT_EQ(std::string(lox_status_name(LOX_ECANCELLED)), "LOX_ECANCELLED");
}

TEST(TaskCancel, RunningThreadTaskSeesItsOwnFlagOnly) {
  Ran ran, other;
  Pool p = make_pool(2, until_cancelled_task, &ran);
  Task t = tscatter(p.get(), nullptr, nullptr, to_ptr(1));
  Task o = tscatter(p.get(), gated_task, &other, to_ptr(2));
  ASSERT_TRUE(ran.started.wait_at_least(1));
  ASSERT_TRUE(other.started.wait_at_least(1));
  ASSERT_EQ(lox_task_cancel(t.get()), LOX_OK);
  ASSERT_TRUE(wait_done(t.get()));
  EXPECT_EQ(lox_task_status(t.get()), 42) << "a running thread task's outcome is what it returns";
  EXPECT_EQ(task_value(t.get()), 1);
  EXPECT_EQ(lox_task_done(o.get()), 0);
  other.gate.open();
  Results r = gather_round(p.get(), LOX_ETASK);
  EXPECT_EQ(lox_results_status(r.get(), 0), 42);
  EXPECT_EQ(lox_results_status(r.get(), 1), 0);
  EXPECT_EQ(ran.saw_cancel_at_start.load(), 0);
  EXPECT_EQ(other.saw_cancel_at_end.load(), 0) << "another task of the pool saw the cancel";
}

TEST(TaskCancel, CancellingACompletedTaskChangesNothing) {
  Pool p = make_pool(1, identity_task);
  Task t = tscatter(p.get(), nullptr, nullptr, to_ptr(17));
  ASSERT_TRUE(wait_done(t.get()));
  EXPECT_EQ(lox_task_cancel(t.get()), LOX_OK);
  EXPECT_EQ(lox_task_status(t.get()), 0);
  EXPECT_EQ(task_value(t.get()), 17);
  Results r = gather_round(p.get(), LOX_OK);
  EXPECT_EQ(value_at(r.get(), 0), 17);
}

TEST(TaskCancel, PoolCancelMidRoundKeepsFinishedResultsAndClosesTheRound) {
  // One worker: task 0 finished, task 1 running (polls the flag), 2..9
  // queued. After the cancel, a scatter starts a new round.
  Ran ran;
  Pool p = make_pool(1, record_task, &ran);
  Task done = tscatter(p.get(), nullptr, nullptr, to_ptr(0));
  ASSERT_TRUE(wait_done(done.get()));
  Task running = tscatter(p.get(), until_cancelled_task, &ran, to_ptr(1));
  std::vector<Task> queued;
  for (intptr_t i = 2; i < 10; ++i) queued.push_back(tscatter(p.get(), nullptr, nullptr, to_ptr(i)));
  ASSERT_TRUE(ran.started.wait_at_least(1));
  ASSERT_EQ(lox_thread_cancel(p.get()), LOX_OK);
  size_t index = 99;
  Task next = tscatter(p.get(), nullptr, nullptr, to_ptr(100), {}, &index);
  EXPECT_EQ(index, 0u) << "the cancel closed the round";
  Results r = gather_round(p.get(), LOX_ETASK);
  ASSERT_EQ(lox_results_count(r.get()), 10u) << "the cancelled round alone";
  EXPECT_EQ(lox_results_status(r.get(), 0), 0);
  EXPECT_EQ(value_at(r.get(), 0), 0);
  EXPECT_EQ(lox_results_status(r.get(), 1), 42);
  for (size_t i = 2; i < 10; ++i) {
    EXPECT_EQ(lox_results_status(r.get(), i), LOX_ECANCELLED) << i;
    EXPECT_FALSE(ran.ran(static_cast<intptr_t>(i))) << "cancelled task " << i << " ran";
  }
  Results r2 = gather_round(p.get(), LOX_OK);
  ASSERT_EQ(lox_results_count(r2.get()), 1u);
  EXPECT_EQ(value_at(r2.get(), 0), 100);
  EXPECT_TRUE(ran.ran(100));
}

TEST(TaskCancel, PoolCancelReachesEarlierRoundsNotGathered) {
  Ran ran;
  Pool p = make_pool(1, record_task, &ran);
  Task a = tscatter(p.get(), gated_task, &ran, to_ptr(1));
  Task b = tscatter(p.get(), nullptr, nullptr, to_ptr(2));
  ASSERT_TRUE(ran.started.wait_at_least(1));
  ASSERT_EQ(lox_thread_cancel(p.get()), LOX_OK);
  size_t index = 99;
  Task c = tscatter(p.get(), nullptr, nullptr, to_ptr(3), {}, &index);
  EXPECT_EQ(index, 0u);
  ASSERT_EQ(lox_thread_cancel(p.get()), LOX_OK);
  Task d = tscatter(p.get(), nullptr, nullptr, to_ptr(4), {}, &index);
  EXPECT_EQ(index, 0u);
  ran.gate.open();
  Results r1 = gather_round(p.get(), LOX_ETASK);
  ASSERT_EQ(lox_results_count(r1.get()), 2u);
  EXPECT_EQ(lox_results_status(r1.get(), 0), 0) << "running, it ignored the flag and finished";
  EXPECT_EQ(lox_results_status(r1.get(), 1), LOX_ECANCELLED);
  Results r2 = gather_round(p.get(), LOX_ETASK);
  ASSERT_EQ(lox_results_count(r2.get()), 1u);
  EXPECT_EQ(lox_results_status(r2.get(), 0), LOX_ECANCELLED);
  Results r3 = gather_round(p.get(), LOX_OK);
  ASSERT_EQ(lox_results_count(r3.get()), 1u);
  EXPECT_EQ(value_at(r3.get(), 0), 4);
  EXPECT_FALSE(ran.ran(2));
  EXPECT_FALSE(ran.ran(3));
}

TEST(TaskCancel, CancelledPredecessorFailsItsDependents) {
  Ran ran;
  Pool p = make_pool(1, record_task, &ran);
  Task blocker = tscatter(p.get(), gated_task, &ran, to_ptr(0));
  ASSERT_TRUE(ran.started.wait_at_least(1));
  Task pred = tscatter(p.get(), nullptr, nullptr, to_ptr(1));
  Task ok = tscatter(p.get(), nullptr, nullptr, to_ptr(2));
  Task dep = tscatter(p.get(), nullptr, nullptr, to_ptr(3), {ok.get(), pred.get()});
  Task dep2 = tscatter(p.get(), nullptr, nullptr, to_ptr(4), {dep.get()});
  ASSERT_TRUE(pred && ok && dep && dep2);
  ASSERT_EQ(lox_task_cancel(pred.get()), LOX_OK);
  ran.gate.open();
  Results r = gather_round(p.get(), LOX_ETASK);
  EXPECT_EQ(lox_task_status(pred.get()), LOX_ECANCELLED);
  expect_dependency_failure(dep.get(), 1);
  expect_dependency_failure(dep2.get(), 0);
  EXPECT_TRUE(ran.ran(2));
  EXPECT_FALSE(ran.ran(1));
  EXPECT_FALSE(ran.ran(3));
  EXPECT_FALSE(ran.ran(4));
}

TEST(TaskCancel, CancellingATaskThatWaitsForItsPredecessors) {
  Ran ran;
  Pool p = make_pool(2, record_task, &ran);
  Task pred = tscatter(p.get(), gated_task, &ran, to_ptr(0));
  Task dep = tscatter(p.get(), nullptr, nullptr, to_ptr(1), {pred.get()});
  Task dep2 = tscatter(p.get(), nullptr, nullptr, to_ptr(2), {dep.get()});
  OnceLog log;
  ASSERT_EQ(lox_task_on_done(dep.get(), once_cb, &log), LOX_OK);
  ASSERT_EQ(lox_task_cancel(dep.get()), LOX_OK);
  ASSERT_TRUE(wait_done(dep.get()));
  EXPECT_EQ(lox_task_status(dep.get()), LOX_ECANCELLED);
  ASSERT_TRUE(wait_done(dep2.get()));
  expect_dependency_failure(dep2.get(), 0);
  ran.gate.open();
  Results r = gather_round(p.get(), LOX_ETASK);
  EXPECT_EQ(lox_results_status(r.get(), 0), 0);
  EXPECT_FALSE(ran.ran(1));
  EXPECT_FALSE(ran.ran(2));
  EXPECT_EQ(log.calls.load(), 1);
}

// A task that cancels its own pool (allowed from a task).
struct SelfCancel {
  lox_thread* pool = nullptr;
  Gate go;  // opened once the rest of the round is scattered
  std::atomic<int> rc{-100};
};
int cancel_own_pool(void* ctx, void*, void**) {
  auto* s = static_cast<SelfCancel*>(ctx);
  if (!s->go.wait()) return 99;
  s->rc = lox_thread_cancel(s->pool);
  return 0;
}

TEST(TaskCancel, ATaskMayCancelItsOwnPool) {
  Ran ran;
  Pool p = make_pool(1, record_task, &ran);
  SelfCancel s{p.get()};
  Task c = tscatter(p.get(), cancel_own_pool, &s, nullptr);
  for (intptr_t i = 1; i < 6; ++i) ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr(i), nullptr), LOX_OK);
  s.go.open();
  ASSERT_TRUE(wait_done(c.get()));  // the cancel came before the gather began
  Results r = gather_round(p.get(), LOX_ETASK);
  EXPECT_EQ(s.rc.load(), LOX_OK);
  ASSERT_EQ(lox_results_count(r.get()), 6u);
  EXPECT_EQ(lox_results_status(r.get(), 0), 0);
  for (size_t i = 1; i < 6; ++i) EXPECT_EQ(lox_results_status(r.get(), i), LOX_ECANCELLED) << i;
  EXPECT_EQ(ran.count(), 0u);
}

TEST(TaskCancel, NullPools) {
  EXPECT_EQ(lox_thread_cancel(nullptr), LOX_EINVAL);
  EXPECT_EQ(lox_process_cancel(nullptr), LOX_EINVAL);
}

// ----------------------------------------------------------- process pool --

int scatter_cmd_bytes(lox_process* p, const std::string& in) {
  return lox_process_scatter(p, in.data(), in.size(), nullptr);
}

// Waits for the worker pid `pid` (recorded by the task) to be gone.
bool worker_gone(pid_t pid, const ProcEntry& before) {
  return eventually([&] {
    ProcEntry now;
    return !read_proc_entry(pid, now) || now.start != before.start || now.state == 'Z';
  });
}

TEST(TaskCancel, ProcessPoolCancelStopsRunningAndUnstartedTasksAndSurvives) {
  QuietLog quiet;
  warm_up_process_pool();
  LeakCheck leaks;
  {
    Shared sh;
    Proc p = make_proc(1, task_fn, sh.get());
    set_cancel_grace(p.get(), 60.0);  // the running task dies of SIGTERM, long before this
    // Not a quick task (2 ms): the worker then gets the next one alone, not
    // in a batch with the queued ones.
    Task done = pscatter(p.get(), pcmd(kPSleepMs, 2, 5));
    ASSERT_TRUE(wait_done(done.get()));
    Task running = pscatter(p.get(), pcmd(kPWaitTurn, 1, 1));
    std::vector<Task> queued;
    for (int64_t i = 0; i < 5; ++i) queued.push_back(pscatter(p.get(), pcmd(kPWaitTurn, 0, i)));
    ASSERT_TRUE(eventually([&] { return sh->started.load() >= 1; }));
    leaks.remember();
    const pid_t worker = sh->last_pid.load();
    ProcEntry before;
    ASSERT_TRUE(read_proc_entry(worker, before));
    ASSERT_EQ(lox_process_cancel(p.get()), LOX_OK);
    size_t index = 99;
    Task next = pscatter(p.get(), pcmd(kPPid), {}, &index);
    EXPECT_EQ(index, 0u) << "the cancel closed the round";
    ASSERT_EQ(lox_task_wait(running.get(), 30.0), LOX_OK) << "SIGTERM did not stop the running task";
    EXPECT_EQ(lox_task_status(running.get()), LOX_ECANCELLED) << task_error(running.get());
    Results r = pgather_expect(p.get(), LOX_ETASK);
    ASSERT_EQ(lox_results_count(r.get()), 7u);
    EXPECT_EQ(lox_results_status(r.get(), 0), 0);
    EXPECT_EQ(bytes_at(r.get(), 0), i64_bytes(5)) << "a finished result is kept";
    for (size_t i = 1; i < 7; ++i) EXPECT_EQ(lox_results_status(r.get(), i), LOX_ECANCELLED) << i;
    EXPECT_EQ(sh->started.load(), 1) << "an unstarted task ran after the cancel";
    EXPECT_TRUE(worker_gone(worker, before)) << "the cancelled task's worker still exists";
    // The pool survives: the next round runs on a new worker.
    Results r2 = pgather_ok(p.get());
    ASSERT_EQ(lox_results_count(r2.get()), 1u);
    int64_t pid = 0;
    ASSERT_TRUE(pod_from(bytes_at(r2.get(), 0), pid));
    EXPECT_NE(pid, worker);
    EXPECT_NE(pid, getpid());
    leaks.remember();
  }
  leaks.check_clean("after destroy");
}

TEST(TaskCancel, ProcessTaskIgnoringSigtermIsKilledAfterTheGrace) {
  QuietLog quiet;
  warm_up_process_pool();
  LeakCheck leaks;
  {
    Shared sh;
    Proc p = make_proc(1, task_fn, sh.get());
    set_cancel_grace(p.get(), 1.0);
    Task t = pscatter(p.get(), pcmd(kPIgnoreTerm, 9));
    OnceLog log;
    ASSERT_EQ(lox_task_on_done(t.get(), once_cb, &log), LOX_OK);
    ASSERT_TRUE(eventually([&] { return sh->started.load() >= 1; }));
    leaks.remember();
    const pid_t worker = sh->last_pid.load();
    ProcEntry before;
    ASSERT_TRUE(read_proc_entry(worker, before));
    const auto t0 = Clock::now();
    ASSERT_EQ(lox_task_cancel(t.get()), LOX_OK);
    ASSERT_TRUE(eventually([&] { return sh->terms.load() >= 1; })) << "the worker got no SIGTERM";
    ASSERT_TRUE(wait_done(t.get()));
    const auto took = Clock::now() - t0;
    EXPECT_GE(took, std::chrono::milliseconds(900)) << "SIGKILL came before the 1 s grace";
    EXPECT_EQ(lox_task_status(t.get()), LOX_ECANCELLED) << task_error(t.get());
    EXPECT_EQ(sh->terms.load(), 1);
    EXPECT_TRUE(worker_gone(worker, before));
    Results r = pgather_expect(p.get(), LOX_ETASK);
    EXPECT_EQ(log.calls.load(), 1);
    EXPECT_EQ(log.status.load(), LOX_ECANCELLED);
    // Replaced: the next round works.
    Task n = pscatter(p.get(), pcmd(kPSum, 3));
    Results r2 = pgather_ok(p.get());
    EXPECT_EQ(task_i64(n.get()), 3);
    leaks.remember();
  }
  leaks.check_clean("after destroy");
}

TEST(TaskCancel, ProcessCancelOfSeveralRunningTasksThatIgnoreSigterm) {
  // Four running tasks, each catching SIGTERM: four workers to kill after
  // the grace, all at once.
  QuietLog quiet;
  warm_up_process_pool();
  LeakCheck leaks;
  {
    Shared sh;
    Proc p = make_proc(4, task_fn, sh.get());
    set_cancel_grace(p.get(), 0.5);
    std::vector<Task> ts;
    for (int64_t i = 0; i < 4; ++i) ts.push_back(pscatter(p.get(), pcmd(kPIgnoreTerm, i)));
    ASSERT_TRUE(eventually([&] { return sh->started.load() == 4; }));
    leaks.remember();
    ASSERT_EQ(lox_process_cancel(p.get()), LOX_OK);
    for (auto& t : ts) {
      ASSERT_TRUE(wait_done(t.get()));
      EXPECT_EQ(lox_task_status(t.get()), LOX_ECANCELLED) << task_error(t.get());
    }
    EXPECT_TRUE(eventually([&] { return sh->terms.load() == 4; })) << sh->terms.load() << " SIGTERMs caught";
    Results r = pgather_expect(p.get(), LOX_ETASK);
    for (int64_t i = 0; i < 4; ++i) ASSERT_NE(pscatter(p.get(), pcmd(kPSum, i)), nullptr);
    Results r2 = pgather_ok(p.get());
    ASSERT_EQ(lox_results_count(r2.get()), 4u);
    leaks.remember();
  }
  leaks.check_clean("after destroy");
}

TEST(TaskCancel, TasksScatteredAfterAProcessCancelAreNotHitByIt) {
  // The cancel stops the running task's worker; tasks of the next round,
  // scattered at once, must run on a replacement (never on the worker that
  // is being stopped) and succeed.
  QuietLog quiet;
  Shared sh;
  Proc p = make_proc(2, task_fn, sh.get());
  set_cancel_grace(p.get(), 0.2);
  for (int attempt = 0; attempt < static_cast<int>(scaled(20)); ++attempt) {
    SCOPED_TRACE("attempt " + std::to_string(attempt));
    sh->started.store(0);
    Task running = pscatter(p.get(), pcmd(kPWaitTurn, 1, 1));
    ASSERT_TRUE(eventually([&] { return sh->started.load() >= 1; }));
    ASSERT_EQ(lox_process_cancel(p.get()), LOX_OK);
    for (int64_t i = 0; i < 20; ++i) ASSERT_EQ(scatter_cmd_bytes(p.get(), pcmd(kPSum, i)), LOX_OK);
    // The running task would wait 60 s for its gate; stopped by the cancel
    // (SIGTERM, SIGKILL after 0.2 s) its round ends long before 30 s.
    int rc = -100;
    Results cancelled = pgather(p.get(), &rc, 30.0);
    if (rc == LOX_TIMEOUT) {
      ProcEntry e;
      const pid_t w = sh->last_pid.load();
      const bool alive = read_proc_entry(w, e) && e.state != 'Z';
      FAIL() << "the cancelled round did not end within 30 s: its running task's handle done="
             << lox_task_done(running.get()) << ", its worker " << w << (alive ? " still alive" : " gone")
             << ", pending " << lox_process_pending(p.get()) << ", workers " << lox_process_workers(p.get());
    }
    EXPECT_EQ(rc, LOX_ETASK);
    EXPECT_EQ(lox_task_status(running.get()), LOX_ECANCELLED) << task_error(running.get());
    Results next = pgather_ok(p.get());
    ASSERT_EQ(lox_results_count(next.get()), 20u);
    for (size_t i = 0; i < 20; ++i) ASSERT_EQ(bytes_at(next.get(), i), i64_bytes(static_cast<int64_t>(i)));
  }
}

TEST(TaskCancel, ProcessCancelPropagatesToThreadDependents) {
  QuietLog quiet;
  Shared sh;
  Proc pp = make_proc(1, task_fn, sh.get());
  set_cancel_grace(pp.get(), 0.0);
  Ran ran;
  Pool tp = make_pool(1, record_task, &ran);
  Task pt = pscatter(pp.get(), pcmd(kPWaitTurn, 1, 1));
  Task dep = tscatter(tp.get(), nullptr, nullptr, to_ptr(1), {pt.get()});
  ASSERT_TRUE(eventually([&] { return sh->started.load() >= 1; }));
  ASSERT_EQ(lox_task_cancel(pt.get()), LOX_OK);
  ASSERT_TRUE(wait_done(dep.get()));
  EXPECT_EQ(lox_task_status(pt.get()), LOX_ECANCELLED);
  expect_dependency_failure(dep.get(), 0);
  EXPECT_EQ(ran.count(), 0u);
  Results rp = pgather_expect(pp.get(), LOX_ETASK);
  Results rt = gather_round(tp.get(), LOX_ETASK);
}

TEST(TaskCancel, DestroyingAProcessPoolFailsThreadDependentsOfItsUnfinishedTasks) {
  // Process destroy drops unfinished tasks. Their thread dependents must
  // still complete, without running (a dropped predecessor did not
  // succeed), or the thread pool's round could never end.
  QuietLog quiet;
  warm_up_process_pool();
  LeakCheck leaks;
  Ran ran;
  Pool tp = make_pool(1, record_task, &ran);
  Task pt, dep;
  {
    Shared sh;
    Proc pp = make_proc(1, task_fn, sh.get());
    pt = pscatter(pp.get(), pcmd(kPWaitTurn, 1, 1));
    dep = tscatter(tp.get(), nullptr, nullptr, to_ptr(1), {pt.get()});
    ASSERT_TRUE(pt && dep);
    ASSERT_TRUE(eventually([&] { return sh->started.load() >= 1; }));
    leaks.remember();
  }  // destroyed with its task running
  ASSERT_TRUE(wait_done(pt.get())) << "the dropped task's handle never completes";
  EXPECT_NE(lox_task_status(pt.get()), 0);
  ASSERT_TRUE(wait_done(dep.get())) << "the dependent of a dropped task never completes";
  EXPECT_EQ(lox_task_status(dep.get()), LOX_EDEPENDENCY) << task_error(dep.get());
  EXPECT_EQ(ran.count(), 0u);
  Results r = gather_round(tp.get(), LOX_ETASK);
  leaks.check_clean("after destroy");
}

TEST(TaskCancel, CancelGraceSetter) {
  Proc p = make_proc(1, task_fn);
  EXPECT_EQ(lox_process_set_cancel_grace(nullptr, 1.0), LOX_EINVAL);
  for (double bad : {kNaN, -0.5, -1.0, -std::numeric_limits<double>::infinity()}) {
    SCOPED_TRACE(bad);
    prime_detail();
    EXPECT_EQ(lox_process_set_cancel_grace(p.get(), bad), LOX_EINVAL);
    EXPECT_EQ(std::string(lox_last_error()).find("thread call"), std::string::npos)
        << "no detail: " << lox_last_error();
  }
  for (double ok : {0.0, 0.25, 1.0, 3600.0}) EXPECT_EQ(lox_process_set_cancel_grace(p.get(), ok), LOX_OK) << ok;
  // The pool works as before.
  Task t = pscatter(p.get(), pcmd(kPSum, 2));
  Results r = pgather_ok(p.get());
  EXPECT_EQ(task_i64(t.get()), 2);
}

}  // namespace
