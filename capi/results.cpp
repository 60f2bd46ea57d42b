// SPDX-License-Identifier: Apache-2.0
// lox_results_*: read-only access to a gathered round.
#include <lox/lox.h>

#include "boundary.hpp"
#include "handle.hpp"

using namespace lox;
using lox::capi::Status;

namespace {
bool check_index(const char* op, const lox_results* r, size_t i) noexcept {
  if (!capi::live(op, "results", r)) return false;
  if (i >= r->core->count()) {
    core::fail(Status::invalid, "{}: index {} out of range (count {})", op, i, r->core->count());
    return false;
  }
  return true;
}
}  // namespace

extern "C" {

LOX_API int lox_results_status(const lox_results* r, size_t i) {
  if (!check_index("results status", r, i)) return LOX_EINVAL;
  return r->core->status(i);
}

LOX_API void* lox_results_value(const lox_results* r, size_t i) {
  if (!check_index("results value", r, i)) return nullptr;
  // Symmetric with lox_results_bytes on thread results: NULL alone would
  // read as "the task stored nothing".
  const void* d = nullptr;
  size_t n = 0;
  if (r->core->bytes(i, &d, &n)) {
    core::fail(Status::invalid,
               "results value: these results hold bytes, not values (process pool; use lox_results_bytes)");
    return nullptr;
  }
  return r->core->value(i);
}

LOX_API int lox_results_bytes(const lox_results* r, size_t i, const void** data, size_t* len) {
  if (!data) return capi::null_argument("results bytes", "data");
  if (!len) return capi::null_argument("results bytes", "len");
  if (!check_index("results bytes", r, i)) return LOX_EINVAL;
  const void* d = nullptr;
  size_t n = 0;
  if (!r->core->bytes(i, &d, &n))
    return capi::to_c(core::fail(Status::invalid, "results bytes: these results hold values, not bytes (thread pool)"));
  *data = d;
  *len = n;
  return LOX_OK;
}

LOX_API const char* lox_results_error(const lox_results* r, size_t i) {
  if (!check_index("results error", r, i)) return nullptr;
  return r->core->error(i);
}

LOX_API void lox_results_destroy(lox_results* r) { capi::destroy_handle("results destroy", r); }

}  // extern "C"
