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

#include "common/completions.hpp"
#include "common/gather.hpp"
#include "common/results.hpp"
#include "common/status.hpp"
#include "graph/node.hpp"
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
  // The task's graph node (the slot's reference) until it is finished; its
  // task never goes through the round's sequential claim, it is queued on
  // ready_ when runnable (see graph::Node).
  graph::Node* node = nullptr;
  bool launched = false;   // node: runnable, queued on ready_ (or dropped by destroy)
  bool finished = false;   // outcome recorded
  uint64_t finish_order = 0;  // when it finished, among the pool's tasks
  bool cancelled = false;  // not to be run, or to be stopped
};

class Pool final : public graph::Host {
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

  // A graph node's task (preds set on `node`; their outcomes and `in` make
  // its input when it becomes runnable). Takes the slot's reference.
  Status scatter_node(graph::Node& node, const void* in, size_t len, size_t* index);
  // Cancels every round not gathered yet (see lox_process_cancel).
  void cancel() noexcept;
  // Seconds between SIGTERM and SIGKILL for a cancelled running task.
  void set_cancel_grace(double seconds) noexcept { cancel_grace_.store(seconds, std::memory_order_relaxed); }
  // The round the next gather would return, delivered in completion order;
  // throws std::bad_alloc (nothing taken then).
  std::unique_ptr<Completions> completions();

  // graph::Host
  void launch(graph::Node& node) noexcept override;
  void record_slot(graph::Node& node) noexcept override;
  void finish_slot(graph::Node& node) noexcept override;
  void cancel_running(graph::Node& node) noexcept override;

 private:
  struct Round {
    std::deque<Task> tasks;
    size_t next = 0;  // first task not yet claimed
    size_t done = 0;
    bool sealed = false;
    bool cancelled = false;
    // Taken by a completions consumer: `log` lists finished tasks in the
    // order they finished (capacity reserved for all).
    bool streamed = false;
    std::vector<size_t> log;
    bool complete() const noexcept { return done == tasks.size(); }
  };
  // What the pool and its completions consumers share: the lock that
  // guards rounds and the condition finished tasks are announced on, which
  // a consumer may need after the pool is gone.
  struct Shared {
    std::mutex mu;
    std::condition_variable done;
  };
  class RoundCompletions;
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
  // Finishes (as cancelled) and removes the tasks of `batch` that were
  // cancelled since they were claimed.
  void drop_cancelled(std::vector<Claim>& batch);
  // Whether the task was cancelled (itself, its round or its node; mu_ held).
  static bool cancelled_locked(const Claim& c) noexcept;
  bool is_cancelled(const Claim& c);
  // Stops the worker running `t`, if one does (mu_ not held).
  void stop_task(const Task* t) noexcept;
  void finish(const Claim& c, int status, std::string output, std::string detail);
  // Records a finished task's outcome in its round (mu_ held): logged for a
  // consumer; true when one must be woken.
  bool note_finished_locked(Round& r, size_t index, Task& t) noexcept;
  // Counts it done (mu_ held); true when a gatherer must be woken.
  bool count_done_locked(Round& r) noexcept;
  // Both.
  bool record_locked(Round& r, size_t index, Task& t) noexcept {
    const bool consumer = note_finished_locked(r, index, t);
    return count_done_locked(r) || consumer;
  }
  // SIGTERM to the workers running a task `pick` selects, SIGKILL after
  // the grace period (mu_ not held).
  template <typename Pick>
  void stop_running(Pick&& pick) noexcept;
  // Completes what graph nodes of this pool are left at destroy.
  void finish_nodes_at_shutdown() noexcept;
  // The input of a runnable node: framed predecessor outcomes, then its own
  // input. False (with `why`) when it cannot be built.
  bool build_input(graph::Node& node, const std::string& own, std::string& input, std::string& why) noexcept;
  class Reaper;
  void run_inline(Task& t) noexcept;
  void shutdown() noexcept;  // stop drivers, kill and reap every process

  const size_t n_workers_;
  const std::unique_ptr<Runner> runner_;
  const Options options_;
  std::unique_ptr<ForkServer> server_;
  std::vector<std::unique_ptr<Driver>> drivers_;
  std::unique_ptr<Reaper> reaper_;  // made on the first cancel of a running task

  const std::shared_ptr<Shared> shared_;
  std::mutex& mu_;
  std::condition_variable work_;  // drivers wait for tasks
  std::condition_variable& done_;  // gatherers wait for finished tasks
  std::deque<std::shared_ptr<Round>> rounds_;
  std::vector<std::shared_ptr<Round>> streamed_;  // taken by completions consumers, not complete yet
  std::deque<Claim> ready_;                       // runnable graph-node tasks, oldest first
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
  std::atomic<double> cancel_grace_{1.0};
  uint64_t finish_order_ = 0;  // guarded by mu_
};

}  // namespace lox::core::process
