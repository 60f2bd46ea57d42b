// SPDX-License-Identifier: Apache-2.0
// Scenarios: Effective Python Item 39 (a download -> resize -> upload
// pipeline of bounded closable queues with task_done/join, its Queue(1)
// hand-over and its join example), an announcement fanning jobs out to
// workers whose results a funnel joins back, and "no busy waiting": threads
// blocked in every kind of wait burn (almost) no CPU.
#include <lox/lox.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "queue_util.hpp"
#include "test_util.hpp"

using namespace loxtest;

namespace {

// How long a "must happen" wait inside these scenarios may take before the
// test fails instead of hanging.
constexpr double kMustSeconds = 30.0;

intptr_t download(intptr_t x) { return x * 3; }
intptr_t resize(intptr_t x) { return x + 1; }
intptr_t upload(intptr_t x) { return x * 2; }

// A stoppable worker: for item in in_queue (get until closed and
// drained, task_done after each item): out_queue.put(func(item)).
struct Worker {
  intptr_t (*func)(intptr_t);
  lox_queue* in;
  lox_queue* out;
  std::vector<intptr_t> seen;  // what this worker got, in order
  long gets = 0;               // every call of get, the final LOX_ECLOSED included
  int bad = 0;

  void run() {
    for (;;) {
      void* it = nullptr;
      ++gets;
      int rc = lox_queue_get(in, &it, LOX_FOREVER);
      if (rc == LOX_ECLOSED) return;
      if (rc != LOX_OK) {
        ++bad;
        return;
      }
      seen.push_back(from_ptr(it));
      if (lox_queue_put(out, to_ptr(func(from_ptr(it))), kMustSeconds) != LOX_OK) ++bad;
      if (lox_queue_task_done(in) != LOX_OK) ++bad;
    }
  }
};

struct Pipeline {
  static constexpr size_t kStages = 3;
  Queue download_q, resize_q, upload_q, done_q;
  std::vector<std::unique_ptr<Worker>> workers;
  std::vector<std::thread> threads;

  Pipeline(size_t maxsize, int workers_per_stage)
      : download_q(make_queue(maxsize)),
        resize_q(make_queue(maxsize)),
        upload_q(make_queue(maxsize)),
        done_q(make_queue(0)) {
    struct {
      intptr_t (*f)(intptr_t);
      lox_queue* in;
      lox_queue* out;
    } stages[kStages] = {{download, download_q.get(), resize_q.get()},
                         {resize, resize_q.get(), upload_q.get()},
                         {upload, upload_q.get(), done_q.get()}};
    for (auto& s : stages)
      for (int w = 0; w < workers_per_stage; ++w)
        workers.push_back(std::make_unique<Worker>(Worker{s.f, s.in, s.out, {}, 0, 0}));
    for (auto& w : workers) threads.emplace_back([w = w.get()] { w->run(); });
  }

  // The shutdown: close the first queue and join it, then close and
  // join each later queue in turn.
  void shut_down() {
    EXPECT_EQ(lox_queue_close(download_q.get()), LOX_OK);
    EXPECT_EQ(lox_queue_join(download_q.get(), kMustSeconds), LOX_OK);
    EXPECT_EQ(lox_queue_close(resize_q.get()), LOX_OK);
    EXPECT_EQ(lox_queue_join(resize_q.get(), kMustSeconds), LOX_OK);
    EXPECT_EQ(lox_queue_close(upload_q.get()), LOX_OK);
    EXPECT_EQ(lox_queue_join(upload_q.get(), kMustSeconds), LOX_OK);
    for (auto& t : threads) t.join();
  }

  std::vector<intptr_t> done() {
    std::vector<intptr_t> v;
    void* it = nullptr;
    while (lox_queue_get(done_q.get(), &it, 0) == LOX_OK) v.push_back(from_ptr(it));
    return v;
  }
};

TEST(QueueScenario, ThreeStagePipelineOneWorkerPerStage) {
  constexpr intptr_t kItems = 1000;
  Pipeline p(10, 1);
  for (intptr_t i = 0; i < kItems; ++i) ASSERT_EQ(lox_queue_put(p.download_q.get(), to_ptr(i), kMustSeconds), LOX_OK);
  p.shut_down();
  EXPECT_EQ(lox_queue_size(p.done_q.get()), static_cast<size_t>(kItems)) << "items finished";
  std::vector<intptr_t> want_download, want_resize, want_upload, want_done;
  for (intptr_t i = 0; i < kItems; ++i) {
    want_download.push_back(i);
    want_resize.push_back(download(i));
    want_upload.push_back(resize(download(i)));
    want_done.push_back(upload(resize(download(i))));
  }
  EXPECT_EQ(p.done(), want_done) << "lost, duplicated or reordered";
  ASSERT_EQ(p.workers.size(), 3u);
  EXPECT_EQ(p.workers[0]->seen, want_download);
  EXPECT_EQ(p.workers[1]->seen, want_resize);
  EXPECT_EQ(p.workers[2]->seen, want_upload);
  for (auto& w : p.workers) {
    EXPECT_EQ(w->bad, 0);
    EXPECT_EQ(w->gets, kItems + 1) << "a worker polled: one get per item plus the one that saw the close";
  }
  for (lox_queue* q : {p.download_q.get(), p.resize_q.get(), p.upload_q.get()}) {
    EXPECT_EQ(lox_queue_size(q), 0u);
    EXPECT_EQ(lox_queue_closed(q), 1);
    EXPECT_EQ(lox_queue_join(q, 0), LOX_OK);
  }
}

TEST(QueueScenario, ThreeStagePipelineTwoWorkersPerStage) {
  constexpr intptr_t kItems = 1000;
  Pipeline p(10, 2);
  for (intptr_t i = 0; i < kItems; ++i) ASSERT_EQ(lox_queue_put(p.download_q.get(), to_ptr(i), kMustSeconds), LOX_OK);
  p.shut_down();
  std::vector<intptr_t> want;
  for (intptr_t i = 0; i < kItems; ++i) want.push_back(upload(resize(download(i))));
  std::vector<intptr_t> got = p.done();
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, want) << "lost or duplicated";
  long total_gets = 0;
  for (size_t stage = 0; stage < 3; ++stage) {
    std::vector<intptr_t> seen;
    for (size_t w = 0; w < 2; ++w) {
      auto& wk = *p.workers[stage * 2 + w];
      EXPECT_EQ(wk.bad, 0);
      if (stage == 0)  // fed by one producer in order: each worker sees a rising sequence
        EXPECT_TRUE(std::is_sorted(wk.seen.begin(), wk.seen.end())) << "a worker got items out of order";
      seen.insert(seen.end(), wk.seen.begin(), wk.seen.end());
      total_gets += wk.gets;
    }
    std::vector<intptr_t> want_stage;
    for (intptr_t i = 0; i < kItems; ++i)
      want_stage.push_back(stage == 0 ? i : stage == 1 ? download(i) : resize(download(i)));
    std::sort(seen.begin(), seen.end());
    EXPECT_EQ(seen, want_stage) << "stage " << stage << ": lost or duplicated";
  }
  EXPECT_EQ(total_gets, 3 * (kItems + 2)) << "workers polled";
}

// A stalled stage backs the pipeline up: the bounded queue stops the
// producer at maxsize instead of growing, and everything flows once the
// stage runs.
TEST(QueueScenario, BoundedQueuesHoldBackAFastProducer) {
  constexpr size_t kMax = 4;
  Queue in = make_queue(kMax);
  Queue out = make_queue(kMax);
  Gate go;
  std::thread slow([&] {
    EXPECT_TRUE(go.wait());
    for (;;) {
      void* it = nullptr;
      int rc = lox_queue_get(in.get(), &it, LOX_FOREVER);
      if (rc != LOX_OK) {
        EXPECT_EQ(rc, LOX_ECLOSED);
        return;
      }
      EXPECT_EQ(lox_queue_put(out.get(), it, kMustSeconds), LOX_OK);
      EXPECT_EQ(lox_queue_task_done(in.get()), LOX_OK);
    }
  });
  std::thread drain([&] {
    for (intptr_t i = 0; i < 200; ++i) {
      void* it = nullptr;
      ASSERT_EQ(lox_queue_get(out.get(), &it, kMustSeconds), LOX_OK);
      EXPECT_EQ(from_ptr(it), i);
      if (i % 50 == 0) std::this_thread::sleep_for(5ms);
    }
  });
  // Before the worker starts, the producer gets exactly kMax items in.
  for (intptr_t i = 0; i < static_cast<intptr_t>(kMax); ++i) ASSERT_EQ(lox_queue_put(in.get(), to_ptr(i), 0), LOX_OK);
  EXPECT_EQ(lox_queue_put(in.get(), to_ptr(-1), 0), LOX_TIMEOUT) << "the pipeline would grow without bound";
  go.open();
  for (intptr_t i = static_cast<intptr_t>(kMax); i < 200; ++i)
    ASSERT_EQ(lox_queue_put(in.get(), to_ptr(i), kMustSeconds), LOX_OK);
  EXPECT_EQ(lox_queue_close(in.get()), LOX_OK);
  EXPECT_EQ(lox_queue_join(in.get(), kMustSeconds), LOX_OK);
  slow.join();
  drain.join();
}

// Item 39's Queue(1): the producer's second put waits until the consumer
// took the first item.
TEST(QueueScenario, BufferOfOneHandsOver) {
  Queue q = make_queue(1);
  Gate consumer_may_start;
  std::atomic<int> got{0};
  std::thread consumer([&] {
    EXPECT_TRUE(consumer_may_start.wait());
    for (intptr_t i = 1; i <= 2; ++i) {
      void* it = nullptr;
      ASSERT_EQ(lox_queue_get(q.get(), &it, kMustSeconds), LOX_OK);
      EXPECT_EQ(from_ptr(it), i);
      got.fetch_add(1);
    }
  });
  ASSERT_EQ(lox_queue_put(q.get(), to_ptr(1), LOX_FOREVER), LOX_OK);  // "Producer put 1"
  std::atomic<int> rc{99};
  Sleeper second([&] { rc = lox_queue_put(q.get(), to_ptr(2), LOX_FOREVER); });
  ASSERT_TRUE(second.wait_asleep()) << "the second put must wait for room";
  EXPECT_EQ(got.load(), 0);
  consumer_may_start.open();  // "Consumer got 1", then "Producer put 2"
  second.join();
  EXPECT_EQ(rc.load(), LOX_OK);
  consumer.join();  // "Consumer got 2"
  EXPECT_EQ(got.load(), 2);
}

// Item 39's join: the producer waits until the consumer called task_done,
// not merely until the queue is empty.
TEST(QueueScenario, JoinWaitsForTheConsumersTaskDone) {
  Queue in = make_queue(0);
  Gate work_may_finish;
  std::atomic<bool> got_it{false}, worked{false};
  std::thread consumer([&] {
    void* it = nullptr;
    ASSERT_EQ(lox_queue_get(in.get(), &it, kMustSeconds), LOX_OK);  // "Consumer working"
    got_it = true;
    EXPECT_TRUE(work_may_finish.wait());
    worked = true;  // "Consumer done"
    EXPECT_EQ(lox_queue_task_done(in.get()), LOX_OK);
  });
  ASSERT_EQ(lox_queue_put(in.get(), to_ptr(1), 0), LOX_OK);
  ASSERT_TRUE(eventually([&] { return got_it.load(); }));
  EXPECT_EQ(lox_queue_empty(in.get()), 1);
  EXPECT_EQ(lox_queue_join(in.get(), 0.05), LOX_TIMEOUT) << "empty, but the work is not done";
  work_may_finish.open();
  EXPECT_EQ(lox_queue_join(in.get(), kMustSeconds), LOX_OK);  // "Producer done"
  EXPECT_TRUE(worked.load());
  consumer.join();
}

// An announcement fans jobs out to three workers; each puts its result on
// its own funnel input, and the funnel joins the three results of each job.
TEST(QueueScenario, AnnouncementFansOutFunnelJoinsBack) {
  constexpr intptr_t kJobs = 300;
  constexpr intptr_t kStop = -1;
  Ann jobs = make_ann(4);
  Funnel results = make_funnel();
  std::vector<Ann> subs;
  std::vector<Funnel> inputs;
  for (int w = 0; w < 3; ++w) {
    subs.push_back(subscribe(jobs.get()));
    inputs.push_back(add_input(results.get()));
  }
  std::atomic<int> bad{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < 3; ++w)
    workers.emplace_back([&, w] {
      for (;;) {
        void* it = nullptr;
        if (lox_announcement_get(subs[w].get(), &it, kMustSeconds) != LOX_OK) {
          bad.fetch_add(1);
          return;
        }
        intptr_t x = from_ptr(it);
        if (x == kStop) return;
        if (lox_funnel_put(inputs[w].get(), static_cast<unsigned long long>(x), to_ptr(x * 10 + w), 0) != LOX_OK)
          bad.fetch_add(1);
      }
    });
  std::thread publisher([&] {
    for (intptr_t x = 0; x < kJobs; ++x)
      if (lox_announcement_put(jobs.get(), to_ptr(x), kMustSeconds) != LOX_OK) bad.fetch_add(1);
    if (lox_announcement_put(jobs.get(), to_ptr(kStop), kMustSeconds) != LOX_OK) bad.fetch_add(1);
  });
  std::vector<int> seen(kJobs, 0);
  for (intptr_t k = 0; k < kJobs; ++k) {
    unsigned long long jid = 0;
    void* items[3] = {};
    size_t count = 0;
    ASSERT_EQ(lox_funnel_get(results.get(), kMustSeconds, &jid, items, 3, &count), LOX_OK);
    ASSERT_EQ(count, 3u);
    ASSERT_LT(jid, static_cast<unsigned long long>(kJobs));
    seen[jid]++;
    for (int w = 0; w < 3; ++w) EXPECT_EQ(from_ptr(items[w]), static_cast<intptr_t>(jid) * 10 + w);
  }
  publisher.join();
  for (auto& t : workers) t.join();
  EXPECT_EQ(bad.load(), 0);
  for (intptr_t x = 0; x < kJobs; ++x) EXPECT_EQ(seen[x], 1) << x;
  EXPECT_EQ(lox_funnel_ready(results.get()), 0u);
}

// ------------------------------------------------------- no busy waiting --

struct WaitCost {
  std::chrono::nanoseconds cpu{-1};
  std::chrono::nanoseconds wall{-1};
  int rc = 99;
};

// Runs `block` in a thread; once it sleeps, waits `hold`, then calls
// `release` and reports the thread's CPU time and wall time in `block`.
WaitCost cost_of_waiting(const std::function<int()>& block, const std::function<void()>& release,
                         std::chrono::milliseconds hold) {
  WaitCost c;
  Sleeper s([&] {
    auto cpu0 = thread_cpu_time();
    auto wall0 = Clock::now();
    c.rc = block();
    c.wall = Clock::now() - wall0;
    c.cpu = thread_cpu_time() - cpu0;
  });
  EXPECT_TRUE(s.wait_asleep());
  std::this_thread::sleep_for(hold);
  release();
  s.join();
  return c;
}

// A thread that busy-waits for 300 ms burns about that much CPU; one that
// sleeps on a futex burns microseconds. 50 ms is a generous line between.
constexpr auto kHold = 300ms;
constexpr auto kCpuLimit = 50ms;

#define EXPECT_SLEPT(cost, expected_rc, what)                                                                    \
  do {                                                                                                           \
    EXPECT_EQ((cost).rc, (expected_rc)) << what;                                                                 \
    EXPECT_GE((cost).wall, kHold) << what << ": returned before it was released";                                \
    EXPECT_LT((cost).cpu, kCpuLimit) << what << ": busy-waited (" << (cost).cpu.count() / 1000 << " us of CPU)"; \
  } while (0)

TEST(QueueNoBusyWait, BlockedGetsOfEveryLayout) {
  for (size_t maxsize : {size_t{0}, size_t{4}, size_t{100000}}) {
    Queue q = make_queue(maxsize);
    void* it = nullptr;
    WaitCost c = cost_of_waiting([&] { return lox_queue_get(q.get(), &it, LOX_FOREVER); },
                                 [&] { EXPECT_EQ(lox_queue_put(q.get(), to_ptr(1), 0), LOX_OK); }, kHold);
    EXPECT_SLEPT(c, LOX_OK, "get, maxsize " << maxsize);
    Queue q2 = make_queue(maxsize);
    c = cost_of_waiting([&] { return lox_queue_get(q2.get(), &it, 60.0); },
                        [&] { EXPECT_EQ(lox_queue_close(q2.get()), LOX_OK); }, kHold);
    EXPECT_SLEPT(c, LOX_ECLOSED, "timed get woken by close, maxsize " << maxsize);
  }
}

TEST(QueueNoBusyWait, BlockedPutAndJoin) {
  for (size_t maxsize : {size_t{1}, size_t{100000}}) {
    Queue q = make_queue(maxsize);
    for (size_t i = 0; i < maxsize; ++i) ASSERT_EQ(lox_queue_put(q.get(), to_ptr(1), 0), LOX_OK);
    WaitCost c = cost_of_waiting([&] { return lox_queue_put(q.get(), to_ptr(2), LOX_FOREVER); },
                                 [&] {
                                   void* it = nullptr;
                                   EXPECT_EQ(lox_queue_get(q.get(), &it, 0), LOX_OK);
                                 },
                                 kHold);
    EXPECT_SLEPT(c, LOX_OK, "put, maxsize " << maxsize);
  }
  Queue q = make_queue(0);
  ASSERT_EQ(lox_queue_put(q.get(), to_ptr(1), 0), LOX_OK);
  WaitCost c = cost_of_waiting([&] { return lox_queue_join(q.get(), LOX_FOREVER); },
                               [&] {
                                 void* it = nullptr;
                                 EXPECT_EQ(lox_queue_get(q.get(), &it, 0), LOX_OK);
                                 EXPECT_EQ(lox_queue_task_done(q.get()), LOX_OK);
                               },
                               kHold);
  EXPECT_SLEPT(c, LOX_OK, "join");
}

TEST(QueueNoBusyWait, BlockedAnnouncementAndFunnel) {
  Ann p = make_ann(1);
  Ann a = subscribe(p.get());
  void* it = nullptr;
  WaitCost c = cost_of_waiting([&] { return lox_announcement_get(a.get(), &it, LOX_FOREVER); },
                               [&] { EXPECT_EQ(lox_announcement_put(p.get(), to_ptr(1), 0), LOX_OK); }, kHold);
  EXPECT_SLEPT(c, LOX_OK, "announcement get");
  ASSERT_EQ(lox_announcement_put(p.get(), to_ptr(2), 0), LOX_OK);  // a is full now
  c = cost_of_waiting([&] { return lox_announcement_put(p.get(), to_ptr(3), LOX_FOREVER); },
                      [&] { EXPECT_EQ(lox_announcement_get(a.get(), &it, 0), LOX_OK); }, kHold);
  EXPECT_SLEPT(c, LOX_OK, "announcement put");
  Funnel top = make_funnel();
  Funnel in = add_input(top.get());
  c = cost_of_waiting(
      [&] {
        size_t count = 0;
        return lox_funnel_get(top.get(), LOX_FOREVER, nullptr, &it, 1, &count);
      },
      [&] { EXPECT_EQ(lox_funnel_put(in.get(), 1, to_ptr(1), 0), LOX_OK); }, kHold);
  EXPECT_SLEPT(c, LOX_OK, "funnel get");
}

// Several consumers blocked on one empty queue at once: their CPU time
// together stays small (busy-waiting consumers would share the two cores
// and burn hundreds of milliseconds between them).
TEST(QueueNoBusyWait, SeveralIdleConsumersTogether) {
  constexpr int kConsumers = 4;
  Queue q = make_queue(16);
  std::vector<WaitCost> costs(kConsumers);
  std::vector<std::unique_ptr<Sleeper>> ss;
  for (int k = 0; k < kConsumers; ++k) {
    ss.push_back(std::make_unique<Sleeper>([&, k] {
      auto cpu0 = thread_cpu_time();
      auto wall0 = Clock::now();
      void* it = nullptr;
      costs[k].rc = lox_queue_get(q.get(), &it, LOX_FOREVER);
      costs[k].wall = Clock::now() - wall0;
      costs[k].cpu = thread_cpu_time() - cpu0;
    }));
  }
  for (auto& s : ss) ASSERT_TRUE(s->wait_asleep());
  std::this_thread::sleep_for(kHold);
  ASSERT_EQ(lox_queue_close(q.get()), LOX_OK);
  for (auto& s : ss) s->join();
  std::chrono::nanoseconds total{0};
  for (int k = 0; k < kConsumers; ++k) {
    EXPECT_SLEPT(costs[k], LOX_ECLOSED, "consumer " << k);
    total += costs[k].cpu;
  }
  EXPECT_LT(total, kCpuLimit) << "together they busy-waited";
}

}  // namespace
