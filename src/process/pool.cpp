// SPDX-License-Identifier: Apache-2.0
#include "process/pool.hpp"

#include <algorithm>
#include <chrono>
#include <utility>

#include <fmt/format.h>

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

  Pool& pool_;
  std::mutex worker_mu_;  // guards the pointer against stop_worker
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
  for (size_t i = 0; i < sent; ++i) {
    const Claim& c = batch[i];
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
        pool_.finish(c, to_int(Status::worker_died), detail, detail);
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
      pool_.finish(c, h.status, std::move(output), std::move(detail));
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
    pool_.finish(c, status, {}, std::move(detail));
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

Pool::Pool(size_t n_workers, std::unique_ptr<Runner> runner, const Options& options)
    : n_workers_(n_workers), runner_(std::move(runner)), options_(options) {
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
  for (auto& d : drivers_) d->stop_worker();
  for (auto& d : drivers_) d->join();
  drivers_.clear();
  server_.reset();
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
    if (rounds_.empty() || rounds_.back()->sealed) rounds_.push_back(std::make_unique<Round>());
    Round& r = *rounds_.back();
    r.tasks.push_back(std::move(task));
    if (index) *index = r.tasks.size() - 1;
    if (n_workers_ == 0) {
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
  for (auto& round : rounds_) {
    Round& r = *round;
    while (r.next < r.tasks.size() && batch.size() < share) {
      Task& t = r.tasks[r.next];
      if (!batch.empty() && bytes + t.input.size() > kMaxBatchBytes) break;
      batch.push_back(Claim{&r, r.next, &t});
      ++r.next;
      --unclaimed_;
      bytes += t.input.size();
      if (bytes >= kMaxBatchBytes) break;
    }
    if (batch.size() >= share || bytes >= kMaxBatchBytes) break;
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

void Pool::finish(const Claim& c, int status, std::string output, std::string detail) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    Task& t = c.task();
    t.status = status;
    t.output = std::move(output);
    t.detail = std::move(detail);
    std::string().swap(t.input);
    ++c.round->done;
    --outstanding_;
    // The gatherer sleeps until its round is complete, unless it reports
    // progress: no wake-up per task otherwise.
    if (c.round != watched_ || !(watch_each_ || c.round->complete())) return;
  }
  done_.notify_all();
}

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
  std::unique_ptr<Round> taken = std::move(rounds_.front());
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

}  // namespace lox::core::process
