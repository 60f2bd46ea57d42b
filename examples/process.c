/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lox's process pool in C (lox.process): tasks run in other processes, on
 * bytes copied there and back.
 *
 * 1. lox's multiprocessing example: 5 jobs that each sleep 1 s, scattered to
 *    a pool of 2 worker processes, take about 3 s instead of 5.
 * 2. lox's first example, foo(x, y) = x * y, computed in other processes:
 *    prints [0, 2, 6, 12, 20] exactly as examples/scatter_gather.c does.
 * 3. A CPU-bound job (pure computation) in 8 pieces: one after another in
 *    this process, then on 2 worker processes, with the speed-up.
 *
 *   lox_process            the examples (about 3 s of sleeping, 2 s of CPU)
 *   lox_process --quick    0.05 s sleeps and a shorter CPU job (what CTest runs)
 *
 * With the environment variable LOX_PROCESS_EXAMPLE=list it prints only the
 * list of part 2 (the CTest check of its exact output).
 *
 * Exits 0 only when every result is the expected one.
 */
#define EXAMPLE_NAME "process example"
#include "example_util.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Gathers the round; every task must have succeeded. */
static lox_results *gather(lox_process *pool) {
  lox_results *res = NULL;
  int st = lox_process_gather(pool, NULL, &res);
  if (st == LOX_ETASK) {
    size_t i;
    for (i = 0; i < lox_results_count(res); ++i)
      if (lox_results_status(res, i) != 0)
        fprintf(stderr, "process example: task %lu failed: %s\n", (unsigned long)i, lox_results_error(res, i));
    exit(1);
  }
  must(st, "lox_process_gather");
  return res;
}

/* Task i's result as an int64 (every task here returns one). */
static int64_t result_i64(const lox_results *res, size_t i) {
  const void *data;
  size_t len;
  int64_t v = 0;
  must(lox_results_bytes(res, i, &data, &len), "lox_results_bytes");
  check(len == sizeof v, "a result is 8 bytes");
  if (len == sizeof v) memcpy(&v, data, sizeof v);
  return v;
}

static int append_i64(lox_buffer *out, int64_t v) { return lox_buffer_append(out, &v, sizeof v) == LOX_OK ? 0 : 1; }

/* ------------------------------------------------------------------------ */
/* 1. @lox.process(2) def job(x): sleep(1); return 1                         */
/* ------------------------------------------------------------------------ */

/* A process task: `in` is a copy of the bytes scattered (here the sleep, a
 * double), and what it appends to `out` comes back as its result. */
static int job(void *ctx, const void *in, size_t in_len, lox_buffer *out) {
  double seconds;
  (void)ctx;
  if (in_len != sizeof seconds) return 1; /* nonzero: the task failed */
  memcpy(&seconds, in, sizeof seconds);
  sleep_seconds(seconds);
  return append_i64(out, 1);
}

static void sleeping_jobs(double seconds) {
  lox_process *pool;
  lox_results *res;
  double t0, elapsed;
  size_t i;
  int64_t sum = 0;

  printf("== 5 jobs that sleep %.2f s each, on lox_process_create(2, job, ...)\n", seconds);
  must(lox_process_create(2, job, NULL, &pool), "lox_process_create"); /* @lox.process(2) */
  t0 = now();
  for (i = 0; i < 5; ++i) /* job.scatter(...) */
    must(lox_process_scatter(pool, &seconds, sizeof seconds, NULL), "lox_process_scatter");
  res = gather(pool); /* job.gather() */
  elapsed = now() - t0;
  for (i = 0; i < lox_results_count(res); ++i) sum += result_i64(res, i);
  check(lox_results_count(res) == 5 && sum == 5, "5 results of 1");
  printf(
      "Parallel took %.3f seconds (one after another: %.3f; with 2 workers the 5 jobs\n"
      "need 3 rounds of %.2f s)\n",
      elapsed, 5 * seconds, seconds);
  /* With 2 workers, 5 jobs cannot finish in less than 3 rounds: a shorter
   * time would mean more than 2 ran at once. */
  check(elapsed >= 3 * seconds * 0.98, "at most 2 jobs at a time");
  if (elapsed >= 5 * seconds) printf("(no faster than one after another: is the machine very busy?)\n");
  lox_results_destroy(res);
  lox_process_destroy(pool);
}

/* ------------------------------------------------------------------------ */
/* 2. @lox.process(4) def foo(x, y): return x * y                            */
/* ------------------------------------------------------------------------ */

typedef struct {
  int32_t x, y;
} args;

static int foo(void *ctx, const void *in, size_t in_len, lox_buffer *out) {
  args a;
  (void)ctx;
  if (in_len != sizeof a) return 1;
  memcpy(&a, in, sizeof a);
  return append_i64(out, (int64_t)a.x * a.y);
}

static void scatter_gather(int narrate) {
  static const int64_t expected[5] = {0, 2, 6, 12, 20};
  lox_process *pool;
  lox_results *res;
  size_t i;

  if (narrate) printf("\n== foo(x, y) = x * y in 4 worker processes: foo.scatter(i, i + 1) for i < 5\n");
  must(lox_process_create(4, foo, NULL, &pool), "lox_process_create"); /* @lox.process(4) */
  for (i = 0; i < 5; ++i) {
    args a;
    a.x = (int32_t)i;
    a.y = (int32_t)i + 1;
    /* The 8 bytes of `a` are copied: `a` may go away at once. */
    must(lox_process_scatter(pool, &a, sizeof a, NULL), "lox_process_scatter");
  }
  res = gather(pool);
  check(lox_results_count(res) == 5, "5 results");
  printf("[");
  for (i = 0; i < lox_results_count(res); ++i) { /* in scatter order */
    int64_t v = result_i64(res, i);
    printf("%s%d", i ? ", " : "", (int)v);
    check(i < 5 && v == expected[i], "foo's results are [0, 2, 6, 12, 20]");
  }
  printf("]\n");
  lox_results_destroy(res);
  lox_process_destroy(pool);
}

/* ------------------------------------------------------------------------ */
/* 3. A CPU-bound job: 2 cores, 2 worker processes                          */
/* ------------------------------------------------------------------------ */

/* Pure computation: a dependent multiply/xor-shift chain. */
static uint64_t crunch(uint64_t iters, uint64_t seed) {
  uint64_t x = seed | 1, i;
  for (i = 0; i < iters; ++i) {
    x ^= x >> 29;
    x *= 0xBF58476D1CE4E5B9ULL;
    x ^= x >> 32;
    x += i;
  }
  return x;
}

typedef struct {
  uint64_t iters, seed;
} piece;

static int crunch_task(void *ctx, const void *in, size_t in_len, lox_buffer *out) {
  piece p;
  (void)ctx;
  if (in_len != sizeof p) return 1;
  memcpy(&p, in, sizeof p);
  return append_i64(out, (int64_t)crunch(p.iters, p.seed));
}

static void cpu_bound(double piece_seconds) {
  enum { PIECES = 8 };
  piece pieces[PIECES];
  uint64_t serial[PIECES];
  uint64_t iters = 1000000;
  double t0, dt, t_serial, t_pool;
  lox_process *pool;
  lox_results *res;
  size_t i;

  /* How many steps take piece_seconds here. */
  for (;;) {
    t0 = now();
    serial[0] = crunch(iters, 1);
    dt = now() - t0;
    if (dt >= 0.02) break;
    iters *= 4;
  }
  iters = (uint64_t)((double)iters * piece_seconds / dt) + 1;
  for (i = 0; i < PIECES; ++i) {
    pieces[i].iters = iters;
    pieces[i].seed = 0x9E3779B97F4A7C15ULL * (i + 1);
  }
  printf("\n== A CPU-bound job in %d pieces of ~%.2f s of computation\n", PIECES, piece_seconds);

  t0 = now();
  for (i = 0; i < PIECES; ++i) serial[i] = crunch(pieces[i].iters, pieces[i].seed);
  t_serial = now() - t0;
  printf("one after another in this process: %.3f s\n", t_serial);

  /* The pool is created after `pieces` is filled in, but that does not
   * matter here: the pieces travel as bytes with each scatter. */
  must(lox_process_create(2, crunch_task, NULL, &pool), "lox_process_create");
  t0 = now();
  for (i = 0; i < PIECES; ++i)
    must(lox_process_scatter(pool, &pieces[i], sizeof pieces[i], NULL), "lox_process_scatter");
  res = gather(pool);
  t_pool = now() - t0;
  for (i = 0; i < PIECES; ++i)
    check((uint64_t)result_i64(res, i) == serial[i], "each piece computes what it computes here");
  printf("on 2 worker processes:             %.3f s (%.2fx faster; 2 cores can give up to 2x)\n", t_pool,
         t_serial / t_pool);
  lox_results_destroy(res);
  lox_process_destroy(pool);
}

int main(int argc, char **argv) {
  int quick;
  const char *only = getenv("LOX_PROCESS_EXAMPLE");

  quick = example_time_scale(argc, argv) < 1.0;
  if (only && strcmp(only, "list") == 0) {
    scatter_gather(0);
    return check_failures() ? 1 : 0;
  }
  sleeping_jobs(quick ? 0.05 : 1.0);
  scatter_gather(1);
  cpu_bound(quick ? 0.02 : 0.25);
  if (check_failures()) {
    fprintf(stderr, "process example: %d unexpected result(s)\n", check_failures());
    return 1;
  }
  return 0;
}
