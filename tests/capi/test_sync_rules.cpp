// SPDX-License-Identifier: Apache-2.0
// The rules of the synchronization objects (include/lox/lox.h,
// "Synchronization"): every status of every call, bad input with its detail
// text, any-thread release, writer preference, FIFO hand-over, index range
// and held checks. Timeouts that leave no trace: test_sync_timeouts.cpp.
#include <lox/lox.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "test_util.hpp"

using namespace loxtest;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string detail() { return lox_last_error(); }

#define EXPECT_DETAIL(op)                                                        \
  do {                                                                           \
    std::string d_ = detail();                                                   \
    EXPECT_NE(d_.find(op), std::string::npos) << "detail was: \"" << d_ << "\""; \
  } while (0)

// Puts an unrelated detail in this thread's slot.
void prime() { ASSERT_EQ(lox_thread_call(nullptr, nullptr, nullptr), LOX_EINVAL); }

using Lock = Owned<lox_lock>;
using Ls = Owned<lox_lightswitch>;
using Rw = Owned<lox_rwlock>;
using Q = Owned<lox_qlock>;
using Sem = Owned<lox_index_semaphore>;

Lock make_lock() { return created<lox_lock>(lox_lock_create); }
Ls make_ls(lox_lock* l) { return created<lox_lightswitch>(lox_lightswitch_create, l); }
Rw make_rw() { return created<lox_rwlock>(lox_rwlock_create); }
Q make_q() { return created<lox_qlock>(lox_qlock_create); }
Sem make_sem(size_t n) { return created<lox_index_semaphore>(lox_index_semaphore_create, n); }

// ------------------------------------------------------------ bad input --

TEST(SyncBadInput, CreateWithNullOut) {
  prime();
  EXPECT_EQ(lox_lock_create(nullptr), LOX_EINVAL);
  EXPECT_DETAIL("lock create: out is NULL");
  prime();
  EXPECT_EQ(lox_rwlock_create(nullptr), LOX_EINVAL);
  EXPECT_DETAIL("rwlock create");
  prime();
  EXPECT_EQ(lox_qlock_create(nullptr), LOX_EINVAL);
  EXPECT_DETAIL("qlock create");
  prime();
  EXPECT_EQ(lox_index_semaphore_create(3, nullptr), LOX_EINVAL);
  EXPECT_DETAIL("index_semaphore create");
  Lock l = make_lock();
  prime();
  EXPECT_EQ(lox_lightswitch_create(l.get(), nullptr), LOX_EINVAL);
  EXPECT_DETAIL("lightswitch create: out");
  lox_lightswitch* ls = reinterpret_cast<lox_lightswitch*>(1);
  prime();
  EXPECT_EQ(lox_lightswitch_create(nullptr, &ls), LOX_EINVAL);
  EXPECT_DETAIL("lightswitch create: lock");
  EXPECT_EQ(ls, reinterpret_cast<lox_lightswitch*>(1)) << "an error changes nothing";
}

TEST(SyncBadInput, IndexSemaphoreOfZero) {
  lox_index_semaphore* s = reinterpret_cast<lox_index_semaphore*>(1);
  prime();
  EXPECT_EQ(lox_index_semaphore_create(0, &s), LOX_EINVAL);
  EXPECT_DETAIL("index_semaphore create: n is 0");
  EXPECT_EQ(s, reinterpret_cast<lox_index_semaphore*>(1));
}

TEST(SyncBadInput, NullHandles) {
  prime();
  EXPECT_EQ(lox_lock_acquire(nullptr, 0), LOX_EINVAL);
  EXPECT_DETAIL("lock acquire: lock is NULL");
  prime();
  EXPECT_EQ(lox_lock_release(nullptr), LOX_EINVAL);
  EXPECT_DETAIL("lock release");
  prime();
  EXPECT_EQ(lox_lock_locked(nullptr), LOX_EINVAL);
  EXPECT_DETAIL("lock locked");
  prime();
  EXPECT_EQ(lox_lightswitch_acquire(nullptr, 0), LOX_EINVAL);
  EXPECT_DETAIL("lightswitch acquire");
  prime();
  EXPECT_EQ(lox_lightswitch_release(nullptr), LOX_EINVAL);
  EXPECT_DETAIL("lightswitch release");
  prime();
  EXPECT_EQ(lox_lightswitch_count(nullptr), 0u);
  EXPECT_DETAIL("lightswitch count");
  prime();
  EXPECT_EQ(lox_rwlock_acquire(nullptr, LOX_READ, 0), LOX_EINVAL);
  EXPECT_DETAIL("rwlock acquire");
  prime();
  EXPECT_EQ(lox_rwlock_release(nullptr, LOX_WRITE), LOX_EINVAL);
  EXPECT_DETAIL("rwlock release");
  prime();
  EXPECT_EQ(lox_rwlock_readers(nullptr), 0u);
  EXPECT_DETAIL("rwlock readers");
  prime();
  EXPECT_EQ(lox_qlock_acquire(nullptr, 0), LOX_EINVAL);
  EXPECT_DETAIL("qlock acquire");
  prime();
  EXPECT_EQ(lox_qlock_release(nullptr), LOX_EINVAL);
  EXPECT_DETAIL("qlock release");
  prime();
  EXPECT_EQ(lox_qlock_waiting(nullptr), 0u);
  EXPECT_DETAIL("qlock waiting");
  prime();
  EXPECT_EQ(lox_qlock_locked(nullptr), LOX_EINVAL);
  EXPECT_DETAIL("qlock locked");
  size_t i = 0;
  prime();
  EXPECT_EQ(lox_index_semaphore_acquire(nullptr, 0, &i), LOX_EINVAL);
  EXPECT_DETAIL("index_semaphore acquire");
  prime();
  EXPECT_EQ(lox_index_semaphore_release(nullptr, 0), LOX_EINVAL);
  EXPECT_DETAIL("index_semaphore release");
  prime();
  EXPECT_EQ(lox_index_semaphore_available(nullptr), 0u);
  EXPECT_DETAIL("index_semaphore available");
  prime();
  EXPECT_EQ(lox_index_semaphore_waiting(nullptr), 0u);
  EXPECT_DETAIL("index_semaphore waiting");
  // Destroying NULL is a no-op.
  lox_lock_destroy(nullptr);
  lox_lightswitch_destroy(nullptr);
  lox_rwlock_destroy(nullptr);
  lox_qlock_destroy(nullptr);
  lox_index_semaphore_destroy(nullptr);
}

TEST(SyncBadInput, NaNTimeoutChangesNothing) {
  Lock l = make_lock();
  prime();
  EXPECT_EQ(lox_lock_acquire(l.get(), kNaN), LOX_EINVAL);
  EXPECT_DETAIL("lock acquire: timeout is NaN");
  EXPECT_EQ(lox_lock_locked(l.get()), 0);
  Ls ls = make_ls(l.get());
  prime();
  EXPECT_EQ(lox_lightswitch_acquire(ls.get(), kNaN), LOX_EINVAL);
  EXPECT_DETAIL("lightswitch acquire: timeout is NaN");
  EXPECT_EQ(lox_lightswitch_count(ls.get()), 0u);
  Rw rw = make_rw();
  prime();
  EXPECT_EQ(lox_rwlock_acquire(rw.get(), LOX_READ, kNaN), LOX_EINVAL);
  EXPECT_DETAIL("rwlock acquire: timeout is NaN");
  prime();
  EXPECT_EQ(lox_rwlock_acquire(rw.get(), LOX_WRITE, kNaN), LOX_EINVAL);
  EXPECT_DETAIL("rwlock acquire: timeout is NaN");
  EXPECT_EQ(lox_rwlock_readers(rw.get()), 0u);
  EXPECT_EQ(lox_rwlock_acquire(rw.get(), LOX_WRITE, 0), LOX_OK) << "NaN left nothing behind";
  Q q = make_q();
  prime();
  EXPECT_EQ(lox_qlock_acquire(q.get(), kNaN), LOX_EINVAL);
  EXPECT_DETAIL("qlock acquire: timeout is NaN");
  EXPECT_EQ(lox_qlock_locked(q.get()), 0);
  Sem s = make_sem(2);
  size_t i = 77;
  prime();
  EXPECT_EQ(lox_index_semaphore_acquire(s.get(), kNaN, &i), LOX_EINVAL);
  EXPECT_DETAIL("index_semaphore acquire: timeout is NaN");
  EXPECT_EQ(i, 77u);
  EXPECT_EQ(lox_index_semaphore_available(s.get()), 2u);
  prime();
  EXPECT_EQ(lox_index_semaphore_acquire(s.get(), 0, nullptr), LOX_EINVAL);
  EXPECT_DETAIL("index_semaphore acquire: index is NULL");
  EXPECT_EQ(lox_index_semaphore_available(s.get()), 2u);
}

TEST(SyncBadInput, RwlockBadMode) {
  Rw rw = make_rw();
  for (int mode : {0, int{'R'}, int{'W'}, int{'x'}, -1, 'r' + 256}) {
    prime();
    EXPECT_EQ(lox_rwlock_acquire(rw.get(), mode, 0), LOX_EINVAL);
    EXPECT_DETAIL("rwlock acquire: mode");
    prime();
    EXPECT_EQ(lox_rwlock_release(rw.get(), mode), LOX_EINVAL);
    EXPECT_DETAIL("rwlock release: mode");
  }
  EXPECT_EQ(lox_rwlock_readers(rw.get()), 0u);
  EXPECT_EQ(LOX_READ, 'r');
  EXPECT_EQ(LOX_WRITE, 'w');
}

// ------------------------------------------------------------------ lock --

TEST(SyncLock, AcquireReleaseLocked) {
  Lock l = make_lock();
  EXPECT_EQ(lox_lock_locked(l.get()), 0);
  EXPECT_EQ(lox_lock_acquire(l.get(), LOX_FOREVER), LOX_OK);
  EXPECT_EQ(lox_lock_locked(l.get()), 1);
  EXPECT_EQ(lox_lock_acquire(l.get(), 0), LOX_TIMEOUT);
  EXPECT_EQ(lox_lock_acquire(l.get(), 0.02), LOX_TIMEOUT);
  EXPECT_EQ(lox_lock_release(l.get()), LOX_OK);
  EXPECT_EQ(lox_lock_locked(l.get()), 0);
  prime();
  EXPECT_EQ(lox_lock_release(l.get()), LOX_ESTATE);
  EXPECT_DETAIL("lock release: not locked");
  EXPECT_EQ(lox_lock_locked(l.get()), 0);
  EXPECT_EQ(lox_lock_acquire(l.get(), 0), LOX_OK);
  EXPECT_EQ(lox_lock_release(l.get()), LOX_OK);
}

TEST(SyncLock, TimeoutWaitsRoughlyThatLong) {
  Lock l = make_lock();
  ASSERT_EQ(lox_lock_acquire(l.get(), 0), LOX_OK);
  auto t0 = Clock::now();
  EXPECT_EQ(lox_lock_acquire(l.get(), 0.05), LOX_TIMEOUT);
  auto took = Clock::now() - t0;
  EXPECT_GE(took, 45ms);
  EXPECT_LT(took, 10s);
  EXPECT_EQ(lox_lock_locked(l.get()), 1);
}

// Waiters that time out pass a wake-up on, so a long waiter is woken many
// times for nothing: it must absorb those wake-ups and still time out once,
// at its own deadline (computed once, on the monotonic clock).
TEST(SyncLock, SpuriousWakeUpsDoNotStretchOrCutTheTimeout) {
  Lock l = make_lock();
  ASSERT_EQ(lox_lock_acquire(l.get(), 0), LOX_OK);
  std::atomic<bool> stop{false};
  std::thread noise([&] {
    while (!stop.load()) EXPECT_EQ(lox_lock_acquire(l.get(), 0.0005), LOX_TIMEOUT);
  });
  auto t0 = Clock::now();
  EXPECT_EQ(lox_lock_acquire(l.get(), 0.2), LOX_TIMEOUT);
  auto took = Clock::now() - t0;
  stop = true;
  noise.join();
  EXPECT_GE(took, 195ms);
  EXPECT_LT(took, 10s);
  EXPECT_EQ(lox_lock_release(l.get()), LOX_OK);
  EXPECT_EQ(lox_lock_locked(l.get()), 0);
}

TEST(SyncLock, AnyThreadMayRelease) {
  Lock l = make_lock();
  ASSERT_EQ(lox_lock_acquire(l.get(), 0), LOX_OK);
  std::thread t([&] { EXPECT_EQ(lox_lock_release(l.get()), LOX_OK); });
  t.join();
  EXPECT_EQ(lox_lock_locked(l.get()), 0);
}

TEST(SyncLock, BlockedAcquirerGetsItOnRelease) {
  Lock l = make_lock();
  ASSERT_EQ(lox_lock_acquire(l.get(), 0), LOX_OK);
  std::atomic<int> rc{99};
  std::thread t([&] { rc = lox_lock_acquire(l.get(), LOX_FOREVER); });
  std::this_thread::sleep_for(20ms);  // let it block (not required for correctness)
  EXPECT_EQ(rc.load(), 99);
  EXPECT_EQ(lox_lock_release(l.get()), LOX_OK);
  t.join();
  EXPECT_EQ(rc.load(), LOX_OK);
  EXPECT_EQ(lox_lock_locked(l.get()), 1);
  EXPECT_EQ(lox_lock_release(l.get()), LOX_OK);
}

TEST(SyncLock, MutualExclusionWithManyThreads) {
  Lock l = make_lock();
  long counter = 0;
  std::vector<std::thread> ts;
  for (int k = 0; k < 4; ++k)
    ts.emplace_back([&] {
      for (int i = 0; i < 20000; ++i) {
        ASSERT_EQ(lox_lock_acquire(l.get(), LOX_FOREVER), LOX_OK);
        ++counter;
        ASSERT_EQ(lox_lock_release(l.get()), LOX_OK);
      }
    });
  for (auto& t : ts) t.join();
  EXPECT_EQ(counter, 80000);
}

// ----------------------------------------------------------- lightswitch --

TEST(SyncLightSwitch, FirstInLocksLastOutUnlocks) {
  Lock l = make_lock();
  Ls ls = make_ls(l.get());
  EXPECT_EQ(lox_lightswitch_count(ls.get()), 0u);
  EXPECT_EQ(lox_lightswitch_acquire(ls.get(), 0), LOX_OK);
  EXPECT_EQ(lox_lock_locked(l.get()), 1);
  EXPECT_EQ(lox_lightswitch_acquire(ls.get(), 0), LOX_OK);
  EXPECT_EQ(lox_lightswitch_acquire(ls.get(), LOX_FOREVER), LOX_OK);
  EXPECT_EQ(lox_lightswitch_count(ls.get()), 3u);
  EXPECT_EQ(lox_lightswitch_release(ls.get()), LOX_OK);
  EXPECT_EQ(lox_lightswitch_release(ls.get()), LOX_OK);
  EXPECT_EQ(lox_lock_locked(l.get()), 1);
  // The last one out may be another thread.
  std::thread t([&] { EXPECT_EQ(lox_lightswitch_release(ls.get()), LOX_OK); });
  t.join();
  EXPECT_EQ(lox_lightswitch_count(ls.get()), 0u);
  EXPECT_EQ(lox_lock_locked(l.get()), 0);
  prime();
  EXPECT_EQ(lox_lightswitch_release(ls.get()), LOX_ESTATE);
  EXPECT_DETAIL("lightswitch release: count is 0");
  EXPECT_EQ(lox_lightswitch_count(ls.get()), 0u);
  EXPECT_EQ(lox_lock_locked(l.get()), 0);
}

TEST(SyncLightSwitch, EntrantsWaitBehindAFirstEntrantThatWaits) {
  Lock l = make_lock();
  Ls ls = make_ls(l.get());
  ASSERT_EQ(lox_lock_acquire(l.get(), 0), LOX_OK);
  Counter in;
  std::vector<std::thread> ts;
  for (int i = 0; i < 3; ++i)
    ts.emplace_back([&] {
      EXPECT_EQ(lox_lightswitch_acquire(ls.get(), LOX_FOREVER), LOX_OK);
      in.add();
    });
  std::this_thread::sleep_for(30ms);
  EXPECT_EQ(in.get(), 0) << "nobody enters before the lights are on";
  EXPECT_EQ(lox_lightswitch_count(ls.get()), 0u);
  ASSERT_EQ(lox_lock_release(l.get()), LOX_OK);
  EXPECT_TRUE(in.wait_at_least(3));
  for (auto& t : ts) t.join();
  EXPECT_EQ(lox_lightswitch_count(ls.get()), 3u);
  EXPECT_EQ(lox_lock_locked(l.get()), 1);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(lox_lightswitch_release(ls.get()), LOX_OK);
  EXPECT_EQ(lox_lock_locked(l.get()), 0);
}

TEST(SyncLightSwitch, ReleaseAfterLockWasReleasedBehindItsBack) {
  QuietLog quiet;
  Lock l = make_lock();
  Ls ls = make_ls(l.get());
  ASSERT_EQ(lox_lightswitch_acquire(ls.get(), 0), LOX_OK);
  ASSERT_EQ(lox_lock_release(l.get()), LOX_OK);  // misuse
  prime();
  EXPECT_EQ(lox_lightswitch_release(ls.get()), LOX_ESTATE);
  EXPECT_DETAIL("lightswitch release");
  EXPECT_EQ(lox_lightswitch_count(ls.get()), 0u);
}

// ---------------------------------------------------------------- rwlock --

// True when a new reader cannot get in now (a reader that does get in
// leaves again at once).
bool reader_blocked(lox_rwlock* rw) {
  int rc = lox_rwlock_acquire(rw, LOX_READ, 0);
  if (rc == LOX_OK) EXPECT_EQ(lox_rwlock_release(rw, LOX_READ), LOX_OK);
  return rc == LOX_TIMEOUT;
}

TEST(SyncRWLock, ManyReadersOrOneWriter) {
  Rw rw = make_rw();
  EXPECT_EQ(lox_rwlock_acquire(rw.get(), LOX_READ, 0), LOX_OK);
  EXPECT_EQ(lox_rwlock_acquire(rw.get(), LOX_READ, 0), LOX_OK);
  EXPECT_EQ(lox_rwlock_readers(rw.get()), 2u);
  EXPECT_EQ(lox_rwlock_acquire(rw.get(), LOX_WRITE, 0), LOX_TIMEOUT);
  EXPECT_EQ(lox_rwlock_acquire(rw.get(), LOX_WRITE, 0.02), LOX_TIMEOUT);
  // The writer that gave up leaves no trace: readers still get in.
  EXPECT_EQ(lox_rwlock_acquire(rw.get(), LOX_READ, 0), LOX_OK);
  EXPECT_EQ(lox_rwlock_readers(rw.get()), 3u);
  prime();
  EXPECT_EQ(lox_rwlock_release(rw.get(), LOX_WRITE), LOX_ESTATE);
  EXPECT_DETAIL("rwlock release: mode 'w' not held");
  for (int i = 0; i < 3; ++i) EXPECT_EQ(lox_rwlock_release(rw.get(), LOX_READ), LOX_OK);
  EXPECT_EQ(lox_rwlock_readers(rw.get()), 0u);
  prime();
  EXPECT_EQ(lox_rwlock_release(rw.get(), LOX_READ), LOX_ESTATE);
  EXPECT_DETAIL("rwlock release: mode 'r' not held");
  EXPECT_EQ(lox_rwlock_acquire(rw.get(), LOX_WRITE, 0), LOX_OK);
  EXPECT_EQ(lox_rwlock_acquire(rw.get(), LOX_WRITE, 0), LOX_TIMEOUT);
  EXPECT_EQ(lox_rwlock_acquire(rw.get(), LOX_READ, 0), LOX_TIMEOUT);
  EXPECT_EQ(lox_rwlock_acquire(rw.get(), LOX_READ, 0.02), LOX_TIMEOUT);
  EXPECT_EQ(lox_rwlock_readers(rw.get()), 0u);
  prime();
  EXPECT_EQ(lox_rwlock_release(rw.get(), LOX_READ), LOX_ESTATE);
  EXPECT_DETAIL("rwlock release: mode 'r' not held");
  EXPECT_EQ(lox_rwlock_release(rw.get(), LOX_WRITE), LOX_OK);
  EXPECT_EQ(lox_rwlock_release(rw.get(), LOX_WRITE), LOX_ESTATE);
  EXPECT_EQ(lox_rwlock_acquire(rw.get(), LOX_READ, 0), LOX_OK);
  EXPECT_EQ(lox_rwlock_release(rw.get(), LOX_READ), LOX_OK);
}

TEST(SyncRWLock, WaitingWriterBlocksNewReaders) {
  Rw rw = make_rw();
  ASSERT_EQ(lox_rwlock_acquire(rw.get(), LOX_READ, 0), LOX_OK);
  std::atomic<bool> writer_in{false};
  std::thread w([&] {
    EXPECT_EQ(lox_rwlock_acquire(rw.get(), LOX_WRITE, LOX_FOREVER), LOX_OK);
    writer_in = true;
    EXPECT_EQ(lox_rwlock_readers(rw.get()), 0u);
    EXPECT_EQ(lox_rwlock_release(rw.get(), LOX_WRITE), LOX_OK);
  });
  // Once the writer waits, a new reader cannot get in.
  ASSERT_TRUE(eventually([&] { return reader_blocked(rw.get()); }));
  EXPECT_FALSE(writer_in.load());
  std::atomic<bool> reader_in{false};
  std::thread r([&] {
    EXPECT_EQ(lox_rwlock_acquire(rw.get(), LOX_READ, LOX_FOREVER), LOX_OK);
    EXPECT_TRUE(writer_in.load()) << "the reader that came after the writer got in before it";
    reader_in = true;
    EXPECT_EQ(lox_rwlock_release(rw.get(), LOX_READ), LOX_OK);
  });
  std::this_thread::sleep_for(20ms);
  EXPECT_FALSE(reader_in.load());
  EXPECT_EQ(lox_rwlock_release(rw.get(), LOX_READ), LOX_OK);  // the last reader out
  w.join();
  r.join();
  EXPECT_TRUE(reader_in.load());
  EXPECT_EQ(lox_rwlock_readers(rw.get()), 0u);
}

TEST(SyncRWLock, WriterThatTimesOutLetsBlockedReadersIn) {
  Rw rw = make_rw();
  ASSERT_EQ(lox_rwlock_acquire(rw.get(), LOX_READ, 0), LOX_OK);
  Gate writer_gave_up;
  std::thread w([&] {
    EXPECT_EQ(lox_rwlock_acquire(rw.get(), LOX_WRITE, 0.3), LOX_TIMEOUT);
    writer_gave_up.open();
  });
  ASSERT_TRUE(eventually([&] { return reader_blocked(rw.get()); }));
  std::atomic<int> rc{99};
  std::thread r([&] { rc = lox_rwlock_acquire(rw.get(), LOX_READ, LOX_FOREVER); });
  ASSERT_TRUE(writer_gave_up.wait());
  r.join();  // let in although the first reader still holds the lock
  EXPECT_EQ(rc.load(), LOX_OK);
  w.join();
  EXPECT_EQ(lox_rwlock_readers(rw.get()), 2u);
  EXPECT_EQ(lox_rwlock_release(rw.get(), LOX_READ), LOX_OK);
  EXPECT_EQ(lox_rwlock_release(rw.get(), LOX_READ), LOX_OK);
  EXPECT_EQ(lox_rwlock_acquire(rw.get(), LOX_WRITE, 0), LOX_OK);
  EXPECT_EQ(lox_rwlock_release(rw.get(), LOX_WRITE), LOX_OK);
}

TEST(SyncRWLock, WriterReleasedByAnotherThreadWakesReaders) {
  Rw rw = make_rw();
  ASSERT_EQ(lox_rwlock_acquire(rw.get(), LOX_WRITE, 0), LOX_OK);
  Counter in;
  std::vector<std::thread> ts;
  for (int i = 0; i < 3; ++i)
    ts.emplace_back([&] {
      EXPECT_EQ(lox_rwlock_acquire(rw.get(), LOX_READ, LOX_FOREVER), LOX_OK);
      in.add();
    });
  std::thread([&] { EXPECT_EQ(lox_rwlock_release(rw.get(), LOX_WRITE), LOX_OK); }).join();
  EXPECT_TRUE(in.wait_at_least(3));
  for (auto& t : ts) t.join();
  EXPECT_EQ(lox_rwlock_readers(rw.get()), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(lox_rwlock_release(rw.get(), LOX_READ), LOX_OK);
}

// ----------------------------------------------------------------- qlock --

TEST(SyncQLock, AcquireReleaseLockedWaiting) {
  Q q = make_q();
  EXPECT_EQ(lox_qlock_locked(q.get()), 0);
  EXPECT_EQ(lox_qlock_waiting(q.get()), 0u);
  EXPECT_EQ(lox_qlock_acquire(q.get(), LOX_FOREVER), LOX_OK);
  EXPECT_EQ(lox_qlock_locked(q.get()), 1);
  EXPECT_EQ(lox_qlock_acquire(q.get(), 0), LOX_TIMEOUT);
  EXPECT_EQ(lox_qlock_acquire(q.get(), 0.02), LOX_TIMEOUT);
  EXPECT_EQ(lox_qlock_waiting(q.get()), 0u) << "a timed-out waiter left the line";
  std::thread t([&] { EXPECT_EQ(lox_qlock_release(q.get()), LOX_OK); });  // any thread
  t.join();
  EXPECT_EQ(lox_qlock_locked(q.get()), 0);
  prime();
  EXPECT_EQ(lox_qlock_release(q.get()), LOX_ESTATE);
  EXPECT_DETAIL("qlock release: not locked");
  EXPECT_EQ(lox_qlock_locked(q.get()), 0);
}

// Starts `fn` in a thread and returns once it is counted in the line.
template <typename Fn>
std::thread join_line(lox_qlock* q, size_t expect_waiting, Fn fn) {
  std::thread t(fn);
  EXPECT_TRUE(eventually([&] { return lox_qlock_waiting(q) >= expect_waiting; }));
  return t;
}

TEST(SyncQLock, TimedOutWaiterLeavesTheLineWithoutDisturbingIt) {
  Q q = make_q();
  ASSERT_EQ(lox_qlock_acquire(q.get(), 0), LOX_OK);
  std::mutex mu;
  std::vector<int> order;
  auto waiter = [&](int id) {
    return [&, id] {
      EXPECT_EQ(lox_qlock_acquire(q.get(), LOX_FOREVER), LOX_OK);
      {
        std::lock_guard lk(mu);
        order.push_back(id);
      }
      EXPECT_EQ(lox_qlock_release(q.get()), LOX_OK);
    };
  };
  Gate quitter_done;
  std::thread a = join_line(q.get(), 1, waiter(1));
  std::thread quitter = join_line(q.get(), 2, [&] {
    EXPECT_EQ(lox_qlock_acquire(q.get(), 0.2), LOX_TIMEOUT);
    quitter_done.open();
  });
  std::thread b = join_line(q.get(), 3, waiter(2));
  std::thread c = join_line(q.get(), 4, waiter(3));
  ASSERT_TRUE(quitter_done.wait());
  quitter.join();
  EXPECT_EQ(lox_qlock_waiting(q.get()), 3u);
  EXPECT_EQ(lox_qlock_release(q.get()), LOX_OK);
  a.join();
  b.join();
  c.join();
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(lox_qlock_locked(q.get()), 0);
  EXPECT_EQ(lox_qlock_waiting(q.get()), 0u);
}

TEST(SyncQLock, HeadOfLineTimesOut) {
  Q q = make_q();
  ASSERT_EQ(lox_qlock_acquire(q.get(), 0), LOX_OK);
  Gate quitter_done;
  std::thread quitter = join_line(q.get(), 1, [&] {
    EXPECT_EQ(lox_qlock_acquire(q.get(), 0.1), LOX_TIMEOUT);
    quitter_done.open();
  });
  std::atomic<int> rc{99};
  std::thread b = join_line(q.get(), 2, [&] { rc = lox_qlock_acquire(q.get(), LOX_FOREVER); });
  ASSERT_TRUE(quitter_done.wait());
  quitter.join();
  EXPECT_EQ(rc.load(), 99);
  EXPECT_EQ(lox_qlock_release(q.get()), LOX_OK);
  b.join();
  EXPECT_EQ(rc.load(), LOX_OK);
  EXPECT_EQ(lox_qlock_locked(q.get()), 1);
  EXPECT_EQ(lox_qlock_release(q.get()), LOX_OK);
}

TEST(SyncQLock, NoBargingWhileSomebodyWaits) {
  Q q = make_q();
  ASSERT_EQ(lox_qlock_acquire(q.get(), 0), LOX_OK);
  std::atomic<int> rc{99};
  Gate may_release;
  std::thread w = join_line(q.get(), 1, [&] {
    rc = lox_qlock_acquire(q.get(), LOX_FOREVER);
    EXPECT_TRUE(may_release.wait());
    EXPECT_EQ(lox_qlock_release(q.get()), LOX_OK);
  });
  EXPECT_EQ(lox_qlock_release(q.get()), LOX_OK);
  // Handed over: the lock never became free for a newcomer.
  EXPECT_EQ(lox_qlock_acquire(q.get(), 0), LOX_TIMEOUT);
  EXPECT_EQ(lox_qlock_locked(q.get()), 1);
  may_release.open();
  w.join();
  EXPECT_EQ(rc.load(), LOX_OK);
  EXPECT_EQ(lox_qlock_locked(q.get()), 0);
}

// ------------------------------------------------------- index semaphore --

TEST(SyncIndexSemaphore, HandsOutEveryIndexOnce) {
  for (size_t n : {1u, 3u, 64u, 65u, 130u}) {
    Sem s = make_sem(n);
    EXPECT_EQ(lox_index_semaphore_available(s.get()), n);
    std::vector<bool> seen(n, false);
    for (size_t k = 0; k < n; ++k) {
      size_t i = 12345;
      ASSERT_EQ(lox_index_semaphore_acquire(s.get(), 0, &i), LOX_OK);
      ASSERT_LT(i, n);
      EXPECT_FALSE(seen[i]);
      seen[i] = true;
    }
    EXPECT_EQ(lox_index_semaphore_available(s.get()), 0u);
    size_t i = 999;
    EXPECT_EQ(lox_index_semaphore_acquire(s.get(), 0, &i), LOX_TIMEOUT);
    EXPECT_EQ(i, 999u) << "index untouched on timeout";
    EXPECT_EQ(lox_index_semaphore_acquire(s.get(), 0.01, &i), LOX_TIMEOUT);
    EXPECT_EQ(lox_index_semaphore_waiting(s.get()), 0u);
    ASSERT_EQ(lox_index_semaphore_release(s.get(), n - 1), LOX_OK);
    EXPECT_EQ(lox_index_semaphore_available(s.get()), 1u);
    ASSERT_EQ(lox_index_semaphore_acquire(s.get(), 0, &i), LOX_OK);
    EXPECT_EQ(i, n - 1);
    for (size_t k = 0; k < n; ++k) ASSERT_EQ(lox_index_semaphore_release(s.get(), k), LOX_OK);
    EXPECT_EQ(lox_index_semaphore_available(s.get()), n);
  }
}

TEST(SyncIndexSemaphore, LowestFreeIndexFirst) {
  Sem s = make_sem(4);
  size_t i = 9;
  ASSERT_EQ(lox_index_semaphore_acquire(s.get(), LOX_FOREVER, &i), LOX_OK);
  EXPECT_EQ(i, 0u);
  ASSERT_EQ(lox_index_semaphore_acquire(s.get(), LOX_FOREVER, &i), LOX_OK);
  EXPECT_EQ(i, 1u);
  ASSERT_EQ(lox_index_semaphore_release(s.get(), 0), LOX_OK);
  ASSERT_EQ(lox_index_semaphore_acquire(s.get(), LOX_FOREVER, &i), LOX_OK);
  EXPECT_EQ(i, 0u);
}

TEST(SyncIndexSemaphore, ReleaseChecksRangeAndHeld) {
  Sem s = make_sem(3);
  prime();
  EXPECT_EQ(lox_index_semaphore_release(s.get(), 3), LOX_EINVAL);
  EXPECT_DETAIL("index_semaphore release: index 3 out of range [0, 3)");
  prime();
  EXPECT_EQ(lox_index_semaphore_release(s.get(), static_cast<size_t>(-1)), LOX_EINVAL);
  EXPECT_DETAIL("index_semaphore release");
  prime();
  EXPECT_EQ(lox_index_semaphore_release(s.get(), 1), LOX_ESTATE);
  EXPECT_DETAIL("index_semaphore release: index 1 is not held");
  EXPECT_EQ(lox_index_semaphore_available(s.get()), 3u);
  size_t i = 0;
  ASSERT_EQ(lox_index_semaphore_acquire(s.get(), 0, &i), LOX_OK);
  EXPECT_EQ(lox_index_semaphore_release(s.get(), i), LOX_OK);
  prime();
  EXPECT_EQ(lox_index_semaphore_release(s.get(), i), LOX_ESTATE) << "double release";
  EXPECT_DETAIL("not held");
  EXPECT_EQ(lox_index_semaphore_available(s.get()), 3u);
}

TEST(SyncIndexSemaphore, BlockedAcquirerGetsTheReleasedIndex) {
  Sem s = make_sem(1);
  size_t i = 0;
  ASSERT_EQ(lox_index_semaphore_acquire(s.get(), 0, &i), LOX_OK);
  std::atomic<int> rc{99};
  size_t got = 77;
  std::thread t([&] { rc = lox_index_semaphore_acquire(s.get(), LOX_FOREVER, &got); });
  ASSERT_TRUE(eventually([&] { return lox_index_semaphore_waiting(s.get()) == 1; }));
  EXPECT_EQ(rc.load(), 99);
  std::thread([&] { EXPECT_EQ(lox_index_semaphore_release(s.get(), 0), LOX_OK); }).join();
  t.join();
  EXPECT_EQ(rc.load(), LOX_OK);
  EXPECT_EQ(got, 0u);
  EXPECT_EQ(lox_index_semaphore_waiting(s.get()), 0u);
  EXPECT_EQ(lox_index_semaphore_available(s.get()), 0u);
  EXPECT_EQ(lox_index_semaphore_release(s.get(), 0), LOX_OK);
}

}  // namespace
