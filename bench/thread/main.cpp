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
  cli.value("--case", "LIST",
            "cases to run, comma-separated or repeated (default: all)\n"
            "m = memory per pending liblox task, a = 1M trivial tasks,\n"
            "b = 10k x ~20us tasks, c = single-task round trip",
            [&](const std::string& v) {
              for (const std::string& c : Cli::split(v)) {
                char k = c == "mem" ? 'm' : c[0];
                if (c.size() != 1 && c != "mem") k = 0;
                if (!k || !std::strchr("mabc", k)) cli.fail("unknown case '" + c + "'");
                o.cases.insert(k);
              }
            });
  cli.value("--peer", "LIST",
            "pools to run (default: all): serial,lox,tbb,asio,glib,std,pingpong\n"
            "(pingpong only runs in case c; m only measures lox)",
            [&](const std::string& v) {
              for (const std::string& p : Cli::split(v)) {
                if (std::find_if(std::begin(kAllPeers), std::end(kAllPeers), [&](const char* q) { return p == q; }) ==
                    std::end(kAllPeers))
                  cli.fail("unknown peer '" + p + "'");
                o.peers.insert(p);
              }
            });
  cli.number("--reps", "N", "repetitions of each measurement (default 7); median and min reported", o.reps);
  cli.number("--threads", "N", "worker threads per pool (default 2)", o.threads);
  cli.number("--a-tasks", "N", "tasks in case a (default 1000000)", o.a_tasks);
  cli.number("--b-tasks", "N", "tasks in case b (default 10000)", o.b_tasks);
  cli.number("--b-us", "X", "CPU work per task in case b, microseconds (default 20)", o.b_work_us);
  cli.number("--c-rounds", "N", "round trips per repetition in case c (default 20000)", o.c_rounds);
  cli.number("--m-tasks", "N", "pending tasks in case m (default 1000000)", o.m_tasks);
  cli.parse(argc, argv);
  if (o.reps < 1 || o.threads < 1) cli.usage(2);
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

}  // namespace
}  // namespace lox_bench::thread

int main(int argc, char** argv) {
  using namespace lox_bench::thread;
  Options o = parse(argc, argv);
  lox_bench::Session session("lox_bench");
  std::printf("# lox_bench: liblox %s, %s, %s, %s; %d threads per pool; %u CPUs online\n", lox_version_string(),
              tbb_version().c_str(), boost_version().c_str(), glib_version().c_str(), o.threads,
              std::thread::hardware_concurrency());
  if (const char* debug = std::getenv("LOX_DEBUG"))
    std::printf("# WARNING: LOX_DEBUG=%s is set: liblox may run tasks inline\n", debug);
  session.begin(3);
  Summary sum;
  // Memory first: the heap holds no freed blocks yet, so RSS growth is real.
  if (o.want_case('m') && o.want_peer("lox")) case_m(o, sum);
  if (o.want_case('a')) case_a(o, sum);
  if (o.want_case('b')) case_b(o, sum);
  if (o.want_case('c')) case_c(o, sum);
  print_summary(sum);
  session.end();
  return 0;
}
