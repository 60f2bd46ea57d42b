// SPDX-License-Identifier: Apache-2.0
// lox_graph_bench's options, the two graph shapes, the summary and the cases
// (see main.cpp).
#pragma once

#include "../common/measure.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>

namespace lox_bench::graph {

struct Options {
  std::set<char> cases;         // empty = all
  std::set<std::string> peers;  // empty = all (cases c and f)
  int reps = 5;
  int threads = 2;
  size_t chain_tasks = 1'000'000;  // case c: nodes in the chain
  size_t fan_tasks = 1'000'000;    // case f: nodes between the root and the fan-in
  size_t fan_width = 1'000'000;    // case f: predecessors per fan-in node (>= fan_tasks: a single fan-in)
  size_t h_tasks = 1'000'000;      // case h: tasks per round
  size_t a_tasks = 1'000'000;      // case a: tasks per round
  std::string variant;             // cases h and a: only the rows whose name contains this (empty = all)

  bool want_case(char c) const { return cases.empty() || cases.count(c); }
  bool want_peer(const std::string& p) const { return peers.empty() || peers.count(p); }
};

// The peers of cases c and f (peers.hpp; one file each).
inline const char* const kAllPeers[] = {"serial", "lox", "lox-gated", "tbb", "tbb-prebuilt", "std", "std-gated"};

// The graph one repetition of case c or f builds and runs. Every node's
// value is a tiny function of its predecessors' values (work.hpp), and the
// graph's result is its last node's value, which depends on every node:
//   chain: node 0 (the root) = seed; node k = step(node k-1, k), k = 1..n-1;
//          result = node n-1.
//   fan:   root = seed; mid k = step(root, k), k = 0..n-1; join j = the sum
//          of mids j*width .. min(n, (j+1)*width)-1; if there are several
//          joins, a final node = the sum of the joins; result = the last
//          node (the sum of all mids, mod 2^64).
struct Shape {
  enum Kind { chain, fan } kind;
  size_t n;          // chain nodes, or fan mids
  size_t width = 0;  // fan: predecessors per join
  uint64_t seed = 0;

  size_t joins() const { return kind == fan ? (n + width - 1) / width : 0; }
  // Nodes (tasks) in the graph: what "per node" divides by.
  size_t nodes() const { return kind == chain ? n : 1 + n + joins() + (joins() > 1 ? 1 : 0); }
  std::string name() const { return kind == chain ? "chain" : "fan"; }
};

struct Summary {
  // Case h (ns per task): plain lox_thread_scatter, and each variant.
  std::optional<double> plain, ex_no_handle, ex_handle, ex_handle_kept, dep_done, dep_pending;
  // Cases c and f (ns per node).
  std::optional<double> chain_lox, chain_lox_gated, chain_tbb, chain_tbb_prebuilt, chain_std;
  std::optional<double> fan_lox, fan_lox_gated, fan_tbb, fan_tbb_prebuilt, fan_std;
  // Case a (ns per task).
  std::optional<double> gather, completions;
};

void case_chain(const Options& o, Summary& sum);         // cases.cpp
void case_fan(const Options& o, Summary& sum);           // cases.cpp
void case_handle(const Options& o, Summary& sum);        // rounds.cpp
void case_as_completed(const Options& o, Summary& sum);  // rounds.cpp

std::string tbb_version();  // tbb.cpp

}  // namespace lox_bench::graph
