// SPDX-License-Identifier: Apache-2.0
// The thread pool behind lox_thread (lox.thread): scatter/gather rounds on
// worker threads started on demand and retired when idle.
//
// Costs and guarantees:
// - scatter: a short critical section (append a 40-byte slot (24 bytes of arguments written by the producer, 16 of
// outcome written by the worker) to the open
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

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <deque>
#include <list>
#include <memory>
#include <mutex>
#include <thread>
#include <string>
#include <vector>

#include "common/deadline.hpp"
#include "common/futex.hpp"
#include "common/gather.hpp"
#include "common/progress.hpp"
#include "common/results.hpp"
#include "common/status.hpp"
#include "graph/node.hpp"
#include "thread/chunk_cache.hpp"
#include "thread/round.hpp"

namespace lox::core::thread {

class Pool final : public graph::Host {
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

  // Not noexcept: in debug mode the task runs here, and a task that ends
  // its thread (pthread_exit) unwinds through this call (see invoke_task).
  Status scatter(TaskFn fn, void* ctx, void* arg, size_t* index);
  // Scatters the task of a graph node (node.thread_call, its predecessors
  // set): it takes the next slot of the open round and runs when that slot
  // is reached and every predecessor completed. Takes the slot's reference.
  // Not noexcept, as scatter.
  Status scatter_node(graph::Node& node, size_t* index);
  // Cancels every round not gathered yet (see lox_thread_cancel).
  void cancel() noexcept;
  Status gather(const GatherRequest& request, std::unique_ptr<Results>& out) noexcept;
  // Takes the round the next gather would return (nullptr: none), for a
  // consumer of its completions.
  Status take_round(std::shared_ptr<Round>& out) noexcept;
  // Returns a round take_round() gave out and nobody consumed (an
  // out-of-memory after the take): the next gather returns it.
  void give_back(const std::shared_ptr<Round>& round) noexcept;
  size_t pending() const noexcept;
  size_t workers() const noexcept { return live_.load(std::memory_order_relaxed); }

 private:
  using RoundPtr = std::shared_ptr<Round>;

  // The unstarted rest of a worker's batch, open to other workers. A batch
  // is claimed as a whole (cheap), but a task that blocks (say, waiting for
  // a later task of its round) must not hold the rest of its batch hostage:
  // an idle worker steals the upper half. The owner takes its next task with
  // a CAS on its own cache line; thieves CAS the same word, so every task is
  // run exactly once.
  struct Reservation {
    // (next << 32) | end, offsets from `base`: [next, end) is not started.
    std::atomic<uint64_t> range{0};
    // Guards `base` and `round` (set by the owner when it publishes a batch,
    // read by a thief while it steals), so a thief never pairs one batch's
    // range with another's base.
    std::atomic_flag busy = ATOMIC_FLAG_INIT;
    size_t base = 0;
    RoundPtr round;
    // Its worker's thread exited in the middle of the batch (a task called
    // pthread_exit): nobody runs the rest but thieves, and the thief that
    // takes it takes all of it and removes the reservation. Guarded by mu_.
    bool orphaned = false;

    static uint64_t pack(uint64_t next, uint64_t end) noexcept { return next << 32 | end; }
    static uint32_t next_of(uint64_t w) noexcept { return static_cast<uint32_t>(w >> 32); }
    static uint32_t end_of(uint64_t w) noexcept { return static_cast<uint32_t>(w); }
    // Tasks of the published batch nobody has started yet (a snapshot).
    size_t unstarted(std::memory_order order = std::memory_order_acquire) const noexcept {
      uint64_t w = range.load(order);
      return end_of(w) - std::min(next_of(w), end_of(w));
    }
    void lock() noexcept {
      while (busy.test_and_set(std::memory_order_acquire)) cpu_relax();
    }
    void unlock() noexcept { busy.clear(std::memory_order_release); }
  };

  struct WorkerState {
    RoundPtr round;           // the round the worker claims from
    Chunk* cursor = nullptr;  // its position in that round's chunks
    uint64_t seen_version = 0;
    // Adaptive batch size: doubles (up to Round::kMaxBatch) while tasks are
    // quick, drops to 1 as soon as they are not, so slow or blocking tasks
    // are never held back behind one another in one worker's batch.
    size_t batch = 1;
    Reservation* reservation = nullptr;  // registered in reservations_
  };
  enum class WakeAction { none, wake_sleeper, spawn };

  // Which action new work calls for. Reads the worker counters; the caller
  // either holds mu_ (scatter) or has issued a seq_cst fence (workers).
  WakeAction wake_action() noexcept;
  void perform(WakeAction action) noexcept;
  // Starts one worker if the pool has room. Returns false, with the
  // system's reason in `*why` (if given), when the thread could not start.
  bool spawn_worker(std::string* why = nullptr) noexcept;
  void worker_main(std::list<std::thread>::iterator self);
  // Claims a batch for `ws`, switching rounds when needed.
  bool claim(WorkerState& ws, Round::Batch& batch) noexcept;
  // Steals the upper half of another worker's unstarted batch (mu_ held).
  bool steal_locked(WorkerState& ws, Round::Batch& batch) noexcept;
  // True if any round has unclaimed tasks or any batch unstarted ones (takes mu_).
  bool any_work() const noexcept;
  // Runs `batch` and then whatever more the worker can claim in that round.
  // Not noexcept, like the other functions that run tasks: a task that ends
  // its thread unwinds through them (see invoke_task and Round::execute).
  void run_batches(WorkerState& ws, Round::Batch batch);
  // Runs one batch (publishing it for thieves if it has more than one task);
  // returns how many of its tasks this worker ran.
  size_t run_batch(WorkerState& ws, const Round::Batch& batch);
  // Leaves [begin, end) of ws.round, which this worker claimed but will
  // never run (its thread is exiting), to the other workers as an orphaned
  // reservation (mu_ not held).
  void orphan_rest(WorkerState& ws, size_t begin, size_t end) noexcept;
  // The worker's thread is exiting inside a task (the task's outcome is
  // already recorded): hands over the rest of its batch, leaves the live
  // count and the thread list as a retiring worker does, and wakes or
  // starts another worker for what is left.
  void leave_on_thread_exit(WorkerState& ws, std::list<std::thread>::iterator self) noexcept;
  void register_worker(WorkerState& ws);
  void unregister_worker(WorkerState& ws) noexcept;
  void join_retired_locked(std::vector<std::thread>& out);
  // Gives a timed-out round back: reopened if nothing came after it,
  // otherwise queued for the next gather ahead of later rounds.
  void return_round(const RoundPtr& round);
  // The round the next gather collects, sealed (mu_ held); null if none.
  RoundPtr take_next_locked() noexcept;

  // The open round, created if there is none (mu_ held); throws bad_alloc.
  Round& open_round_locked();
  // The one scatter path: `append(round, chunk)` adds the slot to the open
  // round (mu_ held) and returns its index; then the task is run inline
  // (debug mode) or a worker woken.
  template <typename Append>
  Status append_task(Append&& append, size_t* index);

  // graph::Host
  void launch(graph::Node& node) noexcept override;
  void launch_batch(graph::Node* const* nodes, size_t n) noexcept override;
  void record_slot(graph::Node& node) noexcept override;
  void finish_slot(graph::Node& node) noexcept override;
  void slot_finished(graph::Node& node) noexcept override;
  // The node this thread's loop runs next (see launch()), or nullptr.
  graph::Node* take_continuation() noexcept;
  // Queues a launched node for any worker and wakes one.
  void queue_ready(graph::Node& node) noexcept;
  // Pops a node from ready_ (nullptr if none).
  graph::Node* take_ready() noexcept;
  // Runs a launched node in this thread (its slot is parked).
  void run_ready(graph::Node& node);
  // Runs ready nodes and claimable tasks in this thread until there are
  // none (the destructor's help).
  void drain_here();

  const size_t max_workers_;
  const bool inline_;
  const TaskFn fn_;
  void* const ctx_;
  const std::chrono::nanoseconds idle_timeout_;
  // Task storage of finished rounds kept for reuse (bounded; see ChunkCache).
  const ChunkCachePtr chunk_cache_;

  // Every atomic that one side writes often and the other reads sits on a
  // cache line of its own: the scatter hot path must not miss in the cache
  // because a worker wrote an unrelated neighbour.

  // Rounds. mu_ serialises scatters, seals and round switches.
  alignas(64) mutable std::mutex mu_;
  RoundPtr open_;                   // receives scatters; null until the first one after a seal
  RoundPtr newest_;                 // the most recently created round
  std::deque<RoundPtr> queue_;      // rounds that may have unclaimed tasks, oldest first
  std::deque<RoundPtr> abandoned_;  // sealed rounds whose gather timed out, oldest first
  uint64_t next_round_id_ = 0;
  std::list<Reservation> reservations_;           // one per running worker
  alignas(64) std::atomic<uint64_t> version_{0};  // bumped when a round is created or reopened
  // Graph nodes whose predecessors all completed after their slot was
  // reached, oldest first (guarded by mu_); ready_count_ mirrors its size
  // for the workers' lock-free check.
  std::deque<graph::Node*> ready_;
  alignas(64) std::atomic<size_t> ready_count_{0};
  const CancelMark cancel_mark_;
  // Nodes with predecessors whose slot is not finished (a list through
  // Node::host_prev/host_next): a cancel completes the ones still waiting,
  // destroy waits for them all.
  alignas(64) std::mutex nodes_mu_;
  graph::Node* waiting_nodes_ = nullptr;
  size_t waiting_count_ = 0;
  EventCount nodes_event_;  // notified when a node is launched or leaves the list

  // Workers.
  alignas(64) std::mutex workers_mu_;
  std::list<std::thread> threads_;    // live workers' handles
  std::vector<std::thread> retired_;  // exited workers not yet joined
  std::atomic<size_t> live_{0};
  std::atomic<bool> stopping_{false};
  alignas(64) std::atomic<size_t> spinning_{0};  // awake workers looking for work
  alignas(64) std::atomic<bool> wake_pending_{false};
  alignas(64) EventCount idle_event_;  // sleeping workers
};

}  // namespace lox::core::thread
