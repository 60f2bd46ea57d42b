// SPDX-License-Identifier: Apache-2.0
// liblox C++ layer: the synchronization objects.
//
// lox::lock (a plain lock any thread may release), lox::light_switch (first
// in takes a borrowed lock, last out releases it), lox::rw_lock (many
// readers or one writer, writer-preferring), lox::qlock (strict FIFO) and
// lox::index_semaphore (hands out indices in [0, n)).
//
// Every one of them is a move-only owner of its C object; every wait, every
// ordering guarantee and every misuse check is the C layer's (see lox.h).
// The C++ layer adds:
//
//   - the standard lock interface: lock()/try_lock()/unlock() plus
//     try_lock_for()/try_lock_until() (BasicLockable, Lockable, TimedLockable),
//     and for rw_lock the *_shared() set (SharedTimedLockable), so that
//     std::scoped_lock, std::unique_lock, std::shared_lock, std::lock and
//     std::condition_variable_any work with them;
//   - RAII guards (lox::unique_guard, lox::shared_guard, lox::index_guard):
//     move-only, release on scope exit; the try_* functions taking a
//     std::chrono duration return an empty (falsy) guard on timeout, and a
//     timed-out attempt leaves no trace (the C layer's guarantee);
//   - C-like calls with exceptions: acquire()/release() mirror lox_X_acquire
//     and lox_X_release and throw lox::error (with the C status and detail
//     text) when the C call fails, e.g. LOX_ESTATE for releasing what is not
//     held.
//
// Two conventions differ because the standard fixes them:
//   - unlock() and unlock_shared() are noexcept (the standard requires it, and
//     they run in destructors): they cannot report a misuse (unlocking what
//     is not locked; the C call returns LOX_ESTATE and changes nothing, and
//     unlock() drops that status). Call release() to get it as lox::error.
//   - a negative duration given to a try_* function tries once without
//     blocking (the C layer would read a negative timeout as "forever").
//
// None of these locks is owned by a thread (as in Python's lox and its
// threading.Lock): any thread may release a lock that another thread took
// (this is what lets a light switch's last reader release the lock its first
// reader took). The standard wrappers do not care; a guard may be moved to
// another thread and release there.
//
// Thread safety: every member except the destructor, move construction and
// move assignment may be called from any number of threads at once. An
// object must not be destroyed or moved from while another thread uses it
// or waits on it (the C layer reports a destroy with waiters, and the
// waiters get LOX_ESTATE, but it is still a bug in the program).
//
// Costs: each object is one heap-allocated C object, created by the
// constructor; the C++ object is one pointer (index_semaphore: two words).
// Every call is one C call; guards are one or two words and never allocate.
#ifndef LOX_SYNC_HPP
#define LOX_SYNC_HPP

#include <lox/error.hpp>
#include <lox/detail/handle.hpp>
#include <lox/detail/lockable.hpp>
#include <lox/detail/timeout.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <utility>

namespace lox {

// ---------------------------------------------------------------------------
// lox::lock
// ---------------------------------------------------------------------------

// A plain lock that any thread may release (Python's threading.Lock, lox's
// Lock): the C `lox_lock`. Use it as `lox::lock`; the class has another name
// because C++ forbids a member function named like its class, and the
// standard's Lockable requirements need a lock() member.
//
//   lox::lock mu;
//   { std::scoped_lock hold(mu); ... }              // the standard way
//   { auto g = mu.hold(); ... }                     // lox's guard
//   if (auto g = mu.try_hold(50ms)) { ... }         // timed
//   std::condition_variable_any cv; cv.wait(lk, pred);   // lk: unique_lock<lox::lock>
//
// Not recursive: a thread that holds it and asks again waits for itself
// (forever, unless it gave a timeout). Not fair: no order among waiters
// (see lox::qlock for FIFO). Meets BasicLockable, Lockable, TimedLockable.
// release() throws LOX_ESTATE if it is not locked; any thread may release.
//
// Destroying it: it may be held; it must not be borrowed by a live
// light_switch, and nobody should wait on it (the C layer reports waiters
// and they get LOX_ESTATE). Moving it moves the C lock (its state, holders,
// waiters and borrowers go with it: they use the C object, not this C++
// object).
//
// Uncontended acquire + release is the C layer's fast path (one atomic
// operation each, no system call when nobody waits); waiters spin briefly,
// then sleep.
class basic_lock
    : public detail::exclusive_lock<basic_lock, lox_lock, lox_lock_destroy, lox_lock_acquire, lox_lock_release> {
 public:
  // Creates an unlocked lock. Throws lox::error (LOX_ENOMEM).
  basic_lock() { check(lox_lock_create(out_handle())); }

  // Whether someone holds the lock now (a snapshot: it may change at once).
  bool locked() const noexcept { return h_ && lox_lock_locked(h_.get()) > 0; }
};

// The plain lock; see basic_lock.
using lock = basic_lock;

// ---------------------------------------------------------------------------
// lox::light_switch
// ---------------------------------------------------------------------------

// lox's LightSwitch: the first thread in acquires a borrowed lox::lock, the
// last one out releases it, and any number of threads are "in" between (the
// C `lox_lightswitch`). The classic use is readers sharing a room that a
// janitor (someone taking the lock itself) must have to himself:
//
//   lox::lock room;
//   lox::light_switch people(room);
//   { std::scoped_lock in(people); ... }    // many at once
//   { std::scoped_lock j(room); ... }       // alone: waits for the last person
//
// The switch borrows the C lock of `room`: that lock (or the lox::lock it was
// moved into) must outlive the switch. Because the last person out may not
// be the first in, the lock is released by a different thread than the one
// that took it; that is why it is a lox::lock and not a std::mutex.
//
// While the count is above zero, entering never blocks; a thread that
// arrives at count 0 while someone else holds the lock waits for it (and
// later arrivals wait behind it). Meets BasicLockable, Lockable,
// TimedLockable ("lock" = enter, "unlock" = leave).
//
// acquire() enters (the first one in acquires the lock, waiting for it;
// the others only count); release() leaves (the last one out releases the
// lock; LOX_ESTATE at count 0). A timed-out enter leaves the count
// unchanged. Destroy it with nobody in: at a count above 0 the C layer
// logs a warning and the borrowed lock stays locked.
class light_switch : public detail::exclusive_lock<light_switch, lox_lightswitch, lox_lightswitch_destroy,
                                                   lox_lightswitch_acquire, lox_lightswitch_release> {
 public:
  // A switch over `lock`, which it borrows (not owned; see above). Throws
  // lox::error (LOX_EINVAL if `lock` is empty, LOX_ENOMEM).
  explicit light_switch(lox::lock& lock) { check(lox_lightswitch_create(lock.native_handle(), out_handle())); }

  // How many are in now (a snapshot). 0 for an empty switch.
  std::size_t count() const noexcept { return lox_lightswitch_count(h_.get()); }
};

// ---------------------------------------------------------------------------
// lox::rw_lock
// ---------------------------------------------------------------------------

// Many readers or one writer (the C `lox_rwlock`), writer-preferring: once a
// writer waits, new readers wait behind it, so a writer is never starved by a
// stream of readers; a writer that gives up (timeout) leaves no trace, and
// readers it was holding back proceed.
//
//   lox::rw_lock rw;
//   { auto r = rw.read(); ... }                       // shared
//   { auto w = rw.write(); ... }                      // exclusive
//   if (auto w = rw.try_write(50ms)) { ... }          // timed
//   { std::shared_lock r(rw); ... }  { std::unique_lock w(rw); ... }
//
// TimedLockable in exclusive mode (lock, try_lock, try_lock_for,
// try_lock_until, unlock) and SharedTimedLockable in shared mode (the same
// with _shared). Not owned by a thread, not recursive and without upgrade:
// a thread holding a read lock that asks for the write lock waits for
// itself (forever, unless it gave a timeout). A reader may re-enter only
// while no writer waits.
//
// Cost: the uncontended read path takes no mutex (per the C layer); a write
// lock waits for every current reader to leave.
class rw_lock : public detail::c_object<lox_rwlock, lox_rwlock_destroy>,
                public detail::timed_lockable<rw_lock>,
                public detail::shared_timed_lockable<rw_lock> {
  using exclusive = detail::timed_lockable<rw_lock>;

 public:
  // The two modes, with the C values (LOX_READ = 'r', LOX_WRITE = 'w').
  enum class mode : int { read = LOX_READ, write = LOX_WRITE };

  // Creates an unlocked rwlock. Throws lox::error (LOX_ENOMEM). Destroying
  // it while held is allowed; waiters get LOX_ESTATE and the C layer
  // reports them.
  rw_lock() { check(lox_rwlock_create(out_handle())); }

  // ---- guards ----

  // read() / write() block until the read / write lock is held and return
  // a guard that releases it; try_read() / try_write() wait at most
  // `timeout` and return an empty guard on timeout (a writer that gives up
  // no longer holds back the readers that arrived meanwhile).
  [[nodiscard]] shared_guard<rw_lock> read() { return detail::hold<detail::shared_side>(*this); }
  [[nodiscard]] unique_guard<rw_lock> write() { return detail::hold<detail::exclusive_side>(*this); }
  template <class Rep, class Period>
  [[nodiscard]] shared_guard<rw_lock> try_read(const std::chrono::duration<Rep, Period>& timeout) {
    return detail::try_hold<detail::shared_side>(*this, detail::try_timeout(timeout));
  }
  template <class Rep, class Period>
  [[nodiscard]] unique_guard<rw_lock> try_write(const std::chrono::duration<Rep, Period>& timeout) {
    return detail::try_hold<detail::exclusive_side>(*this, detail::try_timeout(timeout));
  }

  // ---- lox's interface with the mode as a value ----
  // acquire()/try_acquire()/release() without a mode are the write mode,
  // the *_shared() calls the read mode (the names follow lock /
  // lock_shared). A read release while a writer holds it, or the reverse,
  // is LOX_ESTATE and changes nothing.
  using exclusive::acquire;
  using exclusive::release;
  using exclusive::try_acquire;
  void acquire(mode m) { check(c_acquire(m, LOX_FOREVER)); }
  template <class Rep, class Period>
  bool try_acquire(mode m, const std::chrono::duration<Rep, Period>& timeout) {
    return check(c_acquire(m, detail::try_timeout(timeout))) == LOX_OK;
  }
  void release(mode m) { check(lox_rwlock_release(h_.get(), static_cast<int>(m))); }

  // Readers holding it now (a snapshot). 0 for an empty rwlock.
  std::size_t readers() const noexcept { return lox_rwlock_readers(h_.get()); }

 private:
  template <class, class>
  friend struct detail::lock_calls;
  int c_acquire(mode m, double s) noexcept { return lox_rwlock_acquire(h_.get(), static_cast<int>(m), s); }
  int c_acquire(detail::exclusive_side, double s) noexcept { return c_acquire(mode::write, s); }
  int c_acquire(detail::shared_side, double s) noexcept { return c_acquire(mode::read, s); }
  int c_release(detail::exclusive_side) noexcept { return lox_rwlock_release(h_.get(), LOX_WRITE); }
  int c_release(detail::shared_side) noexcept { return lox_rwlock_release(h_.get(), LOX_READ); }
};

// ---------------------------------------------------------------------------
// lox::qlock
// ---------------------------------------------------------------------------

// A strictly FIFO lock (the C `lox_qlock`, lox's QLock): threads get it in
// the order they asked for it (ticket-style hand-over), so nobody is
// overtaken. A waiter that times out leaves the line without disturbing
// the order of the others. Any thread may release it.
//
//   lox::qlock fifo;
//   { std::scoped_lock in(fifo); ... }     { auto g = fifo.hold(); ... }
//
// Meets BasicLockable, Lockable, TimedLockable. Fairness costs throughput
// under contention (every hand-over goes to the oldest waiter, which may be
// asleep); uncontended, it costs about what lox::lock does.
//
// try_acquire() with a timeout <= 0 takes it only if it is free, never
// joining the line; a waiter that times out has left the line and the
// others keep their order. A try_lock_until() attempt that wakes up early
// on a clock that was adjusted rejoins the line at its end. release() hands
// the lock to the oldest waiter, or frees it (LOX_ESTATE if not locked).
// Destroying it while held is allowed; waiters get LOX_ESTATE and the C
// layer reports them.
class qlock : public detail::exclusive_lock<qlock, lox_qlock, lox_qlock_destroy, lox_qlock_acquire, lox_qlock_release> {
 public:
  // Creates an unlocked qlock. Throws lox::error (LOX_ENOMEM).
  qlock() { check(lox_qlock_create(out_handle())); }

  // Threads waiting in line now (a snapshot).
  std::size_t waiting() const noexcept { return lox_qlock_waiting(h_.get()); }
  // Whether someone holds it now (a snapshot).
  bool locked() const noexcept { return h_ && lox_qlock_locked(h_.get()) > 0; }
};

// ---------------------------------------------------------------------------
// lox::index_semaphore
// ---------------------------------------------------------------------------

class index_semaphore;

namespace detail {
// Gives an index back to its semaphore when an index_guard lets go of it
// (noexcept: a failure is not reported).
struct index_release {
  std::size_t index = 0;
  inline void operator()(index_semaphore* s) const noexcept;
};
}  // namespace detail

// One index held from a lox::index_semaphore: returned by acquire() (never
// empty) and try_acquire() (empty on timeout). Releases the index on scope
// exit. Move-only, two words, never allocates; may be moved to another
// thread and released there.
class index_guard {
 public:
  // An empty guard (false; index() would throw).
  index_guard() noexcept = default;
  // Takes over index `i`, which the caller holds on `s`.
  index_guard(index_semaphore& s, std::size_t i, std::adopt_lock_t) noexcept : s_(&s, detail::index_release{i}) {}

  // Moving takes the other guard's index (the other becomes empty); move
  // assignment first releases this guard's index (noexcept, like the
  // destructor, which releases the index if still owned).

  // True while the guard owns an index.
  explicit operator bool() const noexcept { return s_ != nullptr; }
  bool owns_index() const noexcept { return s_ != nullptr; }

  // The index held, in [0, n): no other holder has it. Throws lox::error
  // with LOX_ESTATE for an empty guard.
  std::size_t index() const {
    if (!s_) throw error(LOX_ESTATE, "index_semaphore guard: the guard holds no index");
    return s_.get_deleter().index;
  }

  // The semaphore, or nullptr for an empty guard.
  index_semaphore* semaphore() const noexcept { return s_.get(); }

  // Releases the index now; the guard becomes empty. Throws lox::error:
  // LOX_ESTATE for an empty guard, or the C release's error.
  inline void unlock();

  // Gives up ownership without releasing: returns the index, which the
  // caller must release (index_semaphore::release). Throws lox::error with
  // LOX_ESTATE for an empty guard.
  std::size_t detach() {
    const std::size_t i = index();
    static_cast<void>(s_.release());
    return i;
  }

 private:
  std::unique_ptr<index_semaphore, detail::index_release> s_;
};

// lox's IndexSemaphore (the C `lox_index_semaphore`): a semaphore of n
// permits where each permit is an index in [0, n) that nobody else holds at
// the same time, e.g. which of n GPUs a task may use:
//
//   lox::index_semaphore gpus(4);
//   { auto g = gpus.acquire(); use(gpu[g.index()]); }
//   if (auto g = gpus.try_acquire(50ms)) { ... }
//
// Releasing checks the index: out of range is LOX_EINVAL, an index not held
// (a double release, or one never acquired) is LOX_ESTATE. Not a lockable
// (acquire needs to say which index); use the guard.
//
// Destroying it: no index_guard of it may outlive it; waiters get
// LOX_ESTATE and the C layer reports them. Moving it moves the C semaphore,
// but guards refer to this C++ object: do not move a semaphore while guards
// of it are alive.
class index_semaphore : public detail::c_object<lox_index_semaphore, lox_index_semaphore_destroy> {
 public:
  // Creates a semaphore with indices 0 .. n-1, all available. Throws
  // lox::error (LOX_EINVAL for n == 0, LOX_ENOMEM).
  explicit index_semaphore(std::size_t n) : n_(n) { check(lox_index_semaphore_create(n, out_handle())); }

  // Blocks until an index is free and returns a guard holding it. Throws
  // lox::error (LOX_EINVAL empty; LOX_ESTATE destroyed while waiting).
  [[nodiscard]] index_guard acquire() { return take(LOX_FOREVER); }
  // Waits at most `timeout` (<= 0: once); an empty guard on timeout (and
  // then nothing was taken).
  template <class Rep, class Period>
  [[nodiscard]] index_guard try_acquire(const std::chrono::duration<Rep, Period>& timeout) {
    return take(detail::try_timeout(timeout));
  }
  // Releases index `i` (one detached from a guard, or taken with the C
  // call). Throws lox::error: LOX_EINVAL if i >= size(), LOX_ESTATE if `i`
  // is not held; nothing changes then.
  void release(std::size_t i) { check(lox_index_semaphore_release(h_.get(), i)); }

  // Indices free now / threads waiting now (snapshots).
  std::size_t available() const noexcept { return lox_index_semaphore_available(h_.get()); }
  std::size_t waiting() const noexcept { return lox_index_semaphore_waiting(h_.get()); }
  // n, as created (0 for an empty semaphore).
  std::size_t size() const noexcept { return h_ ? n_ : 0; }

 private:
  index_guard take(double timeout) {
    std::size_t i = 0;
    if (check(lox_index_semaphore_acquire(h_.get(), timeout, &i)) != LOX_OK) return {};
    return index_guard(*this, i, std::adopt_lock);
  }
  std::size_t n_ = 0;
};

inline void index_guard::unlock() {
  if (!s_) throw error(LOX_ESTATE, "index_semaphore guard: the guard holds no index");
  const std::size_t i = s_.get_deleter().index;
  s_.release()->release(i);
}

inline void detail::index_release::operator()(index_semaphore* s) const noexcept {
  static_cast<void>(lox_index_semaphore_release(s->native_handle(), index));
}

}  // namespace lox

#endif  // LOX_SYNC_HPP
