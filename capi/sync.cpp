// SPDX-License-Identifier: Apache-2.0
// lox_lock_*, lox_lightswitch_*, lox_rwlock_*, lox_qlock_*,
// lox_index_semaphore_*: the C face of core::sync.
#include <lox/lox.h>

#include "boundary.hpp"
#include "calls.hpp"
#include "handle.hpp"

using namespace lox;
using lox::capi::Status;

namespace {

// LOX_READ and LOX_WRITE are the rwlock's only modes.
bool valid_mode(const char* op, int mode) noexcept {
  if (mode == LOX_READ || mode == LOX_WRITE) return true;
  core::fail(Status::invalid, "{}: mode is {} (must be LOX_READ 'r' or LOX_WRITE 'w')", op, mode);
  return false;
}

}  // namespace

extern "C" {

// ------------------------------------------------------------------- lock --

LOX_API int lox_lock_create(lox_lock** out) { return capi::create("lock create", out); }

LOX_API void lox_lock_destroy(lox_lock* l) { capi::destroy_handle("lock destroy", l); }

LOX_API int lox_lock_acquire(lox_lock* l, double timeout) {
  constexpr const char* op = "lock acquire";
  return capi::timed(op, "lock", l, timeout, [&](const core::Deadline& d) { return l->core.acquire(d, op); });
}

LOX_API int lox_lock_release(lox_lock* l) {
  return capi::call("lock release", "lock", l, [&] { return l->core.release(); });
}

// ------------------------------------------------------------ lightswitch --

LOX_API int lox_lightswitch_create(lox_lock* lock, lox_lightswitch** out) {
  constexpr const char* op = "lightswitch create";
  if (!capi::live(op, "lock", lock)) return LOX_EINVAL;
  return capi::create(op, out, lock->core);
}

LOX_API void lox_lightswitch_destroy(lox_lightswitch* ls) { capi::destroy_handle("lightswitch destroy", ls); }

LOX_API int lox_lightswitch_acquire(lox_lightswitch* ls, double timeout) {
  return capi::timed("lightswitch acquire", "lightswitch", ls, timeout,
                     [&](const core::Deadline& d) { return ls->core.acquire(d); });
}

LOX_API int lox_lightswitch_release(lox_lightswitch* ls) {
  return capi::call("lightswitch release", "lightswitch", ls, [&] { return ls->core.release(); });
}

// ----------------------------------------------------------------- rwlock --

LOX_API int lox_rwlock_create(lox_rwlock** out) { return capi::create("rwlock create", out); }

LOX_API void lox_rwlock_destroy(lox_rwlock* rw) { capi::destroy_handle("rwlock destroy", rw); }

LOX_API int lox_rwlock_acquire(lox_rwlock* rw, int mode, double timeout) {
  constexpr const char* op = "rwlock acquire";
  // capi::timed's checks with the mode's between the handle's and the
  // timeout's (the documented order), so that the handle is checked once.
  if (!capi::live(op, "rwlock", rw)) return LOX_EINVAL;
  if (!valid_mode(op, mode)) return LOX_EINVAL;
  core::Deadline d = core::Deadline::never();
  if (!capi::to_deadline(op, timeout, d)) return LOX_EINVAL;
  return capi::to_c(mode == LOX_READ ? rw->core.acquire_read(d) : rw->core.acquire_write(d));
}

LOX_API int lox_rwlock_release(lox_rwlock* rw, int mode) {
  constexpr const char* op = "rwlock release";
  return capi::call(op, "rwlock", rw, [&] {
    if (!valid_mode(op, mode)) return Status::invalid;
    return mode == LOX_READ ? rw->core.release_read() : rw->core.release_write();
  });
}

// ------------------------------------------------------------------ qlock --

LOX_API int lox_qlock_create(lox_qlock** out) { return capi::create("qlock create", out); }

LOX_API void lox_qlock_destroy(lox_qlock* q) { capi::destroy_handle("qlock destroy", q); }

LOX_API int lox_qlock_acquire(lox_qlock* q, double timeout) {
  return capi::timed("qlock acquire", "qlock", q, timeout, [&](const core::Deadline& d) { return q->core.acquire(d); });
}

LOX_API int lox_qlock_release(lox_qlock* q) {
  return capi::call("qlock release", "qlock", q, [&] { return q->core.release(); });
}

// -------------------------------------------------------- index semaphore --

LOX_API int lox_index_semaphore_create(size_t n, lox_index_semaphore** out) {
  constexpr const char* op = "index_semaphore create";
  if (!out) return capi::null_argument(op, "out");
  if (n == 0) return capi::to_c(core::fail(Status::invalid, "{}: n is 0 (must be > 0)", op));
  if (n > core::sync::IndexSemaphore::kMaxSize)
    return capi::to_c(
        core::fail(Status::invalid, "{}: n is {} (at most {})", op, n, core::sync::IndexSemaphore::kMaxSize));
  return capi::create(op, out, n);
}

LOX_API void lox_index_semaphore_destroy(lox_index_semaphore* s) { capi::destroy_handle("index semaphore destroy", s); }

LOX_API int lox_index_semaphore_acquire(lox_index_semaphore* s, double timeout, size_t* index) {
  return capi::timed("index_semaphore acquire", "semaphore", s, index, "index", timeout, [&](const core::Deadline& d) {
    size_t i = 0;
    Status st = s->core.acquire(d, i);
    if (st == Status::ok) *index = i;
    return st;
  });
}

LOX_API int lox_index_semaphore_release(lox_index_semaphore* s, size_t index) {
  return capi::call("index_semaphore release", "semaphore", s, [&] { return s->core.release(index); });
}

}  // extern "C"
