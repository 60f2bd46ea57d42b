/* SPDX-License-Identifier: Apache-2.0 */
/* Progress reporting on a gather: 60 tasks of 50 ms each on 4 threads.
 *
 * opts.progress_bar = 1 draws lox's tqdm-like bar on stderr (only when
 * stderr is a terminal); opts.progress calls a function of yours, in the
 * gathering thread, as tasks finish. */
#define _POSIX_C_SOURCE 200809L

#include <lox/lox.h>

#include <stdio.h>
#include <time.h>

typedef struct {
  size_t calls, last_done, last_total;
} tally;

static int work(void *ctx, void *arg, void **result) {
  struct timespec ts = {0, 50 * 1000 * 1000};
  (void)ctx;
  (void)arg;
  (void)result;
  nanosleep(&ts, NULL); /* stands for 50 ms of I/O */
  return 0;
}

static void on_progress(void *ctx, size_t done, size_t total) {
  tally *t = ctx;
  ++t->calls;
  t->last_done = done;
  t->last_total = total;
}

int main(void) {
  enum { TASKS = 60 };
  lox_thread *pool;
  lox_results *res;
  lox_gather_opts opts = LOX_GATHER_OPTS_INIT;
  tally t = {0, 0, 0};
  size_t i;

  if (lox_thread_create(4, work, NULL, &pool) != LOX_OK) return 1;
  for (i = 0; i < TASKS; ++i)
    if (lox_thread_scatter(pool, NULL, NULL) != LOX_OK) return 1;

  opts.progress_bar = 1;       /* lox: gather(tqdm=True) */
  opts.progress = on_progress; /* your own callback */
  opts.progress_ctx = &t;
  if (lox_thread_gather(pool, &opts, &res) != LOX_OK) {
    fprintf(stderr, "gather: %s\n", lox_last_error());
    return 1;
  }
  printf("gathered %u results; the progress callback ran %u times, last with %u/%u\n", (unsigned)lox_results_count(res),
         (unsigned)t.calls, (unsigned)t.last_done, (unsigned)t.last_total);
  lox_results_destroy(res);
  lox_thread_destroy(pool);
  return t.calls > 0 && t.last_done == TASKS && t.last_total == TASKS ? 0 : 1;
}
