// SPDX-License-Identifier: Apache-2.0
// lox_process_*, lox_buffer_append: the C face of core::process::Pool.
#include <lox/lox.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>

#include <unistd.h>

#include "boundary.hpp"
#include "calls.hpp"
#include "handle.hpp"
#include "task_node.hpp"

using namespace lox;
using lox::capi::Status;

namespace {

// Runs the user's C function on a task's bytes (in the worker process, or
// inline).
class CRunner final : public core::process::Runner {
 public:
  CRunner(lox_process_fn fn, void* ctx) noexcept : fn_(fn), ctx_(ctx) {}
  int run(const void* in, size_t len, std::string& out) noexcept override {
    lox_buffer buffer{&out};
    return fn_(ctx_, len ? in : nullptr, len, &buffer);
  }

 private:
  lox_process_fn fn_;
  void* ctx_;
};

// Limits on what a caller may ask for (lox.h states them). A worker is a
// process plus a driver thread and a socketpair in this process, so beyond
// a few thousand the system runs out long before the pool is of use, and a
// count near SIZE_MAX would only ask for an impossible table of workers.
constexpr size_t kMaxWorkers = 4096;
// max_message bounds what the parent allocates for a frame a worker
// announces, before any byte of it arrived: a limit near SIZE_MAX would let
// a corrupt header ask for an allocation that can never succeed.
constexpr uint64_t kMaxMessageLimit = std::min<uint64_t>(uint64_t{1} << 38, PTRDIFF_MAX);

size_t online_cpus() noexcept {
  long n = ::sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<size_t>(n) : 1;
}

}  // namespace

extern "C" {

LOX_API int lox_buffer_append(lox_buffer* out, const void* data, size_t len) {
  constexpr const char* op = "buffer append";
  if (!out || !out->out) return capi::null_argument(op, "out");
  if (!data && len > 0) return capi::null_argument(op, "data (with len > 0)");
  // No object is larger than PTRDIFF_MAX bytes, so a longer `len` cannot
  // describe the bytes at `data`. (A result that merely grows too large for
  // memory is LOX_ENOMEM, from the append itself.)
  if (len > static_cast<size_t>(PTRDIFF_MAX))
    return capi::to_c(
        core::fail(Status::invalid, "{}: len is {} (no buffer is larger than PTRDIFF_MAX bytes)", op, len));
  return capi::guard(op, [&] {
    out->out->append(static_cast<const char*>(data), len);
    return LOX_OK;
  });
}

LOX_API void lox_process_opts_init(lox_process_opts* opts) {
  if (opts) *opts = LOX_PROCESS_OPTS_INIT;
}

LOX_API int lox_process_create_ex(size_t max_workers, lox_process_fn fn, void* ctx, const lox_process_opts* opts,
                                  lox_process** out) {
  constexpr const char* op = "process create";
  if (!fn) return capi::null_argument(op, "fn");
  if (!out) return capi::null_argument(op, "out");
  lox_process_opts o = LOX_PROCESS_OPTS_INIT;
  // Options of an older struct_size (without cancel_grace) keep its default.
  if (opts && !capi::check_struct_size(op, "lox_process_opts", opts->struct_size,
                                       offsetof(lox_process_opts, cancel_grace), sizeof(lox_process_opts)))
    return LOX_EINVAL;
  if (opts) std::memcpy(&o, opts, opts->struct_size);
  o.struct_size = sizeof o;
  if (std::isnan(o.cancel_grace) || o.cancel_grace < 0)
    return capi::to_c(core::fail(Status::invalid, "{}: cancel_grace is {} (must be >= 0)", op, o.cancel_grace));
  if (std::isnan(o.task_timeout) || o.task_timeout == 0)
    return capi::to_c(
        core::fail(Status::invalid, "{}: task_timeout is {} (use a time > 0, or LOX_FOREVER)", op, o.task_timeout));
  if (o.max_message == 0) return capi::to_c(core::fail(Status::invalid, "{}: max_message is 0", op));
  if (o.max_message > kMaxMessageLimit)
    return capi::to_c(
        core::fail(Status::invalid, "{}: max_message is {} (at most {} bytes)", op, o.max_message, kMaxMessageLimit));
  if (max_workers == LOX_DEFAULT_WORKERS) max_workers = std::min(online_cpus(), kMaxWorkers);
  if (max_workers > kMaxWorkers)
    return capi::to_c(core::fail(Status::invalid, "{}: max_workers is {} (at most {}, or LOX_DEFAULT_WORKERS)", op,
                                 max_workers, kMaxWorkers));
  if (capi::debug_forced()) max_workers = 0;
  core::process::Options options;
  options.task_timeout = o.task_timeout > 0 ? std::min(o.task_timeout, 1e9) : -1;
  options.max_message = o.max_message;
  options.cancel_grace = std::min(o.cancel_grace, 1e9);
  return capi::guard(op, [&] {
    *out = capi::new_handle<lox_process>(max_workers, std::make_unique<CRunner>(fn, ctx), options);
    return LOX_OK;
  });
}

LOX_API int lox_process_create(size_t max_workers, lox_process_fn fn, void* ctx, lox_process** out) {
  return lox_process_create_ex(max_workers, fn, ctx, nullptr, out);
}

LOX_API void lox_process_destroy(lox_process* pool) { capi::destroy_handle("process destroy", pool); }

LOX_API int lox_process_scatter(lox_process* pool, const void* in, size_t len, size_t* index) {
  constexpr const char* op = "process scatter";
  if (!capi::live(op, "pool", pool)) return LOX_EINVAL;
  if (!in && len > 0) return capi::null_argument(op, "in (with len > 0)");
  return capi::guard(op, [&] { return pool->core.scatter(in, len, index); });
}

LOX_API int lox_process_scatter_ex(lox_process* pool, const void* in, size_t len, const lox_scatter_opts* opts,
                                   size_t* index, lox_task** task) {
  constexpr const char* op = "process scatter_ex";
  if (!capi::live(op, "pool", pool)) return LOX_EINVAL;
  if (!in && len > 0) return capi::null_argument(op, "in (with len > 0)");
  lox_scatter_opts o;
  if (!capi::read_scatter_opts(op, opts, true, o)) return LOX_EINVAL;
  if (!task && o.n_after == 0) return capi::guard(op, [&] { return pool->core.scatter(in, len, index); });
  capi::TaskRef ref;
  if (int st = capi::make_task(op, core::graph::Node::Kind::process, o, ref); st != LOX_OK) return st;
  if (o.encode) {
    ref.task->core.encoder = {[](void* f, void* c, void* value, std::string& out) {
                                lox_buffer b{&out};
                                return reinterpret_cast<decltype(o.encode)>(f)(c, value, &b);
                              },
                              reinterpret_cast<void*>(o.encode), o.encode_ctx};
  }
  int st = capi::guard(op, [&] { return pool->core.scatter_node(ref.task->core, in, len, index); });
  if (st != LOX_OK) return st;
  if (task) *task = ref.release();
  return LOX_OK;
}

LOX_API int lox_process_cancel(lox_process* pool) {
  return capi::call("process cancel", "pool", pool, [&] { pool->core.cancel(); });
}

LOX_API int lox_process_completions(lox_process* pool, lox_completions** out) {
  constexpr const char* op = "process completions";
  if (!capi::live(op, "pool", pool)) return LOX_EINVAL;
  if (!out) return capi::null_argument(op, "out");
  return capi::guard(op, [&] {
    // The handle first: once the round is taken nothing may fail.
    auto handle = capi::make_handle<lox_completions>(nullptr);
    handle->core = pool->core.completions();
    *out = handle.release();
    return LOX_OK;
  });
}

LOX_API int lox_process_gather(lox_process* pool, const lox_gather_opts* opts, lox_results** out) {
  return capi::gather("process gather", pool, opts, out);
}

}  // extern "C"
