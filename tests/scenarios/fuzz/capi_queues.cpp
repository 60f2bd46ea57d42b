// SPDX-License-Identifier: Apache-2.0
// Fuzzed calls on lox_queue, lox_announcement and lox_funnel, checked by
// content: every item got is the one the model says comes next, and
// everything put is either got or still inside.
#include <algorithm>
#include <climits>

#include "capi_world.hpp"

namespace loxfuzz {

namespace {

void* as_item(uintptr_t t) { return reinterpret_cast<void*>(t); }
uintptr_t as_token(void* p) { return reinterpret_cast<uintptr_t>(p); }

// ------------------------------------------------------------------ queue --

void queue_ops(World& w, unsigned code) {
  Input& in = w.in;
  Queue* q = w.pick(w.queues);
  bool nan = false;
  switch (code % 7) {
    case 0: {
      if (q && (w.queues.size() >= kMaxLive || in.below(4) == 0)) {
        arm();
        lox_queue_destroy(q->h);  // items still inside are dropped
        detail_untouched();
        w.died(Kind::queue, q->h);
        return w.erase(w.queues, q);
      }
      static const size_t sizes[] = {0, 1, 2, 3, 5, 16, 65536, 100000};
      const size_t maxsize = sizes[in.below(8)];
      arm();
      if (in.below(8) == 0) return (void)expect(lox_queue_create(maxsize, nullptr), LOX_EINVAL);
      lox_queue* h = nullptr;
      expect(lox_queue_create(maxsize, &h), LOX_OK);
      w.queues.push_back({h, maxsize});
      return;
    }
    case 1: {
      const bool full = q && !q->closed && q->maxsize > 0 && q->items.size() >= q->maxsize;
      double t = timeout_for(in, full, &nan);
      void* item = w.item();
      arm();
      int rc = lox_queue_put(q ? q->h : nullptr, item, t);
      if (!q || nan) return (void)expect(rc, LOX_EINVAL);
      if (q->closed) return (void)expect(rc, LOX_ECLOSED);
      if (full) return (void)expect(rc, LOX_TIMEOUT);
      expect(rc, LOX_OK);
      q->items.push_back(as_token(item));
      ++q->put;
      return;
    }
    case 2: {
      const bool blocks = q && q->items.empty() && !q->closed;
      double t = timeout_for(in, blocks, &nan);
      const bool null_out = in.below(8) == 0;
      void* got = as_item(0xdead);
      arm();
      int rc = lox_queue_get(q ? q->h : nullptr, null_out ? nullptr : &got, t);
      if (!q || nan || null_out) return (void)expect(rc, LOX_EINVAL);
      if (q->items.empty()) {
        FUZZ_CHECK(got == as_item(0xdead));
        return (void)expect(rc, q->closed ? LOX_ECLOSED : LOX_TIMEOUT);
      }
      expect(rc, LOX_OK);
      FUZZ_CHECK(as_token(got) == q->items.front());
      q->items.pop_front();
      ++q->got;
      return;
    }
    case 3:
      arm();
      if (!q) return (void)expect(lox_queue_close(nullptr), LOX_EINVAL);
      expect(lox_queue_close(q->h), LOX_OK);  // twice is fine too
      q->closed = true;
      return;
    case 4:
      arm();
      if (!q) return (void)expect(lox_queue_task_done(nullptr), LOX_EINVAL);
      expect(lox_queue_task_done(q->h), q->done < q->got ? LOX_OK : LOX_ESTATE);
      if (q->done < q->got) ++q->done;
      return;
    case 5: {
      const bool blocks = q && q->done < q->put;
      double t = timeout_for(in, blocks, &nan);
      arm();
      int rc = lox_queue_join(q ? q->h : nullptr, t);
      if (!q || nan) return (void)expect(rc, LOX_EINVAL);
      expect(rc, blocks ? LOX_TIMEOUT : LOX_OK);
      return;
    }
    case 6:  // getters on NULL
      arm();
      FUZZ_CHECK(lox_queue_size(nullptr) == 0);
      detail_set();
      arm();
      FUZZ_CHECK(lox_queue_maxsize(nullptr) == 0);
      detail_set();
      arm();
      expect(lox_queue_empty(nullptr), LOX_EINVAL);
      arm();
      expect(lox_queue_full(nullptr), LOX_EINVAL);
      arm();
      expect(lox_queue_closed(nullptr), LOX_EINVAL);
      return;
  }
}

// ----------------------------------------------------------- announcement --

void destroy_ann(World& w, Ann* a) {
  arm();
  lox_announcement_destroy(a->h);  // a member leaves first
  detail_untouched();
  w.died(Kind::announcement, a->h);
  w.erase(w.anns, a);
}

bool is_full(const Ann& r) { return r.maxsize > 0 && r.items.size() >= r.maxsize; }

void announcement_ops(World& w, unsigned code) {
  Input& in = w.in;
  Ann* a = w.pick(w.anns);
  bool nan = false;
  switch (code % 8) {
    case 0: {  // create
      if (w.anns.size() >= kMaxLive + 2) return destroy_ann(w, a);
      static const size_t sizes[] = {0, 1, 2, 3, 100000};
      static const long long backlogs[] = {LOX_BACKLOG_OFF, LOX_BACKLOG_UNBOUNDED, 1, 2, 5, -2, LLONG_MIN};
      const size_t maxsize = sizes[in.below(5)];
      const long long backlog = backlogs[in.below(7)];
      const bool null_out = in.below(8) == 0;
      lox_announcement* h = nullptr;
      arm();
      int rc = lox_announcement_create(maxsize, backlog, null_out ? nullptr : &h);
      if (null_out || backlog < LOX_BACKLOG_OFF) return (void)expect(rc, LOX_EINVAL);
      expect(rc, LOX_OK);
      // The creator is the group's first member, its queue bounded by the
      // group's default.
      w.anns.push_back({h, std::make_shared<AGroup>(AGroup{maxsize, backlog}), true, maxsize});
      return;
    }
    case 1: {  // subscribe: never waits
      static const size_t sizes[] = {0, 1, 2, 4};
      const size_t maxsize = sizes[in.below(4)];
      double t = timeout_for(in, false, &nan);
      const bool null_out = in.below(8) == 0;
      if (w.anns.size() >= kMaxLive + 2) return a ? destroy_ann(w, a) : void();
      lox_announcement* h = nullptr;
      arm();
      int rc = lox_announcement_subscribe(a ? a->h : nullptr, maxsize, t, null_out ? nullptr : &h);
      if (!a || null_out || nan) return (void)expect(rc, LOX_EINVAL);
      if (a->g->finalized) return (void)expect(rc, LOX_ECLOSED);
      const size_t effective = maxsize ? maxsize : a->g->maxsize;
      if (effective > 0 && a->g->backlog.size() > effective) return (void)expect(rc, LOX_ESTATE);
      expect(rc, LOX_OK);
      w.anns.push_back({h, a->g, true, effective, a->g->backlog});
      return;
    }
    case 2: {  // put: all or none
      bool blocks = false;
      if (a)
        for (const auto& r : w.anns)
          if (&r != a && r.g == a->g && r.member && is_full(r)) blocks = true;
      double t = timeout_for(in, blocks, &nan);
      void* item = w.item();
      arm();
      int rc = lox_announcement_put(a ? a->h : nullptr, item, t);
      if (!a || nan) return (void)expect(rc, LOX_EINVAL);
      if (blocks) return (void)expect(rc, LOX_TIMEOUT);
      expect(rc, LOX_OK);
      for (auto& r : w.anns)
        if (&r != a && r.g == a->g && r.member) r.items.push_back(as_token(item));
      AGroup& g = *a->g;
      if (!g.finalized && g.backlog_mode != LOX_BACKLOG_OFF) {
        g.backlog.push_back(as_token(item));
        if (g.backlog_mode > 0 && g.backlog.size() > static_cast<size_t>(g.backlog_mode)) g.backlog.pop_front();
      }
      return;
    }
    case 3: {  // get
      const bool blocks = a && a->member && a->items.empty();
      double t = timeout_for(in, blocks, &nan);
      const bool null_out = in.below(8) == 0;
      void* got = as_item(0xdead);
      arm();
      int rc = lox_announcement_get(a ? a->h : nullptr, null_out ? nullptr : &got, t);
      if (!a || nan || null_out) return (void)expect(rc, LOX_EINVAL);
      if (a->items.empty()) {
        FUZZ_CHECK(got == as_item(0xdead));
        return (void)expect(rc, a->member ? LOX_TIMEOUT : LOX_ECLOSED);
      }
      expect(rc, LOX_OK);
      FUZZ_CHECK(as_token(got) == a->items.front());
      a->items.pop_front();
      return;
    }
    case 4:
      arm();
      if (!a) return (void)expect(lox_announcement_finalize(nullptr), LOX_EINVAL);
      expect(lox_announcement_finalize(a->h), LOX_OK);
      a->g->finalized = true;
      a->g->backlog.clear();
      return;
    case 5:
      arm();
      if (!a) return (void)expect(lox_announcement_unsubscribe(nullptr), LOX_EINVAL);
      expect(lox_announcement_unsubscribe(a->h), a->member ? LOX_OK : LOX_ESTATE);
      a->member = false;
      return;
    case 6: {
      if (w.anns.size() >= kMaxLive + 2) return a ? destroy_ann(w, a) : void();
      const bool null_out = in.below(8) == 0;
      lox_announcement* h = nullptr;
      arm();
      int rc = lox_announcement_clone(a ? a->h : nullptr, null_out ? nullptr : &h);
      if (!a || null_out) return (void)expect(rc, LOX_EINVAL);
      expect(rc, LOX_OK);
      w.anns.push_back({h, a->g});
      return;
    }
    case 7:
      if (a) destroy_ann(w, a);
      return;
  }
}

// ----------------------------------------------------------------- funnel --

void destroy_fun(World& w, Fun* f) {
  arm();
  lox_funnel_destroy(f->h);  // an input stays counted; the top may go first
  detail_untouched();
  w.died(Kind::funnel, f->h);
  w.erase(w.funs, f);
}

void funnel_put_model(FGroup& g, long index, uint64_t jid, uintptr_t item) {
  auto& slots = g.pending[jid];
  slots.resize(g.inputs);
  slots[static_cast<size_t>(index)].push_back(item);
  for (const auto& s : slots)
    if (s.empty()) return;
  std::vector<uintptr_t> set;
  for (auto& s : slots) {
    set.push_back(s.front());
    s.pop_front();
  }
  g.ready.emplace_back(jid, std::move(set));
  if (std::all_of(slots.begin(), slots.end(), [](const auto& s) { return s.empty(); })) g.pending.erase(jid);
}

void funnel_ops(World& w, unsigned code) {
  Input& in = w.in;
  Fun* f = w.pick(w.funs);
  bool nan = false;
  switch (code % 5) {
    case 0: {
      if (w.funs.size() >= kMaxLive + 2) return destroy_fun(w, f);
      arm();
      if (in.below(8) == 0) return (void)expect(lox_funnel_create(nullptr), LOX_EINVAL);
      lox_funnel* h = nullptr;
      expect(lox_funnel_create(&h), LOX_OK);
      w.funs.push_back({h, std::make_shared<FGroup>(), -1});
      return;
    }
    case 1: {
      if (w.funs.size() >= kMaxLive + 2) return f ? destroy_fun(w, f) : void();
      const bool null_out = in.below(8) == 0;
      lox_funnel* h = nullptr;
      arm();
      int rc = lox_funnel_subscribe(f ? f->h : nullptr, null_out ? nullptr : &h);
      if (!f || null_out) return (void)expect(rc, LOX_EINVAL);
      expect(rc, LOX_OK);
      w.funs.push_back({h, f->g, static_cast<long>(f->g->inputs++)});
      return;
    }
    case 2: {  // put never blocks
      static const uint64_t jids[] = {0, 1, 2, UINT64_MAX};
      const uint64_t jid = jids[in.below(4)];
      double t = timeout_for(in, false, &nan);
      void* item = w.item();
      arm();
      int rc = lox_funnel_put(f ? f->h : nullptr, jid, item, t);
      if (!f || nan) return (void)expect(rc, LOX_EINVAL);
      if (f->index < 0) return (void)expect(rc, LOX_ESTATE);
      expect(rc, LOX_OK);
      funnel_put_model(*f->g, f->index, jid, as_token(item));
      return;
    }
    case 3: {
      const bool blocks = f && f->index < 0 && f->g->ready.empty();
      double t = timeout_for(in, blocks, &nan);
      static const size_t caps[] = {0, 1, 2, 3, 8};
      const size_t capacity = caps[in.below(5)];
      const uint8_t nulls = in.u8();
      const bool null_items = (nulls & 7) == 1, null_count = (nulls & 7) == 2, null_jid = (nulls & 8) != 0;
      void* items[8];
      std::fill(items, items + 8, as_item(0xdead));
      size_t count = 12345;
      unsigned long long jid = 777;
      arm();
      int rc = lox_funnel_get(f ? f->h : nullptr, t, null_jid ? nullptr : &jid, null_items ? nullptr : items, capacity,
                              null_count ? nullptr : &count);
      if (!f || null_count || (null_items && capacity > 0) || nan) return (void)expect(rc, LOX_EINVAL);
      if (f->index >= 0) return (void)expect(rc, LOX_ESTATE);
      if (f->g->ready.empty()) return (void)expect(rc, LOX_TIMEOUT);
      const auto& set = f->g->ready.front();
      if (set.second.size() > capacity) {
        expect(rc, LOX_EINVAL);
        FUZZ_CHECK(count == set.second.size());  // nothing consumed
        return;
      }
      expect(rc, LOX_OK);
      FUZZ_CHECK(count == set.second.size());
      for (size_t i = 0; i < count; ++i) FUZZ_CHECK(as_token(items[i]) == set.second[i]);
      for (size_t i = count; i < 8; ++i) FUZZ_CHECK(items[i] == as_item(0xdead));
      FUZZ_CHECK(null_jid || jid == set.first);
      f->g->ready.pop_front();
      return;
    }
    case 4:
      if (f) destroy_fun(w, f);
      return;
  }
}

}  // namespace

void op_queue(World& w, unsigned code) {
  switch ((code / 8) % 3) {
    case 0:
      return queue_ops(w, code);
    case 1:
      return announcement_ops(w, code);
    case 2:
      return funnel_ops(w, code);
  }
}

void check_queues(World& w) {
  for (const auto& q : w.queues) {
    const size_t n = lox_queue_size(q.h);
    FUZZ_CHECK(n == q.items.size());
    FUZZ_CHECK(q.maxsize == 0 || n <= q.maxsize);
    FUZZ_CHECK(lox_queue_maxsize(q.h) == q.maxsize);
    FUZZ_CHECK(lox_queue_empty(q.h) == (n == 0 ? 1 : 0));
    FUZZ_CHECK(lox_queue_full(q.h) == (q.maxsize > 0 && n == q.maxsize ? 1 : 0));
    FUZZ_CHECK(lox_queue_closed(q.h) == (q.closed ? 1 : 0));
    FUZZ_CHECK(q.put == q.got + q.items.size());
  }
  for (const auto& a : w.anns) {
    size_t subscribers = 0;
    for (const auto& b : w.anns) subscribers += b.g == a.g && b.member;
    FUZZ_CHECK(lox_announcement_subscribers(a.h) == subscribers);
    FUZZ_CHECK(lox_announcement_size(a.h) == a.items.size());
    FUZZ_CHECK(a.maxsize == 0 || a.items.size() <= a.maxsize);
    FUZZ_CHECK(lox_announcement_backlog(a.h) == a.g->backlog.size());
    FUZZ_CHECK(lox_announcement_empty(a.h) == (a.items.empty() ? 1 : 0));
    FUZZ_CHECK(lox_announcement_full(a.h) == (is_full(a) ? 1 : 0));
  }
  for (const auto& f : w.funs) {
    FUZZ_CHECK(lox_funnel_inputs(f.h) == f.g->inputs);
    FUZZ_CHECK(lox_funnel_ready(f.h) == f.g->ready.size());
    FUZZ_CHECK(lox_funnel_index(f.h) == f.index);
  }
}

void teardown_queues(World& w) {
  while (!w.queues.empty()) {
    Queue* q = w.pick(w.queues);
    lox_queue_destroy(q->h);
    w.erase(w.queues, q);
  }
  while (!w.anns.empty()) destroy_ann(w, w.pick(w.anns));
  while (!w.funs.empty()) destroy_fun(w, w.pick(w.funs));
}

}  // namespace loxfuzz
