// SPDX-License-Identifier: Apache-2.0
// The shapes every lox_* function takes, written once: create a handle,
// call a live handle, wait on it with a timeout, read a snapshot. Each
// checks its arguments in the order the header documents (the handle, then
// out-pointers, then the timeout), records the detail of the first bad one
// and returns its status; a function then only says what it does.
#pragma once

#include <lox/lox.h>

#include <type_traits>
#include <utility>

#include "boundary.hpp"
#include "handle.hpp"

namespace lox::capi {

// A status the core returns, or one a body computed already.
inline int status_of(Status s) noexcept { return to_c(s); }
inline int status_of(int s) noexcept { return s; }

// lox_X_create: `*out` = a new T built from `args` under the guard (a
// failed allocation is LOX_ENOMEM and leaves `*out` untouched). The caller
// evaluates `args`, outside the guard: pass values and references, never a
// call that may throw (build such an object inside guard() instead).
template <typename T, typename... Args>
int create(const char* op, T** out, Args&&... args) noexcept {
  if (!out) return null_argument(op, "out");
  return guard(op, [&] {
    *out = new_handle<T>(std::forward<Args>(args)...);
    return LOX_OK;
  });
}

// A call on a live handle `h` (`what` names it in the detail): `body()`,
// whose Status or int is returned; LOX_OK for a body that returns nothing.
template <typename T, typename Body>
int call(const char* op, const char* what, T* h, Body&& body) noexcept {
  if (!live(op, what, h)) return LOX_EINVAL;
  if constexpr (std::is_void_v<decltype(body())>) {
    body();
    return LOX_OK;
  } else {
    return status_of(body());
  }
}

// A wait on a live handle: `wait(deadline)` once `out` (named `out_name`
// in the detail; pass nullptr for a wait with no out-pointer) and the
// timeout are valid.
template <typename T, typename Wait>
int timed(const char* op, const char* what, T* h, const void* out, const char* out_name, double timeout,
          Wait&& wait) noexcept {
  if (!live(op, what, h)) return LOX_EINVAL;
  if (out_name && !out) return null_argument(op, out_name);
  core::Deadline d = core::Deadline::never();
  if (!to_deadline(op, timeout, d)) return LOX_EINVAL;
  return status_of(wait(d));
}
template <typename T, typename Wait>
int timed(const char* op, const char* what, T* h, double timeout, Wait&& wait) noexcept {
  return timed(op, what, h, nullptr, nullptr, timeout, std::forward<Wait>(wait));
}

// A getter: `read()` of a live handle, or `dead` for one that is not (the
// detail is recorded).
template <typename R, typename T, typename Read>
R snapshot(const char* op, const char* what, const T* h, R dead, Read&& read) noexcept {
  return live(op, what, h) ? static_cast<R>(read()) : dead;
}

// A create call's options: `*given` copied into `o` (which holds the
// defaults) after its struct_size was checked; a NULL `given` keeps the
// defaults. False (detail recorded) for a bad struct_size.
template <typename Opts>
bool read_options(const char* op, const char* type_name, const Opts* given, Opts& o) noexcept {
  if (!given) return true;
  if (!check_struct_size(op, type_name, given->struct_size, sizeof(Opts), sizeof(Opts))) return false;
  o = *given;
  return true;
}

// lox_thread_gather and lox_process_gather: the pool's next round as a new
// lox_results in `*out` (set whenever the pool handed a round over, also
// with LOX_ETASK).
template <typename Pool>
int gather(const char* op, Pool* pool, const lox_gather_opts* opts, lox_results** out) noexcept {
  if (!live(op, "pool", pool)) return LOX_EINVAL;
  if (!out) return null_argument(op, "out");
  core::GatherRequest req;
  if (!to_gather_request(op, opts, req)) return LOX_EINVAL;
  return guard(op, [&]() -> int {
    // Allocate the handle first: once gather took the round, nothing may fail.
    auto handle = make_handle<lox_results>(nullptr);
    Status st = pool->core.gather(req, handle->core);
    if (handle->core) *out = handle.release();
    return to_c(st);
  });
}

}  // namespace lox::capi
