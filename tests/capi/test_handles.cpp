// SPDX-License-Identifier: Apache-2.0
// Handle checks: a call on a destroyed handle, a second
// destroy, or a handle of another type is reported with LOX_EINVAL, a
// detail and an ERROR log line, instead of touching freed memory. Under
// ASan these tests also prove that nothing freed is read: the quarantine
// keeps the memory of the last destroyed handles allocated.
#include <lox/lox.h>

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "test_util.hpp"

namespace {

using loxtest::identity_task;
using loxtest::LogCapture;

// The ERROR lines logged so far.
std::vector<std::string> errors(LogCapture& log) {
  std::vector<std::string> out;
  for (const auto& e : log.entries())
    if (e.level == LOX_LOG_ERROR) out.push_back(e.message);
  return out;
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// Expects the last call to have been reported as a use of a destroyed handle.
void expect_destroyed_report(LogCapture& log, const char* type) {
  std::string detail = lox_last_error();
  EXPECT_TRUE(contains(detail, std::string("is a destroyed ") + type)) << detail;
  auto lines = errors(log);
  ASSERT_FALSE(lines.empty());
  EXPECT_TRUE(contains(lines.back(), std::string("is a destroyed ") + type)) << lines.back();
}

TEST(Handles, CallsOnADestroyedLockAreReported) {
  LogCapture log;
  lox_lock* l = nullptr;
  ASSERT_EQ(lox_lock_create(&l), LOX_OK);
  lox_lock_destroy(l);
  EXPECT_EQ(lox_lock_acquire(l, 0), LOX_EINVAL);
  expect_destroyed_report(log, "lox_lock");
  EXPECT_EQ(lox_lock_release(l), LOX_EINVAL);
  EXPECT_EQ(lox_lock_locked(l), LOX_EINVAL);
  expect_destroyed_report(log, "lox_lock");
}

TEST(Handles, CallsOnADestroyedQueueAreReported) {
  LogCapture log;
  lox_queue* q = nullptr;
  ASSERT_EQ(lox_queue_create(4, &q), LOX_OK);
  int item = 1;
  ASSERT_EQ(lox_queue_put(q, &item, 0), LOX_OK);
  lox_queue_destroy(q);
  void* got = nullptr;
  EXPECT_EQ(lox_queue_put(q, &item, 0), LOX_EINVAL);
  expect_destroyed_report(log, "lox_queue");
  EXPECT_EQ(lox_queue_get(q, &got, 0), LOX_EINVAL);
  EXPECT_EQ(got, nullptr);
  EXPECT_EQ(lox_queue_size(q), 0u);  // a size getter returns its NULL-handle value
  expect_destroyed_report(log, "lox_queue");
}

TEST(Handles, CallsOnADestroyedPoolAndResultsAreReported) {
  LogCapture log;
  lox_thread* pool = nullptr;
  ASSERT_EQ(lox_thread_create(2, identity_task, nullptr, &pool), LOX_OK);
  int arg = 7;
  ASSERT_EQ(lox_thread_scatter(pool, &arg, nullptr), LOX_OK);
  lox_results* r = nullptr;
  ASSERT_EQ(lox_thread_gather(pool, nullptr, &r), LOX_OK);
  ASSERT_EQ(lox_results_count(r), 1u);
  lox_thread_destroy(pool);
  EXPECT_EQ(lox_thread_scatter(pool, &arg, nullptr), LOX_EINVAL);
  expect_destroyed_report(log, "lox_thread");
  EXPECT_EQ(lox_thread_pending(pool), 0u);
  lox_results_destroy(r);
  EXPECT_EQ(lox_results_count(r), 0u);
  EXPECT_EQ(lox_results_value(r, 0), nullptr);
  EXPECT_EQ(lox_results_error(r, 0), nullptr);
  expect_destroyed_report(log, "lox_results");
}

TEST(Handles, EveryKindDetectsUseAfterDestroy) {
  LogCapture log;
  lox_lock* lock = nullptr;
  ASSERT_EQ(lox_lock_create(&lock), LOX_OK);

  lox_lightswitch* ls = nullptr;
  ASSERT_EQ(lox_lightswitch_create(lock, &ls), LOX_OK);
  lox_lightswitch_destroy(ls);
  EXPECT_EQ(lox_lightswitch_acquire(ls, 0), LOX_EINVAL);
  expect_destroyed_report(log, "lox_lightswitch");
  lox_lock_destroy(lock);

  lox_rwlock* rw = nullptr;
  ASSERT_EQ(lox_rwlock_create(&rw), LOX_OK);
  lox_rwlock_destroy(rw);
  EXPECT_EQ(lox_rwlock_acquire(rw, LOX_READ, 0), LOX_EINVAL);
  expect_destroyed_report(log, "lox_rwlock");

  lox_qlock* ql = nullptr;
  ASSERT_EQ(lox_qlock_create(&ql), LOX_OK);
  lox_qlock_destroy(ql);
  EXPECT_EQ(lox_qlock_acquire(ql, 0), LOX_EINVAL);
  expect_destroyed_report(log, "lox_qlock");

  lox_index_semaphore* sem = nullptr;
  ASSERT_EQ(lox_index_semaphore_create(2, &sem), LOX_OK);
  lox_index_semaphore_destroy(sem);
  size_t index = 99;
  EXPECT_EQ(lox_index_semaphore_acquire(sem, 0, &index), LOX_EINVAL);
  EXPECT_EQ(index, 99u);
  expect_destroyed_report(log, "lox_index_semaphore");

  lox_announcement* a = nullptr;
  ASSERT_EQ(lox_announcement_create(0, 0, &a), LOX_OK);
  lox_announcement_destroy(a);
  int item = 0;
  EXPECT_EQ(lox_announcement_put(a, &item, 0), LOX_EINVAL);
  expect_destroyed_report(log, "lox_announcement");

  lox_funnel* top = nullptr;
  lox_funnel* input = nullptr;
  ASSERT_EQ(lox_funnel_create(&top), LOX_OK);
  ASSERT_EQ(lox_funnel_subscribe(top, &input), LOX_OK);
  lox_funnel_destroy(input);
  EXPECT_EQ(lox_funnel_put(input, 1, &item, 0), LOX_EINVAL);
  expect_destroyed_report(log, "lox_funnel");
  EXPECT_EQ(lox_funnel_index(input), -1);
  lox_funnel_destroy(top);
}

TEST(Handles, DoubleDestroyIsReportedAndHarmless) {
  LogCapture log;
  lox_qlock* q = nullptr;
  ASSERT_EQ(lox_qlock_create(&q), LOX_OK);
  lox_qlock_destroy(q);
  auto before = errors(log).size();
  lox_qlock_destroy(q);
  ASSERT_EQ(errors(log).size(), before + 1);
  EXPECT_TRUE(contains(errors(log).back(), "is a destroyed lox_qlock")) << errors(log).back();

  // The library is unharmed: new objects work.
  lox_qlock* q2 = nullptr;
  ASSERT_EQ(lox_qlock_create(&q2), LOX_OK);
  EXPECT_EQ(lox_qlock_acquire(q2, 0), LOX_OK);
  EXPECT_EQ(lox_qlock_release(q2), LOX_OK);
  lox_qlock_destroy(q2);
}

TEST(Handles, AHandleOfAnotherTypeIsReported) {
  LogCapture log;
  lox_lock* l = nullptr;
  ASSERT_EQ(lox_lock_create(&l), LOX_OK);
  auto* wrong = reinterpret_cast<lox_queue*>(l);
  int item = 0;
  EXPECT_EQ(lox_queue_put(wrong, &item, 0), LOX_EINVAL);
  std::string detail = lox_last_error();
  EXPECT_TRUE(contains(detail, "is not a lox_queue")) << detail;
  lox_queue_destroy(wrong);  // reported, and the lock is left alone
  EXPECT_TRUE(contains(errors(log).back(), "is not a lox_queue")) << errors(log).back();
  EXPECT_EQ(lox_lock_acquire(l, 0), LOX_OK);
  EXPECT_EQ(lox_lock_release(l), LOX_OK);

  // The other way round: a big handle passed where a small one is expected.
  lox_thread* pool = nullptr;
  ASSERT_EQ(lox_thread_create(1, identity_task, nullptr, &pool), LOX_OK);
  EXPECT_EQ(lox_lock_acquire(reinterpret_cast<lox_lock*>(pool), 0), LOX_EINVAL);
  EXPECT_TRUE(contains(lox_last_error(), "is not a lox_lock")) << lox_last_error();
  lox_thread_destroy(pool);
  lox_lock_destroy(l);
}

TEST(Handles, ManyCreateDestroyCyclesStayCorrect) {
  // More destroys than the quarantine holds: the oldest parked memory is
  // freed and reused; live handles keep working throughout.
  lox_lock* keep = nullptr;
  ASSERT_EQ(lox_lock_create(&keep), LOX_OK);
  for (int i = 0; i < 5000; ++i) {
    lox_queue* q = nullptr;
    ASSERT_EQ(lox_queue_create(1, &q), LOX_OK);
    int item = i;
    ASSERT_EQ(lox_queue_put(q, &item, 0), LOX_OK);
    void* got = nullptr;
    ASSERT_EQ(lox_queue_get(q, &got, 0), LOX_OK);
    ASSERT_EQ(got, &item);
    lox_queue_destroy(q);
    if (i % 1000 == 0) {
      ASSERT_EQ(lox_lock_acquire(keep, 0), LOX_OK);
      ASSERT_EQ(lox_lock_release(keep), LOX_OK);
    }
  }
  lox_lock_destroy(keep);
}

}  // namespace
