// SPDX-License-Identifier: Apache-2.0
// RAII owners of the C API's handles: Owned<lox_X> is a std::unique_ptr
// whose deleter calls lox_X_destroy, for every handle type of lox.h, and
// created<lox_X>(lox_X_create, args...) makes one, expecting LOX_OK.
// Owned<lox_task> releases its reference instead (lox_task_release).
#pragma once

#include <lox/lox.h>

#include <gtest/gtest.h>

#include <memory>
#include <utility>

namespace loxtest {

// The destroy function of each handle type.
template <typename T>
struct HandleTraits;
template <>
struct HandleTraits<lox_thread> {
  static void destroy(lox_thread* h) { lox_thread_destroy(h); }
};
template <>
struct HandleTraits<lox_process> {
  static void destroy(lox_process* h) { lox_process_destroy(h); }
};
template <>
struct HandleTraits<lox_results> {
  static void destroy(lox_results* h) { lox_results_destroy(h); }
};
template <>
struct HandleTraits<lox_lock> {
  static void destroy(lox_lock* h) { lox_lock_destroy(h); }
};
template <>
struct HandleTraits<lox_lightswitch> {
  static void destroy(lox_lightswitch* h) { lox_lightswitch_destroy(h); }
};
template <>
struct HandleTraits<lox_rwlock> {
  static void destroy(lox_rwlock* h) { lox_rwlock_destroy(h); }
};
template <>
struct HandleTraits<lox_qlock> {
  static void destroy(lox_qlock* h) { lox_qlock_destroy(h); }
};
template <>
struct HandleTraits<lox_index_semaphore> {
  static void destroy(lox_index_semaphore* h) { lox_index_semaphore_destroy(h); }
};
template <>
struct HandleTraits<lox_queue> {
  static void destroy(lox_queue* h) { lox_queue_destroy(h); }
};
template <>
struct HandleTraits<lox_announcement> {
  static void destroy(lox_announcement* h) { lox_announcement_destroy(h); }
};
template <>
struct HandleTraits<lox_funnel> {
  static void destroy(lox_funnel* h) { lox_funnel_destroy(h); }
};
// A task handle is reference counted: its owner drops the one reference it
// holds (lox_task_release).
template <>
struct HandleTraits<lox_task> {
  static void destroy(lox_task* h) { lox_task_release(h); }
};
template <>
struct HandleTraits<lox_completions> {
  static void destroy(lox_completions* h) { lox_completions_destroy(h); }
};

struct Destroy {
  template <typename T>
  void operator()(T* h) const noexcept {
    HandleTraits<T>::destroy(h);
  }
};

template <typename T>
using Owned = std::unique_ptr<T, Destroy>;

// Calls create(args..., &out) and owns `out`; a status other than LOX_OK or
// a NULL handle fails the test (the detail is printed).
template <typename T, typename Create, typename... Args>
Owned<T> created(Create&& create, Args&&... args) {
  T* h = nullptr;
  const int rc = create(std::forward<Args>(args)..., &h);
  EXPECT_EQ(rc, LOX_OK) << lox_last_error();
  EXPECT_NE(h, nullptr);
  return Owned<T>(h);
}

}  // namespace loxtest
