// SPDX-License-Identifier: Apache-2.0
// libFuzzer harness of liblox's C API: the input is a program of C-API
// calls on every object kind (see capi_world.hpp for the model and the
// per-family files for the calls), with NULL handles and out-pointers,
// bad modes, out-of-range indices, NaN/negative/huge/infinite timeouts,
// double releases, destroys in odd orders and calls on destroyed handles.
// After every call the status must be the documented one and every getter
// must agree with the model; a broken invariant aborts.
//
// The harness is single-threaded (pool workers aside) and never blocks: a
// call the model knows could block gets a timeout of at most 1 ms.
#include <lox/lox.h>

#include <cstdint>

#include "capi_world.hpp"

namespace {

// Logs (ERROR lines for every use of a dead handle, ...) are checked for
// shape and dropped: writing them to stderr would dominate the run time.
void log_sink(void*, int level, const char* message) {
  FUZZ_CHECK(level >= LOX_LOG_TRACE && level < LOX_LOG_OFF);
  FUZZ_CHECK(message != nullptr && *message != '\0');
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace loxfuzz;
  static const bool once = [] {
    lox_log_set_callback(log_sink, nullptr);
    (void)sentinel();
    return true;
  }();
  (void)once;
  lox_log_set_level(LOX_LOG_WARN);

  Input in(data, size);
  World w(in);
  for (size_t ops = 0; ops < kMaxOps && !in.empty(); ++ops) {
    const unsigned code = in.u8();
    switch (code % 4) {
      case 0:
        op_sync(w, code / 4);
        break;
      case 1:
        op_queue(w, code / 4);
        break;
      case 2:
        op_pool(w, code / 4);
        break;
      case 3:
        op_misc(w, code / 4);
        break;
    }
    arm();
    check_sync(w);
    check_queues(w);
    check_pools(w);
    detail_untouched();  // getters on live objects do not fail
  }
  teardown_pools(w);
  teardown_queues(w);
  teardown_sync(w);
  return 0;
}
