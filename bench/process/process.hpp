// SPDX-License-Identifier: Apache-2.0
// lox_process_bench's options, the interleaved runners and what each case
// hands its runners (see main.cpp). One file per peer: lox.cpp (liblox's
// process pool), serial.cpp (the calling thread), python.cpp (Python's
// multiprocessing through process_peer.py); tasks.cpp holds the C tasks.
#pragma once

#include "../common/measure.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#ifndef LOX_PROCESS_PEER_PY
#define LOX_PROCESS_PEER_PY "bench/process/process_peer.py"
#endif

namespace lox_bench::process {

constexpr size_t kMiB = size_t{1} << 20;

struct Options {
  std::set<char> cases;  // empty = all
  int reps = 5;
  int b_reps = 3;
  size_t a_tasks = 20000;
  size_t b_tasks = 8;
  double b_seconds = 0.25;
  std::vector<size_t> c_sizes = {1 * kMiB, 64 * kMiB};
  size_t c_bytes = 256 * kMiB;  // per direction per repetition
  size_t workers = 2;
  std::string python = "/usr/bin/python3";
  std::string peer_script = LOX_PROCESS_PEER_PY;
  std::string peer;  // only runners whose name contains this ("lox", "python", "serial")
  bool want_case(char c) const { return cases.empty() || cases.count(c); }
  bool want_peer(const std::string& p) const { return peer.empty() || p.find(peer) != std::string::npos; }
};

// "%.2f" below 10, "%.1f" below 100, else "%.0f".
std::string fmt_fine(double v);

// ------------------------------------------------------- process-tree CPU
// CPU seconds of this process, its reaped children (getrusage
// RUSAGE_CHILDREN: the Python interpreters after waitpid, with their reaped
// pool workers; the fork server after destroy, with its reaped workers) and
// its live descendants (liblox workers while a pool is alive, read from
// /proc). A descendant reaped between two samples moves from the /proc sum to
// its parent's children time: the total stays consistent.

struct TreeSample {
  Clock::time_point t;
  double busy_s = 0, tree_s = 0;
};

TreeSample tree_sample();
// CPUs used by processes outside this process tree between a and b.
double other_cpus(const TreeSample& a, const TreeSample& b);

// A runner's repetition calls stop() where its CPU accounting must end
// (before a pool's destroy kills its workers); if it does not, the end of
// the repetition is used.
struct Meter {
  TreeSample start, end;
  bool stopped = false;
  void stop() {
    if (!stopped) end = tree_sample();
    stopped = true;
  }
};

// ------------------------------------------------------------- measurement
// A runner produces one or more rows' values per repetition (the Python side
// of case a gives apply_async and starmap from one interpreter). Runners are
// interleaved: rep 1 of every runner, then rep 2, ... A runner's repetition
// during which other processes used more than --max-other-load CPUs is
// redone after a quiet second (at most 3*reps redos per runner).

struct Runner {
  std::string name;               // for --peer and hang reports
  std::vector<std::string> rows;  // the rows (peers) it produces, in order
  // One repetition: fills values[i] for rows[i]; throws on a failed check.
  std::function<void(Meter&, const std::string& what, std::vector<double>& values)> rep;
};

std::vector<Row> run_interleaved(const std::string& shape, const std::string& unit, std::vector<Runner>& runners,
                                 int reps);

// ------------------------------------------------------------------ tasks
// Run in the worker processes (tasks.cpp). Inputs and outputs are plain bytes.

struct MulIn {
  int32_t x, y;
};

struct SpinIn {
  uint64_t iters, seed;
};

uint64_t spin(uint64_t iters, uint64_t seed);  // a dependent chain: no closed form
uint64_t calibrate_spin(double seconds);       // iterations of ~`seconds` on this thread

// --------------------------------------------------------- what the cases share

// Case a: n tiny tasks (x*y of two ints).
struct TinyTasks {
  size_t n;
  std::vector<MulIn> in;
  std::vector<int64_t> got;
  std::string chunk_info;  // the Python side's starmap chunksize
};

// Case b: n CPU-bound tasks.
struct SpinTasks {
  size_t n;
  std::vector<SpinIn> in;
  std::vector<uint64_t> serial;  // reference values (untimed)
  uint64_t py_iters = 0;         // the Python side's own calibration
};

// Case c: count payloads of size bytes echoed back.
struct Echo {
  size_t size, count;
  double moved;  // bytes in + out
  std::vector<unsigned char> payload;
};

// Case d: the start cost; the stop costs go to the notes.
struct Start {
  std::vector<double> destroy_us, close_us;
};

Runner lox_tiny(const Options& o, TinyTasks& t);  // lox.cpp
Runner lox_spin(const Options& o, SpinTasks& t);
Runner lox_echo(const Options& o, Echo& e);
Runner lox_start(const Options& o, Start& s);
Runner serial_spin(SpinTasks& t);                    // serial.cpp
Runner python_tiny(const Options& o, TinyTasks& t);  // python.cpp
Runner python_spin(const Options& o, SpinTasks& t);
Runner python_echo(const Options& o, Echo& e);
Runner python_start(const Options& o, Start& s);
uint64_t python_calibrate_spin(const Options& o);
std::string python_version(const Options& o);

// ------------------------------------------------------------------ cases

struct ASummary {
  std::optional<double> lox, apply, map;
};
struct BSummary {
  std::optional<double> lox_speedup, py_speedup;
};
struct CSummary {
  size_t size;
  std::optional<double> lox_gbs, py_gbs;
};
struct DSummary {
  std::optional<double> lox, py;
};

std::string size_name(size_t s);
void case_a(const Options& o, ASummary& sum);  // cases.cpp
void case_b(const Options& o, BSummary& sum);
void case_c(const Options& o, std::vector<CSummary>& sums);
void case_d(const Options& o, DSummary& sum);

}  // namespace lox_bench::process
