/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Effective Python, Item 39 ("Use Queue to Coordinate Work Between
 * Threads"), in C with lox_queue: a pipeline of three phases, download ->
 * resize -> upload, each phase a worker that takes items from its input
 * queue, works on them and puts them on the next phase's queue.
 *
 * The book's three problems with a home-made queue, and what lox_queue
 * does about them:
 *   - busy waiting: a worker whose input is empty sleeps in lox_queue_get
 *     until an item comes (no polling loop, no sleep(0.01));
 *   - stopping the workers: lox_queue_close is the book's ClosableQueue
 *     without a sentinel: gets drain what is left, then return LOX_ECLOSED,
 *     which ends every worker reading that queue (here two resize workers
 *     stop on one close);
 *   - memory explosion when a phase is slow: the queues are bounded (at most
 *     QUEUE_SIZE items), so a fast phase waits in lox_queue_put instead of
 *     piling up work.
 * And lox_queue_join waits for every item to be processed (task_done), so
 * the main thread never polls the done queue either.
 *
 *   lox_pipeline            about half a second of simulated I/O (CTest runs
 *                           this, to check the output)
 *   lox_pipeline --quick    20 times shorter
 *
 * Prints "processed 1000 items, nothing lost" and exits 0 only when every
 * item went through the three phases, in order, exactly once.
 */
#define EXAMPLE_NAME "pipeline"
#include "example_util.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define N_ITEMS 1000
#define QUEUE_SIZE 10

static double time_scale = 1.0; /* 0.05 with --quick */

/* Sleeps `seconds` of the example's time (shorter with --quick). */
static void sleep_for(double seconds) { sleep_seconds(seconds * time_scale); }

/* The work item: a stand-in for the book's `object()` (an image). Each
 * phase checks that the one before it ran, and records itself. */
typedef struct {
  int id;
  int stage;     /* 0: new, 1: downloaded, 2: resized, 3: uploaded */
  int misrouted; /* a phase saw it in the wrong state */
} image;

static image *step(image *img, int stage, double seconds) {
  sleep_for(seconds); /* simulated I/O or computation */
  if (img->stage != stage - 1) img->misrouted = 1;
  img->stage = stage;
  return img;
}

static void *download(void *item) { return step(item, 1, 0.0005); }
static void *resize(void *item) { return step(item, 2, 0.001); } /* the slow phase: two workers */
static void *upload(void *item) { return step(item, 3, 0.0005); }

/* One phase: the function and the queues it connects. */
typedef struct {
  void *(*func)(void *item);
  lox_queue *in_queue, *out_queue;
} phase;

/* The book's StoppableWorker.run, as a lox task:
 *
 *     for item in self.in_queue:
 *         result = self.func(item)
 *         self.out_queue.put(result)
 *
 * lox_queue_get returns LOX_ECLOSED once the input queue is closed and
 * drained: that is the end of the loop. task_done after each item lets the
 * main thread's lox_queue_join know the item was fully handled. The task's
 * result is the number of items this worker processed. */
static int stoppable_worker(void *ctx, void *arg, void **result) {
  const phase *p = arg;
  void *item = NULL;
  uintptr_t count = 0;
  int rc;
  (void)ctx;
  while ((rc = lox_queue_get(p->in_queue, &item, LOX_FOREVER)) == LOX_OK) {
    int put = lox_queue_put(p->out_queue, p->func(item), LOX_FOREVER);
    lox_queue_task_done(p->in_queue);
    if (put != LOX_OK) return 1; /* the next phase's queue closed too early */
    ++count;
  }
  *result = (void *)count;
  return rc == LOX_ECLOSED ? 0 : 1; /* closed and drained: done; anything else failed */
}

int main(int argc, char **argv) {
  static image images[N_ITEMS];
  static int seen[N_ITEMS];
  lox_queue *download_queue, *resize_queue, *upload_queue, *done_queue;
  lox_thread *workers;
  lox_results *res = NULL;
  phase phases[3];
  size_t finished, i;
  uintptr_t per_phase[3] = {0, 0, 0};
  void *item;
  int rc, processed = 0, lost = 0;

  time_scale = example_time_scale(argc, argv);
  printf(
      "Effective Python's pipeline: download -> resize -> upload, %d items,\n"
      "queues of at most %d items between the phases, closed and joined at the end\n",
      N_ITEMS, QUEUE_SIZE);

  /* download_queue = ClosableQueue(); ... bounded, unlike the book's */
  must(lox_queue_create(QUEUE_SIZE, &download_queue), "lox_queue_create");
  must(lox_queue_create(QUEUE_SIZE, &resize_queue), "lox_queue_create");
  must(lox_queue_create(QUEUE_SIZE, &upload_queue), "lox_queue_create");
  must(lox_queue_create(0, &done_queue), "lox_queue_create"); /* unbounded: nobody reads it until the end */
  phases[0].func = download;
  phases[0].in_queue = download_queue;
  phases[0].out_queue = resize_queue;
  phases[1].func = resize;
  phases[1].in_queue = resize_queue;
  phases[1].out_queue = upload_queue;
  phases[2].func = upload;
  phases[2].in_queue = upload_queue;
  phases[2].out_queue = done_queue;

  /* threads = [StoppableWorker(download, ...), StoppableWorker(resize, ...) x 2,
   *            StoppableWorker(upload, ...)]; the four workers of one pool. */
  must(lox_thread_create(4, stoppable_worker, NULL, &workers), "lox_thread_create");
  must(lox_thread_scatter(workers, &phases[0], NULL), "lox_thread_scatter");
  must(lox_thread_scatter(workers, &phases[1], NULL), "lox_thread_scatter");
  must(lox_thread_scatter(workers, &phases[1], NULL), "lox_thread_scatter");
  must(lox_thread_scatter(workers, &phases[2], NULL), "lox_thread_scatter");

  /* for _ in range(1000): download_queue.put(object()) */
  for (i = 0; i < N_ITEMS; ++i) {
    images[i].id = (int)i;
    must(lox_queue_put(download_queue, &images[i], LOX_FOREVER), "lox_queue_put");
  }

  /* Shut down phase by phase: close a phase's input, wait until all of it
   * was processed (join), then close the next one. */
  must(lox_queue_close(download_queue), "lox_queue_close");
  must(lox_queue_join(download_queue, LOX_FOREVER), "lox_queue_join");
  must(lox_queue_close(resize_queue), "lox_queue_close");
  must(lox_queue_join(resize_queue, LOX_FOREVER), "lox_queue_join");
  must(lox_queue_close(upload_queue), "lox_queue_close");
  must(lox_queue_join(upload_queue, LOX_FOREVER), "lox_queue_join");
  finished = lox_queue_size(done_queue);
  printf("%u items finished\n", (unsigned)finished); /* print(done_queue.qsize(), 'items finished') */

  /* Every worker's loop has ended: the gather returns their counts. */
  rc = lox_thread_gather(workers, NULL, &res);
  if (rc != LOX_OK) {
    fprintf(stderr, "pipeline: a worker failed: %s\n", lox_status_str(rc));
    return 1;
  }
  per_phase[0] = (uintptr_t)lox_results_value(res, 0);
  per_phase[1] = (uintptr_t)lox_results_value(res, 1) + (uintptr_t)lox_results_value(res, 2);
  per_phase[2] = (uintptr_t)lox_results_value(res, 3);
  lox_results_destroy(res);
  lox_thread_destroy(workers);

  /* Nothing lost: every image is in the done queue exactly once, and went
   * through download, resize and upload in that order. */
  while (lox_queue_get(done_queue, &item, 0.0) == LOX_OK) {
    const image *img = item;
    if (img->stage != 3 || img->misrouted || seen[img->id]++)
      ++lost;
    else
      ++processed;
  }
  if (processed != N_ITEMS || lost != 0 || finished != N_ITEMS || per_phase[0] != N_ITEMS || per_phase[1] != N_ITEMS ||
      per_phase[2] != N_ITEMS) {
    fprintf(stderr, "pipeline: UNEXPECTED: %d items processed, %d wrong, phases counted %u, %u, %u\n", processed, lost,
            (unsigned)per_phase[0], (unsigned)per_phase[1], (unsigned)per_phase[2]);
    return 1;
  }
  printf(
      "the idle workers slept in lox_queue_get and lox_queue_put: no polling\n"
      "(the book's home-made queue polled 3030 times for 1000 items)\n");
  printf("processed %d items, nothing lost\n", processed);

  lox_queue_destroy(download_queue);
  lox_queue_destroy(resize_queue);
  lox_queue_destroy(upload_queue);
  lox_queue_destroy(done_queue);
  return 0;
}
