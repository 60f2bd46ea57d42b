// SPDX-License-Identifier: Apache-2.0
// lox_bench: liblox's thread pool side by side with oneTBB, Boost.Asio,
// GLib and a plain std::mutex/condition_variable pool, in one run.
//
// Cases (see bench/README.md):
//   m  RSS growth per pending (scattered, not yet run) liblox task
//   a  scatter+gather of 1,000,000 trivial tasks (x*2+1), results in order
//   b  scatter+gather of 10,000 tasks of ~20 us of CPU work each, vs serial
//   c  one task's scatter->gather round trip, vs a condition-variable ping-pong
//
// Every pool gets the same work and the same obligation: the value of task k
// ends up in out[k] (out is the caller's vector, indexed in scatter order),
// and the call returns only when the whole batch is done. Every repetition
// is verified (outside the timed region). One file per pool (peers.hpp).
//
// Plain C++ printing tables (no Google Benchmark): the point is the
// side-by-side comparison of the same batch on each pool.
#include "peers.hpp"
#include "thread.hpp"

#include "../common/options.hpp"
#include "../common/output.hpp"

#include <lox/lox.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <stdexcept>
#include <thread>

namespace lox_bench::thread {

template <class F>
std::unique_ptr<Batcher> make_peer(const std::string& name, const F* f, int threads) {
  if (name == "serial") return make_serial(f, threads);
  if (name == "lox") return make_lox(f, threads);
  if (name == "tbb") return make_tbb(f, threads);
  if (name == "asio") return make_asio(f, threads);
  if (name == "glib") return make_glib(f, threads);
  if (name == "std") return make_std(f, threads);
  if (name == "pingpong") return make_pingpong(f, threads);
  throw std::logic_error("unknown peer " + name);
}
template std::unique_ptr<Batcher> make_peer<Tiny>(const std::string&, const Tiny*, int);
template std::unique_ptr<Batcher> make_peer<Spin>(const std::string&, const Spin*, int);
template std::unique_ptr<Batcher> make_peer<Tracked>(const std::string&, const Tracked*, int);

namespace {

Options parse(int argc, char** argv) {
  Options o;
  Cli cli("lox_bench", 3, "run.sh");
  // clang-format off
  cli.cases("cases to run, comma-separated or repeated (default: all)\nm = memory per pending liblox task, a = 1M trivial tasks,\nb = 10k x ~20us tasks, c = single-task round trip", {"m", "mem", "a", "b", "c"}, o.cases);
  // clang-format on
  cli.peers(
            "pools to run (default: all): serial,lox,tbb,asio,glib,std,pingpong\n"
            "(pingpong only runs in case c; m only measures lox)",
            {std::begin(kAllPeers), std::end(kAllPeers)}, o.peers);
  cli.reps(o.reps);
  cli.count("--threads", "worker threads per pool (default 2)", o.threads);
  cli.count("--a-tasks", "tasks in case a (default 1000000)", o.a_tasks);
  cli.count("--b-tasks", "tasks in case b (default 10000)", o.b_tasks);
  cli.number("--b-us", "X", "CPU work per task in case b, microseconds (default 20)", o.b_work_us);
  cli.count("--c-rounds", "round trips per repetition in case c (default 20000)", o.c_rounds);
  cli.count("--m-tasks", "pending tasks in case m (default 1000000)", o.m_tasks);
  cli.parse(argc, argv);
  return o;
}

void print_summary(const Summary& s) {
  targets_head();
  std::string a = "(a) liblox time <= 0.25x fastest peer" + (s.a_fastest.empty() ? "" : " (" + s.a_fastest + ")");
  target_line(a, s.a_ratio, true, 0.25);
  target_line("(b) liblox >= 1.9x faster than serial", s.b_speedup, false, 1.9);
  target_line("(c) liblox round trip <= 2x cv ping-pong", s.c_ratio, true, 2.0);
  target_line("(m) <= 64 bytes per pending task", s.m_bytes, true, 64.0, "%.1f B");
}

int run(int argc, char** argv) {
  const Options o = parse(argc, argv);
  Session session("lox_bench");
  std::printf("# lox_bench: liblox %s, %s, %s, %s; %d threads per pool; %u CPUs online\n", lox_version_string(),
              tbb_version().c_str(), boost_version().c_str(), glib_version().c_str(), o.threads,
              std::thread::hardware_concurrency());
  if (const char* debug = std::getenv("LOX_DEBUG"))
    std::printf("# WARNING: LOX_DEBUG=%s is set: liblox may run tasks inline\n", debug);
  session.begin(3);
  Summary sum;
  // Memory first: the heap holds no freed blocks yet, so RSS growth is real.
  if (o.want_case('m') && o.want_peer("lox")) case_m(o, sum);
  for (auto [name, run_case] : {std::pair{'a', &case_a}, {'b', &case_b}, {'c', &case_c}})
    if (o.want_case(name)) run_case(o, sum);
  print_summary(sum);
  return session.end();
}

}  // namespace
}  // namespace lox_bench::thread

int main(int argc, char** argv) { return lox_bench::thread::run(argc, argv); }
