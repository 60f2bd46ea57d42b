// SPDX-License-Identifier: Apache-2.0
// lox: lox_process_create(workers, fn, NULL), one lox_process_scatter per
// task, lox_process_gather, results read with lox_results_bytes (and
// lox_results_destroy), inside the timed region. A new pool per repetition,
// warmed up with one round before the clock starts, destroyed after it
// stops (except in case d, which times the start).
#include "process.hpp"

#include "../common/output.hpp"

#include <lox/lox.h>

#include <cstring>
#include <stdexcept>

namespace lox_bench::process {
namespace {

// ------------------------------------------------------------------ tasks
// Run in the worker processes. Inputs and outputs are plain bytes.

int mul_task(void*, const void* in, size_t len, lox_buffer* out) {
  if (len != sizeof(MulIn)) return 1;
  MulIn a;
  std::memcpy(&a, in, sizeof a);
  const int64_t r = static_cast<int64_t>(a.x) * a.y;
  return lox_buffer_append(out, &r, sizeof r) == LOX_OK ? 0 : 2;
}

int spin_task(void*, const void* in, size_t len, lox_buffer* out) {
  if (len != sizeof(SpinIn)) return 1;
  SpinIn a;
  std::memcpy(&a, in, sizeof a);
  const uint64_t r = spin(a.iters, a.seed);
  return lox_buffer_append(out, &r, sizeof r) == LOX_OK ? 0 : 2;
}

int echo_task(void*, const void* in, size_t len, lox_buffer* out) {
  return lox_buffer_append(out, in, len) == LOX_OK ? 0 : 2;
}

// ------------------------------------------------------------- the pool

// A pool that is destroyed on every path.
struct Pool {
  lox_process* p = nullptr;
  Pool(lox_process_fn fn, size_t workers) { must(lox_process_create(workers, fn, nullptr, &p), "lox_process_create"); }
  ~Pool() { lox_process_destroy(p); }
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;
};
struct Results {
  lox_results* r = nullptr;
  ~Results() { lox_results_destroy(r); }
};

// Gathers the round, requires every task to have succeeded (otherwise
// throws with the first failure's status and detail).
void gather_all(lox_process* p, Results& out, size_t expected, const std::string& what) {
  int st = lox_process_gather(p, nullptr, &out.r);
  if (st != LOX_OK && st != LOX_ETASK) lox_failed(st, "lox_process_gather");
  const size_t n = lox_results_count(out.r);
  if (n != expected)
    throw std::runtime_error(what + ": gather returned " + std::to_string(n) + " results for " +
                             std::to_string(expected) + " tasks scattered");
  if (st == LOX_ETASK) {
    size_t failed = 0, first = 0;
    for (size_t i = 0; i < n; ++i)
      if (lox_results_status(out.r, i) != 0 && !failed++) first = i;
    const char* e = lox_results_error(out.r, first);
    throw std::runtime_error(what + ": " + std::to_string(failed) + " task(s) failed; task " + std::to_string(first) +
                             ": status " + std::to_string(lox_results_status(out.r, first)) + " (" +
                             lox_status_str(lox_results_status(out.r, first)) + "): " + (e ? e : "(no detail)"));
  }
}

int64_t read_i64(const lox_results* r, size_t i, const std::string& what) {
  const void* d = nullptr;
  size_t len = 0;
  must(lox_results_bytes(r, i, &d, &len), "lox_results_bytes");
  if (len != sizeof(int64_t))
    throw std::runtime_error(what + ": result " + std::to_string(i) + " has " + std::to_string(len) +
                             " bytes, 8 expected");
  int64_t v;
  std::memcpy(&v, d, sizeof v);
  return v;
}

// Scatters `count` inputs of `len` bytes each, from in[k * stride] (stride
// 0: the same input every time).
void scatter(lox_process* p, const void* in, size_t len, size_t count, size_t stride) {
  for (size_t k = 0; k < count; ++k)
    must(lox_process_scatter(p, static_cast<const unsigned char*>(in) + k * stride, len, nullptr),
         "lox_process_scatter");
}

// One untimed round of `count` inputs through a fresh pool.
void warm_up(Pool& pool, const void* in, size_t len, size_t count, size_t stride, const std::string& what) {
  scatter(pool.p, in, len, count, stride);
  Results r;
  gather_all(pool.p, r, count, what + " (warm-up)");
}

}  // namespace

Runner lox_tiny(const Options& o, TinyTasks& t) {
  return {"lox", {"lox scatter all + gather"}, [&o, &t](Meter& m, const std::string& what, std::vector<double>& v) {
            const size_t n = t.n;
            Pool pool(mul_task, o.workers);
            warm_up(pool, t.in.data(), sizeof(MulIn), 100, sizeof(MulIn), what);  // workers started, one round
            auto t0 = Clock::now();
            scatter(pool.p, t.in.data(), sizeof(MulIn), n, sizeof(MulIn));
            {
              Results r;
              gather_all(pool.p, r, n, what);
              for (size_t i = 0; i < n; ++i) t.got[i] = read_i64(r.r, i, what);
            }
            v[0] = seconds_since(t0) * 1e9 / static_cast<double>(n);
            m.stop();
            for (size_t i = 0; i < n; ++i)
              if (t.got[i] != static_cast<int64_t>(i) * static_cast<int64_t>(i + 1))
                throw std::runtime_error(what + ": result " + std::to_string(i) + " is " + std::to_string(t.got[i]) +
                                         ", expected " + std::to_string(static_cast<int64_t>(i) * (i + 1)));
          }};
}

Runner lox_spin(const Options& o, SpinTasks& t) {
  return {"lox", {"lox C (worker processes)"}, [&o, &t](Meter& m, const std::string& what, std::vector<double>& v) {
            const size_t n = t.n;
            Pool pool(spin_task, o.workers);
            const SpinIn w{1000, 1};
            warm_up(pool, &w, sizeof w, 2, 0, what);
            std::vector<uint64_t> got(n);
            auto t0 = Clock::now();
            scatter(pool.p, t.in.data(), sizeof(SpinIn), n, sizeof(SpinIn));
            {
              Results r;
              gather_all(pool.p, r, n, what);
              for (size_t k = 0; k < n; ++k) got[k] = static_cast<uint64_t>(read_i64(r.r, k, what));
            }
            v[0] = seconds_since(t0) * 1e3;
            m.stop();
            for (size_t k = 0; k < n; ++k)
              if (got[k] != t.serial[k])
                throw std::runtime_error(what + ": task " + std::to_string(k) +
                                         " returned a value that differs from the serial one");
          }};
}

Runner lox_echo(const Options& o, Echo& e) {
  return {"lox", {"lox echo"}, [&o, &e](Meter& m, const std::string& what, std::vector<double>& v) {
            Pool pool(echo_task, o.workers);
            warm_up(pool, e.payload.data(), e.size, 1, 0, what);
            std::vector<const void*> data(e.count);
            std::vector<size_t> lens(e.count);
            Results r;
            auto t0 = Clock::now();
            scatter(pool.p, e.payload.data(), e.size, e.count, 0);
            gather_all(pool.p, r, e.count, what);
            for (size_t k = 0; k < e.count; ++k)
              must(lox_results_bytes(r.r, k, &data[k], &lens[k]), "lox_results_bytes");
            const double t = seconds_since(t0);
            v[0] = t * 1e9 / e.moved;  // ns per byte moved
            m.stop();
            for (size_t k = 0; k < e.count; ++k)
              if (lens[k] != e.size || std::memcmp(data[k], e.payload.data(), e.size) != 0)
                throw std::runtime_error(what + ": echo " + std::to_string(k) + " differs (" + std::to_string(lens[k]) +
                                         " bytes)");
          }};
}

Runner lox_start(const Options& o, Start& s) {
  return {"lox", {"lox create -> first result"}, [&o, &s](Meter& m, const std::string& what, std::vector<double>& v) {
            MulIn a{2, 3};
            auto t0 = Clock::now();
            lox_process* p = nullptr;
            must(lox_process_create(o.workers, mul_task, nullptr, &p), "lox_process_create");
            struct Destroy {
              lox_process*& p;
              ~Destroy() { lox_process_destroy(p); }
            } guard{p};
            int64_t got = 0;
            {
              scatter(p, &a, sizeof a, 1, 0);
              Results r;
              gather_all(p, r, 1, what);
              got = read_i64(r.r, 0, what);
              v[0] = seconds_since(t0) * 1e6;
            }
            m.stop();
            auto t1 = Clock::now();
            lox_process_destroy(p);
            p = nullptr;
            s.destroy_us.push_back(seconds_since(t1) * 1e6);
            if (got != 6) throw std::runtime_error(what + ": 2*3 gave " + std::to_string(got));
          }};
}

}  // namespace lox_bench::process
