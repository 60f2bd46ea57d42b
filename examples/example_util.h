/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the C examples share: the --quick option, a monotonic clock, a sleep
 * that survives signals, and the two ways an example reacts to trouble:
 * must() stops at a failed liblox call, check() counts a result that is not
 * the promised one (check_failures() tells how many).
 *
 * Define EXAMPLE_NAME (the prefix of the messages) before including this,
 * and include it before any system header (it asks for POSIX.1-2008).
 */
#ifndef LOX_EXAMPLE_UTIL_H
#define LOX_EXAMPLE_UTIL_H

#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <lox/lox.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef EXAMPLE_NAME
#error "define EXAMPLE_NAME before including example_util.h"
#endif

/* The factor for every simulated delay: 0.05 with --quick, else 1. Prints
 * the usage and exits for any other argument (0 for --help, else 2). */
static inline double example_time_scale(int argc, char **argv) {
  double scale = 1.0;
  int i;
  for (i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "--quick") == 0) {
      scale = 0.05;
    } else {
      int help = strcmp(argv[i], "--help") == 0;
      fprintf(help ? stdout : stderr,
              "usage: %s [--quick]\n"
              "  --quick  make every simulated delay 20 times shorter\n",
              argv[0]);
      exit(help ? 0 : 2);
    }
  }
  return scale;
}

/* Seconds on the monotonic clock. */
static inline double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Sleeps `seconds`, resuming after a signal. */
static inline void sleep_seconds(double seconds) {
  struct timespec ts;
  ts.tv_sec = (time_t)seconds;
  ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

/* Reports a failed liblox call (its status text and detail) and exits 1. */
static inline void must(int status, const char *call) {
  if (status != LOX_OK) {
    fprintf(stderr, EXAMPLE_NAME ": %s: %s (%s)\n", call, lox_status_str(status), lox_last_error());
    exit(1);
  }
}

/* The number of failed checks, kept in one place for the whole program. */
static inline int *example_failures(void) {
  static int failures = 0;
  return &failures;
}

/* Reports `what` when `ok` is false and counts it. */
static inline void check(int ok, const char *what) {
  if (!ok) {
    fprintf(stderr, EXAMPLE_NAME ": UNEXPECTED: %s\n", what);
    ++*example_failures();
  }
}

/* How many checks failed so far. */
static inline int check_failures(void) { return *example_failures(); }

#endif
