// SPDX-License-Identifier: Apache-2.0
// std: the textbook queue: one mutex, a deque, not_empty (and not_full when
// bounded); notify_one after unlocking on every put and get.
#include "queue.hpp"

#include <condition_variable>
#include <deque>
#include <mutex>

namespace lox_bench::queue {
namespace {

struct StdQueue {
  static constexpr const char* name = "std";
  std::mutex m;
  std::condition_variable not_empty, not_full;
  std::deque<void*> d;
  size_t cap;
  explicit StdQueue(size_t c) : cap(c) {}
  void put(void* v) {
    {
      std::unique_lock lk(m);
      if (cap) not_full.wait(lk, [&] { return d.size() < cap; });
      d.push_back(v);
    }
    not_empty.notify_one();
  }
  void* get() {
    void* v;
    {
      std::unique_lock lk(m);
      not_empty.wait(lk, [&] { return !d.empty(); });
      v = d.front();
      d.pop_front();
    }
    if (cap) not_full.notify_one();
    return v;
  }
  long long size() {
    std::lock_guard lk(m);
    return static_cast<long long>(d.size());
  }
};

}  // namespace

Row std_queue_row(const Options& o, const Shape& sh, Received& rx) { return queue_row<StdQueue>(o, sh, rx); }

}  // namespace lox_bench::queue
