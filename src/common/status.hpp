// SPDX-License-Identifier: Apache-2.0
// Status codes of the core: the C ABI's LOX_STATUS_MAP values (the one
// table of codes) under the core's own names, so translation is a cast.
#pragma once

#include <lox/c/status.h>

namespace lox::core {

enum class Status : int {
  ok = LOX_OK,
  timeout = LOX_TIMEOUT,
  invalid = LOX_EINVAL,  // bad argument
  no_memory = LOX_ENOMEM,
  bad_state = LOX_ESTATE,  // not valid in the object's current state
  closed = LOX_ECLOSED,
  task_failed = LOX_ETASK,
  worker_died = LOX_EWORKER,
  system = LOX_ESYS,  // an OS call failed; errno text in the detail
  cancelled = LOX_ECANCELLED,
  dependency_failed = LOX_EDEPENDENCY,  // a predecessor failed or was cancelled
};

constexpr int to_int(Status s) noexcept { return static_cast<int>(s); }

}  // namespace lox::core
