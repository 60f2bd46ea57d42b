// SPDX-License-Identifier: Apache-2.0
// lox_queue_bench: liblox's lox_queue side by side with GLib's GAsyncQueue,
// oneTBB's concurrent_bounded_queue and a std::mutex/condition_variable
// queue, plus the cost of lox_announcement_put (see bench/README.md,
// "Queues"; bench/run_queue.sh).
//
// Cases:
//   q  N items (default 2,000,000) through one queue, P producers and C
//        consumers (default shapes 1p1c and 2p2c), on a bounded queue
//        (capacity 1024) and an unbounded one. Producer p puts its own
//        contiguous range of the values 1..N in increasing order; consumer c
//        gets exactly its share (N/C, the first N%C consumers one more), so
//        every peer stops the same way, without a close or a sentinel. Each
//        consumer stores what it got in a preallocated array (one store per
//        item, the same for every peer); after the timed region every value
//        must have arrived exactly once, and each consumer must have seen
//        each producer's values in increasing order (FIFO), or the row is an
//        ERROR and the program exits non-zero. Time: from releasing the
//        threads to the last thread's end. Reported: ns per item, items/s,
//        liblox items/s / the fastest peer's items/s.
//   a  lox_announcement_put with S subscribers (default 1, 4, 16), each with
//        an unbounded receive queue, one publisher thread, M items (default
//        1,000,000):
//        "put/batch-drain"  the publisher puts batches of B items (default
//             4096), timed; after each batch, untimed, every subscriber is
//             drained (and checked: the batch, in order, then empty). ns per
//             put: the put cost alone, with short receive queues.
//        "put/drainer"      the publisher puts all M items while one drainer
//             thread takes them item by item from every subscriber in turn
//             (blocking gets, values checked). ns per put: the publisher's
//             time; the note gives the time until everything was drained.
//        "queue_put-xS"     reference, no announcement: S plain unbounded
//             lox_queues, each put into all S, batches and drains as in
//             put/batch-drain. What the group mutex and all-or-none
//             delivery add to the S enqueues.
//
// Harness rules as in lox_bench and lox_sync_bench (harness.hpp): every peer
// in the same process and run, medians of several repetitions, repetitions
// disturbed by other processes are redone after waiting for a quiet second,
// an optional first wait for a quiet machine, hangs reported precisely
// (which thread had moved how many items), a table printed, csv lines for
// bench/run_queue.sh.
#include <lox/lox.h>

#include "harness.hpp"

#include <glib.h>
#include <oneapi/tbb/concurrent_queue.h>
#include <oneapi/tbb/version.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <functional>
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

struct Shape {
  int producers, consumers;
  bool bounded;
  std::string name() const {
    return std::to_string(producers) + "p" + std::to_string(consumers) + "c-" + (bounded ? "bounded" : "unbounded");
  }
};

struct Options {
  std::set<char> cases;  // empty = all
  int reps = 5;
  size_t items = 2'000'000;  // case q, per repetition
  size_t capacity = 1024;    // case q, bounded queues
  std::vector<std::pair<int, int>> pc = {{1, 1}, {2, 2}};
  size_t ann_items = 1'000'000;  // case a, per repetition
  size_t ann_batch = 4096;
  std::vector<int> subs = {1, 4, 16};
  double watchdog_s = 120.0;
  double wait_quiet_s = 0;
  double max_other_load = 0.3;
  bool csv = false;
  std::string peer, shape;  // only rows whose peer / shape contains this (empty = all)
  bool want_case(char c) const { return cases.empty() || cases.count(c); }
  bool want_peer(const std::string& p) const { return peer.empty() || p.find(peer) != std::string::npos; }
  bool want_shape(const std::string& s) const { return shape.empty() || s.find(shape) != std::string::npos; }
};

[[noreturn]] void usage(int rc) {
  std::printf(
      "usage: lox_queue_bench [options]\n"
      "  --case LIST      q = queue throughput, a = announcement put cost (default: both)\n"
      "  --reps N         repetitions of each measurement (default 5); median and min reported\n"
      "  --items N        items per repetition of case q (default 2000000)\n"
      "  --capacity N     capacity of the bounded queues of case q (default 1024)\n"
      "  --pc LIST        producer x consumer shapes of case q (default 1x1,2x2)\n"
      "  --ann-items N    puts per repetition of case a (default 1000000)\n"
      "  --ann-batch N    puts between two drains in case a's put/batch-drain (default 4096)\n"
      "  --subs LIST      subscriber counts of case a (default 1,4,16)\n"
      "  --peer TEXT      only the rows whose peer name contains TEXT (lox, glib, tbb, std, put/...)\n"
      "  --shape TEXT     only the case q shapes whose name contains TEXT (e.g. 2p2c, -bounded)\n"
      "  --watchdog S     report a HANG (each thread's progress) and exit 3 if one repetition\n"
      "                   takes > S s (default 120)\n"
      "  --wait-quiet S   first wait (up to S s) until other processes use < 0.15 CPU for 1 s\n"
      "  --max-other-load X  redo a repetition during which other processes used > X CPUs\n"
      "                   (after waiting for a quiet second; at most 3*reps redos per row; default 0.3)\n"
      "  --no-redo        keep every repetition whatever the machine's load\n"
      "  --csv            also print machine-readable 'csv,...' lines (used by run_queue.sh)\n"
      "Exit status: 0; 1 if a row failed its check (items lost, duplicated, out of order);\n"
      "3 on a hang; 4 if a queue call failed inside a thread.\n");
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
  auto to_num = [&](const std::string& opt, const std::string& v) -> double {
    char* end = nullptr;
    double d = std::strtod(v.c_str(), &end);
    if (v.empty() || !end || *end || !(d > 0)) {
      std::fprintf(stderr, "%s: bad value '%s'\n", opt.c_str(), v.c_str());
      usage(2);
    }
    return d;
  };
  auto list = [&](int& i) {
    std::vector<std::string> out;
    std::stringstream ss(need(i));
    std::string x;
    while (std::getline(ss, x, ',')) out.push_back(x);
    return out;
  };
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--case") {
      for (const std::string& c : list(i)) {
        if (c != "q" && c != "a") {
          std::fprintf(stderr, "unknown case '%s'\n", c.c_str());
          usage(2);
        }
        o.cases.insert(c[0]);
      }
    } else if (a == "--reps") {
      o.reps = static_cast<int>(to_num(a, need(i)));
    } else if (a == "--items") {
      o.items = static_cast<size_t>(to_num(a, need(i)));
    } else if (a == "--capacity") {
      o.capacity = static_cast<size_t>(to_num(a, need(i)));
    } else if (a == "--pc") {
      o.pc.clear();
      for (const std::string& s : list(i)) {
        size_t x = s.find('x');
        if (x == std::string::npos) {
          std::fprintf(stderr, "--pc: '%s' is not PxC\n", s.c_str());
          usage(2);
        }
        o.pc.emplace_back(static_cast<int>(to_num(a, s.substr(0, x))), static_cast<int>(to_num(a, s.substr(x + 1))));
      }
    } else if (a == "--ann-items") {
      o.ann_items = static_cast<size_t>(to_num(a, need(i)));
    } else if (a == "--ann-batch") {
      o.ann_batch = static_cast<size_t>(to_num(a, need(i)));
    } else if (a == "--subs") {
      o.subs.clear();
      for (const std::string& s : list(i)) o.subs.push_back(static_cast<int>(to_num(a, s)));
    } else if (a == "--peer") {
      o.peer = need(i);
    } else if (a == "--shape") {
      o.shape = need(i);
    } else if (a == "--watchdog") {
      o.watchdog_s = to_num(a, need(i));
    } else if (a == "--max-other-load") {
      o.max_other_load = to_num(a, need(i));
    } else if (a == "--no-redo") {
      o.max_other_load = 0;
    } else if (a == "--wait-quiet") {
      o.wait_quiet_s = to_num(a, need(i));
    } else if (a == "--csv") {
      o.csv = true;
    } else if (a == "-h" || a == "--help") {
      usage(0);
    } else {
      std::fprintf(stderr, "unknown option '%s'\n", a.c_str());
      usage(2);
    }
  }
  if (o.reps < 1 || o.items < 1 || o.ann_items < 1 || o.ann_batch < 1) usage(2);
  for (auto [p, c] : o.pc)
    if (static_cast<size_t>(p) > o.items || static_cast<size_t>(c) > o.items) usage(2);
  return o;
}

const Options* g_opts = nullptr;

[[noreturn]] __attribute__((noinline, cold)) void lox_failed(int st, const char* what) {
  throw std::runtime_error(std::string(what) + ": " + lox_status_str(st) + ": " + lox_last_error());
}
// Every lox call's status is checked; the failure path is out of line.
inline void must(int st, const char* what) {
  if (__builtin_expect(st != LOX_OK, 0)) lox_failed(st, what);
}

inline void* item(uint64_t v) { return reinterpret_cast<void*>(static_cast<uintptr_t>(v)); }
inline uint64_t value(void* p) { return static_cast<uint64_t>(reinterpret_cast<uintptr_t>(p)); }

// ------------------------------------------------------------- measurement
// A row is one peer in one shape: ns per unit for each kept repetition.
// Repetitions during which other processes used more than --max-other-load
// CPUs are redone after a quiet second (at most 3*reps times), as in the
// other bench programs.

struct Row {
  std::string shape, peer;
  std::vector<double> ns;
  std::string error, na;  // na: not applicable (the reason), no figures
  double background = 0, own_cpus = 0;
  int redone = 0, judged = 0;  // judged: reps long enough (>= 50 ms) to read the CPU counters
  std::string note;  // extra figures (case a: end-to-end time)
  double median() const {
    std::vector<double> s = ns;
    std::sort(s.begin(), s.end());
    size_t n = s.size();
    return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  }
  double min() const { return *std::min_element(ns.begin(), ns.end()); }
  bool ok() const { return error.empty() && na.empty() && !ns.empty(); }
};

bool g_failed = false;  // a row failed its check: exit status 1 at the end

// one_rep(label) runs one repetition (label names it in hang reports) and
// returns ns per unit, or throws on a failed check.
template <class Fn>
Row measure(const std::string& shape, const std::string& peer, Fn&& one_rep) {
  Row row;
  row.shape = shape;
  row.peer = peer;
  const int reps = g_opts->reps;
  std::fprintf(stderr, "  %-16s %-18s ", shape.c_str(), peer.c_str());
  double bg_sum = 0, own_sum = 0;
  int judged = 0, redo_budget = g_opts->max_other_load > 0 ? 3 * reps : 0;
  try {
    for (int r = 0; r < reps;) {
      const std::string what = shape + " / " + peer + " / rep " + std::to_string(r + 1);
      CpuSample c0 = cpu_sample();
      double v;
      {
        WatchScope w(what);  // a hang outside the crews (a drain, a check)
        v = one_rep(what);
      }
      CpuSample c1 = cpu_sample();
      double wall = std::chrono::duration<double>(c1.t - c0.t).count();
      double bg = background_cpus(c0, c1);
      bool judgeable = wall >= 0.05;  // the /proc counters tick every 10 ms
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
      row.ns.push_back(v);
      if (judgeable) {
        bg_sum += bg;
        own_sum += (c1.self_s - c0.self_s) / wall;
        ++judged;
      }
      ++r;
      std::fputc('.', stderr);
    }
  } catch (const std::exception& e) {
    row.error = e.what();
    row.ns.clear();
    g_failed = true;
    std::fprintf(stderr, " FAILED: %s", e.what());
  }
  row.background = judged ? bg_sum / judged : 0;
  row.own_cpus = judged ? own_sum / judged : 0;
  row.judged = judged;
  if (row.ok()) std::fprintf(stderr, " median %.1f ns", row.median());
  std::fprintf(stderr, " (other processes: %.2f CPUs)\n", row.background);
  return row;
}

// ------------------------------------------------------------------- crews
// The threads of one repetition: started, then released together (the
// clock starts at the release), waited for by the main thread with a time
// limit. Each thread publishes how many items it has moved (a relaxed store
// to a cache line of its own), so a hang is reported as "producer 1 put
// 713 of 1000000, consumer 0 got ...", and a failed call inside a thread
// stops the program with that report instead of leaving the others blocked.

struct alignas(64) Progress {
  std::atomic<uint64_t> n{0};
  Clock::time_point end{};
};

struct Member {
  std::string name;  // "producer 0"
  const char* verb;  // "put"
  uint64_t expected;
  std::function<void(Progress&)> body;
};

struct CrewTimes {
  Clock::time_point t0;
  std::vector<double> end_s;  // per member, seconds after t0
  double last_s = 0;          // the last member's end
};

CrewTimes run_crew(std::vector<Member>& ms, const std::string& what, const std::function<std::string()>& state) {
  const size_t k = ms.size();
  std::unique_ptr<Progress[]> prog(new Progress[k]);
  std::atomic<size_t> ready{0};
  std::atomic<bool> go{false};
  std::mutex m;
  std::condition_variable cv;
  size_t finished = 0;
  std::string failure;
  std::vector<std::thread> ts;
  for (size_t i = 0; i < k; ++i)
    ts.emplace_back([&, i] {
      ready.fetch_add(1);
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
      std::string err;
      try {
        ms[i].body(prog[i]);
      } catch (const std::exception& e) {
        err = e.what();
      }
      prog[i].end = Clock::now();
      {
        std::lock_guard lk(m);
        ++finished;
        if (!err.empty() && failure.empty()) failure = ms[i].name + ": " + err;
      }
      cv.notify_one();
    });
  while (ready.load() < k) std::this_thread::yield();
  CrewTimes out;
  out.t0 = Clock::now();
  go.store(true, std::memory_order_release);
  {
    std::unique_lock lk(m);
    bool done = cv.wait_for(lk, std::chrono::duration<double>(g_opts->watchdog_s),
                            [&] { return finished == k || !failure.empty(); });
    if (!done || !failure.empty()) {
      char limit[32];
      std::snprintf(limit, sizeof limit, "%.0f", g_opts->watchdog_s);
      std::string head = done ? "FAILED: '" + what + "': " + failure
                              : "HANG: '" + what + "' did not finish within " + limit + " s";
      std::string progress = "progress:";
      for (size_t i = 0; i < k; ++i)
        progress += " " + ms[i].name + " " + ms[i].verb + " " + std::to_string(prog[i].n.load()) + " of " +
                    std::to_string(ms[i].expected) + ";";
      const std::string st = state();
      std::fprintf(stderr, "\n%s\n  %s\n  %s\n", head.c_str(), progress.c_str(), st.c_str());
      std::printf("# %s\n#   %s\n#   %s\n", head.c_str(), progress.c_str(), st.c_str());
      std::fflush(stdout);
      std::fflush(stderr);
      std::_Exit(done ? 4 : 3);
    }
  }
  for (auto& t : ts) t.join();
  for (size_t i = 0; i < k; ++i) {
    out.end_s.push_back(std::chrono::duration<double>(prog[i].end - out.t0).count());
    out.last_s = std::max(out.last_s, out.end_s.back());
  }
  return out;
}

// ------------------------------------------------------------------ case q
// The four queues behind the same compile-time interface (no virtual call:
// each peer's loop is compiled for it): put(item) and get() block forever,
// size() is a snapshot for hang reports and the post-check.

struct LoxQueue {
  static constexpr const char* name = "lox";
  lox_queue* q = nullptr;
  explicit LoxQueue(size_t cap) { must(lox_queue_create(cap, &q), "lox_queue_create"); }
  ~LoxQueue() { lox_queue_destroy(q); }
  void put(void* v) { must(lox_queue_put(q, v, LOX_FOREVER), "lox_queue_put"); }
  void* get() {
    void* v = nullptr;
    must(lox_queue_get(q, &v, LOX_FOREVER), "lox_queue_get");
    return v;
  }
  long long size() const { return static_cast<long long>(lox_queue_size(q)); }
};

// GAsyncQueue has no capacity: it exists only unbounded.
struct GlibQueue {
  static constexpr const char* name = "glib";
  GAsyncQueue* q = g_async_queue_new();
  explicit GlibQueue(size_t cap) {
    if (cap) throw std::logic_error("GAsyncQueue cannot be bounded");
  }
  ~GlibQueue() { g_async_queue_unref(q); }
  void put(void* v) { g_async_queue_push(q, v); }  // v is never NULL (values start at 1)
  void* get() { return g_async_queue_pop(q); }
  long long size() const { return g_async_queue_length(q); }  // minus waiting threads
};

struct TbbQueue {
  static constexpr const char* name = "tbb";
  tbb::concurrent_bounded_queue<void*> q;
  explicit TbbQueue(size_t cap) {
    if (cap) q.set_capacity(static_cast<std::ptrdiff_t>(cap));
  }
  void put(void* v) { q.push(v); }
  void* get() {
    void* v = nullptr;
    q.pop(v);
    return v;
  }
  long long size() const { return static_cast<long long>(q.size()); }  // minus waiting pops
};

// The textbook queue: one mutex, a deque, not_empty (and not_full when
// bounded); notify_one after unlocking on every put and get.
struct StdQueue {
  static constexpr const char* name = "std";
  std::mutex m;
  std::condition_variable not_empty, not_full;
  std::deque<void*> d;
  size_t cap;
  explicit StdQueue(size_t c) : cap(c) {}
  void put(void* v) {
    {
      std::unique_lock lk(m);
      if (cap) not_full.wait(lk, [&] { return d.size() < cap; });
      d.push_back(v);
    }
    not_empty.notify_one();
  }
  void* get() {
    void* v;
    {
      std::unique_lock lk(m);
      not_empty.wait(lk, [&] { return !d.empty(); });
      v = d.front();
      d.pop_front();
    }
    if (cap) not_full.notify_one();
    return v;
  }
  long long size() {
    std::lock_guard lk(m);
    return static_cast<long long>(d.size());
  }
};

// Who puts and gets what: producer p puts the values first(p) .. first(p+1)-1
// in increasing order; consumer c gets quota(c) items.
struct Plan {
  size_t n;
  int producers, consumers;
  uint64_t first(int p) const { return static_cast<uint64_t>(p) * n / static_cast<uint64_t>(producers) + 1; }
  uint64_t quota(int c) const {
    return n / static_cast<uint64_t>(consumers) + (static_cast<uint64_t>(c) < n % static_cast<uint64_t>(consumers));
  }
  int producer_of(uint64_t v) const {
    int p = 0;
    while (p + 1 < producers && v >= first(p + 1)) ++p;
    return p;
  }
};

// What the consumers got, in arrival order (preallocated and touched before
// the clock starts, reused by every repetition of a row).
struct Received {
  std::vector<std::vector<uint64_t>> got;
  std::vector<uint8_t> seen;
  void prepare(const Plan& pl) {
    got.resize(static_cast<size_t>(pl.consumers));
    for (int c = 0; c < pl.consumers; ++c) got[static_cast<size_t>(c)].assign(pl.quota(c), 0);
    seen.assign(pl.n + 1, 0);
  }
};

// Every value 1..n exactly once, each producer's values in increasing order
// as seen by each consumer (FIFO). Throws a precise description otherwise.
void verify(const Plan& pl, Received& rx, long long size_after, const std::string& what) {
  std::fill(rx.seen.begin(), rx.seen.end(), 0);
  uint64_t out_of_range = 0, disorder = 0, first_bad = 0;
  std::string disorder_example;
  for (int c = 0; c < pl.consumers; ++c) {
    std::vector<uint64_t> last(static_cast<size_t>(pl.producers), 0);
    const auto& g = rx.got[static_cast<size_t>(c)];
    for (size_t i = 0; i < g.size(); ++i) {
      uint64_t v = g[i];
      if (v == 0 || v > pl.n) {
        if (!out_of_range++) first_bad = v;
        continue;
      }
      if (rx.seen[v] < 255) ++rx.seen[v];
      uint64_t& l = last[static_cast<size_t>(pl.producer_of(v))];
      if (v <= l && !disorder++)
        disorder_example = "consumer " + std::to_string(c) + " got " + std::to_string(v) + " (its item " +
                           std::to_string(i) + ") after " + std::to_string(l) + " from producer " +
                           std::to_string(pl.producer_of(v));
      l = std::max(l, v);
    }
  }
  uint64_t missing = 0, duplicated = 0, first_missing = 0, first_dup = 0;
  for (uint64_t v = 1; v <= pl.n; ++v) {
    if (rx.seen[v] == 0 && !missing++) first_missing = v;
    if (rx.seen[v] > 1 && !duplicated++) first_dup = v;
  }
  std::string err;
  if (missing || duplicated || out_of_range)
    err += std::to_string(missing) + " of " + std::to_string(pl.n) + " items never got (first: " +
           std::to_string(first_missing) + "), " + std::to_string(duplicated) + " got more than once (first: " +
           std::to_string(first_dup) + "), " + std::to_string(out_of_range) + " values never put (first: " +
           std::to_string(first_bad) + "); ";
  if (disorder) err += std::to_string(disorder) + " out of FIFO order (first: " + disorder_example + "); ";
  if (size_after != 0) err += "queue size after every item was got: " + std::to_string(size_after) + "; ";
  if (!err.empty()) throw std::runtime_error(what + ": " + err);
}

// One repetition: n items through q; returns ns per item.
template <class Q>
double queue_rep(Q& q, const Plan& pl, Received& rx, const std::string& what, bool check) {
  std::vector<Member> ms;
  for (int p = 0; p < pl.producers; ++p) {
    const uint64_t lo = pl.first(p), hi = pl.first(p + 1);
    ms.push_back({"producer " + std::to_string(p), "put", hi - lo, [&q, lo, hi](Progress& pr) {
                    for (uint64_t v = lo; v < hi; ++v) {
                      q.put(item(v));
                      pr.n.store(v - lo + 1, std::memory_order_relaxed);
                    }
                  }});
  }
  for (int c = 0; c < pl.consumers; ++c) {
    uint64_t* out = rx.got[static_cast<size_t>(c)].data();
    const uint64_t quota = pl.quota(c);
    ms.push_back({"consumer " + std::to_string(c), "got", quota, [&q, out, quota](Progress& pr) {
                    for (uint64_t i = 0; i < quota; ++i) {
                      out[i] = value(q.get());
                      pr.n.store(i + 1, std::memory_order_relaxed);
                    }
                  }});
  }
  CrewTimes t = run_crew(ms, what, [&] { return "queue size now: " + std::to_string(q.size()); });
  if (check) verify(pl, rx, q.size(), what);
  return t.last_s * 1e9 / static_cast<double>(pl.n);
}

template <class Q>
Row queue_row(const Options& o, const Shape& sh, Received& rx) {
  const std::string shape = sh.name();
  const size_t cap = sh.bounded ? o.capacity : 0;
  if (sh.bounded && std::string(Q::name) == "glib") {
    Row r;
    r.shape = shape;
    r.peer = Q::name;
    r.na = "GAsyncQueue has no capacity limit";
    return r;
  }
  try {
    Q q(cap);
    Plan warm{std::min<size_t>(o.items, 20000), sh.producers, sh.consumers};
    rx.prepare(warm);
    queue_rep(q, warm, rx, shape + " / " + Q::name + " / warm-up", true);
    Plan pl{o.items, sh.producers, sh.consumers};
    rx.prepare(pl);
    return measure(shape, Q::name, [&](const std::string& what) { return queue_rep(q, pl, rx, what, true); });
  } catch (const std::exception& e) {  // creation or warm-up failed its check
    Row r;
    r.shape = shape;
    r.peer = Q::name;
    r.error = e.what();
    g_failed = true;
    std::fprintf(stderr, "  %-16s %-18s FAILED: %s\n", shape.c_str(), Q::name, e.what());
    return r;
  }
}

std::string fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, v < 100 ? "%.1f" : "%.0f", v);
  return buf;
}

std::string row_note(const Row& r) {
  char buf[96];
  if (r.judged)
    std::snprintf(buf, sizeof buf, "CPUs used %.2f; other load %.2f CPU", r.own_cpus, r.background);
  else
    std::snprintf(buf, sizeof buf, "reps < 50 ms: load not measured");
  std::string out = r.note.empty() ? buf : r.note + "; " + buf;
  if (r.redone) out += "; " + std::to_string(r.redone) + " noisy reps redone";
  return out;
}

// csv,<case>,<shape>,<peer>,<median ns>,<min ns>,<ok|error|na>,<other load>,<reps redone>,<CPUs used>
void print_csv(const char* c, const std::vector<Row>& rows) {
  if (!g_opts->csv) return;
  for (const Row& r : rows) {
    if (r.ok())
      std::printf("csv,%s,%s,%s,%.3f,%.3f,ok,%.2f,%d,%.2f\n", c, r.shape.c_str(), r.peer.c_str(), r.median(), r.min(),
                  r.background, r.redone, r.own_cpus);
    else
      std::printf("csv,%s,%s,%s,nan,nan,%s\n", c, r.shape.c_str(), r.peer.c_str(), r.na.empty() ? "error" : "na");
  }
}

struct Verdict {
  std::string shape;
  std::optional<double> ratio;  // lox items/s / fastest peer items/s
  std::string fastest;
};

void case_q(const Options& o, std::vector<Verdict>& verdicts) {
  std::vector<Row> rows;
  std::vector<Shape> shapes;
  for (auto [p, c] : o.pc)
    for (bool b : {true, false}) shapes.push_back({p, c, b});
  std::fprintf(stderr, "case q: %zu items x %d reps, bounded capacity %zu\n", o.items, o.reps, o.capacity);
  Received rx;
  for (const Shape& sh : shapes) {
    if (!o.want_shape(sh.name())) continue;
    std::vector<Row> mine;
    if (o.want_peer("lox")) mine.push_back(queue_row<LoxQueue>(o, sh, rx));
    if (o.want_peer("glib")) mine.push_back(queue_row<GlibQueue>(o, sh, rx));
    if (o.want_peer("tbb")) mine.push_back(queue_row<TbbQueue>(o, sh, rx));
    if (o.want_peer("std")) mine.push_back(queue_row<StdQueue>(o, sh, rx));
    Verdict v{sh.name(), std::nullopt, ""};
    const Row* lox = nullptr;
    const Row* best = nullptr;
    for (const Row& r : mine) {
      if (!r.ok()) continue;
      if (r.peer == "lox")
        lox = &r;
      else if (!best || r.median() < best->median())
        best = &r;
    }
    if (lox && best) {
      v.ratio = best->median() / lox->median();
      v.fastest = best->peer;
    }
    verdicts.push_back(v);
    rows.insert(rows.end(), mine.begin(), mine.end());
  }
  std::printf("\n## Case q: %zu items per rep through one queue (%d reps); bounded = capacity %zu\n\n", o.items,
              o.reps, o.capacity);
  std::printf("| %-16s | %-5s | %11s | %9s | %12s | %-20s | %s\n", "shape", "peer", "median ns", "min ns",
              "Mitems/s", "lox / this (items/s)", "note");
  std::printf("|------------------|-------|-------------|-----------|--------------|----------------------|------\n");
  for (const Row& r : rows) {
    if (!r.na.empty()) {
      std::printf("| %-16s | %-5s | %11s | %9s | %12s | %-20s | n/a: %s\n", r.shape.c_str(), r.peer.c_str(), "n/a",
                  "n/a", "n/a", "-", r.na.c_str());
      continue;
    }
    if (!r.ok()) {
      std::printf("| %-16s | %-5s | %11s | %9s | %12s | %-20s | ERROR: %s\n", r.shape.c_str(), r.peer.c_str(), "-",
                  "-", "-", "-", r.error.c_str());
      continue;
    }
    const Row* lox = nullptr;
    for (const Row& x : rows)
      if (x.shape == r.shape && x.peer == "lox" && x.ok()) lox = &x;
    char ratio[32] = "-";
    if (lox) std::snprintf(ratio, sizeof ratio, "%.2fx", r.median() / lox->median());
    std::printf("| %-16s | %-5s | %11s | %9s | %12.2f | %-20s | %s\n", r.shape.c_str(), r.peer.c_str(),
                fmt(r.median()).c_str(), fmt(r.min()).c_str(), 1e3 / r.median(), ratio, row_note(r).c_str());
  }
  print_csv("q", rows);
}

// ------------------------------------------------------------------ case a

struct Group {
  lox_announcement* pub = nullptr;
  std::vector<lox_announcement*> subs;
  explicit Group(int s) {
    must(lox_announcement_create(0, LOX_BACKLOG_OFF, &pub), "lox_announcement_create");
    for (int i = 0; i < s; ++i) {
      lox_announcement* a = nullptr;
      must(lox_announcement_subscribe(pub, 0, LOX_FOREVER, &a), "lox_announcement_subscribe");
      subs.push_back(a);
    }
  }
  ~Group() {
    for (auto* a : subs) lox_announcement_destroy(a);
    lox_announcement_destroy(pub);
  }
};

// Untimed: each receiver must hold exactly lo..hi-1, in order, then be empty.
template <class Get>
void drain_check(size_t receivers, uint64_t lo, uint64_t hi, Get&& get, const std::string& what) {
  for (size_t s = 0; s < receivers; ++s) {
    for (uint64_t v = lo; v < hi; ++v) {
      void* x = nullptr;
      int st = get(s, &x);
      if (st != LOX_OK || value(x) != v)
        throw std::runtime_error(what + ": receiver " + std::to_string(s) + " expected item " + std::to_string(v) +
                                 ", got " +
                                 (st == LOX_OK ? "item " + std::to_string(value(x))
                                               : std::string(lox_status_str(st)) + " (" + lox_last_error() + ")"));
    }
    void* x = nullptr;
    int st = get(s, &x);
    if (st != LOX_TIMEOUT)
      throw std::runtime_error(what + ": receiver " + std::to_string(s) + " holds more than the " +
                               std::to_string(hi - lo) + " items put (get after them: " +
                               (st == LOX_OK ? "item " + std::to_string(value(x)) : lox_status_str(st)) + ")");
  }
}

// put/batch-drain and queue_put-xS: batches of puts (timed), drains (untimed).
template <class PutAll, class Get>
double batched_rep(const Options& o, size_t receivers, PutAll&& put_all, Get&& get, const std::string& what) {
  double timed = 0;
  for (uint64_t lo = 1; lo <= o.ann_items; lo += o.ann_batch) {
    const uint64_t hi = std::min<uint64_t>(lo + o.ann_batch, o.ann_items + 1);
    auto t0 = Clock::now();
    for (uint64_t v = lo; v < hi; ++v) put_all(item(v));
    timed += seconds_since(t0);
    drain_check(receivers, lo, hi, get, what);
  }
  return timed * 1e9 / static_cast<double>(o.ann_items);
}

Row ann_batch_row(const Options& o, int s) {
  Group g(s);
  auto put = [&](void* v) { must(lox_announcement_put(g.pub, v, LOX_FOREVER), "lox_announcement_put"); };
  auto get = [&](size_t i, void** x) { return lox_announcement_get(g.subs[i], x, 0); };
  for (uint64_t v = 1; v <= 1000; ++v) put(item(v));  // warm-up
  drain_check(g.subs.size(), 1, 1001, get, "warm-up");
  return measure(std::to_string(s) + "-subs", "put/batch-drain",
                 [&](const std::string& what) { return batched_rep(o, g.subs.size(), put, get, what); });
}

Row queue_ref_row(const Options& o, int s) {
  std::vector<lox_queue*> qs(static_cast<size_t>(s), nullptr);
  struct Free {
    std::vector<lox_queue*>& qs;
    ~Free() {
      for (auto* q : qs) lox_queue_destroy(q);
    }
  } free_them{qs};
  for (auto*& q : qs) must(lox_queue_create(0, &q), "lox_queue_create");
  auto put = [&](void* v) {
    for (lox_queue* q : qs) must(lox_queue_put(q, v, LOX_FOREVER), "lox_queue_put");
  };
  auto get = [&](size_t i, void** x) { return lox_queue_get(qs[i], x, 0); };
  for (uint64_t v = 1; v <= 1000; ++v) put(item(v));
  drain_check(qs.size(), 1, 1001, get, "warm-up");
  return measure(std::to_string(s) + "-subs", "queue_put-x" + std::to_string(s),
                 [&](const std::string& what) { return batched_rep(o, qs.size(), put, get, what); });
}

// put/drainer: the publisher puts 1..M while one drainer takes item v from
// every subscriber in turn (blocking), then v+1, ... Returns the
// publisher's ns per put; *all_ns gets the time until the drainer was done.
double drainer_rep(Group& g, uint64_t m, const std::string& what, double* all_ns) {
  std::atomic<uint64_t> wrong{0};
  std::string first_wrong;
  std::vector<Member> ms;
  ms.push_back({"publisher", "put", m, [&](Progress& pr) {
                  for (uint64_t v = 1; v <= m; ++v) {
                    must(lox_announcement_put(g.pub, item(v), LOX_FOREVER), "lox_announcement_put");
                    pr.n.store(v, std::memory_order_relaxed);
                  }
                }});
  ms.push_back({"drainer", "got", m * g.subs.size(), [&](Progress& pr) {
                  uint64_t n = 0;
                  for (uint64_t v = 1; v <= m; ++v)
                    for (size_t s = 0; s < g.subs.size(); ++s) {
                      void* x = nullptr;
                      must(lox_announcement_get(g.subs[s], &x, LOX_FOREVER), "lox_announcement_get");
                      if (value(x) != v && !wrong.fetch_add(1))
                        first_wrong = "subscriber " + std::to_string(s) + " gave item " + std::to_string(value(x)) +
                                      " where " + std::to_string(v) + " was due";
                      pr.n.store(++n, std::memory_order_relaxed);
                    }
                }});
  CrewTimes t = run_crew(ms, what, [&] {
    std::string s = "receive queue sizes now:";
    for (auto* a : g.subs) s += " " + std::to_string(lox_announcement_size(a));
    return s;
  });
  if (wrong) throw std::runtime_error(what + ": " + std::to_string(wrong.load()) + " items wrong: " + first_wrong);
  for (size_t s = 0; s < g.subs.size(); ++s)
    if (lox_announcement_size(g.subs[s]) != 0)
      throw std::runtime_error(what + ": subscriber " + std::to_string(s) + " holds " +
                               std::to_string(lox_announcement_size(g.subs[s])) + " items more than were put");
  if (all_ns) *all_ns = t.last_s * 1e9 / static_cast<double>(m);
  return t.end_s[0] * 1e9 / static_cast<double>(m);
}

Row ann_drainer_row(const Options& o, int s) {
  Group g(s);
  drainer_rep(g, 1000, "warm-up", nullptr);
  std::vector<double> all;
  Row r = measure(std::to_string(s) + "-subs", "put/drainer", [&](const std::string& what) {
    double a = 0;
    double put = drainer_rep(g, o.ann_items, what, &a);
    all.push_back(a);  // also of redone reps: only the note uses it
    return put;
  });
  if (r.ok() && !all.empty()) {
    std::sort(all.begin(), all.end());
    r.note = "until drained " + fmt(all[all.size() / 2]) + " ns/item";
  }
  return r;
}

struct AnnSummary {
  int subs;
  std::optional<double> batch, drainer, ref;
};

void case_a(const Options& o, std::vector<AnnSummary>& sum) {
  std::vector<Row> rows;
  std::fprintf(stderr, "case a: %zu puts x %d reps, batches of %zu\n", o.ann_items, o.reps, o.ann_batch);
  for (int s : o.subs) {
    AnnSummary a{s, {}, {}, {}};
    auto add = [&](Row (*f)(const Options&, int), const std::string& peer, std::optional<double>& slot) {
      if (!o.want_peer(peer)) return;
      Row r;
      try {
        r = f(o, s);
      } catch (const std::exception& e) {  // set-up or warm-up failed
        r.shape = std::to_string(s) + "-subs";
        r.peer = peer;
        r.error = e.what();
        g_failed = true;
        std::fprintf(stderr, "  %-16s %-18s FAILED: %s\n", r.shape.c_str(), peer.c_str(), e.what());
      }
      if (r.ok()) slot = r.median();
      rows.push_back(r);
    };
    add(ann_batch_row, "put/batch-drain", a.batch);
    add(ann_drainer_row, "put/drainer", a.drainer);
    add(queue_ref_row, "queue_put-x" + std::to_string(s), a.ref);
    sum.push_back(a);
  }
  std::printf("\n## Case a: lox_announcement_put, %zu puts per rep (%d reps), unbounded receive queues\n\n",
              o.ann_items, o.reps);
  std::printf("| %-8s | %-16s | %11s | %9s | %11s | %s\n", "subs", "what", "median ns", "min ns", "ns/receiver",
              "note");
  std::printf("|----------|------------------|-------------|-----------|-------------|------\n");
  for (const Row& r : rows) {
    if (!r.ok()) {
      std::printf("| %-8s | %-16s | %11s | %9s | %11s | ERROR: %s\n", r.shape.c_str(), r.peer.c_str(), "-", "-", "-",
                  r.error.c_str());
      continue;
    }
    const double subs = std::stod(r.shape);
    std::printf("| %-8s | %-16s | %11s | %9s | %11s | %s\n", r.shape.c_str(), r.peer.c_str(), fmt(r.median()).c_str(),
                fmt(r.min()).c_str(), fmt(r.median() / subs).c_str(), row_note(r).c_str());
  }
  print_csv("a", rows);
}

void print_summary(const std::vector<Verdict>& q, const std::vector<AnnSummary>& a) {
  std::printf("\n## Targets\n\n| target | measured | met |\n|---|---|---|\n");
  for (const Verdict& v : q) {
    if (!v.ratio)
      std::printf("| lox_queue >= 2x the fastest peer's items/s, %s | not measured | - |\n", v.shape.c_str());
    else
      std::printf("| lox_queue >= 2x the fastest peer's items/s, %s | %.2fx (fastest peer: %s) | %s |\n",
                  v.shape.c_str(), *v.ratio, v.fastest.c_str(), *v.ratio >= 2.0 ? "yes" : "NO");
  }
  for (const AnnSummary& s : a) {
    auto f = [](const std::optional<double>& x) { return x ? fmt(*x) : std::string("-"); };
    std::printf("| (no target) lox_announcement_put, %d subscriber(s), ns per put | batch-drain %s, drainer %s; "
                "%d x lox_queue_put %s | |\n",
                s.subs, f(s.batch).c_str(), f(s.drainer).c_str(), s.subs, f(s.ref).c_str());
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options o = parse(argc, argv);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  g_opts = &o;
  // The crews report their own hangs after --watchdog s; this one catches
  // a hang anywhere else (creation, a drain, a destroy).
  Watchdog watchdog(o.watchdog_s + 30);
  g_watchdog = &watchdog;
  std::printf("# lox_queue_bench: liblox %s, oneTBB %s, GLib %u.%u.%u; %u CPUs online\n", lox_version_string(),
              TBB_VERSION_STRING, glib_major_version, glib_minor_version, glib_micro_version,
              std::thread::hardware_concurrency());
  if (o.wait_quiet_s > 0) {
    auto start = Clock::now();
    bool quiet = wait_quiet(0.15, o.wait_quiet_s);
    std::printf(quiet ? "# machine quiet after %.0f s\n" : "# WARNING: machine not quiet after %.0f s; running anyway\n",
                seconds_since(start));
  }
  std::printf("# load average at start: %s\n", loadavg().c_str());
  std::vector<Verdict> qv;
  std::vector<AnnSummary> av;
  auto t0 = Clock::now();
  CpuSample c0 = cpu_sample();
  if (o.want_case('q')) case_q(o, qv);
  if (o.want_case('a')) case_a(o, av);
  print_summary(qv, av);
  std::printf("\n# total run time %.1f s; load average at end: %s; other processes used %.2f CPUs on average\n",
              seconds_since(t0), loadavg().c_str(), background_cpus(c0, cpu_sample()));
  if (g_failed) {
    std::printf("# FAILED: at least one row lost, duplicated or reordered items (see ERROR rows)\n");
    return 1;
  }
  return 0;
}
