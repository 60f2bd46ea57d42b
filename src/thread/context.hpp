// SPDX-License-Identifier: Apache-2.0
// What the calling thread is doing for a pool: which pools' tasks are on its
// stack right now. A gather or destroy of a pool from inside one of its own
// tasks can never finish (the round waits for the very task that waits for
// the round), so those calls check here and refuse with LOX_ESTATE.
#pragma once

#include "thread/task.hpp"

namespace lox::core::thread {

// Marks "this thread runs a task of `pool`" for the scope's lifetime. Scopes
// nest (a task may run another pool's task inline).
class RunningScope {
 public:
  explicit RunningScope(const void* pool) noexcept;
  ~RunningScope();
  RunningScope(const RunningScope&) = delete;
  RunningScope& operator=(const RunningScope&) = delete;

  // True when the calling thread is inside a task of `pool`.
  static bool inside(const void* pool) noexcept;

 private:
  const void* pool_;
  RunningScope* outer_;
};

// Calls the task; a C++ exception escaping it (possible when C++ code passes
// a throwing function through the C ABI) is logged and becomes the status
// LOX_ETASK instead of terminating the worker. The one exception let
// through is abi::__forced_unwind: the task ended its thread (pthread_exit,
// or pthread_cancel acted on inside it). That unwind must go on (swallowing
// it aborts the program), so callers on the way are not noexcept and
// record the task as ended (Round::execute).
int invoke_task(TaskFn fn, void* ctx, void* arg, void** result);

}  // namespace lox::core::thread
