// SPDX-License-Identifier: Apache-2.0
// Stress: the thread pool at full scale (docs/reliability.md).
// - A million tasks scattered from 8 threads into one pool while the same
//   threads gather (lox.h: a gather takes every task scattered by anyone
//   since the previous gather began, and concurrent gathers get disjoint
//   rounds), some gathers with timeouts that must lose nothing: every task
//   runs exactly once and its result comes back exactly once, correct, with
//   the right status, in scatter order within its round.
// - A thousand pools created, used and destroyed from 8 threads at once.
// - lox_thread_pending read while workers claim and steal never exceeds the
//   tasks not started when the read began (a snapshot may be stale, but no
//   task is counted twice on its way from the round to a worker's batch).
#include <lox/lox.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "stress_util.hpp"
#include "test_util.hpp"

using namespace loxtest;
using namespace loxstress;

namespace {

// A task's value carries its id and a check of it, so a wrong or swapped
// value is told apart from a lost one.
constexpr int kIdBits = 24;
intptr_t check_of(intptr_t id) {
  return static_cast<intptr_t>((static_cast<uint64_t>(id) * 0x9E3779B97F4A7C15ull) >> 40);
}
intptr_t encode(intptr_t id) { return (id << kIdBits) | (check_of(id) & ((intptr_t{1} << kIdBits) - 1)); }
bool decode(intptr_t v, intptr_t& id) {
  id = v >> kIdBits;
  return id >= 0 && encode(id) == v;
}

// The longest a gather waits: a round that takes longer is a hang (a lost
// wake-up, say), reported as a failure instead of blocking until CTest's
// timeout.
constexpr double kHang = 60.0;

// Some tasks fail on purpose (status kFailCode, value still set): gather
// must report LOX_ETASK for exactly the rounds holding one of them.
constexpr int kFailCode = 7;
bool fails(intptr_t id) { return id % 1009 == 0; }

struct MillionCtx {
  std::vector<std::atomic<uint8_t>> ran;
  explicit MillionCtx(size_t n) : ran(n) {}
};

int million_task(void* ctx, void* arg, void** result) {
  const intptr_t id = from_ptr(arg);
  static_cast<MillionCtx*>(ctx)->ran[static_cast<size_t>(id)].fetch_add(1, std::memory_order_relaxed);
  *result = to_ptr(encode(id));
  return fails(id) ? kFailCode : 0;
}

// What the gatherers saw, checked round by round.
struct RoundChecker {
  explicit RoundChecker(size_t n, int scatterers, long per) : seen(n), scatterers(scatterers), per(per) {}
  Marks seen;
  int scatterers;
  long per;
  std::atomic<long> bad_value{0}, bad_status{0}, bad_rc{0}, out_of_order{0};
  std::atomic<long> rounds{0}, timeouts{0}, results{0};

  void check(const lox_results* r, int rc) {
    const size_t n = lox_results_count(r);
    std::vector<intptr_t> last(static_cast<size_t>(scatterers), -1);
    bool any_failed = false;
    for (size_t i = 0; i < n; ++i) {
      intptr_t id = -1;
      if (!decode(from_ptr(lox_results_value(r, i)), id) || !seen.mark(static_cast<size_t>(id))) {
        bad_value.fetch_add(1);
        continue;
      }
      const int st = lox_results_status(r, i);
      if (st != (fails(id) ? kFailCode : 0)) bad_status.fetch_add(1);
      any_failed |= st != 0;
      // Within a round, each scatterer's tasks keep its order.
      const auto s = static_cast<size_t>(id / per);
      if (s < last.size()) {
        if (id <= last[s]) out_of_order.fetch_add(1);
        last[s] = id;
      }
    }
    if (rc != (any_failed ? LOX_ETASK : LOX_OK)) bad_rc.fetch_add(1);
    rounds.fetch_add(1);
    results.fetch_add(static_cast<long>(n));
  }

  // Gathers once with `timeout`; false when the round timed out.
  bool gather_once(lox_thread* pool, double timeout) {
    int rc = -100;
    Results r = gather(pool, &rc, timeout);
    if (rc == LOX_TIMEOUT) {
      timeouts.fetch_add(1);
      if (r) bad_rc.fetch_add(1);  // a timed-out gather delivers nothing
      if (timeout >= kHang) ADD_FAILURE() << "a round did not complete within " << kHang << " s";
      return false;
    }
    if ((rc != LOX_OK && rc != LOX_ETASK) || !r) {
      ADD_FAILURE() << "gather: " << lox_status_str(rc) << ": " << lox_last_error();
      bad_rc.fetch_add(1);
      return true;
    }
    check(r.get(), rc);
    return true;
  }
};

TEST(StressThreadPool, MillionTasksFromEightScatterersWithConcurrentGathers) {
  constexpr int kScatterers = 8;
  const long per = scaled_count(1'000'000) / kScatterers;
  const long total = per * kScatterers;
  ASSERT_LT(total, intptr_t{1} << (62 - kIdBits));
  MillionCtx ctx(static_cast<size_t>(total));
  RoundChecker chk(static_cast<size_t>(total), kScatterers, per);
  Pool pool = make_pool(16, million_task, &ctx);
  QuietLog quiet;  // the planned task failures would log a warning per round
  std::atomic<long> scatter_errors{0};
  Stopwatch sw;

  // Scatterer t owns ids [t * per, (t + 1) * per): it scatters them in
  // random chunks and gathers after each chunk (its round holds whatever
  // anyone scattered since the last gather began). A third of the gathers
  // time out at once or after a millisecond; their rounds come back later.
  std::vector<std::thread> ts;
  for (int t = 0; t < kScatterers; ++t)
    ts.emplace_back([&, t] {
      auto rng = rng_for(100 + static_cast<uint64_t>(t));
      intptr_t next = t * per;
      const intptr_t end = next + per;
      while (next < end) {
        const intptr_t chunk = std::min<intptr_t>(end - next, 1 + static_cast<intptr_t>(rng() % 20000));
        for (intptr_t i = 0; i < chunk; ++i)
          if (lox_thread_scatter(pool.get(), to_ptr(next + i), nullptr) != LOX_OK) scatter_errors.fetch_add(1);
        next += chunk;
        const auto pick = rng() % 6;
        chk.gather_once(pool.get(), pick == 0 ? 0.0 : pick == 1 ? 0.001 : kHang);
      }
    });
  for (auto& t : ts) t.join();
  // Rounds left by the last gathers (a timed-out round comes back alone):
  // gather until a round is empty.
  for (int k = 0; k < 100; ++k) {
    int rc = -100;
    Results r = gather(pool.get(), &rc, kHang);
    ASSERT_TRUE(rc == LOX_OK || rc == LOX_ETASK) << lox_status_str(rc) << ": " << lox_last_error();
    if (lox_results_count(r.get()) == 0) break;
    chk.check(r.get(), rc);
  }

  size_t ran_once = 0;
  for (auto& c : ctx.ran) ran_once += c.load() == 1;
  EXPECT_EQ(scatter_errors.load(), 0);
  EXPECT_EQ(ran_once, static_cast<size_t>(total)) << "a task did not run exactly once";
  expect_exactly_once(chk.seen, "results");
  EXPECT_EQ(chk.bad_value.load(), 0) << "a result value was wrong";
  EXPECT_EQ(chk.bad_status.load(), 0) << "a task status was wrong";
  EXPECT_EQ(chk.bad_rc.load(), 0) << "gather's return code did not match its round";
  EXPECT_EQ(chk.out_of_order.load(), 0) << "a scatterer's tasks were out of order within a round";
  summary("thread pool 1M tasks, 8 scatterers/gatherers",
          "tasks=" + std::to_string(total) + " ran_once=" + std::to_string(ran_once) +
              " ok=" + std::to_string(chk.seen.exactly_once()) + " lost=" + std::to_string(chk.seen.lost()) +
              " duplicated=" + std::to_string(chk.seen.duplicated()) + " rounds=" + std::to_string(chk.rounds.load()) +
              " gather_timeouts=" + std::to_string(chk.timeouts.load()),
          sw);
}

// ------------------------------------------------------ many pools --

struct PoolCtx {
  std::atomic<long> ran{0};
};

int triple_task(void* ctx, void* arg, void** result) {
  static_cast<PoolCtx*>(ctx)->ran.fetch_add(1, std::memory_order_relaxed);
  *result = to_ptr(from_ptr(arg) * 3 + 1);
  return 0;
}

TEST(StressThreadPool, ThousandPoolsFromEightThreads) {
  constexpr int kThreads = 8;
  const long pools_per_thread = scaled_count(1000, kThreads) / kThreads;
  std::atomic<long> pools{0}, tasks{0}, ok{0}, wrong{0}, lost{0}, errors{0}, destroyed_busy{0};
  Stopwatch sw;
  std::vector<std::thread> ts;
  for (int t = 0; t < kThreads; ++t)
    ts.emplace_back([&, t] {
      auto rng = rng_for(200 + static_cast<uint64_t>(t));
      for (long k = 0; k < pools_per_thread; ++k) {
        PoolCtx ctx;
        lox_thread_opts o;
        lox_thread_opts_init(&o);
        const double idle[] = {0.0, 0.001, 2.0};  // workers that retire at once race with scatters
        o.idle_timeout = idle[rng() % 3];
        lox_thread* p = nullptr;
        if (lox_thread_create_ex(1 + rng() % 4, triple_task, &ctx, &o, &p) != LOX_OK) {
          errors.fetch_add(1);
          continue;
        }
        const long n = 1 + static_cast<long>(rng() % 16);
        for (long i = 0; i < n; ++i)
          if (lox_thread_scatter(p, to_ptr(i), nullptr) != LOX_OK) errors.fetch_add(1);
        // A quarter of the pools are destroyed with their tasks outstanding:
        // destroy runs them all before it returns.
        const bool gathered = rng() % 4 != 0;
        if (gathered) {
          int rc = -100;
          Results r = gather(p, &rc, kHang);
          if (rc != LOX_OK || lox_results_count(r.get()) != static_cast<size_t>(n)) {
            errors.fetch_add(1);
          } else {
            for (size_t i = 0; i < lox_results_count(r.get()); ++i)
              (value_at(r.get(), i) == static_cast<intptr_t>(i) * 3 + 1 ? ok : wrong).fetch_add(1);
          }
        } else {
          destroyed_busy.fetch_add(1);
        }
        lox_thread_destroy(p);
        const long ran = ctx.ran.load();
        if (!gathered && ran == n) ok.fetch_add(n);
        if (ran < n) lost.fetch_add(n - ran);
        if (ran != n) errors.fetch_add(1);
        pools.fetch_add(1);
        tasks.fetch_add(n);
      }
    });
  for (auto& t : ts) t.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(lost.load(), 0) << "a task scattered was never run";
  EXPECT_EQ(wrong.load(), 0) << "a result value was wrong";
  EXPECT_EQ(ok.load(), tasks.load());
  EXPECT_EQ(pools.load(), pools_per_thread * kThreads);
  summary("thread pool 1000 pools from 8 threads",
          "pools=" + std::to_string(pools.load()) + " destroyed_with_work=" + std::to_string(destroyed_busy.load()) +
              " tasks=" + std::to_string(tasks.load()) + " ok=" + std::to_string(ok.load()) +
              " wrong=" + std::to_string(wrong.load()) + " lost=" + std::to_string(lost.load()),
          sw);
}

// A task of about a microsecond: quick enough that workers claim batches of
// many (the batch grows while tasks are quick), slow enough that a batch
// stays partly unstarted, and is stolen from, while the scattering thread
// reads lox_thread_pending. Each task counts itself as started first.
int short_task(void* ctx, void* arg, void** result) {
  static_cast<std::atomic<size_t>*>(ctx)->fetch_add(1, std::memory_order_seq_cst);
  const auto until = std::chrono::steady_clock::now() + std::chrono::nanoseconds(1000);
  while (std::chrono::steady_clock::now() < until) {
  }
  *result = arg;
  return 0;
}

// A task that has started is no longer pending, so a read of
// lox_thread_pending can count at most the tasks scattered and not started
// when the read began. Counting a task twice on its way from the round to a
// worker's batch breaks that.
TEST(StressThreadPool, PendingCountsNoTaskTwice) {
  const long rounds = scaled_count(2000);
  long reads = 0, over = 0, errors = 0;
  size_t worst = 0, worst_bound = 0;
  Stopwatch sw;
  auto rng = rng_for(300);
  std::atomic<size_t> started{0};
  lox_thread* p = nullptr;
  ASSERT_EQ(lox_thread_create(2, short_task, &started, &p), LOX_OK) << lox_last_error();
  size_t scattered = 0;
  auto read_pending = [&] {
    const size_t bound = scattered - started.load(std::memory_order_seq_cst);
    const size_t seen = lox_thread_pending(p);
    ++reads;
    if (seen > bound) {
      ++over;
      if (seen - bound > worst - worst_bound) worst = seen, worst_bound = bound;
    }
    return seen;
  };
  for (long k = 0; k < rounds; ++k) {
    const size_t n = 64 + rng() % 448;
    for (size_t i = 0; i < n; ++i) {
      if (lox_thread_scatter(p, to_ptr(static_cast<intptr_t>(i)), nullptr) != LOX_OK) ++errors;
      ++scattered;
      if (i % 16 == 15) read_pending();
    }
    while (read_pending() != 0) {
    }
    int rc = -100;
    Results r = gather(p, &rc, kHang);
    if (rc != LOX_OK || lox_results_count(r.get()) != n) ++errors;
  }
  lox_thread_destroy(p);
  EXPECT_EQ(errors, 0);
  EXPECT_EQ(over, 0) << "pending read " << worst << " when at most " << worst_bound << " task(s) were unstarted";
  summary("thread pool pending under claims and steals",
          "rounds=" + std::to_string(rounds) + " reads=" + std::to_string(reads) + " over=" + std::to_string(over), sw);
}

}  // namespace
