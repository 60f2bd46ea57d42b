/* SPDX-License-Identifier: Apache-2.0 */
/* lox's first example in C: foo(x, y) = x * y on a pool of 4 threads.
 * Prints [0, 2, 6, 12, 20]. */
#include <lox/lox.h>

#include <stdint.h>
#include <stdio.h>

typedef struct {
  int x, y;
} args;

/* A task: `arg` is what was scattered, `*result` receives the value. */
static int foo(void *ctx, void *arg, void **result) {
  const args *a = arg;
  (void)ctx;
  *result = (void *)(intptr_t)(a->x * a->y); /* small ints fit in the pointer */
  return 0;                                  /* 0 = success */
}

int main(void) {
  lox_thread *pool;
  lox_results *res;
  args a[5]; /* must stay alive until the gather */
  size_t i;

  if (lox_thread_create(4, foo, NULL, &pool) != LOX_OK) /* @lox.thread(4) */
    return 1;
  for (i = 0; i < 5; ++i) {
    a[i].x = (int)i;
    a[i].y = (int)i + 1;
    if (lox_thread_scatter(pool, &a[i], NULL) != LOX_OK) /* foo.scatter(i, i+1) */
      return 1;
  }
  if (lox_thread_gather(pool, NULL, &res) != LOX_OK) { /* foo.gather() */
    fprintf(stderr, "gather: %s\n", lox_last_error());
    return 1;
  }
  printf("[");
  for (i = 0; i < lox_results_count(res); ++i) /* in scatter order */
    printf("%s%d", i ? ", " : "", (int)(intptr_t)lox_results_value(res, i));
  printf("]\n");
  lox_results_destroy(res);
  lox_thread_destroy(pool);
  return 0;
}
