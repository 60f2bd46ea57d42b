// SPDX-License-Identifier: Apache-2.0
// A timed-out attempt leaves no trace, for every lock type of the C++ layer:
// one typed test over lox::lock, lox::light_switch, lox::rw_lock (shared
// behind a writer, exclusive behind a reader), lox::qlock and
// lox::index_semaphore. While somebody else holds the object, every kind of
// attempt fails: try_hold / try_read / try_write / try_acquire with a
// duration and with 0, std::unique_lock / std::shared_lock try_lock_for and
// try_lock_until, an attempt from another thread. Afterwards the object is
// exactly as the holder left it; once the holder lets go, the object is
// free, a negative duration (one attempt) takes it, and so does a long one.
#include <lox/lox.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <type_traits>

#include "type_names.hpp"

using namespace std::chrono_literals;
using loxtest::TypeNames;

namespace {

// Each type: block() makes the holder take the object, unblock() lets it
// go; take(d) is the attempt (a guard, empty on timeout); StdLock is the
// standard wrapper over lockable(), or void for a type that has none;
// expect_blocked() checks the object is as the holder left it,
// expect_taken(g) that the attempt's guard g holds it, expect_free() that
// nobody does.

struct LockType {
  static constexpr const char* kName = "Lock";
  lox::lock m;
  lox::unique_guard<lox::lock> holder;
  using StdLock = std::unique_lock<lox::lock>;
  lox::lock& lockable() { return m; }
  void block() { holder = m.hold(); }
  void unblock() { holder = {}; }
  template <class D>
  auto take(D d) {
    return m.try_hold(d);
  }
  void expect_blocked() { EXPECT_TRUE(m.locked()); }
  template <class G>
  void expect_taken(const G&) {
    EXPECT_TRUE(m.locked());
  }
  void expect_free() { EXPECT_FALSE(m.locked()); }
};

// The janitor (the room's holder) is in: people wait.
struct LightSwitchType {
  static constexpr const char* kName = "LightSwitch";
  lox::lock room;
  lox::light_switch people{room};
  lox::unique_guard<lox::lock> holder;
  using StdLock = std::unique_lock<lox::light_switch>;
  lox::light_switch& lockable() { return people; }
  void block() { holder = room.hold(); }
  void unblock() { holder = {}; }
  template <class D>
  auto take(D d) {
    return people.try_hold(d);
  }
  void expect_blocked() {
    EXPECT_EQ(people.count(), 0u);
    EXPECT_TRUE(room.locked());
  }
  template <class G>
  void expect_taken(const G&) {
    EXPECT_EQ(people.count(), 1u);
    EXPECT_TRUE(room.locked());
  }
  void expect_free() {
    EXPECT_EQ(people.count(), 0u);
    EXPECT_FALSE(room.locked());
  }
};

// A reader behind a writer.
struct SharedBehindWriterType {
  static constexpr const char* kName = "RwLockSharedBehindWriter";
  lox::rw_lock rw;
  lox::unique_guard<lox::rw_lock> holder;
  using StdLock = std::shared_lock<lox::rw_lock>;
  lox::rw_lock& lockable() { return rw; }
  void block() { holder = rw.write(); }
  void unblock() { holder = {}; }
  template <class D>
  auto take(D d) {
    return rw.try_read(d);
  }
  void expect_blocked() {
    EXPECT_EQ(rw.readers(), 0u);
    EXPECT_FALSE(rw.try_read(0s));
  }
  template <class G>
  void expect_taken(const G&) {
    EXPECT_EQ(rw.readers(), 1u);
    EXPECT_FALSE(rw.try_write(0s));
  }
  void expect_free() {
    EXPECT_EQ(rw.readers(), 0u);
    EXPECT_TRUE(rw.try_write(0s));
  }
};

// A writer behind a reader. Writer-preferring: while a writer waits, new
// readers wait too; a writer that gave up must not keep holding them back.
struct ExclusiveBehindReaderType {
  static constexpr const char* kName = "RwLockExclusiveBehindReader";
  lox::rw_lock rw;
  lox::shared_guard<lox::rw_lock> holder;
  using StdLock = std::unique_lock<lox::rw_lock>;
  lox::rw_lock& lockable() { return rw; }
  void block() { holder = rw.read(); }
  void unblock() { holder = {}; }
  template <class D>
  auto take(D d) {
    return rw.try_write(d);
  }
  void expect_blocked() {
    EXPECT_EQ(rw.readers(), 1u);
    auto r2 = rw.try_read(0s);  // would fail if the writer had left a trace
    EXPECT_TRUE(r2);
    EXPECT_EQ(rw.readers(), 2u);
  }
  template <class G>
  void expect_taken(const G&) {
    EXPECT_EQ(rw.readers(), 0u);
    EXPECT_FALSE(rw.try_read(0s));
  }
  void expect_free() {
    EXPECT_EQ(rw.readers(), 0u);
    EXPECT_TRUE(rw.try_write(0s));
  }
};

struct QLockType {
  static constexpr const char* kName = "Qlock";
  lox::qlock q;
  lox::unique_guard<lox::qlock> holder;
  using StdLock = std::unique_lock<lox::qlock>;
  lox::qlock& lockable() { return q; }
  void block() { holder = q.hold(); }
  void unblock() { holder = {}; }
  template <class D>
  auto take(D d) {
    return q.try_hold(d);
  }
  void expect_blocked() {
    EXPECT_EQ(q.waiting(), 0u) << "a timed-out waiter left the line";
    EXPECT_TRUE(q.locked());
  }
  template <class G>
  void expect_taken(const G&) {
    EXPECT_EQ(q.waiting(), 0u);
    EXPECT_TRUE(q.locked());
  }
  void expect_free() {
    EXPECT_EQ(q.waiting(), 0u);
    EXPECT_FALSE(q.locked());
  }
};

// One index, held: an acquirer waits.
struct IndexSemaphoreType {
  static constexpr const char* kName = "IndexSemaphore";
  lox::index_semaphore sem{1};
  lox::index_guard holder;
  using StdLock = void;
  void block() {
    holder = sem.acquire();
    EXPECT_EQ(holder.index(), 0u);
  }
  void unblock() { holder = {}; }
  template <class D>
  auto take(D d) {
    return sem.try_acquire(d);
  }
  void expect_blocked() {
    EXPECT_EQ(sem.waiting(), 0u);
    EXPECT_EQ(sem.available(), 0u);
  }
  void expect_taken(const lox::index_guard& g) {
    EXPECT_EQ(g.index(), 0u);
    EXPECT_EQ(sem.available(), 0u);
  }
  void expect_free() {
    EXPECT_EQ(sem.waiting(), 0u);
    EXPECT_EQ(sem.available(), 1u);
  }
};

template <typename T>
class cppSyncTimeout : public ::testing::Test {
 protected:
  T obj;
};

using LockTypes = ::testing::Types<LockType, LightSwitchType, SharedBehindWriterType, ExclusiveBehindReaderType,
                                   QLockType, IndexSemaphoreType>;

TYPED_TEST_SUITE(cppSyncTimeout, LockTypes, TypeNames);

TYPED_TEST(cppSyncTimeout, TimedOutAttemptsLeaveNoTrace) {
  auto& o = this->obj;
  o.block();
  EXPECT_FALSE(o.take(20ms));
  EXPECT_FALSE(o.take(0s));
  if constexpr (!std::is_void_v<typename TypeParam::StdLock>) {
    typename TypeParam::StdLock lk(o.lockable(), std::defer_lock);
    EXPECT_FALSE(lk.try_lock_for(10ms));
    EXPECT_FALSE(lk.try_lock_until(std::chrono::steady_clock::now() + 10ms));
    EXPECT_FALSE(lk.try_lock_until(std::chrono::system_clock::now() + 10ms));
  }
  std::thread other([&] { EXPECT_FALSE(o.take(50ms)); });
  other.join();
  o.expect_blocked();
  o.unblock();
  o.expect_free();
  for (auto d : {-1s, 30s}) {  // negative: one attempt
    {
      auto g = o.take(d);
      ASSERT_TRUE(g) << d.count() << " s";
      o.expect_taken(g);
    }
    o.expect_free();
  }
}

}  // namespace
