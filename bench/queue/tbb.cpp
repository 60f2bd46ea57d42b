// SPDX-License-Identifier: Apache-2.0
// tbb: oneTBB's concurrent_bounded_queue (push / pop; set_capacity when
// bounded).
#include "queue.hpp"

#include <oneapi/tbb/concurrent_queue.h>
#include <oneapi/tbb/version.h>

namespace lox_bench::queue {
namespace {

struct TbbQueue {
  static constexpr const char* name = "tbb";
  tbb::concurrent_bounded_queue<void*> q;
  explicit TbbQueue(size_t cap) {
    if (cap) q.set_capacity(static_cast<std::ptrdiff_t>(cap));
  }
  void put(void* v) { q.push(v); }
  void* get() {
    void* v = nullptr;
    q.pop(v);
    return v;
  }
  long long size() const { return static_cast<long long>(q.size()); }  // minus waiting pops
};

}  // namespace

Row tbb_queue_row(const Options& o, const Shape& sh, Received& rx) { return queue_row<TbbQueue>(o, sh, rx); }

std::string tbb_version() { return TBB_VERSION_STRING; }

}  // namespace lox_bench::queue
