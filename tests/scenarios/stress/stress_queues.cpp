// SPDX-License-Identifier: Apache-2.0
// Stress: the queues at full scale (docs/reliability.md), every put and get with a random
// short timeout (a call that times out left no trace and is retried).
// - lox_queue, 6 producers and 6 consumers, bounded and unbounded, closed
//   at the end: every item arrives exactly once, each producer's items in
//   its order for every consumer.
// - lox_announcement, 3 publishers and 4 small subscribers: all-or-none
//   puts (lox.h) mean a retried put never duplicates, so every subscriber
//   gets every item exactly once and in each publisher's order.
// - lox_funnel, 4 inputs fed in shuffled job order from 4 threads: every
//   job id comes out exactly once as a complete set, items in input order.
#include <lox/lox.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

#include "queue_util.hpp"
#include "stress_util.hpp"
#include "test_util.hpp"

using namespace loxtest;
using namespace loxstress;

namespace {

// Item = source * span + sequence number (item 0 is the NULL pointer).
struct Ids {
  long span;
  intptr_t make(long source, long seq) const { return static_cast<intptr_t>(source * span + seq); }
  long source(intptr_t v) const { return static_cast<long>(v / span); }
  long seq(intptr_t v) const { return static_cast<long>(v % span); }
};

// ------------------------------------------------------------- queue --

void queue_many_to_many(size_t maxsize, const char* name) {
  constexpr int kProducers = 6;
  constexpr int kConsumers = 6;
  const long per = scaled_count(1'200'000) / kProducers;
  const Ids ids{per};
  Queue q = make_queue(maxsize);
  Marks marks(static_cast<size_t>(per * kProducers));
  std::atomic<long> timeouts{0}, bad{0}, out_of_order{0};
  Stopwatch sw;
  std::vector<std::thread> ts;
  for (int c = 0; c < kConsumers; ++c)
    ts.emplace_back([&, c] {
      auto rng = rng_for(300 + static_cast<uint64_t>(c));
      std::vector<long> last(kProducers, -1);
      for (;;) {
        void* it = nullptr;
        const int rc = with_retries([&](double t) { return lox_queue_get(q.get(), &it, t); }, rng, timeouts);
        if (rc == LOX_ECLOSED) return;  // closed and drained
        if (rc != LOX_OK) {
          ADD_FAILURE() << "get: " << lox_status_str(rc) << ": " << lox_last_error();
          bad.fetch_add(1);
          return;
        }
        const intptr_t v = from_ptr(it);
        if (!marks.mark(static_cast<size_t>(v))) continue;
        const auto p = static_cast<size_t>(ids.source(v));
        if (ids.seq(v) <= last[p]) out_of_order.fetch_add(1);
        last[p] = ids.seq(v);
      }
    });
  std::vector<std::thread> ps;
  for (int p = 0; p < kProducers; ++p)
    ps.emplace_back([&, p] {
      auto rng = rng_for(400 + static_cast<uint64_t>(p));
      for (long s = 0; s < per; ++s) {
        const int rc =
            with_retries([&](double t) { return lox_queue_put(q.get(), to_ptr(ids.make(p, s)), t); }, rng, timeouts);
        if (rc != LOX_OK) {
          ADD_FAILURE() << "put: " << lox_status_str(rc) << ": " << lox_last_error();
          bad.fetch_add(1);
          return;
        }
      }
    });
  for (auto& t : ps) t.join();
  // Every put has taken effect: close lets the consumers drain and stop.
  EXPECT_EQ(lox_queue_close(q.get()), LOX_OK);
  for (auto& t : ts) t.join();
  EXPECT_EQ(bad.load(), 0);
  expect_exactly_once(marks, name);
  EXPECT_EQ(out_of_order.load(), 0) << "a consumer saw a producer's items out of order";
  EXPECT_EQ(lox_queue_size(q.get()), 0u);
  summary(name,
          "items=" + std::to_string(marks.size()) + " ok=" + std::to_string(marks.exactly_once()) +
              " lost=" + std::to_string(marks.lost()) + " duplicated=" + std::to_string(marks.duplicated()) +
              " timeouts_retried=" + std::to_string(timeouts.load()),
          sw);
}

TEST(StressQueue, SixBySixBoundedSixteenRandomTimeouts) { queue_many_to_many(16, "queue 6x6 maxsize=16"); }
TEST(StressQueue, SixBySixUnboundedRandomTimeouts) { queue_many_to_many(0, "queue 6x6 unbounded"); }

// ------------------------------------------------------ announcement --

TEST(StressAnnouncement, ThreePublishersFourSmallSubscribersRandomTimeouts) {
  constexpr int kPublishers = 3;
  const long per = scaled_count(50'000);
  const Ids ids{per};
  Ann creator = make_ann(4);  // subscribers' default bound: puts often wait for room
  // The creator is a member; nobody reads it here, so it leaves the members
  // and publishes only, like its two clones.
  ASSERT_EQ(lox_announcement_unsubscribe(creator.get()), LOX_OK);
  std::vector<Ann> pubs;
  pubs.push_back(clone_of(creator.get()));
  pubs.push_back(clone_of(creator.get()));
  const size_t bounds[] = {0 /* the group's 4 */, 1, 8, 64};
  std::vector<Ann> subs;
  for (size_t b : bounds) subs.push_back(subscribe(creator.get(), b));
  std::vector<lox_announcement*> publishers{creator.get(), pubs[0].get(), pubs[1].get()};

  std::atomic<long> put_timeouts{0}, get_timeouts{0}, bad{0};
  std::vector<long> received(subs.size(), 0);
  Stopwatch sw;
  std::vector<std::thread> ts;
  for (size_t k = 0; k < subs.size(); ++k)
    ts.emplace_back([&, k] {
      auto rng = rng_for(500 + k);
      std::vector<long> next(kPublishers, 0);
      for (long got = 0; got < per * kPublishers; ++got) {
        void* it = nullptr;
        const int rc =
            with_retries([&](double t) { return lox_announcement_get(subs[k].get(), &it, t); }, rng, get_timeouts);
        if (rc != LOX_OK) {
          ADD_FAILURE() << "subscriber " << k << " get after " << got << " items: " << lox_status_str(rc);
          bad.fetch_add(1);
          return;
        }
        // Exactly once and in order: each publisher's next item, no other.
        const intptr_t v = from_ptr(it);
        const long p = ids.source(v);
        if (p < 0 || p >= kPublishers || ids.seq(v) != next[static_cast<size_t>(p)]) {
          ADD_FAILURE() << "subscriber " << k << " got item " << v << " out of turn";
          bad.fetch_add(1);
          return;
        }
        ++next[static_cast<size_t>(p)];
        received[k] = got + 1;
      }
      void* extra = nullptr;
      if (lox_announcement_get(subs[k].get(), &extra, 0) != LOX_TIMEOUT) bad.fetch_add(1);  // nothing more
    });
  for (int p = 0; p < kPublishers; ++p)
    ts.emplace_back([&, p] {
      auto rng = rng_for(600 + static_cast<uint64_t>(p));
      for (long s = 0; s < per; ++s) {
        const int rc = with_retries(
            [&](double t) {
              return lox_announcement_put(publishers[static_cast<size_t>(p)], to_ptr(ids.make(p, s)), t);
            },
            rng, put_timeouts);
        if (rc != LOX_OK) {
          ADD_FAILURE() << "publisher " << p << " put: " << lox_status_str(rc);
          bad.fetch_add(1);
          return;
        }
      }
    });
  for (auto& t : ts) t.join();
  EXPECT_EQ(bad.load(), 0) << "an item was lost, duplicated, reordered or misdelivered";
  long delivered = 0;
  for (size_t k = 0; k < subs.size(); ++k) {
    EXPECT_EQ(received[k], per * kPublishers) << "subscriber " << k;
    delivered += received[k];
  }
  const long expected = per * kPublishers * static_cast<long>(subs.size());
  summary("announcement 3 publishers x 4 subscribers",
          "items=" + std::to_string(per * kPublishers) + " deliveries=" + std::to_string(expected) +
              " ok=" + std::to_string(delivered) + " lost=" + std::to_string(expected - delivered) +
              " put_timeouts_retried=" + std::to_string(put_timeouts.load()) +
              " get_timeouts_retried=" + std::to_string(get_timeouts.load()),
          sw);
}

// ------------------------------------------------------------ funnel --

TEST(StressFunnel, FourInputsShuffledJobsRandomTimeouts) {
  constexpr int kInputs = 4;
  const long jobs = scaled_count(100'000);
  Funnel top = make_funnel();
  std::vector<Funnel> inputs;
  for (int i = 0; i < kInputs; ++i) inputs.push_back(add_input(top.get()));
  auto item_of = [](long jid, int input) { return to_ptr(static_cast<intptr_t>(jid) * kInputs + input); };
  Marks marks(static_cast<size_t>(jobs));
  std::atomic<long> bad{0}, timeouts{0};
  Stopwatch sw;
  std::vector<std::thread> ts;
  for (int i = 0; i < kInputs; ++i)
    ts.emplace_back([&, i] {
      auto rng = rng_for(700 + static_cast<uint64_t>(i));
      std::vector<long> order(static_cast<size_t>(jobs));
      std::iota(order.begin(), order.end(), 0L);
      std::shuffle(order.begin(), order.end(), rng);
      for (long jid : order)
        if (lox_funnel_put(inputs[static_cast<size_t>(i)].get(), static_cast<unsigned long long>(jid), item_of(jid, i),
                           random_timeout(rng)) != LOX_OK)
          bad.fetch_add(1);
    });
  ts.emplace_back([&] {
    auto rng = rng_for(799);
    for (long n = 0; n < jobs; ++n) {
      unsigned long long jid = 0;
      void* items[kInputs + 1] = {};
      size_t count = 0;
      const int rc = with_retries(
          [&](double t) { return lox_funnel_get(top.get(), t, &jid, items, kInputs + 1, &count); }, rng, timeouts);
      if (rc != LOX_OK) {
        ADD_FAILURE() << "funnel get after " << n << " sets: " << lox_status_str(rc);
        bad.fetch_add(1);
        return;
      }
      bool whole = count == kInputs && jid < static_cast<unsigned long long>(jobs);
      for (size_t i = 0; whole && i < count; ++i)
        whole = items[i] == item_of(static_cast<long>(jid), static_cast<int>(i));
      if (!whole || !marks.mark(static_cast<size_t>(jid))) bad.fetch_add(1);
    }
  });
  for (auto& t : ts) t.join();
  EXPECT_EQ(bad.load(), 0) << "a set was incomplete, mixed or misordered";
  expect_exactly_once(marks, "funnel job ids");
  EXPECT_EQ(lox_funnel_ready(top.get()), 0u);
  summary("funnel 4 inputs, shuffled job ids",
          "sets=" + std::to_string(jobs) + " items=" + std::to_string(jobs * kInputs) +
              " ok=" + std::to_string(marks.exactly_once()) + " lost=" + std::to_string(marks.lost()) + " duplicated=" +
              std::to_string(marks.duplicated()) + " get_timeouts_retried=" + std::to_string(timeouts.load()),
          sw);
}

}  // namespace
