/* SPDX-License-Identifier: Apache-2.0 */
/* Loads liblox at run time, as a plugin host or an FFI (Python's ctypes,
 * Go's purego) does: dlopen("liblox.so.<major>"), every function through
 * dlsym, then lox's first example on a thread pool and on a process pool.
 * This program is not linked against liblox: if the library needed a
 * symbol that only a linked program provides, or exported the functions
 * under other names, dlopen/dlsym would fail here. */
#define _POSIX_C_SOURCE 200809L

#include <lox/lox.h>

#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#ifndef LOX_LIBRARY_PATH
#error "LOX_LIBRARY_PATH (the path of liblox.so.<major>) must be defined"
#endif

static void *lib;

/* dlsym with a check. */
static void *sym(const char *name) {
  void *p = dlsym(lib, name);
  if (!p) {
    fprintf(stderr, "dlsym(%s): %s\n", name, dlerror());
  }
  return p;
}
/* POSIX guarantees a dlsym result converts to a function pointer; memcpy
 * does it without the ISO C warning about object-to-function casts. */
#define LOAD(var, name)             \
  do {                              \
    void *p_ = sym(name);           \
    if (!p_) return 1;              \
    memcpy(&(var), &p_, sizeof p_); \
  } while (0)

typedef struct {
  int x, y;
} args;

static int foo(void *ctx, void *arg, void **result) {
  const args *a = arg;
  (void)ctx;
  *result = (void *)(intptr_t)(a->x * a->y);
  return 0;
}

typedef int (*buffer_append_t)(lox_buffer *, const void *, size_t);
static buffer_append_t buffer_append;

static int foo_bytes(void *ctx, const void *in, size_t len, lox_buffer *out) {
  args a;
  int r;
  (void)ctx;
  if (len != sizeof a) return 2;
  memcpy(&a, in, sizeof a);
  r = a.x * a.y;
  return buffer_append(out, &r, sizeof r);
}

int main(void) {
  static const int expected[5] = {0, 2, 6, 12, 20};
  unsigned (*version)(void);
  int (*thread_create)(size_t, lox_task_fn, void *, lox_thread **);
  int (*thread_scatter)(lox_thread *, void *, size_t *);
  int (*thread_gather)(lox_thread *, const lox_gather_opts *, lox_results **);
  void (*thread_destroy)(lox_thread *);
  int (*process_create)(size_t, lox_process_fn, void *, lox_process **);
  int (*process_scatter)(lox_process *, const void *, size_t, size_t *);
  int (*process_gather)(lox_process *, const lox_gather_opts *, lox_results **);
  void (*process_destroy)(lox_process *);
  size_t (*results_count)(const lox_results *);
  void *(*results_value)(const lox_results *, size_t);
  int (*results_bytes)(const lox_results *, size_t, const void **, size_t *);
  void (*results_destroy)(lox_results *);
  lox_thread *pool = NULL;
  lox_process *procs = NULL;
  lox_results *res = NULL;
  args a[5];
  size_t i;
  int ok = 1;

  lib = dlopen(LOX_LIBRARY_PATH, RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    fprintf(stderr, "dlopen(%s): %s\n", LOX_LIBRARY_PATH, dlerror());
    return 1;
  }
  LOAD(version, "lox_version");
  LOAD(thread_create, "lox_thread_create");
  LOAD(thread_scatter, "lox_thread_scatter");
  LOAD(thread_gather, "lox_thread_gather");
  LOAD(thread_destroy, "lox_thread_destroy");
  LOAD(process_create, "lox_process_create");
  LOAD(process_scatter, "lox_process_scatter");
  LOAD(process_gather, "lox_process_gather");
  LOAD(process_destroy, "lox_process_destroy");
  LOAD(buffer_append, "lox_buffer_append");
  LOAD(results_count, "lox_results_count");
  LOAD(results_value, "lox_results_value");
  LOAD(results_bytes, "lox_results_bytes");
  LOAD(results_destroy, "lox_results_destroy");

  if (version() != LOX_VERSION_NUMBER) {
    fprintf(stderr, "header and loaded library versions differ\n");
    return 1;
  }
  for (i = 0; i < 5; ++i) {
    a[i].x = (int)i;
    a[i].y = (int)i + 1;
  }

  if (thread_create(2, foo, NULL, &pool) != LOX_OK) return 1;
  for (i = 0; i < 5; ++i)
    if (thread_scatter(pool, &a[i], NULL) != LOX_OK) return 1;
  if (thread_gather(pool, NULL, &res) != LOX_OK || results_count(res) != 5) return 1;
  for (i = 0; i < 5; ++i) ok = ok && (int)(intptr_t)results_value(res, i) == expected[i];
  results_destroy(res);
  thread_destroy(pool);

  if (process_create(2, foo_bytes, NULL, &procs) != LOX_OK) return 1;
  for (i = 0; i < 5; ++i)
    if (process_scatter(procs, &a[i], sizeof a[i], NULL) != LOX_OK) return 1;
  if (process_gather(procs, NULL, &res) != LOX_OK || results_count(res) != 5) return 1;
  for (i = 0; i < 5; ++i) {
    const void *data = NULL;
    size_t len = 0;
    int v = -1;
    if (results_bytes(res, i, &data, &len) == LOX_OK && len == sizeof v) memcpy(&v, data, sizeof v);
    ok = ok && v == expected[i];
  }
  results_destroy(res);
  process_destroy(procs);

  if (dlclose(lib) != 0) {
    fprintf(stderr, "dlclose: %s\n", dlerror());
    ok = 0;
  }
  printf("%s\n", ok ? "dlopen: [0, 2, 6, 12, 20] from a thread pool and a process pool" : "dlopen: WRONG results");
  return ok ? 0 : 1;
}
