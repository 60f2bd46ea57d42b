// SPDX-License-Identifier: Apache-2.0
// Signal storm: a thread sends SIGUSR1 (a handler
// installed without SA_RESTART, so every interrupted system call returns
// EINTR) to every thread of the process (tgkill over /proc/self/task), over
// and over, while blocking calls run: thread gather with and without a
// timeout, queue put/get with timeouts and without, lock acquires, process
// pool scatter/gather. Results must be exactly those of a quiet run; an
// untimed call never returns a timeout or an error, and a timed call with a
// generous timeout (kMust) never times out. Signals sent and delivered are
// counted and printed.
#include <lox/lox.h>

#include <gtest/gtest.h>

#include <dirent.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "fault_util.hpp"
#include "process_check.hpp"
#include "test_util.hpp"

namespace {

using loxtest::from_ptr;
using loxtest::to_ptr;

std::atomic<long> g_delivered{0};
void on_signal(int) { g_delivered.fetch_add(1, std::memory_order_relaxed); }

const double kMustSeconds = std::chrono::duration<double>(loxtest::kMust).count();

// Sends SIGUSR1 to every other thread of this process until destroyed.
class SignalStorm {
 public:
  SignalStorm() {
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sa.sa_flags = 0;  // no SA_RESTART: interrupted calls fail with EINTR
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, nullptr);
    thread_ = std::thread([this] { run(); });
  }
  ~SignalStorm() {
    stop_.store(true);
    thread_.join();
    // The handler stays installed: a signal sent just before the stop may
    // still be pending on some thread, and SIGUSR1's default action would
    // kill the process.
    loxfault::report("signals", "SIGUSR1 sent", sent_.load());
  }
  long sent() const { return sent_.load(); }

 private:
  void run() {
    const pid_t pid = getpid();
    const pid_t self = static_cast<pid_t>(syscall(SYS_gettid));
    while (!stop_.load()) {
      DIR* d = opendir("/proc/self/task");
      if (!d) break;
      while (dirent* e = readdir(d)) {
        if (e->d_name[0] == '.') continue;
        const pid_t tid = std::atoi(e->d_name);
        if (tid == self) continue;
        if (syscall(SYS_tgkill, pid, tid, SIGUSR1) == 0) sent_.fetch_add(1);
      }
      closedir(d);
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  }
  std::atomic<bool> stop_{false};
  std::atomic<long> sent_{0};
  std::thread thread_;
};

// A task slow enough to be caught blocking: sleeps (nanosleep is resumed by
// sleep_for after EINTR) and returns twice its argument.
int slow_double(void*, void* arg, void** result) {
  std::this_thread::sleep_for(std::chrono::microseconds(50));
  *result = to_ptr(from_ptr(arg) * 2);
  return 0;
}

class SignalStormTest : public testing::Test {
 protected:
  void TearDown() override { EXPECT_TRUE(loxfault::no_children_left()); }
};

TEST_F(SignalStormTest, ThreadGather) {
  auto pool = loxtest::make_pool(4, slow_double);
  SignalStorm storm;
  const long before = g_delivered.load();
  for (int round = 0; round < 20; ++round) {
    for (intptr_t i = 0; i < 200; ++i) ASSERT_EQ(lox_thread_scatter(pool.get(), to_ptr(i), nullptr), LOX_OK);
    int rc = -100;
    // Even rounds untimed, odd ones with a generous timeout.
    auto r = loxtest::gather(pool.get(), &rc, round % 2 ? kMustSeconds : LOX_FOREVER);
    ASSERT_EQ(rc, LOX_OK) << lox_last_error();
    auto v = loxtest::values(r.get());
    ASSERT_EQ(v.size(), 200u);
    for (intptr_t i = 0; i < 200; ++i) EXPECT_EQ(v[static_cast<size_t>(i)], i * 2);
  }
  EXPECT_GT(g_delivered.load(), before);
  loxfault::report("signals", "delivered during thread gathers", g_delivered.load() - before);
}

// Producers and consumers block on a small queue (full / empty) under the
// storm; every item arrives exactly once, in each producer's order.
TEST_F(SignalStormTest, QueuePutGet) {
  lox_queue* q = nullptr;
  ASSERT_EQ(lox_queue_create(4, &q), LOX_OK);
  constexpr int kProducers = 2, kItems = 5000;
  SignalStorm storm;
  const long before = g_delivered.load();
  std::atomic<int> bad{0};
  // Rounds are quick: repeat until the storm has sent a few thousand signals.
  for (int rep = 0; rep < 1 || (storm.sent() < 2000 && rep < 500); ++rep) {
    std::vector<std::thread> producers;
    for (int p = 0; p < kProducers; ++p)
      producers.emplace_back([&, p] {
        for (int i = 0; i < kItems; ++i)
          if (lox_queue_put(q, to_ptr(p * kItems + i + 1), i % 2 ? kMustSeconds : LOX_FOREVER) != LOX_OK) ++bad;
      });
    std::vector<int> last(kProducers, 0);
    for (int n = 0; n < kProducers * kItems; ++n) {
      void* item = nullptr;
      ASSERT_EQ(lox_queue_get(q, &item, n % 2 ? kMustSeconds : LOX_FOREVER), LOX_OK) << lox_last_error();
      const int v = static_cast<int>(from_ptr(item)) - 1;
      const int p = v / kItems, i = v % kItems;
      ASSERT_EQ(i, last[static_cast<size_t>(p)]) << "producer " << p;
      last[static_cast<size_t>(p)] = i + 1;
    }
    for (auto& t : producers) t.join();
  }
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(lox_queue_size(q), 0u);
  lox_queue_destroy(q);
  loxfault::report("signals", "delivered during queue put/get", g_delivered.load() - before);
}

// Threads contend for each lock kind; the counter each lock guards ends
// exactly right, and no acquire (untimed or with kMust) fails or times out.
TEST_F(SignalStormTest, LockAcquire) {
  lox_lock* l = nullptr;
  lox_qlock* q = nullptr;
  lox_rwlock* rw = nullptr;
  lox_index_semaphore* s = nullptr;
  ASSERT_EQ(lox_lock_create(&l), LOX_OK);
  ASSERT_EQ(lox_qlock_create(&q), LOX_OK);
  ASSERT_EQ(lox_rwlock_create(&rw), LOX_OK);
  ASSERT_EQ(lox_index_semaphore_create(1, &s), LOX_OK);
  constexpr int kThreads = 4, kRounds = 2000;
  long counters[4] = {};
  std::atomic<int> bad{0};
  SignalStorm storm;
  const long before = g_delivered.load();
  long reps = 0;
  // Repeat until the storm has sent a few thousand signals.
  for (; reps < 1 || (storm.sent() < 2000 && reps < 500); ++reps) {
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
      threads.emplace_back([&, t] {
        for (int i = 0; i < kRounds; ++i) {
          const double timeout = (i + t) % 2 ? kMustSeconds : LOX_FOREVER;
          if (lox_lock_acquire(l, timeout) != LOX_OK) ++bad;
          ++counters[0];
          std::this_thread::yield();
          if (lox_lock_release(l) != LOX_OK) ++bad;
          if (lox_qlock_acquire(q, timeout) != LOX_OK) ++bad;
          ++counters[1];
          if (lox_qlock_release(q) != LOX_OK) ++bad;
          if (lox_rwlock_acquire(rw, LOX_WRITE, timeout) != LOX_OK) ++bad;
          ++counters[2];
          if (lox_rwlock_release(rw, LOX_WRITE) != LOX_OK) ++bad;
          size_t idx = 9;
          if (lox_index_semaphore_acquire(s, timeout, &idx) != LOX_OK || idx != 0) ++bad;
          ++counters[3];
          if (lox_index_semaphore_release(s, 0) != LOX_OK) ++bad;
        }
      });
    for (auto& t : threads) t.join();
  }
  EXPECT_EQ(bad.load(), 0);
  for (long c : counters) EXPECT_EQ(c, kThreads * kRounds * reps);
  lox_index_semaphore_destroy(s);
  lox_rwlock_destroy(rw);
  lox_qlock_destroy(q);
  lox_lock_destroy(l);
  loxfault::report("signals", "delivered during lock acquires", g_delivered.load() - before);
}

// The process pool's driver threads block in recv/poll and the gatherer on
// a condition variable: every round comes back complete and correct.
TEST_F(SignalStormTest, ProcessScatterGather) {
  lox_process* p = nullptr;
  ASSERT_EQ(lox_process_create(2, loxfault::echo_task, nullptr, &p), LOX_OK) << lox_last_error();
  SignalStorm storm;
  const long before = g_delivered.load();
  // Rounds are quick: go on until the storm has sent a few thousand signals.
  for (int round = 0; round < 10 || (storm.sent() < 3000 && round < 5000); ++round)
    ASSERT_EQ(loxfault::run_round(p, 200, "(no task may fail)").ok, 200u);  // gathers with a kMust timeout
  // And untimed gathers.
  for (int round = 0; round < 5; ++round) {
    for (int i = 0; i < 100; ++i) ASSERT_EQ(lox_process_scatter(p, "x", 1, nullptr), LOX_OK);
    lox_results* r = nullptr;
    ASSERT_EQ(lox_process_gather(p, nullptr, &r), LOX_OK) << lox_last_error();
    loxtest::Results owned(r);
    EXPECT_EQ(lox_results_count(r), 100u);
  }
  lox_process_destroy(p);
  EXPECT_GT(g_delivered.load(), before);
  loxfault::report("signals", "delivered during process scatter/gather", g_delivered.load() - before);
}

}  // namespace
