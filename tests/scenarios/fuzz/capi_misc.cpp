// SPDX-License-Identifier: Apache-2.0
// Fuzzed calls that need no live object: NULL handles on every function,
// calls on destroyed handles (detected by the handle magic while the
// memory is quarantined), live handles passed as another kind, status texts, versions, option initialisers and
// log levels.
#include <cstring>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "capi_world.hpp"

namespace loxfuzz {

namespace {

// An int-returning call that must be refused with LOX_EINVAL.
#define REFUSED(call)           \
  do {                          \
    arm();                      \
    expect((call), LOX_EINVAL); \
  } while (0)
// A count getter that must read 0 and say why.
#define ZERO(call)           \
  do {                       \
    arm();                   \
    FUZZ_CHECK((call) == 0); \
    detail_set();            \
  } while (0)

// Every function of one kind on handle `h` (NULL or destroyed): refused.
void refused_calls(Kind k, void* h, Input& in) {
  void* item = nullptr;
  size_t n = 0;
  double t = in.flip() ? 0.0 : timeout_any(in);  // nothing may block on a bad handle
  switch (k) {
    case Kind::lock: {
      auto* l = static_cast<lox_lock*>(h);
      REFUSED(lox_lock_acquire(l, t));
      REFUSED(lox_lock_release(l));
      REFUSED(lox_lock_locked(l));
      lox_lightswitch* ls = nullptr;
      REFUSED(lox_lightswitch_create(l, &ls));
      FUZZ_CHECK(ls == nullptr);
      break;
    }
    case Kind::lightswitch: {
      auto* s = static_cast<lox_lightswitch*>(h);
      REFUSED(lox_lightswitch_acquire(s, t));
      REFUSED(lox_lightswitch_release(s));
      ZERO(lox_lightswitch_count(s));
      break;
    }
    case Kind::rwlock: {
      auto* r = static_cast<lox_rwlock*>(h);
      REFUSED(lox_rwlock_acquire(r, in.flip() ? LOX_READ : LOX_WRITE, t));
      REFUSED(lox_rwlock_release(r, LOX_READ));
      ZERO(lox_rwlock_readers(r));
      break;
    }
    case Kind::qlock: {
      auto* q = static_cast<lox_qlock*>(h);
      REFUSED(lox_qlock_acquire(q, t));
      REFUSED(lox_qlock_release(q));
      REFUSED(lox_qlock_locked(q));
      ZERO(lox_qlock_waiting(q));
      break;
    }
    case Kind::semaphore: {
      auto* s = static_cast<lox_index_semaphore*>(h);
      REFUSED(lox_index_semaphore_acquire(s, t, &n));
      REFUSED(lox_index_semaphore_release(s, 0));
      ZERO(lox_index_semaphore_available(s));
      ZERO(lox_index_semaphore_waiting(s));
      break;
    }
    case Kind::queue: {
      auto* q = static_cast<lox_queue*>(h);
      REFUSED(lox_queue_put(q, item, t));
      REFUSED(lox_queue_get(q, &item, t));
      REFUSED(lox_queue_close(q));
      REFUSED(lox_queue_closed(q));
      REFUSED(lox_queue_task_done(q));
      REFUSED(lox_queue_join(q, t));
      REFUSED(lox_queue_empty(q));
      REFUSED(lox_queue_full(q));
      ZERO(lox_queue_size(q));
      ZERO(lox_queue_maxsize(q));
      break;
    }
    case Kind::announcement: {
      auto* a = static_cast<lox_announcement*>(h);
      lox_announcement* out = nullptr;
      REFUSED(lox_announcement_subscribe(a, 0, t, &out));
      REFUSED(lox_announcement_clone(a, &out));
      FUZZ_CHECK(out == nullptr);
      REFUSED(lox_announcement_put(a, item, t));
      REFUSED(lox_announcement_get(a, &item, t));
      REFUSED(lox_announcement_finalize(a));
      REFUSED(lox_announcement_unsubscribe(a));
      REFUSED(lox_announcement_empty(a));
      REFUSED(lox_announcement_full(a));
      ZERO(lox_announcement_subscribers(a));
      ZERO(lox_announcement_size(a));
      ZERO(lox_announcement_backlog(a));
      break;
    }
    case Kind::funnel: {
      auto* f = static_cast<lox_funnel*>(h);
      lox_funnel* out = nullptr;
      void* items[2];
      REFUSED(lox_funnel_subscribe(f, &out));
      FUZZ_CHECK(out == nullptr);
      REFUSED(lox_funnel_put(f, 1, item, t));
      REFUSED(lox_funnel_get(f, t, nullptr, items, 2, &n));
      ZERO(lox_funnel_inputs(f));
      ZERO(lox_funnel_ready(f));
      arm();
      FUZZ_CHECK(lox_funnel_index(f) == -1);
      detail_set();
      break;
    }
    case Kind::thread: {
      auto* p = static_cast<lox_thread*>(h);
      lox_results* r = nullptr;
      REFUSED(lox_thread_call(p, nullptr, &item));
      REFUSED(lox_thread_scatter(p, nullptr, &n));
      REFUSED(lox_thread_scatter_fn(
          p, [](void*, void*, void**) { return 0; }, nullptr, nullptr, &n));
      REFUSED(lox_thread_gather(p, nullptr, &r));
      FUZZ_CHECK(r == nullptr);
      ZERO(lox_thread_pending(p));
      ZERO(lox_thread_workers(p));
      break;
    }
    case Kind::process: {
      auto* p = static_cast<lox_process*>(h);
      lox_results* r = nullptr;
      REFUSED(lox_process_scatter(p, "x", 1, &n));
      REFUSED(lox_process_gather(p, nullptr, &r));
      FUZZ_CHECK(r == nullptr);
      ZERO(lox_process_pending(p));
      ZERO(lox_process_workers(p));
      break;
    }
    case Kind::results: {
      auto* r = static_cast<lox_results*>(h);
      const void* data = nullptr;
      REFUSED(lox_results_status(r, 0));
      REFUSED(lox_results_bytes(r, 0, &data, &n));
      ZERO(lox_results_count(r));
      arm();
      FUZZ_CHECK(lox_results_value(r, 0) == nullptr);
      detail_set();
      arm();
      FUZZ_CHECK(lox_results_error(r, 0) == nullptr);
      detail_set();
      break;
    }
  }
}

// A second destroy of a dead handle is detected and reported, never a
// crash. NULL is silently ignored.
void destroy_again(Kind k, void* h) {
  arm();
  switch (k) {
    case Kind::lock:
      lox_lock_destroy(static_cast<lox_lock*>(h));
      break;
    case Kind::lightswitch:
      lox_lightswitch_destroy(static_cast<lox_lightswitch*>(h));
      break;
    case Kind::rwlock:
      lox_rwlock_destroy(static_cast<lox_rwlock*>(h));
      break;
    case Kind::qlock:
      lox_qlock_destroy(static_cast<lox_qlock*>(h));
      break;
    case Kind::semaphore:
      lox_index_semaphore_destroy(static_cast<lox_index_semaphore*>(h));
      break;
    case Kind::queue:
      lox_queue_destroy(static_cast<lox_queue*>(h));
      break;
    case Kind::announcement:
      lox_announcement_destroy(static_cast<lox_announcement*>(h));
      break;
    case Kind::funnel:
      lox_funnel_destroy(static_cast<lox_funnel*>(h));
      break;
    case Kind::thread:
      lox_thread_destroy(static_cast<lox_thread*>(h));
      break;
    case Kind::process:
      lox_process_destroy(static_cast<lox_process*>(h));
      break;
    case Kind::results:
      lox_results_destroy(static_cast<lox_results*>(h));
      break;
  }
  if (h)
    detail_set();
  else
    detail_untouched();
}

void null_out_pointers() {
  REFUSED(lox_lock_create(nullptr));
  REFUSED(lox_rwlock_create(nullptr));
  REFUSED(lox_qlock_create(nullptr));
  REFUSED(lox_lightswitch_create(nullptr, nullptr));
  REFUSED(lox_thread_create(0, nullptr, nullptr, nullptr));
  REFUSED(lox_process_create(0, nullptr, nullptr, nullptr));
  REFUSED(lox_buffer_append(nullptr, nullptr, 0));
}

void status_texts(Input& in) {
  const char* unknown = lox_status_str(1000);
  FUZZ_CHECK(std::strcmp(unknown, "unknown status") == 0);
  std::string seen[LOX_TIMEOUT - lowest_status() + 1];
  for (int s = lowest_status(); s <= LOX_TIMEOUT; ++s) {
    const char* text = lox_status_str(s);
    FUZZ_CHECK(text && *text && std::strcmp(text, unknown) != 0);
    for (int o = lowest_status(); o < s; ++o) FUZZ_CHECK(seen[o - lowest_status()] != text);
    seen[s - lowest_status()] = text;
  }
  const int other = static_cast<int>(in.u32());
  if (!known_status(other)) FUZZ_CHECK(std::strcmp(lox_status_str(other), "unknown status") == 0);
  FUZZ_CHECK(lox_version() == LOX_VERSION_NUMBER);
  const std::string v = std::to_string(LOX_VERSION_MAJOR) + "." + std::to_string(LOX_VERSION_MINOR) + "." +
                        std::to_string(LOX_VERSION_PATCH);
  FUZZ_CHECK(v == lox_version_string());
}

void options(Input& in) {
  lox_gather_opts_init(nullptr);
  lox_thread_opts_init(nullptr);
  lox_process_opts_init(nullptr);
  lox_gather_opts g;
  std::memset(&g, in.u8(), sizeof g);
  lox_gather_opts_init(&g);
  const lox_gather_opts want = LOX_GATHER_OPTS_INIT;
  FUZZ_CHECK(g.struct_size == want.struct_size && g.timeout == want.timeout && g.progress == nullptr &&
             g.progress_ctx == nullptr && g.progress_bar == 0);
}

void log_levels(Input& in) {
  const int level = static_cast<int>(static_cast<int8_t>(in.u8()));
  lox_log_set_level(level);
  const int want = level < LOX_LOG_TRACE ? LOX_LOG_TRACE : level > LOX_LOG_OFF ? LOX_LOG_OFF : level;
  FUZZ_CHECK(lox_log_get_level() == want);
}

// A live handle of any kind (false if there is none).
bool pick_live(World& w, Input& in, Kind& kind, void*& h) {
  std::vector<std::pair<Kind, void*>> live;
  for (auto& x : w.locks) live.emplace_back(Kind::lock, x.h);
  for (auto& x : w.switches) live.emplace_back(Kind::lightswitch, x.h);
  for (auto& x : w.rwlocks) live.emplace_back(Kind::rwlock, x.h);
  for (auto& x : w.qlocks) live.emplace_back(Kind::qlock, x.h);
  for (auto& x : w.sems) live.emplace_back(Kind::semaphore, x.h);
  for (auto& x : w.queues) live.emplace_back(Kind::queue, x.h);
  for (auto& x : w.anns) live.emplace_back(Kind::announcement, x.h);
  for (auto& x : w.funs) live.emplace_back(Kind::funnel, x.h);
  for (auto& x : w.tpools) live.emplace_back(Kind::thread, x.h);
  for (auto& x : w.ppools) live.emplace_back(Kind::process, x.h);
  for (auto& x : w.results) live.emplace_back(Kind::results, x.h);
  if (live.empty()) return false;
  std::tie(kind, h) = live[in.below(live.size())];
  return true;
}

// A live handle passed as another kind: every call and a destroy are
// refused (the magic says which kind it is) and the object is untouched,
// which the model's checks after this op confirm.
void wrong_kind(World& w, Input& in) {
  Kind real;
  void* h;
  if (!pick_live(w, in, real, h)) return;
  const auto other = static_cast<Kind>((static_cast<size_t>(real) + 1 + in.below(10)) % 11);
  if (in.flip()) return refused_calls(other, h, in);
  return destroy_again(other, h);
}

}  // namespace

void op_misc(World& w, unsigned code) {
  Input& in = w.in;
  switch ((code / 8) % 7) {
    case 0:
      return refused_calls(static_cast<Kind>(in.below(11)), nullptr, in);
    case 1:
    case 2: {  // a destroyed handle, while its memory is surely quarantined
      if (w.dead.empty()) return;
      const Dead& d = w.dead[in.below(w.dead.size())];
      if (w.destroys - d.stamp >= 1000) return;
      if (in.flip()) return refused_calls(d.kind, d.h, in);
      return destroy_again(d.kind, d.h);
    }
    case 3:
      destroy_again(static_cast<Kind>(in.below(11)), nullptr);
      return null_out_pointers();
    case 4:
      status_texts(in);
      return options(in);
    case 5:
      return log_levels(in);
    case 6:
      return wrong_kind(w, in);
  }
}

}  // namespace loxfuzz
