// SPDX-License-Identifier: Apache-2.0
// The threads of one repetition: started, then released together (the
// clock starts at the release), waited for by the main thread with a time
// limit. Each thread publishes how many items it has moved (a relaxed store
// to a cache line of its own), so a hang is reported as "producer 1 put
// 713 of 1000000, consumer 0 got ...", and a failed call inside a thread
// stops the program with that report instead of leaving the others blocked.
#pragma once

#include "../common/harness.hpp"

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace lox_bench::queue {

struct alignas(64) Progress {
  std::atomic<uint64_t> n{0};
  Clock::time_point end{};
};

struct Member {
  std::string name;  // "producer 0"
  const char* verb;  // "put"
  uint64_t expected;
  std::function<void(Progress&)> body;
};

struct CrewTimes {
  Clock::time_point t0;
  std::vector<double> end_s;  // per member, seconds after t0
  double last_s = 0;          // the last member's end
};

// Runs the members to their end; after --watchdog s (exit 3), or when a
// member throws (exit 4), prints `what`, every member's progress and
// `state()` and exits.
CrewTimes run_crew(std::vector<Member>& ms, const std::string& what, const std::function<std::string()>& state);

}  // namespace lox_bench::queue
