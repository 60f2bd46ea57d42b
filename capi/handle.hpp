// SPDX-License-Identifier: Apache-2.0
// How C handles are born, checked and destroyed, so that a call on a handle
// that was destroyed (or on a handle of another type) is reported instead of
// corrupting memory, in the common case.
//
// Every handle is allocated with a small header in front of it that holds a
// magic number: "live <type>" while the handle exists, "dead" once it was
// destroyed. Each call checks the magic before touching the object
// (one load and compare of the 4 bytes just before the object).
//
// Destroyed handles are not freed at once: the object is destructed, its
// header marked dead, and the memory parked in a quarantine of the last
// kQuarantineSize destroyed handles; only the oldest is freed. A stale
// pointer therefore still points at a readable "dead" header for the next
// kQuarantineSize destroys, and the call fails with LOX_EINVAL and an ERROR
// log line instead of reading freed memory.
//
// Limits (documented in lox.h and docs/reliability.md): after more than
// kQuarantineSize later destroys the memory may be reused, by another handle
// or anything else, so detection is not guaranteed; a pointer that was never
// a handle is undefined behaviour; a destroy that races with another call on
// the same handle is undefined behaviour (the check is not a lock).
#pragma once

#include <lox/lox.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <utility>

#include "block_cache.hpp"
#include "boundary.hpp"
#include "handles.hpp"

namespace lox::capi {

// The magic of each handle type: "LX" + a type number, never 0 or dead.
template <typename T>
struct HandleKind;
#define LOX_HANDLE_KIND(T, n, name_)                     \
  template <>                                            \
  struct HandleKind<T> {                                 \
    static constexpr uint32_t magic = 0x4c580000u | (n); \
    static constexpr const char* name = name_;           \
  };
LOX_HANDLE_KIND(lox_thread, 1, "lox_thread")
LOX_HANDLE_KIND(lox_results, 2, "lox_results")
LOX_HANDLE_KIND(lox_lock, 3, "lox_lock")
LOX_HANDLE_KIND(lox_lightswitch, 4, "lox_lightswitch")
LOX_HANDLE_KIND(lox_rwlock, 5, "lox_rwlock")
LOX_HANDLE_KIND(lox_qlock, 6, "lox_qlock")
LOX_HANDLE_KIND(lox_index_semaphore, 7, "lox_index_semaphore")
LOX_HANDLE_KIND(lox_queue, 8, "lox_queue")
LOX_HANDLE_KIND(lox_announcement, 9, "lox_announcement")
LOX_HANDLE_KIND(lox_funnel, 10, "lox_funnel")
LOX_HANDLE_KIND(lox_process, 11, "lox_process")
LOX_HANDLE_KIND(lox_task, 12, "lox_task")
LOX_HANDLE_KIND(lox_completions, 13, "lox_completions")
#undef LOX_HANDLE_KIND

inline constexpr uint32_t kDeadMagic = 0xdeadbeefu;
inline constexpr size_t kQuarantineSize = 1024;

struct HandleHeader {
  std::atomic<uint32_t> magic;
};

// Where the object starts in its allocation: after the header, at the
// object's alignment. The header sits immediately before the object (at the
// end of the padding), so that it is found at the same distance from every
// handle whatever its type: a handle of another type passed by mistake is
// then still read inside its own allocation, and reported.
template <typename T>
constexpr size_t object_offset() {
  size_t a = alignof(T) > alignof(HandleHeader) ? alignof(T) : alignof(HandleHeader);
  return (sizeof(HandleHeader) + a - 1) / a * a;
}

template <typename T>
constexpr std::align_val_t allocation_alignment() {
  return std::align_val_t(alignof(T) > alignof(HandleHeader) ? alignof(T) : alignof(HandleHeader));
}

inline HandleHeader* header_of(const void* h) noexcept {
  return reinterpret_cast<HandleHeader*>(const_cast<char*>(static_cast<const char*>(h)) - sizeof(HandleHeader));
}

template <typename T>
void* allocation_of(T* h) noexcept {
  return reinterpret_cast<char*>(h) - object_offset<T>();
}

// Parks a destroyed handle's memory; frees the oldest beyond the bound.
// Thread-safe. Defined in handle.cpp.
void quarantine(void* memory, std::align_val_t alignment) noexcept;

// Where a handle's memory comes from and where it goes once destroyed:
// operator new and the quarantine, except for task handles, which come and
// go at the rate of scatters and reuse their memory (block_cache.hpp).
template <typename T>
struct HandleMemory {
  static void* allocate(size_t size, std::align_val_t alignment) { return ::operator new(size, alignment); }
  static void park(void* memory, std::align_val_t alignment) noexcept { quarantine(memory, alignment); }
};
extern BlockCache<lox_task> task_memory;  // blocks of object_offset<lox_task>() + sizeof(lox_task)
template <>
struct HandleMemory<lox_task> {
  static void* allocate(size_t, std::align_val_t) { return task_memory.allocate(); }
  static void park(void* memory, std::align_val_t) noexcept { task_memory.park(memory); }
};

// Reports a handle that is not live: LOX_EINVAL detail plus an ERROR log.
void report_dead(const char* op, const char* what, const void* h, const char* type, uint32_t magic) noexcept;

// Allocates and constructs a handle (throws what T's constructor or the
// allocation throws; nothing is leaked then).
template <typename T, typename... Args>
T* new_handle(Args&&... args) {
  constexpr size_t offset = object_offset<T>();
  void* mem = HandleMemory<T>::allocate(offset + sizeof(T), allocation_alignment<T>());
  auto* header = new (static_cast<char*>(mem) + offset - sizeof(HandleHeader)) HandleHeader{};
  T* obj;
  try {
    obj = new (static_cast<char*>(mem) + offset) T(std::forward<Args>(args)...);
  } catch (...) {
    header->magic.store(kDeadMagic, std::memory_order_relaxed);
    HandleMemory<T>::park(mem, allocation_alignment<T>());
    throw;
  }
  header->magic.store(HandleKind<T>::magic, std::memory_order_release);
  return obj;
}

// True when `h` is a live handle of type T. Otherwise records the detail
// (NULL, or destroyed / not a T) and returns false; the caller returns
// LOX_EINVAL (or its documented value for a bad handle).
template <typename T>
bool live(const char* op, const char* what, const T* h) noexcept {
  if (!h) return null_argument(op, what), false;
  uint32_t m = header_of(h)->magic.load(std::memory_order_acquire);
  if (m == HandleKind<T>::magic) [[likely]]
    return true;
  report_dead(op, what, h, HandleKind<T>::name, m);
  return false;
}

// Destroys a handle: NULL is ignored; a handle that is not live is reported
// (a double destroy) and left alone.
template <typename T>
void destroy_handle(const char* op, T* h) noexcept {
  if (!h) return;
  if (!live(op, HandleKind<T>::name, h)) return;
  HandleHeader* header = header_of(h);
  void* memory = allocation_of(h);
  h->~T();
  header->magic.store(kDeadMagic, std::memory_order_release);
  HandleMemory<T>::park(memory, allocation_alignment<T>());
}

// Owns a handle until release(): for handles made before an operation that
// may still fail.
template <typename T>
struct HandleDeleter {
  void operator()(T* h) const noexcept { destroy_handle("destroy", h); }
};
template <typename T>
using OwnedHandle = std::unique_ptr<T, HandleDeleter<T>>;

template <typename T, typename... Args>
OwnedHandle<T> make_handle(Args&&... args) {
  return OwnedHandle<T>(new_handle<T>(std::forward<Args>(args)...));
}

}  // namespace lox::capi
