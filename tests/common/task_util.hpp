// SPDX-License-Identifier: Apache-2.0
// Helpers for the task-graph tests (tests/capi/test_task_*.cpp and
// tests/scenarios/stress/test_task_stress.cpp): handle owners, scatters
// with predecessors that expect LOX_OK, the documented framing of a process
// task's inputs (built by hand, to check liblox's against it), completions
// drained into plain structs, a thread task that adds up its predecessors'
// results, an `encode` callback, and a process task function whose commands
// add up, echo, fail, crash, wait for a turn or ignore SIGTERM.
#pragma once

#include <lox/lox.h>

#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "process_util.hpp"
#include "test_util.hpp"

namespace loxtest {

// ------------------------------------------------------------- handles --

using Task = Owned<lox_task>;
using Completions = Owned<lox_completions>;

// Scatter options naming `after` (the vector must outlive the scatter).
inline lox_scatter_opts after_opts(const std::vector<lox_task*>& after) {
  lox_scatter_opts o = LOX_SCATTER_OPTS_INIT;
  o.after = after.empty() ? nullptr : after.data();
  o.n_after = after.size();
  return o;
}

// lox_thread_scatter_ex(pool, fn, ctx, arg, {after}) with a handle; a status
// other than LOX_OK fails the test (and the handle is then NULL).
inline Task tscatter(lox_thread* pool, lox_task_fn fn, void* ctx, void* arg, const std::vector<lox_task*>& after = {},
                     size_t* index = nullptr) {
  lox_scatter_opts o = after_opts(after);
  lox_task* t = nullptr;
  const int rc = lox_thread_scatter_ex(pool, fn, ctx, arg, &o, index, &t);
  EXPECT_EQ(rc, LOX_OK) << lox_last_error();
  EXPECT_EQ(rc == LOX_OK, t != nullptr);
  return Task(t);
}

// lox_process_scatter_ex(pool, in, {after, encode}) with a handle.
inline Task pscatter(lox_process* pool, const std::string& in, const std::vector<lox_task*>& after = {},
                     size_t* index = nullptr, int (*encode)(void*, void*, lox_buffer*) = nullptr,
                     void* encode_ctx = nullptr) {
  lox_scatter_opts o = after_opts(after);
  o.encode = encode;
  o.encode_ctx = encode_ctx;
  lox_task* t = nullptr;
  const int rc = lox_process_scatter_ex(pool, in.data(), in.size(), &o, index, &t);
  EXPECT_EQ(rc, LOX_OK) << lox_last_error();
  EXPECT_EQ(rc == LOX_OK, t != nullptr);
  return Task(t);
}

// Sets a process pool's cancel grace (lox_process_set_cancel_grace), which
// must be accepted.
inline void set_cancel_grace(lox_process* pool, double seconds) {
  EXPECT_EQ(lox_process_set_cancel_grace(pool, seconds), LOX_OK) << lox_last_error();
}

// Waits for a task that must complete (kMustSeconds, then the test fails).
inline bool wait_done(const lox_task* t) {
  const int rc = lox_task_wait(t, kMustSeconds);
  EXPECT_EQ(rc, LOX_OK) << (rc == LOX_TIMEOUT ? "the task did not complete (hang?)" : lox_last_error());
  return rc == LOX_OK;
}

inline std::string task_error(const lox_task* t) {
  const char* e = lox_task_error(t);
  return e ? std::string(e) : std::string("(null)");
}

inline intptr_t task_value(const lox_task* t) { return from_ptr(lox_task_value(t)); }

// The result bytes of a completed process task (expects LOX_OK).
inline std::string task_bytes(const lox_task* t) {
  const void* data = nullptr;
  size_t len = 0;
  const int rc = lox_task_bytes(t, &data, &len);
  EXPECT_EQ(rc, LOX_OK) << lox_last_error();
  if (rc != LOX_OK || len == 0) return {};
  EXPECT_NE(data, nullptr);
  return data ? std::string(static_cast<const char*>(data), len) : std::string();
}

inline std::string i64_bytes(int64_t v) { return pod_bytes(v); }

// The int64 a process task replied (INT64_MIN when the bytes are not one).
inline int64_t task_i64(const lox_task* t) {
  int64_t v = INT64_MIN;
  std::string b = task_bytes(t);
  EXPECT_TRUE(pod_from(b, v)) << b.size() << " bytes, not an int64";
  return v;
}

// The task completed with LOX_EDEPENDENCY, its detail naming predecessor
// `position` (its place in the scatter's `after`).
inline void expect_dependency_failure(const lox_task* t, size_t position) {
  EXPECT_EQ(lox_task_status(t), LOX_EDEPENDENCY) << task_error(t);
  const std::string e = task_error(t);
  EXPECT_NE(e.find("predecessor " + std::to_string(position)), std::string::npos) << "detail was: \"" << e << "\"";
}

// ------------------------------------------------- process-input framing --

// The documented input of a process task with predecessors: a 4-byte
// little-endian count, then per predecessor an 8-byte little-endian length
// and its bytes, then the scatter's own bytes.
inline std::string framed(const std::vector<std::string>& preds, const std::string& own) {
  std::string s;
  const uint32_t n = static_cast<uint32_t>(preds.size());
  for (int k = 0; k < 4; ++k) s.push_back(static_cast<char>((n >> (8 * k)) & 0xff));
  for (const std::string& p : preds) {
    const uint64_t len = p.size();
    for (int k = 0; k < 8; ++k) s.push_back(static_cast<char>((len >> (8 * k)) & 0xff));
    s += p;
  }
  return s + own;
}

// The parts of such an input through lox_inputs_count / lox_inputs_get: the
// predecessors' bytes, then the own input. Empty (and a test failure) when
// the input is malformed.
inline std::vector<std::string> unframed(const std::string& in) {
  std::vector<std::string> parts;
  const size_t n = lox_inputs_count(in.data(), in.size());
  EXPECT_NE(n, SIZE_MAX) << "not a framed input (" << in.size() << " bytes)";
  if (n == SIZE_MAX) return parts;
  for (size_t i = 0; i <= n; ++i) {
    const void* d = nullptr;
    size_t len = 0;
    EXPECT_EQ(lox_inputs_get(in.data(), in.size(), i, &d, &len), LOX_OK) << "input " << i << ": " << lox_last_error();
    parts.emplace_back(d ? static_cast<const char*>(d) : "", d ? len : 0);
  }
  return parts;
}

// ------------------------------------------------------------ completions --

// One delivery of lox_completions_next, copied out.
struct Delivery {
  size_t index = SIZE_MAX;
  int status = -100;
  intptr_t value = 0;
  std::string data;
  bool has_data = false;
  std::string error;  // "(null)" for NULL
  lox_task* task = nullptr;
};

inline lox_completed completed_init() {
  lox_completed c;
  std::memset(&c, 0, sizeof c);
  c.struct_size = sizeof c;
  return c;
}

inline Delivery to_delivery(const lox_completed& c) {
  Delivery d;
  d.index = c.index;
  d.status = c.status;
  d.value = from_ptr(c.value);
  d.has_data = c.data != nullptr;
  if (c.data) d.data.assign(static_cast<const char*>(c.data), c.len);
  d.error = c.error ? c.error : "(null)";
  d.task = c.task;
  return d;
}

// lox_completions_next into `*d`; returns its status.
inline int next_delivery(lox_completions* c, double timeout, Delivery* d) {
  lox_completed out = completed_init();
  const int rc = lox_completions_next(c, timeout, &out);
  if (rc == LOX_OK) *d = to_delivery(out);
  return rc;
}

// Every delivery until LOX_ECLOSED (each waited for up to kMustSeconds; a
// timeout fails the test and ends the list).
inline std::vector<Delivery> drain_completions(lox_completions* c) {
  std::vector<Delivery> v;
  for (;;) {
    Delivery d;
    const int rc = next_delivery(c, kMustSeconds, &d);
    if (rc == LOX_ECLOSED) break;
    EXPECT_EQ(rc, LOX_OK) << (rc == LOX_TIMEOUT ? "no completion within the deadline (hang?)" : lox_last_error());
    if (rc != LOX_OK) break;
    v.push_back(d);
  }
  return v;
}

inline std::vector<size_t> indices_of(const std::vector<Delivery>& v) {
  std::vector<size_t> out;
  for (const Delivery& d : v) out.push_back(d.index);
  return out;
}

// ---------------------------------------------------------- thread tasks --

// Counts the runs of the tasks that get it as their context.
struct RunCount {
  std::atomic<long> runs{0};
};

// The sum of the running thread task's inputs: a thread predecessor's value,
// a process predecessor's int64 reply. False (and a test failure) when a
// process predecessor's bytes are not an int64.
inline bool sum_of_inputs(intptr_t* sum) {
  intptr_t s = 0;
  const size_t n = lox_task_input_count();
  for (size_t i = 0; i < n; ++i) {
    const lox_task* in = lox_task_input(i);
    if (!in) return false;
    if (void* v = lox_task_value(in)) {  // a thread predecessor (cheap: no failing call)
      s += from_ptr(v);
      continue;
    }
    const void* data = nullptr;
    size_t len = 0;
    if (lox_task_bytes(in, &data, &len) == LOX_OK) {
      int64_t v = 0;
      if (len != sizeof v) return false;
      std::memcpy(&v, data, sizeof v);
      s += static_cast<intptr_t>(v);
    }  // else a thread predecessor whose value is 0
  }
  *sum = s;
  return true;
}

// A thread task whose value is its argument plus the sum of its inputs
// (so a chain of sum_task(1) counts its length); ctx: a RunCount or NULL.
// Returns 93 when an input cannot be read.
inline int sum_task(void* ctx, void* arg, void** result) {
  if (ctx) static_cast<RunCount*>(ctx)->runs.fetch_add(1);
  intptr_t s = 0;
  if (!sum_of_inputs(&s)) return 93;
  *result = to_ptr(from_ptr(arg) + s);
  return 0;
}

// A thread task that fails with its argument as the code.
inline int fail_task(void* ctx, void* arg, void** result) {
  if (ctx) static_cast<RunCount*>(ctx)->runs.fetch_add(1);
  *result = nullptr;
  return static_cast<int>(from_ptr(arg));
}

// What an `encode` callback saw.
struct EncodeLog {
  std::atomic<int> calls{0};
  std::atomic<intptr_t> fail_on{INTPTR_MIN};  // a value whose encode returns 5
};

// `encode` for integer values: appends the value as an int64. ctx: an
// EncodeLog or NULL.
inline int encode_i64(void* ctx, void* value, lox_buffer* out) {
  auto* log = static_cast<EncodeLog*>(ctx);
  if (log) {
    log->calls.fetch_add(1);
    if (from_ptr(value) == log->fail_on.load()) return 5;
  }
  const int64_t v = from_ptr(value);
  return lox_buffer_append(out, &v, sizeof v) == LOX_OK ? 0 : 6;
}

// ---------------------------------------------------------- process tasks --

// What a task_fn process task is asked to do. Its input ends with a PCmd;
// `framed` says whether predecessors' frames come before it.
enum TaskOp : int32_t {
  kPSum = 1,     // reply int64 a + the predecessors' int64 replies
  kPEcho,        // reply the whole input as it arrived
  kPFail,        // append "failed on purpose <a>", return b
  kPCrash,       // SIGSEGV
  kPWaitTurn,    // started++, wait until gate >= a, then reply int64 b
  kPIgnoreTerm,  // catch and count SIGTERM, started++, wait until gate != 0, reply int64 a
  kPPid,         // reply int64 getpid()
  kPSleepMs,     // sleep a milliseconds (a task that is not quick), reply int64 b
};

struct PCmd {
  int32_t op;
  int32_t framed;
  int64_t a;
  int64_t b;
};

inline std::string pcmd(TaskOp op, int64_t a = 0, int64_t b = 0, bool framed_input = false) {
  return pod_bytes(PCmd{op, framed_input ? 1 : 0, a, b});
}

// The SIGTERM counter of the worker (set before its handler is installed).
inline std::atomic<int>* g_term_counter = nullptr;

inline void count_term(int) {
  if (g_term_counter) g_term_counter->fetch_add(1);
}

inline int append_i64(lox_buffer* out, int64_t v) { return lox_buffer_append(out, &v, sizeof v) == LOX_OK ? 0 : 90; }

// The process task of the task tests; ctx: a SharedState* (or NULL when no
// command needs it).
inline int task_fn(void* ctx, const void* in, size_t len, lox_buffer* out) {
  PCmd c{};
  if (!in || len < sizeof c) {
    const char msg[] = "not a command";
    lox_buffer_append(out, msg, sizeof msg - 1);
    return 91;
  }
  std::memcpy(&c, static_cast<const char*>(in) + len - sizeof c, sizeof c);
  std::vector<std::string> preds;
  if (c.framed) {
    const size_t n = lox_inputs_count(in, len);
    if (n == SIZE_MAX) return 94;
    for (size_t i = 0; i <= n; ++i) {
      const void* d = nullptr;
      size_t dl = 0;
      if (lox_inputs_get(in, len, i, &d, &dl) != LOX_OK) return 95;
      if (i < n) preds.emplace_back(static_cast<const char*>(d), dl);
      if (i == n && (dl != sizeof c || std::memcmp(d, &c, sizeof c) != 0)) return 96;
    }
  }
  auto* sh = static_cast<SharedState*>(ctx);
  switch (c.op) {
    case kPSum: {
      int64_t s = c.a;
      for (const std::string& p : preds) {
        int64_t v = 0;
        if (!pod_from(p, v)) return 93;
        s += v;
      }
      return append_i64(out, s);
    }
    case kPEcho:
      return lox_buffer_append(out, in, len) == LOX_OK ? 0 : 90;
    case kPFail: {
      std::string msg = "failed on purpose " + std::to_string(c.a);
      lox_buffer_append(out, msg.data(), msg.size());
      return static_cast<int>(c.b);
    }
    case kPCrash:
      die_by_raise_segv();
    case kPWaitTurn: {
      sh->last_pid.store(getpid());
      sh->started.fetch_add(1);
      if (!worker_poll([&] { return sh->gate.load() >= c.a; })) return 99;
      return append_i64(out, c.b);
    }
    case kPIgnoreTerm: {
      g_term_counter = &sh->terms;
      struct sigaction sa {};
      sa.sa_handler = count_term;
      sigemptyset(&sa.sa_mask);
      sigaction(SIGTERM, &sa, nullptr);
      sh->last_pid.store(getpid());
      sh->started.fetch_add(1);
      if (!worker_poll([&] { return sh->gate.load() != 0; }, std::chrono::seconds(120))) return 99;
      return append_i64(out, c.a);
    }
    case kPPid:
      return append_i64(out, getpid());
    case kPSleepMs:
      usleep(static_cast<useconds_t>(c.a) * 1000);
      return append_i64(out, c.b);
    default:
      return 92;
  }
}

}  // namespace loxtest
