// SPDX-License-Identifier: Apache-2.0
// lox_thread_*: the C face of core::thread::Pool.
#include <lox/lox.h>

#include "boundary.hpp"
#include "calls.hpp"
#include "handle.hpp"
#include "task_node.hpp"
#include "thread/completions.hpp"
#include "thread/context.hpp"

using namespace lox;
using lox::capi::Status;

extern "C" {

LOX_API int lox_thread_create_ex(size_t max_workers, lox_task_fn fn, void* ctx, const lox_thread_opts* opts,
                                 lox_thread** out) {
  constexpr const char* op = "thread create";
  if (!out) return capi::null_argument(op, "out");
  lox_thread_opts o = LOX_THREAD_OPTS_INIT;
  if (!capi::read_options(op, "lox_thread_opts", opts, o)) return LOX_EINVAL;
  if (std::isnan(o.idle_timeout) || o.idle_timeout < 0)
    return capi::to_c(core::fail(Status::invalid, "{}: idle_timeout is {} (must be >= 0)", op, o.idle_timeout));
  if (max_workers == LOX_DEFAULT_WORKERS) max_workers = core::thread::Pool::kDefaultWorkers;
  if (capi::debug_forced()) max_workers = 0;
  auto idle = std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::duration<double>(std::min(o.idle_timeout, 1e9)));
  return capi::guard(op, [&] {
    *out = capi::new_handle<lox_thread>(max_workers, fn, ctx, idle);
    return LOX_OK;
  });
}

LOX_API int lox_thread_create(size_t max_workers, lox_task_fn fn, void* ctx, lox_thread** out) {
  return lox_thread_create_ex(max_workers, fn, ctx, nullptr, out);
}

LOX_API void lox_thread_destroy(lox_thread* pool) {
  if (!pool || !capi::live("thread destroy", "pool", pool)) return;
  if (pool->core.inside_own_task()) {
    core::fail(Status::bad_state, "thread destroy: called from inside one of the pool's own tasks; pool not destroyed");
    core::log::emit(core::log::Level::error, "{}", core::last_error());
    return;
  }
  capi::destroy_handle("thread destroy", pool);
}

LOX_API int lox_thread_call(lox_thread* pool, void* arg, void** result) {
  constexpr const char* op = "thread call";
  if (!capi::live(op, "pool", pool)) return LOX_EINVAL;
  if (!pool->core.default_fn()) return capi::null_argument(op, "the pool's task function");
  void* scratch = nullptr;
  if (!result) result = &scratch;
  *result = nullptr;
  return core::thread::invoke_task(pool->core.default_fn(), pool->core.default_ctx(), arg, result);
}

LOX_API int lox_thread_scatter(lox_thread* pool, void* arg, size_t* index) {
  if (!capi::live("thread scatter", "pool", pool)) return LOX_EINVAL;
  if (!pool->core.default_fn())
    return capi::null_argument("thread scatter", "the pool's task function (use lox_thread_scatter_fn)");
  return capi::to_c(pool->core.scatter(pool->core.default_fn(), pool->core.default_ctx(), arg, index));
}

LOX_API int lox_thread_scatter_fn(lox_thread* pool, lox_task_fn fn, void* ctx, void* arg, size_t* index) {
  if (!capi::live("thread scatter_fn", "pool", pool)) return LOX_EINVAL;
  if (!fn) return capi::null_argument("thread scatter_fn", "fn");
  return capi::to_c(pool->core.scatter(fn, ctx, arg, index));
}

LOX_API int lox_thread_scatter_ex(lox_thread* pool, lox_task_fn fn, void* ctx, void* arg, const lox_scatter_opts* opts,
                                  size_t* index, lox_task** task) {
  constexpr const char* op = "thread scatter_ex";
  if (!capi::live(op, "pool", pool)) return LOX_EINVAL;
  if (!fn) {
    fn = pool->core.default_fn();
    ctx = pool->core.default_ctx();
    if (!fn) return capi::null_argument(op, "fn (the pool has no task function)");
  }
  lox_scatter_opts o;
  if (!capi::read_scatter_opts(op, opts, false, o)) return LOX_EINVAL;
  // Neither a handle nor predecessors: the plain scatter, at its cost.
  if (!task && o.n_after == 0) return capi::to_c(pool->core.scatter(fn, ctx, arg, index));
  capi::TaskRef ref;
  if (int st = capi::make_task(op, core::graph::Node::Kind::thread, o, ref); st != LOX_OK) return st;
  ref.task->core.thread_call = {fn, ctx, arg};
  // Not under a guard: in debug mode the task runs here, and a task that
  // ends its thread unwinds through this call (as lox_thread_scatter).
  if (core::Status s = pool->core.scatter_node(ref.task->core, index); s != Status::ok) return capi::to_c(s);
  if (task) *task = ref.release();
  return LOX_OK;
}

LOX_API int lox_thread_cancel(lox_thread* pool) {
  return capi::call("thread cancel", "pool", pool, [&] { pool->core.cancel(); });
}

LOX_API int lox_thread_completions(lox_thread* pool, lox_completions** out) {
  constexpr const char* op = "thread completions";
  if (!capi::live(op, "pool", pool)) return LOX_EINVAL;
  if (!out) return capi::null_argument(op, "out");
  return capi::guard(op, [&]() -> int {
    // Allocated before the round is taken: an out-of-memory leaves the
    // round to the next gather.
    auto handle = capi::make_handle<lox_completions>(nullptr);
    std::shared_ptr<core::thread::Round> round;
    if (core::Status s = pool->core.take_round(round); s != Status::ok) return capi::to_c(s);
    try {
      handle->core = std::make_unique<core::thread::RoundCompletions>(round);
    } catch (...) {
      pool->core.give_back(round);
      throw;
    }
    *out = handle.release();
    return LOX_OK;
  });
}

LOX_API int lox_thread_gather(lox_thread* pool, const lox_gather_opts* opts, lox_results** out) {
  return capi::gather("thread gather", pool, opts, out);
}

}  // extern "C"
