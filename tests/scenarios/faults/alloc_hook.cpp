// SPDX-License-Identifier: Apache-2.0
// Replacement of every form of the global operator new / delete (plain,
// array, nothrow, aligned) with a malloc-based version that can fail on
// demand (see alloc_hook.hpp). Defined in the executable, these are the
// definitions liblox.so and libstdc++ bind to.
//
// The countdown is a thread_local of trivial type (static TLS of the
// executable: no constructor, usable from the first allocation on).
#include "alloc_hook.hpp"

#include <atomic>
#include <cstdlib>
#include <new>
#include <utility>

namespace {

thread_local long t_countdown = 0;  // 0: disarmed; n: the nth allocation fails
thread_local bool t_fired = false;
std::atomic<long> g_injected{0};

// True if this allocation is the one that must fail.
bool should_fail() noexcept {
  if (t_countdown <= 0) return false;
  if (--t_countdown != 0) return false;
  t_fired = true;
  g_injected.fetch_add(1, std::memory_order_relaxed);
  return true;
}

void* allocate(std::size_t size) noexcept { return std::malloc(size == 0 ? 1 : size); }

void* allocate_aligned(std::size_t size, std::align_val_t align) noexcept {
  const auto a = static_cast<std::size_t>(align);
  // aligned_alloc wants a size that is a multiple of the alignment.
  const std::size_t rounded = ((size == 0 ? 1 : size) + a - 1) / a * a;
  return std::aligned_alloc(a, rounded);
}

}  // namespace

namespace loxfault {

void fail_nth_allocation(long n) noexcept {
  t_fired = false;
  t_countdown = n;
}

bool disarm_allocation_fault() noexcept {
  t_countdown = 0;
  return std::exchange(t_fired, false);
}

long allocation_faults_injected() noexcept { return g_injected.load(std::memory_order_relaxed); }

}  // namespace loxfault

// --- throwing forms ---------------------------------------------------------

void* operator new(std::size_t size) {
  void* p = should_fail() ? nullptr : allocate(size);
  if (!p) throw std::bad_alloc();
  return p;
}
void* operator new[](std::size_t size) { return ::operator new(size); }
void* operator new(std::size_t size, std::align_val_t align) {
  void* p = should_fail() ? nullptr : allocate_aligned(size, align);
  if (!p) throw std::bad_alloc();
  return p;
}
void* operator new[](std::size_t size, std::align_val_t align) { return ::operator new(size, align); }

// --- nothrow forms ----------------------------------------------------------

void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  return should_fail() ? nullptr : allocate(size);
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  return should_fail() ? nullptr : allocate(size);
}
void* operator new(std::size_t size, std::align_val_t align, const std::nothrow_t&) noexcept {
  return should_fail() ? nullptr : allocate_aligned(size, align);
}
void* operator new[](std::size_t size, std::align_val_t align, const std::nothrow_t&) noexcept {
  return should_fail() ? nullptr : allocate_aligned(size, align);
}

// --- deletes: everything above came from malloc/aligned_alloc ----------------

void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
