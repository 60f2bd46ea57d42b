/* SPDX-License-Identifier: Apache-2.0 */
/* liblox C ABI: gather options and results. */
/* Part of <lox/lox.h> (its conventions apply); include that header. */
#ifndef LOX_C_RESULTS_H
#define LOX_C_RESULTS_H

#include <stddef.h>
#include <lox/c/api.h>
#include <lox/c/status.h>

LOX_BEGIN_DECLS

/* ------------------------------------------------------------------------ */
/* Gather options and results (shared by the thread and process pools)       */
/* ------------------------------------------------------------------------ */

typedef struct lox_results lox_results;

/** Progress of a gather: `done` of `total` tasks of the round finished. */
typedef void (*lox_progress_fn)(void *ctx, size_t done, size_t total);

typedef struct lox_gather_opts {
  size_t struct_size; /**< sizeof(lox_gather_opts) */
  double timeout;     /**< seconds; LOX_FOREVER (default) waits for the whole round */
  /** Called in the gathering thread, never concurrently: when the wait
   *  starts (with the count already finished, unless that is everything),
   *  then each time the
   *  count of finished tasks grows (intermediate counts may be skipped when
   *  tasks finish faster than the callback runs); the last call has
   *  done == total, also for an empty round (0, 0). `done` never
   *  decreases. Not called again after a timeout. Must not gather on the
   *  same pool. */
  lox_progress_fn progress;
  void *progress_ctx; /**< passed to `progress` */
  /** Nonzero: draw a progress bar (percentage, count, rate, ETA) on stderr,
   *  redrawn in place, when stderr is a terminal; nothing otherwise. */
  int progress_bar;
} lox_gather_opts;

#define LOX_GATHER_OPTS_INIT \
  { sizeof(lox_gather_opts), LOX_FOREVER, NULL, NULL, 0 }

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

LOX_END_DECLS

#endif /* LOX_C_RESULTS_H */
