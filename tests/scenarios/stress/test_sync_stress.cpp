// SPDX-License-Identifier: Apache-2.0
// Stress: several threads hammer each object with random timeouts
// (including 0) and random modes, checking the invariants on every step:
// never two holders of a lock, never a writer with a reader, never two
// holders of an index, every counter back to zero at the end. Each test is
// bounded in time as well as in iterations (sanitizer builds are slow).
#include <lox/lox.h>

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <random>
#include <thread>
#include <vector>

#include "mixed_timeouts.hpp"
#include "test_util.hpp"

using namespace loxtest;

namespace {

constexpr int kThreads = 6;
constexpr int kIterations = 3000;
constexpr auto kBudget = 3s;

// Runs body(rng, i) on kThreads threads until kIterations each or kBudget.
template <typename Body>
void hammer(Body body) {
  Gate start;
  auto end = Clock::now() + kBudget;
  std::vector<std::thread> ts;
  for (int t = 0; t < kThreads; ++t)
    ts.emplace_back([&, t] {
      std::mt19937 rng(1234u + static_cast<unsigned>(t));
      EXPECT_TRUE(start.wait());
      for (int i = 0; i < kIterations && Clock::now() < end; ++i) body(rng, i);
    });
  start.open();
  for (auto& t : ts) t.join();
}

void short_work(std::mt19937& rng) {
  if (rng() % 8 == 0) std::this_thread::yield();
}

// Hammers an exclusive lock through acquire(timeout) and release(): never
// two holders at once. Returns how many acquires succeeded.
template <typename Acquire, typename Release>
long hammer_exclusive(Acquire acquire, Release release) {
  std::atomic<int> holders{0};
  std::atomic<long> got{0};
  hammer([&](std::mt19937& rng, int) {
    int rc = acquire(mixed_timeout(rng));
    ASSERT_TRUE(rc == LOX_OK || rc == LOX_TIMEOUT) << rc;
    if (rc != LOX_OK) return;
    ASSERT_EQ(holders.fetch_add(1), 0);
    got.fetch_add(1);
    short_work(rng);
    holders.fetch_sub(1);
    ASSERT_EQ(release(), LOX_OK);
  });
  return got.load();
}

TEST(SyncStress, LockNeverHasTwoHolders) {
  Owned<lox_lock> l = created<lox_lock>(lox_lock_create);
  EXPECT_GT(hammer_exclusive([&](double t) { return lox_lock_acquire(l.get(), t); },
                             [&] { return lox_lock_release(l.get()); }),
            0);
  EXPECT_EQ(lox_lock_locked(l.get()), 0);
}

TEST(SyncStress, RWLockNeverMixesWriterAndReaders) {
  lox_rwlock* rw = nullptr;
  ASSERT_EQ(lox_rwlock_create(&rw), LOX_OK);
  std::atomic<int> readers{0}, writers{0};
  std::atomic<long> reads{0}, writes{0};
  hammer([&](std::mt19937& rng, int) {
    bool write = rng() % 4 == 0;
    int rc = lox_rwlock_acquire(rw, write ? LOX_WRITE : LOX_READ, mixed_timeout(rng));
    ASSERT_TRUE(rc == LOX_OK || rc == LOX_TIMEOUT) << rc;
    if (rc != LOX_OK) return;
    if (write) {
      ASSERT_EQ(writers.fetch_add(1), 0);
      ASSERT_EQ(readers.load(), 0);
      writes.fetch_add(1);
      short_work(rng);
      writers.fetch_sub(1);
    } else {
      readers.fetch_add(1);
      ASSERT_EQ(writers.load(), 0);
      reads.fetch_add(1);
      short_work(rng);
      readers.fetch_sub(1);
    }
    ASSERT_EQ(lox_rwlock_release(rw, write ? LOX_WRITE : LOX_READ), LOX_OK);
  });
  EXPECT_GT(reads.load(), 0);
  EXPECT_GT(writes.load(), 0);
  EXPECT_EQ(lox_rwlock_readers(rw), 0u);
  // Nothing left behind: a writer and then a reader get in at once.
  EXPECT_EQ(lox_rwlock_acquire(rw, LOX_WRITE, 0), LOX_OK);
  EXPECT_EQ(lox_rwlock_release(rw, LOX_WRITE), LOX_OK);
  EXPECT_EQ(lox_rwlock_acquire(rw, LOX_READ, 0), LOX_OK);
  EXPECT_EQ(lox_rwlock_release(rw, LOX_READ), LOX_OK);
  lox_rwlock_destroy(rw);
}

TEST(SyncStress, QLockNeverHasTwoHoldersAndEmptiesItsLine) {
  Owned<lox_qlock> q = created<lox_qlock>(lox_qlock_create);
  EXPECT_GT(hammer_exclusive([&](double t) { return lox_qlock_acquire(q.get(), t); },
                             [&] { return lox_qlock_release(q.get()); }),
            0);
  EXPECT_EQ(lox_qlock_locked(q.get()), 0);
  EXPECT_EQ(lox_qlock_waiting(q.get()), 0u);
  EXPECT_EQ(lox_qlock_acquire(q.get(), 0), LOX_OK);
  EXPECT_EQ(lox_qlock_release(q.get()), LOX_OK);
}

// FIFO under churn: waiters with no timeout are served in the order they
// joined the line, while churners join the line behind them and time out.
// Each patient waiter joins while the churners are paused, so the line's
// length tells when it is in; then the churners resume.
TEST(SyncStress, QLockKeepsOrderWhileOthersTimeOut) {
  lox_qlock* q = nullptr;
  ASSERT_EQ(lox_qlock_create(&q), LOX_OK);
  ASSERT_EQ(lox_qlock_acquire(q, 0), LOX_OK);
  std::atomic<bool> stop{false}, pause{false};
  std::atomic<int> active{0};
  std::vector<std::thread> churn;
  for (int t = 0; t < 3; ++t)
    churn.emplace_back([&, t] {
      std::mt19937 rng(99u + static_cast<unsigned>(t));
      while (!stop.load()) {
        active.fetch_add(1);
        if (pause.load()) {
          active.fetch_sub(1);
          std::this_thread::yield();
          continue;
        }
        int rc = lox_qlock_acquire(q, (rng() % 3) * 0.0005);
        if (rc == LOX_OK) EXPECT_EQ(lox_qlock_release(q), LOX_OK);
        active.fetch_sub(1);
      }
    });
  std::vector<int> order;  // guarded by the qlock
  std::vector<std::thread> patient;
  for (int k = 0; k < 8; ++k) {
    pause = true;
    ASSERT_TRUE(eventually([&] { return active.load() == 0; }));
    patient.emplace_back([&, k] {
      ASSERT_EQ(lox_qlock_acquire(q, LOX_FOREVER), LOX_OK);
      order.push_back(k);
      ASSERT_EQ(lox_qlock_release(q), LOX_OK);
    });
    ASSERT_TRUE(eventually([&] { return lox_qlock_waiting(q) == static_cast<size_t>(k + 1); }));
    pause = false;
    std::this_thread::sleep_for(2ms);  // let the churners run a little (not needed for correctness)
  }
  ASSERT_EQ(lox_qlock_release(q), LOX_OK);
  for (auto& t : patient) t.join();
  stop = true;
  for (auto& t : churn) t.join();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(lox_qlock_waiting(q), 0u);
  EXPECT_EQ(lox_qlock_locked(q), 0);
  lox_qlock_destroy(q);
}

TEST(SyncStress, IndexSemaphoreNeverHandsAnIndexTwice) {
  constexpr size_t kN = 3;
  lox_index_semaphore* s = nullptr;
  ASSERT_EQ(lox_index_semaphore_create(kN, &s), LOX_OK);
  std::array<std::atomic<int>, kN> held{};
  hammer([&](std::mt19937& rng, int) {
    size_t idx = 1000;
    int rc = lox_index_semaphore_acquire(s, mixed_timeout(rng), &idx);
    ASSERT_TRUE(rc == LOX_OK || rc == LOX_TIMEOUT) << rc;
    if (rc != LOX_OK) return;
    ASSERT_LT(idx, kN);
    ASSERT_EQ(held[idx].exchange(1), 0) << idx;
    short_work(rng);
    held[idx].store(0);
    ASSERT_EQ(lox_index_semaphore_release(s, idx), LOX_OK);
  });
  EXPECT_EQ(lox_index_semaphore_available(s), kN);
  EXPECT_EQ(lox_index_semaphore_waiting(s), 0u);
  lox_index_semaphore_destroy(s);
}

TEST(SyncStress, LightSwitchAndJanitorNeverMeet) {
  lox_lock* l = nullptr;
  ASSERT_EQ(lox_lock_create(&l), LOX_OK);
  lox_lightswitch* ls = nullptr;
  ASSERT_EQ(lox_lightswitch_create(l, &ls), LOX_OK);
  std::atomic<int> people{0}, janitors{0};
  hammer([&](std::mt19937& rng, int) {
    bool janitor = rng() % 5 == 0;
    double to = mixed_timeout(rng);
    if (janitor) {
      int rc = lox_lock_acquire(l, to);
      ASSERT_TRUE(rc == LOX_OK || rc == LOX_TIMEOUT) << rc;
      if (rc != LOX_OK) return;
      ASSERT_EQ(janitors.fetch_add(1), 0);
      ASSERT_EQ(people.load(), 0);
      short_work(rng);
      janitors.fetch_sub(1);
      ASSERT_EQ(lox_lock_release(l), LOX_OK);
    } else {
      int rc = lox_lightswitch_acquire(ls, to);
      ASSERT_TRUE(rc == LOX_OK || rc == LOX_TIMEOUT) << rc;
      if (rc != LOX_OK) return;
      people.fetch_add(1);
      ASSERT_EQ(janitors.load(), 0);
      short_work(rng);
      people.fetch_sub(1);
      ASSERT_EQ(lox_lightswitch_release(ls), LOX_OK);
    }
  });
  EXPECT_EQ(lox_lightswitch_count(ls), 0u);
  EXPECT_EQ(lox_lock_locked(l), 0);
  lox_lightswitch_destroy(ls);
  lox_lock_destroy(l);
}

}  // namespace
