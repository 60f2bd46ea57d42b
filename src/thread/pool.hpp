// The thread pool behind lox_thread (lox.thread): scatter/gather rounds on
// worker threads started on demand and retired when idle.
//
// Costs and guarantees:
// - scatter: a short critical section (append a 40-byte slot to the open
//   round), then at most one wake-up, and only when no worker is already
//   awake looking for work: a burst of scatters costs one futex wake, not one
//   per task.
// - workers claim batches of tasks lock-free (guided: large batches while
//   there is much work, single tasks at the end), report completion once per
//   batch, spin ~50 us when out of work, then sleep; after `idle_timeout` of
//   sleep they exit. An idle pool holds no threads and burns no CPU.
// - gather waits on the round's own event: it is woken once, when the round
//   completes (or per batch if it reports progress).
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <deque>
#include <list>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "common/deadline.hpp"
#include "common/futex.hpp"
#include "common/progress.hpp"
#include "common/results.hpp"
#include "common/status.hpp"
#include "thread/round.hpp"

namespace lox::core::thread {

struct GatherRequest {
  Deadline deadline = Deadline::never();
  ProgressFn progress = nullptr;
  void* progress_ctx = nullptr;
  bool progress_bar = false;
};

class Pool {
 public:
  static constexpr size_t kDefaultWorkers = 50;

  // `max_workers == 0`: tasks run inline in scatter (debug mode).
  Pool(size_t max_workers, TaskFn fn, void* ctx, std::chrono::nanoseconds idle_timeout);
  // Runs every task already scattered, then joins every worker. The caller
  // must not be inside one of this pool's tasks (check inside_own_task()).
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  TaskFn default_fn() const noexcept { return fn_; }
  void* default_ctx() const noexcept { return ctx_; }
  size_t max_workers() const noexcept { return max_workers_; }
  bool inside_own_task() const noexcept;

  Status scatter(TaskFn fn, void* ctx, void* arg, size_t* index) noexcept;
  Status gather(const GatherRequest& request, std::unique_ptr<Results>& out) noexcept;
  size_t pending() const noexcept;
  size_t workers() const noexcept { return live_.load(std::memory_order_relaxed); }

 private:
  using RoundPtr = std::shared_ptr<Round>;
  struct WorkerState {
    RoundPtr round;          // the round the worker claims from
    Chunk* cursor = nullptr; // its position in that round's chunks
    uint64_t seen_version = 0;
    // Adaptive batch size: doubles (up to Round::kMaxBatch) while tasks are
    // quick, drops to 1 as soon as they are not, so slow or blocking tasks
    // are never held back behind one another in one worker's batch.
    size_t batch = 1;
  };
  enum class WakeAction { none, wake_sleeper, spawn };

  // Which action new work calls for. Reads the worker counters; the caller
  // either holds mu_ (scatter) or has issued a seq_cst fence (workers).
  WakeAction wake_action() noexcept;
  void perform(WakeAction action) noexcept;
  void spawn_worker() noexcept;
  void worker_main(std::list<std::thread>::iterator self) noexcept;
  // Claims a batch for `ws`, switching rounds when needed.
  bool claim(WorkerState& ws, Round::Batch& batch) noexcept;
  // True if any round has unclaimed tasks (takes mu_).
  bool any_unclaimed() const noexcept;
  void run_batches(WorkerState& ws, Round::Batch batch) noexcept;
  void join_retired_locked(std::vector<std::thread>& out);
  // Gives a timed-out round back: reopened if nothing came after it,
  // otherwise queued for the next gather ahead of later rounds.
  void return_round(const RoundPtr& round);

  const size_t max_workers_;
  const bool inline_;
  const TaskFn fn_;
  void* const ctx_;
  const std::chrono::nanoseconds idle_timeout_;

  // Rounds. mu_ serialises scatters, seals and round switches.
  mutable std::mutex mu_;
  RoundPtr open_;                  // receives scatters; null until the first one after a seal
  RoundPtr newest_;                // the most recently created round
  std::deque<RoundPtr> queue_;     // rounds that may have unclaimed tasks, oldest first
  std::deque<RoundPtr> abandoned_; // sealed rounds whose gather timed out, oldest first
  uint64_t next_round_id_ = 0;
  std::atomic<uint64_t> version_{0};  // bumped when a round is created or reopened

  // Workers.
  std::mutex workers_mu_;
  std::list<std::thread> threads_;       // live workers' handles
  std::vector<std::thread> retired_;     // exited workers not yet joined
  std::atomic<size_t> live_{0};
  std::atomic<size_t> spinning_{0};      // awake workers looking for work
  std::atomic<bool> wake_pending_{false};
  std::atomic<bool> stopping_{false};
  EventCount idle_event_;                // sleeping workers
};

}  // namespace lox::core::thread
