/* SPDX-License-Identifier: Apache-2.0 */
/* liblox C ABI: the thread pool. */
/* Part of <lox/lox.h> (its conventions apply); include that header. */
#ifndef LOX_C_THREAD_H
#define LOX_C_THREAD_H

#include <stddef.h>
#include <lox/c/api.h>
#include <lox/c/results.h>
#include <lox/c/task.h>

LOX_BEGIN_DECLS

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
  size_t struct_size; /**< sizeof(lox_thread_opts) */
  /** Seconds a worker waits without work before its thread exits
   *  (default 2.0; 0 = exit as soon as there is no work). NaN or negative:
   *  LOX_EINVAL. */
  double idle_timeout;
} lox_thread_opts;

#define LOX_THREAD_OPTS_INIT \
  { sizeof(lox_thread_opts), 2.0 }

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
LOX_API int lox_thread_create_ex(size_t max_workers, lox_task_fn fn, void *ctx, const lox_thread_opts *opts,
                                 lox_thread **out);

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

/** `lox_thread_scatter_fn` with options and a handle. `fn` NULL: the pool's
 *  task function (LOX_EINVAL if it has none). `opts` (NULL: defaults) may
 *  name predecessors (see lox_scatter_opts): the task is then queued when
 *  the last of them completes, and reads their values inside the task with
 *  lox_task_input. `*task` (when `task` is not NULL) receives a handle the
 *  caller releases with lox_task_release; a scatter that asks for no handle
 *  and names no predecessor costs what lox_thread_scatter costs. The task
 *  takes its index in the current round at once, whatever it waits for.
 *  In debug mode a task whose predecessors are all complete runs before
 *  this returns; one that waits runs in the thread that completes its last
 *  predecessor. LOX_EINVAL also for a bad `struct_size`, `after` NULL with
 *  `n_after` > 0, a NULL or dead predecessor, or `n_after` above 1,000,000;
 *  LOX_ENOMEM. On error nothing is scattered and `*task`, `*index` are
 *  untouched. */
LOX_API int lox_thread_scatter_ex(lox_thread *pool, lox_task_fn fn, void *ctx, void *arg, const lox_scatter_opts *opts,
                                  size_t *index, lox_task **task);

/** Cancels every task of the pool not gathered yet: the current round is
 *  closed (later scatters start a new round, and the next gather returns
 *  the cancelled round alone, as after a gather timeout), its tasks and
 *  those of earlier rounds not yet gathered that have not started never
 *  run (status LOX_ECANCELLED; their dependents LOX_EDEPENDENCY), and
 *  running ones see lox_task_cancelled() turn true. Tasks already finished
 *  keep their results. Gathers return these rounds as usual (LOX_ETASK).
 *  LOX_OK; LOX_EINVAL for a NULL pool. May be called from a task. */
LOX_API int lox_thread_cancel(lox_thread *pool);

/** Takes the round the next gather would return and hands it over as a
 *  completions object, delivering its tasks in completion order (see
 *  lox_completions_next; `index` is the scatter index). Tasks scattered
 *  from now on belong to the next round. LOX_OK; LOX_EINVAL for NULL
 *  arguments; LOX_ESTATE from inside one of the pool's tasks; LOX_ENOMEM. */
LOX_API int lox_thread_completions(lox_thread *pool, lox_completions **out);

LOX_END_DECLS

#endif /* LOX_C_THREAD_H */
