// SPDX-License-Identifier: Apache-2.0
// The C++ layer's task graphs (lox/task.hpp): lox::task, chaining through
// scatter arguments (thread and process pools), when_all, as_completed,
// then, on_done and cancellation. Written in C++17.
//
// No test depends on timing: tasks that must be running or queued at some
// point are held by gates, and timeouts are only hang guards.
#include <lox/lox.hpp>

#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "eventually.hpp"
#include "gate.hpp"
#include "thrown.hpp"

using namespace std::chrono_literals;

namespace {

using loxtest::gate;

// Waits (hang guard: 60 s) until `pred()` holds; false if it never did.
template <class P>
bool wait_until(P&& pred) {
  const auto end = std::chrono::steady_clock::now() + 60s;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

using pair_ii = std::tuple<int, int>;

}  // namespace

// ------------------------------------------------------------- chaining --

// lox 0.6's chaining example: foo returns a tuple, bar gets it unpacked.
// lox gives bar.gather() == [11, 15, 21, 29, 39]: i*(i+1) + (2i+1) + 10.
TEST(cppTask, LoxChainingExample) {
  auto foo = lox::thread(4, [](int x, int y) { return std::make_tuple(x * y, x + y); });
  auto bar = lox::thread(2, [](int a, int b, int c) { return a + b + c; });
  for (int i = 0; i < 5; ++i) {
    auto foo_res = foo.scatter(i, i + 1);
    bar.scatter(foo_res, 10);
  }
  EXPECT_EQ(bar.gather(), (std::vector<int>{11, 15, 21, 29, 39}));
  EXPECT_EQ(foo.gather(), (std::vector<pair_ii>{{0, 1}, {2, 3}, {6, 5}, {12, 7}, {20, 9}}));
}

TEST(cppTask, ScatterReturnsTheIndex) {
  auto pool = lox::thread(2, [](int x) { return x; });
  std::size_t i = pool.scatter(1);
  EXPECT_EQ(i, 0u);
  EXPECT_EQ(pool.scatter(2), 1u);
  lox::task<int> t = pool.scatter(3);
  EXPECT_EQ(t.index(), 2u);
  EXPECT_EQ(t.get(), 3);
  EXPECT_EQ(t.status(), LOX_OK);
  EXPECT_TRUE(t.done());
  EXPECT_EQ(pool.gather(), (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(t.get(), 3);  // the record was shared: the gather copied the value
  lox::task<int> empty;
  EXPECT_FALSE(empty.valid());
  EXPECT_EQ(empty.index(), static_cast<std::size_t>(-1));
  EXPECT_EQ(loxtest::thrown([&] { empty.get(); }).status(), LOX_EINVAL);
}

TEST(cppTask, PairUnpackingAndWhole) {
  auto make = lox::thread(2, [](int x) { return std::make_pair(x, std::string(static_cast<std::size_t>(x), 'z')); });
  auto unpacked = lox::thread(2, [](int n, const std::string& s, int k) { return n + static_cast<int>(s.size()) + k; });
  auto whole = lox::thread(2, [](const std::pair<int, std::string>& p, int k) { return p.second + std::to_string(p.first + k); });
  auto t = make.scatter(3);
  auto u = unpacked.scatter(t, 100);
  auto w = whole.scatter(lox::whole(t), 1);
  EXPECT_EQ(u.get(), 106);
  EXPECT_EQ(w.get(), "zzz4");
  EXPECT_EQ(unpacked.gather(), std::vector<int>{106});
  EXPECT_EQ(whole.gather(), std::vector<std::string>{"zzz4"});
  make.gather();
}

TEST(cppTask, ManyPredecessorsFromSeveralPools) {
  auto a = lox::thread(2, [](int x) { return x; });
  auto b = lox::thread(2, [](int x) { return std::make_tuple(x, x * 10); });
  auto sum = lox::thread(2, [](int p, int q, int r, int s, int own) { return p + q + r + s + own; });
  auto t1 = a.scatter(1);
  auto t2 = b.scatter(2);
  auto t3 = a.scatter(3);
  auto s = sum.scatter(t1, t2, t3, 1000);  // 1 + (2, 20) + 3 + 1000
  EXPECT_EQ(s.get(), 1026);
  EXPECT_EQ(sum.gather(), std::vector<int>{1026});
  a.gather();
  b.gather();
}

TEST(cppTask, SamePoolPredecessorOnOneWorker) {
  auto pool = lox::thread(1, [](int x) { return x + 1; });
  auto t0 = pool.scatter(0);
  auto t1 = pool.scatter(t0);
  auto t2 = pool.scatter(t1);
  EXPECT_EQ(t2.get(), 3);
  EXPECT_EQ(pool.gather(), (std::vector<int>{1, 2, 3}));
}

TEST(cppTask, Diamond) {
  auto p = lox::thread(2, [](int x, int y) { return x * y; });
  auto q = lox::thread(2, [](int x, int y) { return x + y; });
  auto a = q.scatter(5, 0);
  auto b = p.scatter(a, 2);
  auto c = q.scatter(a, 3);
  auto d = p.scatter(b, c);
  EXPECT_EQ(d.get(), 80);
  EXPECT_EQ(p.gather(), (std::vector<int>{10, 80}));
  EXPECT_EQ(q.gather(), (std::vector<int>{5, 8}));
}

TEST(cppTask, ChainOfTenThousandOnOneWorker) {
  auto pool = lox::thread(1, [](int x) { return x + 1; });
  lox::task<int> t = pool.scatter(0);
  for (int i = 1; i < 10000; ++i) t = pool.scatter(t);
  EXPECT_EQ(t.get(), 10000);
  const std::vector<int> r = pool.gather();
  ASSERT_EQ(r.size(), 10000u);
  EXPECT_EQ(r.back(), 10000);
  EXPECT_EQ(r.front(), 1);
}

TEST(cppTask, VoidTasksOrderWithoutPassingAnything) {
  int first = -1;
  auto setter = lox::thread(2, [&](int v) { first = v; });
  auto reader = lox::thread(2, [&](int add) { return first + add; });
  lox::task<void> v = setter.scatter(41);
  auto r = reader.scatter(v, 1);  // a task<void> fills no parameter
  EXPECT_EQ(r.get(), 42);
  v.get();
  EXPECT_EQ(v.status(), LOX_OK);
  setter.gather();
  EXPECT_EQ(reader.gather(), std::vector<int>{42});
}

TEST(cppTask, TaskDestroyedBeforeItEnds) {
  gate g;
  auto pool = lox::thread(2, [&](int x) {
    g.wait();
    return x * 2;
  });
  auto next = lox::thread(1, [](int x) { return x + 1; });
  lox::task<int> dependent;
  {
    auto t = pool.scatter(20);
    dependent = next.scatter(t);
  }  // the only handle to t is gone: it still runs, and its dependent gets its value
  g.open();
  EXPECT_EQ(dependent.get(), 41);
  EXPECT_EQ(pool.gather(), std::vector<int>{40});
  EXPECT_EQ(next.gather(), std::vector<int>{41});
}

TEST(cppTask, TaskOutlivesItsPool) {
  lox::task<std::string> t;
  {
    auto pool = lox::thread(1, [](int n) { return std::string(static_cast<std::size_t>(n), 'x'); });
    t = pool.scatter(3);
  }  // the destructor waits for the task and drops the round's reference
  EXPECT_EQ(t.get(), "xxx");
}

TEST(cppTask, MoveOnlyResult) {
  auto pool = lox::thread(2, [](int x) { return std::make_unique<int>(x); });
  auto t = pool.scatter(7);
  ASSERT_NE(t.get(), nullptr);
  EXPECT_EQ(*t.get(), 7);
  auto r = pool.gather();  // moved out although t shares the record (documented)
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(*r[0], 7);
  EXPECT_EQ(t.get(), nullptr);
}

TEST(cppTask, DebugModeRunsChainsInline) {
  auto foo = lox::thread(0, [](int x, int y) { return std::make_tuple(x * y, x + y); });
  auto bar = lox::thread(0, [](int a, int b, int c) { return a + b + c; });
  for (int i = 0; i < 5; ++i) {
    auto r = foo.scatter(i, i + 1);
    EXPECT_TRUE(r.done());
    auto b = bar.scatter(r, 10);
    EXPECT_TRUE(b.done());
  }
  EXPECT_EQ(bar.gather(), (std::vector<int>{11, 15, 21, 29, 39}));
  foo.gather();
  auto t = bar.scatter(1, 2, 3);
  auto th = t.then([](int v) { return v * 2; });
  EXPECT_EQ(th.get(), 12);
  auto all = lox::when_all(t, th);
  EXPECT_EQ(all.get(), std::make_tuple(6, 12));
  bar.gather();
}

// ----------------------------------------------------- across processes --

TEST(cppTask, ThreadProcessThread) {
  auto proc = lox::process(2, [](int x) { return x * x + 1; });
  auto first = lox::thread(2, [](int i) { return i; });
  auto last = lox::thread(2, [](int x) { return x + 1; });
  for (int i = 0; i < 5; ++i) last.scatter(proc.scatter(first.scatter(i)));
  EXPECT_EQ(last.gather(), (std::vector<int>{2, 3, 6, 11, 18}));
  EXPECT_EQ(proc.gather(), (std::vector<int>{1, 2, 5, 10, 17}));
  first.gather();
}

TEST(cppTask, ProcessToProcessUnpackedAndMixed) {
  auto split = lox::process(2, [](const std::string& s) { return std::make_tuple(s, static_cast<int>(s.size())); });
  auto join = lox::process(2, [](int own, const std::string& s, int n, std::string tail) {
    return std::to_string(own) + ":" + s + "/" + std::to_string(n) + tail;
  });
  auto tail = lox::thread(1, [](int n) { return std::string(static_cast<std::size_t>(n), '!'); });
  auto a = split.scatter("abc");
  auto t = tail.scatter(2);
  auto j = join.scatter(7, a, t);  // own, process (unpacked), thread (encoded)
  EXPECT_EQ(j.get(), "7:abc/3!!");
  EXPECT_EQ(join.gather(), std::vector<std::string>{"7:abc/3!!"});
  // A process predecessor's bytes decoded for a thread task, unpacked.
  auto use = lox::thread(1, [](const std::string& s, int n) { return s.size() + static_cast<std::size_t>(n); });
  EXPECT_EQ(use.scatter(a).get(), 6u);
  use.gather();
  split.gather();
  tail.gather();
}

TEST(cppTask, ProcessFailurePropagates) {
  auto proc = lox::process(1, [](int x) {
    if (x < 0) throw std::runtime_error("negative");
    return x;
  });
  auto after = lox::thread(1, [](int x) { return x; });
  auto bad = proc.scatter(-1);
  auto dep = after.scatter(bad);
  const lox::error e = loxtest::thrown([&] { dep.get(); });
  EXPECT_EQ(e.status(), LOX_EDEPENDENCY);
  const lox::error pe = loxtest::thrown([&] { bad.get(); });
  EXPECT_EQ(pe.status(), LOX_ETASK);
  EXPECT_EQ(pe.detail(), "negative");
  after.gather_results();
  proc.gather_results();
}

TEST(cppTask, ProcessDebugMode) {
  auto proc = lox::process(0, [](int x, int y) { return x * y; });
  auto src = lox::thread(0, [](int x) { return std::make_tuple(x, x + 1); });
  auto t = proc.scatter(src.scatter(3));
  EXPECT_EQ(t.get(), 12);
  EXPECT_EQ(proc.gather(), std::vector<int>{12});
  src.gather();
}

// --------------------------------------------------------------- failure --

TEST(cppTask, FailurePropagatesToDependents) {
  auto foo = lox::thread(2, [](int x) {
    if (x == 2) throw std::runtime_error("foo failed on 2");
    return x;
  });
  std::atomic<int> bar_calls{0};
  auto bar = lox::thread(2, [&](int x, int y) {
    ++bar_calls;
    return x + y;
  });
  std::vector<lox::task<int>> deps;
  for (int i = 0; i < 4; ++i) deps.push_back(bar.scatter(foo.scatter(i), 10));
  const lox::error e = loxtest::thrown([&] { deps[2].get(); });
  EXPECT_EQ(e.status(), LOX_EDEPENDENCY);
  EXPECT_NE(e.detail().find("predecessor"), std::string::npos) << e.detail();
  EXPECT_EQ(deps[2].status(), LOX_EDEPENDENCY);
  auto results = bar.gather_results();
  ASSERT_EQ(results.size(), 4u);
  EXPECT_EQ(results[0].value(), 10);
  EXPECT_EQ(results[3].value(), 13);
  ASSERT_FALSE(results[2].has_value());
  try {
    std::rethrow_exception(results[2].error());
  } catch (const lox::error& x) {
    EXPECT_EQ(x.status(), LOX_EDEPENDENCY);
  }
  EXPECT_EQ(bar_calls.load(), 3);
  try {
    foo.gather();
    ADD_FAILURE() << "foo's gather must rethrow";
  } catch (const std::runtime_error& x) {
    EXPECT_STREQ(x.what(), "foo failed on 2");
  }
}

TEST(cppTask, GetRethrowsTheTasksOwnException) {
  auto pool = lox::thread(1, [](int) -> int { throw std::out_of_range("mine"); });
  auto t = pool.scatter(1);
  EXPECT_THROW(t.get(), std::out_of_range);
  EXPECT_EQ(t.status(), LOX_ETASK);
  EXPECT_THROW(pool.gather(), std::out_of_range);
}

// ---------------------------------------------------------- cancellation --

TEST(cppTask, CancelQueuedTaskNeverRuns) {
  gate g;
  std::atomic<int> ran{0};
  auto pool = lox::thread(1, [&](int x) {
    if (x == 0) g.wait();
    ++ran;
    return x;
  });
  auto next = lox::thread(1, [](int x) { return x; });
  auto blocker = pool.scatter(0);
  auto queued = pool.scatter(1);
  auto dep = next.scatter(queued);
  queued.cancel();
  EXPECT_TRUE(queued.done());  // completed at once, before a worker reached it
  EXPECT_EQ(queued.status(), LOX_ECANCELLED);
  EXPECT_EQ(loxtest::thrown([&] { queued.get(); }).status(), LOX_ECANCELLED);
  EXPECT_EQ(loxtest::thrown([&] { dep.get(); }).status(), LOX_EDEPENDENCY);
  EXPECT_TRUE(queued.token().cancelled());
  g.open();
  auto results = pool.gather_results();
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].value(), 0);
  ASSERT_FALSE(results[1].has_value());
  EXPECT_EQ(loxtest::thrown([&] { results[1].value(); }).status(), LOX_ECANCELLED);
  EXPECT_EQ(ran.load(), 1);
  blocker.cancel();  // done: nothing changes
  EXPECT_EQ(blocker.get(), 0);
  next.gather_results();
}

TEST(cppTask, RunningTaskSeesCancelled) {
  std::atomic<bool> started{false};
  std::atomic<bool> token_seen{false};
  auto pool = lox::thread(1, [&](int) {
    lox::cancel_token tok = lox::this_task::token();
    started = true;
    const auto end = std::chrono::steady_clock::now() + 60s;  // hang guard
    while (!lox::cancelled() && std::chrono::steady_clock::now() < end) std::this_thread::sleep_for(100us);
    token_seen = tok.cancelled();
    return -1;  // its outcome is what it returns
  });
  auto t = pool.scatter(0);
  ASSERT_TRUE(wait_until([&] { return started.load(); }));
  EXPECT_FALSE(t.token().cancelled());
  t.cancel();
  EXPECT_EQ(t.get(), -1);
  EXPECT_TRUE(token_seen.load());
  EXPECT_TRUE(t.token().cancelled());
  EXPECT_FALSE(lox::cancelled());  // outside a task
  EXPECT_FALSE(lox::this_task::token().cancelled());
  pool.gather();
}

TEST(cppTask, PoolCancelMidRound) {
  gate first_done;
  std::atomic<bool> running{false};
  std::atomic<int> ran{0};
  auto pool = lox::thread(1, [&](int x) {
    ++ran;
    if (x == 1) {
      running = true;
      const auto end = std::chrono::steady_clock::now() + 60s;  // hang guard
      while (!lox::cancelled() && std::chrono::steady_clock::now() < end) std::this_thread::sleep_for(100us);
      throw lox::error(LOX_ECANCELLED, "task 1 stopped");
    }
    return x * 100;
  });
  auto other = lox::thread(1, [](int x) { return x; });
  std::vector<lox::task<int>> ts;
  for (int i = 0; i < 5; ++i) ts.push_back(pool.scatter(i));
  auto after3 = other.scatter(ts[3]);
  ASSERT_TRUE(wait_until([&] { return running.load(); }));
  EXPECT_EQ(ts[0].get(), 0);
  pool.cancel();
  auto results = pool.gather_results();
  ASSERT_EQ(results.size(), 5u);
  EXPECT_EQ(results[0].value(), 0);  // finished before the cancel: kept
  for (std::size_t i = 1; i < 5; ++i) {
    ASSERT_FALSE(results[i].has_value()) << i;
    EXPECT_EQ(loxtest::thrown([&] { results[i].value(); }).status(), LOX_ECANCELLED) << i;
  }
  EXPECT_EQ(ran.load(), 2);  // tasks 2-4 never ran
  EXPECT_EQ(ts[4].status(), LOX_ECANCELLED);
  EXPECT_EQ(loxtest::thrown([&] { after3.get(); }).status(), LOX_EDEPENDENCY);
  EXPECT_EQ(pool.scatter(7).get(), 700);  // the pool goes on
  EXPECT_EQ(pool.gather(), std::vector<int>{700});
  other.gather_results();
}

TEST(cppTask, ProcessPoolCancel) {
  // Task 0 creates this file once it runs in its worker (a worker has no
  // other way to tell this process; its file descriptors are its own).
  const std::string mark = "/tmp/lox_test_cpp_task_" + std::to_string(getpid()) + ".running";
  std::remove(mark.c_str());
  auto proc = lox::process(1, [mark](int x) {
    if (x == 0) {
      if (std::FILE* f = std::fopen(mark.c_str(), "w")) std::fclose(f);
      sleep(60);  // stopped by the cancel
    }
    return x;
  });
  std::vector<lox::task<int>> ts;
  for (int i = 0; i < 3; ++i) ts.push_back(proc.scatter(i));
  ASSERT_TRUE(wait_until([&] { return access(mark.c_str(), F_OK) == 0; }));
  proc.cancel();
  auto results = proc.gather_results();
  std::remove(mark.c_str());
  ASSERT_EQ(results.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    ASSERT_FALSE(results[i].has_value()) << i;
    EXPECT_EQ(loxtest::thrown([&] { results[i].value(); }).status(), LOX_ECANCELLED) << i;
    EXPECT_EQ(ts[i].status(), LOX_ECANCELLED) << i;
  }
  EXPECT_EQ(proc.scatter(5).get(), 5);
  proc.gather();
}

// ----------------------------------------------------- on_done and then --

TEST(cppTask, OnDoneBeforeAndAfterCompletionExactlyOnce) {
  gate g;
  auto pool = lox::thread(1, [&](int x) {
    g.wait();
    return x;
  });
  auto t = pool.scatter(5);
  std::atomic<int> calls{0};
  std::atomic<int> seen{0};
  t.on_done([&](const lox::task<int>& done) {
    ++calls;
    seen = done.get();
  });
  EXPECT_EQ(calls.load(), 0);
  g.open();
  t.wait();  // returns after the callbacks ran
  EXPECT_EQ(calls.load(), 1);
  EXPECT_EQ(seen.load(), 5);
  int inline_calls = 0;
  t.on_done([&] { ++inline_calls; });  // done: runs here, now
  EXPECT_EQ(inline_calls, 1);
  pool.gather();
  EXPECT_EQ(calls.load(), 1);
}

TEST(cppTask, Then) {
  auto pool = lox::thread(2, [](int x) {
    if (x < 0) throw std::invalid_argument("negative");
    return x;
  });
  auto t = pool.scatter(4);
  auto s = t.then([](int v) { return std::to_string(v * 2); }).then([](const std::string& v) { return v + "!"; });
  EXPECT_EQ(s.get(), "8!");
  EXPECT_EQ(s.index(), t.index());
  std::atomic<int> called{0};
  auto bad = pool.scatter(-1).then([&](int v) {
    ++called;
    return v;
  });
  EXPECT_THROW(bad.get(), std::invalid_argument);  // the source's exception, f not called
  EXPECT_EQ(bad.status(), LOX_ETASK);
  EXPECT_EQ(called.load(), 0);
  auto throws = t.then([](int) -> int { throw std::logic_error("in then"); });
  EXPECT_THROW(throws.get(), std::logic_error);
  // A then task can be chained as any task.
  auto next = lox::thread(1, [](const std::string& v) { return v.size(); });
  EXPECT_EQ(next.scatter(s).get(), 2u);
  next.gather();
  pool.gather_results();
}

// ------------------------------------------------ when_all, as_completed --

TEST(cppTask, WhenAll) {
  auto a = lox::thread(2, [](int x) { return x; });
  auto b = lox::process(1, [](int x) { return std::string(static_cast<std::size_t>(x), 'b'); });
  auto v = lox::thread(1, [](int) {});
  auto all = lox::when_all(a.scatter(1), b.scatter(2), v.scatter(0));
  auto [x, s, unit] = all.get();
  EXPECT_EQ(x, 1);
  EXPECT_EQ(s, "bb");
  static_cast<void>(unit);
  std::vector<lox::task<int>> many;
  for (int i = 0; i < 20; ++i) many.push_back(a.scatter(i));
  auto joined = lox::when_all(many);
  const std::vector<int>& got = joined.get();
  ASSERT_EQ(got.size(), 20u);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(got[static_cast<std::size_t>(i)], i);
  EXPECT_EQ(lox::when_all(std::vector<lox::task<int>>{}).get(), std::vector<int>{});
  // Chained into another task, unpacked.
  auto sum = lox::thread(1, [](int p, int q) { return p + q; });
  EXPECT_EQ(sum.scatter(lox::when_all(a.scatter(3), a.scatter(4))).get(), 7);
  sum.gather();
  a.gather();
  b.gather();
  v.gather();
}

TEST(cppTask, WhenAllFailsWithTheFirstFailure) {
  gate g;
  // One pool per task: a worker may claim several queued tasks as a batch.
  auto slow_pool = lox::thread(1, [&](int x) {
    g.wait();
    return x;
  });
  auto bad_pool = lox::thread(1, [](int) -> int { throw std::runtime_error("one"); });
  auto slow = slow_pool.scatter(0);
  auto bad = bad_pool.scatter(1);
  auto all = lox::when_all(std::vector<lox::task<int>>{slow, bad});
  EXPECT_THROW(all.get(), std::runtime_error);  // fails before the slow task ends
  EXPECT_FALSE(slow.done());
  g.open();
  slow_pool.gather();
  bad_pool.gather_results();
}

TEST(cppTask, AsCompletedInCompletionOrder) {
  gate g;
  // One pool per task: a worker may claim several queued tasks as a batch.
  auto slow_pool = lox::thread(1, [&](int x) {
    g.wait();
    return x * 10;
  });
  auto pool = lox::thread(1, [](int x) { return x * 10; });
  std::vector<lox::task<int>> ts{slow_pool.scatter(0), pool.scatter(1)};
  auto range = lox::as_completed(ts);
  auto first = range.next();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->position, 1u);  // task 0 waits for the gate
  EXPECT_EQ(first->value.get(), 10);
  {
    auto timed = lox::as_completed(std::vector<lox::task<int>>{ts[0]}, 0ms);
    int n = 0;
    for (auto& c : timed) {
      static_cast<void>(c);
      ++n;
    }
    EXPECT_EQ(n, 0);
    EXPECT_TRUE(timed.timed_out());
    EXPECT_EQ(timed.remaining(), 1u);
  }
  g.open();
  auto second = range.next();
  ASSERT_TRUE(second);
  EXPECT_EQ(second->position, 0u);
  EXPECT_EQ(second->value.get(), 0);
  EXPECT_FALSE(range.next());
  pool.gather();
  slow_pool.gather();
}

TEST(cppTask, PoolAsCompleted) {
  auto pool = lox::thread(2, [](int x) {
    if (x == 3) throw std::runtime_error("three");
    return std::to_string(x);
  });
  for (int i = 0; i < 6; ++i) pool.scatter(i);
  std::set<std::size_t> seen;
  for (auto& c : pool.as_completed()) {
    seen.insert(c.index);
    if (c.index == 3) {
      EXPECT_THROW(c.result.value(), std::runtime_error);
    } else {
      EXPECT_EQ(c.result.value(), std::to_string(c.index));
    }
  }
  EXPECT_EQ(seen.size(), 6u);
  EXPECT_TRUE(pool.gather().empty());  // the round was taken

  // Destroyed before every task was delivered: it waits for them.
  gate g;
  auto slow = lox::thread(1, [&](int x) {
    g.wait();
    return x;
  });
  slow.scatter(1);
  slow.scatter(2);
  {
    auto range = slow.as_completed(0ms);
    EXPECT_FALSE(range.next());
    EXPECT_TRUE(range.timed_out());
    g.open();
  }
  EXPECT_TRUE(slow.gather().empty());

  auto proc = lox::process(2, [](int x) { return x * 2; });
  for (int i = 0; i < 4; ++i) proc.scatter(i);
  std::set<int> values;
  for (auto& c : proc.as_completed()) values.insert(c.result.value());
  EXPECT_EQ(values, (std::set<int>{0, 2, 4, 6}));
}

TEST(cppTask, NativeHandleOnDemand) {
  auto pool = lox::thread(1, [](int x) { return x; });
  auto t = pool.scatter(9);
  lox_task* h = t.native_handle();
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(t.native_handle(), h);  // made once
  EXPECT_EQ(lox_task_wait(h, LOX_FOREVER), LOX_OK);
  EXPECT_EQ(lox_task_status(h), LOX_OK);
  EXPECT_EQ(lox_task_index(h), 0u);
  pool.gather();
}
