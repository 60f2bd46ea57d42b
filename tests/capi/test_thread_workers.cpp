// SPDX-License-Identifier: Apache-2.0
// Worker threads of the thread pool: bounded concurrency, threads started on
// demand up to max_workers, retired when idle (an idle pool holds no thread
// and burns no CPU), pending(), and destroy running every queued task.
#include <lox/lox.h>

#include <gtest/gtest.h>

#include <sys/resource.h>

#include <atomic>
#include <random>
#include <thread>
#include <vector>

#include "test_util.hpp"

using namespace loxtest;

namespace {

// ------------------------------------------------------------ concurrency --

// `n` tasks that each wait (up to 10 s) until all `n` have started: they
// succeed only if they ran at the same time.
struct Rendezvous {
  int n;
  Counter arrived;
  Concurrency conc;
};
int rendezvous_task(void* ctx, void*, void**) {
  auto* r = static_cast<Rendezvous*>(ctx);
  r->conc.enter();
  r->arrived.add();
  bool all = r->arrived.wait_at_least(r->n, 10s);
  r->conc.leave();
  return all ? 0 : 1;
}

struct Tracked {
  Concurrency conc;
  lox_thread* pool = nullptr;
  std::atomic<size_t> max_workers_seen{0};
};
int tracked_task(void* ctx, void* arg, void** result) {
  auto* t = static_cast<Tracked*>(ctx);
  t->conc.enter();
  size_t w = lox_thread_workers(t->pool);
  size_t m = t->max_workers_seen.load();
  while (w > m && !t->max_workers_seen.compare_exchange_weak(m, w)) {
  }
  std::this_thread::sleep_for(std::chrono::microseconds(from_ptr(arg)));
  t->conc.leave();
  *result = arg;
  return 0;
}

TEST(Workers, MaxWorkersTasksRunInParallel) {
  for (int max : {2, 3}) {
    Rendezvous r{max, {}, {}};
    Pool p = make_pool(static_cast<size_t>(max), rendezvous_task, &r);
    for (int i = 0; i < max; ++i) ASSERT_EQ(lox_thread_scatter(p.get(), nullptr, nullptr), LOX_OK);
    int rc = -100;
    Results res = gather(p.get(), &rc);
    EXPECT_EQ(rc, LOX_OK) << max << " ready tasks did not run in parallel on " << max << " workers";
    EXPECT_EQ(r.conc.max(), max);
    EXPECT_LE(lox_thread_workers(p.get()), static_cast<size_t>(max));
  }
}

TEST(Workers, ConcurrencyIsBoundedByMaxWorkers) {
  for (size_t max : {size_t{1}, size_t{3}, size_t{5}}) {
    Tracked t;
    Pool p = make_pool(max, tracked_task, &t);
    t.pool = p.get();
    std::mt19937 rng(static_cast<unsigned>(max));
    std::uniform_int_distribution<int> us(0, 2000);
    std::atomic<bool> sampling{true};
    std::atomic<size_t> sampled_max{0};
    std::thread sampler([&] {
      while (sampling.load()) {
        size_t w = lox_thread_workers(p.get());
        if (w > sampled_max.load()) sampled_max = w;
        std::this_thread::yield();
      }
    });
    for (int round = 0; round < 2; ++round) {
      for (int i = 0; i < 60; ++i) ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr(us(rng)), nullptr), LOX_OK);
      Results r = gather_ok(p.get());
      EXPECT_EQ(lox_results_count(r.get()), 60u);
    }
    sampling = false;
    sampler.join();
    EXPECT_LE(t.conc.max(), static_cast<int>(max)) << "max_workers " << max;
    EXPECT_GE(t.conc.max(), 1);
    EXPECT_LE(t.max_workers_seen.load(), max);
    EXPECT_LE(sampled_max.load(), max);
  }
}

TEST(Workers, SlowTasksRunInParallel) {
  // With many slow tasks and 3 workers, more than one runs at a time
  // (generous: any overlap at all).
  Tracked t;
  Pool p = make_pool(3, tracked_task, &t);
  t.pool = p.get();
  for (int i = 0; i < 30; ++i) ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr(5000), nullptr), LOX_OK);
  Results r = gather_ok(p.get());
  EXPECT_EQ(lox_results_count(r.get()), 30u);
  EXPECT_GT(t.conc.max(), 1) << "30 tasks of 5 ms never overlapped on 3 workers";
  EXPECT_LE(t.conc.max(), 3);
}

// Gated tasks, counted as they start.
struct Gated {
  Gate gate;
  Counter started;
  std::atomic<long> ran{0};
};
int gated_task(void* ctx, void* arg, void** result) {
  auto* g = static_cast<Gated*>(ctx);
  g->started.add();
  bool ok = g->gate.wait();
  g->ran.fetch_add(1);
  *result = arg;
  return ok ? 0 : 99;
}

// Task 0 waits (up to 10 s) for task 1 to run. With two workers, while one
// worker is blocked in task 0 the other must be able to run task 1: a
// queued task is not held back behind a blocked one while a worker is free.
struct Dependent {
  Gate blockers;
  Counter blockers_started;
  Gate task1_ran;
};
int dependent_task(void* ctx, void* arg, void** result) {
  auto* d = static_cast<Dependent*>(ctx);
  intptr_t a = from_ptr(arg);
  *result = arg;
  if (a < 0) {  // occupies a worker until the gate opens
    d->blockers_started.add();
    return d->blockers.wait() ? 0 : 99;
  }
  if (a == 0) return d->task1_ran.wait(10s) ? 0 : 1;
  if (a == 1) d->task1_ran.open();
  return 0;
}

TEST(Workers, IdleWorkerRunsAQueuedTaskWhileAnotherTaskBlocks) {
  Dependent d;
  Pool p = make_pool(2, dependent_task, &d);
  // Both workers busy, then 8 tasks queued: 0 waits for 1, 2..7 are trivial.
  ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr(-1), nullptr), LOX_OK);
  ASSERT_TRUE(d.blockers_started.wait_at_least(1));
  ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr(-2), nullptr), LOX_OK);
  ASSERT_TRUE(d.blockers_started.wait_at_least(2));
  for (intptr_t i = 0; i < 8; ++i) ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr(i), nullptr), LOX_OK);
  d.blockers.open();
  int rc = -100;
  Results r = gather(p.get(), &rc);
  EXPECT_EQ(rc, LOX_OK);
  ASSERT_EQ(lox_results_count(r.get()), 10u);
  EXPECT_EQ(lox_results_status(r.get(), 2), 0)
      << "task 0 waited 10 s for task 1, which never ran although a worker was idle";
}

TEST(Workers, BlockedTaskDoesNotHoldItsBatchHostage) {
  // Workers that just ran many quick tasks claim them in batches (up to 32).
  // Then task 0 of a batch blocks until task 1 of the same batch ran: an
  // idle worker must steal the unstarted rest of the batch, or task 0 waits
  // its full 10 s and fails.
  Dependent d;
  d.blockers.open();
  Pool p = make_pool(2, dependent_task, &d);
  for (intptr_t i = 2; i < 100000; ++i) ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr(i), nullptr), LOX_OK);
  Results warm = gather_ok(p.get());
  // Let both workers fall asleep: the next scatters wake one, which finds
  // them all published and takes them as one batch.
  std::this_thread::sleep_for(200ms);
  for (intptr_t i = 0; i < 40; ++i) ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr(i), nullptr), LOX_OK);
  int rc = -100;
  Results r = gather(p.get(), &rc);
  EXPECT_EQ(rc, LOX_OK);
  ASSERT_EQ(lox_results_count(r.get()), 40u);
  EXPECT_EQ(lox_results_status(r.get(), 0), 0) << "task 0 waited 10 s for task 1 of its own batch";
}

TEST(Workers, DefaultWorkersIsFifty) {
  // Scatter one blocking task at a time: each can only start on a new
  // worker. 50 start; the 51st waits, and no 51st thread exists.
  Gated g;
  Pool p = make_pool(LOX_DEFAULT_WORKERS, gated_task, &g);
  for (long k = 0; k < 50; ++k) {
    ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr(k), nullptr), LOX_OK);
    ASSERT_TRUE(g.started.wait_at_least(k + 1))
        << "task " << k << " never started (workers " << lox_thread_workers(p.get()) << ")";
  }
  EXPECT_EQ(lox_thread_workers(p.get()), 50u);
  ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr(50), nullptr), LOX_OK);
  std::this_thread::sleep_for(100ms);  // a window for a (wrong) 51st worker
  EXPECT_EQ(g.started.get(), 50);
  EXPECT_EQ(lox_thread_workers(p.get()), 50u);
  EXPECT_EQ(lox_thread_pending(p.get()), 1u);
  g.gate.open();
  Results r = gather_ok(p.get());
  ASSERT_EQ(lox_results_count(r.get()), 51u);
  for (size_t i = 0; i < 51; ++i) EXPECT_EQ(value_at(r.get(), i), static_cast<intptr_t>(i));
}

TEST(Workers, PendingCountsQueuedTasks) {
  Gated g;
  Pool p = make_pool(1, gated_task, &g);
  EXPECT_EQ(lox_thread_pending(p.get()), 0u);
  ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr(0), nullptr), LOX_OK);
  ASSERT_TRUE(g.started.wait_at_least(1));
  EXPECT_EQ(lox_thread_pending(p.get()), 0u) << "the running task is not pending";
  for (intptr_t i = 1; i <= 10; ++i) {
    ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr(i), nullptr), LOX_OK);
    EXPECT_EQ(lox_thread_pending(p.get()), static_cast<size_t>(i));
  }
  EXPECT_EQ(lox_thread_workers(p.get()), 1u);
  g.gate.open();
  Results r = gather_ok(p.get());
  EXPECT_EQ(lox_results_count(r.get()), 11u);
  EXPECT_EQ(lox_thread_pending(p.get()), 0u);
}

TEST(Workers, PendingIncludesATimedOutRound) {
  // Tasks of a timed-out (reopened) round, old and new, are all pending while
  // the single worker is blocked.
  Gated g;
  Pool p = make_pool(1, gated_task, &g);
  ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr(0), nullptr), LOX_OK);
  ASSERT_TRUE(g.started.wait_at_least(1));
  for (intptr_t i = 1; i <= 4; ++i) ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr(i), nullptr), LOX_OK);
  int rc = -100;
  Results none = gather(p.get(), &rc, 0.01);  // reopens the round
  ASSERT_EQ(rc, LOX_TIMEOUT);
  for (intptr_t i = 5; i <= 6; ++i) ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr(i), nullptr), LOX_OK);
  EXPECT_EQ(lox_thread_pending(p.get()), 6u);
  g.gate.open();
  Results r = gather_ok(p.get());
  EXPECT_EQ(values(r.get()), (std::vector<intptr_t>{0, 1, 2, 3, 4, 5, 6}));
}

// ---------------------------------------------------------------- idling --

TEST(Workers, RetireWhenIdle) {
  Pool p = make_pool_ex(4, identity_task, nullptr, 0.05);
  for (int cycle = 0; cycle < 3; ++cycle) {
    for (intptr_t i = 0; i < 100; ++i) ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr(i), nullptr), LOX_OK);
    Results r = gather_ok(p.get());
    ASSERT_EQ(lox_results_count(r.get()), 100u);
    EXPECT_LE(lox_thread_workers(p.get()), 4u);
    EXPECT_TRUE(eventually([&] { return lox_thread_workers(p.get()) == 0; }))
        << "cycle " << cycle << ": " << lox_thread_workers(p.get()) << " workers still alive";
  }
}

TEST(Workers, ZeroIdleTimeoutRetiresAtOnce) {
  Pool p = make_pool_ex(3, identity_task, nullptr, 0.0);
  for (int cycle = 0; cycle < 20; ++cycle) {
    for (intptr_t i = 0; i < 10; ++i) ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr(i), nullptr), LOX_OK);
    Results r = gather_ok(p.get());
    ASSERT_EQ(values(r.get()), (std::vector<intptr_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  }
  EXPECT_TRUE(eventually([&] { return lox_thread_workers(p.get()) == 0; }));
}

TEST(Workers, LongIdleTimeoutKeepsWorkers) {
  Gated g;
  g.gate.open();
  Pool p = make_pool_ex(2, gated_task, &g, 1e6);
  ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr(1), nullptr), LOX_OK);
  Results r = gather_ok(p.get());
  EXPECT_GE(lox_thread_workers(p.get()), 1u) << "the worker retired long before its idle timeout";
  // destroy (at scope exit) must wake and join the sleeping worker.
}

double process_cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

TEST(Workers, IdlePoolBurnsNoCpu) {
  // Workers retired: no thread at all.
  Pool p = make_pool_ex(4, identity_task, nullptr, 0.05);
  for (intptr_t i = 0; i < 200; ++i) ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr(i), nullptr), LOX_OK);
  Results r = gather_ok(p.get());
  ASSERT_TRUE(eventually([&] { return lox_thread_workers(p.get()) == 0; }));
  double before = process_cpu_seconds();
  std::this_thread::sleep_for(300ms);
  double used = process_cpu_seconds() - before;
  EXPECT_LT(used, 0.1) << "an idle pool used " << used << " s of CPU in 0.3 s";
}

TEST(Workers, SleepingWorkersBurnNoCpu) {
  // Workers alive (long idle timeout) but without work: they sleep.
  Tracked t;
  Pool p = make_pool_ex(4, tracked_task, &t, 1e6);
  t.pool = p.get();
  for (intptr_t i = 0; i < 40; ++i) ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr(500), nullptr), LOX_OK);
  Results r = gather_ok(p.get());
  ASSERT_GE(lox_thread_workers(p.get()), 1u);
  std::this_thread::sleep_for(50ms);  // let them finish their short spin
  double before = process_cpu_seconds();
  std::this_thread::sleep_for(300ms);
  double used = process_cpu_seconds() - before;
  EXPECT_LT(used, 0.1) << lox_thread_workers(p.get()) << " idle workers used " << used << " s of CPU in 0.3 s";
}

TEST(Workers, NewWorkersAfterRetirement) {
  // After every worker retired, new work starts new workers (no lost
  // wake-up): repeated many times with idle_timeout 0, where retiring and
  // scattering race the most.
  Pool p = make_pool_ex(2, identity_task, nullptr, 0.0);
  for (int k = 0; k < 300; ++k) {
    ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr(k), nullptr), LOX_OK);
    Results r = gather_ok(p.get());
    ASSERT_EQ(lox_results_count(r.get()), 1u);
    ASSERT_EQ(value_at(r.get(), 0), k);
    if (k % 50 == 0) ASSERT_TRUE(eventually([&] { return lox_thread_workers(p.get()) == 0; }));
  }
}

// --------------------------------------------------------------- destroy --

struct CountingGate {
  Gate gate;
  Counter started;
  std::atomic<long> ran{0};
};
int count_after_gate(void* ctx, void* arg, void** result) {
  auto* c = static_cast<CountingGate*>(ctx);
  if (from_ptr(arg) == 0) {
    c->started.add();
    if (!c->gate.wait()) return 99;
  }
  c->ran.fetch_add(1);
  *result = arg;
  return 0;
}

TEST(Destroy, RunsEveryQueuedTask) {
  constexpr long kQueued = 10000;
  CountingGate c;
  lox_thread* p = nullptr;
  ASSERT_EQ(lox_thread_create(1, count_after_gate, &c, &p), LOX_OK);
  ASSERT_EQ(lox_thread_scatter(p, to_ptr(0), nullptr), LOX_OK);
  ASSERT_TRUE(c.started.wait_at_least(1));
  for (long i = 1; i <= kQueued; ++i) ASSERT_EQ(lox_thread_scatter(p, to_ptr(i), nullptr), LOX_OK);
  EXPECT_EQ(lox_thread_pending(p), static_cast<size_t>(kQueued));
  std::atomic<bool> destroyed{false};
  std::thread destroyer([&] {
    lox_thread_destroy(p);
    destroyed = true;
  });
  c.gate.open();
  destroyer.join();
  EXPECT_TRUE(destroyed.load());
  EXPECT_EQ(c.ran.load(), kQueued + 1) << "destroy must run queued tasks, not cancel them";
}

TEST(Destroy, WaitsForTheRunningTask) {
  CountingGate c;
  lox_thread* p = nullptr;
  ASSERT_EQ(lox_thread_create(4, count_after_gate, &c, &p), LOX_OK);
  ASSERT_EQ(lox_thread_scatter(p, to_ptr(0), nullptr), LOX_OK);
  ASSERT_TRUE(c.started.wait_at_least(1));
  for (long i = 1; i <= 100; ++i) ASSERT_EQ(lox_thread_scatter(p, to_ptr(i), nullptr), LOX_OK);
  std::atomic<bool> destroyed{false};
  std::thread destroyer([&] {
    lox_thread_destroy(p);
    destroyed = true;
  });
  std::this_thread::sleep_for(50ms);  // a window for a (wrong) early return
  EXPECT_FALSE(destroyed.load()) << "destroy returned while a task was still running";
  c.gate.open();
  destroyer.join();
  EXPECT_EQ(c.ran.load(), 101);
}

TEST(Destroy, RunsEachTaskExactlyOnce) {
  // Gathered rounds, a timed-out (abandoned) round and a never-gathered
  // round: every task runs once, none twice.
  for (size_t workers : {size_t{1}, size_t{4}}) {
    CountingGate c;
    lox_thread* p = nullptr;
    ASSERT_EQ(lox_thread_create(workers, count_after_gate, &c, &p), LOX_OK);
    for (long i = 1; i <= 500; ++i) ASSERT_EQ(lox_thread_scatter(p, to_ptr(i), nullptr), LOX_OK);
    {
      Results r = gather_ok(p);
      ASSERT_EQ(lox_results_count(r.get()), 500u);
    }
    ASSERT_EQ(lox_thread_scatter(p, to_ptr(0), nullptr), LOX_OK);  // blocks
    for (long i = 1; i <= 300; ++i) ASSERT_EQ(lox_thread_scatter(p, to_ptr(i), nullptr), LOX_OK);
    int rc = -100;
    Results none = gather(p, &rc, 0.01);
    ASSERT_EQ(rc, LOX_TIMEOUT);
    c.gate.open();
    lox_thread_destroy(p);
    EXPECT_EQ(c.ran.load(), 801) << "workers " << workers;
  }
}

// A task with argument n scatters n - 1 ... 0 into its own pool (2^n tasks
// in all), so tasks keep arriving while destroy drains the pool.
struct TreeCtx {
  lox_thread* pool = nullptr;
  std::atomic<long> ran{0};
  std::atomic<int> scatter_failures{0};
};
int tree_task(void* ctx, void* arg, void**) {
  auto* t = static_cast<TreeCtx*>(ctx);
  for (intptr_t k = 0; k < from_ptr(arg); ++k)
    if (lox_thread_scatter(t->pool, to_ptr(k), nullptr) != LOX_OK) t->scatter_failures.fetch_add(1);
  t->ran.fetch_add(1);
  return 0;
}

TEST(Destroy, TasksScatteredByRunningTasksAlsoRun) {
  for (size_t workers : {size_t{1}, size_t{4}}) {
    TreeCtx t;
    lox_thread* p = nullptr;
    ASSERT_EQ(lox_thread_create(workers, tree_task, &t, &p), LOX_OK);
    t.pool = p;
    ASSERT_EQ(lox_thread_scatter(p, to_ptr(10), nullptr), LOX_OK);
    lox_thread_destroy(p);  // right away: most of the tree is scattered during destroy
    EXPECT_EQ(t.ran.load(), 1024) << "workers " << workers;
    EXPECT_EQ(t.scatter_failures.load(), 0);
  }
}

TEST(Destroy, IdlePoolWithSleepingWorkersReturns) {
  for (int k = 0; k < 20; ++k) {
    Pool p = make_pool_ex(4, identity_task, nullptr, 1e6);
    for (intptr_t i = 0; i < 50; ++i) ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr(i), nullptr), LOX_OK);
    Results r = gather_ok(p.get());
    ASSERT_EQ(lox_results_count(r.get()), 50u);
    // destroyed at scope exit: must wake and join the sleeping workers
  }
}

TEST(Destroy, WithoutEverGathering) {
  std::atomic<long> ran{0};
  {
    lox_thread* p = nullptr;
    ASSERT_EQ(lox_thread_create(
                  3,
                  [](void* ctx, void*, void**) -> int {
                    static_cast<std::atomic<long>*>(ctx)->fetch_add(1);
                    return 0;
                  },
                  &ran, &p),
              LOX_OK);
    for (int i = 0; i < 1000; ++i) ASSERT_EQ(lox_thread_scatter(p, nullptr, nullptr), LOX_OK);
    lox_thread_destroy(p);
  }
  EXPECT_EQ(ran.load(), 1000);
}

}  // namespace
