// SPDX-License-Identifier: Apache-2.0
// lox_bench: liblox's thread pool side by side with oneTBB, Boost.Asio,
// GLib and a plain std::mutex/condition_variable pool, in one run.
//
// Cases (see bench/README.md):
//   m  RSS growth per pending (scattered, not yet run) liblox task
//   a  scatter+gather of 1,000,000 trivial tasks (x*2+1), results in order
//   b  scatter+gather of 10,000 tasks of ~20 us of CPU work each, vs serial
//   c  one task's scatter->gather round trip, vs a condition-variable ping-pong
//
// Every pool gets the same work and the same obligation: the value of task k
// ends up in out[k] (out is the caller's vector, indexed in scatter order),
// and the call returns only when the whole batch is done. Every repetition
// is verified (outside the timed region).
//
// Plain C++ printing tables (no Google Benchmark): the point is the
// side-by-side comparison of the same batch on each pool.
#include <lox/lox.h>

#include "harness.hpp"

#include <glib.h>
#include <malloc.h>
#include <oneapi/tbb/task_arena.h>
#include <oneapi/tbb/task_group.h>
#include <oneapi/tbb/version.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/version.hpp>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace lox_bench_harness;

// ------------------------------------------------------------------ options

struct Options {
  std::set<char> cases;         // empty = all
  std::set<std::string> peers;  // empty = all
  int reps = 7;
  int threads = 2;
  size_t a_tasks = 1'000'000;
  size_t b_tasks = 10'000;
  double b_work_us = 20.0;
  size_t c_rounds = 20'000;
  size_t m_tasks = 1'000'000;
  double watchdog_s = 120.0;
  double wait_quiet_s = 0;  // wait up to this long for other processes to go quiet
  double max_other_load = 0.3;  // redo a rep if other processes used more CPUs than this
  bool csv = false;

  bool want_case(char c) const { return cases.empty() || cases.count(c); }
  bool want_peer(const std::string& p) const { return peers.empty() || peers.count(p); }
};

const char* const kAllPeers[] = {"serial", "lox", "tbb", "asio", "glib", "std", "pingpong"};

[[noreturn]] void usage(int rc) {
  std::printf(
      "usage: lox_bench [options]\n"
      "  --case LIST     cases to run, comma-separated or repeated (default: all)\n"
      "                  m = memory per pending liblox task, a = 1M trivial tasks,\n"
      "                  b = 10k x ~20us tasks, c = single-task round trip\n"
      "  --peer LIST     pools to run (default: all): serial,lox,tbb,asio,glib,std,pingpong\n"
      "                  (pingpong only runs in case c; m only measures lox)\n"
      "  --reps N        repetitions of each measurement (default 7); median and min reported\n"
      "  --threads N     worker threads per pool (default 2)\n"
      "  --a-tasks N     tasks in case a (default 1000000)\n"
      "  --b-tasks N     tasks in case b (default 10000)\n"
      "  --b-us X        CPU work per task in case b, microseconds (default 20)\n"
      "  --c-rounds N    round trips per repetition in case c (default 20000)\n"
      "  --m-tasks N     pending tasks in case m (default 1000000)\n"
      "  --watchdog S    abort with a HANG report if one measurement takes > S s (default 120)\n"
      "  --wait-quiet S  first wait (up to S s) until other processes use < 0.15 CPU for 3 s\n"
      "  --max-other-load X  redo a repetition during which other processes used > X CPUs\n"
      "                  (after waiting for a quiet second; at most 3*reps redos per row; default 0.3)\n"
      "  --no-redo       keep every repetition whatever the machine's load\n"
      "  --csv           also print machine-readable 'csv,...' lines (used by run.sh)\n");
  std::exit(rc);
}

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

Options parse(int argc, char** argv) {
  Options o;
  auto need = [&](int& i) -> std::string {
    if (i + 1 >= argc) {
      std::fprintf(stderr, "%s needs a value\n", argv[i]);
      usage(2);
    }
    return argv[++i];
  };
  auto num = [&](int& i) -> double {
    std::string v = need(i);
    char* end = nullptr;
    double d = std::strtod(v.c_str(), &end);
    if (!end || *end || !(d > 0)) {
      std::fprintf(stderr, "%s: bad value '%s'\n", argv[i - 1], v.c_str());
      usage(2);
    }
    return d;
  };
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--case") {
      for (auto& c : split_list(need(i))) {
        char k = c == "mem" ? 'm' : c[0];
        if (c.size() != 1 && c != "mem") k = 0;
        if (!std::strchr("mabc", k) || !k) {
          std::fprintf(stderr, "unknown case '%s'\n", c.c_str());
          usage(2);
        }
        o.cases.insert(k);
      }
    } else if (a == "--peer") {
      for (auto& p : split_list(need(i))) {
        if (std::find_if(std::begin(kAllPeers), std::end(kAllPeers), [&](const char* q) { return p == q; }) ==
            std::end(kAllPeers)) {
          std::fprintf(stderr, "unknown peer '%s'\n", p.c_str());
          usage(2);
        }
        o.peers.insert(p);
      }
    } else if (a == "--reps") {
      o.reps = static_cast<int>(num(i));
    } else if (a == "--threads") {
      o.threads = static_cast<int>(num(i));
    } else if (a == "--a-tasks") {
      o.a_tasks = static_cast<size_t>(num(i));
    } else if (a == "--b-tasks") {
      o.b_tasks = static_cast<size_t>(num(i));
    } else if (a == "--b-us") {
      o.b_work_us = num(i);
    } else if (a == "--c-rounds") {
      o.c_rounds = static_cast<size_t>(num(i));
    } else if (a == "--m-tasks") {
      o.m_tasks = static_cast<size_t>(num(i));
    } else if (a == "--watchdog") {
      o.watchdog_s = num(i);
    } else if (a == "--max-other-load") {
      o.max_other_load = num(i);
    } else if (a == "--no-redo") {
      o.max_other_load = 0;
    } else if (a == "--wait-quiet") {
      o.wait_quiet_s = num(i);
    } else if (a == "--csv") {
      o.csv = true;
    } else if (a == "-h" || a == "--help") {
      usage(0);
    } else {
      std::fprintf(stderr, "unknown option '%s'\n", a.c_str());
      usage(2);
    }
  }
  if (o.reps < 1 || o.threads < 1) usage(2);
  return o;
}

// -------------------------------------------------------------------- work

// Case a: trivial work. noinline so every pool (and the serial loop) makes
// one real call per task and the serial loop cannot be vectorised away.
__attribute__((noinline)) uint64_t tiny(uint64_t x) { return x * 2 + 1; }

struct Tiny {
  uint64_t operator()(uint64_t x) const { return tiny(x); }
};

// Case b: a dependent chain of multiply/xor-shift steps: no closed form, the
// result is stored and compared, so the compiler cannot drop or shorten it.
__attribute__((noinline)) uint64_t spin_work(uint64_t seed, uint64_t iters) {
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull;
  for (uint64_t k = 0; k < iters; ++k) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    x ^= x >> 29;
  }
  return x;
}

struct Spin {
  uint64_t iters;
  uint64_t operator()(uint64_t x) const { return spin_work(x, iters); }
};

// Case c: trivial work that also records whether it ran on another thread
// than the caller (TBB's waiting thread may run the task itself).
struct Tracked {
  std::thread::id caller;
  std::atomic<uint64_t>* off_caller;
  uint64_t operator()(uint64_t x) const {
    if (std::this_thread::get_id() != caller) off_caller->fetch_add(1, std::memory_order_relaxed);
    return tiny(x);
  }
};

// ------------------------------------------------------------- completions
// "Wait until the whole batch is done" for the pools that have no gather of
// their own (Asio, GLib, the std pool): a counter decremented by each task;
// the task that brings it to zero signals the waiter.

class Completion {
 public:
  void arm(size_t n) {
    remaining_.store(n, std::memory_order_relaxed);
    done_ = false;
  }
  void task_done() {
    if (remaining_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      {
        std::lock_guard lk(m_);
        done_ = true;
      }
      cv_.notify_one();
    }
  }
  void wait() {
    std::unique_lock lk(m_);
    cv_.wait(lk, [&] { return done_; });
  }

 private:
  std::atomic<size_t> remaining_{0};
  std::mutex m_;
  std::condition_variable cv_;
  bool done_ = false;
};

// The same with GLib's own primitives.
class GCompletion {
 public:
  GCompletion() {
    g_mutex_init(&m_);
    g_cond_init(&cv_);
  }
  ~GCompletion() {
    g_cond_clear(&cv_);
    g_mutex_clear(&m_);
  }
  void arm(size_t n) {
    remaining_.store(n, std::memory_order_relaxed);
    done_ = false;
  }
  void task_done() {
    if (remaining_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      g_mutex_lock(&m_);
      done_ = true;
      g_cond_signal(&cv_);
      g_mutex_unlock(&m_);
    }
  }
  void wait() {
    g_mutex_lock(&m_);
    while (!done_) g_cond_wait(&cv_, &m_);
    g_mutex_unlock(&m_);
  }

 private:
  std::atomic<size_t> remaining_{0};
  GMutex m_;
  GCond cv_;
  bool done_ = false;
};

// ------------------------------------------------------------------- pools
// A Batcher runs tasks f(first), f(first+1), ..., f(first+n-1) on its pool,
// stores f(first+k) in out[k] and returns when all n are done. One virtual
// call per batch; the per-task code is fully typed.

struct Batcher {
  virtual ~Batcher() = default;
  virtual void batch(uint64_t first, size_t n, uint64_t* out) = 0;
  virtual std::string note() const { return ""; }
  virtual void reset_stats() {}  // called after the warm-up
};

template <class F>
class SerialPeer final : public Batcher {
 public:
  SerialPeer(const F* f, int) : f_(f) {}
  void batch(uint64_t first, size_t n, uint64_t* out) override {
    for (size_t k = 0; k < n; ++k) out[k] = (*f_)(first + k);
  }

 private:
  const F* f_;
};

[[noreturn]] void lox_fail(const char* what, int rc) {
  throw std::runtime_error(std::string(what) + " returned " + std::to_string(rc) + " (" + lox_status_str(rc) +
                           "): " + lox_last_error());
}

template <class F>
class LoxPeer final : public Batcher {
 public:
  LoxPeer(const F* f, int threads) {
    int rc = lox_thread_create(static_cast<size_t>(threads), &task, const_cast<F*>(f), &pool_);
    if (rc != LOX_OK) lox_fail("lox_thread_create", rc);
  }
  ~LoxPeer() override { lox_thread_destroy(pool_); }
  void batch(uint64_t first, size_t n, uint64_t* out) override {
    // Where the time goes, for big batches only (three clock reads would
    // weigh on case c's single-task rounds): scatter loop, gather, reading
    // the values + destroying the results.
    const bool timed = n >= kTimedBatch;
    Clock::time_point t0, t1, t2;
    if (timed) t0 = Clock::now();
    for (size_t k = 0; k < n; ++k) {
      int rc = lox_thread_scatter(pool_, reinterpret_cast<void*>(static_cast<uintptr_t>(first + k)), nullptr);
      if (rc != LOX_OK) lox_fail("lox_thread_scatter", rc);
    }
    if (timed) t1 = Clock::now();
    lox_results* r = nullptr;
    int rc = lox_thread_gather(pool_, nullptr, &r);
    if (timed) t2 = Clock::now();
    if (rc != LOX_OK) {
      lox_results_destroy(r);
      lox_fail("lox_thread_gather", rc);
    }
    size_t count = lox_results_count(r);
    if (count != n) {
      lox_results_destroy(r);
      throw std::runtime_error("lox_thread_gather returned " + std::to_string(count) + " results for " +
                               std::to_string(n) + " scattered tasks");
    }
    for (size_t k = 0; k < n; ++k) out[k] = static_cast<uint64_t>(reinterpret_cast<uintptr_t>(lox_results_value(r, k)));
    lox_results_destroy(r);
    if (timed) {
      auto t3 = Clock::now();
      scatter_s_ += std::chrono::duration<double>(t1 - t0).count();
      gather_s_ += std::chrono::duration<double>(t2 - t1).count();
      read_s_ += std::chrono::duration<double>(t3 - t2).count();
      timed_tasks_ += n;
    }
  }
  void reset_stats() override { scatter_s_ = gather_s_ = read_s_ = 0, timed_tasks_ = 0; }
  std::string note() const override {
    if (!timed_tasks_) return "";
    double n = static_cast<double>(timed_tasks_);
    char buf[160];
    std::snprintf(buf, sizeof buf, "phases per task: scatter loop %.1f ns, gather %.1f ns, values+destroy %.1f ns",
                  scatter_s_ * 1e9 / n, gather_s_ * 1e9 / n, read_s_ * 1e9 / n);
    return buf;
  }

 private:
  static int task(void* ctx, void* arg, void** result) {
    const F* f = static_cast<const F*>(ctx);
    *result = reinterpret_cast<void*>(static_cast<uintptr_t>((*f)(reinterpret_cast<uintptr_t>(arg))));
    return 0;
  }
  static constexpr size_t kTimedBatch = 1000;
  lox_thread* pool_ = nullptr;
  double scatter_s_ = 0, gather_s_ = 0, read_s_ = 0;
  size_t timed_tasks_ = 0;
};

// What every queue-based peer's task closure points to; the closure itself
// is {Job*, k}: two words, so std::function stores it without allocating.
template <class F, class C>
struct Job {
  const F* f;
  uint64_t* out;
  uint64_t first;
  C* completion;
};

template <class F>
class TbbPeer final : public Batcher {
 public:
  TbbPeer(const F* f, int threads) : f_(f), arena_(threads) { arena_.initialize(); }
  void batch(uint64_t first, size_t n, uint64_t* out) override {
    Job<F, void> job{f_, out, first, nullptr};
    Job<F, void>* jp = &job;
    arena_.execute([&] {
      tbb::task_group tg;
      for (size_t k = 0; k < n; ++k) tg.run([jp, k] { jp->out[k] = (*jp->f)(jp->first + k); });
      tg.wait();
    });
  }
  std::string note() const override { return "task_arena(" + std::to_string(arena_.max_concurrency()) + ")"; }

 private:
  const F* f_;
  tbb::task_arena arena_;
};

template <class F>
class AsioPeer final : public Batcher {
 public:
  AsioPeer(const F* f, int threads) : f_(f), pool_(static_cast<std::size_t>(threads)) {}
  ~AsioPeer() override { pool_.join(); }
  void batch(uint64_t first, size_t n, uint64_t* out) override {
    done_.arm(n);
    Job<F, Completion> job{f_, out, first, &done_};
    auto* jp = &job;
    for (size_t k = 0; k < n; ++k)
      boost::asio::post(pool_, [jp, k] {
        jp->out[k] = (*jp->f)(jp->first + k);
        jp->completion->task_done();
      });
    done_.wait();
  }

 private:
  const F* f_;
  Completion done_;  // declared before pool_: outlives the workers
  boost::asio::thread_pool pool_;
};

template <class F>
class GlibPeer final : public Batcher {
 public:
  GlibPeer(const F* f, int threads) : f_(f) {
    GError* err = nullptr;
    pool_ = g_thread_pool_new(&run, &job_, threads, FALSE, &err);
    if (!pool_) {
      std::string msg = err ? err->message : "unknown error";
      g_clear_error(&err);
      throw std::runtime_error("g_thread_pool_new: " + msg);
    }
  }
  ~GlibPeer() override { g_thread_pool_free(pool_, FALSE, TRUE); }
  void batch(uint64_t first, size_t n, uint64_t* out) override {
    done_.arm(n);
    job_ = Job<F, GCompletion>{f_, out, first, &done_};  // published to workers by the pushes below
    for (size_t k = 0; k < n; ++k) g_thread_pool_push(pool_, GSIZE_TO_POINTER(k + 1), nullptr);  // data != NULL
    done_.wait();
  }

 private:
  static void run(gpointer data, gpointer user) {
    auto* jp = static_cast<Job<F, GCompletion>*>(user);
    size_t k = GPOINTER_TO_SIZE(data) - 1;
    jp->out[k] = (*jp->f)(jp->first + k);
    jp->completion->task_done();
  }
  const F* f_;
  GCompletion done_;
  Job<F, GCompletion> job_{};
  GThreadPool* pool_ = nullptr;
};

// The textbook pool: one mutex, one condition variable, a deque of
// std::function, N workers.
class StdPool {
 public:
  explicit StdPool(int n) {
    for (int i = 0; i < n; ++i) workers_.emplace_back([this] { loop(); });
  }
  ~StdPool() {
    {
      std::lock_guard lk(m_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : workers_) t.join();
  }
  void submit(std::function<void()> f) {
    {
      std::lock_guard lk(m_);
      q_.push_back(std::move(f));
    }
    cv_.notify_one();
  }

 private:
  void loop() {
    for (;;) {
      std::function<void()> f;
      {
        std::unique_lock lk(m_);
        cv_.wait(lk, [&] { return stop_ || !q_.empty(); });
        if (q_.empty()) return;
        f = std::move(q_.front());
        q_.pop_front();
      }
      f();
    }
  }
  std::mutex m_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> q_;
  bool stop_ = false;
  std::vector<std::thread> workers_;
};

template <class F>
class StdPeer final : public Batcher {
 public:
  StdPeer(const F* f, int threads) : f_(f), pool_(threads) {}
  void batch(uint64_t first, size_t n, uint64_t* out) override {
    done_.arm(n);
    Job<F, Completion> job{f_, out, first, &done_};
    auto* jp = &job;
    for (size_t k = 0; k < n; ++k)
      pool_.submit([jp, k] {
        jp->out[k] = (*jp->f)(jp->first + k);
        jp->completion->task_done();
      });
    done_.wait();
  }

 private:
  const F* f_;
  Completion done_;
  StdPool pool_;
};

// Case c's yardstick: two threads, one mutex, two condition variables. The
// caller hands x over and sleeps until the partner answers f(x).
template <class F>
class PingPongPeer final : public Batcher {
 public:
  PingPongPeer(const F* f, int) : f_(f), partner_([this] { loop(); }) {}
  ~PingPongPeer() override {
    {
      std::lock_guard lk(m_);
      state_ = State::stop;
    }
    ping_.notify_one();
    partner_.join();
  }
  void batch(uint64_t first, size_t n, uint64_t* out) override {
    for (size_t k = 0; k < n; ++k) {
      {
        std::lock_guard lk(m_);
        value_ = first + k;
        state_ = State::ping;
      }
      ping_.notify_one();
      std::unique_lock lk(m_);
      pong_.wait(lk, [&] { return state_ == State::pong; });
      out[k] = value_;
      state_ = State::idle;
    }
  }

 private:
  enum class State { idle, ping, pong, stop };
  void loop() {
    for (;;) {
      std::unique_lock lk(m_);
      ping_.wait(lk, [&] { return state_ == State::ping || state_ == State::stop; });
      if (state_ == State::stop) return;
      value_ = (*f_)(value_);
      state_ = State::pong;
      lk.unlock();
      pong_.notify_one();
    }
  }
  const F* f_;
  std::mutex m_;
  std::condition_variable ping_, pong_;
  State state_ = State::idle;
  uint64_t value_ = 0;
  std::thread partner_;  // last: starts after the members it uses
};

template <class F>
std::unique_ptr<Batcher> make_peer(const std::string& name, const F* f, int threads) {
  if (name == "serial") return std::make_unique<SerialPeer<F>>(f, threads);
  if (name == "lox") return std::make_unique<LoxPeer<F>>(f, threads);
  if (name == "tbb") return std::make_unique<TbbPeer<F>>(f, threads);
  if (name == "asio") return std::make_unique<AsioPeer<F>>(f, threads);
  if (name == "glib") return std::make_unique<GlibPeer<F>>(f, threads);
  if (name == "std") return std::make_unique<StdPeer<F>>(f, threads);
  if (name == "pingpong") return std::make_unique<PingPongPeer<F>>(f, threads);
  throw std::logic_error("unknown peer " + name);
}

// ------------------------------------------------------------- measurement

struct Row {
  std::string peer;
  size_t units = 0;             // tasks (a, b) or round trips (c) per repetition
  std::vector<double> seconds;  // one per repetition
  std::string error;            // crash/wrong result: the row has no figures
  std::string note;
  double background = 0;        // CPUs busy with other processes during the kept reps (mean)
  int redone = 0;               // reps discarded because other processes were busy
  double own_cpus = 0;          // this process's CPU time / wall time during the kept reps (mean)
  double median() const {
    std::vector<double> s = seconds;
    std::sort(s.begin(), s.end());
    size_t n = s.size();
    return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  }
  double min() const { return *std::min_element(seconds.begin(), seconds.end()); }
  double median_ns() const { return median() * 1e9 / static_cast<double>(units); }
  double min_ns() const { return min() * 1e9 / static_cast<double>(units); }
  bool ok() const { return error.empty() && !seconds.empty(); }
};

std::string fmt_ns(double ns) {
  char buf[32];
  if (ns < 100)
    std::snprintf(buf, sizeof buf, "%.1f", ns);
  else
    std::snprintf(buf, sizeof buf, "%.0f", ns);
  return buf;
}

std::string fmt_ms(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", s * 1e3);
  return buf;
}

std::string with_bg(const Row& r) {
  char buf[64];
  if (r.own_cpus > 0)
    std::snprintf(buf, sizeof buf, "%sCPUs used %.2f; other load %.2f CPU", r.note.empty() ? "" : "; ", r.own_cpus,
                  r.background);
  else
    std::snprintf(buf, sizeof buf, "%sother load %.2f CPU", r.note.empty() ? "" : "; ", r.background);
  std::string out = r.note + buf;
  if (r.redone) out += "; " + std::to_string(r.redone) + " noisy reps redone";
  return out;
}

std::string fmt_x(double r) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2fx", r);
  return buf;
}

// Runs `reps` timed repetitions of `one_rep` (which returns its own elapsed
// seconds, so that preparation and verification stay outside the clock).
const Options* g_opts = nullptr;

// Runs `reps` timed repetitions of `one_rep` (which returns its own elapsed
// seconds, so that preparation and verification stay outside the clock).
// The machine is shared (other people compile on it): a repetition during
// which other processes used more than --max-other-load CPUs is discarded,
// the bench waits (up to 30 s) for a quiet second and does it again, at most
// 3*reps times per row (no more redos in the row once a wait fails); the row
// notes how many were redone and the mean load during the kept reps. This
// applies to every pool alike.
template <class Fn>
Row measure(const std::string& label, const std::string& peer, size_t units, int reps, Fn&& one_rep) {
  Row row;
  row.peer = peer;
  row.units = units;
  std::fprintf(stderr, "  %-9s ", peer.c_str());
  double bg_sum = 0, own_sum = 0;
  int judged = 0;
  int redo_budget = g_opts->max_other_load > 0 ? 3 * reps : 0;
  try {
    for (int r = 0; r < reps;) {
      CpuSample c0 = cpu_sample();
      double s;
      {
        WatchScope w(label + " / " + peer + " / rep " + std::to_string(r + 1));
        s = one_rep();
      }
      CpuSample c1 = cpu_sample();
      double bg = background_cpus(c0, c1);
      // /proc/stat counts 10 ms ticks: below ~50 ms the load figure is noise.
      bool judgeable = std::chrono::duration<double>(c1.t - c0.t).count() >= 0.05;
      if (judgeable && bg > g_opts->max_other_load && redo_budget > 0) {
        --redo_budget;
        ++row.redone;
        std::fputc('x', stderr);
        if (!wait_quiet(std::min(0.15, g_opts->max_other_load), 30)) {
          std::fputc('!', stderr);  // never quiet: keep what comes for this row
          redo_budget = 0;
        }
        continue;
      }
      row.seconds.push_back(s);
      if (judgeable) {
        bg_sum += bg;
        own_sum += (c1.self_s - c0.self_s) / std::chrono::duration<double>(c1.t - c0.t).count();
        ++judged;
      }
      ++r;
      std::fputc('.', stderr);
    }
  } catch (const std::exception& e) {
    row.error = e.what();
    row.seconds.clear();
    std::fprintf(stderr, " FAILED: %s", e.what());
  }
  row.background = judged ? bg_sum / judged : 0;
  row.own_cpus = judged ? own_sum / judged : 0;
  if (row.ok()) std::fprintf(stderr, " median %s ns/task", fmt_ns(row.median_ns()).c_str());
  std::fprintf(stderr, " (other processes: %.2f CPUs)", row.background);
  std::fputc('\n', stderr);
  return row;
}

void print_table(const char* title, const std::vector<Row>& rows, const char* unit,
                 const std::function<std::string(const Row&)>& extra, const char* extra_title) {
  std::printf("\n%s\n\n", title);
  std::string med = std::string("median ns/") + unit, mn = std::string("min ns/") + unit;
  std::printf("| %-8s | %9s | %9s | %14s | %14s | %-24s | %s\n", "peer", "median ms", "min ms", med.c_str(),
              mn.c_str(), extra_title, "note");
  std::printf("|----------|-----------|-----------|----------------|----------------|--------------------------|------\n");
  for (const Row& r : rows) {
    if (!r.ok()) {
      std::printf("| %-8s | %9s | %9s | %14s | %14s | %-24s | ERROR: %s\n", r.peer.c_str(), "-", "-", "-", "-", "-",
                  r.error.c_str());
      continue;
    }
    std::printf("| %-8s | %9s | %9s | %14s | %14s | %-24s | %s\n", r.peer.c_str(), fmt_ms(r.median()).c_str(),
                fmt_ms(r.min()).c_str(), fmt_ns(r.median_ns()).c_str(), fmt_ns(r.min_ns()).c_str(),
                extra(r).c_str(), with_bg(r).c_str());
  }
  std::fflush(stdout);
}

void print_csv(const Options& o, char c, const std::vector<Row>& rows) {
  if (!o.csv) return;
  for (const Row& r : rows) {
    if (r.ok())
      std::printf("csv,%c,%s,%zu,%.3f,%.3f,ok,%.2f,%d\n", c, r.peer.c_str(), r.units, r.median_ns(), r.min_ns(),
                  r.background, r.redone);
    else
      std::printf("csv,%c,%s,%zu,nan,nan,error\n", c, r.peer.c_str(), r.units);
  }
}

const Row* find(const std::vector<Row>& rows, const std::string& peer) {
  for (const Row& r : rows)
    if (r.peer == peer && r.ok()) return &r;
  return nullptr;
}

struct Summary {
  std::optional<double> a_ratio, b_speedup, c_ratio, m_bytes;
  std::string a_fastest;
};

// ------------------------------------------------------------------ case m

long vm_rss_kb() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  return -1;
}

size_t heap_in_use() {
  struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
}

struct Gate {
  std::mutex m;
  std::condition_variable cv;
  bool started = false, open = false;
};

int gate_task(void* ctx, void* arg, void** result) {
  uint64_t x = reinterpret_cast<uintptr_t>(arg);
  if (x == 0) {  // the first task holds the pool's only worker
    auto* g = static_cast<Gate*>(ctx);
    std::unique_lock lk(g->m);
    g->started = true;
    g->cv.notify_all();
    g->cv.wait(lk, [&] { return g->open; });
  }
  *result = reinterpret_cast<void*>(static_cast<uintptr_t>(tiny(x)));
  return 0;
}

void case_m(const Options& o, Summary& sum) {
  std::printf("\n## Case m: memory per pending liblox task (%zu tasks held behind a blocked worker)\n", o.m_tasks);
  std::fprintf(stderr, "case m: %zu pending tasks\n", o.m_tasks);
  WatchScope w("case m");
  Gate gate;
  lox_thread* pool = nullptr;
  try {
    int rc = lox_thread_create(1, &gate_task, &gate, &pool);
    if (rc != LOX_OK) lox_fail("lox_thread_create", rc);
    rc = lox_thread_scatter(pool, nullptr, nullptr);  // task 0: the gate
    if (rc != LOX_OK) lox_fail("lox_thread_scatter", rc);
    {
      std::unique_lock lk(gate.m);
      gate.cv.wait(lk, [&] { return gate.started; });
    }
    long rss0 = vm_rss_kb();
    size_t heap0 = heap_in_use();
    auto t0 = Clock::now();
    for (size_t i = 1; i <= o.m_tasks; ++i) {
      rc = lox_thread_scatter(pool, reinterpret_cast<void*>(static_cast<uintptr_t>(i)), nullptr);
      if (rc != LOX_OK) lox_fail("lox_thread_scatter", rc);
    }
    double scatter_s = seconds_since(t0);
    long rss1 = vm_rss_kb();
    size_t heap1 = heap_in_use();
    size_t pending = lox_thread_pending(pool);
    {
      std::lock_guard lk(gate.m);
      gate.open = true;
    }
    gate.cv.notify_all();
    lox_results* r = nullptr;
    t0 = Clock::now();
    rc = lox_thread_gather(pool, nullptr, &r);
    double drain_s = seconds_since(t0);
    if (rc != LOX_OK) lox_fail("lox_thread_gather", rc);
    size_t n = lox_results_count(r), bad = 0;
    for (size_t i = 0; i < n; ++i)
      if (reinterpret_cast<uintptr_t>(lox_results_value(r, i)) != tiny(i)) ++bad;
    lox_results_destroy(r);
    lox_thread_destroy(pool);
    pool = nullptr;

    double n_tasks = static_cast<double>(o.m_tasks);
    double rss_per = static_cast<double>(rss1 - rss0) * 1024.0 / n_tasks;
    double heap_per = (static_cast<double>(heap1) - static_cast<double>(heap0)) / n_tasks;
    std::printf("\n| measure                                  | value\n|------------------------------------------|------\n");
    std::printf("| pending tasks (lox_thread_pending)       | %zu\n", pending);
    std::printf("| VmRSS before / after scattering          | %ld kB / %ld kB\n", rss0, rss1);
    std::printf("| **RSS growth per pending task**          | **%.1f bytes**\n", rss_per);
    std::printf("| malloc heap growth per pending task      | %.1f bytes (mallinfo2)\n", heap_per);
    std::printf("| scatter with no worker free              | %.1f ns/task\n", scatter_s * 1e9 / n_tasks);
    std::printf("| gather after opening the gate (1 worker) | %.1f ns/task\n", drain_s * 1e9 / n_tasks);
    std::printf("| results verified                         | %zu of %zu %s\n", n - bad, n,
                (bad == 0 && n == o.m_tasks + 1) ? "ok" : "WRONG");
    if (pending != o.m_tasks)
      std::printf("NOTE: lox_thread_pending reported %zu, expected %zu\n", pending, o.m_tasks);
    if (bad || n != o.m_tasks + 1) {
      std::printf("ERROR: liblox returned wrong results in case m (%zu bad values, %zu results for %zu tasks)\n", bad,
                  n, o.m_tasks + 1);
    } else {
      sum.m_bytes = rss_per;
    }
    if (o.csv) std::printf("csv,m,lox,%zu,%.3f,%.3f,ok,0,0\n", o.m_tasks, rss_per, heap_per);
  } catch (const std::exception& e) {
    std::printf("ERROR in case m: %s\n", e.what());
    {
      std::lock_guard lk(gate.m);
      gate.open = true;
    }
    gate.cv.notify_all();
    lox_thread_destroy(pool);
  }
  std::fflush(stdout);
}

// ------------------------------------------------------------------ case a

std::vector<std::string> peers_for(const Options& o, bool with_pingpong) {
  std::vector<std::string> out;
  for (const char* p : kAllPeers) {
    std::string s = p;
    if (s == "pingpong" && !with_pingpong) continue;
    if (o.want_peer(s)) out.push_back(s);
  }
  return out;
}

void case_a(const Options& o, Summary& sum) {
  const size_t n = o.a_tasks;
  std::fprintf(stderr, "case a: %zu trivial tasks x %d reps\n", n, o.reps);
  Tiny f;
  std::vector<uint64_t> out(n);
  std::vector<Row> rows;
  for (const std::string& peer : peers_for(o, false)) {
    std::unique_ptr<Batcher> b;
    try {
      WatchScope w("case a / " + peer + " / setup+warm-up");
      b = make_peer(peer, &f, o.threads);
      b->batch(0, std::min<size_t>(n, 10'000), out.data());  // warm-up: threads started, caches hot
      b->reset_stats();
    } catch (const std::exception& e) {
      Row r;
      r.peer = peer;
      r.error = e.what();
      rows.push_back(r);
      continue;
    }
    uint64_t first = 0;
    Row row = measure("case a", peer, n, o.reps, [&] {
      std::fill(out.begin(), out.end(), 0);
      first += n;  // different arguments each repetition
      auto t0 = Clock::now();
      b->batch(first, n, out.data());
      double s = seconds_since(t0);
      size_t bad = 0;
      for (size_t k = 0; k < n; ++k) bad += out[k] != tiny(first + k);
      if (bad) throw std::runtime_error(std::to_string(bad) + " of " + std::to_string(n) + " results wrong");
      return s;
    });
    row.note = b->note();
    {
      WatchScope w("case a / " + peer + " / destroy");
      b.reset();
    }
    rows.push_back(std::move(row));
  }
  const Row* best = nullptr;
  for (const Row& r : rows)
    if (r.ok() && r.peer != "serial" && r.peer != "lox" && (!best || r.median() < best->median())) best = &r;
  const Row* lox = find(rows, "lox");
  if (lox && best) {
    sum.a_ratio = lox->median() / best->median();
    sum.a_fastest = best->peer;
  }
  char title[200];
  std::snprintf(title, sizeof title,
                "## Case a: %zu trivial tasks (x*2+1), scatter + gather, results in scatter order (%d threads, %d reps)",
                n, o.threads, o.reps);
  print_table(title, rows, "task",
              [&](const Row& r) { return best ? fmt_x(r.median() / best->median()) : std::string("-"); },
              "vs fastest peer (median)");
  if (lox && best)
    std::printf("\nliblox / fastest peer (%s): %.3f (median), %.3f (min)\n", best->peer.c_str(),
                lox->median() / best->median(), lox->min() / best->min());
  print_csv(o, 'a', rows);
}

// ------------------------------------------------------------------ case b

uint64_t calibrate_spin(double target_us) {
  auto per_call_us = [](uint64_t iters) {
    std::vector<double> t;
    volatile uint64_t sink = 0;
    for (int trial = 0; trial < 7; ++trial) {
      auto t0 = Clock::now();
      for (int k = 0; k < 50; ++k) sink = sink + spin_work(static_cast<uint64_t>(k), iters);
      t.push_back(seconds_since(t0) * 1e6 / 50);
    }
    std::sort(t.begin(), t.end());
    return t[t.size() / 2];
  };
  uint64_t iters = 1000;
  for (int attempt = 0; attempt < 12; ++attempt) {
    double us = per_call_us(iters);
    uint64_t next = std::max<uint64_t>(1, static_cast<uint64_t>(static_cast<double>(iters) * target_us / us));
    if (std::abs(us - target_us) / target_us < 0.02) break;
    iters = next;
  }
  return iters;
}

void case_b(const Options& o, Summary& sum) {
  const size_t n = o.b_tasks;
  std::fprintf(stderr, "case b: calibrating ~%.0f us of work ...\n", o.b_work_us);
  Spin f{calibrate_spin(o.b_work_us)};
  std::fprintf(stderr, "case b: %zu tasks x %llu iterations x %d reps\n", n,
               static_cast<unsigned long long>(f.iters), o.reps);
  std::vector<uint64_t> expected(n), out(n);
  for (size_t k = 0; k < n; ++k) expected[k] = f(k);
  std::vector<Row> rows;
  for (const std::string& peer : peers_for(o, false)) {
    std::unique_ptr<Batcher> b;
    try {
      WatchScope w("case b / " + peer + " / setup+warm-up");
      b = make_peer(peer, &f, o.threads);
      b->batch(0, std::min<size_t>(n, 200), out.data());
      b->reset_stats();
    } catch (const std::exception& e) {
      Row r;
      r.peer = peer;
      r.error = e.what();
      rows.push_back(r);
      continue;
    }
    Row row = measure("case b", peer, n, o.reps, [&] {
      std::fill(out.begin(), out.end(), 0);
      auto t0 = Clock::now();
      b->batch(0, n, out.data());
      double s = seconds_since(t0);
      if (out != expected) throw std::runtime_error("wrong results");
      return s;
    });
    row.note = b->note();
    {
      WatchScope w("case b / " + peer + " / destroy");
      b.reset();
    }
    rows.push_back(std::move(row));
  }
  const Row* serial = find(rows, "serial");
  const Row* lox = find(rows, "lox");
  if (lox && serial) sum.b_speedup = serial->median() / lox->median();
  char title[240];
  std::snprintf(title, sizeof title,
                "## Case b: %zu tasks of ~%.0f us CPU work (%llu iterations; serial measures %.2f us/task), %d "
                "threads, %d reps",
                n, o.b_work_us, static_cast<unsigned long long>(f.iters),
                serial ? serial->median_ns() / 1e3 : 0.0, o.threads, o.reps);
  print_table(title, rows, "task",
              [&](const Row& r) { return serial ? fmt_x(serial->median() / r.median()) : std::string("-"); },
              "speed-up vs serial (med.)");
  if (lox && serial)
    std::printf("\nliblox speed-up vs serial: %.3f (median), %.3f (best rep vs best rep)\n",
                serial->median() / lox->median(), serial->min() / lox->min());
  print_csv(o, 'b', rows);
}

// ------------------------------------------------------------------ case c

void case_c(const Options& o, Summary& sum) {
  const size_t rounds = o.c_rounds;
  std::fprintf(stderr, "case c: %zu round trips x %d reps\n", rounds, o.reps);
  std::atomic<uint64_t> off_caller{0};
  Tracked f{std::this_thread::get_id(), &off_caller};
  std::vector<Row> rows;
  for (const std::string& peer : peers_for(o, true)) {
    std::unique_ptr<Batcher> b;
    try {
      WatchScope w("case c / " + peer + " / setup+warm-up");
      b = make_peer(peer, &f, o.threads);
      uint64_t v;
      for (int i = 0; i < 1000; ++i) b->batch(static_cast<uint64_t>(i), 1, &v);
    } catch (const std::exception& e) {
      Row r;
      r.peer = peer;
      r.error = e.what();
      rows.push_back(r);
      continue;
    }
    off_caller = 0;
    uint64_t x = 1'000'000, executed = 0;  // executed counts redone reps too
    Row row = measure("case c", peer, rounds, o.reps, [&] {
      size_t bad = 0;
      auto t0 = Clock::now();
      for (size_t i = 0; i < rounds; ++i, ++x) {
        uint64_t v = 0;
        b->batch(x, 1, &v);
        bad += v != tiny(x);
      }
      double s = seconds_since(t0);
      executed += rounds;
      if (bad) throw std::runtime_error(std::to_string(bad) + " wrong results");
      return s;
    });
    double total = static_cast<double>(std::max<uint64_t>(executed, 1));
    char note[96];
    std::snprintf(note, sizeof note, "%.0f%% ran on another thread", 100.0 * static_cast<double>(off_caller) / total);
    row.note = b->note().empty() ? note : b->note() + "; " + note;
    {
      WatchScope w("case c / " + peer + " / destroy");
      b.reset();
    }
    rows.push_back(std::move(row));
  }
  const Row* pp = find(rows, "pingpong");
  const Row* lox = find(rows, "lox");
  if (lox && pp) sum.c_ratio = lox->median() / pp->median();
  char title[200];
  std::snprintf(title, sizeof title,
                "## Case c: one task scatter -> gather round trip, %zu rounds per rep (%d threads, %d reps)", rounds,
                o.threads, o.reps);
  print_table(title, rows, "trip",
              [&](const Row& r) { return pp ? fmt_x(r.median() / pp->median()) : std::string("-"); },
              "vs cv ping-pong (median)");
  if (lox && pp)
    std::printf("\nliblox / cv ping-pong: %.3f (median), %.3f (min)\n", lox->median() / pp->median(),
                lox->min() / pp->min());
  print_csv(o, 'c', rows);
}

// ------------------------------------------------------------------ summary

void print_summary(const Summary& s) {
  std::printf("\n## Targets\n\n| target | measured | met |\n|---|---|---|\n");
  auto line = [](const char* what, const std::optional<double>& v, bool less, double limit, const char* fmt) {
    if (!v) {
      std::printf("| %s | not measured | - |\n", what);
      return;
    }
    char buf[64];
    std::snprintf(buf, sizeof buf, fmt, *v);
    bool met = less ? *v <= limit : *v >= limit;
    std::printf("| %s | %s | %s |\n", what, buf, met ? "yes" : "NO");
  };
  std::string a = "(a) liblox time <= 0.25x fastest peer" + (s.a_fastest.empty() ? "" : " (" + s.a_fastest + ")");
  line(a.c_str(), s.a_ratio, true, 0.25, "%.3fx");
  line("(b) liblox >= 1.9x faster than serial", s.b_speedup, false, 1.9, "%.3fx");
  line("(c) liblox round trip <= 2x cv ping-pong", s.c_ratio, true, 2.0, "%.3fx");
  line("(m) <= 64 bytes per pending task", s.m_bytes, true, 64.0, "%.1f B");
}

}  // namespace

int main(int argc, char** argv) {
  Options o = parse(argc, argv);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  g_opts = &o;
  Watchdog watchdog(o.watchdog_s);
  g_watchdog = &watchdog;
  const char* debug = std::getenv("LOX_DEBUG");
  std::printf("# lox_bench: liblox %s, oneTBB %d.%d, Boost %d.%d, GLib %u.%u.%u; %d threads per pool; %u CPUs online\n",
              lox_version_string(), TBB_VERSION_MAJOR, TBB_VERSION_MINOR, BOOST_VERSION / 100000,
              BOOST_VERSION / 100 % 1000, glib_major_version, glib_minor_version, glib_micro_version, o.threads,
              std::thread::hardware_concurrency());
  if (debug) std::printf("# WARNING: LOX_DEBUG=%s is set: liblox may run tasks inline\n", debug);
  if (o.wait_quiet_s > 0) {
    auto start = Clock::now();
    for (;;) {
      CpuSample a = cpu_sample();
      std::this_thread::sleep_for(std::chrono::seconds(3));
      double bg = background_cpus(a, cpu_sample());
      if (bg < 0.15) {
        std::printf("# machine quiet (other processes %.2f CPUs) after %.0f s\n", bg, seconds_since(start));
        break;
      }
      if (seconds_since(start) > o.wait_quiet_s) {
        std::printf("# WARNING: machine not quiet after %.0f s (other processes %.2f CPUs); running anyway\n",
                    seconds_since(start), bg);
        break;
      }
      std::fprintf(stderr, "waiting for a quiet machine (other processes %.2f CPUs)\n", bg);
    }
  }
  std::printf("# load average at start: %s\n", loadavg().c_str());
  Summary sum;
  auto t0 = Clock::now();
  CpuSample c0 = cpu_sample();
  // Memory first: the heap holds no freed blocks yet, so RSS growth is real.
  if (o.want_case('m') && o.want_peer("lox")) case_m(o, sum);
  if (o.want_case('a')) case_a(o, sum);
  if (o.want_case('b')) case_b(o, sum);
  if (o.want_case('c')) case_c(o, sum);
  print_summary(sum);
  std::printf("\n# total run time %.1f s; load average at end: %s; other processes used %.2f CPUs on average\n",
              seconds_since(t0), loadavg().c_str(), background_cpus(c0, cpu_sample()));
  return 0;
}
