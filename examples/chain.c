/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Task graphs in C: lox 0.6's chaining, with any number of predecessors.
 *
 * 1. lox 0.6's chaining example (its reference manual):
 *        for i in range(5):
 *            foo_res = foo.scatter(i, i+1)
 *            bar.scatter(foo_res, 10)  # unpacks the results of foo
 *        results = bar.gather()
 *    "each function drawing from their own pool of threads", and a
 *    function that returns a tuple is unpacked into the chained one. The
 *    manual shows neither bar nor a foo that returns a tuple; here foo(x, y)
 *    returns the pair (x*y, x+y) and bar(a, b, c) = a + b + c receives it
 *    unpacked, plus the 10: bar.gather() is [11, 15, 21, 29, 39], and
 *    foo.gather() still returns foo's own round. Then a chain of 10,000
 *    tasks on a pool of 1 worker: no worker ever waits for a predecessor.
 * 2. A diamond across two pools: a; b and c after a; d after b and c, on
 *    a's own pool; a completion callback on d.
 * 3. A cancelled round: one task finished (it keeps its result), one
 *    running (it sees lox_task_cancelled() and stops), three queued (they
 *    never run), and a task of another pool that depended on one of them
 *    (it fails with LOX_EDEPENDENCY). The pool goes on working.
 * 4. Thread -> process -> thread: a process task after a thread task gets
 *    the thread task's value as bytes (lox_scatter_opts.encode), framed
 *    ahead of its own input (lox_inputs_get); a thread task after it reads
 *    its result bytes (lox_task_bytes).
 *
 * Prints only deterministic lines (CTest compares them whole) and exits 0
 * only when every result is the expected one.
 */
#define EXAMPLE_NAME "chain example"
#include "example_util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The value a thread task stored in *result, for small integers. */
static intptr_t int_value(const lox_task *task) { return (intptr_t)lox_task_value(task); }

/* Input i of the running task: its predecessor i's small integer value. */
static intptr_t input(size_t i) { return int_value(lox_task_input(i)); }

/* Scatters fn(arg) to `pool` after the `n_after` tasks of `after`; returns
 * the new task's handle when `want_handle`, else NULL. */
static lox_task *scatter_after(lox_thread *pool, lox_task_fn fn, void *arg, lox_task *const *after, size_t n_after,
                               int want_handle) {
  lox_scatter_opts opts = LOX_SCATTER_OPTS_INIT;
  lox_task *task = NULL;
  opts.after = after;
  opts.n_after = n_after;
  must(lox_thread_scatter_ex(pool, fn, NULL, arg, &opts, NULL, want_handle ? &task : NULL), "lox_thread_scatter_ex");
  return task;
}

/* Gathers a round in which every task must succeed. */
static lox_results *gather_ok(lox_thread *pool) {
  lox_results *res = NULL;
  must(lox_thread_gather(pool, NULL, &res), "lox_thread_gather");
  return res;
}

/* Prints "[v0, v1, ...]" of a round of small integers and checks it. */
static void print_ints(const char *what, lox_results *res, const intptr_t *expected, size_t n) {
  size_t i;
  check(lox_results_count(res) == n, "a round has the wrong number of results");
  printf("%s = [", what);
  for (i = 0; i < lox_results_count(res); ++i) {
    intptr_t v = (intptr_t)lox_results_value(res, i);
    printf("%s%ld", i ? ", " : "", (long)v);
    check(i < n && v == expected[i], "a result is not the expected one");
  }
  printf("]\n");
}

/* ------------------------------------------------------------------------ */
/* 1. foo -> bar, lox 0.6's chaining                                         */
/* ------------------------------------------------------------------------ */

/* foo(x, y) returns the pair (x*y, x+y): it lives in the call's record,
 * which stays alive until bar and the gathers have read it. */
typedef struct {
  int x, y;
  int pair[2];
} foo_call;

static int foo(void *ctx, void *arg, void **result) {
  foo_call *c = arg;
  (void)ctx;
  c->pair[0] = c->x * c->y;
  c->pair[1] = c->x + c->y;
  *result = c->pair;
  return 0;
}

/* bar(a, b, c) = a + b + c: (a, b) is foo's pair, unpacked from its only
 * predecessor; c is bar's own argument (the 10). */
static int bar(void *ctx, void *arg, void **result) {
  const int *ab = lox_task_value(lox_task_input(0));
  int c = *(const int *)arg;
  (void)ctx;
  if (lox_task_input_count() != 1 || !ab) return 1;
  *result = (void *)(intptr_t)(ab[0] + ab[1] + c);
  return 0;
}

/* One link of the long chain: its predecessor's value plus one (1 for the
 * first link, which has none). */
static int add_one(void *ctx, void *arg, void **result) {
  (void)ctx;
  (void)arg;
  *result = (void *)(intptr_t)((lox_task_input_count() ? input(0) : 0) + 1);
  return 0;
}

static void chain_example(void) {
  static const intptr_t bar_expected[5] = {11, 15, 21, 29, 39};
  enum { LONG_CHAIN = 10000 };
  static foo_call calls[5];
  static int ten = 10;
  lox_thread *foo_pool = NULL, *bar_pool = NULL, *one = NULL;
  lox_task *prev = NULL;
  lox_results *res;
  size_t i;
  int ok = 1;

  printf("Chaining (lox 0.6): bar.scatter(foo.scatter(i, i+1), 10), each function on its own pool\n");
  printf("foo(x, y) returns the pair (x*y, x+y), and bar(a, b, c) = a + b + c receives it unpacked, plus 10\n");
  must(lox_thread_create(4, foo, NULL, &foo_pool), "lox_thread_create");
  must(lox_thread_create(2, bar, NULL, &bar_pool), "lox_thread_create");
  for (i = 0; i < 5; ++i) {
    lox_task *foo_res = NULL;
    calls[i].x = (int)i;
    calls[i].y = (int)i + 1;
    /* foo_res = foo.scatter(i, i+1): the scatter hands back a handle */
    must(lox_thread_scatter_ex(foo_pool, NULL, NULL, &calls[i], NULL, NULL, &foo_res), "lox_thread_scatter_ex");
    /* bar.scatter(foo_res, 10): runs once foo's task completed, on bar's pool */
    scatter_after(bar_pool, NULL, &ten, &foo_res, 1, 0);
    lox_task_release(foo_res); /* bar's task keeps a reference of its own */
  }
  res = gather_ok(bar_pool);
  print_ints("bar.gather()", res, bar_expected, 5);
  lox_results_destroy(res);

  res = gather_ok(foo_pool); /* foo's round is still foo's, in scatter order */
  printf("foo.gather() = [");
  for (i = 0; i < lox_results_count(res); ++i) {
    const int *p = lox_results_value(res, i);
    printf("%s(%d, %d)", i ? ", " : "", p[0], p[1]);
    check(p == calls[i].pair && p[0] == (int)(i * (i + 1)) && p[1] == (int)(2 * i + 1), "foo's pair is wrong");
  }
  printf("]\n");
  lox_results_destroy(res);
  lox_thread_destroy(bar_pool);
  lox_thread_destroy(foo_pool);

  /* 10,000 tasks, each after the one before, on a single worker: a task
   * whose predecessor has not completed is parked, not waited for. */
  printf("A chain of %d tasks on a pool of 1 worker, each adding 1 to its predecessor's value\n", LONG_CHAIN);
  must(lox_thread_create(1, add_one, NULL, &one), "lox_thread_create");
  for (i = 0; i < LONG_CHAIN; ++i) {
    lox_task *next = scatter_after(one, NULL, NULL, &prev, prev ? 1 : 0, 1);
    lox_task_release(prev); /* NULL is ignored */
    prev = next;
  }
  res = gather_ok(one);
  for (i = 0; i < lox_results_count(res); ++i) ok &= (intptr_t)lox_results_value(res, i) == (intptr_t)i + 1;
  check(ok && lox_results_count(res) == LONG_CHAIN, "the chain's values are not 1, 2, ..., 10000");
  printf("last value = %ld\n", (long)int_value(prev));
  check(int_value(prev) == LONG_CHAIN, "the chain's last value is not 10000");
  lox_results_destroy(res);
  lox_task_release(prev);
  lox_thread_destroy(one);
}

/* ------------------------------------------------------------------------ */
/* 2. A diamond: a -> (b, c) -> d, over two pools                           */
/* ------------------------------------------------------------------------ */

static int make_a(void *ctx, void *arg, void **result) {
  (void)ctx;
  *result = arg; /* the small integer scattered */
  return 0;
}
static int twice(void *ctx, void *arg, void **result) {
  (void)ctx;
  (void)arg;
  *result = (void *)(input(0) * 2);
  return 0;
}
static int plus_three(void *ctx, void *arg, void **result) {
  (void)ctx;
  (void)arg;
  *result = (void *)(input(0) + 3);
  return 0;
}
static int product(void *ctx, void *arg, void **result) {
  (void)ctx;
  (void)arg;
  *result = (void *)(input(0) * input(1)); /* inputs in the order given at scatter */
  return 0;
}

/* d's completion callback: runs once, on the thread that completed d,
 * before d's round can be gathered. */
static void on_d_done(void *ctx, lox_task *task) { *(intptr_t *)ctx = int_value(task); }

static void diamond_example(void) {
  static const intptr_t p_expected[2] = {5, 80}, q_expected[2] = {10, 8};
  lox_thread *p = NULL, *q = NULL;
  lox_task *a, *bc[2], *d;
  lox_results *res;
  intptr_t seen_by_callback = 0;

  printf("Diamond: a = 5 on pool P, b = a * 2 and c = a + 3 on pool Q, d = b * c after both, on P\n");
  must(lox_thread_create(2, NULL, NULL, &p), "lox_thread_create"); /* tasks given per scatter */
  must(lox_thread_create(2, NULL, NULL, &q), "lox_thread_create");
  a = scatter_after(p, make_a, (void *)(intptr_t)5, NULL, 0, 1);
  bc[0] = scatter_after(q, twice, NULL, &a, 1, 1);
  bc[1] = scatter_after(q, plus_three, NULL, &a, 1, 1);
  d = scatter_after(p, product, NULL, bc, 2, 1);
  must(lox_task_on_done(d, on_d_done, &seen_by_callback), "lox_task_on_done");
  must(lox_task_wait(d, LOX_FOREVER), "lox_task_wait");
  printf("d = %ld * %ld = %ld\n", (long)int_value(bc[0]), (long)int_value(bc[1]), (long)int_value(d));
  check(lox_task_status(d) == 0 && int_value(d) == 80, "d is not 80");
  res = gather_ok(p); /* each task is still a member of its pool's round */
  print_ints("P.gather()", res, p_expected, 2);
  lox_results_destroy(res);
  res = gather_ok(q);
  print_ints("Q.gather()", res, q_expected, 2);
  lox_results_destroy(res);
  printf("d's callback had run when P's round was gathered: %s\n", seen_by_callback == 80 ? "yes" : "no");
  check(seen_by_callback == 80, "d's callback did not run before the gather");
  lox_task_release(a);
  lox_task_release(bc[0]);
  lox_task_release(bc[1]);
  lox_task_release(d);
  lox_thread_destroy(q);
  lox_thread_destroy(p);
}

/* ------------------------------------------------------------------------ */
/* 3. A cancelled round                                                      */
/* ------------------------------------------------------------------------ */

static int ran[5];         /* set by the tasks that run (read after the gather) */
static lox_queue *started; /* task 1 puts a token here once it runs */

/* Tasks 0, 2, 3 and 4: return 100 + their number. */
static int quick(void *ctx, void *arg, void **result) {
  intptr_t k = (intptr_t)arg;
  (void)ctx;
  ran[k] = 1;
  *result = (void *)(100 + k);
  return 0;
}

/* Task 1: works until it is cancelled, polling the cooperative flag. It
 * gives up after 10 s, so that a mistake cannot hang the example (with
 * LOX_DEBUG=1 every task runs inline in its scatter, before any cancel). */
static int long_job(void *ctx, void *arg, void **result) {
  static int token;
  double give_up = now() + 10;
  (void)ctx;
  ran[(intptr_t)arg] = 1;
  if (lox_queue_put(started, &token, LOX_FOREVER) != LOX_OK) return 1;
  while (!lox_task_cancelled()) {
    if (now() > give_up) return 1;
    sleep_seconds(0.001);
  }
  *result = NULL;
  return LOX_ECANCELLED; /* its outcome is what it returns */
}

/* A task of another pool, after task 3: it never runs. */
static int after_three(void *ctx, void *arg, void **result) {
  (void)ctx;
  (void)arg;
  *result = (void *)(intptr_t)-1;
  return 0;
}

static void cancel_example(void) {
  static const intptr_t again_expected[1] = {7};
  lox_thread *pool = NULL, *other = NULL;
  lox_task *three = NULL, *dependent = NULL;
  lox_results *res = NULL;
  void *token = NULL;
  intptr_t k;
  size_t i;
  int st;

  printf("Cancelled round: 5 tasks on 1 worker (task 0 done, task 1 running, tasks 2-4 queued)\n");
  printf("and a task of another pool after task 3, then lox_thread_cancel\n");
  must(lox_queue_create(0, &started), "lox_queue_create");
  must(lox_thread_create(1, NULL, NULL, &pool), "lox_thread_create");
  must(lox_thread_create(1, NULL, NULL, &other), "lox_thread_create");
  for (k = 0; k < 5; ++k) {
    lox_task **handle = k == 3 ? &three : NULL;
    must(lox_thread_scatter_ex(pool, k == 1 ? long_job : quick, NULL, (void *)k, NULL, NULL, handle),
         "lox_thread_scatter_ex");
  }
  dependent = scatter_after(other, after_three, NULL, &three, 1, 1);
  /* One worker runs the round in order: task 1 running means task 0 is done. */
  must(lox_queue_get(started, &token, LOX_FOREVER), "lox_queue_get");
  must(lox_thread_cancel(pool), "lox_thread_cancel");

  st = lox_thread_gather(pool, NULL, &res);
  printf("gather: %s (%s), every task's status delivered\n", lox_status_name(st), lox_status_str(st));
  check(st == LOX_ETASK, "the cancelled round's gather is not LOX_ETASK");
  if (st != LOX_OK && st != LOX_ETASK) exit(1);
  check(lox_results_count(res) == 5, "the cancelled round does not have 5 results");
  for (i = 0; i < lox_results_count(res) && i < 5; ++i) {
    int s = lox_results_status(res, i);
    printf("task %lu: %s", (unsigned long)i, lox_status_name(s));
    if (i == 0) {
      printf(", value %ld (finished before the cancel: kept)\n", (long)(intptr_t)lox_results_value(res, i));
      check(s == LOX_OK && (intptr_t)lox_results_value(res, i) == 100, "task 0 lost its result");
    } else if (i == 1) {
      printf(" (running: it saw lox_task_cancelled() and stopped)\n");
      check(s == LOX_ECANCELLED && ran[1], "task 1 did not stop on the cancel");
    } else {
      printf(" (queued: %s)\n", ran[i] ? "it ran" : "it never ran");
      check(s == LOX_ECANCELLED && !ran[i], "a queued task ran after the cancel");
    }
  }
  lox_results_destroy(res);

  must(lox_task_wait(dependent, LOX_FOREVER), "lox_task_wait");
  st = lox_task_status(dependent);
  printf("the task after task 3: %s (%s), it never ran\n", lox_status_name(st), lox_status_str(st));
  check(st == LOX_EDEPENDENCY, "the dependent of a cancelled task is not LOX_EDEPENDENCY");
  check(lox_task_error(dependent) && strstr(lox_task_error(dependent), "predecessor"),
        "the dependent's detail does not name its predecessor");
  check(int_value(dependent) != -1, "the dependent of a cancelled task ran");
  st = lox_thread_gather(other, NULL, &res);
  check(st == LOX_ETASK && lox_results_status(res, 0) == LOX_EDEPENDENCY, "the other pool's round is wrong");
  lox_results_destroy(res);

  /* The pool survives: later scatters start a new round. */
  must(lox_thread_scatter_fn(pool, make_a, NULL, (void *)(intptr_t)7, NULL), "lox_thread_scatter_fn");
  res = gather_ok(pool);
  print_ints("the pool goes on: scatter, then gather()", res, again_expected, 1);
  lox_results_destroy(res);

  lox_task_release(three);
  lox_task_release(dependent);
  lox_thread_destroy(other);
  lox_thread_destroy(pool);
  lox_queue_destroy(started);
}

/* ------------------------------------------------------------------------ */
/* 4. Thread -> process -> thread                                            */
/* ------------------------------------------------------------------------ */

/* The process pool's task, in a worker process: its input is the framed
 * bytes of its predecessor (an int64 encoded from a thread task's value),
 * then its own input (an int64 k); it returns x * x + k. */
static int square_plus(void *ctx, const void *in, size_t len, lox_buffer *out) {
  const void *data;
  size_t n;
  int64_t x, k, r;
  (void)ctx;
  if (lox_inputs_count(in, len) != 1) return 1;
  if (lox_inputs_get(in, len, 0, &data, &n) != LOX_OK || n != sizeof x) return 2;
  memcpy(&x, data, sizeof x);
  if (lox_inputs_get(in, len, 1, &data, &n) != LOX_OK || n != sizeof k) return 3;
  memcpy(&k, data, sizeof k);
  r = x * x + k;
  return lox_buffer_append(out, &r, sizeof r) == LOX_OK ? 0 : 4;
}

/* lox_scatter_opts.encode: a thread predecessor's value as the bytes a
 * process task receives for it. */
static int encode_int(void *ctx, void *value, lox_buffer *out) {
  int64_t v = (intptr_t)value;
  (void)ctx;
  return lox_buffer_append(out, &v, sizeof v) == LOX_OK ? 0 : 1;
}

/* A thread task after a process task: reads its predecessor's bytes. */
static int bytes_plus_one(void *ctx, void *arg, void **result) {
  const void *data;
  size_t n;
  int64_t v;
  (void)ctx;
  (void)arg;
  if (lox_task_bytes(lox_task_input(0), &data, &n) != LOX_OK || n != sizeof v) return 1;
  memcpy(&v, data, sizeof v);
  *result = (void *)(intptr_t)(v + 1);
  return 0;
}

static void mixed_example(lox_process *procs) {
  static const intptr_t expected[5] = {2, 3, 6, 11, 18};
  lox_thread *first = NULL, *last = NULL;
  lox_results *res = NULL;
  intptr_t i;
  size_t k;

  printf("Thread -> process -> thread: x = i on a thread, x * x + 1 in a worker process, then + 1 on a thread\n");
  must(lox_thread_create(2, NULL, NULL, &first), "lox_thread_create");
  must(lox_thread_create(2, NULL, NULL, &last), "lox_thread_create");
  for (i = 0; i < 5; ++i) {
    lox_scatter_opts opts = LOX_SCATTER_OPTS_INIT;
    int64_t one = 1; /* the process task's own input, copied at scatter */
    lox_task *x = scatter_after(first, make_a, (void *)i, NULL, 0, 1), *sq = NULL;
    opts.after = &x;
    opts.n_after = 1;
    opts.encode = encode_int; /* x's value is a pointer-sized integer in this process */
    must(lox_process_scatter_ex(procs, &one, sizeof one, &opts, NULL, &sq), "lox_process_scatter_ex");
    lox_task_release(scatter_after(last, bytes_plus_one, NULL, &sq, 1, 1));
    lox_task_release(x);
    lox_task_release(sq);
  }
  res = gather_ok(last);
  print_ints("the last pool's gather()", res, expected, 5);
  lox_results_destroy(res);
  must(lox_process_gather(procs, NULL, &res), "lox_process_gather");
  printf("the process pool's gather() = [");
  for (k = 0; k < lox_results_count(res); ++k) {
    const void *data = NULL;
    size_t n = 0;
    int64_t v = -1;
    if (lox_results_bytes(res, k, &data, &n) == LOX_OK && n == sizeof v) memcpy(&v, data, sizeof v);
    printf("%s%ld", k ? ", " : "", (long)v);
    check(v == (int64_t)(k * k + 1), "a process result is not x * x + 1");
  }
  printf("]\n");
  lox_results_destroy(res);
  res = gather_ok(first);
  lox_results_destroy(res);
  lox_thread_destroy(last);
  lox_thread_destroy(first);
}

int main(void) {
  lox_process *procs = NULL;
  /* The process pool first: its fork server is a copy of this process as it
   * is now, before any other thread starts. */
  must(lox_process_create(2, square_plus, NULL, &procs), "lox_process_create");
  chain_example();
  diamond_example();
  cancel_example();
  mixed_example(procs);
  lox_process_destroy(procs);
  if (check_failures()) {
    fprintf(stderr, EXAMPLE_NAME ": %d unexpected result(s)\n", check_failures());
    return 1;
  }
  return 0;
}
