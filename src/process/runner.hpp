// SPDX-License-Identifier: Apache-2.0
// What a worker process runs for each task. The C boundary implements it
// over the user's lox_process_fn; the core only moves bytes.
#pragma once

#include <cstddef>
#include <string>

namespace lox::core::process {

class Runner {
 public:
  virtual ~Runner() = default;
  // Runs one task on `len` bytes at `in`, appending its result to `out`.
  // 0 = success, anything else is the task's failure code (and `out` its
  // detail text). Must not throw.
  virtual int run(const void* in, size_t len, std::string& out) noexcept = 0;
};

}  // namespace lox::core::process
