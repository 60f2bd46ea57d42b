// SPDX-License-Identifier: Apache-2.0
// Names of a typed test's instances: each type parameter says its own
// (static constexpr const char* kName), so the CTest names read
// Suite/Lock.Test rather than Suite/0.Test.
#pragma once

#include <string>

namespace loxtest {

struct TypeNames {
  template <typename T>
  static std::string GetName(int) {
    return T::kName;
  }
};

}  // namespace loxtest
