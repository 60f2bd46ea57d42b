/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Obtaining a resource from a pool (lox's docs, "GPU pool"): 20 workers of
 * a thread pool share 4 GPUs through an index semaphore. Each worker
 * fetches and preprocesses its data, then takes a GPU index (0..3) that no
 * other worker holds, "processes" on it and gives it back.
 *
 *   lox_gpu_pool            simulated work of tens of milliseconds
 *   lox_gpu_pool --quick    20 times shorter (what CTest runs)
 *
 * Checks its own invariants (no GPU used by two workers at once, never more
 * than 4 in use, every GPU back at the end) and exits 0 only if they hold.
 */
#define EXAMPLE_NAME "gpu_pool"
#include "example_util.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define N_GPUS 4
#define N_TASKS 20

static double time_scale = 1.0;
static double t_start;
static lox_index_semaphore *idx_sem;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int gpu_user[N_GPUS]; /* worker using each GPU, -1 if free */
static int in_use, max_in_use, violations;
static int uses[N_GPUS];

/* Sleeps `seconds` of the example's time (shorter with --quick). */
static void sleep_for(double seconds) { sleep_seconds(seconds * time_scale); }

static int process_task(void *ctx, void *arg, void **result) {
  int id = (int)(size_t)arg;
  size_t gpu = 0;
  int rc;
  (void)ctx;
  (void)result;
  sleep_for(0.010 + 0.002 * (id % 5)); /* get_data + preprocess_data */
  rc = lox_index_semaphore_acquire(idx_sem, LOX_FOREVER, &gpu);
  if (rc != LOX_OK) {
    fprintf(stderr, "gpu pool: acquire: %s (%s)\n", lox_status_str(rc), lox_last_error());
    return 1;
  }
  pthread_mutex_lock(&mu);
  if (gpu >= N_GPUS || gpu_user[gpu] != -1)
    ++violations;
  else
    gpu_user[gpu] = id;
  if (++in_use > max_in_use) max_in_use = in_use;
  ++uses[gpu < N_GPUS ? gpu : 0];
  printf("(%0.3f s) worker %2d uses    GPU %zu\n", now() - t_start, id, gpu);
  pthread_mutex_unlock(&mu);

  sleep_for(0.020); /* gpu.process(data) */

  pthread_mutex_lock(&mu);
  if (gpu < N_GPUS) gpu_user[gpu] = -1;
  --in_use;
  printf("(%0.3f s) worker %2d returns GPU %zu\n", now() - t_start, id, gpu);
  pthread_mutex_unlock(&mu);
  rc = lox_index_semaphore_release(idx_sem, gpu);
  if (rc != LOX_OK) {
    fprintf(stderr, "gpu pool: release: %s (%s)\n", lox_status_str(rc), lox_last_error());
    return 1;
  }
  sleep_for(0.005); /* postprocess_data + save_file */
  return 0;
}

int main(int argc, char **argv) {
  lox_thread *pool = NULL;
  lox_results *res = NULL;
  int i, rc, ok;
  time_scale = example_time_scale(argc, argv);
  for (i = 0; i < N_GPUS; ++i) gpu_user[i] = -1;
  if (lox_index_semaphore_create(N_GPUS, &idx_sem) != LOX_OK ||
      lox_thread_create(N_TASKS, process_task, NULL, &pool) != LOX_OK) {
    fprintf(stderr, "gpu pool: create: %s\n", lox_last_error());
    return 1;
  }
  printf("%d workers share %d GPUs through lox_index_semaphore\n\n", N_TASKS, N_GPUS);
  t_start = now();
  for (i = 0; i < N_TASKS; ++i) {
    rc = lox_thread_scatter(pool, (void *)(size_t)i, NULL);
    if (rc != LOX_OK) {
      fprintf(stderr, "gpu pool: scatter: %s\n", lox_last_error());
      return 1;
    }
  }
  rc = lox_thread_gather(pool, NULL, &res);
  lox_results_destroy(res);
  lox_thread_destroy(pool);

  printf("\nGPU uses:");
  for (i = 0; i < N_GPUS; ++i) printf(" GPU %d: %d", i, uses[i]);
  printf("; at most %d GPUs in use at once\n", max_in_use);
  ok = rc == LOX_OK && violations == 0 && max_in_use <= N_GPUS && lox_index_semaphore_available(idx_sem) == N_GPUS &&
       lox_index_semaphore_waiting(idx_sem) == 0;
  lox_index_semaphore_destroy(idx_sem);
  if (!ok) {
    fprintf(stderr, "gpu pool: UNEXPECTED: gather %s, %d GPU(s) held twice, max in use %d\n", lox_status_str(rc),
            violations, max_in_use);
    return 1;
  }
  printf("no GPU was ever used by two workers at once\n");
  return 0;
}
