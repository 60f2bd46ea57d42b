// SPDX-License-Identifier: Apache-2.0
// glib: GLib's GAsyncQueue (g_async_queue_push / g_async_queue_pop). It has
// no capacity: it exists only unbounded.
#include "queue.hpp"

#include <glib.h>

#include <stdexcept>

namespace lox_bench::queue {
namespace {

struct GlibQueue {
  static constexpr const char* name = "glib";
  static constexpr const char* no_capacity = "GAsyncQueue has no capacity limit";
  GAsyncQueue* q = g_async_queue_new();
  explicit GlibQueue(size_t cap) {
    if (cap) throw std::logic_error("GAsyncQueue cannot be bounded");
  }
  ~GlibQueue() { g_async_queue_unref(q); }
  void put(void* v) { g_async_queue_push(q, v); }  // v is never NULL (values start at 1)
  void* get() { return g_async_queue_pop(q); }
  long long size() const { return g_async_queue_length(q); }  // minus waiting threads
};

}  // namespace

Row glib_queue_row(const Options& o, const Shape& sh, Received& rx) { return queue_row<GlibQueue>(o, sh, rx); }

std::string glib_version() {
  return std::to_string(glib_major_version) + "." + std::to_string(glib_minor_version) + "." +
         std::to_string(glib_micro_version);
}

}  // namespace lox_bench::queue
