/* SPDX-License-Identifier: Apache-2.0 */
/* liblox C ABI: the process pool. */
/* Part of <lox/lox.h> (its conventions apply); include that header. */
#ifndef LOX_C_PROCESS_H
#define LOX_C_PROCESS_H

#include <stddef.h>
#include <lox/c/api.h>
#include <lox/c/results.h>
#include <lox/c/task.h>

LOX_BEGIN_DECLS

/* ------------------------------------------------------------------------ */
/* Process pool (lox.process)                                                */
/* ------------------------------------------------------------------------ */

/** Appends `len` bytes at `data` to the result being built (`data` may be
 *  NULL when `len` is 0). LOX_OK; LOX_EINVAL: `out` NULL, `data` NULL with
 *  `len` > 0, or `len` above PTRDIFF_MAX (no buffer is that large);
 *  LOX_ENOMEM: the result cannot grow that much (nothing is appended). Only
 *  valid inside the lox_process_fn (or lox_scatter_opts.encode) call that
 *  received `out`. */
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
  size_t struct_size; /**< sizeof(lox_process_opts) */
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

#define LOX_PROCESS_OPTS_INIT \
  { sizeof(lox_process_opts), LOX_FOREVER, (size_t)1 << 30 }

/** Fills `*opts` with the defaults (same as LOX_PROCESS_OPTS_INIT). NULL is
 *  ignored. */
LOX_API void lox_process_opts_init(lox_process_opts *opts);

/** Creates a process pool running `fn(ctx, in, in_len, out)` in at most
 *  `max_workers` worker processes (LOX_DEFAULT_WORKERS = the number of online
 *  CPUs, at most 4096). `max_workers` above 4096 is LOX_EINVAL: each worker
 *  is a process, a thread and a socketpair of this process, all made at
 *  create. Scatter/gather follow the thread pool's rules (rounds, results in
 *  scatter order, per-task status, gather timeout that loses nothing,
 *  progress callback and bar); inputs and results are bytes, copied across.
 *
 *  `max_workers == 0` (or LOX_DEBUG, as for threads) runs each task inline in
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
 *  LOX_OK; LOX_EINVAL: `fn` or `out` NULL, `max_workers` above 4096, bad
 *  options; LOX_ENOMEM; LOX_ESYS:
 *  socketpair or fork failed (errno text in the detail). The caller owns
 *  `*out` (lox_process_destroy). */
LOX_API int lox_process_create(size_t max_workers, lox_process_fn fn, void *ctx, lox_process **out);

/** lox_process_create with options (NULL: the defaults). LOX_EINVAL for a
 *  bad `struct_size`, task_timeout or max_message. */
LOX_API int lox_process_create_ex(size_t max_workers, lox_process_fn fn, void *ctx, const lox_process_opts *opts,
                                  lox_process **out);

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

/** `lox_process_scatter` with options and a handle (see
 *  lox_thread_scatter_ex). With predecessors the task's input is built
 *  when the last one completes: their results framed as lox_inputs_get
 *  describes, then `in`; thread predecessors need `opts->encode`. That
 *  input is checked against max_message then (a larger one fails the task
 *  with LOX_EDEPENDENCY). LOX_EINVAL also for a bad `struct_size`, NULL or
 *  dead predecessors, a thread predecessor without `encode`; LOX_ENOMEM. */
LOX_API int lox_process_scatter_ex(lox_process *pool, const void *in, size_t len, const lox_scatter_opts *opts,
                                   size_t *index, lox_task **task);

/** Sets the grace period of cancelled running tasks: their worker gets
 *  SIGTERM, then SIGKILL `seconds` later if it still runs the task
 *  (default 1.0; 0: SIGKILL at once). Applies to lox_process_cancel and
 *  lox_task_cancel from now on. (A setter rather than a lox_process_opts
 *  field: options structs never grow, see docs/abi.md.) LOX_OK;
 *  LOX_EINVAL for a NULL pool, NaN or a negative value. */
LOX_API int lox_process_set_cancel_grace(lox_process *pool, double seconds);

/** Cancels every task of the pool not gathered yet, as lox_thread_cancel:
 *  unstarted tasks never run (LOX_ECANCELLED); a running task's worker
 *  gets SIGTERM, then SIGKILL after the grace period
 *  (lox_process_set_cancel_grace), and is replaced; the task's status is
 *  LOX_ECANCELLED. A task already handed to a worker in
 *  a batch of quick tasks counts as started. LOX_OK; LOX_EINVAL. */
LOX_API int lox_process_cancel(lox_process *pool);

/** The round the next gather would return, as a completions object (see
 *  lox_thread_completions). LOX_OK; LOX_EINVAL; LOX_ENOMEM. */
LOX_API int lox_process_completions(lox_process *pool, lox_completions **out);

LOX_END_DECLS

#endif /* LOX_C_PROCESS_H */
