// SPDX-License-Identifier: Apache-2.0
// lox: lox_queue_create(capacity), lox_queue_put / lox_queue_get with
// LOX_FOREVER; every call's status checked.
#include "queue.hpp"

#include "../common/output.hpp"

#include <lox/lox.h>

namespace lox_bench::queue {
namespace {

struct LoxQueue {
  static constexpr const char* name = "lox";
  lox_queue* q = nullptr;
  explicit LoxQueue(size_t cap) { must(lox_queue_create(cap, &q), "lox_queue_create"); }
  ~LoxQueue() { lox_queue_destroy(q); }
  void put(void* v) { must(lox_queue_put(q, v, LOX_FOREVER), "lox_queue_put"); }
  void* get() {
    void* v = nullptr;
    must(lox_queue_get(q, &v, LOX_FOREVER), "lox_queue_get");
    return v;
  }
  long long size() const { return static_cast<long long>(lox_queue_size(q)); }
};

}  // namespace

Row lox_queue_row(const Options& o, const Shape& sh, Received& rx) { return queue_row<LoxQueue>(o, sh, rx); }

}  // namespace lox_bench::queue
