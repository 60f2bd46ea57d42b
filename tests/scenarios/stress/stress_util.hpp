// SPDX-License-Identifier: Apache-2.0
// Shared by the stress programs (stress_*.cpp): the run's
// random seed, the one place where counts can be scaled, arrival marks
// ("every id exactly once"), random short timeouts, and the one-line
// summary each test prints for docs/reliability.md.
//
// Seed: LOX_STRESS_SEED if set, else the clock; printed in every summary so
// a failure can be rerun with the same random choices (thread interleavings
// still differ from run to run).
// Scale: every count goes through scaled_count(), a factor of 1 (the full
// counts of docs/reliability.md) unless LOX_STRESS_SCALE (e.g. 0.1 or 5) is
// set. Nothing sets it: the full counts were measured to finish well within CTest's limit in
// the ASan and TSan builds too (each program in under a minute); the
// variable is for a quick local run or a longer soak.
#pragma once

#include <lox/lox.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace loxstress {

inline double scale() {
  static const double s = [] {
    if (const char* e = std::getenv("LOX_STRESS_SCALE")) {
      char* end = nullptr;
      double v = std::strtod(e, &end);
      if (end != e && v > 0) return v;
    }
    return 1.0;
  }();
  return s;
}

// `n` times the scale, never below `min`.
inline long scaled_count(long n, long min = 1) {
  long v = static_cast<long>(static_cast<double>(n) * scale());
  return v < min ? min : v;
}

inline uint64_t seed() {
  static const uint64_t s = [] {
    if (const char* e = std::getenv("LOX_STRESS_SEED")) return static_cast<uint64_t>(std::strtoull(e, nullptr, 0));
    return static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count());
  }();
  return s;
}

// A generator for one thread of one test: distinct streams from one seed.
inline std::mt19937_64 rng_for(uint64_t salt) {
  std::seed_seq seq{static_cast<uint32_t>(seed()), static_cast<uint32_t>(seed() >> 32), static_cast<uint32_t>(salt),
                    static_cast<uint32_t>(salt >> 32)};
  return std::mt19937_64(seq);
}

// A short random timeout for an acquire, put or get: try-once, tens of
// microseconds or a few milliseconds, so that many calls time out and are
// retried (the "leaves no trace" path) while some succeed after waiting.
inline double random_timeout(std::mt19937_64& rng) {
  switch (rng() % 5) {
    case 0:
      return 0.0;
    case 1:
      return 0.00002;
    case 2:
      return 0.0002;
    case 3:
      return 0.001;
    default:
      return 0.005;
  }
}

// Calls op(timeout) with random short timeouts until it returns something
// other than LOX_TIMEOUT (a timed-out call left no trace, so it is simply
// retried), counting the timeouts. Gives up with LOX_TIMEOUT after `limit`
// without success: what must happen then failed to (a hang or a lost item),
// and the test fails instead of blocking.
template <typename Op>
int with_retries(Op op, std::mt19937_64& rng, std::atomic<long>& timeouts,
                 std::chrono::seconds limit = std::chrono::seconds(60)) {
  const auto end = std::chrono::steady_clock::now() + limit;
  for (;;) {
    const int rc = op(random_timeout(rng));
    if (rc != LOX_TIMEOUT) return rc;
    timeouts.fetch_add(1, std::memory_order_relaxed);
    if (std::chrono::steady_clock::now() >= end) return LOX_TIMEOUT;
  }
}

// Arrival marks: one counter per id.
class Marks {
 public:
  explicit Marks(size_t n) : m_(n) {}
  // False (and counted) for an id that was never issued.
  bool mark(size_t id) {
    if (id >= m_.size()) {
      out_of_range_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    m_[id].fetch_add(1, std::memory_order_relaxed);
    return true;
  }
  size_t size() const { return m_.size(); }
  unsigned at(size_t id) const { return m_[id].load(std::memory_order_relaxed); }
  size_t exactly_once() const {
    return count_if([](unsigned c) { return c == 1; });
  }
  size_t lost() const {
    return count_if([](unsigned c) { return c == 0; });
  }
  size_t duplicated() const {
    return count_if([](unsigned c) { return c > 1; });
  }
  long out_of_range() const { return out_of_range_.load(); }
  // First id not marked exactly once, or size() (for failure messages).
  size_t first_bad() const {
    for (size_t i = 0; i < m_.size(); ++i)
      if (at(i) != 1) return i;
    return m_.size();
  }

 private:
  template <typename P>
  size_t count_if(P p) const {
    size_t n = 0;
    for (size_t i = 0; i < m_.size(); ++i) n += p(at(i)) ? 1 : 0;
    return n;
  }
  std::vector<std::atomic<uint32_t>> m_;
  std::atomic<long> out_of_range_{0};
};

// Expects every id marked exactly once, with a message that says how not.
inline void expect_exactly_once(const Marks& m, const char* what) {
  EXPECT_EQ(m.out_of_range(), 0) << what << ": an id that was never issued came out";
  EXPECT_EQ(m.exactly_once(), m.size()) << what << ": " << m.lost() << " lost, " << m.duplicated()
                                        << " duplicated (first bad id " << m.first_bad() << ")";
}

class Stopwatch {
 public:
  double seconds() const { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count(); }

 private:
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

// Prints "stress: <name>: <figures> in <t> s (seed=..., scale=...)" on
// stdout; `figures` are "key=value" pairs measured by the test.
inline void summary(const char* name, const std::string& figures, const Stopwatch& sw) {
  std::printf("stress: %s: %s in %.2f s (seed=%llu, scale=%g)\n", name, figures.c_str(), sw.seconds(),
              static_cast<unsigned long long>(seed()), scale());
  std::fflush(stdout);
}

}  // namespace loxstress
