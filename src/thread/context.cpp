#include "thread/context.hpp"

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

int invoke_task(TaskFn fn, void* ctx, void* arg, void** result) noexcept {
  try {
    return fn(ctx, arg, result);
  } catch (const std::exception& e) {
    log::emit(log::Level::error, "task threw a C++ exception: {}", e.what());
  } catch (...) {
    log::emit(log::Level::error, "task threw a C++ exception of unknown type");
  }
  return to_int(Status::task_failed);
}

}  // namespace lox::core::thread
