// SPDX-License-Identifier: Apache-2.0
// lox_sync_bench: liblox's synchronization objects side by side with
// pthread and std peers, in one run (see bench/README.md, "Synchronization").
//
// Cases:
//   u  uncontended acquire+release pair, one thread:
//        lox_lock vs pthread_mutex (and std::mutex, and lox::lock through
//        std::lock_guard to show the C++ layer's cost), lox_rwlock read vs
//        pthread_rwlock read vs std::shared_mutex shared (and the write
//        pairs), lox_qlock vs pthread_mutex, lox_index_semaphore vs
//        sem_wait/sem_post
//   t  throughput of a reader/writer lock with 2 threads (default) at 100%,
//        95% and 50% reads: lox_rwlock vs pthread_rwlock vs std::shared_mutex
//        (and pthread_mutex, every op exclusive, as a reference). Each op
//        takes the lock in the chosen mode, touches a small shared struct
//        (readers check that its four words agree, writers increment all
//        four), releases. Fixed time per repetition; ops counted.
//
// Harness rules as in lox_bench: every peer in the same process and run,
// medians of several repetitions, repetitions disturbed by other processes
// (measured from /proc/stat) are redone after waiting for a quiet second,
// an optional first wait for a quiet machine, a watchdog for hangs, a table
// printed, csv lines for bench/run_sync.sh.
#include <lox/lox.h>

#include "harness.hpp"
#include <lox/lox.hpp>

#include <pthread.h>
#include <semaphore.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace lox_bench_harness;

// ------------------------------------------------------------------ options

struct Options {
  std::set<char> cases;  // empty = all
  int reps = 7;
  int threads = 2;
  size_t pairs = 5'000'000;  // per repetition of case u
  double t_ms = 300;         // per repetition of case t
  double watchdog_s = 120.0;
  double wait_quiet_s = 0;
  double max_other_load = 0.3;
  bool csv = false;
  std::string peer;  // only rows whose name contains this (empty = all)
  bool want_case(char c) const { return cases.empty() || cases.count(c); }
  bool want_peer(const std::string& p) const { return peer.empty() || p.find(peer) != std::string::npos; }
};

[[noreturn]] void usage(int rc) {
  std::printf(
      "usage: lox_sync_bench [options]\n"
      "  --case LIST     u = uncontended acquire+release pairs, t = rwlock throughput (default: both)\n"
      "  --reps N        repetitions of each measurement (default 7); median and min reported\n"
      "  --pairs N       acquire+release pairs per repetition in case u (default 5000000)\n"
      "  --t-ms X        duration of one repetition of case t, milliseconds (default 300)\n"
      "  --threads N     threads in case t (default 2)\n"
      "  --peer TEXT     only the rows whose peer name contains TEXT (e.g. lox_rwlock, under perf)\n"
      "  --watchdog S    abort with a HANG report if one measurement takes > S s (default 120)\n"
      "  --wait-quiet S  first wait (up to S s) until other processes use < 0.15 CPU for 3 s\n"
      "  --max-other-load X  redo a repetition during which other processes used > X CPUs\n"
      "                  (after waiting for a quiet second; at most 3*reps redos per row; default 0.3)\n"
      "  --no-redo       keep every repetition whatever the machine's load\n"
      "  --csv           also print machine-readable 'csv,...' lines (used by run_sync.sh)\n");
  std::exit(rc);
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
      std::stringstream ss(need(i));
      std::string c;
      while (std::getline(ss, c, ',')) {
        if (c != "u" && c != "t") {
          std::fprintf(stderr, "unknown case '%s'\n", c.c_str());
          usage(2);
        }
        o.cases.insert(c[0]);
      }
    } else if (a == "--reps") {
      o.reps = static_cast<int>(num(i));
    } else if (a == "--pairs") {
      o.pairs = static_cast<size_t>(num(i));
    } else if (a == "--t-ms") {
      o.t_ms = num(i);
    } else if (a == "--peer") {
      o.peer = need(i);
    } else if (a == "--threads") {
      o.threads = static_cast<int>(num(i));
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

// Watchdog and noise measurement: harness.hpp (shared with lox_bench).

const Options* g_opts = nullptr;

// One row: a value per kept repetition, in ns per unit (per pair, or per op
// of the whole group of threads in case t).
struct Row {
  std::string peer;
  std::vector<double> ns;
  std::string error;
  double background = 0;
  int redone = 0;
  double median() const {
    std::vector<double> s = ns;
    std::sort(s.begin(), s.end());
    size_t n = s.size();
    return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  }
  double min() const { return *std::min_element(ns.begin(), ns.end()); }
  bool ok() const { return error.empty() && !ns.empty(); }
};

// Runs `reps` repetitions of `one_rep` (returns ns per unit; it times
// itself). Redoes repetitions disturbed by other processes, as lox_bench.
template <class Fn>
Row measure(const std::string& label, const std::string& peer, int reps, Fn&& one_rep) {
  Row row;
  row.peer = peer;
  std::fprintf(stderr, "  %-22s ", peer.c_str());
  double bg_sum = 0;
  int judged = 0;
  int redo_budget = g_opts->max_other_load > 0 ? 3 * reps : 0;
  try {
    for (int r = 0; r < reps;) {
      CpuSample c0 = cpu_sample();
      double v;
      {
        WatchScope w(label + " / " + peer + " / rep " + std::to_string(r + 1));
        v = one_rep();
      }
      CpuSample c1 = cpu_sample();
      double bg = background_cpus(c0, c1);
      bool judgeable = std::chrono::duration<double>(c1.t - c0.t).count() >= 0.05;
      if (judgeable && bg > g_opts->max_other_load && redo_budget > 0) {
        --redo_budget;
        ++row.redone;
        std::fputc('x', stderr);
        if (!wait_quiet(std::min(0.15, g_opts->max_other_load), 30)) {
          std::fputc('!', stderr);
          redo_budget = 0;
        }
        continue;
      }
      row.ns.push_back(v);
      if (judgeable) {
        bg_sum += bg;
        ++judged;
      }
      ++r;
      std::fputc('.', stderr);
    }
  } catch (const std::exception& e) {
    row.error = e.what();
    row.ns.clear();
    std::fprintf(stderr, " FAILED: %s", e.what());
  }
  row.background = judged ? bg_sum / judged : 0;
  if (row.ok()) std::fprintf(stderr, " median %.1f ns", row.median());
  std::fprintf(stderr, " (other processes: %.2f CPUs)\n", row.background);
  return row;
}

// Status checks: the lox rows check every call (a compare and a
// never-taken branch in the loop; the failure path is out of line), the
// pthread rows of case t check theirs the same way.
[[noreturn]] __attribute__((noinline, cold)) void fail_lox(int st, const char* what) {
  throw std::runtime_error(std::string(what) + ": " + lox_status_str(st) + ": " + lox_last_error());
}
inline void check_lox(int st, const char* what) {
  if (__builtin_expect(st != LOX_OK, 0)) fail_lox(st, what);
}

[[noreturn]] __attribute__((noinline, cold)) void fail_sys(int rc, const char* what) {
  throw std::runtime_error(std::string(what) + ": " + std::strerror(rc));
}
inline void check_sys(int rc, const char* what) {
  if (__builtin_expect(rc != 0, 0)) fail_sys(rc, what);
}

std::string fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, v < 100 ? "%.1f" : "%.0f", v);
  return buf;
}

std::string fmt_x(double r) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2fx", r);
  return buf;
}

const Row* find(const std::vector<Row>& rows, const std::string& peer) {
  for (const Row& r : rows)
    if (r.peer == peer && r.ok()) return &r;
  return nullptr;
}

std::string note(const Row& r) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "other load %.2f CPU", r.background);
  std::string out = buf;
  if (r.redone) out += "; " + std::to_string(r.redone) + " noisy reps redone";
  return out;
}

void print_csv(const std::string& c, const std::vector<Row>& rows) {
  if (!g_opts->csv) return;
  for (const Row& r : rows) {
    if (r.ok())
      std::printf("csv,%s,%s,%.3f,%.3f,ok,%.2f,%d\n", c.c_str(), r.peer.c_str(), r.median(), r.min(), r.background,
                  r.redone);
    else
      std::printf("csv,%s,%s,nan,nan,error\n", c.c_str(), r.peer.c_str());
  }
}

struct Summary {
  std::optional<double> lock, rw_read, qlock, sem, t100, t95, t50;
};

// ------------------------------------------------------------------ case u

// Shared by every pair loop: written inside each critical section, so the
// pair is not an empty loop (the lock calls are opaque to the compiler).
struct alignas(64) Counter {
  uint64_t n = 0;
};
Counter g_counter;

template <class Acquire, class Release>
double pair_loop(size_t n, Acquire&& acquire, Release&& release) {
  auto t0 = Clock::now();
  for (size_t i = 0; i < n; ++i) {
    acquire();
    ++g_counter.n;
    release();
  }
  return seconds_since(t0) * 1e9 / static_cast<double>(n);
}

void case_u(const Options& o, Summary& sum) {
  const size_t n = o.pairs;
  std::fprintf(stderr, "case u: %zu pairs x %d reps\n", n, o.reps);
  std::vector<Row> rows;
  auto run = [&](const std::string& peer, auto&& acquire, auto&& release) {
    if (!o.want_peer(peer)) return;
    for (size_t i = 0; i < 10000; ++i) {  // warm-up
      acquire();
      release();
    }
    rows.push_back(measure("case u", peer, o.reps, [&] { return pair_loop(n, acquire, release); }));
  };

  // Every object is created before the clock starts and destroyed after.
  pthread_mutex_t pm = PTHREAD_MUTEX_INITIALIZER;
  run("pthread_mutex", [&] { pthread_mutex_lock(&pm); }, [&] { pthread_mutex_unlock(&pm); });
  std::mutex sm;
  run("std::mutex", [&] { sm.lock(); }, [&] { sm.unlock(); });

  lox_lock* ll = nullptr;
  check_lox(lox_lock_create(&ll), "lox_lock_create");
  run("lox_lock", [&] { check_lox(lox_lock_acquire(ll, LOX_FOREVER), "acquire"); },
      [&] { check_lox(lox_lock_release(ll), "release"); });
  lox_lock_destroy(ll);
  {
    lox::lock cl;
    run("lox::lock (C++ layer)", [&] { cl.lock(); }, [&] { cl.unlock(); });
  }

  lox_qlock* ql = nullptr;
  check_lox(lox_qlock_create(&ql), "lox_qlock_create");
  run("lox_qlock", [&] { check_lox(lox_qlock_acquire(ql, LOX_FOREVER), "acquire"); },
      [&] { check_lox(lox_qlock_release(ql), "release"); });
  lox_qlock_destroy(ql);

  pthread_rwlock_t prw = PTHREAD_RWLOCK_INITIALIZER;
  run("pthread_rwlock read", [&] { pthread_rwlock_rdlock(&prw); }, [&] { pthread_rwlock_unlock(&prw); });
  std::shared_mutex shm;
  run("std::shared_mutex read", [&] { shm.lock_shared(); }, [&] { shm.unlock_shared(); });
  lox_rwlock* rw = nullptr;
  check_lox(lox_rwlock_create(&rw), "lox_rwlock_create");
  run("lox_rwlock read", [&] { check_lox(lox_rwlock_acquire(rw, LOX_READ, LOX_FOREVER), "acquire"); },
      [&] { check_lox(lox_rwlock_release(rw, LOX_READ), "release"); });
  run("pthread_rwlock write", [&] { pthread_rwlock_wrlock(&prw); }, [&] { pthread_rwlock_unlock(&prw); });
  run("std::shared_mutex write", [&] { shm.lock(); }, [&] { shm.unlock(); });
  run("lox_rwlock write", [&] { check_lox(lox_rwlock_acquire(rw, LOX_WRITE, LOX_FOREVER), "acquire"); },
      [&] { check_lox(lox_rwlock_release(rw, LOX_WRITE), "release"); });
  lox_rwlock_destroy(rw);

  sem_t sem;
  if (sem_init(&sem, 0, 4) != 0) throw std::runtime_error("sem_init failed");
  run("sem_wait/sem_post", [&] { while (sem_wait(&sem) != 0) {} }, [&] { sem_post(&sem); });
  sem_destroy(&sem);
  lox_index_semaphore* is = nullptr;
  check_lox(lox_index_semaphore_create(4, &is), "lox_index_semaphore_create");
  size_t idx = 0;
  run("lox_index_semaphore", [&] { check_lox(lox_index_semaphore_acquire(is, LOX_FOREVER, &idx), "acquire"); },
      [&] { check_lox(lox_index_semaphore_release(is, idx), "release"); });
  lox_index_semaphore_destroy(is);

  auto ratio = [&](const char* a, const char* b) -> std::optional<double> {
    const Row* x = find(rows, a);
    const Row* y = find(rows, b);
    if (!x || !y) return std::nullopt;
    return x->median() / y->median();
  };
  sum.lock = ratio("lox_lock", "pthread_mutex");
  sum.qlock = ratio("lox_qlock", "pthread_mutex");
  sum.rw_read = ratio("lox_rwlock read", "pthread_rwlock read");
  sum.sem = ratio("lox_index_semaphore", "sem_wait/sem_post");

  // Each row's reference peer for the ratio column.
  auto ref = [](const std::string& p) -> std::string {
    if (p.find("rwlock read") != std::string::npos || p.find("shared_mutex read") != std::string::npos)
      return "pthread_rwlock read";
    if (p.find("write") != std::string::npos) return "pthread_rwlock write";
    if (p.find("sem") != std::string::npos) return "sem_wait/sem_post";
    return "pthread_mutex";
  };
  std::printf("\n## Case u: uncontended acquire+release pair, 1 thread, %zu pairs per rep (%d reps)\n\n", n, o.reps);
  std::printf("| %-24s | %12s | %9s | %-32s | %s\n", "peer", "median ns", "min ns", "ratio (median)", "note");
  std::printf("|--------------------------|--------------|-----------|----------------------------------|------\n");
  for (const Row& r : rows) {
    if (!r.ok()) {
      std::printf("| %-24s | %12s | %9s | %-32s | ERROR: %s\n", r.peer.c_str(), "-", "-", "-", r.error.c_str());
      continue;
    }
    const Row* b = find(rows, ref(r.peer));
    std::string x = b ? fmt_x(r.median() / b->median()) + " " + ref(r.peer) : "-";
    std::printf("| %-24s | %12s | %9s | %-32s | %s\n", r.peer.c_str(), fmt(r.median()).c_str(), fmt(r.min()).c_str(),
                x.c_str(), note(r).c_str());
  }
  print_csv("u", rows);
}

// ------------------------------------------------------------------ case t

// The shared struct the ops touch: readers check its four words agree,
// writers increment all four. On its own cache line, away from the locks.
struct alignas(64) Shared {
  uint64_t w[4] = {0, 0, 0, 0};
};

// One reader/writer lock behind a uniform interface (virtual calls cost
// every peer the same ~1-2 ns).
struct RwPeer {
  virtual ~RwPeer() = default;
  virtual void rd() = 0;
  virtual void rd_done() = 0;
  virtual void wr() = 0;
  virtual void wr_done() = 0;
};

struct LoxRw final : RwPeer {
  lox_rwlock* h = nullptr;
  LoxRw() { check_lox(lox_rwlock_create(&h), "lox_rwlock_create"); }
  ~LoxRw() override { lox_rwlock_destroy(h); }
  void rd() override { check_lox(lox_rwlock_acquire(h, LOX_READ, LOX_FOREVER), "read acquire"); }
  void rd_done() override { check_lox(lox_rwlock_release(h, LOX_READ), "read release"); }
  void wr() override { check_lox(lox_rwlock_acquire(h, LOX_WRITE, LOX_FOREVER), "write acquire"); }
  void wr_done() override { check_lox(lox_rwlock_release(h, LOX_WRITE), "write release"); }
};

struct PthreadRw final : RwPeer {
  pthread_rwlock_t l = PTHREAD_RWLOCK_INITIALIZER;
  ~PthreadRw() override { pthread_rwlock_destroy(&l); }
  void rd() override { check_sys(pthread_rwlock_rdlock(&l), "rdlock"); }
  void rd_done() override { pthread_rwlock_unlock(&l); }
  void wr() override { check_sys(pthread_rwlock_wrlock(&l), "wrlock"); }
  void wr_done() override { pthread_rwlock_unlock(&l); }
};

struct StdShared final : RwPeer {
  std::shared_mutex m;
  void rd() override { m.lock_shared(); }
  void rd_done() override { m.unlock_shared(); }
  void wr() override { m.lock(); }
  void wr_done() override { m.unlock(); }
};

struct PthreadMutex final : RwPeer {  // reference: every op exclusive
  pthread_mutex_t l = PTHREAD_MUTEX_INITIALIZER;
  void rd() override { pthread_mutex_lock(&l); }
  void rd_done() override { pthread_mutex_unlock(&l); }
  void wr() override { pthread_mutex_lock(&l); }
  void wr_done() override { pthread_mutex_unlock(&l); }
};

std::unique_ptr<RwPeer> make_rw(const std::string& p) {
  if (p == "lox_rwlock") return std::make_unique<LoxRw>();
  if (p == "pthread_rwlock") return std::make_unique<PthreadRw>();
  if (p == "std::shared_mutex") return std::make_unique<StdShared>();
  return std::make_unique<PthreadMutex>();
}

// One repetition: `threads` threads run ops for `ms` milliseconds; returns
// wall ns per op (all threads' ops together). Throws on an inconsistency.
double throughput_rep(RwPeer& lk, Shared& data, int threads, int read_pct, double ms) {
  std::atomic<int> ready{0};
  std::atomic<bool> go{false}, stop{false};
  std::vector<uint64_t> ops(static_cast<size_t>(threads), 0);
  std::atomic<uint64_t> torn{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t)
    ts.emplace_back([&, t] {
      uint64_t seed = 0x9E3779B97F4A7C15ull * static_cast<uint64_t>(t + 1), n = 0, bad = 0;
      ready.fetch_add(1);
      while (!go.load(std::memory_order_acquire)) {
      }
      while (!stop.load(std::memory_order_relaxed)) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        const bool read = static_cast<int>((seed >> 33) % 100) < read_pct;
        if (read) {
          lk.rd();
          const uint64_t a = data.w[0], b = data.w[1], c = data.w[2], d = data.w[3];
          lk.rd_done();
          bad += (a != b) | (b != c) | (c != d);
        } else {
          lk.wr();
          ++data.w[0];
          ++data.w[1];
          ++data.w[2];
          ++data.w[3];
          lk.wr_done();
        }
        ++n;
      }
      ops[static_cast<size_t>(t)] = n;
      torn += bad;
    });
  while (ready.load() < threads) std::this_thread::yield();
  auto t0 = Clock::now();
  go.store(true, std::memory_order_release);
  std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(ms));
  stop.store(true, std::memory_order_relaxed);
  for (auto& th : ts) th.join();
  double s = seconds_since(t0);
  if (torn) throw std::runtime_error(std::to_string(torn.load()) + " torn reads: the lock let a writer in with a reader");
  uint64_t total = 0;
  for (uint64_t n : ops) total += n;
  if (data.w[0] != data.w[3]) throw std::runtime_error("writers lost updates");
  if (total == 0) throw std::runtime_error("no op completed");
  return s * 1e9 / static_cast<double>(total);
}

void case_t(const Options& o, Summary& sum) {
  const char* peers[] = {"lox_rwlock", "pthread_rwlock", "std::shared_mutex", "pthread_mutex"};
  for (int pct : {100, 95, 50}) {
    std::fprintf(stderr, "case t%d: %d threads, %d%% reads, %.0f ms x %d reps\n", pct, o.threads, pct, o.t_ms, o.reps);
    std::vector<Row> rows;
    for (const char* p : peers) {
      if (!o.want_peer(p)) continue;
      std::unique_ptr<RwPeer> lk;
      Shared data;
      try {
        lk = make_rw(p);
        throughput_rep(*lk, data, o.threads, pct, 20);  // warm-up
      } catch (const std::exception& e) {
        Row r;
        r.peer = p;
        r.error = e.what();
        rows.push_back(r);
        continue;
      }
      rows.push_back(measure("case t" + std::to_string(pct), p, o.reps,
                             [&] { return throughput_rep(*lk, data, o.threads, pct, o.t_ms); }));
    }
    const Row* base = find(rows, "pthread_rwlock");
    const Row* lox = find(rows, "lox_rwlock");
    std::optional<double> x;
    if (base && lox) x = base->median() / lox->median();  // throughput ratio
    (pct == 100 ? sum.t100 : pct == 95 ? sum.t95 : sum.t50) = x;
    std::printf("\n## Case t%d: %d threads, %d%% reads / %d%% writes, %.0f ms per rep (%d reps)\n\n", pct, o.threads,
                pct, 100 - pct, o.t_ms, o.reps);
    std::printf("| %-18s | %14s | %14s | %11s | %-26s | %s\n", "peer", "median Mops/s", "best Mops/s", "ns/op",
                "throughput vs pthread_rwlock", "note");
    std::printf("|--------------------|----------------|----------------|-------------|----------------------------|------\n");
    for (const Row& r : rows) {
      if (!r.ok()) {
        std::printf("| %-18s | %14s | %14s | %11s | %-26s | ERROR: %s\n", r.peer.c_str(), "-", "-", "-", "-",
                    r.error.c_str());
        continue;
      }
      std::printf("| %-18s | %14.2f | %14.2f | %11s | %-26s | %s\n", r.peer.c_str(), 1e3 / r.median(), 1e3 / r.min(),
                  fmt(r.median()).c_str(), base ? fmt_x(base->median() / r.median()).c_str() : "-", note(r).c_str());
    }
    print_csv("t" + std::to_string(pct), rows);
  }
}

void print_summary(const Summary& s) {
  std::printf("\n## Targets\n\n| target | measured | met |\n|---|---|---|\n");
  auto line = [](const char* what, const std::optional<double>& v, bool less, double limit) {
    if (!v) {
      std::printf("| %s | not measured | - |\n", what);
      return;
    }
    bool met = less ? *v <= limit : *v >= limit;
    std::printf("| %s | %.3fx | %s |\n", what, *v, met ? "yes" : "NO");
  };
  line("lox_lock pair <= 1.2x pthread_mutex", s.lock, true, 1.2);
  line("lox_rwlock read pair <= 1.0x pthread_rwlock read", s.rw_read, true, 1.0);
  line("lox_rwlock throughput >= 2x pthread_rwlock, 100% reads", s.t100, false, 2.0);
  line("lox_rwlock throughput >= 2x pthread_rwlock, 95% reads", s.t95, false, 2.0);
  line("(no target) lox_rwlock throughput vs pthread_rwlock, 50% reads", s.t50, false, 0.0);
  line("lox_qlock pair <= 1.2x pthread_mutex", s.qlock, true, 1.2);
  line("lox_index_semaphore pair <= 1.5x sem_wait/sem_post", s.sem, true, 1.5);
}

}  // namespace

int main(int argc, char** argv) {
  Options o = parse(argc, argv);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  g_opts = &o;
  Watchdog watchdog(o.watchdog_s);
  g_watchdog = &watchdog;
  std::printf("# lox_sync_bench: liblox %s; %d threads in case t; %u CPUs online\n", lox_version_string(), o.threads,
              std::thread::hardware_concurrency());
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
  if (o.want_case('u')) case_u(o, sum);
  if (o.want_case('t')) case_t(o, sum);
  print_summary(sum);
  std::printf("\n# total run time %.1f s; load average at end: %s; other processes used %.2f CPUs on average\n",
              seconds_since(t0), loadavg().c_str(), background_cpus(c0, cpu_sample()));
  return 0;
}
