// SPDX-License-Identifier: Apache-2.0
// The rules of lox_queue (include/lox/lox.h, "Queues"): bounded and
// unbounded, FIFO, the three kinds of timeout, bad input with its detail,
// close (wakes everybody, gets drain first), task_done/join, the counters,
// NULL items, the ring and the segmented layouts, and destroying a queue
// that threads wait on.
#include <lox/lox.h>

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "blocked_call.hpp"
#include "queue_util.hpp"
#include "test_util.hpp"
#include "timed_call.hpp"

using namespace loxtest;

namespace {

void* item_of(intptr_t v) { return to_ptr(v); }

// Puts 0..n-1 (as items) without blocking.
void fill(lox_queue* q, intptr_t from, intptr_t to) {
  for (intptr_t i = from; i < to; ++i) ASSERT_EQ(lox_queue_put(q, item_of(i), 0), LOX_OK) << i;
}

// Gets n items without blocking and expects from..to-1 in order.
void drain_expect(lox_queue* q, intptr_t from, intptr_t to) {
  for (intptr_t i = from; i < to; ++i) {
    void* it = reinterpret_cast<void*>(-1);
    ASSERT_EQ(lox_queue_get(q, &it, 0), LOX_OK) << i;
    ASSERT_EQ(from_ptr(it), i);
  }
}

// ------------------------------------------------------------ bad input --

TEST(QueueBadInput, CreateWithNullOut) {
  prime_detail();
  EXPECT_EQ(lox_queue_create(0, nullptr), LOX_EINVAL);
  EXPECT_DETAIL2("queue", "create");
  prime_detail();
  EXPECT_EQ(lox_queue_create(10, nullptr), LOX_EINVAL);
  EXPECT_DETAIL2("queue", "create");
}

TEST(QueueBadInput, NullHandle) {
  void* it = nullptr;
  prime_detail();
  EXPECT_EQ(lox_queue_put(nullptr, it, 0), LOX_EINVAL);
  EXPECT_DETAIL2("queue", "put");
  prime_detail();
  EXPECT_EQ(lox_queue_put(nullptr, it, LOX_FOREVER), LOX_EINVAL);
  EXPECT_DETAIL2("queue", "put");
  prime_detail();
  EXPECT_EQ(lox_queue_get(nullptr, &it, 0), LOX_EINVAL);
  EXPECT_DETAIL2("queue", "get");
  prime_detail();
  EXPECT_EQ(lox_queue_get(nullptr, &it, LOX_FOREVER), LOX_EINVAL);
  EXPECT_DETAIL2("queue", "get");
  prime_detail();
  EXPECT_EQ(lox_queue_close(nullptr), LOX_EINVAL);
  EXPECT_DETAIL2("queue", "close");
  prime_detail();
  EXPECT_EQ(lox_queue_closed(nullptr), LOX_EINVAL);
  EXPECT_DETAIL2("queue", "closed");
  prime_detail();
  EXPECT_EQ(lox_queue_task_done(nullptr), LOX_EINVAL);
  EXPECT_DETAIL2("queue", "task_done");
  prime_detail();
  EXPECT_EQ(lox_queue_join(nullptr, 0), LOX_EINVAL);
  EXPECT_DETAIL2("queue", "join");
  prime_detail();
  EXPECT_EQ(lox_queue_join(nullptr, LOX_FOREVER), LOX_EINVAL);
  EXPECT_DETAIL2("queue", "join");
  prime_detail();
  EXPECT_EQ(lox_queue_size(nullptr), 0u);
  EXPECT_DETAIL2("queue", "size");
  prime_detail();
  EXPECT_EQ(lox_queue_maxsize(nullptr), 0u);
  EXPECT_DETAIL2("queue", "maxsize");
  prime_detail();
  EXPECT_EQ(lox_queue_empty(nullptr), LOX_EINVAL);
  EXPECT_DETAIL2("queue", "empty");
  prime_detail();
  EXPECT_EQ(lox_queue_full(nullptr), LOX_EINVAL);
  EXPECT_DETAIL2("queue", "full");
  lox_queue_destroy(nullptr);  // a no-op
}

TEST(QueueBadInput, NullItemOutChangesNothing) {
  Queue q = make_queue(4);
  fill(q.get(), 7, 8);
  prime_detail();
  EXPECT_EQ(lox_queue_get(q.get(), nullptr, 0), LOX_EINVAL);
  EXPECT_DETAIL2("queue", "get");
  prime_detail();
  EXPECT_EQ(lox_queue_get(q.get(), nullptr, LOX_FOREVER), LOX_EINVAL);
  EXPECT_DETAIL2("queue", "get");
  EXPECT_EQ(lox_queue_size(q.get()), 1u) << "the item is still there";
  drain_expect(q.get(), 7, 8);
}

TEST(QueueBadInput, NaNTimeoutChangesNothing) {
  Queue q = make_queue(2);
  prime_detail();
  EXPECT_EQ(lox_queue_put(q.get(), item_of(1), kNaN), LOX_EINVAL);
  EXPECT_DETAIL2("queue put", "NaN");
  EXPECT_EQ(lox_queue_size(q.get()), 0u) << "nothing was put";
  EXPECT_EQ(lox_queue_join(q.get(), 0), LOX_OK) << "a refused put is not counted as unfinished";
  void* it = item_of(99);
  prime_detail();
  EXPECT_EQ(lox_queue_get(q.get(), &it, kNaN), LOX_EINVAL);
  EXPECT_DETAIL2("queue get", "NaN");
  EXPECT_EQ(from_ptr(it), 99);
  fill(q.get(), 5, 6);
  prime_detail();
  EXPECT_EQ(lox_queue_get(q.get(), &it, kNaN), LOX_EINVAL) << "NaN even when an item is ready";
  EXPECT_EQ(from_ptr(it), 99);
  EXPECT_EQ(lox_queue_size(q.get()), 1u);
  prime_detail();
  EXPECT_EQ(lox_queue_join(q.get(), kNaN), LOX_EINVAL);
  EXPECT_DETAIL2("queue join", "NaN");
  fill(q.get(), 6, 7);  // now full
  prime_detail();
  EXPECT_EQ(lox_queue_put(q.get(), item_of(8), kNaN), LOX_EINVAL) << "NaN even when the queue is full";
  EXPECT_EQ(lox_queue_size(q.get()), 2u);
  drain_expect(q.get(), 5, 7);
}

// ---------------------------------------------------------------- basics --

TEST(QueueRules, UnboundedIsFifo) {
  Queue q = make_queue(0);
  EXPECT_EQ(lox_queue_maxsize(q.get()), 0u);
  fill(q.get(), 0, 1000);
  EXPECT_EQ(lox_queue_size(q.get()), 1000u);
  EXPECT_EQ(lox_queue_full(q.get()), 0) << "an unbounded queue is never full";
  drain_expect(q.get(), 0, 1000);
  EXPECT_EQ(lox_queue_empty(q.get()), 1);
}

TEST(QueueRules, InterleavedPutsAndGetsStayFifo) {
  for (size_t maxsize : {size_t{0}, size_t{3}, size_t{100000}}) {
    Queue q = make_queue(maxsize);
    intptr_t next_put = 0, next_get = 0;
    for (int round = 0; round < 2000; ++round) {
      int puts = 1 + round % 3, gets = 1 + (round * 7) % 3;
      for (int k = 0; k < puts && lox_queue_full(q.get()) == 0; ++k)
        ASSERT_EQ(lox_queue_put(q.get(), item_of(next_put++), 0), LOX_OK);
      for (int k = 0; k < gets && next_get < next_put; ++k) {
        void* it = nullptr;
        ASSERT_EQ(lox_queue_get(q.get(), &it, 0), LOX_OK);
        ASSERT_EQ(from_ptr(it), next_get++) << "maxsize " << maxsize;
      }
      ASSERT_EQ(lox_queue_size(q.get()), static_cast<size_t>(next_put - next_get));
    }
  }
}

TEST(QueueRules, CountersOfABoundedQueue) {
  Queue q = make_queue(2);
  EXPECT_EQ(lox_queue_maxsize(q.get()), 2u);
  EXPECT_EQ(lox_queue_size(q.get()), 0u);
  EXPECT_EQ(lox_queue_empty(q.get()), 1);
  EXPECT_EQ(lox_queue_full(q.get()), 0);
  fill(q.get(), 0, 1);
  EXPECT_EQ(lox_queue_size(q.get()), 1u);
  EXPECT_EQ(lox_queue_empty(q.get()), 0);
  EXPECT_EQ(lox_queue_full(q.get()), 0);
  fill(q.get(), 1, 2);
  EXPECT_EQ(lox_queue_size(q.get()), 2u);
  EXPECT_EQ(lox_queue_empty(q.get()), 0);
  EXPECT_EQ(lox_queue_full(q.get()), 1);
  drain_expect(q.get(), 0, 1);
  EXPECT_EQ(lox_queue_full(q.get()), 0);
  drain_expect(q.get(), 1, 2);
  EXPECT_EQ(lox_queue_empty(q.get()), 1);
  EXPECT_EQ(lox_queue_size(q.get()), 0u);
  EXPECT_EQ(lox_queue_maxsize(q.get()), 2u);
  for (size_t m : {size_t{1}, size_t{65536}, size_t{65537}, size_t{100000}}) {
    Queue r = make_queue(m);
    EXPECT_EQ(lox_queue_maxsize(r.get()), m);
  }
}

TEST(QueueRules, NullItemsAreItems) {
  Queue q = make_queue(0);
  ASSERT_EQ(lox_queue_put(q.get(), nullptr, 0), LOX_OK);
  ASSERT_EQ(lox_queue_put(q.get(), item_of(5), 0), LOX_OK);
  ASSERT_EQ(lox_queue_put(q.get(), nullptr, 0), LOX_OK);
  EXPECT_EQ(lox_queue_size(q.get()), 3u);
  EXPECT_EQ(lox_queue_empty(q.get()), 0);
  void* it = item_of(77);
  ASSERT_EQ(lox_queue_get(q.get(), &it, 0), LOX_OK);
  EXPECT_EQ(it, nullptr);
  ASSERT_EQ(lox_queue_get(q.get(), &it, 0), LOX_OK);
  EXPECT_EQ(from_ptr(it), 5);
  it = item_of(77);
  ASSERT_EQ(lox_queue_get(q.get(), &it, LOX_FOREVER), LOX_OK);
  EXPECT_EQ(it, nullptr);
  EXPECT_EQ(lox_queue_get(q.get(), &it, 0), LOX_TIMEOUT);
  // NULL items count for join like any other.
  EXPECT_EQ(lox_queue_join(q.get(), 0), LOX_TIMEOUT);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(lox_queue_task_done(q.get()), LOX_OK);
  EXPECT_EQ(lox_queue_join(q.get(), 0), LOX_OK);
}

// -------------------------------------------------------------- timeouts --

TEST(QueueRules, GetOnEmptyTimesOutAndLeavesItemUntouched) {
  Queue q = make_queue(0);
  void* it = item_of(42);
  EXPECT_EQ(lox_queue_get(q.get(), &it, 0), LOX_TIMEOUT);
  EXPECT_EQ(from_ptr(it), 42);
  EXPECT_EQ(lox_queue_get(q.get(), &it, 0.02), LOX_TIMEOUT);
  EXPECT_EQ(from_ptr(it), 42);
  // The timed-out gets left no trace: the next item goes to the next get.
  fill(q.get(), 3, 4);
  EXPECT_EQ(lox_queue_size(q.get()), 1u);
  drain_expect(q.get(), 3, 4);
}

TEST(QueueRules, PutOnFullTimesOutAndPutsNothing) {
  Queue q = make_queue(2);
  fill(q.get(), 0, 2);
  EXPECT_EQ(lox_queue_put(q.get(), item_of(100), 0), LOX_TIMEOUT);
  EXPECT_EQ(lox_queue_put(q.get(), item_of(101), 0.02), LOX_TIMEOUT);
  EXPECT_EQ(lox_queue_size(q.get()), 2u);
  drain_expect(q.get(), 0, 2);
  void* it = nullptr;
  EXPECT_EQ(lox_queue_get(q.get(), &it, 0), LOX_TIMEOUT) << "a timed-out put left its item behind";
  // Nor is it counted as unfinished work.
  EXPECT_EQ(lox_queue_task_done(q.get()), LOX_OK);
  EXPECT_EQ(lox_queue_task_done(q.get()), LOX_OK);
  EXPECT_EQ(lox_queue_join(q.get(), 0), LOX_OK);
  EXPECT_EQ(lox_queue_task_done(q.get()), LOX_ESTATE);
}

TEST(QueueRules, TimedWaitsLastAboutTheirTimeout) {
  Queue empty = make_queue(0);
  void* it = nullptr;
  expect_times_out_after_50ms([&] { return lox_queue_get(empty.get(), &it, 0.05); });
  Queue full = make_queue(1);
  fill(full.get(), 0, 1);
  expect_times_out_after_50ms([&] { return lox_queue_put(full.get(), item_of(1), 0.05); });
  expect_times_out_after_50ms([&] { return lox_queue_join(full.get(), 0.05); });
  Queue big = make_queue(100000);  // the segmented layout waits the same way
  void* x = nullptr;
  expect_times_out_after_50ms([&] { return lox_queue_get(big.get(), &x, 0.05); });
}

TEST(QueueRules, BlockedGetForeverReceivesTheNextPut) {
  Queue q = make_queue(0);
  std::atomic<int> rc{99};
  void* got = nullptr;
  Sleeper s([&] { rc = lox_queue_get(q.get(), &got, LOX_FOREVER); });
  ASSERT_TRUE(s.wait_asleep());
  EXPECT_EQ(rc.load(), 99);
  std::thread([&] { EXPECT_EQ(lox_queue_put(q.get(), item_of(17), 0), LOX_OK); }).join();
  s.join();
  EXPECT_EQ(rc.load(), LOX_OK);
  EXPECT_EQ(from_ptr(got), 17);
  EXPECT_EQ(lox_queue_size(q.get()), 0u);
}

TEST(QueueRules, BlockedTimedGetReceivesAPutThatComesInTime) {
  Queue q = make_queue(4);
  std::atomic<int> rc{99};
  void* got = nullptr;
  Sleeper s([&] { rc = lox_queue_get(q.get(), &got, 30.0); });
  ASSERT_TRUE(s.wait_asleep());
  ASSERT_EQ(lox_queue_put(q.get(), item_of(8), 0), LOX_OK);
  s.join();
  EXPECT_EQ(rc.load(), LOX_OK);
  EXPECT_EQ(from_ptr(got), 8);
}

TEST(QueueRules, BlockedPutForeverCompletesWhenRoomIsMade) {
  Queue q = make_queue(1);
  fill(q.get(), 1, 2);
  std::atomic<int> rc{99};
  Sleeper s([&] { rc = lox_queue_put(q.get(), item_of(2), LOX_FOREVER); });
  ASSERT_TRUE(s.wait_asleep());
  EXPECT_EQ(rc.load(), 99);
  EXPECT_EQ(lox_queue_size(q.get()), 1u);
  drain_expect(q.get(), 1, 2);
  s.join();
  EXPECT_EQ(rc.load(), LOX_OK);
  EXPECT_EQ(lox_queue_full(q.get()), 1);
  drain_expect(q.get(), 2, 3);
}

TEST(QueueRules, BlockedTimedPutCompletesWhenRoomIsMadeInTime) {
  Queue q = make_queue(2);
  fill(q.get(), 0, 2);
  std::atomic<int> rc{99};
  Sleeper s([&] { rc = lox_queue_put(q.get(), item_of(2), 30.0); });
  ASSERT_TRUE(s.wait_asleep());
  drain_expect(q.get(), 0, 1);
  s.join();
  EXPECT_EQ(rc.load(), LOX_OK);
  drain_expect(q.get(), 1, 3);
}

TEST(QueueRules, ManyBlockedGettersEachGetOneItem) {
  Queue q = make_queue(0);
  constexpr int kN = 4;
  std::vector<std::unique_ptr<Sleeper>> ss;
  std::atomic<int> ok{0};
  std::vector<std::atomic<int>> seen(kN);
  for (int k = 0; k < kN; ++k) {
    ss.push_back(std::make_unique<Sleeper>([&] {
      void* it = nullptr;
      if (lox_queue_get(q.get(), &it, LOX_FOREVER) == LOX_OK) {
        ok.fetch_add(1);
        if (from_ptr(it) >= 0 && from_ptr(it) < kN) seen[from_ptr(it)].fetch_add(1);
      }
    }));
    ASSERT_TRUE(ss.back()->wait_asleep());
  }
  fill(q.get(), 0, kN);
  for (auto& s : ss) s->join();
  EXPECT_EQ(ok.load(), kN);
  for (int k = 0; k < kN; ++k) EXPECT_EQ(seen[k].load(), 1) << k;
  EXPECT_EQ(lox_queue_size(q.get()), 0u);
}

TEST(QueueRules, ManyBlockedPuttersAllGetIn) {
  Queue q = make_queue(1);
  fill(q.get(), 100, 101);
  constexpr int kN = 4;
  std::vector<std::unique_ptr<Sleeper>> ss;
  std::atomic<int> ok{0};
  for (int k = 0; k < kN; ++k) {
    ss.push_back(std::make_unique<Sleeper>([&, k] {
      if (lox_queue_put(q.get(), item_of(k), LOX_FOREVER) == LOX_OK) ok.fetch_add(1);
    }));
    ASSERT_TRUE(ss.back()->wait_asleep());
  }
  std::vector<int> seen(kN + 1, 0);
  for (int k = 0; k <= kN; ++k) {
    void* it = nullptr;
    ASSERT_EQ(lox_queue_get(q.get(), &it, 30.0), LOX_OK) << k;
    intptr_t v = from_ptr(it);
    if (k == 0) {
      EXPECT_EQ(v, 100);
    } else {
      ASSERT_GE(v, 0);
      ASSERT_LT(v, kN);
      seen[v]++;
    }
  }
  for (auto& s : ss) s->join();
  EXPECT_EQ(ok.load(), kN);
  for (int k = 0; k < kN; ++k) EXPECT_EQ(seen[k], 1) << k;
}

TEST(QueueRules, TimedOutGettersDoNotSwallowLaterItems) {
  Queue q = make_queue(0);
  std::vector<std::thread> ts;
  for (int k = 0; k < 4; ++k)
    ts.emplace_back([&] {
      void* it = nullptr;
      EXPECT_EQ(lox_queue_get(q.get(), &it, 0.02), LOX_TIMEOUT);
    });
  for (auto& t : ts) t.join();
  fill(q.get(), 0, 3);
  EXPECT_EQ(lox_queue_size(q.get()), 3u);
  drain_expect(q.get(), 0, 3);
}

TEST(QueueRules, TimedOutPuttersLeaveNothingBehind) {
  Queue q = make_queue(1);
  fill(q.get(), 0, 1);
  std::vector<std::thread> ts;
  for (int k = 0; k < 4; ++k)
    ts.emplace_back([&, k] { EXPECT_EQ(lox_queue_put(q.get(), item_of(10 + k), 0.02), LOX_TIMEOUT); });
  for (auto& t : ts) t.join();
  drain_expect(q.get(), 0, 1);
  void* it = nullptr;
  EXPECT_EQ(lox_queue_get(q.get(), &it, 0), LOX_TIMEOUT);
  fill(q.get(), 1, 2);  // the room is free for a new put
  drain_expect(q.get(), 1, 2);
}

// ----------------------------------------------------------------- close --

TEST(QueueClose, PutAfterCloseIsClosedAndGetsDrainFirst) {
  Queue q = make_queue(5);
  EXPECT_EQ(lox_queue_closed(q.get()), 0);
  fill(q.get(), 0, 3);
  ASSERT_EQ(lox_queue_close(q.get()), LOX_OK);
  EXPECT_EQ(lox_queue_closed(q.get()), 1);
  prime_detail();
  EXPECT_EQ(lox_queue_put(q.get(), item_of(9), 0), LOX_ECLOSED);
  EXPECT_DETAIL2("queue", "put");
  EXPECT_EQ(lox_queue_put(q.get(), item_of(9), LOX_FOREVER), LOX_ECLOSED);
  EXPECT_EQ(lox_queue_put(q.get(), nullptr, 0.01), LOX_ECLOSED);
  EXPECT_EQ(lox_queue_size(q.get()), 3u);
  drain_expect(q.get(), 0, 3);
  void* it = item_of(55);
  prime_detail();
  EXPECT_EQ(lox_queue_get(q.get(), &it, 0), LOX_ECLOSED);
  EXPECT_DETAIL2("queue", "get");
  EXPECT_EQ(lox_queue_get(q.get(), &it, 0.01), LOX_ECLOSED);
  EXPECT_EQ(lox_queue_get(q.get(), &it, LOX_FOREVER), LOX_ECLOSED) << "does not wait on a closed, drained queue";
  EXPECT_EQ(from_ptr(it), 55);
  EXPECT_EQ(lox_queue_empty(q.get()), 1);
  EXPECT_EQ(lox_queue_size(q.get()), 0u);
}

TEST(QueueClose, CloseTwiceIsFine) {
  Queue q = make_queue(0);
  EXPECT_EQ(lox_queue_close(q.get()), LOX_OK);
  EXPECT_EQ(lox_queue_close(q.get()), LOX_OK);
  EXPECT_EQ(lox_queue_closed(q.get()), 1);
  void* it = nullptr;
  EXPECT_EQ(lox_queue_get(q.get(), &it, 0), LOX_ECLOSED);
}

TEST(QueueClose, CloseOfAFullBoundedQueueKeepsItsItems) {
  Queue q = make_queue(3);
  fill(q.get(), 0, 3);
  ASSERT_EQ(lox_queue_close(q.get()), LOX_OK);
  EXPECT_EQ(lox_queue_full(q.get()), 1);
  EXPECT_EQ(lox_queue_put(q.get(), item_of(3), 0), LOX_ECLOSED) << "closed wins over full";
  drain_expect(q.get(), 0, 3);
  void* it = nullptr;
  EXPECT_EQ(lox_queue_get(q.get(), &it, LOX_FOREVER), LOX_ECLOSED);
}

TEST(QueueClose, WakesBlockedGetters) {
  Queue q = make_queue(0);
  constexpr int kN = 3;
  std::vector<std::atomic<int>> rc(kN);
  std::vector<std::unique_ptr<Sleeper>> ss;
  for (int k = 0; k < kN; ++k) {
    rc[k] = 99;
    ss.push_back(std::make_unique<Sleeper>([&, k] {
      void* it = item_of(7);
      rc[k] = lox_queue_get(q.get(), &it, k == 0 ? 30.0 : LOX_FOREVER);
      EXPECT_EQ(from_ptr(it), 7);
    }));
    ASSERT_TRUE(ss.back()->wait_asleep());
  }
  ASSERT_EQ(lox_queue_close(q.get()), LOX_OK);
  for (auto& s : ss) s->join();
  for (int k = 0; k < kN; ++k) EXPECT_EQ(rc[k].load(), LOX_ECLOSED) << k;
}

TEST(QueueClose, WakesBlockedPuttersAndKeepsWhatWasIn) {
  Queue q = make_queue(1);
  fill(q.get(), 0, 1);
  constexpr int kN = 3;
  std::vector<std::atomic<int>> rc(kN);
  std::vector<std::unique_ptr<Sleeper>> ss;
  for (int k = 0; k < kN; ++k) {
    rc[k] = 99;
    ss.push_back(std::make_unique<Sleeper>(
        [&, k] { rc[k] = lox_queue_put(q.get(), item_of(10 + k), k == 0 ? 30.0 : LOX_FOREVER); }));
    ASSERT_TRUE(ss.back()->wait_asleep());
  }
  ASSERT_EQ(lox_queue_close(q.get()), LOX_OK);
  for (auto& s : ss) s->join();
  for (int k = 0; k < kN; ++k) EXPECT_EQ(rc[k].load(), LOX_ECLOSED) << k;
  drain_expect(q.get(), 0, 1);
  void* it = nullptr;
  EXPECT_EQ(lox_queue_get(q.get(), &it, 0), LOX_ECLOSED) << "a put that returned LOX_ECLOSED left its item";
  // The refused puts are not unfinished work.
  EXPECT_EQ(lox_queue_task_done(q.get()), LOX_OK);
  EXPECT_EQ(lox_queue_join(q.get(), 0), LOX_OK);
}

TEST(QueueClose, JoinIsIndependentOfClose) {
  Queue q = make_queue(0);
  fill(q.get(), 0, 2);
  ASSERT_EQ(lox_queue_close(q.get()), LOX_OK);
  EXPECT_EQ(lox_queue_join(q.get(), 0), LOX_TIMEOUT) << "closing does not finish the work";
  drain_expect(q.get(), 0, 2);
  EXPECT_EQ(lox_queue_join(q.get(), 0.01), LOX_TIMEOUT);
  EXPECT_EQ(lox_queue_task_done(q.get()), LOX_OK);
  EXPECT_EQ(lox_queue_task_done(q.get()), LOX_OK);
  EXPECT_EQ(lox_queue_join(q.get(), 0), LOX_OK);
  EXPECT_EQ(lox_queue_join(q.get(), LOX_FOREVER), LOX_OK);
}

// ------------------------------------------------------ task_done, join --

TEST(QueueJoin, TaskDoneMoreOftenThanGetsIsAStateError) {
  Queue q = make_queue(0);
  prime_detail();
  EXPECT_EQ(lox_queue_task_done(q.get()), LOX_ESTATE);
  EXPECT_DETAIL2("queue", "task_done");
  fill(q.get(), 0, 2);
  EXPECT_EQ(lox_queue_task_done(q.get()), LOX_ESTATE) << "put but not got yet";
  drain_expect(q.get(), 0, 1);
  EXPECT_EQ(lox_queue_task_done(q.get()), LOX_OK);
  prime_detail();
  EXPECT_EQ(lox_queue_task_done(q.get()), LOX_ESTATE);
  EXPECT_DETAIL2("queue", "task_done");
  // The refused task_done changed nothing: one item is still unfinished.
  EXPECT_EQ(lox_queue_join(q.get(), 0), LOX_TIMEOUT);
  drain_expect(q.get(), 1, 2);
  EXPECT_EQ(lox_queue_join(q.get(), 0), LOX_TIMEOUT);
  EXPECT_EQ(lox_queue_task_done(q.get()), LOX_OK);
  EXPECT_EQ(lox_queue_join(q.get(), 0), LOX_OK);
  EXPECT_EQ(lox_queue_task_done(q.get()), LOX_ESTATE);
  EXPECT_EQ(lox_queue_join(q.get(), 0), LOX_OK);
}

TEST(QueueJoin, ReturnsAtOnceWhenNothingIsUnfinished) {
  Queue q = make_queue(3);
  EXPECT_EQ(lox_queue_join(q.get(), 0), LOX_OK);
  EXPECT_EQ(lox_queue_join(q.get(), LOX_FOREVER), LOX_OK);
  fill(q.get(), 0, 1);
  EXPECT_EQ(lox_queue_join(q.get(), 0), LOX_TIMEOUT);
  EXPECT_EQ(lox_queue_join(q.get(), 0.02), LOX_TIMEOUT);
  drain_expect(q.get(), 0, 1);
  EXPECT_EQ(lox_queue_join(q.get(), 0), LOX_TIMEOUT) << "got is not done";
  EXPECT_EQ(lox_queue_task_done(q.get()), LOX_OK);
  EXPECT_EQ(lox_queue_join(q.get(), 0), LOX_OK);
}

TEST(QueueJoin, SeveralJoinersReturnOnlyAfterTheLastTaskDone) {
  Queue q = make_queue(0);
  fill(q.get(), 0, 2);
  constexpr int kN = 3;
  std::vector<std::atomic<int>> rc(kN);
  std::atomic<int> returned{0};
  std::vector<std::unique_ptr<Sleeper>> ss;
  for (int k = 0; k < kN; ++k) {
    rc[k] = 99;
    ss.push_back(std::make_unique<Sleeper>([&, k] {
      rc[k] = lox_queue_join(q.get(), k == 0 ? 30.0 : LOX_FOREVER);
      returned.fetch_add(1);
    }));
    ASSERT_TRUE(ss.back()->wait_asleep());
  }
  drain_expect(q.get(), 0, 2);
  ASSERT_EQ(lox_queue_task_done(q.get()), LOX_OK);
  std::this_thread::sleep_for(20ms);  // not needed for correctness: gives an early return a chance
  EXPECT_EQ(returned.load(), 0) << "a joiner returned with one item unfinished";
  std::thread([&] { EXPECT_EQ(lox_queue_task_done(q.get()), LOX_OK); }).join();
  for (auto& s : ss) s->join();
  for (int k = 0; k < kN; ++k) EXPECT_EQ(rc[k].load(), LOX_OK) << k;
}

TEST(QueueJoin, JoinerWaitsForWorkPutWhileItWaits) {
  Queue q = make_queue(0);
  fill(q.get(), 0, 1);
  std::atomic<int> rc{99};
  Sleeper s([&] { rc = lox_queue_join(q.get(), LOX_FOREVER); });
  ASSERT_TRUE(s.wait_asleep());
  fill(q.get(), 1, 2);  // more work before the first is done
  drain_expect(q.get(), 0, 1);
  ASSERT_EQ(lox_queue_task_done(q.get()), LOX_OK);
  std::this_thread::sleep_for(20ms);  // not needed for correctness
  EXPECT_EQ(rc.load(), 99) << "join returned with an item still in the queue";
  drain_expect(q.get(), 1, 2);
  ASSERT_EQ(lox_queue_task_done(q.get()), LOX_OK);
  s.join();
  EXPECT_EQ(rc.load(), LOX_OK);
}

// ------------------------------------------------------ sizes and layouts --

TEST(QueueLayout, MaxsizeOneAlternates) {
  Queue q = make_queue(1);
  for (intptr_t i = 0; i < 1000; ++i) {
    ASSERT_EQ(lox_queue_put(q.get(), item_of(i), 0), LOX_OK);
    ASSERT_EQ(lox_queue_full(q.get()), 1);
    ASSERT_EQ(lox_queue_put(q.get(), item_of(-1), 0), LOX_TIMEOUT);
    void* it = nullptr;
    ASSERT_EQ(lox_queue_get(q.get(), &it, 0), LOX_OK);
    ASSERT_EQ(from_ptr(it), i);
    ASSERT_EQ(lox_queue_empty(q.get()), 1);
  }
}

TEST(QueueLayout, MaxsizeOnePingPongBetweenThreads) {
  Queue q = make_queue(1);
  constexpr intptr_t kN = 2000;
  std::thread producer([&] {
    for (intptr_t i = 0; i < kN; ++i) ASSERT_EQ(lox_queue_put(q.get(), item_of(i), LOX_FOREVER), LOX_OK);
  });
  for (intptr_t i = 0; i < kN; ++i) {
    void* it = nullptr;
    ASSERT_EQ(lox_queue_get(q.get(), &it, LOX_FOREVER), LOX_OK);
    ASSERT_EQ(from_ptr(it), i);
    ASSERT_LE(lox_queue_size(q.get()), 1u);
  }
  producer.join();
}

// Fills a bounded queue exactly to maxsize, checks that it is full, drains
// it in order, and does it again (the second round wraps around).
void fill_to_maxsize_and_drain(size_t maxsize) {
  Queue q = make_queue(maxsize);
  const intptr_t n = static_cast<intptr_t>(maxsize);
  for (int round = 0; round < 2; ++round) {
    intptr_t base = round * n + 7;
    fill(q.get(), base, base + n);
    ASSERT_EQ(lox_queue_size(q.get()), maxsize);
    ASSERT_EQ(lox_queue_full(q.get()), 1);
    ASSERT_EQ(lox_queue_put(q.get(), item_of(-1), 0), LOX_TIMEOUT) << "maxsize " << maxsize;
    drain_expect(q.get(), base, base + n / 2);
    ASSERT_EQ(lox_queue_full(q.get()), 0);
    fill(q.get(), base + n, base + n + n / 2);  // refill while half drained
    ASSERT_EQ(lox_queue_full(q.get()), 1);
    drain_expect(q.get(), base + n / 2, base + n + n / 2);
    ASSERT_EQ(lox_queue_empty(q.get()), 1);
  }
}

TEST(QueueLayout, RingAtItsLargestSize) { fill_to_maxsize_and_drain(65536); }

TEST(QueueLayout, SegmentedJustAboveTheRing) { fill_to_maxsize_and_drain(65537); }

TEST(QueueLayout, LargeMaxsize) { fill_to_maxsize_and_drain(100000); }

TEST(QueueLayout, SmallOddMaxsizes) {
  for (size_t m : {size_t{2}, size_t{3}, size_t{7}, size_t{1000}, size_t{1025}}) fill_to_maxsize_and_drain(m);
}

TEST(QueueLayout, UnboundedGrowsPastManyBlocksAndShrinks) {
  Queue q = make_queue(0);
  constexpr intptr_t kN = 100000;
  for (int round = 0; round < 3; ++round) {
    fill(q.get(), 0, kN);
    ASSERT_EQ(lox_queue_size(q.get()), static_cast<size_t>(kN));
    ASSERT_EQ(lox_queue_full(q.get()), 0);
    drain_expect(q.get(), 0, kN);
    void* it = nullptr;
    ASSERT_EQ(lox_queue_get(q.get(), &it, 0), LOX_TIMEOUT);
    ASSERT_EQ(lox_queue_empty(q.get()), 1);
  }
}

TEST(QueueLayout, UnboundedFilledByOneThreadDrainedByAnother) {
  Queue q = make_queue(0);
  constexpr intptr_t kN = 100000;
  std::thread([&] { fill(q.get(), 0, kN); }).join();
  std::thread([&] { drain_expect(q.get(), 0, kN); }).join();
  EXPECT_EQ(lox_queue_size(q.get()), 0u);
}

TEST(QueueLayout, DestroyWithItemsInsideFreesEverything) {
  // ASan reports a leak if the blocks or the ring are not freed.
  LogCapture cap;
  for (size_t m : {size_t{0}, size_t{8}, size_t{100000}}) {
    lox_queue* q = nullptr;
    ASSERT_EQ(lox_queue_create(m, &q), LOX_OK);
    fill(q, 0, m == 8 ? 8 : 5000);
    if (m == 8) ASSERT_EQ(lox_queue_close(q), LOX_OK);
    lox_queue_destroy(q);
  }
  EXPECT_FALSE(has_any_error_log(cap)) << "nobody waited: nothing to report";
}

// ------------------------------------------------ destroy with waiters --

TEST(QueueDestroy, BlockedGetterGetsEState) {
  LogCapture cap;
  lox_queue* q = nullptr;
  ASSERT_EQ(lox_queue_create(0, &q), LOX_OK);
  void* got = item_of(3);
  auto [rc, d] =
      outcome_when_blocked([&] { return lox_queue_get(q, &got, LOX_FOREVER); }, [&] { lox_queue_destroy(q); });
  EXPECT_EQ(rc, LOX_ESTATE);
  EXPECT_EQ(from_ptr(got), 3);
  EXPECT_NE(d.find("queue"), std::string::npos) << d;
  EXPECT_NE(d.find("get"), std::string::npos) << d;
  EXPECT_TRUE(has_error_log(cap, "queue", "destroy"));
}

TEST(QueueDestroy, BlockedPutterGetsEState) {
  LogCapture cap;
  lox_queue* q = nullptr;
  ASSERT_EQ(lox_queue_create(1, &q), LOX_OK);
  ASSERT_EQ(lox_queue_put(q, item_of(1), 0), LOX_OK);
  auto [rc, d] =
      outcome_when_blocked([&] { return lox_queue_put(q, item_of(2), 30.0); }, [&] { lox_queue_destroy(q); });
  EXPECT_EQ(rc, LOX_ESTATE);
  EXPECT_NE(d.find("put"), std::string::npos) << d;
  EXPECT_TRUE(has_error_log(cap, "queue", "destroy"));
}

TEST(QueueDestroy, BlockedJoinerGetsEState) {
  LogCapture cap;
  lox_queue* q = nullptr;
  ASSERT_EQ(lox_queue_create(0, &q), LOX_OK);
  ASSERT_EQ(lox_queue_put(q, item_of(1), 0), LOX_OK);
  auto [rc, d] = outcome_when_blocked([&] { return lox_queue_join(q, LOX_FOREVER); }, [&] { lox_queue_destroy(q); });
  EXPECT_EQ(rc, LOX_ESTATE);
  EXPECT_NE(d.find("join"), std::string::npos) << d;
  EXPECT_TRUE(has_error_log(cap, "queue", "destroy"));
}

TEST(QueueDestroy, GettersPuttersAndJoinersAtOnce) {
  LogCapture cap;
  for (size_t maxsize : {size_t{1}, size_t{100000}}) {
    cap.clear();
    // Two queues: getters wait on an empty one, putters and a joiner on a full one.
    lox_queue* empty = nullptr;
    lox_queue* full = nullptr;
    ASSERT_EQ(lox_queue_create(maxsize, &empty), LOX_OK);
    ASSERT_EQ(lox_queue_create(maxsize, &full), LOX_OK);
    for (size_t i = 0; i < maxsize; ++i) ASSERT_EQ(lox_queue_put(full, item_of(1), 0), LOX_OK);
    std::vector<std::atomic<int>> rc(5);
    for (auto& r : rc) r = 99;
    std::vector<std::unique_ptr<Sleeper>> ss;
    for (int k = 0; k < 2; ++k) {
      ss.push_back(std::make_unique<Sleeper>([&, k] {
        void* it = nullptr;
        rc[k] = lox_queue_get(empty, &it, LOX_FOREVER);
      }));
      ASSERT_TRUE(ss.back()->wait_asleep());
    }
    for (int k = 2; k < 4; ++k) {
      ss.push_back(std::make_unique<Sleeper>([&, k] { rc[k] = lox_queue_put(full, item_of(k), LOX_FOREVER); }));
      ASSERT_TRUE(ss.back()->wait_asleep());
    }
    ss.push_back(std::make_unique<Sleeper>([&] { rc[4] = lox_queue_join(full, LOX_FOREVER); }));
    ASSERT_TRUE(ss.back()->wait_asleep());
    lox_queue_destroy(empty);
    for (int k = 0; k < 2; ++k) ss[k]->join();
    EXPECT_EQ(rc[0].load(), LOX_ESTATE);
    EXPECT_EQ(rc[1].load(), LOX_ESTATE);
    EXPECT_TRUE(has_error_log(cap, "queue", "destroy")) << "maxsize " << maxsize;
    cap.clear();
    lox_queue_destroy(full);
    for (auto& s : ss) s->join();
    for (int k = 2; k < 5; ++k) EXPECT_EQ(rc[k].load(), LOX_ESTATE) << k << " maxsize " << maxsize;
    EXPECT_TRUE(has_error_log(cap, "queue", "destroy")) << "maxsize " << maxsize;
  }
}

}  // namespace
