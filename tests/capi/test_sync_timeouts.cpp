// SPDX-License-Identifier: Apache-2.0
// A timed-out acquire leaves no trace (lox.h, "Synchronization"), for every
// lock type of the C API: one typed test over the lock, the light switch,
// the rwlock (a reader behind a writer, a writer behind a writer, a writer
// behind readers), the qlock and the index semaphore. Each attempt on an
// object held by somebody else returns LOX_TIMEOUT: at once for timeout 0,
// after about the timeout otherwise, also for two threads waiting at once;
// afterwards the object is exactly as the holder left it (no count, no
// waiter, no writer preference kept), and once the holder lets go the same
// attempt succeeds and its release leaves the object free.
#include <lox/lox.h>

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <type_traits>

#include "test_util.hpp"
#include "timed_call.hpp"
#include "type_names.hpp"

using namespace loxtest;

namespace {

// Each type: block() makes the holder take the object, acquire(t) and
// release() are the attempt, unblock() lets the holder go; expect_blocked()
// checks the object is as the holder left it, expect_taken() that the
// attempt holds it, expect_free() that nobody does.

struct LockType {
  static constexpr const char* kName = "Lock";
  Owned<lox_lock> l = created<lox_lock>(lox_lock_create);
  void block() { ASSERT_EQ(lox_lock_acquire(l.get(), 0), LOX_OK); }
  void unblock() { ASSERT_EQ(lox_lock_release(l.get()), LOX_OK); }
  int acquire(double t) { return lox_lock_acquire(l.get(), t); }
  void release() { EXPECT_EQ(lox_lock_release(l.get()), LOX_OK); }
  void expect_blocked() { EXPECT_EQ(lox_lock_locked(l.get()), 1); }
  void expect_taken() { EXPECT_EQ(lox_lock_locked(l.get()), 1); }
  void expect_free() { EXPECT_EQ(lox_lock_locked(l.get()), 0); }
};

// The janitor (the underlying lock's holder) is in: entrants wait.
struct LightSwitchType {
  static constexpr const char* kName = "LightSwitch";
  Owned<lox_lock> room = created<lox_lock>(lox_lock_create);
  Owned<lox_lightswitch> ls = created<lox_lightswitch>(lox_lightswitch_create, room.get());
  void block() { ASSERT_EQ(lox_lock_acquire(room.get(), 0), LOX_OK); }
  void unblock() { ASSERT_EQ(lox_lock_release(room.get()), LOX_OK); }
  int acquire(double t) { return lox_lightswitch_acquire(ls.get(), t); }
  void release() { EXPECT_EQ(lox_lightswitch_release(ls.get()), LOX_OK); }
  void expect_blocked() {
    EXPECT_EQ(lox_lightswitch_count(ls.get()), 0u);
    EXPECT_EQ(lox_lock_locked(room.get()), 1);
  }
  void expect_taken() {
    EXPECT_EQ(lox_lightswitch_count(ls.get()), 1u);
    EXPECT_EQ(lox_lock_locked(room.get()), 1);
  }
  void expect_free() {
    EXPECT_EQ(lox_lightswitch_count(ls.get()), 0u);
    EXPECT_EQ(lox_lock_locked(room.get()), 0);
  }
};

// HolderMode holds the rwlock; Mode is the attempt's.
template <int HolderMode, int Mode>
struct RwType {
  static constexpr const char* kName = HolderMode == LOX_READ ? "RWLockWriteBehindReader"
                                       : Mode == LOX_READ     ? "RWLockReadBehindWriter"
                                                              : "RWLockWriteBehindWriter";
  Owned<lox_rwlock> rw = created<lox_rwlock>(lox_rwlock_create);
  void block() { ASSERT_EQ(lox_rwlock_acquire(rw.get(), HolderMode, 0), LOX_OK); }
  void unblock() { ASSERT_EQ(lox_rwlock_release(rw.get(), HolderMode), LOX_OK); }
  int acquire(double t) { return lox_rwlock_acquire(rw.get(), Mode, t); }
  void release() { EXPECT_EQ(lox_rwlock_release(rw.get(), Mode), LOX_OK); }
  void expect_blocked() {
    const size_t holders = HolderMode == LOX_READ ? 1 : 0;
    EXPECT_EQ(lox_rwlock_readers(rw.get()), holders);
    if (HolderMode == LOX_READ) {
      // A writer that gave up keeps no preference: new readers still get in.
      EXPECT_EQ(lox_rwlock_acquire(rw.get(), LOX_READ, 0), LOX_OK);
      EXPECT_EQ(lox_rwlock_readers(rw.get()), 2u);
      EXPECT_EQ(lox_rwlock_release(rw.get(), LOX_READ), LOX_OK);
    }
  }
  void expect_taken() {
    EXPECT_EQ(lox_rwlock_readers(rw.get()), Mode == LOX_READ ? 1u : 0u);
    EXPECT_EQ(lox_rwlock_acquire(rw.get(), LOX_WRITE, 0), LOX_TIMEOUT);
  }
  void expect_free() {
    EXPECT_EQ(lox_rwlock_readers(rw.get()), 0u);
    EXPECT_EQ(lox_rwlock_acquire(rw.get(), LOX_WRITE, 0), LOX_OK);
    EXPECT_EQ(lox_rwlock_release(rw.get(), LOX_WRITE), LOX_OK);
  }
};
using ReadBehindWriter = RwType<LOX_WRITE, LOX_READ>;
using WriteBehindWriter = RwType<LOX_WRITE, LOX_WRITE>;
using WriteBehindReader = RwType<LOX_READ, LOX_WRITE>;

struct QLockType {
  static constexpr const char* kName = "QLock";
  Owned<lox_qlock> q = created<lox_qlock>(lox_qlock_create);
  void block() { ASSERT_EQ(lox_qlock_acquire(q.get(), 0), LOX_OK); }
  void unblock() { ASSERT_EQ(lox_qlock_release(q.get()), LOX_OK); }
  int acquire(double t) { return lox_qlock_acquire(q.get(), t); }
  void release() { EXPECT_EQ(lox_qlock_release(q.get()), LOX_OK); }
  void expect_blocked() {
    EXPECT_EQ(lox_qlock_waiting(q.get()), 0u) << "a timed-out waiter left the line";
    EXPECT_EQ(lox_qlock_locked(q.get()), 1);
  }
  void expect_taken() {
    EXPECT_EQ(lox_qlock_waiting(q.get()), 0u);
    EXPECT_EQ(lox_qlock_locked(q.get()), 1);
  }
  void expect_free() {
    EXPECT_EQ(lox_qlock_waiting(q.get()), 0u);
    EXPECT_EQ(lox_qlock_locked(q.get()), 0);
  }
};

// One index, held: an acquirer waits. A timed-out acquire leaves its index
// output untouched.
struct IndexSemaphoreType {
  static constexpr const char* kName = "IndexSemaphore";
  Owned<lox_index_semaphore> s = created<lox_index_semaphore>(lox_index_semaphore_create, size_t{1});
  size_t held = 0;
  size_t taken = 0;
  void block() {
    ASSERT_EQ(lox_index_semaphore_acquire(s.get(), 0, &held), LOX_OK);
    ASSERT_EQ(held, 0u);
  }
  void unblock() { ASSERT_EQ(lox_index_semaphore_release(s.get(), held), LOX_OK); }
  int acquire(double t) {
    size_t i = 77;
    const int rc = lox_index_semaphore_acquire(s.get(), t, &i);
    if (rc == LOX_OK)
      taken = i;
    else
      EXPECT_EQ(i, 77u) << "a failed acquire wrote the index";
    return rc;
  }
  void release() { EXPECT_EQ(lox_index_semaphore_release(s.get(), taken), LOX_OK); }
  void expect_blocked() {
    EXPECT_EQ(lox_index_semaphore_waiting(s.get()), 0u);
    EXPECT_EQ(lox_index_semaphore_available(s.get()), 0u);
  }
  void expect_taken() {
    EXPECT_EQ(taken, 0u);
    EXPECT_EQ(lox_index_semaphore_available(s.get()), 0u);
  }
  void expect_free() {
    EXPECT_EQ(lox_index_semaphore_waiting(s.get()), 0u);
    EXPECT_EQ(lox_index_semaphore_available(s.get()), 1u);
  }
};

template <typename T>
class SyncTimeout : public ::testing::Test {
 protected:
  T obj;
};

using LockTypes = ::testing::Types<LockType, LightSwitchType, ReadBehindWriter, WriteBehindWriter, WriteBehindReader,
                                   QLockType, IndexSemaphoreType>;

TYPED_TEST_SUITE(SyncTimeout, LockTypes, TypeNames);

// After the timed-out attempts: the object is as the holder left it; once
// the holder lets go, one attempt takes it, and its release frees it.
template <typename T>
void untouched_then_free(T& o) {
  o.expect_blocked();
  o.unblock();
  EXPECT_EQ(o.acquire(0), LOX_OK);
  o.expect_taken();
  o.release();
  o.expect_free();
}

// Timeout 0 is one attempt: LOX_TIMEOUT at once, nothing changed.
TYPED_TEST(SyncTimeout, ZeroTimeoutLeavesNoTrace) {
  auto& o = this->obj;
  o.block();
  EXPECT_EQ(o.acquire(0), LOX_TIMEOUT);
  untouched_then_free(o);
}

// A timed attempt waits about its timeout (at least, and not very much
// longer), then leaves as if it had never come.
TYPED_TEST(SyncTimeout, TimedAttemptWaitsItsTimeoutAndLeavesNoTrace) {
  auto& o = this->obj;
  o.block();
  expect_times_out_after_50ms([&] { return o.acquire(0.05); });
  untouched_then_free(o);
}

// Two threads wait at once and both time out; neither leaves a trace.
TYPED_TEST(SyncTimeout, TwoWaitersTimingOutTogetherLeaveNoTrace) {
  auto& o = this->obj;
  o.block();
  std::thread a([&] { EXPECT_EQ(o.acquire(0.05), LOX_TIMEOUT); });
  std::thread b([&] { EXPECT_EQ(o.acquire(0.05), LOX_TIMEOUT); });
  a.join();
  b.join();
  untouched_then_free(o);
}

}  // namespace
