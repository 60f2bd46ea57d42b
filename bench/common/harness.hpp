// SPDX-License-Identifier: Apache-2.0
// What every bench program shares at the lowest level: a watchdog that turns
// a hang into a precise report, and the measurement of other processes' CPU
// load that lets the programs redo repetitions disturbed by a shared machine.
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <unistd.h>

namespace lox_bench {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// ----------------------------------------------------------------- watchdog
// If liblox (or any pool) hangs, say precisely where instead of hanging.

class Watchdog {
 public:
  explicit Watchdog(double limit_s) : limit_(limit_s), thread_([this] { loop(); }) {}
  ~Watchdog() {
    {
      std::lock_guard lk(m_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  void arm(const std::string& what) {
    std::lock_guard lk(m_);
    what_ = what;
    deadline_ = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(limit_));
    armed_ = true;
  }
  void disarm() {
    std::lock_guard lk(m_);
    armed_ = false;
  }

 private:
  void loop() {
    std::unique_lock lk(m_);
    while (!stop_) {
      cv_.wait_for(lk, std::chrono::seconds(1));
      if (armed_ && Clock::now() > deadline_) {
        std::fprintf(stderr, "\nHANG: '%s' did not finish within %.0f s; aborting\n", what_.c_str(), limit_);
        std::fflush(stdout);
        std::fflush(stderr);
        std::_Exit(3);
      }
    }
  }
  double limit_;
  std::mutex m_;
  std::condition_variable cv_;
  bool stop_ = false, armed_ = false;
  std::string what_;
  Clock::time_point deadline_;
  std::thread thread_;
};

inline Watchdog* g_watchdog = nullptr;

// CPU time used by everything else on the machine (other people's builds):
// busy time of all CPUs (including steal) minus this process's own CPU time.
struct CpuSample {
  double busy_s = 0, self_s = 0;
  Clock::time_point t;
};

inline CpuSample cpu_sample() {
  CpuSample c;
  c.t = Clock::now();
  const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
  {
    std::ifstream f("/proc/stat");
    std::string cpu;
    unsigned long long v[8] = {};  // user nice system idle iowait irq softirq steal
    f >> cpu;
    for (auto& x : v) f >> x;
    c.busy_s = static_cast<double>(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / tick;
  }
  {
    std::ifstream f("/proc/self/stat");
    std::string all((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    std::istringstream rest(all.substr(all.rfind(')') + 2));
    std::string field;
    unsigned long long utime = 0, stime = 0;
    for (int i = 3; i <= 15; ++i) {  // fields 3.. after "pid (comm)"
      rest >> field;
      if (i == 14) utime = std::stoull(field);
      if (i == 15) stime = std::stoull(field);
    }
    c.self_s = static_cast<double>(utime + stime) / tick;
  }
  return c;
}

// Average number of CPUs busy with other processes between a and b.
inline double background_cpus(const CpuSample& a, const CpuSample& b) {
  double dt = std::chrono::duration<double>(b.t - a.t).count();
  if (dt <= 0) return 0;
  return std::max(0.0, ((b.busy_s - a.busy_s) - (b.self_s - a.self_s)) / dt);
}

inline std::string loadavg() {
  std::ifstream f("/proc/loadavg");
  std::string a, b, c;
  f >> a >> b >> c;
  return a + " " + b + " " + c;
}

struct WatchScope {
  explicit WatchScope(const std::string& what) { g_watchdog->arm(what); }
  ~WatchScope() { g_watchdog->disarm(); }
};

// Waits until other processes use less than `threshold` CPUs over a window
// of `window_s`, for at most `limit_s`. Returns false if it never got that
// quiet; *last_bg (if given) gets the load of the last window. With `say`,
// every window that was not quiet is reported on stderr.
inline bool wait_quiet(double threshold, double limit_s, double window_s = 1.0, double* last_bg = nullptr,
                       bool say = false) {
  auto start = Clock::now();
  for (;;) {
    CpuSample a = cpu_sample();
    std::this_thread::sleep_for(std::chrono::duration<double>(window_s));
    double bg = background_cpus(a, cpu_sample());
    if (last_bg) *last_bg = bg;
    if (bg < threshold) return true;
    if (seconds_since(start) > limit_s) return false;
    if (say) std::fprintf(stderr, "waiting for a quiet machine (other processes %.2f CPUs)\n", bg);
  }
}

}  // namespace lox_bench
