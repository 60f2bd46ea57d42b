// SPDX-License-Identifier: Apache-2.0
// liblox C++ layer: what lox::thread_pool and lox::process_pool share.
// Both own a heap callable and one C pool, gather rounds the same way
// (timeouts, progress, values or outcomes in scatter order) and differ only
// in how a task travels (a record vs encoded bytes) and how the pool is
// closed; `Kind` says those.
#ifndef LOX_DETAIL_POOL_HPP
#define LOX_DETAIL_POOL_HPP

#include <lox/error.hpp>
#include <lox/detail/signature.hpp>
#include <lox/detail/timeout.hpp>

#include <chrono>
#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

namespace lox {

// Tag: `pool.gather(lox::progress_bar)` draws lox's progress bar (percentage,
// count, rate, ETA) on stderr while waiting, when stderr is a terminal, and
// nothing otherwise (lox's `tqdm=True`).
struct progress_bar_t {
  explicit progress_bar_t() = default;
};
inline constexpr progress_bar_t progress_bar{};

template <class Kind, class R>
class round_completions;

namespace detail {

struct no_progress_t {};

struct make_pool_tag {  // only lox::thread and lox::process make pools
  explicit make_pool_tag() = default;
};

// Connects a gather's progress argument (nothing, lox::progress_bar or a
// callable) to lox_gather_opts. A callable's exception is caught here (it
// must not cross the C boundary), further calls are skipped, and the gather
// rethrows it once the round is handled.
template <class P>
class progress_relay {
  using plain = remove_cvref_t<P>;
  static constexpr bool is_none = std::is_same_v<plain, no_progress_t>;
  static constexpr bool is_bar = std::is_same_v<plain, progress_bar_t>;
  static_assert(is_none || is_bar || std::is_invocable_v<P&, std::size_t, std::size_t>,
                "lox: gather's progress argument must be lox::progress_bar or callable as "
                "f(std::size_t done, std::size_t total)");

 public:
  explicit progress_relay(P& p) noexcept : fn_(p) {}
  void apply(lox_gather_opts& o) noexcept {
    if constexpr (is_bar) {
      o.progress_bar = 1;
    } else if constexpr (!is_none) {
      o.progress = &progress_relay::call;
      o.progress_ctx = this;
    }
  }
  const std::exception_ptr& error() const noexcept { return error_; }

 private:
  static void call(void* ctx, std::size_t done, std::size_t total) noexcept {
    auto* self = static_cast<progress_relay*>(ctx);
    if constexpr (!is_none && !is_bar) {
      if (self->error_) return;
      try {
        std::invoke(self->fn_, done, total);
      } catch (...) {
        self->error_ = std::current_exception();
      }
    }
  }
  P& fn_;
  std::exception_ptr error_;
};

// Turns a gathered round into values (rethrowing the first failure in
// scatter order after freeing the round) or into outcomes. A `Round` has
// size(), reset() and take(i, sink), which hands task i's value to `sink`
// or returns its failure.
template <class R>
struct round_values {
  using values_type = std::conditional_t<std::is_void_v<R>, void, std::vector<R>>;

  template <class Round>
  static values_type values(Round& round) {
    const std::size_t n = round.size();
    [[maybe_unused]] std::conditional_t<std::is_void_v<R>, type_list<>, std::vector<R>> out;
    if constexpr (!std::is_void_v<R>) out.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      std::exception_ptr first = round.take(i, [&out](auto&... v) {
        if constexpr (!std::is_void_v<R>) out.push_back(std::move(v)...);
      });
      if (first) {
        round.reset();  // every record is freed before the exception leaves
        std::rethrow_exception(first);
      }
    }
    if constexpr (!std::is_void_v<R>) return out;
  }

  template <class Round>
  static std::vector<outcome<R>> outcomes(Round& round) {
    const std::size_t n = round.size();
    std::vector<outcome<R>> out;
    out.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      std::exception_ptr e = round.take(i, [&out](auto&... v) { out.emplace_back(std::in_place, std::move(v)...); });
      if (e) out.push_back(outcome<R>::failure(std::move(e)));
    }
    return out;
  }
};

// The part of a pool that does not depend on how its tasks travel. `Kind`
// gives the C pool's type and calls (handle, name, gather, pending,
// workers), the round type and close(), which ends the pool (the
// destructor and move assignment call it).
//
// Thread safety: any member may be called from any number of threads at
// once, except that the destructor and move assignment must not race with
// other calls on the pool.
template <class Kind, class F, class R>
class pool_base {
  using round_type = typename Kind::template round<R>;
  using handle_type = typename Kind::handle;

 public:
  using function_type = F;
  using result_type = R;
  // What gather() returns: std::vector<R>, or void when R is void.
  using gather_type = typename round_values<R>::values_type;
  // What try_gather() returns: std::optional<std::vector<R>>, or bool when R
  // is void (false on timeout).
  using try_gather_type = std::conditional_t<std::is_void_v<R>, bool, std::optional<gather_type>>;

  pool_base(const pool_base&) = delete;
  pool_base& operator=(const pool_base&) = delete;

  // Moves the pool; `other` becomes empty (every call on it throws
  // `lox::error` with LOX_EINVAL, `pending()`/`workers()` return 0). Tasks in
  // flight are unaffected: they only see the callable, which does not move.
  pool_base(pool_base&& other) noexcept
      : fn_(std::move(other.fn_)), handle_(std::exchange(other.handle_, nullptr)), max_workers_(other.max_workers_) {}

  // Ends this pool as the destructor does, then takes `other`'s.
  pool_base& operator=(pool_base&& other) noexcept {
    if (this != &other) {
      Kind::template close<R>(handle_, fn_);
      fn_ = std::move(other.fn_);
      handle_ = std::exchange(other.handle_, nullptr);
      max_workers_ = other.max_workers_;
    }
    return *this;
  }

  // Plain call in the calling thread, in this process: returns
  // `fn(args...)` exactly as the callable returns it (lox's vanilla
  // passthrough). Exceptions propagate. Throws lox::error (LOX_EINVAL) on a
  // moved-from pool.
  template <class... Args>
  decltype(auto) operator()(Args&&... args) const {
    if (!fn_) throw error(LOX_EINVAL, std::string(Kind::name) + " call: the pool is empty (moved from)");
    return std::invoke(static_cast<const F&>(*fn_), std::forward<Args>(args)...);
  }

  // Waits for the round (every task scattered since the previous gather
  // began) and returns its results in scatter order (nothing for a void R).
  //
  // `on_progress` is optional: `lox::progress_bar` draws lox's bar on
  // stderr; a callable `f(std::size_t done, std::size_t total)` is called in
  // this thread, never concurrently: when the wait starts (unless the round
  // is already finished), then as the count of finished tasks grows (counts
  // may be skipped; `done` never decreases), the last time with done ==
  // total, also (0, 0) for an empty round. It may scatter, but must not
  // gather on this pool. If it throws, it is not called again, the round is
  // still waited for and freed, and its exception propagates (the round's
  // results are dropped; after a timeout, nothing is lost).
  //
  // If tasks failed, the failure of the first one in scatter order is
  // rethrown, after the whole round finished and after the round was freed;
  // the other results are dropped (gather_results() keeps them all). Throws
  // lox::error for a C failure (LOX_EINVAL for a moved-from pool,
  // LOX_ENOMEM; the thread pool's LOX_ESTATE from inside one of its own
  // tasks); then nothing was taken and the round stays for a later gather.
  template <class P = no_progress_t>
  gather_type gather(P&& on_progress = P{}) {
    round_type round;
    take(LOX_FOREVER, on_progress, round);
    return round_values<R>::values(round);
  }

  // gather() that waits at most `timeout`: on timeout returns an empty
  // optional (false for a void R) and nothing is lost (the round stays in
  // the pool, tasks keep running, and the next gather returns it; tasks
  // scattered meanwhile join it if it was the newest round). A timeout <= 0
  // checks once without blocking. `on_progress` and exceptions as gather().
  template <class Rep, class Period, class P = no_progress_t>
  try_gather_type try_gather(const std::chrono::duration<Rep, Period>& timeout, P&& on_progress = P{}) {
    round_type round;
    if (!take(try_timeout(timeout), on_progress, round)) return try_gather_type{};
    if constexpr (std::is_void_v<R>) {
      round_values<R>::values(round);
      return true;
    } else {
      return round_values<R>::values(round);
    }
  }

  // gather() that never throws a task's failure: one outcome per task, in
  // scatter order, each the task's value or its exception. Still throws
  // lox::error for a C failure and a progress callable's exception.
  template <class P = no_progress_t>
  std::vector<outcome<R>> gather_results(P&& on_progress = P{}) {
    round_type round;
    take(LOX_FOREVER, on_progress, round);
    return round_values<R>::outcomes(round);
  }

  // gather_results() that waits at most `timeout` (empty optional on
  // timeout, nothing lost; <= 0 checks once).
  template <class Rep, class Period, class P = no_progress_t>
  std::optional<std::vector<outcome<R>>> try_gather_results(const std::chrono::duration<Rep, Period>& timeout,
                                                            P&& on_progress = P{}) {
    round_type round;
    if (!take(try_timeout(timeout), on_progress, round)) return std::nullopt;
    return round_values<R>::outcomes(round);
  }

  // The round the next gather would return, taken from the pool now, as a
  // range of `lox::completion<R>` (index in the round, outcome) in the
  // order its tasks complete (lox/task.hpp, round_completions):
  //
  //   for (auto& c : pool.as_completed()) use(c.index, c.result.value());
  //
  // Tasks scattered from now on belong to the next round. With a timeout
  // (the whole iteration's limit) the iteration ends early when it passes.
  // Throws lox::error (LOX_EINVAL for a moved-from pool, LOX_ENOMEM; a
  // thread pool's LOX_ESTATE from inside one of its own tasks).
  round_completions<Kind, R> as_completed() { return round_completions<Kind, R>(handle_, LOX_FOREVER); }
  template <class Rep, class Period>
  round_completions<Kind, R> as_completed(const std::chrono::duration<Rep, Period>& timeout) {
    return round_completions<Kind, R>(handle_, try_timeout(timeout));
  }

  // Tasks scattered but not yet started (lox's len()); a snapshot. 0 for a
  // moved-from pool.
  std::size_t pending() const noexcept { return handle_ ? Kind::pending(handle_) : 0; }

  // Workers alive now (threads started on demand and retired when idle, or
  // worker processes); a snapshot. 0 for a moved-from pool.
  std::size_t workers() const noexcept { return handle_ ? Kind::workers(handle_) : 0; }

  // The worker count the pool was created with, as given
  // (LOX_DEFAULT_WORKERS means the pool's default; LOX_DEBUG may force 0
  // without this showing).
  std::size_t max_workers() const noexcept { return max_workers_; }

  // False for a moved-from pool.
  explicit operator bool() const noexcept { return handle_ != nullptr; }

  // The C pool, for calls this layer does not wrap (do not destroy it; see
  // each pool for what may be scattered to it).
  handle_type* native_handle() const noexcept { return handle_; }

 protected:
  // The callable is stored once, on the heap: its address is the C pool's
  // ctx (known to forked workers too) and survives moves.
  template <class G>
  pool_base(std::size_t max_workers, G&& fn)
      : fn_(std::make_unique<F>(std::forward<G>(fn))), max_workers_(max_workers) {}

  ~pool_base() { Kind::template close<R>(handle_, fn_); }

  std::unique_ptr<F> fn_;
  handle_type* handle_ = nullptr;
  std::size_t max_workers_ = 0;

 private:
  // Gathers one round into `out`; false on timeout (nothing taken). Throws
  // lox::error for a C failure, or the progress callable's exception (after
  // freeing the round).
  template <class P>
  bool take(double timeout, P& on_progress, round_type& out) {
    lox_gather_opts o;
    lox_gather_opts_init(&o);
    o.timeout = timeout;
    progress_relay<P> relay(on_progress);
    relay.apply(o);
    lox_results* res = nullptr;
    const int st = Kind::gather(handle_, &o, &res);
    if (st == LOX_TIMEOUT) {
      if (relay.error()) std::rethrow_exception(relay.error());
      return false;
    }
    if (st != LOX_OK && st != LOX_ETASK) throw error(st, lox_last_error());
    out.adopt(res);
    if (relay.error()) {
      out.reset();
      std::rethrow_exception(relay.error());
    }
    return true;
  }
};

// The three ways to make a `Pool` (lox::thread and lox::process are both
// these): from(max_workers, options, fn); from(max_workers, fn) with
// default options; from(fn), also with LOX_DEFAULT_WORKERS. `fn` is copied
// or moved into the pool; `Result<R, F>::type` is the result type (R, or
// deduced from F's signature). `max_workers` is any integer, converted to
// std::size_t as a std::size_t parameter would convert it.
template <template <class, class> class Pool, class Options, template <class, class> class Result, class R>
struct make_pool {
  template <class N, class F, class = std::enable_if_t<std::is_integral_v<N>>>
  static auto from(N max_workers, const Options& options, F&& fn) {
    using fn_t = std::decay_t<F>;
    return Pool<fn_t, typename Result<R, fn_t>::type>(make_pool_tag{}, static_cast<std::size_t>(max_workers), options,
                                                      std::forward<F>(fn));
  }
  template <class N, class F, class = std::enable_if_t<std::is_integral_v<N>>>
  static auto from(N max_workers, F&& fn) {
    return from(max_workers, Options{}, std::forward<F>(fn));
  }
  template <class F>
  static auto from(F&& fn) {
    return from(LOX_DEFAULT_WORKERS, Options{}, std::forward<F>(fn));
  }
};

// What every pool kind has: its handle type `H`, the C calls on it, and
// the type that owns a gathered round, `Round<R>`.
template <class H, template <class> class Round, int (*Gather)(H*, const lox_gather_opts*, lox_results**),
          std::size_t (*Pending)(const H*), std::size_t (*Workers)(const H*)>
struct pool_calls {
  using handle = H;
  template <class R>
  using round = Round<R>;
  static int gather(H* h, const lox_gather_opts* o, lox_results** out) noexcept { return Gather(h, o, out); }
  static std::size_t pending(const H* h) noexcept { return Pending(h); }
  static std::size_t workers(const H* h) noexcept { return Workers(h); }
};

}  // namespace detail
}  // namespace lox

#endif  // LOX_DETAIL_POOL_HPP
