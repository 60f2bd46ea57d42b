// SPDX-License-Identifier: Apache-2.0
// lox_lock_*, lox_lightswitch_*, lox_rwlock_*, lox_qlock_*,
// lox_index_semaphore_*: the C face of core::sync.
#include <lox/lox.h>

#include "boundary.hpp"
#include "handle.hpp"

using namespace lox;
using lox::capi::Status;

extern "C" {

// ------------------------------------------------------------------- lock --

LOX_API int lox_lock_create(lox_lock** out) {
  constexpr const char* op = "lock create";
  if (!out) return capi::null_argument(op, "out");
  return capi::guard(op, [&] {
    *out = capi::new_handle<lox_lock>();
    return LOX_OK;
  });
}

LOX_API void lox_lock_destroy(lox_lock* l) { capi::destroy_handle("lock destroy", l); }

LOX_API int lox_lock_acquire(lox_lock* l, double timeout) {
  constexpr const char* op = "lock acquire";
  if (!capi::live(op, "lock", l)) return LOX_EINVAL;
  core::Deadline d = core::Deadline::never();
  if (!capi::to_deadline(op, timeout, d)) return LOX_EINVAL;
  return capi::to_c(l->lock.acquire(d, op));
}

LOX_API int lox_lock_release(lox_lock* l) {
  if (!capi::live("lock release", "lock", l)) return LOX_EINVAL;
  return capi::to_c(l->lock.release());
}

LOX_API int lox_lock_locked(const lox_lock* l) {
  if (!capi::live("lock locked", "lock", l)) return LOX_EINVAL;
  return l->lock.locked() ? 1 : 0;
}

// ------------------------------------------------------------ lightswitch --

LOX_API int lox_lightswitch_create(lox_lock* lock, lox_lightswitch** out) {
  constexpr const char* op = "lightswitch create";
  if (!capi::live(op, "lock", lock)) return LOX_EINVAL;
  if (!out) return capi::null_argument(op, "out");
  return capi::guard(op, [&] {
    *out = capi::new_handle<lox_lightswitch>(lock->lock);
    return LOX_OK;
  });
}

LOX_API void lox_lightswitch_destroy(lox_lightswitch* ls) { capi::destroy_handle("lightswitch destroy", ls); }

LOX_API int lox_lightswitch_acquire(lox_lightswitch* ls, double timeout) {
  constexpr const char* op = "lightswitch acquire";
  if (!capi::live(op, "lightswitch", ls)) return LOX_EINVAL;
  core::Deadline d = core::Deadline::never();
  if (!capi::to_deadline(op, timeout, d)) return LOX_EINVAL;
  return capi::to_c(ls->ls.acquire(d));
}

LOX_API int lox_lightswitch_release(lox_lightswitch* ls) {
  if (!capi::live("lightswitch release", "lightswitch", ls)) return LOX_EINVAL;
  return capi::to_c(ls->ls.release());
}

LOX_API size_t lox_lightswitch_count(const lox_lightswitch* ls) {
  if (!capi::live("lightswitch count", "lightswitch", ls)) return 0;
  return ls->ls.count();
}

// ----------------------------------------------------------------- rwlock --

LOX_API int lox_rwlock_create(lox_rwlock** out) {
  constexpr const char* op = "rwlock create";
  if (!out) return capi::null_argument(op, "out");
  return capi::guard(op, [&] {
    *out = capi::new_handle<lox_rwlock>();
    return LOX_OK;
  });
}

LOX_API void lox_rwlock_destroy(lox_rwlock* rw) { capi::destroy_handle("rwlock destroy", rw); }

LOX_API int lox_rwlock_acquire(lox_rwlock* rw, int mode, double timeout) {
  constexpr const char* op = "rwlock acquire";
  if (!capi::live(op, "rwlock", rw)) return LOX_EINVAL;
  if (mode != LOX_READ && mode != LOX_WRITE)
    return capi::to_c(core::fail(Status::invalid, "{}: mode is {} (must be LOX_READ 'r' or LOX_WRITE 'w')", op, mode));
  core::Deadline d = core::Deadline::never();
  if (!capi::to_deadline(op, timeout, d)) return LOX_EINVAL;
  return capi::to_c(mode == LOX_READ ? rw->rw.acquire_read(d) : rw->rw.acquire_write(d));
}

LOX_API int lox_rwlock_release(lox_rwlock* rw, int mode) {
  constexpr const char* op = "rwlock release";
  if (!capi::live(op, "rwlock", rw)) return LOX_EINVAL;
  if (mode != LOX_READ && mode != LOX_WRITE)
    return capi::to_c(core::fail(Status::invalid, "{}: mode is {} (must be LOX_READ 'r' or LOX_WRITE 'w')", op, mode));
  return capi::to_c(mode == LOX_READ ? rw->rw.release_read() : rw->rw.release_write());
}

LOX_API size_t lox_rwlock_readers(const lox_rwlock* rw) {
  if (!capi::live("rwlock readers", "rwlock", rw)) return 0;
  return rw->rw.readers();
}

// ------------------------------------------------------------------ qlock --

LOX_API int lox_qlock_create(lox_qlock** out) {
  constexpr const char* op = "qlock create";
  if (!out) return capi::null_argument(op, "out");
  return capi::guard(op, [&] {
    *out = capi::new_handle<lox_qlock>();
    return LOX_OK;
  });
}

LOX_API void lox_qlock_destroy(lox_qlock* q) { capi::destroy_handle("qlock destroy", q); }

LOX_API int lox_qlock_acquire(lox_qlock* q, double timeout) {
  constexpr const char* op = "qlock acquire";
  if (!capi::live(op, "qlock", q)) return LOX_EINVAL;
  core::Deadline d = core::Deadline::never();
  if (!capi::to_deadline(op, timeout, d)) return LOX_EINVAL;
  return capi::to_c(q->q.acquire(d));
}

LOX_API int lox_qlock_release(lox_qlock* q) {
  if (!capi::live("qlock release", "qlock", q)) return LOX_EINVAL;
  return capi::to_c(q->q.release());
}

LOX_API size_t lox_qlock_waiting(const lox_qlock* q) {
  if (!capi::live("qlock waiting", "qlock", q)) return 0;
  return q->q.waiting();
}

LOX_API int lox_qlock_locked(const lox_qlock* q) {
  if (!capi::live("qlock locked", "qlock", q)) return LOX_EINVAL;
  return q->q.locked() ? 1 : 0;
}

// -------------------------------------------------------- index semaphore --

LOX_API int lox_index_semaphore_create(size_t n, lox_index_semaphore** out) {
  constexpr const char* op = "index_semaphore create";
  if (!out) return capi::null_argument(op, "out");
  if (n == 0) return capi::to_c(core::fail(Status::invalid, "{}: n is 0 (must be > 0)", op));
  if (n > core::sync::IndexSemaphore::kMaxSize)
    return capi::to_c(core::fail(Status::invalid, "{}: n is {} (at most {})", op, n,
                                 core::sync::IndexSemaphore::kMaxSize));
  return capi::guard(op, [&] {
    *out = capi::new_handle<lox_index_semaphore>(n);
    return LOX_OK;
  });
}

LOX_API void lox_index_semaphore_destroy(lox_index_semaphore* s) { capi::destroy_handle("index semaphore destroy", s); }

LOX_API int lox_index_semaphore_acquire(lox_index_semaphore* s, double timeout, size_t* index) {
  constexpr const char* op = "index_semaphore acquire";
  if (!capi::live(op, "semaphore", s)) return LOX_EINVAL;
  if (!index) return capi::null_argument(op, "index");
  core::Deadline d = core::Deadline::never();
  if (!capi::to_deadline(op, timeout, d)) return LOX_EINVAL;
  size_t i = 0;
  Status st = s->sem.acquire(d, i);
  if (st == Status::ok) *index = i;
  return capi::to_c(st);
}

LOX_API int lox_index_semaphore_release(lox_index_semaphore* s, size_t index) {
  if (!capi::live("index_semaphore release", "semaphore", s)) return LOX_EINVAL;
  return capi::to_c(s->sem.release(index));
}

LOX_API size_t lox_index_semaphore_available(const lox_index_semaphore* s) {
  if (!capi::live("index_semaphore available", "semaphore", s)) return 0;
  return s->sem.available();
}

LOX_API size_t lox_index_semaphore_waiting(const lox_index_semaphore* s) {
  if (!capi::live("index_semaphore waiting", "semaphore", s)) return 0;
  return s->sem.waiting();
}

}  // extern "C"
