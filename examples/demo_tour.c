/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The liblox demo tour: the thread examples of lox's documentation, run
 * natively through the C ABI (lox/lox.h only) and narrated like lox's docs:
 * a simple scatter/gather, concurrent requests, debug mode, and lox 0.6's
 * chaining (task graphs).
 *
 *   lox_demo_tour            the tour, with a few seconds of simulated I/O
 *   lox_demo_tour --quick    the same with every sleep 20 times shorter
 *                            (what CTest runs)
 *
 * Exits 0 only when every result is the one lox's documentation shows.
 */
#define EXAMPLE_NAME "demo tour"
#include "example_util.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double time_scale = 1.0; /* 0.05 with --quick */
static void heading(const char *title) {
  printf("\n== %s ", title);
  for (size_t n = strlen(title); n < 66; ++n) putchar('=');
  printf("\n\n");
}

/* ------------------------------------------------------------------------ */
/* 1. A very simple example: foo(x, y) = x * y                               */
/* ------------------------------------------------------------------------ */

typedef struct {
  int x, y;
} pair;

/* A lox task: ctx is the pool's context, arg the scattered argument, and
 * *result receives the value. Small integers fit in the result pointer. */
static int foo(void *ctx, void *arg, void **result) {
  const pair *p = arg;
  (void)ctx;
  *result = (void *)(intptr_t)(p->x * p->y);
  return 0; /* 0 = success */
}

static void simple_example(void) {
  static const int expected[5] = {0, 2, 6, 12, 20};
  lox_thread *pool = NULL;
  lox_results *res = NULL;
  pair one = {3, 4};
  pair args[5];
  void *value = NULL;
  size_t i;

  heading("1. A very simple example");
  printf(
      ">>> @lox.thread(4)  # Will operate with a maximum of 4 threads\n"
      "... def foo(x, y):\n"
      "...     return x*y\n"
      "    liblox: lox_thread_create(4, foo, NULL, &pool)\n");
  must(lox_thread_create(4, foo, NULL, &pool), "lox_thread_create");

  printf(
      ">>> foo(3, 4)\n"
      "    liblox: lox_thread_call(pool, &(pair){3, 4}, &value)  (a plain call, in this thread)\n");
  must(lox_thread_call(pool, &one, &value), "lox_thread_call");
  printf("%d\n", (int)(intptr_t)value);
  check((intptr_t)value == 12, "foo(3, 4) is not 12");

  printf(
      ">>> for i in range(5):\n"
      "...     foo.scatter(i, i+1)\n"
      "    liblox: lox_thread_scatter(pool, &args[i], NULL)\n");
  for (i = 0; i < 5; ++i) {
    args[i].x = (int)i; /* arguments must live until their task ran */
    args[i].y = (int)i + 1;
    must(lox_thread_scatter(pool, &args[i], NULL), "lox_thread_scatter");
  }
  printf(
      ">>> # foo is currently being executed in 4 threads\n"
      ">>> results = foo.gather()  # block until results are ready\n"
      "    liblox: lox_thread_gather(pool, NULL, &res)\n"
      ">>> print(results)  # Results are in the same order as scatter() calls\n");
  must(lox_thread_gather(pool, NULL, &res), "lox_thread_gather");
  check(lox_results_count(res) == 5, "gather did not return 5 results");
  printf("[");
  for (i = 0; i < lox_results_count(res); ++i) {
    int v = (int)(intptr_t)lox_results_value(res, i);
    printf("%s%d", i ? ", " : "", v);
    check(i < 5 && v == expected[i], "results are not [0, 2, 6, 12, 20]");
  }
  printf("]\n");
  lox_results_destroy(res);
  lox_thread_destroy(pool);
}

/* ------------------------------------------------------------------------ */
/* 2. Multithreading requests (simulated: each "fetch" sleeps, no network)    */
/* ------------------------------------------------------------------------ */

typedef struct {
  char url[40];
  double latency; /* seconds the simulated server takes to answer */
  pthread_t fetched_by;
} site;

/* get_content(url): waits like a slow network request, then returns a
 * freshly allocated "page" that the caller frees. */
static int get_content(void *ctx, void *arg, void **result) {
  site *s = arg;
  size_t n = strlen(s->url) + 32;
  char *page;
  (void)ctx;
  s->fetched_by = pthread_self();
  sleep_seconds(s->latency * time_scale);
  page = malloc(n);
  if (!page) return 1; /* nonzero: this task failed */
  snprintf(page, n, "<html>content of %s</html>", s->url);
  *result = page;
  return 0;
}

/* Checks that result i of a gather is the page of sites[i], and frees it. */
static void check_pages(lox_results *res, const site *sites, size_t n) {
  size_t i;
  check(lox_results_count(res) == n, "wrong number of pages");
  for (i = 0; i < lox_results_count(res) && i < n; ++i) {
    char *page = lox_results_value(res, i);
    check(page && strstr(page, sites[i].url) != NULL, "a page is missing or out of order");
    free(page);
  }
}

static void make_sites(site *sites, size_t n, const char *const *urls) {
  size_t i;
  for (i = 0; i < n; ++i) {
    if (urls)
      snprintf(sites[i].url, sizeof sites[i].url, "%s", urls[i]);
    else
      snprintf(sites[i].url, sizeof sites[i].url, "http://site%02u.example", (unsigned)i);
    /* a fixed pseudo-random latency between 0.3 and 1.0 seconds */
    sites[i].latency = 0.3 + 0.7 * (double)((i * 7919u + 13u) % 100u) / 99.0;
  }
}

static void gather_pages(lox_thread *pool, const lox_gather_opts *opts, const site *sites, size_t n) {
  lox_results *res = NULL;
  must(lox_thread_gather(pool, opts, &res), "lox_thread_gather");
  check_pages(res, sites, n);
  lox_results_destroy(res);
}

static void requests_example(void) {
  static const char *const urls[3] = {"http://google.com", "http://bing.com", "http://yahoo.com"};
  enum { MANY = 20 };
  site sites[3], many[MANY];
  lox_thread *pool = NULL;
  lox_gather_opts opts = LOX_GATHER_OPTS_INIT;
  double t_start, t_serial, t_parallel, slowest = 0, total = 0;
  size_t i;

  heading("2. Multithreading requests");
  make_sites(sites, 3, urls);
  printf(
      "Getting the content of 3 websites. Each fetch is simulated: it sleeps\n"
      "0.3 to 1.0 s like a slow server%s; no network is used.\n\n",
      time_scale < 1 ? " (20 times less with --quick)" : "");

  printf(
      ">>> for url in urls:\n"
      "...     responses.append(get_content(url))\n"
      "    liblox: lox_thread_call(pool, &sites[i], &page), one after the other\n");
  must(lox_thread_create(LOX_DEFAULT_WORKERS, get_content, NULL, &pool), "lox_thread_create");
  t_start = now();
  for (i = 0; i < 3; ++i) {
    void *page = NULL;
    must(lox_thread_call(pool, &sites[i], &page), "lox_thread_call");
    check(page && strstr(page, sites[i].url) != NULL, "a page is wrong");
    free(page);
  }
  t_serial = now() - t_start;
  printf("It took %.3f seconds to get 3 sites\n\n", t_serial);

  printf(
      ">>> @lox.thread  # lox's default: up to 50 threads\n"
      "... def get_content(url): ...\n"
      ">>> for url in urls:\n"
      "...     get_content.scatter(url)\n"
      ">>> responses = get_content.gather()\n"
      "    liblox: lox_thread_create(LOX_DEFAULT_WORKERS, get_content, NULL, &pool)\n"
      "            lox_thread_scatter(pool, &sites[i], NULL)\n"
      "            lox_thread_gather(pool, NULL, &res)\n");
  t_start = now();
  for (i = 0; i < 3; ++i) must(lox_thread_scatter(pool, &sites[i], NULL), "lox_thread_scatter");
  gather_pages(pool, NULL, sites, 3);
  t_parallel = now() - t_start;
  for (i = 0; i < 3; ++i)
    if (sites[i].latency > slowest) slowest = sites[i].latency;
  printf("It took %.3f seconds to get 3 sites (the slowest one alone takes %.3f s)\n\n", t_parallel,
         slowest * time_scale);
  lox_thread_destroy(pool);

  make_sites(many, MANY, NULL);
  for (i = 0; i < MANY; ++i) total += many[i].latency * time_scale;
  printf(
      "Now %d sites on 4 threads, with a progress bar (lox: gather(tqdm=True)):\n"
      "    liblox: opts.progress_bar = 1; lox_thread_gather(pool, &opts, &res)\n",
      MANY);
  if (!isatty(STDERR_FILENO)) printf("(stderr is not a terminal here, so no bar is drawn)\n");
  must(lox_thread_create(4, get_content, NULL, &pool), "lox_thread_create");
  t_start = now();
  for (i = 0; i < MANY; ++i) must(lox_thread_scatter(pool, &many[i], NULL), "lox_thread_scatter");
  opts.progress_bar = 1;
  gather_pages(pool, &opts, many, MANY);
  printf("It took %.3f seconds to get %d sites (one after the other: %.3f s)\n", now() - t_start, MANY, total);
  lox_thread_destroy(pool);
}

/* ------------------------------------------------------------------------ */
/* 3. Debug mode: max_workers = 0 runs every scatter inline                  */
/* ------------------------------------------------------------------------ */

static void debug_example(void) {
  static const char *const urls[3] = {"http://google.com", "http://bing.com", "http://yahoo.com"};
  site sites[3];
  lox_thread *pool = NULL;
  double t_start, t_scatter;
  int inline_here = 1;
  const char *env = getenv("LOX_DEBUG");
  size_t i;

  heading("3. Debug mode");
  printf(
      "A pool with max_workers = 0 starts no thread: each scatter runs the task\n"
      "inline, in the caller's thread, before it returns. Same code, no threads:\n"
      "breakpoints and stack traces look like plain serial code.\n\n"
      "    liblox: lox_thread_create(0, get_content, NULL, &pool)\n");
  make_sites(sites, 3, urls);
  must(lox_thread_create(0, get_content, NULL, &pool), "lox_thread_create");
  t_start = now();
  for (i = 0; i < 3; ++i) must(lox_thread_scatter(pool, &sites[i], NULL), "lox_thread_scatter");
  t_scatter = now() - t_start;
  for (i = 0; i < 3; ++i) inline_here &= pthread_equal(sites[i].fetched_by, pthread_self()) != 0;
  printf("The 3 scatters took %.3f s, ran in the calling thread: %s, worker threads: %u\n", t_scatter,
         inline_here ? "yes" : "no", (unsigned)lox_thread_workers(pool));
  check(inline_here, "debug mode did not run the tasks in the calling thread");
  check(lox_thread_workers(pool) == 0, "debug mode started a worker thread");
  gather_pages(pool, NULL, sites, 3);
  printf("gather() then returns the results as usual.\n\n");
  lox_thread_destroy(pool);

  printf(
      "The environment variable LOX_DEBUG=1 (or true, yes, on) puts every pool of\n"
      "a program in this mode without changing its code:\n"
      "    LOX_DEBUG=1 ./lox_demo_tour\n");
  if (env && *env) printf("LOX_DEBUG is set to \"%s\" for this run.\n", env);
  printf(
      "LOX_LOG_LEVEL=debug (trace, debug, info, warn, error, off) shows more of\n"
      "what the pools do; failed tasks are logged at warn.\n");
}

/* ------------------------------------------------------------------------ */
/* 4. Chaining: bar.scatter(foo.scatter(i, i+1), 10)                         */
/* ------------------------------------------------------------------------ */

/* foo(x, y) returns a tuple, the pair (x*y, x+y), kept in the call's
 * record; bar(a, b, c) = a + b + c gets it unpacked, plus its own 10. */
typedef struct {
  int x, y;
  int out[2];
} foo_call;

static int foo_pair(void *ctx, void *arg, void **result) {
  foo_call *c = arg;
  (void)ctx;
  c->out[0] = c->x * c->y;
  c->out[1] = c->x + c->y;
  *result = c->out;
  return 0;
}

static int bar(void *ctx, void *arg, void **result) {
  /* lox_task_input(0): the predecessor's handle, complete and successful */
  const int *ab = lox_task_value(lox_task_input(0));
  (void)ctx;
  if (!ab) return 1;
  *result = (void *)(intptr_t)(ab[0] + ab[1] + *(const int *)arg);
  return 0;
}

static void chaining_example(void) {
  static const int expected[5] = {11, 15, 21, 29, 39};
  static int ten = 10;
  foo_call calls[5];
  lox_thread *foo_pool = NULL, *bar_pool = NULL;
  lox_results *res = NULL;
  size_t i;

  heading("4. Chaining");
  printf(
      "Multiple functions can be chained together, each drawing from its own pool\n"
      "of threads; a function that returns a tuple is unpacked into the next one\n"
      "(lox 0.6). liblox takes any number of predecessors, from any pool, and no\n"
      "worker ever waits for one: a task becomes runnable when its last one completes.\n\n"
      ">>> @lox.thread(4)\n"
      "... def foo(x, y):\n"
      "...     return x*y, x+y\n"
      ">>> @lox.thread(2)\n"
      "... def bar(a, b, c):\n"
      "...     return a + b + c\n"
      "    liblox: lox_thread_create(4, foo, NULL, &foo_pool), lox_thread_create(2, bar, NULL, &bar_pool)\n");
  must(lox_thread_create(4, foo_pair, NULL, &foo_pool), "lox_thread_create");
  must(lox_thread_create(2, bar, NULL, &bar_pool), "lox_thread_create");
  printf(
      ">>> for i in range(5):\n"
      "...     foo_res = foo.scatter(i, i+1)\n"
      "...     bar.scatter(foo_res, 10)  # will automatically unpack the results of foo\n"
      "    liblox: lox_thread_scatter_ex(foo_pool, NULL, NULL, &calls[i], NULL, NULL, &foo_res)\n"
      "            opts.after = &foo_res; opts.n_after = 1;\n"
      "            lox_thread_scatter_ex(bar_pool, NULL, NULL, &ten, &opts, NULL, NULL)\n"
      "            lox_task_release(foo_res)\n");
  for (i = 0; i < 5; ++i) {
    lox_scatter_opts opts = LOX_SCATTER_OPTS_INIT;
    lox_task *foo_res = NULL;
    calls[i].x = (int)i;
    calls[i].y = (int)i + 1;
    must(lox_thread_scatter_ex(foo_pool, NULL, NULL, &calls[i], NULL, NULL, &foo_res), "lox_thread_scatter_ex");
    opts.after = &foo_res;
    opts.n_after = 1;
    must(lox_thread_scatter_ex(bar_pool, NULL, NULL, &ten, &opts, NULL, NULL), "lox_thread_scatter_ex");
    lox_task_release(foo_res); /* bar's task holds its own reference */
  }
  printf(
      ">>> results = bar.gather()\n"
      "    liblox: lox_thread_gather(bar_pool, NULL, &res)\n"
      ">>> print(results)\n");
  must(lox_thread_gather(bar_pool, NULL, &res), "lox_thread_gather");
  check(lox_results_count(res) == 5, "bar's gather did not return 5 results");
  printf("[");
  for (i = 0; i < lox_results_count(res); ++i) {
    int v = (int)(intptr_t)lox_results_value(res, i);
    printf("%s%d", i ? ", " : "", v);
    check(i < 5 && v == expected[i], "bar's results are not [11, 15, 21, 29, 39]");
  }
  printf("]\n");
  lox_results_destroy(res);
  must(lox_thread_gather(foo_pool, NULL, &res), "lox_thread_gather"); /* foo's round is still foo's */
  lox_results_destroy(res);
  lox_thread_destroy(bar_pool);
  lox_thread_destroy(foo_pool);
  printf(
      "\nexamples/chain.c goes on: a chain of 10,000 tasks on one worker, a diamond\n"
      "over two pools, completion callbacks and a cancelled round (lox_thread_cancel).\n");
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0); /* keep the narration in step with the progress bar */
  time_scale = example_time_scale(argc, argv);
  printf("liblox %s: lox's \"concurrency made easy\" toolkit, native, through its C ABI\n", lox_version_string());
  check(lox_version() == LOX_VERSION_NUMBER, "the library's version differs from the header's");

  simple_example();
  requests_example();
  debug_example();
  chaining_example();

  if (check_failures()) {
    printf("\nThe tour found %d unexpected result(s).\n", check_failures());
    return 1;
  }
  printf("\nEnd of the tour: every result is the one lox's documentation shows.\n");
  return 0;
}
