// SPDX-License-Identifier: Apache-2.0
#include "options.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace lox_bench {

Settings& settings() {
  static Settings s;
  return s;
}

Cli::Cli(std::string program, double quiet_window_s, std::string runner)
    : program_(std::move(program)), runner_(std::move(runner)), quiet_window_s_(quiet_window_s) {}

void Cli::value(const std::string& name, const std::string& metavar, const std::string& help,
                std::function<void(const std::string&)> on) {
  options_.push_back({name, metavar, help, std::move(on)});
}

void Cli::flag(const std::string& name, const std::string& help, std::function<void()> on) {
  options_.push_back({name, "", help, [on = std::move(on)](const std::string&) { on(); }});
}

void Cli::cases(const std::string& help, const std::vector<std::string>& names, std::set<char>& slot) {
  value("--case", "LIST", help, [this, names, &slot](const std::string& v) {
    for (const std::string& c : split(v)) {
      bool known = false;
      for (const std::string& n : names) known = known || c == n;
      if (!known) fail("unknown case '" + c + "'");
      slot.insert(c[0]);
    }
  });
}

void Cli::peers(const std::string& help, const std::vector<std::string>& known, std::set<std::string>& slot) {
  value("--peer", "LIST", help, [this, known, &slot](const std::string& v) {
    for (const std::string& p : split(v)) {
      if (std::find(known.begin(), known.end(), p) == known.end()) fail("unknown peer '" + p + "'");
      slot.insert(p);
    }
  });
}

void Cli::reps(int& slot, const std::string& what) {
  count("--reps", "repetitions of " + what + " (default " + std::to_string(slot) + "); median and min reported", slot);
}

void Cli::add_common() {
  Settings& s = settings();
  number("--watchdog", "S", "report a HANG (what hung) and exit 3 if one measurement takes > S s (default 120)",
         s.watchdog_s);
  char window[96];
  std::snprintf(window, sizeof window, "first wait (up to S s) until other processes use < 0.15 CPU for %.0f s",
                quiet_window_s_);
  number("--wait-quiet", "S", window, s.wait_quiet_s);
  number("--max-other-load", "X",
         "redo a repetition during which other processes used > X CPUs\n"
         "(after waiting for a quiet second; at most 3*reps redos per row; default 0.3)",
         s.max_other_load);
  flag("--no-redo", "keep every repetition whatever the machine's load", [&s] { s.max_other_load = 0; });
  flag("--csv", "also print machine-readable 'csv,...' lines (used by " + runner_ + ")", [&s] { s.csv = true; });
  value("--json", "FILE", "also write every row as JSON to FILE ('-': stdout, at the end)",
        [&s](const std::string& v) { s.json = v; });
}

void Cli::usage(int rc) const {
  constexpr size_t kColumn = 19;  // where the help text starts
  std::printf("usage: %s [options]\n", program_.c_str());
  for (const Option& o : options_) {
    std::string head = "  " + o.name + (o.metavar.empty() ? "" : " " + o.metavar);
    head += head.size() + 1 < kColumn ? std::string(kColumn - head.size(), ' ') : "  ";
    std::istringstream help(o.help);
    std::string line;
    bool first = true;
    while (std::getline(help, line)) {
      std::printf("%s%s\n", first ? head.c_str() : std::string(kColumn, ' ').c_str(), line.c_str());
      first = false;
    }
  }
  std::printf("  -h, --help       this text\n%s", epilogue_.c_str());
  std::exit(rc);
}

void Cli::fail(const std::string& message) const {
  std::fprintf(stderr, "%s\n", message.c_str());
  usage(2);
}

double Cli::to_number(const std::string& option, const std::string& v) const {
  char* end = nullptr;
  double d = std::strtod(v.c_str(), &end);
  if (v.empty() || !end || *end || !(d > 0)) fail(option + ": bad value '" + v + "'");
  return d;
}

std::vector<std::string> Cli::split(const std::string& list) {
  std::vector<std::string> out;
  std::stringstream ss(list);
  std::string item;
  while (std::getline(ss, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

void Cli::parse(int argc, char** argv) {
  add_common();
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "-h" || a == "--help") usage(0);
    const Option* opt = nullptr;
    for (const Option& o : options_)
      if (o.name == a) opt = &o;
    if (!opt) fail("unknown option '" + a + "'");
    if (opt->metavar.empty()) {
      opt->on("");
      continue;
    }
    if (i + 1 >= argc) fail(a + " needs a value");
    opt->on(argv[++i]);
  }
}

}  // namespace lox_bench
