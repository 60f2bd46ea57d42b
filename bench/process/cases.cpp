// SPDX-License-Identifier: Apache-2.0
// Cases a to d: each builds its runners (one per peer that --peer keeps),
// runs them interleaved, and prints its table and csv lines.
#include "process.hpp"

#include "../common/output.hpp"

#include <algorithm>
#include <cstdio>
#include <fstream>

namespace lox_bench::process {
namespace {

const CsvLayout kCsv{.shape = true, .cpus = true, .unit = true, .number = "%.6g"};

void print_rows(const std::vector<Row>& rows, const char* unit_head,
                const std::function<std::string(const Row&)>& extra, const char* extra_head) {
  Table t(
      {{"shape", 10, true}, {"peer", 34, true}, {unit_head, 12, false}, {"min", 12, false}, {extra_head, 28, true}});
  t.head();
  t.rows(
      rows, true,
      [&](const Row& r) {
        return std::vector<std::string>{r.shape, r.peer, fmt_fine(r.median()), fmt_fine(r.min()), extra(r)};
      },
      [](const Row& r) { return load_note(r, "CPUs used %.2f (process tree, whole rep)", true); });
}

// The extra column "<this / lox>x lox's time".
std::function<std::string(const Row&)> vs_lox(const Row* lox) {
  return [lox](const Row& r) { return lox ? strf("%.2fx lox's time", r.median() / lox->median()) : "-"; };
}

std::optional<double> median_of(const std::vector<Row>& rows, const std::string& shape, const std::string& peer) {
  const Row* r = find_row(rows, shape, peer);
  return r ? std::optional<double>(r->median()) : std::nullopt;
}

long rss_kib() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  return -1;
}

}  // namespace

std::string size_name(size_t s) {
  return s % kMiB == 0 ? std::to_string(s / kMiB) + "MiB" : std::to_string(s / 1024) + "KiB";
}

void case_a(const Options& o, ASummary& sum) {
  TinyTasks t{o.a_tasks, std::vector<MulIn>(o.a_tasks), std::vector<int64_t>(o.a_tasks), ""};
  for (size_t i = 0; i < t.n; ++i) t.in[i] = {static_cast<int32_t>(i), static_cast<int32_t>(i + 1)};
  std::vector<Runner> runners;
  if (o.want_peer("lox")) runners.push_back(lox_tiny(o, t));
  if (o.want_peer("python")) runners.push_back(python_tiny(o, t));
  std::fprintf(stderr, "case a: %zu tiny tasks x %d reps\n", t.n, o.reps);
  std::vector<Row> rows = run_interleaved("a", "ns/task", runners, o.reps);
  for (Row& r : rows)
    if (r.peer.find("starmap") != std::string::npos && !t.chunk_info.empty()) r.note = t.chunk_info;
  const Row* lox = find_row(rows, "a", "lox scatter all + gather");
  std::printf("\n## Case a: %zu tiny tasks (x*y of two ints), %zu workers, %d reps: ns per task\n\n", t.n, o.workers,
              o.reps);
  print_rows(rows, "median ns", vs_lox(lox), "this / lox");
  emit("a", rows, kCsv);
  if (lox) sum.lox = lox->median();
  sum.apply = median_of(rows, "a", "python apply_async all + get");
  sum.map = median_of(rows, "a", "python starmap (default chunksize)");
}

void case_b(const Options& o, BSummary& sum) {
  SpinTasks t{o.b_tasks, {}, {}, 0};
  std::fprintf(stderr, "case b: calibrating ~%.2f s tasks (C here, then Python)\n", o.b_seconds);
  const uint64_t iters = calibrate_spin(o.b_seconds);
  if (o.want_peer("python")) t.py_iters = python_calibrate_spin(o);
  for (size_t k = 0; k < t.n; ++k) t.in.push_back({iters, 0x9E3779B97F4A7C15ULL * (k + 1)});
  for (size_t k = 0; k < t.n; ++k) t.serial.push_back(spin(t.in[k].iters, t.in[k].seed));  // reference values
  std::vector<Runner> runners;
  if (o.want_peer("serial")) runners.push_back(serial_spin(t));
  if (o.want_peer("lox")) runners.push_back(lox_spin(o, t));
  if (o.want_peer("python")) runners.push_back(python_spin(o, t));
  std::vector<Row> rows = run_interleaved("b", "ms/batch", runners, o.b_reps);
  const Row* ser = find_row(rows, "b", "serial C (calling thread)");
  const Row* lox = find_row(rows, "b", "lox C (worker processes)");
  const Row* pser = find_row(rows, "b", "python serial");
  const Row* ppool = find_row(rows, "b", "python Pool apply_async + get");
  // Each repetition's own speed-up (serial and pool of the same repetition).
  auto per_rep = [](const Row* base, const Row* r) {
    std::string s = "per rep:";
    for (size_t i = 0; i < std::min(base->v.size(), r->v.size()); ++i) s += " " + fmt_fine(base->v[i] / r->v[i]) + "x";
    return s;
  };
  for (Row& r : rows) {
    if (&r == lox && ser) r.note = per_rep(ser, lox);
    if (&r == ppool && pser) r.note = per_rep(pser, ppool);
  }
  std::printf(
      "\n## Case b: %zu CPU-bound tasks, %zu workers, %d reps: ms per batch (C: %llu iterations per task, "
      "calibrated to %.2f s; Python: %llu iterations, its own calibration; Python's times are not comparable with "
      "C's, only its speed-up)\n\n",
      t.n, o.workers, o.b_reps, static_cast<unsigned long long>(iters), o.b_seconds,
      static_cast<unsigned long long>(t.py_iters));
  print_rows(
      rows, "median ms",
      [&](const Row& r) {
        const Row* base = r.peer.rfind("python", 0) == 0 ? pser : ser;
        return base ? strf("speed-up %.3fx", base->median() / r.median()) : "-";
      },
      "serial / this");
  emit("b", rows, kCsv);
  if (ser && lox) sum.lox_speedup = ser->median() / lox->median();
  if (pser && ppool) sum.py_speedup = pser->median() / ppool->median();
}

void case_c(const Options& o, std::vector<CSummary>& sums) {
  std::vector<Row> all;
  for (size_t size : o.c_sizes) {
    const size_t count = std::max<size_t>(2, o.c_bytes / size);
    Echo e{size, count, 2.0 * static_cast<double>(size) * static_cast<double>(count), std::vector<unsigned char>(size)};
    const std::string shape = size_name(size) + " x" + std::to_string(count);
    uint64_t x = 0x243F6A8885A308D3ULL;
    for (size_t i = 0; i < size; ++i) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      e.payload[i] = static_cast<unsigned char>(x);
    }
    std::vector<Runner> runners;
    if (o.want_peer("lox")) runners.push_back(lox_echo(o, e));
    if (o.want_peer("python")) runners.push_back(python_echo(o, e));
    std::fprintf(stderr, "case c: %s, %d reps\n", shape.c_str(), o.reps);
    std::vector<Row> rows = run_interleaved(shape, "ns/byte", runners, o.reps);
    CSummary s{size, {}, {}};
    if (auto* r = find_row(rows, shape, "lox echo")) s.lox_gbs = 1.0 / r->median();
    if (auto* r = find_row(rows, shape, "python apply_async echo + get")) s.py_gbs = 1.0 / r->median();
    sums.push_back(s);
    all.insert(all.end(), rows.begin(), rows.end());
  }
  std::printf(
      "\n## Case c: payloads echoed back, %zu workers, %d reps: GB/s = (bytes in + bytes out) / wall time "
      "(10^9 B/s); the table's figures are ns per byte moved\n\n",
      o.workers, o.reps);
  print_rows(
      all, "median ns/B",
      [&](const Row& r) {
        const Row* lox = find_row(all, r.shape, "lox echo");
        return strf("%.3f GB/s (best %.3f)%s", 1.0 / r.median(), 1.0 / r.min(),
                    lox && &r != lox ? (" " + fmt_fine(r.median() / lox->median()) + "x lox's time").c_str() : "");
      },
      "GB/s");
  emit("c", all, kCsv);
}

void case_d(const Options& o, DSummary& sum) {
  Start s;
  std::vector<Runner> runners;
  if (o.want_peer("lox")) runners.push_back(lox_start(o, s));
  if (o.want_peer("python")) runners.push_back(python_start(o, s));
  const long rss = rss_kib();
  std::fprintf(stderr, "case d: %d reps\n", o.reps);
  std::vector<Row> rows = run_interleaved("d", "us", runners, o.reps);
  auto med = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0.0 : v[v.size() / 2];
  };
  for (Row& r : rows) {
    if (r.peer.rfind("lox", 0) == 0 && !s.destroy_us.empty())
      r.note =
          "destroy " + fmt_fine(med(s.destroy_us)) + " us; this process's RSS " + std::to_string(rss / 1024) + " MiB";
    if (r.peer.rfind("python", 0) == 0 && !s.close_us.empty())
      r.note = "close+join " + fmt_fine(med(s.close_us)) + " us";
  }
  const Row* lox = find_row(rows, "d", "lox create -> first result");
  std::printf("\n## Case d: worker start cost, %zu workers, %d reps: microseconds\n\n", o.workers, o.reps);
  print_rows(rows, "median us", vs_lox(lox), "this / lox");
  emit("d", rows, kCsv);
  if (lox) sum.lox = lox->median();
  sum.py = median_of(rows, "d", "python Pool(2) + first apply");
}

}  // namespace lox_bench::process
