/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The restroom of lox's docs ("Block until threads are done" and
 * "One-Writer-Many-Reader"): people use a restroom, a janitor must clean it
 * while nobody is inside.
 *
 *  1. With a LightSwitch over a lock: the first person in turns the lights
 *     on (acquires the lock), the last one out turns them off. People keep
 *     overlapping, so the janitor, dispatched while person 0 is inside,
 *     gets in only after the last person left.
 *  2. With a RWLock: people are readers, the janitor a writer. Once the
 *     janitor waits, the people who come after him wait behind him: he
 *     cleans right after the people already inside have left.
 *
 *   lox_restroom            the docs' timing (a person stays 1 s)
 *   lox_restroom --quick    20 times shorter (what CTest runs)
 *
 * Checks that the janitor is never inside with a person and that he gets
 * to clean; exits 0 only then.
 */
#define EXAMPLE_NAME "restroom"
#include "example_util.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define N_PEOPLE 5

static double time_scale = 1.0;
static double t_start;
static int use_rwlock;
static lox_lock *restroom_occupied;
static lox_lightswitch *restroom;
static lox_rwlock *rwlock;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int people_inside, janitor_inside, violations, janitor_cleaned;

/* Sleeps `seconds` of the example's time (shorter with --quick). */
static void sleep_for(double seconds) { sleep_seconds(seconds * time_scale); }

/* Records an event and checks that the janitor and people never meet. */
static void event(int who, int enter) {
  pthread_mutex_lock(&mu);
  if (who < 0) {
    janitor_inside += enter ? 1 : -1;
    if (enter) janitor_cleaned = 1;
  } else {
    people_inside += enter ? 1 : -1;
  }
  if (janitor_inside && people_inside) ++violations;
  if (who < 0)
    printf("(%0.3f s) Janitor  %s the restroom\n", (now() - t_start) / time_scale, enter ? "entered" : "exited ");
  else
    printf("(%0.3f s) Person %d %s the restroom\n", (now() - t_start) / time_scale, who, enter ? "entered" : "exited ");
  fflush(stdout);
  pthread_mutex_unlock(&mu);
}

static int janitor(void *ctx, void *arg, void **result) {
  (void)ctx;
  (void)arg;
  (void)result;
  if (use_rwlock)
    must(lox_rwlock_acquire(rwlock, LOX_WRITE, LOX_FOREVER), "rwlock acquire 'w'");
  else
    must(lox_lock_acquire(restroom_occupied, LOX_FOREVER), "lock acquire");
  event(-1, 1);
  sleep_for(1.0); /* clean the restroom */
  event(-1, 0);
  if (use_rwlock)
    must(lox_rwlock_release(rwlock, LOX_WRITE), "rwlock release 'w'");
  else
    must(lox_lock_release(restroom_occupied), "lock release");
  return 0;
}

static int person(void *ctx, void *arg, void **result) {
  int id = (int)(size_t)arg;
  (void)ctx;
  (void)result;
  if (use_rwlock)
    must(lox_rwlock_acquire(rwlock, LOX_READ, LOX_FOREVER), "rwlock acquire 'r'");
  else
    must(lox_lightswitch_acquire(restroom, LOX_FOREVER), "lightswitch acquire");
  event(id, 1);
  sleep_for(1.0); /* use the restroom */
  event(id, 0);
  if (use_rwlock)
    must(lox_rwlock_release(rwlock, LOX_READ), "rwlock release 'r'");
  else
    must(lox_lightswitch_release(restroom), "lightswitch release");
  return 0;
}

static void run(void) {
  lox_thread *people = NULL, *janitors = NULL;
  lox_results *r = NULL;
  int i;
  must(lox_thread_create(N_PEOPLE, person, NULL, &people), "thread create");
  must(lox_thread_create(1, janitor, NULL, &janitors), "thread create");
  t_start = now();
  for (i = 0; i < N_PEOPLE; ++i) {
    must(lox_thread_scatter(people, (void *)(size_t)i, NULL), "scatter"); /* person i tries to enter */
    sleep_for(0.6);                                                       /* 60% of the time a person spends inside */
    if (i == 0) { /* while the first person is inside, the janitor would like to enter */
      must(lox_thread_scatter(janitors, NULL, NULL), "scatter");
      pthread_mutex_lock(&mu);
      printf("(%0.3f s) Janitor Dispatched\n", (now() - t_start) / time_scale);
      pthread_mutex_unlock(&mu);
    }
  }
  must(lox_thread_gather(people, NULL, &r), "gather people");
  lox_results_destroy(r);
  must(lox_thread_gather(janitors, NULL, &r), "gather janitor");
  lox_results_destroy(r);
  lox_thread_destroy(people);
  lox_thread_destroy(janitors);
}

int main(int argc, char **argv) {
  time_scale = example_time_scale(argc, argv);
  must(lox_lock_create(&restroom_occupied), "lock create");
  must(lox_lightswitch_create(restroom_occupied, &restroom), "lightswitch create");
  must(lox_rwlock_create(&rwlock), "rwlock create");

  printf("Running Restroom Demo (LightSwitch: the janitor waits until the restroom is empty)\n");
  use_rwlock = 0;
  run();
  if (lox_lightswitch_count(restroom) != 0 || lox_lock_locked(restroom_occupied) != 0) ++violations;

  printf("\nRunning Restroom Demo (RWLock: people arriving after the janitor wait for him)\n");
  use_rwlock = 1;
  janitor_cleaned = 0;
  run();
  if (lox_rwlock_readers(rwlock) != 0) ++violations;

  lox_rwlock_destroy(rwlock);
  lox_lightswitch_destroy(restroom);
  lox_lock_destroy(restroom_occupied);
  if (violations || !janitor_cleaned) {
    fprintf(stderr, "restroom: UNEXPECTED: %d violation(s), janitor cleaned: %d\n", violations, janitor_cleaned);
    return 1;
  }
  printf("\nThe janitor was never inside together with a person.\n");
  return 0;
}
