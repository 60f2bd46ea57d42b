/* SPDX-License-Identifier: Apache-2.0 */
/* Compiled with -std=c99 -pedantic -Werror: lox.h must be clean C99. Also
 * runs lox's first example through the C ABI alone. */
#include <lox/lox.h>

#include <stdint.h>
#include <stdio.h>

static int multiply(void *ctx, void *arg, void **result) {
  intptr_t x = (intptr_t)arg;
  (void)ctx;
  *result = (void *)(x * (x + 1));
  return 0;
}

int main(void) {
  lox_thread *foo = NULL;
  lox_results *res = NULL;
  intptr_t i;
  size_t k;
  static const intptr_t expected[5] = {0, 2, 6, 12, 20};
  lox_gather_opts opts = LOX_GATHER_OPTS_INIT;

  if (lox_thread_create(4, multiply, NULL, &foo) != LOX_OK) return 1;
  for (i = 0; i < 5; ++i)
    if (lox_thread_scatter(foo, (void *)i, NULL) != LOX_OK) return 2;
  if (lox_thread_gather(foo, &opts, &res) != LOX_OK) return 3;
  if (lox_results_count(res) != 5) return 4;
  for (k = 0; k < 5; ++k)
    if ((intptr_t)lox_results_value(res, k) != expected[k]) return 5;
  lox_results_destroy(res);
  lox_thread_destroy(foo);
  if (lox_version() != LOX_VERSION_NUMBER) return 6;
  printf("ok %s\n", lox_version_string());
  return 0;
}
