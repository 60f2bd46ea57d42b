// SPDX-License-Identifier: Apache-2.0
// lox_announcement membership (lox.h, lox_announcement_create): the handle
// from create is a member with its own receive queue, as lox's
// Announcement() is one of its own subscribers, so members talk
// many-to-many (lox 0.6) and lox_announcement_subscribers counts the
// creator; a clone stays a publisher outside the member list. What the
// creator's queue receives with a backlog, under the group's bound, after
// it unsubscribes or is destroyed; and maxsize and backlog from caller
// input at their extremes (SIZE_MAX, SIZE_MAX / 2).
#include <lox/lox.h>

#include <gtest/gtest.h>

#include <atomic>
#include <climits>
#include <cstdint>
#include <thread>
#include <vector>

#include "queue_util.hpp"
#include "test_util.hpp"

using namespace loxtest;

namespace {

using V = std::vector<intptr_t>;

// lox's many-queue-to-many-queue example: foo = ann.subscribe();
// foo.put(42); ann.get() == 42; len(ann) == 3 after two subscribes.
TEST(AnnouncementMembership, LoxManyToManyExample) {
  Ann ann = make_ann();
  EXPECT_EQ(lox_announcement_subscribers(ann.get()), 1u) << "the creator is a member";
  Ann foo = subscribe(ann.get());
  Ann bar = subscribe(ann.get());
  EXPECT_EQ(lox_announcement_subscribers(ann.get()), 3u) << "len(ann) after two subscribes";
  ASSERT_EQ(lox_announcement_put(foo.get(), to_ptr(42), LOX_FOREVER), LOX_OK);
  EXPECT_EQ(get_now(ann.get()), 42) << "a subscriber's put reaches the creator";
  EXPECT_EQ(get_now(bar.get()), 42);
  EXPECT_EQ(drain(foo.get()), V{}) << "not the sender";
  put_ok(ann.get(), 5);  // the creator's put: to foo and bar, not itself
  put_ok(bar.get(), 7);  // to ann and foo
  EXPECT_EQ(drain(ann.get()), V{7});
  EXPECT_EQ(drain(foo.get()), (V{5, 7}));
  EXPECT_EQ(drain(bar.get()), V{5});
}

TEST(AnnouncementMembership, CreatorBlockedInGetReceivesASubscribersPut) {
  Ann ann = make_ann();
  Ann foo = subscribe(ann.get());
  expect_blocked_get_receives_put(ann.get(), foo.get());
}

TEST(AnnouncementMembership, CreatorAloneReceivesClonesPutsNotItsOwn) {
  Ann ann = make_ann();
  put_ok(ann.get(), 1);  // no other member: nobody gets it
  EXPECT_EQ(lox_announcement_size(ann.get()), 0u);
  Ann pub = clone_of(ann.get());
  EXPECT_EQ(lox_announcement_subscribers(ann.get()), 1u) << "a clone is not a member";
  put_ok(pub.get(), 2);
  EXPECT_EQ(lox_announcement_size(ann.get()), 1u);
  EXPECT_EQ(lox_announcement_empty(ann.get()), 0);
  EXPECT_EQ(get_now(ann.get()), 2);
  void* it = to_ptr(9);
  EXPECT_EQ(lox_announcement_get(ann.get(), &it, 0), LOX_TIMEOUT) << "an empty member times out";
  EXPECT_EQ(from_ptr(it), 9);
}

TEST(AnnouncementMembership, ClonesStayPublishersOutsideTheMembers) {
  Ann ann = make_ann(0, LOX_BACKLOG_UNBOUNDED);
  Ann a = subscribe(ann.get());
  Ann c = clone_of(a.get());
  EXPECT_EQ(lox_announcement_subscribers(c.get()), 2u);
  put_ok(c.get(), 1);  // every member, the creator included
  EXPECT_EQ(drain(ann.get()), V{1});
  EXPECT_EQ(drain(a.get()), V{1});
  void* it = nullptr;
  EXPECT_EQ(lox_announcement_get(c.get(), &it, LOX_FOREVER), LOX_ECLOSED) << "a clone receives nothing";
  EXPECT_EQ(lox_announcement_size(c.get()), 0u);
  prime_detail();
  EXPECT_EQ(lox_announcement_unsubscribe(c.get()), LOX_ESTATE);
  EXPECT_DETAIL2("announcement", "unsubscribe");
  Ann d = subscribe(c.get());  // a clone can still subscribe a new member
  EXPECT_EQ(lox_announcement_subscribers(ann.get()), 3u);
  EXPECT_EQ(drain(d.get()), V{1}) << "the backlog";
}

// The creator's queue starts empty and then receives live: it is never
// pre-filled with the backlog (it was a member before anything was put),
// and the backlog still keeps everything for later subscribers.
TEST(AnnouncementMembership, CreatorGetsLivePutsNotTheBacklog) {
  for (long long backlog : {static_cast<long long>(LOX_BACKLOG_UNBOUNDED), 2LL}) {
    SCOPED_TRACE(backlog);
    Ann ann = make_ann(0, backlog);
    put_ok(ann.get(), 1);
    put_ok(ann.get(), 2);
    EXPECT_EQ(lox_announcement_backlog(ann.get()), 2u);
    EXPECT_EQ(lox_announcement_size(ann.get()), 0u) << "its own puts, kept for later subscribers only";
    Ann a = subscribe(ann.get());
    EXPECT_EQ(lox_announcement_size(ann.get()), 0u) << "a subscribe does not feed the creator";
    put_ok(a.get(), 3);
    EXPECT_EQ(drain(ann.get()), V{3});
    Ann late = subscribe(ann.get());
    EXPECT_EQ(drain(late.get()), (backlog > 0 ? V{2, 3} : V{1, 2, 3}));
    EXPECT_EQ(drain(a.get()), (V{1, 2}));
    ASSERT_EQ(lox_announcement_finalize(ann.get()), LOX_OK);
    put_ok(late.get(), 4);  // finalize leaves the members, the creator included, as they were
    EXPECT_EQ(drain(ann.get()), V{4});
    EXPECT_EQ(drain(a.get()), V{4});
  }
}

// The creator's queue has the group's default bound, and all-or-none counts
// it like any receiver: a creator that never gets holds up its members.
TEST(AnnouncementMembership, CreatorQueueHasTheGroupBound) {
  Ann ann = make_ann(1);
  Ann a = subscribe(ann.get(), 5);
  Ann pub = clone_of(ann.get());
  put_ok(a.get(), 1);
  EXPECT_EQ(lox_announcement_full(ann.get()), 1);
  EXPECT_EQ(lox_announcement_put(a.get(), to_ptr(2), 0), LOX_TIMEOUT) << "the creator is full";
  EXPECT_EQ(lox_announcement_put(pub.get(), to_ptr(2), 0.01), LOX_TIMEOUT);
  EXPECT_EQ(lox_announcement_size(a.get()), 0u) << "the clone's timed-out put reached a";
  put_ok(ann.get(), 3);  // the creator's own put needs no room in itself
  std::atomic<int> rc{99};
  Sleeper s([&] { rc = lox_announcement_put(a.get(), to_ptr(4), LOX_FOREVER); });
  ASSERT_TRUE(s.wait_asleep());
  EXPECT_EQ(get_now(ann.get()), 1);
  s.join();
  EXPECT_EQ(rc.load(), LOX_OK);
  EXPECT_EQ(drain(ann.get()), V{4});
  EXPECT_EQ(drain(a.get()), V{3});
}

TEST(AnnouncementMembership, CreatorMayUnsubscribe) {
  Ann ann = make_ann(1);
  Ann a = subscribe(ann.get());
  put_ok(a.get(), 1);  // the creator is full now
  ASSERT_EQ(lox_announcement_unsubscribe(ann.get()), LOX_OK);
  EXPECT_EQ(lox_announcement_subscribers(a.get()), 1u);
  put_ok(a.get(), 2);  // no longer needs room in the creator, nor reaches it
  EXPECT_EQ(get_now(ann.get()), 1) << "it drains what it had";
  void* it = nullptr;
  EXPECT_EQ(lox_announcement_get(ann.get(), &it, LOX_FOREVER), LOX_ECLOSED) << "then it is closed, without waiting";
  put_ok(ann.get(), 3);  // it may still put
  EXPECT_EQ(drain(a.get()), V{3});
  prime_detail();
  EXPECT_EQ(lox_announcement_unsubscribe(ann.get()), LOX_ESTATE) << "twice";
  EXPECT_DETAIL2("announcement", "unsubscribe");
}

TEST(AnnouncementMembership, DestroyingTheCreatorLeavesTheOtherMembers) {
  lox_announcement* ann = nullptr;
  ASSERT_EQ(lox_announcement_create(1, LOX_BACKLOG_OFF, &ann), LOX_OK);
  Ann a = subscribe(ann);
  Ann b = subscribe(ann, 4);
  EXPECT_EQ(lox_announcement_subscribers(a.get()), 3u);
  put_ok(a.get(), 1);  // the creator is full, with an item inside: dropped with it
  lox_announcement_destroy(ann);
  EXPECT_EQ(lox_announcement_subscribers(a.get()), 2u);
  put_ok(a.get(), 2);  // needs no room in the destroyed creator
  EXPECT_EQ(drain(b.get()), (V{1, 2}));
}

// ---------------------------------------------------------------- sizes --

// maxsize and backlog are counts: no size from caller input is allocated
// up front or computed with (so none can wrap), so the extremes work. A
// backlog of SIZE_MAX / 2 is LLONG_MAX on LP64; SIZE_MAX converted to long
// long is -1, LOX_BACKLOG_OFF.
TEST(AnnouncementSizes, HugeMaxsizeAndBacklogAreBoundsNotAllocations) {
  const size_t sizes[] = {SIZE_MAX, SIZE_MAX / 2};
  const long long backlogs[] = {LOX_BACKLOG_UNBOUNDED, static_cast<long long>(SIZE_MAX / 2), LLONG_MAX,
                                static_cast<long long>(SIZE_MAX)};
  for (size_t maxsize : sizes) {
    for (long long backlog : backlogs) {
      SCOPED_TRACE(::testing::Message() << "maxsize " << maxsize << ", backlog " << backlog);
      lox_announcement* raw = nullptr;
      ASSERT_EQ(lox_announcement_create(maxsize, backlog, &raw), LOX_OK) << lox_last_error();
      Ann ann(raw);
      Ann a = subscribe(ann.get(), 0);  // the group's default: huge
      Ann b = subscribe(a.get(), SIZE_MAX);
      Ann c = subscribe(a.get(), SIZE_MAX / 2);
      for (intptr_t i = 1; i <= 3; ++i) put_ok(a.get(), i);
      EXPECT_EQ(lox_announcement_full(ann.get()), 0);
      EXPECT_EQ(lox_announcement_size(ann.get()), 3u) << "the creator's queue, bounded by maxsize";
      EXPECT_EQ(drain(ann.get()), (V{1, 2, 3}));
      EXPECT_EQ(drain(b.get()), (V{1, 2, 3}));
      EXPECT_EQ(drain(c.get()), (V{1, 2, 3}));
      const bool keeps = backlog != LOX_BACKLOG_OFF;
      EXPECT_EQ(lox_announcement_backlog(ann.get()), keeps ? 3u : 0u);
      Ann late = subscribe(ann.get(), SIZE_MAX / 2);
      EXPECT_EQ(drain(late.get()), (keeps ? V{1, 2, 3} : V{}));
    }
  }
}

}  // namespace
