/* SPDX-License-Identifier: Apache-2.0 */
/* A program outside the liblox tree, built against an installed liblox only
 * (through pkg-config or find_package). Runs lox's first example,
 * foo(x, y) = x * y with foo.scatter(i, i+1) for i in 0..4, on a thread pool
 * and on a process pool (checking the results were computed in other
 * processes), passes them through a lox_queue, and exits 0 only if every
 * path gave [0, 2, 6, 12, 20]. */
#define _POSIX_C_SOURCE 200809L /* getpid */

#include <lox/lox.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

typedef struct {
  int x, y;
} args;

static int foo(void *ctx, void *arg, void **result) {
  const args *a = arg;
  (void)ctx;
  *result = (void *)(intptr_t)(a->x * a->y);
  return 0;
}

/* The process-pool task: two ints in, their product and the worker's pid out. */
static int foo_bytes(void *ctx, const void *in, size_t len, lox_buffer *out) {
  args a;
  long r[2];
  (void)ctx;
  if (len != sizeof a) return 1;
  memcpy(&a, in, sizeof a);
  r[0] = (long)a.x * a.y;
  r[1] = (long)getpid();
  return lox_buffer_append(out, r, sizeof r);
}

/* lox's example on a process pool, then each value through a queue. */
static int other_paths_agree(const int *expected) {
  lox_process *procs = NULL;
  lox_results *res = NULL;
  lox_queue *q = NULL;
  int ok = 1;
  size_t i;
  if (lox_process_create(2, foo_bytes, NULL, &procs) != LOX_OK) return 0;
  for (i = 0; i < 5; ++i) {
    args a;
    a.x = (int)i;
    a.y = (int)i + 1;
    if (lox_process_scatter(procs, &a, sizeof a, NULL) != LOX_OK) ok = 0;
  }
  if (lox_process_gather(procs, NULL, &res) != LOX_OK || lox_results_count(res) != 5) ok = 0;
  if (lox_queue_create(2, &q) != LOX_OK) ok = 0;
  for (i = 0; ok && i < 5; ++i) {
    const void *data = NULL;
    size_t len = 0;
    long r[2];
    void *item = NULL;
    if (lox_results_bytes(res, i, &data, &len) != LOX_OK || len != sizeof r) {
      ok = 0;
      break;
    }
    memcpy(r, data, sizeof r);
    if (r[0] != expected[i] || r[1] == (long)getpid()) ok = 0;
    if (lox_queue_put(q, (void *)(intptr_t)r[0], LOX_FOREVER) != LOX_OK || lox_queue_get(q, &item, 0) != LOX_OK ||
        (intptr_t)item != expected[i])
      ok = 0;
  }
  if (!ok) fprintf(stderr, "process pool or queue disagreed: %s\n", lox_last_error());
  lox_queue_destroy(q);
  lox_results_destroy(res);
  lox_process_destroy(procs);
  return ok;
}

int main(void) {
  static const int expected[5] = {0, 2, 6, 12, 20};
  lox_thread *pool = NULL;
  lox_results *res = NULL;
  args a[5];
  args three_four = {3, 4};
  void *value = NULL;
  int ok = 1;
  size_t i;

  if (lox_version() != LOX_VERSION_NUMBER) {
    fprintf(stderr, "header %d.%d.%d but library %s\n", LOX_VERSION_MAJOR, LOX_VERSION_MINOR, LOX_VERSION_PATCH,
            lox_version_string());
    return 1;
  }
  if (lox_thread_create(4, foo, NULL, &pool) != LOX_OK) return 1;
  if (lox_thread_call(pool, &three_four, &value) != LOX_OK || (intptr_t)value != 12) ok = 0;
  for (i = 0; i < 5; ++i) {
    a[i].x = (int)i;
    a[i].y = (int)i + 1;
    if (lox_thread_scatter(pool, &a[i], NULL) != LOX_OK) return 1;
  }
  if (lox_thread_gather(pool, NULL, &res) != LOX_OK) {
    fprintf(stderr, "gather: %s\n", lox_last_error());
    return 1;
  }
  ok = ok && lox_results_count(res) == 5;
  printf("[");
  for (i = 0; i < lox_results_count(res); ++i) {
    int v = (int)(intptr_t)lox_results_value(res, i);
    printf("%s%d", i ? ", " : "", v);
    ok = ok && i < 5 && v == expected[i];
  }
  printf("]\n");
  lox_results_destroy(res);
  lox_thread_destroy(pool);
  ok = ok && other_paths_agree(expected);
  return ok ? 0 : 1;
}
