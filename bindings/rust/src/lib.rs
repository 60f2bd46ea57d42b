// SPDX-License-Identifier: Apache-2.0
//! Safe Rust binding of liblox, a C++20 concurrency library
//! behind a stable C ABI (`include/lox/lox.h`).
//!
//! What is wrapped:
//!
//! * [`ThreadPool`]: scatter closures onto liblox's worker threads, gather
//!   their results in scatter order; a panicking task becomes that task's
//!   [`TaskError`] and never unwinds into C.
//! * Locks with RAII guards that protect a value, like `std::sync::Mutex`:
//!   [`Lock`] (plain), [`QLock`] (strict FIFO), [`RwLock`]
//!   (writer-preferring), [`LightSwitch`] (shared entry into a [`Lock`]),
//!   and [`IndexSemaphore`] (n numbered resources).
//! * [`Queue`]: a closable multi-producer multi-consumer FIFO of owned
//!   values with `task_done`/`join`.
//! * [`Announcement`]: lox's many-queue-to-many-queue announcement (the
//!   creator is a member too), all-or-none puts, with a backlog for late
//!   subscribers.
//!
//! Every fallible call returns [`Result`]; the [`Error`] carries liblox's
//! status code, its name (`lox_status_str`) and the detail message of the
//! failing call (`lox_last_error`). Timeouts are `Option<Duration>`: `None`
//! waits forever, `Some(Duration::ZERO)` tries once without blocking.
//!
//! ```
//! let pool = lox::ThreadPool::new(4)?;
//! for x in 0..5u64 {
//!     pool.scatter(move || x * (x + 1))?;
//! }
//! let results: Vec<u64> = pool.gather()?.into_iter().map(|r| r.unwrap()).collect();
//! assert_eq!(results, [0, 2, 6, 12, 20]);
//! # Ok::<(), lox::Error>(())
//! ```
//!
//! # Thread-safety bounds
//!
//! The `Send`/`Sync` bounds are enforced by the compiler. A value that is
//! not `Send` cannot travel through a [`Queue`]:
//!
//! ```compile_fail
//! use std::rc::Rc;
//! let q = lox::Queue::new(0).unwrap();
//! q.put(Rc::new(1)).unwrap();
//! ```
//!
//! nor can a task capture one (it would run on another thread):
//!
//! ```compile_fail
//! use std::rc::Rc;
//! let pool = lox::ThreadPool::new(2).unwrap();
//! let rc = Rc::new(1);
//! pool.scatter(move || *rc + 1).unwrap();
//! ```
//!
//! nor return one:
//!
//! ```compile_fail
//! use std::rc::Rc;
//! let pool = lox::ThreadPool::new(2).unwrap();
//! pool.scatter(move || Rc::new(1)).unwrap();
//! ```
//!
//! nor, since every receiver shares it, can one that is not `Sync` travel
//! through an [`Announcement`]:
//!
//! ```compile_fail
//! use std::cell::Cell;
//! let ann = lox::Announcement::new(0, lox::sys::LOX_BACKLOG_OFF).unwrap();
//! ann.put(Cell::new(1)).unwrap();
//! ```
//!
//! A [`Lock`] shared between threads needs a `Send` value:
//!
//! ```compile_fail
//! use std::rc::Rc;
//! let lock = lox::Lock::new(Rc::new(1)).unwrap();
//! std::thread::scope(|s| {
//!     s.spawn(|| drop(lock.lock().unwrap()));
//! });
//! ```
//!
//! and readers of an [`RwLock`] share the value, so it must be `Sync` too:
//!
//! ```compile_fail
//! use std::cell::Cell;
//! let lock = lox::RwLock::new(Cell::new(1)).unwrap();
//! std::thread::scope(|s| {
//!     s.spawn(|| lock.read().unwrap().get());
//! });
//! ```
//!
//! (The same programs with `Arc`/`AtomicI32` in place of `Rc`/`Cell`
//! compile; see the crate's tests.)

#![warn(missing_docs)]

use std::ffi::CStr;
use std::fmt;
use std::os::raw::{c_char, c_int};
use std::time::Duration;

pub mod sys;

mod announcement;
mod queue;
mod sync;
mod thread_pool;

pub use announcement::Announcement;
pub use queue::{PutError, Queue};
pub use sync::{
    IndexGuard, IndexSemaphore, LightSwitch, LightSwitchGuard, Lock, LockGuard, QLock, QLockGuard,
    RwLock, RwLockReadGuard, RwLockWriteGuard,
};
pub use thread_pool::{TaskError, TaskResult, ThreadPool};

/// `Result` with this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

/// A liblox status other than success: the status code (`LOX_E*`, or
/// `LOX_TIMEOUT` where a wait running out is reported as an error), its name
/// from `lox_status_str` and the detail message from `lox_last_error`.
///
/// ```
/// let err = lox::IndexSemaphore::new(0).unwrap_err();
/// assert_eq!(err.code(), lox::sys::LOX_EINVAL);
/// assert_eq!(err.name(), "invalid argument");
/// assert!(!err.detail().is_empty());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    code: i32,
    name: &'static str,
    detail: String,
}

impl Error {
    /// Builds the error for `code` (nonzero). For a negative code the
    /// calling thread's `lox_last_error()` is read, so call this right after
    /// the failing liblox call, before any other liblox call of this thread.
    pub(crate) fn from_code(code: c_int) -> Error {
        let detail = if code < 0 {
            // SAFETY: lox_last_error never returns NULL; the text stays valid
            // until this thread's next liblox call, and it is copied here.
            unsafe { cstr_to_string(sys::lox_last_error()) }
        } else if code == sys::LOX_TIMEOUT {
            "the wait timed out".to_string()
        } else {
            String::new()
        };
        Error {
            code,
            name: status_name(code),
            detail,
        }
    }

    /// The liblox status code, e.g. [`sys::LOX_ECLOSED`].
    pub fn code(&self) -> i32 {
        self.code
    }

    /// The status's name from `lox_status_str`, e.g. "invalid argument".
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// liblox's detail message for the failing call (`lox_last_error`),
    /// e.g. "index semaphore create: n is 0".
    pub fn detail(&self) -> &str {
        &self.detail
    }

    /// True when a timed wait ran out (`LOX_TIMEOUT`).
    pub fn is_timeout(&self) -> bool {
        self.code == sys::LOX_TIMEOUT
    }

    /// True when the object is closed (`LOX_ECLOSED`), e.g. a closed and
    /// drained [`Queue`].
    pub fn is_closed(&self) -> bool {
        self.code == sys::LOX_ECLOSED
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.detail.is_empty() {
            write!(f, "{} (lox status {})", self.name, self.code)
        } else {
            write!(
                f,
                "{}: {} (lox status {})",
                self.name, self.detail, self.code
            )
        }
    }
}

impl std::error::Error for Error {}

/// The static name liblox gives a status code (`lox_status_str`), e.g.
/// `status_name(lox::sys::LOX_ECLOSED)`.
///
/// ```
/// assert_eq!(lox::status_name(lox::sys::LOX_OK), "success");
/// assert_eq!(lox::status_name(12345), "unknown status");
/// ```
pub fn status_name(code: i32) -> &'static str {
    // SAFETY: lox_status_str returns static text, never NULL, thread-safe.
    let p = unsafe { sys::lox_status_str(code) };
    if p.is_null() {
        return "unknown status";
    }
    // SAFETY: static NUL-terminated text owned by the library for the whole
    // life of the process.
    unsafe { CStr::from_ptr(p) }
        .to_str()
        .unwrap_or("unknown status")
}

/// Copies a C string (NULL reads as "").
pub(crate) unsafe fn cstr_to_string(p: *const c_char) -> String {
    if p.is_null() {
        String::new()
    } else {
        CStr::from_ptr(p).to_string_lossy().into_owned()
    }
}

/// `Ok(())` for `LOX_OK`, the error otherwise.
pub(crate) fn check(code: c_int) -> Result<()> {
    if code == sys::LOX_OK {
        Ok(())
    } else {
        Err(Error::from_code(code))
    }
}

/// For timed waits: `Ok(true)` acquired, `Ok(false)` timed out.
pub(crate) fn check_wait(code: c_int) -> Result<bool> {
    match code {
        sys::LOX_OK => Ok(true),
        sys::LOX_TIMEOUT => Ok(false),
        _ => Err(Error::from_code(code)),
    }
}

/// Converts a timeout to liblox's seconds: `None` waits forever.
pub(crate) fn seconds(timeout: Option<Duration>) -> f64 {
    match timeout {
        None => sys::LOX_FOREVER,
        Some(d) => d.as_secs_f64(),
    }
}

/// Version of the loaded liblox as `(major, minor, patch)`.
///
/// ```
/// let (major, minor, _patch) = lox::version();
/// assert_eq!((major, minor), (0, 1));
/// ```
pub fn version() -> (u32, u32, u32) {
    // SAFETY: thread-safe, never fails.
    let v = unsafe { sys::lox_version() };
    ((v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff)
}

/// Version of the loaded liblox as text, e.g. "0.1.0".
///
/// ```
/// assert!(lox::version_string().starts_with("0."));
/// ```
pub fn version_string() -> &'static str {
    // SAFETY: static text, never NULL.
    unsafe { CStr::from_ptr(sys::lox_version_string()) }
        .to_str()
        .unwrap_or("")
}

/// Minimum level of liblox's own log messages (failed tasks, detected
/// misuse), which go to stderr.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogLevel {
    /// Everything.
    Trace,
    /// Debugging detail.
    Debug,
    /// Information.
    Info,
    /// Warnings (liblox's default).
    Warn,
    /// Errors only.
    Error,
    /// Nothing.
    Off,
}

/// Sets the minimum level liblox logs (`lox_log_set_level`); takes effect
/// at once in every thread.
///
/// ```
/// let before = lox::log_level();
/// lox::set_log_level(lox::LogLevel::Error);
/// assert_eq!(lox::log_level(), lox::LogLevel::Error);
/// lox::set_log_level(before);
/// ```
pub fn set_log_level(level: LogLevel) {
    let l = match level {
        LogLevel::Trace => sys::LOX_LOG_TRACE,
        LogLevel::Debug => sys::LOX_LOG_DEBUG,
        LogLevel::Info => sys::LOX_LOG_INFO,
        LogLevel::Warn => sys::LOX_LOG_WARN,
        LogLevel::Error => sys::LOX_LOG_ERROR,
        LogLevel::Off => sys::LOX_LOG_OFF,
    };
    // SAFETY: thread-safe; out-of-range values are clamped by liblox.
    unsafe { sys::lox_log_set_level(l) }
}

/// The current minimum log level (`lox_log_get_level`).
pub fn log_level() -> LogLevel {
    // SAFETY: thread-safe, never fails.
    match unsafe { sys::lox_log_get_level() } {
        sys::LOX_LOG_TRACE => LogLevel::Trace,
        sys::LOX_LOG_DEBUG => LogLevel::Debug,
        sys::LOX_LOG_INFO => LogLevel::Info,
        sys::LOX_LOG_WARN => LogLevel::Warn,
        sys::LOX_LOG_ERROR => LogLevel::Error,
        _ => LogLevel::Off,
    }
}

/// The README's examples, compiled and run as doc tests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
