// SPDX-License-Identifier: Apache-2.0
// The command line of every bench program: one parser, the options all of
// them share (--watchdog, --wait-quiet, --max-other-load, --no-redo, --csv,
// --json, --help) and the usage text generated from what each program adds.
#pragma once

#include <cstddef>
#include <functional>
#include <set>
#include <string>
#include <vector>

namespace lox_bench {

// The settings the measurement kernel and the output read.
struct Settings {
  double watchdog_s = 120.0;
  double wait_quiet_s = 0;      // first wait up to this long for other processes to go quiet
  double max_other_load = 0.3;  // redo a rep if other processes used more CPUs than this
  bool csv = false;
  std::string json;  // file for the JSON report ("-": stdout; empty: none)
};

// The settings of this run (filled by Cli::parse).
Settings& settings();

class Cli {
 public:
  // `quiet_window_s`: the length of the quiet window --wait-quiet waits for;
  // `runner`: the script that reads the csv lines (for --help).
  Cli(std::string program, double quiet_window_s, std::string runner);

  // An option with a value; `on` gets the value (and may call fail()).
  void value(const std::string& name, const std::string& metavar, const std::string& help,
             std::function<void(const std::string&)> on);
  void flag(const std::string& name, const std::string& help, std::function<void()> on);
  // A real number > 0 stored in `slot`, e.g. --b-us X.
  void number(const std::string& name, const std::string& metavar, const std::string& help, double& slot) {
    value(name, metavar, help, [this, name, &slot](const std::string& v) { slot = to_number(name, v); });
  }
  // A count (N, at least 1; a fraction is cut off) stored in `slot`, e.g. --reps N.
  template <class T>
  void count(const std::string& name, const std::string& help, T& slot) {
    value(name, "N", help, [this, name, &slot](const std::string& v) {
      slot = static_cast<T>(to_number(name, v));
      if (slot < 1) fail(name + ": bad value '" + v + "'");
    });
  }
  // --reps N: repetitions of `what` (default: slot's value).
  void reps(int& slot, const std::string& what = "each measurement");
  // A string option stored in `slot`.
  void text(const std::string& name, const std::string& metavar, const std::string& help, std::string& slot) {
    value(name, metavar, help, [&slot](const std::string& v) { slot = v; });
  }
  // --case LIST: comma-separated case names among `names` (repeatable);
  // each is kept as its first letter.
  void cases(const std::string& help, const std::vector<std::string>& names, std::set<char>& slot);
  // --peer LIST: peer names, each one of `known` (comma-separated or repeated).
  void peers(const std::string& help, const std::vector<std::string>& known, std::set<std::string>& slot);
  // Lines printed after the options (exit status, ...).
  void epilogue(const std::string& text) { epilogue_ = text; }

  // Parses argv; --help prints the usage and exits 0, a bad command line
  // prints what is wrong and the usage and exits 2.
  void parse(int argc, char** argv);

  [[noreturn]] void fail(const std::string& message) const;
  [[noreturn]] void usage(int rc) const;
  double to_number(const std::string& option, const std::string& v) const;  // > 0, or fail()
  static std::vector<std::string> split(const std::string& list);           // comma-separated

 private:
  struct Option {
    std::string name, metavar, help;
    std::function<void(const std::string&)> on;  // empty metavar: a flag, called with ""
  };
  void add_common();
  std::string program_, runner_, epilogue_;
  double quiet_window_s_;
  std::vector<Option> options_;
};

}  // namespace lox_bench
