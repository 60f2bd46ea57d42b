// SPDX-License-Identifier: Apache-2.0
// What every bench program prints: Markdown tables, the machine-readable
// csv lines (read by the run*.sh scripts), a JSON report of every row
// (--json), the "## Targets" lines, and the run's head and tail lines.
#pragma once

#include "harness.hpp"
#include "measure.hpp"

#include <lox/lox.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace lox_bench {

std::string strf(const char* format, ...) __attribute__((format(printf, 1, 2)));  // printf into a string
std::string fmt(double v);                                                        // "%.1f" below 100, else "%.0f"
std::string fmt_x(double r);                                                      // "%.2fx"

// The load part of a row's note, after the row's own note: "CPUs used ...;
// other load ... CPU[; N noisy reps redone]". `cpus_fmt` (with one %.2f) says
// how the row's own CPUs are shown (nullptr: not shown); with
// `say_unjudged`, a row whose reps were all too short to judge says so.
std::string load_note(const Row& r, const char* cpus_fmt, bool say_unjudged);

// A Markdown table: fixed-width columns, then a free last column (the note).
class Table {
 public:
  struct Column {
    std::string title;
    int width;
    bool left;  // aligned left (names) or right (figures)
  };
  Table(std::vector<Column> columns, std::string last = "note");
  void head() const;  // the title line and the separator
  void row(const std::vector<std::string>& cells, const std::string& last) const;
  // A row without figures: `names` fill the first cells, "-" the others.
  void error(const std::vector<std::string>& names, const std::string& error) const;
  // One line per row: `cells(r)` and `note(r)` for a row with figures; its
  // shape (with `shape`) and peer, then "-" and its error for a failed row;
  // "n/a" (the last cell "-") and its reason for a row that does not apply.
  void rows(const std::vector<Row>& rows, bool shape, const std::function<std::vector<std::string>(const Row&)>& cells,
            const std::function<std::string(const Row&)>& note) const;

 private:
  std::vector<Column> columns_;
  std::string last_;
};

// Which fields a program's csv lines hold, in this order:
// csv,<case>[,<shape>],<peer>[,<units>],<median>,<min>,<ok|error|na>,<other
// load>,<reps redone>[,<CPUs used>][,<unit>]. A row without figures has
// nan for median and min and empty fields after its status (trailing empty
// fields left out).
struct CsvLayout {
  bool shape = false, units = false, cpus = false, unit = false;
  const char* number = "%.3f";  // median and min
};

// Prints the csv lines of `rows` (with --csv) and keeps them for the JSON
// report (with --json).
void emit(const std::string& case_name, const std::vector<Row>& rows, const CsvLayout& layout);
// Keeps a row for the JSON report only (a program that prints its own csv
// line for it).
void record(const std::string& case_name, const Row& row);

// a / b when both rows have figures.
std::optional<double> ratio(const Row* a, const Row* b);

// The "## Targets" table and its lines.
void targets_head();
// "| what | <value in fmt> | yes/NO |", or "not measured" without a value.
void target_line(const std::string& what, const std::optional<double>& v, bool at_most, double limit,
                 const char* value_fmt = "%.3fx");

// What a program prints around its cases.
class Session {
 public:
  // Line-buffered stdout, the watchdog (`watchdog_s`, default --watchdog).
  explicit Session(std::string program, double watchdog_s = 0);
  ~Session();
  // After the program's head line: the first wait for a quiet machine
  // (--wait-quiet; windows of `quiet_window_s`) and the load average; the
  // run's clock starts.
  void begin(double quiet_window_s);
  // The tail line ("# total run time ..."), with the CPUs other processes
  // used on average since begin() (measured here unless given), and the
  // JSON report. Returns the exit status: 0, or, with `failed_line` and a
  // row that failed a check, 1 after printing "# FAILED: <failed_line>".
  int end(std::optional<double> other_cpus = std::nullopt, const char* failed_line = nullptr);

 private:
  std::string program_;
  Watchdog watchdog_;
  Clock::time_point t0_;
  CpuSample c0_;
};

// Throws "<what>: <status>: <lox_last_error()>" unless st is LOX_OK; the
// failure path is out of line, the check is a compare and a never-taken
// branch.
[[noreturn]] void lox_failed(int st, const char* what);
inline void must(int st, const char* what) {
  if (__builtin_expect(st != LOX_OK, 0)) lox_failed(st, what);
}

}  // namespace lox_bench
