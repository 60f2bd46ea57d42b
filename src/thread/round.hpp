// SPDX-License-Identifier: Apache-2.0
// One round of a thread pool: the tasks scattered between two gathers.
//
// Producers append under the pool's mutex and publish with a release store
// of `published_`. Workers claim batches of slots with a CAS on `claimed_`
// (lock-free) and report completion with one fetch_add on `done_` per batch,
// so the per-task cost on the hot path is a slot write and a share of a few
// atomic operations.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "common/futex.hpp"
#include "graph/node.hpp"
#include "thread/chunk_cache.hpp"
#include "thread/task.hpp"

namespace lox::core::thread {

// The pool's cancellation mark, shared with its rounds: every round whose
// id is below it was cancelled (lox_thread_cancel).
using CancelMark = std::shared_ptr<std::atomic<uint64_t>>;

// The task function of a slot that holds a graph node (Task::ctx is the
// node, which holds the real task): compared, never called as a task.
int node_slot(void* node, void* unused, void** result);

class Round : public std::enable_shared_from_this<Round> {
 public:
  static constexpr size_t kOpen = std::numeric_limits<size_t>::max();

  Round(uint64_t id, ChunkCachePtr cache, CancelMark cancel_mark)
      : id_(id), cache_(std::move(cache)), cancel_mark_(std::move(cancel_mark)) {}
  uint64_t id() const noexcept { return id_; }
  // The pool cancelled this round: tasks not started complete with
  // LOX_ECANCELLED instead of running.
  bool cancelled() const noexcept { return cancel_mark_->load(std::memory_order_relaxed) > id_; }
  // The round whose task runs on this thread (nullptr outside a task).
  static const Round* current() noexcept;
  Round(const Round&) = delete;
  Round& operator=(const Round&) = delete;
  ~Round() { cache_->give(head_); }

  // --- producer side: caller holds the pool mutex -------------------------
  // Appends a task and returns its index (and in `chunk` the chunk holding
  // it); throws std::bad_alloc (nothing is appended then). Unless
  // `publish`, workers do not see it before publish_locked().
  size_t append(TaskFn fn, void* ctx, void* arg, Chunk*& chunk, bool publish = true);
  void publish_locked() noexcept { published_.store(size_, std::memory_order_release); }
  size_t size_locked() const noexcept { return size_; }
  // Freezes the round at its current size: tasks appended later go to
  // another round. reopen() undoes it (a timed-out gather whose round got no
  // successor).
  void seal() noexcept { sealed_size_.store(size_, std::memory_order_seq_cst); }
  void reopen() noexcept { sealed_size_.store(kOpen, std::memory_order_seq_cst); }

  // --- worker side (lock-free) --------------------------------------------
  // A batch of claimed slots [begin, end) and the chunk holding `begin`.
  struct Batch {
    size_t begin = 0, end = 0;
  };
  // Largest batch a worker ever claims.
  static constexpr size_t kMaxBatch = 32;
  // Claims up to `max_batch` consecutive unclaimed, published tasks. (The
  // pool sizes `max_batch` by how quick tasks are; tasks of a batch that
  // stalls are stolen by idle workers, so no further split is needed.)
  bool claim(size_t max_batch, Batch& out) noexcept;
  bool has_unclaimed() const noexcept {
    return claimed_.load(std::memory_order_relaxed) < published_.load(std::memory_order_acquire);
  }
  bool exhausted() const noexcept {  // sealed and every task claimed
    size_t s = sealed_size_.load(std::memory_order_acquire);
    return s != kOpen && claimed_.load(std::memory_order_acquire) >= s;
  }
  // Finished tasks not yet reported with complete().
  // Finished tasks not yet reported: slots [first, first + finished).
  struct Tally {
    size_t finished = 0, failed = 0, first = 0;
    bool logged = false;  // a graph node's slot, logged when its outcome was recorded
  };
  // Runs task i, which the caller owns (claimed or stolen): its status and
  // result land in its slot. `cursor` is the caller's position in the chunk
  // list; it moves forward only, so a cursor must not be reused for a lower
  // index (pass nullptr to start from the first chunk). The task is counted
  // in `tally`, and reported at once while a gatherer wants progress (so a
  // finished task is never held back by a slow one after it in a batch).
  //
  // A task that ends its thread (abi::__forced_unwind: pthread_exit, or a
  // cancellation acted on inside it) is recorded as failed with
  // LOX_EWORKER and thread_exited set, `tally` is reported at once (the
  // caller's frame is being unwound), and the unwind goes on.
  void execute(size_t i, Chunk*& cursor, Tally& tally);
  // Reports what `tally` holds (no-op when empty) and clears it.
  void flush(Tally& tally) noexcept;
  // Adds slot i to `tally` (flushing it first when i does not extend its range).
  void count(Tally& tally, size_t i) noexcept;
  // execute() every task of the batch, then flush().
  void run(const Batch& b, Chunk*& cursor);
  // Records completion of the tally's tasks, logs them for a consumer of
  // the completions, and wakes the gatherer when it waits for this.
  void complete(const Tally& tally) noexcept;
  // Records the outcome of slot i (in `chunk`), whose node completed, and
  // the node's detail when it failed (the results report it).
  void record_node(Chunk* chunk, size_t i, void* result, int status, const char* detail) noexcept;
  // The failed nodes' details, by slot (taken by the results).
  std::unordered_map<size_t, std::string> take_details() noexcept {
    std::lock_guard lk(details_mu_);
    return std::move(details_);
  }
  // Counts slot i done: its node completed after the slot was parked.
  void finish_parked(size_t i, int status) noexcept;

  Chunk* first_chunk() const noexcept { return head_; }
  // Runs a runnable node's task on this thread (or completes it without
  // running it: a predecessor failed, it or its round was cancelled).
  // The node's outcome is its completion; a forced unwind completes it with
  // LOX_EWORKER and goes on.
  void run_node(graph::Node& node) const;
  size_t unclaimed() const noexcept {
    size_t p = published_.load(std::memory_order_acquire), c = claimed_.load(std::memory_order_relaxed);
    return p > c ? p - c : 0;
  }

  // --- gatherer side -------------------------------------------------------
  size_t sealed_size() const noexcept { return sealed_size_.load(std::memory_order_acquire); }
  size_t done() const noexcept { return done_.load(std::memory_order_acquire); }
  size_t failed() const noexcept { return failed_.load(std::memory_order_acquire); }
  bool finished() const noexcept {
    size_t s = sealed_size();
    return s != kOpen && done() >= s;
  }
  // --- completions consumer (one, on a sealed round) ------------------------
  // From now on every completion is appended to `log` (capacity: the
  // sealed size; entry = slot + 1, 0 while being written). Slots that
  // completed before are found by their Outcome::done flag: after this
  // call, read done() and then the flags (see complete()).
  void watch_completions(std::unique_ptr<std::atomic<size_t>[]> log) noexcept;
  // Log entries reserved so far, and entry `position` (0: not written yet).
  size_t log_size() const noexcept { return log_end_.load(std::memory_order_acquire); }
  size_t logged(size_t position) const noexcept;

  // Gatherers sleep here; with `progress` set every completed batch wakes
  // them, otherwise only the round's completion does.
  EventCount& gather_event() noexcept { return gather_event_; }
  void set_progress_wakeups(bool on) noexcept { progress_wakeups_.store(on, std::memory_order_seq_cst); }
  // Hands the finished round's chunks to the caller (the results object).
  // Throws std::bad_alloc (the round keeps its chunks then).
  TaskTable take_tasks() {
    TaskTable t(head_, sealed_size(), cache_);
    head_ = tail_ = nullptr;
    return t;
  }

 private:
  const uint64_t id_;  // creation order within the pool
  const ChunkCachePtr cache_;
  const CancelMark cancel_mark_;
  // Producer fields (pool mutex).
  Chunk* head_ = nullptr;
  Chunk* tail_ = nullptr;
  size_t size_ = 0;

  alignas(64) std::atomic<size_t> published_{0};
  std::atomic<size_t> sealed_size_{kOpen};
  alignas(64) std::atomic<size_t> claimed_{0};
  alignas(64) std::atomic<size_t> done_{0};
  std::atomic<size_t> failed_{0};
  std::atomic<bool> progress_wakeups_{false};
  std::atomic<bool> log_active_{false};
  std::atomic<size_t> log_end_{0};
  std::unique_ptr<std::atomic<size_t>[]> log_;
  std::mutex details_mu_;
  std::unordered_map<size_t, std::string> details_;
  EventCount gather_event_;
};

}  // namespace lox::core::thread
