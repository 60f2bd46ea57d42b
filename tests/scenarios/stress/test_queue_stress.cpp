// SPDX-License-Identifier: Apache-2.0
// Stress: many producers and consumers on bounded (8, 1024) and unbounded
// queues, with and without random short timeouts, and a close in the middle
// of it all; an announcement with two publishers and three small
// subscribers (and with members, the creator one of them, publishing to
// each other); a funnel fed by
// three threads. Every item is marked when it arrives: exactly once, and in
// each producer's order. Counts are scaled down under ThreadSanitizer.
#include <lox/lox.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <numeric>
#include <random>
#include <thread>
#include <vector>

#include "mixed_timeouts.hpp"
#include "queue_util.hpp"
#include "stress_util.hpp"
#include "test_util.hpp"

using namespace loxtest;
using loxstress::Marks;

namespace {

constexpr double kMustSeconds = 30.0;
constexpr int kProducers = 4;
constexpr int kConsumers = 4;

// mixed_timeout() with "forever" replaced by a long wait whose running out means
// something was lost (the test then fails instead of hanging).
double bounded_random_timeout(std::mt19937& rng) {
  double t = mixed_timeout(rng);
  return t < 0 ? kMustSeconds : t;
}

// Item id = producer * per + sequence number; id 0 is the NULL item.
struct Ids {
  long per;
  intptr_t make(int producer, long seq) const { return static_cast<intptr_t>(producer) * per + seq; }
  int producer(intptr_t id) const { return static_cast<int>(id / per); }
  long seq(intptr_t id) const { return static_cast<long>(id % per); }
};

struct Outcome {
  std::atomic<long> bad{0};           // unexpected status codes
  std::atomic<long> out_of_order{0};  // a consumer saw a producer's items out of order
  std::atomic<long> timeouts{0};
};

// A consumer: gets until LOX_ECLOSED (retrying timeouts), marks each item,
// checks each producer's order, calls task_done.
void consume(lox_queue* q, const Ids& ids, Marks& marks, Outcome& out, bool random_timeouts, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<long> last(kProducers, -1);
  for (;;) {
    void* it = nullptr;
    int rc = lox_queue_get(q, &it, random_timeouts ? mixed_timeout(rng) : LOX_FOREVER);
    if (rc == LOX_TIMEOUT) {
      out.timeouts.fetch_add(1);
      continue;
    }
    if (rc == LOX_ECLOSED) return;
    if (rc != LOX_OK) {
      out.bad.fetch_add(1);
      return;
    }
    intptr_t id = from_ptr(it);
    marks.mark(static_cast<size_t>(id));
    int p = ids.producer(id);
    if (p >= 0 && p < kProducers) {
      if (ids.seq(id) <= last[p]) out.out_of_order.fetch_add(1);
      last[p] = ids.seq(id);
    }
    if (lox_queue_task_done(q) != LOX_OK) out.bad.fetch_add(1);
    if (rng() % 64 == 0) std::this_thread::yield();
  }
}

void mpmc_exactly_once(size_t maxsize, long total, bool random_timeouts) {
  const long per = total / kProducers;
  const Ids ids{per};
  Queue q = make_queue(maxsize);
  Marks marks(static_cast<size_t>(per * kProducers));
  Outcome out;
  Gate start;
  std::vector<std::thread> ts;
  for (int c = 0; c < kConsumers; ++c)
    ts.emplace_back([&, c] {
      EXPECT_TRUE(start.wait());
      consume(q.get(), ids, marks, out, random_timeouts, 100u + static_cast<unsigned>(c));
    });
  std::vector<std::thread> ps;
  for (int p = 0; p < kProducers; ++p)
    ps.emplace_back([&, p] {
      std::mt19937 rng(7u + static_cast<unsigned>(p));
      EXPECT_TRUE(start.wait());
      for (long s = 0; s < per; ++s) {
        for (;;) {
          int rc = lox_queue_put(q.get(), to_ptr(ids.make(p, s)), random_timeouts ? mixed_timeout(rng) : LOX_FOREVER);
          if (rc == LOX_OK) break;
          if (rc == LOX_TIMEOUT) {
            out.timeouts.fetch_add(1);
            continue;
          }
          out.bad.fetch_add(1);
          return;
        }
      }
    });
  // A joiner polls join with short timeouts all along.
  std::atomic<bool> producers_done{false};
  std::thread joiner([&] {
    std::mt19937 rng(5);
    while (!producers_done.load()) {
      int rc = lox_queue_join(q.get(), (rng() % 3) * 0.001);
      if (rc != LOX_OK && rc != LOX_TIMEOUT) out.bad.fetch_add(1);
    }
  });
  start.open();
  for (auto& t : ps) t.join();
  producers_done = true;
  joiner.join();
  // Every item was put; once all are done, join returns and close lets the
  // consumers go.
  EXPECT_EQ(lox_queue_join(q.get(), kMustSeconds), LOX_OK);
  EXPECT_EQ(lox_queue_close(q.get()), LOX_OK);
  for (auto& t : ts) t.join();
  EXPECT_EQ(out.bad.load(), 0);
  EXPECT_EQ(out.out_of_order.load(), 0) << "a consumer saw a producer's items out of order";
  loxstress::expect_exactly_once(marks, "queue items");
  EXPECT_EQ(lox_queue_size(q.get()), 0u);
  EXPECT_EQ(lox_queue_task_done(q.get()), LOX_ESTATE);
}

TEST(QueueStress, FourByFourBoundedEight) { mpmc_exactly_once(8, scaled(200000), false); }
TEST(QueueStress, FourByFourBounded1024) { mpmc_exactly_once(1024, scaled(200000), false); }
TEST(QueueStress, FourByFourUnbounded) { mpmc_exactly_once(0, scaled(200000), false); }
TEST(QueueStress, FourByFourSegmentedBound) { mpmc_exactly_once(70000, scaled(200000), false); }
TEST(QueueStress, RandomTimeoutsBoundedEight) { mpmc_exactly_once(8, scaled(100000), true); }
TEST(QueueStress, RandomTimeoutsBounded1024) { mpmc_exactly_once(1024, scaled(100000), true); }
TEST(QueueStress, RandomTimeoutsUnbounded) { mpmc_exactly_once(0, scaled(100000), true); }

// Close while producers and consumers are busy: every put that returned
// LOX_OK is got exactly once, every put that returned LOX_ECLOSED is never
// got, and after the close every put is refused.
void close_while_active(size_t maxsize, bool random_timeouts) {
  const long per = scaled(200000) / kProducers;
  const Ids ids{per};
  Queue q = make_queue(maxsize);
  Marks marks(static_cast<size_t>(per * kProducers));
  // put_status[id]: 0 not attempted, 1 LOX_OK, 2 LOX_ECLOSED
  std::vector<std::atomic<uint8_t>> put_status(static_cast<size_t>(per * kProducers));
  Outcome out;
  std::atomic<long> puts_ok{0}, puts_closed{0};
  Gate start;
  std::vector<std::thread> ts;
  for (int c = 0; c < kConsumers; ++c)
    ts.emplace_back([&, c] {
      EXPECT_TRUE(start.wait());
      consume(q.get(), ids, marks, out, random_timeouts, 200u + static_cast<unsigned>(c));
    });
  for (int p = 0; p < kProducers; ++p)
    ts.emplace_back([&, p] {
      std::mt19937 rng(300u + static_cast<unsigned>(p));
      EXPECT_TRUE(start.wait());
      for (long s = 0; s < per; ++s) {
        intptr_t id = ids.make(p, s);
        int rc;
        do {
          rc = lox_queue_put(q.get(), to_ptr(id), random_timeouts ? mixed_timeout(rng) : LOX_FOREVER);
        } while (rc == LOX_TIMEOUT);
        if (rc == LOX_OK) {
          put_status[static_cast<size_t>(id)] = 1;
          puts_ok.fetch_add(1);
          continue;
        }
        if (rc != LOX_ECLOSED) {
          out.bad.fetch_add(1);
          return;
        }
        put_status[static_cast<size_t>(id)] = 2;
        puts_closed.fetch_add(1);
        // Closed for good: the next puts are refused too.
        if (s + 1 < per) {
          intptr_t next = ids.make(p, s + 1);
          put_status[static_cast<size_t>(next)] = 2;
          if (lox_queue_put(q.get(), to_ptr(next), 0) != LOX_ECLOSED) {
            put_status[static_cast<size_t>(next)] = 1;
            out.bad.fetch_add(1);
          }
        }
        return;
      }
    });
  start.open();
  ASSERT_TRUE(eventually([&] { return puts_ok.load() >= per; }));  // a quarter of the items are in
  ASSERT_EQ(lox_queue_close(q.get()), LOX_OK);
  for (auto& t : ts) t.join();
  EXPECT_EQ(out.bad.load(), 0);
  EXPECT_EQ(out.out_of_order.load(), 0);
  EXPECT_EQ(marks.out_of_range(), 0);
  size_t lost = 0, dup = 0, ghost = 0;
  for (size_t id = 0; id < marks.size(); ++id) {
    const unsigned st = put_status[id].load(), m = marks.at(id);
    if (st == 1 && m == 0) ++lost;
    if (m > 1) ++dup;
    if (st != 1 && m != 0) ++ghost;
  }
  EXPECT_EQ(lost, 0u) << "puts that returned LOX_OK were never got";
  EXPECT_EQ(dup, 0u) << "items got twice";
  EXPECT_EQ(ghost, 0u) << "items whose put returned LOX_ECLOSED (or never happened) were got";
  EXPECT_GE(puts_ok.load(), per);
  EXPECT_EQ(lox_queue_size(q.get()), 0u);
  EXPECT_EQ(lox_queue_join(q.get(), 0), LOX_OK) << "every item got was marked done";
  ::testing::Test::RecordProperty("puts_closed", static_cast<int>(puts_closed.load()));
}

TEST(QueueStress, CloseWhileActiveBoundedEight) { close_while_active(8, false); }
TEST(QueueStress, CloseWhileActiveBounded1024) { close_while_active(1024, false); }
TEST(QueueStress, CloseWhileActiveUnbounded) { close_while_active(0, false); }
TEST(QueueStress, CloseWhileActiveWithRandomTimeouts) { close_while_active(8, true); }

// The counters are snapshots: while a producer and a consumer hand items
// over through a bounded queue, lox_queue_size never reads more than
// maxsize (a value the queue never had) and the flags agree with it.
void size_is_a_snapshot(size_t maxsize) {
  const long n = scaled(100000);
  const auto budget_end = Clock::now() + 2s;
  Queue q = make_queue(maxsize);
  std::atomic<bool> stop{false};
  std::atomic<long> bad{0};
  std::thread producer([&] {
    for (long i = 0; i < n && Clock::now() < budget_end; ++i)
      if (lox_queue_put(q.get(), nullptr, kMustSeconds) != LOX_OK) bad.fetch_add(1);
    EXPECT_EQ(lox_queue_close(q.get()), LOX_OK);
  });
  std::thread consumer([&] {
    for (;;) {
      void* it = nullptr;
      int rc = lox_queue_get(q.get(), &it, kMustSeconds);
      if (rc == LOX_ECLOSED) break;
      if (rc != LOX_OK) {
        bad.fetch_add(1);
        break;
      }
    }
    stop = true;
  });
  size_t max_seen = 0;
  long reads = 0;
  while (!stop.load()) {
    size_t sz = lox_queue_size(q.get());
    max_seen = std::max(max_seen, sz);
    ++reads;
  }
  producer.join();
  consumer.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_LE(max_seen, maxsize) << "lox_queue_size read " << max_seen << " on a queue of maxsize " << maxsize << " ("
                               << reads << " reads)";
  EXPECT_EQ(lox_queue_size(q.get()), 0u);
}

TEST(QueueStress, SizeIsASnapshotMaxsizeOne) { size_is_a_snapshot(1); }
TEST(QueueStress, SizeIsASnapshotMaxsizeEight) { size_is_a_snapshot(8); }

// ---------------------------------------------------------- announcement --

// Items are publisher * kSpan + seq.
constexpr intptr_t kSpan = 1 << 24;

// Gets `expect` items from `sub`, retrying timeouts; every publisher's items
// must come consecutively (exactly once, in its order).
void receive_all(lox_announcement* sub, int publishers, long expect, int skip_publisher, bool slow, unsigned seed,
                 std::atomic<long>& bad) {
  std::mt19937 rng(seed);
  std::vector<long> next(static_cast<size_t>(publishers), 0);
  for (long got = 0; got < expect;) {
    void* it = nullptr;
    double t = bounded_random_timeout(rng);
    int rc = lox_announcement_get(sub, &it, t);
    if (rc == LOX_TIMEOUT && t < kMustSeconds) continue;
    if (rc != LOX_OK) {
      bad.fetch_add(1);
      return;
    }
    intptr_t v = from_ptr(it);
    int p = static_cast<int>(v / kSpan);
    long s = static_cast<long>(v % kSpan);
    if (p < 0 || p >= publishers || p == skip_publisher || s != next[static_cast<size_t>(p)]) {
      bad.fetch_add(1);
      return;
    }
    ++next[static_cast<size_t>(p)];
    ++got;
    if (slow && rng() % 16 == 0) std::this_thread::yield();
  }
  void* it = nullptr;
  if (lox_announcement_get(sub, &it, 0) != LOX_TIMEOUT) bad.fetch_add(1);  // nothing extra
}

// Puts kPer items, each retried until delivered (all or none: a put that
// timed out reached nobody, so a retry never duplicates).
void publish_all(lox_announcement* pub, int p, long n, unsigned seed, std::atomic<long>& bad,
                 std::atomic<long>& timeouts) {
  std::mt19937 rng(seed);
  for (long s = 0; s < n; ++s) {
    for (;;) {
      double t = rng() % 4 == 0 ? kMustSeconds : (rng() % 3) * 0.0005;
      int rc = lox_announcement_put(pub, to_ptr(p * kSpan + s), t);
      if (rc == LOX_OK) break;
      if (rc == LOX_TIMEOUT && t < kMustSeconds) {
        timeouts.fetch_add(1);
        continue;
      }
      bad.fetch_add(1);
      return;
    }
  }
}

TEST(AnnouncementStress, TwoPublishersThreeSmallSubscribers) {
  const long per = scaled(20000);
  Ann creator = make_ann(2);
  // The creator is a member that nobody reads here: it leaves the members
  // and publishes only, like the clone (whose puts would otherwise fill it).
  ASSERT_EQ(lox_announcement_unsubscribe(creator.get()), LOX_OK);
  Ann clone = clone_of(creator.get());
  std::vector<Ann> subs;
  subs.push_back(subscribe(creator.get(), 0));  // default: 2
  subs.push_back(subscribe(creator.get(), 1));
  subs.push_back(subscribe(clone.get(), 5));
  std::atomic<long> bad{0}, timeouts{0};
  std::vector<std::thread> ts;
  for (int k = 0; k < 3; ++k)
    ts.emplace_back([&, k] { receive_all(subs[k].get(), 2, 2 * per, -1, k == 1, 40u + k, bad); });
  ts.emplace_back([&] { publish_all(creator.get(), 0, per, 1, bad, timeouts); });
  ts.emplace_back([&] { publish_all(clone.get(), 1, per, 2, bad, timeouts); });
  for (auto& t : ts) t.join();
  EXPECT_EQ(bad.load(), 0) << "an item was lost, duplicated, reordered or misdelivered";
  for (auto& s : subs) EXPECT_EQ(lox_announcement_size(s.get()), 0u);
}

// Three members, the creator and two subscribers, publish to each other (a
// putter and a getter thread each): every member receives the other two
// members' items, never its own.
TEST(AnnouncementStress, MembersPublishToEachOther) {
  const long per = scaled(10000);
  std::vector<Ann> members;
  members.push_back(make_ann(3));
  for (int k = 1; k < 3; ++k) members.push_back(subscribe(members[0].get()));
  std::atomic<long> bad{0}, timeouts{0};
  std::vector<std::thread> ts;
  for (int k = 0; k < 3; ++k) {
    ts.emplace_back([&, k] { receive_all(members[k].get(), 3, 2 * per, k, k == 0, 60u + k, bad); });
    ts.emplace_back([&, k] { publish_all(members[k].get(), k, per, 70u + k, bad, timeouts); });
  }
  for (auto& t : ts) t.join();
  EXPECT_EQ(bad.load(), 0) << "an item was lost, duplicated, reordered or came back to its sender";
}

// Subscribers join and leave while a publisher publishes; each one receives
// a gap-free run of the publisher's sequence (from the backlog on).
TEST(AnnouncementStress, SubscribersComeAndGoDuringPuts) {
  const long n = scaled(20000);
  Ann pub = make_ann(0, 64);
  std::atomic<bool> done{false};
  std::atomic<long> bad{0}, runs{0};
  Counter first_subscribed;
  std::thread publisher([&] {
    EXPECT_TRUE(first_subscribed.wait_at_least(2));  // both churners are in before the first put
    for (long s = 0; s < n; ++s) {
      if (lox_announcement_put(pub.get(), to_ptr(s), LOX_FOREVER) != LOX_OK) bad.fetch_add(1);
      if (s % 128 == 0) std::this_thread::yield();
    }
    done = true;
  });
  std::vector<std::thread> ts;
  for (int k = 0; k < 2; ++k)
    ts.emplace_back([&, k] {
      std::mt19937 rng(90u + k);
      bool first = true;
      do {
        lox_announcement* sub = nullptr;
        if (lox_announcement_subscribe(pub.get(), 0, 0, &sub) != LOX_OK) {
          bad.fetch_add(1);
          if (first) first_subscribed.add();
          return;
        }
        if (first) first_subscribed.add();
        first = false;
        long expect = -1;
        // One get with `timeout`: false when it returned `end` (or failed);
        // the items must follow each other without a gap.
        auto next = [&](double timeout, int end) {
          void* it = nullptr;
          const int rc = lox_announcement_get(sub, &it, timeout);
          if (rc == end) return false;
          if (rc != LOX_OK) {
            bad.fetch_add(1);
            return false;
          }
          const long v = static_cast<long>(from_ptr(it));
          if (expect >= 0 && v != expect) bad.fetch_add(1);
          expect = v + 1;
          return true;
        };
        int gets = 1 + static_cast<int>(rng() % 200);
        for (int g = 0; g < gets && next(0.01, LOX_TIMEOUT); ++g) {
        }
        if (k == 0) {
          if (lox_announcement_unsubscribe(sub) != LOX_OK) bad.fetch_add(1);
          // Drain what was left: still gap-free, then closed.
          while (next(0, LOX_ECLOSED)) {
          }
        }
        lox_announcement_destroy(sub);
        runs.fetch_add(1);
      } while (!done.load());
    });
  publisher.join();
  for (auto& t : ts) t.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_GT(runs.load(), 0);
  EXPECT_EQ(lox_announcement_subscribers(pub.get()), 1u) << "the creator alone";
}

// ---------------------------------------------------------------- funnel --

intptr_t funnel_item(int input, unsigned long long jid, long round = 0) {
  return static_cast<intptr_t>((static_cast<long long>(jid) * 1000 + round) * 4 + input);
}

TEST(FunnelStress, ThreeInputsFromThreeThreads) {
  const unsigned long long jobs = static_cast<unsigned long long>(scaled(10000));
  Funnel top = make_funnel();
  std::vector<Funnel> in;
  for (int i = 0; i < 3; ++i) in.push_back(add_input(top.get()));
  std::vector<std::vector<unsigned long long>> orders(3);
  for (auto& o : orders) {
    o.resize(jobs);
    std::iota(o.begin(), o.end(), 0ULL);
  }
  std::reverse(orders[1].begin(), orders[1].end());
  std::shuffle(orders[2].begin(), orders[2].end(), std::mt19937(3));
  std::atomic<long> bad{0};
  std::vector<std::thread> ts;
  for (int i = 0; i < 3; ++i)
    ts.emplace_back([&, i] {
      for (unsigned long long j : orders[i])
        if (lox_funnel_put(in[i].get(), j, to_ptr(funnel_item(i, j)), 0) != LOX_OK) bad.fetch_add(1);
    });
  // Two getters share the sets.
  std::vector<std::atomic<uint8_t>> seen(jobs);
  std::vector<std::thread> gs;
  for (int g = 0; g < 2; ++g)
    gs.emplace_back([&, g] {
      const unsigned long long mine = g == 0 ? jobs / 2 : jobs - jobs / 2;
      for (unsigned long long k = 0; k < mine; ++k) {
        unsigned long long jid = 0;
        void* items[4] = {};
        size_t count = 0;
        if (lox_funnel_get(top.get(), kMustSeconds, &jid, items, 4, &count) != LOX_OK || count != 3 || jid >= jobs) {
          bad.fetch_add(1);
          return;
        }
        seen[jid].fetch_add(1);
        for (int i = 0; i < 3; ++i)
          if (from_ptr(items[i]) != funnel_item(i, jid)) bad.fetch_add(1);
      }
    });
  for (auto& t : ts) t.join();
  for (auto& t : gs) t.join();
  EXPECT_EQ(bad.load(), 0);
  size_t once = 0;
  for (auto& s : seen) once += s.load() == 1;
  EXPECT_EQ(once, jobs) << "sets lost or duplicated";
  EXPECT_EQ(lox_funnel_ready(top.get()), 0u);
  size_t count = 0;
  EXPECT_EQ(lox_funnel_get(top.get(), 0, nullptr, nullptr, 0, &count), LOX_TIMEOUT);
}

// Each job id is used for many sets: the k-th set of a job holds the k-th
// item each input put for it.
TEST(FunnelStress, RepeatedJobIds) {
  const unsigned long long jobs = 50;
  const long rounds = scaled(100);
  Funnel top = make_funnel();
  std::vector<Funnel> in;
  for (int i = 0; i < 3; ++i) in.push_back(add_input(top.get()));
  std::atomic<long> bad{0};
  std::vector<std::thread> ts;
  for (int i = 0; i < 3; ++i)
    ts.emplace_back([&, i] {
      std::mt19937 rng(11u + static_cast<unsigned>(i));
      std::vector<unsigned long long> order(jobs);
      std::iota(order.begin(), order.end(), 0ULL);
      for (long r = 0; r < rounds; ++r) {
        std::shuffle(order.begin(), order.end(), rng);
        for (unsigned long long j : order)
          if (lox_funnel_put(in[i].get(), j, to_ptr(funnel_item(i, j, r)), 0) != LOX_OK) bad.fetch_add(1);
      }
    });
  std::vector<long> next_round(jobs, 0);
  const long total = static_cast<long>(jobs) * rounds;
  for (long k = 0; k < total; ++k) {
    unsigned long long jid = 0;
    void* items[3] = {};
    size_t count = 0;
    ASSERT_EQ(lox_funnel_get(top.get(), kMustSeconds, &jid, items, 3, &count), LOX_OK) << k;
    ASSERT_EQ(count, 3u);
    ASSERT_LT(jid, jobs);
    long r = next_round[jid]++;
    for (int i = 0; i < 3; ++i)
      EXPECT_EQ(from_ptr(items[i]), funnel_item(i, jid, r)) << "job " << jid << " set " << r << " input " << i;
  }
  for (auto& t : ts) t.join();
  EXPECT_EQ(bad.load(), 0);
  for (unsigned long long j = 0; j < jobs; ++j) EXPECT_EQ(next_round[j], rounds);
  EXPECT_EQ(lox_funnel_ready(top.get()), 0u);
}

}  // namespace
