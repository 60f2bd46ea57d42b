// SPDX-License-Identifier: Apache-2.0
// lox_queue_*, lox_announcement_*, lox_funnel_*: the C face of core::queue.
#include <lox/lox.h>

#include "boundary.hpp"
#include "handle.hpp"

using namespace lox;
using lox::capi::Status;

extern "C" {

// ------------------------------------------------------------------ queue --

LOX_API int lox_queue_create(size_t maxsize, lox_queue** out) {
  constexpr const char* op = "queue create";
  if (!out) return capi::null_argument(op, "out");
  return capi::guard(op, [&] {
    *out = capi::new_handle<lox_queue>(maxsize);
    return LOX_OK;
  });
}

LOX_API void lox_queue_destroy(lox_queue* q) { capi::destroy_handle("queue destroy", q); }

LOX_API int lox_queue_put(lox_queue* q, void* item, double timeout) {
  constexpr const char* op = "queue put";
  if (!capi::live(op, "queue", q)) return LOX_EINVAL;
  core::Deadline d = core::Deadline::never();
  if (!capi::to_deadline(op, timeout, d)) return LOX_EINVAL;
  return capi::to_c(q->q.put(item, d));
}

LOX_API int lox_queue_get(lox_queue* q, void** item, double timeout) {
  constexpr const char* op = "queue get";
  if (!capi::live(op, "queue", q)) return LOX_EINVAL;
  if (!item) return capi::null_argument(op, "item");
  core::Deadline d = core::Deadline::never();
  if (!capi::to_deadline(op, timeout, d)) return LOX_EINVAL;
  return capi::to_c(q->q.get(*item, d));
}

LOX_API int lox_queue_close(lox_queue* q) {
  if (!capi::live("queue close", "queue", q)) return LOX_EINVAL;
  q->q.close();
  return LOX_OK;
}

LOX_API int lox_queue_closed(const lox_queue* q) {
  if (!capi::live("queue closed", "queue", q)) return LOX_EINVAL;
  return q->q.closed() ? 1 : 0;
}

LOX_API int lox_queue_task_done(lox_queue* q) {
  if (!capi::live("queue task_done", "queue", q)) return LOX_EINVAL;
  return capi::to_c(q->q.task_done());
}

LOX_API int lox_queue_join(lox_queue* q, double timeout) {
  constexpr const char* op = "queue join";
  if (!capi::live(op, "queue", q)) return LOX_EINVAL;
  core::Deadline d = core::Deadline::never();
  if (!capi::to_deadline(op, timeout, d)) return LOX_EINVAL;
  return capi::to_c(q->q.join(d));
}

LOX_API size_t lox_queue_size(const lox_queue* q) {
  if (!capi::live("queue size", "queue", q)) return 0;
  return q->q.size();
}

LOX_API size_t lox_queue_maxsize(const lox_queue* q) {
  if (!capi::live("queue maxsize", "queue", q)) return 0;
  return q->q.maxsize();
}

LOX_API int lox_queue_empty(const lox_queue* q) {
  if (!capi::live("queue empty", "queue", q)) return LOX_EINVAL;
  return q->q.size() == 0 ? 1 : 0;
}

LOX_API int lox_queue_full(const lox_queue* q) {
  if (!capi::live("queue full", "queue", q)) return LOX_EINVAL;
  return q->q.full() ? 1 : 0;
}

// ----------------------------------------------------------- announcement --

LOX_API int lox_announcement_create(size_t maxsize, long long backlog, lox_announcement** out) {
  constexpr const char* op = "announcement create";
  if (!out) return capi::null_argument(op, "out");
  if (backlog < LOX_BACKLOG_OFF)
    return capi::to_c(core::fail(Status::invalid,
                                 "{}: backlog is {} (use LOX_BACKLOG_OFF, LOX_BACKLOG_UNBOUNDED or a count > 0)", op,
                                 backlog));
  // Any maxsize and any backlog >= -1 are accepted: the handle is the
  // group's first member, and its receive queue preallocates only small
  // bounds (a large one is a count); the backlog grows as items come.
  // Allocation failures come back as LOX_ENOMEM.
  return capi::guard(op, [&] {
    *out = capi::new_handle<lox_announcement>(core::queue::Announcement::create(maxsize, backlog));
    return LOX_OK;
  });
}

LOX_API void lox_announcement_destroy(lox_announcement* a) { capi::destroy_handle("announcement destroy", a); }

LOX_API int lox_announcement_subscribe(lox_announcement* a, size_t maxsize, double timeout, lox_announcement** out) {
  constexpr const char* op = "announcement subscribe";
  if (!capi::live(op, "announcement", a)) return LOX_EINVAL;
  if (!out) return capi::null_argument(op, "out");
  core::Deadline d = core::Deadline::never();
  if (!capi::to_deadline(op, timeout, d)) return LOX_EINVAL;
  return capi::guard(op, [&] {
    std::unique_ptr<core::queue::Announcement> member;
    Status s = a->a->subscribe(maxsize, member);
    if (s != Status::ok) return s;
    *out = capi::new_handle<lox_announcement>(std::move(member));
    return Status::ok;
  });
}

LOX_API int lox_announcement_put(lox_announcement* a, void* item, double timeout) {
  constexpr const char* op = "announcement put";
  if (!capi::live(op, "announcement", a)) return LOX_EINVAL;
  core::Deadline d = core::Deadline::never();
  if (!capi::to_deadline(op, timeout, d)) return LOX_EINVAL;
  return capi::to_c(a->a->put(item, d));
}

LOX_API int lox_announcement_get(lox_announcement* a, void** item, double timeout) {
  constexpr const char* op = "announcement get";
  if (!capi::live(op, "announcement", a)) return LOX_EINVAL;
  if (!item) return capi::null_argument(op, "item");
  core::Deadline d = core::Deadline::never();
  if (!capi::to_deadline(op, timeout, d)) return LOX_EINVAL;
  return capi::to_c(a->a->get(*item, d));
}

LOX_API int lox_announcement_finalize(lox_announcement* a) {
  if (!capi::live("announcement finalize", "announcement", a)) return LOX_EINVAL;
  a->a->finalize();
  return LOX_OK;
}

LOX_API int lox_announcement_unsubscribe(lox_announcement* a) {
  if (!capi::live("announcement unsubscribe", "announcement", a)) return LOX_EINVAL;
  return capi::to_c(a->a->unsubscribe());
}

LOX_API int lox_announcement_clone(lox_announcement* a, lox_announcement** out) {
  constexpr const char* op = "announcement clone";
  if (!capi::live(op, "announcement", a)) return LOX_EINVAL;
  if (!out) return capi::null_argument(op, "out");
  return capi::guard(op, [&] {
    *out = capi::new_handle<lox_announcement>(a->a->clone());
    return LOX_OK;
  });
}

LOX_API size_t lox_announcement_subscribers(const lox_announcement* a) {
  if (!capi::live("announcement subscribers", "announcement", a)) return 0;
  return a->a->subscribers();
}

LOX_API size_t lox_announcement_size(const lox_announcement* a) {
  if (!capi::live("announcement size", "announcement", a)) return 0;
  return a->a->size();
}

LOX_API size_t lox_announcement_backlog(const lox_announcement* a) {
  if (!capi::live("announcement backlog", "announcement", a)) return 0;
  return a->a->backlog();
}

LOX_API int lox_announcement_empty(const lox_announcement* a) {
  if (!capi::live("announcement empty", "announcement", a)) return LOX_EINVAL;
  return a->a->size() == 0 ? 1 : 0;
}

LOX_API int lox_announcement_full(const lox_announcement* a) {
  if (!capi::live("announcement full", "announcement", a)) return LOX_EINVAL;
  return a->a->full() ? 1 : 0;
}

// ----------------------------------------------------------------- funnel --

LOX_API int lox_funnel_create(lox_funnel** out) {
  constexpr const char* op = "funnel create";
  if (!out) return capi::null_argument(op, "out");
  return capi::guard(op, [&] {
    *out = capi::new_handle<lox_funnel>(core::queue::Funnel::create());
    return LOX_OK;
  });
}

LOX_API void lox_funnel_destroy(lox_funnel* f) { capi::destroy_handle("funnel destroy", f); }

LOX_API int lox_funnel_subscribe(lox_funnel* top, lox_funnel** input) {
  constexpr const char* op = "funnel subscribe";
  if (!capi::live(op, "funnel", top)) return LOX_EINVAL;
  if (!input) return capi::null_argument(op, "input");
  return capi::guard(op, [&] {
    // The handle is allocated before the input is added: subscribing
    // cannot be undone (inputs keep their numbers), so nothing may fail
    // after it.
    auto handle = capi::make_handle<lox_funnel>(nullptr);
    handle->f = top->f->subscribe();
    *input = handle.release();
    return LOX_OK;
  });
}

LOX_API int lox_funnel_put(lox_funnel* input, unsigned long long jid, void* item, double timeout) {
  constexpr const char* op = "funnel put";
  if (!capi::live(op, "input", input)) return LOX_EINVAL;
  core::Deadline d = core::Deadline::never();
  if (!capi::to_deadline(op, timeout, d)) return LOX_EINVAL;
  return capi::guard(op, [&] { return input->f->put(jid, item); });
}

LOX_API int lox_funnel_get(lox_funnel* top, double timeout, unsigned long long* jid, void** items, size_t capacity,
                           size_t* count) {
  constexpr const char* op = "funnel get";
  if (!capi::live(op, "funnel", top)) return LOX_EINVAL;
  if (!count) return capi::null_argument(op, "count");
  if (!items && capacity > 0) return capi::null_argument(op, "items (with capacity > 0)");
  core::Deadline d = core::Deadline::never();
  if (!capi::to_deadline(op, timeout, d)) return LOX_EINVAL;
  uint64_t got_jid = 0;
  int rc = capi::to_c(top->f->get(d, got_jid, items, capacity, *count));
  if (rc == LOX_OK && jid) *jid = got_jid;
  return rc;
}

LOX_API size_t lox_funnel_inputs(const lox_funnel* f) {
  if (!capi::live("funnel inputs", "funnel", f)) return 0;
  return f->f->inputs();
}

LOX_API size_t lox_funnel_ready(const lox_funnel* f) {
  if (!capi::live("funnel ready", "funnel", f)) return 0;
  return f->f->ready();
}

LOX_API long lox_funnel_index(const lox_funnel* f) {
  if (!capi::live("funnel index", "funnel", f)) return -1;
  return f->f->index();
}

}  // extern "C"
