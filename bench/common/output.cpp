// SPDX-License-Identifier: Apache-2.0
#include "output.hpp"

#include <lox/lox.h>

#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>

namespace lox_bench {

std::string strf(const char* format, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, format);
  std::vsnprintf(buf, sizeof buf, format, ap);
  va_end(ap);
  return buf;
}

std::optional<double> ratio(const Row* a, const Row* b) {
  if (!a || !b) return std::nullopt;
  return a->median() / b->median();
}

std::string fmt(double v) { return strf(v < 100 ? "%.1f" : "%.0f", v); }

std::string fmt_x(double r) { return strf("%.2fx", r); }

std::string load_note(const Row& r, const char* cpus_fmt, bool say_unjudged) {
  std::string load;
  if (!r.judged && say_unjudged)
    load = "reps < 50 ms: load not measured";
  else if (cpus_fmt && r.judged)
    load = strf((std::string(cpus_fmt) + "; other load %.2f CPU").c_str(), r.own_cpus, r.background);
  else
    load = strf("other load %.2f CPU", r.background);
  std::string out = r.note.empty() ? load : r.note + "; " + load;
  if (r.redone) out += "; " + std::to_string(r.redone) + " noisy reps redone";
  return out;
}

// ------------------------------------------------------------------ tables

Table::Table(std::vector<Column> columns, std::string last) : columns_(std::move(columns)), last_(std::move(last)) {}

void Table::head() const {
  std::vector<std::string> titles;
  for (const Column& c : columns_) titles.push_back(c.title);
  row(titles, last_);
  std::string sep;
  for (const Column& c : columns_) sep += "|" + std::string(static_cast<size_t>(c.width) + 2, '-');
  std::printf("%s|------\n", sep.c_str());
}

void Table::row(const std::vector<std::string>& cells, const std::string& last) const {
  std::string line;
  for (size_t i = 0; i < columns_.size(); ++i) {
    const std::string& cell = i < cells.size() ? cells[i] : std::string("-");
    line += strf(columns_[i].left ? "| %-*s " : "| %*s ", columns_[i].width, cell.c_str());
  }
  std::printf("%s| %s\n", line.c_str(), last.c_str());
}

void Table::error(const std::vector<std::string>& names, const std::string& error) const {
  row(names, "ERROR: " + error);
}

void Table::rows(const std::vector<Row>& rows, bool shape,
                 const std::function<std::vector<std::string>(const Row&)>& cells,
                 const std::function<std::string(const Row&)>& note) const {
  for (const Row& r : rows) {
    std::vector<std::string> names =
        shape ? std::vector<std::string>{r.shape, r.peer} : std::vector<std::string>{r.peer};
    if (!r.na.empty()) {
      names.resize(columns_.size() - 1, "n/a");
      names.push_back("-");
      row(names, "n/a: " + r.na);
    } else if (!r.ok()) {
      error(names, r.error);
    } else {
      row(cells(r), note(r));
    }
  }
}

// ------------------------------------------------------------ csv and JSON

namespace {

struct Kept {
  std::string case_name;
  Row row;
};

std::vector<Kept>& kept() {
  static std::vector<Kept> k;
  return k;
}

std::string status(const Row& r) { return r.ok() ? "ok" : r.na.empty() ? "error" : "na"; }

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string json_number(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

void write_json(std::ostream& out, const std::string& program) {
  out << "{\"program\": " << json_string(program) << ", \"rows\": [";
  bool first = true;
  for (const Kept& k : kept()) {
    const Row& r = k.row;
    out << (first ? "\n" : ",\n") << "  {\"case\": " << json_string(k.case_name)
        << ", \"shape\": " << json_string(r.shape) << ", \"peer\": " << json_string(r.peer)
        << ", \"unit\": " << json_string(r.unit) << ", \"units\": " << r.units
        << ", \"status\": " << json_string(status(r));
    if (r.ok()) out << ", \"median\": " << json_number(r.median()) << ", \"min\": " << json_number(r.min());
    out << ", \"values\": [";
    for (size_t i = 0; i < r.v.size(); ++i) out << (i ? ", " : "") << json_number(r.v[i]);
    out << "], \"other_load\": " << json_number(r.background) << ", \"cpus_used\": " << json_number(r.own_cpus)
        << ", \"redone\": " << r.redone << ", \"judged\": " << r.judged << ", \"note\": " << json_string(r.note)
        << ", \"error\": " << json_string(r.error.empty() ? r.na : r.error) << "}";
    first = false;
  }
  out << "\n]}\n";
}

}  // namespace

void record(const std::string& case_name, const Row& row) { kept().push_back({case_name, row}); }

void emit(const std::string& case_name, const std::vector<Row>& rows, const CsvLayout& layout) {
  for (const Row& r : rows) record(case_name, r);
  if (!settings().csv) return;
  for (const Row& r : rows) {
    std::string line = "csv," + case_name + (layout.shape ? "," + r.shape : "") + "," + r.peer;
    if (layout.units) line += "," + std::to_string(r.units);
    if (r.ok()) {
      const std::string f = std::string(",") + layout.number + "," + layout.number + ",ok,%.2f,%d";
      line += strf(f.c_str(), r.median(), r.min(), r.background, r.redone);
      if (layout.cpus) line += strf(",%.2f", r.own_cpus);
    } else {
      line += ",nan,nan," + status(r);
      if (layout.unit) line += std::string(",,") + (layout.cpus ? "," : "");
    }
    if (layout.unit) line += "," + r.unit;
    std::printf("%s\n", line.c_str());
  }
}

// ----------------------------------------------------------------- targets

void targets_head() { std::printf("\n## Targets\n\n| target | measured | met |\n|---|---|---|\n"); }

void target_line(const std::string& what, const std::optional<double>& v, bool at_most, double limit,
                 const char* value_fmt) {
  if (!v) {
    std::printf("| %s | not measured | - |\n", what.c_str());
    return;
  }
  bool met = at_most ? *v <= limit : *v >= limit;
  std::printf("| %s | %s | %s |\n", what.c_str(), strf(value_fmt, *v).c_str(), met ? "yes" : "NO");
}

// ----------------------------------------------------------------- session

Session::Session(std::string program, double watchdog_s)
    : program_(std::move(program)), watchdog_(watchdog_s > 0 ? watchdog_s : settings().watchdog_s) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  g_watchdog = &watchdog_;
}

Session::~Session() { g_watchdog = nullptr; }

void Session::begin(double quiet_window_s) {
  if (settings().wait_quiet_s > 0) {
    auto start = Clock::now();
    double bg = 0;
    bool quiet = wait_quiet(0.15, settings().wait_quiet_s, quiet_window_s, &bg, true);
    if (quiet)
      std::printf("# machine quiet (other processes %.2f CPUs) after %.0f s\n", bg, seconds_since(start));
    else
      std::printf("# WARNING: machine not quiet after %.0f s (other processes %.2f CPUs); running anyway\n",
                  seconds_since(start), bg);
  }
  std::printf("# load average at start: %s\n", loadavg().c_str());
  t0_ = Clock::now();
  c0_ = cpu_sample();
}

int Session::end(std::optional<double> other_cpus, const char* failed_line) {
  const double other = other_cpus ? *other_cpus : background_cpus(c0_, cpu_sample());
  std::printf("\n# total run time %.1f s; load average at end: %s; other processes used %.2f CPUs on average\n",
              seconds_since(t0_), loadavg().c_str(), other);
  const std::string& path = settings().json;
  if (path == "-") {
    std::ostringstream s;
    write_json(s, program_);
    std::printf("%s", s.str().c_str());
  } else if (!path.empty()) {
    std::ofstream f(path);
    write_json(f, program_);
    if (!f) std::fprintf(stderr, "cannot write the JSON report to '%s'\n", path.c_str());
  }
  if (!failed_line || !g_row_failed) return 0;
  std::printf("# FAILED: %s\n", failed_line);
  return 1;
}

void lox_failed(int st, const char* what) {
  throw std::runtime_error(std::string(what) + ": " + lox_status_str(st) + ": " + lox_last_error());
}

}  // namespace lox_bench
