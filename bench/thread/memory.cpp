// SPDX-License-Identifier: Apache-2.0
// Case m: memory per pending liblox task. A pool with one worker gets a
// first task that blocks that worker on a gate; VmRSS and the malloc heap
// are read before and after scattering the pending tasks.
#include "thread.hpp"
#include "work.hpp"

#include "../common/output.hpp"

#include <lox/lox.h>
#include <malloc.h>

#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>

namespace lox_bench::thread {
namespace {

long vm_rss_kb() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  return -1;
}

size_t heap_in_use() {
  struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
}

struct Gate {
  std::mutex m;
  std::condition_variable cv;
  bool started = false, open = false;
  void wait_started() {
    std::unique_lock lk(m);
    cv.wait(lk, [&] { return started; });
  }
  void open_it() {
    {
      std::lock_guard lk(m);
      open = true;
    }
    cv.notify_all();
  }
};

int gate_task(void* ctx, void* arg, void** result) {
  uint64_t x = reinterpret_cast<uintptr_t>(arg);
  if (x == 0) {  // the first task holds the pool's only worker
    auto* g = static_cast<Gate*>(ctx);
    std::unique_lock lk(g->m);
    g->started = true;
    g->cv.notify_all();
    g->cv.wait(lk, [&] { return g->open; });
  }
  *result = reinterpret_cast<void*>(static_cast<uintptr_t>(tiny(x)));
  return 0;
}

}  // namespace

void case_m(const Options& o, Summary& sum) {
  std::printf("\n## Case m: memory per pending liblox task (%zu tasks held behind a blocked worker)\n", o.m_tasks);
  std::fprintf(stderr, "case m: %zu pending tasks\n", o.m_tasks);
  WatchScope w("case m");
  Gate gate;
  lox_thread* pool = nullptr;
  try {
    must(lox_thread_create(1, &gate_task, &gate, &pool), "lox_thread_create");
    must(lox_thread_scatter(pool, nullptr, nullptr), "lox_thread_scatter");  // task 0: the gate
    gate.wait_started();
    long rss0 = vm_rss_kb();
    size_t heap0 = heap_in_use();
    auto t0 = Clock::now();
    for (size_t i = 1; i <= o.m_tasks; ++i)
      must(lox_thread_scatter(pool, reinterpret_cast<void*>(static_cast<uintptr_t>(i)), nullptr), "lox_thread_scatter");
    double scatter_s = seconds_since(t0);
    long rss1 = vm_rss_kb();
    size_t heap1 = heap_in_use();
    size_t pending = lox_thread_pending(pool);
    gate.open_it();
    lox_results* r = nullptr;
    t0 = Clock::now();
    int rc = lox_thread_gather(pool, nullptr, &r);
    double drain_s = seconds_since(t0);
    must(rc, "lox_thread_gather");
    size_t n = lox_results_count(r), bad = 0;
    for (size_t i = 0; i < n; ++i)
      if (reinterpret_cast<uintptr_t>(lox_results_value(r, i)) != tiny(i)) ++bad;
    lox_results_destroy(r);
    lox_thread_destroy(pool);
    pool = nullptr;

    double n_tasks = static_cast<double>(o.m_tasks);
    double rss_per = static_cast<double>(rss1 - rss0) * 1024.0 / n_tasks;
    double heap_per = (static_cast<double>(heap1) - static_cast<double>(heap0)) / n_tasks;
    std::printf(
        "\n| measure                                  | value\n|------------------------------------------|------\n");
    std::printf("| pending tasks (lox_thread_pending)       | %zu\n", pending);
    std::printf("| VmRSS before / after scattering          | %ld kB / %ld kB\n", rss0, rss1);
    std::printf("| **RSS growth per pending task**          | **%.1f bytes**\n", rss_per);
    std::printf("| malloc heap growth per pending task      | %.1f bytes (mallinfo2)\n", heap_per);
    std::printf("| scatter with no worker free              | %.1f ns/task\n", scatter_s * 1e9 / n_tasks);
    std::printf("| gather after opening the gate (1 worker) | %.1f ns/task\n", drain_s * 1e9 / n_tasks);
    std::printf("| results verified                         | %zu of %zu %s\n", n - bad, n,
                (bad == 0 && n == o.m_tasks + 1) ? "ok" : "WRONG");
    if (pending != o.m_tasks) std::printf("NOTE: lox_thread_pending reported %zu, expected %zu\n", pending, o.m_tasks);
    Row row;
    row.peer = "lox";
    row.unit = "RSS bytes/task";
    row.units = o.m_tasks;
    if (bad || n != o.m_tasks + 1) {
      std::printf("ERROR: liblox returned wrong results in case m (%zu bad values, %zu results for %zu tasks)\n", bad,
                  n, o.m_tasks + 1);
      row.error = "wrong results";
    } else {
      sum.m_bytes = rss_per;
      row.v = {rss_per};
      row.note = strf("malloc heap %.1f bytes/task", heap_per);
    }
    record("m", row);
    if (settings().csv) std::printf("csv,m,lox,%zu,%.3f,%.3f,ok,0,0\n", o.m_tasks, rss_per, heap_per);
  } catch (const std::exception& e) {
    std::printf("ERROR in case m: %s\n", e.what());
    gate.open_it();
    lox_thread_destroy(pool);
  }
  std::fflush(stdout);
}

}  // namespace lox_bench::thread
