// SPDX-License-Identifier: Apache-2.0
// What a gather call asks for, whichever pool serves it: how long to wait
// and how to report progress.
#pragma once

#include "common/deadline.hpp"
#include "common/progress.hpp"

namespace lox::core {

struct GatherRequest {
  Deadline deadline = Deadline::never();
  ProgressFn progress = nullptr;
  void* progress_ctx = nullptr;
  bool progress_bar = false;
};

}  // namespace lox::core
