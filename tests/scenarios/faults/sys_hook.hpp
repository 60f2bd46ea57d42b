// SPDX-License-Identifier: Apache-2.0
// System-call failure injection for the test program: sys_hook.cpp defines
// fork, socketpair, pipe, pipe2 and pthread_create (which std::thread calls),
// which liblox.so's calls bind to; each
// forwards to the C library's (dlsym RTLD_NEXT) unless a plan says to fail.
// Plans are process-wide and inherited across fork: the fork server (forked
// from the test process) follows the plan as it was at its fork, which is
// how a worker's fork (made inside the fork server) is made to fail.
#pragma once

namespace loxfault {

enum class Sys { fork, socketpair, pipe, thread, count };

// From now on: let `skip` calls of `which` through, then fail the next
// `fail` calls with `err` (errno), then let everything through again.
void plan_failures(Sys which, int skip, int fail, int err) noexcept;
void clear_plans() noexcept;
// Failures injected by this process so far (a forked child counts its own).
long sys_faults_injected(Sys which) noexcept;

}  // namespace loxfault
