// SPDX-License-Identifier: Apache-2.0
// The results of one gathered round, whatever pool produced them. The C
// handle `lox_results` is this object; each pool supplies its own storage.
#pragma once

#include <cstddef>
#include <string_view>

namespace lox::core {

class Results {
 public:
  virtual ~Results() = default;
  virtual size_t count() const noexcept = 0;
  // Callers check `i < count()` first.
  virtual int status(size_t i) const noexcept = 0;
  virtual void* value(size_t i) const noexcept = 0;
  // False when these results hold values rather than bytes.
  virtual bool bytes(size_t i, const void** data, size_t* len) const noexcept = 0;
  // Detail text of a failed task, nullptr for a successful one.
  virtual const char* error(size_t i) const noexcept = 0;
};

}  // namespace lox::core
