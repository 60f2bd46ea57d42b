// SPDX-License-Identifier: Apache-2.0
// The process pool: lox.process. Tasks are bytes in, bytes out; rounds,
// order, gather timeouts and progress follow the thread pool's rules.
//
// Dispatch: one driver thread per worker slot (n of them, idle ones sleep
// on a condition variable). A driver claims a batch of tasks (several small
// ones at a time, so a pipe round trip is paid per batch, not per task),
// starts its worker through the fork server if it has none, writes the
// batch and reads the results back one by one. When the worker dies (or
// times out, or sends garbage) the task it was running fails with
// LOX_EWORKER (LOX_TIMEOUT), the rest of the batch goes to a replacement.
// The round structures are guarded by one mutex: its cost is nothing next
// to a pipe round trip.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/gather.hpp"
#include "common/results.hpp"
#include "common/status.hpp"
#include "process/fork_server.hpp"
#include "process/runner.hpp"

namespace lox::core::process {

struct Options {
  double task_timeout = -1;  // seconds; < 0: none
  uint64_t max_message = uint64_t{1} << 30;
};

struct Task {
  std::string input;  // freed once the task is finished
  int status = 0;
  std::string output;
  std::string detail;  // failure text ("worker 1234 killed by SIGSEGV")
};

class Pool {
 public:
  // `n_workers` 0: inline. Throws bad_alloc / system_error (fork server).
  Pool(size_t n_workers, std::unique_ptr<Runner> runner, const Options& options);
  ~Pool();  // drops unfinished tasks, kills and reaps every process
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  Status scatter(const void* in, size_t len, size_t* index);
  size_t pending() const noexcept;
  size_t workers() const noexcept { return live_workers_.load(std::memory_order_relaxed); }
  Status gather(const GatherRequest& request, std::unique_ptr<Results>& out);

 private:
  struct Round {
    std::deque<Task> tasks;
    size_t next = 0;  // first task not yet claimed
    size_t done = 0;
    bool sealed = false;
    bool complete() const noexcept { return done == tasks.size(); }
  };
  struct Claim {
    Round* round;
    size_t index;
    Task* slot;  // taken under mu_: deque elements stay put, the deque's map does not
    Task& task() const { return *slot; }
  };
  class Driver;

  // Waits for work and claims up to `limit` tasks; false: stopping.
  // `was_busy`: the caller's previous batch is done (it held tasks).
  bool claim(std::vector<Claim>& batch, size_t limit, bool was_busy);
  void finish(const Claim& c, int status, std::string output, std::string detail);
  void run_inline(Task& t) noexcept;
  void shutdown() noexcept;  // stop drivers, kill and reap every process

  const size_t n_workers_;
  const std::unique_ptr<Runner> runner_;
  const Options options_;
  std::unique_ptr<ForkServer> server_;
  std::vector<std::unique_ptr<Driver>> drivers_;

  mutable std::mutex mu_;
  std::condition_variable work_;  // drivers wait for tasks
  std::condition_variable done_;  // gatherers wait for finished tasks
  std::deque<std::unique_ptr<Round>> rounds_;
  size_t unclaimed_ = 0;
  size_t outstanding_ = 0;   // scattered, not finished
  size_t busy_drivers_ = 0;  // drivers holding a batch (each runs one task of it)
  bool gathering_ = false;   // one gather at a time
  std::condition_variable gather_free_;
  size_t idle_drivers_ = 0;   // drivers waiting in claim
  size_t wakes_pending_ = 0;  // notified, not yet awake
  Round* watched_ = nullptr;  // the round a gather waits for
  bool watch_each_ = false;   // that gather reports progress: wake it per task
  bool stopping_ = false;
  std::atomic<bool> stopping_flag_{false};  // stopping_, readable without mu_
  std::atomic<size_t> live_workers_{0};
};

}  // namespace lox::core::process
