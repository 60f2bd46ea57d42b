// SPDX-License-Identifier: Apache-2.0
// Fuzzed calls on lox_lock, lox_lightswitch, lox_rwlock, lox_qlock and
// lox_index_semaphore, checked against the model in capi_world.hpp.
#include <algorithm>

#include "capi_world.hpp"

namespace loxfuzz {

namespace {

Lock* lock_by_id(World& w, int id) {
  for (auto& l : w.locks)
    if (l.id == id) return &l;
  return nullptr;
}

void destroy_switch(World& w, Switch* s) {
  arm();
  lox_lightswitch_destroy(s->h);
  w.died(Kind::lightswitch, s->h);
  // A switch destroyed while counted in leaves its lock held (documented).
  w.erase(w.switches, s);
}

// The switches must go first: a lock must outlive the switches over it.
void destroy_lock(World& w, Lock* l) {
  const int id = l->id;
  for (size_t i = w.switches.size(); i-- > 0;)
    if (w.switches[i].lock_id == id) destroy_switch(w, &w.switches[i]);
  l = lock_by_id(w, id);
  arm();
  lox_lock_destroy(l->h);
  detail_untouched();  // destroying a held lock is allowed
  w.died(Kind::lock, l->h);
  w.erase(w.locks, l);
}

void lock_ops(World& w, unsigned code) {
  Input& in = w.in;
  Lock* l = w.pick(w.locks);
  bool nan = false;
  switch (code % 4) {
    case 0: {  // create (NULL out now and then)
      if (w.locks.size() >= kMaxLive) return destroy_lock(w, l);
      arm();
      if (in.below(8) == 0) return (void)expect(lox_lock_create(nullptr), LOX_EINVAL);
      lox_lock* h = nullptr;
      expect(lox_lock_create(&h), LOX_OK);
      FUZZ_CHECK(h != nullptr);
      w.locks.push_back({h, w.next_lock_id++});
      return;
    }
    case 1: {
      double t = timeout_for(in, l && l->held, &nan);
      arm();
      int rc = lox_lock_acquire(l ? l->h : nullptr, t);
      if (!l || nan) return (void)expect(rc, LOX_EINVAL);
      expect(rc, l->held ? LOX_TIMEOUT : LOX_OK);
      l->held = true;
      return;
    }
    case 2:
      arm();
      if (!l) return (void)expect(lox_lock_release(nullptr), LOX_EINVAL);
      expect(lox_lock_release(l->h), l->held ? LOX_OK : LOX_ESTATE);
      l->held = false;
      return;
    case 3:
      if (l) destroy_lock(w, l);
      return;
  }
}

void switch_ops(World& w, unsigned code) {
  Input& in = w.in;
  Switch* s = w.pick(w.switches);
  bool nan = false;
  switch (code % 4) {
    case 0: {
      if (w.switches.size() >= kMaxLive) return destroy_switch(w, s);
      Lock* l = w.pick(w.locks);
      arm();
      if (!l) return (void)expect(lox_lightswitch_create(nullptr, nullptr), LOX_EINVAL);
      if (in.below(8) == 0) return (void)expect(lox_lightswitch_create(l->h, nullptr), LOX_EINVAL);
      lox_lightswitch* h = nullptr;
      expect(lox_lightswitch_create(l->h, &h), LOX_OK);
      w.switches.push_back({h, l->id});
      return;
    }
    case 1: {
      Lock* l = s ? lock_by_id(w, s->lock_id) : nullptr;
      const bool blocks = s && s->count == 0 && l->held;
      double t = timeout_for(in, blocks, &nan);
      arm();
      int rc = lox_lightswitch_acquire(s ? s->h : nullptr, t);
      if (!s || nan) return (void)expect(rc, LOX_EINVAL);
      if (blocks) return (void)expect(rc, LOX_TIMEOUT);
      expect(rc, LOX_OK);
      if (s->count++ == 0) l->held = true;
      return;
    }
    case 2: {
      arm();
      if (!s) return (void)expect(lox_lightswitch_release(nullptr), LOX_EINVAL);
      Lock* l = lock_by_id(w, s->lock_id);
      int rc = lox_lightswitch_release(s->h);
      if (s->count == 0) return (void)expect(rc, LOX_ESTATE);
      if (--s->count > 0) return (void)expect(rc, LOX_OK);
      // The last one out: the lock may have been released behind its back.
      expect(rc, l->held ? LOX_OK : LOX_ESTATE);
      l->held = false;
      return;
    }
    case 3:
      if (s) destroy_switch(w, s);
      return;
  }
}

void rwlock_ops(World& w, unsigned code) {
  Input& in = w.in;
  RW* r = w.pick(w.rwlocks);
  bool nan = false;
  // Now and then a mode that is neither 'r' nor 'w'.
  const uint8_t m = in.u8();
  const int mode = (m & 7) == 7 ? static_cast<int>(m) - 128 : ((m & 1) ? LOX_WRITE : LOX_READ);
  const bool bad_mode = mode != LOX_READ && mode != LOX_WRITE;
  switch (code % 3) {
    case 0: {
      if (r && (w.rwlocks.size() >= kMaxLive || in.below(4) == 0)) {
        arm();
        lox_rwlock_destroy(r->h);
        detail_untouched();
        w.died(Kind::rwlock, r->h);
        return w.erase(w.rwlocks, r);
      }
      lox_rwlock* h = nullptr;
      arm();
      expect(lox_rwlock_create(&h), LOX_OK);
      w.rwlocks.push_back({h});
      return;
    }
    case 1: {
      const bool blocks = r && (r->writer || (mode == LOX_WRITE && r->readers > 0));
      double t = timeout_for(in, blocks, &nan);
      arm();
      int rc = lox_rwlock_acquire(r ? r->h : nullptr, mode, t);
      if (!r || nan || bad_mode) return (void)expect(rc, LOX_EINVAL);
      if (blocks) return (void)expect(rc, LOX_TIMEOUT);
      expect(rc, LOX_OK);
      if (mode == LOX_WRITE)
        r->writer = true;
      else
        ++r->readers;
      return;
    }
    case 2: {
      arm();
      int rc = lox_rwlock_release(r ? r->h : nullptr, mode);
      if (!r || bad_mode) return (void)expect(rc, LOX_EINVAL);
      if (mode == LOX_WRITE) {
        expect(rc, r->writer ? LOX_OK : LOX_ESTATE);
        r->writer = false;
      } else {
        expect(rc, r->readers > 0 ? LOX_OK : LOX_ESTATE);
        if (r->readers > 0) --r->readers;
      }
      return;
    }
  }
}

void qlock_ops(World& w, unsigned code) {
  Input& in = w.in;
  QL* q = w.pick(w.qlocks);
  bool nan = false;
  switch (code % 3) {
    case 0: {
      if (q && (w.qlocks.size() >= kMaxLive || in.below(4) == 0)) {
        arm();
        lox_qlock_destroy(q->h);
        detail_untouched();
        w.died(Kind::qlock, q->h);
        return w.erase(w.qlocks, q);
      }
      lox_qlock* h = nullptr;
      arm();
      expect(lox_qlock_create(&h), LOX_OK);
      w.qlocks.push_back({h});
      return;
    }
    case 1: {
      double t = timeout_for(in, q && q->held, &nan);
      arm();
      int rc = lox_qlock_acquire(q ? q->h : nullptr, t);
      if (!q || nan) return (void)expect(rc, LOX_EINVAL);
      expect(rc, q->held ? LOX_TIMEOUT : LOX_OK);
      q->held = true;
      return;
    }
    case 2:
      arm();
      if (!q) return (void)expect(lox_qlock_release(nullptr), LOX_EINVAL);
      expect(lox_qlock_release(q->h), q->held ? LOX_OK : LOX_ESTATE);
      q->held = false;
      return;
  }
}

void semaphore_ops(World& w, unsigned code) {
  Input& in = w.in;
  Sem* s = w.pick(w.sems);
  bool nan = false;
  switch (code % 3) {
    case 0: {
      if (s && (w.sems.size() >= kMaxLive || in.below(4) == 0)) {
        arm();
        lox_index_semaphore_destroy(s->h);  // indices still held are forgotten
        detail_untouched();
        w.died(Kind::semaphore, s->h);
        return w.erase(w.sems, s);
      }
      static const size_t sizes[] = {0, 1, 2, 3, 5, 8, 64};
      const size_t n = sizes[in.below(7)];
      lox_index_semaphore* h = nullptr;
      if (n == 0) {  // the sentinel itself: same text
        FUZZ_CHECK(lox_index_semaphore_create(0, &h) == LOX_EINVAL && !h);
        return;
      }
      arm();
      if (in.below(8) == 0) return (void)expect(lox_index_semaphore_create(n, nullptr), LOX_EINVAL);
      expect(lox_index_semaphore_create(n, &h), LOX_OK);
      w.sems.push_back({h, std::vector<bool>(n, false)});
      return;
    }
    case 1: {
      const bool full = s && std::find(s->held.begin(), s->held.end(), false) == s->held.end();
      double t = timeout_for(in, full, &nan);
      const bool null_out = in.below(8) == 0;
      size_t index = 0xabcdef;
      arm();
      int rc = lox_index_semaphore_acquire(s ? s->h : nullptr, t, null_out ? nullptr : &index);
      if (!s || nan || null_out) {
        FUZZ_CHECK(index == 0xabcdef);
        return (void)expect(rc, LOX_EINVAL);
      }
      if (full) {
        FUZZ_CHECK(index == 0xabcdef);  // untouched on timeout
        return (void)expect(rc, LOX_TIMEOUT);
      }
      expect(rc, LOX_OK);
      // The lowest free index, never one that is held.
      const size_t lowest = static_cast<size_t>(std::find(s->held.begin(), s->held.end(), false) - s->held.begin());
      FUZZ_CHECK(index == lowest);
      s->held[index] = true;
      return;
    }
    case 2: {
      // Mostly a valid index, sometimes one out of range.
      size_t index = s ? in.below(s->held.size() + 2) : in.below(4);
      if (in.below(16) == 0) index = SIZE_MAX;
      arm();
      int rc = lox_index_semaphore_release(s ? s->h : nullptr, index);
      if (!s || index >= s->held.size()) return (void)expect(rc, LOX_EINVAL);
      expect(rc, s->held[index] ? LOX_OK : LOX_ESTATE);
      s->held[index] = false;
      return;
    }
  }
}

}  // namespace

void op_sync(World& w, unsigned code) {
  switch ((code / 8) % 5) {
    case 0:
      return lock_ops(w, code);
    case 1:
      return switch_ops(w, code);
    case 2:
      return rwlock_ops(w, code);
    case 3:
      return qlock_ops(w, code);
    case 4:
      return semaphore_ops(w, code);
  }
}

void check_sync(World& w) {
  for (const auto& l : w.locks) FUZZ_CHECK(lox_lock_locked(l.h) == (l.held ? 1 : 0));
  for (const auto& s : w.switches) FUZZ_CHECK(lox_lightswitch_count(s.h) == s.count);
  for (const auto& r : w.rwlocks) FUZZ_CHECK(lox_rwlock_readers(r.h) == r.readers);
  for (const auto& q : w.qlocks) {
    FUZZ_CHECK(lox_qlock_locked(q.h) == (q.held ? 1 : 0));
    FUZZ_CHECK(lox_qlock_waiting(q.h) == 0);  // a timed-out acquirer left the line
  }
  for (const auto& s : w.sems) {
    FUZZ_CHECK(lox_index_semaphore_available(s.h) ==
               static_cast<size_t>(std::count(s.held.begin(), s.held.end(), false)));
    FUZZ_CHECK(lox_index_semaphore_waiting(s.h) == 0);
  }
}

void teardown_sync(World& w) {
  while (!w.switches.empty() || !w.locks.empty()) {
    if (!w.switches.empty() && w.in.flip())
      destroy_switch(w, w.pick(w.switches));
    else if (!w.locks.empty())
      destroy_lock(w, w.pick(w.locks));
    else
      destroy_switch(w, w.pick(w.switches));
  }
  for (auto& r : w.rwlocks) lox_rwlock_destroy(r.h);
  for (auto& q : w.qlocks) lox_qlock_destroy(q.h);
  for (auto& s : w.sems) lox_index_semaphore_destroy(s.h);
  w.rwlocks.clear();
  w.qlocks.clear();
  w.sems.clear();
}

}  // namespace loxfuzz
