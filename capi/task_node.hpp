// SPDX-License-Identifier: Apache-2.0
// What every scatter_ex does before its pool sees the task: check the
// options and predecessors, then make the task's handle (the graph node)
// with references to its predecessors.
#pragma once

#include <lox/lox.h>

#include <memory>

#include "handles.hpp"

namespace lox::capi {

// The caller's reference to a new handle, dropped unless released.
struct TaskRef {
  lox_task* task = nullptr;
  TaskRef() = default;
  TaskRef(const TaskRef&) = delete;
  TaskRef& operator=(const TaskRef&) = delete;
  ~TaskRef() {
    if (task) task->core.release();
  }
  lox_task* release() noexcept { return std::exchange(task, nullptr); }
};

// Largest number of predecessors one scatter may name.
inline constexpr size_t kMaxPredecessors = 1000000;

// Reads `given` into `o` (defaults when NULL) and checks its predecessors
// (`process`: thread predecessors need an encoder). False with the detail
// recorded (LOX_EINVAL).
bool read_scatter_opts(const char* op, const lox_scatter_opts* given, bool process, lox_scatter_opts& o) noexcept;

// A new handle of `kind` referencing `o`'s predecessors, in `out`.
// LOX_OK or LOX_ENOMEM.
int make_task(const char* op, core::graph::Node::Kind kind, const lox_scatter_opts& o, TaskRef& out) noexcept;

}  // namespace lox::capi
