// SPDX-License-Identifier: Apache-2.0
// The process tree's CPU time and the interleaved repetitions of the
// runners (process.hpp).
#include "process.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <sstream>
#include <unordered_map>

namespace lox_bench::process {
namespace {

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

}  // namespace

std::string fmt_fine(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, v < 10 ? "%.2f" : v < 100 ? "%.1f" : "%.0f", v);
  return buf;
}

TreeSample tree_sample() {
  TreeSample s;
  CpuSample c = cpu_sample();  // machine busy time (harness)
  s.t = c.t;
  s.busy_s = c.busy_s;
  s.tree_s = tree_cpu_seconds();
  return s;
}

double other_cpus(const TreeSample& a, const TreeSample& b) {
  const double wall = std::chrono::duration<double>(b.t - a.t).count();
  return wall > 0 ? std::max(0.0, ((b.busy_s - a.busy_s) - (b.tree_s - a.tree_s)) / wall) : 0.0;
}

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
  std::vector<Redo> redo(runners.size(), Redo(reps));
  std::vector<bool> failed(runners.size(), false);
  std::fprintf(stderr, "  %-12s ", shape.c_str());
  for (int rep = 0; rep < reps; ++rep) {
    for (size_t i = 0; i < runners.size(); ++i) {
      Runner& r = runners[i];
      if (failed[i]) continue;
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
          failed[i] = true;
          g_row_failed = true;
          for (auto& p : r.rows) {
            rows[idx[p]].error = e.what();
            rows[idx[p]].v.clear();
          }
          std::fprintf(stderr, "\n  %s FAILED: %s\n  ", what.c_str(), e.what());
          break;
        }
        const double wall = std::chrono::duration<double>(m.end.t - m.start.t).count();
        if (!redo[i].keep(wall, other_cpus(m.start, m.end), m.end.tree_s - m.start.tree_s)) continue;
        for (size_t k = 0; k < r.rows.size(); ++k) rows[idx[r.rows[k]]].v.push_back(values[k]);
        break;
      }
    }
  }
  for (size_t i = 0; i < runners.size(); ++i)
    for (auto& p : runners[i].rows) redo[i].into(rows[idx[p]]);
  std::fprintf(stderr, "\n");
  return rows;
}

}  // namespace lox_bench::process
