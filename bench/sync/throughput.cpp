// SPDX-License-Identifier: Apache-2.0
// Case t: throughput of a reader/writer lock with `threads` threads at 100%,
// 95% and 50% reads. Each op takes the lock in the chosen mode, touches a
// small shared struct (readers check that its four words agree, writers
// increment all four), releases. Fixed time per repetition; ops counted.
#include "sync.hpp"

#include "../common/output.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

namespace lox_bench::sync {
namespace {

// The shared struct the ops touch. On its own cache line, away from the locks.
struct alignas(64) Shared {
  uint64_t w[4] = {0, 0, 0, 0};
};

std::unique_ptr<RwPeer> make_rw(const std::string& p) {
  if (p == "lox_rwlock") return make_lox_rwlock();
  if (p == "pthread_rwlock") return make_pthread_rwlock();
  if (p == "std::shared_mutex") return make_std_shared_mutex();
  return make_pthread_mutex();
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
  if (torn)
    throw std::runtime_error(std::to_string(torn.load()) + " torn reads: the lock let a writer in with a reader");
  uint64_t total = 0;
  for (uint64_t n : ops) total += n;
  if (data.w[0] != data.w[3]) throw std::runtime_error("writers lost updates");
  if (total == 0) throw std::runtime_error("no op completed");
  return s * 1e9 / static_cast<double>(total);
}

std::string mops(double ns_per_op) { return strf("%.2f", 1e3 / ns_per_op); }

}  // namespace

void case_t(const Options& o, Summary& sum) {
  const char* peers[] = {"lox_rwlock", "pthread_rwlock", "std::shared_mutex", "pthread_mutex"};
  for (int pct : {100, 95, 50}) {
    const std::string label = "case t" + std::to_string(pct);
    std::fprintf(stderr, "%s: %d threads, %d%% reads, %.0f ms x %d reps\n", label.c_str(), o.threads, pct, o.t_ms,
                 o.reps);
    std::vector<Row> rows;
    for (const char* p : peers) {
      if (!o.want_peer(p)) continue;
      std::unique_ptr<RwPeer> lk;
      Shared data;
      try {
        lk = make_rw(p);
        throughput_rep(*lk, data, o.threads, pct, 20);  // warm-up
      } catch (const std::exception& e) {
        rows.push_back(failed_row("", p, e.what()));
        continue;
      }
      Row row;
      row.peer = p;
      row.unit = "ns/op";
      rows.push_back(measure(label, row, o.reps,
                             [&](const std::string&) { return throughput_rep(*lk, data, o.threads, pct, o.t_ms); }));
    }
    const Row* base = find_row(rows, "pthread_rwlock");
    // The throughput ratio.
    (pct == 100 ? sum.t100 : pct == 95 ? sum.t95 : sum.t50) = ratio(base, find_row(rows, "lox_rwlock"));
    std::printf("\n## Case t%d: %d threads, %d%% reads / %d%% writes, %.0f ms per rep (%d reps)\n\n", pct, o.threads,
                pct, 100 - pct, o.t_ms, o.reps);
    // One column per {name, width, left-aligned}, packed as a table.
    // clang-format off
    Table t({{"peer", 18, true}, {"median Mops/s", 14, false}, {"best Mops/s", 14, false}, {"ns/op", 11, false},
             {"throughput vs pthread_rwlock", 26, true}});
    // clang-format on
    t.head();
    t.rows(
        rows, false,
        [&](const Row& r) {
          return std::vector<std::string>{r.peer, mops(r.median()), mops(r.min()), fmt(r.median()),
                                          base ? fmt_x(base->median() / r.median()) : "-"};
        },
        [](const Row& r) { return load_note(r, nullptr, false); });
    emit("t" + std::to_string(pct), rows, CsvLayout{});
  }
}

}  // namespace lox_bench::sync
