// SPDX-License-Identifier: Apache-2.0
// Fuzzed calls on lox_thread, lox_process (inline pools only: a pool with
// workers forks a fork server, far too slow for a fuzzer's thousands of
// runs a second) and lox_results. Tasks are pure functions of their
// argument, so the model knows every status, value and byte a gather must
// deliver; gather must return exactly as many results as were scattered.
#include <algorithm>
#include <cmath>
#include <string>

#include "capi_world.hpp"

namespace loxfuzz {

namespace {

int g_ctx_a, g_ctx_b, g_ctx_p;

// Task A (the pool's function): fails for arguments divisible by 5, stores
// nothing for arguments that are 1 mod 4.
Outcome outcome_a(uintptr_t t) {
  return {t % 5 == 0 ? static_cast<int>(t % 97) + 2 : 0, t % 4 == 1 ? 0 : t * 31 + 7, {}};
}
int task_a(void* ctx, void* arg, void** result) {
  FUZZ_CHECK(ctx == &g_ctx_a && result && *result == nullptr);
  const Outcome o = outcome_a(reinterpret_cast<uintptr_t>(arg));
  if (o.value) *result = reinterpret_cast<void*>(o.value);
  return o.status;
}
// Task B (scatter_fn): negative failure codes, like LOX_* ones.
Outcome outcome_b(uintptr_t t) { return {t % 3 == 0 ? -static_cast<int>(t % 9) - 1 : 0, t ^ 0x5a5a, {}}; }
int task_b(void* ctx, void* arg, void** result) {
  FUZZ_CHECK(ctx == &g_ctx_b && result && *result == nullptr);
  const Outcome o = outcome_b(reinterpret_cast<uintptr_t>(arg));
  *result = reinterpret_cast<void*>(o.value);
  return o.status;
}
// Task C: gathers and destroys its own pool (ctx), which must be refused.
int task_self(void* ctx, void* arg, void** result) {
  auto* pool = static_cast<lox_thread*>(ctx);
  lox_results* r = reinterpret_cast<lox_results*>(0x1);
  arm();
  FUZZ_CHECK(lox_thread_gather(pool, nullptr, &r) == LOX_ESTATE);
  FUZZ_CHECK(r == reinterpret_cast<lox_results*>(0x1));
  detail_set();
  arm();
  lox_thread_destroy(pool);  // does nothing, says why
  detail_set();
  *result = arg;
  return 0;
}

// The process task: the reversed input; fails when the first byte is a
// multiple of 4 (the output is then the error detail).
Outcome outcome_p(const std::string& input) {
  Outcome o;
  o.bytes.assign(input.rbegin(), input.rend());
  if (!input.empty() && static_cast<unsigned char>(input[0]) % 4 == 0)
    o.status = static_cast<unsigned char>(input[0]) + 3;
  return o;
}
int task_p(void* ctx, const void* in, size_t len, lox_buffer* out) {
  FUZZ_CHECK(ctx == &g_ctx_p && (len == 0 || in));
  FUZZ_CHECK(lox_buffer_append(nullptr, in, len) == LOX_EINVAL);
  FUZZ_CHECK(lox_buffer_append(out, nullptr, 1) == LOX_EINVAL);
  FUZZ_CHECK(lox_buffer_append(out, nullptr, 0) == LOX_OK);
  const std::string input(static_cast<const char*>(in), len);
  const Outcome o = outcome_p(input);
  for (char c : o.bytes) FUZZ_CHECK(lox_buffer_append(out, &c, 1) == LOX_OK);
  return o.status;
}

// Progress calls of one gather.
struct Progress {
  size_t calls = 0, last_done = 0, last_total = 0;
  bool decreased = false;
};
void on_progress(void* ctx, size_t done, size_t total) {
  auto* p = static_cast<Progress*>(ctx);
  if (p->calls > 0 && (done < p->last_done || total != p->last_total)) p->decreased = true;
  FUZZ_CHECK(done <= total);
  ++p->calls;
  p->last_done = done;
  p->last_total = total;
}

void destroy_results(World& w, Res* r) {
  arm();
  lox_results_destroy(r->h);
  detail_untouched();
  w.died(Kind::results, r->h);
  w.erase(w.results, r);
}

// Reads results through every accessor, in range and out of it.
void read_results(World& w, const Res& r) {
  Input& in = w.in;
  const size_t n = r.expect.size();
  FUZZ_CHECK(lox_results_count(r.h) == n);
  for (int k = 0; k < 3; ++k) {
    size_t i = in.below(n + 2);
    if (in.below(16) == 0) i = SIZE_MAX;
    const void* data = reinterpret_cast<const void*>(0x2);
    size_t len = 77;
    arm();
    if (i >= n) {
      expect(lox_results_status(r.h, i), LOX_EINVAL);
      arm();
      FUZZ_CHECK(lox_results_value(r.h, i) == nullptr);
      detail_set();
      arm();
      FUZZ_CHECK(lox_results_error(r.h, i) == nullptr);
      detail_set();
      arm();
      expect(lox_results_bytes(r.h, i, &data, &len), LOX_EINVAL);
      FUZZ_CHECK(data == reinterpret_cast<const void*>(0x2) && len == 77);
      continue;
    }
    const Outcome& o = r.expect[i];
    FUZZ_CHECK(lox_results_status(r.h, i) == o.status);
    const char* err = lox_results_error(r.h, i);
    FUZZ_CHECK((err == nullptr) == (o.status == 0));
    if (!r.bytes) {
      FUZZ_CHECK(reinterpret_cast<uintptr_t>(lox_results_value(r.h, i)) == o.value);
      detail_untouched();
      expect(lox_results_bytes(r.h, i, &data, &len), LOX_EINVAL);  // values, not bytes
      FUZZ_CHECK(data == reinterpret_cast<const void*>(0x2) && len == 77);
      continue;
    }
    detail_untouched();
    // The detail is a C string: a NUL byte in the output ends it.
    if (o.status != 0)
      FUZZ_CHECK(std::string(err) ==
                 (o.bytes.empty() ? "task failed with status " + std::to_string(o.status) : o.bytes).c_str());
    expect(lox_results_bytes(r.h, i, &data, &len), LOX_OK);
    if (o.status == 0) FUZZ_CHECK(std::string(static_cast<const char*>(data), len) == o.bytes);
    arm();
    expect(lox_results_bytes(r.h, i, nullptr, &len), LOX_EINVAL);
    arm();
    expect(lox_results_bytes(r.h, i, &data, nullptr), LOX_EINVAL);
  }
}

// The options of a gather: NULL, defaults, a bad struct_size, a NaN or
// some other timeout, with or without a progress callback.
struct GatherArgs {
  lox_gather_opts opts;
  const lox_gather_opts* ptr = nullptr;
  bool invalid = false;
  bool finite_short = false;  // may time out while workers run
  bool null_out = false;
};
GatherArgs gather_args(Input& in, Progress* progress) {
  GatherArgs a;
  lox_gather_opts_init(&a.opts);
  switch (in.below(6)) {
    case 0:
      break;  // NULL: defaults
    case 1:
      a.ptr = &a.opts;
      break;
    case 2: {
      static const size_t sizes[] = {0, sizeof(lox_gather_opts) - 1, sizeof(lox_gather_opts) + 8, SIZE_MAX};
      a.opts.struct_size = sizes[in.below(4)];
      a.ptr = &a.opts;
      a.invalid = true;
      break;
    }
    case 3:
      a.opts.timeout = timeout_nan(in);
      a.ptr = &a.opts;
      a.invalid = true;
      break;
    default: {
      bool nan = false;
      a.opts.timeout = in.flip() ? timeout_short(in) : timeout_any(in);
      (void)nan;
      a.finite_short = a.opts.timeout >= 0 && a.opts.timeout <= 1e-3;
      a.ptr = &a.opts;
      break;
    }
  }
  if (a.ptr && in.flip()) {
    a.opts.progress = on_progress;
    a.opts.progress_ctx = progress;
  }
  a.null_out = in.below(10) == 0;
  if (a.null_out) a.invalid = true;
  return a;
}

// After a gather: the status, the results and the progress calls.
void gathered(World& w, int rc, lox_results* out, std::vector<Outcome>& round, bool bytes, bool may_time_out,
              const Progress& progress, bool watched) {
  if (rc == LOX_TIMEOUT) {
    FUZZ_CHECK(may_time_out && out == reinterpret_cast<lox_results*>(0x1));
    return;  // the round goes on, nothing lost
  }
  const bool failed = std::any_of(round.begin(), round.end(), [](const Outcome& o) { return o.status != 0; });
  expect(rc, failed ? LOX_ETASK : LOX_OK);
  FUZZ_CHECK(out != nullptr && out != reinterpret_cast<lox_results*>(0x1));
  if (watched) {
    FUZZ_CHECK(progress.calls > 0 && !progress.decreased);
    FUZZ_CHECK(progress.last_done == round.size() && progress.last_total == round.size());
  }
  w.results.push_back({out, bytes, std::move(round)});
  round.clear();
  read_results(w, w.results.back());
}

// ------------------------------------------------------------ thread pool --

void destroy_tpool(World& w, TPool* p) {
  arm();
  lox_thread_destroy(p->h);  // runs what is queued; its results are dropped
  if (!p->self_queued) detail_untouched();
  w.died(Kind::thread, p->h);
  w.erase(w.tpools, p);
}

void thread_ops(World& w, unsigned code) {
  Input& in = w.in;
  TPool* p = w.pick(w.tpools);
  switch (code % 5) {
    case 0: {  // create
      if (w.tpools.size() >= 2) return destroy_tpool(w, p);
      static const size_t workers[] = {0, 0, 1, 2, 3, LOX_DEFAULT_WORKERS};
      const size_t max_workers = workers[in.below(6)];
      const bool has_fn = in.below(6) != 0;
      lox_thread_opts opts;
      lox_thread_opts_init(&opts);
      FUZZ_CHECK(opts.struct_size == sizeof opts && opts.idle_timeout == 2.0);
      const lox_thread_opts* optp = nullptr;
      bool invalid = false;
      switch (in.below(5)) {
        case 0:
          break;
        case 1: {
          static const double idles[] = {0.0, -0.0, 1e-3, 2.0, 1e300, INFINITY};
          opts.idle_timeout = idles[in.below(6)];
          optp = &opts;
          break;
        }
        case 2:
          opts.idle_timeout = in.flip() ? timeout_nan(in) : -1e-3;
          optp = &opts;
          invalid = true;
          break;
        case 3:
          opts.struct_size = in.flip() ? 0 : sizeof opts + 1;
          optp = &opts;
          invalid = true;
          break;
        case 4:  // a NULL out-pointer
          break;
      }
      const bool null_out = in.below(8) == 0;
      lox_thread* h = nullptr;
      arm();
      int rc = lox_thread_create_ex(max_workers, has_fn ? task_a : nullptr, &g_ctx_a, optp, null_out ? nullptr : &h);
      if (invalid || null_out) return (void)expect(rc, LOX_EINVAL);
      expect(rc, LOX_OK);
      FUZZ_CHECK(lox_thread_workers(h) == 0);  // no thread is started at create
      w.tpools.push_back({h, max_workers == LOX_DEFAULT_WORKERS ? 50 : max_workers, has_fn});
      return;
    }
    case 1: {  // scatter / scatter_fn
      if (p && p->round.size() >= kMaxRound) return;
      const uintptr_t t = w.next_token++;
      void* arg = reinterpret_cast<void*>(t);
      size_t index = 0xabcdef;
      size_t* indexp = in.below(4) == 0 ? nullptr : &index;
      const unsigned which = in.below(4);
      arm();
      int rc;
      Outcome o;
      if (which == 0) {
        rc = lox_thread_scatter(p ? p->h : nullptr, arg, indexp);
        if (!p || !p->has_fn) return (void)expect(rc, LOX_EINVAL);
        o = outcome_a(t);
      } else if (which == 1) {
        rc = lox_thread_scatter_fn(p ? p->h : nullptr, nullptr, &g_ctx_b, arg, indexp);
        return (void)expect(rc, LOX_EINVAL);
      } else if (which == 2 || !p) {
        rc = lox_thread_scatter_fn(p ? p->h : nullptr, task_b, &g_ctx_b, arg, indexp);
        if (!p) return (void)expect(rc, LOX_EINVAL);
        o = outcome_b(t);
      } else {
        rc = lox_thread_scatter_fn(p->h, task_self, p->h, arg, indexp);
        o = {0, t, {}};
        p->self_queued = true;
      }
      if (which == 3) arm();  // an inline task_self left its own detail
      expect(rc, LOX_OK);
      FUZZ_CHECK(!indexp || index == p->round.size());
      p->round.push_back(o);
      return;
    }
    case 2: {  // call
      const uintptr_t t = w.next_token++;
      void* result = reinterpret_cast<void*>(0x3);
      const bool null_result = in.flip();
      arm();
      int rc = lox_thread_call(p ? p->h : nullptr, reinterpret_cast<void*>(t), null_result ? nullptr : &result);
      if (!p || !p->has_fn) return (void)expect(rc, LOX_EINVAL);
      const Outcome o = outcome_a(t);
      FUZZ_CHECK(rc == o.status);
      FUZZ_CHECK(null_result || reinterpret_cast<uintptr_t>(result) == o.value);
      detail_untouched();
      return;
    }
    case 3: {  // gather
      if (w.results.size() >= kMaxLive) destroy_results(w, w.pick(w.results));
      Progress progress;
      GatherArgs a = gather_args(in, &progress);
      lox_results* out = reinterpret_cast<lox_results*>(0x1);
      ++w.destroys;
      arm();
      int rc = lox_thread_gather(p ? p->h : nullptr, a.ptr, a.null_out ? nullptr : &out);
      if (!p || a.invalid) return (void)expect(rc, LOX_EINVAL);
      const bool may_time_out = p->max_workers > 0 && a.finite_short && !p->round.empty();
      if (p->self_queued && rc >= 0) arm();
      if (rc != LOX_TIMEOUT) p->self_queued = false;
      gathered(w, rc, out, p->round, false, may_time_out, progress, a.opts.progress != nullptr);
      return;
    }
    case 4:
      if (p) {
        FUZZ_CHECK(lox_thread_pending(p->h) <= p->round.size());
        destroy_tpool(w, p);
      }
      return;
  }
}

// ----------------------------------------------------------- process pool --

void destroy_ppool(World& w, PPool* p) {
  arm();
  lox_process_destroy(p->h);
  detail_untouched();
  w.died(Kind::process, p->h);
  w.erase(w.ppools, p);
}

void process_ops(World& w, unsigned code) {
  Input& in = w.in;
  PPool* p = w.pick(w.ppools);
  switch (code % 4) {
    case 0: {  // create: inline pools, or arguments refused before any fork
      if (w.ppools.size() >= 2) return destroy_ppool(w, p);
      lox_process_opts opts;
      lox_process_opts_init(&opts);
      FUZZ_CHECK(opts.struct_size == sizeof opts && opts.task_timeout == LOX_FOREVER &&
                 opts.max_message == (size_t{1} << 30));
      static const size_t limits[] = {1, 4, 16, size_t{1} << 30};
      opts.max_message = limits[in.below(4)];
      bool invalid = false;
      switch (in.below(6)) {
        case 0:
          opts.task_timeout = timeout_nan(in), invalid = true;
          break;
        case 1:
          opts.task_timeout = in.flip() ? 0.0 : -0.0, invalid = true;
          break;
        case 2:
          opts.max_message = 0, invalid = true;
          break;
        case 3:
          opts.struct_size = in.flip() ? 8 : sizeof opts * 2, invalid = true;
          break;
        case 4:
          opts.task_timeout = in.flip() ? 1e-3 : 1e300;
          break;
        default:
          break;
      }
      const bool null_fn = in.below(8) == 0, null_out = in.below(8) == 0;
      // Workers are asked for only when the call must fail before forking.
      const size_t n_workers = (invalid || null_fn || null_out) && in.flip() ? 2 : 0;
      lox_process* h = nullptr;
      arm();
      int rc = lox_process_create_ex(n_workers, null_fn ? nullptr : task_p, &g_ctx_p, &opts, null_out ? nullptr : &h);
      if (invalid || null_fn || null_out) return (void)expect(rc, LOX_EINVAL);
      expect(rc, LOX_OK);
      w.ppools.push_back({h, opts.max_message});
      return;
    }
    case 1: {  // scatter (runs inline)
      if (p && p->round.size() >= kMaxRound) return;
      const uint8_t* bytes = nullptr;
      size_t len = w.in.bytes(bytes, in.below(24));
      const bool null_in = len > 0 && in.below(8) == 0;
      size_t index = 0xabcdef;
      arm();
      int rc = lox_process_scatter(p ? p->h : nullptr, null_in ? nullptr : bytes, len, &index);
      if (!p || null_in || len > p->max_message) return (void)expect(rc, LOX_EINVAL);
      arm();  // the task ran inline, in this thread, and its refused appends set the detail
      expect(rc, LOX_OK);
      FUZZ_CHECK(index == p->round.size());
      p->round.push_back(outcome_p(std::string(reinterpret_cast<const char*>(bytes), len)));
      FUZZ_CHECK(lox_process_pending(p->h) == 0 && lox_process_workers(p->h) == 0);
      return;
    }
    case 2: {  // gather: an inline round is always finished
      if (w.results.size() >= kMaxLive) destroy_results(w, w.pick(w.results));
      Progress progress;
      GatherArgs a = gather_args(in, &progress);
      lox_results* out = reinterpret_cast<lox_results*>(0x1);
      ++w.destroys;
      arm();
      int rc = lox_process_gather(p ? p->h : nullptr, a.ptr, a.null_out ? nullptr : &out);
      if (!p || a.invalid) return (void)expect(rc, LOX_EINVAL);
      gathered(w, rc, out, p->round, true, false, progress, a.opts.progress != nullptr);
      return;
    }
    case 3:
      if (p) destroy_ppool(w, p);
      return;
  }
}

void results_ops(World& w, unsigned code) {
  Res* r = w.pick(w.results);
  if (!r) return;
  if (code % 2 == 0) return read_results(w, *r);
  destroy_results(w, r);
}

}  // namespace

void op_pool(World& w, unsigned code) {
  switch ((code / 8) % 3) {
    case 0:
      return thread_ops(w, code);
    case 1:
      return process_ops(w, code);
    case 2:
      return results_ops(w, code);
  }
}

void check_pools(World& w) {
  for (const auto& p : w.tpools) {
    FUZZ_CHECK(lox_thread_pending(p.h) <= p.round.size());
    FUZZ_CHECK(lox_thread_workers(p.h) <= p.max_workers);
  }
  for (const auto& p : w.ppools) FUZZ_CHECK(lox_process_pending(p.h) == 0 && lox_process_workers(p.h) == 0);
  for (const auto& r : w.results) FUZZ_CHECK(lox_results_count(r.h) == r.expect.size());
}

void teardown_pools(World& w) {
  while (!w.results.empty()) destroy_results(w, w.pick(w.results));
  while (!w.tpools.empty()) destroy_tpool(w, w.pick(w.tpools));
  while (!w.ppools.empty()) destroy_ppool(w, w.pick(w.ppools));
}

}  // namespace loxfuzz
