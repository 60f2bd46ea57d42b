// SPDX-License-Identifier: Apache-2.0
#include "thread/pool.hpp"

#include <algorithm>
#include <string>
#include <system_error>

#include "common/error.hpp"
#include "log/log.hpp"
#include "thread/context.hpp"
#include "thread/results.hpp"

namespace lox::core::thread {
namespace {
// How long an out-of-work worker or a gatherer spins before sleeping: long
// enough to catch the next task of a scatter loop or a short round without a
// futex round trip, short enough that an idle pool costs nothing measurable.
constexpr std::chrono::microseconds kSpin{50};
// Task storage a pool keeps from finished rounds for the next ones: enough
// for a million-task round (~40 MB), freed when the pool is destroyed.
constexpr size_t kChunkCacheBytes = size_t{64} << 20;
// A cheap clock for telling quick tasks from slow ones, read twice per batch.
// A task "is quick" under ~2 us: then claiming is a noticeable share of its
// cost and bigger batches pay off. The TSC (a few ns to read, where
// clock_gettime costs 20-50 ns in a VM) ticks at 1-4 GHz, so 5000 ticks is
// 1.2-5 us: plenty precise for this decision.
struct cycle_clock {
#if defined(__x86_64__) || defined(__i386__)
  static uint64_t now() noexcept { return __builtin_ia32_rdtsc(); }
  static constexpr uint64_t kQuickTask = 5000;
#else
  static uint64_t now() noexcept {
    return static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  }
  static constexpr uint64_t kQuickTask = 2000;  // ns
#endif
};
// A seen_version no round count reaches: forces the next claim to rescan.
constexpr uint64_t kRescan = ~uint64_t{0};

// The pool whose worker loop (worker_main, or a destroy's drain) runs on
// this thread, and the node that thread runs next: a node launched by a
// completion in that loop is run by the same thread right after the task
// that completed its predecessor, with no queue, lock or wake-up (a chain
// then runs on one thread, as oneTBB's task bypass does). One node at most;
// further ones go to the pool's ready queue for any worker.
struct Continuation {
  const Pool* loop = nullptr;
  graph::Node* next = nullptr;
};
thread_local Continuation tl_continuation;

// Marks the calling thread as running `pool`'s loop for the scope.
class LoopScope {
 public:
  explicit LoopScope(const Pool* pool) noexcept : outer_(tl_continuation) { tl_continuation = {pool, nullptr}; }
  ~LoopScope() { tl_continuation = outer_; }
  LoopScope(const LoopScope&) = delete;
  LoopScope& operator=(const LoopScope&) = delete;

 private:
  Continuation outer_;
};
}  // namespace

Pool::Pool(size_t max_workers, TaskFn fn, void* ctx, std::chrono::nanoseconds idle_timeout)
    : max_workers_(max_workers),
      inline_(max_workers == 0),
      fn_(fn),
      ctx_(ctx),
      idle_timeout_(idle_timeout),
      chunk_cache_(std::make_shared<ChunkCache>(kChunkCacheBytes)),
      cancel_mark_(std::make_shared<std::atomic<uint64_t>>(0)) {}

Pool::~Pool() {
  {
    // Under workers_mu_: from here on no worker retires itself (moves its
    // handle) and none is spawned; every thread is joined below.
    std::lock_guard lk(workers_mu_);
    stopping_.store(true, std::memory_order_seq_cst);
  }
  idle_event_.notify_all();
  // The destroying thread helps drain: every scattered task runs even if no
  // worker thread could be started.
  // A task that ends this thread (pthread_exit) cannot be survived here: the
  // pool would be left half destroyed. That is said in lox.h, and logged
  // before the unwind leaves this noexcept destructor (std::terminate).
  auto drain = [this] {
    try {
      drain_here();
    } catch (...) {  // only a forced unwind gets through invoke_task
      log::emit(log::Level::error,
                "thread destroy: a task run by lox_thread_destroy called pthread_exit; the pool "
                "cannot be finished, the program is terminated");
      throw;
    }
  };
  drain();
  std::list<std::thread> threads;
  std::vector<std::thread> retired;
  {
    std::lock_guard lk(workers_mu_);
    threads.swap(threads_);
    retired.swap(retired_);
  }
  for (auto& t : threads) t.join();
  for (auto& t : retired) t.join();
  // A worker whose thread exited in a task while we drained may have left
  // the rest of its batch behind (orphaned): no worker is left to run it.
  // Tasks waiting for predecessors of other pools are run here as those
  // complete (launch() queues them, and no worker is left to take them).
  for (;;) {
    drain();
    auto ticket = nodes_event_.prepare();
    bool idle;
    {
      std::lock_guard lk(nodes_mu_);
      idle = waiting_count_ == 0;
    }
    if (idle && ready_count_.load(std::memory_order_seq_cst) == 0) {
      nodes_event_.cancel();
      break;
    }
    if (ready_count_.load(std::memory_order_seq_cst) != 0) {
      nodes_event_.cancel();
      continue;
    }
    nodes_event_.wait(ticket, Deadline::never());
  }
  // Results handed out earlier may outlive us: they free their chunks
  // themselves from now on.
  chunk_cache_->close();
}

void Pool::drain_here() {
  RunningScope scope(this);
  LoopScope loop(this);
  WorkerState ws;
  Round::Batch b;
  for (;;) {
    if (graph::Node* n = take_continuation()) {
      run_ready(*n);
      continue;
    }
    if (graph::Node* n = take_ready()) {
      run_ready(*n);
      continue;
    }
    if (!claim(ws, b)) break;
    run_batches(ws, b);
  }
}

bool Pool::inside_own_task() const noexcept { return RunningScope::inside(this); }

// ---------------------------------------------------------------- scatter --

Round& Pool::open_round_locked() {
  if (!open_) {
    auto r = std::make_shared<Round>(next_round_id_, chunk_cache_, cancel_mark_);
    queue_.push_back(r);
    ++next_round_id_;
    open_ = newest_ = std::move(r);
    version_.fetch_add(1, std::memory_order_release);
  }
  return *open_;
}

Status Pool::scatter(TaskFn fn, void* ctx, void* arg, size_t* index) {
  return append_task([&](Round& round, Chunk*& chunk) { return round.append(fn, ctx, arg, chunk); }, index);
}

Status Pool::scatter_node(graph::Node& node, size_t* index) {
  return append_task(
      [&](Round& round, Chunk*& chunk) {
        const size_t i = round.append(&node_slot, &node, nullptr, chunk, false);
        // Nothing below throws: the slot is complete before workers see it.
        node.retain();  // the slot's reference
        node.place(*this, open_.get(), chunk, i);
        // Before the slot is published: a worker reaching it must find the
        // node linked (see graph::Node). Before the node is listed: a
        // cancel that finds it may complete it at once. Only a node that
        // found a predecessor incomplete is listed: the others run (or are
        // cancelled with their round) when their slot is reached.
        if (node.link()) {
          std::lock_guard lk(nodes_mu_);
          node.host_listed = true;
          node.host_next = waiting_nodes_;
          if (waiting_nodes_) waiting_nodes_->host_prev = &node;
          waiting_nodes_ = &node;
          ++waiting_count_;
        }
        round.publish_locked();
        return i;
      },
      index);
}

template <typename Append>
Status Pool::append_task(Append&& append, size_t* index) {
  size_t i;
  Chunk* chunk;
  RoundPtr inline_round;
  WakeAction action = WakeAction::none;
  try {
    std::lock_guard lk(mu_);
    Round& round = open_round_locked();
    i = append(round, chunk);
    if (inline_) {
      // Debug mode: this thread runs the task, so it claims the slot too
      // (nobody else claims in this mode, so the claim is exactly slot i).
      Round::Batch own;
      round.claim(1, own);
      inline_round = open_;
    } else {
      // Decided under mu_: a worker about to sleep re-checks for work under
      // mu_ after announcing itself, so one of the two always sees the other.
      action = wake_action();
    }
  } catch (const std::bad_alloc&) {
    return fail(Status::no_memory, "thread scatter: out of memory");
  }
  if (index) *index = i;
  if (inline_round) {
    RunningScope scope(this);
    inline_round->run(Round::Batch{i, i + 1}, chunk);
  } else {
    perform(action);
  }
  return Status::ok;
}

Pool::WakeAction Pool::wake_action() noexcept {
  if (spinning_.load(std::memory_order_seq_cst) != 0) return WakeAction::none;  // it will find the work
  if (idle_event_.has_waiters()) {
    // One wake-up in flight is enough: the woken worker wakes the next one if
    // it finds more work than it can take. (Read before the exchange: a
    // scatter loop must not write this line while a wake-up is in flight.)
    if (wake_pending_.load(std::memory_order_relaxed)) return WakeAction::none;
    return wake_pending_.exchange(true, std::memory_order_acq_rel) ? WakeAction::none : WakeAction::wake_sleeper;
  }
  if (live_.load(std::memory_order_seq_cst) < max_workers_) return WakeAction::spawn;
  return WakeAction::none;  // every worker is busy; they come back for more
}

void Pool::perform(WakeAction action) noexcept {
  switch (action) {
    case WakeAction::none:
      break;
    case WakeAction::wake_sleeper:
      // The sleeper we saw may have found the work itself and left: then
      // nobody will clear the token, so we do.
      if (!idle_event_.notify_one()) wake_pending_.store(false, std::memory_order_release);
      break;
    case WakeAction::spawn:
      spawn_worker();
      break;
  }
}

bool Pool::spawn_worker(std::string* why) noexcept {
  bool started = true;
  std::vector<std::thread> to_join;
  {
    std::lock_guard lk(workers_mu_);
    join_retired_locked(to_join);
    if (live_.load() < max_workers_ && !stopping_.load()) {
      live_.fetch_add(1, std::memory_order_seq_cst);
      spinning_.fetch_add(1, std::memory_order_seq_cst);  // it starts out looking for work
      try {
        threads_.emplace_front();
        auto self = threads_.begin();
        *self = std::thread([this, self] { worker_main(self); });
      } catch (const std::exception& e) {
        if (!threads_.empty() && !threads_.front().joinable()) threads_.pop_front();
        live_.fetch_sub(1, std::memory_order_seq_cst);
        spinning_.fetch_sub(1, std::memory_order_seq_cst);
        // Nothing is lost: the task stays queued for the workers that exist,
        // for a later scatter's new worker, or for destroy, which runs it.
        log::emit(log::Level::error, "thread pool: cannot start a worker thread ({}); {} worker(s) left", e.what(),
                  live_.load());
        started = false;
        if (why) {
          try {
            *why = e.what();
          } catch (...) {
          }
        }
      }
    }
  }
  for (auto& t : to_join) t.join();
  return started;
}

void Pool::join_retired_locked(std::vector<std::thread>& out) {
  for (auto& t : retired_) out.push_back(std::move(t));
  retired_.clear();
}

// ---------------------------------------------------------------- workers --

bool Pool::claim(WorkerState& ws, Round::Batch& batch) noexcept {
  if (ws.round && ws.round->claim(ws.batch, batch)) return true;
  // Nothing in our round. Unless a round was created (or reopened) since we
  // last looked, or ours is finished being handed out (then later rounds
  // may hold work), there is nothing new.
  uint64_t v = version_.load(std::memory_order_acquire);
  if (v == ws.seen_version && (!ws.round || !ws.round->exhausted())) return false;

  std::unique_lock lk(mu_);
  for (;;) {
    ws.seen_version = version_.load(std::memory_order_relaxed);
    while (!queue_.empty() && queue_.front()->exhausted()) queue_.pop_front();
    auto it = std::find_if(queue_.begin(), queue_.end(), [](const RoundPtr& r) { return r->has_unclaimed(); });
    if (it == queue_.end()) break;
    if (ws.round != *it) {
      ws.round = *it;  // a reference of our own: queue_ may change once we unlock
      ws.cursor = nullptr;
    }
    lk.unlock();
    if (ws.round->claim(ws.batch, batch)) return true;
    lk.lock();  // another worker took it first: look again
  }
  // Nothing unclaimed: help a worker whose batch has unstarted tasks.
  if (steal_locked(ws, batch)) return true;
  // Nothing to claim anywhere. Watch the newest round: new tasks go there
  // or into a round created later (which bumps version_).
  RoundPtr newest = queue_.empty() ? nullptr : queue_.back();
  if (ws.round != newest) {
    ws.round = std::move(newest);
    ws.cursor = nullptr;
  }
  return false;
}

bool Pool::steal_locked(WorkerState& ws, Round::Batch& batch) noexcept {
  for (auto it = reservations_.begin(); it != reservations_.end(); ++it) {
    Reservation& res = *it;
    if (&res == ws.reservation) continue;
    if (res.unstarted() == 0) continue;
    res.lock();
    uint64_t w = res.range.load(std::memory_order_acquire);
    for (;;) {
      uint32_t next = Reservation::next_of(w), end = Reservation::end_of(w);
      if (next >= end) break;
      // The owner keeps [next, keep); an orphan has no owner: take it all.
      uint32_t keep = res.orphaned ? next : next + (end - next) / 2;
      if (res.range.compare_exchange_weak(w, Reservation::pack(next, keep), std::memory_order_acq_rel)) {
        if (ws.round != res.round) {
          ws.round = res.round;
          ws.cursor = nullptr;
        }
        batch.begin = res.base + keep;
        batch.end = res.base + end;
        res.unlock();
        if (res.orphaned) reservations_.erase(it);  // emptied, and nobody else refers to it
        return true;
      }
    }
    res.unlock();
  }
  return false;
}

bool Pool::any_work() const noexcept {
  std::lock_guard lk(mu_);
  auto stealable = [](const Reservation& r) { return r.unstarted(std::memory_order_seq_cst) != 0; };
  return !ready_.empty() ||
         std::any_of(queue_.begin(), queue_.end(), [](const RoundPtr& r) { return r->has_unclaimed(); }) ||
         std::any_of(reservations_.begin(), reservations_.end(), stealable);
}

size_t Pool::run_batch(WorkerState& ws, const Round::Batch& b) {
  Round& round = *ws.round;
  Round::Tally tally;
  const size_t size = b.end - b.begin;
  Reservation* res = ws.reservation;
  if (size == 1 || !res) {
    size_t i = b.begin;
    try {
      for (; i < b.end; ++i) round.execute(i, ws.cursor, tally);
    } catch (...) {  // only a forced unwind gets through invoke_task
      // Unpublished (no reservation: it could not be allocated): hand the
      // rest over now. (A published batch is handed over by the caller.)
      if (i + 1 < b.end) orphan_rest(ws, i + 1, b.end);
      throw;
    }
    round.flush(tally);
    return size;
  }
  // Publish the batch: we start its first task, the rest can be stolen.
  res->lock();
  if (res->round != ws.round) res->round = ws.round;
  res->base = b.begin;
  res->range.store(Reservation::pack(1, size), std::memory_order_seq_cst);
  res->unlock();
  // If no worker is awake to notice, wake one: our first task may block.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (spinning_.load(std::memory_order_seq_cst) == 0) perform(wake_action());

  size_t ran = 0;
  size_t i = b.begin;
  for (;;) {
    round.execute(i, ws.cursor, tally);
    ++ran;
    uint64_t w = res->range.load(std::memory_order_acquire);
    uint32_t next = 0;
    bool more = false;
    while ((next = Reservation::next_of(w)) < Reservation::end_of(w)) {
      if (res->range.compare_exchange_weak(w, Reservation::pack(next + 1, Reservation::end_of(w)),
                                           std::memory_order_acq_rel)) {
        more = true;
        break;
      }
    }
    if (!more) break;
    i = b.begin + next;
  }
  round.flush(tally);
  return ran;
}

void Pool::run_batches(WorkerState& ws, Round::Batch batch) {
  do {
    auto start = cycle_clock::now();
    size_t ran = run_batch(ws, batch);
    bool quick = cycle_clock::now() - start < cycle_clock::kQuickTask * ran;
    ws.batch = quick ? std::min(ws.batch * 2, Round::kMaxBatch) : 1;
    // A node launched by this batch runs before the next batch is claimed.
    while (graph::Node* n = take_continuation()) run_ready(*n);
  } while (ws.round->claim(ws.batch, batch));
}

void Pool::register_worker(WorkerState& ws) {
  std::lock_guard lk(mu_);
  ws.reservation = &reservations_.emplace_back();
}

void Pool::unregister_worker(WorkerState& ws) noexcept {
  if (!ws.reservation) return;
  std::lock_guard lk(mu_);
  // We leave only between batches: nothing of ours is left to steal.
  reservations_.remove_if([&](const Reservation& r) { return &r == ws.reservation; });
  ws.reservation = nullptr;
}

void Pool::orphan_rest(WorkerState& ws, size_t begin, size_t end) noexcept {
  std::lock_guard lk(mu_);
  try {
    Reservation& r = reservations_.emplace_back();
    r.base = begin;
    r.round = ws.round;
    r.orphaned = true;
    r.range.store(Reservation::pack(0, end - begin), std::memory_order_seq_cst);
  } catch (...) {
    log::emit(log::Level::error,
              "thread pool: out of memory while a worker thread exited; {} task(s) of its batch "
              "will not run and their round cannot complete",
              end - begin);
  }
}

void Pool::leave_on_thread_exit(WorkerState& ws, std::list<std::thread>::iterator self) noexcept {
  // A node this thread was to run next goes to the other workers.
  if (graph::Node* n = take_continuation()) queue_ready(*n);
  if (ws.reservation) {
    std::lock_guard lk(mu_);
    if (ws.reservation->unstarted(std::memory_order_seq_cst) != 0) {
      ws.reservation->orphaned = true;  // thieves take the rest, and remove it
    } else {
      reservations_.remove_if([&](const Reservation& r) { return &r == ws.reservation; });
    }
    ws.reservation = nullptr;
    // Make claimers look everywhere (steal) instead of only at their round.
    version_.fetch_add(1, std::memory_order_release);
  }
  {
    // Not counted in spinning_ while running tasks.
    std::lock_guard lk(workers_mu_);
    live_.fetch_sub(1, std::memory_order_seq_cst);
  }
  // Wake (or start) a worker for what is left, before our handle goes to
  // retired_: spawn_worker joins the retired, and must not join us here.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (any_work()) perform(wake_action());
  std::lock_guard lk(workers_mu_);
  if (!stopping_.load()) {  // when stopping, the destructor joins us from threads_
    retired_.push_back(std::move(*self));
    threads_.erase(self);
  }
}

void Pool::worker_main(std::list<std::thread>::iterator self) {
  RunningScope scope(this);
  LoopScope loop(this);
  WorkerState ws;
  try {
    register_worker(ws);
  } catch (...) {
    // Out of memory: this worker's batches just cannot be stolen from.
  }
  Round::Batch batch;
  // New work for us. (Stealable batches are not: a worker whose batch keeps
  // moving needs no help; one stuck in a task is found by the check before
  // sleeping, after a full spin.)
  auto can_claim = [&] {
    return (ws.round && ws.round->has_unclaimed()) || version_.load(std::memory_order_acquire) != ws.seen_version ||
           (ws.round && ws.round->exhausted()) || ready_count_.load(std::memory_order_acquire) != 0;
  };
  for (;;) {
    // Awake and counted in spinning_ here. Launched graph nodes first: they
    // waited for their predecessors already.
    graph::Node* node = take_continuation();
    if (!node && ready_count_.load(std::memory_order_acquire) != 0) node = take_ready();
    {
      if (node) {
        if (spinning_.fetch_sub(1, std::memory_order_seq_cst) == 1 && any_work()) {
          std::atomic_thread_fence(std::memory_order_seq_cst);
          perform(wake_action());
        }
        try {
          run_ready(*node);
        } catch (...) {  // only a forced unwind gets through invoke_task
          leave_on_thread_exit(ws, self);
          throw;
        }
        spinning_.fetch_add(1, std::memory_order_seq_cst);
        continue;
      }
    }
    if (claim(ws, batch)) {
      // Work may also wait in another round, scattered while we were the
      // spinner its scatter counted on. That is only possible when a round
      // appeared since we last looked, or ours is used up; only then look
      // everywhere (any_work() takes mu_, which a scatter loop also needs).
      if (spinning_.fetch_sub(1, std::memory_order_seq_cst) == 1 &&
          (ws.round->has_unclaimed() ||
           ((version_.load(std::memory_order_seq_cst) != ws.seen_version || ws.round->exhausted()) && any_work()))) {
        // We were the last worker looking for work and there is more than we
        // took: wake (or start) another one so the work spreads. (A batch of
        // several tasks wakes one when it is published: see run_batch.)
        std::atomic_thread_fence(std::memory_order_seq_cst);
        perform(wake_action());
      }
      try {
        run_batches(ws, batch);
      } catch (...) {  // only a forced unwind gets through invoke_task
        leave_on_thread_exit(ws, self);
        throw;  // the thread exits, as the task asked
      }
      spinning_.fetch_add(1, std::memory_order_seq_cst);
      continue;
    }
    // Spin only if no other worker is looking for work already: one spinner
    // catches the next task as fast as two, and on a small machine every
    // extra spinner takes CPU time from the threads producing the work.
    if (spinning_.load(std::memory_order_relaxed) <= 1 && spin_until(can_claim, kSpin))
      continue;  // claim (and account) at the top

    // Sleep: announce ourselves, then re-check under mu_ (see wake_action).
    // Work that is there while another worker still spins is that worker's
    // to take (it wakes us if there is more than it can take): we sleep
    // rather than fight it for mu_. The last one to stop spinning sees
    // others == 0 and stays if there is work.
    auto ticket = idle_event_.prepare();
    const size_t others = spinning_.fetch_sub(1, std::memory_order_seq_cst) - 1;
    bool stopping = stopping_.load(std::memory_order_seq_cst);
    if (stopping || (others == 0 && any_work())) {
      ws.seen_version = kRescan;  // the work may be in a round we do not watch
      idle_event_.cancel();
      spinning_.fetch_add(1, std::memory_order_seq_cst);
      wake_pending_.store(false, std::memory_order_release);
      if (stopping && !any_work()) break;
      continue;
    }
    bool woken =
        idle_event_.wait(ticket, Deadline::after_seconds(std::chrono::duration<double>(idle_timeout_).count()));
    spinning_.fetch_add(1, std::memory_order_seq_cst);
    wake_pending_.store(false, std::memory_order_release);
    if (woken) continue;

    // Idle for idle_timeout_: retire, unless work arrived meanwhile. live_ is
    // lowered before the re-check so that a scatter either sees the lower
    // count (and starts a new worker) or its work is seen here.
    std::unique_lock lk(workers_mu_);
    spinning_.fetch_sub(1, std::memory_order_seq_cst);
    live_.fetch_sub(1, std::memory_order_seq_cst);
    if (any_work()) {
      live_.fetch_add(1, std::memory_order_seq_cst);
      spinning_.fetch_add(1, std::memory_order_seq_cst);
      continue;
    }
    if (!stopping_.load()) {  // when stopping, the destructor joins us from threads_
      retired_.push_back(std::move(*self));
      threads_.erase(self);
    }
    lk.unlock();
    unregister_worker(ws);
    return;
  }
  // Stopping with nothing left to run; the destructor joins us.
  unregister_worker(ws);
  spinning_.fetch_sub(1, std::memory_order_seq_cst);
  live_.fetch_sub(1, std::memory_order_seq_cst);
}

size_t Pool::pending() const noexcept {
  std::lock_guard lk(mu_);
  // A task moves one way: unclaimed in its round, then (claimed without mu_)
  // unstarted in its worker's published batch, then started; steals, which
  // move it between batches, hold mu_. Reading the batches first and the
  // rounds second counts no task twice: one seen in a batch was claimed
  // before the rounds are read. (The other order counts a batch claimed
  // between the two reads in both.)
  size_t n = ready_.size();
  for (const Reservation& res : reservations_) n += res.unstarted(std::memory_order_seq_cst);
  for (const RoundPtr& r : queue_) n += r->unclaimed();
  return n;
}

// ----------------------------------------------------------------- gather --

void Pool::return_round(const RoundPtr& round) {
  std::lock_guard lk(mu_);
  round->set_progress_wakeups(false);
  if (!open_ && newest_ == round && !round->cancelled()) {
    // Nothing was scattered since it was sealed: reopen it, so later
    // scatters continue its numbering and the next gather returns all.
    round->reopen();
    open_ = round;
    if (queue_.empty() || queue_.back() != round) queue_.push_back(round);
    version_.fetch_add(1, std::memory_order_release);
    return;
  }
  auto pos =
      std::find_if(abandoned_.begin(), abandoned_.end(), [&](const RoundPtr& r) { return r->id() > round->id(); });
  abandoned_.insert(pos, round);
}

Pool::RoundPtr Pool::take_next_locked() noexcept {
  RoundPtr round;
  if (!abandoned_.empty()) {
    round = std::move(abandoned_.front());
    abandoned_.pop_front();
  } else if (open_) {
    round = std::move(open_);
    round->seal();
  }
  return round;
}

Status Pool::take_round(std::shared_ptr<Round>& out) noexcept {
  if (inside_own_task())
    return fail(Status::bad_state,
                "thread completions: called from inside one of the pool's own tasks (it would wait for itself)");
  std::lock_guard lk(mu_);
  out = take_next_locked();
  return Status::ok;
}

void Pool::give_back(const RoundPtr& round) noexcept {
  if (!round) return;
  try {
    return_round(round);
  } catch (...) {
    log::emit(log::Level::error, "thread completions: out of memory; a round of {} tasks was lost",
              round->sealed_size());
  }
}

Status Pool::gather(const GatherRequest& request, std::unique_ptr<Results>& out) noexcept {
  if (inside_own_task())
    return fail(Status::bad_state,
                "thread gather: called from inside one of the pool's own tasks (it would wait for itself)");
  RoundPtr round;
  try {
    {
      std::lock_guard lk(mu_);
      round = take_next_locked();
    }
    if (!round) {  // nothing scattered since the last gather
      ProgressReporter(request.progress, request.progress_ctx, request.progress_bar, 0).finish();
      out = std::make_unique<ThreadResults>(TaskTable(), false);
      return Status::ok;
    }

    const size_t total = round->sealed_size();
    ProgressReporter progress(request.progress, request.progress_ctx, request.progress_bar, total);
    const bool reporting = progress.wanted();
    if (reporting) {
      round->set_progress_wakeups(true);
    } else {
      spin_until([&] { return round->finished(); }, kSpin);
    }
    while (!round->finished()) {
      const size_t seen = round->done();
      if (reporting) progress.update(seen);
      EventCount& ev = round->gather_event();
      auto ticket = ev.prepare();
      // Re-check after registering: a completion before prepare() sent no
      // wake-up to us, and must neither be slept through nor go unreported.
      if (round->finished() || round->done() != seen) {
        ev.cancel();
        continue;
      }
      if (live_.load(std::memory_order_seq_cst) == 0 && !round->finished()) {
        // No worker to run the round: every attempt to start one failed
        // (scatter keeps the task and logs it). Try once more; if the
        // system still refuses a thread, report it rather than wait for
        // ever, and keep the round for the next gather.
        std::string why;
        if (!spawn_worker(&why) && live_.load(std::memory_order_seq_cst) == 0) {
          ev.cancel();
          return_round(round);
          return fail(Status::system,
                      "thread gather: no worker thread can be started ({}); the round of {} tasks is "
                      "kept for the next gather",
                      why, total);
        }
      }
      if (!ev.wait(ticket, request.deadline) && !round->finished()) {
        return_round(round);
        return Status::timeout;  // nothing lost; *out untouched
      }
    }
    round->set_progress_wakeups(false);
    progress.finish();

    const size_t failed = round->failed();
    // `new` allocates before take_tasks() runs (C++17 sequencing; with
    // make_unique the chunks were taken first and freed by a bad_alloc,
    // losing the round), and the constructor does not throw once it holds
    // them: an out-of-memory leaves the round to the next gather.
    std::unique_ptr<ThreadResults> results(new ThreadResults(round->take_tasks(), failed != 0, round->take_details()));
    Status status = Status::ok;
    if (failed) {
      size_t first = results->first_failed();
      log::emit(log::Level::warn, "thread gather: {} of {} tasks failed (first: {})", failed, total,
                results->error(first));
      status = fail(Status::task_failed, "thread gather: {} of {} tasks failed (first: task {} with status {})", failed,
                    total, first, results->status(first));
    }
    out = std::move(results);
    return status;
  } catch (const std::bad_alloc&) {
    // An error changes nothing: a round we took (and did not hand out) goes
    // back to be gathered later.
    if (round && round->first_chunk()) {
      try {
        return_round(round);
      } catch (...) {
        log::emit(log::Level::error, "thread gather: out of memory; a round of {} tasks was lost",
                  round->sealed_size());
      }
    }
    return fail(Status::no_memory, "thread gather: out of memory");
  }
}

// ------------------------------------------------------------ task graphs --

void Pool::launch(graph::Node& node) noexcept {
  if (inline_) {
    // Debug mode: the node runs in the thread that completed its last
    // predecessor. A node it completes in turn is queued here and run after
    // it, not inside it: a chain of 10,000 must not nest 10,000 calls.
    thread_local std::deque<std::pair<Pool*, graph::Node*>>* pending = nullptr;
    if (pending) {
      try {
        pending->emplace_back(this, &node);
        return;
      } catch (const std::bad_alloc&) {  // no room to defer it: run it nested
      }
    }
    std::deque<std::pair<Pool*, graph::Node*>> queue;
    auto* outer = std::exchange(pending, &queue);
    RunningScope scope(this);
    run_ready(node);
    while (!queue.empty()) {
      auto [pool, next] = queue.front();
      queue.pop_front();
      RunningScope inner(pool);
      pool->run_ready(*next);
    }
    pending = outer;
    return;
  }
  if (tl_continuation.loop == this && !tl_continuation.next) {
    tl_continuation.next = &node;
    return;
  }
  queue_ready(node);
}

graph::Node* Pool::take_continuation() noexcept {
  if (tl_continuation.loop != this) return nullptr;
  return std::exchange(tl_continuation.next, nullptr);
}

void Pool::launch_batch(graph::Node* const* nodes, size_t n) noexcept {
  if (inline_ || n == 1) return graph::Host::launch_batch(nodes, n);
  if (n == 0) return;
  if (tl_continuation.loop == this && !tl_continuation.next) {
    tl_continuation.next = nodes[0];
    ++nodes;
    --n;
  }
  WakeAction action = WakeAction::none;
  size_t queued = 0;
  {
    std::lock_guard lk(mu_);
    try {
      for (; queued < n; ++queued) ready_.push_back(nodes[queued]);
    } catch (const std::bad_alloc&) {
    }
    if (queued != 0) {
      ready_count_.fetch_add(queued, std::memory_order_seq_cst);
      action = wake_action();
    }
  }
  if (queued != 0) {
    nodes_event_.notify_all();
    perform(action);
  }
  for (size_t i = queued; i < n; ++i) queue_ready(*nodes[i]);  // out of memory above: one by one
}

void Pool::queue_ready(graph::Node& node) noexcept {
  WakeAction action = WakeAction::none;
  try {
    std::lock_guard lk(mu_);
    ready_.push_back(&node);
    ready_count_.fetch_add(1, std::memory_order_seq_cst);
    action = wake_action();
  } catch (const std::bad_alloc&) {
    log::emit(log::Level::warn, "thread pool: out of memory queueing task {}; it runs in the completing thread",
              node.index());
    RunningScope scope(this);
    run_ready(node);
    return;
  }
  nodes_event_.notify_all();  // a destroy waiting for its last nodes
  perform(action);
}

graph::Node* Pool::take_ready() noexcept {
  std::lock_guard lk(mu_);
  if (ready_.empty()) return nullptr;
  graph::Node* n = ready_.front();
  ready_.pop_front();
  ready_count_.fetch_sub(1, std::memory_order_seq_cst);
  return n;
}

// A node's round is alive until its slot is counted done: run_ready and
// record_slot come before that.
void Pool::run_ready(graph::Node& node) { static_cast<const Round*>(node.round())->run_node(node); }

void Pool::record_slot(graph::Node& node) noexcept {
  auto& round = *static_cast<Round*>(node.round());
  round.record_node(static_cast<Chunk*>(node.slot()), node.index(), node.value(), node.status(), node.error());
}

void Pool::finish_slot(graph::Node& node) noexcept {
  // Counting the slot done may let a gatherer free the round while the
  // count's wake-up is still being sent: hold it for the call.
  const std::shared_ptr<Round> round = static_cast<Round*>(node.round())->shared_from_this();
  round->finish_parked(node.index(), node.status());
  slot_finished(node);
  node.release();  // the slot's reference
}

void Pool::slot_finished(graph::Node& node) noexcept {
  if (!node.host_listed) return;
  {
    std::lock_guard lk(nodes_mu_);
    if (node.host_prev)
      node.host_prev->host_next = node.host_next;
    else
      waiting_nodes_ = node.host_next;
    if (node.host_next) node.host_next->host_prev = node.host_prev;
    node.host_prev = node.host_next = nullptr;
    node.host_listed = false;
    --waiting_count_;
  }
  nodes_event_.notify_all();
}

void Pool::cancel() noexcept {
  {
    std::lock_guard lk(mu_);
    // Every round created so far is cancelled; the open one is closed, so
    // that later scatters start a round of their own.
    cancel_mark_->store(next_round_id_, std::memory_order_seq_cst);
    if (open_) {
      RoundPtr round = std::move(open_);
      round->seal();
      try {
        auto pos = std::find_if(abandoned_.begin(), abandoned_.end(),
                                [&](const RoundPtr& r) { return r->id() > round->id(); });
        abandoned_.insert(pos, round);
      } catch (const std::bad_alloc&) {
        open_ = std::move(round);  // no room to queue it: it stays open (and cancelled)
        open_->reopen();
      }
    }
  }
  // Unclaimed tasks of the cancelled rounds complete now, in this thread,
  // even while every worker is busy: execute() records them cancelled
  // without running anything of the caller's.
  std::vector<RoundPtr> cancelled;
  {
    std::lock_guard lk(mu_);
    try {
      for (const RoundPtr& r : queue_)
        if (r->cancelled() && r->has_unclaimed()) cancelled.push_back(r);
    } catch (const std::bad_alloc&) {  // the workers do it as they claim them
    }
  }
  for (const RoundPtr& r : cancelled) {
    Round::Batch b;
    Chunk* cursor = nullptr;
    while (r->claim(Round::kMaxBatch, b)) r->run(b, cursor);
  }
  // Tasks waiting for predecessors complete now, cancelled, instead of
  // when their predecessors do.
  std::vector<graph::Node*> waiting;
  {
    std::lock_guard lk(nodes_mu_);
    try {
      waiting.reserve(waiting_count_);
    } catch (const std::bad_alloc&) {
      return;  // they are cancelled when they are launched (run_node checks)
    }
    for (graph::Node* n = waiting_nodes_; n; n = n->host_next) {
      n->retain();
      waiting.push_back(n);
    }
  }
  for (graph::Node* n : waiting) {
    n->cancel_if_waiting("was cancelled with its round before it started");
    n->release();
  }
}

}  // namespace lox::core::thread
