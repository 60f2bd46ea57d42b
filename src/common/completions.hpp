// SPDX-License-Identifier: Apache-2.0
// Task outcomes in the order tasks complete (lox_completions): from a
// round of either pool, or from a set of task handles. The C handle
// `lox_completions` is this object.
#pragma once

#include <cstddef>

#include "common/deadline.hpp"
#include "common/status.hpp"

namespace lox::core {

namespace graph {
class Node;
}

// One delivery. Pointers stay valid as long as the Completions object.
struct Completed {
  size_t index = 0;
  int status = 0;
  void* value = nullptr;
  const void* data = nullptr;
  size_t len = 0;
  const char* error = nullptr;
  graph::Node* node = nullptr;  // handle sets only
};

class Completions {
 public:
  virtual ~Completions() = default;
  // The next completed task not delivered yet: Status::ok, timeout, or
  // closed once everything was delivered. One consumer at a time.
  virtual Status next(const Deadline& deadline, Completed& out) noexcept = 0;
  virtual size_t remaining() const noexcept = 0;
};

}  // namespace lox::core
