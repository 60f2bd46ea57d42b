// SPDX-License-Identifier: Apache-2.0
// Cases a, b and c: the same batches on every pool (peers.hpp), one row per
// pool, a table with each row's ratio to the case's yardstick.
#include "peers.hpp"
#include "thread.hpp"

#include "../common/output.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <stdexcept>
#include <vector>

namespace lox_bench::thread {
namespace {

const CsvLayout kCsv{.units = true};

std::vector<std::string> peers_for(const Options& o, bool with_pingpong) {
  std::vector<std::string> out;
  for (const char* p : kAllPeers) {
    std::string s = p;
    if (s == "pingpong" && !with_pingpong) continue;
    if (o.want_peer(s)) out.push_back(s);
  }
  return out;
}

// How a case uses each pool: the untimed warm-up after creation, one timed
// repetition (returns its seconds; throws on wrong results), and what it
// adds to the row's note afterwards.
struct Use {
  std::function<void(Batcher&)> warm_up;
  std::function<double(Batcher&)> rep;
  std::function<std::string(Batcher&)> note = [](Batcher& b) { return b.note(); };
};

// One row per pool: created and warmed up, measured, destroyed (a hang in
// any of these is reported by the watchdog with its name).
template <class F>
std::vector<Row> run_pools(const Options& o, const std::string& label, const F& f, bool with_pingpong,
                           const std::string& unit, size_t units, const Use& use) {
  std::vector<Row> rows;
  for (const std::string& peer : peers_for(o, with_pingpong)) {
    std::unique_ptr<Batcher> b;
    try {
      WatchScope w(label + " / " + peer + " / setup+warm-up");
      b = make_peer(peer, &f, o.threads);
      use.warm_up(*b);
    } catch (const std::exception& e) {
      rows.push_back(failed_row("", peer, e.what()));
      continue;
    }
    Row row;
    row.peer = peer;
    row.unit = "ns/" + unit;
    row.units = units;
    row =
        measure(label, row, o.reps, [&](const std::string&) { return use.rep(*b) * 1e9 / static_cast<double>(units); });
    row.note = use.note(*b);
    {
      WatchScope w(label + " / " + peer + " / destroy");
      b.reset();
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

// Milliseconds per repetition of a figure per unit.
std::string ms(const Row& r, double ns_per_unit) {
  return strf("%.2f", ns_per_unit * static_cast<double>(r.units) / 1e6);
}

// The case's table: time per repetition and per unit, `extra` (a ratio).
void print_table(const std::string& title, const std::vector<Row>& rows, const std::string& unit,
                 const std::function<std::string(const Row&)>& extra, const std::string& extra_title) {
  std::printf("\n%s\n\n", title.c_str());
  Table t({{"peer", 8, true},
           {"median ms", 9, false},
           {"min ms", 9, false},
           {"median ns/" + unit, 14, false},
           {"min ns/" + unit, 14, false},
           {extra_title, 24, true}});
  t.head();
  t.rows(
      rows, false,
      [&](const Row& r) {
        return std::vector<std::string>{r.peer,          ms(r, r.median()), ms(r, r.min()),
                                        fmt(r.median()), fmt(r.min()),      extra(r)};
      },
      [](const Row& r) { return load_note(r, "CPUs used %.2f", false); });
  std::fflush(stdout);
}

// "\n<what>: <median ratio> (median), <min ratio> (<min words>)"
void print_ratio(const char* what, double median, double min, const char* min_words) {
  std::printf("\n%s: %.3f (median), %.3f (%s)\n", what, median, min, min_words);
}

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

}  // namespace

void case_a(const Options& o, Summary& sum) {
  const size_t n = o.a_tasks;
  std::fprintf(stderr, "case a: %zu trivial tasks x %d reps\n", n, o.reps);
  Tiny f;
  std::vector<uint64_t> out(n);
  uint64_t first = 0;
  Use use;
  // Warm-up: threads started, caches hot.
  use.warm_up = [&](Batcher& b) {
    b.batch(0, std::min<size_t>(n, 10'000), out.data());
    b.reset_stats();
    first = 0;
  };
  use.rep = [&](Batcher& b) {
    std::fill(out.begin(), out.end(), 0);
    first += n;  // different arguments each repetition
    auto t0 = Clock::now();
    b.batch(first, n, out.data());
    double s = seconds_since(t0);
    size_t bad = 0;
    for (size_t k = 0; k < n; ++k) bad += out[k] != tiny(first + k);
    if (bad) throw std::runtime_error(std::to_string(bad) + " of " + std::to_string(n) + " results wrong");
    return s;
  };
  std::vector<Row> rows = run_pools(o, "case a", f, false, "task", n, use);
  const Row* best = nullptr;
  for (const Row& r : rows)
    if (r.ok() && r.peer != "serial" && r.peer != "lox" && (!best || r.median() < best->median())) best = &r;
  const Row* lox = find_row(rows, "lox");
  if (lox && best) {
    sum.a_ratio = lox->median() / best->median();
    sum.a_fastest = best->peer;
  }
  print_table(
      strf("## Case a: %zu trivial tasks (x*2+1), scatter + gather, results in scatter order (%d threads, %d reps)", n,
           o.threads, o.reps),
      rows, "task", [&](const Row& r) { return best ? fmt_x(r.median() / best->median()) : std::string("-"); },
      "vs fastest peer (median)");
  if (lox && best) {
    std::string what = "liblox / fastest peer (" + best->peer + ")";
    print_ratio(what.c_str(), lox->median() / best->median(), lox->min() / best->min(), "min");
  }
  emit("a", rows, kCsv);
}

void case_b(const Options& o, Summary& sum) {
  const size_t n = o.b_tasks;
  std::fprintf(stderr, "case b: calibrating ~%.0f us of work ...\n", o.b_work_us);
  Spin f{calibrate_spin(o.b_work_us)};
  std::fprintf(stderr, "case b: %zu tasks x %llu iterations x %d reps\n", n, static_cast<unsigned long long>(f.iters),
               o.reps);
  std::vector<uint64_t> expected(n), out(n);
  for (size_t k = 0; k < n; ++k) expected[k] = f(k);
  Use use;
  use.warm_up = [&](Batcher& b) {
    b.batch(0, std::min<size_t>(n, 200), out.data());
    b.reset_stats();
  };
  use.rep = [&](Batcher& b) {
    std::fill(out.begin(), out.end(), 0);
    auto t0 = Clock::now();
    b.batch(0, n, out.data());
    double s = seconds_since(t0);
    if (out != expected) throw std::runtime_error("wrong results");
    return s;
  };
  std::vector<Row> rows = run_pools(o, "case b", f, false, "task", n, use);
  const Row* serial = find_row(rows, "serial");
  const Row* lox = find_row(rows, "lox");
  sum.b_speedup = ratio(serial, lox);
  print_table(
      strf("## Case b: %zu tasks of ~%.0f us CPU work (%llu iterations; serial measures %.2f us/task), %d threads, %d "
           "reps",
           n, o.b_work_us, static_cast<unsigned long long>(f.iters), serial ? serial->median() / 1e3 : 0.0, o.threads,
           o.reps),
      rows, "task", [&](const Row& r) { return serial ? fmt_x(serial->median() / r.median()) : std::string("-"); },
      "speed-up vs serial (med.)");
  if (lox && serial)
    print_ratio("liblox speed-up vs serial", serial->median() / lox->median(), serial->min() / lox->min(),
                "best rep vs best rep");
  emit("b", rows, kCsv);
}

void case_c(const Options& o, Summary& sum) {
  const size_t rounds = o.c_rounds;
  std::fprintf(stderr, "case c: %zu round trips x %d reps\n", rounds, o.reps);
  std::atomic<uint64_t> off_caller{0};
  Tracked f{std::this_thread::get_id(), &off_caller};
  uint64_t x = 0, executed = 0;  // executed counts redone reps too
  Use use;
  use.warm_up = [&](Batcher& b) {
    uint64_t v;
    for (int i = 0; i < 1000; ++i) b.batch(static_cast<uint64_t>(i), 1, &v);
    off_caller = 0;
    x = 1'000'000;
    executed = 0;
  };
  use.rep = [&](Batcher& b) {
    size_t bad = 0;
    auto t0 = Clock::now();
    for (size_t i = 0; i < rounds; ++i, ++x) {
      uint64_t v = 0;
      b.batch(x, 1, &v);
      bad += v != tiny(x);
    }
    double s = seconds_since(t0);
    executed += rounds;
    if (bad) throw std::runtime_error(std::to_string(bad) + " wrong results");
    return s;
  };
  use.note = [&](Batcher& b) {
    double total = static_cast<double>(std::max<uint64_t>(executed, 1));
    const std::string note = strf("%.0f%% ran on another thread", 100.0 * static_cast<double>(off_caller) / total);
    return b.note().empty() ? note : b.note() + "; " + note;
  };
  std::vector<Row> rows = run_pools(o, "case c", f, true, "trip", rounds, use);
  const Row* pp = find_row(rows, "pingpong");
  const Row* lox = find_row(rows, "lox");
  sum.c_ratio = ratio(lox, pp);
  print_table(
      strf("## Case c: one task scatter -> gather round trip, %zu rounds per rep (%d threads, %d reps)", rounds,
           o.threads, o.reps),
      rows, "trip", [&](const Row& r) { return pp ? fmt_x(r.median() / pp->median()) : std::string("-"); },
      "vs cv ping-pong (median)");
  if (lox && pp) print_ratio("liblox / cv ping-pong", lox->median() / pp->median(), lox->min() / pp->min(), "min");
  emit("c", rows, kCsv);
}

}  // namespace lox_bench::thread
