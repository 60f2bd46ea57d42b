// SPDX-License-Identifier: Apache-2.0
// The synchronization objects' use cases: a restroom with a LightSwitch and
// with a RWLock, a QLock serving threads in arrival order, a pool of GPUs
// shared through an IndexSemaphore; and destroying objects that threads wait on.
// Orderings are forced with gates and the objects' own counters, never with
// sleeps.
#include <lox/lox.h>

#include <gtest/gtest.h>

#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <array>
#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "test_util.hpp"

using namespace loxtest;

namespace {

// A timeline of events, in the order they happened.
class Timeline {
 public:
  void add(std::string e) {
    std::lock_guard lk(mu_);
    ev_.push_back(std::move(e));
  }
  std::vector<std::string> events() {
    std::lock_guard lk(mu_);
    return ev_;
  }
  long pos(const std::string& e) {
    auto v = events();
    auto it = std::find(v.begin(), v.end(), e);
    EXPECT_NE(it, v.end()) << e << " missing";
    return it - v.begin();
  }

 private:
  std::mutex mu_;
  std::vector<std::string> ev_;
};

bool reader_blocked(lox_rwlock* rw) {
  int rc = lox_rwlock_acquire(rw, LOX_READ, 0);
  if (rc == LOX_OK) EXPECT_EQ(lox_rwlock_release(rw, LOX_READ), LOX_OK);
  return rc == LOX_TIMEOUT;
}

// People overlap in the restroom (person i+1 enters before person i
// leaves); the janitor, dispatched while person 0 is inside, waits for the
// restroom to be empty: after the last person left.
TEST(SyncScenario, RestroomWithLightSwitch) {
  lox_lock* occupied = nullptr;
  ASSERT_EQ(lox_lock_create(&occupied), LOX_OK);
  lox_lightswitch* restroom = nullptr;
  ASSERT_EQ(lox_lightswitch_create(occupied, &restroom), LOX_OK);
  constexpr int kPeople = 5;
  Timeline tl;
  std::array<Gate, kPeople> entered, may_leave;
  std::vector<std::thread> people;
  auto person = [&](int id) {
    ASSERT_EQ(lox_lightswitch_acquire(restroom, LOX_FOREVER), LOX_OK);
    tl.add("p" + std::to_string(id) + "_enter");
    entered[id].open();
    EXPECT_TRUE(may_leave[id].wait());
    tl.add("p" + std::to_string(id) + "_exit");
    ASSERT_EQ(lox_lightswitch_release(restroom), LOX_OK);
  };
  people.emplace_back(person, 0);
  ASSERT_TRUE(entered[0].wait());
  std::thread janitor([&] {
    tl.add("j_dispatched");
    ASSERT_EQ(lox_lock_acquire(occupied, LOX_FOREVER), LOX_OK);
    tl.add("j_enter");
    EXPECT_EQ(lox_lightswitch_count(restroom), 0u);
    tl.add("j_exit");
    ASSERT_EQ(lox_lock_release(occupied), LOX_OK);
  });
  for (int i = 1; i < kPeople; ++i) {
    people.emplace_back(person, i);
    ASSERT_TRUE(entered[i].wait());  // gets in although the janitor waits
    may_leave[i - 1].open();
  }
  may_leave[kPeople - 1].open();
  for (auto& t : people) t.join();
  janitor.join();
  for (int i = 0; i < kPeople; ++i) {
    EXPECT_LT(tl.pos("p" + std::to_string(i) + "_exit"), tl.pos("j_enter")) << i;
    if (i + 1 < kPeople)
      EXPECT_LT(tl.pos("p" + std::to_string(i + 1) + "_enter"), tl.pos("p" + std::to_string(i) + "_exit"))
          << "people overlap";
  }
  EXPECT_EQ(lox_lightswitch_count(restroom), 0u);
  EXPECT_EQ(lox_lock_locked(occupied), 0);
  lox_lightswitch_destroy(restroom);
  lox_lock_destroy(occupied);
}

// The same with a RWLock: the janitor gets in right after the person
// inside; the people who come after the janitor wait behind him.
TEST(SyncScenario, RestroomWithRWLock) {
  lox_rwlock* rw = nullptr;
  ASSERT_EQ(lox_rwlock_create(&rw), LOX_OK);
  constexpr int kPeople = 5;
  Timeline tl;
  std::array<Gate, kPeople> entered, may_leave;
  std::vector<std::thread> people;
  auto person = [&](int id) {
    ASSERT_EQ(lox_rwlock_acquire(rw, LOX_READ, LOX_FOREVER), LOX_OK);
    tl.add("p" + std::to_string(id) + "_enter");
    entered[id].open();
    EXPECT_TRUE(may_leave[id].wait());
    tl.add("p" + std::to_string(id) + "_exit");
    ASSERT_EQ(lox_rwlock_release(rw, LOX_READ), LOX_OK);
  };
  people.emplace_back(person, 0);
  ASSERT_TRUE(entered[0].wait());
  std::thread janitor([&] {
    ASSERT_EQ(lox_rwlock_acquire(rw, LOX_WRITE, LOX_FOREVER), LOX_OK);
    tl.add("j_enter");
    EXPECT_EQ(lox_rwlock_readers(rw), 0u);
    tl.add("j_exit");
    ASSERT_EQ(lox_rwlock_release(rw, LOX_WRITE), LOX_OK);
  });
  ASSERT_TRUE(eventually([&] { return reader_blocked(rw); }));  // the janitor waits
  for (int i = 1; i < kPeople; ++i) {
    people.emplace_back(person, i);
    may_leave[i].open();  // they may leave as soon as they got in
  }
  std::this_thread::sleep_for(20ms);  // not needed for correctness: gives them a chance to cut in
  EXPECT_FALSE(entered[1].is_open()) << "a person got in before the waiting janitor";
  may_leave[0].open();
  for (auto& t : people) t.join();
  janitor.join();
  EXPECT_LT(tl.pos("p0_exit"), tl.pos("j_enter"));
  for (int i = 1; i < kPeople; ++i) EXPECT_LT(tl.pos("j_exit"), tl.pos("p" + std::to_string(i) + "_enter")) << i;
  EXPECT_EQ(lox_rwlock_readers(rw), 0u);
  lox_rwlock_destroy(rw);
}

// 26 threads line up (each started only once the previous one is counted
// in the line) and are served in that order.
TEST(SyncScenario, QLockServesTwentySixThreadsInArrivalOrder) {
  lox_qlock* q = nullptr;
  ASSERT_EQ(lox_qlock_create(&q), LOX_OK);
  ASSERT_EQ(lox_qlock_acquire(q, LOX_FOREVER), LOX_OK);
  std::string order;  // guarded by the qlock itself
  std::vector<std::thread> ts;
  for (int k = 0; k < 26; ++k) {
    ts.emplace_back([&, k] {
      ASSERT_EQ(lox_qlock_acquire(q, LOX_FOREVER), LOX_OK);
      order.push_back(static_cast<char>('a' + k));
      ASSERT_EQ(lox_qlock_release(q), LOX_OK);
    });
    ASSERT_TRUE(eventually([&] { return lox_qlock_waiting(q) == static_cast<size_t>(k + 1); }));
  }
  ASSERT_EQ(lox_qlock_release(q), LOX_OK);
  for (auto& t : ts) t.join();
  EXPECT_EQ(order, "abcdefghijklmnopqrstuvwxyz");
  EXPECT_EQ(lox_qlock_waiting(q), 0u);
  EXPECT_EQ(lox_qlock_locked(q), 0);
  lox_qlock_destroy(q);
}

// 20 workers share 5 GPUs: no GPU is ever used by two at once, all are used,
// and all are back at the end.
TEST(SyncScenario, TwentyThreadsShareFiveGpus) {
  constexpr size_t kGpus = 5;
  lox_index_semaphore* sem = nullptr;
  ASSERT_EQ(lox_index_semaphore_create(kGpus, &sem), LOX_OK);
  std::array<std::atomic<int>, kGpus> in_use{};
  std::array<std::atomic<int>, kGpus> uses{};
  Concurrency conc;
  Gate start;
  std::vector<std::thread> ts;
  for (int w = 0; w < 20; ++w)
    ts.emplace_back([&] {
      EXPECT_TRUE(start.wait());
      for (int round = 0; round < 50; ++round) {
        size_t idx = 99;
        ASSERT_EQ(lox_index_semaphore_acquire(sem, LOX_FOREVER, &idx), LOX_OK);
        ASSERT_LT(idx, kGpus);
        conc.enter();
        EXPECT_EQ(in_use[idx].exchange(1), 0) << "GPU " << idx << " held twice";
        uses[idx].fetch_add(1);
        for (int spin = 0; spin < 200; ++spin) std::atomic_signal_fence(std::memory_order_seq_cst);
        if (round % 10 == 0) std::this_thread::yield();
        EXPECT_EQ(in_use[idx].exchange(0), 1);
        conc.leave();
        ASSERT_EQ(lox_index_semaphore_release(sem, idx), LOX_OK);
      }
    });
  start.open();
  for (auto& t : ts) t.join();
  EXPECT_LE(conc.max(), static_cast<int>(kGpus));
  int total = 0;
  for (auto& u : uses) total += u.load();
  EXPECT_EQ(total, 20 * 50);
  EXPECT_EQ(lox_index_semaphore_available(sem), kGpus);
  EXPECT_EQ(lox_index_semaphore_waiting(sem), 0u);
  lox_index_semaphore_destroy(sem);
}

// ------------------------------------------------ destroy with waiters --

bool has_error_log(LogCapture& cap, const std::string& what) {
  for (auto& e : cap.entries())
    if (e.level == LOX_LOG_ERROR && e.message.find(what) != std::string::npos) return true;
  return false;
}

TEST(SyncDestroy, QLockWaitersGetEState) {
  LogCapture cap;
  lox_qlock* q = nullptr;
  ASSERT_EQ(lox_qlock_create(&q), LOX_OK);
  ASSERT_EQ(lox_qlock_acquire(q, 0), LOX_OK);
  std::atomic<int> rc1{99}, rc2{99};
  std::string d1;
  std::thread a([&] {
    rc1 = lox_qlock_acquire(q, LOX_FOREVER);
    d1 = lox_last_error();
  });
  ASSERT_TRUE(eventually([&] { return lox_qlock_waiting(q) == 1; }));
  std::thread b([&] { rc2 = lox_qlock_acquire(q, 30.0); });
  ASSERT_TRUE(eventually([&] { return lox_qlock_waiting(q) == 2; }));
  lox_qlock_destroy(q);
  a.join();
  b.join();
  EXPECT_EQ(rc1.load(), LOX_ESTATE);
  EXPECT_EQ(rc2.load(), LOX_ESTATE);
  EXPECT_NE(d1.find("qlock acquire: the qlock was destroyed"), std::string::npos) << d1;
  EXPECT_TRUE(has_error_log(cap, "qlock destroy: 2 thread(s) still waiting"));
}

TEST(SyncDestroy, IndexSemaphoreWaitersGetEState) {
  LogCapture cap;
  lox_index_semaphore* s = nullptr;
  ASSERT_EQ(lox_index_semaphore_create(1, &s), LOX_OK);
  size_t i = 0;
  ASSERT_EQ(lox_index_semaphore_acquire(s, 0, &i), LOX_OK);
  std::atomic<int> rc{99};
  std::thread a([&] {
    size_t j = 0;
    rc = lox_index_semaphore_acquire(s, LOX_FOREVER, &j);
  });
  ASSERT_TRUE(eventually([&] { return lox_index_semaphore_waiting(s) == 1; }));
  lox_index_semaphore_destroy(s);
  a.join();
  EXPECT_EQ(rc.load(), LOX_ESTATE);
  EXPECT_TRUE(has_error_log(cap, "index_semaphore destroy: 1 thread(s) still waiting"));
}

TEST(SyncDestroy, RWLockWaitingWriterAndReaderGetEState) {
  LogCapture cap;
  lox_rwlock* rw = nullptr;
  ASSERT_EQ(lox_rwlock_create(&rw), LOX_OK);
  ASSERT_EQ(lox_rwlock_acquire(rw, LOX_READ, 0), LOX_OK);
  std::atomic<int> rcw{99};
  std::thread w([&] { rcw = lox_rwlock_acquire(rw, LOX_WRITE, LOX_FOREVER); });
  ASSERT_TRUE(eventually([&] { return reader_blocked(rw); }));  // the writer is inside
  lox_rwlock_destroy(rw);
  w.join();
  EXPECT_EQ(rcw.load(), LOX_ESTATE);
  EXPECT_TRUE(has_error_log(cap, "rwlock destroy: 1 thread(s) still waiting"));
}

// The kernel's view of thread `tid`: true once it sleeps (state S: the
// only thing the threads below do that sleeps is the futex wait).
bool sleeping_now(pid_t tid) {
  std::ifstream f("/proc/self/task/" + std::to_string(tid) + "/stat");
  std::string line;
  std::getline(f, line);
  auto p = line.rfind(')');
  return p != std::string::npos && p + 2 < line.size() && line[p + 2] == 'S';
}

// Sleeping, and still sleeping a little later (not a passing blocking call).
bool sleeping(pid_t tid) {
  if (!sleeping_now(tid)) return false;
  std::this_thread::sleep_for(10ms);
  return sleeping_now(tid);
}

pid_t this_tid() { return static_cast<pid_t>(syscall(SYS_gettid)); }

// A plain lock (and a LightSwitch) has no waiter counter to observe, so the
// test waits until the waiting threads sleep in the kernel.
TEST(SyncDestroy, LockAndLightSwitchWaitersGetEState) {
  LogCapture cap;
  lox_lock* l = nullptr;
  ASSERT_EQ(lox_lock_create(&l), LOX_OK);
  lox_lightswitch* ls = nullptr;
  ASSERT_EQ(lox_lightswitch_create(l, &ls), LOX_OK);
  ASSERT_EQ(lox_lock_acquire(l, 0), LOX_OK);
  std::atomic<int> rc1{99}, rc2{99};
  std::atomic<pid_t> tid1{0}, tid2{0};
  std::thread a([&] {
    tid1 = this_tid();
    rc1 = lox_lightswitch_acquire(ls, LOX_FOREVER);  // takes the gate, waits on the lock
  });
  ASSERT_TRUE(eventually([&] { return tid1.load() != 0 && sleeping(tid1.load()); }));
  std::thread b([&] {
    tid2 = this_tid();
    rc2 = lox_lightswitch_acquire(ls, LOX_FOREVER);  // waits on the gate
  });
  ASSERT_TRUE(eventually([&] { return tid2.load() != 0 && sleeping(tid2.load()); }));
  lox_lightswitch_destroy(ls);
  a.join();
  b.join();
  EXPECT_EQ(rc1.load(), LOX_ESTATE);
  EXPECT_EQ(rc2.load(), LOX_ESTATE);
  EXPECT_TRUE(has_error_log(cap, "lightswitch destroy: 2 thread(s) still waiting"));
  EXPECT_EQ(lox_lock_locked(l), 1) << "the borrowed lock is untouched";

  std::atomic<int> rc3{99};
  std::atomic<pid_t> tid3{0};
  std::thread c([&] {
    tid3 = this_tid();
    rc3 = lox_lock_acquire(l, LOX_FOREVER);
  });
  ASSERT_TRUE(eventually([&] { return tid3.load() != 0 && sleeping(tid3.load()); }));
  lox_lock_destroy(l);
  c.join();
  EXPECT_EQ(rc3.load(), LOX_ESTATE);
  EXPECT_TRUE(has_error_log(cap, "lock destroy: 1 thread(s) still waiting"));
}

TEST(SyncDestroy, HeldObjectsWithoutWaitersAreJustFreed) {
  LogCapture cap;
  lox_lock* l = nullptr;
  ASSERT_EQ(lox_lock_create(&l), LOX_OK);
  ASSERT_EQ(lox_lock_acquire(l, 0), LOX_OK);
  lox_lock_destroy(l);
  lox_qlock* q = nullptr;
  ASSERT_EQ(lox_qlock_create(&q), LOX_OK);
  ASSERT_EQ(lox_qlock_acquire(q, 0), LOX_OK);
  lox_qlock_destroy(q);
  lox_rwlock* rw = nullptr;
  ASSERT_EQ(lox_rwlock_create(&rw), LOX_OK);
  ASSERT_EQ(lox_rwlock_acquire(rw, LOX_READ, 0), LOX_OK);
  lox_rwlock_destroy(rw);
  lox_index_semaphore* s = nullptr;
  ASSERT_EQ(lox_index_semaphore_create(2, &s), LOX_OK);
  size_t i = 0;
  ASSERT_EQ(lox_index_semaphore_acquire(s, 0, &i), LOX_OK);
  lox_index_semaphore_destroy(s);
  for (auto& e : cap.entries()) EXPECT_LT(e.level, LOX_LOG_ERROR) << e.message;
  // A LightSwitch destroyed while counted in warns and leaves the lock locked.
  ASSERT_EQ(lox_lock_create(&l), LOX_OK);
  lox_lightswitch* ls = nullptr;
  ASSERT_EQ(lox_lightswitch_create(l, &ls), LOX_OK);
  ASSERT_EQ(lox_lightswitch_acquire(ls, 0), LOX_OK);
  lox_lightswitch_destroy(ls);
  bool warned = false;
  for (auto& e : cap.entries())
    warned |= e.level == LOX_LOG_WARN && e.message.find("lightswitch destroy: count is 1") != std::string::npos;
  EXPECT_TRUE(warned);
  EXPECT_EQ(lox_lock_locked(l), 1);
  EXPECT_EQ(lox_lock_release(l), LOX_OK);
  lox_lock_destroy(l);
}

}  // namespace
