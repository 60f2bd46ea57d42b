// SPDX-License-Identifier: Apache-2.0
//! Scatter/gather thread pool over `lox_thread`.

use std::any::Any;
use std::fmt;
use std::marker::PhantomData;
use std::os::raw::{c_int, c_void};
use std::panic::{self, AssertUnwindSafe};
use std::ptr::{self, NonNull};
use std::time::Duration;

use crate::{check, cstr_to_string, seconds, sys, Error, Result};

/// What a task hands back through `*result`: its value, or the message of
/// the panic that ended it. Boxed, so it fits the C `void *`.
type Outcome<T> = std::result::Result<T, String>;

/// The result of one task: its value, or why it has none.
pub type TaskResult<T> = std::result::Result<T, TaskError>;

/// Why a task produced no value: it panicked (the panic was caught on the
/// worker thread and never crossed into C), or liblox reported a failure
/// for it.
///
/// ```
/// let pool = lox::ThreadPool::<i32>::new(2)?;
/// pool.scatter(|| panic!("boom"))?;
/// let results = pool.gather()?;
/// let err = results[0].as_ref().unwrap_err();
/// assert!(err.is_panic());
/// assert_eq!(err.message(), "boom");
/// assert_eq!(err.status(), lox::TaskError::PANIC_STATUS);
/// # Ok::<(), lox::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskError {
    status: i32,
    message: String,
    panicked: bool,
}

impl TaskError {
    /// The status a panicking task reports to liblox (any nonzero value
    /// marks a failed task; 101 is Rust's panic exit code and differs from
    /// every `LOX_*` code).
    pub const PANIC_STATUS: i32 = 101;

    /// The task's status in liblox's results (`lox_results_status`).
    pub fn status(&self) -> i32 {
        self.status
    }

    /// The panic message (for a `&str` or `String` payload), or liblox's
    /// detail text for the task.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// True when the task panicked.
    pub fn is_panic(&self) -> bool {
        self.panicked
    }
}

impl fmt::Display for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.panicked {
            write!(f, "task panicked: {}", self.message)
        } else {
            write!(
                f,
                "task failed with status {}: {}",
                self.status, self.message
            )
        }
    }
}

impl std::error::Error for TaskError {}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "task panicked with a non-string payload".to_string()
    }
}

/// Drops a panic payload without letting a second panic (from the payload's
/// own `Drop`) escape: that one is leaked instead.
fn drop_payload(payload: Box<dyn Any + Send>) {
    if let Err(again) = panic::catch_unwind(AssertUnwindSafe(move || drop(payload))) {
        std::mem::forget(again);
    }
}

/// The `lox_task_fn` of every task: `ctx` is a `Box<F>` leaked by
/// `scatter`, consumed here exactly once (liblox runs every scattered task
/// exactly once, also when the pool is destroyed with tasks queued).
unsafe extern "C" fn run_task<F, T>(
    ctx: *mut c_void,
    _arg: *mut c_void,
    result: *mut *mut c_void,
) -> c_int
where
    F: FnOnce() -> T,
{
    // Nothing below may unwind into C: the closure (and the drop of its
    // captures) runs inside catch_unwind, and the panic payload is dropped
    // under another catch_unwind.
    let task = Box::from_raw(ctx as *mut F);
    let outcome: Outcome<T> = match panic::catch_unwind(AssertUnwindSafe(task)) {
        Ok(value) => Ok(value),
        Err(payload) => {
            let msg = panic_message(&*payload);
            drop_payload(payload);
            Err(msg)
        }
    };
    let status = if outcome.is_ok() {
        0
    } else {
        TaskError::PANIC_STATUS
    };
    *result = Box::into_raw(Box::new(outcome)) as *mut c_void;
    status
}

/// Takes ownership of a `lox_results` and turns it into Rust values,
/// freeing every boxed outcome and the results object.
struct Results(*mut sys::lox_results);

impl Drop for Results {
    fn drop(&mut self) {
        // SAFETY: we own the results object; NULL is ignored.
        unsafe { sys::lox_results_destroy(self.0) }
    }
}

impl Results {
    /// # Safety
    /// Every task of the round must have been scattered by a
    /// `ThreadPool<T>` (so each value is a `Box<Outcome<T>>` or NULL).
    unsafe fn take<T>(self) -> Vec<TaskResult<T>> {
        let r = self.0;
        let n = sys::lox_results_count(r);
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            let status = sys::lox_results_status(r, i);
            let value = sys::lox_results_value(r, i);
            let item = if value.is_null() {
                let detail = cstr_to_string(sys::lox_results_error(r, i));
                Err(TaskError {
                    status,
                    message: if detail.is_empty() {
                        "the task produced no value".to_string()
                    } else {
                        detail
                    },
                    panicked: false,
                })
            } else {
                match *Box::from_raw(value as *mut Outcome<T>) {
                    Ok(v) => Ok(v),
                    Err(message) => Err(TaskError {
                        status,
                        message,
                        panicked: true,
                    }),
                }
            };
            out.push(item);
        }
        out
    }
}

struct ProgressCtx<'a> {
    callback: &'a mut dyn FnMut(usize, usize),
    panic: Option<Box<dyn Any + Send>>,
}

unsafe extern "C" fn run_progress(ctx: *mut c_void, done: usize, total: usize) {
    // SAFETY: ctx is the &mut ProgressCtx that gather_raw keeps alive for the
    // whole lox_thread_gather call; liblox calls this in the gathering
    // thread and never concurrently.
    let ctx = &mut *(ctx as *mut ProgressCtx<'_>);
    if ctx.panic.is_some() {
        return;
    }
    let callback = &mut *ctx.callback;
    if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(|| callback(done, total))) {
        ctx.panic = Some(payload);
    }
}

/// A pool of liblox worker threads running closures that return `T`.
///
/// [`scatter`](ThreadPool::scatter) queues a closure and returns at once;
/// [`gather`](ThreadPool::gather) waits for every task scattered since the
/// previous gather (the round) and returns their results in scatter order.
/// Workers start on demand, up to `max_workers`, and exit after an idle
/// period; `max_workers == 0` (or the environment variable `LOX_DEBUG=1`)
/// runs each task inline inside `scatter`.
///
/// ```
/// let pool = lox::ThreadPool::new(4)?;
/// for x in 0..5u64 {
///     pool.scatter(move || x * (x + 1))?;
/// }
/// let squares: Vec<u64> = pool.gather()?.into_iter().map(|r| r.unwrap()).collect();
/// assert_eq!(squares, [0, 2, 6, 12, 20]);
/// # Ok::<(), lox::Error>(())
/// ```
///
/// The pool is `Sync`: any number of threads may scatter (and gather) at
/// once, e.g. through `std::thread::scope` or an `Arc`. Dropping the pool
/// runs every task still queued, drops the results nobody gathered, and
/// joins the worker threads.
pub struct ThreadPool<T: Send + 'static> {
    raw: NonNull<sys::lox_thread>,
    _values: PhantomData<fn() -> T>,
}

// SAFETY: lox.h: "Every object may be used from any number of threads at
// once unless a function says otherwise", and lox_thread_scatter_fn /
// lox_thread_gather are documented thread-safe (concurrent scatters
// serialise; two concurrent gathers each get a disjoint round).
// lox_thread_destroy "must not race with other calls": it is only called in
// Drop, which has exclusive access. The pool hands values of type T, made
// on worker threads, to whichever thread gathers, so T: Send is required
// (and enough: no &T is ever shared). The closures themselves are required
// to be Send by `scatter`.
unsafe impl<T: Send + 'static> Send for ThreadPool<T> {}
// SAFETY: see above; every &self method maps to a thread-safe liblox call.
unsafe impl<T: Send + 'static> Sync for ThreadPool<T> {}

impl<T: Send + 'static> ThreadPool<T> {
    /// Creates a pool of at most `max_workers` threads (0: run tasks inline
    /// in `scatter`, liblox's debug mode). No thread starts until work is
    /// scattered.
    ///
    /// ```
    /// let pool = lox::ThreadPool::<()>::new(8)?;
    /// assert_eq!(pool.workers(), 0); // started on demand
    /// # Ok::<(), lox::Error>(())
    /// ```
    pub fn new(max_workers: usize) -> Result<Self> {
        let mut raw = ptr::null_mut();
        // SAFETY: a NULL fn is allowed for a pool used only through
        // lox_thread_scatter_fn; `raw` is a valid out-pointer.
        check(unsafe { sys::lox_thread_create(max_workers, None, ptr::null_mut(), &mut raw) })?;
        Ok(Self::from_raw(raw))
    }

    /// Creates a pool with liblox's default size (50 threads).
    ///
    /// ```
    /// let pool = lox::ThreadPool::<u8>::with_default_workers()?;
    /// pool.scatter(|| 7)?;
    /// assert_eq!(pool.gather()?[0], Ok(7));
    /// # Ok::<(), lox::Error>(())
    /// ```
    pub fn with_default_workers() -> Result<Self> {
        Self::new(sys::LOX_DEFAULT_WORKERS)
    }

    /// Like [`new`](ThreadPool::new), with the time an idle worker waits
    /// for work before its thread exits (liblox's default is 2 s; zero
    /// exits as soon as there is no work).
    ///
    /// ```
    /// use std::time::Duration;
    /// let pool = lox::ThreadPool::<u8>::with_idle_timeout(2, Duration::ZERO)?;
    /// pool.scatter(|| 1)?;
    /// assert_eq!(pool.gather()?, [Ok(1)]);
    /// # Ok::<(), lox::Error>(())
    /// ```
    pub fn with_idle_timeout(max_workers: usize, idle_timeout: Duration) -> Result<Self> {
        let mut opts = sys::lox_thread_opts {
            struct_size: 0,
            idle_timeout: 0.0,
        };
        // SAFETY: fills the struct with the defaults (struct_size included).
        unsafe { sys::lox_thread_opts_init(&mut opts) };
        opts.idle_timeout = idle_timeout.as_secs_f64();
        let mut raw = ptr::null_mut();
        // SAFETY: valid options and out-pointer; NULL fn as in `new`.
        check(unsafe {
            sys::lox_thread_create_ex(max_workers, None, ptr::null_mut(), &opts, &mut raw)
        })?;
        Ok(Self::from_raw(raw))
    }

    fn from_raw(raw: *mut sys::lox_thread) -> Self {
        ThreadPool {
            raw: NonNull::new(raw).expect("lox_thread_create returned LOX_OK and NULL"),
            _values: PhantomData,
        }
    }

    /// Queues `task` for a worker thread and returns its index in the
    /// results of the gather that collects it (0, 1, 2, ... since the
    /// previous gather). A panic inside `task` is caught on the worker and
    /// reported as that task's [`TaskError`].
    ///
    /// ```
    /// let pool = lox::ThreadPool::new(2)?;
    /// assert_eq!(pool.scatter(|| "a")?, 0);
    /// assert_eq!(pool.scatter(|| "b")?, 1);
    /// assert_eq!(pool.gather()?, [Ok("a"), Ok("b")]);
    /// # Ok::<(), lox::Error>(())
    /// ```
    pub fn scatter<F>(&self, task: F) -> Result<usize>
    where
        F: FnOnce() -> T + Send + 'static,
    {
        let ctx = Box::into_raw(Box::new(task)) as *mut c_void;
        let mut index = 0usize;
        // SAFETY: run_task::<F, T> consumes ctx (a Box<F>) exactly once; F is
        // Send + 'static since it runs later on another thread; `index` is a
        // valid out-pointer.
        let status = unsafe {
            sys::lox_thread_scatter_fn(
                self.raw.as_ptr(),
                Some(run_task::<F, T>),
                ctx,
                ptr::null_mut(),
                &mut index,
            )
        };
        if status != sys::LOX_OK {
            let err = Error::from_code(status);
            // A call that returns an error changes nothing: the task was not
            // queued, so the closure is still ours to drop.
            // SAFETY: ctx came from Box::into_raw above and was not consumed.
            drop(unsafe { Box::from_raw(ctx as *mut F) });
            return Err(err);
        }
        Ok(index)
    }

    /// Waits for the round (every task scattered since the previous gather
    /// began) and returns one result per task, in scatter order.
    ///
    /// Fails with `LOX_ESTATE` when called from inside one of this pool's
    /// own tasks (the round could never finish).
    ///
    /// ```
    /// let pool = lox::ThreadPool::new(3)?;
    /// for i in 0..10 {
    ///     pool.scatter(move || i)?;
    /// }
    /// let values: Vec<i32> = pool.gather()?.into_iter().map(Result::unwrap).collect();
    /// assert_eq!(values, (0..10).collect::<Vec<_>>());
    /// assert!(pool.gather()?.is_empty()); // a new, empty round
    /// # Ok::<(), lox::Error>(())
    /// ```
    pub fn gather(&self) -> Result<Vec<TaskResult<T>>> {
        let round = self.gather_raw(None, None, false)?;
        Ok(round.expect("a gather without timeout timed out"))
    }

    /// Like [`gather`](ThreadPool::gather), giving up after `timeout`
    /// (`None`: forever): `Ok(None)` when it ran out. Nothing is lost then:
    /// the next gather returns the same round.
    ///
    /// ```
    /// use std::sync::mpsc;
    /// use std::time::Duration;
    /// let pool = lox::ThreadPool::new(1)?;
    /// let (tx, rx) = mpsc::channel::<()>();
    /// pool.scatter(move || rx.recv().is_ok())?;
    /// assert!(pool.gather_timeout(Some(Duration::from_millis(10)))?.is_none());
    /// tx.send(()).unwrap();
    /// assert_eq!(pool.gather_timeout(None)?, Some(vec![Ok(true)]));
    /// # Ok::<(), lox::Error>(())
    /// ```
    pub fn gather_timeout(&self, timeout: Option<Duration>) -> Result<Option<Vec<TaskResult<T>>>> {
        self.gather_raw(timeout, None, false)
    }

    /// Like [`gather_timeout`](ThreadPool::gather_timeout), calling
    /// `progress(done, total)` in this thread as tasks of the round finish
    /// (never concurrently; counts never decrease; the last call has
    /// `done == total`, unless the gather timed out). A panic in `progress`
    /// stops further calls; it is resumed once the round has been gathered
    /// (so no result leaks).
    ///
    /// ```
    /// let pool = lox::ThreadPool::new(2)?;
    /// for i in 0..4 {
    ///     pool.scatter(move || i)?;
    /// }
    /// let mut last = (0, 0);
    /// let round = pool.gather_progress(None, |done, total| last = (done, total))?.unwrap();
    /// assert_eq!(round.len(), 4);
    /// assert_eq!(last, (4, 4));
    /// # Ok::<(), lox::Error>(())
    /// ```
    pub fn gather_progress<P>(
        &self,
        timeout: Option<Duration>,
        mut progress: P,
    ) -> Result<Option<Vec<TaskResult<T>>>>
    where
        P: FnMut(usize, usize),
    {
        self.gather_raw(timeout, Some(&mut progress), false)
    }

    /// Like [`gather_timeout`](ThreadPool::gather_timeout), drawing liblox's
    /// progress bar on stderr when stderr is a terminal (nothing otherwise).
    ///
    /// ```
    /// let pool = lox::ThreadPool::new(2)?;
    /// pool.scatter(|| 1)?;
    /// assert_eq!(pool.gather_progress_bar(None)?, Some(vec![Ok(1)]));
    /// # Ok::<(), lox::Error>(())
    /// ```
    pub fn gather_progress_bar(
        &self,
        timeout: Option<Duration>,
    ) -> Result<Option<Vec<TaskResult<T>>>> {
        self.gather_raw(timeout, None, true)
    }

    fn gather_raw(
        &self,
        timeout: Option<Duration>,
        progress: Option<&mut dyn FnMut(usize, usize)>,
        bar: bool,
    ) -> Result<Option<Vec<TaskResult<T>>>> {
        let mut opts = sys::lox_gather_opts {
            struct_size: 0,
            timeout: 0.0,
            progress: None,
            progress_ctx: ptr::null_mut(),
            progress_bar: 0,
        };
        // SAFETY: fills the struct with the defaults (struct_size included).
        unsafe { sys::lox_gather_opts_init(&mut opts) };
        opts.timeout = seconds(timeout);
        opts.progress_bar = c_int::from(bar);
        let mut ctx = progress.map(|callback| ProgressCtx {
            callback,
            panic: None,
        });
        if let Some(ctx) = ctx.as_mut() {
            opts.progress = Some(run_progress);
            opts.progress_ctx = ctx as *mut ProgressCtx<'_> as *mut c_void;
        }
        let mut out = ptr::null_mut();
        // SAFETY: valid options (ctx outlives the call) and out-pointer.
        let status = unsafe { sys::lox_thread_gather(self.raw.as_ptr(), &opts, &mut out) };
        let result = match status {
            sys::LOX_OK | sys::LOX_ETASK => {
                // SAFETY: every task of this pool was scattered by
                // `scatter` with run_task::<_, T>; we own `out`.
                Ok(Some(unsafe { Results(out).take::<T>() }))
            }
            sys::LOX_TIMEOUT => Ok(None),
            _ => Err(Error::from_code(status)),
        };
        if let Some(payload) = ctx.and_then(|c| c.panic) {
            drop(result);
            panic::resume_unwind(payload);
        }
        result
    }

    /// Tasks scattered but not yet picked up by a worker (a snapshot).
    ///
    /// ```
    /// let pool = lox::ThreadPool::<()>::new(1)?;
    /// assert_eq!(pool.pending(), 0);
    /// # Ok::<(), lox::Error>(())
    /// ```
    pub fn pending(&self) -> usize {
        // SAFETY: valid handle; thread-safe snapshot.
        unsafe { sys::lox_thread_pending(self.raw.as_ptr()) }
    }

    /// Live worker threads now (a snapshot): threads start on demand and
    /// exit after the idle timeout.
    ///
    /// ```
    /// let pool = lox::ThreadPool::new(4)?;
    /// pool.scatter(|| ())?;
    /// pool.gather()?;
    /// assert!(pool.workers() <= 4);
    /// # Ok::<(), lox::Error>(())
    /// ```
    pub fn workers(&self) -> usize {
        // SAFETY: valid handle; thread-safe snapshot.
        unsafe { sys::lox_thread_workers(self.raw.as_ptr()) }
    }
}

impl<T: Send + 'static> fmt::Debug for ThreadPool<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ThreadPool")
            .field("workers", &self.workers())
            .field("pending", &self.pending())
            .finish()
    }
}

impl<T: Send + 'static> Drop for ThreadPool<T> {
    fn drop(&mut self) {
        // Gather (and drop) every round nobody gathered: lox_thread_destroy
        // discards ungathered results without freeing their values. Nobody
        // else can scatter now (we have &mut self), so this ends with an
        // empty round. From inside one of the pool's own tasks (the last Arc
        // dropped by a task) gather returns LOX_ESTATE and destroy does
        // nothing: the pool is leaked, which is safe.
        loop {
            let mut out = ptr::null_mut();
            // SAFETY: valid handle and out-pointer; NULL opts = defaults.
            let status =
                unsafe { sys::lox_thread_gather(self.raw.as_ptr(), ptr::null(), &mut out) };
            if status != sys::LOX_OK && status != sys::LOX_ETASK {
                break;
            }
            // SAFETY: as in gather_raw.
            let round = unsafe { Results(out).take::<T>() };
            if round.is_empty() {
                break;
            }
        }
        // SAFETY: exclusive access; runs queued tasks, joins the workers.
        unsafe { sys::lox_thread_destroy(self.raw.as_ptr()) }
    }
}
