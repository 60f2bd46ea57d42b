// SPDX-License-Identifier: Apache-2.0
// lox_process_bench: liblox's process pool (lox_process) side by side with
// Python's multiprocessing.Pool(2) (fork context) doing the same work, in the
// same run (see bench/README.md, "Process pool"; bench/run_process.sh).
//
// Every repetition runs liblox first, then the Python peer
// (`/usr/bin/python3 bench/process/process_peer.py <case> ...`, one
// interpreter per repetition, which times its own work with
// time.perf_counter() and prints "result,<name>,<seconds>"), so both sides
// are interleaved and see the same machine. Pools have 2 workers on both
// sides. Every pool (both sides) is created and warmed up before the clock
// starts and closed after it stops, except in case d, which times the start
// on purpose.
//
// Cases (cases.cpp; the peers' runners in lox.cpp, serial.cpp, python.cpp):
//   a  20,000 tiny tasks (x*y of two ints): liblox scatters all 20,000
//        8-byte inputs, gathers, and reads the 20,000 8-byte results
//        (lox_results_bytes) and destroys the results, all timed. Python:
//        apply_async for all, then .get() on each; and, as a second Python
//        row, Pool.starmap with its default chunksize (ceil(n / (4 * 2)) =
//        2500: tasks travel in batches, not one by one). ns per task.
//   b  CPU-bound speed-up: 8 equal tasks of ~0.25 s of pure computation
//        (a dependent multiply/xor-shift chain), serial in the calling
//        thread vs scattered to 2 workers. liblox: C, calibrated at start-up
//        to ~0.25 s per task on the calling thread. Python: the same chain in
//        Python, calibrated separately; its absolute times are not comparable
//        with C's, only its speed-up is reported.
//   c  Throughput: K payloads of S bytes (1 MiB x 256 and 64 MiB x 4: 256 MiB
//        each way per repetition) scattered, echoed back by the workers,
//        gathered. GB/s = (bytes in + bytes out) / wall time, in 10^9 bytes.
//        Results compared with the payload after the clock stops.
//   d  Start cost: from lox_process_create(2) to the first result of a
//        trivial task (scatter, gather, read), vs Python's Pool(2) creation
//        + the first apply(). liblox's destroy and Python's close+join are
//        timed separately (note column).
//
// Harness (bench/common; interleave.cpp): medians of several repetitions,
// repetitions disturbed by other processes redone after a quiet second, an
// optional first wait for a quiet machine, hangs reported precisely (the
// watchdog names the case, peer and repetition), a table printed, csv lines
// for bench/run_process.sh. The load of "other processes" is the machine's
// busy CPU time minus this process tree's: this process, its reaped children
// (the Python interpreters and their pools, the fork server and its workers)
// and its live descendants (the liblox workers while a pool is alive).
#include "process.hpp"

#include "../common/options.hpp"
#include "../common/output.hpp"

#include <lox/lox.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <thread>

namespace lox_bench::process {
namespace {

Options parse(int argc, char** argv) {
  Cli cli("lox_process_bench", 1, "run_process.sh");
  Options o;
  // clang-format off
  cli.cases("a = tiny tasks, b = CPU-bound speed-up, c = payload throughput,\nd = start cost (default: all)", {"a", "b", "c", "d"}, o.cases);
  // clang-format on
  cli.reps(o.reps, "cases a, c, d");
  cli.count("--b-reps", "repetitions of case b (default 3; ~6 s each)", o.b_reps);
  cli.count("--a-tasks", "tasks of case a (default 20000)", o.a_tasks);
  cli.count("--b-tasks", "tasks of case b (default 8)", o.b_tasks);
  cli.number("--b-seconds", "X", "CPU seconds per task of case b (default 0.25)", o.b_seconds);
  cli.value("--c-sizes", "LIST", "payload sizes of case c in KiB (default 1024,65536)", [&](const std::string& v) {
    o.c_sizes.clear();
    for (const std::string& s : Cli::split(v))
      o.c_sizes.push_back(static_cast<size_t>(cli.to_number("--c-sizes", s) * 1024));
  });
  cli.value("--c-mib", "N", "MiB sent each way per repetition of case c (default 256)", [&](const std::string& v) {
    o.c_bytes = static_cast<size_t>(cli.to_number("--c-mib", v) * static_cast<double>(kMiB));
  });
  cli.count("--workers", "workers per pool, both sides (default 2)", o.workers);
  cli.text("--python", "PATH", "the interpreter (default /usr/bin/python3)", o.python);
  cli.text("--peer-script", "P", "the Python side (default: bench/process/process_peer.py of the source tree)",
           o.peer_script);
  cli.text("--peer", "TEXT", "only the runners whose name contains TEXT (lox, python, serial)", o.peer);
  cli.epilogue(
      "Exit status: 0; 1 if a row failed (a wrong, lost or failed result, or the Python side failed);\n"
      "3 on a hang.\n");
  cli.parse(argc, argv);
  if (o.c_sizes.empty()) cli.fail("--c-sizes: no size");
  return o;
}

void print_summary(const Options& o, const ASummary& a, const BSummary& b, const std::vector<CSummary>& c,
                   const DSummary& d) {
  targets_head();
  if (o.want_case('a')) {
    if (a.lox && a.apply)
      std::printf(
          "| (a) liblox >= 20x multiprocessing's apply_async throughput (tiny tasks) | %.1fx (lox %s ns/task, "
          "apply_async %s ns/task; starmap %s ns/task = %.2fx) | %s |\n",
          *a.apply / *a.lox, fmt_fine(*a.lox).c_str(), fmt_fine(*a.apply).c_str(),
          a.map ? fmt_fine(*a.map).c_str() : "-", a.map ? *a.map / *a.lox : 0.0,
          *a.apply / *a.lox >= 20 ? "yes" : "NO");
    else
      std::printf("| (a) liblox >= 20x multiprocessing's apply_async throughput | not measured | - |\n");
  }
  if (o.want_case('b')) {
    if (b.lox_speedup)
      std::printf("| (b) liblox >= 1.9x serial, %zu CPU-bound tasks on %zu workers | %.3fx (Python Pool: %s) | %s |\n",
                  o.b_tasks, o.workers, *b.lox_speedup, b.py_speedup ? (fmt_fine(*b.py_speedup) + "x").c_str() : "-",
                  *b.lox_speedup >= 1.9 ? "yes" : "NO");
    else
      std::printf("| (b) liblox >= 1.9x serial | not measured | - |\n");
  }
  for (const CSummary& s : c) {
    const bool target = s.size == kMiB;
    if (s.lox_gbs)
      std::printf("| (c) %s: liblox GB/s (in + out)%s | %.3f GB/s (Python %s GB/s: lox %sx) | %s |\n",
                  size_name(s.size).c_str(), target ? " >= 1 GB/s" : " (no target)", *s.lox_gbs,
                  s.py_gbs ? fmt_fine(*s.py_gbs).c_str() : "-",
                  s.py_gbs ? fmt_fine(*s.lox_gbs / *s.py_gbs).c_str() : "-",
                  target ? (*s.lox_gbs >= 1.0 ? "yes" : "NO") : "");
    else
      std::printf("| (c) %s throughput | not measured | - |\n", size_name(s.size).c_str());
  }
  if (o.want_case('d')) {
    if (d.lox)
      std::printf("| (d) (no target) start: create -> first result | lox %s us, Python %s us (%sx) | |\n",
                  fmt_fine(*d.lox).c_str(), d.py ? fmt_fine(*d.py).c_str() : "-",
                  d.py ? fmt_fine(*d.py / *d.lox).c_str() : "-");
    else
      std::printf("| (d) start cost | not measured | - |\n");
  }
}

int run(int argc, char** argv) {
  const Options o = parse(argc, argv);
  Session session("lox_process_bench");
  // A Python peer that dies must not kill the bench through a broken pipe.
  std::signal(SIGPIPE, SIG_IGN);
  if (access(o.peer_script.c_str(), R_OK) != 0 && o.want_peer("python")) {
    std::fprintf(stderr, "cannot read the Python side '%s' (--peer-script)\n", o.peer_script.c_str());
    return 2;
  }
  const std::string pyver = o.want_peer("python") ? python_version(o) : "not run";
  std::printf("# lox_process_bench: liblox %s, Python %s (%s, %s, multiprocessing fork context); %u CPUs online\n",
              lox_version_string(), pyver.c_str(), o.python.c_str(), o.peer_script.c_str(),
              std::thread::hardware_concurrency());
  session.begin(1);
  ASummary a;
  BSummary b;
  std::vector<CSummary> c;
  DSummary d;
  const TreeSample s0 = tree_sample();
  // Case d runs first, while this process is small: lox_process_create
  // forks it (the fork server is a copy of it), and a process that has held
  // case c's 64 MiB payloads forks more slowly.
  if (o.want_case('d')) case_d(o, d);
  if (o.want_case('a')) case_a(o, a);
  if (o.want_case('b')) case_b(o, b);
  if (o.want_case('c')) case_c(o, c);
  print_summary(o, a, b, c, d);
  return session.end(other_cpus(s0, tree_sample()), "at least one row failed (see ERROR rows)");
}

}  // namespace
}  // namespace lox_bench::process

int main(int argc, char** argv) { return lox_bench::process::run(argc, argv); }
