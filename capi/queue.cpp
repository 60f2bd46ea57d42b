// lox_queue_*, lox_announcement_*, lox_funnel_*: the C face of core::queue.
#include <lox/lox.h>

#include "boundary.hpp"
#include "handles.hpp"

using namespace lox;
using lox::capi::Status;

extern "C" {

// ------------------------------------------------------------------ queue --

LOX_API int lox_queue_create(size_t maxsize, lox_queue** out) {
  constexpr const char* op = "queue create";
  if (!out) return capi::null_argument(op, "out");
  return capi::guard(op, [&] {
    *out = new lox_queue(maxsize);
    return LOX_OK;
  });
}

LOX_API void lox_queue_destroy(lox_queue* q) { delete q; }

LOX_API int lox_queue_put(lox_queue* q, void* item, double timeout) {
  constexpr const char* op = "queue put";
  if (!q) return capi::null_argument(op, "queue");
  core::Deadline d = core::Deadline::never();
  if (!capi::to_deadline(op, timeout, d)) return LOX_EINVAL;
  return capi::to_c(q->q.put(item, d));
}

LOX_API int lox_queue_get(lox_queue* q, void** item, double timeout) {
  constexpr const char* op = "queue get";
  if (!q) return capi::null_argument(op, "queue");
  if (!item) return capi::null_argument(op, "item");
  core::Deadline d = core::Deadline::never();
  if (!capi::to_deadline(op, timeout, d)) return LOX_EINVAL;
  return capi::to_c(q->q.get(*item, d));
}

LOX_API int lox_queue_close(lox_queue* q) {
  if (!q) return capi::null_argument("queue close", "queue");
  q->q.close();
  return LOX_OK;
}

LOX_API int lox_queue_closed(const lox_queue* q) {
  if (!q) return capi::null_argument("queue closed", "queue");
  return q->q.closed() ? 1 : 0;
}

LOX_API int lox_queue_task_done(lox_queue* q) {
  if (!q) return capi::null_argument("queue task_done", "queue");
  return capi::to_c(q->q.task_done());
}

LOX_API int lox_queue_join(lox_queue* q, double timeout) {
  constexpr const char* op = "queue join";
  if (!q) return capi::null_argument(op, "queue");
  core::Deadline d = core::Deadline::never();
  if (!capi::to_deadline(op, timeout, d)) return LOX_EINVAL;
  return capi::to_c(q->q.join(d));
}

LOX_API size_t lox_queue_size(const lox_queue* q) {
  if (!q) return capi::null_count("queue size", "queue");
  return q->q.size();
}

LOX_API size_t lox_queue_maxsize(const lox_queue* q) {
  if (!q) return capi::null_count("queue maxsize", "queue");
  return q->q.maxsize();
}

LOX_API int lox_queue_empty(const lox_queue* q) {
  if (!q) return capi::null_argument("queue empty", "queue");
  return q->q.size() == 0 ? 1 : 0;
}

LOX_API int lox_queue_full(const lox_queue* q) {
  if (!q) return capi::null_argument("queue full", "queue");
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
  return capi::guard(op, [&] {
    *out = new lox_announcement(core::queue::Announcement::create(maxsize, backlog));
    return LOX_OK;
  });
}

LOX_API void lox_announcement_destroy(lox_announcement* a) { delete a; }

LOX_API int lox_announcement_subscribe(lox_announcement* a, size_t maxsize, double timeout, lox_announcement** out) {
  constexpr const char* op = "announcement subscribe";
  if (!a) return capi::null_argument(op, "announcement");
  if (!out) return capi::null_argument(op, "out");
  core::Deadline d = core::Deadline::never();
  if (!capi::to_deadline(op, timeout, d)) return LOX_EINVAL;
  return capi::guard(op, [&] {
    std::unique_ptr<core::queue::Announcement> member;
    Status s = a->a->subscribe(maxsize, member);
    if (s != Status::ok) return s;
    *out = new lox_announcement(std::move(member));
    return Status::ok;
  });
}

LOX_API int lox_announcement_put(lox_announcement* a, void* item, double timeout) {
  constexpr const char* op = "announcement put";
  if (!a) return capi::null_argument(op, "announcement");
  core::Deadline d = core::Deadline::never();
  if (!capi::to_deadline(op, timeout, d)) return LOX_EINVAL;
  return capi::to_c(a->a->put(item, d));
}

LOX_API int lox_announcement_get(lox_announcement* a, void** item, double timeout) {
  constexpr const char* op = "announcement get";
  if (!a) return capi::null_argument(op, "announcement");
  if (!item) return capi::null_argument(op, "item");
  core::Deadline d = core::Deadline::never();
  if (!capi::to_deadline(op, timeout, d)) return LOX_EINVAL;
  return capi::to_c(a->a->get(*item, d));
}

LOX_API int lox_announcement_finalize(lox_announcement* a) {
  if (!a) return capi::null_argument("announcement finalize", "announcement");
  a->a->finalize();
  return LOX_OK;
}

LOX_API int lox_announcement_unsubscribe(lox_announcement* a) {
  if (!a) return capi::null_argument("announcement unsubscribe", "announcement");
  return capi::to_c(a->a->unsubscribe());
}

LOX_API int lox_announcement_clone(lox_announcement* a, lox_announcement** out) {
  constexpr const char* op = "announcement clone";
  if (!a) return capi::null_argument(op, "announcement");
  if (!out) return capi::null_argument(op, "out");
  return capi::guard(op, [&] {
    *out = new lox_announcement(a->a->clone());
    return LOX_OK;
  });
}

LOX_API size_t lox_announcement_subscribers(const lox_announcement* a) {
  if (!a) return capi::null_count("announcement subscribers", "announcement");
  return a->a->subscribers();
}

LOX_API size_t lox_announcement_size(const lox_announcement* a) {
  if (!a) return capi::null_count("announcement size", "announcement");
  return a->a->size();
}

LOX_API size_t lox_announcement_backlog(const lox_announcement* a) {
  if (!a) return capi::null_count("announcement backlog", "announcement");
  return a->a->backlog();
}

LOX_API int lox_announcement_empty(const lox_announcement* a) {
  if (!a) return capi::null_argument("announcement empty", "announcement");
  return a->a->size() == 0 ? 1 : 0;
}

LOX_API int lox_announcement_full(const lox_announcement* a) {
  if (!a) return capi::null_argument("announcement full", "announcement");
  return a->a->full() ? 1 : 0;
}

// ----------------------------------------------------------------- funnel --

LOX_API int lox_funnel_create(lox_funnel** out) {
  constexpr const char* op = "funnel create";
  if (!out) return capi::null_argument(op, "out");
  return capi::guard(op, [&] {
    *out = new lox_funnel(core::queue::Funnel::create());
    return LOX_OK;
  });
}

LOX_API void lox_funnel_destroy(lox_funnel* f) { delete f; }

LOX_API int lox_funnel_subscribe(lox_funnel* top, lox_funnel** input) {
  constexpr const char* op = "funnel subscribe";
  if (!top) return capi::null_argument(op, "funnel");
  if (!input) return capi::null_argument(op, "input");
  return capi::guard(op, [&] {
    *input = new lox_funnel(top->f->subscribe());
    return LOX_OK;
  });
}

LOX_API int lox_funnel_put(lox_funnel* input, unsigned long long jid, void* item, double timeout) {
  constexpr const char* op = "funnel put";
  if (!input) return capi::null_argument(op, "input");
  core::Deadline d = core::Deadline::never();
  if (!capi::to_deadline(op, timeout, d)) return LOX_EINVAL;
  return capi::guard(op, [&] { return input->f->put(jid, item); });
}

LOX_API int lox_funnel_get(lox_funnel* top, double timeout, unsigned long long* jid, void** items, size_t capacity,
                           size_t* count) {
  constexpr const char* op = "funnel get";
  if (!top) return capi::null_argument(op, "funnel");
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
  if (!f) return capi::null_count("funnel inputs", "funnel");
  return f->f->inputs();
}

LOX_API size_t lox_funnel_ready(const lox_funnel* f) {
  if (!f) return capi::null_count("funnel ready", "funnel");
  return f->f->ready();
}

LOX_API long lox_funnel_index(const lox_funnel* f) {
  if (!f) {
    capi::null_argument("funnel index", "funnel");
    return -1;
  }
  return f->f->index();
}

}  // extern "C"
