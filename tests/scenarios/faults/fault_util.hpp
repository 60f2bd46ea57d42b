// SPDX-License-Identifier: Apache-2.0
// Shared helpers of the fault-injection programs: zombie checks and a
// one-line report of how many faults a test injected.
#pragma once

#include <sys/wait.h>

#include <cerrno>
#include <cstdio>

namespace loxfault {

// True when this process has no child left, running or zombie: every
// fork server and worker of every destroyed pool was reaped. (waitpid with
// WNOHANG reaps a zombie it finds, which is fine: finding one fails the test.)
inline bool no_children_left() {
  int status = 0;
  return ::waitpid(-1, &status, WNOHANG) < 0 && errno == ECHILD;
}

// Printed so the suite's output says how much was injected (ctest -V).
inline void report(const char* kind, const char* what, long count) {
  std::printf("[faults] %s: %s: %ld injected\n", kind, what, count);
  std::fflush(stdout);
}

}  // namespace loxfault
