// SPDX-License-Identifier: Apache-2.0
// Case q: N items through one queue, P producers and C consumers, bounded
// and unbounded; every peer's row per shape, the check of what arrived, and
// the table.
#include "queue.hpp"

#include "../common/output.hpp"

#include <algorithm>
#include <cstdio>
#include <stdexcept>

namespace lox_bench::queue {

Row setup_failed(const std::string& shape, const std::string& peer, const std::string& error) {
  g_row_failed = true;
  std::fprintf(stderr, "  %-16s %-18s FAILED: %s\n", shape.c_str(), peer.c_str(), error.c_str());
  return failed_row(shape, peer, error);
}

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
    err += std::to_string(missing) + " of " + std::to_string(pl.n) +
           " items never got (first: " + std::to_string(first_missing) + "), " + std::to_string(duplicated) +
           " got more than once (first: " + std::to_string(first_dup) + "), " + std::to_string(out_of_range) +
           " values never put (first: " + std::to_string(first_bad) + "); ";
  if (disorder) err += std::to_string(disorder) + " out of FIFO order (first: " + disorder_example + "); ";
  if (size_after != 0) err += "queue size after every item was got: " + std::to_string(size_after) + "; ";
  if (!err.empty()) throw std::runtime_error(what + ": " + err);
}

namespace {

void print_table(const Options& o, const std::vector<Row>& rows) {
  std::printf("\n## Case q: %zu items per rep through one queue (%d reps); bounded = capacity %zu\n\n", o.items, o.reps,
              o.capacity);
  // One column per {name, width, left-aligned}, packed as a table.
  // clang-format off
  Table t({{"shape", 16, true}, {"peer", 5, true}, {"median ns", 11, false}, {"min ns", 9, false},
           {"Mitems/s", 12, false}, {"lox / this (items/s)", 20, true}});
  // clang-format on
  t.head();
  t.rows(
      rows, true,
      [&](const Row& r) {
        const Row* lox = find_row(rows, r.shape, "lox");
        return std::vector<std::string>{r.shape,
                                        r.peer,
                                        fmt(r.median()),
                                        fmt(r.min()),
                                        strf("%.2f", 1e3 / r.median()),
                                        lox ? fmt_x(r.median() / lox->median()) : "-"};
      },
      [](const Row& r) { return load_note(r, "CPUs used %.2f", true); });
}

}  // namespace

void case_q(const Options& o, std::vector<Verdict>& verdicts) {
  std::vector<Row> rows;
  std::vector<Shape> shapes;
  for (auto [p, c] : o.pc)
    for (bool b : {true, false}) shapes.push_back({p, c, b});
  std::fprintf(stderr, "case q: %zu items x %d reps, bounded capacity %zu\n", o.items, o.reps, o.capacity);
  Received rx;
  using RowFn = Row (*)(const Options&, const Shape&, Received&);
  const std::pair<const char*, RowFn> peers[] = {
      {"lox", lox_queue_row}, {"glib", glib_queue_row}, {"tbb", tbb_queue_row}, {"std", std_queue_row}};
  for (const Shape& sh : shapes) {
    if (!o.want_shape(sh.name())) continue;
    std::vector<Row> mine;
    for (auto [name, row] : peers)
      if (o.want_peer(name)) mine.push_back(row(o, sh, rx));
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
  print_table(o, rows);
  emit("q", rows, CsvLayout{.shape = true, .cpus = true});
}

}  // namespace lox_bench::queue
