// SPDX-License-Identifier: Apache-2.0
// Logging (lox.h, "Logging"): failed tasks and misuse are logged, the level
// filters, out-of-range levels are clamped, a callback replaces the default
// stderr sink and NULL restores it, and LOX_LOG_LEVEL sets the initial level
// when the library first logs.
//
// LOX_LOG_LEVEL is read once per process, so it is tested in child
// processes: the parent re-executes this very binary with
// LOX_TEST_LOG_CHILD set; a static initializer below notices, runs the
// check before GoogleTest starts and exits with 0 (pass) or a code saying
// what was wrong.
#include <lox/lox.h>

#include <gtest/gtest.h>

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "test_util.hpp"

extern char** environ;

using namespace loxtest;

namespace {

// Makes the next gather on a pool return LOX_ETASK (task 1 of 3 fails with 7).
int fail_second(void*, void* arg, void** result) {
  *result = arg;
  return from_ptr(arg) == 1 ? 7 : 0;
}

int gather_with_a_failed_task() {
  lox_thread* p = nullptr;
  if (lox_thread_create(2, fail_second, nullptr, &p) != LOX_OK) return -100;
  for (intptr_t i = 0; i < 3; ++i) lox_thread_scatter(p, to_ptr(i), nullptr);
  lox_results* r = nullptr;
  int rc = lox_thread_gather(p, nullptr, &r);
  lox_results_destroy(r);
  lox_thread_destroy(p);
  return rc;
}

// Logs an ERROR: lox_thread_destroy from inside one of the pool's tasks.
int destroy_self(void* ctx, void*, void**) {
  lox_thread_destroy(*static_cast<lox_thread**>(ctx));
  return 0;
}
void provoke_error_log() {
  lox_thread* p = nullptr;
  ASSERT_EQ(lox_thread_create(1, destroy_self, &p, &p), LOX_OK);
  ASSERT_EQ(lox_thread_scatter(p, nullptr, nullptr), LOX_OK);
  lox_results* r = nullptr;
  EXPECT_EQ(lox_thread_gather(p, nullptr, &r), LOX_OK);
  lox_results_destroy(r);
  lox_thread_destroy(p);
}

size_t count_at(const std::vector<LogCapture::Entry>& entries, int level) {
  size_t n = 0;
  for (auto& e : entries) n += e.level == level;
  return n;
}

// ------------------------------------------------------------ the callback --

TEST(Log, FailedGatherLogsAWarning) {
  LogCapture logs;
  lox_log_set_level(LOX_LOG_WARN);
  EXPECT_EQ(gather_with_a_failed_task(), LOX_ETASK);
  auto entries = logs.entries();
  ASSERT_EQ(count_at(entries, LOX_LOG_WARN), 1u) << "one WARN per failed gather";
  for (auto& e : entries) {
    if (e.level != LOX_LOG_WARN) continue;
    EXPECT_NE(e.message.find("fail"), std::string::npos) << e.message;
    EXPECT_FALSE(!e.message.empty() && e.message.back() == '\n') << "no trailing newline";
  }
}

TEST(Log, SuccessfulGatherLogsNothingAtWarn) {
  LogCapture logs;
  lox_log_set_level(LOX_LOG_WARN);
  Pool p = make_pool(2, identity_task);
  for (intptr_t i = 0; i < 10; ++i) ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr(i), nullptr), LOX_OK);
  Results r = gather_ok(p.get());
  EXPECT_TRUE(logs.entries().empty());
}

TEST(Log, MisuseIsLoggedAtError) {
  LogCapture logs;
  lox_log_set_level(LOX_LOG_WARN);
  provoke_error_log();
  auto entries = logs.entries();
  ASSERT_GE(count_at(entries, LOX_LOG_ERROR), 1u);
  bool found = false;
  for (auto& e : entries)
    if (e.level == LOX_LOG_ERROR && e.message.find("destroy") != std::string::npos) found = true;
  EXPECT_TRUE(found);
}

TEST(Log, ErrorLevelSilencesWarnings) {
  LogCapture logs;
  lox_log_set_level(LOX_LOG_ERROR);
  EXPECT_EQ(gather_with_a_failed_task(), LOX_ETASK);
  EXPECT_EQ(count_at(logs.entries(), LOX_LOG_WARN), 0u);
  // ... but not errors.
  provoke_error_log();
  EXPECT_GE(count_at(logs.entries(), LOX_LOG_ERROR), 1u);
  // Lowering the level takes effect at once.
  lox_log_set_level(LOX_LOG_WARN);
  EXPECT_EQ(gather_with_a_failed_task(), LOX_ETASK);
  EXPECT_EQ(count_at(logs.entries(), LOX_LOG_WARN), 1u);
}

TEST(Log, OffSilencesEverything) {
  LogCapture logs;
  lox_log_set_level(LOX_LOG_OFF);
  EXPECT_EQ(gather_with_a_failed_task(), LOX_ETASK);
  provoke_error_log();
  EXPECT_TRUE(logs.entries().empty());
}

TEST(Log, LevelRoundTripsAndIsClamped) {
  const int saved = lox_log_get_level();
  for (int l = LOX_LOG_TRACE; l <= LOX_LOG_OFF; ++l) {
    lox_log_set_level(l);
    EXPECT_EQ(lox_log_get_level(), l);
  }
  for (int low : {-1, -2, -100, INT_MIN}) {
    lox_log_set_level(LOX_LOG_ERROR);
    lox_log_set_level(low);
    EXPECT_EQ(lox_log_get_level(), LOX_LOG_TRACE) << low;
  }
  for (int high : {6, 7, 100, INT_MAX}) {
    lox_log_set_level(LOX_LOG_DEBUG);
    lox_log_set_level(high);
    EXPECT_EQ(lox_log_get_level(), LOX_LOG_OFF) << high;
  }
  lox_log_set_level(saved);
}

TEST(Log, ClampedLevelsFilter) {
  LogCapture logs;
  lox_log_set_level(1000);  // = OFF
  EXPECT_EQ(gather_with_a_failed_task(), LOX_ETASK);
  EXPECT_TRUE(logs.entries().empty());
  lox_log_set_level(-1000);  // = TRACE: the warning is logged
  EXPECT_EQ(gather_with_a_failed_task(), LOX_ETASK);
  EXPECT_GE(count_at(logs.entries(), LOX_LOG_WARN), 1u);
}

struct Sink {
  std::atomic<int> calls{0};
  static void fn(void* ctx, int, const char*) { static_cast<Sink*>(ctx)->calls.fetch_add(1); }
};

TEST(Log, ReplacingTheCallbackRedirectsLaterMessages) {
  QuietLog restore_level;  // restores the level at exit
  lox_log_set_level(LOX_LOG_WARN);
  Sink a, b;
  lox_log_set_callback(Sink::fn, &a);
  EXPECT_EQ(gather_with_a_failed_task(), LOX_ETASK);
  EXPECT_EQ(a.calls.load(), 1);
  lox_log_set_callback(Sink::fn, &b);
  EXPECT_EQ(gather_with_a_failed_task(), LOX_ETASK);
  EXPECT_EQ(a.calls.load(), 1) << "the previous sink got a later message";
  EXPECT_EQ(b.calls.load(), 1);
  lox_log_set_callback(nullptr, nullptr);
}

TEST(Log, NullCallbackRestoresTheDefaultStderrSink) {
  QuietLog restore_level;
  lox_log_set_level(LOX_LOG_WARN);
  Sink a;
  lox_log_set_callback(Sink::fn, &a);
  lox_log_set_callback(nullptr, nullptr);
  std::string text;
  {
    StderrCapture cap;
    EXPECT_EQ(gather_with_a_failed_task(), LOX_ETASK);
    text = cap.text();
  }
  EXPECT_EQ(a.calls.load(), 0);
  EXPECT_NE(text.find("fail"), std::string::npos) << "stderr got: \"" << text << "\"";
  EXPECT_EQ(text.find('\x1b'), std::string::npos) << "colored although stderr is not a terminal: " << text;
}

TEST(Log, DefaultSinkHonoursTheLevel) {
  QuietLog restore_level;
  lox_log_set_callback(nullptr, nullptr);
  lox_log_set_level(LOX_LOG_ERROR);
  std::string text;
  {
    StderrCapture cap;
    EXPECT_EQ(gather_with_a_failed_task(), LOX_ETASK);
    text = cap.text();
  }
  EXPECT_EQ(text, "");
}

TEST(Log, CallbackFromManyThreads) {
  // Messages logged from several threads at once all arrive, intact.
  LogCapture logs;
  lox_log_set_level(LOX_LOG_WARN);
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t)
    ts.emplace_back([] {
      for (int k = 0; k < 10; ++k) EXPECT_EQ(gather_with_a_failed_task(), LOX_ETASK);
    });
  for (auto& t : ts) t.join();
  auto entries = logs.entries();
  EXPECT_EQ(count_at(entries, LOX_LOG_WARN), 40u);
  for (auto& e : entries) EXPECT_NE(e.message.find("fail"), std::string::npos) << e.message;
}

// ------------------------------------------------ calls from the callback --

// A lock already destroyed: calls on it fail with LOX_EINVAL and log an
// ERROR (the handle check), the simplest ordinary call that itself logs.
lox_lock* destroyed_lock() {
  lox_lock* l = nullptr;
  EXPECT_EQ(lox_lock_create(&l), LOX_OK);
  lox_lock_destroy(l);
  return l;
}

// A callback that records every message and, for the first `nest` of them,
// makes a failing call that logs (from inside the callback).
struct Reentrant {
  lox_lock* dead = destroyed_lock();
  int nest = 1;
  std::mutex mu;
  std::vector<std::string> messages;
  std::vector<int> nested_rc;
  static void fn(void* ctx, int, const char* message) {
    auto* self = static_cast<Reentrant*>(ctx);
    bool call;
    {
      std::lock_guard lk(self->mu);
      self->messages.push_back(message);
      call = self->nest-- > 0;
    }
    if (call) {
      int rc = lox_lock_release(self->dead);
      std::lock_guard lk(self->mu);
      self->nested_rc.push_back(rc);
    }
  }
};

TEST(LogCallback, FailingCallInsideTheCallbackIsDeliveredAfterIt) {
  // The callback releases a destroyed lock: that call logs while the
  // callback runs. It must not deadlock, the nested message comes after the
  // outer one (not inside it), and the outer call keeps its own detail.
  QuietLog restore_level;
  lox_log_set_level(LOX_LOG_ERROR);
  Reentrant r;
  lox_log_set_callback(Reentrant::fn, &r);
  int rc = 0;
  std::string detail;
  lox_thread* p = nullptr;
  ASSERT_EQ(lox_thread_create(0, identity_task, nullptr, &p), LOX_OK);
  lox_thread_destroy(p);
  finishes_within("a log callback that makes a failing call", [&] {
    rc = lox_thread_scatter(p, nullptr, nullptr);  // logs: a destroyed pool
    detail = lox_last_error();
  });
  lox_log_set_callback(nullptr, nullptr);
  EXPECT_EQ(rc, LOX_EINVAL);
  EXPECT_NE(detail.find("thread scatter"), std::string::npos)
      << "the callback's own failing call replaced the outer call's detail: " << detail;
  ASSERT_EQ(r.nested_rc.size(), 1u);
  EXPECT_EQ(r.nested_rc[0], LOX_EINVAL);
  ASSERT_EQ(r.messages.size(), 2u);
  EXPECT_NE(r.messages[0].find("thread scatter"), std::string::npos) << r.messages[0];
  EXPECT_NE(r.messages[1].find("lock release"), std::string::npos) << r.messages[1];
}

TEST(LogCallback, CallbackThatAlwaysLogsIsBounded) {
  // Each nested message makes another: delivery stops after a bound and
  // one WARN says how many were dropped; the call returns.
  QuietLog restore_level;
  lox_log_set_level(LOX_LOG_WARN);
  Reentrant r;
  r.nest = 1000000;
  lox_log_set_callback(Reentrant::fn, &r);
  int rc = 0;
  finishes_within("a log callback that logs for every message", [&] { rc = lox_lock_release(r.dead); });
  lox_log_set_callback(nullptr, nullptr);
  EXPECT_EQ(rc, LOX_EINVAL);
  ASSERT_GE(r.messages.size(), 3u);
  EXPECT_LE(r.messages.size(), 64u) << "nested messages were not bounded";
  EXPECT_NE(r.messages.back().find("dropped"), std::string::npos) << r.messages.back();
  for (size_t i = 0; i + 1 < r.messages.size(); ++i)
    EXPECT_NE(r.messages[i].find("lock release"), std::string::npos) << r.messages[i];
}

// Replaces the callback (with `next`, or NULL) and changes the level from
// inside the callback.
struct Switcher {
  Sink* next = nullptr;
  std::atomic<int> calls{0};
  static void fn(void* ctx, int, const char*) {
    auto* self = static_cast<Switcher*>(ctx);
    self->calls.fetch_add(1);
    lox_log_set_level(lox_log_get_level());
    lox_log_set_callback(self->next ? Sink::fn : nullptr, self->next);
  }
};

TEST(LogCallback, SetCallbackAndLevelInsideTheCallback) {
  QuietLog restore_level;
  lox_log_set_level(LOX_LOG_ERROR);
  lox_lock* dead = destroyed_lock();
  Sink next;
  Switcher sw;
  sw.next = &next;
  lox_log_set_callback(Switcher::fn, &sw);
  finishes_within("lox_log_set_callback from inside the callback", [&] {
    EXPECT_EQ(lox_lock_release(dead), LOX_EINVAL);
    EXPECT_EQ(lox_lock_release(dead), LOX_EINVAL);
  });
  EXPECT_EQ(sw.calls.load(), 1) << "the replaced callback got a later message";
  EXPECT_EQ(next.calls.load(), 1);
  // And back to the default sink from inside the callback.
  Switcher to_default;
  lox_log_set_callback(Switcher::fn, &to_default);
  std::string text;
  {
    StderrCapture cap;
    finishes_within("lox_log_set_callback(NULL) from inside the callback", [&] {
      EXPECT_EQ(lox_lock_release(dead), LOX_EINVAL);
      EXPECT_EQ(lox_lock_release(dead), LOX_EINVAL);
    });
    text = cap.text();
  }
  lox_log_set_callback(nullptr, nullptr);
  EXPECT_EQ(to_default.calls.load(), 1);
  EXPECT_NE(text.find("lock release"), std::string::npos) << "stderr got: \"" << text << "\"";
}

TEST(LogCallback, CallbacksOfTwoThreadsRunAtOnce) {
  // lox.h: the callback may run in several threads at once. A callback that
  // waits for a message of another thread must see it arrive (no lock is
  // held around the callback).
  QuietLog restore_level;
  lox_log_set_level(LOX_LOG_ERROR);
  struct Meet {
    Counter arrived;
    std::atomic<bool> met{true};
    static void fn(void* ctx, int, const char*) {
      auto* self = static_cast<Meet*>(ctx);
      self->arrived.add();
      if (!self->arrived.wait_at_least(2, std::chrono::seconds(10))) self->met = false;
    }
  } meet;
  lox_log_set_callback(Meet::fn, &meet);
  lox_lock* dead = destroyed_lock();
  finishes_within("two threads logging at once", [&] {
    std::thread other([&] { EXPECT_EQ(lox_lock_release(dead), LOX_EINVAL); });
    EXPECT_EQ(lox_lock_release(dead), LOX_EINVAL);
    other.join();
  });
  lox_log_set_callback(nullptr, nullptr);
  EXPECT_TRUE(meet.met.load()) << "one callback waited in vain for the other thread's";
}

// ---------------------------------------------- LOX_LOG_LEVEL, in a child --

// Child modes (LOX_TEST_LOG_CHILD):
//   "initial": the first lox_log_get_level() must equal LOX_TEST_EXPECT, and
//              changing LOX_LOG_LEVEL afterwards must not change it (read once).
//   "late":    sets LOX_LOG_LEVEL=debug before the library's first use; the
//              level must be DEBUG (read on first use, not at load time).
//   "filter":  counts WARN messages of a failing gather; must equal
//              LOX_TEST_EXPECT.
int child_main(const char* mode) {
  const char* expect_text = std::getenv("LOX_TEST_EXPECT");
  const int expect = expect_text ? std::atoi(expect_text) : -1;
  if (std::strcmp(mode, "initial") == 0) {
    int level = lox_log_get_level();
    if (level != expect) return 10 + level;
    setenv("LOX_LOG_LEVEL", level == LOX_LOG_TRACE ? "off" : "trace", 1);
    if (lox_log_get_level() != expect) return 30;
    lox_log_set_callback([](void*, int, const char*) {}, nullptr);  // keep the output clean
    (void)gather_with_a_failed_task();
    if (lox_log_get_level() != expect) return 31;
    return 0;
  }
  if (std::strcmp(mode, "late") == 0) {
    setenv("LOX_LOG_LEVEL", "debug", 1);
    int level = lox_log_get_level();
    return level == LOX_LOG_DEBUG ? 0 : 10 + level;
  }
  if (std::strcmp(mode, "filter") == 0) {
    static std::atomic<int> warns{0};
    lox_log_set_callback([](void*, int level, const char*) { warns += level == LOX_LOG_WARN; }, nullptr);
    if (gather_with_a_failed_task() != LOX_ETASK) return 40;
    lox_log_set_callback(nullptr, nullptr);
    return warns.load() == expect ? 0 : 50 + warns.load();
  }
  return 99;
}

struct ChildHook {
  ChildHook() {
    if (const char* mode = std::getenv("LOX_TEST_LOG_CHILD")) {
      int rc = child_main(mode);
      std::fflush(stdout);
      std::fflush(stderr);
      _exit(rc);
    }
  }
} child_hook;

// Runs this binary as a child with `vars` (name=value; value NULL: unset)
// and returns its exit status (or -1 if it did not exit normally).
int run_child(const std::vector<std::pair<std::string, const char*>>& vars) {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    std::string kv = *e;
    bool replaced = false;
    for (auto& [name, value] : vars)
      if (kv.compare(0, name.size() + 1, name + "=") == 0) replaced = true;
    if (!replaced) env.push_back(kv);
  }
  for (auto& [name, value] : vars)
    if (value) env.push_back(name + "=" + value);
  std::vector<char*> envp;
  for (auto& s : env) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::string self = "/proc/self/exe", filter = "--gtest_filter=-*";
  char* argv[] = {self.data(), filter.data(), nullptr};
  pid_t pid = 0;
  int rc = posix_spawn(&pid, "/proc/self/exe", nullptr, nullptr, argv, envp.data());
  EXPECT_EQ(rc, 0) << std::strerror(rc);
  if (rc != 0) return -1;
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(LogEnv, InitialLevelFromLoxLogLevel) {
  const std::pair<const char*, int> cases[] = {
      {"trace", LOX_LOG_TRACE}, {"debug", LOX_LOG_DEBUG}, {"info", LOX_LOG_INFO},   {"warn", LOX_LOG_WARN},
      {"error", LOX_LOG_ERROR}, {"off", LOX_LOG_OFF},     {"TRACE", LOX_LOG_TRACE}, {"Error", LOX_LOG_ERROR},
      {"oFF", LOX_LOG_OFF},     {"0", LOX_LOG_TRACE},     {"1", LOX_LOG_DEBUG},     {"2", LOX_LOG_INFO},
      {"3", LOX_LOG_WARN},      {"4", LOX_LOG_ERROR},     {"5", LOX_LOG_OFF},
  };
  for (auto [value, level] : cases) {
    std::string expect = std::to_string(level);
    EXPECT_EQ(
        run_child({{"LOX_TEST_LOG_CHILD", "initial"}, {"LOX_TEST_EXPECT", expect.c_str()}, {"LOX_LOG_LEVEL", value}}),
        0)
        << "LOX_LOG_LEVEL=" << value << " (exit 10+n: the level was n)";
  }
}

TEST(LogEnv, DefaultIsWarn) {
  const std::string warn = std::to_string(LOX_LOG_WARN);
  EXPECT_EQ(
      run_child({{"LOX_TEST_LOG_CHILD", "initial"}, {"LOX_TEST_EXPECT", warn.c_str()}, {"LOX_LOG_LEVEL", nullptr}}), 0)
      << "unset";
  // Values that are none of the documented ones leave the default.
  for (const char* bad : {"", "bogus", "6", "-1", "warnx", "10"})
    EXPECT_EQ(run_child({{"LOX_TEST_LOG_CHILD", "initial"}, {"LOX_TEST_EXPECT", warn.c_str()}, {"LOX_LOG_LEVEL", bad}}),
              0)
        << "LOX_LOG_LEVEL=" << bad;
}

TEST(LogEnv, ReadOnFirstUse) { EXPECT_EQ(run_child({{"LOX_TEST_LOG_CHILD", "late"}, {"LOX_LOG_LEVEL", "error"}}), 0); }

TEST(LogEnv, EnvironmentLevelFilters) {
  EXPECT_EQ(run_child({{"LOX_TEST_LOG_CHILD", "filter"}, {"LOX_TEST_EXPECT", "0"}, {"LOX_LOG_LEVEL", "error"}}), 0);
  EXPECT_EQ(run_child({{"LOX_TEST_LOG_CHILD", "filter"}, {"LOX_TEST_EXPECT", "0"}, {"LOX_LOG_LEVEL", "off"}}), 0);
  EXPECT_EQ(run_child({{"LOX_TEST_LOG_CHILD", "filter"}, {"LOX_TEST_EXPECT", "1"}, {"LOX_LOG_LEVEL", "info"}}), 0);
  EXPECT_EQ(run_child({{"LOX_TEST_LOG_CHILD", "filter"}, {"LOX_TEST_EXPECT", "1"}, {"LOX_LOG_LEVEL", nullptr}}), 0);
}

}  // namespace
