// SPDX-License-Identifier: Apache-2.0
// A process pool task and the check of its rounds shared by the system-call
// and descriptor fault programs: tasks echo their input; a task may instead
// fail with LOX_ESYS when its worker could not be started, with the errno
// text in its detail.
#pragma once

#include <lox/lox.h>

#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "test_util.hpp"

namespace loxfault {

inline int echo_task(void*, const void* in, size_t len, lox_buffer* out) { return lox_buffer_append(out, in, len); }

struct RoundOutcome {
  size_t ok = 0, sys_failed = 0;
};

// Scatters `n` tasks, gathers (a hang fails after kMust) and checks every
// task: its echo, or LOX_ESYS with `errno_text` in its detail.
inline RoundOutcome run_round(lox_process* p, int n, const char* errno_text) {
  RoundOutcome o;
  for (int i = 0; i < n; ++i) {
    const std::string in = "task " + std::to_string(i);
    EXPECT_EQ(lox_process_scatter(p, in.data(), in.size(), nullptr), LOX_OK) << lox_last_error();
  }
  lox_gather_opts opts;
  lox_gather_opts_init(&opts);
  opts.timeout = std::chrono::duration<double>(loxtest::kMust).count();
  lox_results* r = nullptr;
  const int rc = lox_process_gather(p, &opts, &r);
  EXPECT_TRUE(rc == LOX_OK || rc == LOX_ETASK) << rc << ": " << lox_last_error();
  if (!r) return o;
  loxtest::Results owned(r);
  EXPECT_EQ(lox_results_count(r), static_cast<size_t>(n));
  for (size_t i = 0; i < lox_results_count(r); ++i) {
    const int st = lox_results_status(r, i);
    if (st == LOX_ESYS) {
      ++o.sys_failed;
      const char* e = lox_results_error(r, i);
      EXPECT_TRUE(e && std::strstr(e, errno_text)) << "task " << i << ": " << (e ? e : "(null)");
      continue;
    }
    EXPECT_EQ(st, 0) << "task " << i << ": " << lox_results_error(r, i);
    const void* data = nullptr;
    size_t len = 0;
    EXPECT_EQ(lox_results_bytes(r, i, &data, &len), LOX_OK);
    EXPECT_EQ(std::string(static_cast<const char*>(data), len), "task " + std::to_string(i));
    ++o.ok;
  }
  EXPECT_EQ(o.ok + o.sys_failed, static_cast<size_t>(n));
  EXPECT_EQ(rc == LOX_ETASK, o.sys_failed > 0);
  return o;
}

}  // namespace loxfault
