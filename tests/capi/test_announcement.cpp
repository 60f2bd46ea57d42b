// SPDX-License-Identifier: Apache-2.0
// lox_announcement (lox.h, "Queues"; the lox manual's Announcement): the
// documented example with two thread pools, member-to-member delivery that
// skips the sender (the creator is a member too: see
// test_announcement_membership.cpp), clones as publishers, the three kinds
// of backlog, finalize, subscribe from a subscriber, unsubscribe,
// per-member maxsize, all-or-none puts, destroying handles in every order,
// destroying a handle that threads wait on, and bad input.
#include <lox/lox.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <climits>
#include <string>
#include <thread>
#include <vector>

#include "blocked_call.hpp"
#include "queue_util.hpp"
#include "test_util.hpp"
#include "timed_call.hpp"

using namespace loxtest;

namespace {

using V = std::vector<intptr_t>;

// ------------------------------------------------------- the doc example --

int foo_task(void* ctx, void*, void** result) {
  void* x = nullptr;
  int rc = lox_announcement_get(static_cast<lox_announcement*>(ctx), &x, 30.0);
  if (rc != LOX_OK) return 1000 + rc;
  *result = x;
  return 0;
}

int bar_task(void* ctx, void*, void** result) {
  void* x = nullptr;
  int rc = lox_announcement_get(static_cast<lox_announcement*>(ctx), &x, 30.0);
  if (rc != LOX_OK) return 1000 + rc;
  *result = to_ptr(from_ptr(x) * from_ptr(x));
  return 0;
}

TEST(Announcement, DocumentedExample) {
  Ann ann = make_ann();
  Ann foo_q = subscribe(ann.get());
  Ann bar_q = subscribe(ann.get());
  EXPECT_EQ(lox_announcement_subscribers(ann.get()), 3u) << "lox's len(ann): the creator and two subscribers";
  Pool foo = make_pool(LOX_DEFAULT_WORKERS, foo_task, foo_q.get());
  Pool bar = make_pool(LOX_DEFAULT_WORKERS, bar_task, bar_q.get());
  ASSERT_EQ(lox_announcement_put(ann.get(), to_ptr(5), LOX_FOREVER), LOX_OK);
  ASSERT_EQ(lox_thread_scatter(foo.get(), nullptr, nullptr), LOX_OK);
  Results foo_res = gather_ok(foo.get());
  ASSERT_EQ(lox_thread_scatter(bar.get(), nullptr, nullptr), LOX_OK);
  Results bar_res = gather_ok(bar.get());
  EXPECT_EQ(values(foo_res.get()), V{5});
  EXPECT_EQ(values(bar_res.get()), V{25});
  EXPECT_EQ(lox_announcement_size(foo_q.get()), 0u);
  EXPECT_EQ(lox_announcement_size(bar_q.get()), 0u);
}

// The same, with the tasks already waiting when the put comes.
TEST(Announcement, DocumentedExampleWithWaitingTasks) {
  Ann ann = make_ann();
  Ann foo_q = subscribe(ann.get());
  Ann bar_q = subscribe(ann.get());
  Pool foo = make_pool(2, foo_task, foo_q.get());
  Pool bar = make_pool(2, bar_task, bar_q.get());
  ASSERT_EQ(lox_thread_scatter(foo.get(), nullptr, nullptr), LOX_OK);
  ASSERT_EQ(lox_thread_scatter(bar.get(), nullptr, nullptr), LOX_OK);
  ASSERT_EQ(lox_announcement_put(ann.get(), to_ptr(7), LOX_FOREVER), LOX_OK);
  Results foo_res = gather_ok(foo.get());
  Results bar_res = gather_ok(bar.get());
  EXPECT_EQ(values(foo_res.get()), V{7});
  EXPECT_EQ(values(bar_res.get()), V{49});
}

// -------------------------------------------------------------- members --

TEST(Announcement, PutReachesEveryMemberButTheSender) {
  Ann p = make_ann();
  Ann a = subscribe(p.get());
  Ann b = subscribe(p.get());
  Ann c = subscribe(p.get());
  EXPECT_EQ(lox_announcement_subscribers(p.get()), 4u);
  put_ok(p.get(), 1);  // the creator: to a, b, c
  put_ok(a.get(), 2);  // to p, b, c
  put_ok(b.get(), 3);  // to p, a, c
  put_ok(c.get(), 4);  // to p, a, b
  put_ok(p.get(), 5);
  EXPECT_EQ(lox_announcement_size(a.get()), 4u);
  EXPECT_EQ(drain(a.get()), (V{1, 3, 4, 5}));
  EXPECT_EQ(drain(b.get()), (V{1, 2, 4, 5}));
  EXPECT_EQ(drain(c.get()), (V{1, 2, 3, 5}));
  EXPECT_EQ(drain(p.get()), (V{2, 3, 4}));
}

TEST(Announcement, NullItemsAreItems) {
  Ann p = make_ann();
  Ann a = subscribe(p.get());
  ASSERT_EQ(lox_announcement_put(p.get(), nullptr, 0), LOX_OK);
  EXPECT_EQ(lox_announcement_size(a.get()), 1u);
  void* it = to_ptr(3);
  ASSERT_EQ(lox_announcement_get(a.get(), &it, 0), LOX_OK);
  EXPECT_EQ(it, nullptr);
}

TEST(Announcement, ClonesArePublishers) {
  Ann p = make_ann(4, LOX_BACKLOG_OFF);
  EXPECT_EQ(lox_announcement_subscribers(p.get()), 1u) << "the creator";
  Ann c = clone_of(p.get());
  EXPECT_EQ(lox_announcement_subscribers(p.get()), 1u) << "a clone is not a member";
  Ann a = subscribe(p.get());
  Ann c2 = clone_of(a.get());  // a clone of a subscriber is a publisher too
  EXPECT_EQ(lox_announcement_subscribers(p.get()), 2u);
  EXPECT_EQ(lox_announcement_subscribers(c.get()), 2u);
  EXPECT_EQ(lox_announcement_subscribers(a.get()), 2u);
  EXPECT_EQ(lox_announcement_subscribers(c2.get()), 2u);
  for (lox_announcement* pub : {c.get(), c2.get()}) {
    void* it = to_ptr(9);
    EXPECT_EQ(lox_announcement_get(pub, &it, 0), LOX_ECLOSED);
    EXPECT_EQ(lox_announcement_get(pub, &it, 0.01), LOX_ECLOSED);
    EXPECT_EQ(lox_announcement_get(pub, &it, LOX_FOREVER), LOX_ECLOSED) << "does not wait";
    EXPECT_EQ(from_ptr(it), 9);
    EXPECT_EQ(lox_announcement_size(pub), 0u);
    EXPECT_EQ(lox_announcement_empty(pub), 1);
    EXPECT_EQ(lox_announcement_full(pub), 0);
    prime_detail();
    EXPECT_EQ(lox_announcement_unsubscribe(pub), LOX_ESTATE);
    EXPECT_DETAIL2("announcement", "unsubscribe");
  }
  put_ok(p.get(), 1);
  put_ok(c.get(), 2);
  put_ok(c2.get(), 3);  // reaches the subscriber it was cloned from
  EXPECT_EQ(drain(a.get()), (V{1, 2, 3}));
  EXPECT_EQ(drain(p.get()), (V{2, 3})) << "the clones' puts reach the creator";
  // Nothing ever reaches a clone.
  for (lox_announcement* pub : {c.get(), c2.get()}) EXPECT_EQ(lox_announcement_size(pub), 0u);
}

TEST(Announcement, SubscribeFromASubscriberOrAClone) {
  Ann p = make_ann();
  Ann a = subscribe(p.get());
  Ann b = subscribe(a.get());  // a subscriber of a subscriber: same group
  Ann c = clone_of(b.get());
  Ann d = subscribe(c.get());  // through a clone
  EXPECT_EQ(lox_announcement_subscribers(p.get()), 4u);
  put_ok(p.get(), 1);
  put_ok(a.get(), 2);
  put_ok(b.get(), 3);
  put_ok(d.get(), 4);
  EXPECT_EQ(drain(a.get()), (V{1, 3, 4}));
  EXPECT_EQ(drain(b.get()), (V{1, 2, 4}));
  EXPECT_EQ(drain(d.get()), (V{1, 2, 3}));
  EXPECT_EQ(drain(p.get()), (V{2, 3, 4}));
}

TEST(Announcement, WithoutOtherMembersPutsGoNowhere) {
  Ann p = make_ann(1, LOX_BACKLOG_OFF);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(lox_announcement_put(p.get(), to_ptr(i), 0), LOX_OK);
  EXPECT_EQ(lox_announcement_backlog(p.get()), 0u);
  EXPECT_EQ(lox_announcement_size(p.get()), 0u) << "not to the sender";
  Ann a = subscribe(p.get());
  void* it = nullptr;
  EXPECT_EQ(lox_announcement_get(a.get(), &it, 0), LOX_TIMEOUT) << "no backlog: the late subscriber missed them";
}

// -------------------------------------------------------------- backlog --

TEST(AnnouncementBacklog, OffKeepsNothing) {
  Ann p = make_ann(0, LOX_BACKLOG_OFF);
  Ann a = subscribe(p.get());
  put_ok(p.get(), 1);
  put_ok(p.get(), 2);
  EXPECT_EQ(lox_announcement_backlog(p.get()), 0u);
  Ann late = subscribe(p.get());
  EXPECT_EQ(lox_announcement_size(late.get()), 0u);
  put_ok(p.get(), 3);
  EXPECT_EQ(drain(late.get()), V{3});
  EXPECT_EQ(drain(a.get()), (V{1, 2, 3}));
}

TEST(AnnouncementBacklog, UnboundedKeepsEverythingForLateSubscribers) {
  Ann p = make_ann(0, LOX_BACKLOG_UNBOUNDED);
  for (int i = 1; i <= 5; ++i) put_ok(p.get(), i);
  EXPECT_EQ(lox_announcement_backlog(p.get()), 5u);
  Ann a = subscribe(p.get());
  EXPECT_EQ(lox_announcement_size(a.get()), 5u) << "pre-filled before subscribe returns";
  put_ok(p.get(), 6);
  put_ok(a.get(), 7);  // a subscriber's put is kept too
  EXPECT_EQ(lox_announcement_backlog(p.get()), 7u);
  EXPECT_EQ(lox_announcement_backlog(a.get()), 7u) << "the group's backlog, from any handle";
  Ann b = subscribe(a.get());
  EXPECT_EQ(drain(a.get()), (V{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(drain(b.get()), (V{1, 2, 3, 4, 5, 6, 7}));
  Ann c = subscribe(p.get());
  put_ok(p.get(), 8);
  EXPECT_EQ(drain(c.get()), (V{1, 2, 3, 4, 5, 6, 7, 8}));
  EXPECT_EQ(drain(a.get()), V{8});
}

TEST(AnnouncementBacklog, CircularKeepsTheLastN) {
  Ann p = make_ann(0, 3);
  put_ok(p.get(), 1);
  put_ok(p.get(), 2);
  EXPECT_EQ(lox_announcement_backlog(p.get()), 2u);
  Ann a = subscribe(p.get());
  EXPECT_EQ(drain(a.get()), (V{1, 2}));
  for (int i = 3; i <= 7; ++i) put_ok(p.get(), i);
  EXPECT_EQ(lox_announcement_backlog(p.get()), 3u);
  Ann b = subscribe(p.get());
  EXPECT_EQ(drain(b.get()), (V{5, 6, 7}));
  EXPECT_EQ(drain(a.get()), (V{3, 4, 5, 6, 7}));
  Ann one_p = make_ann(0, 1);
  for (int i = 0; i < 100; ++i) put_ok(one_p.get(), i);
  EXPECT_EQ(lox_announcement_backlog(one_p.get()), 1u);
  Ann c = subscribe(one_p.get());
  EXPECT_EQ(drain(c.get()), V{99});
}

TEST(AnnouncementBacklog, FinalizeClosesToSubscribersAndFreesTheBacklog) {
  Ann p = make_ann(0, LOX_BACKLOG_UNBOUNDED);
  Ann a = subscribe(p.get());
  for (int i = 1; i <= 3; ++i) put_ok(p.get(), i);
  ASSERT_EQ(lox_announcement_backlog(p.get()), 3u);
  ASSERT_EQ(lox_announcement_finalize(a.get()), LOX_OK);  // any handle of the group
  EXPECT_EQ(lox_announcement_backlog(p.get()), 0u);
  lox_announcement* late = reinterpret_cast<lox_announcement*>(1);
  prime_detail();
  EXPECT_EQ(lox_announcement_subscribe(p.get(), 0, LOX_FOREVER, &late), LOX_ECLOSED);
  EXPECT_DETAIL2("announcement", "subscribe");
  EXPECT_EQ(late, reinterpret_cast<lox_announcement*>(1));
  EXPECT_EQ(lox_announcement_subscribe(a.get(), 0, 0, &late), LOX_ECLOSED);
  EXPECT_EQ(late, reinterpret_cast<lox_announcement*>(1));
  EXPECT_EQ(lox_announcement_subscribers(p.get()), 2u);
  EXPECT_EQ(lox_announcement_finalize(p.get()), LOX_OK) << "finalizing twice is fine";
  // Existing subscribers are unaffected; later puts keep no backlog.
  put_ok(p.get(), 4);
  EXPECT_EQ(lox_announcement_backlog(p.get()), 0u);
  EXPECT_EQ(drain(a.get()), (V{1, 2, 3, 4}));
  // A clone can still publish.
  Ann c = clone_of(p.get());
  put_ok(c.get(), 5);
  EXPECT_EQ(drain(a.get()), V{5});
}

TEST(AnnouncementBacklog, FinalizeWithoutBacklog) {
  Ann p = make_ann(0, LOX_BACKLOG_OFF);
  ASSERT_EQ(lox_announcement_finalize(p.get()), LOX_OK);
  lox_announcement* s = nullptr;
  EXPECT_EQ(lox_announcement_subscribe(p.get(), 0, LOX_FOREVER, &s), LOX_ECLOSED);
  EXPECT_EQ(s, nullptr);
  EXPECT_EQ(lox_announcement_put(p.get(), to_ptr(1), 0), LOX_OK);
}

TEST(AnnouncementBacklog, LargerThanTheNewQueueIsAStateError) {
  Ann p = make_ann(2, LOX_BACKLOG_UNBOUNDED);
  for (int i = 1; i <= 3; ++i) put_ok(p.get(), i);
  lox_announcement* s = reinterpret_cast<lox_announcement*>(1);
  prime_detail();
  EXPECT_EQ(lox_announcement_subscribe(p.get(), 0, LOX_FOREVER, &s), LOX_ESTATE) << "the group's default is 2";
  EXPECT_DETAIL2("announcement", "subscribe");
  EXPECT_EQ(lox_announcement_subscribe(p.get(), 2, 0, &s), LOX_ESTATE);
  EXPECT_EQ(lox_announcement_subscribe(p.get(), 1, 5.0, &s), LOX_ESTATE);
  EXPECT_EQ(s, reinterpret_cast<lox_announcement*>(1));
  EXPECT_EQ(lox_announcement_subscribers(p.get()), 1u) << "nothing subscribed: the creator alone";
  EXPECT_EQ(lox_announcement_backlog(p.get()), 3u) << "the backlog is untouched";
  Ann exact = subscribe(p.get(), 3);
  EXPECT_EQ(lox_announcement_full(exact.get()), 1);
  Ann roomy = subscribe(p.get(), 10);
  EXPECT_EQ(lox_announcement_full(roomy.get()), 0);
  EXPECT_EQ(lox_announcement_subscribers(p.get()), 3u);
  EXPECT_EQ(drain(exact.get()), (V{1, 2, 3}));
  EXPECT_EQ(drain(roomy.get()), (V{1, 2, 3}));
  // A circular backlog is measured the same way.
  Ann q = make_ann(0, 4);
  for (int i = 0; i < 10; ++i) put_ok(q.get(), i);
  EXPECT_EQ(lox_announcement_subscribe(q.get(), 3, 0, &s), LOX_ESTATE);
  Ann fits = subscribe(q.get(), 4);
  EXPECT_EQ(drain(fits.get()), (V{6, 7, 8, 9}));
}

// ---------------------------------------------------------- unsubscribe --

TEST(AnnouncementUnsubscribe, DrainsThenClosed) {
  Ann p = make_ann();
  Ann a = subscribe(p.get());
  Ann b = subscribe(p.get());
  put_ok(p.get(), 1);
  put_ok(p.get(), 2);
  ASSERT_EQ(lox_announcement_unsubscribe(a.get()), LOX_OK);
  EXPECT_EQ(lox_announcement_subscribers(p.get()), 2u);
  put_ok(p.get(), 3);  // a receives nothing more
  EXPECT_EQ(lox_announcement_size(a.get()), 2u);
  EXPECT_EQ(get_now(a.get()), 1);
  EXPECT_EQ(get_now(a.get()), 2);
  void* it = to_ptr(8);
  EXPECT_EQ(lox_announcement_get(a.get(), &it, 0), LOX_ECLOSED);
  EXPECT_EQ(lox_announcement_get(a.get(), &it, LOX_FOREVER), LOX_ECLOSED) << "does not wait";
  EXPECT_EQ(from_ptr(it), 8);
  // It may still put.
  put_ok(a.get(), 4);
  EXPECT_EQ(drain(b.get()), (V{1, 2, 3, 4}));
  EXPECT_EQ(drain(p.get()), V{4});
  prime_detail();
  EXPECT_EQ(lox_announcement_unsubscribe(a.get()), LOX_ESTATE) << "twice";
  EXPECT_DETAIL2("announcement", "unsubscribe");
  EXPECT_EQ(lox_announcement_subscribers(p.get()), 2u);
}

TEST(AnnouncementUnsubscribe, WakesABlockedGetterWithClosed) {
  Ann p = make_ann();
  Ann a = subscribe(p.get());
  std::atomic<int> rc{99};
  Sleeper s([&] {
    void* it = nullptr;
    rc = lox_announcement_get(a.get(), &it, LOX_FOREVER);
  });
  ASSERT_TRUE(s.wait_asleep());
  ASSERT_EQ(lox_announcement_unsubscribe(a.get()), LOX_OK);
  s.join();
  EXPECT_EQ(rc.load(), LOX_ECLOSED) << "its queue is drained and it receives nothing more";
}

TEST(AnnouncementUnsubscribe, LetsABlockedPutThrough) {
  Ann p = make_ann();
  Ann full = subscribe(p.get(), 1);
  Ann b = subscribe(p.get());
  put_ok(p.get(), 1);
  std::atomic<int> rc{99};
  Sleeper s([&] { rc = lox_announcement_put(p.get(), to_ptr(2), LOX_FOREVER); });
  ASSERT_TRUE(s.wait_asleep());
  ASSERT_EQ(lox_announcement_unsubscribe(full.get()), LOX_OK);  // the only full receiver leaves
  s.join();
  EXPECT_EQ(rc.load(), LOX_OK);
  EXPECT_EQ(drain(b.get()), (V{1, 2}));
  EXPECT_EQ(drain(full.get()), V{1});
}

// --------------------------------------------------- maxsize, all-or-none --

TEST(AnnouncementMaxsize, PerMemberBound) {
  Ann p = make_ann(2);
  Ann dflt = subscribe(p.get(), 0);  // the group's default: 2
  Ann big = subscribe(p.get(), 5);
  Ann small = subscribe(big.get(), 1);
  put_ok(p.get(), 1);
  EXPECT_EQ(lox_announcement_full(small.get()), 1);
  EXPECT_EQ(lox_announcement_full(dflt.get()), 0);
  EXPECT_EQ(get_now(small.get()), 1);
  put_ok(p.get(), 2);
  EXPECT_EQ(lox_announcement_full(dflt.get()), 1);
  EXPECT_EQ(lox_announcement_full(big.get()), 0);
  EXPECT_EQ(lox_announcement_size(big.get()), 2u);
  EXPECT_EQ(lox_announcement_empty(big.get()), 0);
  EXPECT_EQ(get_now(small.get()), 2);
  EXPECT_EQ(lox_announcement_empty(small.get()), 1);
  EXPECT_EQ(lox_announcement_put(p.get(), to_ptr(3), 0), LOX_TIMEOUT) << "dflt is full";
  EXPECT_EQ(drain(dflt.get()), (V{1, 2}));
  for (int i = 3; i <= 5; ++i) {
    put_ok(p.get(), i);
    EXPECT_EQ(get_now(dflt.get()), i);
    EXPECT_EQ(get_now(small.get()), i);
  }
  EXPECT_EQ(lox_announcement_full(big.get()), 1);
  EXPECT_EQ(drain(big.get()), (V{1, 2, 3, 4, 5}));
  // An unbounded group default.
  Ann u = make_ann(0);
  Ann us = subscribe(u.get());
  for (int i = 0; i < 10000; ++i) put_ok(u.get(), i);
  EXPECT_EQ(lox_announcement_full(us.get()), 0);
  EXPECT_EQ(lox_announcement_size(us.get()), 10000u);
}

TEST(AnnouncementAllOrNone, TimedOutPutReachesNobody) {
  Ann p = make_ann(0, LOX_BACKLOG_UNBOUNDED);
  Ann a = subscribe(p.get(), 1);
  Ann b = subscribe(p.get(), 10);
  Ann c = subscribe(p.get(), 0);
  put_ok(p.get(), 1);
  ASSERT_EQ(lox_announcement_full(a.get()), 1);
  EXPECT_EQ(lox_announcement_put(p.get(), to_ptr(2), 0), LOX_TIMEOUT);
  EXPECT_EQ(lox_announcement_put(p.get(), to_ptr(2), 0.02), LOX_TIMEOUT);
  EXPECT_EQ(lox_announcement_put(b.get(), to_ptr(2), 0.01), LOX_TIMEOUT) << "a is a receiver of b's put";
  EXPECT_EQ(lox_announcement_size(a.get()), 1u);
  EXPECT_EQ(lox_announcement_size(b.get()), 1u) << "b got part of a put that timed out";
  EXPECT_EQ(lox_announcement_size(c.get()), 1u) << "c got part of a put that timed out";
  EXPECT_EQ(lox_announcement_size(p.get()), 0u) << "the creator got part of a put that timed out";
  EXPECT_EQ(lox_announcement_backlog(p.get()), 1u) << "the backlog got part of a put that timed out";
  // a's own put does not need room in a.
  put_ok(a.get(), 3);
  EXPECT_EQ(drain(b.get()), (V{1, 3}));
  EXPECT_EQ(drain(c.get()), (V{1, 3}));
  EXPECT_EQ(drain(a.get()), V{1});
}

TEST(AnnouncementAllOrNone, BlockedPutCompletesOnceTheFullReceiverIsDrained) {
  Ann p = make_ann();
  Ann a = subscribe(p.get(), 1);
  Ann b = subscribe(p.get(), 0);
  put_ok(p.get(), 1);
  std::atomic<int> rc{99};
  Sleeper s([&] { rc = lox_announcement_put(p.get(), to_ptr(2), LOX_FOREVER); });
  ASSERT_TRUE(s.wait_asleep());
  EXPECT_EQ(rc.load(), 99);
  EXPECT_EQ(lox_announcement_size(b.get()), 1u) << "delivered to b before a had room";
  std::thread([&] { EXPECT_EQ(get_now(a.get()), 1); }).join();
  s.join();
  EXPECT_EQ(rc.load(), LOX_OK);
  EXPECT_EQ(drain(a.get()), V{2});
  EXPECT_EQ(drain(b.get()), (V{1, 2}));
}

TEST(AnnouncementAllOrNone, BlockedTimedPutCompletesInTime) {
  Ann p = make_ann(1);
  Ann a = subscribe(p.get());
  Ann b = subscribe(p.get());
  put_ok(p.get(), 1);
  EXPECT_EQ(get_now(b.get()), 1);  // only a is full now
  std::atomic<int> rc{99};
  Sleeper s([&] { rc = lox_announcement_put(p.get(), to_ptr(2), 30.0); });
  ASSERT_TRUE(s.wait_asleep());
  EXPECT_EQ(lox_announcement_size(b.get()), 0u);
  EXPECT_EQ(get_now(a.get()), 1);
  s.join();
  EXPECT_EQ(rc.load(), LOX_OK);
  EXPECT_EQ(get_now(a.get()), 2);
  EXPECT_EQ(get_now(b.get()), 2);
}

TEST(AnnouncementAllOrNone, BlockedPutWaitsForEveryFullReceiver) {
  Ann p = make_ann(1);
  Ann a = subscribe(p.get());
  Ann b = subscribe(p.get());
  put_ok(p.get(), 1);  // both full
  std::atomic<int> rc{99};
  Sleeper s([&] { rc = lox_announcement_put(p.get(), to_ptr(2), LOX_FOREVER); });
  ASSERT_TRUE(s.wait_asleep());
  EXPECT_EQ(get_now(a.get()), 1);
  std::this_thread::sleep_for(20ms);  // not needed for correctness: gives a partial delivery a chance
  EXPECT_EQ(rc.load(), 99) << "the put completed while b was still full";
  EXPECT_EQ(lox_announcement_size(a.get()), 0u) << "a got the item while b was still full";
  EXPECT_EQ(get_now(b.get()), 1);
  s.join();
  EXPECT_EQ(rc.load(), LOX_OK);
  EXPECT_EQ(get_now(a.get()), 2);
  EXPECT_EQ(get_now(b.get()), 2);
}

TEST(Announcement, BlockedGetReceivesALaterPut) {
  Ann p = make_ann();
  Ann a = subscribe(p.get());
  expect_blocked_get_receives_put(a.get(), p.get());
}

TEST(Announcement, TimedWaitsLastAboutTheirTimeout) {
  Ann p = make_ann(1);
  Ann a = subscribe(p.get());
  void* it = to_ptr(4);
  expect_times_out_after_50ms([&] { return lox_announcement_get(a.get(), &it, 0.05); });
  EXPECT_EQ(from_ptr(it), 4);
  put_ok(p.get(), 1);
  expect_times_out_after_50ms([&] { return lox_announcement_put(p.get(), to_ptr(2), 0.05); });
  EXPECT_EQ(drain(a.get()), V{1});
}

// ------------------------------------------------------------- destroy --

// Destroys the four handles of a group (creator, clone, subscriber,
// subscriber of the subscriber) in the given order; after each destroy the
// remaining handles still publish and receive. ASan checks that the group
// is freed with the last handle.
void destroy_in_order(const std::array<int, 4>& order, long long backlog) {
  std::array<lox_announcement*, 4> h{};
  ASSERT_EQ(lox_announcement_create(0, backlog, &h[0]), LOX_OK);
  ASSERT_EQ(lox_announcement_clone(h[0], &h[1]), LOX_OK);
  ASSERT_EQ(lox_announcement_subscribe(h[0], 0, LOX_FOREVER, &h[2]), LOX_OK);
  ASSERT_EQ(lox_announcement_subscribe(h[2], 0, LOX_FOREVER, &h[3]), LOX_OK);
  const bool member[4] = {true, false, true, true};  // all but the clone
  intptr_t next = 1;
  for (int step = 0; step < 4; ++step) {
    // Leave an item in every live member's queue (dropped by its destroy).
    for (int k = 0; k < 4; ++k)
      if (h[k]) EXPECT_EQ(lox_announcement_put(h[k], to_ptr(next++), 0), LOX_OK);
    lox_announcement_destroy(h[order[step]]);
    h[order[step]] = nullptr;
    size_t subs = 0;
    for (int k = 0; k < 4; ++k) subs += h[k] && member[k];
    for (int k = 0; k < 4; ++k) {
      if (!h[k]) continue;
      EXPECT_EQ(lox_announcement_subscribers(h[k]), subs);
      // A put by this handle reaches every other live member.
      std::vector<size_t> before(4);
      for (int j = 0; j < 4; ++j) before[j] = h[j] ? lox_announcement_size(h[j]) : 0;
      EXPECT_EQ(lox_announcement_put(h[k], to_ptr(next++), 0), LOX_OK);
      for (int j = 0; j < 4; ++j)
        if (h[j] && member[j]) EXPECT_EQ(lox_announcement_size(h[j]), before[j] + (j == k ? 0 : 1));
    }
  }
}

TEST(AnnouncementDestroy, HandlesInEveryOrder) {
  std::array<int, 4> order = {0, 1, 2, 3};
  int n = 0;
  do {
    SCOPED_TRACE(::testing::Message() << order[0] << order[1] << order[2] << order[3]);
    destroy_in_order(order, LOX_BACKLOG_OFF);
    destroy_in_order(order, LOX_BACKLOG_UNBOUNDED);
    destroy_in_order(order, 3);
    ++n;
  } while (std::next_permutation(order.begin(), order.end()));
  EXPECT_EQ(n, 24);
}

TEST(AnnouncementDestroy, CreatorFirstLeavesTheGroupWorking) {
  lox_announcement* p = nullptr;
  ASSERT_EQ(lox_announcement_create(0, LOX_BACKLOG_UNBOUNDED, &p), LOX_OK);
  Ann a = subscribe(p);
  put_ok(p, 1);
  lox_announcement_destroy(p);
  Ann b = subscribe(a.get());  // the backlog outlived the creator
  put_ok(a.get(), 2);
  EXPECT_EQ(drain(b.get()), (V{1, 2}));
  EXPECT_EQ(drain(a.get()), V{1});
  EXPECT_EQ(lox_announcement_subscribers(a.get()), 2u);
}

TEST(AnnouncementDestroy, SubscriberFirstLeavesTheGroup) {
  Ann p = make_ann(1);
  lox_announcement* a = nullptr;
  ASSERT_EQ(lox_announcement_subscribe(p.get(), 0, LOX_FOREVER, &a), LOX_OK);
  Ann b = subscribe(p.get());
  put_ok(p.get(), 1);
  EXPECT_EQ(get_now(b.get()), 1);
  lox_announcement_destroy(a);  // full, with an item inside: dropped
  EXPECT_EQ(lox_announcement_subscribers(p.get()), 2u);
  put_ok(p.get(), 2);  // a no longer needs room
  EXPECT_EQ(get_now(b.get()), 2);
}

TEST(AnnouncementDestroy, DestroyingTheFullReceiverLetsABlockedPutThrough) {
  Ann p = make_ann();
  lox_announcement* full = nullptr;
  ASSERT_EQ(lox_announcement_subscribe(p.get(), 1, LOX_FOREVER, &full), LOX_OK);
  Ann b = subscribe(p.get());
  put_ok(p.get(), 1);
  std::atomic<int> rc{99};
  Sleeper s([&] { rc = lox_announcement_put(p.get(), to_ptr(2), LOX_FOREVER); });
  ASSERT_TRUE(s.wait_asleep());
  lox_announcement_destroy(full);  // nobody waits in this handle
  s.join();
  EXPECT_EQ(rc.load(), LOX_OK);
  EXPECT_EQ(drain(b.get()), (V{1, 2}));
}

TEST(AnnouncementDestroy, BlockedGetterGetsEState) {
  LogCapture cap;
  Ann p = make_ann();
  lox_announcement* a = nullptr;
  ASSERT_EQ(lox_announcement_subscribe(p.get(), 0, LOX_FOREVER, &a), LOX_OK);
  void* it = nullptr;
  auto [rc, d] = outcome_when_blocked([&] { return lox_announcement_get(a, &it, LOX_FOREVER); },
                                      [&] { lox_announcement_destroy(a); });
  EXPECT_EQ(rc, LOX_ESTATE);
  EXPECT_NE(d.find("get"), std::string::npos) << d;
  EXPECT_TRUE(has_error_log(cap, "announcement", "destroy"));
  EXPECT_EQ(lox_announcement_subscribers(p.get()), 1u);
  EXPECT_EQ(lox_announcement_put(p.get(), to_ptr(1), 0), LOX_OK);
}

TEST(AnnouncementDestroy, BlockedPutterGetsEStateAndDeliversNothing) {
  LogCapture cap;
  lox_announcement* p = nullptr;
  ASSERT_EQ(lox_announcement_create(0, LOX_BACKLOG_OFF, &p), LOX_OK);
  Ann a = subscribe(p, 1);
  Ann b = subscribe(p, 0);
  put_ok(p, 1);
  auto [rc, d] = outcome_when_blocked([&] { return lox_announcement_put(p, to_ptr(2), LOX_FOREVER); },
                                      [&] { lox_announcement_destroy(p); });
  EXPECT_EQ(rc, LOX_ESTATE);
  EXPECT_NE(d.find("put"), std::string::npos) << d;
  EXPECT_TRUE(has_error_log(cap, "announcement", "destroy"));
  EXPECT_EQ(drain(a.get()), V{1});
  EXPECT_EQ(drain(b.get()), V{1}) << "the put that returned LOX_ESTATE delivered its item";
}

TEST(AnnouncementDestroy, NoWaitersNoErrorLog) {
  LogCapture cap;
  for (long long backlog : {static_cast<long long>(LOX_BACKLOG_OFF), 0LL, 2LL}) {
    lox_announcement* p = nullptr;
    ASSERT_EQ(lox_announcement_create(3, backlog, &p), LOX_OK);
    lox_announcement* a = nullptr;
    ASSERT_EQ(lox_announcement_subscribe(p, 0, 0, &a), LOX_OK);
    for (int i = 0; i < 3; ++i) put_ok(p, i);
    lox_announcement_destroy(a);
    lox_announcement_destroy(p);
  }
  EXPECT_FALSE(has_any_error_log(cap));
}

// ------------------------------------------------------------ bad input --

TEST(AnnouncementBadInput, Create) {
  lox_announcement* a = reinterpret_cast<lox_announcement*>(1);
  prime_detail();
  EXPECT_EQ(lox_announcement_create(0, LOX_BACKLOG_OFF, nullptr), LOX_EINVAL);
  EXPECT_DETAIL2("announcement", "create");
  prime_detail();
  EXPECT_EQ(lox_announcement_create(0, -2, &a), LOX_EINVAL);
  EXPECT_DETAIL2("announcement", "backlog");
  EXPECT_EQ(lox_announcement_create(4, LLONG_MIN, &a), LOX_EINVAL);
  EXPECT_EQ(a, reinterpret_cast<lox_announcement*>(1));
  ASSERT_EQ(lox_announcement_create(0, 1LL << 20, &a), LOX_OK) << "a large circular backlog is fine";
  lox_announcement_destroy(a);
}

TEST(AnnouncementBadInput, NullHandlesAndOuts) {
  Ann p = make_ann(0, LOX_BACKLOG_UNBOUNDED);
  Ann a = subscribe(p.get());
  lox_announcement* out = reinterpret_cast<lox_announcement*>(1);
  void* it = to_ptr(5);
  prime_detail();
  EXPECT_EQ(lox_announcement_subscribe(nullptr, 0, 0, &out), LOX_EINVAL);
  EXPECT_DETAIL2("announcement", "subscribe");
  prime_detail();
  EXPECT_EQ(lox_announcement_subscribe(p.get(), 0, 0, nullptr), LOX_EINVAL);
  EXPECT_DETAIL2("announcement", "subscribe");
  prime_detail();
  EXPECT_EQ(lox_announcement_subscribe(p.get(), 0, kNaN, &out), LOX_EINVAL);
  EXPECT_DETAIL2("announcement subscribe", "NaN");
  EXPECT_EQ(out, reinterpret_cast<lox_announcement*>(1));
  EXPECT_EQ(lox_announcement_subscribers(p.get()), 2u) << "a refused subscribe subscribed nothing";
  prime_detail();
  EXPECT_EQ(lox_announcement_put(nullptr, it, 0), LOX_EINVAL);
  EXPECT_DETAIL2("announcement", "put");
  prime_detail();
  EXPECT_EQ(lox_announcement_put(p.get(), it, kNaN), LOX_EINVAL);
  EXPECT_DETAIL2("announcement put", "NaN");
  EXPECT_EQ(lox_announcement_size(a.get()), 0u) << "a refused put delivered";
  EXPECT_EQ(lox_announcement_backlog(p.get()), 0u) << "a refused put was kept";
  put_ok(p.get(), 6);
  prime_detail();
  EXPECT_EQ(lox_announcement_get(nullptr, &it, 0), LOX_EINVAL);
  EXPECT_DETAIL2("announcement", "get");
  prime_detail();
  EXPECT_EQ(lox_announcement_get(a.get(), nullptr, 0), LOX_EINVAL);
  EXPECT_DETAIL2("announcement", "get");
  prime_detail();
  EXPECT_EQ(lox_announcement_get(a.get(), &it, kNaN), LOX_EINVAL);
  EXPECT_DETAIL2("announcement get", "NaN");
  EXPECT_EQ(from_ptr(it), 5);
  EXPECT_EQ(lox_announcement_size(a.get()), 1u) << "a refused get consumed";
  prime_detail();
  EXPECT_EQ(lox_announcement_finalize(nullptr), LOX_EINVAL);
  EXPECT_DETAIL2("announcement", "finalize");
  prime_detail();
  EXPECT_EQ(lox_announcement_unsubscribe(nullptr), LOX_EINVAL);
  EXPECT_DETAIL2("announcement", "unsubscribe");
  prime_detail();
  EXPECT_EQ(lox_announcement_clone(nullptr, &out), LOX_EINVAL);
  EXPECT_DETAIL2("announcement", "clone");
  prime_detail();
  EXPECT_EQ(lox_announcement_clone(p.get(), nullptr), LOX_EINVAL);
  EXPECT_DETAIL2("announcement", "clone");
  EXPECT_EQ(out, reinterpret_cast<lox_announcement*>(1));
  prime_detail();
  EXPECT_EQ(lox_announcement_subscribers(nullptr), 0u);
  EXPECT_DETAIL2("announcement", "subscribers");
  prime_detail();
  EXPECT_EQ(lox_announcement_size(nullptr), 0u);
  EXPECT_DETAIL2("announcement", "size");
  prime_detail();
  EXPECT_EQ(lox_announcement_backlog(nullptr), 0u);
  EXPECT_DETAIL2("announcement", "backlog");
  prime_detail();
  EXPECT_EQ(lox_announcement_empty(nullptr), LOX_EINVAL);
  EXPECT_DETAIL2("announcement", "empty");
  prime_detail();
  EXPECT_EQ(lox_announcement_full(nullptr), LOX_EINVAL);
  EXPECT_DETAIL2("announcement", "full");
  lox_announcement_destroy(nullptr);
  // Everything still as before.
  EXPECT_EQ(lox_announcement_subscribers(p.get()), 2u);
  EXPECT_EQ(lox_announcement_backlog(p.get()), 1u);
  EXPECT_EQ(drain(a.get()), V{6});
}

TEST(AnnouncementBadInput, SubscribeNeverWaits) {
  Ann p = make_ann(1, LOX_BACKLOG_UNBOUNDED);
  put_ok(p.get(), 1);
  lox_announcement* s = nullptr;
  ASSERT_EQ(lox_announcement_subscribe(p.get(), 0, 0, &s), LOX_OK) << "timeout 0 is enough: the queue is fresh";
  Ann owned(s);
  EXPECT_EQ(lox_announcement_full(s), 1);
  EXPECT_EQ(get_now(s), 1);
}

}  // namespace
