// SPDX-License-Identifier: Apache-2.0
#include "sys_hook.hpp"

#include <dlfcn.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

namespace {

struct Plan {
  std::atomic<int> skip{0};
  std::atomic<int> fail{0};
  std::atomic<int> err{0};
  std::atomic<long> injected{0};
};
Plan g_plans[static_cast<int>(loxfault::Sys::count)];

// True (errno set) if this call must fail.
bool must_fail(loxfault::Sys which) noexcept {
  Plan& p = g_plans[static_cast<int>(which)];
  if (p.fail.load() <= 0) return false;
  if (p.skip.load() > 0 && p.skip.fetch_sub(1) > 0) return false;
  if (p.fail.fetch_sub(1) <= 0) return false;
  p.injected.fetch_add(1);
  errno = p.err.load();
  return true;
}

template <typename Fn>
Fn next(const char* name) noexcept {
  return reinterpret_cast<Fn>(dlsym(RTLD_NEXT, name));
}

}  // namespace

namespace loxfault {

void plan_failures(Sys which, int skip, int fail, int err) noexcept {
  Plan& p = g_plans[static_cast<int>(which)];
  p.fail.store(0);
  p.skip.store(skip);
  p.err.store(err);
  p.fail.store(fail);
}

void clear_plans() noexcept {
  for (Plan& p : g_plans) p.fail.store(0), p.skip.store(0);
}

long sys_faults_injected(Sys which) noexcept { return g_plans[static_cast<int>(which)].injected.load(); }

}  // namespace loxfault

extern "C" {

pid_t fork(void) {
  static const auto real = next<pid_t (*)()>("fork");
  if (must_fail(loxfault::Sys::fork)) return -1;
  return real();
}

int socketpair(int domain, int type, int protocol, int sv[2]) {
  static const auto real = next<int (*)(int, int, int, int*)>("socketpair");
  if (must_fail(loxfault::Sys::socketpair)) return -1;
  return real(domain, type, protocol, sv);
}

int pipe(int fds[2]) {
  static const auto real = next<int (*)(int*)>("pipe");
  if (must_fail(loxfault::Sys::pipe)) return -1;
  return real(fds);
}

int pipe2(int fds[2], int flags) {
  static const auto real = next<int (*)(int*, int)>("pipe2");
  if (must_fail(loxfault::Sys::pipe)) return -1;
  return real(fds, flags);
}

}  // extern "C"

// pthread_create reports failure by its return value, not errno.
int pthread_create(pthread_t* thread, const pthread_attr_t* attr, void* (*start)(void*), void* arg) {
  static const auto real = next<int (*)(pthread_t*, const pthread_attr_t*, void* (*)(void*), void*)>("pthread_create");
  if (must_fail(loxfault::Sys::thread)) return errno;
  return real(thread, attr, start, arg);
}
