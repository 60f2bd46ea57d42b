// SPDX-License-Identifier: Apache-2.0
// The C++ layer's synchronization objects (lox::lock, lox::light_switch,
// lox::rw_lock, lox::qlock, lox::index_semaphore): the standard wrappers
// (std::scoped_lock, std::unique_lock, std::shared_lock,
// std::condition_variable_any) on top of them, the guards' ownership rules
// and misuse turned into lox::error. Timeouts that leave no trace:
// test_cpp_sync_timeouts.cpp.
//
// Timing rule (as in the C tests): whatever must happen is waited for with a
// long deadline; nothing is asserted to happen within a short time. Short
// timeouts are only used where the outcome must be a timeout.
#include <lox/lox.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <limits>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "eventually.hpp"
#include "thrown.hpp"

using namespace std::chrono_literals;
using loxtest::eventually;
using loxtest::thrown;

namespace {

// ---- the standard's requirements, checked at compile time ----------------

template <class M, class = void>
struct is_timed_lockable : std::false_type {};
template <class M>
struct is_timed_lockable<
    M, std::void_t<decltype(std::declval<M&>().lock()), decltype(std::declval<M&>().unlock()),
                   decltype(bool{std::declval<M&>().try_lock()}), decltype(bool{std::declval<M&>().try_lock_for(1ms)}),
                   decltype(bool{std::declval<M&>().try_lock_until(std::chrono::steady_clock::now())})>>
    : std::bool_constant<noexcept(std::declval<M&>().unlock())> {};

static_assert(is_timed_lockable<lox::lock>::value, "lox::lock is TimedLockable");
static_assert(is_timed_lockable<lox::light_switch>::value, "lox::light_switch is TimedLockable");
static_assert(is_timed_lockable<lox::qlock>::value, "lox::qlock is TimedLockable");
static_assert(is_timed_lockable<lox::rw_lock>::value, "lox::rw_lock is TimedLockable");
static_assert(noexcept(std::declval<lox::rw_lock&>().unlock_shared()), "unlock_shared is noexcept");
static_assert(std::is_same_v<decltype(std::declval<lox::rw_lock&>().try_lock_shared_for(1ms)), bool>);
static_assert(std::is_same_v<
              decltype(std::declval<lox::rw_lock&>().try_lock_shared_until(std::chrono::system_clock::now())), bool>);
static_assert(std::is_same_v<lox::lock, lox::basic_lock>);

// Handles and guards are move-only.
static_assert(!std::is_copy_constructible_v<lox::lock> && std::is_nothrow_move_constructible_v<lox::lock>);
static_assert(!std::is_copy_constructible_v<lox::rw_lock> && std::is_nothrow_move_constructible_v<lox::rw_lock>);
static_assert(!std::is_copy_constructible_v<lox::qlock> && std::is_nothrow_move_constructible_v<lox::qlock>);
static_assert(!std::is_copy_constructible_v<lox::light_switch>);
static_assert(!std::is_copy_constructible_v<lox::index_semaphore>);
static_assert(!std::is_copy_constructible_v<lox::unique_guard<lox::lock>> &&
              std::is_nothrow_move_constructible_v<lox::unique_guard<lox::lock>> &&
              std::is_nothrow_move_assignable_v<lox::unique_guard<lox::lock>>);
static_assert(!std::is_copy_constructible_v<lox::shared_guard<lox::rw_lock>> &&
              std::is_nothrow_move_constructible_v<lox::shared_guard<lox::rw_lock>>);
static_assert(!std::is_copy_constructible_v<lox::index_guard> &&
              std::is_nothrow_move_constructible_v<lox::index_guard>);
// A guard is not implicitly a bool (no accidental arithmetic), but tests as one.
static_assert(!std::is_convertible_v<lox::unique_guard<lox::lock>, bool>);
static_assert(std::is_constructible_v<bool, lox::unique_guard<lox::lock>>);

}  // namespace

// ------------------------------------------------------------------ lock --

TEST(cppSync, LockBasics) {
  lox::lock mu;
  EXPECT_TRUE(mu);
  EXPECT_FALSE(mu.locked());
  {
    auto g = mu.hold();
    EXPECT_TRUE(g);
    EXPECT_EQ(g.mutex(), &mu);
    EXPECT_TRUE(mu.locked());
    EXPECT_FALSE(mu.try_lock());
    EXPECT_FALSE(mu.try_acquire(0s));
    EXPECT_FALSE(mu.try_hold(-5s));  // negative: once, never "forever"
  }
  EXPECT_FALSE(mu.locked());
  mu.acquire();
  EXPECT_TRUE(mu.locked());
  mu.release();
  EXPECT_FALSE(mu.locked());
  EXPECT_TRUE(mu.try_lock());
  mu.unlock();
  EXPECT_FALSE(mu.locked());
}

TEST(cppSync, LockReleasedByAnotherThread) {
  // Not owned by a thread: a guard moved to another thread releases there.
  lox::lock mu;
  auto g = mu.hold();
  std::thread t([g = std::move(g)]() mutable { g.unlock(); });
  t.join();
  EXPECT_FALSE(mu.locked());
  // The plain calls too.
  mu.acquire();
  std::thread([&] { mu.release(); }).join();
  EXPECT_FALSE(mu.locked());
}

TEST(cppSync, ScopedLockWithSeveralLoxLocks) {
  // std::scoped_lock over lox locks of different kinds, taken in opposite
  // orders by two threads: std::lock's deadlock avoidance uses try_lock.
  lox::lock a;
  lox::qlock b;
  lox::rw_lock c;
  long counter = 0;  // protected by holding all three
  constexpr int kRounds = 2000;
  std::thread t1([&] {
    for (int i = 0; i < kRounds; ++i) {
      std::scoped_lock all(a, b, c);
      ++counter;
    }
  });
  std::thread t2([&] {
    for (int i = 0; i < kRounds; ++i) {
      std::scoped_lock all(c, b, a);
      ++counter;
    }
  });
  t1.join();
  t2.join();
  EXPECT_EQ(counter, 2 * kRounds);
  EXPECT_FALSE(a.locked());
  EXPECT_FALSE(b.locked());
  EXPECT_TRUE(c.try_lock());  // nothing left held
  c.unlock();
}

TEST(cppSync, UniqueLockTryLockFor) {
  lox::lock mu;
  auto held = mu.hold();
  std::thread t([&] {
    std::unique_lock<lox::lock> lk(mu, std::defer_lock);
    auto t0 = std::chrono::steady_clock::now();
    EXPECT_FALSE(lk.try_lock_for(30ms));
    EXPECT_GE(std::chrono::steady_clock::now() - t0, 25ms);  // it did wait
    EXPECT_FALSE(lk.owns_lock());
    std::unique_lock<lox::lock> lk2(mu, 20ms);  // timed constructor
    EXPECT_FALSE(lk2.owns_lock());
    EXPECT_FALSE(lk2.try_lock_until(std::chrono::steady_clock::now() + 10ms));
    EXPECT_FALSE(lk2.try_lock_until(std::chrono::system_clock::now() - 1s));  // past: one try
  });
  t.join();
  EXPECT_TRUE(mu.locked());  // the failed attempts changed nothing
  held = {};                 // move-assigning an empty guard releases
  EXPECT_FALSE(mu.locked());
  std::unique_lock<lox::lock> lk(mu, std::defer_lock);
  EXPECT_TRUE(lk.try_lock_for(30s));
  EXPECT_TRUE(mu.locked());
  lk.unlock();
  EXPECT_TRUE(lk.try_lock_until(std::chrono::system_clock::now() + 30s));
  EXPECT_TRUE(mu.locked());
}

TEST(cppSync, TryLockForWaitsForARelease) {
  lox::lock mu;
  mu.acquire();
  std::atomic<bool> got{false};
  std::thread t([&] {
    std::unique_lock<lox::lock> lk(mu, std::defer_lock);
    got = lk.try_lock_for(60s);
  });
  std::this_thread::sleep_for(20ms);
  mu.release();
  t.join();
  EXPECT_TRUE(got);
  EXPECT_FALSE(mu.locked());  // unique_lock released it
}

TEST(cppSync, ConditionVariableAnyProducerConsumer) {
  lox::lock mu;
  std::condition_variable_any not_empty;
  std::deque<int> q;  // protected by mu
  bool done = false;
  constexpr int kItems = 5000, kProducers = 2, kConsumers = 2;
  std::atomic<long> sum{0};
  std::atomic<int> taken{0};
  std::vector<std::thread> threads;
  for (int c = 0; c < kConsumers; ++c)
    threads.emplace_back([&] {
      std::unique_lock<lox::lock> lk(mu);
      for (;;) {
        not_empty.wait(lk, [&] { return !q.empty() || done; });
        if (q.empty()) return;
        int v = q.front();
        q.pop_front();
        lk.unlock();
        sum += v;
        ++taken;
        lk.lock();
      }
    });
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p)
    producers.emplace_back([&, p] {
      for (int i = 1; i <= kItems; ++i) {
        {
          std::scoped_lock lk(mu);
          q.push_back(p * kItems + i);
        }
        not_empty.notify_one();
      }
    });
  for (auto& t : producers) t.join();
  {
    std::scoped_lock lk(mu);
    done = true;
  }
  not_empty.notify_all();
  for (auto& t : threads) t.join();
  const long n = kProducers * kItems;
  EXPECT_EQ(taken.load(), n);
  EXPECT_EQ(sum.load(), n * (n + 1) / 2);
  EXPECT_FALSE(mu.locked());
}

TEST(cppSync, ConditionVariableAnyWaitForTimesOut) {
  lox::lock mu;
  std::condition_variable_any cv;
  std::unique_lock<lox::lock> lk(mu);
  EXPECT_FALSE(cv.wait_for(lk, 20ms, [] { return false; }));
  EXPECT_TRUE(lk.owns_lock());
  EXPECT_TRUE(mu.locked());  // re-acquired after the timeout
}

// ---------------------------------------------------------------- guards --

TEST(cppSync, GuardMoveSemantics) {
  lox::lock a, b;
  lox::unique_guard<lox::lock> empty;
  EXPECT_FALSE(empty);
  EXPECT_EQ(empty.mutex(), nullptr);

  auto ga = a.hold();
  lox::unique_guard<lox::lock> moved(std::move(ga));
  EXPECT_FALSE(ga);  // NOLINT(bugprone-use-after-move): moved-from is empty by contract
  EXPECT_TRUE(moved);
  EXPECT_TRUE(a.locked());

  auto gb = b.hold();
  moved = std::move(gb);  // releases a, now owns b
  EXPECT_FALSE(a.locked());
  EXPECT_TRUE(b.locked());
  EXPECT_FALSE(gb);  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(moved.mutex(), &b);

  auto& same = moved;
  moved = std::move(same);  // self-move changes nothing
  EXPECT_TRUE(b.locked());

  lox::lock* raw = moved.detach();  // still held, nobody releases it
  EXPECT_EQ(raw, &b);
  EXPECT_FALSE(moved);
  EXPECT_TRUE(b.locked());
  {
    lox::unique_guard<lox::lock> adopt(b, std::adopt_lock);
    EXPECT_TRUE(adopt.owns_lock());
  }
  EXPECT_FALSE(b.locked());

  // The guard's own unlock: releases now, the destructor does nothing more.
  {
    auto g = a.hold();
    g.unlock();
    EXPECT_FALSE(g);
    EXPECT_FALSE(a.locked());
    a.acquire();  // someone else takes it: g's destructor must not release it
  }
  EXPECT_TRUE(a.locked());
  a.release();

  // Shared guards and index guards move the same way.
  lox::rw_lock rw;
  auto r1 = rw.read();
  auto r2 = rw.read();
  EXPECT_EQ(rw.readers(), 2u);
  r1 = std::move(r2);
  EXPECT_EQ(rw.readers(), 1u);
  lox::shared_guard<lox::rw_lock> r3(std::move(r1));
  EXPECT_EQ(rw.readers(), 1u);
  r3 = {};
  EXPECT_EQ(rw.readers(), 0u);

  lox::index_semaphore sem(2);
  auto i1 = sem.acquire();
  auto i2 = sem.acquire();
  EXPECT_NE(i1.index(), i2.index());
  const std::size_t second = i2.index();
  i1 = std::move(i2);
  EXPECT_EQ(sem.available(), 1u);
  EXPECT_EQ(i1.index(), second);
  EXPECT_FALSE(i2);  // NOLINT(bugprone-use-after-move)
  lox::index_guard i3(std::move(i1));
  EXPECT_EQ(i3.index(), second);
  EXPECT_EQ(i3.semaphore(), &sem);
  const std::size_t d = i3.detach();
  EXPECT_EQ(d, second);
  EXPECT_EQ(sem.available(), 1u);  // detached: still held
  sem.release(d);
  EXPECT_EQ(sem.available(), 2u);
}

TEST(cppSync, GuardMisuseThrows) {
  lox::unique_guard<lox::lock> g;
  lox::error e = thrown([&] { g.unlock(); });
  EXPECT_EQ(e.status(), LOX_ESTATE);
  EXPECT_FALSE(e.detail().empty());

  lox::shared_guard<lox::rw_lock> s;
  EXPECT_EQ(thrown([&] { s.unlock(); }).status(), LOX_ESTATE);

  lox::index_guard ig;
  EXPECT_FALSE(ig);
  EXPECT_EQ(thrown([&] { (void)ig.index(); }).status(), LOX_ESTATE);
  EXPECT_EQ(thrown([&] { ig.unlock(); }).status(), LOX_ESTATE);
  EXPECT_EQ(thrown([&] { (void)ig.detach(); }).status(), LOX_ESTATE);

  // A guard whose lock was released behind its back: its unlock reports the
  // C layer's LOX_ESTATE, and it is empty afterwards (no second attempt).
  lox::lock mu;
  auto held = mu.hold();
  mu.release();
  lox::error e2 = thrown([&] { held.unlock(); });
  EXPECT_EQ(e2.status(), LOX_ESTATE);
  EXPECT_FALSE(held);
}

// ---------------------------------------------------- release() misuse --

TEST(cppSync, ReleaseMisuseThrowsEstate) {
  lox::lock mu;
  lox::error e = thrown([&] { mu.release(); });
  EXPECT_EQ(e.status(), LOX_ESTATE);
  EXPECT_FALSE(e.detail().empty());
  EXPECT_NE(std::string(e.what()).find("LOX_ESTATE"), std::string::npos);
  EXPECT_FALSE(mu.locked());  // nothing changed
  mu.unlock();                // noexcept: ignored (the C layer may log it)
  EXPECT_FALSE(mu.locked());

  lox::light_switch ls(mu);
  EXPECT_EQ(thrown([&] { ls.release(); }).status(), LOX_ESTATE);
  EXPECT_EQ(ls.count(), 0u);

  lox::rw_lock rw;
  EXPECT_EQ(thrown([&] { rw.release(); }).status(), LOX_ESTATE);
  EXPECT_EQ(thrown([&] { rw.release_shared(); }).status(), LOX_ESTATE);
  {
    auto r = rw.read();  // wrong mode: a read lock is held, not the write lock
    lox::error w = thrown([&] { rw.release(lox::rw_lock::mode::write); });
    EXPECT_EQ(w.status(), LOX_ESTATE);
    EXPECT_FALSE(w.detail().empty());
    EXPECT_EQ(rw.readers(), 1u);
  }
  {
    auto w = rw.write();
    EXPECT_EQ(thrown([&] { rw.release_shared(); }).status(), LOX_ESTATE);
    EXPECT_FALSE(rw.try_lock_shared());  // the write lock is still held
  }
  EXPECT_TRUE(rw.try_lock());
  rw.unlock();

  lox::qlock q;
  EXPECT_EQ(thrown([&] { q.release(); }).status(), LOX_ESTATE);
  EXPECT_FALSE(q.locked());

  lox::index_semaphore sem(3);
  EXPECT_EQ(thrown([&] { sem.release(0); }).status(), LOX_ESTATE);  // never acquired
  EXPECT_EQ(thrown([&] { sem.release(3); }).status(), LOX_EINVAL);  // out of range
  {
    auto g = sem.acquire();
    std::size_t i = g.index();
    g.unlock();
    EXPECT_EQ(thrown([&] { sem.release(i); }).status(), LOX_ESTATE);  // double release
  }
  EXPECT_EQ(sem.available(), 3u);
}

TEST(cppSync, ConstructionErrorsAndMovedFromObjects) {
  EXPECT_EQ(thrown([] { lox::index_semaphore s(0); }).status(), LOX_EINVAL);

  lox::lock a;
  lox::lock b(std::move(a));
  EXPECT_FALSE(a);  // NOLINT(bugprone-use-after-move)
  EXPECT_TRUE(b);
  EXPECT_FALSE(a.locked());  // NOLINT
  EXPECT_EQ(thrown([&] { a.acquire(); }).status(), LOX_EINVAL);
  a.unlock();  // noexcept on an empty lock: nothing happens
  // A light switch needs a live lock.
  EXPECT_EQ(thrown([&] { lox::light_switch ls(a); }).status(), LOX_EINVAL);
  a = std::move(b);
  EXPECT_TRUE(a);
  auto g = a.hold();
  EXPECT_TRUE(a.locked());

  lox::rw_lock rw;
  lox::rw_lock rw2 = std::move(rw);
  EXPECT_EQ(thrown([&] { rw.lock_shared(); }).status(), LOX_EINVAL);  // NOLINT
  EXPECT_EQ(rw.readers(), 0u);                                        // NOLINT
  EXPECT_EQ(thrown([&] { (void)rw.try_read(1ms); }).status(), LOX_EINVAL);

  lox::index_semaphore s(4);
  lox::index_semaphore s2(std::move(s));
  EXPECT_EQ(s2.size(), 4u);
  EXPECT_EQ(s.size(), 0u);  // NOLINT
  EXPECT_EQ(thrown([&] { (void)s.acquire(); }).status(), LOX_EINVAL);

  // NaN durations are the C layer's LOX_EINVAL, not a timeout.
  const std::chrono::duration<double> nan(std::numeric_limits<double>::quiet_NaN());
  EXPECT_EQ(thrown([&] { (void)rw2.try_write(nan); }).status(), LOX_EINVAL);
}

// ------------------------------------------------------------- rw_lock --

TEST(cppSync, SharedLockOnRwLock) {
  lox::rw_lock rw;
  std::shared_lock<lox::rw_lock> r1(rw);
  EXPECT_TRUE(r1.owns_lock());
  std::atomic<bool> second_reader_in{false};
  std::thread t([&] {
    std::shared_lock<lox::rw_lock> r2(rw, std::defer_lock);
    EXPECT_TRUE(r2.try_lock_for(30s));  // readers share
    second_reader_in = true;
    EXPECT_EQ(rw.readers(), 2u);
    // A writer cannot get in while readers are there.
    std::unique_lock<lox::rw_lock> w(rw, std::defer_lock);
    EXPECT_FALSE(w.try_lock_for(20ms));
    EXPECT_FALSE(w.try_lock());
  });
  t.join();
  EXPECT_TRUE(second_reader_in);
  EXPECT_EQ(rw.readers(), 1u);
  r1.unlock();
  EXPECT_EQ(rw.readers(), 0u);
  {
    std::unique_lock<lox::rw_lock> w(rw);
    std::shared_lock<lox::rw_lock> r(rw, std::defer_lock);
    EXPECT_FALSE(r.try_lock());
    EXPECT_FALSE(r.try_lock_until(std::chrono::steady_clock::now() + 10ms));
  }
  std::shared_lock<lox::rw_lock> r3(rw, std::chrono::system_clock::now() + 30s);
  EXPECT_TRUE(r3.owns_lock());
}

TEST(cppSync, RwLockGuardsAndTryWrite) {
  lox::rw_lock rw;
  {
    auto r = rw.read();
    EXPECT_TRUE(r);
    EXPECT_EQ(rw.readers(), 1u);
    auto w = rw.try_write(50ms);  // the spec's example: falsy on timeout
    EXPECT_FALSE(w);
  }
  if (auto w = rw.try_write(50ms)) {
    EXPECT_EQ(rw.readers(), 0u);
    EXPECT_FALSE(rw.try_read(0s));
  } else {
    ADD_FAILURE() << "a free rwlock's try_write timed out";
  }
  auto w = rw.write();
  w.unlock();
  auto r = rw.try_read(1s);
  EXPECT_TRUE(r);
}

TEST(cppSync, WriterWaitsForReadersThenGetsIn) {
  lox::rw_lock rw;
  std::atomic<bool> writer_in{false};
  auto r = rw.read();
  std::thread writer([&] {
    auto w = rw.write();
    writer_in = true;
  });
  std::this_thread::sleep_for(20ms);
  EXPECT_FALSE(writer_in);
  r = {};
  writer.join();
  EXPECT_TRUE(writer_in);
}

TEST(cppSync, RwLockStressWithStandardWrappers) {
  // Mixed modes through std::unique_lock / std::shared_lock with short
  // timeouts: never a writer with a reader, never two writers.
  lox::rw_lock rw;
  std::atomic<int> readers{0}, writers{0}, violations{0};
  std::atomic<long> ops{0};
  auto body = [&](unsigned seed) {
    for (int i = 0; i < 5000; ++i) {
      seed = seed * 1103515245u + 12345u;
      const bool write = (seed >> 16) % 10 == 0;
      const bool timed = (seed >> 20) % 4 == 0;
      if (write) {
        std::unique_lock<lox::rw_lock> lk(rw, std::defer_lock);
        if (timed) {
          if (!lk.try_lock_for(100us)) continue;
        } else {
          lk.lock();
        }
        if (writers.fetch_add(1) != 0 || readers.load() != 0) ++violations;
        writers.fetch_sub(1);
      } else {
        std::shared_lock<lox::rw_lock> lk(rw, std::defer_lock);
        if (timed) {
          if (!lk.try_lock_for(100us)) continue;
        } else {
          lk.lock();
        }
        readers.fetch_add(1);
        if (writers.load() != 0) ++violations;
        readers.fetch_sub(1);
      }
      ++ops;
    }
  };
  std::vector<std::thread> ts;
  for (unsigned t = 0; t < 4; ++t) ts.emplace_back(body, 7u + t * 31u);
  for (auto& t : ts) t.join();
  EXPECT_EQ(violations.load(), 0);
  EXPECT_GT(ops.load(), 0);
  EXPECT_EQ(rw.readers(), 0u);
  EXPECT_TRUE(rw.try_lock());
  rw.unlock();
}

// -------------------------------------------------------- light_switch --

TEST(cppSync, LightSwitchRestroom) {
  // People overlap through the switch; the janitor (the lock itself) waits
  // for the last one; the last one out is not the first one in.
  lox::lock room;
  lox::light_switch people(room);
  auto first = people.hold();
  EXPECT_TRUE(room.locked());
  EXPECT_EQ(people.count(), 1u);
  std::atomic<bool> second_in{false};
  std::atomic<bool> release_second{false};
  std::thread second([&] {
    std::scoped_lock in(people);  // enters without waiting: the room is "ours"
    second_in = true;
    while (!release_second) std::this_thread::sleep_for(1ms);
  });
  ASSERT_TRUE(eventually([&] { return second_in.load(); }));
  EXPECT_EQ(people.count(), 2u);
  {
    std::unique_lock<lox::lock> janitor(room, std::defer_lock);
    EXPECT_FALSE(janitor.try_lock_for(20ms));
  }
  first = {};  // the first one leaves; the room stays taken
  EXPECT_TRUE(room.locked());
  EXPECT_EQ(people.count(), 1u);
  std::atomic<bool> janitor_in{false};
  std::thread janitor([&] {
    std::scoped_lock j(room);
    janitor_in = true;
    EXPECT_EQ(people.count(), 0u);
  });
  std::this_thread::sleep_for(20ms);
  EXPECT_FALSE(janitor_in);
  release_second = true;  // the last one out releases the room (in its thread)
  second.join();
  janitor.join();
  EXPECT_TRUE(janitor_in);
  EXPECT_FALSE(room.locked());
}

// --------------------------------------------------------------- qlock --

TEST(cppSync, QlockFifoFromCpp) {
  // Threads join the line one at a time (each waits until the previous one
  // is counted in `waiting()`), then are served in that order.
  lox::qlock q;
  auto holder = q.hold();
  constexpr int kThreads = 8;
  std::vector<int> order;  // written under q
  std::vector<std::thread> ts;
  for (int i = 0; i < kThreads; ++i) {
    ts.emplace_back([&, i] {
      std::scoped_lock in(q);
      order.push_back(i);
    });
    ASSERT_TRUE(eventually([&] { return q.waiting() == static_cast<std::size_t>(i + 1); }));
  }
  holder.unlock();
  for (auto& t : ts) t.join();
  ASSERT_EQ(order.size(), static_cast<std::size_t>(kThreads));
  for (int i = 0; i < kThreads; ++i) EXPECT_EQ(order[static_cast<std::size_t>(i)], i);
  EXPECT_FALSE(q.locked());
  EXPECT_EQ(q.waiting(), 0u);
}

TEST(cppSync, QlockTimeoutLeavesTheLine) {
  lox::qlock q;
  auto holder = q.hold();
  std::vector<int> order;
  std::thread a([&] {
    std::scoped_lock in(q);
    order.push_back(1);
  });
  ASSERT_TRUE(eventually([&] { return q.waiting() == 1u; }));
  std::thread quitter([&] {
    std::unique_lock<lox::qlock> lk(q, std::defer_lock);
    EXPECT_FALSE(lk.try_lock_for(30ms));
  });
  quitter.join();
  EXPECT_EQ(q.waiting(), 1u);  // only `a` is left in line
  std::thread b([&] {
    std::scoped_lock in(q);
    order.push_back(2);
  });
  ASSERT_TRUE(eventually([&] { return q.waiting() == 2u; }));
  holder = {};
  a.join();
  b.join();
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
  EXPECT_TRUE(q.try_hold(0s));  // free again
}

// ----------------------------------------------------- index_semaphore --

TEST(cppSync, IndexSemaphoreIndicesUniqueUnder8Threads) {
  constexpr std::size_t kIndices = 3;
  constexpr int kThreads = 8, kRounds = 2000;
  lox::index_semaphore sem(kIndices);
  EXPECT_EQ(sem.size(), kIndices);
  std::atomic<int> in_use[kIndices] = {};
  std::atomic<int> violations{0}, timeouts{0};
  std::atomic<long> uses[kIndices] = {};
  std::vector<std::thread> ts;
  for (int t = 0; t < kThreads; ++t)
    ts.emplace_back([&, t] {
      for (int i = 0; i < kRounds; ++i) {
        lox::index_guard g = (i + t) % 5 == 0 ? sem.try_acquire(50us) : sem.acquire();
        if (!g) {
          ++timeouts;
          continue;
        }
        const std::size_t k = g.index();
        if (k >= kIndices || in_use[k].exchange(1) != 0) ++violations;
        ++uses[k % kIndices];
        in_use[k % kIndices].store(0);
      }
    });
  for (auto& t : ts) t.join();
  EXPECT_EQ(violations.load(), 0);
  long total = 0;
  for (auto& u : uses) total += u.load();
  EXPECT_EQ(total + timeouts.load(), long{kThreads} * kRounds);
  EXPECT_EQ(sem.available(), kIndices);
  EXPECT_EQ(sem.waiting(), 0u);
}

TEST(cppSync, IndexSemaphoreGpuPool) {
  // 20 threads sharing 5 "GPUs", no index ever held twice.
  lox::index_semaphore gpus(5);
  std::atomic<int> holders[5] = {};
  std::atomic<int> violations{0}, max_seen{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < 20; ++t)
    ts.emplace_back([&] {
      auto g = gpus.acquire();
      int now = holders[g.index()].fetch_add(1) + 1;
      if (now != 1) ++violations;
      int busy = 5 - static_cast<int>(gpus.available());
      int prev = max_seen.load();
      while (busy > prev && !max_seen.compare_exchange_weak(prev, busy)) {
      }
      std::this_thread::sleep_for(2ms);
      holders[g.index()].fetch_sub(1);
    });
  for (auto& t : ts) t.join();
  EXPECT_EQ(violations.load(), 0);
  EXPECT_LE(max_seen.load(), 5);
  EXPECT_EQ(gpus.available(), 5u);
}

// ------------------------------------------------------------- stress --

TEST(cppSync, LightSwitchAndQlockStressWithTimeouts) {
  // People (through the switch) and janitors (the lock itself) with random
  // short timeouts: a janitor is never in with anyone; a qlock-protected
  // counter is never entered twice; everything is free at the end.
  lox::lock room;
  lox::light_switch people(room);
  lox::qlock q;
  std::atomic<int> inside{0}, janitors{0}, violations{0};
  long counter = 0;  // protected by q
  std::atomic<long> increments{0};
  auto body = [&](unsigned seed, bool janitor) {
    for (int i = 0; i < 5000; ++i) {
      seed = seed * 1103515245u + 12345u;
      const auto timeout = std::chrono::microseconds((seed >> 16) % 200);
      if (janitor) {
        std::unique_lock<lox::lock> lk(room, std::defer_lock);
        if (!lk.try_lock_for(timeout)) continue;
        if (janitors.fetch_add(1) != 0 || inside.load() != 0) ++violations;
        janitors.fetch_sub(1);
      } else if (auto in = people.try_hold(timeout)) {
        inside.fetch_add(1);
        if (janitors.load() != 0) ++violations;
        inside.fetch_sub(1);
      }
      if ((seed >> 8) % 3 == 0) {
        if (auto g = q.try_hold(timeout)) {
          ++counter;
          ++increments;
        }
      }
    }
  };
  std::vector<std::thread> ts;
  for (unsigned t = 0; t < 4; ++t) ts.emplace_back(body, 11u + 17u * t, t == 0);
  for (auto& t : ts) t.join();
  EXPECT_EQ(violations.load(), 0);
  EXPECT_EQ(counter, increments.load());
  EXPECT_EQ(people.count(), 0u);
  EXPECT_FALSE(room.locked());
  EXPECT_FALSE(q.locked());
  EXPECT_EQ(q.waiting(), 0u);
}
