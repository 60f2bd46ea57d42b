// SPDX-License-Identifier: Apache-2.0
// lox_queue_*, lox_announcement_*, lox_funnel_*: the C face of core::queue.
#include <lox/lox.h>

#include "boundary.hpp"
#include "calls.hpp"
#include "handle.hpp"

using namespace lox;
using lox::capi::Status;

extern "C" {

// ------------------------------------------------------------------ queue --

LOX_API int lox_queue_create(size_t maxsize, lox_queue** out) { return capi::create("queue create", out, maxsize); }

LOX_API void lox_queue_destroy(lox_queue* q) { capi::destroy_handle("queue destroy", q); }

LOX_API int lox_queue_put(lox_queue* q, void* item, double timeout) {
  return capi::timed("queue put", "queue", q, timeout, [&](const core::Deadline& d) { return q->core.put(item, d); });
}

LOX_API int lox_queue_get(lox_queue* q, void** item, double timeout) {
  return capi::timed("queue get", "queue", q, item, "item", timeout,
                     [&](const core::Deadline& d) { return q->core.get(*item, d); });
}

LOX_API int lox_queue_close(lox_queue* q) {
  return capi::call("queue close", "queue", q, [&] { q->core.close(); });
}

LOX_API int lox_queue_task_done(lox_queue* q) {
  return capi::call("queue task_done", "queue", q, [&] { return q->core.task_done(); });
}

LOX_API int lox_queue_join(lox_queue* q, double timeout) {
  return capi::timed("queue join", "queue", q, timeout, [&](const core::Deadline& d) { return q->core.join(d); });
}

// ----------------------------------------------------------- announcement --

LOX_API int lox_announcement_create(size_t maxsize, long long backlog, lox_announcement** out) {
  constexpr const char* op = "announcement create";
  if (!out) return capi::null_argument(op, "out");
  if (backlog < LOX_BACKLOG_OFF)
    return capi::to_c(core::fail(
        Status::invalid, "{}: backlog is {} (use LOX_BACKLOG_OFF, LOX_BACKLOG_UNBOUNDED or a count > 0)", op, backlog));
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
  return capi::timed(op, "announcement", a, out, "out", timeout, [&](const core::Deadline&) {
    return capi::guard(op, [&] {
      std::unique_ptr<core::queue::Announcement> member;
      Status s = a->core->subscribe(maxsize, member);
      if (s != Status::ok) return s;
      *out = capi::new_handle<lox_announcement>(std::move(member));
      return Status::ok;
    });
  });
}

LOX_API int lox_announcement_put(lox_announcement* a, void* item, double timeout) {
  return capi::timed("announcement put", "announcement", a, timeout,
                     [&](const core::Deadline& d) { return a->core->put(item, d); });
}

LOX_API int lox_announcement_get(lox_announcement* a, void** item, double timeout) {
  return capi::timed("announcement get", "announcement", a, item, "item", timeout,
                     [&](const core::Deadline& d) { return a->core->get(*item, d); });
}

LOX_API int lox_announcement_finalize(lox_announcement* a) {
  return capi::call("announcement finalize", "announcement", a, [&] { a->core->finalize(); });
}

LOX_API int lox_announcement_unsubscribe(lox_announcement* a) {
  return capi::call("announcement unsubscribe", "announcement", a, [&] { return a->core->unsubscribe(); });
}

LOX_API int lox_announcement_clone(lox_announcement* a, lox_announcement** out) {
  constexpr const char* op = "announcement clone";
  if (!capi::live(op, "announcement", a)) return LOX_EINVAL;
  if (!out) return capi::null_argument(op, "out");
  return capi::guard(op, [&] {
    *out = capi::new_handle<lox_announcement>(a->core->clone());
    return LOX_OK;
  });
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
    handle->core = top->core->subscribe();
    *input = handle.release();
    return LOX_OK;
  });
}

LOX_API int lox_funnel_put(lox_funnel* input, unsigned long long jid, void* item, double timeout) {
  constexpr const char* op = "funnel put";
  return capi::timed(op, "input", input, timeout, [&](const core::Deadline&) {
    return capi::guard(op, [&] { return input->core->put(jid, item); });
  });
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
  int rc = capi::to_c(top->core->get(d, got_jid, items, capacity, *count));
  if (rc == LOX_OK && jid) *jid = got_jid;
  return rc;
}

}  // extern "C"
