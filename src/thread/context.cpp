// SPDX-License-Identifier: Apache-2.0
#include "thread/context.hpp"

#include <cxxabi.h>

#include <exception>

#include "common/status.hpp"
#include "log/log.hpp"

namespace lox::core::thread {
namespace {
thread_local RunningScope* tl_innermost = nullptr;
}

RunningScope::RunningScope(const void* pool) noexcept : pool_(pool), outer_(tl_innermost) { tl_innermost = this; }
RunningScope::~RunningScope() { tl_innermost = outer_; }

bool RunningScope::inside(const void* pool) noexcept {
  for (const RunningScope* s = tl_innermost; s; s = s->outer_)
    if (s->pool_ == pool) return true;
  return false;
}

// The forced unwind is a foreign exception without a C++ object: catching
// it by reference binds a null reference, which UBSan's null check reports
// although this is how glibc says to catch it. Nothing else here derefs.
__attribute__((no_sanitize("null"))) int invoke_task(TaskFn fn, void* ctx, void* arg, void** result) {
  try {
    return fn(ctx, arg, result);
  } catch (const abi::__forced_unwind&) {
    throw;
  } catch (const std::exception& e) {
    log::emit(log::Level::error, "task threw a C++ exception: {}", e.what());
  } catch (...) {
    log::emit(log::Level::error, "task threw a C++ exception of unknown type");
  }
  return to_int(Status::task_failed);
}

}  // namespace lox::core::thread
