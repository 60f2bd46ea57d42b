/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lox's Announcement and Funnel examples, through the C ABI.
 *
 *  1. Announcement (lox's docs): one put reaches every subscriber. Two
 *     subscribers each feed a thread pool's function:
 *
 *         >>> ann = lox.Announcement()
 *         >>> foo_q = ann.subscribe()
 *         >>> bar_q = ann.subscribe()
 *         >>> @lox.thread
 *         ... def foo():
 *         ...     x = foo_q.get()
 *         ...     return x
 *         >>> @lox.thread
 *         ... def bar():
 *         ...     x = bar_q.get()
 *         ...     return x**2
 *         >>> ann.put(5)
 *         >>> foo.scatter()
 *         >>> foo_res = foo.gather()      # [5]
 *         >>> bar.scatter()
 *         >>> bar_res = bar.gather()      # [25]
 *
 *     Then many-to-many (lox 0.6): ann is a member of its own group, so
 *     len(ann) is 3 and a subscriber's put reaches ann and the other
 *     subscriber (not the sender):
 *
 *         >>> foo_q.put(42)
 *         >>> ann.get(), bar_q.get()      # (42, 42)
 *
 *     Then the backlog: a subscriber that comes after the puts still gets
 *     them (lox's backlog=0 keeps everything until finalize()).
 *
 *  2. Funnel (lox's docs): sets of one item per input, joined by job id.
 *
 *         >>> funnel = lox.Funnel()
 *         >>> sub_1 = funnel.subscribe()
 *         >>> sub_2 = funnel.subscribe()
 *         >>> sub_1.put('foo', 'job_id')
 *         >>> res = funnel.get(timeout=0.01)   # -> queue.Empty: "Timed Out"
 *         >>> sub_2.put('bar', 'job_id')
 *         >>> res = funnel.get()
 *         >>> print(res)
 *         ['job_id', 'foo', 'bar']
 *
 *     In C a job id is a number (7 here), and lox_funnel_get returns it
 *     apart from the items: this prints "job 7: foo bar". Then two thread
 *     pools computing the halves of four jobs concurrently, joined by the
 *     funnel whatever order they finish in.
 *
 *   lox_announce_funnel [--quick]   (nothing sleeps; --quick is accepted
 *                                    like the other examples take it)
 *
 * Exits 0 only when every result is the one lox's documentation shows.
 */
#define EXAMPLE_NAME "announce_funnel"
#include "example_util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Small integers travel as the item pointer itself. */
#define INT_ITEM(x) ((void *)(intptr_t)(x))
#define ITEM_INT(p) ((long)(intptr_t)(p))

/* ------------------------------------------------------------------------ */
/* 1. Announcement                                                            */
/* ------------------------------------------------------------------------ */

/* def foo(): x = foo_q.get(); return x    (ctx is foo_q) */
static int foo(void *ctx, void *arg, void **result) {
  void *x = NULL;
  (void)arg;
  if (lox_announcement_get(ctx, &x, LOX_FOREVER) != LOX_OK) return 1;
  *result = x;
  return 0;
}

/* def bar(): x = bar_q.get(); return x**2    (ctx is bar_q) */
static int bar(void *ctx, void *arg, void **result) {
  void *x = NULL;
  (void)arg;
  if (lox_announcement_get(ctx, &x, LOX_FOREVER) != LOX_OK) return 1;
  *result = INT_ITEM(ITEM_INT(x) * ITEM_INT(x));
  return 0;
}

/* scatter() with no argument, then gather(): the single result. */
static long scatter_gather_one(lox_thread *pool) {
  lox_results *res = NULL;
  long value;
  must(lox_thread_scatter(pool, NULL, NULL), "lox_thread_scatter");
  must(lox_thread_gather(pool, NULL, &res), "lox_thread_gather");
  check(lox_results_count(res) == 1, "one task, one result");
  value = ITEM_INT(lox_results_value(res, 0));
  lox_results_destroy(res);
  return value;
}

static void announcement_example(void) {
  lox_announcement *ann, *foo_q, *bar_q, *late_q;
  lox_thread *foo_pool, *bar_pool;
  long foo_res, bar_res;
  void *x = NULL;
  int i, n = 0;

  printf("Announcement: ann.put(5) reaches both subscribers, each read by a thread pool\n");
  must(lox_announcement_create(0, LOX_BACKLOG_OFF, &ann), "lox_announcement_create");
  must(lox_announcement_subscribe(ann, 0, LOX_FOREVER, &foo_q), "lox_announcement_subscribe");
  must(lox_announcement_subscribe(ann, 0, LOX_FOREVER, &bar_q), "lox_announcement_subscribe");
  must(lox_thread_create(LOX_DEFAULT_WORKERS, foo, foo_q, &foo_pool), "lox_thread_create");
  must(lox_thread_create(LOX_DEFAULT_WORKERS, bar, bar_q, &bar_pool), "lox_thread_create");

  must(lox_announcement_put(ann, INT_ITEM(5), LOX_FOREVER), "lox_announcement_put");
  foo_res = scatter_gather_one(foo_pool);
  bar_res = scatter_gather_one(bar_pool);
  printf("foo_res = [%ld]\n", foo_res);
  printf("bar_res = [%ld]\n", bar_res);
  check(foo_res == 5 && bar_res == 25, "foo_res is not [5] or bar_res is not [25]");
  check(lox_announcement_size(ann) == 0, "ann got its own put");

  printf("Many-to-many: len(ann) = %zu, and foo_q.put(42) reaches ann and bar_q\n", lox_announcement_subscribers(ann));
  check(lox_announcement_subscribers(ann) == 3, "len(ann) is not 3 (ann and two subscribers)");
  must(lox_announcement_put(foo_q, INT_ITEM(42), LOX_FOREVER), "lox_announcement_put");
  must(lox_announcement_get(ann, &x, 0.0), "lox_announcement_get");
  printf("ann.get() = %ld", ITEM_INT(x));
  check(ITEM_INT(x) == 42, "ann.get() is not 42");
  must(lox_announcement_get(bar_q, &x, 0.0), "lox_announcement_get");
  printf(", bar_q.get() = %ld\n", ITEM_INT(x));
  check(ITEM_INT(x) == 42, "bar_q.get() is not 42");
  check(lox_announcement_size(foo_q) == 0, "foo_q got its own put");

  lox_thread_destroy(foo_pool);
  lox_thread_destroy(bar_pool);
  /* Handles are destroyed one by one, in any order. */
  lox_announcement_destroy(foo_q);
  lox_announcement_destroy(bar_q);
  lox_announcement_destroy(ann);

  printf("Backlog: a subscriber that comes after ann.put(1), (2), (3) still gets them\n");
  must(lox_announcement_create(0, LOX_BACKLOG_UNBOUNDED, &ann), "lox_announcement_create");
  for (i = 1; i <= 3; ++i) must(lox_announcement_put(ann, INT_ITEM(i), LOX_FOREVER), "lox_announcement_put");
  must(lox_announcement_subscribe(ann, 0, LOX_FOREVER, &late_q), "lox_announcement_subscribe");
  must(lox_announcement_finalize(ann), "lox_announcement_finalize"); /* no more subscribers: backlog freed */
  printf("late_q got [");
  while (lox_announcement_get(late_q, &x, 0.0) == LOX_OK) {
    printf("%s%ld", n ? ", " : "", ITEM_INT(x));
    check(ITEM_INT(x) == ++n, "the backlog came out of order");
  }
  printf("]\n");
  check(n == 3, "the late subscriber did not get the 3 items");
  lox_announcement_destroy(late_q);
  lox_announcement_destroy(ann);
}

/* ------------------------------------------------------------------------ */
/* 2. Funnel                                                                  */
/* ------------------------------------------------------------------------ */

#define JOB_ID 7ULL

static void funnel_example(void) {
  lox_funnel *funnel, *sub_1, *sub_2;
  void *items[2];
  unsigned long long jid = 0;
  size_t count = 0;
  int rc;

  printf("Funnel: sub_1.put('foo', 7), then funnel.get(timeout=0.01)\n");
  must(lox_funnel_create(&funnel), "lox_funnel_create");
  must(lox_funnel_subscribe(funnel, &sub_1), "lox_funnel_subscribe");
  must(lox_funnel_subscribe(funnel, &sub_2), "lox_funnel_subscribe");
  must(lox_funnel_put(sub_1, JOB_ID, (void *)"foo", LOX_FOREVER), "lox_funnel_put");
  rc = lox_funnel_get(funnel, 0.01, &jid, items, 2, &count);
  if (rc == LOX_TIMEOUT) printf("Timed Out\n");
  check(rc == LOX_TIMEOUT, "the set was complete with one input");

  printf("sub_2.put('bar', 7), then funnel.get()\n");
  must(lox_funnel_put(sub_2, JOB_ID, (void *)"bar", LOX_FOREVER), "lox_funnel_put");
  must(lox_funnel_get(funnel, LOX_FOREVER, &jid, items, 2, &count), "lox_funnel_get");
  /* lox: ['job_id', 'foo', 'bar'], the job id first, then the items in
   * the order the inputs subscribed. */
  check(count == 2 && jid == JOB_ID, "the set is not job 7 with 2 items");
  if (count == 2) printf("job %llu: %s %s\n", jid, (const char *)items[0], (const char *)items[1]);
  check(count == 2 && strcmp(items[0], "foo") == 0 && strcmp(items[1], "bar") == 0, "the items are not foo, bar");

  lox_funnel_destroy(sub_1);
  lox_funnel_destroy(sub_2);
  lox_funnel_destroy(funnel);
}

/* Each pool computes one half of a job and puts it on its funnel input
 * (ctx); the argument is the job id. */
static int square(void *ctx, void *arg, void **result) {
  long x = ITEM_INT(arg);
  (void)result;
  return lox_funnel_put(ctx, (unsigned long long)x, INT_ITEM(x * x), LOX_FOREVER) != LOX_OK;
}

static int cube(void *ctx, void *arg, void **result) {
  long x = ITEM_INT(arg);
  (void)result;
  return lox_funnel_put(ctx, (unsigned long long)x, INT_ITEM(x * x * x), LOX_FOREVER) != LOX_OK;
}

#define N_JOBS 4

static void funnel_pools_example(void) {
  lox_funnel *top, *squares, *cubes;
  lox_thread *square_pool, *cube_pool;
  lox_results *res;
  long got[N_JOBS + 1][2] = {{0}};
  int have[N_JOBS + 1] = {0};
  int j;

  printf("Funnel with two thread pools: job x needs x**2 from one and x**3 from the other\n");
  must(lox_funnel_create(&top), "lox_funnel_create");
  must(lox_funnel_subscribe(top, &squares), "lox_funnel_subscribe");
  must(lox_funnel_subscribe(top, &cubes), "lox_funnel_subscribe");
  must(lox_thread_create(2, square, squares, &square_pool), "lox_thread_create");
  must(lox_thread_create(2, cube, cubes, &cube_pool), "lox_thread_create");
  for (j = 1; j <= N_JOBS; ++j) {
    must(lox_thread_scatter(square_pool, INT_ITEM(j), NULL), "lox_thread_scatter");
    must(lox_thread_scatter(cube_pool, INT_ITEM(j), NULL), "lox_thread_scatter");
  }
  /* Sets come out as they complete; file them by job id. */
  for (j = 0; j < N_JOBS; ++j) {
    void *items[2];
    unsigned long long jid = 0;
    size_t count = 0;
    must(lox_funnel_get(top, LOX_FOREVER, &jid, items, 2, &count), "lox_funnel_get");
    check(count == 2 && jid >= 1 && jid <= N_JOBS && !have[jid], "a set is wrong");
    if (count == 2 && jid >= 1 && jid <= N_JOBS) {
      have[jid] = 1;
      got[jid][0] = ITEM_INT(items[0]);
      got[jid][1] = ITEM_INT(items[1]);
    }
  }
  must(lox_thread_gather(square_pool, NULL, &res), "lox_thread_gather");
  lox_results_destroy(res);
  must(lox_thread_gather(cube_pool, NULL, &res), "lox_thread_gather");
  lox_results_destroy(res);
  for (j = 1; j <= N_JOBS; ++j) {
    if (!have[j]) continue;
    printf("job %d: %ld %ld\n", j, got[j][0], got[j][1]);
    check(got[j][0] == (long)j * j && got[j][1] == (long)j * j * j, "a result is wrong");
  }
  lox_thread_destroy(square_pool);
  lox_thread_destroy(cube_pool);
  lox_funnel_destroy(top); /* the top first: the inputs keep the funnel alive */
  lox_funnel_destroy(squares);
  lox_funnel_destroy(cubes);
}

int main(int argc, char **argv) {
  (void)example_time_scale(argc, argv); /* accepts --quick: nothing here sleeps */
  announcement_example();
  funnel_example();
  funnel_pools_example();
  if (check_failures()) {
    fprintf(stderr, "announce_funnel: %d unexpected result(s)\n", check_failures());
    return 1;
  }
  return 0;
}
