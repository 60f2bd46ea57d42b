// SPDX-License-Identifier: Apache-2.0
// Sizes, counts and timeouts taken from the caller at their extremes
// (lox.h: the limits in each create, "Timeouts are double seconds" at the
// top): SIZE_MAX and SIZE_MAX / 2 never wrap into a small allocation and
// never become an allocation attempt so large that it aborts (ASan
// would); they are refused with LOX_EINVAL where they are bad input, and
// an impossible size met on the way is LOX_ENOMEM with a detail in
// liblox's words, never a standard library's ("vector::reserve").
// A -0.0 timeout is 0 (try once) for every timed call. Value and byte
// accessors of results refuse the other pool's results alike.
#include <lox/lox.h>

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "process_util.hpp"
#include "queue_util.hpp"
#include "test_util.hpp"

using namespace loxtest;

namespace {

constexpr size_t kHuge[] = {SIZE_MAX, SIZE_MAX - 1, SIZE_MAX - 62, SIZE_MAX / 2};

// The detail of the last failure, checked for liblox's own wording: no
// standard-library text and no "internal error".
void expect_liblox_detail(const char* must_have) {
  std::string d = lox_last_error();
  EXPECT_NE(d.find(must_have), std::string::npos) << "detail: " << d;
  for (const char* leak : {"basic_string", "vector::", "std::", "internal error"})
    EXPECT_EQ(d.find(leak), std::string::npos) << "detail: " << d;
}

// ------------------------------------------------------ index semaphore --

TEST(SizeLimits, IndexSemaphoreRefusesHugeSizes) {
  for (size_t n : kHuge) {
    lox_index_semaphore* s = nullptr;
    EXPECT_EQ(lox_index_semaphore_create(n, &s), LOX_EINVAL) << n;
    EXPECT_EQ(s, nullptr);
    expect_liblox_detail("at most");
  }
  lox_index_semaphore* s = nullptr;
  EXPECT_EQ(lox_index_semaphore_create((size_t{1} << 24) + 1, &s), LOX_EINVAL);
  EXPECT_EQ(s, nullptr);
}

TEST(SizeLimits, IndexSemaphoreAtItsLimitWorks) {
  const size_t n = size_t{1} << 24;
  lox_index_semaphore* s = nullptr;
  ASSERT_EQ(lox_index_semaphore_create(n, &s), LOX_OK) << lox_last_error();
  EXPECT_EQ(lox_index_semaphore_available(s), n);
  // Nobody holds 0 or n - 1 yet: releasing them is refused.
  EXPECT_EQ(lox_index_semaphore_release(s, 0), LOX_ESTATE);
  EXPECT_EQ(lox_index_semaphore_release(s, n - 1), LOX_ESTATE);
  EXPECT_EQ(lox_index_semaphore_release(s, n), LOX_EINVAL);
  EXPECT_EQ(lox_index_semaphore_release(s, SIZE_MAX), LOX_EINVAL);
  size_t i = 12345;
  ASSERT_EQ(lox_index_semaphore_acquire(s, 0, &i), LOX_OK);
  EXPECT_EQ(i, 0u);
  EXPECT_EQ(lox_index_semaphore_available(s), n - 1);
  EXPECT_EQ(lox_index_semaphore_release(s, 0), LOX_OK);
  EXPECT_EQ(lox_index_semaphore_release(s, 0), LOX_ESTATE);
  lox_index_semaphore_destroy(s);
}

// ------------------------------------------------------------------ queue --

TEST(SizeLimits, QueueWithHugeMaxsizeIsBoundedByIt) {
  for (size_t maxsize : kHuge) {
    Queue q = make_queue(maxsize);
    ASSERT_NE(q, nullptr) << maxsize;
    EXPECT_EQ(lox_queue_maxsize(q.get()), maxsize);
    for (intptr_t v = 0; v < 1000; ++v) ASSERT_EQ(lox_queue_put(q.get(), to_ptr(v), 0), LOX_OK) << maxsize;
    EXPECT_EQ(lox_queue_size(q.get()), 1000u);
    EXPECT_EQ(lox_queue_full(q.get()), 0);
    for (intptr_t v = 0; v < 1000; ++v) {
      void* item = nullptr;
      ASSERT_EQ(lox_queue_get(q.get(), &item, 0), LOX_OK);
      EXPECT_EQ(from_ptr(item), v);
    }
    EXPECT_EQ(lox_queue_empty(q.get()), 1);
  }
}

// ----------------------------------------------------------------- funnel --

TEST(SizeLimits, FunnelGetWithHugeCapacityCopiesOnlyTheSet) {
  // `capacity` is the caller's word for the room at `items`; the set's own
  // size decides what is written, so a huge capacity is no size to compute.
  Funnel top = make_funnel();
  Funnel a = add_input(top.get()), b = add_input(top.get());
  for (size_t capacity : kHuge) {
    ASSERT_EQ(lox_funnel_put(a.get(), 7, to_ptr(1), 0), LOX_OK);
    ASSERT_EQ(lox_funnel_put(b.get(), 7, to_ptr(2), 0), LOX_OK);
    void* items[3] = {nullptr, nullptr, to_ptr(99)};
    size_t count = 0;
    unsigned long long jid = 0;
    ASSERT_EQ(lox_funnel_get(top.get(), 0, &jid, items, capacity, &count), LOX_OK) << lox_last_error();
    EXPECT_EQ(count, 2u);
    EXPECT_EQ(jid, 7u);
    EXPECT_EQ(from_ptr(items[0]), 1);
    EXPECT_EQ(from_ptr(items[1]), 2);
    EXPECT_EQ(from_ptr(items[2]), 99) << "written past the set";
    EXPECT_EQ(lox_funnel_get(top.get(), 0, &jid, nullptr, capacity, &count), LOX_EINVAL);
  }
}

// ------------------------------------------------------------ thread pool --

TEST(SizeLimits, ThreadPoolWithHugeMaxWorkersStartsThreadsOnDemand) {
  // max_workers only bounds threads started on demand: nothing is sized by it.
  for (size_t max_workers : kHuge) {
    if (max_workers == LOX_DEFAULT_WORKERS) continue;
    Pool p = make_pool(max_workers, identity_task);
    ASSERT_NE(p, nullptr);
    for (intptr_t v = 0; v < 100; ++v) ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr(v), nullptr), LOX_OK);
    Results r = gather_ok(p.get());
    ASSERT_EQ(lox_results_count(r.get()), 100u);
    for (size_t i = 0; i < 100; ++i) EXPECT_EQ(value_at(r.get(), i), static_cast<intptr_t>(i));
    EXPECT_LE(lox_thread_workers(p.get()), 100u);
  }
}

// ----------------------------------------------------------- process pool --

int echo_fn(void*, const void* in, size_t len, lox_buffer* out) { return lox_buffer_append(out, in, len); }

TEST(SizeLimits, ProcessPoolRefusesHugeWorkerCounts) {
  // Before the fix SIZE_MAX - 1 returned LOX_ESTATE "internal error:
  // vector::reserve" and SIZE_MAX / 2 tried to allocate its table.
  for (size_t n : {SIZE_MAX - 1, SIZE_MAX / 2, size_t{4097}}) {
    lox_process* p = nullptr;
    EXPECT_EQ(lox_process_create(n, echo_fn, nullptr, &p), LOX_EINVAL) << n;
    EXPECT_EQ(p, nullptr);
    expect_liblox_detail("max_workers");
  }
}

TEST(SizeLimits, ProcessPoolRefusesHugeMaxMessage) {
  for (size_t m : {SIZE_MAX, SIZE_MAX / 2, (size_t{1} << 38) + 1}) {
    lox_process_opts o = proc_opts(LOX_FOREVER, m);
    lox_process* p = nullptr;
    EXPECT_EQ(lox_process_create_ex(0, echo_fn, nullptr, &o, &p), LOX_EINVAL) << m;
    EXPECT_EQ(p, nullptr);
    expect_liblox_detail("max_message");
  }
  lox_process_opts o = proc_opts(LOX_FOREVER, size_t{1} << 38);
  Proc p = make_proc(0, echo_fn, nullptr, &o);
  EXPECT_NE(p, nullptr) << "the largest max_message is refused";
}

// What a task saw when it appended a huge length (runs inline or in a
// worker: the reply carries the status and the detail).
int append_huge(void*, const void* in, size_t len, lox_buffer* out) {
  size_t huge = 0;
  if (len != sizeof huge) return 90;
  std::memcpy(&huge, in, sizeof huge);
  char byte = 'x';
  int rc = lox_buffer_append(out, &byte, huge);
  std::string reply = std::to_string(rc) + " " + lox_last_error();
  if (lox_buffer_append(out, reply.data(), reply.size()) != LOX_OK) return 91;
  return 0;
}

void expect_huge_appends_refused(size_t n_workers) {
  Proc p = make_proc(n_workers, append_huge);
  ASSERT_NE(p, nullptr);
  for (size_t huge : {SIZE_MAX, SIZE_MAX / 2})
    ASSERT_EQ(lox_process_scatter(p.get(), &huge, sizeof huge, nullptr), LOX_OK);
  int rc = 0;
  Results r = pgather(p.get(), &rc);
  ASSERT_EQ(rc, LOX_OK) << lox_last_error();
  const std::string want[] = {"-1 buffer append: len is", "-2 buffer append: out of memory"};
  for (size_t i = 0; i < 2; ++i) {
    const void* data = nullptr;
    size_t len = 0;
    ASSERT_EQ(lox_results_bytes(r.get(), i, &data, &len), LOX_OK);
    std::string got(static_cast<const char*>(data), len);
    EXPECT_EQ(got.rfind(want[i], 0), 0u) << "task " << i << " saw: " << got;
    EXPECT_EQ(got.find("basic_string"), std::string::npos) << got;
    EXPECT_EQ(got.find("internal error"), std::string::npos) << got;
  }
}

TEST(SizeLimits, BufferAppendOfHugeLengthInline) {
  // SIZE_MAX cannot describe any buffer: LOX_EINVAL before anything is
  // read. SIZE_MAX / 2 could, but no string can grow to it: the length
  // error is LOX_ENOMEM (it was LOX_ESTATE "internal error:
  // basic_string::append").
  expect_huge_appends_refused(0);
}

TEST(SizeLimits, BufferAppendOfHugeLengthInAWorker) { expect_huge_appends_refused(1); }

// ---------------------------------------------------------------- results --

TEST(SizeLimits, ResultsIndicesAtTheExtremes) {
  Pool p = make_pool(0, identity_task);
  ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr(5), nullptr), LOX_OK);
  Results r = gather_ok(p.get());
  for (size_t i : kHuge) {
    EXPECT_EQ(lox_results_status(r.get(), i), LOX_EINVAL);
    expect_liblox_detail("out of range");
    prime_detail();
    EXPECT_EQ(lox_results_value(r.get(), i), nullptr);
    expect_liblox_detail("out of range");
    prime_detail();
    EXPECT_EQ(lox_results_error(r.get(), i), nullptr);
    expect_liblox_detail("out of range");
    const void* data = nullptr;
    size_t len = 0;
    EXPECT_EQ(lox_results_bytes(r.get(), i, &data, &len), LOX_EINVAL);
  }
  EXPECT_EQ(value_at(r.get(), 0), 5);
}

TEST(ResultsKinds, ValueOnProcessResultsSetsTheDetail) {
  Proc p = make_proc(0, echo_fn);
  ASSERT_EQ(lox_process_scatter(p.get(), "ab", 2, nullptr), LOX_OK);
  int rc = 0;
  Results r = pgather(p.get(), &rc);
  ASSERT_EQ(rc, LOX_OK);
  prime_detail();
  EXPECT_EQ(lox_results_value(r.get(), 0), nullptr);
  expect_liblox_detail("results hold bytes, not values");
  const void* data = nullptr;
  size_t len = 0;
  EXPECT_EQ(lox_results_bytes(r.get(), 0, &data, &len), LOX_OK);
  EXPECT_EQ(std::string(static_cast<const char*>(data), len), "ab");
}

TEST(ResultsKinds, BytesOnThreadResultsSetsTheDetail) {
  Pool p = make_pool(0, identity_task);
  ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr(3), nullptr), LOX_OK);
  Results r = gather_ok(p.get());
  const void* data = nullptr;
  size_t len = 0;
  prime_detail();
  EXPECT_EQ(lox_results_bytes(r.get(), 0, &data, &len), LOX_EINVAL);
  expect_liblox_detail("results hold values, not bytes");
  EXPECT_EQ(value_at(r.get(), 0), 3);
}

// -------------------------------------------------- -0.0 is a zero timeout --

constexpr double kMinusZero = -0.0;

// Runs `call`, which must try once and return: -0.0 read as "negative:
// forever" would block it (a bounded wait turns that into a failure).
template <typename Call>
int try_once(const char* what, Call&& call) {
  int rc = 0x7fff;
  finishes_within(what, [&] { rc = call(); });
  return rc;
}

TEST(NegativeZeroTimeout, SyncAcquiresTryOnce) {
  ASSERT_TRUE(std::signbit(kMinusZero));
  lox_lock* l = nullptr;
  ASSERT_EQ(lox_lock_create(&l), LOX_OK);
  EXPECT_EQ(try_once("lock acquire", [&] { return lox_lock_acquire(l, kMinusZero); }), LOX_OK);
  EXPECT_EQ(try_once("lock acquire", [&] { return lox_lock_acquire(l, kMinusZero); }), LOX_TIMEOUT);
  EXPECT_EQ(lox_lock_release(l), LOX_OK);

  lox_lock* room = nullptr;
  lox_lightswitch* ls = nullptr;
  ASSERT_EQ(lox_lock_create(&room), LOX_OK);
  ASSERT_EQ(lox_lightswitch_create(room, &ls), LOX_OK);
  ASSERT_EQ(lox_lock_acquire(room, 0), LOX_OK);  // the janitor is in
  EXPECT_EQ(try_once("lightswitch acquire", [&] { return lox_lightswitch_acquire(ls, kMinusZero); }), LOX_TIMEOUT);
  EXPECT_EQ(lox_lock_release(room), LOX_OK);
  EXPECT_EQ(try_once("lightswitch acquire", [&] { return lox_lightswitch_acquire(ls, kMinusZero); }), LOX_OK);
  EXPECT_EQ(lox_lightswitch_release(ls), LOX_OK);

  lox_rwlock* rw = nullptr;
  ASSERT_EQ(lox_rwlock_create(&rw), LOX_OK);
  EXPECT_EQ(try_once("rwlock read", [&] { return lox_rwlock_acquire(rw, LOX_READ, kMinusZero); }), LOX_OK);
  EXPECT_EQ(try_once("rwlock write", [&] { return lox_rwlock_acquire(rw, LOX_WRITE, kMinusZero); }), LOX_TIMEOUT);
  EXPECT_EQ(lox_rwlock_release(rw, LOX_READ), LOX_OK);
  EXPECT_EQ(try_once("rwlock write", [&] { return lox_rwlock_acquire(rw, LOX_WRITE, kMinusZero); }), LOX_OK);
  EXPECT_EQ(try_once("rwlock read", [&] { return lox_rwlock_acquire(rw, LOX_READ, kMinusZero); }), LOX_TIMEOUT);
  EXPECT_EQ(lox_rwlock_release(rw, LOX_WRITE), LOX_OK);

  lox_qlock* q = nullptr;
  ASSERT_EQ(lox_qlock_create(&q), LOX_OK);
  EXPECT_EQ(try_once("qlock acquire", [&] { return lox_qlock_acquire(q, kMinusZero); }), LOX_OK);
  EXPECT_EQ(try_once("qlock acquire", [&] { return lox_qlock_acquire(q, kMinusZero); }), LOX_TIMEOUT);
  EXPECT_EQ(lox_qlock_waiting(q), 0u) << "a timed-out acquire kept its place";
  EXPECT_EQ(lox_qlock_release(q), LOX_OK);

  lox_index_semaphore* s = nullptr;
  ASSERT_EQ(lox_index_semaphore_create(1, &s), LOX_OK);
  size_t i = 77;
  EXPECT_EQ(try_once("index_semaphore acquire", [&] { return lox_index_semaphore_acquire(s, kMinusZero, &i); }),
            LOX_OK);
  EXPECT_EQ(i, 0u);
  EXPECT_EQ(try_once("index_semaphore acquire", [&] { return lox_index_semaphore_acquire(s, kMinusZero, &i); }),
            LOX_TIMEOUT);
  EXPECT_EQ(lox_index_semaphore_release(s, 0), LOX_OK);

  lox_index_semaphore_destroy(s);
  lox_qlock_destroy(q);
  lox_rwlock_destroy(rw);
  lox_lightswitch_destroy(ls);
  lox_lock_destroy(room);
  lox_lock_destroy(l);
}

TEST(NegativeZeroTimeout, QueueCallsTryOnce) {
  Queue q = make_queue(1);
  void* item = to_ptr(5);
  EXPECT_EQ(try_once("queue get", [&] { return lox_queue_get(q.get(), &item, kMinusZero); }), LOX_TIMEOUT);
  EXPECT_EQ(from_ptr(item), 5) << "untouched on timeout";
  EXPECT_EQ(try_once("queue put", [&] { return lox_queue_put(q.get(), to_ptr(1), kMinusZero); }), LOX_OK);
  EXPECT_EQ(try_once("queue put", [&] { return lox_queue_put(q.get(), to_ptr(2), kMinusZero); }), LOX_TIMEOUT);
  EXPECT_EQ(try_once("queue join", [&] { return lox_queue_join(q.get(), kMinusZero); }), LOX_TIMEOUT);
  EXPECT_EQ(try_once("queue get", [&] { return lox_queue_get(q.get(), &item, kMinusZero); }), LOX_OK);
  EXPECT_EQ(from_ptr(item), 1);
  EXPECT_EQ(lox_queue_task_done(q.get()), LOX_OK);
  EXPECT_EQ(try_once("queue join", [&] { return lox_queue_join(q.get(), kMinusZero); }), LOX_OK);
}

TEST(NegativeZeroTimeout, AnnouncementCallsTryOnce) {
  Ann pub = make_ann(1);
  Ann sub = subscribe(pub.get());
  lox_announcement* late = nullptr;
  EXPECT_EQ(
      try_once("announcement subscribe", [&] { return lox_announcement_subscribe(pub.get(), 0, kMinusZero, &late); }),
      LOX_OK);
  Ann late_owner(late);
  void* item = nullptr;
  EXPECT_EQ(try_once("announcement get", [&] { return lox_announcement_get(sub.get(), &item, kMinusZero); }),
            LOX_TIMEOUT);
  EXPECT_EQ(try_once("announcement put", [&] { return lox_announcement_put(pub.get(), to_ptr(1), kMinusZero); }),
            LOX_OK);
  EXPECT_EQ(try_once("announcement put", [&] { return lox_announcement_put(pub.get(), to_ptr(2), kMinusZero); }),
            LOX_TIMEOUT);
  EXPECT_EQ(try_once("announcement get", [&] { return lox_announcement_get(sub.get(), &item, kMinusZero); }), LOX_OK);
  EXPECT_EQ(from_ptr(item), 1);
}

TEST(NegativeZeroTimeout, FunnelCallsTryOnce) {
  Funnel top = make_funnel();
  Funnel a = add_input(top.get());
  void* items[1] = {nullptr};
  size_t count = 0;
  EXPECT_EQ(try_once("funnel get", [&] { return lox_funnel_get(top.get(), kMinusZero, nullptr, items, 1, &count); }),
            LOX_TIMEOUT);
  EXPECT_EQ(try_once("funnel put", [&] { return lox_funnel_put(a.get(), 1, to_ptr(4), kMinusZero); }), LOX_OK);
  EXPECT_EQ(try_once("funnel get", [&] { return lox_funnel_get(top.get(), kMinusZero, nullptr, items, 1, &count); }),
            LOX_OK);
  EXPECT_EQ(from_ptr(items[0]), 4);
}

int wait_for_gate(void* ctx, void*, void**) { return static_cast<Gate*>(ctx)->wait() ? 0 : 1; }

TEST(NegativeZeroTimeout, ThreadGatherTriesOnce) {
  Gate gate;
  Pool p = make_pool(1, wait_for_gate, &gate);
  ASSERT_EQ(lox_thread_scatter(p.get(), nullptr, nullptr), LOX_OK);
  int rc = 0;
  finishes_within("thread gather", [&] { Results r = gather(p.get(), &rc, kMinusZero); });
  EXPECT_EQ(rc, LOX_TIMEOUT);
  gate.open();
  Results r = gather_ok(p.get());
  EXPECT_EQ(lox_results_count(r.get()), 1u) << "the timed-out round was not kept";
}

TEST(NegativeZeroTimeout, ProcessGatherTriesOnce) {
  // A worker sleeps in its task; a -0.0 gather returns at once.
  Proc p = make_proc(1, [](void*, const void*, size_t, lox_buffer*) {
    ::usleep(300 * 1000);
    return 0;
  });
  ASSERT_EQ(lox_process_scatter(p.get(), nullptr, 0, nullptr), LOX_OK);
  int rc = 0;
  finishes_within("process gather", [&] { Results r = pgather(p.get(), &rc, kMinusZero); });
  EXPECT_EQ(rc, LOX_TIMEOUT);
  Results r = pgather(p.get(), &rc);
  EXPECT_EQ(rc, LOX_OK) << lox_last_error();
  EXPECT_EQ(lox_results_count(r.get()), 1u);
}

TEST(NegativeZeroTimeout, OptionTimeoutsReadItAsZero) {
  // idle_timeout: 0 is valid (exit when idle), so -0.0 is too.
  Pool p = make_pool_ex(2, identity_task, nullptr, kMinusZero);
  EXPECT_NE(p, nullptr);
  // task_timeout: 0 is refused (no task could run), so -0.0 is too.
  lox_process_opts o = proc_opts(kMinusZero);
  lox_process* proc = nullptr;
  EXPECT_EQ(lox_process_create_ex(0, echo_fn, nullptr, &o, &proc), LOX_EINVAL);
  EXPECT_EQ(proc, nullptr);
  expect_liblox_detail("task_timeout");
}

}  // namespace
