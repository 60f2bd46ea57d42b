// SPDX-License-Identifier: Apache-2.0
//! Raw declarations of the liblox C ABI (`include/lox/lox.h`) for the parts
//! this crate wraps. Hand-written; every function here is `unsafe` to call
//! and follows the contract documented in `lox.h`.
//!
//! Opaque handles are zero-sized private structs: they can only be used
//! behind pointers and cannot be built or moved by value from Rust.

#![allow(non_camel_case_types)]
#![allow(missing_docs)]

use std::os::raw::{c_char, c_double, c_int, c_uint, c_void};

// --- version -------------------------------------------------------------

pub const LOX_VERSION_MAJOR: c_uint = 0;
pub const LOX_VERSION_MINOR: c_uint = 1;
pub const LOX_VERSION_PATCH: c_uint = 0;
/// `(major << 16) | (minor << 8) | patch` of the header these declarations
/// were written from.
pub const LOX_VERSION_NUMBER: c_uint =
    (LOX_VERSION_MAJOR << 16) | (LOX_VERSION_MINOR << 8) | LOX_VERSION_PATCH;

// --- status codes --------------------------------------------------------
// Written by hand (the crate has no build dependencies, so no bindgen);
// tests/errors.rs checks each value against lox.h's LOX_STATUS_MAP and
// against lox_status_name.

pub const LOX_OK: c_int = 0;
pub const LOX_TIMEOUT: c_int = 1;
pub const LOX_EINVAL: c_int = -1;
pub const LOX_ENOMEM: c_int = -2;
pub const LOX_ESTATE: c_int = -3;
pub const LOX_ECLOSED: c_int = -4;
pub const LOX_ETASK: c_int = -5;
pub const LOX_EWORKER: c_int = -6;
pub const LOX_ESYS: c_int = -7;
pub const LOX_ECANCELLED: c_int = -8;
pub const LOX_EDEPENDENCY: c_int = -9;

/// Wait forever (any negative timeout does the same).
pub const LOX_FOREVER: c_double = -1.0;

// --- logging -------------------------------------------------------------

pub const LOX_LOG_TRACE: c_int = 0;
pub const LOX_LOG_DEBUG: c_int = 1;
pub const LOX_LOG_INFO: c_int = 2;
pub const LOX_LOG_WARN: c_int = 3;
pub const LOX_LOG_ERROR: c_int = 4;
pub const LOX_LOG_OFF: c_int = 5;

// --- pools ---------------------------------------------------------------

/// `max_workers` meaning "the default" (50 threads for the thread pool).
pub const LOX_DEFAULT_WORKERS: usize = usize::MAX;

// --- rw lock modes (lox_rwlock_acquire, lox_rwlock_release) ----------

pub const LOX_READ: c_int = b'r' as c_int;
pub const LOX_WRITE: c_int = b'w' as c_int;

// --- announcement backlog (any N > 0 keeps the last N items) -----------

pub const LOX_BACKLOG_OFF: i64 = -1;
pub const LOX_BACKLOG_UNBOUNDED: i64 = 0;

// --- opaque handles ------------------------------------------------------

macro_rules! opaque {
    ($($name:ident),* $(,)?) => {
        $(
            #[repr(C)]
            pub struct $name {
                _private: [u8; 0],
            }
        )*
    };
}

opaque!(
    lox_results,
    lox_thread,
    lox_lock,
    lox_lightswitch,
    lox_rwlock,
    lox_qlock,
    lox_index_semaphore,
    lox_queue,
    lox_announcement,
);

// --- callbacks and option structs ---------------------------------------

pub type lox_task_fn =
    unsafe extern "C" fn(ctx: *mut c_void, arg: *mut c_void, result: *mut *mut c_void) -> c_int;
pub type lox_progress_fn = unsafe extern "C" fn(ctx: *mut c_void, done: usize, total: usize);
pub type lox_log_fn = unsafe extern "C" fn(ctx: *mut c_void, level: c_int, message: *const c_char);

#[repr(C)]
#[derive(Clone, Copy)]
pub struct lox_gather_opts {
    pub struct_size: usize,
    pub timeout: c_double,
    pub progress: Option<lox_progress_fn>,
    pub progress_ctx: *mut c_void,
    pub progress_bar: c_int,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct lox_thread_opts {
    pub struct_size: usize,
    pub idle_timeout: c_double,
}

extern "C" {
    // version, status, errors
    pub fn lox_version() -> c_uint;
    pub fn lox_version_string() -> *const c_char;
    pub fn lox_status_str(status: c_int) -> *const c_char;
    pub fn lox_status_name(status: c_int) -> *const c_char;
    pub fn lox_last_error() -> *const c_char;

    // logging
    pub fn lox_log_set_level(level: c_int);
    pub fn lox_log_get_level() -> c_int;
    pub fn lox_log_set_callback(f: Option<lox_log_fn>, ctx: *mut c_void);

    // gather options and results
    pub fn lox_gather_opts_init(opts: *mut lox_gather_opts);
    pub fn lox_results_count(r: *const lox_results) -> usize;
    pub fn lox_results_status(r: *const lox_results, i: usize) -> c_int;
    pub fn lox_results_value(r: *const lox_results, i: usize) -> *mut c_void;
    pub fn lox_results_error(r: *const lox_results, i: usize) -> *const c_char;
    pub fn lox_results_destroy(r: *mut lox_results);

    // thread pool
    pub fn lox_thread_opts_init(opts: *mut lox_thread_opts);
    pub fn lox_thread_create(
        max_workers: usize,
        f: Option<lox_task_fn>,
        ctx: *mut c_void,
        out: *mut *mut lox_thread,
    ) -> c_int;
    pub fn lox_thread_create_ex(
        max_workers: usize,
        f: Option<lox_task_fn>,
        ctx: *mut c_void,
        opts: *const lox_thread_opts,
        out: *mut *mut lox_thread,
    ) -> c_int;
    pub fn lox_thread_destroy(pool: *mut lox_thread);
    pub fn lox_thread_scatter_fn(
        pool: *mut lox_thread,
        f: Option<lox_task_fn>,
        ctx: *mut c_void,
        arg: *mut c_void,
        index: *mut usize,
    ) -> c_int;
    pub fn lox_thread_pending(pool: *const lox_thread) -> usize;
    pub fn lox_thread_workers(pool: *const lox_thread) -> usize;
    pub fn lox_thread_gather(
        pool: *mut lox_thread,
        opts: *const lox_gather_opts,
        out: *mut *mut lox_results,
    ) -> c_int;

    // lock
    pub fn lox_lock_create(out: *mut *mut lox_lock) -> c_int;
    pub fn lox_lock_destroy(l: *mut lox_lock);
    pub fn lox_lock_acquire(l: *mut lox_lock, timeout: c_double) -> c_int;
    pub fn lox_lock_release(l: *mut lox_lock) -> c_int;
    pub fn lox_lock_locked(l: *const lox_lock) -> c_int;

    // light switch
    pub fn lox_lightswitch_create(lock: *mut lox_lock, out: *mut *mut lox_lightswitch) -> c_int;
    pub fn lox_lightswitch_destroy(switch: *mut lox_lightswitch);
    pub fn lox_lightswitch_acquire(switch: *mut lox_lightswitch, timeout: c_double) -> c_int;
    pub fn lox_lightswitch_release(switch: *mut lox_lightswitch) -> c_int;
    pub fn lox_lightswitch_count(switch: *const lox_lightswitch) -> usize;

    // rw lock
    pub fn lox_rwlock_create(out: *mut *mut lox_rwlock) -> c_int;
    pub fn lox_rwlock_destroy(lock: *mut lox_rwlock);
    pub fn lox_rwlock_acquire(lock: *mut lox_rwlock, mode: c_int, timeout: c_double) -> c_int;
    pub fn lox_rwlock_release(lock: *mut lox_rwlock, mode: c_int) -> c_int;
    pub fn lox_rwlock_readers(lock: *const lox_rwlock) -> usize;

    // qlock
    pub fn lox_qlock_create(out: *mut *mut lox_qlock) -> c_int;
    pub fn lox_qlock_destroy(lock: *mut lox_qlock);
    pub fn lox_qlock_acquire(lock: *mut lox_qlock, timeout: c_double) -> c_int;
    pub fn lox_qlock_release(lock: *mut lox_qlock) -> c_int;
    pub fn lox_qlock_waiting(lock: *const lox_qlock) -> usize;
    pub fn lox_qlock_locked(lock: *const lox_qlock) -> c_int;

    // index semaphore
    pub fn lox_index_semaphore_create(n: usize, out: *mut *mut lox_index_semaphore) -> c_int;
    pub fn lox_index_semaphore_destroy(semaphore: *mut lox_index_semaphore);
    pub fn lox_index_semaphore_acquire(
        semaphore: *mut lox_index_semaphore,
        timeout: c_double,
        index: *mut usize,
    ) -> c_int;
    pub fn lox_index_semaphore_release(semaphore: *mut lox_index_semaphore, index: usize) -> c_int;
    pub fn lox_index_semaphore_available(semaphore: *const lox_index_semaphore) -> usize;
    pub fn lox_index_semaphore_waiting(semaphore: *const lox_index_semaphore) -> usize;

    // queue
    pub fn lox_queue_create(maxsize: usize, out: *mut *mut lox_queue) -> c_int;
    pub fn lox_queue_destroy(q: *mut lox_queue);
    pub fn lox_queue_put(q: *mut lox_queue, item: *mut c_void, timeout: c_double) -> c_int;
    pub fn lox_queue_get(q: *mut lox_queue, item: *mut *mut c_void, timeout: c_double) -> c_int;
    pub fn lox_queue_close(q: *mut lox_queue) -> c_int;
    pub fn lox_queue_closed(q: *const lox_queue) -> c_int;
    pub fn lox_queue_task_done(q: *mut lox_queue) -> c_int;
    pub fn lox_queue_join(q: *mut lox_queue, timeout: c_double) -> c_int;
    pub fn lox_queue_size(q: *const lox_queue) -> usize;
    pub fn lox_queue_maxsize(q: *const lox_queue) -> usize;
    pub fn lox_queue_empty(q: *const lox_queue) -> c_int;
    pub fn lox_queue_full(q: *const lox_queue) -> c_int;

    // announcement
    pub fn lox_announcement_create(
        maxsize: usize,
        backlog: i64,
        out: *mut *mut lox_announcement,
    ) -> c_int;
    pub fn lox_announcement_destroy(a: *mut lox_announcement);
    pub fn lox_announcement_subscribe(
        a: *mut lox_announcement,
        maxsize: usize,
        timeout: c_double,
        out: *mut *mut lox_announcement,
    ) -> c_int;
    pub fn lox_announcement_put(
        a: *mut lox_announcement,
        item: *mut c_void,
        timeout: c_double,
    ) -> c_int;
    pub fn lox_announcement_get(
        a: *mut lox_announcement,
        item: *mut *mut c_void,
        timeout: c_double,
    ) -> c_int;
    pub fn lox_announcement_finalize(a: *mut lox_announcement) -> c_int;
    pub fn lox_announcement_unsubscribe(a: *mut lox_announcement) -> c_int;
    pub fn lox_announcement_clone(
        a: *mut lox_announcement,
        out: *mut *mut lox_announcement,
    ) -> c_int;
    pub fn lox_announcement_subscribers(a: *const lox_announcement) -> usize;
    pub fn lox_announcement_size(a: *const lox_announcement) -> usize;
    pub fn lox_announcement_backlog(a: *const lox_announcement) -> usize;
    pub fn lox_announcement_empty(a: *const lox_announcement) -> c_int;
    pub fn lox_announcement_full(a: *const lox_announcement) -> c_int;
}
