// SPDX-License-Identifier: Apache-2.0
// lox_funnel (lox.h, "Queues"; the lox manual's Funnel): the documented
// example, input numbering, completion order, items in input order, a
// second put for the same job id, inputs added while sets are pending, the
// get buffer contract, destroying handles in any order and while the top is
// waited on, and bad input.
#include <lox/lox.h>

#include <gtest/gtest.h>

#include <atomic>
#include <climits>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "queue_util.hpp"
#include "test_util.hpp"

using namespace loxtest;

namespace {

struct Set {
  int rc = 99;
  unsigned long long jid = 0;
  std::vector<void*> items;
};

// One get with room for `capacity` items.
Set get_set(lox_funnel* top, double timeout = 0, size_t capacity = 16) {
  Set s;
  std::vector<void*> buf(capacity, to_ptr(-7));
  size_t count = 12345;
  s.jid = 999999;
  s.rc = lox_funnel_get(top, timeout, &s.jid, capacity ? buf.data() : nullptr, capacity, &count);
  if (s.rc == LOX_OK) {
    EXPECT_LE(count, capacity);
    s.items.assign(buf.begin(), buf.begin() + static_cast<long>(std::min(count, capacity)));
  }
  return s;
}

std::vector<intptr_t> ints(const Set& s) {
  std::vector<intptr_t> v;
  for (void* p : s.items) v.push_back(from_ptr(p));
  return v;
}

using V = std::vector<intptr_t>;

void put_ok(lox_funnel* in, unsigned long long jid, intptr_t v) {
  EXPECT_EQ(lox_funnel_put(in, jid, to_ptr(v), 0), LOX_OK) << lox_last_error();
}

// ------------------------------------------------------- the doc example --

TEST(Funnel, DocumentedExample) {
  Funnel funnel = make_funnel();
  Funnel sub_1 = add_input(funnel.get());
  Funnel sub_2 = add_input(funnel.get());
  static const char foo[] = "foo";
  static const char bar[] = "bar";
  const unsigned long long job_id = 4242;
  ASSERT_EQ(lox_funnel_put(sub_1.get(), job_id, const_cast<char*>(foo), LOX_FOREVER), LOX_OK);
  void* items[2] = {nullptr, nullptr};
  size_t count = 0;
  unsigned long long jid = 0;
  EXPECT_EQ(lox_funnel_get(funnel.get(), 0.01, &jid, items, 2, &count), LOX_TIMEOUT) << "Timed Out";
  ASSERT_EQ(lox_funnel_put(sub_2.get(), job_id, const_cast<char*>(bar), LOX_FOREVER), LOX_OK);
  ASSERT_EQ(lox_funnel_get(funnel.get(), LOX_FOREVER, &jid, items, 2, &count), LOX_OK);
  ASSERT_EQ(count, 2u);  // with the job id: 3 elements, ['job_id', 'foo', 'bar']
  EXPECT_EQ(jid, job_id);
  EXPECT_STREQ(static_cast<const char*>(items[0]), "foo");
  EXPECT_STREQ(static_cast<const char*>(items[1]), "bar");
  EXPECT_EQ(lox_funnel_ready(funnel.get()), 0u);
}

// -------------------------------------------------------------- numbering --

TEST(Funnel, InputsAreNumberedInSubscriptionOrder) {
  Funnel top = make_funnel();
  EXPECT_EQ(lox_funnel_index(top.get()), -1);
  EXPECT_EQ(lox_funnel_inputs(top.get()), 0u);
  Funnel a = add_input(top.get());
  Funnel b = add_input(top.get());
  Funnel c = add_input(a.get());  // through an input: same funnel
  EXPECT_EQ(lox_funnel_index(a.get()), 0);
  EXPECT_EQ(lox_funnel_index(b.get()), 1);
  EXPECT_EQ(lox_funnel_index(c.get()), 2);
  EXPECT_EQ(lox_funnel_index(top.get()), -1);
  for (lox_funnel* f : {top.get(), a.get(), b.get(), c.get()}) EXPECT_EQ(lox_funnel_inputs(f), 3u);
  // c belongs to the same funnel: a set needs it.
  put_ok(a.get(), 1, 10);
  put_ok(b.get(), 1, 11);
  EXPECT_EQ(get_set(top.get()).rc, LOX_TIMEOUT);
  put_ok(c.get(), 1, 12);
  Set s = get_set(top.get());
  ASSERT_EQ(s.rc, LOX_OK);
  EXPECT_EQ(ints(s), (V{10, 11, 12}));
}

TEST(Funnel, InputsOfDifferentFunnelsAreIndependent) {
  Funnel t1 = make_funnel();
  Funnel t2 = make_funnel();
  Funnel a = add_input(t1.get());
  Funnel b = add_input(t2.get());
  EXPECT_EQ(lox_funnel_index(b.get()), 0);
  put_ok(a.get(), 5, 1);
  put_ok(b.get(), 5, 2);
  Set s1 = get_set(t1.get());
  Set s2 = get_set(t2.get());
  ASSERT_EQ(s1.rc, LOX_OK);
  ASSERT_EQ(s2.rc, LOX_OK);
  EXPECT_EQ(ints(s1), V{1});
  EXPECT_EQ(ints(s2), V{2});
}

// ----------------------------------------------------------------- order --

TEST(Funnel, SetsComeOutInCompletionOrder) {
  Funnel top = make_funnel();
  Funnel a = add_input(top.get());
  Funnel b = add_input(top.get());
  for (unsigned long long j : {1ULL, 2ULL, 3ULL}) put_ok(a.get(), j, static_cast<intptr_t>(j * 10));
  EXPECT_EQ(lox_funnel_ready(top.get()), 0u);
  put_ok(b.get(), 3, 31);
  EXPECT_EQ(lox_funnel_ready(top.get()), 1u);
  put_ok(b.get(), 1, 11);
  put_ok(b.get(), 2, 21);
  EXPECT_EQ(lox_funnel_ready(top.get()), 3u);
  Set s = get_set(top.get());
  ASSERT_EQ(s.rc, LOX_OK);
  EXPECT_EQ(s.jid, 3u);
  EXPECT_EQ(ints(s), (V{30, 31}));
  s = get_set(top.get());
  ASSERT_EQ(s.rc, LOX_OK);
  EXPECT_EQ(s.jid, 1u);
  EXPECT_EQ(ints(s), (V{10, 11}));
  s = get_set(top.get());
  ASSERT_EQ(s.rc, LOX_OK);
  EXPECT_EQ(s.jid, 2u);
  EXPECT_EQ(ints(s), (V{20, 21}));
  EXPECT_EQ(lox_funnel_ready(top.get()), 0u);
  EXPECT_EQ(get_set(top.get()).rc, LOX_TIMEOUT);
}

TEST(Funnel, ItemsInInputOrderWhateverThePutOrder) {
  Funnel top = make_funnel();
  std::vector<Funnel> in;
  for (int i = 0; i < 4; ++i) in.push_back(add_input(top.get()));
  const int orders[3][4] = {{3, 2, 1, 0}, {1, 3, 0, 2}, {0, 1, 2, 3}};
  for (int j = 0; j < 3; ++j)
    for (int k : orders[j]) put_ok(in[k].get(), static_cast<unsigned long long>(j), 100 * j + k);
  for (int j = 0; j < 3; ++j) {
    Set s = get_set(top.get());
    ASSERT_EQ(s.rc, LOX_OK);
    EXPECT_EQ(s.jid, static_cast<unsigned long long>(j));
    EXPECT_EQ(ints(s), (V{100 * j, 100 * j + 1, 100 * j + 2, 100 * j + 3}));
  }
}

TEST(Funnel, OneInputMakesASetPerPut) {
  Funnel top = make_funnel();
  Funnel a = add_input(top.get());
  put_ok(a.get(), 7, 1);
  put_ok(a.get(), 7, 2);
  put_ok(a.get(), 0, 3);
  EXPECT_EQ(lox_funnel_ready(top.get()), 3u);
  for (intptr_t v : {1, 2, 3}) {
    Set s = get_set(top.get());
    ASSERT_EQ(s.rc, LOX_OK);
    EXPECT_EQ(ints(s), V{v});
    EXPECT_EQ(s.jid, v == 3 ? 0u : 7u);
  }
}

TEST(Funnel, JobIdsAreFullRangeAndNullItemsAreItems) {
  Funnel top = make_funnel();
  Funnel a = add_input(top.get());
  Funnel b = add_input(top.get());
  ASSERT_EQ(lox_funnel_put(a.get(), ULLONG_MAX, nullptr, 0), LOX_OK);
  ASSERT_EQ(lox_funnel_put(b.get(), ULLONG_MAX, nullptr, 0), LOX_OK);
  ASSERT_EQ(lox_funnel_put(a.get(), 0, to_ptr(1), 0), LOX_OK);
  ASSERT_EQ(lox_funnel_put(b.get(), 0, nullptr, 0), LOX_OK);
  Set s = get_set(top.get());
  ASSERT_EQ(s.rc, LOX_OK);
  EXPECT_EQ(s.jid, ULLONG_MAX);
  ASSERT_EQ(s.items.size(), 2u);
  EXPECT_EQ(s.items[0], nullptr);
  EXPECT_EQ(s.items[1], nullptr);
  s = get_set(top.get());
  ASSERT_EQ(s.rc, LOX_OK);
  EXPECT_EQ(s.jid, 0u);
  EXPECT_EQ(ints(s), (V{1, 0}));
}

TEST(Funnel, JidOutMayBeNull) {
  Funnel top = make_funnel();
  Funnel a = add_input(top.get());
  put_ok(a.get(), 3, 9);
  void* item = nullptr;
  size_t count = 0;
  ASSERT_EQ(lox_funnel_get(top.get(), 0, nullptr, &item, 1, &count), LOX_OK);
  EXPECT_EQ(count, 1u);
  EXPECT_EQ(from_ptr(item), 9);
}

// ------------------------------------------------- repeated and late puts --

TEST(Funnel, SecondPutOfAnInputForTheSameJobGoesToTheNextSet) {
  Funnel top = make_funnel();
  Funnel a = add_input(top.get());
  Funnel b = add_input(top.get());
  put_ok(a.get(), 7, 1);
  put_ok(a.get(), 7, 2);  // kept for the next set with job 7
  put_ok(a.get(), 7, 3);
  EXPECT_EQ(lox_funnel_ready(top.get()), 0u);
  put_ok(b.get(), 7, 11);
  EXPECT_EQ(lox_funnel_ready(top.get()), 1u);
  put_ok(b.get(), 7, 12);
  EXPECT_EQ(lox_funnel_ready(top.get()), 2u);
  Set s = get_set(top.get());
  ASSERT_EQ(s.rc, LOX_OK);
  EXPECT_EQ(s.jid, 7u);
  EXPECT_EQ(ints(s), (V{1, 11})) << "the first put was overwritten";
  s = get_set(top.get());
  ASSERT_EQ(s.rc, LOX_OK);
  EXPECT_EQ(ints(s), (V{2, 12}));
  EXPECT_EQ(get_set(top.get()).rc, LOX_TIMEOUT);
  put_ok(b.get(), 7, 13);
  s = get_set(top.get());
  ASSERT_EQ(s.rc, LOX_OK);
  EXPECT_EQ(ints(s), (V{3, 13}));
}

TEST(Funnel, AnInputSubscribedLaterMakesPendingSetsWaitForIt) {
  Funnel top = make_funnel();
  Funnel a = add_input(top.get());
  Funnel b = add_input(top.get());
  put_ok(a.get(), 1, 10);
  put_ok(b.get(), 2, 21);
  put_ok(a.get(), 5, 50);
  put_ok(b.get(), 5, 51);  // complete before the new input: stays complete
  EXPECT_EQ(lox_funnel_ready(top.get()), 1u);
  Funnel c = add_input(b.get());
  EXPECT_EQ(lox_funnel_index(c.get()), 2);
  EXPECT_EQ(lox_funnel_ready(top.get()), 1u);
  put_ok(b.get(), 1, 11);  // job 1 now also waits for c
  EXPECT_EQ(lox_funnel_ready(top.get()), 1u);
  Set s = get_set(top.get());
  ASSERT_EQ(s.rc, LOX_OK);
  EXPECT_EQ(s.jid, 5u);
  EXPECT_EQ(ints(s), (V{50, 51}));
  EXPECT_EQ(get_set(top.get()).rc, LOX_TIMEOUT) << "job 1 completed without the new input";
  put_ok(c.get(), 1, 12);
  s = get_set(top.get());
  ASSERT_EQ(s.rc, LOX_OK);
  EXPECT_EQ(s.jid, 1u);
  EXPECT_EQ(ints(s), (V{10, 11, 12}));
  put_ok(c.get(), 2, 22);
  EXPECT_EQ(get_set(top.get()).rc, LOX_TIMEOUT);
  put_ok(a.get(), 2, 20);
  s = get_set(top.get());
  ASSERT_EQ(s.rc, LOX_OK);
  EXPECT_EQ(s.jid, 2u);
  EXPECT_EQ(ints(s), (V{20, 21, 22}));
}

// ------------------------------------------------------------------ get --

TEST(FunnelGet, TooSmallCapacityConsumesNothing) {
  Funnel top = make_funnel();
  std::vector<Funnel> in;
  for (int i = 0; i < 3; ++i) in.push_back(add_input(top.get()));
  for (int i = 0; i < 3; ++i) put_ok(in[i].get(), 9, i + 1);
  void* items[3] = {to_ptr(-1), to_ptr(-1), to_ptr(-1)};
  size_t count = 0;
  unsigned long long jid = 0;
  prime_detail();
  EXPECT_EQ(lox_funnel_get(top.get(), 0, &jid, items, 2, &count), LOX_EINVAL);
  EXPECT_DETAIL2("funnel", "get");
  EXPECT_EQ(count, 3u) << "*count tells the set's size";
  EXPECT_EQ(lox_funnel_ready(top.get()), 1u) << "nothing consumed";
  count = 0;
  EXPECT_EQ(lox_funnel_get(top.get(), LOX_FOREVER, &jid, nullptr, 0, &count), LOX_EINVAL) << "asking for the size";
  EXPECT_EQ(count, 3u);
  EXPECT_EQ(lox_funnel_ready(top.get()), 1u);
  ASSERT_EQ(lox_funnel_get(top.get(), 0, &jid, items, 3, &count), LOX_OK);
  EXPECT_EQ(count, 3u);
  EXPECT_EQ(jid, 9u);
  EXPECT_EQ(from_ptr(items[0]), 1);
  EXPECT_EQ(from_ptr(items[1]), 2);
  EXPECT_EQ(from_ptr(items[2]), 3);
  EXPECT_EQ(lox_funnel_ready(top.get()), 0u);
}

TEST(FunnelGet, LargerCapacityIsFine) {
  Funnel top = make_funnel();
  Funnel a = add_input(top.get());
  put_ok(a.get(), 1, 5);
  Set s = get_set(top.get(), 0, 100);
  ASSERT_EQ(s.rc, LOX_OK);
  EXPECT_EQ(ints(s), V{5});
}

TEST(FunnelGet, OnAnInputIsAStateError) {
  Funnel top = make_funnel();
  Funnel a = add_input(top.get());
  put_ok(a.get(), 1, 5);
  void* item = nullptr;
  size_t count = 77;
  prime_detail();
  EXPECT_EQ(lox_funnel_get(a.get(), 0, nullptr, &item, 1, &count), LOX_ESTATE);
  EXPECT_DETAIL2("funnel", "get");
  EXPECT_EQ(lox_funnel_get(a.get(), LOX_FOREVER, nullptr, &item, 1, &count), LOX_ESTATE) << "does not wait";
  EXPECT_EQ(lox_funnel_ready(top.get()), 1u);
}

TEST(FunnelGet, TimeoutWithNothingComplete) {
  Funnel top = make_funnel();
  EXPECT_EQ(get_set(top.get(), 0).rc, LOX_TIMEOUT) << "no inputs at all";
  Funnel a = add_input(top.get());
  Funnel b = add_input(top.get());
  put_ok(a.get(), 1, 1);
  auto t0 = Clock::now();
  void* items[2] = {to_ptr(-1), to_ptr(-1)};
  size_t count = 42;
  unsigned long long jid = 43;
  EXPECT_EQ(lox_funnel_get(top.get(), 0.05, &jid, items, 2, &count), LOX_TIMEOUT);
  auto took = Clock::now() - t0;
  EXPECT_GE(took, 45ms);
  EXPECT_LT(took, 10s);
  EXPECT_EQ(jid, 43u);
  EXPECT_EQ(count, 42u);
  EXPECT_EQ(from_ptr(items[0]), -1);
  put_ok(b.get(), 1, 2);
  EXPECT_EQ(ints(get_set(top.get())), (V{1, 2})) << "the timed-out get left no trace";
}

TEST(FunnelGet, BlockedGetReceivesASetCompletedByAnotherThread) {
  Funnel top = make_funnel();
  Funnel a = add_input(top.get());
  Funnel b = add_input(top.get());
  put_ok(a.get(), 3, 1);
  Set got;
  Sleeper s([&] { got = get_set(top.get(), LOX_FOREVER); });
  ASSERT_TRUE(s.wait_asleep());
  std::thread([&] { put_ok(b.get(), 3, 2); }).join();
  s.join();
  ASSERT_EQ(got.rc, LOX_OK);
  EXPECT_EQ(got.jid, 3u);
  EXPECT_EQ(ints(got), (V{1, 2}));
}

TEST(FunnelGet, TwoBlockedGettersEachGetOneSet) {
  Funnel top = make_funnel();
  Funnel a = add_input(top.get());
  Set g1, g2;
  Sleeper s1([&] { g1 = get_set(top.get(), 30.0); });
  ASSERT_TRUE(s1.wait_asleep());
  Sleeper s2([&] { g2 = get_set(top.get(), LOX_FOREVER); });
  ASSERT_TRUE(s2.wait_asleep());
  put_ok(a.get(), 1, 1);
  put_ok(a.get(), 2, 2);
  s1.join();
  s2.join();
  ASSERT_EQ(g1.rc, LOX_OK);
  ASSERT_EQ(g2.rc, LOX_OK);
  EXPECT_NE(g1.jid, g2.jid);
  EXPECT_EQ(ints(g1).at(0) + ints(g2).at(0), 3);
}

// --------------------------------------------------------------- errors --

TEST(FunnelBadInput, PutOnTheTopIsAStateError) {
  Funnel top = make_funnel();
  Funnel a = add_input(top.get());
  prime_detail();
  EXPECT_EQ(lox_funnel_put(top.get(), 1, to_ptr(1), 0), LOX_ESTATE);
  EXPECT_DETAIL2("funnel", "put");
  EXPECT_EQ(lox_funnel_put(top.get(), 1, to_ptr(1), LOX_FOREVER), LOX_ESTATE);
  put_ok(a.get(), 1, 2);
  Set s = get_set(top.get());
  ASSERT_EQ(s.rc, LOX_OK);
  EXPECT_EQ(ints(s), V{2}) << "the refused put left something behind";
  Funnel lonely = make_funnel();
  EXPECT_EQ(lox_funnel_put(lonely.get(), 1, nullptr, 0), LOX_ESTATE) << "also without inputs";
}

TEST(FunnelBadInput, NullAndNaN) {
  lox_funnel* f = reinterpret_cast<lox_funnel*>(1);
  prime_detail();
  EXPECT_EQ(lox_funnel_create(nullptr), LOX_EINVAL);
  EXPECT_DETAIL2("funnel", "create");
  Funnel top = make_funnel();
  Funnel a = add_input(top.get());
  Funnel b = add_input(top.get());
  prime_detail();
  EXPECT_EQ(lox_funnel_subscribe(nullptr, &f), LOX_EINVAL);
  EXPECT_DETAIL2("funnel", "subscribe");
  prime_detail();
  EXPECT_EQ(lox_funnel_subscribe(top.get(), nullptr), LOX_EINVAL);
  EXPECT_DETAIL2("funnel", "subscribe");
  EXPECT_EQ(f, reinterpret_cast<lox_funnel*>(1));
  EXPECT_EQ(lox_funnel_inputs(top.get()), 2u) << "a refused subscribe added an input";
  prime_detail();
  EXPECT_EQ(lox_funnel_put(nullptr, 1, nullptr, 0), LOX_EINVAL);
  EXPECT_DETAIL2("funnel", "put");
  prime_detail();
  EXPECT_EQ(lox_funnel_put(a.get(), 1, to_ptr(5), kNaN), LOX_EINVAL);
  EXPECT_DETAIL2("funnel put", "NaN");
  put_ok(b.get(), 1, 6);
  EXPECT_EQ(lox_funnel_ready(top.get()), 0u) << "the NaN put was kept";
  void* items[2] = {to_ptr(-1), to_ptr(-1)};
  size_t count = 0;
  unsigned long long jid = 0;
  prime_detail();
  EXPECT_EQ(lox_funnel_get(nullptr, 0, &jid, items, 2, &count), LOX_EINVAL);
  EXPECT_DETAIL2("funnel", "get");
  put_ok(a.get(), 1, 5);  // complete now
  prime_detail();
  EXPECT_EQ(lox_funnel_get(top.get(), 0, &jid, items, 2, nullptr), LOX_EINVAL);
  EXPECT_DETAIL2("funnel", "get");
  prime_detail();
  EXPECT_EQ(lox_funnel_get(top.get(), 0, &jid, nullptr, 2, &count), LOX_EINVAL);
  EXPECT_DETAIL2("funnel", "get");
  prime_detail();
  EXPECT_EQ(lox_funnel_get(top.get(), kNaN, &jid, items, 2, &count), LOX_EINVAL);
  EXPECT_DETAIL2("funnel get", "NaN");
  EXPECT_EQ(from_ptr(items[0]), -1);
  EXPECT_EQ(lox_funnel_ready(top.get()), 1u) << "a refused get consumed the set";
  prime_detail();
  EXPECT_EQ(lox_funnel_inputs(nullptr), 0u);
  EXPECT_DETAIL2("funnel", "inputs");
  prime_detail();
  EXPECT_EQ(lox_funnel_ready(nullptr), 0u);
  EXPECT_DETAIL2("funnel", "ready");
  prime_detail();
  EXPECT_EQ(lox_funnel_index(nullptr), -1);
  EXPECT_DETAIL2("funnel", "index");
  lox_funnel_destroy(nullptr);
  Set s = get_set(top.get());
  ASSERT_EQ(s.rc, LOX_OK);
  EXPECT_EQ(ints(s), (V{5, 6}));
}

// -------------------------------------------------------------- destroy --

TEST(FunnelDestroy, TopFirst) {
  lox_funnel* top = nullptr;
  ASSERT_EQ(lox_funnel_create(&top), LOX_OK);
  Funnel a = add_input(top);
  Funnel b = add_input(top);
  put_ok(a.get(), 1, 1);
  put_ok(b.get(), 1, 2);  // a complete set nobody will get
  put_ok(a.get(), 2, 3);  // and a pending one
  lox_funnel_destroy(top);
  // The inputs still work (their sets just pile up) and still know the funnel.
  put_ok(b.get(), 2, 4);
  put_ok(a.get(), 3, 5);
  EXPECT_EQ(lox_funnel_inputs(a.get()), 2u);
  EXPECT_EQ(lox_funnel_index(b.get()), 1);
  EXPECT_EQ(lox_funnel_ready(a.get()), 2u);
  Funnel c = add_input(a.get());
  EXPECT_EQ(lox_funnel_index(c.get()), 2);
}

TEST(FunnelDestroy, InputsFirst) {
  Funnel top = make_funnel();
  lox_funnel* a = nullptr;
  lox_funnel* b = nullptr;
  ASSERT_EQ(lox_funnel_subscribe(top.get(), &a), LOX_OK);
  ASSERT_EQ(lox_funnel_subscribe(top.get(), &b), LOX_OK);
  put_ok(a, 1, 1);
  put_ok(b, 1, 2);
  put_ok(a, 2, 3);  // pending forever: b is about to go
  lox_funnel_destroy(a);
  lox_funnel_destroy(b);
  EXPECT_EQ(lox_funnel_inputs(top.get()), 2u) << "destroyed inputs keep their numbers";
  Set s = get_set(top.get());
  ASSERT_EQ(s.rc, LOX_OK) << "a set completed before the inputs went is still there";
  EXPECT_EQ(ints(s), (V{1, 2}));
  EXPECT_EQ(get_set(top.get()).rc, LOX_TIMEOUT);
  // A new input is number 2, and sets still need the destroyed inputs.
  Funnel c = add_input(top.get());
  EXPECT_EQ(lox_funnel_index(c.get()), 2);
  put_ok(c.get(), 2, 4);
  EXPECT_EQ(get_set(top.get()).rc, LOX_TIMEOUT);
  EXPECT_EQ(lox_funnel_ready(top.get()), 0u);
}

TEST(FunnelDestroy, OneInputGoneSetsStillNeedIt) {
  Funnel top = make_funnel();
  lox_funnel* a = nullptr;
  ASSERT_EQ(lox_funnel_subscribe(top.get(), &a), LOX_OK);
  Funnel b = add_input(top.get());
  lox_funnel_destroy(a);
  put_ok(b.get(), 1, 1);
  EXPECT_EQ(lox_funnel_ready(top.get()), 0u);
  EXPECT_EQ(get_set(top.get()).rc, LOX_TIMEOUT);
}

TEST(FunnelDestroy, BlockedGetterOfTheTopGetsEState) {
  LogCapture cap;
  lox_funnel* top = nullptr;
  ASSERT_EQ(lox_funnel_create(&top), LOX_OK);
  Funnel a = add_input(top);
  Funnel b = add_input(top);
  put_ok(a.get(), 1, 1);
  Set got;
  std::string d;
  Sleeper s([&] {
    got = get_set(top, LOX_FOREVER);
    d = lox_last_error();
  });
  ASSERT_TRUE(s.wait_asleep());
  lox_funnel_destroy(top);
  s.join();
  EXPECT_EQ(got.rc, LOX_ESTATE);
  EXPECT_EQ(got.jid, 999999u) << "jid untouched";
  EXPECT_NE(d.find("get"), std::string::npos) << d;
  EXPECT_TRUE(has_error_log(cap, "funnel", "destroy"));
  put_ok(b.get(), 1, 2);  // the inputs live on
}

TEST(FunnelDestroy, NoWaitersNoErrorLog) {
  LogCapture cap;
  for (int order = 0; order < 2; ++order) {
    lox_funnel* top = nullptr;
    ASSERT_EQ(lox_funnel_create(&top), LOX_OK);
    lox_funnel* a = nullptr;
    ASSERT_EQ(lox_funnel_subscribe(top, &a), LOX_OK);
    lox_funnel* b = nullptr;
    ASSERT_EQ(lox_funnel_subscribe(a, &b), LOX_OK);
    for (unsigned long long j = 0; j < 100; ++j) put_ok(a, j, 1);
    for (unsigned long long j = 0; j < 50; ++j) put_ok(b, j, 2);
    if (order == 0) {
      lox_funnel_destroy(top);
      lox_funnel_destroy(a);
      lox_funnel_destroy(b);
    } else {
      lox_funnel_destroy(b);
      lox_funnel_destroy(a);
      lox_funnel_destroy(top);
    }
  }
  EXPECT_FALSE(has_any_error_log(cap));
}

}  // namespace
