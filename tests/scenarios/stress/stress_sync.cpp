// SPDX-License-Identifier: Apache-2.0
// Stress: the synchronization objects under 8 threads, every acquire with a
// random short timeout (many time out). Inside each critical section an
// atomic census checks exclusion: one lock holder, a writer alone, readers
// never with a writer, an index never held twice and never more than n
// held, a janitor never with a LightSwitch's users. Afterwards each object
// must be fully acquirable at once: the timed-out acquires left no trace
// (no phantom holder, reader or place in line).
#include <lox/lox.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "stress_util.hpp"
#include "test_util.hpp"

using namespace loxtest;
using namespace loxstress;

namespace {

constexpr int kThreads = 8;

// What a thread did in one step.
enum class Step { acquired, timed_out, error };

struct Tally {
  std::atomic<long> acquired{0}, timed_out{0}, errors{0}, violations{0};
  std::string figures() const {
    return "acquires=" + std::to_string(acquired.load() + timed_out.load()) + " ok=" + std::to_string(acquired.load()) +
           " timed_out=" + std::to_string(timed_out.load()) + " violations=" + std::to_string(violations.load()) +
           " errors=" + std::to_string(errors.load());
  }
};

// Runs `step(rng, tally)` kIterations times on each of kThreads threads,
// released together.
template <typename StepFn>
void hammer(Tally& tally, uint64_t salt, StepFn step) {
  const long iterations = scaled_count(40'000);
  Gate start;
  std::vector<std::thread> ts;
  for (int t = 0; t < kThreads; ++t)
    ts.emplace_back([&, t] {
      auto rng = rng_for(salt + static_cast<uint64_t>(t));
      EXPECT_TRUE(start.wait());
      for (long i = 0; i < iterations; ++i) {
        switch (step(rng)) {
          case Step::acquired:
            tally.acquired.fetch_add(1, std::memory_order_relaxed);
            break;
          case Step::timed_out:
            tally.timed_out.fetch_add(1, std::memory_order_relaxed);
            break;
          case Step::error:
            tally.errors.fetch_add(1);
            break;
        }
      }
    });
  start.open();
  for (auto& t : ts) t.join();
}

// Time inside a critical section: usually none, sometimes a yield, rarely a
// sleep long enough to make the waiters' short timeouts run out.
void hold_a_while(std::mt19937_64& rng) {
  const auto r = rng() % 64;
  if (r == 0)
    std::this_thread::sleep_for(std::chrono::microseconds(300));
  else if (r < 8)
    std::this_thread::yield();
}

Step classify(int rc) { return rc == LOX_OK ? Step::acquired : rc == LOX_TIMEOUT ? Step::timed_out : Step::error; }

void expect_clean(const Tally& t, const char* name) {
  EXPECT_EQ(t.violations.load(), 0) << name << ": exclusion violated";
  EXPECT_EQ(t.errors.load(), 0) << name << ": unexpected status";
  EXPECT_GT(t.acquired.load(), 0) << name;
}

// One exclusive section: `holders` must be 0 on entry.
template <typename Release>
Step exclusive(int rc, std::atomic<int>& holders, Tally& tally, std::mt19937_64& rng, Release release) {
  const Step s = classify(rc);
  if (s != Step::acquired) return s;
  if (holders.fetch_add(1) != 0) tally.violations.fetch_add(1);
  hold_a_while(rng);
  holders.fetch_sub(1);
  return release() == LOX_OK ? s : Step::error;
}

// Hammers an exclusive lock with random timeouts through acquire(timeout)
// and release(): never two holders, no unexpected status. Prints the
// summary line `what`.
template <typename Acquire, typename Release>
void hammer_exclusive(const char* name, const char* what, uint64_t salt, Acquire acquire, Release release) {
  std::atomic<int> holders{0};
  Tally tally;
  Stopwatch sw;
  hammer(tally, salt,
         [&](std::mt19937_64& rng) { return exclusive(acquire(random_timeout(rng)), holders, tally, rng, release); });
  expect_clean(tally, name);
  summary(what, tally.figures(), sw);
}

TEST(StressSync, LockRandomTimeouts) {
  Owned<lox_lock> l = created<lox_lock>(lox_lock_create);
  hammer_exclusive(
      "lock", "lock, 8 threads", 1000, [&](double t) { return lox_lock_acquire(l.get(), t); },
      [&] { return lox_lock_release(l.get()); });
  EXPECT_EQ(lox_lock_locked(l.get()), 0);
  EXPECT_EQ(lox_lock_acquire(l.get(), 0), LOX_OK) << "a timed-out acquire left the lock taken";
  EXPECT_EQ(lox_lock_release(l.get()), LOX_OK);
}

TEST(StressSync, QLockRandomTimeouts) {
  Owned<lox_qlock> q = created<lox_qlock>(lox_qlock_create);
  hammer_exclusive(
      "qlock", "qlock, 8 threads", 2000, [&](double t) { return lox_qlock_acquire(q.get(), t); },
      [&] { return lox_qlock_release(q.get()); });
  EXPECT_EQ(lox_qlock_waiting(q.get()), 0u) << "a timed-out acquirer kept its place in line";
  EXPECT_EQ(lox_qlock_locked(q.get()), 0);
  EXPECT_EQ(lox_qlock_acquire(q.get(), 0), LOX_OK) << "a timed-out acquire left the qlock taken";
  EXPECT_EQ(lox_qlock_release(q.get()), LOX_OK);
}

// Readers and writers (a quarter of the steps): a writer finds nobody, a
// reader finds no writer, on entry and again before leaving.
TEST(StressSync, RWLockReadersWritersRandomTimeouts) {
  lox_rwlock* rw = nullptr;
  ASSERT_EQ(lox_rwlock_create(&rw), LOX_OK);
  std::atomic<int> readers{0}, writers{0};
  std::atomic<long> writes{0}, reads{0};
  Tally tally;
  Stopwatch sw;
  hammer(tally, 3000, [&](std::mt19937_64& rng) {
    const bool write = rng() % 4 == 0;
    const int mode = write ? LOX_WRITE : LOX_READ;
    const Step s = classify(lox_rwlock_acquire(rw, mode, random_timeout(rng)));
    if (s != Step::acquired) return s;
    if (write) {
      if (writers.fetch_add(1) != 0 || readers.load() != 0) tally.violations.fetch_add(1);
      hold_a_while(rng);
      if (writers.load() != 1 || readers.load() != 0) tally.violations.fetch_add(1);
      writers.fetch_sub(1);
      writes.fetch_add(1, std::memory_order_relaxed);
    } else {
      readers.fetch_add(1);
      if (writers.load() != 0) tally.violations.fetch_add(1);
      hold_a_while(rng);
      if (writers.load() != 0) tally.violations.fetch_add(1);
      readers.fetch_sub(1);
      reads.fetch_add(1, std::memory_order_relaxed);
    }
    return lox_rwlock_release(rw, mode) == LOX_OK ? s : Step::error;
  });
  expect_clean(tally, "rwlock");
  EXPECT_GT(writes.load(), 0);
  EXPECT_GT(reads.load(), 0);
  EXPECT_EQ(lox_rwlock_readers(rw), 0u) << "a phantom reader is left";
  EXPECT_EQ(lox_rwlock_acquire(rw, LOX_WRITE, 0), LOX_OK) << "a timed-out writer still blocks";
  EXPECT_EQ(lox_rwlock_release(rw, LOX_WRITE), LOX_OK);
  EXPECT_EQ(lox_rwlock_acquire(rw, LOX_READ, 0), LOX_OK) << "a timed-out writer still holds readers back";
  EXPECT_EQ(lox_rwlock_release(rw, LOX_READ), LOX_OK);
  lox_rwlock_destroy(rw);
  summary("rwlock, 8 threads (1/4 writers)",
          tally.figures() + " reads=" + std::to_string(reads.load()) + " writes=" + std::to_string(writes.load()), sw);
}

// Three indices for eight threads: an index is never held twice, and never
// more than three are held.
TEST(StressSync, IndexSemaphoreRandomTimeouts) {
  constexpr size_t kN = 3;
  lox_index_semaphore* s = nullptr;
  ASSERT_EQ(lox_index_semaphore_create(kN, &s), LOX_OK);
  std::atomic<int> held[kN] = {};
  std::atomic<int> in_use{0};
  Tally tally;
  Stopwatch sw;
  hammer(tally, 4000, [&](std::mt19937_64& rng) {
    size_t idx = kN + 1;
    const Step st = classify(lox_index_semaphore_acquire(s, random_timeout(rng), &idx));
    if (st != Step::acquired) return st;
    if (idx >= kN) {
      tally.violations.fetch_add(1);
      return Step::error;
    }
    if (held[idx].fetch_add(1) != 0) tally.violations.fetch_add(1);
    if (in_use.fetch_add(1) + 1 > static_cast<int>(kN)) tally.violations.fetch_add(1);
    hold_a_while(rng);
    in_use.fetch_sub(1);
    held[idx].fetch_sub(1);
    return lox_index_semaphore_release(s, idx) == LOX_OK ? st : Step::error;
  });
  expect_clean(tally, "index semaphore");
  EXPECT_EQ(lox_index_semaphore_available(s), kN) << "a timed-out acquire kept an index";
  EXPECT_EQ(lox_index_semaphore_waiting(s), 0u);
  std::vector<size_t> got;
  for (size_t k = 0; k < kN; ++k) {
    size_t idx = kN;
    EXPECT_EQ(lox_index_semaphore_acquire(s, 0, &idx), LOX_OK) << "index " << k << " of " << kN;
    got.push_back(idx);
  }
  size_t extra = 0;
  EXPECT_EQ(lox_index_semaphore_acquire(s, 0, &extra), LOX_TIMEOUT);
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<size_t>{0, 1, 2}));
  for (size_t idx : got) EXPECT_EQ(lox_index_semaphore_release(s, idx), LOX_OK);
  lox_index_semaphore_destroy(s);
  summary("index semaphore n=3, 8 threads", tally.figures(), sw);
}

// Users enter through the LightSwitch (the first turns the borrowed lock
// on), a janitor (a quarter of the steps) takes the lock directly: the two
// never meet.
TEST(StressSync, LightSwitchAndJanitorRandomTimeouts) {
  lox_lock* room = nullptr;
  ASSERT_EQ(lox_lock_create(&room), LOX_OK);
  lox_lightswitch* ls = nullptr;
  ASSERT_EQ(lox_lightswitch_create(room, &ls), LOX_OK);
  std::atomic<int> users{0}, janitors{0};
  std::atomic<long> cleanings{0};
  Tally tally;
  Stopwatch sw;
  hammer(tally, 5000, [&](std::mt19937_64& rng) {
    if (rng() % 4 == 0) {
      const Step s = classify(lox_lock_acquire(room, random_timeout(rng)));
      if (s != Step::acquired) return s;
      if (janitors.fetch_add(1) != 0 || users.load() != 0) tally.violations.fetch_add(1);
      hold_a_while(rng);
      if (users.load() != 0) tally.violations.fetch_add(1);
      janitors.fetch_sub(1);
      cleanings.fetch_add(1, std::memory_order_relaxed);
      return lox_lock_release(room) == LOX_OK ? s : Step::error;
    }
    const Step s = classify(lox_lightswitch_acquire(ls, random_timeout(rng)));
    if (s != Step::acquired) return s;
    users.fetch_add(1);
    if (janitors.load() != 0) tally.violations.fetch_add(1);
    hold_a_while(rng);
    if (janitors.load() != 0) tally.violations.fetch_add(1);
    users.fetch_sub(1);
    return lox_lightswitch_release(ls) == LOX_OK ? s : Step::error;
  });
  expect_clean(tally, "lightswitch");
  EXPECT_GT(cleanings.load(), 0);
  EXPECT_EQ(lox_lightswitch_count(ls), 0u) << "a timed-out entrant was counted in";
  EXPECT_EQ(lox_lock_locked(room), 0) << "the lights were left on";
  EXPECT_EQ(lox_lock_acquire(room, 0), LOX_OK);
  EXPECT_EQ(lox_lock_release(room), LOX_OK);
  EXPECT_EQ(lox_lightswitch_acquire(ls, 0), LOX_OK);
  EXPECT_EQ(lox_lightswitch_release(ls), LOX_OK);
  lox_lightswitch_destroy(ls);
  lox_lock_destroy(room);
  summary("lightswitch + janitor, 8 threads (1/4 janitor)",
          tally.figures() + " cleanings=" + std::to_string(cleanings.load()), sw);
}

}  // namespace
