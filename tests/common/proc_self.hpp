// SPDX-License-Identifier: Apache-2.0
// This process's open descriptors and threads, read from /proc/self: what
// the resource guard (resource_guard.cpp), the process tests' LeakCheck
// (tests/process_util.hpp), the descriptor-exhaustion test and the fuzz
// corpus replay count. Header-only, no GoogleTest: the replay is a plain
// program.
#pragma once

#include <dirent.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "eventually.hpp"

namespace loxtest {

// Open descriptors of this process (without the directory stream's own).
inline std::vector<int> open_fds() {
  std::vector<int> v;
  DIR* d = opendir("/proc/self/fd");
  if (!d) return v;
  int own = dirfd(d);
  while (dirent* de = readdir(d)) {
    if (de->d_name[0] == '.') continue;
    int fd = std::atoi(de->d_name);
    if (fd != own) v.push_back(fd);
  }
  closedir(d);
  return v;
}

// Threads of this process.
inline size_t thread_count() {
  size_t n = 0;
  DIR* d = opendir("/proc/self/task");
  if (!d) return 0;
  while (dirent* de = readdir(d))
    if (de->d_name[0] != '.') ++n;
  closedir(d);
  return n;
}

inline std::string fd_target(int fd) {
  char buf[512];
  ssize_t n = readlink(("/proc/self/fd/" + std::to_string(fd)).c_str(), buf, sizeof buf - 1);
  if (n < 0) return "?";
  return std::string(buf, static_cast<size_t>(n));
}

inline std::string describe_fds(const std::vector<int>& fds) {
  std::string s;
  for (int fd : fds) s += "  fd " + std::to_string(fd) + " -> " + fd_target(fd) + "\n";
  return s.empty() ? "  (none)\n" : s;
}

struct ResourceCounts {
  size_t fds = 0;
  size_t threads = 0;
};

inline ResourceCounts resource_counts() { return {open_fds().size(), thread_count()}; }

// The counts once they are back to `start` (or below), polled for up to
// `settle`: a joined thread's kernel task can outlive pthread_join by a
// moment, and a reaped worker's socket is closed by the pool's reaper. A
// real leak stays and is returned after `settle`.
inline ResourceCounts settled_counts(ResourceCounts start, std::chrono::milliseconds settle) {
  ResourceCounts now;
  eventually(
      [&] {
        now = resource_counts();
        return now.fds <= start.fds && now.threads <= start.threads;
      },
      settle, std::chrono::milliseconds(5));
  return now;
}

// ThreadSanitizer starts a background thread of its own the first time the
// program creates a thread, and keeps it. Starting (and joining) one thread
// before the first count makes it part of every starting count. Without
// TSan this is one thread started and joined.
inline void start_thread_runtime() {
  std::thread([] {}).join();
}

}  // namespace loxtest
