// SPDX-License-Identifier: Apache-2.0
// lox_process_bench: liblox's process pool (lox_process) side by side with
// Python's multiprocessing.Pool(2) (fork context) doing the same work, in the
// same run (see bench/README.md, "Process pool"; bench/run_process.sh).
//
// Every repetition runs liblox first, then the Python peer
// (`/usr/bin/python3 bench/process_peer.py <case> ...`, one interpreter per
// repetition, which times its own work with time.perf_counter() and prints
// "result,<name>,<seconds>"), so both sides are interleaved and see the same
// machine. Pools have 2 workers on both sides. Every pool (both sides) is
// created and warmed up before the clock starts and closed after it stops,
// except in case d, which times the start on purpose.
//
// Cases:
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
// Harness rules as in the other bench programs (harness.hpp): medians of
// several repetitions, repetitions disturbed by other processes redone after
// a quiet second, an optional first wait for a quiet machine, hangs reported
// precisely (the watchdog names the case, peer and repetition), a table
// printed, csv lines for bench/run_process.sh. The load of "other processes"
// is the machine's busy CPU time minus this process tree's: this process, its
// reaped children (the Python interpreters and their pools, the fork server
// and its workers) and its live descendants (the liblox workers while a pool
// is alive).
#include <lox/lox.h>

#include "harness.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

extern char** environ;

#ifndef LOX_PROCESS_PEER_PY
#define LOX_PROCESS_PEER_PY "bench/process_peer.py"
#endif

namespace {

using namespace lox_bench_harness;

constexpr size_t kMiB = size_t{1} << 20;

// ------------------------------------------------------------------ options

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
  double watchdog_s = 120.0;
  double wait_quiet_s = 0;
  double max_other_load = 0.3;
  bool csv = false;
  std::string peer;  // only runners whose name contains this ("lox", "python", "serial")
  bool want_case(char c) const { return cases.empty() || cases.count(c); }
  bool want_peer(const std::string& p) const { return peer.empty() || p.find(peer) != std::string::npos; }
};

[[noreturn]] void usage(int rc) {
  std::printf(
      "usage: lox_process_bench [options]\n"
      "  --case LIST      a = tiny tasks, b = CPU-bound speed-up, c = payload throughput,\n"
      "                   d = start cost (default: all)\n"
      "  --reps N         repetitions of cases a, c, d (default 5); median and min reported\n"
      "  --b-reps N       repetitions of case b (default 3; ~6 s each)\n"
      "  --a-tasks N      tasks of case a (default 20000)\n"
      "  --b-tasks N      tasks of case b (default 8)\n"
      "  --b-seconds X    CPU seconds per task of case b (default 0.25)\n"
      "  --c-sizes LIST   payload sizes of case c in KiB (default 1024,65536)\n"
      "  --c-mib N        MiB sent each way per repetition of case c (default 256)\n"
      "  --workers N      workers per pool, both sides (default 2)\n"
      "  --python PATH    the interpreter (default /usr/bin/python3)\n"
      "  --peer-script P  the Python side (default: bench/process_peer.py of the source tree)\n"
      "  --peer TEXT      only the runners whose name contains TEXT (lox, python, serial)\n"
      "  --watchdog S     report a HANG (case / peer / rep) and exit 3 if one repetition\n"
      "                   takes > S s (default 120)\n"
      "  --wait-quiet S   first wait (up to S s) until other processes use < 0.15 CPU for 1 s\n"
      "  --max-other-load X  redo a repetition during which other processes used > X CPUs\n"
      "                   (after waiting for a quiet second; at most 3*reps redos per row; default 0.3)\n"
      "  --no-redo        keep every repetition whatever the machine's load\n"
      "  --csv            also print machine-readable 'csv,...' lines (used by run_process.sh)\n"
      "Exit status: 0; 1 if a row failed (a wrong, lost or failed result, or the Python side failed);\n"
      "3 on a hang.\n");
  std::exit(rc);
}

Options parse(int argc, char** argv) {
  Options o;
  auto need = [&](int& i) -> std::string {
    if (i + 1 >= argc) {
      std::fprintf(stderr, "%s needs a value\n", argv[i]);
      usage(2);
    }
    return argv[++i];
  };
  auto to_num = [&](const std::string& opt, const std::string& v) -> double {
    char* end = nullptr;
    double d = std::strtod(v.c_str(), &end);
    if (v.empty() || !end || *end || !(d > 0)) {
      std::fprintf(stderr, "%s: bad value '%s'\n", opt.c_str(), v.c_str());
      usage(2);
    }
    return d;
  };
  auto list = [&](int& i) {
    std::vector<std::string> out;
    std::stringstream ss(need(i));
    std::string x;
    while (std::getline(ss, x, ',')) out.push_back(x);
    return out;
  };
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--case") {
      for (const std::string& c : list(i)) {
        if (c != "a" && c != "b" && c != "c" && c != "d") {
          std::fprintf(stderr, "unknown case '%s'\n", c.c_str());
          usage(2);
        }
        o.cases.insert(c[0]);
      }
    } else if (a == "--reps") {
      o.reps = static_cast<int>(to_num(a, need(i)));
    } else if (a == "--b-reps") {
      o.b_reps = static_cast<int>(to_num(a, need(i)));
    } else if (a == "--a-tasks") {
      o.a_tasks = static_cast<size_t>(to_num(a, need(i)));
    } else if (a == "--b-tasks") {
      o.b_tasks = static_cast<size_t>(to_num(a, need(i)));
    } else if (a == "--b-seconds") {
      o.b_seconds = to_num(a, need(i));
    } else if (a == "--c-sizes") {
      o.c_sizes.clear();
      for (const std::string& s : list(i)) o.c_sizes.push_back(static_cast<size_t>(to_num(a, s) * 1024));
    } else if (a == "--c-mib") {
      o.c_bytes = static_cast<size_t>(to_num(a, need(i)) * static_cast<double>(kMiB));
    } else if (a == "--workers") {
      o.workers = static_cast<size_t>(to_num(a, need(i)));
    } else if (a == "--python") {
      o.python = need(i);
    } else if (a == "--peer-script") {
      o.peer_script = need(i);
    } else if (a == "--peer") {
      o.peer = need(i);
    } else if (a == "--watchdog") {
      o.watchdog_s = to_num(a, need(i));
    } else if (a == "--max-other-load") {
      o.max_other_load = to_num(a, need(i));
    } else if (a == "--no-redo") {
      o.max_other_load = 0;
    } else if (a == "--wait-quiet") {
      o.wait_quiet_s = to_num(a, need(i));
    } else if (a == "--csv") {
      o.csv = true;
    } else if (a == "-h" || a == "--help") {
      usage(0);
    } else {
      std::fprintf(stderr, "unknown option '%s'\n", a.c_str());
      usage(2);
    }
  }
  if (o.reps < 1 || o.b_reps < 1 || o.a_tasks < 1 || o.b_tasks < 1 || o.c_sizes.empty() || o.workers < 1) usage(2);
  return o;
}

const Options* g_opts = nullptr;

[[noreturn]] __attribute__((noinline, cold)) void lox_failed(int st, const char* what) {
  throw std::runtime_error(std::string(what) + ": " + lox_status_str(st) + ": " + lox_last_error());
}
inline void must(int st, const char* what) {
  if (__builtin_expect(st != LOX_OK, 0)) lox_failed(st, what);
}

std::string fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, v < 10 ? "%.2f" : v < 100 ? "%.1f" : "%.0f", v);
  return buf;
}

// ------------------------------------------------------- process-tree CPU
// CPU seconds of this process, its reaped children (getrusage
// RUSAGE_CHILDREN: the Python interpreters after waitpid, with their reaped
// pool workers; the fork server after destroy, with its reaped workers) and
// its live descendants (liblox workers while a pool is alive, read from
// /proc). A descendant reaped between two samples moves from the /proc sum to
// its parent's children time: the total stays consistent.

struct ProcStat {
  int ppid = 0;
  double cpu_s = 0;  // utime + stime + cutime + cstime
};

double tree_cpu_seconds() {
  const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
  std::unordered_map<int, ProcStat> all;
  if (DIR* d = opendir("/proc")) {
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
      char path[300];
      std::snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
      int fd = open(path, O_RDONLY | O_CLOEXEC);
      if (fd < 0) continue;
      char buf[1024];
      ssize_t n = read(fd, buf, sizeof buf - 1);
      close(fd);
      if (n <= 0) continue;
      buf[n] = 0;
      const char* rp = std::strrchr(buf, ')');
      if (!rp) continue;
      // Fields after "pid (comm)": 3 state, 4 ppid, ..., 14 utime, 15 stime,
      // 16 cutime, 17 cstime.
      std::istringstream rest(rp + 2);
      std::string f;
      ProcStat s;
      long long v[18] = {};
      for (int i = 3; i <= 17 && (rest >> f); ++i)
        if (i >= 4) v[i] = std::atoll(f.c_str());
      s.ppid = static_cast<int>(v[4]);
      s.cpu_s = static_cast<double>(v[14] + v[15] + v[16] + v[17]) / tick;
      all[std::atoi(e->d_name)] = s;
    }
    closedir(d);
  }
  std::unordered_map<int, std::vector<int>> kids;
  for (auto& [pid, s] : all) kids[s.ppid].push_back(pid);
  double sum = 0;
  std::vector<int> todo = kids[getpid()];
  while (!todo.empty()) {
    int p = todo.back();
    todo.pop_back();
    sum += all[p].cpu_s;
    for (int k : kids[p]) todo.push_back(k);
  }
  rusage self{}, children{};
  getrusage(RUSAGE_SELF, &self);
  getrusage(RUSAGE_CHILDREN, &children);
  auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return sum + secs(self.ru_utime) + secs(self.ru_stime) + secs(children.ru_utime) + secs(children.ru_stime);
}

struct TreeSample {
  Clock::time_point t;
  double busy_s = 0, tree_s = 0;
};

TreeSample tree_sample() {
  TreeSample s;
  CpuSample c = cpu_sample();  // machine busy time (harness)
  s.t = c.t;
  s.busy_s = c.busy_s;
  s.tree_s = tree_cpu_seconds();
  return s;
}

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

// -------------------------------------------------------- the Python side

struct PeerOutput {
  std::map<std::string, double> results;
  std::vector<std::string> info;
};

// Runs `python peer_script args...` (no shell), waits for it, parses its
// "result,<name>,<value>" lines. Throws with its exit status otherwise.
PeerOutput run_peer(const std::vector<std::string>& args) {
  std::vector<std::string> argv_s = {g_opts->python, g_opts->peer_script};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : argv_s) argv.push_back(s.data());
  argv.push_back(nullptr);
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe2: ") + std::strerror(errno));
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    throw std::runtime_error("cannot start " + g_opts->python + ": " + std::strerror(rc));
  }
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = read(fds[0], buf, sizeof buf);
    if (n > 0) {
      out.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    break;
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  std::string cmd;
  for (auto& s : argv_s) cmd += (cmd.empty() ? "" : " ") + s;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw std::runtime_error("'" + cmd + "' " +
                             (WIFEXITED(status) ? "exited with " + std::to_string(WEXITSTATUS(status))
                                                : "killed by signal " + std::to_string(WTERMSIG(status))) +
                             " (its stderr is in this program's stderr)");
  PeerOutput po;
  std::istringstream ls(out);
  std::string line;
  while (std::getline(ls, line)) {
    if (line.rfind("result,", 0) == 0) {
      size_t c = line.find(',', 7);
      if (c == std::string::npos) continue;
      po.results[line.substr(7, c - 7)] = std::strtod(line.c_str() + c + 1, nullptr);
    } else if (line.rfind("info,", 0) == 0) {
      po.info.push_back(line.substr(5));
    }
  }
  return po;
}

double peer_result(const PeerOutput& po, const std::string& name) {
  auto it = po.results.find(name);
  if (it == po.results.end()) throw std::runtime_error("the Python side printed no 'result," + name + "' line");
  return it->second;
}

// ------------------------------------------------------------- measurement
// A row is one peer in one case/shape: a value per kept repetition. A
// runner produces one or more rows' values per repetition (the Python side
// of case a gives apply_async and starmap from one interpreter). Runners are
// interleaved: rep 1 of every runner, then rep 2, ... A runner's repetition
// during which other processes used more than --max-other-load CPUs is
// redone after a quiet second (at most 3*reps redos per runner).

struct Row {
  std::string shape, peer, unit;
  std::vector<double> v;
  std::string error;
  double background = 0, own_cpus = 0;
  int redone = 0, judged = 0;
  std::string note;
  double median() const {
    std::vector<double> s = v;
    std::sort(s.begin(), s.end());
    size_t n = s.size();
    return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  }
  double min() const { return *std::min_element(v.begin(), v.end()); }
  bool ok() const { return error.empty() && !v.empty(); }
};

bool g_failed = false;

struct Runner {
  std::string name;  // for --peer and hang reports
  std::vector<std::string> rows;  // the rows (peers) it produces, in order
  // One repetition: fills values[i] for rows[i]; throws on a failed check.
  std::function<void(Meter&, const std::string& what, std::vector<double>& values)> rep;
  bool failed = false;
  int redo_budget = 0;
  double bg_sum = 0, own_sum = 0;
  int judged = 0, redone = 0;
};

std::vector<Row> run_interleaved(const std::string& shape, const std::string& unit, std::vector<Runner>& runners,
                                 int reps) {
  std::vector<Row> rows;
  std::map<std::string, size_t> idx;
  for (auto& r : runners)
    for (auto& p : r.rows) {
      idx[p] = rows.size();
      Row row;
      row.shape = shape;
      row.peer = p;
      row.unit = unit;
      rows.push_back(row);
    }
  for (auto& r : runners) r.redo_budget = g_opts->max_other_load > 0 ? 3 * reps : 0;
  std::fprintf(stderr, "  %-12s ", shape.c_str());
  for (int rep = 0; rep < reps; ++rep) {
    for (auto& r : runners) {
      if (r.failed) continue;
      for (;;) {
        const std::string what = shape + " / " + r.name + " / rep " + std::to_string(rep + 1);
        std::vector<double> values(r.rows.size(), std::nan(""));
        Meter m;
        m.start = tree_sample();
        try {
          WatchScope w(what);
          r.rep(m, what, values);
          m.stop();
        } catch (const std::exception& e) {
          r.failed = true;
          g_failed = true;
          for (auto& p : r.rows) {
            rows[idx[p]].error = e.what();
            rows[idx[p]].v.clear();
          }
          std::fprintf(stderr, "\n  %s FAILED: %s\n  ", what.c_str(), e.what());
          break;
        }
        const double wall = std::chrono::duration<double>(m.end.t - m.start.t).count();
        const double bg =
            wall > 0 ? std::max(0.0, ((m.end.busy_s - m.start.busy_s) - (m.end.tree_s - m.start.tree_s)) / wall) : 0;
        const bool judgeable = wall >= 0.05;  // the /proc counters tick every 10 ms
        if (judgeable && bg > g_opts->max_other_load && r.redo_budget > 0) {
          --r.redo_budget;
          ++r.redone;
          std::fputc('x', stderr);
          if (!wait_quiet(std::min(0.15, g_opts->max_other_load), 30)) {
            std::fputc('!', stderr);
            r.redo_budget = 0;
          }
          continue;
        }
        for (size_t i = 0; i < r.rows.size(); ++i) rows[idx[r.rows[i]]].v.push_back(values[i]);
        if (judgeable) {
          r.bg_sum += bg;
          r.own_sum += (m.end.tree_s - m.start.tree_s) / wall;
          ++r.judged;
        }
        std::fputc('.', stderr);
        break;
      }
    }
  }
  for (auto& r : runners)
    for (auto& p : r.rows) {
      Row& row = rows[idx[p]];
      row.judged = r.judged;
      row.redone = r.redone;
      row.background = r.judged ? r.bg_sum / r.judged : 0;
      row.own_cpus = r.judged ? r.own_sum / r.judged : 0;
    }
  std::fprintf(stderr, "\n");
  return rows;
}

std::string row_note(const Row& r) {
  char buf[128];
  if (r.judged)
    std::snprintf(buf, sizeof buf, "CPUs used %.2f (process tree, whole rep); other load %.2f CPU", r.own_cpus,
                  r.background);
  else
    std::snprintf(buf, sizeof buf, "reps < 50 ms: load not measured");
  std::string out = r.note.empty() ? buf : r.note + "; " + buf;
  if (r.redone) out += "; " + std::to_string(r.redone) + " noisy reps redone";
  return out;
}

// csv,<case>,<shape>,<peer>,<median>,<min>,<ok|error>,<other load>,<reps redone>,<CPUs used>,<unit>
void print_csv(const char* c, const std::vector<Row>& rows) {
  if (!g_opts->csv) return;
  for (const Row& r : rows) {
    if (r.ok())
      std::printf("csv,%s,%s,%s,%.6g,%.6g,ok,%.2f,%d,%.2f,%s\n", c, r.shape.c_str(), r.peer.c_str(), r.median(),
                  r.min(), r.background, r.redone, r.own_cpus, r.unit.c_str());
    else
      std::printf("csv,%s,%s,%s,nan,nan,error,,,,%s\n", c, r.shape.c_str(), r.peer.c_str(), r.unit.c_str());
  }
}

const Row* find_row(const std::vector<Row>& rows, const std::string& shape, const std::string& peer) {
  for (const Row& r : rows)
    if (r.shape == shape && r.peer == peer && r.ok()) return &r;
  return nullptr;
}

void print_rows(const std::vector<Row>& rows, const char* unit_head, const std::function<std::string(const Row&)>& extra,
                const char* extra_head) {
  std::printf("| %-10s | %-34s | %12s | %12s | %-28s | %s\n", "shape", "peer", unit_head, "min", extra_head, "note");
  std::printf("|------------|------------------------------------|--------------|--------------|------------------------------|------\n");
  for (const Row& r : rows) {
    if (!r.ok()) {
      std::printf("| %-10s | %-34s | %12s | %12s | %-28s | ERROR: %s\n", r.shape.c_str(), r.peer.c_str(), "-", "-", "-",
                  r.error.c_str());
      continue;
    }
    std::printf("| %-10s | %-34s | %12s | %12s | %-28s | %s\n", r.shape.c_str(), r.peer.c_str(),
                fmt(r.median()).c_str(), fmt(r.min()).c_str(), extra(r).c_str(), row_note(r).c_str());
  }
}

// A pool that is destroyed on every path.
struct Pool {
  lox_process* p = nullptr;
  Pool(lox_process_fn fn, size_t workers) { must(lox_process_create(workers, fn, nullptr, &p), "lox_process_create"); }
  ~Pool() { lox_process_destroy(p); }
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;
};
struct Results {
  lox_results* r = nullptr;
  ~Results() { lox_results_destroy(r); }
};

// Gathers the round, requires every task to have succeeded (otherwise
// throws with the first failure's status and detail).
void gather_all(lox_process* p, Results& out, size_t expected, const std::string& what) {
  int st = lox_process_gather(p, nullptr, &out.r);
  if (st != LOX_OK && st != LOX_ETASK) lox_failed(st, "lox_process_gather");
  const size_t n = lox_results_count(out.r);
  if (n != expected)
    throw std::runtime_error(what + ": gather returned " + std::to_string(n) + " results for " +
                             std::to_string(expected) + " tasks scattered");
  if (st == LOX_ETASK) {
    size_t failed = 0, first = 0;
    for (size_t i = 0; i < n; ++i)
      if (lox_results_status(out.r, i) != 0 && !failed++) first = i;
    const char* e = lox_results_error(out.r, first);
    throw std::runtime_error(what + ": " + std::to_string(failed) + " task(s) failed; task " + std::to_string(first) +
                             ": status " + std::to_string(lox_results_status(out.r, first)) + " (" +
                             lox_status_str(lox_results_status(out.r, first)) + "): " + (e ? e : "(no detail)"));
  }
}

// ------------------------------------------------------------------ tasks
// Run in the worker processes. Inputs and outputs are plain bytes.

struct MulIn {
  int32_t x, y;
};

int mul_task(void*, const void* in, size_t len, lox_buffer* out) {
  if (len != sizeof(MulIn)) return 1;
  MulIn a;
  std::memcpy(&a, in, sizeof a);
  const int64_t r = static_cast<int64_t>(a.x) * a.y;
  return lox_buffer_append(out, &r, sizeof r) == LOX_OK ? 0 : 2;
}

// A dependent multiply/xor-shift chain: no closed form, no vectorisation.
__attribute__((noinline)) uint64_t spin(uint64_t iters, uint64_t seed) {
  uint64_t x = seed | 1;
  for (uint64_t i = 0; i < iters; ++i) {
    x ^= x >> 29;
    x *= 0xBF58476D1CE4E5B9ULL;
    x ^= x >> 32;
    x += i;
  }
  return x;
}

struct SpinIn {
  uint64_t iters, seed;
};

int spin_task(void*, const void* in, size_t len, lox_buffer* out) {
  if (len != sizeof(SpinIn)) return 1;
  SpinIn a;
  std::memcpy(&a, in, sizeof a);
  const uint64_t r = spin(a.iters, a.seed);
  return lox_buffer_append(out, &r, sizeof r) == LOX_OK ? 0 : 2;
}

int echo_task(void*, const void* in, size_t len, lox_buffer* out) {
  return lox_buffer_append(out, in, len) == LOX_OK ? 0 : 2;
}

int64_t read_i64(const lox_results* r, size_t i, const std::string& what) {
  const void* d = nullptr;
  size_t len = 0;
  int st = lox_results_bytes(r, i, &d, &len);
  if (st != LOX_OK) lox_failed(st, "lox_results_bytes");
  if (len != sizeof(int64_t))
    throw std::runtime_error(what + ": result " + std::to_string(i) + " has " + std::to_string(len) +
                             " bytes, 8 expected");
  int64_t v;
  std::memcpy(&v, d, sizeof v);
  return v;
}

// ------------------------------------------------------------------ case a

struct ASummary {
  std::optional<double> lox, apply, map;
};

void case_a(const Options& o, ASummary& sum) {
  const size_t n = o.a_tasks;
  std::vector<MulIn> in(n);
  for (size_t i = 0; i < n; ++i) in[i] = {static_cast<int32_t>(i), static_cast<int32_t>(i + 1)};
  std::vector<int64_t> got(n);
  std::string chunk_info;
  std::vector<Runner> runners;
  if (o.want_peer("lox"))
    runners.push_back({"lox", {"lox scatter all + gather"}, [&](Meter& m, const std::string& what, std::vector<double>& v) {
                         Pool pool(mul_task, o.workers);
                         {  // warm-up: workers started, one round through
                           for (size_t i = 0; i < 100; ++i)
                             must(lox_process_scatter(pool.p, &in[i], sizeof(MulIn), nullptr), "lox_process_scatter");
                           Results r;
                           gather_all(pool.p, r, 100, what + " (warm-up)");
                         }
                         auto t0 = Clock::now();
                         for (size_t i = 0; i < n; ++i)
                           must(lox_process_scatter(pool.p, &in[i], sizeof(MulIn), nullptr), "lox_process_scatter");
                         {
                           Results r;
                           gather_all(pool.p, r, n, what);
                           for (size_t i = 0; i < n; ++i) got[i] = read_i64(r.r, i, what);
                         }
                         v[0] = seconds_since(t0) * 1e9 / static_cast<double>(n);
                         m.stop();
                         for (size_t i = 0; i < n; ++i)
                           if (got[i] != static_cast<int64_t>(i) * static_cast<int64_t>(i + 1))
                             throw std::runtime_error(what + ": result " + std::to_string(i) + " is " +
                                                      std::to_string(got[i]) + ", expected " +
                                                      std::to_string(static_cast<int64_t>(i) * (i + 1)));
                       }});
  if (o.want_peer("python"))
    runners.push_back({"python", {"python apply_async all + get", "python starmap (default chunksize)"},
                       [&](Meter&, const std::string&, std::vector<double>& v) {
                         PeerOutput po = run_peer({"a", "--tasks", std::to_string(n)});
                         v[0] = peer_result(po, "apply_async") * 1e9 / static_cast<double>(n);
                         v[1] = peer_result(po, "starmap") * 1e9 / static_cast<double>(n);
                         if (!po.info.empty()) chunk_info = po.info[0];
                       }});
  std::fprintf(stderr, "case a: %zu tiny tasks x %d reps\n", n, o.reps);
  std::vector<Row> rows = run_interleaved("a", "ns/task", runners, o.reps);
  for (Row& r : rows)
    if (r.peer.find("starmap") != std::string::npos && !chunk_info.empty()) r.note = chunk_info;
  const Row* lox = find_row(rows, "a", "lox scatter all + gather");
  std::printf("\n## Case a: %zu tiny tasks (x*y of two ints), %zu workers, %d reps: ns per task\n\n", n, o.workers,
              o.reps);
  print_rows(
      rows, "median ns", [&](const Row& r) {
        char b[64];
        if (!lox) return std::string("-");
        std::snprintf(b, sizeof b, "%.2fx lox's time", r.median() / lox->median());
        return std::string(b);
      },
      "this / lox");
  print_csv("a", rows);
  if (lox) sum.lox = lox->median();
  if (auto* r = find_row(rows, "a", "python apply_async all + get")) sum.apply = r->median();
  if (auto* r = find_row(rows, "a", "python starmap (default chunksize)")) sum.map = r->median();
}

// ------------------------------------------------------------------ case b

struct BSummary {
  std::optional<double> lox_speedup, py_speedup;
};

uint64_t calibrate_spin(double seconds) {
  uint64_t iters = 1'000'000;
  for (;;) {
    auto t0 = Clock::now();
    volatile uint64_t sink = spin(iters, 7);
    (void)sink;
    double dt = seconds_since(t0);
    if (dt >= 0.05) {
      iters = static_cast<uint64_t>(static_cast<double>(iters) * seconds / dt);
      break;
    }
    iters *= 4;
  }
  std::vector<double> t;
  for (int k = 0; k < 3; ++k) {
    auto t0 = Clock::now();
    volatile uint64_t sink = spin(iters, 7);
    (void)sink;
    t.push_back(seconds_since(t0));
  }
  std::sort(t.begin(), t.end());
  return std::max<uint64_t>(1, static_cast<uint64_t>(static_cast<double>(iters) * seconds / t[1]));
}

void case_b(const Options& o, BSummary& sum) {
  const size_t n = o.b_tasks;
  std::fprintf(stderr, "case b: calibrating ~%.2f s tasks (C here, then Python)\n", o.b_seconds);
  const uint64_t iters = calibrate_spin(o.b_seconds);
  uint64_t py_iters = 0;
  if (o.want_peer("python")) {
    WatchScope w("b / python calibration");
    char secs[32];
    std::snprintf(secs, sizeof secs, "%.6f", o.b_seconds);
    py_iters = static_cast<uint64_t>(peer_result(run_peer({"calibrate-b", "--seconds", secs}), "iters"));
  }
  std::vector<SpinIn> in(n);
  for (size_t k = 0; k < n; ++k) in[k] = {iters, 0x9E3779B97F4A7C15ULL * (k + 1)};
  std::vector<uint64_t> serial(n);
  for (size_t k = 0; k < n; ++k) serial[k] = spin(in[k].iters, in[k].seed);  // reference values (untimed)
  std::vector<Runner> runners;
  if (o.want_peer("serial"))
    runners.push_back({"serial", {"serial C (calling thread)"}, [&](Meter&, const std::string& what, std::vector<double>& v) {
                         std::vector<uint64_t> got(n);
                         auto t0 = Clock::now();
                         for (size_t k = 0; k < n; ++k) got[k] = spin(in[k].iters, in[k].seed);
                         v[0] = seconds_since(t0) * 1e3;
                         if (got != serial) throw std::runtime_error(what + ": serial results changed");
                       }});
  if (o.want_peer("lox"))
    runners.push_back({"lox", {"lox C (worker processes)"}, [&](Meter& m, const std::string& what, std::vector<double>& v) {
                         Pool pool(spin_task, o.workers);
                         {
                           SpinIn w{1000, 1};
                           must(lox_process_scatter(pool.p, &w, sizeof w, nullptr), "lox_process_scatter");
                           must(lox_process_scatter(pool.p, &w, sizeof w, nullptr), "lox_process_scatter");
                           Results r;
                           gather_all(pool.p, r, 2, what + " (warm-up)");
                         }
                         std::vector<uint64_t> got(n);
                         auto t0 = Clock::now();
                         for (size_t k = 0; k < n; ++k)
                           must(lox_process_scatter(pool.p, &in[k], sizeof(SpinIn), nullptr), "lox_process_scatter");
                         {
                           Results r;
                           gather_all(pool.p, r, n, what);
                           for (size_t k = 0; k < n; ++k) got[k] = static_cast<uint64_t>(read_i64(r.r, k, what));
                         }
                         v[0] = seconds_since(t0) * 1e3;
                         m.stop();
                         for (size_t k = 0; k < n; ++k)
                           if (got[k] != serial[k])
                             throw std::runtime_error(what + ": task " + std::to_string(k) +
                                                      " returned a value that differs from the serial one");
                       }});
  if (o.want_peer("python"))
    runners.push_back({"python", {"python serial", "python Pool apply_async + get"},
                       [&](Meter&, const std::string&, std::vector<double>& v) {
                         PeerOutput po = run_peer({"b", "--iters", std::to_string(py_iters), "--tasks", std::to_string(n)});
                         v[0] = peer_result(po, "serial") * 1e3;
                         v[1] = peer_result(po, "pool") * 1e3;
                       }});
  std::vector<Row> rows = run_interleaved("b", "ms/batch", runners, o.b_reps);
  const Row* ser = find_row(rows, "b", "serial C (calling thread)");
  const Row* lox = find_row(rows, "b", "lox C (worker processes)");
  const Row* pser = find_row(rows, "b", "python serial");
  const Row* ppool = find_row(rows, "b", "python Pool apply_async + get");
  // Each repetition's own speed-up (serial and pool of the same repetition).
  auto per_rep = [](const Row* base, const Row* r) {
    std::string s = "per rep:";
    for (size_t i = 0; i < std::min(base->v.size(), r->v.size()); ++i) s += " " + fmt(base->v[i] / r->v[i]) + "x";
    return s;
  };
  for (Row& r : rows) {
    if (&r == lox && ser) r.note = per_rep(ser, lox);
    if (&r == ppool && pser) r.note = per_rep(pser, ppool);
  }
  std::printf(
      "\n## Case b: %zu CPU-bound tasks, %zu workers, %d reps: ms per batch (C: %llu iterations per task, "
      "calibrated to %.2f s; Python: %llu iterations, its own calibration; Python's times are not comparable with "
      "C's, only its speed-up)\n\n",
      n, o.workers, o.b_reps, static_cast<unsigned long long>(iters), o.b_seconds,
      static_cast<unsigned long long>(py_iters));
  print_rows(
      rows, "median ms", [&](const Row& r) {
        char b[64];
        const Row* base = r.peer.rfind("python", 0) == 0 ? pser : ser;
        if (!base) return std::string("-");
        std::snprintf(b, sizeof b, "speed-up %.3fx", base->median() / r.median());
        return std::string(b);
      },
      "serial / this");
  print_csv("b", rows);
  if (ser && lox) sum.lox_speedup = ser->median() / lox->median();
  if (pser && ppool) sum.py_speedup = pser->median() / ppool->median();
}

// ------------------------------------------------------------------ case c

struct CSummary {
  size_t size;
  std::optional<double> lox_gbs, py_gbs;
};

std::string size_name(size_t s) {
  return s % kMiB == 0 ? std::to_string(s / kMiB) + "MiB" : std::to_string(s / 1024) + "KiB";
}

void case_c(const Options& o, std::vector<CSummary>& sums) {
  std::vector<Row> all;
  for (size_t size : o.c_sizes) {
    const size_t count = std::max<size_t>(2, o.c_bytes / size);
    const double moved = 2.0 * static_cast<double>(size) * static_cast<double>(count);  // in + out
    const std::string shape = size_name(size) + " x" + std::to_string(count);
    std::vector<unsigned char> payload(size);
    uint64_t x = 0x243F6A8885A308D3ULL;
    for (size_t i = 0; i < size; ++i) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      payload[i] = static_cast<unsigned char>(x);
    }
    std::vector<Runner> runners;
    if (o.want_peer("lox"))
      runners.push_back({"lox", {"lox echo"}, [&](Meter& m, const std::string& what, std::vector<double>& v) {
                           Pool pool(echo_task, o.workers);
                           {
                             must(lox_process_scatter(pool.p, payload.data(), size, nullptr), "lox_process_scatter");
                             Results r;
                             gather_all(pool.p, r, 1, what + " (warm-up)");
                           }
                           std::vector<const void*> data(count);
                           std::vector<size_t> lens(count);
                           Results r;
                           auto t0 = Clock::now();
                           for (size_t k = 0; k < count; ++k)
                             must(lox_process_scatter(pool.p, payload.data(), size, nullptr), "lox_process_scatter");
                           gather_all(pool.p, r, count, what);
                           for (size_t k = 0; k < count; ++k)
                             must(lox_results_bytes(r.r, k, &data[k], &lens[k]), "lox_results_bytes");
                           const double t = seconds_since(t0);
                           v[0] = t * 1e9 / moved;  // ns per byte moved
                           m.stop();
                           for (size_t k = 0; k < count; ++k)
                             if (lens[k] != size || std::memcmp(data[k], payload.data(), size) != 0)
                               throw std::runtime_error(what + ": echo " + std::to_string(k) + " differs (" +
                                                        std::to_string(lens[k]) + " bytes)");
                         }});
    if (o.want_peer("python"))
      runners.push_back({"python", {"python apply_async echo + get"}, [&](Meter&, const std::string&, std::vector<double>& v) {
                           PeerOutput po =
                               run_peer({"c", "--size", std::to_string(size), "--count", std::to_string(count)});
                           v[0] = peer_result(po, "echo") * 1e9 / moved;
                         }});
    std::fprintf(stderr, "case c: %s, %d reps\n", shape.c_str(), o.reps);
    std::vector<Row> rows = run_interleaved(shape, "ns/byte", runners, o.reps);
    CSummary s{size, {}, {}};
    if (auto* r = find_row(rows, shape, "lox echo")) s.lox_gbs = 1.0 / r->median();
    if (auto* r = find_row(rows, shape, "python apply_async echo + get")) s.py_gbs = 1.0 / r->median();
    sums.push_back(s);
    all.insert(all.end(), rows.begin(), rows.end());
  }
  std::printf(
      "\n## Case c: payloads echoed back, %zu workers, %d reps: GB/s = (bytes in + bytes out) / wall time "
      "(10^9 B/s); the table's figures are ns per byte moved\n\n",
      o.workers, o.reps);
  print_rows(
      all, "median ns/B", [&](const Row& r) {
        char b[96];
        const Row* lox = find_row(all, r.shape, "lox echo");
        std::snprintf(b, sizeof b, "%.3f GB/s (best %.3f)%s", 1.0 / r.median(), 1.0 / r.min(),
                      lox && &r != lox ? (" " + fmt(r.median() / lox->median()) + "x lox's time").c_str() : "");
        return std::string(b);
      },
      "GB/s");
  print_csv("c", all);
}

// ------------------------------------------------------------------ case d

struct DSummary {
  std::optional<double> lox, py;
};

long rss_kib() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  return -1;
}

void case_d(const Options& o, DSummary& sum) {
  std::vector<double> destroy_us, close_us;
  std::vector<Runner> runners;
  if (o.want_peer("lox"))
    runners.push_back({"lox", {"lox create -> first result"}, [&](Meter& m, const std::string& what, std::vector<double>& v) {
                         MulIn a{2, 3};
                         auto t0 = Clock::now();
                         lox_process* p = nullptr;
                         must(lox_process_create(o.workers, mul_task, nullptr, &p), "lox_process_create");
                         struct Destroy {
                           lox_process*& p;
                           ~Destroy() { lox_process_destroy(p); }
                         } guard{p};
                         int64_t got = 0;
                         {
                           must(lox_process_scatter(p, &a, sizeof a, nullptr), "lox_process_scatter");
                           Results r;
                           gather_all(p, r, 1, what);
                           got = read_i64(r.r, 0, what);
                           v[0] = seconds_since(t0) * 1e6;
                         }
                         m.stop();
                         auto t1 = Clock::now();
                         lox_process_destroy(p);
                         p = nullptr;
                         destroy_us.push_back(seconds_since(t1) * 1e6);
                         if (got != 6) throw std::runtime_error(what + ": 2*3 gave " + std::to_string(got));
                       }});
  if (o.want_peer("python"))
    runners.push_back({"python", {"python Pool(2) + first apply"}, [&](Meter&, const std::string&, std::vector<double>& v) {
                         PeerOutput po = run_peer({"d"});
                         v[0] = peer_result(po, "start") * 1e6;
                         close_us.push_back(peer_result(po, "close_join") * 1e6);
                       }});
  const long rss = rss_kib();
  std::fprintf(stderr, "case d: %d reps\n", o.reps);
  std::vector<Row> rows = run_interleaved("d", "us", runners, o.reps);
  auto med = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0.0 : v[v.size() / 2];
  };
  for (Row& r : rows) {
    if (r.peer.rfind("lox", 0) == 0 && !destroy_us.empty())
      r.note = "destroy " + fmt(med(destroy_us)) + " us; this process's RSS " + std::to_string(rss / 1024) + " MiB";
    if (r.peer.rfind("python", 0) == 0 && !close_us.empty()) r.note = "close+join " + fmt(med(close_us)) + " us";
  }
  const Row* lox = find_row(rows, "d", "lox create -> first result");
  const Row* py = find_row(rows, "d", "python Pool(2) + first apply");
  std::printf("\n## Case d: worker start cost, %zu workers, %d reps: microseconds\n\n", o.workers, o.reps);
  print_rows(
      rows, "median us", [&](const Row& r) {
        char b[64];
        if (!lox) return std::string("-");
        std::snprintf(b, sizeof b, "%.2fx lox's time", r.median() / lox->median());
        return std::string(b);
      },
      "this / lox");
  print_csv("d", rows);
  if (lox) sum.lox = lox->median();
  if (py) sum.py = py->median();
}

// ---------------------------------------------------------------- summary

void print_summary(const Options& o, const ASummary& a, const BSummary& b, const std::vector<CSummary>& c,
                   const DSummary& d) {
  std::printf("\n## Targets (issue #5)\n\n| target | measured | met |\n|---|---|---|\n");
  if (o.want_case('a')) {
    if (a.lox && a.apply)
      std::printf("| (a) liblox >= 20x multiprocessing's apply_async throughput (tiny tasks) | %.1fx (lox %s ns/task, "
                  "apply_async %s ns/task; starmap %s ns/task = %.2fx) | %s |\n",
                  *a.apply / *a.lox, fmt(*a.lox).c_str(), fmt(*a.apply).c_str(),
                  a.map ? fmt(*a.map).c_str() : "-", a.map ? *a.map / *a.lox : 0.0,
                  *a.apply / *a.lox >= 20 ? "yes" : "NO");
    else
      std::printf("| (a) liblox >= 20x multiprocessing's apply_async throughput | not measured | - |\n");
  }
  if (o.want_case('b')) {
    if (b.lox_speedup)
      std::printf("| (b) liblox >= 1.9x serial, %zu CPU-bound tasks on %zu workers | %.3fx (Python Pool: %s) | %s |\n",
                  o.b_tasks, o.workers, *b.lox_speedup,
                  b.py_speedup ? (fmt(*b.py_speedup) + "x").c_str() : "-", *b.lox_speedup >= 1.9 ? "yes" : "NO");
    else
      std::printf("| (b) liblox >= 1.9x serial | not measured | - |\n");
  }
  for (const CSummary& s : c) {
    const bool target = s.size == kMiB;
    if (s.lox_gbs)
      std::printf("| (c) %s: liblox GB/s (in + out)%s | %.3f GB/s (Python %s GB/s: lox %sx) | %s |\n",
                  size_name(s.size).c_str(), target ? " >= 1 GB/s" : " (no target)", *s.lox_gbs,
                  s.py_gbs ? fmt(*s.py_gbs).c_str() : "-", s.py_gbs ? fmt(*s.lox_gbs / *s.py_gbs).c_str() : "-",
                  target ? (*s.lox_gbs >= 1.0 ? "yes" : "NO") : "");
    else
      std::printf("| (c) %s throughput | not measured | - |\n", size_name(s.size).c_str());
  }
  if (o.want_case('d')) {
    if (d.lox)
      std::printf("| (d) (no target) start: create -> first result | lox %s us, Python %s us (%sx) | |\n",
                  fmt(*d.lox).c_str(), d.py ? fmt(*d.py).c_str() : "-", d.py ? fmt(*d.py / *d.lox).c_str() : "-");
    else
      std::printf("| (d) start cost | not measured | - |\n");
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options o = parse(argc, argv);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  g_opts = &o;
  // A Python peer that dies must not kill the bench through a broken pipe.
  std::signal(SIGPIPE, SIG_IGN);
  Watchdog watchdog(o.watchdog_s);
  g_watchdog = &watchdog;
  if (access(o.peer_script.c_str(), R_OK) != 0 && o.want_peer("python")) {
    std::fprintf(stderr, "cannot read the Python side '%s' (--peer-script)\n", o.peer_script.c_str());
    return 2;
  }
  std::string pyver = "not run";
  if (o.want_peer("python")) {
    // The interpreter's version, from the interpreter itself.
    std::string cmd = o.python + " -c 'import sys; print(sys.version.split()[0])' 2>/dev/null";
    if (FILE* f = popen(cmd.c_str(), "r")) {
      char buf[64] = {};
      if (std::fgets(buf, sizeof buf, f)) {
        pyver = buf;
        while (!pyver.empty() && (pyver.back() == '\n' || pyver.back() == '\r')) pyver.pop_back();
      }
      pclose(f);
    }
  }
  std::printf("# lox_process_bench: liblox %s, Python %s (%s, %s, multiprocessing fork context); %u CPUs online\n",
              lox_version_string(), pyver.c_str(), o.python.c_str(), o.peer_script.c_str(),
              std::thread::hardware_concurrency());
  if (o.wait_quiet_s > 0) {
    auto start = Clock::now();
    bool quiet = wait_quiet(0.15, o.wait_quiet_s);
    std::printf(quiet ? "# machine quiet after %.0f s\n" : "# WARNING: machine not quiet after %.0f s; running anyway\n",
                seconds_since(start));
  }
  std::printf("# load average at start: %s\n", loadavg().c_str());
  ASummary a;
  BSummary b;
  std::vector<CSummary> c;
  DSummary d;
  auto t0 = Clock::now();
  const TreeSample s0 = tree_sample();
  // Case d runs first, while this process is small: lox_process_create
  // forks it (the fork server is a copy of it), and a process that has held
  // case c's 64 MiB payloads forks more slowly.
  if (o.want_case('d')) case_d(o, d);
  if (o.want_case('a')) case_a(o, a);
  if (o.want_case('b')) case_b(o, b);
  if (o.want_case('c')) case_c(o, c);
  print_summary(o, a, b, c, d);
  const TreeSample s1 = tree_sample();
  const double wall = std::chrono::duration<double>(s1.t - s0.t).count();
  std::printf("\n# total run time %.1f s; load average at end: %s; other processes used %.2f CPUs on average\n",
              seconds_since(t0), loadavg().c_str(),
              wall > 0 ? std::max(0.0, ((s1.busy_s - s0.busy_s) - (s1.tree_s - s0.tree_s)) / wall) : 0.0);
  if (g_failed) {
    std::printf("# FAILED: at least one row failed (see ERROR rows)\n");
    return 1;
  }
  return 0;
}
