// SPDX-License-Identifier: Apache-2.0
// lox_bench's options, summary and cases (see main.cpp).
#pragma once

#include "../common/measure.hpp"

#include <optional>
#include <set>
#include <string>

namespace lox_bench::thread {

struct Options {
  std::set<char> cases;         // empty = all
  std::set<std::string> peers;  // empty = all
  int reps = 7;
  int threads = 2;
  size_t a_tasks = 1'000'000;
  size_t b_tasks = 10'000;
  double b_work_us = 20.0;
  size_t c_rounds = 20'000;
  size_t m_tasks = 1'000'000;

  bool want_case(char c) const { return cases.empty() || cases.count(c); }
  bool want_peer(const std::string& p) const { return peers.empty() || peers.count(p); }
};

inline const char* const kAllPeers[] = {"serial", "lox", "tbb", "asio", "glib", "std", "pingpong"};

struct Summary {
  std::optional<double> a_ratio, b_speedup, c_ratio, m_bytes;
  std::string a_fastest;
};

void case_m(const Options& o, Summary& sum);  // memory.cpp
void case_a(const Options& o, Summary& sum);  // cases.cpp
void case_b(const Options& o, Summary& sum);
void case_c(const Options& o, Summary& sum);

std::string tbb_version();    // tbb.cpp
std::string boost_version();  // asio.cpp
std::string glib_version();   // glib.cpp

}  // namespace lox_bench::thread
