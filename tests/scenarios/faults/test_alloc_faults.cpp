// SPDX-License-Identifier: Apache-2.0
// Allocation failure: every allocating call of the C
// ABI is run with its 1st, 2nd, 3rd, ... allocation failing (alloc_hook.cpp
// replaces operator new for liblox.so too) until a run completes without the
// fault firing. Each run must return LOX_OK or LOX_ENOMEM with the "out of
// memory" detail, nothing else; a LOX_ENOMEM call must change nothing (the
// object stays usable and holds exactly what the successful calls put in).
// Faults on liblox's own worker threads are not injected (the countdown is
// per thread and only the test thread arms it).
#include <lox/lox.h>

#include <gtest/gtest.h>

#include <pthread.h>

#include <cstring>
#include <string>
#include <vector>

#include "alloc_hook.hpp"
#include "fault_util.hpp"
#include "test_util.hpp"

namespace {

using loxtest::from_ptr;
using loxtest::to_ptr;

// A forked child (a process pool's fork server) starts disarmed: a fault
// meant for this process must not fire in another one.
const bool g_atfork = [] {
  pthread_atfork(nullptr, nullptr, [] { loxfault::fail_nth_allocation(0); });
  return true;
}();

// Runs `call()` (returning a lox status) with its n-th allocation failing,
// for n = 1, 2, ... until a run completes without the fault firing, and
// hands every status to `after(rc)` (which records what a LOX_OK did).
// Returns the number of faults injected. With `stop_on_ok`, the first LOX_OK
// ends the loop (for calls whose repetition would change what is checked).
template <typename Call, typename After>
long inject(const char* what, Call&& call, After&& after, bool stop_on_ok = false) {
  long injected = 0;
  for (long n = 1; n < 100000; ++n) {
    loxfault::fail_nth_allocation(n);
    const int rc = call();
    const bool fired = loxfault::disarm_allocation_fault();
    if (rc < 0) {  // LOX_TIMEOUT (an empty queue's get) is an outcome, not an error
      EXPECT_EQ(rc, LOX_ENOMEM) << what << " with allocation " << n << " failing: " << lox_last_error();
      EXPECT_TRUE(fired) << what << " returned " << rc << " without an injected fault: " << lox_last_error();
      EXPECT_NE(std::strstr(lox_last_error(), "out of memory"), nullptr) << what << ": " << lox_last_error();
    }
    after(rc);
    if (fired) ++injected;
    if (!fired || (stop_on_ok && rc >= 0)) {
      EXPECT_GE(rc, 0) << what << ": " << lox_last_error();
      return injected;
    }
  }
  ADD_FAILURE() << what << " still allocating after 100000 faults";
  return injected;
}

template <typename Call>
long inject(const char* what, Call&& call) {
  return inject(what, call, [](int) {});
}

class AllocFaults : public testing::Test {
 protected:
  void SetUp() override {
    lox_log_set_level(LOX_LOG_OFF);  // failed workers and rounds are logged on purpose
  }
  void TearDown() override {
    lox_log_set_level(LOX_LOG_WARN);
    EXPECT_TRUE(loxfault::no_children_left());
  }
};

// The hook is live and reaches liblox.so: the very first allocation of a
// queue's creation fails.
TEST_F(AllocFaults, HookReachesTheLibrary) {
  const long before = loxfault::allocation_faults_injected();
  lox_queue* q = nullptr;
  loxfault::fail_nth_allocation(1);
  const int rc = lox_queue_create(0, &q);
  EXPECT_TRUE(loxfault::disarm_allocation_fault());
  EXPECT_EQ(rc, LOX_ENOMEM) << lox_last_error();
  EXPECT_EQ(q, nullptr);
  EXPECT_EQ(loxfault::allocation_faults_injected(), before + 1);
}

TEST_F(AllocFaults, CreatesOfEveryObject) {
  long faults = 0;
  auto created = [](auto*& handle, auto destroy) {
    return [&handle, destroy](int rc) {
      if (rc == LOX_OK) {
        EXPECT_NE(handle, nullptr);
        destroy(handle);
      } else {
        EXPECT_EQ(handle, nullptr);  // an error changes nothing, not even *out
      }
      handle = nullptr;
    };
  };
  lox_thread* tp = nullptr;
  faults += inject(
      "thread create", [&] { return lox_thread_create(4, loxtest::identity_task, nullptr, &tp); },
      created(tp, lox_thread_destroy));
  lox_lock* l = nullptr;
  faults += inject(
      "lock create", [&] { return lox_lock_create(&l); }, created(l, lox_lock_destroy));
  lox_rwlock* rw = nullptr;
  faults += inject(
      "rwlock create", [&] { return lox_rwlock_create(&rw); }, created(rw, lox_rwlock_destroy));
  lox_qlock* ql = nullptr;
  faults += inject(
      "qlock create", [&] { return lox_qlock_create(&ql); }, created(ql, lox_qlock_destroy));
  lox_index_semaphore* is = nullptr;
  faults += inject(
      "index semaphore create", [&] { return lox_index_semaphore_create(8, &is); },
      created(is, lox_index_semaphore_destroy));
  lox_lock* base = nullptr;
  ASSERT_EQ(lox_lock_create(&base), LOX_OK);
  lox_lightswitch* ls = nullptr;
  faults += inject(
      "lightswitch create", [&] { return lox_lightswitch_create(base, &ls); }, created(ls, lox_lightswitch_destroy));
  lox_lock_destroy(base);
  for (size_t maxsize : {size_t{0}, size_t{16}, size_t{100000}}) {
    lox_queue* q = nullptr;
    faults += inject(
        "queue create", [&] { return lox_queue_create(maxsize, &q); }, created(q, lox_queue_destroy));
  }
  lox_announcement* a = nullptr;
  faults += inject(
      "announcement create", [&] { return lox_announcement_create(0, LOX_BACKLOG_UNBOUNDED, &a); },
      created(a, lox_announcement_destroy));
  lox_funnel* f = nullptr;
  faults += inject(
      "funnel create", [&] { return lox_funnel_create(&f); }, created(f, lox_funnel_destroy));
  EXPECT_GT(faults, 10);
  loxfault::report("alloc", "creates", faults);
}

// Locks made under faults work; their acquire/release paths allocate
// nothing (or cope): every call is checked the same way.
TEST_F(AllocFaults, LockOperations) {
  lox_lock* l = nullptr;
  ASSERT_EQ(lox_lock_create(&l), LOX_OK);
  lox_rwlock* rw = nullptr;
  ASSERT_EQ(lox_rwlock_create(&rw), LOX_OK);
  lox_qlock* q = nullptr;
  ASSERT_EQ(lox_qlock_create(&q), LOX_OK);
  lox_index_semaphore* s = nullptr;
  ASSERT_EQ(lox_index_semaphore_create(2, &s), LOX_OK);
  long faults = 0;
  for (int round = 0; round < 50; ++round) {
    faults += inject(
        "lock acquire", [&] { return lox_lock_acquire(l, 1.0); }, [](int) {}, true);
    EXPECT_EQ(lox_lock_locked(l), 1);
    faults += inject(
        "lock release", [&] { return lox_lock_release(l); }, [](int) {}, true);
    faults += inject(
        "rwlock read", [&] { return lox_rwlock_acquire(rw, LOX_READ, 1.0); }, [](int) {}, true);
    EXPECT_EQ(lox_rwlock_readers(rw), 1u);
    faults += inject(
        "rwlock release", [&] { return lox_rwlock_release(rw, LOX_READ); }, [](int) {}, true);
    faults += inject(
        "rwlock write", [&] { return lox_rwlock_acquire(rw, LOX_WRITE, 1.0); }, [](int) {}, true);
    faults += inject(
        "rwlock release", [&] { return lox_rwlock_release(rw, LOX_WRITE); }, [](int) {}, true);
    faults += inject(
        "qlock acquire", [&] { return lox_qlock_acquire(q, 1.0); }, [](int) {}, true);
    faults += inject(
        "qlock release", [&] { return lox_qlock_release(q); }, [](int) {}, true);
    size_t idx = 99;
    faults += inject(
        "index acquire", [&] { return lox_index_semaphore_acquire(s, 1.0, &idx); }, [](int) {}, true);
    EXPECT_EQ(idx, 0u);
    faults += inject(
        "index release", [&] { return lox_index_semaphore_release(s, idx); }, [](int) {}, true);
  }
  EXPECT_EQ(lox_lock_locked(l), 0);
  EXPECT_EQ(lox_qlock_locked(q), 0);
  EXPECT_EQ(lox_index_semaphore_available(s), 2u);
  lox_index_semaphore_destroy(s);
  lox_qlock_destroy(q);
  lox_rwlock_destroy(rw);
  lox_lock_destroy(l);
  loxfault::report("alloc", "lock acquire/release", faults);
}

// Scatter under faults: every attempt scatters a new value; the round holds
// exactly the values of the attempts that returned LOX_OK, in order.
TEST_F(AllocFaults, ThreadScatterAndGather) {
  auto pool = loxtest::make_pool(4, loxtest::identity_task);
  long faults = 0;
  for (int round = 0; round < 3; ++round) {
    std::vector<intptr_t> expected;
    intptr_t next = 1;
    for (int i = 0; i < 3000; ++i) {
      intptr_t v = 0;
      faults += inject(
          "thread scatter", [&] { return lox_thread_scatter(pool.get(), to_ptr(v = next++), nullptr); },
          [&](int rc) {
            if (rc == LOX_OK) expected.push_back(v);
          });
    }
    // The gather: a failed one must leave the round to the next try.
    lox_results* r = nullptr;
    lox_gather_opts o;
    lox_gather_opts_init(&o);
    o.timeout = std::chrono::duration<double>(loxtest::kMust).count();  // a lost task fails, not hangs
    faults += inject(
        "thread gather", [&] { return lox_thread_gather(pool.get(), &o, &r); }, [](int) {}, true);
    ASSERT_NE(r, nullptr) << lox_last_error();
    loxtest::Results owned(r);
    EXPECT_EQ(loxtest::values(r), expected) << "round " << round;
  }
  EXPECT_GT(faults, 0);
  loxfault::report("alloc", "thread scatter/gather", faults);
}

// A queue holds exactly the items whose put returned LOX_OK, in order, for
// each storage kind (growing blocks, preallocated ring, segments).
TEST_F(AllocFaults, QueuePutGet) {
  long faults = 0;
  for (size_t maxsize : {size_t{0}, size_t{5000}, size_t{100000}}) {
    lox_queue* q = nullptr;
    ASSERT_EQ(lox_queue_create(maxsize, &q), LOX_OK);
    std::vector<intptr_t> expected;
    intptr_t next = 1;
    for (int i = 0; i < 4000; ++i) {
      intptr_t v = 0;
      faults += inject(
          "queue put", [&] { return lox_queue_put(q, to_ptr(v = next++), 0); },
          [&](int rc) {
            if (rc == LOX_OK) expected.push_back(v);
          });
    }
    EXPECT_EQ(lox_queue_size(q), expected.size());
    std::vector<intptr_t> got;
    for (;;) {
      void* item = nullptr;
      int last = LOX_OK;
      faults += inject(
          "queue get", [&] { return last = lox_queue_get(q, &item, 0); },
          [&](int rc) {
            if (rc == LOX_OK) got.push_back(from_ptr(item));
          },
          true);
      if (last == LOX_TIMEOUT) break;
    }
    EXPECT_EQ(got, expected) << "maxsize " << maxsize;
    lox_queue_destroy(q);
  }
  loxfault::report("alloc", "queue put/get", faults);
}

// Announcement: subscribers made under faults each receive exactly the
// items whose put returned LOX_OK; a late subscriber gets them from the
// backlog; a clone made under faults publishes to all of them and to the
// creator (a member, which gets nothing of its own puts).
TEST_F(AllocFaults, Announcement) {
  long faults = 0;
  lox_announcement* pub = nullptr;
  ASSERT_EQ(lox_announcement_create(0, LOX_BACKLOG_UNBOUNDED, &pub), LOX_OK);
  std::vector<lox_announcement*> subs;
  auto subscribe = [&] {
    lox_announcement* s = nullptr;
    faults += inject(
        "announcement subscribe", [&] { return lox_announcement_subscribe(pub, 0, 0, &s); },
        [&](int rc) {
          if (rc == LOX_OK) subs.push_back(std::exchange(s, nullptr));
          EXPECT_EQ(s, nullptr);
        });
  };
  subscribe();
  const size_t early = subs.size();
  std::vector<intptr_t> expected;
  intptr_t next = 1;
  for (int i = 0; i < 2000; ++i) {
    intptr_t v = 0;
    faults += inject(
        "announcement put", [&] { return lox_announcement_put(pub, to_ptr(v = next++), 0); },
        [&](int rc) {
          if (rc == LOX_OK) expected.push_back(v);
        });
  }
  subscribe();  // late: everything comes from the backlog
  std::vector<lox_announcement*> clones;
  lox_announcement* c = nullptr;
  faults += inject(
      "announcement clone", [&] { return lox_announcement_clone(pub, &c); },
      [&](int rc) {
        if (rc == LOX_OK) clones.push_back(std::exchange(c, nullptr));
      });
  ASSERT_FALSE(clones.empty());
  intptr_t v = 0;
  std::vector<intptr_t> from_clone;
  faults += inject(
      "announcement put (clone)", [&] { return lox_announcement_put(clones.back(), to_ptr(v = next++), 0); },
      [&](int rc) {
        if (rc == LOX_OK) {
          expected.push_back(v);
          from_clone.push_back(v);
        }
      });
  EXPECT_GT(subs.size(), early);
  EXPECT_EQ(lox_announcement_subscribers(pub), subs.size() + 1) << "the subscribers and the creator";
  {
    std::vector<intptr_t> got;
    void* item = nullptr;
    while (lox_announcement_get(pub, &item, 0) == LOX_OK) got.push_back(from_ptr(item));
    EXPECT_EQ(got, from_clone) << "the creator";
  }
  for (size_t i = 0; i < subs.size(); ++i) {
    std::vector<intptr_t> got;
    void* item = nullptr;
    while (lox_announcement_get(subs[i], &item, 0) == LOX_OK) got.push_back(from_ptr(item));
    EXPECT_EQ(got, expected) << "subscriber " << i;
    lox_announcement_destroy(subs[i]);
  }
  for (auto* h : clones) lox_announcement_destroy(h);
  lox_announcement_destroy(pub);
  EXPECT_GT(faults, 0);
  loxfault::report("alloc", "announcement subscribe/put/clone", faults);
}

// Funnel: every put retried until LOX_OK;
// every job's set comes out exactly once, items in input order.
TEST_F(AllocFaults, Funnel) {
  long faults = 0;
  lox_funnel* top = nullptr;
  ASSERT_EQ(lox_funnel_create(&top), LOX_OK);
  std::vector<lox_funnel*> inputs(3);
  for (auto*& in : inputs) ASSERT_EQ(lox_funnel_subscribe(top, &in), LOX_OK);
  constexpr unsigned long long kJobs = 500;
  for (unsigned long long jid = 0; jid < kJobs; ++jid)
    for (size_t i = 0; i < inputs.size(); ++i)
      faults += inject(
          "funnel put", [&] { return lox_funnel_put(inputs[i], jid, to_ptr(static_cast<intptr_t>(jid * 10 + i)), 0); },
          [](int) {}, true);
  EXPECT_EQ(lox_funnel_ready(top), kJobs);
  std::vector<bool> seen(kJobs, false);
  for (unsigned long long n = 0; n < kJobs; ++n) {
    unsigned long long jid = ~0ULL;
    void* items[3] = {};
    size_t count = 0;
    ASSERT_EQ(lox_funnel_get(top, 0, &jid, items, 3, &count), LOX_OK) << lox_last_error();
    ASSERT_LT(jid, kJobs);
    EXPECT_FALSE(seen[jid]) << "job " << jid << " twice";
    seen[jid] = true;
    ASSERT_EQ(count, inputs.size());
    for (size_t i = 0; i < count; ++i) EXPECT_EQ(from_ptr(items[i]), static_cast<intptr_t>(jid * 10 + i));
  }
  EXPECT_EQ(lox_funnel_ready(top), 0u);
  for (auto* in : inputs) lox_funnel_destroy(in);
  lox_funnel_destroy(top);
  EXPECT_GT(faults, 0);
  loxfault::report("alloc", "funnel put", faults);
}

// Funnel subscribe under faults: a subscribe that returns LOX_ENOMEM adds
// no input (an input added without its handle would make every later set
// wait for an input nobody holds).
TEST_F(AllocFaults, FunnelSubscribe) {
  long faults = 0;
  lox_funnel* top = nullptr;
  ASSERT_EQ(lox_funnel_create(&top), LOX_OK);
  std::vector<lox_funnel*> inputs;
  for (int i = 0; i < 3; ++i) {
    lox_funnel* in = nullptr;
    faults += inject(
        "funnel subscribe", [&] { return lox_funnel_subscribe(top, &in); },
        [&](int rc) {
          if (rc == LOX_OK) inputs.push_back(std::exchange(in, nullptr));
        },
        true);
  }
  EXPECT_EQ(lox_funnel_inputs(top), inputs.size());
  for (auto* in : inputs) lox_funnel_destroy(in);
  lox_funnel_destroy(top);
  loxfault::report("alloc", "funnel subscribe", faults);
}

// Process pool: create under faults leaves no process, thread or
// descriptor behind; scatter and gather under faults lose nothing.
int echo_task(void*, const void* in, size_t len, lox_buffer* out) { return lox_buffer_append(out, in, len); }

TEST_F(AllocFaults, ProcessPool) {
  long faults = 0;
  lox_process* p = nullptr;
  faults += inject(
      "process create", [&] { return lox_process_create(2, echo_task, nullptr, &p); },
      [&](int rc) {
        if (rc == LOX_OK) lox_process_destroy(std::exchange(p, nullptr));
        EXPECT_EQ(p, nullptr);
      });
  EXPECT_TRUE(loxfault::no_children_left());
  ASSERT_EQ(lox_process_create(2, echo_task, nullptr, &p), LOX_OK) << lox_last_error();
  for (int round = 0; round < 2; ++round) {
    std::vector<std::string> expected;
    int next = 0;
    for (int i = 0; i < 300; ++i) {
      char in[32];
      int len = 0;
      faults += inject(
          "process scatter",
          [&] {
            len = std::snprintf(in, sizeof in, "task %d", next++);  // no allocation of ours in the count
            return lox_process_scatter(p, in, static_cast<size_t>(len), nullptr);
          },
          [&](int rc) {
            if (rc == LOX_OK) expected.emplace_back(in, static_cast<size_t>(len));
          });
    }
    lox_results* r = nullptr;
    lox_gather_opts o;
    lox_gather_opts_init(&o);
    o.timeout = std::chrono::duration<double>(loxtest::kMust).count();
    faults += inject(
        "process gather", [&] { return lox_process_gather(p, &o, &r); }, [](int) {}, true);
    ASSERT_NE(r, nullptr) << lox_last_error();
    loxtest::Results owned(r);
    ASSERT_EQ(lox_results_count(r), expected.size()) << "round " << round;
    for (size_t i = 0; i < expected.size(); ++i) {
      const void* data = nullptr;
      size_t len = 0;
      ASSERT_EQ(lox_results_status(r, i), 0) << lox_results_error(r, i);
      ASSERT_EQ(lox_results_bytes(r, i, &data, &len), LOX_OK);
      EXPECT_EQ(std::string(static_cast<const char*>(data), len), expected[i]);
    }
  }
  lox_process_destroy(p);
  EXPECT_GT(faults, 0);
  loxfault::report("alloc", "process create/scatter/gather", faults);
}

}  // namespace
