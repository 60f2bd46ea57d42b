// SPDX-License-Identifier: Apache-2.0
// Allocation-failure injection for the test program: the program replaces
// the global operator new (alloc_hook.cpp), and liblox.so's allocations bind
// to that replacement, so "the Nth allocation from now on, on this thread,
// throws std::bad_alloc" reaches the library without a test-only API.
#pragma once

#include <cstddef>

namespace loxfault {

// Arms a one-shot fault: the `n`th allocation (n >= 1) made by the calling
// thread from now on fails (throws std::bad_alloc, or returns nullptr for the
// nothrow forms). Other threads are never affected.
void fail_nth_allocation(long n) noexcept;

// Disarms the calling thread's fault; true if it fired since it was armed.
bool disarm_allocation_fault() noexcept;

// Allocation faults fired so far in this process (all threads).
long allocation_faults_injected() noexcept;

}  // namespace loxfault
