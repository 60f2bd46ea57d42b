// SPDX-License-Identifier: Apache-2.0
// lox_sync_bench's options, summary, cases and peers (see main.cpp). One
// file per peer: lox.cpp (liblox's C objects and the C++ layer), pthread.cpp,
// std.cpp; each gives its rows of case u and its reader/writer lock of case t.
#pragma once

#include "../common/measure.hpp"

#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace lox_bench::sync {

struct Options {
  std::set<char> cases;  // empty = all
  int reps = 7;
  int threads = 2;
  size_t pairs = 5'000'000;  // per repetition of case u
  double t_ms = 300;         // per repetition of case t
  std::string peer;          // only rows whose name contains this (empty = all)
  bool want_case(char c) const { return cases.empty() || cases.count(c); }
  bool want_peer(const std::string& p) const { return peer.empty() || p.find(peer) != std::string::npos; }
};

struct Summary {
  std::optional<double> lock, rw_read, qlock, sem, t100, t95, t50;
};

void case_u(const Options& o, Summary& sum);  // pairs.cpp
void case_t(const Options& o, Summary& sum);  // throughput.cpp

// Status checks of the pthread calls: the failure path is out of line, as
// for the lox calls (must()).
[[noreturn]] __attribute__((noinline, cold)) inline void fail_sys(int rc, const char* what) {
  throw std::runtime_error(std::string(what) + ": " + std::strerror(rc));
}
inline void check_sys(int rc, const char* what) {
  if (__builtin_expect(rc != 0, 0)) fail_sys(rc, what);
}

// ------------------------------------------------------------------ case u

// Shared by every pair loop: written inside each critical section, so the
// pair is not an empty loop (the lock calls are opaque to the compiler).
struct alignas(64) Counter {
  uint64_t n = 0;
};
inline Counter g_counter;

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

// The rows of case u: run() warms one acquire+release pair up and measures
// it (ns per pair). Every object is created before the clock starts and
// destroyed after.
struct Pairs {
  const Options& o;
  std::vector<Row> rows;
  template <class Acquire, class Release>
  void run(const std::string& peer, Acquire&& acquire, Release&& release) {
    if (!o.want_peer(peer)) return;
    for (size_t i = 0; i < 10000; ++i) {  // warm-up
      acquire();
      release();
    }
    Row row;
    row.peer = peer;
    row.unit = "ns";
    rows.push_back(
        measure("case u", row, o.reps, [&](const std::string&) { return pair_loop(o.pairs, acquire, release); }));
  }
};

// A reader/writer lock's rows of case u: its read pairs, later (after the
// other peers' read rows) its write pairs, on the same object.
struct RwPairs {
  virtual ~RwPairs() = default;
  virtual void read(Pairs& p) = 0;
  virtual void write(Pairs& p) = 0;
};

void pthread_mutex_pairs(Pairs& p);  // pthread.cpp
std::unique_ptr<RwPairs> pthread_rwlock_pairs();
void sem_pairs(Pairs& p);
void std_mutex_pairs(Pairs& p);  // std.cpp
std::unique_ptr<RwPairs> std_shared_mutex_pairs();
void lox_lock_pairs(Pairs& p);  // lox.cpp: lox_lock, lox::lock, lox_qlock
std::unique_ptr<RwPairs> lox_rwlock_pairs();
void lox_index_semaphore_pairs(Pairs& p);

// ------------------------------------------------------------------ case t

// One reader/writer lock behind a uniform interface (virtual calls cost
// every peer the same ~1-2 ns).
struct RwPeer {
  virtual ~RwPeer() = default;
  virtual void rd() = 0;
  virtual void rd_done() = 0;
  virtual void wr() = 0;
  virtual void wr_done() = 0;
};

std::unique_ptr<RwPeer> make_lox_rwlock();        // lox.cpp
std::unique_ptr<RwPeer> make_pthread_rwlock();    // pthread.cpp
std::unique_ptr<RwPeer> make_pthread_mutex();     // pthread.cpp: every op exclusive
std::unique_ptr<RwPeer> make_std_shared_mutex();  // std.cpp

}  // namespace lox_bench::sync
