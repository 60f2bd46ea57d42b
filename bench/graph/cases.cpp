// SPDX-License-Identifier: Apache-2.0
// Cases c and f: the same graph (graph.hpp's Shape) on every peer
// (peers.hpp), one row per peer, a table with each row's ratio to liblox's.
#include "peers.hpp"
#include "work.hpp"

#include "../common/output.hpp"

#include <algorithm>
#include <cstdio>
#include <functional>
#include <stdexcept>
#include <vector>

namespace lox_bench::graph {

std::unique_ptr<GraphPeer> make_peer(const std::string& name, int threads) {
  if (name == "serial") return make_serial(threads);
  if (name == "lox") return make_lox(threads, false);
  if (name == "lox-gated") return make_lox(threads, true);
  if (name == "tbb") return make_tbb(threads, false);
  if (name == "tbb-prebuilt") return make_tbb(threads, true);
  if (name == "std") return make_std_future(threads, false);
  if (name == "std-gated") return make_std_future(threads, true);
  throw std::logic_error("unknown peer " + name);
}

namespace {

const CsvLayout kCsv{.units = true, .cpus = true};

// One row per peer: created and warmed up (a graph of the same shape with
// 10,000 nodes), measured, destroyed (a hang in any of these is reported by
// the watchdog with its name). Every repetition's result is compared with
// the serial loop's (work.hpp's expected()) after the clock stops.
std::vector<Row> run_peers(const Options& o, const std::string& label, Shape shape) {
  std::vector<Row> rows;
  for (const char* p : kAllPeers) {
    const std::string peer = p;
    if (!o.want_peer(peer)) continue;
    std::unique_ptr<GraphPeer> g;
    try {
      WatchScope w(label + " / " + peer + " / setup+warm-up");
      g = make_peer(peer, o.threads);
      Shape small = shape;
      small.n = std::min<size_t>(shape.n, 10'000);
      small.width = std::min(small.width, small.n);
      g->prepare(small);
      uint64_t got = g->run(small);
      g->finish();
      if (got != expected(small)) throw std::runtime_error("warm-up: wrong result");
      g->reset_stats();
    } catch (const std::exception& e) {
      rows.push_back(failed_row("", peer, e.what()));
      continue;
    }
    Row row;
    row.peer = peer;
    row.unit = "ns/node";
    row.units = shape.nodes();
    row = measure(label, row, o.reps, [&](const std::string&) {
      ++shape.seed;  // different values each repetition
      g->prepare(shape);
      auto t0 = Clock::now();
      const uint64_t got = g->run(shape);
      const double s = seconds_since(t0);
      g->finish();
      const uint64_t want = expected(shape);
      if (got != want)
        throw std::runtime_error(strf("wrong result %llu (expected %llu)", static_cast<unsigned long long>(got),
                                      static_cast<unsigned long long>(want)));
      return s * 1e9 / static_cast<double>(shape.nodes());
    });
    row.note = g->note();
    {
      WatchScope w(label + " / " + peer + " / destroy");
      g.reset();
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

std::string ms(const Row& r, double ns_per_unit) {
  return strf("%.1f", ns_per_unit * static_cast<double>(r.units) / 1e6);
}

void print_table(const std::string& title, const std::vector<Row>& rows) {
  const Row* lox = find_row(rows, "lox");
  std::printf("\n%s\n\n", title.c_str());
  std::printf(
      "Columns: ms per repetition (the whole graph: build, run, wait, free; tbb-prebuilt: run and wait only), ns per "
      "node (= ms per repetition / nodes), this peer's median / lox's median; note: where the time went (phases per "
      "node), the CPUs this process used (CPU time / wall time) and the other processes' load.\n\n");
  Table t({{"peer", 12, true},
           {"median ms/rep", 13, false},
           {"min ms/rep", 10, false},
           {"median ns/node", 14, false},
           {"min ns/node", 11, false},
           {"/ lox (median)", 14, false}});
  t.head();
  t.rows(
      rows, false,
      [&](const Row& r) {
        return std::vector<std::string>{r.peer,         ms(r, r.median()),
                                        ms(r, r.min()), fmt(r.median()),
                                        fmt(r.min()),   lox ? fmt_x(r.median() / lox->median()) : "-"};
      },
      [](const Row& r) { return load_note(r, "CPUs used %.2f", false); });
  std::fflush(stdout);
}

const char* kPeerLegend =
    "Peers: serial = the arithmetic as a plain loop (no graph); lox = lox_thread_scatter_ex per node, `after` = its "
    "predecessors' handles, handles released as soon as nothing names them, one gather; lox-gated = the same, with the "
    "root held until the last node is scattered; tbb = flow::graph, one continue_node per node + make_edge, try_put, "
    "wait_for_all, the graph built and destroyed inside the clock; tbb-prebuilt = the same graph built before the "
    "clock; std = std::promise/std::shared_future per node + a continuation list, on a 2-worker mutex/condvar pool; "
    "std-gated = the same with the root held until the graph is built.";

std::optional<double> median_of(const std::vector<Row>& rows, const char* peer) {
  const Row* r = find_row(rows, peer);
  return r ? std::optional<double>(r->median()) : std::nullopt;
}

}  // namespace

void case_chain(const Options& o, Summary& sum) {
  Shape shape{Shape::chain, o.chain_tasks};
  std::fprintf(stderr, "case c: a chain of %zu tasks x %d reps\n", shape.nodes(), o.reps);
  std::vector<Row> rows = run_peers(o, "case c", shape);
  sum.chain_lox = median_of(rows, "lox");
  sum.chain_lox_gated = median_of(rows, "lox-gated");
  sum.chain_tbb = median_of(rows, "tbb");
  sum.chain_tbb_prebuilt = median_of(rows, "tbb-prebuilt");
  sum.chain_std = median_of(rows, "std");
  print_table(strf("## Case c: a chain of %zu tasks (task k runs after task k-1 and computes prev*3+k from its value; "
                   "%d threads, %d reps)\n\n%s",
                   shape.nodes(), o.threads, o.reps, kPeerLegend),
              rows);
  emit("c", rows, kCsv);
}

void case_fan(const Options& o, Summary& sum) {
  Shape shape{Shape::fan, o.fan_tasks, std::min(o.fan_width, o.fan_tasks)};
  std::fprintf(stderr, "case f: fan-out of %zu tasks, %zu fan-in(s) x %d reps\n", shape.n, shape.joins(), o.reps);
  std::vector<Row> rows = run_peers(o, "case f", shape);
  sum.fan_lox = median_of(rows, "lox");
  sum.fan_lox_gated = median_of(rows, "lox-gated");
  sum.fan_tbb = median_of(rows, "tbb");
  sum.fan_tbb_prebuilt = median_of(rows, "tbb-prebuilt");
  sum.fan_std = median_of(rows, "std");
  const std::string fan_in =
      shape.joins() == 1 ? strf("one fan-in task after all %zu", shape.n)
                         : strf("%zu fan-in tasks after %zu each, then one after those", shape.joins(), shape.width);
  print_table(strf("## Case f: fan-out/fan-in: a root, %zu tasks after it (root*3+k each), %s (sums); %zu nodes, %d "
                   "threads, %d reps\n\n%s",
                   shape.n, fan_in.c_str(), shape.nodes(), o.threads, o.reps, kPeerLegend),
              rows);
  emit("f", rows, kCsv);
}

}  // namespace lox_bench::graph
