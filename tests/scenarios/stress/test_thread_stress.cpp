// SPDX-License-Identifier: Apache-2.0
// Stress: a million trivial tasks, many pools created and destroyed, and
// concurrent scatters and gathers (with timeouts) on one pool. Sizes are
// chosen to finish in seconds under ThreadSanitizer too; they are the same
// in every build.
#include <lox/lox.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <latch>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "test_util.hpp"

using namespace loxtest;

namespace {

int affine_task(void*, void* arg, void** result) {
  *result = to_ptr(from_ptr(arg) * 7 + 3);
  return 0;
}

TEST(Stress, OneMillionTrivialTasks) {
  constexpr intptr_t n = 1'000'000;
  Pool p = make_pool(LOX_DEFAULT_WORKERS, affine_task);
  for (intptr_t i = 0; i < n; ++i) {
    size_t index;
    ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr(i), &index), LOX_OK);
    if (index != static_cast<size_t>(i)) FAIL() << "index " << index << " for task " << i;
  }
  Results r = gather_ok(p.get());
  ASSERT_EQ(lox_results_count(r.get()), static_cast<size_t>(n));
  size_t wrong = 0;
  for (intptr_t i = 0; i < n; ++i) {
    if (value_at(r.get(), static_cast<size_t>(i)) != i * 7 + 3 || lox_results_status(r.get(), static_cast<size_t>(i)))
      ++wrong;
  }
  EXPECT_EQ(wrong, 0u);
  EXPECT_LE(lox_thread_workers(p.get()), 50u);
}

TEST(Stress, ManyPoolsCreatedAndDestroyed) {
  std::atomic<long> ran{0};
  auto count_task = [](void* ctx, void* arg, void** result) -> int {
    static_cast<std::atomic<long>*>(ctx)->fetch_add(1);
    *result = arg;
    return 0;
  };
  long expected = 0;
  for (int k = 0; k < 200; ++k) {
    lox_thread* p = nullptr;
    ASSERT_EQ(lox_thread_create(static_cast<size_t>(1 + k % 8), count_task, &ran, &p), LOX_OK);
    const int n = 1 + k % 37;
    for (int i = 0; i < n; ++i) ASSERT_EQ(lox_thread_scatter(p, to_ptr(i), nullptr), LOX_OK);
    expected += n;
    if (k % 3 != 0) {  // two thirds gathered, the rest destroyed with work outstanding
      Results r = gather_ok(p);
      ASSERT_EQ(lox_results_count(r.get()), static_cast<size_t>(n));
      for (int i = 0; i < n; ++i) ASSERT_EQ(value_at(r.get(), static_cast<size_t>(i)), i);
    }
    lox_thread_destroy(p);
  }
  EXPECT_EQ(ran.load(), expected);
}

TEST(Stress, PoolsInManyThreadsAtOnce) {
  constexpr int kThreads = 4;
  std::atomic<int> failures{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < kThreads; ++t)
    ts.emplace_back([&, t] {
      for (int k = 0; k < 25; ++k) {
        lox_thread* p = nullptr;
        if (lox_thread_create(static_cast<size_t>(1 + (k + t) % 4), affine_task, nullptr, &p) != LOX_OK) {
          failures.fetch_add(1);
          continue;
        }
        for (intptr_t i = 0; i < 100; ++i) lox_thread_scatter(p, to_ptr(i), nullptr);
        lox_results* r = nullptr;
        if (lox_thread_gather(p, nullptr, &r) != LOX_OK || lox_results_count(r) != 100) failures.fetch_add(1);
        for (size_t i = 0; r && i < lox_results_count(r); ++i)
          if (value_at(r, i) != static_cast<intptr_t>(i) * 7 + 3) failures.fetch_add(1);
        lox_results_destroy(r);
        lox_thread_destroy(p);
      }
    });
  for (auto& t : ts) t.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST(Stress, ShortRoundsWithRetiringWorkers) {
  // idle_timeout 0: workers retire whenever they run dry, racing with the
  // next scatter. Every gather must return (no lost wake-up).
  Pool p = make_pool_ex(3, affine_task, nullptr, 0.0);
  std::mt19937 rng(7);
  for (int round = 0; round < 2000; ++round) {
    const int n = 1 + static_cast<int>(rng() % 6);
    for (int i = 0; i < n; ++i) ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr(i), nullptr), LOX_OK);
    Results r = gather_ok(p.get());
    ASSERT_EQ(lox_results_count(r.get()), static_cast<size_t>(n)) << "round " << round;
    if (rng() % 50 == 0) std::this_thread::sleep_for(1ms);  // let workers retire now and then
  }
}

TEST(Stress, ConcurrentScattersAndGathersWithTimeouts) {
  // 4 scatterers, 2 gatherers using timeouts 0, 1 ms and forever. Every task
  // comes back exactly once; inside each round, each scatterer's tasks are
  // in its scatter order.
  constexpr int kScatterers = 4;
  constexpr intptr_t kPer = 5000;
  Pool p = make_pool(4, [](void*, void* arg, void** result) -> int {
    if ((from_ptr(arg) & 63) == 0) std::this_thread::sleep_for(std::chrono::microseconds(100));
    *result = arg;
    return 0;
  });
  std::atomic<int> scatterers_left{kScatterers};
  std::mutex mu;
  std::vector<std::vector<intptr_t>> rounds;
  std::atomic<int> bad_status{0};
  auto gatherer = [&](unsigned seed) {
    std::mt19937 rng(seed);
    for (;;) {
      bool last = scatterers_left.load() == 0;
      double timeout = last ? LOX_FOREVER : (rng() % 3 == 0 ? 0.0 : rng() % 3 == 1 ? 0.001 : LOX_FOREVER);
      int rc = -100;
      Results r = gather(p.get(), &rc, timeout);
      if (rc == LOX_TIMEOUT) {
        if (r) bad_status.fetch_add(1);
        continue;
      }
      if (rc != LOX_OK || !r) {
        bad_status.fetch_add(1);
        return;
      }
      auto v = values(r.get());
      if (!v.empty()) {
        std::lock_guard lk(mu);
        rounds.push_back(std::move(v));
      }
      if (last) return;
    }
  };
  std::thread g1(gatherer, 1u), g2(gatherer, 2u);
  std::latch start(kScatterers);
  std::vector<std::thread> ss;
  for (int t = 0; t < kScatterers; ++t)
    ss.emplace_back([&, t] {
      start.arrive_and_wait();
      for (intptr_t s = 0; s < kPer; ++s)
        if (lox_thread_scatter(p.get(), to_ptr((static_cast<intptr_t>(t) << 24) | s), nullptr) != LOX_OK)
          bad_status.fetch_add(1);
      scatterers_left.fetch_sub(1);
    });
  for (auto& s : ss) s.join();
  g1.join();
  g2.join();
  // Whatever is left (rounds abandoned by late timeouts, say): gather until
  // a round comes back empty.
  for (int k = 0; k < 1000; ++k) {
    Results r = gather_ok(p.get());
    if (lox_results_count(r.get()) == 0) break;
    rounds.push_back(values(r.get()));
  }
  EXPECT_EQ(bad_status.load(), 0);

  std::vector<intptr_t> all;
  for (auto& r : rounds) {
    std::vector<intptr_t> last_seq(kScatterers, -1);
    for (intptr_t v : r) {
      int t = static_cast<int>(v >> 24);
      intptr_t s = v & 0xffffff;
      ASSERT_GE(t, 0);
      ASSERT_LT(t, kScatterers);
      EXPECT_GT(s, last_seq[t]) << "scatterer " << t << " out of order within a round";
      last_seq[t] = s;
    }
    all.insert(all.end(), r.begin(), r.end());
  }
  std::sort(all.begin(), all.end());
  ASSERT_EQ(all.size(), static_cast<size_t>(kScatterers * kPer)) << "tasks lost or duplicated";
  EXPECT_TRUE(std::adjacent_find(all.begin(), all.end()) == all.end()) << "a task came back twice";
}

}  // namespace
