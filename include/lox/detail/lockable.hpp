// SPDX-License-Identifier: Apache-2.0
// liblox C++ layer: the lock interface of every synchronization object,
// written once. An object supplies two C calls per side (exclusive, and for
// rw_lock shared): `int c_acquire(Side, double seconds) noexcept` and
// `int c_release(Side) noexcept`; these bases derive every variant from
// them (lox's acquire/try_acquire/release, the standard's lock/try_lock/
// try_lock_for/try_lock_until/unlock, guards), the way folly's SharedMutex
// routes every variant through one implementation.
#ifndef LOX_DETAIL_LOCKABLE_HPP
#define LOX_DETAIL_LOCKABLE_HPP

#include <lox/error.hpp>
#include <lox/detail/handle.hpp>
#include <lox/detail/timeout.hpp>

#include <chrono>
#include <memory>
#include <mutex>
#include <utility>

namespace lox {
namespace detail {

// The two sides of a lock and how a guard gives each back.
template <bool Shared>
struct lock_side {
  template <class M>
  static void unlock(M& m) noexcept {
    if constexpr (Shared) {
      m.unlock_shared();
    } else {
      m.unlock();
    }
  }
  template <class M>
  static void release(M& m) {
    if constexpr (Shared) {
      m.release_shared();
    } else {
      m.release();
    }
  }
};
using exclusive_side = lock_side<false>;
using shared_side = lock_side<true>;

// A held lock of `M` on `Side`: lox::unique_guard and lox::shared_guard.
//
// Move-only; one pointer, never allocates. Releases with `Side::unlock`
// (noexcept) when it is destroyed while owning the lock. Not tied to a
// thread: it may be moved to another thread and released there.
template <class M, class Side>
class basic_guard {
 public:
  using mutex_type = M;

  // An empty guard (owns nothing; false).
  basic_guard() noexcept = default;

  // Takes over a lock that `m` already holds (the caller acquired it);
  // releases it on destruction.
  basic_guard(M& m, std::adopt_lock_t) noexcept : m_(&m) {}

  // Moving takes the other guard's lock (the other becomes empty); move
  // assignment first releases the lock this guard owns (noexcept, like the
  // destructor). The destructor releases the lock if this guard still owns
  // it (a misuse, e.g. someone else released it meanwhile, is not reported).

  // True while the guard owns a lock: false for an empty, timed-out,
  // moved-from, unlocked or detached guard.
  explicit operator bool() const noexcept { return m_ != nullptr; }
  bool owns_lock() const noexcept { return m_ != nullptr; }

  // The lock this guard owns, or nullptr.
  M* mutex() const noexcept { return m_.get(); }

  // Releases the lock now (`M::release()` / `M::release_shared()`); the
  // guard becomes empty. Throws lox::error: LOX_ESTATE for an empty guard,
  // or the C release's error (the guard is empty afterwards in every case:
  // a failed release is not retried by the destructor).
  void unlock() {
    if (!m_) throw error(LOX_ESTATE, "guard unlock: the guard holds no lock");
    Side::release(*m_.release());
  }

  // Gives up ownership without releasing: the lock stays held and the
  // caller (or another thread) must release it. Returns the lock, or
  // nullptr for an empty guard.
  M* detach() noexcept { return m_.release(); }

 private:
  struct unlocker {
    void operator()(M* m) const noexcept { Side::unlock(*m); }
  };
  std::unique_ptr<M, unlocker> m_;
};

// Every variant of taking and giving back one side of `D`, through D's
// `c_acquire(Side, seconds)` and `c_release(Side)`.
template <class D, class Side>
struct lock_calls {
  static void acquire(D& d) { check(d.c_acquire(Side{}, LOX_FOREVER)); }
  static bool attempt(D& d, double seconds) { return check(d.c_acquire(Side{}, seconds)) == LOX_OK; }
  template <class Rep, class Period>
  static bool try_for(D& d, const std::chrono::duration<Rep, Period>& timeout) {
    return attempt(d, try_timeout(timeout));
  }
  template <class Clock, class Duration>
  static bool try_until(D& d, const std::chrono::time_point<Clock, Duration>& deadline) {
    return until(deadline, [&d](double s) { return attempt(d, s); });
  }
  static void release(D& d) { check(d.c_release(Side{})); }
  static void unlock(D& d) noexcept { static_cast<void>(d.c_release(Side{})); }
};

}  // namespace detail

// A held exclusive lock: the RAII guard of lox::lock, lox::light_switch,
// lox::qlock and of lox::rw_lock's write mode. Returned by their hold() /
// write() (never empty) and try_hold() / try_write() (empty on timeout).
template <class M>
using unique_guard = detail::basic_guard<M, detail::exclusive_side>;

// A held shared (read) lock of lox::rw_lock: returned by rw_lock::read()
// (never empty) and try_read() (empty on timeout). The same as
// unique_guard, but it releases with `M::unlock_shared()` /
// `M::release_shared()`.
template <class M>
using shared_guard = detail::basic_guard<M, detail::shared_side>;

namespace detail {

// A guard holding side `Side` of `d`: taken (blocking), or within
// `seconds` (an empty guard on timeout).
template <class Side, class D>
basic_guard<D, Side> hold(D& d) {
  lock_calls<D, Side>::acquire(d);
  return basic_guard<D, Side>(d, std::adopt_lock);
}
template <class Side, class D>
basic_guard<D, Side> try_hold(D& d, double seconds) {
  if (!lock_calls<D, Side>::attempt(d, seconds)) return {};
  return basic_guard<D, Side>(d, std::adopt_lock);
}

// The member functions of one side, named with `SUFFIX` (empty for the
// exclusive side, `_shared` for the shared one): lox's acquire /
// try_acquire / release and the standard's lock / try_lock / try_lock_for /
// try_lock_until / unlock. Conventions (shared by every object):
//   - acquire() and release() throw lox::error with the C status and detail
//     (LOX_EINVAL for an empty object, LOX_ESTATE for releasing what is not
//     held or for an object destroyed while this thread waited);
//   - a try_* duration <= 0 tries once without blocking, a time point in
//     the past tries once, and a timed-out attempt changes nothing;
//   - unlock() is noexcept (the standard requires it): a misuse changes
//     nothing and is not reported (call release() to get it as lox::error).
#define LOX_DETAIL_LOCK_SIDE(SUFFIX, SIDE)                                                  \
 private:                                                                                   \
  using calls##SUFFIX = lock_calls<D, SIDE>;                                                \
                                                                                            \
 public:                                                                                    \
  void acquire##SUFFIX() { calls##SUFFIX::acquire(static_cast<D&>(*this)); }                \
  template <class Rep, class Period>                                                        \
  bool try_acquire##SUFFIX(const std::chrono::duration<Rep, Period>& timeout) {             \
    return calls##SUFFIX::try_for(static_cast<D&>(*this), timeout);                         \
  }                                                                                         \
  void release##SUFFIX() { calls##SUFFIX::release(static_cast<D&>(*this)); }                \
  void lock##SUFFIX() { calls##SUFFIX::acquire(static_cast<D&>(*this)); }                   \
  bool try_lock##SUFFIX() { return calls##SUFFIX::attempt(static_cast<D&>(*this), 0.0); }   \
  template <class Rep, class Period>                                                        \
  bool try_lock##SUFFIX##_for(const std::chrono::duration<Rep, Period>& timeout) {          \
    return calls##SUFFIX::try_for(static_cast<D&>(*this), timeout);                         \
  }                                                                                         \
  template <class Clock, class Duration>                                                    \
  bool try_lock##SUFFIX##_until(const std::chrono::time_point<Clock, Duration>& deadline) { \
    return calls##SUFFIX::try_until(static_cast<D&>(*this), deadline);                      \
  }                                                                                         \
  void unlock##SUFFIX() noexcept { calls##SUFFIX::unlock(static_cast<D&>(*this)); }

// The exclusive side (BasicLockable, Lockable, TimedLockable).
template <class D>
class timed_lockable {
  LOX_DETAIL_LOCK_SIDE(, exclusive_side)

 protected:
  timed_lockable() = default;
};

// The shared side of lox::rw_lock (SharedTimedLockable).
template <class D>
class shared_timed_lockable {
  LOX_DETAIL_LOCK_SIDE(_shared, shared_side)

 protected:
  shared_timed_lockable() = default;
};

#undef LOX_DETAIL_LOCK_SIDE

// hold() / try_hold(): the exclusive side as a guard.
template <class D>
class holdable {
 public:
  // Blocks until taken and returns a guard that releases on scope exit.
  [[nodiscard]] unique_guard<D> hold() { return detail::hold<exclusive_side>(static_cast<D&>(*this)); }
  // Waits at most `timeout`; an empty guard on timeout.
  template <class Rep, class Period>
  [[nodiscard]] unique_guard<D> try_hold(const std::chrono::duration<Rep, Period>& timeout) {
    return detail::try_hold<exclusive_side>(static_cast<D&>(*this), try_timeout(timeout));
  }

 protected:
  holdable() = default;
};

// An object with one exclusive side whose C calls are `Acquire(h,
// seconds)` and `Release(h)`: lox::lock, lox::light_switch, lox::qlock.
// Gives it its handle, the lock interface and hold() / try_hold().
template <class D, class H, void (*Destroy)(H*), int (*Acquire)(H*, double), int (*Release)(H*)>
class exclusive_lock : public c_object<H, Destroy>, public timed_lockable<D>, public holdable<D> {
 protected:
  exclusive_lock() = default;

 private:
  friend struct lock_calls<D, exclusive_side>;
  int c_acquire(exclusive_side, double s) noexcept { return Acquire(this->native_handle(), s); }
  int c_release(exclusive_side) noexcept { return Release(this->native_handle()); }
};

}  // namespace detail
}  // namespace lox

#endif  // LOX_DETAIL_LOCKABLE_HPP
