// SPDX-License-Identifier: Apache-2.0
#include "crew.hpp"

#include "../common/options.hpp"

#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <thread>

namespace lox_bench::queue {

CrewTimes run_crew(std::vector<Member>& ms, const std::string& what, const std::function<std::string()>& state) {
  const size_t k = ms.size();
  std::unique_ptr<Progress[]> prog(new Progress[k]);
  std::atomic<size_t> ready{0};
  std::atomic<bool> go{false};
  std::mutex m;
  std::condition_variable cv;
  size_t finished = 0;
  std::string failure;
  std::vector<std::thread> ts;
  for (size_t i = 0; i < k; ++i)
    ts.emplace_back([&, i] {
      ready.fetch_add(1);
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
      std::string err;
      try {
        ms[i].body(prog[i]);
      } catch (const std::exception& e) {
        err = e.what();
      }
      prog[i].end = Clock::now();
      {
        std::lock_guard lk(m);
        ++finished;
        if (!err.empty() && failure.empty()) failure = ms[i].name + ": " + err;
      }
      cv.notify_one();
    });
  while (ready.load() < k) std::this_thread::yield();
  CrewTimes out;
  out.t0 = Clock::now();
  go.store(true, std::memory_order_release);
  {
    std::unique_lock lk(m);
    const double limit_s = settings().watchdog_s;
    bool done =
        cv.wait_for(lk, std::chrono::duration<double>(limit_s), [&] { return finished == k || !failure.empty(); });
    if (!done || !failure.empty()) {
      char limit[32];
      std::snprintf(limit, sizeof limit, "%.0f", limit_s);
      std::string head =
          done ? "FAILED: '" + what + "': " + failure : "HANG: '" + what + "' did not finish within " + limit + " s";
      std::string progress = "progress:";
      for (size_t i = 0; i < k; ++i)
        progress += " " + ms[i].name + " " + ms[i].verb + " " + std::to_string(prog[i].n.load()) + " of " +
                    std::to_string(ms[i].expected) + ";";
      const std::string st = state();
      std::fprintf(stderr, "\n%s\n  %s\n  %s\n", head.c_str(), progress.c_str(), st.c_str());
      std::printf("# %s\n#   %s\n#   %s\n", head.c_str(), progress.c_str(), st.c_str());
      std::fflush(stdout);
      std::fflush(stderr);
      std::_Exit(done ? 4 : 3);
    }
  }
  for (auto& t : ts) t.join();
  for (size_t i = 0; i < k; ++i) {
    out.end_s.push_back(std::chrono::duration<double>(prog[i].end - out.t0).count());
    out.last_s = std::max(out.last_s, out.end_s.back());
  }
  return out;
}

}  // namespace lox_bench::queue
