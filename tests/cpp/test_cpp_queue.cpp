// SPDX-License-Identifier: Apache-2.0
// The C++ layer's queues (lox::queue<T>, lox::announcement<T>,
// lox::funnel<T>): typed items that round-trip exactly, timeouts that are
// outcomes and not exceptions, range-for with its task_done() accounting
// (also on break and on an exception), LOX_ECLOSED and misuse as lox::error,
// moves, lox's documented Announcement (one-to-many and many-to-many) and
// Funnel examples, and Effective Python's pipeline written with range-for.
//
// Not tested at run time: an item type that is not trivially copyable or
// does not fit in a pointer (lox::queue<std::string>, a 16-byte struct,
// lox::queue<const int>) must fail to compile with the item_codec
// static_assert messages; a negative compile test would need a build that is
// expected to fail, so it was checked by hand.
//
// Timing rule (as in the other tests): whatever must happen is waited for
// with a long deadline; nothing is asserted to happen within a short time.
// Short timeouts are only used where the outcome must be a timeout.
#include <lox/lox.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "eventually.hpp"
#include "thrown.hpp"

using namespace std::chrono_literals;
using loxtest::eventually;
using loxtest::kMust;
using loxtest::thrown;

namespace {

enum class color : std::uint8_t { red = 1, green = 2, blue = 250 };
enum plain_enum { first = -3, second = 1 << 20 };
struct rgb {  // a small trivially copyable struct: 4 bytes
  std::uint8_t r, g, b, a;
};

// ---- compile-time properties ---------------------------------------------

// Move-only handles with noexcept moves.
static_assert(!std::is_copy_constructible_v<lox::queue<int>> && !std::is_copy_assignable_v<lox::queue<int>>);
static_assert(std::is_nothrow_move_constructible_v<lox::queue<int>> &&
              std::is_nothrow_move_assignable_v<lox::queue<int>>);
static_assert(!std::is_copy_constructible_v<lox::announcement<int*>> &&
              std::is_nothrow_move_constructible_v<lox::announcement<int*>> &&
              std::is_nothrow_move_assignable_v<lox::announcement<int*>>);
static_assert(!std::is_copy_constructible_v<lox::funnel<int*>> &&
              std::is_nothrow_move_constructible_v<lox::funnel<int*>> &&
              std::is_nothrow_move_assignable_v<lox::funnel<int*>>);
// The range-for iterator owns its item's task_done: move-only too.
static_assert(!std::is_copy_constructible_v<lox::queue<int>::iterator> &&
              std::is_nothrow_move_constructible_v<lox::queue<int>::iterator>);
// Handles test as bool but do not convert to it.
static_assert(!std::is_convertible_v<lox::queue<int>, bool> && std::is_constructible_v<bool, lox::queue<int>>);
// The constructors taking sizes are explicit.
static_assert(!std::is_convertible_v<std::size_t, lox::queue<int>>);
static_assert(!std::is_convertible_v<std::size_t, lox::announcement<int>>);
// Return types.
static_assert(std::is_same_v<decltype(std::declval<lox::queue<color>&>().get()), color>);
static_assert(std::is_same_v<decltype(std::declval<lox::queue<color>&>().try_get(1s)), std::optional<color>>);
static_assert(std::is_same_v<decltype(std::declval<lox::queue<color>&>().try_put(color::red, 1s)), bool>);
static_assert(std::is_same_v<decltype(std::declval<lox::funnel<int>&>().get()), lox::funnel_set<int>>);
static_assert(
    std::is_same_v<decltype(std::declval<lox::funnel<int>&>().try_get(1s)), std::optional<lox::funnel_set<int>>>);

}  // namespace

// ================================================================= queue ==

TEST(cppQueue, IntRoundTripFifo) {
  lox::queue<int> q;
  EXPECT_TRUE(q);
  EXPECT_EQ(q.maxsize(), 0u);
  EXPECT_TRUE(q.empty());
  const std::vector<int> values = {0, 1, -1, 42, std::numeric_limits<int>::min(), std::numeric_limits<int>::max()};
  for (int v : values) q.put(v);
  EXPECT_EQ(q.size(), values.size());
  EXPECT_FALSE(q.empty());
  EXPECT_FALSE(q.full());  // unbounded: never full
  for (int v : values) EXPECT_EQ(q.get(), v);
  EXPECT_TRUE(q.empty());

  // Wider integers that still fit in a pointer.
  lox::queue<std::int64_t> q64;
  q64.put(std::numeric_limits<std::int64_t>::min());
  q64.put(-2);
  EXPECT_EQ(q64.get(), std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(q64.get(), -2);
  lox::queue<std::uint16_t> q16;
  q16.put(65535);
  EXPECT_EQ(q16.get(), 65535);
}

TEST(cppQueue, PointerRoundTrip) {
  std::string a = "a", b = "b";
  lox::queue<std::string*> q(3);
  q.put(&a);
  q.put(nullptr);  // NULL is an item like any other
  q.put(&b);
  EXPECT_TRUE(q.full());
  EXPECT_EQ(q.get(), &a);
  EXPECT_EQ(q.get(), nullptr);
  EXPECT_EQ(q.get(), &b);

  lox::queue<const char*> words;
  static const char kHello[] = "hello";
  words.put(kHello);
  EXPECT_EQ(words.get(), kHello);  // the same pointer, never copied or freed
}

TEST(cppQueue, EnumAndOtherSmallTypesRoundTrip) {
  lox::queue<color> colors;
  colors.put(color::blue);
  colors.put(color::red);
  EXPECT_EQ(colors.get(), color::blue);
  EXPECT_EQ(colors.get(), color::red);

  lox::queue<plain_enum> plain;
  plain.put(first);
  plain.put(second);
  EXPECT_EQ(plain.get(), first);
  EXPECT_EQ(plain.get(), second);

  lox::queue<bool> flags;
  flags.put(true);
  flags.put(false);
  EXPECT_TRUE(flags.get());
  EXPECT_FALSE(flags.get());

  lox::queue<double> reals;  // 8 bytes: fits in a 64-bit pointer
  static_assert(sizeof(double) <= sizeof(void*), "this test assumes 64-bit pointers");
  reals.put(-0.0);
  reals.put(std::numeric_limits<double>::infinity());
  const double neg_zero = reals.get();
  EXPECT_EQ(neg_zero, 0.0);
  EXPECT_TRUE(std::signbit(neg_zero));  // bit-exact
  EXPECT_EQ(reals.get(), std::numeric_limits<double>::infinity());

  lox::queue<rgb> pixels;
  pixels.put(rgb{1, 2, 3, 255});
  const rgb p = pixels.get();
  EXPECT_EQ(p.r, 1);
  EXPECT_EQ(p.g, 2);
  EXPECT_EQ(p.b, 3);
  EXPECT_EQ(p.a, 255);
}

TEST(cppQueue, IntptrItemsAreTheCSideVoidPointers) {
  // A C producer writes (void *)(intptr_t)x; a lox::queue<std::intptr_t>
  // reads x back, and the reverse.
  lox::queue<std::intptr_t> q;
  ASSERT_EQ(lox_queue_put(q.native_handle(), reinterpret_cast<void*>(static_cast<std::intptr_t>(-42)), 0.0), LOX_OK);
  EXPECT_EQ(q.get(), -42);
  q.put(1234);
  void* item = nullptr;
  ASSERT_EQ(lox_queue_get(q.native_handle(), &item, 0.0), LOX_OK);
  EXPECT_EQ(reinterpret_cast<std::intptr_t>(item), 1234);
}

TEST(cppQueue, TryGetTimesOutOnAnEmptyQueue) {
  lox::queue<int> q;
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_FALSE(q.try_get(30ms).has_value());
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 25ms);  // it did wait
  EXPECT_FALSE(q.try_get(0ms).has_value());
  EXPECT_FALSE(q.try_get(-1s).has_value());  // negative: once, never "forever"
  q.put(5);
  EXPECT_EQ(q.try_get(0ms), std::optional<int>(5));
  q.put(6);
  EXPECT_EQ(q.try_get(kMust), std::optional<int>(6));
}

TEST(cppQueue, TryPutTimesOutOnAFullQueue) {
  lox::queue<int> q(2);
  EXPECT_EQ(q.maxsize(), 2u);
  EXPECT_TRUE(q.try_put(1, 0ms));
  EXPECT_TRUE(q.try_put(2, 0ms));
  EXPECT_TRUE(q.full());
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_FALSE(q.try_put(3, 30ms));
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 25ms);
  EXPECT_FALSE(q.try_put(3, -1s));
  EXPECT_EQ(q.size(), 2u);  // the timed-out puts left no trace
  EXPECT_EQ(q.get(), 1);
  EXPECT_EQ(q.get(), 2);
  EXPECT_TRUE(q.empty());
}

TEST(cppQueue, PutWaitsForRoomAndGetWaitsForAnItem) {
  lox::queue<int> q(1);
  q.put(1);
  std::atomic<bool> put_done{false};
  std::thread producer([&] {
    q.put(2);  // waits: full
    put_done = true;
  });
  std::this_thread::sleep_for(20ms);
  EXPECT_FALSE(put_done.load());
  EXPECT_EQ(q.get(), 1);  // makes room
  producer.join();
  EXPECT_TRUE(put_done.load());
  EXPECT_EQ(q.get(), 2);

  std::atomic<int> got{0};
  std::thread consumer([&] { got = q.get(); });  // waits: empty
  std::this_thread::sleep_for(20ms);
  q.put(77);
  consumer.join();
  EXPECT_EQ(got.load(), 77);
}

TEST(cppQueue, TaskDoneAndJoin) {
  lox::queue<int> q;
  EXPECT_TRUE(q.try_join(0ms));  // nothing ever put
  q.join();
  q.put(1);
  q.put(2);
  EXPECT_FALSE(q.try_join(10ms));  // not got yet
  EXPECT_EQ(q.get(), 1);
  EXPECT_EQ(q.get(), 2);
  EXPECT_FALSE(q.try_join(0ms));  // got, not done
  q.task_done();
  EXPECT_FALSE(q.try_join(0ms));
  std::thread joiner([&] { q.join(); });
  q.task_done();
  joiner.join();
  EXPECT_TRUE(q.try_join(0ms));
  EXPECT_EQ(thrown([&] { q.task_done(); }).status(), LOX_ESTATE);  // more often than got
  EXPECT_TRUE(q.try_join(0ms));                                    // nothing changed
}

TEST(cppQueue, ClosedQueueThrowsLoxEclosed) {
  lox::queue<int> q;
  q.put(1);
  q.put(2);
  EXPECT_FALSE(q.closed());
  q.close();
  EXPECT_TRUE(q.closed());
  q.close();  // twice is fine
  // Puts are refused, gets drain what is left first.
  auto e = thrown([&] { q.put(3); });
  EXPECT_EQ(e.status(), LOX_ECLOSED);
  EXPECT_NE(std::string(e.what()).find("LOX_ECLOSED"), std::string::npos);
  EXPECT_EQ(thrown([&] { q.try_put(3, 1s); }).status(), LOX_ECLOSED);
  EXPECT_EQ(q.get(), 1);
  EXPECT_EQ(q.try_get(1s), std::optional<int>(2));
  // Closed and drained: get() throws (it has nothing to return), and so does
  // try_get (closed is not a timeout).
  EXPECT_EQ(thrown([&] { static_cast<void>(q.get()); }).status(), LOX_ECLOSED);
  EXPECT_EQ(thrown([&] { static_cast<void>(q.try_get(0ms)); }).status(), LOX_ECLOSED);
  q.task_done();
  q.task_done();
  EXPECT_TRUE(q.try_join(0ms));
}

TEST(cppQueue, CloseWakesWaitingGetAndPut) {
  lox::queue<int> q(1);
  std::atomic<int> get_status{0};
  std::thread getter([&] {
    try {
      static_cast<void>(q.get());
    } catch (const lox::error& e) {
      get_status = e.status();
    }
  });
  lox::queue<int> full(1);
  full.put(0);
  std::atomic<int> put_status{0};
  std::thread putter([&] {
    try {
      full.put(1);
    } catch (const lox::error& e) {
      put_status = e.status();
    }
  });
  std::this_thread::sleep_for(20ms);
  q.close();
  full.close();
  getter.join();
  putter.join();
  EXPECT_EQ(get_status.load(), LOX_ECLOSED);
  EXPECT_EQ(put_status.load(), LOX_ECLOSED);
  EXPECT_EQ(full.get(), 0);  // the item put before the close is still there
}

TEST(cppQueue, NanDurationIsLoxEinval) {
  lox::queue<int> q;
  const std::chrono::duration<double> nan{std::numeric_limits<double>::quiet_NaN()};
  EXPECT_EQ(thrown([&] { static_cast<void>(q.try_get(nan)); }).status(), LOX_EINVAL);
  EXPECT_EQ(thrown([&] { q.try_put(1, nan); }).status(), LOX_EINVAL);
  EXPECT_EQ(thrown([&] { q.try_join(nan); }).status(), LOX_EINVAL);
  EXPECT_TRUE(q.empty());
}

TEST(cppQueue, Moves) {
  lox::queue<int> a(5);
  a.put(1);
  lox::queue<int> b(std::move(a));
  EXPECT_FALSE(a);  // NOLINT(bugprone-use-after-move)
  EXPECT_TRUE(b);
  EXPECT_EQ(b.maxsize(), 5u);
  EXPECT_EQ(b.size(), 1u);
  // A moved-from queue: calls throw LOX_EINVAL, getters read empty.
  EXPECT_EQ(thrown([&] { a.put(2); }).status(), LOX_EINVAL);  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(thrown([&] { static_cast<void>(a.get()); }).status(), LOX_EINVAL);
  EXPECT_EQ(thrown([&] {
              for (int x : a) static_cast<void>(x);
            }).status(),
            LOX_EINVAL);
  EXPECT_EQ(a.size(), 0u);
  EXPECT_EQ(a.maxsize(), 0u);
  EXPECT_TRUE(a.empty());
  EXPECT_FALSE(a.full());
  EXPECT_FALSE(a.closed());
  EXPECT_EQ(a.native_handle(), nullptr);

  lox::queue<int> c;
  c.put(9);
  c = std::move(b);  // destroys c's queue (and its item), takes b's
  EXPECT_EQ(c.size(), 1u);
  EXPECT_EQ(c.get(), 1);
  a = lox::queue<int>(2);  // a moved-from queue can be assigned again
  a.put(4);
  EXPECT_EQ(a.get(), 4);
}

// ------------------------------------------------------------ range-for --

TEST(cppQueue, RangeForEndsAtCloseAndMarksEachItemAfterItsBody) {
  lox::queue<int> q(4);
  constexpr int kItems = 100;
  std::thread producer([&] {
    for (int i = 0; i < kItems; ++i) q.put(i);
    q.close();
  });
  std::vector<int> seen;
  bool undone_in_body = true;
  for (int x : q) {
    seen.push_back(x);
    // This item is got but not yet done while its body runs: join waits.
    undone_in_body = undone_in_body && !q.try_join(0ms);
  }
  producer.join();
  EXPECT_TRUE(undone_in_body);
  ASSERT_EQ(seen.size(), static_cast<std::size_t>(kItems));
  for (int i = 0; i < kItems; ++i) EXPECT_EQ(seen[static_cast<std::size_t>(i)], i);
  EXPECT_TRUE(q.try_join(0ms));  // every item was marked: join returns at once
  q.join();
  EXPECT_TRUE(q.closed());
  EXPECT_TRUE(q.empty());
}

TEST(cppQueue, RangeForOnAClosedEmptyQueueDoesNothing) {
  lox::queue<int> q;
  q.close();
  int bodies = 0;
  for (int x : q) bodies += x + 1;
  EXPECT_EQ(bodies, 0);
  q.join();
}

TEST(cppQueue, JoinReturnsAfterTheConsumersLoopsProcessedEverything) {
  // Effective Python's shape: consumers loop, the producer puts, closes and
  // joins. join() returns only once every loop body has finished with its
  // item (processed counts them).
  lox::queue<int> q(8);
  std::atomic<int> processed{0};
  std::mutex mu;
  std::multiset<int> seen;
  std::vector<std::thread> consumers;
  for (int c = 0; c < 3; ++c) {
    consumers.emplace_back([&] {
      for (int x : q) {
        {
          std::lock_guard<std::mutex> lk(mu);
          seen.insert(x);
        }
        ++processed;
      }
    });
  }
  constexpr int kItems = 1000;
  for (int i = 0; i < kItems; ++i) q.put(i);
  q.close();
  q.join();
  EXPECT_EQ(processed.load(), kItems);  // join waited for the bodies, not just the gets
  for (auto& t : consumers) t.join();
  ASSERT_EQ(seen.size(), static_cast<std::size_t>(kItems));
  int expected = 0;
  for (int x : seen) EXPECT_EQ(x, expected++);  // each item exactly once
}

TEST(cppQueue, BreakMarksTheItemBeingProcessed) {
  // The documented choice: leaving the loop by `break` marks the item whose
  // body was running (like ClosableQueue's `finally: task_done()`); the items
  // not got stay for a later loop.
  lox::queue<int> q;
  for (int i = 1; i <= 5; ++i) q.put(i);
  std::vector<int> first;
  for (int x : q) {
    first.push_back(x);
    if (x == 3) break;
  }
  EXPECT_EQ(first, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(q.size(), 2u);
  // 1, 2 and 3 are done: the only unfinished items are the two left, so one
  // more task_done than those two would be too many.
  EXPECT_FALSE(q.try_join(0ms));
  q.close();
  std::vector<int> rest;
  for (int x : q) rest.push_back(x);
  EXPECT_EQ(rest, (std::vector<int>{4, 5}));
  EXPECT_TRUE(q.try_join(0ms));
  EXPECT_EQ(thrown([&] { q.task_done(); }).status(), LOX_ESTATE);  // no item left unmarked
}

TEST(cppQueue, ReturnAndExceptionFromTheBodyMarkTheItem) {
  lox::queue<int> q;
  for (int i = 1; i <= 4; ++i) q.put(i);
  auto find_two = [&]() -> int {
    for (int x : q)
      if (x == 2) return x;  // leaves the loop holding 2
    return -1;
  };
  EXPECT_EQ(find_two(), 2);
  EXPECT_THROW(
      {
        for (int x : q)
          if (x == 3) throw std::runtime_error("boom");  // leaves holding 3
      },
      std::runtime_error);
  EXPECT_EQ(q.size(), 1u);
  EXPECT_EQ(q.get(), 4);
  EXPECT_FALSE(q.try_join(0ms));
  q.task_done();  // for 4: 1, 2 and 3 were marked by the loops
  EXPECT_TRUE(q.try_join(0ms));
}

TEST(cppQueue, TaskDoneInsideARangeForIsCountedTwice) {
  // The loop marks its items itself; a task_done() in the body as well is
  // one too many, reported by the loop's next step.
  lox::queue<int> q;
  q.put(1);
  q.close();
  auto e = thrown([&] {
    for (int x : q) {
      static_cast<void>(x);
      q.task_done();
    }
  });
  EXPECT_EQ(e.status(), LOX_ESTATE);
  EXPECT_TRUE(q.try_join(0ms));
}

TEST(cppQueue, IteratorMoves) {
  lox::queue<int> q;
  q.put(1);
  q.put(2);
  q.close();
  auto it = q.begin();
  EXPECT_TRUE(it != q.end());
  EXPECT_EQ(*it, 1);
  auto it2 = std::move(it);  // takes the item and its pending task_done
  EXPECT_TRUE(it == q.end());
  EXPECT_TRUE(q.end() != it2);
  EXPECT_EQ(*it2, 1);
  EXPECT_FALSE(q.try_join(0ms));
  ++it2;  // marks 1, gets 2
  EXPECT_EQ(*it2, 2);
  ++it2;  // marks 2, closed and drained: the end
  EXPECT_TRUE(it2 == q.end());
  EXPECT_TRUE(q.end() == it2);
  EXPECT_TRUE(q.try_join(0ms));
}

// ========================================================== announcement ==

TEST(cppAnnouncement, LoxExampleWithTwoThreadPools) {
  // lox's docs: two subscribers, each read by a thread-pool function.
  lox::announcement<int> ann;
  auto foo_q = ann.subscribe();
  auto bar_q = ann.subscribe();
  auto foo = lox::thread(2, [&] { return foo_q.get(); });
  auto bar = lox::thread(2, [&] {
    int x = bar_q.get();
    return x * x;
  });
  ann.put(5);
  foo.scatter();
  auto foo_res = foo.gather();
  bar.scatter();
  auto bar_res = bar.gather();
  EXPECT_EQ(foo_res, std::vector<int>{5});
  EXPECT_EQ(bar_res, std::vector<int>{25});
  EXPECT_EQ(ann.subscribers(), 3u);  // lox's len(ann): the creator is a member
}

TEST(cppAnnouncement, LoxManyToManyExample) {
  // lox 0.6: foo = ann.subscribe(); foo.put(42); ann.get() == 42.
  lox::announcement<int> ann;
  EXPECT_EQ(ann.subscribers(), 1u);
  auto foo = ann.subscribe();
  auto bar = ann.subscribe();
  EXPECT_EQ(ann.subscribers(), 3u);
  foo.put(42);
  EXPECT_EQ(ann.get(), 42);
  EXPECT_EQ(bar.get(), 42);
  EXPECT_FALSE(foo.try_get(0ms)) << "not to the sender";
  // A member waiting in get, the creator included, takes a put from a
  // thread pool's task.
  auto pool = lox::thread(2, [&](int x) {
    bar.put(x * 2);
    return x;
  });
  pool.scatter(21);
  EXPECT_EQ(ann.get(), 42);
  EXPECT_EQ(foo.get(), 42);
  EXPECT_EQ(pool.gather(), std::vector<int>{21});
}

TEST(cppAnnouncement, MembersSubscribersAndClones) {
  lox::announcement<const char*> ann(0);
  auto a = ann.subscribe();
  auto b = ann.subscribe(1);
  EXPECT_EQ(ann.subscribers(), 3u);
  // The creator is a member: empty for now, a timeout rather than an exception.
  EXPECT_FALSE(ann.try_get(0ms).has_value());
  EXPECT_TRUE(ann.empty());
  EXPECT_EQ(ann.size(), 0u);
  // A subscriber's put reaches the others, the creator included, not itself.
  a.put("from a");
  EXPECT_TRUE(a.empty());
  EXPECT_EQ(b.size(), 1u);
  EXPECT_TRUE(b.full());
  EXPECT_STREQ(b.get(), "from a");
  EXPECT_STREQ(ann.get(), "from a");
  // A clone publishes to the same group, creator included, and receives nothing.
  auto pub = ann.clone();
  EXPECT_EQ(ann.subscribers(), 3u);
  pub.put("from clone");
  EXPECT_STREQ(a.get(), "from clone");
  EXPECT_STREQ(*b.try_get(kMust), "from clone");
  EXPECT_STREQ(ann.get(), "from clone");
  EXPECT_EQ(thrown([&] { static_cast<void>(pub.try_get(0ms)); }).status(), LOX_ECLOSED);
  EXPECT_FALSE(a.try_get(10ms).has_value());  // empty: a timeout, not an exception
  // Any handle may subscribe; the new member is in the same group.
  auto c = b.subscribe();
  EXPECT_EQ(ann.subscribers(), 4u);
  ann.put("to all");
  EXPECT_STREQ(a.get(), "to all");
  EXPECT_STREQ(b.get(), "to all");
  EXPECT_STREQ(c.get(), "to all");
  EXPECT_TRUE(ann.empty());
}

TEST(cppAnnouncement, BacklogAndFinalize) {
  lox::announcement<int> ring(0, 2);  // keep the last 2
  for (int i = 1; i <= 3; ++i) ring.put(i);
  EXPECT_EQ(ring.backlog(), 2u);
  auto late = ring.subscribe();
  EXPECT_EQ(late.get(), 2);
  EXPECT_EQ(late.get(), 3);
  EXPECT_FALSE(late.try_get(0ms));
  // A new member whose queue cannot hold the backlog is refused.
  EXPECT_EQ(thrown([&] { static_cast<void>(ring.subscribe(1)); }).status(), LOX_ESTATE);
  EXPECT_EQ(ring.subscribers(), 2u);

  lox::announcement<int> all(0, lox::backlog_unbounded);
  for (int i = 0; i < 10; ++i) all.put(i);
  EXPECT_EQ(all.backlog(), 10u);
  auto sub = all.subscribe();
  EXPECT_EQ(sub.size(), 10u);
  all.finalize();
  all.finalize();  // twice is fine
  EXPECT_EQ(all.backlog(), 0u);
  EXPECT_EQ(thrown([&] { static_cast<void>(all.subscribe()); }).status(), LOX_ECLOSED);
  all.put(10);  // existing subscribers are unaffected
  for (int i = 0; i <= 10; ++i) EXPECT_EQ(sub.get(), i);

  lox::announcement<int> none(0, lox::backlog_off);
  none.put(1);  // nobody subscribed, no backlog: gone
  auto s = none.subscribe();
  EXPECT_TRUE(s.empty());
  EXPECT_EQ(thrown([] { lox::announcement<int> bad(0, -2); }).status(), LOX_EINVAL);
}

TEST(cppAnnouncement, TryPutIsAllOrNone) {
  lox::announcement<int> ann;
  auto small = ann.subscribe(1);
  auto big = ann.subscribe();
  ann.put(1);
  EXPECT_TRUE(small.full());
  EXPECT_FALSE(ann.try_put(2, 20ms));  // small is full: nobody gets 2
  EXPECT_EQ(big.size(), 1u);
  std::thread putter([&] { ann.put(3); });  // waits for small to have room
  EXPECT_EQ(small.get(), 1);
  putter.join();
  EXPECT_EQ(small.get(), 3);
  EXPECT_EQ(big.get(), 1);
  EXPECT_EQ(big.get(), 3);
}

TEST(cppAnnouncement, Unsubscribe) {
  lox::announcement<int> ann;
  auto a = ann.subscribe();
  auto b = ann.subscribe();
  ann.put(1);
  a.unsubscribe();
  EXPECT_EQ(ann.subscribers(), 2u);
  ann.put(2);                                                                    // no longer reaches a
  EXPECT_EQ(a.get(), 1);                                                         // a drains what it had...
  EXPECT_EQ(thrown([&] { static_cast<void>(a.get()); }).status(), LOX_ECLOSED);  // ...then is closed
  EXPECT_EQ(thrown([&] { a.unsubscribe(); }).status(), LOX_ESTATE);
  auto pub = ann.clone();
  EXPECT_EQ(thrown([&] { pub.unsubscribe(); }).status(), LOX_ESTATE);  // a clone is no member
  a.put(3);                                                            // an unsubscribed handle may still put
  EXPECT_EQ(b.get(), 1);
  EXPECT_EQ(b.get(), 2);
  EXPECT_EQ(b.get(), 3);
  EXPECT_EQ(ann.get(), 3);
  ann.unsubscribe();  // the creator may leave too
  EXPECT_EQ(b.subscribers(), 1u);
  b.put(4);
  EXPECT_EQ(thrown([&] { static_cast<void>(ann.get()); }).status(), LOX_ECLOSED);
}

TEST(cppAnnouncement, MovesAndHandleLifetimes) {
  auto pub = std::make_unique<lox::announcement<int>>();
  lox::announcement<int> a = pub->subscribe();
  lox::announcement<int> moved(std::move(a));
  EXPECT_FALSE(a);  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(thrown([&] { static_cast<void>(a.get()); }).status(), LOX_EINVAL);
  EXPECT_EQ(a.subscribers(), 0u);
  EXPECT_TRUE(a.empty());
  EXPECT_FALSE(a.full());
  EXPECT_EQ(pub->subscribers(), 2u);  // moving is not unsubscribing
  pub->put(1);
  EXPECT_EQ(moved.get(), 1);

  auto other = pub->subscribe();
  EXPECT_EQ(pub->subscribers(), 3u);
  other = std::move(moved);  // destroys other's handle: it unsubscribes
  EXPECT_EQ(pub->subscribers(), 2u);
  // The group lives until its last handle: destroy the original publisher
  // and keep using a clone and the subscriber.
  auto clone = pub->clone();
  pub.reset();
  clone.put(2);
  EXPECT_EQ(other.get(), 2);
  EXPECT_EQ(clone.subscribers(), 1u);
}

TEST(cppAnnouncement, ManySubscribersEachGetEveryItem) {
  lox::announcement<int> ann(4);  // bounded receive queues: puts wait for the slowest
  constexpr int kSubs = 3, kItems = 500;
  std::vector<lox::announcement<int>> subs;
  for (int i = 0; i < kSubs; ++i) subs.push_back(ann.subscribe());
  std::vector<long> sums(kSubs, 0);
  std::vector<std::thread> readers;
  for (int i = 0; i < kSubs; ++i) {
    readers.emplace_back([&, i] {
      for (int n = 0; n < kItems; ++n) sums[static_cast<std::size_t>(i)] += subs[static_cast<std::size_t>(i)].get();
    });
  }
  for (int n = 0; n < kItems; ++n) ann.put(n);
  for (auto& t : readers) t.join();
  for (long s : sums) EXPECT_EQ(s, static_cast<long>(kItems) * (kItems - 1) / 2);
}

// ================================================================ funnel ==

TEST(cppFunnel, LoxExample) {
  lox::funnel<const char*> funnel;
  auto sub_1 = funnel.subscribe();
  auto sub_2 = funnel.subscribe();
  EXPECT_EQ(funnel.inputs(), 2u);
  EXPECT_EQ(funnel.index(), -1);
  EXPECT_EQ(sub_1.index(), 0);
  EXPECT_EQ(sub_2.index(), 1);
  constexpr unsigned long long job_id = 7;
  sub_1.put(job_id, "foo");
  EXPECT_FALSE(funnel.try_get(10ms).has_value());  // lox: "Timed Out"
  EXPECT_EQ(funnel.ready(), 0u);
  sub_2.put(job_id, "bar");
  EXPECT_EQ(funnel.ready(), 1u);
  auto res = funnel.get();
  EXPECT_EQ(res.jid, job_id);
  ASSERT_EQ(res.items.size(), 2u);
  EXPECT_STREQ(res.items[0], "foo");
  EXPECT_STREQ(res.items[1], "bar");
  EXPECT_EQ(funnel.ready(), 0u);
}

TEST(cppFunnel, CompletionOrderInputOrderAndRepeatedPuts) {
  lox::funnel<int> top;
  auto in0 = top.subscribe();
  auto in1 = in0.subscribe();  // an input may subscribe more
  EXPECT_EQ(in1.index(), 1);
  in1.put(1, 11);
  in0.put(2, 20);
  in0.put(1, 10);   // job 1 completes first
  in0.put(2, 200);  // a second put for job 2 by input 0: kept for the next set of job 2
  in1.put(2, 21);   // job 2 completes with input 0's first item
  in1.put(2, 210);  // ...and again with its second
  auto s1 = top.get();
  EXPECT_EQ(s1.jid, 1u);
  EXPECT_EQ(s1.items, (std::vector<int>{10, 11}));  // input order, not put order
  auto s2 = top.get();
  EXPECT_EQ(s2.jid, 2u);
  EXPECT_EQ(s2.items, (std::vector<int>{20, 21}));
  auto s3 = top.try_get(kMust);
  ASSERT_TRUE(s3);
  EXPECT_EQ(s3->jid, 2u);
  EXPECT_EQ(s3->items, (std::vector<int>{200, 210}));
  EXPECT_FALSE(top.try_get(0ms));
  EXPECT_FALSE(top.try_get(-1s));
}

TEST(cppFunnel, Misuse) {
  lox::funnel<int> top;
  auto in = top.subscribe();
  EXPECT_EQ(thrown([&] { top.put(1, 1); }).status(), LOX_ESTATE);  // lox's FunnelPutTopError
  EXPECT_EQ(thrown([&] { static_cast<void>(in.get()); }).status(), LOX_ESTATE);
  EXPECT_EQ(thrown([&] { static_cast<void>(in.try_get(0ms)); }).status(), LOX_ESTATE);
  const std::chrono::duration<double> nan{std::numeric_limits<double>::quiet_NaN()};
  EXPECT_EQ(thrown([&] { static_cast<void>(top.try_get(nan)); }).status(), LOX_EINVAL);
}

TEST(cppFunnel, AnInputSubscribedLaterGrowsTheSet) {
  // A set not yet complete also waits for an input added meanwhile. The
  // getter here may already be waiting with room for 2 items when the set
  // becomes 3 (then the C call reports the size and the wrapper retries with
  // a bigger buffer); either way it must get all 3.
  lox::funnel<int> top;
  auto in0 = top.subscribe();
  auto in1 = top.subscribe();
  std::optional<lox::funnel_set<int>> got;
  std::thread getter([&] { got = top.get(); });
  std::this_thread::sleep_for(20ms);  // most likely waiting inside the C get by now
  in0.put(5, 50);
  auto in2 = top.subscribe();
  in1.put(5, 51);
  EXPECT_EQ(top.ready(), 0u);  // still waits for in2
  in2.put(5, 52);
  getter.join();
  ASSERT_TRUE(got);
  EXPECT_EQ(got->jid, 5u);
  EXPECT_EQ(got->items, (std::vector<int>{50, 51, 52}));
}

TEST(cppFunnel, MovesAndHandleLifetimes) {
  auto top = std::make_unique<lox::funnel<std::uintptr_t>>();
  lox::funnel<std::uintptr_t> in0 = top->subscribe();
  lox::funnel<std::uintptr_t> in1 = top->subscribe();
  lox::funnel<std::uintptr_t> moved(std::move(in0));
  EXPECT_FALSE(in0);  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(in0.index(), -1);
  EXPECT_EQ(in0.inputs(), 0u);
  EXPECT_EQ(thrown([&] { in0.put(1, 1); }).status(), LOX_EINVAL);
  EXPECT_EQ(moved.index(), 0);
  moved.put(9, 90);
  in1.put(9, 91);
  lox::funnel<std::uintptr_t> top2(std::move(*top));
  top.reset();  // the moved-from top: destroying it changes nothing
  auto set = top2.get();
  EXPECT_EQ(set.jid, 9u);
  EXPECT_EQ(set.items, (std::vector<std::uintptr_t>{90, 91}));
  // Inputs outlive their top and the top outlives its inputs, in any order.
  moved.put(10, 100);
  in1 = lox::funnel<std::uintptr_t>();  // destroys input 1's handle (it stays in the funnel)
  EXPECT_EQ(top2.inputs(), 2u);
  EXPECT_FALSE(top2.try_get(0ms));       // job 10 still needs input 1's item
  top2 = lox::funnel<std::uintptr_t>();  // destroys the top; `moved` keeps the funnel alive
  moved.put(11, 110);
}

TEST(cppFunnel, ThreadPoolsFeedingOneFunnel) {
  // Two stages compute their half of each job on their own pool; the main
  // thread collects complete jobs.
  lox::funnel<long> top;
  auto squares = top.subscribe();
  auto cubes = top.subscribe();
  auto sq = lox::thread(3, [&](unsigned long long jid) {
    const long x = static_cast<long>(jid);
    squares.put(jid, x * x);
  });
  auto cu = lox::thread(3, [&](unsigned long long jid) {
    const long x = static_cast<long>(jid);
    cubes.put(jid, x * x * x);
  });
  constexpr unsigned long long kJobs = 200;
  for (unsigned long long j = 0; j < kJobs; ++j) {
    sq.scatter(j);
    cu.scatter(j);
  }
  std::vector<bool> seen(kJobs, false);
  for (unsigned long long n = 0; n < kJobs; ++n) {
    auto set = top.get();
    ASSERT_LT(set.jid, kJobs);
    EXPECT_FALSE(seen[set.jid]);
    seen[set.jid] = true;
    const long x = static_cast<long>(set.jid);
    EXPECT_EQ(set.items, (std::vector<long>{x * x, x * x * x}));
  }
  sq.gather();
  cu.gather();
  EXPECT_TRUE(std::all_of(seen.begin(), seen.end(), [](bool b) { return b; }));
  EXPECT_FALSE(top.try_get(0ms));
}

// ============================================================== pipeline ==

namespace {

// Effective Python's Item 39 pipeline: download -> resize -> upload, with
// bounded queues between the phases and close/join to shut it down.
struct image {
  int id = 0;
  int stage = 0;  // phases it went through, in order
  bool ordered = true;
};

image* advance(image* img, int stage) {
  img->ordered = img->ordered && img->stage == stage - 1;
  img->stage = stage;
  return img;
}

}  // namespace

TEST(cppPipeline, EffectivePythonItem39WithRangeFor) {
  constexpr int kItems = 1000;
  std::vector<image> images(kItems);
  for (int i = 0; i < kItems; ++i) images[static_cast<std::size_t>(i)].id = i;

  lox::queue<image*> download_queue(10), resize_queue(10), upload_queue(10), done_queue;
  // StoppableWorker: `for item in in_queue: out_queue.put(func(item))`.
  auto worker = [](lox::queue<image*>& in, lox::queue<image*>& out, int stage) {
    return std::thread([&in, &out, stage] {
      for (image* img : in) out.put(advance(img, stage));
    });
  };
  std::vector<std::thread> threads;
  threads.push_back(worker(download_queue, resize_queue, 1));
  threads.push_back(worker(resize_queue, upload_queue, 2));
  threads.push_back(worker(upload_queue, done_queue, 3));

  for (auto& img : images) download_queue.put(&img);
  download_queue.close();
  download_queue.join();
  resize_queue.close();
  resize_queue.join();
  upload_queue.close();
  upload_queue.join();
  EXPECT_EQ(done_queue.size(), static_cast<std::size_t>(kItems));  // "1000 items finished"
  for (auto& t : threads) t.join();                                // their loops ended at the closes

  done_queue.close();
  int next = 0;
  for (image* img : done_queue) {
    EXPECT_EQ(img->id, next++);  // one worker per phase: FIFO end to end
    EXPECT_EQ(img->stage, 3);
    EXPECT_TRUE(img->ordered);
  }
  EXPECT_EQ(next, kItems);
  done_queue.join();
}

TEST(cppPipeline, SeveralWorkersPerPhaseOnThreadPools) {
  // The same pipeline with 3 workers per phase, each a task of a lox::thread
  // pool running a range-for; gather() returns once the phase's input queue
  // is closed and drained.
  constexpr int kItems = 1000;
  std::vector<image> images(kItems);
  for (int i = 0; i < kItems; ++i) images[static_cast<std::size_t>(i)].id = i;
  lox::queue<image*> download_queue(16), resize_queue(16), upload_queue(16), done_queue;
  auto phase = [](lox::queue<image*>& in, lox::queue<image*>& out, int stage) {
    return lox::thread(3, [&in, &out, stage] {
      int n = 0;
      for (image* img : in) {
        out.put(advance(img, stage));
        ++n;
      }
      return n;
    });
  };
  auto download = phase(download_queue, resize_queue, 1);
  auto resize = phase(resize_queue, upload_queue, 2);
  auto upload = phase(upload_queue, done_queue, 3);
  for (int w = 0; w < 3; ++w) {
    download.scatter();
    resize.scatter();
    upload.scatter();
  }
  for (auto& img : images) download_queue.put(&img);
  int total = 0;
  download_queue.close();
  for (int n : download.gather()) total += n;
  EXPECT_EQ(total, kItems);
  resize_queue.close();
  total = 0;
  for (int n : resize.gather()) total += n;
  EXPECT_EQ(total, kItems);
  upload_queue.close();
  total = 0;
  for (int n : upload.gather()) total += n;
  EXPECT_EQ(total, kItems);
  upload_queue.join();

  std::vector<bool> seen(kItems, false);
  done_queue.close();
  for (image* img : done_queue) {
    EXPECT_FALSE(seen[static_cast<std::size_t>(img->id)]);
    seen[static_cast<std::size_t>(img->id)] = true;
    EXPECT_EQ(img->stage, 3);
    EXPECT_TRUE(img->ordered);
  }
  EXPECT_TRUE(std::all_of(seen.begin(), seen.end(), [](bool b) { return b; }));
  EXPECT_TRUE(done_queue.try_join(0ms));
}
