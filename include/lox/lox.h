/* SPDX-License-Identifier: Apache-2.0 */
/*
 * liblox — concurrency made easy, as a native library.
 *
 * This is the stable C ABI of liblox. It is C99, usable from C++, and the
 * only thing the shared library exports (every symbol starts with `lox_`).
 *
 * Conventions shared by every object
 * ----------------------------------
 * - Objects are opaque handles created by `lox_X_create(..., lox_X **out)`
 *   and released by `lox_X_destroy`, which accepts NULL.
 * - Every call that can fail returns an `int` status: `LOX_OK` (0),
 *   `LOX_TIMEOUT` (1; a wait that ran out is an outcome, not an error) or a
 *   negative `LOX_E*` error. A call that returns an error changes nothing
 *   (gather's `LOX_ETASK` is the one exception: it delivers the round exactly
 *   as `LOX_OK` would).
 * - When a call fails, `lox_last_error()` returns a human-readable detail for
 *   the calling thread ("thread scatter: pool is NULL").
 * - Timeouts are `double` seconds: negative (`LOX_FOREVER`, -infinity, any
 *   value below 0) waits forever, 0 tries once without blocking, NaN is
 *   `LOX_EINVAL`. -0.0 is 0 everywhere (IEEE: it is not below 0): a wait
 *   given -0.0 tries once, and an option that refuses 0 (`task_timeout`)
 *   refuses -0.0 alike. Waits longer than 1e9 s (~30 years), +infinity
 *   included, wait forever. Waits use the monotonic clock. A call that
 *   times out leaves no trace.
 * - Every object may be used from any number of threads at once unless a
 *   function says otherwise. `lox_X_destroy` must not race with other calls
 *   on the same object.
 * - Bad input (NULL handles or out-pointers, bad flags, NaN timeouts) never
 *   crashes: it returns `LOX_EINVAL` and sets the detail message. Sizes and
 *   counts are checked before anything is computed from them: one above
 *   the limit its function states is `LOX_EINVAL`, one that memory cannot
 *   hold is `LOX_ENOMEM`; none wraps around, and SIZE_MAX is never turned
 *   into an allocation attempt. Details are liblox's own words ("buffer
 *   append: out of memory"), never a C++ library's text.
 * - Handles are checked: each carries a magic number, so a call on a handle
 *   that was already destroyed, a second destroy, or a handle of another
 *   type (a `lox_lock *` passed as a `lox_queue *`) is reported instead of
 *   touching freed memory: the call returns `LOX_EINVAL` (getters their
 *   NULL-handle value, destroy does nothing) with the detail "... is a
 *   destroyed lox_queue (used after its destroy call)" and logs it at ERROR.
 *   This holds in the common case only: the memory of the last 1024
 *   destroyed handles is kept for the check; after more destroys it may be
 *   reused, and a call then is undefined behaviour again. A pointer that was
 *   never a handle, and a destroy racing with another call on the same
 *   handle, are undefined behaviour. The check costs one load and compare
 *   per call (docs/reliability.md).
 * - No C++ exception ever crosses this boundary.
 * - Options structs start with `size_t struct_size`; initialise them with
 *   the `LOX_X_OPTS_INIT` macro or `lox_X_opts_init()` (for FFI callers).
 *   A NULL options pointer means the defaults.
 */
#ifndef LOX_LOX_H
#define LOX_LOX_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Visibility and version                                                    */
/* ------------------------------------------------------------------------ */

#if defined(_WIN32)
#  if defined(LOX_BUILDING)
#    define LOX_API __declspec(dllexport)
#  else
#    define LOX_API __declspec(dllimport)
#  endif
#elif defined(__GNUC__) && __GNUC__ >= 4
#  define LOX_API __attribute__((visibility("default")))
#else
#  define LOX_API
#endif

#define LOX_VERSION_MAJOR 0
#define LOX_VERSION_MINOR 1
#define LOX_VERSION_PATCH 0
/** The version this header describes, as `lox_version()` encodes it. */
#define LOX_VERSION_NUMBER \
    ((LOX_VERSION_MAJOR << 16) | (LOX_VERSION_MINOR << 8) | LOX_VERSION_PATCH)

/** Version of the loaded library: `(major << 16) | (minor << 8) | patch`.
 *  Compare with `LOX_VERSION_NUMBER` to detect a header/library mismatch.
 *  Thread-safe, never fails. */
LOX_API unsigned lox_version(void);

/** Version of the loaded library as static text, e.g. "0.1.0". Never NULL. */
LOX_API const char *lox_version_string(void);

/* ------------------------------------------------------------------------ */
/* Status codes and error detail                                             */
/* ------------------------------------------------------------------------ */

/** The status codes, written once: X(NAME, value, text, meaning) for each
 *  LOX_<NAME>. This list generates the enum below, lox_status_str (the
 *  text) and lox_status_name ("LOX_<NAME>"); the bindings' tests read it
 *  to check their own constants. Expand it with a macro of your own to
 *  build a table (as libuv's UV_ERRNO_MAP). Values never change within a
 *  major version; 0 is success, 1 an outcome, negative values errors. */
#define LOX_STATUS_MAP(X)                                                                        \
    X(OK, 0, "success", "success")                                                              \
    X(TIMEOUT, 1, "timed out", "a timed wait ran out (an outcome, not an error)")               \
    X(EINVAL, -1, "invalid argument",                                                           \
      "bad argument: NULL handle/out-pointer, bad mode, index out of range, NaN timeout, n == 0") \
    X(ENOMEM, -2, "out of memory", "allocation failed")                                         \
    X(ESTATE, -3, "not valid in the object's current state",                                    \
      "not valid in the object's current state (releasing what is not held, gather from inside a task, ...)") \
    X(ECLOSED, -4, "closed", "queue closed, announcement finalized, pool shut down")            \
    X(ETASK, -5, "a task failed", "gather: at least one task failed; results are still delivered") \
    X(EWORKER, -6, "a worker process died", "a worker process died while running the task (per-task status)") \
    X(ESYS, -7, "operating-system call failed",                                                 \
      "an operating-system call failed (errno text in the detail message)")

#define LOX_STATUS_ENUM_ENTRY_(name, value, text, meaning) LOX_##name = (value),
enum { LOX_STATUS_MAP(LOX_STATUS_ENUM_ENTRY_) };
#undef LOX_STATUS_ENUM_ENTRY_

/** Wait forever (any negative timeout does the same). */
#define LOX_FOREVER (-1.0)

/** Static English text describing `status` ("invalid argument", ...), or
 *  "unknown status" for a value that is not a `LOX_*` code. Never NULL,
 *  never needs freeing, thread-safe. */
LOX_API const char *lox_status_str(int status);

/** The code's name in this header as static text, e.g. "LOX_EINVAL" for
 *  LOX_EINVAL, or "LOX_UNKNOWN" for a value that is not a `LOX_*` code.
 *  Never NULL, never needs freeing, thread-safe. */
LOX_API const char *lox_status_name(int status);

/** Detail message of the last failing liblox call made by the calling
 *  thread, e.g. "thread gather: timeout is NaN"; "" if no call of this
 *  thread has failed yet. Successful calls do not clear it. The pointer is
 *  owned by the library and stays valid until the calling thread's next
 *  liblox call. Thread-safe (each thread has its own). Never NULL. */
LOX_API const char *lox_last_error(void);

/* ------------------------------------------------------------------------ */
/* Logging                                                                   */
/* ------------------------------------------------------------------------ */

/* Failed tasks, detected misuse and internal trouble are logged. By default
 * messages at WARN and above go to stderr (colored when it is a terminal).
 * The initial level is WARN, or the value of the environment variable
 * LOX_LOG_LEVEL read on first use: one of trace, debug, info, warn, error,
 * off (case-insensitive) or the digit of the enum below. */
enum {
    LOX_LOG_TRACE = 0,
    LOX_LOG_DEBUG = 1,
    LOX_LOG_INFO = 2,
    LOX_LOG_WARN = 3,
    LOX_LOG_ERROR = 4,
    LOX_LOG_OFF = 5
};

/** Receives one formatted message (without trailing newline). `message` is
 *  valid only during the call. Called from whichever thread logs, possibly
 *  several at once (no lock is held around the call): the callback must be
 *  thread-safe.
 *
 *  The callback may call any liblox function that does not wait for
 *  another thread's call to finish: lox_log_set_level, lox_log_get_level,
 *  lox_log_set_callback (it takes effect for the next message; the running
 *  call finishes), lox_last_error, lox_status_str, and calls that return at
 *  once, failing ones included (a release, a put or get with timeout 0, a
 *  call on a destroyed handle). A message such a call logs is not
 *  delivered inside the callback: it is delivered, in order, right after
 *  the callback returns, before the call that logged the outer message
 *  returns; at most 16 are delivered per outer message, and a WARN message
 *  then says how many more were dropped. lox_last_error() of the thread
 *  that logged is the same after the callback as before it. The callback
 *  must not block waiting for a pool, lock or queue (a gather, an acquire
 *  or get that waits): the call that logged waits for the callback. */
typedef void (*lox_log_fn)(void *ctx, int level, const char *message);

/** Sets the minimum level that is logged. Out-of-range values are clamped
 *  to [LOX_LOG_TRACE, LOX_LOG_OFF]. Thread-safe; takes effect at once. */
LOX_API void lox_log_set_level(int level);

/** Returns the current minimum level. Thread-safe. */
LOX_API int lox_log_get_level(void);

/** Routes log messages to `fn(ctx, level, message)` instead of stderr.
 *  NULL restores the default colored stderr sink. `ctx` is borrowed: it
 *  must stay valid until the callback is replaced. Thread-safe: when this
 *  returns, no later message goes to the previous sink (a call already
 *  running in another thread may still finish). May be called from inside
 *  the callback (see lox_log_fn). */
LOX_API void lox_log_set_callback(lox_log_fn fn, void *ctx);

/* ------------------------------------------------------------------------ */
/* Gather options and results (shared by the thread and process pools)       */
/* ------------------------------------------------------------------------ */

typedef struct lox_results lox_results;

/** Progress of a gather: `done` of `total` tasks of the round finished. */
typedef void (*lox_progress_fn)(void *ctx, size_t done, size_t total);

typedef struct lox_gather_opts {
    size_t struct_size;       /**< sizeof(lox_gather_opts) */
    double timeout;           /**< seconds; LOX_FOREVER (default) waits for the whole round */
    /** Called in the gathering thread, never concurrently: when the wait
     *  starts (with the count already finished, unless that is everything),
     *  then each time the
     *  count of finished tasks grows (intermediate counts may be skipped when
     *  tasks finish faster than the callback runs); the last call has
     *  done == total, also for an empty round (0, 0). `done` never
     *  decreases. Not called again after a timeout. Must not gather on the
     *  same pool. */
    lox_progress_fn progress;
    void *progress_ctx;       /**< passed to `progress` */
    /** Nonzero: draw a progress bar (percentage, count, rate, ETA) on stderr,
     *  redrawn in place, when stderr is a terminal; nothing otherwise. */
    int progress_bar;
} lox_gather_opts;

#define LOX_GATHER_OPTS_INIT { sizeof(lox_gather_opts), LOX_FOREVER, NULL, NULL, 0 }

/** Fills `*opts` with the defaults (same as LOX_GATHER_OPTS_INIT). NULL is
 *  ignored. */
LOX_API void lox_gather_opts_init(lox_gather_opts *opts);

/** Number of tasks in the round (0 for NULL). Thread-safe (read-only). */
LOX_API size_t lox_results_count(const lox_results *r);

/** Status of task `i`: for the thread pool, the task function's return value
 *  (0 = success), or LOX_EWORKER for a task that ended its thread with
 *  pthread_exit (see lox_task_fn); for the process pool, also LOX_EWORKER
 *  etc. for pool faults. Returns LOX_EINVAL for a NULL `r` or `i` out of
 *  range (and sets the detail). */
LOX_API int lox_results_status(const lox_results *r, size_t i);

/** Thread pool: the value the task stored in `*result` (NULL if it stored
 *  nothing). The library never dereferences or frees it: ownership is the
 *  task's contract with the caller. NULL for a NULL `r` or `i` out of range,
 *  and for process-pool results ("results hold bytes, not values"; use
 *  lox_results_bytes): these three NULLs set the detail, a stored NULL does
 *  not. */
LOX_API void *lox_results_value(const lox_results *r, size_t i);

/** Process pool: the bytes task `i` produced. `*data` points into `r` and
 *  stays valid until `lox_results_destroy(r)`. For thread-pool results this
 *  returns LOX_EINVAL ("results hold values, not bytes"). LOX_EINVAL also for
 *  NULL arguments or `i` out of range; outputs are untouched on error. */
LOX_API int lox_results_bytes(const lox_results *r, size_t i, const void **data, size_t *len);

/** Detail text of a failed task ("task 3 failed with status 7"), or NULL
 *  when task `i` succeeded (or `r` is NULL / `i` out of range). Owned by
 *  `r`. */
LOX_API const char *lox_results_error(const lox_results *r, size_t i);

/** Frees the results object (NULL is ignored). Does not free the values the
 *  tasks produced. Must not race with other calls on `r`. */
LOX_API void lox_results_destroy(lox_results *r);

/* ------------------------------------------------------------------------ */
/* Thread pool (lox.thread)                                                  */
/* ------------------------------------------------------------------------ */

typedef struct lox_thread lox_thread;

/** A task. `ctx` is the pool's (or scatter_fn's) context, `arg` the
 *  scattered argument, `*result` (initially NULL) receives the task's value.
 *  Return 0 for success, any other value is the task's failure code, reported
 *  as its status and making gather return LOX_ETASK. A task may scatter to
 *  any pool, including its own; it must not gather or destroy its own pool
 *  (those calls return LOX_ESTATE).
 *
 *  A task that calls pthread_exit ends the thread it runs on, as
 *  pthread_exit says. On a worker thread the pool survives it: the task's
 *  status is LOX_EWORKER with the detail "task N called pthread_exit ...",
 *  its `*result` is dropped, the rest of the round runs (the worker's
 *  unstarted tasks go to the other workers, a new worker is started if
 *  needed) and gather returns LOX_ETASK. In lox_thread_call and in debug
 *  mode (max_workers 0) the task runs in the caller's thread: that thread
 *  exits from inside the call, which never returns (in debug mode the task
 *  is recorded as above). In a task that lox_thread_destroy runs itself
 *  (destroy helps run what is still queued, in the calling thread), it
 *  terminates the program (std::terminate, after an ERROR log line): do
 *  not destroy a pool with such tasks still queued. Do not pthread_cancel
 *  a worker thread: a cancellation acted on inside a task is handled as a
 *  pthread_exit of that task, one acted on inside liblox's own code
 *  terminates the program. */
typedef int (*lox_task_fn)(void *ctx, void *arg, void **result);

/** `max_workers` value meaning "the default": 50 threads for the thread
 *  pool (lox's default), the number of online CPUs for the process pool. */
#define LOX_DEFAULT_WORKERS ((size_t)-1)

/** Extra thread-pool settings for `lox_thread_create_ex`. */
typedef struct lox_thread_opts {
    size_t struct_size;   /**< sizeof(lox_thread_opts) */
    /** Seconds a worker waits without work before its thread exits
     *  (default 2.0; 0 = exit as soon as there is no work). NaN or negative:
     *  LOX_EINVAL. */
    double idle_timeout;
} lox_thread_opts;

#define LOX_THREAD_OPTS_INIT { sizeof(lox_thread_opts), 2.0 }

/** Fills `*opts` with the defaults (same as LOX_THREAD_OPTS_INIT). NULL is
 *  ignored. */
LOX_API void lox_thread_opts_init(lox_thread_opts *opts);

/** Creates a thread pool running `fn(ctx, arg, &result)` for each scattered
 *  `arg`, on at most `max_workers` threads (LOX_DEFAULT_WORKERS = 50; any
 *  other value works, SIZE_MAX - 1 included: it only bounds the threads
 *  started on demand, nothing is sized by it).
 *  Threads are started on demand (only when no idle worker can take the
 *  work) and exit after `idle_timeout` without work: an idle pool holds no
 *  threads and burns no CPU.
 *
 *  `max_workers == 0` is lox's debug mode: scatter runs the task inline in
 *  the calling thread. The environment variable LOX_DEBUG set to 1, true,
 *  yes or on (any case) forces this mode for every pool.
 *
 *  Scheduling: tasks start roughly in scatter order. Workers take quick
 *  tasks in small batches, but a worker blocked in a task never holds the
 *  rest of its batch back (an idle worker takes it over), so a task may wait
 *  for a later task of the same pool as long as `max_workers` lets both run
 *  at once (as with lox, where each worker takes one job at a time).
 *
 *  `fn` may be NULL for a pool used only through `lox_thread_scatter_fn`.
 *  `ctx` is borrowed and must outlive the pool.
 *
 *  Returns LOX_OK and sets `*out`; LOX_EINVAL if `out` is NULL;
 *  LOX_ENOMEM. No thread is started here. */
LOX_API int lox_thread_create(size_t max_workers, lox_task_fn fn, void *ctx, lox_thread **out);

/** `lox_thread_create` with options (NULL = defaults). Also LOX_EINVAL for
 *  a bad `struct_size` or `idle_timeout`. */
LOX_API int lox_thread_create_ex(size_t max_workers, lox_task_fn fn, void *ctx,
                                 const lox_thread_opts *opts, lox_thread **out);

/** Destroys the pool: every task already scattered is run to completion
 *  (queued tasks are run, not cancelled, so nothing scattered is lost and
 *  the resources its argument owns can be freed by the task), then every
 *  worker thread is joined and all memory freed. Results of rounds that were
 *  never gathered are discarded (their values are not freed). NULL is
 *  ignored. Must not race with other calls on the same pool. Called from
 *  inside one of the pool's own tasks it does nothing, logs an error and
 *  sets lox_last_error (LOX_ESTATE): the pool cannot finish while one of its
 *  tasks waits for it. */
LOX_API void lox_thread_destroy(lox_thread *pool);

/** Plain call in the caller's thread: returns `fn(ctx, arg, result)`'s
 *  value. `result` may be NULL (the task then gets a scratch pointer).
 *  LOX_EINVAL if `pool` is NULL or was created with a NULL `fn`. */
LOX_API int lox_thread_call(lox_thread *pool, void *arg, void **result);

/** Queues the task `fn(ctx, arg, ...)` for a worker and returns at once.
 *  `*index` (if `index` is not NULL) receives the task's position in the
 *  results of the gather that collects it (0, 1, 2, ... since the last
 *  gather). In debug mode (max_workers == 0) the task runs before this
 *  returns. Lock-free for workers; concurrent scatters from many threads
 *  serialise on a short critical section. O(1), no allocation except one
 *  block per growing chunk of tasks.
 *  LOX_EINVAL if `pool` is NULL or has no `fn`; LOX_ENOMEM. When the
 *  system refuses a new worker thread the task still stays queued (the
 *  failure is logged at ERROR): the workers that exist run it, a later
 *  scatter or gather tries again to start one, and gather returns
 *  LOX_ESYS if the pool has no worker at all. */
LOX_API int lox_thread_scatter(lox_thread *pool, void *arg, size_t *index);

/** Like `lox_thread_scatter` with a task function and context of its own
 *  for this one task (`fn` must not be NULL; `ctx` is borrowed until the
 *  task ran). */
LOX_API int lox_thread_scatter_fn(lox_thread *pool, lox_task_fn fn, void *ctx, void *arg, size_t *index);

/** Tasks scattered but not yet picked up by a worker (lox's len()). A
 *  snapshot: it may change as soon as it is read. 0 for NULL. */
LOX_API size_t lox_thread_pending(const lox_thread *pool);

/** Live worker threads now (started and not yet retired). 0 for NULL. */
LOX_API size_t lox_thread_workers(const lox_thread *pool);

/** Waits for the round and returns its results.
 *
 *  The round is every task scattered (by any thread) since the previous
 *  gather began, up to the moment this gather begins; tasks scattered while
 *  it waits belong to the next round. Two threads gathering at once each get
 *  a disjoint round, each in scatter order.
 *
 *  Returns LOX_OK when every task returned 0, LOX_ETASK when any failed
 *  (`*out` is delivered as for LOX_OK; see lox_results_status), and
 *  LOX_TIMEOUT when `opts->timeout` ran out first: then nothing is lost and
 *  `*out` is left unchanged. If no task was scattered since, the round is
 *  simply reopened (later scatters continue its numbering) and the next
 *  gather returns it; otherwise the next gather returns that timed-out round
 *  alone, before any later round.
 *  LOX_EINVAL for a NULL `pool` or `out`, a bad `opts->struct_size` or a NaN
 *  timeout; LOX_ESTATE when called from inside one of this pool's own
 *  tasks (it could never finish); LOX_ENOMEM; LOX_ESYS when the pool has
 *  no worker thread and none can be started (the system's reason is in the
 *  detail; like LOX_TIMEOUT, nothing is lost and the next gather returns
 *  the round).
 *
 *  The caller owns `*out` and frees it with lox_results_destroy. */
LOX_API int lox_thread_gather(lox_thread *pool, const lox_gather_opts *opts, lox_results **out);

/* ------------------------------------------------------------------------ */
/* Process pool (lox.process)                                                */
/* ------------------------------------------------------------------------ */

/** Where a worker writes the bytes of its result (lox_buffer_append). */
typedef struct lox_buffer lox_buffer;

/** Appends `len` bytes at `data` to the result being built (`data` may be
 *  NULL when `len` is 0). LOX_OK; LOX_EINVAL: `out` NULL, `data` NULL with
 *  `len` > 0, or `len` above PTRDIFF_MAX (no buffer is that large);
 *  LOX_ENOMEM: the result cannot grow that much (nothing is appended). Only
 *  valid inside the lox_process_fn call that received `out`. */
LOX_API int lox_buffer_append(lox_buffer *out, const void *data, size_t len);

/** A process-pool task: runs in a worker process on a copy of the `in_len`
 *  bytes at `in` (`in` may be NULL when `in_len` is 0) and appends its result
 *  to `out`. Returns 0 for success or any other value as the task's failure
 *  code (lox_results_status); on failure, the bytes appended are the error
 *  detail (lox_results_error), e.g. an exception's what() text. The pool
 *  itself reports LOX_EWORKER and LOX_TIMEOUT in the same status: return
 *  codes of your own that differ from the LOX_* values (e.g. > 1) keep the
 *  two apart. */
typedef int (*lox_process_fn)(void *ctx, const void *in, size_t in_len, lox_buffer *out);

typedef struct lox_process lox_process;

/** Extra process-pool settings for `lox_process_create_ex`. */
typedef struct lox_process_opts {
    size_t struct_size;   /**< sizeof(lox_process_opts) */
    /** Per-task time limit in seconds: a task still running after it is
     *  killed with its worker (SIGKILL), its status is LOX_TIMEOUT, and the
     *  worker is replaced. Negative (default, LOX_FOREVER): no limit. NaN
     *  or 0: LOX_EINVAL. */
    double task_timeout;
    /** Largest input or result, in bytes, that may cross between the parent
     *  and a worker (default 1 GiB). A larger input is refused at scatter
     *  (LOX_EINVAL); a larger result fails its task with LOX_EWORKER
     *  ("the task's result of N bytes is larger than max_message (M
     *  bytes)"), in inline pools too; the worker lives on, and nothing that
     *  large crosses or is allocated in this process. 0, or
     *  above 2^38 (256 GiB): LOX_EINVAL. */
    size_t max_message;
} lox_process_opts;

#define LOX_PROCESS_OPTS_INIT { sizeof(lox_process_opts), LOX_FOREVER, (size_t)1 << 30 }

/** Fills `*opts` with the defaults (same as LOX_PROCESS_OPTS_INIT). NULL is
 *  ignored. */
LOX_API void lox_process_opts_init(lox_process_opts *opts);

/** Creates a process pool running `fn(ctx, in, in_len, out)` in at most
 *  `n_workers` worker processes (LOX_DEFAULT_WORKERS = the number of online
 *  CPUs, at most 4096). `n_workers` above 4096 is LOX_EINVAL: each worker
 *  is a process, a thread and a socketpair of this process, all made at
 *  create. Scatter/gather follow the thread pool's rules (rounds, results in
 *  scatter order, per-task status, gather timeout that loses nothing,
 *  progress callback and bar); inputs and results are bytes, copied across.
 *
 *  `n_workers == 0` (or LOX_DEBUG, as for threads) runs each task inline in
 *  the scattering thread, in this process (max_message still applies).
 *
 *  How workers are made: create forks one helper process, the fork server,
 *  from the calling thread while it waits; the fork server is
 *  single-threaded and forks every worker (the first ones and every
 *  replacement). A worker is thus a copy of this process as it was at
 *  lox_process_create, as fork() copies a process: only the calling thread
 *  exists in the copy. Exactly what a worker inherits:
 *  - Memory as it was at create (globals, heap, `fn` and `ctx`): set up
 *    everything `fn` needs before lox_process_create; later changes in
 *    this process are not seen by workers.
 *  - Locks as they were at create. A lock that another thread of this
 *    process held at that moment (yours, a stdio FILE's, any library's)
 *    stays held in every worker for ever, as does one the calling thread
 *    held. malloc is safe (glibc makes it fork-safe), and liblox's code
 *    in a worker takes no lock but those of the task's own calls. To be
 *    sure that no lock is copied held, create process pools while this
 *    process has one thread (early in main): a pool made then serves the
 *    whole program.
 *  - The calling thread's signal mask and this process's signal
 *    dispositions (handlers, SIG_IGN) at create: a signal thread's design
 *    (SIGINT/SIGTERM blocked, SIGPIPE ignored before create) carries over
 *    to the workers. The fork server itself blocks every signal, ignores
 *    SIGPIPE and sets SIGCHLD to its default, but hands every worker the
 *    creator's state back. Pending signals and timers are not inherited.
 *  - stdin, stdout and stderr; every other descriptor is closed in the
 *    fork server. Threads of this process do not exist in workers. Do not
 *    use liblox pools from inside `fn`.
 *  - What differs: a worker leads a process group of its own (a Ctrl-C
 *    sent to the terminal's foreground group does not reach it; reading
 *    the terminal stops it with SIGTTIN), and it is killed when its fork
 *    server dies (PR_SET_PDEATHSIG).
 *
 *  Processes a task starts: those that stay in the worker's process group
 *  are killed (SIGKILL) when the worker ends, however it ends (a crash,
 *  the task time limit, the pool's destroy); a child meant to outlive its
 *  worker leaves the group (setsid, setpgid). A worker's death is seen
 *  from the process itself, also while such a child still holds the
 *  worker's socket, so neither gather nor destroy waits for a task's
 *  children.
 *
 *  The fork server keeps a standby: an idle copy of itself, made when it
 *  starts. If the fork server is killed, its workers die with it (their
 *  tasks fail with LOX_EWORKER, "died with its fork server"), the standby
 *  takes over (logged at WARN) and makes a standby of its own, and workers
 *  are still copies of this process as it was at create. Only when the
 *  standby is gone too does the pool stop: every later task fails with
 *  LOX_ESYS ("cannot start a worker: ..."). Workers, the fork server and
 *  its standby exit when the pool is destroyed, and on their own when this
 *  process dies (they see their socket close).
 *
 *  Scheduling: tasks start in scatter order. A worker gets one task at a
 *  time until tasks prove quick (under 100 us each); then up to 64 small
 *  ones (32 KiB of input in all) are sent to it at once, which saves a pipe
 *  round trip per task. A task that blocks in such a batch holds the rest
 *  of its batch (at most 63 tasks) until it ends; all other tasks go to the
 *  other workers, and batches fall back to one task after a slow one. So
 *  tasks of one pool should not wait for each other.
 *
 *  A worker that dies while running a task (signal, abort, _exit, killed)
 *  fails only that task with LOX_EWORKER ("worker 1234 killed by SIGSEGV",
 *  "worker 1234 exited with code 3"); it is replaced, the rest of the round
 *  runs normally, and no zombie or descriptor is left behind.
 *  A task runs at most once. Once its input was handed to a worker, a
 *  failure of that worker fails the task (LOX_EWORKER, or LOX_TIMEOUT for
 *  its time limit) and it is never run again; tasks of the same batch
 *  queued behind it, which had not started, go to a new worker. A task
 *  whose input could not be handed over (its worker died first, e.g. at
 *  start-up) goes to a new worker, logged at WARN; when three workers in a
 *  row die that way, the task fails with LOX_EWORKER. Descriptors
 *  are close-on-exec, and SIGPIPE never reaches this process.
 *
 *  LOX_OK; LOX_EINVAL: `fn` or `out` NULL, `n_workers` above 4096, bad
 *  options; LOX_ENOMEM; LOX_ESYS:
 *  socketpair or fork failed (errno text in the detail). The caller owns
 *  `*out` (lox_process_destroy). */
LOX_API int lox_process_create(size_t n_workers, lox_process_fn fn, void *ctx, lox_process **out);

/** lox_process_create with options (NULL: the defaults). LOX_EINVAL for a
 *  bad `struct_size`, task_timeout or max_message. */
LOX_API int lox_process_create_ex(size_t n_workers, lox_process_fn fn, void *ctx,
                                  const lox_process_opts *opts, lox_process **out);

/** Destroys the pool (NULL is ignored), also in the middle of a round and
 *  with workers stuck in a task: tasks not finished are dropped (unlike the
 *  thread pool, destroy does not wait for them), every worker (with what
 *  its tasks left in its process group), the fork server and its standby
 *  are killed and reaped, all descriptors closed, results not gathered
 *  freed; it does not wait for processes that left a worker's group. Must
 *  not race with other calls on the pool. */
LOX_API void lox_process_destroy(lox_process *pool);

/** Copies `len` bytes at `in` into a new task of the current round and
 *  stores its index in the round in `*index` (may be NULL). LOX_OK;
 *  LOX_EINVAL: `pool` NULL, `in` NULL with `len` > 0, `len` above
 *  max_message; LOX_ENOMEM. Inline pools run the task before returning.
 *  Thread-safe. */
LOX_API int lox_process_scatter(lox_process *pool, const void *in, size_t len, size_t *index);

/** Tasks scattered but not yet started (lox's len()). 0 for NULL. */
LOX_API size_t lox_process_pending(const lox_process *pool);

/** Worker processes alive now. 0 for NULL. */
LOX_API size_t lox_process_workers(const lox_process *pool);

/** Waits for the current round, as lox_thread_gather: LOX_OK / LOX_ETASK
 *  (some task failed: its status is the task's code, LOX_EWORKER or
 *  LOX_TIMEOUT; read results with lox_results_bytes) / LOX_TIMEOUT (nothing
 *  returned, the round goes on) / LOX_EINVAL. The caller owns `*out`. */
LOX_API int lox_process_gather(lox_process *pool, const lox_gather_opts *opts, lox_results **out);

/* ------------------------------------------------------------------------ */
/* Synchronization (lox.lock)                                                */
/* ------------------------------------------------------------------------ */

/* Shared rules of the synchronization objects
 * - Every acquire takes a timeout in seconds: negative (LOX_FOREVER) waits
 *   forever, 0 tries once without blocking, NaN is LOX_EINVAL. Waits use
 *   the monotonic clock; spurious wake-ups are absorbed, the total wait never
 *   exceeds the timeout (beyond scheduling delay). A blocked acquirer spins
 *   for a few microseconds, then sleeps on a futex. A release makes no
 *   system call when nobody waits. An acquire that returns LOX_TIMEOUT
 *   leaves no trace: nothing half-taken, no place kept in any line.
 * - Locks are not owned by a thread: any thread may release what another
 *   acquired (a LightSwitch's last reader releases a lock that another
 *   thread acquired). None is recursive: acquiring twice from one thread
 *   without a release in between waits (deadlocks without a timeout).
 * - Destroying an object while threads are blocked in its acquire is a
 *   usage error that is detected: `lox_X_destroy` logs an ERROR ("qlock
 *   destroy: 2 thread(s) still waiting on it ..."), wakes every blocked
 *   waiter, which returns LOX_ESTATE with the detail "... was destroyed
 *   while this thread waited", waits until all of them have left the
 *   object, and only then frees it. A call that *starts* on an object while
 *   it is being destroyed is still undefined behaviour; one that starts
 *   after the destroy returned is reported (LOX_EINVAL, see the handle check
 *   above); calls that do not block (release, counters) must not race with
 *   destroy.
 *   Destroying an object that is merely held (not waited on) is allowed.
 * - Counter and flag getters are snapshots. Given a NULL handle they return
 *   0 (size_t getters) or LOX_EINVAL (int getters) and set the detail.
 */

typedef struct lox_lock lox_lock;
typedef struct lox_lightswitch lox_lightswitch;
typedef struct lox_rwlock lox_rwlock;
typedef struct lox_qlock lox_qlock;
typedef struct lox_index_semaphore lox_index_semaphore;

/* --- lox_lock: a plain lock any thread may release (threading.Lock) ------ */

/** Creates an unlocked lock. Returns LOX_OK and sets `*out`; LOX_EINVAL if
 *  `out` is NULL; LOX_ENOMEM. The caller owns `*out` (lox_lock_destroy). */
LOX_API int lox_lock_create(lox_lock **out);

/** Frees the lock (NULL is ignored). Threads blocked in lox_lock_acquire
 *  get LOX_ESTATE (see the shared rules above). A held lock may be
 *  destroyed. Must outlive every LightSwitch that borrows it. */
LOX_API void lox_lock_destroy(lox_lock *l);

/** Acquires the lock, waiting at most `timeout` seconds for it.
 *  LOX_OK: the caller holds it; LOX_TIMEOUT: it stayed locked (nothing
 *  changed); LOX_EINVAL: `l` NULL or NaN timeout; LOX_ESTATE: the lock was
 *  destroyed while this thread waited. Not fair (a new acquirer can get the
 *  lock before a sleeping one; use lox_qlock for FIFO). Thread-safe.
 *  Uncontended: one compare-and-swap. */
LOX_API int lox_lock_acquire(lox_lock *l, double timeout);

/** Releases the lock; any thread may release it, not only the one that
 *  acquired it. Wakes one waiter, if any. LOX_ESTATE if it is not locked
 *  (nothing changes), LOX_EINVAL if `l` is NULL. Thread-safe. */
LOX_API int lox_lock_release(lox_lock *l);

/** 1 if the lock is held, 0 if not; LOX_EINVAL if `l` is NULL. A snapshot.
 *  Thread-safe. */
LOX_API int lox_lock_locked(const lox_lock *l);

/* --- lox_lightswitch: first in locks, last out unlocks ------------------- */

/** Creates a LightSwitch over `lock`, which it borrows: the acquire that
 *  raises the count from 0 acquires `lock`, the release that brings it back
 *  to 0 releases it (the restroom's lights: the first person in turns them
 *  on, the last one out turns them off; a janitor acquiring `lock` directly
 *  waits until the room is empty). `lock` must outlive the switch; the
 *  switch never destroys it. LOX_EINVAL if `lock` or `out` is NULL;
 *  LOX_ENOMEM. The caller owns `*out` (lox_lightswitch_destroy). */
LOX_API int lox_lightswitch_create(lox_lock *lock, lox_lightswitch **out);

/** Frees the switch (NULL is ignored); never touches the borrowed lock
 *  except to wake threads blocked on it for this switch. Threads blocked in
 *  lox_lightswitch_acquire get LOX_ESTATE. If the count is not 0, a WARN is
 *  logged and the borrowed lock stays locked (release it with
 *  lox_lock_release). */
LOX_API void lox_lightswitch_destroy(lox_lightswitch *ls);

/** Increments the count; if it was 0, first acquires the borrowed lock,
 *  waiting at most `timeout` seconds. While the first entrant waits for the
 *  lock, later entrants wait behind it (with their own timeouts): nobody
 *  enters before the lights are on. LOX_OK: counted in; LOX_TIMEOUT:
 *  nothing changed (a first entrant that timed out leaves the count at 0 and
 *  the lock untouched, and the next entrant tries in its place);
 *  LOX_EINVAL: `ls` NULL or NaN timeout; LOX_ESTATE: the switch or the lock
 *  was destroyed while this thread waited. When the count is above 0 this
 *  is one compare-and-swap. Thread-safe. */
LOX_API int lox_lightswitch_acquire(lox_lightswitch *ls, double timeout);

/** Decrements the count; the release that brings it to 0 releases the
 *  borrowed lock. Any thread may release. LOX_ESTATE at count 0 (nothing
 *  changes) or when the borrowed lock was found already unlocked by
 *  somebody else (the count still drops to 0); LOX_EINVAL if `ls` is
 *  NULL. Thread-safe. */
LOX_API int lox_lightswitch_release(lox_lightswitch *ls);

/** The count: acquires not yet released (lox's counter / len()). 0 for
 *  NULL (detail set). A snapshot. Thread-safe. */
LOX_API size_t lox_lightswitch_count(const lox_lightswitch *ls);

/* --- lox_rwlock: many readers or one writer, writer-preferring ----------- */

/** Modes of lox_rwlock_acquire/release (lox's 'r' and 'w' flags). */
enum { LOX_READ = 'r', LOX_WRITE = 'w' };

/** Creates an unlocked RWLock. LOX_EINVAL if `out` is NULL; LOX_ENOMEM.
 *  The caller owns `*out` (lox_rwlock_destroy).
 *
 *  Any number of readers or one writer hold it. Writer-preferring: as soon
 *  as a writer waits, new readers wait behind it (the janitor gets in after
 *  the readers already inside, never starved by new ones); when a writer
 *  releases, a waiting writer goes next, and the readers are let in when no
 *  writer waits. Readers can therefore starve under a continuous stream of
 *  writers. The uncontended read path is one compare-and-swap on one word,
 *  no mutex. */
LOX_API int lox_rwlock_create(lox_rwlock **out);

/** Frees the RWLock (NULL is ignored). Threads blocked in
 *  lox_rwlock_acquire (either mode) get LOX_ESTATE. */
LOX_API void lox_rwlock_destroy(lox_rwlock *rw);

/** Acquires in `mode` (LOX_READ or LOX_WRITE), waiting at most `timeout`
 *  seconds. LOX_OK: held in that mode; LOX_TIMEOUT: nothing changed (a
 *  writer that gives up also stops blocking the readers queued behind it:
 *  they are let in at once if nothing else holds them back); LOX_EINVAL: `rw`
 *  NULL, `mode` not LOX_READ/LOX_WRITE, or NaN timeout; LOX_ESTATE: the
 *  RWLock was destroyed while this thread waited. Thread-safe. */
LOX_API int lox_rwlock_acquire(lox_rwlock *rw, int mode, double timeout);

/** Releases one hold in `mode`; any thread may release. LOX_ESTATE if that
 *  mode is not held (releasing 'r' while only a writer holds it, or 'w'
 *  while only readers do, or anything while it is free; nothing changes);
 *  LOX_EINVAL: `rw` NULL or a bad `mode`. Readers are not tracked per
 *  thread: a release of 'r' drops the reader count by one whoever calls it.
 *  Thread-safe. */
LOX_API int lox_rwlock_release(lox_rwlock *rw, int mode);

/** Readers holding the lock now (lox's read_counter / len()). 0 for NULL
 *  (detail set). A snapshot. Thread-safe. */
LOX_API size_t lox_rwlock_readers(const lox_rwlock *rw);

/* --- lox_qlock: strict FIFO lock ---------------------------------------- */

/** Creates an unlocked QLock. LOX_EINVAL if `out` is NULL; LOX_ENOMEM. The
 *  caller owns `*out` (lox_qlock_destroy).
 *
 *  Acquirers are served in arrival order: an acquirer that finds the lock
 *  held joins the end of a line (the moment it is counted by
 *  lox_qlock_waiting), and release hands the lock directly to the first in
 *  line (it never becomes free in between, so nobody can cut in). */
LOX_API int lox_qlock_create(lox_qlock **out);

/** Frees the QLock (NULL is ignored). Threads waiting in line get
 *  LOX_ESTATE. */
LOX_API void lox_qlock_destroy(lox_qlock *q);

/** Acquires the lock in FIFO order, waiting at most `timeout` seconds.
 *  LOX_OK: held; LOX_TIMEOUT: the caller left the line, the others keep
 *  their order, nothing else changed (timeout 0 never joins the line);
 *  LOX_EINVAL: `q` NULL or NaN timeout; LOX_ESTATE: the QLock was destroyed
 *  while this thread waited. Uncontended: one compare-and-swap. Thread-safe. */
LOX_API int lox_qlock_acquire(lox_qlock *q, double timeout);

/** Releases the lock (any thread may), handing it to the first thread in
 *  line if there is one. LOX_ESTATE if not locked (nothing changes);
 *  LOX_EINVAL if `q` is NULL. Thread-safe. */
LOX_API int lox_qlock_release(lox_qlock *q);

/** Threads waiting in line (lox's len()). 0 for NULL (detail set). A
 *  snapshot. Thread-safe. */
LOX_API size_t lox_qlock_waiting(const lox_qlock *q);

/** 1 if the QLock is held, 0 if not; LOX_EINVAL if `q` is NULL. A
 *  snapshot. Thread-safe. */
LOX_API int lox_qlock_locked(const lox_qlock *q);

/* --- lox_index_semaphore: n numbered resources --------------------------- */

/** Creates a semaphore over `n` resources numbered 0 .. n-1, all free (the
 *  GPU pool: each acquirer gets a GPU index nobody else holds). `n` is at
 *  most 2^24 (16,777,216): the held set is a bitmap of n bits allocated
 *  here, and an acquire may scan all of it. LOX_EINVAL if `n` is 0 or above
 *  2^24, or `out` is NULL; LOX_ENOMEM. The caller owns `*out`
 *  (lox_index_semaphore_destroy). */
LOX_API int lox_index_semaphore_create(size_t n, lox_index_semaphore **out);

/** Frees the semaphore (NULL is ignored). Threads blocked in
 *  lox_index_semaphore_acquire get LOX_ESTATE. Indices still held are
 *  simply forgotten. */
LOX_API void lox_index_semaphore_destroy(lox_index_semaphore *s);

/** Takes a free index, waiting at most `timeout` seconds for one, and
 *  stores it in `*index`: a value in [0, n) that nobody else holds until it
 *  is released. The lowest free index is taken (an idle semaphore hands out
 *  0 first). Not fair. LOX_OK; LOX_TIMEOUT (nothing taken, `*index`
 *  untouched); LOX_EINVAL: `s` or `index` NULL, or NaN timeout;
 *  LOX_ESTATE: the semaphore was destroyed while this thread waited.
 *  Uncontended: one compare-and-swap. Thread-safe. */
LOX_API int lox_index_semaphore_acquire(lox_index_semaphore *s, double timeout, size_t *index);

/** Returns `index` to the semaphore (any thread may) and wakes one waiter.
 *  LOX_EINVAL: `s` NULL or `index` >= n; LOX_ESTATE: `index` is not held
 *  (a double release, or an index never acquired). Nothing changes on
 *  error. Thread-safe. */
LOX_API int lox_index_semaphore_release(lox_index_semaphore *s, size_t index);

/** Indices free now. 0 for NULL (detail set). A snapshot. Thread-safe. */
LOX_API size_t lox_index_semaphore_available(const lox_index_semaphore *s);

/** Threads blocked in lox_index_semaphore_acquire now (lox's len(): the
 *  blocked queue size). 0 for NULL (detail set). A snapshot. Thread-safe. */
LOX_API size_t lox_index_semaphore_waiting(const lox_index_semaphore *s);

/* ==========================================================================
 * Queues: lox_queue, lox_announcement, lox_funnel
 * ==========================================================================
 *
 * Items are opaque pointer-sized values (`void *`, NULL included): the
 * library stores and hands them back, never dereferences or frees them. An
 * item that was put is delivered exactly once (to each receiver, for an
 * announcement) unless the queue is destroyed with the item still inside.
 *
 * Rules shared with the synchronization objects: timeouts are seconds
 * (LOX_FOREVER waits forever, 0 tries once, NaN is LOX_EINVAL); waits spin
 * for a few microseconds, then sleep on a futex (no polling loop); a put
 * or get that returns LOX_TIMEOUT leaves no trace; destroying an object
 * while threads are blocked in it is detected (logged at ERROR, the blocked
 * threads return LOX_ESTATE, destroy waits until they have left); counter
 * getters are snapshots and read 0 for a NULL handle (detail set), flag
 * getters return 1/0 or LOX_EINVAL for NULL. All functions are thread-safe.
 */

typedef struct lox_queue lox_queue;
typedef struct lox_announcement lox_announcement;
typedef struct lox_funnel lox_funnel;

/* --- lox_queue: closable MPMC FIFO (queue.Queue + close) ----------------- */

/** Creates an empty queue holding at most `maxsize` items (0 = unbounded;
 *  any other value, SIZE_MAX included, is a bound, not a preallocation).
 *  LOX_EINVAL if `out` is NULL; LOX_ENOMEM. The caller owns `*out`
 *  (lox_queue_destroy).
 *
 *  Lock-free: puts and gets are a compare-and-swap on the producers' or the
 *  consumers' end plus one store; the queue sleeps only when a get finds it
 *  empty or a put finds it full, and a put or get wakes a sleeper without a
 *  system call when nobody sleeps. A bounded queue with maxsize <= 65536
 *  is one preallocated ring (16 bytes per slot); larger or unbounded queues
 *  grow in blocks of about 16 KiB, allocated as needed and freed as soon as
 *  they are drained. FIFO: items come out in the order their puts took
 *  effect (two concurrent puts take effect in either order). */
LOX_API int lox_queue_create(size_t maxsize, lox_queue **out);

/** Frees the queue and any items still inside (the items themselves are the
 *  caller's). NULL is ignored. Threads blocked in put, get or join get
 *  LOX_ESTATE. */
LOX_API void lox_queue_destroy(lox_queue *q);

/** Appends `item`, waiting at most `timeout` seconds for room.
 *  LOX_OK; LOX_TIMEOUT: still full (nothing was put); LOX_ECLOSED: the queue
 *  is closed (also when it closes while this put waits); LOX_EINVAL: `q`
 *  NULL or NaN timeout; LOX_ESTATE: destroyed while waiting. */
LOX_API int lox_queue_put(lox_queue *q, void *item, double timeout);

/** Removes the oldest item into `*item`, waiting at most `timeout` seconds
 *  for one. LOX_OK; LOX_TIMEOUT: still empty (`*item` untouched);
 *  LOX_ECLOSED: the queue is closed and empty (after a close, gets drain
 *  what is left first); LOX_EINVAL: `q` or `item` NULL, or NaN timeout;
 *  LOX_ESTATE: destroyed while waiting. */
LOX_API int lox_queue_get(lox_queue *q, void **item, double timeout);

/** Closes the queue: later puts return LOX_ECLOSED, gets drain the items
 *  left and then return LOX_ECLOSED, and every blocked put and get wakes up
 *  (the seed's ClosableQueue, without a sentinel item). A put either took
 *  effect before the close (its item will be got) or returns LOX_ECLOSED:
 *  nothing is lost. Closing twice is allowed (LOX_OK). LOX_EINVAL if `q` is
 *  NULL. */
LOX_API int lox_queue_close(lox_queue *q);

/** 1 if lox_queue_close was called, 0 if not; LOX_EINVAL for NULL. */
LOX_API int lox_queue_closed(const lox_queue *q);

/** Marks one item that was got as fully processed (queue.Queue.task_done).
 *  LOX_ESTATE if called more often than items were got (nothing changes);
 *  LOX_EINVAL if `q` is NULL. When every item ever put has been marked,
 *  lox_queue_join returns. */
LOX_API int lox_queue_task_done(lox_queue *q);

/** Waits at most `timeout` seconds until every item ever put has been got
 *  and marked with lox_queue_task_done (returns at once when that already
 *  holds). LOX_OK; LOX_TIMEOUT; LOX_EINVAL: `q` NULL or NaN timeout;
 *  LOX_ESTATE: destroyed while waiting. */
LOX_API int lox_queue_join(lox_queue *q, double timeout);

/** Items in the queue now (qsize). 0 for NULL (detail set). */
LOX_API size_t lox_queue_size(const lox_queue *q);

/** The maxsize given to lox_queue_create (0 = unbounded). 0 for NULL. */
LOX_API size_t lox_queue_maxsize(const lox_queue *q);

/** 1 if empty, 0 if not; LOX_EINVAL for NULL. */
LOX_API int lox_queue_empty(const lox_queue *q);

/** 1 if bounded and holding maxsize items, 0 if not (always 0 when
 *  unbounded); LOX_EINVAL for NULL. */
LOX_API int lox_queue_full(const lox_queue *q);

/* --- lox_announcement: many receive queues to many, with backlog -------- */

#define LOX_BACKLOG_OFF        (-1)   /* no backlog (lox: backlog=None) */
#define LOX_BACKLOG_UNBOUNDED  (0)    /* keep everything put until finalize (lox: backlog<=0) */
/* backlog > 0: keep the most recent `backlog` items (circular) */

/** Creates an announcement group and returns its first handle, which is
 *  the group's first member (lox's Announcement() is one of its own
 *  subscribers): it has its own receive queue, bounded by `maxsize`, and
 *  gets what the other handles put, so lox_announcement_subscribers is 1
 *  now and 3 after two subscribes. `maxsize` is also the default
 *  receive-queue bound of the group's later members (0 = unbounded; any
 *  value works, large bounds are counts, not preallocated); `backlog` is
 *  LOX_BACKLOG_OFF, LOX_BACKLOG_UNBOUNDED or N > 0 (the last N items put
 *  are kept and pre-filled into every later subscriber, so a late or racing
 *  subscriber misses nothing; the backlog grows as items come, any N
 *  works). LOX_EINVAL: `out` NULL or `backlog` < -1; LOX_ENOMEM.
 *
 *  Membership is lox's: the members are the handle from create and every
 *  subscriber (subscribers of subscribers included), each with its own
 *  receive queue; a put by a member reaches every OTHER member, so members
 *  talk many-to-many (lox 0.6):
 *
 *      lox_announcement_create(0, LOX_BACKLOG_OFF, &ann);
 *      lox_announcement_subscribe(ann, 0, LOX_FOREVER, &foo);
 *      lox_announcement_put(foo, item, LOX_FOREVER);   (ann gets item)
 *
 *  A clone is a publisher outside the member list: its puts reach every
 *  member, the creator included, and it receives nothing.
 *
 *  A group is a set of handles: its members, unsubscribed members and
 *  clones. Each handle is owned by its caller and destroyed on its own
 *  (lox_announcement_destroy); the group's shared state lives until the
 *  last handle is destroyed, in any order. Puts are serialized by a group
 *  mutex (all-or-none delivery needs it); gets only touch the receiver's
 *  own lock-free queue. */
LOX_API int lox_announcement_create(size_t maxsize, long long backlog, lox_announcement **out);

/** Destroys one handle (NULL is ignored). A member (the create handle
 *  included) first leaves the group (items still in its queue are
 *  dropped); the other handles go on. Threads blocked in this handle's get
 *  get LOX_ESTATE. */
LOX_API void lox_announcement_destroy(lox_announcement *a);

/** Subscribes a new member to `a`'s group (any handle of the group may be
 *  used) and returns its handle in `*out`: it gets every item put by any
 *  other handle of the group from now on, preceded by the group's backlog
 *  (its own puts reach the other members, the creator included).
 *  `maxsize` bounds its receive queue (0 = the group's default). The new
 *  queue is fresh and empty, so subscribe never waits for room (lox's
 *  `timeout` only mattered for a caller-supplied full queue); `timeout` is
 *  still checked (NaN is LOX_EINVAL). LOX_OK; LOX_ECLOSED: the group was
 *  finalized; LOX_ESTATE: the backlog holds more items than the new queue's
 *  maxsize (nothing subscribed: nobody could drain the queue before
 *  subscribe returns, so waiting would never end); LOX_EINVAL: `a` or `out`
 *  NULL, NaN timeout; LOX_ENOMEM. The caller owns `*out`. */
LOX_API int lox_announcement_subscribe(lox_announcement *a, size_t maxsize, double timeout,
                                       lox_announcement **out);

/** Puts `item` into the receive queue of every member except `a` itself
 *  (the creator's queue included when `a` is a subscriber or a clone), and
 *  into the backlog. All or none: if a receiver is full, the put waits (at
 *  most `timeout` seconds) until every receiver has room, then delivers to
 *  all at once; on LOX_TIMEOUT nobody got the item (lox delivers
 *  partially; we do not). A member that never gets fills up like any
 *  other: in a bounded group, a creator that only publishes while its
 *  subscribers put too must get (or unsubscribe). With no other member the
 *  item only goes to the backlog. Unsubscribed handles and clones may
 *  still put.
 *  LOX_EINVAL: `a` NULL or NaN timeout; LOX_ESTATE: `a` was destroyed
 *  while this put waited. Cost: one mutex plus one lock-free enqueue per
 *  receiver. */
LOX_API int lox_announcement_put(lox_announcement *a, void *item, double timeout);

/** Takes the oldest item of `a`'s receive queue, waiting at most `timeout`
 *  seconds. LOX_OK; LOX_TIMEOUT (empty); LOX_ECLOSED: `a` is a clone (it
 *  receives nothing) or was unsubscribed and its queue is drained;
 *  LOX_EINVAL: `a` or `item` NULL, NaN timeout; LOX_ESTATE: destroyed while
 *  waiting. */
LOX_API int lox_announcement_get(lox_announcement *a, void **item, double timeout);

/** Closes the group to new subscribers (their subscribe returns
 *  LOX_ECLOSED) and frees the backlog; later puts keep no backlog. Existing
 *  members (the creator included) are unaffected. Finalizing twice is
 *  LOX_OK. LOX_EINVAL if `a` is NULL. */
LOX_API int lox_announcement_finalize(lox_announcement *a);

/** `a` leaves the group's members (lox's unsubscribe; the create handle
 *  may too): it receives nothing more, its gets drain what it had and then
 *  return LOX_ECLOSED; it may still put. LOX_ESTATE if `a` is not a member
 *  (a clone, or already unsubscribed); LOX_EINVAL if `a` is NULL. */
LOX_API int lox_announcement_unsubscribe(lox_announcement *a);

/** A new publisher handle on `a`'s group (lox's clone without a
 *  subscribe): its puts reach every member, the creator included; it
 *  receives nothing (gets return LOX_ECLOSED) and is not counted as a
 *  member. LOX_EINVAL: `a` or `out` NULL; LOX_ENOMEM. The caller owns
 *  `*out`. */
LOX_API int lox_announcement_clone(lox_announcement *a, lox_announcement **out);

/** Members in the group now, the creator included while it is one (lox's
 *  len(): 1 after create, 3 after two subscribes). 0 for NULL (detail
 *  set). */
LOX_API size_t lox_announcement_subscribers(const lox_announcement *a);

/** Items in `a`'s receive queue (qsize); 0 for a clone or NULL. */
LOX_API size_t lox_announcement_size(const lox_announcement *a);

/** Items kept in the group's backlog now (0 when off or finalized). */
LOX_API size_t lox_announcement_backlog(const lox_announcement *a);

/** 1 if `a`'s receive queue is empty (always for a clone), 0 if not;
 *  LOX_EINVAL for NULL. */
LOX_API int lox_announcement_empty(const lox_announcement *a);

/** 1 if `a`'s receive queue is bounded and full, 0 if not; LOX_EINVAL for
 *  NULL. */
LOX_API int lox_announcement_full(const lox_announcement *a);

/* --- lox_funnel: join the results of many inputs by job id --------------- */

/** Creates a funnel and returns its top, where complete sets come out.
 *  LOX_EINVAL if `out` is NULL; LOX_ENOMEM. The caller owns `*out`; the
 *  funnel's shared state lives until its last handle (top or input) is
 *  destroyed, in any order. Unbounded: puts never block. */
LOX_API int lox_funnel_create(lox_funnel **out);

/** Destroys one handle (NULL is ignored). Destroying an input does not
 *  remove it from the funnel (the inputs keep their numbers, and sets still
 *  need its item). Threads blocked in the top's get get LOX_ESTATE. */
LOX_API void lox_funnel_destroy(lox_funnel *f);

/** Adds an input to the funnel of `top` (the top or any input may be
 *  given) and returns it in `*input`; inputs are numbered 0, 1, ... in
 *  subscription order (lox_funnel_index). Sets not yet complete now also
 *  wait for the new input. LOX_EINVAL: NULL argument; LOX_ENOMEM. */
LOX_API int lox_funnel_subscribe(lox_funnel *top, lox_funnel **input);

/** Puts `item` for job `jid` on `input`. When every input has put an item
 *  for `jid`, the set is complete and comes out of the top (in completion
 *  order, items in input order). A second put of the same input for the
 *  same jid before the set completes is kept for the next set with that jid
 *  (nothing is overwritten). Never blocks; `timeout` is checked (NaN is
 *  LOX_EINVAL) for symmetry with the other puts. LOX_ESTATE if `input` is
 *  the top (lox's FunnelPutTopError); LOX_EINVAL: NULL `input`; LOX_ENOMEM. */
LOX_API int lox_funnel_put(lox_funnel *input, unsigned long long jid, void *item, double timeout);

/** Takes the oldest complete set, waiting at most `timeout` seconds: its
 *  job id goes to `*jid` (may be NULL), its items in input order to
 *  `items[0 .. *count-1]`; `capacity` is the room at `items` as the caller
 *  knows it (any value: only the set's own items are written). LOX_OK;
 *  LOX_TIMEOUT (nothing complete);
 *  LOX_EINVAL: `top` or `count` NULL, `items` NULL with `capacity` > 0, NaN
 *  timeout, or `capacity` smaller than the set (then `*count` is set to the
 *  set's size and nothing is consumed); LOX_ESTATE: `top` is an input, or
 *  the funnel was destroyed while waiting. */
LOX_API int lox_funnel_get(lox_funnel *top, double timeout, unsigned long long *jid, void **items,
                           size_t capacity, size_t *count);

/** Inputs subscribed so far (lox's len()); 0 for NULL (detail set). */
LOX_API size_t lox_funnel_inputs(const lox_funnel *f);

/** Complete sets waiting at the top now; 0 for NULL. */
LOX_API size_t lox_funnel_ready(const lox_funnel *f);

/** The input's number (0, 1, ...), -1 for the top; -1 for NULL (detail set). */
LOX_API long lox_funnel_index(const lox_funnel *f);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* LOX_LOX_H */
