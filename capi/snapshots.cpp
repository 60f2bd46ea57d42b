// SPDX-License-Identifier: Apache-2.0
// Every snapshot getter of the C ABI in one table: lox_thread_pending,
// lox_queue_size, lox_lock_locked, ... They share one rule (a handle that
// is not live reads as the table's `dead` value, and the detail is
// recorded), so they are written once, as rows: the return type, the
// function, its handle type, the words of its detail ("<op>: <what> is
// NULL"), the `dead` value, and what it reads from a live handle `h`.
// Yes/no getters return 1 or 0, and LOX_EINVAL for a handle that is not
// live.
#include <lox/lox.h>

#include "calls.hpp"
#include "handle.hpp"

#define LOX_CAPI_SNAPSHOTS(X)                                                                                          \
  X(size_t, lox_thread_pending, lox_thread, "thread pending", "pool", 0, h->core.pending())                            \
  X(size_t, lox_thread_workers, lox_thread, "thread workers", "pool", 0, h->core.workers())                            \
  X(size_t, lox_process_pending, lox_process, "process pending", "pool", 0, h->core.pending())                         \
  X(size_t, lox_process_workers, lox_process, "process workers", "pool", 0, h->core.workers())                         \
  X(size_t, lox_results_count, lox_results, "results count", "results", 0, h->core->count())                           \
  X(int, lox_lock_locked, lox_lock, "lock locked", "lock", LOX_EINVAL, h->core.locked() ? 1 : 0)                       \
  X(size_t, lox_lightswitch_count, lox_lightswitch, "lightswitch count", "lightswitch", 0, h->core.count())            \
  X(size_t, lox_rwlock_readers, lox_rwlock, "rwlock readers", "rwlock", 0, h->core.readers())                          \
  X(size_t, lox_qlock_waiting, lox_qlock, "qlock waiting", "qlock", 0, h->core.waiting())                              \
  X(int, lox_qlock_locked, lox_qlock, "qlock locked", "qlock", LOX_EINVAL, h->core.locked() ? 1 : 0)                   \
  X(size_t, lox_index_semaphore_available, lox_index_semaphore, "index_semaphore available", "semaphore", 0,           \
    h->core.available())                                                                                               \
  X(size_t, lox_index_semaphore_waiting, lox_index_semaphore, "index_semaphore waiting", "semaphore", 0,               \
    h->core.waiting())                                                                                                 \
  X(int, lox_queue_closed, lox_queue, "queue closed", "queue", LOX_EINVAL, h->core.closed() ? 1 : 0)                   \
  X(size_t, lox_queue_size, lox_queue, "queue size", "queue", 0, h->core.size())                                       \
  X(size_t, lox_queue_maxsize, lox_queue, "queue maxsize", "queue", 0, h->core.maxsize())                              \
  X(int, lox_queue_empty, lox_queue, "queue empty", "queue", LOX_EINVAL, h->core.size() == 0 ? 1 : 0)                  \
  X(int, lox_queue_full, lox_queue, "queue full", "queue", LOX_EINVAL, h->core.full() ? 1 : 0)                         \
  X(size_t, lox_announcement_subscribers, lox_announcement, "announcement subscribers", "announcement", 0,             \
    h->core->subscribers())                                                                                            \
  X(size_t, lox_announcement_size, lox_announcement, "announcement size", "announcement", 0, h->core->size())          \
  X(size_t, lox_announcement_backlog, lox_announcement, "announcement backlog", "announcement", 0, h->core->backlog()) \
  X(int, lox_announcement_empty, lox_announcement, "announcement empty", "announcement", LOX_EINVAL,                   \
    h->core->size() == 0 ? 1 : 0)                                                                                      \
  X(int, lox_announcement_full, lox_announcement, "announcement full", "announcement", LOX_EINVAL,                     \
    h->core->full() ? 1 : 0)                                                                                           \
  X(size_t, lox_funnel_inputs, lox_funnel, "funnel inputs", "funnel", 0, h->core->inputs())                            \
  X(size_t, lox_funnel_ready, lox_funnel, "funnel ready", "funnel", 0, h->core->ready())                               \
  X(long, lox_funnel_index, lox_funnel, "funnel index", "funnel", -1, h->core->index())

#define LOX_CAPI_DEFINE_SNAPSHOT(R, fn, T, op, what, dead, expr)                           \
  LOX_API R fn(const T* h) {                                                               \
    return lox::capi::snapshot(op, what, h, static_cast<R>(dead), [&] { return (expr); }); \
  }

extern "C" {
LOX_CAPI_SNAPSHOTS(LOX_CAPI_DEFINE_SNAPSHOT)
}  // extern "C"
