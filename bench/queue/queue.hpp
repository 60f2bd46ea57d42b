// SPDX-License-Identifier: Apache-2.0
// lox_queue_bench's options, cases and the queue peers' common frame (see
// main.cpp). One file per queue peer (lox.cpp, glib.cpp, tbb.cpp, std.cpp):
// each defines its queue type and its row of case q with queue_row<Q>().
#pragma once

#include "crew.hpp"

#include "../common/measure.hpp"

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace lox_bench::queue {

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
  std::string peer, shape;  // only rows whose peer / shape contains this (empty = all)
  bool want_case(char c) const { return cases.empty() || cases.count(c); }
  bool want_peer(const std::string& p) const { return peer.empty() || p.find(peer) != std::string::npos; }
  bool want_shape(const std::string& s) const { return shape.empty() || s.find(shape) != std::string::npos; }
};

inline void* item(uint64_t v) { return reinterpret_cast<void*>(static_cast<uintptr_t>(v)); }
inline uint64_t value(void* p) { return static_cast<uint64_t>(reinterpret_cast<uintptr_t>(p)); }

// A row that failed before its repetitions (creation, warm-up).
Row setup_failed(const std::string& shape, const std::string& peer, const std::string& error);

// ------------------------------------------------------------------ case q

struct Verdict {
  std::string shape;
  std::optional<double> ratio;  // lox items/s / fastest peer items/s
  std::string fastest;
};

void case_q(const Options& o, std::vector<Verdict>& verdicts);  // throughput.cpp

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
void verify(const Plan& pl, Received& rx, long long size_after, const std::string& what);

// The queues share a compile-time interface (no virtual call: each peer's
// loop is compiled for it): `name`, a constructor taking the capacity (0:
// unbounded), put(item) and get() that block forever, size() a snapshot for
// hang reports and the post-check. A queue that cannot be bounded says why
// in `no_capacity`.

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

// Q's row of case q in shape `sh`: created, warmed up, measured.
template <class Q>
Row queue_row(const Options& o, const Shape& sh, Received& rx) {
  const std::string shape = sh.name();
  if constexpr (requires { Q::no_capacity; }) {
    if (sh.bounded) {
      Row r;
      r.shape = shape;
      r.peer = Q::name;
      r.na = Q::no_capacity;
      return r;
    }
  }
  try {
    Q q(sh.bounded ? o.capacity : 0);
    Plan warm{std::min<size_t>(o.items, 20000), sh.producers, sh.consumers};
    rx.prepare(warm);
    queue_rep(q, warm, rx, shape + " / " + Q::name + " / warm-up", true);
    Plan pl{o.items, sh.producers, sh.consumers};
    rx.prepare(pl);
    Row row;
    row.shape = shape;
    row.peer = Q::name;
    row.unit = "ns";
    return measure(shape, row, o.reps, [&](const std::string& what) { return queue_rep(q, pl, rx, what, true); });
  } catch (const std::exception& e) {  // creation or warm-up failed its check
    return setup_failed(shape, Q::name, e.what());
  }
}

Row lox_queue_row(const Options& o, const Shape& sh, Received& rx);   // lox.cpp
Row glib_queue_row(const Options& o, const Shape& sh, Received& rx);  // glib.cpp
Row tbb_queue_row(const Options& o, const Shape& sh, Received& rx);   // tbb.cpp
Row std_queue_row(const Options& o, const Shape& sh, Received& rx);   // std.cpp
std::string glib_version();
std::string tbb_version();

// ------------------------------------------------------------------ case a

struct AnnSummary {
  int subs;
  std::optional<double> batch, drainer, ref;
};

void case_a(const Options& o, std::vector<AnnSummary>& sum);  // announcement.cpp

}  // namespace lox_bench::queue
