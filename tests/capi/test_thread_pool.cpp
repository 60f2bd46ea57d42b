// SPDX-License-Identifier: Apache-2.0
// Thread pool basics: lox's first example, call, scatter indices,
// scatter_fn, pools without fn, result order, failure statuses, empty
// rounds, inline (debug) mode and the LOX_DEBUG / LOX_DEFAULT_WORKERS knobs.
#include <lox/lox.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "test_util.hpp"

using namespace loxtest;

namespace {

// lox's first example: foo(x) = x * (x + 1).
int foo(void*, void* arg, void** result) {
  intptr_t x = from_ptr(arg);
  *result = to_ptr(x * (x + 1));
  return 0;
}

TEST(ThreadPool, FirstExample) {
  for (size_t workers : {size_t{1}, size_t{4}, LOX_DEFAULT_WORKERS}) {
    Pool p = make_pool(workers, foo);
    for (intptr_t i = 0; i < 5; ++i) ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr(i), nullptr), LOX_OK);
    Results r = gather_ok(p.get());
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(values(r.get()), (std::vector<intptr_t>{0, 2, 6, 12, 20})) << "max_workers " << workers;
    for (size_t i = 0; i < 5; ++i) {
      EXPECT_EQ(lox_results_status(r.get(), i), 0);
      EXPECT_EQ(lox_results_error(r.get(), i), nullptr);
    }
  }
}

// ------------------------------------------------------------------ call --

struct CallProbe {
  std::thread::id thread;
  bool result_was_null = false;
  void* ctx_seen = nullptr;
};

int probe_task(void* ctx, void* arg, void** result) {
  auto* probe = static_cast<CallProbe*>(arg);
  probe->thread = std::this_thread::get_id();
  probe->result_was_null = *result == nullptr;
  probe->ctx_seen = ctx;
  *result = to_ptr(1234);
  return 3;  // call returns the task's value, whatever it is
}

TEST(ThreadPool, CallRunsInTheCallersThread) {
  int ctx_marker = 0;
  Pool p = make_pool(2, probe_task, &ctx_marker);
  CallProbe probe;
  void* result = to_ptr(0x55);  // the task must see NULL, not this
  EXPECT_EQ(lox_thread_call(p.get(), &probe, &result), 3);
  EXPECT_EQ(probe.thread, std::this_thread::get_id());
  EXPECT_TRUE(probe.result_was_null);
  EXPECT_EQ(probe.ctx_seen, &ctx_marker);
  EXPECT_EQ(result, to_ptr(1234));
  // result may be NULL: the task gets a scratch pointer.
  CallProbe probe2;
  EXPECT_EQ(lox_thread_call(p.get(), &probe2, nullptr), 3);
  EXPECT_TRUE(probe2.result_was_null);
  EXPECT_EQ(probe2.thread, std::this_thread::get_id());
  // A call is not a scatter: nothing to gather.
  Results r = gather_ok(p.get());
  EXPECT_EQ(lox_results_count(r.get()), 0u);
  EXPECT_EQ(lox_thread_workers(p.get()), 0u) << "call starts no thread";
}

TEST(ThreadPool, ScatteredTasksSeeTheirContextAndANullResult) {
  int ctx_marker = 0;
  Pool p = make_pool(3, probe_task, &ctx_marker);
  std::vector<CallProbe> probes(20);
  for (auto& pr : probes) ASSERT_EQ(lox_thread_scatter(p.get(), &pr, nullptr), LOX_OK);
  int rc = 0;
  Results r = gather(p.get(), &rc);
  EXPECT_EQ(rc, LOX_ETASK);  // probe_task returns 3
  ASSERT_EQ(lox_results_count(r.get()), probes.size());
  for (size_t i = 0; i < probes.size(); ++i) {
    EXPECT_TRUE(probes[i].result_was_null) << i;
    EXPECT_EQ(probes[i].ctx_seen, &ctx_marker) << i;
    EXPECT_NE(probes[i].thread, std::this_thread::get_id()) << "scatter runs on a worker";
    EXPECT_EQ(lox_results_status(r.get(), i), 3);
    EXPECT_EQ(lox_results_value(r.get(), i), to_ptr(1234));
  }
}

// --------------------------------------------------------------- scatter --

TEST(ThreadPool, ScatterIndicesCountFromZeroAndRestartAfterGather) {
  Pool p = make_pool(4, identity_task);
  for (int round = 0; round < 4; ++round) {
    const size_t n = 3 + static_cast<size_t>(round) * 17;
    for (size_t i = 0; i < n; ++i) {
      size_t index = 999999;
      ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr(static_cast<intptr_t>(i * 10 + round)), &index), LOX_OK);
      EXPECT_EQ(index, i) << "round " << round;
    }
    Results r = gather_ok(p.get());
    ASSERT_EQ(lox_results_count(r.get()), n);
    for (size_t i = 0; i < n; ++i) EXPECT_EQ(value_at(r.get(), i), static_cast<intptr_t>(i * 10 + round));
  }
  // After an empty gather the numbering still starts at 0.
  Results empty = gather_ok(p.get());
  EXPECT_EQ(lox_results_count(empty.get()), 0u);
  size_t index = 999;
  ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr(1), &index), LOX_OK);
  EXPECT_EQ(index, 0u);
  Results last = gather_ok(p.get());
  EXPECT_EQ(lox_results_count(last.get()), 1u);
}

TEST(ThreadPool, ScatterWithNullIndex) {
  Pool p = make_pool(2, foo);
  for (intptr_t i = 0; i < 10; ++i) ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr(i), nullptr), LOX_OK);
  size_t index = 0;
  ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr(10), &index), LOX_OK);
  EXPECT_EQ(index, 10u) << "NULL index still consumes a position";
  Results r = gather_ok(p.get());
  ASSERT_EQ(lox_results_count(r.get()), 11u);
  for (intptr_t i = 0; i <= 10; ++i) EXPECT_EQ(value_at(r.get(), static_cast<size_t>(i)), i * (i + 1));
}

int add_ctx(void* ctx, void* arg, void** result) {
  *result = to_ptr(from_ptr(arg) + *static_cast<const intptr_t*>(ctx));
  return 0;
}
int mul_ctx(void* ctx, void* arg, void** result) {
  *result = to_ptr(from_ptr(arg) * *static_cast<const intptr_t*>(ctx));
  return 0;
}

TEST(ThreadPool, ScatterFnMixesWithScatter) {
  intptr_t pool_ctx = 1000, ten = 10, hundred = 100;
  Pool p = make_pool(3, add_ctx, &pool_ctx);
  std::vector<intptr_t> expect;
  for (intptr_t i = 0; i < 60; ++i) {
    size_t index = 0;
    switch (i % 3) {
      case 0:
        ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr(i), &index), LOX_OK);
        expect.push_back(i + 1000);
        break;
      case 1:
        ASSERT_EQ(lox_thread_scatter_fn(p.get(), mul_ctx, &ten, to_ptr(i), &index), LOX_OK);
        expect.push_back(i * 10);
        break;
      default:
        ASSERT_EQ(lox_thread_scatter_fn(p.get(), add_ctx, &hundred, to_ptr(i), &index), LOX_OK);
        expect.push_back(i + 100);
        break;
    }
    EXPECT_EQ(index, static_cast<size_t>(i));
  }
  Results r = gather_ok(p.get());
  EXPECT_EQ(values(r.get()), expect);
}

TEST(ThreadPool, PoolWithoutFnWorksThroughScatterFn) {
  lox_thread* raw = nullptr;
  ASSERT_EQ(lox_thread_create(2, nullptr, nullptr, &raw), LOX_OK);
  Pool p(raw);
  EXPECT_EQ(lox_thread_scatter(p.get(), to_ptr(1), nullptr), LOX_EINVAL);
  EXPECT_EQ(lox_thread_call(p.get(), to_ptr(1), nullptr), LOX_EINVAL);
  intptr_t three = 3;
  for (intptr_t i = 0; i < 8; ++i) {
    size_t index = 99;
    ASSERT_EQ(lox_thread_scatter_fn(p.get(), mul_ctx, &three, to_ptr(i), &index), LOX_OK) << lox_last_error();
    EXPECT_EQ(index, static_cast<size_t>(i));
  }
  Results r = gather_ok(p.get());
  EXPECT_EQ(values(r.get()), (std::vector<intptr_t>{0, 3, 6, 9, 12, 15, 18, 21}));
}

// ------------------------------------------------------------------ order --

int sleepy_task(void*, void* arg, void** result) {
  intptr_t v = from_ptr(arg);
  // Low bits: sleep in microseconds; the rest: the value to return.
  std::this_thread::sleep_for(std::chrono::microseconds(v & 0x7ff));
  *result = to_ptr((v >> 11) * 3 + 1);
  return 0;
}

TEST(ThreadPool, ResultsInScatterOrderUnderRandomDurations) {
  Pool p = make_pool(8, sleepy_task);
  std::mt19937 rng(12345);
  std::uniform_int_distribution<int> us(0, 2000);
  constexpr intptr_t n = 200;
  for (intptr_t i = 0; i < n; ++i) {
    size_t index = 0;
    ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr((i << 11) | us(rng)), &index), LOX_OK);
    ASSERT_EQ(index, static_cast<size_t>(i));
  }
  Results r = gather_ok(p.get());
  ASSERT_EQ(lox_results_count(r.get()), static_cast<size_t>(n));
  for (intptr_t i = 0; i < n; ++i) EXPECT_EQ(value_at(r.get(), static_cast<size_t>(i)), i * 3 + 1) << i;
}

// Values may be heap objects the caller owns: the library neither frees nor
// touches them (ASan reports a double free or leak otherwise).
int alloc_task(void*, void* arg, void** result) {
  *result = new std::string("value " + std::to_string(from_ptr(arg)));
  return 0;
}

TEST(ThreadPool, ValuesAreOwnedByTheCaller) {
  Pool p = make_pool(4, alloc_task);
  for (intptr_t i = 0; i < 100; ++i) ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr(i), nullptr), LOX_OK);
  Results r = gather_ok(p.get());
  ASSERT_EQ(lox_results_count(r.get()), 100u);
  std::vector<std::string*> owned;
  for (size_t i = 0; i < 100; ++i) owned.push_back(static_cast<std::string*>(lox_results_value(r.get(), i)));
  r.reset();  // destroying the results does not free the values
  for (size_t i = 0; i < owned.size(); ++i) {
    ASSERT_NE(owned[i], nullptr);
    EXPECT_EQ(*owned[i], "value " + std::to_string(i));
    delete owned[i];
  }
}

int store_nothing(void*, void*, void**) { return 0; }

TEST(ThreadPool, ValueIsNullWhenTheTaskStoresNothing) {
  Pool p = make_pool(2, store_nothing);
  for (int i = 0; i < 40; ++i) ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr(i + 1), nullptr), LOX_OK);
  Results r = gather_ok(p.get());
  ASSERT_EQ(lox_results_count(r.get()), 40u);
  for (size_t i = 0; i < 40; ++i) EXPECT_EQ(lox_results_value(r.get(), i), nullptr);
}

// --------------------------------------------------------------- failures --

// arg: low 16 bits = value, high bits = status to return (biased by 1000).
int status_task(void*, void* arg, void** result) {
  intptr_t v = from_ptr(arg);
  *result = to_ptr(v & 0xffff);
  return static_cast<int>((v >> 16) - 1000);
}
void* status_arg(intptr_t value, int status) { return to_ptr(((status + 1000) << 16) | value); }

TEST(ThreadPool, FailedTaskMakesGatherReturnETaskAndDeliversEverything) {
  QuietLog quiet;
  Pool p = make_pool(3, status_task);
  for (intptr_t i = 0; i < 20; ++i)
    ASSERT_EQ(lox_thread_scatter(p.get(), status_arg(i + 100, i == 13 ? 7 : 0), nullptr), LOX_OK);
  int rc = 0;
  Results r = gather(p.get(), &rc);
  EXPECT_EQ(rc, LOX_ETASK);
  ASSERT_NE(r, nullptr) << "results are delivered with LOX_ETASK";
  ASSERT_EQ(lox_results_count(r.get()), 20u);
  for (size_t i = 0; i < 20; ++i) {
    EXPECT_EQ(value_at(r.get(), i), static_cast<intptr_t>(i + 100)) << i;
    if (i == 13) {
      EXPECT_EQ(lox_results_status(r.get(), i), 7);
      const char* e = lox_results_error(r.get(), i);
      ASSERT_NE(e, nullptr);
      EXPECT_NE(std::string(e).find("13"), std::string::npos) << e;
    } else {
      EXPECT_EQ(lox_results_status(r.get(), i), 0) << i;
      EXPECT_EQ(lox_results_error(r.get(), i), nullptr) << i;
    }
  }
  // The gather's own detail describes the failure.
  EXPECT_NE(std::string(lox_last_error()).find("thread gather"), std::string::npos) << lox_last_error();
  // The next round is independent.
  ASSERT_EQ(lox_thread_scatter(p.get(), status_arg(5, 0), nullptr), LOX_OK);
  Results r2 = gather_ok(p.get());
  ASSERT_EQ(lox_results_count(r2.get()), 1u);
  EXPECT_EQ(value_at(r2.get(), 0), 5);
}

TEST(ThreadPool, AnyNonzeroReturnIsTheTasksStatus) {
  QuietLog quiet;
  Pool p = make_pool(2, status_task);
  const int statuses[] = {0, 1, -1, -5, 42, -999, 0};
  for (size_t i = 0; i < std::size(statuses); ++i)
    ASSERT_EQ(lox_thread_scatter(p.get(), status_arg(static_cast<intptr_t>(i), statuses[i]), nullptr), LOX_OK);
  int rc = 0;
  Results r = gather(p.get(), &rc);
  EXPECT_EQ(rc, LOX_ETASK);
  ASSERT_EQ(lox_results_count(r.get()), std::size(statuses));
  for (size_t i = 0; i < std::size(statuses); ++i) {
    EXPECT_EQ(lox_results_status(r.get(), i), statuses[i]) << i;
    EXPECT_EQ(lox_results_error(r.get(), i) == nullptr, statuses[i] == 0) << i;
    if (const char* e = lox_results_error(r.get(), i))
      EXPECT_NE(std::string(e).find(std::to_string(i)), std::string::npos) << e;
  }
}

TEST(ThreadPool, EmptyGatherReturnsOkAndNoResults) {
  Pool p = make_pool(2, identity_task);
  for (int k = 0; k < 3; ++k) {
    int rc = -100;
    Results r = gather(p.get(), &rc);
    EXPECT_EQ(rc, LOX_OK);
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(lox_results_count(r.get()), 0u);
    EXPECT_EQ(lox_results_value(r.get(), 0), nullptr);
    EXPECT_EQ(lox_results_status(r.get(), 0), LOX_EINVAL);
  }
  EXPECT_EQ(lox_thread_workers(p.get()), 0u) << "no thread is started without work";
}

TEST(ThreadPool, NoThreadStartedByCreate) {
  Pool p = make_pool(8, identity_task);
  EXPECT_EQ(lox_thread_workers(p.get()), 0u);
  EXPECT_EQ(lox_thread_pending(p.get()), 0u);
}

// ------------------------------------------------------------ inline mode --

struct InlineProbe {
  std::atomic<int> runs{0};
  std::thread::id thread;
};

int inline_probe_task(void* ctx, void* arg, void** result) {
  auto* probe = static_cast<InlineProbe*>(ctx);
  probe->thread = std::this_thread::get_id();
  probe->runs.fetch_add(1);
  *result = to_ptr(from_ptr(arg) * 2);
  return 0;
}

TEST(InlineMode, ScatterRunsTheTaskOnTheCallingThread) {
  InlineProbe probe;
  Pool p = make_pool(0, inline_probe_task, &probe);
  for (intptr_t i = 0; i < 5; ++i) {
    size_t index = 99;
    ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr(i), &index), LOX_OK);
    EXPECT_EQ(index, static_cast<size_t>(i));
    // Already ran, here, before scatter returned.
    EXPECT_EQ(probe.runs.load(), i + 1);
    EXPECT_EQ(probe.thread, std::this_thread::get_id());
  }
  EXPECT_EQ(lox_thread_workers(p.get()), 0u);
  Results r = gather_ok(p.get());
  EXPECT_EQ(values(r.get()), (std::vector<intptr_t>{0, 2, 4, 6, 8}));
  EXPECT_EQ(probe.runs.load(), 5);
}

TEST(InlineMode, PendingIsZeroBecauseTasksAlreadyRan) {
  InlineProbe probe;
  Pool p = make_pool(0, inline_probe_task, &probe);
  for (intptr_t i = 0; i < 5; ++i) ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr(i), nullptr), LOX_OK);
  EXPECT_EQ(probe.runs.load(), 5);
  EXPECT_EQ(lox_thread_pending(p.get()), 0u) << "every task already ran inside scatter";
  Results r = gather_ok(p.get());
  EXPECT_EQ(lox_results_count(r.get()), 5u);
}

TEST(InlineMode, DestroyAfterGatherRunsNothingAgain) {
  InlineProbe probe;
  lox_thread* p = nullptr;
  ASSERT_EQ(lox_thread_create(0, inline_probe_task, &probe, &p), LOX_OK);
  for (intptr_t i = 0; i < 5; ++i) ASSERT_EQ(lox_thread_scatter(p, to_ptr(i), nullptr), LOX_OK);
  {
    Results r = gather_ok(p);
    EXPECT_EQ(lox_results_count(r.get()), 5u);
  }
  lox_thread_destroy(p);
  EXPECT_EQ(probe.runs.load(), 5) << "each scattered task runs exactly once";
}

TEST(InlineMode, DestroyWithoutGatherRunsNothingAgain) {
  InlineProbe probe;
  lox_thread* p = nullptr;
  ASSERT_EQ(lox_thread_create(0, inline_probe_task, &probe, &p), LOX_OK);
  for (intptr_t i = 0; i < 5; ++i) ASSERT_EQ(lox_thread_scatter(p, to_ptr(i), nullptr), LOX_OK);
  lox_thread_destroy(p);
  EXPECT_EQ(probe.runs.load(), 5) << "each scattered task runs exactly once";
}

TEST(InlineMode, FailedTasksAndScatterFn) {
  QuietLog quiet;
  Pool p = make_pool(0, status_task);
  intptr_t ten = 10;
  ASSERT_EQ(lox_thread_scatter(p.get(), status_arg(1, 0), nullptr), LOX_OK);
  ASSERT_EQ(lox_thread_scatter(p.get(), status_arg(2, 9), nullptr), LOX_OK);
  ASSERT_EQ(lox_thread_scatter_fn(p.get(), mul_ctx, &ten, to_ptr(3), nullptr), LOX_OK);
  int rc = 0;
  Results r = gather(p.get(), &rc);
  EXPECT_EQ(rc, LOX_ETASK);
  ASSERT_EQ(lox_results_count(r.get()), 3u);
  EXPECT_EQ(values(r.get()), (std::vector<intptr_t>{1, 2, 30}));
  EXPECT_EQ(lox_results_status(r.get(), 1), 9);
  EXPECT_EQ(lox_results_status(r.get(), 2), 0);
}

// In debug mode a task runs inside scatter: it may scatter into its own
// pool (the nested task runs at once, also inline) but gathering its own
// pool is refused with LOX_ESTATE, as on workers.
struct InlineNest {
  lox_thread* pool = nullptr;
  int depth_runs = 0;
  int gather_rc = 12345;
  std::vector<size_t> nested_indices;
};
int inline_nest_task(void* ctx, void* arg, void** result) {
  auto* n = static_cast<InlineNest*>(ctx);
  ++n->depth_runs;
  intptr_t depth = from_ptr(arg);
  if (depth > 0) {
    size_t index = 999;
    if (lox_thread_scatter(n->pool, to_ptr(depth - 1), &index) != LOX_OK) return 70;
    n->nested_indices.push_back(index);
  } else {
    lox_results* out = reinterpret_cast<lox_results*>(0x9);
    n->gather_rc = lox_thread_gather(n->pool, nullptr, &out);
    if (out != reinterpret_cast<lox_results*>(0x9)) return 71;
  }
  *result = arg;
  return 0;
}

TEST(InlineMode, TaskScattersIntoItsOwnPoolButCannotGatherIt) {
  InlineNest n;
  Pool p = make_pool(0, inline_nest_task, &n);
  n.pool = p.get();
  size_t index = 999;
  ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr(3), &index), LOX_OK);
  EXPECT_EQ(index, 0u);
  EXPECT_EQ(n.depth_runs, 4) << "the nested tasks ran inline, before the outer scatter returned";
  EXPECT_EQ(n.nested_indices, (std::vector<size_t>{3, 2, 1}));  // innermost returns first
  EXPECT_EQ(n.gather_rc, LOX_ESTATE);
  Results r = gather_ok(p.get());
  EXPECT_EQ(values(r.get()), (std::vector<intptr_t>{3, 2, 1, 0}));
}

// ------------------------------------------------------- env: LOX_DEBUG --

struct WhereProbe {
  std::mutex mu;
  std::thread::id thread;
  bool ran = false;
};

int where_task(void* ctx, void*, void**) {
  auto* w = static_cast<WhereProbe*>(ctx);
  std::lock_guard lk(w->mu);
  w->thread = std::this_thread::get_id();
  w->ran = true;
  return 0;
}

// Scatters one task on a pool created (with max_workers 4) under LOX_DEBUG
// = `value` and reports whether it ran inline (inside scatter, on this
// thread).
bool runs_inline_with_lox_debug(const char* value) {
  WhereProbe w;
  lox_thread* raw = nullptr;
  {
    ScopedEnv env("LOX_DEBUG", value);
    EXPECT_EQ(lox_thread_create(4, where_task, &w, &raw), LOX_OK);
  }
  Pool p(raw);
  EXPECT_EQ(lox_thread_scatter(p.get(), nullptr, nullptr), LOX_OK);
  bool ran_in_scatter;
  {
    std::lock_guard lk(w.mu);
    ran_in_scatter = w.ran && w.thread == std::this_thread::get_id();
  }
  Results r = gather_ok(p.get());
  EXPECT_EQ(lox_results_count(r.get()), 1u);
  std::lock_guard lk(w.mu);
  EXPECT_TRUE(w.ran);
  if (!ran_in_scatter) EXPECT_NE(w.thread, std::this_thread::get_id()) << "LOX_DEBUG=" << (value ? value : "(unset)");
  return ran_in_scatter;
}

TEST(LoxDebugEnv, TrueLikeValuesForceInlineMode) {
  for (const char* v : {"1", "true", "yes", "on", "TRUE", "Yes", "oN"})
    EXPECT_TRUE(runs_inline_with_lox_debug(v)) << "LOX_DEBUG=" << v;
}

TEST(LoxDebugEnv, OtherValuesDoNotForceInlineMode) {
  for (const char* v : {static_cast<const char*>(nullptr), "0", "false", "no", "off", "", "2", "yess"})
    EXPECT_FALSE(runs_inline_with_lox_debug(v)) << "LOX_DEBUG=" << (v ? v : "(unset)");
}

TEST(LoxDebugEnv, ReadAtCreateTime) {
  // A pool created before LOX_DEBUG was set keeps its workers.
  WhereProbe w;
  Pool p = make_pool(4, where_task, &w);
  {
    ScopedEnv env("LOX_DEBUG", "1");
    ASSERT_EQ(lox_thread_scatter(p.get(), nullptr, nullptr), LOX_OK);
    Results r = gather_ok(p.get());
    EXPECT_EQ(lox_results_count(r.get()), 1u);
  }
  std::lock_guard lk(w.mu);
  EXPECT_TRUE(w.ran);
  EXPECT_NE(w.thread, std::this_thread::get_id());
}

// ---------------------------------------------------- default workers --

TEST(ThreadPool, DefaultWorkersIsAccepted) {
  lox_thread* raw = nullptr;
  ASSERT_EQ(lox_thread_create(LOX_DEFAULT_WORKERS, foo, nullptr, &raw), LOX_OK);
  Pool p(raw);
  for (intptr_t i = 0; i < 300; ++i) ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr(i), nullptr), LOX_OK);
  EXPECT_LE(lox_thread_workers(p.get()), 50u);
  Results r = gather_ok(p.get());
  ASSERT_EQ(lox_results_count(r.get()), 300u);
  for (intptr_t i = 0; i < 300; ++i) EXPECT_EQ(value_at(r.get(), static_cast<size_t>(i)), i * (i + 1));
  EXPECT_LE(lox_thread_workers(p.get()), 50u);
}

}  // namespace
