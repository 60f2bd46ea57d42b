// SPDX-License-Identifier: Apache-2.0
// Task graphs at size (label `stress`): a chain of 10,000 process tasks
// alternating between process pools of 1 and 2 workers; a fan-in of 10,000
// thread and process predecessors into a process sink (framed input,
// `encode`) and a thread sink; and rounds of random graphs over a thread and
// a process pool cancelled part-way, checked against the propagation rules
// (a dependent of a failed or cancelled task is LOX_EDEPENDENCY and never
// runs, a task that ran has the value its inputs give), with no process,
// zombie or descriptor left behind.
#include <lox/lox.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "process_util.hpp"
#include "queue_util.hpp"
#include "task_util.hpp"
#include "test_util.hpp"

using namespace loxtest;

namespace {

constexpr size_t kBig = 10000;

TEST(TaskStress, ProcessChainOf10000AcrossPoolsOf1And2Workers) {
  warm_up_process_pool();
  LeakCheck leaks;
  {
    Shared sh;
    Proc a = make_proc(1, task_fn, sh.get());
    Proc b = make_proc(2, task_fn, sh.get());
    Task prev;
    for (size_t i = 0; i < kBig; ++i) {
      lox_process* pool = i % 2 == 0 ? a.get() : b.get();
      std::vector<lox_task*> after;
      if (prev) after.push_back(prev.get());
      size_t index = 0;
      Task t = pscatter(pool, pcmd(kPSum, 1, 0, !after.empty()), after, &index);
      ASSERT_NE(t, nullptr) << "task " << i;
      ASSERT_EQ(index, i / 2);
      prev = std::move(t);
    }
    ASSERT_TRUE(wait_done(prev.get()));
    EXPECT_EQ(lox_task_status(prev.get()), 0) << task_error(prev.get());
    EXPECT_EQ(task_i64(prev.get()), static_cast<int64_t>(kBig));
    leaks.remember();
    Results ra = pgather_ok(a.get());
    Results rb = pgather_ok(b.get());
    ASSERT_EQ(lox_results_count(ra.get()), kBig / 2);
    ASSERT_EQ(lox_results_count(rb.get()), kBig / 2);
    for (size_t k = 0; k < kBig / 2; ++k) {
      ASSERT_EQ(bytes_at(ra.get(), k), i64_bytes(static_cast<int64_t>(2 * k + 1)));
      ASSERT_EQ(bytes_at(rb.get(), k), i64_bytes(static_cast<int64_t>(2 * k + 2)));
    }
  }
  leaks.check_clean("after destroy");
}

TEST(TaskStress, FanInOf10000ThreadAndProcessPredecessors) {
  warm_up_process_pool();
  LeakCheck leaks;
  {
    Shared sh;
    Proc pp = make_proc(2, task_fn, sh.get());
    Pool tp = make_pool(1, sum_task);
    EncodeLog enc;
    std::vector<Task> preds;
    std::vector<lox_task*> after;
    int64_t want = 0;
    for (size_t i = 0; i < kBig; ++i) {
      const int64_t v = static_cast<int64_t>(i) + 1;
      preds.push_back(i % 2 ? pscatter(pp.get(), pcmd(kPSum, v))
                            : tscatter(tp.get(), nullptr, nullptr, to_ptr(static_cast<intptr_t>(v))));
      ASSERT_NE(preds.back(), nullptr);
      after.push_back(preds.back().get());
      want += v;
    }
    Task psink = pscatter(pp.get(), pcmd(kPSum, 0, 0, true), after, nullptr, encode_i64, &enc);
    Task tsink = tscatter(tp.get(), nullptr, nullptr, to_ptr(0), after);
    ASSERT_TRUE(psink && tsink);
    preds.clear();
    ASSERT_TRUE(wait_done(psink.get()));
    ASSERT_TRUE(wait_done(tsink.get()));
    EXPECT_EQ(lox_task_status(psink.get()), 0) << task_error(psink.get());
    EXPECT_EQ(task_i64(psink.get()), want);
    EXPECT_EQ(lox_task_status(tsink.get()), 0) << task_error(tsink.get());
    EXPECT_EQ(task_value(tsink.get()), static_cast<intptr_t>(want));
    EXPECT_EQ(enc.calls.load(), static_cast<int>(kBig / 2)) << "encode once per thread predecessor";
    leaks.remember();
    Results rp = pgather_ok(pp.get());
    Results rt = gather(tp.get());
  }
  leaks.check_clean("after destroy");
}

// One node of a random graph: where it runs, what it names, what it does.
struct Node {
  bool process = false;
  bool fails = false;
  std::vector<size_t> after;
  Task task;
};

TEST(TaskStress, RandomGraphsCancelledPartWay) {
  QuietLog quiet;
  warm_up_process_pool();
  LeakCheck leaks;
  {
    Shared sh;
    Proc pp = make_proc(2, task_fn, sh.get());
    set_cancel_grace(pp.get(), 0.2);
    Pool tp = make_pool(2, sum_task);
    std::mt19937 rng(20261207);
    const long rounds = scaled(20);
    for (long round = 0; round < rounds; ++round) {
      SCOPED_TRACE("round " + std::to_string(round));
      std::vector<Node> nodes(200);
      for (size_t i = 0; i < nodes.size(); ++i) {
        Node& n = nodes[i];
        n.process = rng() % 4 == 0;
        n.fails = rng() % 25 == 0;
        const size_t k = i == 0 ? 0 : rng() % 4;
        for (size_t j = 0; j < k; ++j) n.after.push_back(rng() % i);
        std::vector<lox_task*> after;
        for (size_t a : n.after) after.push_back(nodes[a].task.get());
        if (n.process)
          n.task = n.fails ? pscatter(pp.get(), pcmd(kPFail, 0, 17, !after.empty()), after, nullptr, encode_i64)
                           : pscatter(pp.get(), pcmd(kPSum, 1, 0, !after.empty()), after, nullptr, encode_i64);
        else
          n.task = n.fails ? tscatter(tp.get(), fail_task, nullptr, to_ptr(17), after)
                           : tscatter(tp.get(), nullptr, nullptr, to_ptr(1), after);
        ASSERT_NE(n.task, nullptr);
        if (i == 100 + static_cast<size_t>(round % 50)) {
          // Part-way: cancel one pool (alternately), keep scattering.
          ASSERT_EQ(round % 2 ? lox_thread_cancel(tp.get()) : lox_process_cancel(pp.get()), LOX_OK);
        }
      }
      for (Node& n : nodes) ASSERT_TRUE(wait_done(n.task.get()));
      // The rules, node by node (predecessors come first).
      for (size_t i = 0; i < nodes.size(); ++i) {
        const Node& n = nodes[i];
        const int st = lox_task_status(n.task.get());
        bool pred_failed = false;
        int64_t sum = 0;
        for (size_t a : n.after) {
          const lox_task* p = nodes[a].task.get();
          if (lox_task_status(p) != 0) {
            pred_failed = true;
            continue;
          }
          sum += nodes[a].process ? task_i64(p) : static_cast<int64_t>(task_value(p));
        }
        if (pred_failed) {
          EXPECT_TRUE(st == LOX_EDEPENDENCY || st == LOX_ECANCELLED) << "node " << i << ": " << st;
          continue;
        }
        if (st == LOX_ECANCELLED) continue;  // cancelled before (or, process, while) it ran
        ASSERT_NE(st, LOX_EDEPENDENCY) << "node " << i << " failed although every predecessor succeeded";
        if (n.fails) {
          EXPECT_EQ(st, 17) << "node " << i << ": " << task_error(n.task.get());
          continue;
        }
        ASSERT_EQ(st, 0) << "node " << i << ": " << task_error(n.task.get());
        const int64_t got = n.process ? task_i64(n.task.get()) : static_cast<int64_t>(task_value(n.task.get()));
        EXPECT_EQ(got, 1 + sum) << "node " << i;
      }
      leaks.remember();
      int rc = 0;
      Results rt = gather(tp.get(), &rc, kMustSeconds);
      EXPECT_NE(rc, LOX_TIMEOUT);
      Results rt2 = gather(tp.get(), &rc, kMustSeconds);  // a cancel closed a round: two of them
      EXPECT_NE(rc, LOX_TIMEOUT);
      Results rp = pgather(pp.get(), &rc);
      EXPECT_NE(rc, LOX_TIMEOUT);
      Results rp2 = pgather(pp.get(), &rc);
      EXPECT_NE(rc, LOX_TIMEOUT);
      EXPECT_EQ(lox_results_count(rt.get()) + lox_results_count(rt2.get()) + lox_results_count(rp.get()) +
                    lox_results_count(rp2.get()),
                nodes.size());
    }
  }
  leaks.check_clean("after destroy");
}

}  // namespace
