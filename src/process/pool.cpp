// SPDX-License-Identifier: Apache-2.0
#include "process/pool.hpp"

#include <algorithm>
#include <csignal>
#include <chrono>
#include <utility>

#include <fmt/format.h>

#include "common/describe.hpp"
#include "common/error.hpp"
#include "common/progress.hpp"
#include "log/log.hpp"
#include "process/child.hpp"
#include "process/frame.hpp"
#include "process/io.hpp"
#include "process/results.hpp"

namespace lox::core::process {

namespace {

// A batch is several small tasks written back to back before their results
// are read: the whole batch must fit in the socket's buffer, or the worker
// (blocked writing a result nobody reads yet) and this driver (blocked
// writing the batch) would wait for each other.
constexpr size_t kMaxBatchTasks = 64;
constexpr size_t kMaxBatchBytes = 32 * 1024;
// A task quicker than this lets the next batch double.
constexpr std::chrono::microseconds kQuickTask(100);

// How long a driver waits for the fork server's report on a dead worker.
constexpr double kExitReportWait = 2.0;

// A worker that dies this many times in a row before returning any result
// fails the task it was given (a crash at start-up would loop forever).
constexpr int kMaxFruitlessSpawns = 3;

std::string failure_text(int status, const std::string& output) {
  return output.empty() ? fmt::format("task failed with status {}", status) : output;
}

}  // namespace

// One worker slot: a thread that owns (at most) one worker process.
class Pool::Driver {
 public:
  explicit Driver(Pool& pool) : pool_(pool), thread_([this] { run(); }) {}
  // Kills the current worker, if any, so a driver blocked on it wakes up.
  void stop_worker() {
    std::lock_guard<std::mutex> lock(worker_mu_);
    if (worker_) worker_->kill();
  }
  // Sends SIGTERM to the worker if it runs a task `pick` selects; returns
  // that run's number (for kill_if), or 0.
  template <typename Pick>
  uint64_t terminate_if(Pick&& pick) {
    std::lock_guard<std::mutex> lock(worker_mu_);
    if (!worker_ || !running_ || signalled_seq_ == run_seq_ || !pick(*running_)) return 0;
    worker_->signal(SIGTERM);
    signalled_seq_ = run_seq_;
    return run_seq_;
  }
  // SIGKILL to the worker if it still runs the task of run `seq`.
  void kill_if(uint64_t seq) {
    std::lock_guard<std::mutex> lock(worker_mu_);
    if (worker_ && running_ && run_seq_ == seq) worker_->kill();
  }
  void join() { thread_.join(); }

 private:
  void run();
  bool serve(std::vector<Claim>& batch, int& fruitless);
  bool start_worker(std::vector<Claim>& batch);
  size_t send(const std::vector<Claim>& batch);
  // Reads the results of batch[0 .. sent); returns how many tasks were
  // finished (the last one possibly failed for the worker's sake) and
  // records in `loss` whether the worker can still be used.
  struct Loss {
    bool lost = false;             // the worker can no longer be used
    bool report_consumed = false;  // its exit report was already read
  };
  size_t receive(const std::vector<Claim>& batch, size_t sent, Loss& loss);
  void lose_worker(bool report_consumed);

  // Finishes the task being read (no longer running: a cancel must not
  // see it once its round may be gathered).
  void finish_current(const Claim& c, int status, std::string output, std::string detail) {
    set_running(nullptr);
    pool_.finish(c, status, std::move(output), std::move(detail));
  }
  // Whether a cancel signalled the worker while it ran the current task.
  bool signalled_for_current() {
    std::lock_guard<std::mutex> lock(worker_mu_);
    return running_ && signalled_seq_ == run_seq_;
  }
  // The task whose result is being read (under worker_mu_), numbered.
  void set_running(const Task* t) {
    std::lock_guard<std::mutex> lock(worker_mu_);
    running_ = t;
    if (t) ++run_seq_;
  }

  Pool& pool_;
  std::mutex worker_mu_;  // guards the pointer against stop_worker
  const Task* running_ = nullptr;
  uint64_t run_seq_ = 0;
  uint64_t signalled_seq_ = 0;  // the run a cancel sent SIGTERM to
  std::unique_ptr<Worker> worker_;
  std::unique_ptr<BufferedReader> reader_;  // of worker_'s socket
  std::string out_;                         // a batch being written
  std::thread thread_;                      // last: started once everything above exists
};

void Pool::Driver::run() {
  std::vector<Claim> batch;
  batch.reserve(kMaxBatchTasks);  // claim never allocates (it runs under the pool's mutex)
  int fruitless = 0;
  // Batches grow (doubling) while tasks are quick and fall back to one
  // task as soon as a batch was slow: a task that blocks holds at most the
  // rest of its batch (documented in lox.h), never the tasks not yet claimed.
  size_t limit = 1;
  bool busy = false;
  while (!batch.empty() || pool_.claim(batch, limit, std::exchange(busy, false))) {
    busy = true;
    const auto started = std::chrono::steady_clock::now();
    const size_t claimed = batch.size();
    try {
      if (!serve(batch, fruitless)) break;
    } catch (const std::exception& e) {
      // Out of memory starting a worker or writing a batch (before any task
      // of the batch finished): fail what this driver holds, go on.
      fail(Status::no_memory, "process pool: {}", e.what());
      const std::string why = last_error();
      log::emit(log::Level::error, "{}", why);
      for (const Claim& c : batch) pool_.finish(c, to_int(Status::no_memory), {}, why);
      batch.clear();
    }
    if (batch.empty() && claimed > 0) {
      const auto per_task = (std::chrono::steady_clock::now() - started) / claimed;
      limit = per_task < kQuickTask ? std::min(kMaxBatchTasks, limit * 2) : 1;
    }
  }
  if (worker_) lose_worker(false);
}

// One pass over `batch`: false when the pool is stopping.
bool Pool::Driver::serve(std::vector<Claim>& batch, int& fruitless) {
  pool_.drop_cancelled(batch);
  if (batch.empty()) return true;
  if (!worker_ && !start_worker(batch)) return true;
  if (pool_.stopping_flag_.load(std::memory_order_acquire)) return false;
  const size_t sent = send(batch);
  Loss loss;
  loss.lost = sent < batch.size();
  const size_t finished = receive(batch, sent, loss);
  if (!loss.lost) {
    batch.clear();
    fruitless = 0;
    return true;
  }
  if (pool_.stopping_flag_.load(std::memory_order_acquire)) return false;
  size_t drop = finished;
  if (finished > 0) {
    fruitless = 0;
  } else if (++fruitless < kMaxFruitlessSpawns) {
    log::emit(log::Level::warn,
              "process pool: worker {} died before task {} of its round reached it; the task goes to a new worker",
              worker_->pid(), batch[0].index);
  } else {
    // Died again and again before returning anything: give up on this task.
    const pid_t pid = worker_->pid();
    std::string how = pool_.server_->wait_exit(pid, Deadline::after_seconds(kExitReportWait));
    pool_.finish(
        batch[0], to_int(Status::worker_died), {},
        fmt::format("worker {} {} before the task could run ({} workers in a row)", pid, how, kMaxFruitlessSpawns));
    loss.report_consumed = true;
    drop = 1;
    fruitless = 0;
  }
  lose_worker(loss.report_consumed);
  batch.erase(batch.begin(), batch.begin() + static_cast<std::ptrdiff_t>(drop));
  return true;
}

bool Pool::Driver::start_worker(std::vector<Claim>& batch) {
  std::unique_ptr<Worker> w;
  Status s;
  try {
    s = pool_.server_->spawn(w);
  } catch (const std::bad_alloc&) {
    s = fail(Status::no_memory, "process pool: out of memory starting a worker");
  }
  if (s != Status::ok) {
    const std::string why = last_error();
    log::emit(log::Level::error, "{}", why);
    for (const Claim& c : batch) pool_.finish(c, to_int(s), {}, why);
    batch.clear();
    return false;
  }
  reader_ = std::make_unique<BufferedReader>(w->socket(), w->pidfd());
  {
    std::lock_guard<std::mutex> lock(worker_mu_);
    worker_ = std::move(w);
  }
  pool_.live_workers_.fetch_add(1, std::memory_order_relaxed);
  if (pool_.stopping_flag_.load(std::memory_order_acquire)) worker_->kill();
  return true;
}

size_t Pool::Driver::send(const std::vector<Claim>& batch) {
  // Every wait watches the worker's pidfd: a dead worker whose socket a
  // task's child still holds must not block this write.
  const int sock = worker_->socket();
  const int peer = worker_->pidfd();
  int err = 0;
  if (batch.size() == 1) {
    const std::string& in = batch[0].task().input;
    const FrameHeader h = make_header(FrameKind::task, 0, in.size());
    return write_frame(sock, &h, sizeof h, in.data(), in.size(), err, peer) == Io::ok ? 1 : 0;
  }
  // A batch of small tasks (kMaxBatchBytes in all): one write.
  out_.clear();
  for (const Claim& c : batch) {
    const std::string& in = c.task().input;
    const FrameHeader h = make_header(FrameKind::task, 0, in.size());
    out_.append(reinterpret_cast<const char*>(&h), sizeof h);
    out_.append(in);
  }
  size_t written = 0;
  if (write_all(sock, out_.data(), out_.size(), err, peer, &written) == Io::ok) return batch.size();
  // Cut short: the tasks whose frames went out whole may have run (they
  // count as sent, so none of them runs twice); the others never reached
  // the worker.
  size_t sent = 0, end = 0;
  for (const Claim& c : batch) {
    end += sizeof(FrameHeader) + c.task().input.size();
    if (end > written) break;
    ++sent;
  }
  return sent;
}

size_t Pool::Driver::receive(const std::vector<Claim>& batch, size_t sent, Loss& loss) {
  const pid_t pid = worker_->pid();
  const double limit = pool_.options_.task_timeout;
  struct NotRunning {
    Driver& d;
    ~NotRunning() { d.set_running(nullptr); }
  } not_running{*this};
  for (size_t i = 0; i < sent; ++i) {
    const Claim& c = batch[i];
    set_running(c.slot);
    // A cancel that came after drop_cancelled found no worker running this
    // task (it was being sent, or waited behind the batch's earlier ones):
    // now that it counts as running, it is stopped here.
    if (pool_.is_cancelled(c)) pool_.stop_task(c.slot);
    const Deadline deadline = limit > 0 ? Deadline::after_seconds(limit) : Deadline::never();
    unsigned char raw[sizeof(FrameHeader)];
    int err = 0;
    Io r = reader_->read(raw, sizeof raw, deadline, err);
    std::string output;
    const char* malformed = nullptr;
    FrameHeader h{};
    if (r == Io::ok) {
      h = read_header(raw);
      if (is_oversized_notice(h)) {
        std::string detail = oversized_result(static_cast<size_t>(h.length), pool_.options_.max_message);
        finish_current(c, to_int(Status::worker_died), detail, detail);
        continue;
      }
      HeaderCheck check = check_header(h, FrameKind::result, pool_.options_.max_message);
      if (check != HeaderCheck::ok) {
        malformed = describe(check);
      } else {
        try {
          output.resize(static_cast<size_t>(h.length));
        } catch (const std::bad_alloc&) {
          malformed = "no memory for a result that large";
        }
        if (!malformed && h.length > 0) r = reader_->read(output.data(), output.size(), deadline, err);
      }
    }
    if (r == Io::ok && !malformed) {
      std::string detail = h.status != 0 ? failure_text(h.status, output) : std::string();
      const bool signalled = signalled_for_current();
      finish_current(c, h.status, std::move(output), std::move(detail));
      // A cancel's SIGTERM (and SIGKILL) is on its way to this worker,
      // whose task ended first: the next task must not get it. The
      // worker is replaced (the rest of a batch already sent stays with
      // it, and fails with it, as any task of a dying worker's batch).
      if (signalled && i + 1 == sent) {
        loss.lost = true;
        return i + 1;
      }
      continue;
    }
    loss.lost = true;
    if (pool_.stopping_flag_.load(std::memory_order_acquire)) return i;
    std::string detail;
    int status = to_int(Status::worker_died);
    if (malformed) {
      worker_->kill();
      detail = fmt::format("worker {} sent a malformed result ({}, {} bytes announced); worker killed", pid, malformed,
                           h.length);
    } else if (r == Io::timeout) {
      worker_->kill();
      status = to_int(Status::timeout);
      detail = fmt::format("task ran longer than its time limit of {} s; worker {} killed", limit, pid);
    } else {
      detail =
          fmt::format("worker {} {}", pid, pool_.server_->wait_exit(pid, Deadline::after_seconds(kExitReportWait)));
      loss.report_consumed = true;
    }
    log::emit(log::Level::warn, "process pool: task {} of its round failed: {}; the worker is replaced", c.index,
              detail);
    finish_current(c, status, {}, std::move(detail));
    return i + 1;
  }
  return sent;
}

void Pool::Driver::lose_worker(bool report_consumed) {
  const pid_t pid = worker_->pid();
  worker_->kill();
  if (!report_consumed && !pool_.stopping_flag_.load(std::memory_order_acquire))
    pool_.server_->wait_exit(pid, Deadline::after_seconds(kExitReportWait));
  reader_.reset();
  {
    std::lock_guard<std::mutex> lock(worker_mu_);
    worker_.reset();
  }
  pool_.live_workers_.fetch_sub(1, std::memory_order_relaxed);
}

// ---------------------------------------------------------------------------

// Sends the SIGKILL that follows a cancelled task's SIGTERM once the grace
// period is over, unless the task ended by then: one thread per pool, made
// on the first such cancel, sleeping until the earliest kill is due.
class Pool::Reaper {
 public:
  Reaper() : thread_([this] { run(); }) {}
  ~Reaper() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }
  void schedule(Driver* d, uint64_t seq, std::chrono::steady_clock::time_point at) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      due_.push_back(Kill{d, seq, at});
    }
    cv_.notify_one();
  }

 private:
  struct Kill {
    Driver* driver;
    uint64_t seq;
    std::chrono::steady_clock::time_point at;
  };
  void run() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stop_) {
      if (due_.empty()) {
        cv_.wait(lock);
        continue;
      }
      auto first = std::min_element(due_.begin(), due_.end(), [](const Kill& a, const Kill& b) { return a.at < b.at; });
      const auto at = first->at;  // schedule() may move the vector while we wait
      if (std::chrono::steady_clock::now() < at) {
        cv_.wait_until(lock, at);
        continue;
      }
      Kill k = *first;
      due_.erase(first);
      lock.unlock();
      k.driver->kill_if(k.seq);
      lock.lock();
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Kill> due_;
  bool stop_ = false;
  std::thread thread_;  // last: started once everything above exists
};

Pool::Pool(size_t n_workers, std::unique_ptr<Runner> runner, const Options& options)
    : n_workers_(n_workers),
      runner_(std::move(runner)),
      options_(options),
      shared_(std::make_shared<Shared>()),
      mu_(shared_->mu),
      done_(shared_->done) {
  if (n_workers_ == 0) return;
  // The fork happens here, before this pool has threads of its own.
  server_ = std::make_unique<ForkServer>(*runner_, options_.max_message);
  try {
    drivers_.reserve(n_workers_);
    for (size_t i = 0; i < n_workers_; ++i) drivers_.push_back(std::make_unique<Driver>(*this));
  } catch (...) {
    shutdown();
    throw;
  }
}

Pool::~Pool() { shutdown(); }

void Pool::shutdown() noexcept {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    stopping_flag_.store(true, std::memory_order_release);
  }
  work_.notify_all();
  done_.notify_all();
  reaper_.reset();  // before the drivers it refers to
  for (auto& d : drivers_) d->stop_worker();
  for (auto& d : drivers_) d->join();
  finish_nodes_at_shutdown();
  drivers_.clear();
  server_.reset();
}

void Pool::finish_nodes_at_shutdown() noexcept {
  static constexpr const char* kGone = "was dropped: its pool was destroyed before it finished";
  const std::string gone = std::string("task ") + kGone;
  for (;;) {
    std::vector<graph::Node*> launched, waiting;
    {
      std::lock_guard<std::mutex> lock(mu_);
      // A completions consumer may outlive the pool: every task of its
      // round gets an outcome.
      for (auto& r : streamed_) {
        for (size_t i = 0; i < r->tasks.size(); ++i) {
          Task& t = r->tasks[i];
          if (t.finished || t.node) continue;
          t.status = to_int(Status::cancelled);
          t.detail = gone;
          record_locked(*r, i, t);
        }
      }
      ready_.clear();
      // No driver is left: a launched node (queued, or dropped with its
      // driver's batch) is completed here; a waiting one is cancelled, and
      // one whose launch is under way is waited for (launch() only marks
      // it launched once it sees stopping_).
      auto collect = [&](Round& r) {
        for (Task& t : r.tasks) {
          if (t.finished || !t.node) continue;
          auto& list = t.launched ? launched : waiting;
          try {
            list.push_back(t.node);
            t.node->retain();
          } catch (...) {
          }
        }
      };
      for (auto& r : rounds_) collect(*r);
      for (auto& r : streamed_) collect(*r);
    }
    done_.notify_all();
    if (launched.empty() && waiting.empty()) return;
    bool in_flight = false;
    for (graph::Node* n : launched) n->complete(to_int(Status::cancelled), nullptr, {}, gone);
    for (graph::Node* n : waiting) in_flight |= !n->cancel_if_waiting(kGone);
    for (graph::Node* n : launched) n->release();
    for (graph::Node* n : waiting) n->release();
    if (in_flight) {
      std::unique_lock<std::mutex> lock(mu_);
      done_.wait_for(lock, std::chrono::milliseconds(10));
    }
  }
}

void Pool::run_inline(Task& t) noexcept {
  t.status = runner_->run(t.input.data(), t.input.size(), t.output);
  // The limit a worker's result has, so that a pool behaves the same inline.
  if (t.output.size() > options_.max_message) {
    t.status = to_int(Status::worker_died);
    t.detail = oversized_result(t.output.size(), options_.max_message);
    t.output = t.detail;  // a failed task's bytes are its detail, as from a worker
  } else if (t.status != 0) {
    t.detail = failure_text(t.status, t.output);
  }
  std::string().swap(t.input);
}

Status Pool::scatter(const void* in, size_t len, size_t* index) {
  if (len > options_.max_message)
    return fail(Status::invalid, "process scatter: input of {} bytes is larger than max_message ({})", len,
                options_.max_message);
  Task task;
  task.input.assign(static_cast<const char*>(in), len);
  if (n_workers_ == 0) run_inline(task);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (rounds_.empty() || rounds_.back()->sealed) rounds_.push_back(std::make_shared<Round>());
    Round& r = *rounds_.back();
    r.tasks.push_back(std::move(task));
    if (index) *index = r.tasks.size() - 1;
    if (n_workers_ == 0) {
      r.tasks.back().finished = true;
      ++r.next;
      ++r.done;
      return Status::ok;
    }
    ++unclaimed_;
    ++outstanding_;
    // Wake a driver only if one sleeps and is not already being woken: a
    // burst of scatters costs one wake-up, not one per task.
    if (idle_drivers_ <= wakes_pending_) return Status::ok;
    ++wakes_pending_;
  }
  work_.notify_one();
  return Status::ok;
}

Status Pool::scatter_node(graph::Node& node, const void* in, size_t len, size_t* index) {
  if (len > options_.max_message)
    return fail(Status::invalid, "process scatter_ex: input of {} bytes is larger than max_message ({})", len,
                options_.max_message);
  {
    Task task;
    task.input.assign(static_cast<const char*>(in), len);
    task.node = &node;
    std::lock_guard<std::mutex> lock(mu_);
    if (rounds_.empty() || rounds_.back()->sealed) rounds_.push_back(std::make_shared<Round>());
    Round& r = *rounds_.back();
    r.tasks.push_back(std::move(task));
    // Nothing below throws.
    const size_t i = r.tasks.size() - 1;
    if (index) *index = i;
    if (r.next == i) ++r.next;  // the sequential claim never takes a node's task
    ++outstanding_;
    node.retain();  // the slot's reference
    node.place(*this, &r, &r.tasks.back(), i);
    node.link();
  }
  // The slot is reached at once: the node runs when its last predecessor
  // completes (now, if they all have).
  switch (node.reach(true)) {
    case graph::Node::Reach::run:
      launch(node);
      break;
    case graph::Node::Reach::completed:  // cannot happen: nobody saw the node yet
    case graph::Node::Reach::parked:
      break;
  }
  return Status::ok;
}

size_t Pool::pending() const noexcept {
  std::lock_guard<std::mutex> lock(mu_);
  return outstanding_ - std::min(outstanding_, busy_drivers_);
}

bool Pool::claim(std::vector<Claim>& batch, size_t limit, bool was_busy) {
  std::unique_lock<std::mutex> lock(mu_);
  if (was_busy) --busy_drivers_;
  if (!stopping_ && unclaimed_ == 0) {
    ++idle_drivers_;
    do {
      work_.wait(lock);
      // Every wake-up settles one pending wake, also one that finds the
      // work already taken: otherwise scatter would count this driver as
      // being woken forever and never wake it again.
      if (wakes_pending_ > 0) --wakes_pending_;
    } while (!stopping_ && unclaimed_ == 0);
    --idle_drivers_;
  }
  if (stopping_) return false;
  // Share what is waiting with the other drivers: at most an even part.
  const size_t share = std::min(limit, (unclaimed_ + n_workers_ - 1) / n_workers_);
  size_t bytes = 0;
  // Runnable graph nodes first: they waited for their predecessors already.
  while (!ready_.empty() && batch.size() < share && bytes < kMaxBatchBytes) {
    const Claim& c = ready_.front();
    if (!batch.empty() && bytes + c.task().input.size() > kMaxBatchBytes) break;
    bytes += c.task().input.size();
    batch.push_back(c);  // within the capacity reserved by the driver
    ready_.pop_front();
    --unclaimed_;
  }
  for (auto& round : rounds_) {
    if (batch.size() >= share || bytes >= kMaxBatchBytes) break;
    Round& r = *round;
    while (r.next < r.tasks.size() && batch.size() < share) {
      Task& t = r.tasks[r.next];
      if (t.node) {  // queued on ready_ when runnable
        ++r.next;
        continue;
      }
      if (!batch.empty() && bytes + t.input.size() > kMaxBatchBytes) break;
      batch.push_back(Claim{&r, r.next, &t});
      ++r.next;
      --unclaimed_;
      bytes += t.input.size();
      if (bytes >= kMaxBatchBytes) break;
    }
  }
  ++busy_drivers_;
  // Work left over for a driver that sleeps and is not being woken.
  if (unclaimed_ > 0 && idle_drivers_ > wakes_pending_) {
    ++wakes_pending_;
    lock.unlock();
    work_.notify_one();
  }
  return true;
}

void Pool::drop_cancelled(std::vector<Claim>& batch) {
  std::vector<Claim> dropped;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (std::none_of(batch.begin(), batch.end(), cancelled_locked)) return;
    auto keep =
        std::stable_partition(batch.begin(), batch.end(), [&](const Claim& c) { return !cancelled_locked(c); });
    dropped.assign(keep, batch.end());
    batch.erase(keep, batch.end());
  }
  for (const Claim& c : dropped) {
    finish(c, to_int(Status::cancelled), {}, cancelled_before_start(c.index));
  }
}

bool Pool::note_finished_locked(Round& r, size_t index, Task& t) noexcept {
  t.finished = true;
  t.finish_order = ++finish_order_;
  std::string().swap(t.input);
  if (r.streamed) r.log.push_back(index);  // within the capacity reserved for the round
  return r.streamed;  // a consumer of the round's completions is woken per task
}

bool Pool::count_done_locked(Round& r) noexcept {
  ++r.done;
  --outstanding_;
  // The gatherer sleeps until its round is complete, unless it reports
  // progress: no wake-up per task otherwise.
  return &r == watched_ && (watch_each_ || r.complete());
}

void Pool::finish(const Claim& c, int status, std::string output, std::string detail) {
  Task& t = c.task();
  const bool cancelled = is_cancelled(c);
  // A cancelled task whose worker was stopped: its status says why.
  if (cancelled && status != 0 && status != to_int(Status::cancelled)) {
    status = to_int(Status::cancelled);
    try {
      detail = fmt::format("task {} was cancelled while running ({})", c.index, detail);
    } catch (...) {
    }
    output.clear();
  }
  if (t.node) {
    // The node records the outcome in the slot (finish_slot), after its
    // callbacks and dependents.
    graph::Node* node = t.node;
    node->complete(status, nullptr, std::move(output), std::move(detail));
    return;
  }
  bool wake;
  {
    std::lock_guard<std::mutex> lock(mu_);
    t.status = status;
    t.output = std::move(output);
    t.detail = std::move(detail);
    wake = record_locked(*c.round, c.index, t);
  }
  if (wake) done_.notify_all();
}

void Pool::record_slot(graph::Node& node) noexcept {
  auto& r = *static_cast<Round*>(node.round());
  auto& t = *static_cast<Task*>(node.slot());
  bool wake;
  {
    std::lock_guard<std::mutex> lock(mu_);
    t.status = node.status();
    try {
      t.output = node.bytes();
      t.detail = node.error() ? node.error() : "";
    } catch (...) {  // the handle keeps the bytes; the round's copy is lost
      t.output.clear();
    }
    wake = note_finished_locked(r, node.index(), t);
  }
  if (wake) done_.notify_all();
}

void Pool::finish_slot(graph::Node& node) noexcept {
  auto& r = *static_cast<Round*>(node.round());
  auto& t = *static_cast<Task*>(node.slot());
  bool wake;
  {
    std::lock_guard<std::mutex> lock(mu_);
    t.node = nullptr;
    wake = count_done_locked(r);
  }
  if (wake) done_.notify_all();
  node.release();  // the slot's reference
}

bool Pool::build_input(graph::Node& node, const std::string& own, std::string& input, std::string& why) noexcept {
  try {
    auto put_le = [&](uint64_t v, size_t n) {
      for (size_t k = 0; k < n; ++k) input.push_back(static_cast<char>(v >> (8 * k) & 0xff));
    };
    input.clear();
    const size_t n = node.predecessor_count();
    put_le(n, 4);
    std::string encoded;
    for (size_t k = 0; k < n; ++k) {
      const graph::Node& p = *node.predecessor(k);
      const std::string* bytes = &p.bytes();
      if (p.kind() == graph::Node::Kind::thread) {
        encoded.clear();
        const int st = node.encoder.fn ? node.encoder.fn(node.encoder.a, node.encoder.b, p.value(), encoded) : -1;
        if (st != 0) {
          why = fmt::format("task {} did not run: encoding the value of predecessor {} (task {} of its round) failed "
                            "with status {}",
                            node.index(), k, p.index(), st);
          return false;
        }
        bytes = &encoded;
      }
      put_le(bytes->size(), 8);
      input.append(*bytes);
      if (input.size() > options_.max_message) break;
    }
    input.append(own);
    if (input.size() > options_.max_message) {
      why = fmt::format("task {} did not run: its input with its predecessors' results is larger than max_message "
                        "({} bytes)",
                        node.index(), options_.max_message);
      return false;
    }
    return true;
  } catch (const std::exception&) {
    why = "process pool: out of memory building a task's input";
    return false;
  }
}

void Pool::launch(graph::Node& node) noexcept {
  auto& r = *static_cast<Round*>(node.round());
  auto& t = *static_cast<Task*>(node.slot());
  if (stopping_flag_.load(std::memory_order_acquire)) {
    // Destroy completes it (finish_nodes_at_shutdown): touch nothing after.
    {
      std::lock_guard<std::mutex> lock(mu_);
      t.launched = true;
    }
    done_.notify_all();
    return;
  }
  size_t position = 0;
  std::string why;
  int status = 0;
  if (const graph::Node* pred = node.failed_predecessor(&position)) {
    status = to_int(Status::dependency_failed);
    try {
      why = node.dependency_detail(*pred, position);
    } catch (...) {
    }
  } else if (node.cancel_requested()) {
    status = to_int(Status::cancelled);
    why = cancelled_before_start(node.index());
  } else if (node.predecessor_count() != 0) {
    std::string input;
    if (!build_input(node, t.input, input, why)) {
      status = to_int(Status::dependency_failed);
    } else {
      std::lock_guard<std::mutex> lock(mu_);
      t.input.swap(input);
    }
  }
  if (status == 0 && n_workers_ == 0) {
    // Inline pool: the task runs here.
    Task run;
    run.input = std::move(t.input);
    run_inline(run);
    node.complete(run.status, nullptr, std::move(run.output), std::move(run.detail));
    return;
  }
  if (status != 0) {
    node.complete(status, nullptr, {}, std::move(why));
    return;
  }
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    t.launched = true;
    if (!stopping_) {
      try {
        ready_.push_back(Claim{&r, node.index(), &t});
      } catch (...) {
        status = to_int(Status::no_memory);
      }
      if (status == 0) {
        ++unclaimed_;
        if (idle_drivers_ > wakes_pending_) {
          ++wakes_pending_;
          wake = true;
        }
      }
    }
  }
  if (status != 0) {
    node.complete(status, nullptr, {}, "process pool: out of memory queueing a task");
    return;
  }
  if (wake) work_.notify_one();
}

template <typename Pick>
void Pool::stop_running(Pick&& pick) noexcept {
  const double seconds = cancel_grace_.load(std::memory_order_relaxed);
  const auto grace = std::chrono::duration<double>(seconds);
  for (auto& d : drivers_) {
    const uint64_t seq = d->terminate_if(pick);
    if (seq == 0) continue;
    if (seconds <= 0) {
      d->kill_if(seq);
      continue;
    }
    try {
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (!reaper_) reaper_ = std::make_unique<Reaper>();
      }
      reaper_->schedule(d.get(), seq,
                        std::chrono::steady_clock::now() +
                            std::chrono::duration_cast<std::chrono::steady_clock::duration>(grace));
    } catch (...) {  // no thread or memory for a delayed kill: kill now
      d->kill_if(seq);
    }
  }
}

bool Pool::cancelled_locked(const Claim& c) noexcept {
  const Task& t = c.task();
  return t.cancelled || c.round->cancelled || (t.node && t.node->cancel_requested());
}

bool Pool::is_cancelled(const Claim& c) {
  std::lock_guard<std::mutex> lock(mu_);
  return cancelled_locked(c);
}

void Pool::stop_task(const Task* t) noexcept {
  stop_running([t](const Task& running) { return &running == t; });
}

void Pool::cancel_running(graph::Node& node) noexcept {
  {
    std::lock_guard<std::mutex> lock(mu_);
    static_cast<Task*>(node.slot())->cancelled = true;
  }
  stop_task(static_cast<const Task*>(node.slot()));
}

void Pool::cancel() noexcept {
  std::vector<graph::Node*> waiting;
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto cancel_round = [&](Round& r) {
      r.cancelled = true;
      r.sealed = true;  // later scatters start a round of their own
      // Tasks not claimed yet finish now, cancelled; graph nodes waiting
      // for predecessors are cancelled below (outside the lock: their
      // completion runs callbacks).
      for (size_t i = r.next; i < r.tasks.size(); ++i) {
        Task& t = r.tasks[i];
        if (t.node || t.finished) continue;
        t.status = to_int(Status::cancelled);
        t.detail = cancelled_before_start(i);
        --unclaimed_;
        wake |= record_locked(r, i, t);
      }
      r.next = r.tasks.size();
      for (Task& t : r.tasks) {
        if (t.finished) continue;
        t.cancelled = true;  // claimed or running: dropped or stopped
        if (!t.node) continue;
        try {
          waiting.push_back(t.node);
          t.node->retain();
        } catch (...) {
        }
      }
    };
    for (auto& r : rounds_) cancel_round(*r);
    for (auto& r : streamed_) cancel_round(*r);
  }
  if (wake) done_.notify_all();
  for (graph::Node* n : waiting) {
    n->cancel_if_waiting("was cancelled with its round before it started");
    n->release();
  }
  // Running tasks of these rounds (marked above): stop their workers.
  stop_running([this](const Task& running) {
    std::lock_guard<std::mutex> lock(mu_);
    return running.cancelled;
  });}

Status Pool::gather(const GatherRequest& request, std::unique_ptr<Results>& out) {
  // One gather at a time (a condition variable rather than a timed mutex:
  // ThreadSanitizer cannot see pthread_mutex_clocklock).
  std::unique_lock<std::mutex> turn(mu_);
  auto my_turn = [this] { return !gathering_; };
  if (request.deadline.is_never())
    gather_free_.wait(turn, my_turn);
  else if (!gather_free_.wait_until(turn, request.deadline.when(), my_turn))
    return Status::timeout;
  gathering_ = true;
  turn.unlock();
  struct TurnEnd {
    Pool& pool;
    ~TurnEnd() {
      {
        std::lock_guard<std::mutex> lock(pool.mu_);
        pool.gathering_ = false;
      }
      pool.gather_free_.notify_one();
    }
  } turn_end{*this};

  std::unique_lock<std::mutex> lock(mu_);
  if (rounds_.empty()) {
    lock.unlock();
    ProgressReporter(request.progress, request.progress_ctx, request.progress_bar, 0).finish();
    out = std::make_unique<ProcessResults>(std::deque<Task>());
    return Status::ok;
  }
  Round* round = rounds_.front().get();
  round->sealed = true;
  const size_t total = round->tasks.size();
  lock.unlock();
  ProgressReporter progress(request.progress, request.progress_ctx, request.progress_bar, total);
  lock.lock();
  watched_ = round;
  watch_each_ = progress.wanted();
  for (;;) {
    const size_t done = round->done;
    if (progress.wanted()) {
      lock.unlock();
      progress.update(done);
      lock.lock();
    }
    if (round->done >= total) break;
    bool in_time = true;
    if (request.deadline.is_never())
      done_.wait(lock);
    else
      in_time =
          done_.wait_until(lock, request.deadline.when()) == std::cv_status::no_timeout || !request.deadline.expired();
    if (!in_time && round->done < total) {
      // Nothing lost: the round goes on, and is reopened if it is still the
      // newest one (no scatter since this gather started).
      if (rounds_.back().get() == round) round->sealed = false;
      watched_ = nullptr;
      return Status::timeout;
    }
  }
  watched_ = nullptr;
  // Allocated while the round is still queued: if this throws (LOX_ENOMEM),
  // the next gather returns the round; nothing may allocate after pop_front.
  auto results = std::make_unique<ProcessResults>(std::deque<Task>());
  std::shared_ptr<Round> taken = std::move(rounds_.front());
  rounds_.pop_front();
  lock.unlock();
  progress.finish();
  size_t failed = 0, first = 0;
  for (size_t i = taken->tasks.size(); i-- > 0;)
    if (taken->tasks[i].status != 0) {
      ++failed;
      first = i;
    }
  if (failed > 0)
    log::emit(log::Level::warn, "process gather: {} of {} tasks failed (first: task {}: {})", failed, total, first,
              taken->tasks[first].detail);
  results->adopt(taken->tasks);
  out = std::move(results);
  if (failed == 0) return Status::ok;
  return fail(Status::task_failed, "process gather: {} of {} tasks failed (first: task {} with status {})", failed,
              total, first, out->status(first));
}

// ------------------------------------------------------------ completions --

// A round in completion order: the round (shared with the pool while it
// runs) logs each task as it finishes (record_locked); this reads the log
// under the pool's lock, which it shares, so it outlives the pool safely
// (destroy gives every task of the round an outcome).
class Pool::RoundCompletions final : public Completions {
 public:
  RoundCompletions(std::shared_ptr<Shared> shared, std::shared_ptr<Round> round)
      : shared_(std::move(shared)), round_(std::move(round)), total_(round_ ? round_->tasks.size() : 0) {}

  Status next(const Deadline& deadline, Completed& out) noexcept override {
    if (delivered_ == total_) return Status::closed;
    std::unique_lock<std::mutex> lock(shared_->mu);
    auto have = [&] { return round_->log.size() > delivered_; };
    if (deadline.is_never()) {
      shared_->done.wait(lock, have);
    } else if (!shared_->done.wait_until(lock, deadline.when(), have)) {
      return Status::timeout;
    }
    const size_t i = round_->log[delivered_++];
    const Task& t = round_->tasks[i];
    out = Completed{};
    out.index = i;
    out.status = t.status;
    out.data = t.output.data();
    out.len = t.output.size();
    out.error = t.status != 0 ? t.detail.c_str() : nullptr;
    return Status::ok;
  }
  size_t remaining() const noexcept override { return total_ - delivered_; }

 private:
  const std::shared_ptr<Shared> shared_;
  const std::shared_ptr<Round> round_;
  const size_t total_;
  size_t delivered_ = 0;
};

std::unique_ptr<Completions> Pool::completions() {
  std::unique_lock<std::mutex> lock(mu_);
  // The gather's turn: the round a gather waits for is not taken from it.
  gather_free_.wait(lock, [this] { return !gathering_; });
  // Rounds streamed earlier that are complete need the pool no more.
  streamed_.erase(std::remove_if(streamed_.begin(), streamed_.end(),
                                 [](const std::shared_ptr<Round>& r) { return r->complete(); }),
                  streamed_.end());
  if (rounds_.empty()) return std::make_unique<RoundCompletions>(shared_, nullptr);
  std::shared_ptr<Round> r = rounds_.front();
  r->log.reserve(r->tasks.size());
  streamed_.reserve(streamed_.size() + 1);
  auto c = std::make_unique<RoundCompletions>(shared_, r);
  // Nothing below throws.
  r->sealed = true;
  // Those finished already come first, in the order they finished.
  for (size_t i = 0; i < r->tasks.size(); ++i)
    if (r->tasks[i].finished) r->log.push_back(i);
  std::sort(r->log.begin(), r->log.end(),
            [&](size_t a, size_t b) { return r->tasks[a].finish_order < r->tasks[b].finish_order; });
  r->streamed = true;
  streamed_.push_back(r);
  rounds_.pop_front();
  return c;
}

}  // namespace lox::core::process
