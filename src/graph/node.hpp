// SPDX-License-Identifier: Apache-2.0
// One task of a task graph: the object behind a task handle, shared by the
// thread and the process pool.
//
// A node is created by a scatter that asks for a handle or names
// predecessors. Its task still takes a slot (and its index) in the pool's
// current round at once; the node decides when that slot's task may run and
// carries its outcome to waiters, callbacks and dependents.
//
// Scheduling without blocking: `waiting_` counts the predecessors not yet
// complete plus one token for "the pool reached the slot". The pool drops
// the token (reach()) when a worker claims the slot (thread pool) or at
// scatter (process pool); each completing predecessor drops one more. The
// call that brings the count to zero makes the node runnable: reach()
// returns `run` to its caller, a predecessor's completion asks the node's
// Host to queue it. Nobody ever waits for a predecessor.
//
// Completion (complete()): the outcome is written, then, in this order,
// waiters are woken, callbacks run, dependents are released, and the round
// slot is finished when it was parked (so a gather sees the task only after
// its callbacks ran). Every step runs in the completing thread, with no
// lock held.
//
// Costs: one allocation per node (edges to its predecessors included), a
// mutex per node taken a few times in its life (link, reach, complete, and
// once per predecessor completion), nothing on scatters that use no node.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/deadline.hpp"
#include "common/futex.hpp"
#include "common/word_lock.hpp"

namespace lox::core::graph {

class Node;

// The pool a node's task belongs to.
class Host {
 public:
  // Every predecessor completed after the slot was reached: queue the node
  // for a worker (or run it, for an inline pool). Runs in the thread that
  // completed the last predecessor, with no lock held.
  virtual void launch(Node& node) noexcept = 0;
  // launch() for each of `n` nodes, in order (a completion that releases
  // many dependents of one pool hands them over at once; a pool may then
  // queue them under one lock).
  virtual void launch_batch(Node* const* nodes, size_t n) noexcept;
  // The node's outcome is written: record it in its slot (before anyone
  // waiting for the node is woken, so that a round's completions know of
  // it once its handle says it is done). Counting it done in the round
  // comes later: finish_slot, or the pool's own path.
  virtual void record_slot(Node& node) noexcept = 0;
  // The node completed while its slot was parked: count the slot done
  // (after the node's callbacks ran) and drop its reference to the node.
  virtual void finish_slot(Node& node) noexcept = 0;
  // lox_task_cancel on a node that is running (process pool: stop its
  // worker). Thread pools do nothing: the task polls lox_task_cancelled().
  virtual void cancel_running(Node& node) noexcept;
  // The node's slot was finished (by finish_slot or by the pool's own
  // path for a node that ran when its slot was reached).
  virtual void slot_finished(Node& node) noexcept;

 protected:
  ~Host() = default;
};

// The host of tasks no pool runs (lox_task_create): nothing to launch (they
// have no predecessors), no slot to record.
class ExternalHost final : public Host {
 public:
  static ExternalHost& instance() noexcept;
  void launch(Node&) noexcept override {}
  void record_slot(Node&) noexcept override {}
  void finish_slot(Node&) noexcept override {}
};

class Node {
 public:
  enum class Kind : uint8_t { thread, process };
  // What reach() found.
  enum class Reach : uint8_t {
    run,        // the caller runs the node now (it owns the run)
    completed,  // already completed (cancelled before it was reached): the caller records its outcome in the slot
    parked,     // waiting for predecessors: complete() will finish the slot through the Host
  };
  // A completion callback: `fn(a, b, node)`, once (two words of context,
  // so that the C layer's function and context need no allocation).
  using DoneFn = void (*)(void* a, void* b, Node& node);

  // `free_fn(owner)` frees the allocation that holds this node when its
  // last reference goes (the C layer's handle).
  Node(Kind kind, void (*free_fn)(void* owner), void* owner) noexcept;
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  Kind kind() const noexcept { return kind_; }
  void* owner() const noexcept { return owner_; }

  // --- references -----------------------------------------------------------
  void retain() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
  void release() noexcept;

  // --- set up by the scatter, before the node is linked ---------------------
  // Takes a reference to each predecessor, `pred(i)` for i < n (no
  // allocation for one predecessor); throws std::bad_alloc (nothing is
  // kept then). Once, before link().
  template <typename PredAt>
  void set_predecessors(size_t n, PredAt&& pred) {
    Link* links = n <= 1 ? &inline_link_ : new Link[n];
    for (size_t i = 0; i < n; ++i) {
      links[i].pred = pred(i);
      links[i].edge = Edge{this, nullptr};
      links[i].pred->retain();
    }
    links_ = links;
    n_links_ = n_preds_ = n;
    waiting_ = n + 1;
  }
  // Which pool runs it and where its slot is (pool-specific meaning).
  // `round` is not owned: the Host keeps it alive until the slot is
  // finished (a shared_ptr per node would put two contended atomic
  // operations on every node).
  void place(Host& host, void* round, void* slot, size_t index) noexcept;
  // Registers with every predecessor (never throws: the edges were made by
  // set_predecessors). From now on predecessors may make it runnable.
  // True if some predecessor had not completed (the node may wait for it).
  bool link() noexcept;

  // --- scheduling -------------------------------------------------------------
  // Drops the "slot reached" token. With `always_park` (process pool: the
  // slot is finished by the node even when it runs at once), a runnable
  // node is reported as `run` and marked parked.
  Reach reach(bool always_park = false) noexcept;
  // The first predecessor that did not succeed and its position, or
  // nullptr. Read by the runner before it runs the task.
  const Node* failed_predecessor(size_t* position) const noexcept;
  std::string dependency_detail(const Node& pred, size_t position) const;
  // The predecessors until the node completed (0 after).
  size_t predecessor_count() const noexcept { return n_preds_; }
  const Node* predecessor(size_t i) const noexcept { return i < n_preds_ ? links_[i].pred : nullptr; }

  // --- cancellation -----------------------------------------------------------
  // Requests cancellation: a node not started completes with LOX_ECANCELLED
  // now (in this thread); a running one is told (cancel_requested(), the
  // Host's cancel_running). No effect once completed.
  void cancel() noexcept;
  // Completes the node with LOX_ECANCELLED unless it has started or
  // completed (a cancelled round's node waiting for predecessors). True if
  // it did.
  bool cancel_if_waiting(const char* why) noexcept;
  bool cancel_requested() const noexcept { return cancel_.load(std::memory_order_relaxed); }
  // Takes the run of a node nobody started or completed (a task completed
  // by its creator): true if this call owns its completion now.
  bool claim() noexcept;

  // --- outcome ----------------------------------------------------------------
  // Records the outcome and releases everything waiting for it (see the
  // file comment). Exactly once, by the thread that owns the run. The
  // caller must hold a reference of its own if it touches the node after.
  void complete(int status, void* value, std::string bytes, std::string detail) noexcept;
  // Waiters see the node done once its callbacks ran ...
  bool done() const noexcept { return done_.load(std::memory_order_acquire); }
  // ... its outcome is readable from the start of complete() (inside its
  // callbacks too).
  bool outcome_ready() const noexcept { return final_.load(std::memory_order_acquire); }
  // False when the deadline passed first.
  bool wait(const Deadline& deadline) const noexcept;
  // Valid once done().
  int status() const noexcept { return status_; }
  void* value() const noexcept { return value_; }
  const std::string& bytes() const noexcept { return bytes_; }
  const char* error() const noexcept { return status_ == 0 ? nullptr : detail_.c_str(); }

  // Registers `fn(a, b, node)`. Returns false, registering nothing, when
  // the node already completed (the caller calls fn itself). Throws
  // std::bad_alloc.
  bool add_callback(DoneFn fn, void* a, void* b);

  // --- the slot (set by place()) --------------------------------------------
  Host* host() const noexcept { return host_; }
  void* round() const noexcept { return round_; }
  void* slot() const noexcept { return slot_; }
  size_t index() const noexcept { return index_; }

  // The task a thread pool runs for this node (set by its scatter).
  struct ThreadCall {
    int (*fn)(void* ctx, void* arg, void** result);
    void* ctx;
    void* arg;
  };
  // How a process task turns a thread predecessor's value into bytes:
  // `fn(a, b, value, out)` returns 0 or a failure code (set by its scatter).
  struct Encoder {
    int (*fn)(void* a, void* b, void* value, std::string& out);
    void* a;
    void* b;
  };
  // One or the other, by kind(): thread nodes use thread_call, process
  // nodes encoder.
  union {
    ThreadCall thread_call{nullptr, nullptr, nullptr};
    Encoder encoder;
  };
  // Links of the Host's list of nodes waiting for predecessors (the Host's
  // to use, under its own lock).
  Node* host_prev = nullptr;
  Node* host_next = nullptr;
  bool host_listed = false;

  // --- the node running on this thread ----------------------------------------
  // Marks `node` as the task running on this thread for the scope.
  class RunningScope {
   public:
    explicit RunningScope(const Node* node) noexcept;
    ~RunningScope();
    RunningScope(const RunningScope&) = delete;
    RunningScope& operator=(const RunningScope&) = delete;

   private:
    const Node* outer_;
  };
  // The node whose task runs on this thread, or nullptr.
  static const Node* current() noexcept;

 private:
  struct Edge {
    Node* dependent;
    Edge* next;
  };
  // A predecessor and the edge linked into its list of dependents. The
  // storage lives as long as the node (an edge may stay in a list after
  // the node completed, until that predecessor completes).
  struct Link {
    Node* pred = nullptr;
    Edge edge{nullptr, nullptr};
  };
  struct Callback {
    DoneFn fn;
    void* a;
    void* b;
    Callback* next;
  };
  // One predecessor completed. True when that made the node runnable
  // (the caller launches it).
  bool predecessor_done() noexcept;
  void release_predecessors() noexcept;

  const Kind kind_;
  void (*const free_fn_)(void*);
  void* const owner_;
  std::atomic<size_t> refs_{1};

  // Guards the scheduling state and the lists below (held for a few
  // instructions at a time; a node is small, there may be millions).
  mutable WordLock mu_;
  size_t waiting_ = 1;  // predecessors not complete + the slot token
  bool claimed_ = false;  // someone owns the run (runner, or a cancel)
  bool parked_ = false;   // the slot waits for complete() to finish it
  bool closed_ = false;   // complete() took the lists: the outcome is final
  Edge* dependents_ = nullptr;
  Callback* callbacks_ = nullptr;
  Callback* callbacks_tail_ = nullptr;

  std::atomic<bool> completing_{false};
  std::atomic<bool> final_{false};
  std::atomic<bool> done_{false};
  std::atomic<bool> cancel_{false};
  mutable EventCount done_event_;
  // The outcome: written before done_ is set (release), read after.
  int status_ = 0;
  void* value_ = nullptr;
  std::string bytes_;
  std::string detail_;

  Link* links_ = nullptr;  // &inline_link_ or a heap array of n_links_
  size_t n_links_ = 0;
  size_t n_preds_ = 0;  // links whose predecessor is still referenced (all, or 0 once completed)
  Link inline_link_;

  Host* host_ = nullptr;
  void* round_ = nullptr;
  void* slot_ = nullptr;
  size_t index_ = 0;
};

}  // namespace lox::core::graph
