// SPDX-License-Identifier: Apache-2.0
// lox_graph_bench: liblox's task graphs (lox_thread_scatter_ex with `after`,
// task handles, lox_completions) side by side with oneTBB's flow graph and a
// std::promise/std::future continuation emulation, in one run.
//
// Cases (see bench/README.md, "Task graphs"):
//   c  a chain of 1,000,000 tasks, each after the previous one (cases.cpp)
//   f  fan-out/fan-in: a root, 1,000,000 tasks after it, a fan-in after all
//      of them (cases.cpp)
//   h  what a handle and a dependency add to a plain scatter (rounds.cpp;
//      liblox only)
//   a  a round taken in completion order (lox_completions_next) vs an
//      ordered gather (rounds.cpp; liblox only)
//
// Every peer gets the same graph (same nodes, same edges, same tiny add per
// node; graph.hpp's Shape) and the same obligation: the graph's result (its
// last node's value, which depends on every node) is returned once every
// node has completed, and everything per graph is freed; one file per peer
// (peers.hpp). Every repetition's result is checked against a plain loop.
// Time per node (task) = the repetition's wall time / the graph's nodes.
#include "graph.hpp"

#include "../common/options.hpp"
#include "../common/output.hpp"

#include <lox/lox.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <string>
#include <thread>

namespace lox_bench::graph {
namespace {

Options parse(int argc, char** argv) {
  Options o;
  Cli cli("lox_graph_bench", 3, "run_graph.sh");
  // clang-format off
  cli.cases("cases to run, comma-separated or repeated (default: all)\nc = chain, f = fan-out/fan-in, h = handle and dependency cost,\na = as completed vs ordered gather", {"c", "chain", "f", "fan", "h", "handle", "a", "as-completed"}, o.cases);
  // clang-format on
  cli.peers(
            "peers of cases c and f (default: all):\n"
            "serial,lox,lox-gated,tbb,tbb-prebuilt,std,std-gated (h and a measure liblox only)",
            {std::begin(kAllPeers), std::end(kAllPeers)}, o.peers);
  cli.text("--variant", "TEXT", "cases h and a: only the rows whose name contains TEXT (e.g. handle, pending)",
           o.variant);
  cli.reps(o.reps);
  cli.count("--threads", "worker threads per pool (default 2)", o.threads);
  cli.count("--chain-tasks", "tasks in case c's chain (default 1000000)", o.chain_tasks);
  cli.count("--fan-tasks", "tasks after the root in case f (default 1000000)", o.fan_tasks);
  cli.count("--fan-in",
            "predecessors per fan-in task in case f (default 1000000: one fan-in;\n"
            "fewer: several fan-ins of this many, then one after them)",
            o.fan_width);
  cli.count("--h-tasks", "tasks per round in case h (default 1000000)", o.h_tasks);
  cli.count("--a-tasks", "tasks per round in case a (default 1000000)", o.a_tasks);
  cli.epilogue("Exit status: 0; 1 if a row failed its check (wrong result, a failed call); 3 on a hang.\n");
  cli.parse(argc, argv);
  if (o.fan_width > 1'000'000) cli.fail("--fan-in: at most 1000000 (lox_scatter_opts.n_after's limit)");
  return o;
}

std::optional<double> over(const std::optional<double>& a, const std::optional<double>& b) {
  if (!a || !b) return std::nullopt;
  return *a / *b;
}

void print_summary(const Summary& s) {
  targets_head();
  // A dependent task <= 2x a plain scatter (per task).
  target_line("dependent task <= 2x plain scatter: after 1 pending task (h)", over(s.dep_pending, s.plain), true, 2);
  target_line("dependent task <= 2x plain scatter: after 1 completed task (h)", over(s.dep_done, s.plain), true, 2);
  target_line("dependent task <= 2x plain scatter: chain, lox (c)", over(s.chain_lox, s.plain), true, 2);
  target_line("dependent task <= 2x plain scatter: chain, lox-gated (c)", over(s.chain_lox_gated, s.plain), true, 2);
  target_line("dependent task <= 2x plain scatter: fan, lox (f)", over(s.fan_lox, s.plain), true, 2);
  target_line("dependent task <= 2x plain scatter: fan, lox-gated (f)", over(s.fan_lox_gated, s.plain), true, 2);
  // <= 0.5x oneTBB's flow graph per node.
  target_line("liblox <= 0.5x oneTBB flow graph per node: chain, lox / tbb (c)", over(s.chain_lox, s.chain_tbb), true,
              0.5);
  target_line("liblox <= 0.5x oneTBB flow graph per node: chain, lox-gated / tbb (c)",
              over(s.chain_lox_gated, s.chain_tbb), true, 0.5);
  target_line("liblox <= 0.5x oneTBB flow graph per node: fan, lox / tbb (f)", over(s.fan_lox, s.fan_tbb), true, 0.5);
  target_line("liblox <= 0.5x oneTBB flow graph per node: fan, lox-gated / tbb (f)", over(s.fan_lox_gated, s.fan_tbb),
              true, 0.5);
  // as_completed <= 20% over an ordered gather.
  target_line("as completed <= 1.2x ordered gather of the same round (a)", over(s.completions, s.gather), true, 1.2);
  std::printf("\nNo target (for reference):\n\n");
  auto line = [](const char* what, const std::optional<double>& v) {
    std::printf("* %s: %s\n", what, v ? strf("%.3fx", *v).c_str() : "not measured");
  };
  line("scatter_ex asking for no handle / plain scatter (issue: 'pays nothing measurable')",
       over(s.ex_no_handle, s.plain));
  line("scatter_ex + handle released at once / plain scatter", over(s.ex_handle, s.plain));
  line("scatter_ex + handle released after the gather / plain scatter", over(s.ex_handle_kept, s.plain));
  line("chain, lox / tbb-prebuilt (the graph built before the clock)", over(s.chain_lox, s.chain_tbb_prebuilt));
  line("fan, lox / tbb-prebuilt", over(s.fan_lox, s.fan_tbb_prebuilt));
  line("chain, lox / std", over(s.chain_lox, s.chain_std));
  line("fan, lox / std", over(s.fan_lox, s.fan_std));
}

int run(int argc, char** argv) {
  const Options o = parse(argc, argv);
  Session session("lox_graph_bench");
  std::string command;
  for (int i = 0; i < argc; ++i) command += (i ? " " : "") + std::string(argv[i]);
  std::printf("# lox_graph_bench: liblox %s, %s; %d threads per pool; %u CPUs online\n# command: %s\n",
              lox_version_string(), tbb_version().c_str(), o.threads, std::thread::hardware_concurrency(),
              command.c_str());
  if (const char* debug = std::getenv("LOX_DEBUG"))
    std::printf("# WARNING: LOX_DEBUG=%s is set: liblox may run tasks inline\n", debug);
  session.begin(3);
  Summary sum;
  // h and a first: their figures are the yardsticks of the targets.
  for (auto [name, run_case] :
       {std::pair{'h', &case_handle}, {'a', &case_as_completed}, {'c', &case_chain}, {'f', &case_fan}})
    if (o.want_case(name)) run_case(o, sum);
  print_summary(sum);
  return session.end(std::nullopt, "at least one row failed its check (see ERROR rows)");
}

}  // namespace
}  // namespace lox_bench::graph

int main(int argc, char** argv) { return lox_bench::graph::run(argc, argv); }
