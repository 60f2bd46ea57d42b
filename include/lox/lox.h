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
 * - Timeouts are `double` seconds: negative (`LOX_FOREVER`) waits forever,
 *   0 tries once without blocking, NaN is `LOX_EINVAL`. Waits use the
 *   monotonic clock. A call that times out leaves no trace.
 * - Every object may be used from any number of threads at once unless a
 *   function says otherwise. `lox_X_destroy` must not race with other calls
 *   on the same object.
 * - Bad input (NULL handles or out-pointers, bad flags, NaN timeouts) never
 *   crashes: it returns `LOX_EINVAL` and sets the detail message.
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

enum {
    LOX_OK = 0,        /**< success */
    LOX_TIMEOUT = 1,   /**< a timed wait ran out (an outcome, not an error) */
    LOX_EINVAL = -1,   /**< bad argument: NULL handle/out-pointer, bad mode, index out of range, NaN timeout, n == 0 */
    LOX_ENOMEM = -2,   /**< allocation failed */
    LOX_ESTATE = -3,   /**< not valid in the object's current state (releasing what is not held, gather from inside a task, ...) */
    LOX_ECLOSED = -4,  /**< queue closed, announcement finalized, pool shut down */
    LOX_ETASK = -5,    /**< gather: at least one task failed; results are still delivered */
    LOX_EWORKER = -6,  /**< a worker process died while running the task (per-task status) */
    LOX_ESYS = -7      /**< an operating-system call failed (errno text in the detail message) */
};

/** Wait forever (any negative timeout does the same). */
#define LOX_FOREVER (-1.0)

/** Static English text describing `status` ("invalid argument", ...), or
 *  "unknown status" for a value that is not a `LOX_*` code. Never NULL,
 *  never needs freeing, thread-safe. */
LOX_API const char *lox_status_str(int status);

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
 *  several at once: the callback must be thread-safe and must not call back
 *  into lox_log_* functions. */
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
 *  running in another thread may still finish). */
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
 *  (0 = success); for the process pool, also LOX_EWORKER etc. for pool
 *  faults. Returns LOX_EINVAL for a NULL `r` or `i` out of range (and sets
 *  the detail). */
LOX_API int lox_results_status(const lox_results *r, size_t i);

/** Thread pool: the value the task stored in `*result` (NULL if it stored
 *  nothing). The library never dereferences or frees it: ownership is the
 *  task's contract with the caller. NULL for a NULL `r` or `i` out of range
 *  (and sets the detail). */
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
 *  (those calls return LOX_ESTATE). */
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
 *  `arg`, on at most `max_workers` threads (LOX_DEFAULT_WORKERS = 50).
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
 *  LOX_EINVAL if `pool` is NULL or has no `fn`; LOX_ENOMEM;
 *  LOX_ESYS if a worker thread cannot be started and the pool has none. */
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
 *  tasks (it could never finish); LOX_ENOMEM.
 *
 *  The caller owns `*out` and frees it with lox_results_destroy. */
LOX_API int lox_thread_gather(lox_thread *pool, const lox_gather_opts *opts, lox_results **out);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* LOX_LOX_H */
