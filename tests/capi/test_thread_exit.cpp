// SPDX-License-Identifier: Apache-2.0
// A thread-pool task that calls pthread_exit (lox.h, lox_task_fn): the
// thread it runs on exits as asked, the task's status is LOX_EWORKER with a
// detail naming pthread_exit, and the pool stays correct: every other task
// runs exactly once (also the rest of a batch the exiting worker had
// claimed), the round completes, gather returns, the worker count drops and
// later rounds run; destroy joins every thread (the resource guard checks
// that none is left). Without the pool's handling the program aborted
// ("FATAL: exception not rethrown").
#include <lox/lox.h>

#include <gtest/gtest.h>

#include <pthread.h>

#include <atomic>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "test_util.hpp"

using namespace loxtest;

namespace {

// Per-task run counts, and which tasks end their thread.
struct Plan {
  explicit Plan(size_t n, size_t every = 0, size_t only = SIZE_MAX) : runs(n), every_(every), only_(only) {}
  std::vector<std::atomic<int>> runs;
  bool exits(size_t i) const { return i == only_ || (every_ != 0 && i % every_ == every_ - 1); }

 private:
  size_t every_, only_;
};

int planned_task(void* ctx, void* arg, void** result) {
  auto* plan = static_cast<Plan*>(ctx);
  const auto i = static_cast<size_t>(from_ptr(arg));
  plan->runs[i].fetch_add(1);
  if (plan->exits(i)) pthread_exit(nullptr);
  *result = arg;
  return 0;
}

// Scatters plan.runs.size() tasks, gathers, and checks the round: exiting
// tasks failed with LOX_EWORKER and a pthread_exit detail, the others
// returned their index; each ran exactly once.
void run_round(lox_thread* pool, Plan& plan) {
  const size_t n = plan.runs.size();
  for (auto& r : plan.runs) r.store(0);
  for (size_t i = 0; i < n; ++i) ASSERT_EQ(lox_thread_scatter(pool, to_ptr(static_cast<intptr_t>(i)), nullptr), LOX_OK);
  int rc = 0;
  Results r;
  finishes_within("gather of a round with pthread_exit tasks", [&] { r = gather(pool, &rc); });
  bool any_exit = false;
  for (size_t i = 0; i < n; ++i) any_exit = any_exit || plan.exits(i);
  ASSERT_EQ(rc, any_exit ? LOX_ETASK : LOX_OK) << lox_last_error();
  ASSERT_EQ(lox_results_count(r.get()), n);
  for (size_t i = 0; i < n; ++i) {
    EXPECT_EQ(plan.runs[i].load(), 1) << "task " << i << " ran " << plan.runs[i].load() << " times";
    if (plan.exits(i)) {
      EXPECT_EQ(lox_results_status(r.get(), i), LOX_EWORKER) << i;
      const char* e = lox_results_error(r.get(), i);
      ASSERT_NE(e, nullptr) << i;
      EXPECT_NE(std::strstr(e, "pthread_exit"), nullptr) << e;
      EXPECT_EQ(lox_results_value(r.get(), i), nullptr);
    } else {
      EXPECT_EQ(lox_results_status(r.get(), i), 0) << i;
      EXPECT_EQ(value_at(r.get(), i), static_cast<intptr_t>(i));
    }
  }
}

TEST(ThreadExit, OneTaskExitsItsWorker) {
  QuietLog quiet;
  Plan plan(10, 0, 3);
  Pool p = make_pool(2, planned_task, &plan);
  run_round(p.get(), plan);
  // The pool goes on: a clean round after it.
  Plan clean(10);
  for (size_t i = 0; i < 10; ++i)
    ASSERT_EQ(lox_thread_scatter_fn(p.get(), planned_task, &clean, to_ptr(static_cast<intptr_t>(i)), nullptr), LOX_OK);
  Results r = gather_ok(p.get());
  for (size_t i = 0; i < 10; ++i) EXPECT_EQ(value_at(r.get(), i), static_cast<intptr_t>(i));
}

TEST(ThreadExit, TheLastWorkerExitsInTheMiddleOfABatch) {
  // One worker, many quick tasks: it claims them in batches, and task 500
  // ends its thread with the rest of its batch unstarted. A new worker is
  // started and runs that rest.
  QuietLog quiet;
  Plan plan(1000, 0, 500);
  Pool p = make_pool(1, planned_task, &plan);
  run_round(p.get(), plan);
  EXPECT_LE(lox_thread_workers(p.get()), 1u);
  run_round(p.get(), plan);
}

TEST(ThreadExit, ManyExitsAcrossWorkers) {
  QuietLog quiet;
  Plan plan(2000, 37);
  Pool p = make_pool(4, planned_task, &plan);
  for (int round = 0; round < 3; ++round) run_round(p.get(), plan);
  EXPECT_LE(lox_thread_workers(p.get()), 4u);
}

TEST(ThreadExit, DestroyAfterExitsJoinsEverything) {
  // Scatter, no gather: destroy runs the round (workers exiting in it) and
  // joins every thread; the resource guard fails the test if one is left.
  QuietLog quiet;
  Plan plan(500, 50);
  lox_thread* p = nullptr;
  ASSERT_EQ(lox_thread_create(3, planned_task, &plan, &p), LOX_OK);
  // Destroy must not run an exiting task in this thread (lox.h: that
  // terminates the program), so the exits happen in a gathered round and
  // destroy gets a clean one.
  run_round(p, plan);
  Plan clean(500);
  for (size_t i = 0; i < 500; ++i)
    ASSERT_EQ(lox_thread_scatter_fn(p, planned_task, &clean, to_ptr(static_cast<intptr_t>(i)), nullptr), LOX_OK);
  finishes_within("destroy after pthread_exit tasks", [&] { lox_thread_destroy(p); });
  for (size_t i = 0; i < 500; ++i) EXPECT_EQ(clean.runs[i].load(), 1) << i;
}

TEST(ThreadExit, CallAndDebugModeEndTheCallingThread) {
  // lox_thread_call and a debug-mode scatter run the task in the caller's
  // thread: that thread exits, as pthread_exit says; the pool is intact.
  QuietLog quiet;
  Plan plan(2, 0, 0);
  Pool inline_pool = make_pool(0, planned_task, &plan);
  std::atomic<bool> returned{false};
  std::thread caller([&] {
    void* out = nullptr;
    lox_thread_call(inline_pool.get(), to_ptr(0), &out);
    returned = true;
  });
  caller.join();
  EXPECT_FALSE(returned.load()) << "lox_thread_call returned although its task called pthread_exit";
  std::thread scatterer([&] {
    lox_thread_scatter(inline_pool.get(), to_ptr(0), nullptr);
    returned = true;
  });
  scatterer.join();
  EXPECT_FALSE(returned.load());
  ASSERT_EQ(lox_thread_scatter(inline_pool.get(), to_ptr(1), nullptr), LOX_OK);
  int rc = 0;
  Results r = gather(inline_pool.get(), &rc);
  ASSERT_EQ(rc, LOX_ETASK);
  ASSERT_EQ(lox_results_count(r.get()), 2u);
  EXPECT_EQ(lox_results_status(r.get(), 0), LOX_EWORKER);
  EXPECT_NE(std::strstr(lox_results_error(r.get(), 0), "pthread_exit"), nullptr);
  EXPECT_EQ(lox_results_status(r.get(), 1), 0);
  EXPECT_EQ(value_at(r.get(), 1), 1);
}

}  // namespace
