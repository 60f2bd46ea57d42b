// SPDX-License-Identifier: Apache-2.0
// The measurement kernel of every bench program: a Row (one peer in one
// case or shape: a value per kept repetition), the rule that redoes a
// repetition disturbed by other processes, and measure(), which runs the
// repetitions of one row under the watchdog.
//
// The machine is shared (other people compile on it): a repetition during
// which other processes used more than --max-other-load CPUs is discarded,
// the bench waits (up to 30 s) for a quiet second and does it again, at most
// 3*reps times per row (no more redos in the row once a wait fails); the row
// notes how many were redone and the mean load during the kept repetitions.
// Repetitions shorter than 50 ms are not judged: /proc/stat counts 10 ms
// ticks, so their load figure is noise.
#pragma once

#include "harness.hpp"
#include "options.hpp"

#include <algorithm>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

namespace lox_bench {

struct Row {
  std::string shape, peer, unit;
  size_t units = 0;       // work units per repetition, where the table shows time per repetition too
  std::vector<double> v;  // one value per kept repetition (per unit: ns per task, per pair, ...)
  std::string error;      // crash or failed check: the row has no figures
  std::string na;         // not applicable (the reason): no figures
  std::string note;       // extra figures of the suite
  double background = 0;  // CPUs busy with other processes during the judged reps (mean)
  double own_cpus = 0;    // this side's CPU time / wall time during the judged reps (mean)
  int redone = 0;         // reps discarded because other processes were busy
  int judged = 0;         // reps long enough (>= 50 ms) to read the CPU counters
  double median() const {
    std::vector<double> s = v;
    std::sort(s.begin(), s.end());
    size_t n = s.size();
    return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  }
  double min() const { return *std::min_element(v.begin(), v.end()); }
  bool ok() const { return error.empty() && na.empty() && !v.empty(); }
};

// A row without figures: set-up, warm-up or a check failed.
inline Row failed_row(const std::string& shape, const std::string& peer, const std::string& error) {
  Row r;
  r.shape = shape;
  r.peer = peer;
  r.error = error;
  return r;
}

// The first row of `peer` (in `shape`) that has figures, or nullptr.
inline const Row* find_row(const std::vector<Row>& rows, const std::string& shape, const std::string& peer) {
  for (const Row& r : rows)
    if (r.shape == shape && r.peer == peer && r.ok()) return &r;
  return nullptr;
}
inline const Row* find_row(const std::vector<Row>& rows, const std::string& peer) {
  for (const Row& r : rows)
    if (r.peer == peer && r.ok()) return &r;
  return nullptr;
}

// Set when a row failed a check; the programs whose exit status reports
// failed rows read it at the end.
inline bool g_row_failed = false;

// Keeps or redoes the repetitions of one row (or one runner of several rows).
class Redo {
 public:
  explicit Redo(int reps) : budget_(settings().max_other_load > 0 ? 3 * reps : 0) {}
  // After one repetition of `wall` seconds during which other processes used
  // `bg` CPUs and this side `own_s` CPU seconds: true to keep it; false when
  // it is to be done again (after waiting for a quiet second).
  bool keep(double wall, double bg, double own_s) {
    const double limit = settings().max_other_load;
    const bool judgeable = wall >= 0.05;
    if (judgeable && bg > limit && budget_ > 0) {
      --budget_;
      ++redone_;
      std::fputc('x', stderr);
      if (!wait_quiet(std::min(0.15, limit), 30)) {
        std::fputc('!', stderr);  // never quiet: keep what comes for this row
        budget_ = 0;
      }
      return false;
    }
    if (judgeable) {
      bg_sum_ += bg;
      own_sum_ += own_s / wall;
      ++judged_;
    }
    std::fputc('.', stderr);
    return true;
  }
  void into(Row& r) const {
    r.redone = redone_;
    r.judged = judged_;
    r.background = judged_ ? bg_sum_ / judged_ : 0;
    r.own_cpus = judged_ ? own_sum_ / judged_ : 0;
  }

 private:
  int budget_, redone_ = 0, judged_ = 0;
  double bg_sum_ = 0, own_sum_ = 0;
};

// Progress on stderr: the row's name, then one character per repetition.
inline void progress_start(const Row& r) {
  std::fprintf(stderr, "  %-34s ", (r.shape.empty() ? r.peer : r.shape + " " + r.peer).c_str());
}
inline void progress_end(const Row& r) {
  if (r.ok()) std::fprintf(stderr, " median %.1f %s", r.median(), r.unit.c_str());
  std::fprintf(stderr, " (other processes: %.2f CPUs)\n", r.background);
}

// Runs `reps` kept repetitions of `one_rep(what)` for `row` (its shape, peer
// and unit set). one_rep returns its own figure (it times itself, so that
// preparation and verification stay outside the clock) or throws on a
// failed check; `what` ("<label> / <peer> / rep <i>") names the repetition
// in hang reports.
template <class Fn>
Row measure(const std::string& label, Row row, int reps, Fn&& one_rep) {
  progress_start(row);
  Redo redo(reps);
  try {
    for (int r = 0; r < reps;) {
      const std::string what = label + " / " + row.peer + " / rep " + std::to_string(r + 1);
      CpuSample c0 = cpu_sample();
      double v;
      {
        WatchScope w(what);
        v = one_rep(what);
      }
      CpuSample c1 = cpu_sample();
      if (!redo.keep(std::chrono::duration<double>(c1.t - c0.t).count(), background_cpus(c0, c1),
                     c1.self_s - c0.self_s))
        continue;
      row.v.push_back(v);
      ++r;
    }
  } catch (const std::exception& e) {
    row.error = e.what();
    row.v.clear();
    g_row_failed = true;
    std::fprintf(stderr, " FAILED: %s", e.what());
  }
  redo.into(row);
  progress_end(row);
  return row;
}

}  // namespace lox_bench
