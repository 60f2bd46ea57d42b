// SPDX-License-Identifier: Apache-2.0
// The resource guard of every test program (resource_guard.cpp): each test
// must end with as many open descriptors and threads as it started with.
#pragma once

namespace loxtest {

// Exempts the running test from the check (for a test that knowingly keeps
// a descriptor or thread, e.g. one that deliberately leaks a handle).
void allow_resource_change();

}  // namespace loxtest
