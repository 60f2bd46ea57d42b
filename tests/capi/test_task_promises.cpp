// SPDX-License-Identifier: Apache-2.0
// Tasks completed by their creator (lox_task_create / lox_task_complete):
// waits, callbacks on the completing thread, dependents in thread and
// process pools that run only once the promise is completed, failure and
// cancellation reaching dependents, exactly one completion, completion
// order together with pool tasks, and the argument errors.
#include <lox/lox.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "process_util.hpp"
#include "queue_util.hpp"
#include "task_util.hpp"
#include "test_util.hpp"

using namespace loxtest;

namespace {

Task make_promise(size_t index) {
  lox_task* t = nullptr;
  EXPECT_EQ(lox_task_create(index, &t), LOX_OK) << lox_last_error();
  return Task(t);
}

struct Seen {
  std::atomic<int> calls{0};
  std::atomic<int> status{-100};
  std::thread::id thread;
};

void note_done(void* ctx, lox_task* t) {
  auto* s = static_cast<Seen*>(ctx);
  s->thread = std::this_thread::get_id();
  s->status.store(lox_task_status(t));
  s->calls.fetch_add(1);
}

}  // namespace

TEST(TaskPromises, CompletedByTheCallerWithAValue) {
  Task p = make_promise(7);
  EXPECT_EQ(lox_task_index(p.get()), 7u);
  EXPECT_EQ(lox_task_done(p.get()), 0);
  EXPECT_EQ(lox_task_wait(p.get(), 0.01), LOX_TIMEOUT);
  EXPECT_EQ(lox_task_status(p.get()), LOX_ESTATE);
  ASSERT_EQ(lox_task_complete(p.get(), LOX_OK, to_ptr(42), "ignored on success"), LOX_OK) << lox_last_error();
  EXPECT_EQ(lox_task_done(p.get()), 1);
  EXPECT_EQ(lox_task_wait(p.get(), 0), LOX_OK);
  EXPECT_EQ(lox_task_status(p.get()), LOX_OK);
  EXPECT_EQ(task_value(p.get()), 42);
  EXPECT_EQ(lox_task_error(p.get()), nullptr);
}

TEST(TaskPromises, OnlyTheFirstCompletionCounts) {
  Task p = make_promise(0);
  ASSERT_EQ(lox_task_complete(p.get(), LOX_OK, to_ptr(1), nullptr), LOX_OK);
  EXPECT_EQ(lox_task_complete(p.get(), 5, to_ptr(2), "late"), LOX_ESTATE);
  EXPECT_NE(std::string(lox_last_error()).find("already completed"), std::string::npos) << lox_last_error();
  EXPECT_EQ(lox_task_status(p.get()), LOX_OK);
  EXPECT_EQ(task_value(p.get()), 1);
}

TEST(TaskPromises, ConcurrentCompletionsHaveOneWinner) {
  for (int round = 0; round < 50; ++round) {
    Task p = make_promise(0);
    std::atomic<int> winners{0};
    std::vector<std::thread> ts;
    for (int k = 1; k <= 4; ++k)
      ts.emplace_back([&, k] {
        if (lox_task_complete(p.get(), LOX_OK, to_ptr(k), nullptr) == LOX_OK) winners.fetch_add(1);
      });
    for (auto& t : ts) t.join();
    EXPECT_EQ(winners.load(), 1);
    const intptr_t v = task_value(p.get());
    EXPECT_TRUE(v >= 1 && v <= 4) << v;
  }
}

TEST(TaskPromises, FailureCarriesItsStatusAndDetail) {
  Task p = make_promise(3);
  ASSERT_EQ(lox_task_complete(p.get(), 17, nullptr, "the disk was full"), LOX_OK);
  EXPECT_EQ(lox_task_status(p.get()), 17);
  EXPECT_STREQ(lox_task_error(p.get()), "the disk was full");
  Task q = make_promise(4);
  ASSERT_EQ(lox_task_complete(q.get(), 9, nullptr, nullptr), LOX_OK);
  ASSERT_NE(lox_task_error(q.get()), nullptr);
  EXPECT_NE(std::string(lox_task_error(q.get())).find("status 9"), std::string::npos) << lox_task_error(q.get());
}

TEST(TaskPromises, CallbacksRunInTheCompletingThreadOrAtOnce) {
  Task p = make_promise(0);
  Seen before;
  ASSERT_EQ(lox_task_on_done(p.get(), note_done, &before), LOX_OK);
  EXPECT_EQ(before.calls.load(), 0);
  std::thread::id completer;
  std::thread t([&] {
    completer = std::this_thread::get_id();
    EXPECT_EQ(lox_task_complete(p.get(), LOX_OK, to_ptr(5), nullptr), LOX_OK);
    // Callbacks ran before lox_task_complete returned.
    EXPECT_EQ(before.calls.load(), 1);
  });
  t.join();
  EXPECT_EQ(before.thread, completer);
  EXPECT_EQ(before.status.load(), LOX_OK);
  Seen after;
  ASSERT_EQ(lox_task_on_done(p.get(), note_done, &after), LOX_OK);
  EXPECT_EQ(after.calls.load(), 1);
  EXPECT_EQ(after.thread, std::this_thread::get_id());
}

TEST(TaskPromises, AWaiterInAnotherThreadIsWoken) {
  Task p = make_promise(0);
  std::atomic<int> rc{-100};
  Sleeper s([&] { rc.store(lox_task_wait(p.get(), kMustSeconds)); });
  ASSERT_TRUE(s.wait_asleep()) << "lox_task_wait returned before the task was completed";
  ASSERT_EQ(lox_task_complete(p.get(), LOX_OK, to_ptr(1), nullptr), LOX_OK);
  s.join();
  EXPECT_EQ(rc.load(), LOX_OK);
}

TEST(TaskPromises, ThreadDependentsRunOnlyAfterTheCompletion) {
  RunCount runs;
  Pool pool = make_pool(2, sum_task, &runs);
  Task p = make_promise(0);
  // A chain behind the promise and a fan-in naming it twice.
  Task a = tscatter(pool.get(), sum_task, &runs, to_ptr(1), {p.get()});
  Task b = tscatter(pool.get(), sum_task, &runs, to_ptr(10), {a.get(), p.get(), p.get()});
  EXPECT_EQ(lox_task_wait(b.get(), 0.05), LOX_TIMEOUT);
  EXPECT_EQ(runs.runs.load(), 0);
  ASSERT_EQ(lox_task_complete(p.get(), LOX_OK, to_ptr(100), nullptr), LOX_OK);
  ASSERT_TRUE(wait_done(b.get()));
  EXPECT_EQ(task_value(a.get()), 101);
  EXPECT_EQ(task_value(b.get()), 10 + 101 + 100 + 100);
  Results r = gather_ok(pool.get());
  ASSERT_EQ(lox_results_count(r.get()), 2u);
  EXPECT_EQ(value_at(r.get(), 1), 311);
}

TEST(TaskPromises, AFailedPromiseFailsItsDependentsNamingIt) {
  RunCount runs;
  Pool pool = make_pool(1, sum_task, &runs);
  Task p = make_promise(12);
  Task d = tscatter(pool.get(), sum_task, &runs, to_ptr(1), {p.get()});
  ASSERT_EQ(lox_task_complete(p.get(), 23, nullptr, "no input"), LOX_OK);
  ASSERT_TRUE(wait_done(d.get()));
  EXPECT_EQ(lox_task_status(d.get()), LOX_EDEPENDENCY);
  const std::string why = lox_task_error(d.get());
  EXPECT_NE(why.find("task 12"), std::string::npos) << why;
  EXPECT_NE(why.find("no input"), std::string::npos) << why;
  EXPECT_EQ(runs.runs.load(), 0);
  int rc = 0;
  Results r = gather(pool.get(), &rc);
  EXPECT_EQ(rc, LOX_ETASK);
}

TEST(TaskPromises, CancelBeforeCompletionCancelsItAndItsDependents) {
  RunCount runs;
  Pool pool = make_pool(1, sum_task, &runs);
  Task p = make_promise(0);
  Task d = tscatter(pool.get(), sum_task, &runs, to_ptr(1), {p.get()});
  ASSERT_EQ(lox_task_cancel(p.get()), LOX_OK);
  EXPECT_EQ(lox_task_status(p.get()), LOX_ECANCELLED);
  EXPECT_EQ(lox_task_complete(p.get(), LOX_OK, to_ptr(1), nullptr), LOX_ESTATE);
  ASSERT_TRUE(wait_done(d.get()));
  EXPECT_EQ(lox_task_status(d.get()), LOX_EDEPENDENCY);
  EXPECT_EQ(runs.runs.load(), 0);
  int rc = 0;
  Results r = gather(pool.get(), &rc);
  EXPECT_EQ(rc, LOX_ETASK);
}

TEST(TaskPromises, ProcessDependentGetsTheEncodedValue) {
  Proc pool = make_proc(1, task_fn);
  Task p = make_promise(0);
  EncodeLog log;
  Task d = pscatter(pool.get(), pcmd(kPSum, 5, 0, true), {p.get()}, nullptr, encode_i64, &log);
  ASSERT_EQ(lox_task_complete(p.get(), LOX_OK, to_ptr(37), nullptr), LOX_OK);
  ASSERT_TRUE(wait_done(d.get()));
  ASSERT_EQ(lox_task_status(d.get()), LOX_OK) << lox_task_error(d.get());
  EXPECT_EQ(task_i64(d.get()), 42);
  EXPECT_EQ(log.calls.load(), 1);
  Results r = pgather_ok(pool.get());
}

TEST(TaskPromises, CompletionOrderTogetherWithPoolTasks) {
  Pool pool = make_pool(1, sum_task);
  Task p = make_promise(0);
  Task q = make_promise(1);
  std::vector<lox_task*> set{p.get(), q.get()};
  lox_completions* raw = nullptr;
  ASSERT_EQ(lox_completions_of(set.data(), set.size(), &raw), LOX_OK);
  Completions c(raw);
  ASSERT_EQ(lox_task_complete(q.get(), LOX_OK, to_ptr(2), nullptr), LOX_OK);
  ASSERT_EQ(lox_task_complete(p.get(), LOX_OK, to_ptr(1), nullptr), LOX_OK);
  std::vector<Delivery> got = drain_completions(c.get());
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].index, 1u);
  EXPECT_EQ(got[0].value, 2);
  EXPECT_EQ(got[1].index, 0u);
}

TEST(TaskPromises, ReleasedWhileADependentWaitsForIt) {
  RunCount runs;
  Pool pool = make_pool(2, sum_task, &runs);
  lox_task* p = nullptr;
  ASSERT_EQ(lox_task_create(0, &p), LOX_OK);
  lox_task* keep = lox_task_retain(p);
  Task d = tscatter(pool.get(), sum_task, &runs, to_ptr(1), {p});
  lox_task_release(p);
  ASSERT_EQ(lox_task_complete(keep, LOX_OK, to_ptr(2), nullptr), LOX_OK);
  lox_task_release(keep);
  ASSERT_TRUE(wait_done(d.get()));
  EXPECT_EQ(task_value(d.get()), 3);
  Results r = gather_ok(pool.get());
}

TEST(TaskPromiseErrors, BadArguments) {
  EXPECT_EQ(lox_task_create(0, nullptr), LOX_EINVAL);
  EXPECT_EQ(lox_task_complete(nullptr, LOX_OK, nullptr, nullptr), LOX_EINVAL);
  Pool pool = make_pool(1, sum_task);
  Task t = tscatter(pool.get(), sum_task, nullptr, to_ptr(1));
  ASSERT_TRUE(wait_done(t.get()));
  EXPECT_EQ(lox_task_complete(t.get(), LOX_OK, nullptr, nullptr), LOX_EINVAL);
  EXPECT_NE(std::string(lox_last_error()).find("belongs to a pool"), std::string::npos) << lox_last_error();
  EXPECT_EQ(lox_task_status(t.get()), LOX_OK);
  Results r = gather_ok(pool.get());
}
