/* SPDX-License-Identifier: Apache-2.0 */
/* liblox C ABI: task handles, dependencies, completion order, cancellation. */
/* Part of <lox/lox.h> (its conventions apply); include that header. */
#ifndef LOX_C_TASK_H
#define LOX_C_TASK_H

#include <stddef.h>
#include <lox/c/api.h>
#include <lox/c/status.h>

LOX_BEGIN_DECLS

/* ------------------------------------------------------------------------ */
/* Task handles and task graphs (lox 0.6 chaining)                           */
/* ------------------------------------------------------------------------ */

/** A handle to one scattered task of a thread or process pool, returned by
 *  `lox_thread_scatter_ex` / `lox_process_scatter_ex` when asked for. It
 *  lets the caller wait for that one task, read its outcome, be called back
 *  when it completes, cancel it, and name it as a predecessor of later
 *  tasks. A handle is reference counted: the caller owns one reference
 *  (`lox_task_release`), and liblox keeps its own while the task is queued
 *  or named by a dependent, so releasing a handle before its task ends is
 *  safe (the task still runs, its dependents still get its result).
 *
 *  The task stays a member of the round it was scattered into: the round's
 *  gather returns its outcome at its index, exactly as for a scatter without
 *  a handle. All accessors are thread-safe. */
typedef struct lox_task lox_task;

/** Where a worker writes the bytes of its result (lox_buffer_append, in
 *  <lox/c/process.h>), and an `encode` callback the bytes of a value. */
typedef struct lox_buffer lox_buffer;

/** Extra settings of one scatter (`lox_thread_scatter_ex`,
 *  `lox_process_scatter_ex`). */
typedef struct lox_scatter_opts {
  size_t struct_size; /**< sizeof(lox_scatter_opts) */
  /** Predecessors: the task runs only once every one of them completed,
   *  and receives their outcomes as its inputs (see lox_task_input for
   *  thread tasks, lox_inputs_get for process tasks). Any number, from any
   *  pool (thread or process, this one included), duplicates allowed. A
   *  handle must exist to be named, so a cycle cannot be built. No worker
   *  ever waits for a predecessor: the task is queued when its last
   *  predecessor completes. If a predecessor fails or is cancelled, the
   *  task is not run: it completes with LOX_EDEPENDENCY and a detail naming
   *  the first such predecessor. The array is read during the call only;
   *  liblox takes references of its own. NULL with `n_after` 0: none. */
  lox_task *const *after;
  size_t n_after; /**< entries in `after` (at most 1,000,000) */
  /** Process tasks only: turns a thread predecessor's value into the bytes
   *  the process task receives for it. Called once per thread predecessor
   *  in the thread that completes the last predecessor (no lock held);
   *  appends the bytes with lox_buffer_append and returns 0, or a nonzero
   *  code that fails the task with LOX_EDEPENDENCY. NULL: a thread
   *  predecessor is refused at scatter (LOX_EINVAL), since its value is a
   *  pointer in this process. Ignored by thread pools. */
  int (*encode)(void *ctx, void *value, lox_buffer *out);
  void *encode_ctx; /**< passed to `encode` */
} lox_scatter_opts;

#define LOX_SCATTER_OPTS_INIT \
  { sizeof(lox_scatter_opts), NULL, 0, NULL, NULL }

/** Fills `*opts` with the defaults (same as LOX_SCATTER_OPTS_INIT). NULL is
 *  ignored. */
LOX_API void lox_scatter_opts_init(lox_scatter_opts *opts);

/** Waits until the task completed (ran, failed, was cancelled or failed for
 *  a predecessor) and its completion callbacks ran. LOX_OK: completed; LOX_TIMEOUT; LOX_EINVAL for a NULL
 *  or dead handle or a NaN timeout. It does not matter which thread waits;
 *  a task may wait for a task of another pool (never for one queued behind
 *  it on its own pool: that may never start). */
LOX_API int lox_task_wait(const lox_task *task, double timeout);

/** 1 when the task completed, 0 when not yet (or for a NULL handle). */
LOX_API int lox_task_done(const lox_task *task);

/** The task's status once completed, as lox_results_status reports it: the
 *  task's return value, LOX_EWORKER, LOX_TIMEOUT (process time limit),
 *  LOX_ECANCELLED, LOX_EDEPENDENCY. LOX_ESTATE while it has not completed
 *  (detail "task ... has not completed"); LOX_EINVAL for a NULL handle. */
LOX_API int lox_task_status(const lox_task *task);

/** Detail text of a completed task that failed ("predecessor 0 (task 3 of
 *  its round) failed with status 7"), NULL for one that succeeded or has
 *  not completed. Owned by the handle. */
LOX_API const char *lox_task_error(const lox_task *task);

/** The task's index in the round it was scattered into (what the scatter's
 *  `index` received). SIZE_MAX for NULL. */
LOX_API size_t lox_task_index(const lox_task *task);

/** Thread task: the value it stored in `*result` once completed (NULL
 *  before, for NULL, and for process tasks). Not freed by liblox. */
LOX_API void *lox_task_value(const lox_task *task);

/** Process task: its result bytes once completed; `*data` is owned by the
 *  handle and valid until its last reference goes. LOX_ESTATE when it has
 *  not completed; LOX_EINVAL for thread tasks ("holds a value, not bytes")
 *  and NULL arguments. */
LOX_API int lox_task_bytes(const lox_task *task, const void **data, size_t *len);

/** Called once when a task completes. `task` is borrowed for the call
 *  (lox_task_retain it to keep it). */
typedef void (*lox_done_fn)(void *ctx, lox_task *task);

/** Registers `fn(ctx, task)`, called exactly once: on the liblox thread
 *  that completes the task (a worker thread, a process pool's driver
 *  thread, the thread that cancels it), after its outcome is readable and
 *  before the round's gather can return it; or at once, in the calling
 *  thread, when the task has already completed. Any number of callbacks
 *  may be registered; they run in registration order. A callback may call
 *  any liblox function (scatter, cancel, another handle's calls) except
 *  waits for work of the pool that runs it; keep it short, it delays the
 *  worker. LOX_OK; LOX_EINVAL for NULL `task` or `fn`; LOX_ENOMEM. */
LOX_API int lox_task_on_done(lox_task *task, lox_done_fn fn, void *ctx);

/** Requests cancellation of the task. Not started: it never runs and
 *  completes with LOX_ECANCELLED (its dependents with LOX_EDEPENDENCY).
 *  Running in a thread pool: `lox_task_cancelled()` turns true inside it,
 *  it decides itself when to stop (its outcome is what it returns).
 *  Running in a process pool: its worker gets SIGTERM, then SIGKILL after
 *  the pool's grace period (lox_process_set_cancel_grace); the task completes with LOX_ECANCELLED and
 *  the worker is replaced. Completed: nothing changes. LOX_OK in all these
 *  cases; LOX_EINVAL for a NULL handle. */
LOX_API int lox_task_cancel(lox_task *task);

/** Adds a reference (returns `task`; NULL is returned for NULL). */
LOX_API lox_task *lox_task_retain(lox_task *task);

/** Drops the caller's reference (NULL is ignored); the handle is freed
 *  with its last reference. The task itself is not affected. */
LOX_API void lox_task_release(lox_task *task);

/* Tasks completed by the caller (promises) ----------------------------- */

/** Creates a task that no pool runs: the caller completes it, once, with
 *  lox_task_complete (concurrent.futures' `Future()` + `set_result`). It
 *  behaves as a thread task everywhere else: it can be waited for, be
 *  called back, be named in lox_scatter_opts.after (its dependents run
 *  once it is completed, and read its value with lox_task_value), be put
 *  in lox_completions_of, and be cancelled (lox_task_cancel completes it
 *  with LOX_ECANCELLED if it was not completed yet). It belongs to no
 *  round. `index` is what lox_task_index reports and what dependents'
 *  details name ("predecessor 0 (task 7 of its round) ..."): the number
 *  of the work it stands for, or anything. One allocation. On success
 *  `*out` holds the caller's reference (lox_task_release). LOX_OK;
 *  LOX_EINVAL for NULL `out`; LOX_ENOMEM. Thread-safe. */
LOX_API int lox_task_create(size_t index, lox_task **out);

/** Completes a task made by lox_task_create, in the calling thread: its
 *  outcome becomes `status` (LOX_OK, or any failure status: dependents
 *  then fail with LOX_EDEPENDENCY), `value` (read by lox_task_value; not
 *  freed by liblox) and `detail` (copied; NULL: a default text for a
 *  failure, ignored on success). Then, before this returns: its callbacks
 *  run, its waiters wake, and dependents whose last predecessor it was are
 *  queued on their pools. Exactly one completion wins: LOX_OK for it;
 *  LOX_ESTATE when the task was already completed or cancelled (nothing
 *  changes); LOX_EINVAL for a NULL or dead handle or a task of a pool
 *  (its pool completes it). Thread-safe. */
LOX_API int lox_task_complete(lox_task *task, int status, void *value, const char *detail);

/* Calls made from inside a running thread task ------------------------- */

/** Nonzero when the task running on the calling thread was cancelled
 *  (lox_task_cancel on its handle, or a cancel of its round). A
 *  long-running thread task polls this and returns early. 0 outside a
 *  task. Costs a thread-local read and a load. */
LOX_API int lox_task_cancelled(void);

/** Number of predecessors of the thread task running on the calling
 *  thread (0 outside a task or for a task without predecessors). */
LOX_API size_t lox_task_input_count(void);

/** Predecessor `i` (in the order given at scatter) of the running thread
 *  task, borrowed for the task's run: read its outcome with
 *  lox_task_value or lox_task_bytes. Every predecessor has succeeded (a
 *  failed one fails the task before it runs). NULL when `i` is out of range
 *  or outside a task. */
LOX_API const lox_task *lox_task_input(size_t i);

/* Process-task inputs --------------------------------------------------- */

/** A process task with predecessors receives as its input: a 4-byte
 *  little-endian count N of predecessors, then N frames, each an 8-byte
 *  little-endian length followed by that predecessor's result bytes (for a
 *  thread predecessor, what `encode` appended), in the order given at
 *  scatter, then the scatter's own input bytes to the end. These two
 *  calls parse it (in the worker, or anywhere).
 *
 *  lox_inputs_count: N, or LOX_EINVAL-style SIZE_MAX when `in` is not such
 *  an input (too short, a length running past its end). */
LOX_API size_t lox_inputs_count(const void *in, size_t len);

/** Input `i` of such an input: predecessor `i` for i < N, the scatter's own
 *  input for i == N. `*data` points into `in`. LOX_OK; LOX_EINVAL when `in`
 *  is malformed, `i` > N, or an out-pointer is NULL. */
LOX_API int lox_inputs_get(const void *in, size_t len, size_t i, const void **data, size_t *n);

/* Results in completion order (concurrent.futures.as_completed) --------- */

/** A source of task outcomes in the order tasks complete: a whole round
 *  (lox_thread_completions, lox_process_completions) or a set of handles
 *  (lox_completions_of). Not thread-safe: one consumer at a time. */
typedef struct lox_completions lox_completions;

/** One completed task, as lox_completions_next delivers it. Every pointer
 *  is owned by the completions object and valid until it is destroyed. */
typedef struct lox_completed {
  size_t struct_size; /**< sizeof(lox_completed), set by the caller */
  size_t index;       /**< scatter index in its round (handles: position in the set) */
  int status;         /**< as lox_results_status */
  void *value;        /**< thread task: its value */
  const void *data;   /**< process task: its result bytes */
  size_t len;         /**< ... and their length */
  const char *error;  /**< detail of a failed task, NULL on success */
  lox_task *task;     /**< the handle (lox_completions_of), NULL for a round */
} lox_completed;

/** Handles in completion order: `n` handles (the array is read during the
 *  call; references are taken). `index` in each delivery is the position
 *  in `tasks`. LOX_OK; LOX_EINVAL for NULL `out`, NULL `tasks` with n > 0,
 *  a NULL or dead handle; LOX_ENOMEM. */
LOX_API int lox_completions_of(lox_task *const *tasks, size_t n, lox_completions **out);

/** Delivers the next completed task into `*out`, waiting up to `timeout`.
 *  Order: the tasks that had completed before the object existed come
 *  first (a set of handles and a process round: in the order they
 *  completed; a thread round: in index order, since its slots keep no
 *  completion time), then each later one as it completes. A thread
 *  pool's worker reports a batch of quick tasks (under ~2 us each) when
 *  the batch ends, so those may arrive together, in index order. LOX_OK; LOX_TIMEOUT
 *  (nothing delivered, nothing lost); LOX_ECLOSED when every task was
 *  delivered; LOX_EINVAL for NULL arguments, a bad `out->struct_size` or a
 *  NaN timeout. */
LOX_API int lox_completions_next(lox_completions *c, double timeout, lox_completed *out);

/** Tasks not delivered yet (0 for NULL). */
LOX_API size_t lox_completions_remaining(const lox_completions *c);

/** Frees the object (NULL is ignored). Tasks not delivered yet still run;
 *  a round's outcomes not delivered are dropped, as lox_results_destroy
 *  drops them. */
LOX_API void lox_completions_destroy(lox_completions *c);

LOX_END_DECLS

#endif /* LOX_C_TASK_H */
