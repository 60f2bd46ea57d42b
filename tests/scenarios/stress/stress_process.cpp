// SPDX-License-Identifier: Apache-2.0
// Stress: the process pool with workers dying under it. 100,000 small tasks
// in rounds, while
// - a killer thread SIGKILLs a random live worker every few milliseconds
//   (workers are the fork server's children, found in /proc; pidfd makes
//   the kill safe from pid reuse), and
// - ~0.1% of the tasks, chosen by the parent, SIGKILL their own worker.
// Every task must come back exactly once: success with the right bytes, or
// LOX_EWORKER; nothing else. The planned deaths must all be LOX_EWORKER,
// and the other LOX_EWORKER tasks cannot outnumber the killer's kills (a
// death fails at most the one task its worker was running).
#include <lox/lox.h>

#include <gtest/gtest.h>

#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "process_util.hpp"
#include "stress_util.hpp"
#include "test_util.hpp"

using namespace loxtest;
using namespace loxstress;

namespace {

struct Input {
  uint64_t id;
  uint32_t die;  // nonzero: SIGKILL the worker instead of answering
  uint32_t pad;
};

uint64_t answer_of(uint64_t id) { return id * 0x9E3779B97F4A7C15ull + 17; }

int answer_fn(void*, const void* in, size_t len, lox_buffer* out) {
  Input x{};
  if (len != sizeof x || !in) return 91;
  std::memcpy(&x, in, sizeof x);
  if (x.die) die_by_sigkill();
  const uint64_t a = answer_of(x.id);
  return lox_buffer_append(out, &a, sizeof a) == LOX_OK ? 0 : 90;
}

// SIGKILLs live workers of the pool (grandchildren of this process: the
// fork server, our one child, forks them) at random intervals until stop.
class Killer {
 public:
  explicit Killer(uint64_t salt) : rng_(rng_for(salt)), t_([this] { run(); }) {}
  ~Killer() { stop(); }
  void stop() {
    stop_.store(true);
    if (t_.joinable()) t_.join();
  }
  long kills() const { return kills_.load(); }

 private:
  void run() {
    while (!stop_.load()) {
      std::this_thread::sleep_for(std::chrono::microseconds(500 + rng_() % 4500));
      std::vector<ProcEntry> workers;
      for (auto& e : descendants())
        if (e.ppid != getpid() && e.state != 'Z') workers.push_back(e);
      if (workers.empty()) continue;
      if (kill_one(workers[rng_() % workers.size()])) kills_.fetch_add(1);
    }
  }
  // Kills `e` if it is still the process we listed (same pid and start
  // time once we hold a pidfd on it, so a reused pid is never hit).
  static bool kill_one(const ProcEntry& e) {
    const int fd = static_cast<int>(syscall(SYS_pidfd_open, e.pid, 0));
    if (fd < 0) return false;  // already gone
    ProcEntry now;
    bool ok = read_proc_entry(e.pid, now) && now.start == e.start && now.state != 'Z' &&
              syscall(SYS_pidfd_send_signal, fd, SIGKILL, nullptr, 0) == 0;
    close(fd);
    return ok;
  }

  std::mt19937_64 rng_;
  std::atomic<bool> stop_{false};
  std::atomic<long> kills_{0};
  std::thread t_;
};

TEST(StressProcess, HundredThousandTasksWhileWorkersAreKilled) {
  const long total = scaled_count(100'000, 1000);
  const long per_round = std::min(total, 10'000L);
  // A task never legitimately runs long: the time limit turns a stuck
  // worker into a LOX_TIMEOUT status (counted as wrong) instead of a hang.
  lox_process_opts o = proc_opts(60.0, 1024);
  Proc pool = make_proc(4, answer_fn, nullptr, &o);
  ASSERT_NE(pool, nullptr);
  QuietLog quiet;  // every worker death logs a warning
  auto rng = rng_for(900);
  long ok = 0, eworker = 0, planned = 0, planned_eworker = 0, wrong = 0, lost = 0;
  Stopwatch sw;
  Killer killer(901);
  for (long first = 0; first < total; first += per_round) {
    const long n = std::min(per_round, total - first);
    std::vector<bool> dies(static_cast<size_t>(n));
    for (long i = 0; i < n; ++i) {
      Input x{static_cast<uint64_t>(first + i), rng() % 1000 == 0 ? 1u : 0u, 0};
      dies[static_cast<size_t>(i)] = x.die != 0;
      planned += x.die ? 1 : 0;
      ASSERT_EQ(lox_process_scatter(pool.get(), &x, sizeof x, nullptr), LOX_OK) << lox_last_error();
    }
    int rc = -100;
    Results r = pgather(pool.get(), &rc);
    ASSERT_TRUE(rc == LOX_OK || rc == LOX_ETASK) << lox_status_str(rc) << ": " << lox_last_error();
    const size_t count = lox_results_count(r.get());
    lost += n - static_cast<long>(std::min<size_t>(count, static_cast<size_t>(n)));
    ASSERT_EQ(count, static_cast<size_t>(n)) << "round starting at task " << first;
    for (long i = 0; i < n; ++i) {
      const auto idx = static_cast<size_t>(i);
      const int st = lox_results_status(r.get(), idx);
      if (st == LOX_EWORKER) {
        ++eworker;
        planned_eworker += dies[idx] ? 1 : 0;
        continue;
      }
      const void* data = nullptr;
      size_t len = 0;
      uint64_t got = 0;
      const bool right = st == 0 && !dies[idx] && lox_results_bytes(r.get(), idx, &data, &len) == LOX_OK &&
                         len == sizeof got &&
                         (std::memcpy(&got, data, len), got == answer_of(static_cast<uint64_t>(first + i)));
      if (right) {
        ++ok;
      } else {
        ++wrong;
        ADD_FAILURE() << "task " << first + i << ": status " << st << " (" << error_at(r.get(), idx) << ")";
      }
    }
  }
  // The killer must have struck at least once, also if the rounds were
  // quicker than its first kill; a kill between rounds must not break the
  // pool either (checked by one more round).
  EXPECT_TRUE(eventually([&] { return killer.kills() >= 3; })) << "the killer found no worker to kill";
  killer.stop();
  {
    Input x{7, 0, 0};
    ASSERT_EQ(lox_process_scatter(pool.get(), &x, sizeof x, nullptr), LOX_OK);
    int rc = -100;
    Results r = pgather(pool.get(), &rc);
    ASSERT_TRUE(rc == LOX_OK || rc == LOX_ETASK) << lox_status_str(rc);
    ASSERT_EQ(lox_results_count(r.get()), 1u);
    const int st = lox_results_status(r.get(), 0);
    EXPECT_TRUE(st == LOX_OK || st == LOX_EWORKER) << st;
  }

  EXPECT_EQ(wrong, 0) << "a task ended other than with its right result or LOX_EWORKER";
  EXPECT_EQ(lost, 0);
  EXPECT_EQ(ok + eworker, total);
  EXPECT_EQ(planned_eworker, planned) << "a task that killed its worker did not fail with LOX_EWORKER";
  EXPECT_LE(eworker - planned_eworker, killer.kills()) << "more unplanned worker failures than workers killed";
  summary("process pool 100k tasks, workers killed",
          "tasks=" + std::to_string(total) + " ok=" + std::to_string(ok) + " eworker=" + std::to_string(eworker) +
              " (planned=" + std::to_string(planned) + " unplanned=" + std::to_string(eworker - planned_eworker) +
              ") kills=" + std::to_string(killer.kills()) + " wrong=" + std::to_string(wrong) +
              " lost=" + std::to_string(lost),
          sw);
}

}  // namespace
