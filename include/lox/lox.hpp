// SPDX-License-Identifier: Apache-2.0
// liblox — the C++ layer.
//
// A header-only, C++17-compatible layer over the stable C ABI in <lox/lox.h>.
// It owns no concurrency logic of its own: every wait, every thread and every
// ordering guarantee comes from the `lox_*` C calls underneath. What it adds
// is type conversion and ownership:
//
//   - any callable with any number of arguments of any movable types, and a
//     result of any movable type, instead of `void *` in and out (for the
//     process pool: types lox::codec can encode, which cross as bytes);
//   - RAII: a pool is a move-only object whose destructor destroys the C pool
//     and frees everything it scattered;
//   - exceptions: a task that throws makes `gather()` rethrow that exception
//     in the gathering thread (no exception ever crosses the C boundary; a
//     process-pool task's exception comes back as `lox::error` carrying its
//     what() text);
//     a failing C call becomes `lox::error`; a timeout is never an exception
//     (the `try_*` functions return an empty `std::optional` / `false`).
//
// Thread safety is the C layer's: every member function of a pool may be
// called from any number of threads at once, except that moving, assigning or
// destroying a pool must not race with any other call on it.
//
// Quick tour:
//
//   auto foo = lox::thread(4, [](int x, int y) { return x * y; });
//   foo(3, 4);                                   // 12, plain call
//   for (int i = 0; i < 5; ++i) foo.scatter(i, i + 1);
//   std::vector<int> r = foo.gather();           // {0, 2, 6, 12, 20}
//
//   auto job = lox::process(2, [](const std::string& s) { return s.size(); });
//   job.scatter("abc");                          // runs in a forked worker
//   std::vector<std::size_t> sizes = job.gather();  // {3}
//
//   lox::rw_lock rw;
//   { auto r = rw.read(); /* shared */ }  { auto w = rw.write(); /* exclusive */ }
//   lox::lock room; lox::light_switch people(room);
//   { std::scoped_lock in(people); /* many at once */ }  { std::scoped_lock j(room); /* alone */ }
//
//   lox::queue<Job*> q(64);                      // bounded, closable
//   for (Job* j : q) run(j);                     // in workers: until closed and drained
//   q.put(job); q.close(); q.join();             // producer: feed, close, wait
//
// This file covers the shared pieces (errors, durations, progress,
// outcomes), the thread pool, the codec and the process pool, the
// synchronization objects (lock, light_switch, rw_lock, qlock,
// index_semaphore) and the queues (queue, announcement, funnel).
#ifndef LOX_LOX_HPP
#define LOX_LOX_HPP

#include <lox/lox.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace lox {

// ===========================================================================
// Errors
// ===========================================================================

// The exception thrown when a C call returns a `LOX_E*` status.
//
// `status()` is the C status (`LOX_EINVAL`, `LOX_ESTATE`, ...), `detail()` the
// text `lox_last_error()` returned right after the failing call (e.g.
// "thread gather: called from inside one of the pool's own tasks (it would
// wait for itself)"). `what()` holds both: "<detail> [LOX_ESTATE: not valid in
// the object's current state]".
//
// A timeout (`LOX_TIMEOUT`) is never an `error`: functions that can time out
// say so in their return value.
class error : public std::runtime_error {
 public:
  // Builds an error for `status` with the given detail text (may be empty).
  error(int status, std::string detail)
      : std::runtime_error(compose(status, detail)), status_(status), detail_(std::move(detail)) {}

  // The C status code (a negative `LOX_E*` value, or a task's own nonzero
  // failure code).
  int status() const noexcept { return status_; }

  // The detail message of the failing call ("" if the library gave none).
  const std::string& detail() const noexcept { return detail_; }

  // Symbolic name of a status: "LOX_EINVAL", ..., or "LOX_UNKNOWN" for a
  // value that is not a `LOX_*` code (lox_status_name).
  static const char* status_name(int status) noexcept { return lox_status_name(status); }

 private:
  static std::string compose(int status, const std::string& detail) {
    std::string s = detail;
    if (!s.empty()) s += ' ';
    s += '[';
    s += status_name(status);
    s += ": ";
    s += lox_status_str(status);
    if (std::string_view(status_name(status)) == "LOX_UNKNOWN") s += " " + std::to_string(status);
    s += ']';
    return s;
  }

  int status_;
  std::string detail_;
};

// Turns the status of a C call into C++: returns `LOX_OK` or `LOX_TIMEOUT`
// unchanged (a timeout is an outcome, not an error) and throws `lox::error`
// with the calling thread's `lox_last_error()` detail for anything else.
// Call it right after the C call: the detail is per thread and the next
// failing liblox call replaces it.
//
//   lox::check(lox_thread_scatter(pool, arg, nullptr));
inline int check(int status) {
  if (status == LOX_OK || status == LOX_TIMEOUT) return status;
  throw error(status, lox_last_error());
}

// ===========================================================================
// Durations
// ===========================================================================

// Any `std::chrono::duration` as the C layer's `double` seconds (exact up to
// double precision; `std::chrono::hours::max()` and the like are far beyond
// the ~30 years the C layer treats as "forever").
template <class Rep, class Period>
constexpr double to_seconds(const std::chrono::duration<Rep, Period>& d) noexcept {
  return std::chrono::duration<double>(d).count();
}

// ===========================================================================
// Progress reporting for gather
// ===========================================================================

// Tag: `pool.gather(lox::progress_bar)` draws lox's progress bar (percentage,
// count, rate, ETA) on stderr while waiting, when stderr is a terminal, and
// nothing otherwise (lox's `tqdm=True`).
struct progress_bar_t {
  explicit progress_bar_t() = default;
};
inline constexpr progress_bar_t progress_bar{};

// ===========================================================================
// outcome<T>: one task's value or exception
// ===========================================================================

// What one task produced: its value, or the exception it threw. Returned by
// `gather_results()`, which never throws a task's exception.
//
// Cost: a `std::optional<T>` plus a `std::exception_ptr`.
template <class T>
class outcome {
 public:
  // A successful outcome holding `T(args...)`.
  template <class... Args>
  explicit outcome(std::in_place_t, Args&&... args) : value_(std::in_place, std::forward<Args>(args)...) {}

  // A failed outcome holding `e` (must not be null).
  static outcome failure(std::exception_ptr e) { return outcome(std::move(e)); }

  // True when the task returned normally.
  bool has_value() const noexcept { return value_.has_value(); }
  explicit operator bool() const noexcept { return has_value(); }

  // The task's value; rethrows the task's exception if it failed.
  T& value() & {
    if (!value_) std::rethrow_exception(error_);
    return *value_;
  }
  const T& value() const& {
    if (!value_) std::rethrow_exception(error_);
    return *value_;
  }
  T&& value() && {
    if (!value_) std::rethrow_exception(error_);
    return std::move(*value_);
  }

  // The task's exception, or null if it succeeded.
  std::exception_ptr error() const noexcept { return error_; }

 private:
  explicit outcome(std::exception_ptr e) : error_(std::move(e)) {}
  std::optional<T> value_;
  std::exception_ptr error_;
};

// The outcome of a task returning void: success, or its exception.
template <>
class outcome<void> {
 public:
  // A successful outcome.
  explicit outcome(std::in_place_t) noexcept {}
  // A failed outcome holding `e` (must not be null).
  static outcome failure(std::exception_ptr e) { return outcome(std::move(e)); }

  // True when the task returned normally.
  bool has_value() const noexcept { return !error_; }
  explicit operator bool() const noexcept { return has_value(); }
  // Does nothing for a success; rethrows the task's exception otherwise.
  void value() const {
    if (error_) std::rethrow_exception(error_);
  }
  // The task's exception, or null if it succeeded.
  std::exception_ptr error() const noexcept { return error_; }

 private:
  explicit outcome(std::exception_ptr e) noexcept : error_(std::move(e)) {}
  std::exception_ptr error_;
};

// ===========================================================================
// Implementation details (not part of the API)
// ===========================================================================

namespace detail {

template <class T>
using remove_cvref_t = std::remove_cv_t<std::remove_reference_t<T>>;

template <class... T>
struct type_list {};

// ---- The callable's signature, when it has exactly one --------------------
// Known for function pointers and for class types with one non-template
// operator(); unknown for generic lambdas and overloaded call operators.

template <class M>
struct member_signature {
  static constexpr bool known = false;
  using result = void;
  using params = void;
};
#define LOX_DETAIL_MEMBER_SIGNATURE(QUALS)                         \
  template <class C, class Ret, class... A>                        \
  struct member_signature<Ret (C::*)(A...) QUALS> {                \
    static constexpr bool known = true;                            \
    using result = Ret;                                            \
    using params = type_list<A...>;                                \
  };
LOX_DETAIL_MEMBER_SIGNATURE()
LOX_DETAIL_MEMBER_SIGNATURE(const)
LOX_DETAIL_MEMBER_SIGNATURE(&)
LOX_DETAIL_MEMBER_SIGNATURE(const&)
LOX_DETAIL_MEMBER_SIGNATURE(&&)
LOX_DETAIL_MEMBER_SIGNATURE(const&&)
LOX_DETAIL_MEMBER_SIGNATURE(noexcept)
LOX_DETAIL_MEMBER_SIGNATURE(const noexcept)
LOX_DETAIL_MEMBER_SIGNATURE(& noexcept)
LOX_DETAIL_MEMBER_SIGNATURE(const& noexcept)
LOX_DETAIL_MEMBER_SIGNATURE(&& noexcept)
LOX_DETAIL_MEMBER_SIGNATURE(const&& noexcept)
#undef LOX_DETAIL_MEMBER_SIGNATURE

template <class F, class = void>
struct signature : member_signature<void> {};
template <class Ret, class... A>
struct signature<Ret (*)(A...), void> {
  static constexpr bool known = true;
  using result = Ret;
  using params = type_list<A...>;
};
template <class Ret, class... A>
struct signature<Ret (*)(A...) noexcept, void> : signature<Ret (*)(A...), void> {};
template <class F>
struct signature<F, std::void_t<decltype(&F::operator())>> : member_signature<decltype(&F::operator())> {};

// ---- The pool's result type ------------------------------------------------

struct deduce_result {};  // lox::thread's default R: take it from the signature

template <class R, class F>
struct pool_result {
  static_assert(!std::is_reference_v<R>, "lox::thread<R>: R must be a value type (results are moved into a vector)");
  using type = std::remove_cv_t<R>;
};
template <class F>
struct pool_result<deduce_result, F> {
  static_assert(signature<F>::known,
                "lox::thread: cannot deduce the result type of this callable (a generic lambda, or an "
                "overloaded or template operator()?): name it, e.g. lox::thread<int>(4, fn)");
  using type = std::decay_t<typename signature<F>::result>;
};

// ---- What a scatter stores --------------------------------------------------
// With a known signature each argument is stored as the decayed parameter
// type (so `scatter("abc")` for a `const std::string&` parameter stores a
// std::string, not a pointer into the caller's buffer); otherwise as the
// decayed argument type. A std::reference_wrapper (std::ref) is stored as is,
// which is how a parameter taken by non-const reference is passed.

template <class T>
struct is_reference_wrapper : std::false_type {};
template <class T>
struct is_reference_wrapper<std::reference_wrapper<T>> : std::true_type {};

template <class Param, class Arg>
using stored_t = std::conditional_t<is_reference_wrapper<std::decay_t<Arg>>::value, std::decay_t<Arg>,
                                    std::decay_t<Param>>;

template <class... T>
struct stored_list {
  using type = type_list<T...>;
};
template <class Params, class Args>
struct stored_by_params;
template <class... P, class... A>
struct stored_by_params<type_list<P...>, type_list<A...>> {
  using type = type_list<stored_t<P, A>...>;
};

template <class Params, class... Args>
struct stored_args {  // unknown signature
  using type = type_list<std::decay_t<Args>...>;
};
template <class... P, class... Args>
struct stored_args<type_list<P...>, Args...> {
  static constexpr bool arity_ok = sizeof...(P) == sizeof...(Args);
  static_assert(arity_ok, "lox: scatter: wrong number of arguments for the pool's callable");
  using type = typename std::conditional_t<arity_ok, stored_by_params<type_list<P...>, type_list<Args...>>,
                                           stored_list<std::decay_t<Args>...>>::type;
};

// ---- Task records -----------------------------------------------------------
// One heap record per scattered task: the stored arguments, then the result
// or the exception. The C layer carries a pointer to it as the task's `arg`
// and, once the task ran, as its result value.

template <class R>
using value_slot = std::conditional_t<std::is_void_v<R>, type_list<>, std::optional<R>>;

template <class R>
struct record_base {
  virtual ~record_base() = default;
  // Runs the task with the pool's callable `fn` (a `const F*`). Never throws:
  // the task's exception lands in `error`. Destroys the arguments.
  virtual void run(const void* fn) noexcept = 0;

  value_slot<R> value;
  std::exception_ptr error;
};

template <class F, class R, class Stored>
struct record;
template <class F, class R, class... Stored>
struct record<F, R, type_list<Stored...>> final : record_base<R> {
  static_assert(std::is_invocable_v<const F&, Stored...>,
                "lox: the pool's callable cannot be called with these arguments. Workers call it as a const "
                "object (a mutable lambda cannot be used: it would run on several threads at once) and pass each "
                "stored argument as an rvalue (take it by value or const&; pass std::ref(x) for a T& parameter)");

  template <class... A>
  explicit record(A&&... a) : args(std::in_place, std::forward<A>(a)...) {
    static_assert((std::is_constructible_v<Stored, A&&> && ...),
                  "lox: scatter: an argument cannot be converted to the callable's parameter type");
  }

  void run(const void* fn) noexcept override {
    const F& f = *static_cast<const F*>(fn);
    try {
      if constexpr (std::is_void_v<R>) {
        std::apply(f, std::move(*args));
      } else {
        static_assert(std::is_constructible_v<R, std::invoke_result_t<const F&, Stored...>>,
                      "lox: the callable's result cannot be converted to the pool's result type");
        this->value.emplace(std::apply(f, std::move(*args)));
      }
    } catch (...) {
      this->error = std::current_exception();
    }
    args.reset();  // arguments are released in the worker, right after the call
  }

  std::optional<std::tuple<Stored...>> args;
};

template <class F, class R, class... Args>
using record_for = record<F, R, typename stored_args<typename signature<F>::params, Args...>::type>;

// The one lox_task_fn of every C++ pool: `ctx` is the pool's callable, `arg`
// the record. Records itself as the result first (so gather and the pool's
// destructor always find it), never lets an exception out, and reports
// LOX_ETASK for a task that threw.
template <class R>
int task_trampoline(void* ctx, void* arg, void** result) noexcept {
  auto* rec = static_cast<record_base<R>*>(arg);
  *result = rec;
  rec->run(ctx);
  return rec->error ? LOX_ETASK : LOX_OK;
}

// Owns one gathered round: the lox_results and every record in it. Frees
// them all when reset or destroyed, whatever happened in between.
template <class R>
class gathered_round {
 public:
  gathered_round() = default;
  gathered_round(const gathered_round&) = delete;
  gathered_round& operator=(const gathered_round&) = delete;
  ~gathered_round() { reset(); }

  void adopt(lox_results* r) noexcept {
    reset();
    res_ = r;
  }
  void reset() noexcept {
    if (!res_) return;
    const std::size_t n = lox_results_count(res_);
    for (std::size_t i = 0; i < n; ++i) delete record(i);
    lox_results_destroy(res_);
    res_ = nullptr;
  }
  std::size_t size() const noexcept { return lox_results_count(res_); }
  record_base<R>* record(std::size_t i) const noexcept {
    return static_cast<record_base<R>*>(lox_results_value(res_, i));
  }
  // Null if task i succeeded; its exception, or a lox::error for a failure
  // the C layer reported without one (which a C++ pool never produces).
  std::exception_ptr failure(std::size_t i) const {
    record_base<R>* rec = record(i);
    if (rec && rec->error) return rec->error;
    const int st = lox_results_status(res_, i);
    if (st == LOX_OK && rec) return nullptr;
    const char* text = lox_results_error(res_, i);
    return std::make_exception_ptr(lox::error(st != LOX_OK ? st : LOX_ESTATE,
                                              text ? std::string(text)
                                                   : "task " + std::to_string(i) + " left no result record"));
  }

 private:
  lox_results* res_ = nullptr;
};

// Turns a gathered round into values (rethrowing the first failure in
// scatter order after freeing the round) or into outcomes.
template <class R>
struct round_values {
  using values_type = std::vector<R>;
  static values_type values(gathered_round<R>& round) {
    const std::size_t n = round.size();
    values_type out;
    out.reserve(n);
    std::exception_ptr first;
    for (std::size_t i = 0; i < n && !first; ++i) {
      first = round.failure(i);
      if (!first) out.push_back(std::move(*round.record(i)->value));
    }
    if (first) {
      round.reset();  // every record is freed before the exception leaves
      std::rethrow_exception(first);
    }
    return out;
  }
  static std::vector<outcome<R>> outcomes(gathered_round<R>& round) {
    const std::size_t n = round.size();
    std::vector<outcome<R>> out;
    out.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      if (std::exception_ptr e = round.failure(i)) {
        out.push_back(outcome<R>::failure(std::move(e)));
      } else {
        out.emplace_back(std::in_place, std::move(*round.record(i)->value));
      }
    }
    return out;
  }
};
template <>
struct round_values<void> {
  using values_type = void;
  static void values(gathered_round<void>& round) {
    const std::size_t n = round.size();
    std::exception_ptr first;
    for (std::size_t i = 0; i < n && !first; ++i) first = round.failure(i);
    if (first) {
      round.reset();
      std::rethrow_exception(first);
    }
  }
  static std::vector<outcome<void>> outcomes(gathered_round<void>& round) {
    const std::size_t n = round.size();
    std::vector<outcome<void>> out;
    out.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      if (std::exception_ptr e = round.failure(i)) {
        out.push_back(outcome<void>::failure(std::move(e)));
      } else {
        out.emplace_back(std::in_place);
      }
    }
    return out;
  }
};

// ---- Progress ---------------------------------------------------------------

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

}  // namespace detail

// ===========================================================================
// Thread pool (lox.thread)
// ===========================================================================

// Settings for `lox::thread(n, options, fn)`.
struct thread_options {
  // How long a worker thread waits without work before it exits (0 = at
  // once). The default is the C layer's (LOX_THREAD_OPTS_INIT, 2 s).
  std::chrono::duration<double> idle_timeout{lox_thread_opts LOX_THREAD_OPTS_INIT.idle_timeout};
};

// A pool of worker threads running one callable: lox's `@lox.thread`.
// Create it with `lox::thread(n, fn)`. `F` is the callable's type, `R` the
// decayed type it returns (`void` allowed).
//
// Scatter/gather: `scatter(args...)` queues `fn(args...)` for a worker and
// returns at once; `gather()` waits for every task scattered since the
// previous gather began (the "round") and returns their results in scatter
// order. Two threads gathering at once each get a disjoint round.
//
// Ownership and costs:
// - scatter copies/moves its arguments into one heap record (arguments tuple,
//   result slot, exception_ptr); the C pool carries a pointer to it. The
//   arguments are destroyed in the worker right after the call; the result
//   stays in the record until it is gathered.
// - gather moves each result out of its record into the returned vector and
//   frees every record of the round, on every path (also when it rethrows).
// - a gather that times out frees nothing and loses nothing: the round stays
//   in the pool and a later gather returns it.
// - the destructor waits for every task scattered and not yet gathered, frees
//   their records (their results and exceptions are discarded), then destroys
//   the C pool.
// - the callable is stored once, on the heap, and is called as a `const F&`
//   concurrently from the worker threads: it must be safe for that (a mutable
//   lambda does not compile).
//
// Thread safety: any member may be called from any number of threads at once,
// except that the destructor and move assignment must not race with other
// calls on the pool. A task may scatter to any pool, including its own; it
// must not gather or destroy its own pool (gather throws `lox::error` with
// LOX_ESTATE).
//
// Chaining: Python lox's `bar.scatter(foo.scatter(...), 10)` is not offered:
// the C pool has no task dependencies, so a chained task would have to block
// a worker of `bar` until `foo`'s task finished, which can deadlock with
// bounded workers and would make every scatter pay for shared ownership of
// its record. Chain by scattering from inside the task instead:
//
//   auto bar = lox::thread(2, [](int x, int y) { return x + y; });
//   auto foo = lox::thread(2, [&bar](int x, int y) { bar.scatter(x * y, 10); return x * y; });
template <class F, class R>
class thread_pool {
 public:
  using function_type = F;
  using result_type = R;
  // What gather() returns: std::vector<R>, or void when R is void.
  using gather_type = typename detail::round_values<R>::values_type;
  // What try_gather() returns: std::optional<std::vector<R>>, or bool when R
  // is void (false on timeout).
  using try_gather_type = std::conditional_t<std::is_void_v<R>, bool, std::optional<gather_type>>;

  // Destroys the pool: waits for every task that was scattered and not yet
  // gathered (queued tasks are run, not cancelled), frees their records and
  // discards their results and exceptions, joins the workers. Must not race
  // with any other call on the pool. Called from inside one of the pool's own
  // tasks it cannot finish: the C layer logs an error and the pool and its
  // callable are deliberately leaked (never freed under the running tasks).
  ~thread_pool() { close(); }

  thread_pool(const thread_pool&) = delete;
  thread_pool& operator=(const thread_pool&) = delete;

  // Moves the pool; `other` becomes empty (every call on it throws
  // `lox::error` with LOX_EINVAL, `pending()`/`workers()` return 0). Tasks in
  // flight are unaffected: they only see the callable, which does not move.
  thread_pool(thread_pool&& other) noexcept
      : fn_(std::move(other.fn_)), handle_(std::exchange(other.handle_, nullptr)),
        max_workers_(other.max_workers_) {}

  // Destroys this pool as the destructor does (waits for its ungathered
  // tasks), then takes `other`'s.
  thread_pool& operator=(thread_pool&& other) noexcept {
    if (this != &other) {
      close();
      fn_ = std::move(other.fn_);
      handle_ = std::exchange(other.handle_, nullptr);
      max_workers_ = other.max_workers_;
    }
    return *this;
  }

  // Plain call in the calling thread: returns `fn(args...)` exactly as the
  // callable returns it (lox's vanilla passthrough). Exceptions propagate.
  // Throws lox::error (LOX_EINVAL) on a moved-from pool.
  template <class... Args>
  decltype(auto) operator()(Args&&... args) const {
    if (!fn_) throw error(LOX_EINVAL, "thread call: the pool is empty (moved from)");
    return std::invoke(static_cast<const F&>(*fn_), std::forward<Args>(args)...);
  }

  // Queues `fn(args...)` for a worker and returns at once with the task's
  // index in the results of the gather that collects it (0, 1, 2, ... since
  // the previous gather). The arguments are copied or moved into the task's
  // record: as the callable's decayed parameter types when it has a single
  // signature (so a `const char*` for a `std::string` parameter is copied as
  // a string), otherwise as their own decayed types. Pointers, views and
  // std::ref arguments are stored as they are: their referents must outlive
  // the task. In debug mode (max_workers 0, or LOX_DEBUG=1) the task runs
  // before this returns.
  //
  // Cost: one heap allocation, the argument moves, the C scatter (a short
  // critical section). Throws lox::error (LOX_EINVAL for a moved-from pool,
  // LOX_ENOMEM, LOX_ESYS) and then nothing was queued; std::bad_alloc or an
  // argument's copy exception likewise leave nothing behind.
  template <class... Args>
  std::size_t scatter(Args&&... args) {
    using rec_t = detail::record_for<F, R, Args&&...>;
    auto rec = std::make_unique<rec_t>(std::forward<Args>(args)...);
    std::size_t index = 0;
    const int st = lox_thread_scatter(handle_, static_cast<detail::record_base<R>*>(rec.get()), &index);
    if (st != LOX_OK) throw error(st, lox_last_error());
    rec.release();  // owned by the C pool's task until gathered or destroyed
    return index;
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
  // If tasks threw, the exception of the first one in scatter order is
  // rethrown, after the whole round finished and after every record of the
  // round was freed; the other results are dropped (gather_results() keeps
  // them all). Throws lox::error for a C failure (LOX_ESTATE from inside one
  // of this pool's tasks, LOX_EINVAL for a moved-from pool, LOX_ENOMEM); then
  // nothing was taken and the round stays for a later gather.
  template <class P = detail::no_progress_t>
  gather_type gather(P&& on_progress = P{}) {
    detail::gathered_round<R> round;
    take(LOX_FOREVER, on_progress, round);
    return detail::round_values<R>::values(round);
  }

  // gather() that waits at most `timeout`: on timeout returns an empty
  // optional (false for a void R) and nothing is lost (the round stays in
  // the pool, tasks keep running, and the next gather returns it; tasks
  // scattered meanwhile join it if it was the newest round). A timeout <= 0
  // checks once without blocking. `on_progress` and exceptions as gather().
  template <class Rep, class Period, class P = detail::no_progress_t>
  try_gather_type try_gather(const std::chrono::duration<Rep, Period>& timeout, P&& on_progress = P{}) {
    detail::gathered_round<R> round;
    if (!take(try_seconds(timeout), on_progress, round)) return try_gather_type{};
    if constexpr (std::is_void_v<R>) {
      detail::round_values<R>::values(round);
      return true;
    } else {
      return detail::round_values<R>::values(round);
    }
  }

  // gather() that never throws a task's exception: one outcome per task, in
  // scatter order, each the task's value or its exception. Still throws
  // lox::error for a C failure and a progress callable's exception.
  template <class P = detail::no_progress_t>
  std::vector<outcome<R>> gather_results(P&& on_progress = P{}) {
    detail::gathered_round<R> round;
    take(LOX_FOREVER, on_progress, round);
    return detail::round_values<R>::outcomes(round);
  }

  // gather_results() that waits at most `timeout` (empty optional on
  // timeout, nothing lost; <= 0 checks once).
  template <class Rep, class Period, class P = detail::no_progress_t>
  std::optional<std::vector<outcome<R>>> try_gather_results(const std::chrono::duration<Rep, Period>& timeout,
                                                             P&& on_progress = P{}) {
    detail::gathered_round<R> round;
    if (!take(try_seconds(timeout), on_progress, round)) return std::nullopt;
    return detail::round_values<R>::outcomes(round);
  }

  // Tasks scattered but not yet picked up by a worker (lox's len()); a
  // snapshot. 0 for a moved-from pool.
  std::size_t pending() const noexcept { return lox_thread_pending(handle_); }

  // Live worker threads now (started on demand, retired when idle); a
  // snapshot. 0 for a moved-from pool.
  std::size_t workers() const noexcept { return lox_thread_workers(handle_); }

  // The max_workers the pool was created with, as given (LOX_DEFAULT_WORKERS
  // means lox's default of 50; LOX_DEBUG may force 0 without this showing).
  std::size_t max_workers() const noexcept { return max_workers_; }

  // False for a moved-from pool.
  explicit operator bool() const noexcept { return handle_ != nullptr; }

  // The C pool, for calls this layer does not wrap. Do not scatter to it
  // with lox_thread_scatter (its tasks expect C++ records), and do not
  // destroy it.
  lox_thread* native_handle() const noexcept { return handle_; }

  // Used by lox::thread(...), which is how pools are made (the tag keeps
  // this constructor out of the way).
  template <class G>
  thread_pool(detail::make_pool_tag, std::size_t max_workers, const thread_options& options, G&& fn)
      : fn_(std::make_unique<F>(std::forward<G>(fn))), max_workers_(max_workers) {
    lox_thread_opts o;
    lox_thread_opts_init(&o);
    o.idle_timeout = options.idle_timeout.count();
    check(lox_thread_create_ex(max_workers, &detail::task_trampoline<R>, static_cast<void*>(fn_.get()), &o, &handle_));
  }

 private:
  template <class Rep, class Period>
  static double try_seconds(const std::chrono::duration<Rep, Period>& timeout) noexcept {
    const double s = to_seconds(timeout);
    return s < 0 ? 0.0 : s;  // C++ convention: a negative try waits not at all (NaN stays: LOX_EINVAL)
  }

  // Gathers one round into `out`; false on timeout (nothing taken). Throws
  // lox::error for a C failure, or the progress callable's exception (after
  // freeing the round).
  template <class P>
  bool take(double timeout, P& on_progress, detail::gathered_round<R>& out) {
    lox_gather_opts o;
    lox_gather_opts_init(&o);
    o.timeout = timeout;
    detail::progress_relay<P> relay(on_progress);
    relay.apply(o);
    lox_results* res = nullptr;
    const int st = lox_thread_gather(handle_, &o, &res);
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

  // Waits for and frees everything scattered and not gathered, then
  // destroys the C pool. Gathering (rather than tracking the records) keeps
  // scatter free of any bookkeeping: the C pool is the only list of
  // outstanding records, and gather is how it hands them back.
  void close() noexcept {
    if (!handle_) return;
    for (;;) {
      lox_results* res = nullptr;
      const int st = lox_thread_gather(handle_, nullptr, &res);
      if (st == LOX_ESTATE) {
        // Inside one of our own tasks: the C destroy refuses (and logs); the
        // tasks still running need the callable, so leak both.
        lox_thread_destroy(handle_);
        handle_ = nullptr;
        static_cast<void>(fn_.release());
        return;
      }
      if (st != LOX_OK && st != LOX_ETASK) break;  // out of memory: destroy still runs every task
      detail::gathered_round<R> round;
      round.adopt(res);
      if (round.size() == 0) break;  // nothing left: no task of this pool runs any more
    }
    lox_thread_destroy(handle_);
    handle_ = nullptr;
    fn_.reset();
  }

  std::unique_ptr<F> fn_;  // heap: its address is the C pool's ctx and must survive moves
  lox_thread* handle_ = nullptr;
  std::size_t max_workers_ = 0;
};

// Creates a thread pool running `fn` on at most `max_workers` threads
// (LOX_DEFAULT_WORKERS = lox's 50; 0 = debug mode, tasks run inline in
// scatter). Threads start on demand and exit after `options.idle_timeout`
// without work; none is started here. `fn` is copied or moved into the pool.
//
// R, the result type, is deduced from `fn`'s signature; a generic lambda or an
// overloaded call operator must name it: `lox::thread<std::string>(4, fn)`.
// Throws lox::error (LOX_EINVAL for a NaN or negative idle_timeout,
// LOX_ENOMEM).
template <class R = detail::deduce_result, class F>
auto thread(std::size_t max_workers, const thread_options& options, F&& fn) {
  using fn_t = std::decay_t<F>;
  using result_t = typename detail::pool_result<R, fn_t>::type;
  return thread_pool<fn_t, result_t>(detail::make_pool_tag{}, max_workers, options, std::forward<F>(fn));
}

// `lox::thread(max_workers, thread_options{}, fn)`:
//   auto foo = lox::thread(4, [](int x, int y) { return x * y; });
template <class R = detail::deduce_result, class F>
auto thread(std::size_t max_workers, F&& fn) {
  return lox::thread<R>(max_workers, thread_options{}, std::forward<F>(fn));
}

// `lox::thread(LOX_DEFAULT_WORKERS, fn)`: lox's bare `@lox.thread` (50
// workers at most).
template <class R = detail::deduce_result, class F>
auto thread(F&& fn) {
  return lox::thread<R>(LOX_DEFAULT_WORKERS, thread_options{}, std::forward<F>(fn));
}


// ===========================================================================
// Codec: values as bytes (process-pool arguments and results)
// ===========================================================================
//
// lox::process sends each task's arguments to a worker process, and its
// result back, as bytes. lox::codec is the small binary format it uses; it
// can be used on its own:
//
//   std::string bytes = lox::codec::encode(std::make_tuple(7, std::string("seven")));
//   auto [n, s] = lox::codec::decode<std::tuple<int, std::string>>(bytes);
//
// Encodable types (`lox::codec::is_encodable_v<T>`; anything else fails to
// compile with a message saying so):
//   - trivially copyable types (integers, floating point, enums, std::array
//     and plain structs of those...): their sizeof(T) object bytes, as they
//     are; bool: one byte, 0 or 1;
//   - std::string (any std::basic_string with the standard traits and
//     allocator): a 64-bit length, then the characters (NULs included);
//   - std::vector<T> of an encodable T (standard allocator): a 64-bit count,
//     then the elements (one block copy when T is trivially copyable);
//   - std::tuple<T...> and std::pair<A, B> of encodable types: the elements
//     in order, no header. Everything nests: std::vector<std::tuple<int,
//     std::vector<std::string>>> is fine. (A vector's elements must take at
//     least one byte, so std::vector<std::tuple<>> is refused.)
//
// The format is the host's (native byte order, sizes and padding): it is
// meant for a process and its forked workers, not for files or networks.
// Pointers (and views such as std::string_view) are trivially copyable and
// are sent as addresses: in a process-pool worker they only reach memory that
// already held the same data when the pool was created (a worker is a copy of
// the process as it was then).
//
// Decoding never trusts its input: each length is checked against the bytes
// left before anything is read or allocated (so a garbage count cannot make
// it allocate more than a small multiple of the input's size), a bool must be
// 0 or 1, and the value must use the input exactly. Bad input throws
// `lox::error` with LOX_EINVAL and a detail saying what is wrong and where
// ("codec: truncated input: a std::string of 12 character(s) needs at least
// 12 bytes, 3 left (at byte 8 of 11)"); it never reads out of bounds.
//
// Costs: encoding appends to one std::string (no other allocation); decoding
// allocates only the decoded value.

namespace detail {

// Reads an encoded value: every read is bounds-checked.
class codec_reader {
 public:
  codec_reader(const void* data, std::size_t size) noexcept
      : begin_(data ? static_cast<const unsigned char*>(data) : empty_()), pos_(begin_),
        end_(begin_ + (data ? size : 0)) {}

  std::size_t left() const noexcept { return static_cast<std::size_t>(end_ - pos_); }

  // The next `n` bytes (never null); throws if fewer are left.
  const unsigned char* take(std::size_t n, const char* what) {
    if (n > left()) {
      fail("truncated input: " + std::string(what) + " needs " + std::to_string(n) + " bytes, " +
           std::to_string(left()) + " left");
    }
    const unsigned char* p = pos_;
    pos_ += n;
    return p;
  }

  // A 64-bit length prefix counting `items` of at least `unit` (>= 1) bytes
  // each: they must fit in the bytes left.
  std::size_t length(std::size_t unit, const char* what, const char* items) {
    std::uint64_t n = 0;
    std::memcpy(&n, take(sizeof n, "a length prefix"), sizeof n);
    if (n > left() / unit) {
      const std::uint64_t most = ~std::uint64_t{0};
      fail("truncated input: " + std::string(what) + " of " + std::to_string(n) + " " + items + " needs at least " +
           (n <= most / unit ? std::to_string(n * unit) : "2^64") + " bytes, " + std::to_string(left()) + " left");
    }
    return static_cast<std::size_t>(n);
  }

  // Throws unless every byte was used.
  void finish() const {
    if (left() != 0) fail(std::to_string(left()) + " unexpected byte(s) after the value");
  }

  [[noreturn]] void fail(const std::string& what) const {
    throw error(LOX_EINVAL, "codec: " + what + " (at byte " + std::to_string(pos_ - begin_) + " of " +
                                std::to_string(end_ - begin_) + ")");
  }

 private:
  static const unsigned char* empty_() noexcept {
    static const unsigned char none[1] = {0};
    return none;
  }
  const unsigned char* begin_;
  const unsigned char* pos_;
  const unsigned char* end_;
};

inline void codec_put_length(std::string& out, std::size_t n) {
  const std::uint64_t v = n;
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}

// A trivially copyable T from its object bytes.
template <class T>
T codec_load(const unsigned char* p) noexcept {
  if constexpr (std::is_default_constructible_v<T>) {
    T v;
    std::memcpy(static_cast<void*>(std::addressof(v)), p, sizeof(T));
    return v;
  } else {
    alignas(T) unsigned char raw[sizeof(T)];
    std::memcpy(raw, p, sizeof(T));
    return *std::launder(reinterpret_cast<T*>(raw));
  }
}

template <class T>
inline constexpr bool codec_raw_ok =
    std::is_trivially_copyable_v<T> && !std::is_volatile_v<T> && !std::is_array_v<T>;

// Each codec_traits<T> says whether T is encodable (`ok`), whether its
// encoding is its object bytes (`raw`), the fewest bytes it encodes to
// (`min_size`), and encodes/decodes it. Unencodable types have only the
// constants (so a refused type gives one clear static_assert, not a cascade).
template <class T, bool = codec_raw_ok<T>>
struct codec_raw {
  static constexpr bool ok = false;
  static constexpr bool raw = false;
  static constexpr std::size_t min_size = 0;
};
template <class T>
struct codec_raw<T, true> {
  static constexpr bool ok = true;
  static constexpr bool raw = true;
  static constexpr std::size_t min_size = sizeof(T);
  static void encode(std::string& out, const T& v) {
    out.append(reinterpret_cast<const char*>(std::addressof(v)), sizeof(T));
  }
  static T decode(codec_reader& in) { return codec_load<T>(in.take(sizeof(T), "a trivially copyable value")); }
};

template <class T>
struct codec_traits : codec_raw<T> {};

template <class T>
using codec_for = codec_traits<std::remove_const_t<T>>;

template <>
struct codec_traits<bool> {
  static constexpr bool ok = true;
  static constexpr bool raw = false;  // validated on the way in
  static constexpr std::size_t min_size = 1;
  static void encode(std::string& out, bool v) { out.push_back(v ? '\1' : '\0'); }
  static bool decode(codec_reader& in) {
    const unsigned char b = *in.take(1, "a bool");
    if (b > 1) in.fail("a bool byte is " + std::to_string(b) + ", not 0 or 1");
    return b == 1;
  }
};

template <class C>
struct codec_traits<std::basic_string<C, std::char_traits<C>, std::allocator<C>>> {
  using type = std::basic_string<C, std::char_traits<C>, std::allocator<C>>;
  static constexpr bool ok = true;
  static constexpr bool raw = false;
  static constexpr std::size_t min_size = sizeof(std::uint64_t);
  static void encode(std::string& out, const type& s) {
    codec_put_length(out, s.size());
    out.append(reinterpret_cast<const char*>(s.data()), s.size() * sizeof(C));
  }
  static type decode(codec_reader& in) {
    const std::size_t n = in.length(sizeof(C), "a std::string", "character(s)");
    const unsigned char* p = in.take(n * sizeof(C), "a std::string");
    type s(n, C());
    if (n) std::memcpy(static_cast<void*>(&s[0]), p, n * sizeof(C));
    return s;
  }
};

template <class T>
struct codec_traits<std::vector<T, std::allocator<T>>> {
  using elem = codec_for<T>;
  static constexpr bool ok = elem::ok && elem::min_size > 0;
  static constexpr bool raw = false;
  static constexpr std::size_t min_size = sizeof(std::uint64_t);
  // Elements copied as one block.
  static constexpr bool bulk = elem::raw && std::is_default_constructible_v<T>;

  static void encode(std::string& out, const std::vector<T>& v) {
    codec_put_length(out, v.size());
    if constexpr (bulk) {
      out.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
    } else {
      for (const auto& x : v) elem::encode(out, x);
    }
  }
  static std::vector<T> decode(codec_reader& in) {
    const std::size_t n = in.length(elem::min_size, "a std::vector", "element(s)");
    std::vector<T> v;
    if constexpr (bulk) {
      const unsigned char* p = in.take(n * sizeof(T), "a std::vector");
      v.resize(n);
      if (n) std::memcpy(static_cast<void*>(v.data()), p, n * sizeof(T));
    } else {
      v.reserve(n);  // n <= bytes left / min_size: bounded by the input
      for (std::size_t i = 0; i < n; ++i) v.push_back(elem::decode(in));
    }
    return v;
  }
};

template <class... T>
struct codec_traits<std::tuple<T...>> {
  static constexpr bool ok = (codec_for<T>::ok && ...);
  static constexpr bool raw = false;
  static constexpr std::size_t min_size = (std::size_t{0} + ... + codec_for<T>::min_size);
  static void encode(std::string& out, const std::tuple<T...>& t) {
    std::apply([&out](const T&... e) { (codec_for<T>::encode(out, e), ...); }, t);
  }
  static std::tuple<T...> decode(codec_reader& in) {
    static_cast<void>(in);
    return std::tuple<T...>{codec_for<T>::decode(in)...};  // braces: decoded left to right
  }
};

template <class A, class B>
struct codec_traits<std::pair<A, B>> {
  static constexpr bool ok = codec_for<A>::ok && codec_for<B>::ok;
  static constexpr bool raw = false;
  static constexpr std::size_t min_size = codec_for<A>::min_size + codec_for<B>::min_size;
  static void encode(std::string& out, const std::pair<A, B>& p) {
    codec_for<A>::encode(out, p.first);
    codec_for<B>::encode(out, p.second);
  }
  static std::pair<A, B> decode(codec_reader& in) {
    return std::pair<A, B>{codec_for<A>::decode(in), codec_for<B>::decode(in)};  // left to right
  }
};

}  // namespace detail

namespace codec {

// True when T can be encoded (see above). Reference types are not encodable
// (pass the decayed type).
template <class T>
struct is_encodable : std::bool_constant<detail::codec_for<T>::ok> {};
template <class T>
inline constexpr bool is_encodable_v = is_encodable<T>::value;

// Appends the encoding of `value` to `out`. Throws only std::bad_alloc (and
// std::length_error).
template <class T>
void encode_to(std::string& out, const T& value) {
  static_assert(is_encodable_v<T>,
                "lox::codec: the type must be trivially copyable, std::string, std::vector of an encodable type, "
                "or std::tuple / std::pair of encodable types");
  if constexpr (is_encodable_v<T>) detail::codec_for<T>::encode(out, value);
}

// The encoding of `value`, as bytes in a std::string.
template <class T>
std::string encode(const T& value) {
  std::string out;
  codec::encode_to(out, value);
  return out;
}

// Decodes a T that was encoded into exactly the `size` bytes at `data`
// (`data` may be null when `size` is 0). Throws lox::error (LOX_EINVAL) for
// truncated, trailing or invalid bytes, never reading outside them.
template <class T>
std::remove_const_t<T> decode(const void* data, std::size_t size) {
  static_assert(is_encodable_v<T>,
                "lox::codec: the type must be trivially copyable, std::string, std::vector of an encodable type, "
                "or std::tuple / std::pair of encodable types");
  if constexpr (is_encodable_v<T>) {
    detail::codec_reader in(data, size);
    std::remove_const_t<T> v = detail::codec_for<T>::decode(in);
    in.finish();
    return v;
  }
}

// decode<T>(bytes.data(), bytes.size()).
template <class T>
std::remove_const_t<T> decode(std::string_view bytes) {
  return codec::decode<T>(bytes.data(), bytes.size());
}

}  // namespace codec

// ===========================================================================
// Process pool (lox.process)
// ===========================================================================

// Settings for `lox::process(n, options, fn)`. The defaults are the C
// layer's (LOX_PROCESS_OPTS_INIT).
struct process_options {
  // Per-task time limit: a task still running after it is killed with its
  // worker process (SIGKILL), its outcome is a lox::error with status
  // LOX_TIMEOUT, and the worker is replaced. Negative (the default): no
  // limit. Zero or NaN: lox::process throws lox::error (LOX_EINVAL).
  std::chrono::duration<double> task_timeout{lox_process_opts LOX_PROCESS_OPTS_INIT.task_timeout};
  // Largest encoded argument tuple or result, in bytes, that may cross
  // between this process and a worker (default 1 GiB). scatter throws
  // lox::error (LOX_EINVAL) for larger arguments; a larger result fails its
  // task with LOX_EWORKER. Zero: LOX_EINVAL.
  std::size_t max_message{lox_process_opts LOX_PROCESS_OPTS_INIT.max_message};
};

namespace detail {

// ---- The process pool's types -------------------------------------------------
// Arguments cross as one encoded std::tuple of the callable's decayed
// parameter types, so the signature must be known when the pool is created
// (the worker decodes them before the first scatter is even seen).

template <class Params>
struct process_params {  // unknown signature (the pool's static_assert says so)
  using tuple = std::tuple<>;
  static constexpr bool by_value_or_const_ref = true;
};
template <class... P>
struct process_params<type_list<P...>> {
  using tuple = std::tuple<std::decay_t<P>...>;
  static constexpr bool by_value_or_const_ref =
      ((!std::is_lvalue_reference_v<P> || std::is_const_v<std::remove_reference_t<P>>) && ...);
};

template <class R, class F>
struct process_result {
  static_assert(!std::is_reference_v<R>, "lox::process<R>: R must be a value type");
  using type = std::remove_cv_t<R>;
};
template <class F>
struct process_result<deduce_result, F> {
  using type = std::decay_t<typename signature<F>::result>;  // void when unknown: the pool's static_assert says so
};

template <class F, class R, class Args>
struct process_checks;
template <class F, class R, class... A>
struct process_checks<F, R, std::tuple<A...>> {
  static constexpr bool known = signature<F>::known;
  static constexpr bool params_ok = process_params<typename signature<F>::params>::by_value_or_const_ref;
  static constexpr bool args_ok = (codec::is_encodable_v<A> && ...);
  static constexpr bool result_ok = std::is_void_v<R> || codec::is_encodable_v<R>;
  static constexpr bool invocable = std::is_invocable_v<const F&, A&&...>;
  static constexpr bool convertible = [] {
    if constexpr (!invocable || std::is_void_v<R>) {
      return true;
    } else {
      return std::is_constructible_v<R, std::invoke_result_t<const F&, A&&...>>;
    }
  }();
  static constexpr bool all = known && params_ok && args_ok && result_ok && invocable && convertible;

  static_assert(known,
                "lox::process: the callable must have exactly one call signature (not a generic lambda or an "
                "overloaded operator()): workers decode the arguments as its parameter types, e.g. "
                "[](int x, const std::string& s) { ... }");
  static_assert(!known || params_ok,
                "lox::process: parameters must be taken by value or by const& (a T& parameter cannot reach the "
                "caller's object from another process; return what you computed instead)");
  static_assert(!known || args_ok,
                "lox::process arguments and results must be trivially copyable, std::string, std::vector or "
                "std::tuple/std::pair of those (see lox::codec): a parameter type is not");
  static_assert(!known || result_ok,
                "lox::process arguments and results must be trivially copyable, std::string, std::vector or "
                "std::tuple/std::pair of those (see lox::codec): the result type is not");
  static_assert(!known || !params_ok || !args_ok || invocable,
                "lox::process: the callable cannot be called as a const object with its decoded arguments "
                "(a mutable lambda cannot be used)");
  static_assert(convertible, "lox::process: the callable's result cannot be converted to the pool's result type");
};

// Appends `len` bytes to the worker's reply; returns the task's status.
inline int process_reply(lox_buffer* out, int status, const void* data, std::size_t len) noexcept {
  const int st = lox_buffer_append(out, data, len);
  return st == LOX_OK ? status : st;
}

// The one lox_process_fn of every C++ process pool, run in a worker process
// (or inline in the scattering thread for a pool of 0 workers): `ctx` is
// the pool's callable (the worker's copy of it, at the address it had in
// this process when the pool was created), `in` the encoded argument tuple.
// Appends the encoded result and returns LOX_OK; for an exception, appends
// its what() text and returns LOX_ETASK. Never lets an exception out.
template <class F, class R, class Args>
int process_trampoline(void* ctx, const void* in, std::size_t in_len, lox_buffer* out) noexcept {
  try {
    const F& f = *static_cast<const F*>(ctx);
    Args args = codec::decode<Args>(in, in_len);
    if constexpr (std::is_void_v<R>) {
      std::apply(f, std::move(args));
      return LOX_OK;
    } else {
      std::string bytes;
      {
        R result(std::apply(f, std::move(args)));
        codec::encode_to(bytes, result);
      }
      return process_reply(out, LOX_OK, bytes.data(), bytes.size());
    }
  } catch (const std::exception& e) {
    const char* what = e.what();
    return process_reply(out, LOX_ETASK, what, std::strlen(what));
  } catch (...) {
    static const char text[] = "unknown exception (not derived from std::exception)";
    return process_reply(out, LOX_ETASK, text, sizeof text - 1);
  }
}

struct results_deleter {
  void operator()(lox_results* r) const noexcept { lox_results_destroy(r); }
};
using results_ptr = std::unique_ptr<lox_results, results_deleter>;

// The failure of task `i` of a gathered process round as a lox::error
// (status: LOX_ETASK for an exception, whose what() text is the detail;
// LOX_EWORKER for a dead worker, LOX_TIMEOUT for the task time limit, ...),
// or null if it succeeded.
inline std::exception_ptr process_failure(const lox_results* res, std::size_t i) {
  const int st = lox_results_status(res, i);
  if (st == LOX_OK) return nullptr;
  const char* text = lox_results_error(res, i);
  std::string detail = text ? std::string(text)
                            : "process task " + std::to_string(i) + " failed with status " + std::to_string(st);
  return std::make_exception_ptr(error(st, std::move(detail)));
}

// The value of task `i` (which succeeded) into `value`, or the exception
// that says why it cannot be had.
template <class R>
std::exception_ptr process_value(const lox_results* res, std::size_t i, std::optional<R>& value) {
  const void* data = nullptr;
  std::size_t len = 0;
  const int st = lox_results_bytes(res, i, &data, &len);
  if (st != LOX_OK) return std::make_exception_ptr(error(st, lox_last_error()));
  try {
    value.emplace(codec::decode<R>(data, len));
  } catch (const error& e) {
    return std::make_exception_ptr(
        error(LOX_EWORKER, "process task " + std::to_string(i) + ": its result cannot be decoded: " + e.detail()));
  }
  return nullptr;
}

// Turns a gathered process round into values (rethrowing the first failure
// in scatter order) or into outcomes.
template <class R>
struct process_round_values {
  using values_type = std::vector<R>;
  static values_type values(const lox_results* res) {
    const std::size_t n = lox_results_count(res);
    values_type out;
    out.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      std::optional<R> v;
      std::exception_ptr e = process_failure(res, i);
      if (!e) e = process_value<R>(res, i, v);
      if (e) std::rethrow_exception(e);
      out.push_back(std::move(*v));
    }
    return out;
  }
  static std::vector<outcome<R>> outcomes(const lox_results* res) {
    const std::size_t n = lox_results_count(res);
    std::vector<outcome<R>> out;
    out.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      std::optional<R> v;
      std::exception_ptr e = process_failure(res, i);
      if (!e) e = process_value<R>(res, i, v);
      if (e) {
        out.push_back(outcome<R>::failure(std::move(e)));
      } else {
        out.emplace_back(std::in_place, std::move(*v));
      }
    }
    return out;
  }
};
template <>
struct process_round_values<void> {
  using values_type = void;
  static void values(const lox_results* res) {
    const std::size_t n = lox_results_count(res);
    for (std::size_t i = 0; i < n; ++i) {
      if (std::exception_ptr e = process_failure(res, i)) std::rethrow_exception(e);
    }
  }
  static std::vector<outcome<void>> outcomes(const lox_results* res) {
    const std::size_t n = lox_results_count(res);
    std::vector<outcome<void>> out;
    out.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      if (std::exception_ptr e = process_failure(res, i)) {
        out.push_back(outcome<void>::failure(std::move(e)));
      } else {
        out.emplace_back(std::in_place);
      }
    }
    return out;
  }
};

}  // namespace detail

// A pool of worker processes running one callable: lox's `@lox.process`.
// Create it with `lox::process(n, fn)`. `F` is the callable's type, `R` the
// decayed type it returns (`void` allowed).
//
//   auto job = lox::process(2, [](const std::string& s) { return s.size(); });
//   job.scatter("abc");
//   std::vector<std::size_t> sizes = job.gather();   // {3}
//
// It works like lox::thread (scatter returns at once, gather returns the
// round's results in scatter order, try_gather, gather_results, progress),
// with the differences that come from running in other processes:
//
// - The workers are copies of this process as it was when the pool was
//   created (fork), callable included. Set up everything the callable needs
//   (globals, tables, files it reads, the objects it captures) BEFORE
//   creating the pool: later changes in this process are not seen by the
//   workers, and nothing a task changes is seen here, except its result.
//   Threads of this process do not exist in the workers; do not use liblox
//   pools from inside the callable.
// - The callable must have one call signature (no generic lambda), taking
//   its parameters by value or const&. Arguments are encoded with
//   lox::codec as one std::tuple of the decayed parameter types (so
//   `scatter("abc")` for a `const std::string&` parameter sends a string),
//   and the result is encoded back: both must be trivially copyable,
//   std::string, std::vector or std::tuple/std::pair of those (checked at
//   compile time). Pointers are sent as addresses (see lox::codec).
// - An exception cannot cross processes: a task that throws comes back as
//   `lox::error` with status LOX_ETASK whose detail() is the exception's
//   what() text. A worker that dies in a task (crash, abort(), _exit) fails
//   that task with LOX_EWORKER ("worker 1234 killed by SIGSEGV"), a task
//   over the time limit (process_options::task_timeout) with LOX_TIMEOUT;
//   the worker is replaced and the rest of the round is unaffected.
// - gather() rethrows the first failure in scatter order, after the whole
//   round finished; gather_results() returns every task's outcome.
// - Destroying the pool does not wait: tasks not finished are dropped and
//   the workers killed (the C layer's lox_process_destroy).
// - With 0 workers (or LOX_DEBUG=1) tasks run inline in the scattering
//   thread, in this process, still through the codec.
//
// Costs: scatter encodes the arguments into one std::string and the C layer
// copies it to a worker; gather decodes each result from the round's bytes.
// The callable is stored once, on the heap, at the address the workers know.
//
// Thread safety: any member may be called from any number of threads at once,
// except that the destructor and move assignment must not race with other
// calls on the pool.
template <class F, class R>
class process_pool {
 public:
  using function_type = F;
  using result_type = R;
  // The tuple a scatter's arguments are encoded as.
  using arguments_type = typename detail::process_params<typename detail::signature<F>::params>::tuple;
  // What gather() returns: std::vector<R>, or void when R is void.
  using gather_type = typename detail::process_round_values<R>::values_type;
  // What try_gather() returns: std::optional<std::vector<R>>, or bool when R
  // is void (false on timeout).
  using try_gather_type = std::conditional_t<std::is_void_v<R>, bool, std::optional<gather_type>>;

 private:
  using checks = detail::process_checks<F, R, arguments_type>;

 public:
  // Destroys the pool: tasks not finished are dropped, the workers and the
  // fork server are killed and reaped, results not gathered are freed. Does
  // not wait for running tasks. Must not race with any other call on the pool.
  ~process_pool() { close(); }

  process_pool(const process_pool&) = delete;
  process_pool& operator=(const process_pool&) = delete;

  // Moves the pool; `other` becomes empty (every call on it throws
  // `lox::error` with LOX_EINVAL, `pending()`/`workers()` return 0). The
  // workers are unaffected: the callable does not move.
  process_pool(process_pool&& other) noexcept
      : fn_(std::move(other.fn_)), handle_(std::exchange(other.handle_, nullptr)),
        max_workers_(other.max_workers_) {}

  // Destroys this pool as the destructor does, then takes `other`'s.
  process_pool& operator=(process_pool&& other) noexcept {
    if (this != &other) {
      close();
      fn_ = std::move(other.fn_);
      handle_ = std::exchange(other.handle_, nullptr);
      max_workers_ = other.max_workers_;
    }
    return *this;
  }

  // Plain call in the calling thread, in this process: returns `fn(args...)`
  // exactly as the callable returns it (lox's vanilla passthrough).
  // Exceptions propagate. Throws lox::error (LOX_EINVAL) on a moved-from pool.
  template <class... Args>
  decltype(auto) operator()(Args&&... args) const {
    if (!fn_) throw error(LOX_EINVAL, "process call: the pool is empty (moved from)");
    return std::invoke(static_cast<const F&>(*fn_), std::forward<Args>(args)...);
  }

  // Queues `fn(args...)` for a worker process and returns at once with the
  // task's index in the results of the gather that collects it (0, 1, 2, ...
  // since the previous gather). The arguments are encoded as the callable's
  // decayed parameter types (an argument of another type is converted
  // first). With 0 workers the task runs before this returns.
  //
  // Cost: the encoding (one std::string) and the C scatter, which copies it.
  // Throws lox::error (LOX_EINVAL for a moved-from pool or arguments over
  // max_message, LOX_ENOMEM) and then nothing was queued.
  template <class... Args>
  std::size_t scatter(Args&&... args) {
    constexpr bool arity_ok = sizeof...(Args) == std::tuple_size_v<arguments_type>;
    static_assert(arity_ok, "lox::process: scatter: wrong number of arguments for the pool's callable");
    std::string bytes;
    if constexpr (arity_ok) {
      encode_args(bytes, std::make_index_sequence<sizeof...(Args)>{}, std::forward<Args>(args)...);
    }
    std::size_t index = 0;
    const int st = lox_process_scatter(handle_, bytes.data(), bytes.size(), &index);
    if (st != LOX_OK) throw error(st, lox_last_error());
    return index;
  }

  // Waits for the round (every task scattered since the previous gather
  // began) and returns its results in scatter order (nothing for a void R).
  //
  // `on_progress` is optional, as for lox::thread: `lox::progress_bar` draws
  // lox's bar on stderr; a callable `f(std::size_t done, std::size_t total)`
  // is called in this thread as tasks finish (the last time with done ==
  // total); if it throws, the round is still waited for and freed and its
  // exception propagates.
  //
  // If tasks failed, the lox::error of the first one in scatter order is
  // thrown after the whole round finished (the other results are dropped;
  // gather_results() keeps them all): LOX_ETASK with the exception's what()
  // as detail(), LOX_EWORKER ("worker 1234 killed by SIGABRT"), LOX_TIMEOUT
  // (task time limit). Throws lox::error for a C failure (LOX_EINVAL for a
  // moved-from pool, LOX_ENOMEM); then nothing was taken.
  template <class P = detail::no_progress_t>
  gather_type gather(P&& on_progress = P{}) {
    detail::results_ptr round;
    take(LOX_FOREVER, on_progress, round);
    return detail::process_round_values<R>::values(round.get());
  }

  // gather() that waits at most `timeout`: on timeout returns an empty
  // optional (false for a void R) and nothing is lost (the round goes on and
  // the next gather returns it). A timeout <= 0 checks once without
  // blocking. `on_progress` and exceptions as gather().
  template <class Rep, class Period, class P = detail::no_progress_t>
  try_gather_type try_gather(const std::chrono::duration<Rep, Period>& timeout, P&& on_progress = P{}) {
    detail::results_ptr round;
    if (!take(try_seconds(timeout), on_progress, round)) return try_gather_type{};
    if constexpr (std::is_void_v<R>) {
      detail::process_round_values<R>::values(round.get());
      return true;
    } else {
      return detail::process_round_values<R>::values(round.get());
    }
  }

  // gather() that never throws a task's failure: one outcome per task, in
  // scatter order, each the task's value or its lox::error (see gather()).
  // Still throws lox::error for a C failure and a progress callable's
  // exception.
  template <class P = detail::no_progress_t>
  std::vector<outcome<R>> gather_results(P&& on_progress = P{}) {
    detail::results_ptr round;
    take(LOX_FOREVER, on_progress, round);
    return detail::process_round_values<R>::outcomes(round.get());
  }

  // gather_results() that waits at most `timeout` (empty optional on
  // timeout, nothing lost; <= 0 checks once).
  template <class Rep, class Period, class P = detail::no_progress_t>
  std::optional<std::vector<outcome<R>>> try_gather_results(const std::chrono::duration<Rep, Period>& timeout,
                                                             P&& on_progress = P{}) {
    detail::results_ptr round;
    if (!take(try_seconds(timeout), on_progress, round)) return std::nullopt;
    return detail::process_round_values<R>::outcomes(round.get());
  }

  // Tasks scattered but not yet started (lox's len()); a snapshot. 0 for a
  // moved-from pool.
  std::size_t pending() const noexcept { return handle_ ? lox_process_pending(handle_) : 0; }

  // Worker processes alive now; a snapshot. 0 for a moved-from pool.
  std::size_t workers() const noexcept { return handle_ ? lox_process_workers(handle_) : 0; }

  // The worker count the pool was created with, as given
  // (LOX_DEFAULT_WORKERS means the number of online CPUs; LOX_DEBUG may
  // force 0 without this showing).
  std::size_t max_workers() const noexcept { return max_workers_; }

  // False for a moved-from pool.
  explicit operator bool() const noexcept { return handle_ != nullptr; }

  // The C pool, for calls this layer does not wrap. Scatter to it only
  // bytes encoded as `arguments_type` (lox::codec), and do not destroy it.
  lox_process* native_handle() const noexcept { return handle_; }

  // Used by lox::process(...), which is how pools are made (the tag keeps
  // this constructor out of the way). The callable is stored on the heap
  // before the C pool (and its fork server) is created, so the workers'
  // copy of the process holds it at the address passed as ctx.
  template <class G>
  process_pool(detail::make_pool_tag, std::size_t max_workers, const process_options& options, G&& fn)
      : fn_(std::make_unique<F>(std::forward<G>(fn))), max_workers_(max_workers) {
    if constexpr (checks::all) {
      lox_process_opts o;
      lox_process_opts_init(&o);
      o.task_timeout = options.task_timeout.count();
      o.max_message = options.max_message;
      check(lox_process_create_ex(max_workers, &detail::process_trampoline<F, R, arguments_type>,
                                  static_cast<void*>(fn_.get()), &o, &handle_));
    } else {
      static_cast<void>(options);
    }
  }

 private:
  template <class Rep, class Period>
  static double try_seconds(const std::chrono::duration<Rep, Period>& timeout) noexcept {
    const double s = to_seconds(timeout);
    return s < 0 ? 0.0 : s;  // C++ convention: a negative try waits not at all (NaN stays: LOX_EINVAL)
  }

  template <std::size_t... I, class... Args>
  static void encode_args(std::string& out, std::index_sequence<I...>, Args&&... args) {
    (encode_arg<std::tuple_element_t<I, arguments_type>>(out, std::forward<Args>(args)), ...);
  }

  // Encodes one argument as the parameter's decayed type `Stored` (without
  // a copy when it already is one).
  template <class Stored, class A>
  static void encode_arg(std::string& out, A&& a) {
    if constexpr (std::is_same_v<detail::remove_cvref_t<A>, Stored>) {
      codec::encode_to(out, a);
    } else {
      static_assert(std::is_constructible_v<Stored, A&&>,
                    "lox::process: scatter: an argument cannot be converted to the callable's parameter type");
      if constexpr (std::is_constructible_v<Stored, A&&>) {
        const Stored converted = static_cast<Stored>(std::forward<A>(a));  // as a direct call would convert
        codec::encode_to(out, converted);
      }
    }
  }

  // Gathers one round into `out`; false on timeout (nothing taken). Throws
  // lox::error for a C failure, or the progress callable's exception (after
  // freeing the round).
  template <class P>
  bool take(double timeout, P& on_progress, detail::results_ptr& out) {
    lox_gather_opts o;
    lox_gather_opts_init(&o);
    o.timeout = timeout;
    detail::progress_relay<P> relay(on_progress);
    relay.apply(o);
    lox_results* res = nullptr;
    const int st = lox_process_gather(handle_, &o, &res);
    if (st == LOX_TIMEOUT) {
      if (relay.error()) std::rethrow_exception(relay.error());
      return false;
    }
    if (st != LOX_OK && st != LOX_ETASK) throw error(st, lox_last_error());
    out.reset(res);
    if (relay.error()) {
      out.reset();
      std::rethrow_exception(relay.error());
    }
    return true;
  }

  void close() noexcept {
    lox_process_destroy(handle_);  // kills the workers: nothing uses the callable any more
    handle_ = nullptr;
    fn_.reset();
  }

  std::unique_ptr<F> fn_;  // heap: its address is the C pool's ctx, known to the workers, and survives moves
  lox_process* handle_ = nullptr;
  std::size_t max_workers_ = 0;
};

// Creates a process pool running `fn` in at most `max_workers` worker
// processes (LOX_DEFAULT_WORKERS = the number of online CPUs; 0 = tasks run
// inline in scatter, in this process). `fn` is copied or moved into the
// pool, then the C pool forks its fork server: from here on the workers are
// copies of this process as it is now (set up everything first).
//
// R, the result type, is deduced from `fn`'s signature; `lox::process<R>(n,
// fn)` converts the callable's result to R instead. Throws lox::error
// (LOX_EINVAL for a zero or NaN task_timeout or a zero max_message,
// LOX_ENOMEM, LOX_ESYS when fork or socketpair fails).
template <class R = detail::deduce_result, class F>
auto process(std::size_t max_workers, const process_options& options, F&& fn) {
  using fn_t = std::decay_t<F>;
  using result_t = typename detail::process_result<R, fn_t>::type;
  return process_pool<fn_t, result_t>(detail::make_pool_tag{}, max_workers, options, std::forward<F>(fn));
}

// `lox::process(max_workers, process_options{}, fn)`:
//   auto job = lox::process(2, [](const std::string& s) { return s.size(); });
template <class R = detail::deduce_result, class F>
auto process(std::size_t max_workers, F&& fn) {
  return lox::process<R>(max_workers, process_options{}, std::forward<F>(fn));
}

// `lox::process(LOX_DEFAULT_WORKERS, fn)`: lox's bare `@lox.process` (one
// worker per online CPU).
template <class R = detail::deduce_result, class F>
auto process(F&& fn) {
  return lox::process<R>(LOX_DEFAULT_WORKERS, process_options{}, std::forward<F>(fn));
}


// ===========================================================================
// Synchronization objects
// ===========================================================================
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

namespace detail {

// A try_* duration as the C layer's timeout: negative waits not at all
// (the standard's meaning), NaN stays NaN (LOX_EINVAL from the C call).
template <class Rep, class Period>
double try_timeout(const std::chrono::duration<Rep, Period>& d) noexcept {
  const double s = to_seconds(d);
  return s < 0 ? 0.0 : s;
}

// Runs `attempt(timeout_seconds) -> bool` until it succeeds or `Clock` has
// reached `deadline`. One attempt for a steady clock unless it wakes up
// early; a clock that is adjusted (system_clock) is re-read after each
// attempt, so the deadline is honoured on that clock as the standard asks.
// At least one attempt is made, even for a deadline in the past.
template <class Clock, class Duration, class Attempt>
bool until(const std::chrono::time_point<Clock, Duration>& deadline, Attempt&& attempt) {
  for (;;) {
    const auto left = deadline - Clock::now();
    const double s = to_seconds(left);
    if (attempt(s > 0 ? s : 0.0)) return true;
    if (!(s > 0) || Clock::now() >= deadline) return false;
  }
}

}  // namespace detail

// A held exclusive lock: the RAII guard of lox::lock, lox::light_switch,
// lox::qlock and of lox::rw_lock's write mode. Returned by their hold() /
// write() (never empty) and try_hold() / try_write() (empty on timeout).
//
// Move-only; one or two words, never allocates. Releases the lock with
// `M::unlock()` (noexcept) when it is destroyed while owning it. Not tied
// to a thread: it may be moved to another thread and released there.
template <class M>
class unique_guard {
 public:
  using mutex_type = M;

  // An empty guard (owns nothing; false).
  unique_guard() noexcept = default;

  // Takes over a lock that `m` already holds (the caller acquired it);
  // releases it on destruction.
  unique_guard(M& m, std::adopt_lock_t) noexcept : m_(&m) {}

  unique_guard(const unique_guard&) = delete;
  unique_guard& operator=(const unique_guard&) = delete;

  // Takes `other`'s lock; `other` becomes empty.
  unique_guard(unique_guard&& other) noexcept : m_(std::exchange(other.m_, nullptr)) {}

  // Releases the lock this guard owns (noexcept, like the destructor), then
  // takes `other`'s.
  unique_guard& operator=(unique_guard&& other) noexcept {
    if (this != &other) {
      reset();
      m_ = std::exchange(other.m_, nullptr);
    }
    return *this;
  }

  // Releases the lock if this guard still owns it (`M::unlock()`: a misuse,
  // e.g. someone else released it meanwhile, is not reported).
  ~unique_guard() { reset(); }

  // True while the guard owns a lock: false for an empty, timed-out,
  // moved-from, unlocked or detached guard.
  explicit operator bool() const noexcept { return m_ != nullptr; }
  bool owns_lock() const noexcept { return m_ != nullptr; }

  // The lock this guard owns, or nullptr.
  M* mutex() const noexcept { return m_; }

  // Releases the lock now (`M::release()`); the guard becomes empty. Throws
  // lox::error: LOX_ESTATE for an empty guard, or the C release's error (the
  // guard is empty afterwards in every case: a failed release is not retried
  // by the destructor).
  void unlock() {
    if (!m_) throw error(LOX_ESTATE, "guard unlock: the guard holds no lock");
    std::exchange(m_, nullptr)->release();
  }

  // Gives up ownership without releasing: the lock stays held and the
  // caller (or another thread) must release it. Returns the lock, or
  // nullptr for an empty guard.
  M* detach() noexcept { return std::exchange(m_, nullptr); }

 private:
  void reset() noexcept {
    if (m_) std::exchange(m_, nullptr)->unlock();
  }
  M* m_ = nullptr;
};

// A held shared (read) lock of lox::rw_lock: returned by rw_lock::read()
// (never empty) and try_read() (empty on timeout). The same as unique_guard,
// but it releases with `M::unlock_shared()` / `M::release_shared()`.
template <class M>
class shared_guard {
 public:
  using mutex_type = M;

  // An empty guard (owns nothing; false).
  shared_guard() noexcept = default;

  // Takes over a read lock the caller holds on `m`.
  shared_guard(M& m, std::adopt_lock_t) noexcept : m_(&m) {}

  shared_guard(const shared_guard&) = delete;
  shared_guard& operator=(const shared_guard&) = delete;

  // Takes `other`'s read lock; `other` becomes empty.
  shared_guard(shared_guard&& other) noexcept : m_(std::exchange(other.m_, nullptr)) {}

  // Releases this guard's read lock (noexcept), then takes `other`'s.
  shared_guard& operator=(shared_guard&& other) noexcept {
    if (this != &other) {
      reset();
      m_ = std::exchange(other.m_, nullptr);
    }
    return *this;
  }

  // Releases the read lock if still owned (`M::unlock_shared()`).
  ~shared_guard() { reset(); }

  // True while the guard owns a read lock.
  explicit operator bool() const noexcept { return m_ != nullptr; }
  bool owns_lock() const noexcept { return m_ != nullptr; }

  // The lock this guard owns, or nullptr.
  M* mutex() const noexcept { return m_; }

  // Releases the read lock now (`M::release_shared()`); the guard becomes
  // empty. Throws lox::error: LOX_ESTATE for an empty guard, or the C
  // release's error.
  void unlock() {
    if (!m_) throw error(LOX_ESTATE, "guard unlock: the guard holds no lock");
    std::exchange(m_, nullptr)->release_shared();
  }

  // Gives up ownership without releasing (the read lock stays held).
  M* detach() noexcept { return std::exchange(m_, nullptr); }

 private:
  void reset() noexcept {
    if (m_) std::exchange(m_, nullptr)->unlock_shared();
  }
  M* m_ = nullptr;
};

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
//
// Uncontended acquire + release is the C layer's fast path (one atomic
// operation each, no system call when nobody waits); waiters spin briefly,
// then sleep.
class basic_lock {
 public:
  // Creates an unlocked lock. Throws lox::error (LOX_ENOMEM).
  basic_lock() { check(lox_lock_create(&h_)); }

  // Destroys the C lock. It may be held; it must not be borrowed by a live
  // light_switch, and nobody should wait on it (the C layer reports waiters
  // and they get LOX_ESTATE).
  ~basic_lock() { lox_lock_destroy(h_); }

  basic_lock(const basic_lock&) = delete;
  basic_lock& operator=(const basic_lock&) = delete;

  // Moves the C lock (its state, holders, waiters and borrowers go with it:
  // they use the C object, not this C++ object); `other` becomes empty, and
  // every call on an empty lock throws lox::error with LOX_EINVAL (unlock()
  // does nothing, locked() is false).
  basic_lock(basic_lock&& other) noexcept : h_(std::exchange(other.h_, nullptr)) {}
  basic_lock& operator=(basic_lock&& other) noexcept {
    if (this != &other) {
      lox_lock_destroy(h_);
      h_ = std::exchange(other.h_, nullptr);
    }
    return *this;
  }

  // ---- lox's interface ----

  // Blocks until the lock is taken. Throws lox::error (LOX_EINVAL for an
  // empty lock; LOX_ESTATE if the lock is destroyed while waiting).
  void acquire() { check(lox_lock_acquire(h_, LOX_FOREVER)); }

  // Waits at most `timeout` (<= 0: tries once without blocking). True if the
  // lock was taken; false on timeout, and then nothing changed. Throws
  // lox::error as acquire() (LOX_EINVAL also for a NaN duration).
  template <class Rep, class Period>
  bool try_acquire(const std::chrono::duration<Rep, Period>& timeout) {
    return check(lox_lock_acquire(h_, detail::try_timeout(timeout))) == LOX_OK;
  }

  // Releases the lock, whichever thread took it. Throws lox::error with
  // LOX_ESTATE if it is not locked (nothing changes), LOX_EINVAL if empty.
  // Wakes one waiter if there is one; no system call otherwise.
  void release() { check(lox_lock_release(h_)); }

  // Whether someone holds the lock now (a snapshot: it may change at once).
  bool locked() const noexcept { return h_ && lox_lock_locked(h_) > 0; }

  // Blocks until taken and returns a guard that releases on scope exit.
  [[nodiscard]] unique_guard<basic_lock> hold() {
    acquire();
    return unique_guard<basic_lock>(*this, std::adopt_lock);
  }

  // Waits at most `timeout`; an empty guard on timeout.
  template <class Rep, class Period>
  [[nodiscard]] unique_guard<basic_lock> try_hold(const std::chrono::duration<Rep, Period>& timeout) {
    if (!try_acquire(timeout)) return {};
    return unique_guard<basic_lock>(*this, std::adopt_lock);
  }

  // ---- the standard's interface (std::scoped_lock, unique_lock, cv_any) ----

  // acquire().
  void lock() { acquire(); }
  // Tries once without blocking.
  bool try_lock() { return check(lox_lock_acquire(h_, 0.0)) == LOX_OK; }
  // try_acquire(timeout).
  template <class Rep, class Period>
  bool try_lock_for(const std::chrono::duration<Rep, Period>& timeout) {
    return try_acquire(timeout);
  }
  // Waits until `deadline` on `Clock` (tries once if it has passed).
  template <class Clock, class Duration>
  bool try_lock_until(const std::chrono::time_point<Clock, Duration>& deadline) {
    return detail::until(deadline, [this](double s) { return check(lox_lock_acquire(h_, s)) == LOX_OK; });
  }
  // Releases; noexcept: releasing an unlocked lock changes nothing and is
  // not reported (release() throws for it).
  void unlock() noexcept { static_cast<void>(lox_lock_release(h_)); }

  // The C lock (for C calls this layer does not wrap; do not destroy it).
  lox_lock* native_handle() const noexcept { return h_; }
  // False for a moved-from lock.
  explicit operator bool() const noexcept { return h_ != nullptr; }

 private:
  lox_lock* h_ = nullptr;
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
class light_switch {
 public:
  // A switch over `lock`, which it borrows (not owned; see above). Throws
  // lox::error (LOX_EINVAL if `lock` is empty, LOX_ENOMEM).
  explicit light_switch(lox::lock& lock) { check(lox_lightswitch_create(lock.native_handle(), &h_)); }

  // Destroys the C switch. Nobody should be in: at a count above 0 the C
  // layer logs a warning and the borrowed lock stays locked.
  ~light_switch() { lox_lightswitch_destroy(h_); }

  light_switch(const light_switch&) = delete;
  light_switch& operator=(const light_switch&) = delete;
  // Moves the C switch; `other` becomes empty (calls throw LOX_EINVAL).
  light_switch(light_switch&& other) noexcept : h_(std::exchange(other.h_, nullptr)) {}
  light_switch& operator=(light_switch&& other) noexcept {
    if (this != &other) {
      lox_lightswitch_destroy(h_);
      h_ = std::exchange(other.h_, nullptr);
    }
    return *this;
  }

  // Enters: the first one in acquires the lock (waiting for it), the others
  // only count. Throws lox::error (LOX_EINVAL empty, LOX_ESTATE destroyed
  // while waiting).
  void acquire() { check(lox_lightswitch_acquire(h_, LOX_FOREVER)); }

  // Enters, waiting at most `timeout` for the lock (<= 0: once); false on
  // timeout, and then the count is unchanged.
  template <class Rep, class Period>
  bool try_acquire(const std::chrono::duration<Rep, Period>& timeout) {
    return check(lox_lightswitch_acquire(h_, detail::try_timeout(timeout))) == LOX_OK;
  }

  // Leaves: the last one out releases the lock. Throws lox::error with
  // LOX_ESTATE at count 0 (nothing changes).
  void release() { check(lox_lightswitch_release(h_)); }

  // How many are in now (a snapshot). 0 for an empty switch.
  std::size_t count() const noexcept { return lox_lightswitch_count(h_); }

  // Enters and returns a guard that leaves on scope exit.
  [[nodiscard]] unique_guard<light_switch> hold() {
    acquire();
    return unique_guard<light_switch>(*this, std::adopt_lock);
  }
  // Enters within `timeout`; an empty guard on timeout.
  template <class Rep, class Period>
  [[nodiscard]] unique_guard<light_switch> try_hold(const std::chrono::duration<Rep, Period>& timeout) {
    if (!try_acquire(timeout)) return {};
    return unique_guard<light_switch>(*this, std::adopt_lock);
  }

  // The standard's interface: enter / leave.
  void lock() { acquire(); }
  bool try_lock() { return check(lox_lightswitch_acquire(h_, 0.0)) == LOX_OK; }
  template <class Rep, class Period>
  bool try_lock_for(const std::chrono::duration<Rep, Period>& timeout) {
    return try_acquire(timeout);
  }
  template <class Clock, class Duration>
  bool try_lock_until(const std::chrono::time_point<Clock, Duration>& deadline) {
    return detail::until(deadline, [this](double s) { return check(lox_lightswitch_acquire(h_, s)) == LOX_OK; });
  }
  // Leaves; noexcept (leaving at count 0 changes nothing, is not reported).
  void unlock() noexcept { static_cast<void>(lox_lightswitch_release(h_)); }

  // The C switch (do not destroy it).
  lox_lightswitch* native_handle() const noexcept { return h_; }
  explicit operator bool() const noexcept { return h_ != nullptr; }

 private:
  lox_lightswitch* h_ = nullptr;
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
class rw_lock {
 public:
  // The two modes, with the C values (LOX_READ = 'r', LOX_WRITE = 'w').
  enum class mode : int { read = LOX_READ, write = LOX_WRITE };

  // Creates an unlocked rwlock. Throws lox::error (LOX_ENOMEM).
  rw_lock() { check(lox_rwlock_create(&h_)); }
  // Destroys the C rwlock (it may be held; waiters get LOX_ESTATE and the
  // C layer reports them).
  ~rw_lock() { lox_rwlock_destroy(h_); }

  rw_lock(const rw_lock&) = delete;
  rw_lock& operator=(const rw_lock&) = delete;
  // Moves the C rwlock; `other` becomes empty (calls throw LOX_EINVAL).
  rw_lock(rw_lock&& other) noexcept : h_(std::exchange(other.h_, nullptr)) {}
  rw_lock& operator=(rw_lock&& other) noexcept {
    if (this != &other) {
      lox_rwlock_destroy(h_);
      h_ = std::exchange(other.h_, nullptr);
    }
    return *this;
  }

  // ---- guards ----

  // Blocks until a read lock is held; the guard releases it.
  [[nodiscard]] shared_guard<rw_lock> read() {
    acquire_shared();
    return shared_guard<rw_lock>(*this, std::adopt_lock);
  }
  // Waits at most `timeout` for a read lock; an empty guard on timeout.
  template <class Rep, class Period>
  [[nodiscard]] shared_guard<rw_lock> try_read(const std::chrono::duration<Rep, Period>& timeout) {
    if (!try_acquire_shared(timeout)) return {};
    return shared_guard<rw_lock>(*this, std::adopt_lock);
  }
  // Blocks until the write lock is held; the guard releases it.
  [[nodiscard]] unique_guard<rw_lock> write() {
    acquire();
    return unique_guard<rw_lock>(*this, std::adopt_lock);
  }
  // Waits at most `timeout` for the write lock; an empty guard on timeout
  // (and readers that arrived meanwhile are not held back any more).
  template <class Rep, class Period>
  [[nodiscard]] unique_guard<rw_lock> try_write(const std::chrono::duration<Rep, Period>& timeout) {
    if (!try_acquire(timeout)) return {};
    return unique_guard<rw_lock>(*this, std::adopt_lock);
  }

  // ---- lox's interface (throwing) ----

  // Blocks until `m` is held. Throws lox::error (LOX_EINVAL for an empty
  // rwlock; LOX_ESTATE if it is destroyed while waiting).
  void acquire(mode m) { check(lox_rwlock_acquire(h_, static_cast<int>(m), LOX_FOREVER)); }
  // Waits at most `timeout` (<= 0: once) for `m`; false on timeout, and then
  // nothing changed.
  template <class Rep, class Period>
  bool try_acquire(mode m, const std::chrono::duration<Rep, Period>& timeout) {
    return check(lox_rwlock_acquire(h_, static_cast<int>(m), detail::try_timeout(timeout))) == LOX_OK;
  }
  // Releases one hold of `m`. Throws lox::error with LOX_ESTATE if `m` is not
  // held (a read release while a writer holds it, or the reverse; nothing
  // changes).
  void release(mode m) { check(lox_rwlock_release(h_, static_cast<int>(m))); }

  // The write-mode and read-mode shorthands of the three calls above (the
  // names follow lock / lock_shared).
  void acquire() { acquire(mode::write); }
  template <class Rep, class Period>
  bool try_acquire(const std::chrono::duration<Rep, Period>& timeout) {
    return try_acquire(mode::write, timeout);
  }
  void release() { release(mode::write); }
  void acquire_shared() { acquire(mode::read); }
  template <class Rep, class Period>
  bool try_acquire_shared(const std::chrono::duration<Rep, Period>& timeout) {
    return try_acquire(mode::read, timeout);
  }
  void release_shared() { release(mode::read); }

  // Readers holding it now (a snapshot). 0 for an empty rwlock.
  std::size_t readers() const noexcept { return lox_rwlock_readers(h_); }

  // ---- the standard's interface: exclusive (TimedLockable) ----
  void lock() { acquire(mode::write); }
  bool try_lock() { return attempt(LOX_WRITE, 0.0); }
  template <class Rep, class Period>
  bool try_lock_for(const std::chrono::duration<Rep, Period>& timeout) {
    return try_acquire(mode::write, timeout);
  }
  template <class Clock, class Duration>
  bool try_lock_until(const std::chrono::time_point<Clock, Duration>& deadline) {
    return detail::until(deadline, [this](double s) { return attempt(LOX_WRITE, s); });
  }
  // noexcept: a misuse changes nothing and is not reported (see release()).
  void unlock() noexcept { static_cast<void>(lox_rwlock_release(h_, LOX_WRITE)); }

  // ---- the standard's interface: shared (SharedTimedLockable) ----
  void lock_shared() { acquire(mode::read); }
  bool try_lock_shared() { return attempt(LOX_READ, 0.0); }
  template <class Rep, class Period>
  bool try_lock_shared_for(const std::chrono::duration<Rep, Period>& timeout) {
    return try_acquire(mode::read, timeout);
  }
  template <class Clock, class Duration>
  bool try_lock_shared_until(const std::chrono::time_point<Clock, Duration>& deadline) {
    return detail::until(deadline, [this](double s) { return attempt(LOX_READ, s); });
  }
  // noexcept: a misuse changes nothing and is not reported (see release()).
  void unlock_shared() noexcept { static_cast<void>(lox_rwlock_release(h_, LOX_READ)); }

  // The C rwlock (do not destroy it).
  lox_rwlock* native_handle() const noexcept { return h_; }
  explicit operator bool() const noexcept { return h_ != nullptr; }

 private:
  bool attempt(int m, double s) { return check(lox_rwlock_acquire(h_, m, s)) == LOX_OK; }
  lox_rwlock* h_ = nullptr;
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
class qlock {
 public:
  // Creates an unlocked qlock. Throws lox::error (LOX_ENOMEM).
  qlock() { check(lox_qlock_create(&h_)); }
  // Destroys the C qlock (it may be held; waiters get LOX_ESTATE and the C
  // layer reports them).
  ~qlock() { lox_qlock_destroy(h_); }

  qlock(const qlock&) = delete;
  qlock& operator=(const qlock&) = delete;
  // Moves the C qlock; `other` becomes empty (calls throw LOX_EINVAL).
  qlock(qlock&& other) noexcept : h_(std::exchange(other.h_, nullptr)) {}
  qlock& operator=(qlock&& other) noexcept {
    if (this != &other) {
      lox_qlock_destroy(h_);
      h_ = std::exchange(other.h_, nullptr);
    }
    return *this;
  }

  // Joins the line and blocks until served. Throws lox::error (LOX_EINVAL
  // empty; LOX_ESTATE destroyed while waiting).
  void acquire() { check(lox_qlock_acquire(h_, LOX_FOREVER)); }
  // Waits at most `timeout` in line (<= 0: takes it only if it is free,
  // never joins the line); false on timeout, and then this thread has left
  // the line and the others keep their order.
  template <class Rep, class Period>
  bool try_acquire(const std::chrono::duration<Rep, Period>& timeout) {
    return check(lox_qlock_acquire(h_, detail::try_timeout(timeout))) == LOX_OK;
  }
  // Hands the lock to the oldest waiter, or frees it. Throws lox::error with
  // LOX_ESTATE if it is not locked.
  void release() { check(lox_qlock_release(h_)); }

  // Threads waiting in line now (a snapshot).
  std::size_t waiting() const noexcept { return lox_qlock_waiting(h_); }
  // Whether someone holds it now (a snapshot).
  bool locked() const noexcept { return h_ && lox_qlock_locked(h_) > 0; }

  // Blocks until served; the guard releases on scope exit.
  [[nodiscard]] unique_guard<qlock> hold() {
    acquire();
    return unique_guard<qlock>(*this, std::adopt_lock);
  }
  // Waits at most `timeout`; an empty guard on timeout.
  template <class Rep, class Period>
  [[nodiscard]] unique_guard<qlock> try_hold(const std::chrono::duration<Rep, Period>& timeout) {
    if (!try_acquire(timeout)) return {};
    return unique_guard<qlock>(*this, std::adopt_lock);
  }

  // The standard's interface.
  void lock() { acquire(); }
  bool try_lock() { return check(lox_qlock_acquire(h_, 0.0)) == LOX_OK; }
  template <class Rep, class Period>
  bool try_lock_for(const std::chrono::duration<Rep, Period>& timeout) {
    return try_acquire(timeout);
  }
  // Note: an attempt that wakes up early on a clock that was adjusted
  // rejoins the line at its end.
  template <class Clock, class Duration>
  bool try_lock_until(const std::chrono::time_point<Clock, Duration>& deadline) {
    return detail::until(deadline, [this](double s) { return check(lox_qlock_acquire(h_, s)) == LOX_OK; });
  }
  // noexcept: releasing an unlocked qlock changes nothing, is not reported.
  void unlock() noexcept { static_cast<void>(lox_qlock_release(h_)); }

  // The C qlock (do not destroy it).
  lox_qlock* native_handle() const noexcept { return h_; }
  explicit operator bool() const noexcept { return h_ != nullptr; }

 private:
  lox_qlock* h_ = nullptr;
};

// ---------------------------------------------------------------------------
// lox::index_semaphore
// ---------------------------------------------------------------------------

class index_semaphore;

// One index held from a lox::index_semaphore: returned by acquire() (never
// empty) and try_acquire() (empty on timeout). Releases the index on scope
// exit. Move-only, two words, never allocates; may be moved to another
// thread and released there.
class index_guard {
 public:
  // An empty guard (false; index() would throw).
  index_guard() noexcept = default;
  // Takes over index `i`, which the caller holds on `s`.
  index_guard(index_semaphore& s, std::size_t i, std::adopt_lock_t) noexcept : s_(&s), i_(i) {}

  index_guard(const index_guard&) = delete;
  index_guard& operator=(const index_guard&) = delete;
  // Takes `other`'s index; `other` becomes empty.
  index_guard(index_guard&& other) noexcept : s_(std::exchange(other.s_, nullptr)), i_(other.i_) {}
  // Releases this guard's index (noexcept), then takes `other`'s.
  index_guard& operator=(index_guard&& other) noexcept {
    if (this != &other) {
      reset();
      s_ = std::exchange(other.s_, nullptr);
      i_ = other.i_;
    }
    return *this;
  }
  // Releases the index if still owned (a failure is not reported).
  ~index_guard() { reset(); }

  // True while the guard owns an index.
  explicit operator bool() const noexcept { return s_ != nullptr; }
  bool owns_index() const noexcept { return s_ != nullptr; }

  // The index held, in [0, n): no other holder has it. Throws lox::error
  // with LOX_ESTATE for an empty guard.
  std::size_t index() const {
    if (!s_) throw error(LOX_ESTATE, "index_semaphore guard: the guard holds no index");
    return i_;
  }

  // The semaphore, or nullptr for an empty guard.
  index_semaphore* semaphore() const noexcept { return s_; }

  // Releases the index now; the guard becomes empty. Throws lox::error:
  // LOX_ESTATE for an empty guard, or the C release's error.
  inline void unlock();

  // Gives up ownership without releasing: returns the index, which the
  // caller must release (index_semaphore::release). Throws lox::error with
  // LOX_ESTATE for an empty guard.
  std::size_t detach() {
    const std::size_t i = index();
    s_ = nullptr;
    return i;
  }

 private:
  inline void reset() noexcept;
  index_semaphore* s_ = nullptr;
  std::size_t i_ = 0;
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
class index_semaphore {
 public:
  // Creates a semaphore with indices 0 .. n-1, all available. Throws
  // lox::error (LOX_EINVAL for n == 0, LOX_ENOMEM).
  explicit index_semaphore(std::size_t n) : n_(n) { check(lox_index_semaphore_create(n, &h_)); }
  // Destroys the C semaphore. No index_guard of it may outlive it; waiters
  // get LOX_ESTATE and the C layer reports them.
  ~index_semaphore() { lox_index_semaphore_destroy(h_); }

  index_semaphore(const index_semaphore&) = delete;
  index_semaphore& operator=(const index_semaphore&) = delete;
  // Moves the C semaphore (guards refer to this C++ object: do not move a
  // semaphore while guards of it are alive). `other` becomes empty.
  index_semaphore(index_semaphore&& other) noexcept
      : h_(std::exchange(other.h_, nullptr)), n_(std::exchange(other.n_, 0)) {}
  index_semaphore& operator=(index_semaphore&& other) noexcept {
    if (this != &other) {
      lox_index_semaphore_destroy(h_);
      h_ = std::exchange(other.h_, nullptr);
      n_ = std::exchange(other.n_, 0);
    }
    return *this;
  }

  // Blocks until an index is free and returns a guard holding it. Throws
  // lox::error (LOX_EINVAL empty; LOX_ESTATE destroyed while waiting).
  [[nodiscard]] index_guard acquire() {
    std::size_t i = 0;
    check(lox_index_semaphore_acquire(h_, LOX_FOREVER, &i));
    return index_guard(*this, i, std::adopt_lock);
  }
  // Waits at most `timeout` (<= 0: once); an empty guard on timeout (and
  // then nothing was taken).
  template <class Rep, class Period>
  [[nodiscard]] index_guard try_acquire(const std::chrono::duration<Rep, Period>& timeout) {
    std::size_t i = 0;
    if (check(lox_index_semaphore_acquire(h_, detail::try_timeout(timeout), &i)) != LOX_OK) return {};
    return index_guard(*this, i, std::adopt_lock);
  }
  // Releases index `i` (one detached from a guard, or taken with the C
  // call). Throws lox::error: LOX_EINVAL if i >= size(), LOX_ESTATE if `i`
  // is not held; nothing changes then.
  void release(std::size_t i) { check(lox_index_semaphore_release(h_, i)); }

  // Indices free now / threads waiting now (snapshots).
  std::size_t available() const noexcept { return lox_index_semaphore_available(h_); }
  std::size_t waiting() const noexcept { return lox_index_semaphore_waiting(h_); }
  // n, as created (0 for an empty semaphore).
  std::size_t size() const noexcept { return n_; }

  // The C semaphore (do not destroy it).
  lox_index_semaphore* native_handle() const noexcept { return h_; }
  explicit operator bool() const noexcept { return h_ != nullptr; }

 private:
  lox_index_semaphore* h_ = nullptr;
  std::size_t n_ = 0;
};

inline void index_guard::unlock() {
  if (!s_) throw error(LOX_ESTATE, "index_semaphore guard: the guard holds no index");
  std::exchange(s_, nullptr)->release(i_);
}

inline void index_guard::reset() noexcept {
  if (s_) static_cast<void>(lox_index_semaphore_release(std::exchange(s_, nullptr)->native_handle(), i_));
}

// ===========================================================================
// Queues
// ===========================================================================
//
// lox::queue<T> (a closable multi-producer multi-consumer FIFO: Python's
// queue.Queue plus close(), with task_done()/join()), lox::announcement<T>
// (a put reaches every subscriber; optional backlog for late subscribers)
// and lox::funnel<T> (complete sets of one item per input, matched by job
// id). Each is a move-only owner of one C handle; every wait, every
// ordering and delivery guarantee and every misuse check is the C layer's
// (see the "Queues" section of lox.h).
//
//   lox::queue<Image*> resize_q(10);
//   for (Image* img : resize_q) upload_q.put(resize(img));   // a worker thread
//   resize_q.put(img); ...; resize_q.close(); resize_q.join();   // the feeder
//
// Items: T is any trivially copyable type that fits in a pointer: pointers,
// integers, enums, bool, float, small structs. The C layer stores one
// `void *` per item; this layer copies T's bytes into it and back (memcpy),
// so an item round-trips exactly and nothing is allocated per item. Any
// other T fails to compile with a static_assert that says why: queue a
// pointer to it instead (`lox::queue<Image*>`). What the items point to is
// the program's: no queue ever dereferences or frees it, and destroying a
// queue with items still inside frees nothing they point to. To exchange
// items with C code, use a pointer type, std::intptr_t or std::uintptr_t
// (stored as the very `void *` the C side writes as `(void *)(intptr_t)x`).
//
// Conventions (the same as the synchronization objects):
//   - put()/get()/join() wait forever; try_put()/try_get()/try_join() take a
//     std::chrono duration and report a timeout in their return value
//     (false, or an empty std::optional), never as an exception. A negative
//     duration tries once without blocking. A timed-out call leaves no trace.
//   - every other C status is thrown as lox::error: LOX_ECLOSED for a put on
//     a closed queue and for a get on a closed and drained queue (or on an
//     announcement handle that receives nothing); LOX_ESTATE for misuse
//     (task_done() more often than items were got, a put on a funnel's top,
//     a get on a funnel's input, ...) and for an object destroyed while this
//     thread waited in it; LOX_EINVAL for a moved-from object or a NaN
//     duration.
//   - getters (size(), empty(), closed(), ...) are noexcept snapshots that
//     may change as soon as they are read; a moved-from object reads as
//     empty, 0 and not closed (a funnel's index() as -1).
//
// Thread safety: every member except the destructor, move construction and
// move assignment may be called from any number of threads at once. An
// object must not be destroyed or moved from while another thread uses it
// or waits in it (the C layer detects a destroy with waiters, which then
// get LOX_ESTATE, but it is still a bug in the program).
//
// Costs: the C++ object is one pointer; every call is one C call; items are
// never allocated (funnel get() allocates the vector of the set's items).

namespace detail {

// How a T travels as a C `void *` item (see "Items" above). Naming
// `item_codec<T>::ok` in a class makes an unsuitable T fail to compile
// with the messages below.
template <class T>
struct item_codec {
  static_assert(!std::is_const_v<T> && !std::is_volatile_v<T> && !std::is_reference_v<T>,
                "lox queues: the item type must not be const, volatile or a reference (use lox::queue<int>, "
                "not lox::queue<const int>)");
  static_assert(std::is_trivially_copyable_v<T>,
                "lox queues carry items by value in a void* slot: the item type must be trivially copyable "
                "(a pointer, an integer, an enum, ...); queue a pointer to anything else, e.g. "
                "lox::queue<std::string*>");
  static_assert(sizeof(T) <= sizeof(void*),
                "lox queues carry items by value in a void* slot: the item type must fit in a pointer "
                "(sizeof(T) <= sizeof(void*)); queue a pointer to it instead");
  static_assert(std::is_default_constructible_v<T>, "lox queues: the item type must be default constructible");
  static constexpr bool ok = true;

  static void* encode(const T& x) noexcept {
    void* p = nullptr;
    std::memcpy(static_cast<void*>(&p), static_cast<const void*>(&x), sizeof(T));
    return p;
  }
  static T decode(void* p) noexcept {
    T x{};
    std::memcpy(static_cast<void*>(&x), static_cast<const void*>(&p), sizeof(T));
    return x;
  }
};

}  // namespace detail

// ---------------------------------------------------------------------------
// lox::queue
// ---------------------------------------------------------------------------

// A closable multi-producer multi-consumer FIFO of T (the C `lox_queue`):
// Python's queue.Queue with Effective Python's ClosableQueue close(), but
// without a sentinel item, so any number of consumers stop on one close().
//
//   lox::queue<Job*> q(64);             // at most 64 waiting (0: unbounded)
//   q.put(job);                         // waits while full
//   Job* j = q.get();                   // waits while empty
//   if (auto j = q.try_get(50ms)) ...   // empty optional on timeout
//   q.close();                          // no more puts; gets drain, then stop
//   q.task_done(); q.join();            // processing is tracked, not only removal
//
// join() returns when every item ever put has been got and marked with
// task_done() (Python's Queue.join); range-for does the marking.
//
// Range-for: `for (auto x : q)` gets the items one by one (waiting while
// the queue is empty and open) and ends when the queue is closed and
// drained: Effective Python's `for item in in_queue:`. Each item is marked
// with task_done() when its loop body is left, whichever way: when the loop
// goes on to the next item, and also on `break`, `return` or an exception
// out of the body (the loop's iterator marks the item it holds when it is
// destroyed), as the ClosableQueue iterator's `finally: task_done()` does.
// So the item being processed at a `break` counts as done, and a join()
// elsewhere never waits for an item that a loop abandoned; items the loop
// did not get stay in the queue for other consumers or a later loop. Do not
// call task_done() in the body for the loop's items (they would be counted
// twice). Several threads may loop over one queue at once: each item goes
// to exactly one of them. The loop throws lox::error as get() does
// (LOX_ECLOSED is not thrown: it ends the loop).
//
// Put and get are the C layer's lock-free paths; a waiting put or get
// sleeps (no polling) and is woken by the get or put that makes room or
// brings an item, or by close().
template <class T>
class queue {
  static_assert(detail::item_codec<T>::ok);
  using codec = detail::item_codec<T>;

 public:
  using value_type = T;

  // The end of a range-for: compares equal to an iterator once the queue
  // is closed and drained.
  struct sentinel {};

  // The range-for iterator (see above). Move-only, because it owns the
  // task_done() of the item it holds; it is meant for range-for, not for
  // standard algorithms (which copy iterators).
  class iterator {
   public:
    using value_type = T;
    using reference = const T&;
    using pointer = const T*;
    using difference_type = std::ptrdiff_t;

    iterator(const iterator&) = delete;
    iterator& operator=(const iterator&) = delete;
    // Takes `other`'s item (and its pending task_done); `other` becomes an
    // end iterator.
    iterator(iterator&& other) noexcept : q_(std::exchange(other.q_, nullptr)), item_(other.item_) {}
    // Marks this iterator's item as done, then takes `other`'s.
    iterator& operator=(iterator&& other) noexcept {
      if (this != &other) {
        finish();
        q_ = std::exchange(other.q_, nullptr);
        item_ = other.item_;
      }
      return *this;
    }
    // Marks the item it holds as done (the `break` / `return` / exception
    // case). noexcept: a failing task_done is not reported here.
    ~iterator() { finish(); }

    // The current item.
    const T& operator*() const noexcept { return item_; }
    const T* operator->() const noexcept { return &item_; }

    // Marks the current item as done, then waits for the next one; becomes
    // equal to the sentinel when the queue is closed and drained. Throws
    // lox::error for a failing task_done (LOX_ESTATE: someone called it for
    // this item already) or get (LOX_ESTATE: the queue was destroyed); the
    // iterator then equals the sentinel.
    iterator& operator++() {
      lox_queue* q = std::exchange(q_, nullptr);
      check(lox_queue_task_done(q));
      fetch(q);
      return *this;
    }

    friend bool operator==(const iterator& it, sentinel) noexcept { return it.q_ == nullptr; }
    friend bool operator==(sentinel, const iterator& it) noexcept { return it.q_ == nullptr; }
    friend bool operator!=(const iterator& it, sentinel) noexcept { return it.q_ != nullptr; }
    friend bool operator!=(sentinel, const iterator& it) noexcept { return it.q_ != nullptr; }

   private:
    friend class queue;
    explicit iterator(lox_queue* q) { fetch(q); }

    // Gets the next item of `q`: on success holds it (q_ = q), on
    // LOX_ECLOSED stays at the end, otherwise throws.
    void fetch(lox_queue* q) {
      void* p = nullptr;
      const int st = lox_queue_get(q, &p, LOX_FOREVER);
      if (st == LOX_ECLOSED) return;
      if (st != LOX_OK) throw error(st, lox_last_error());
      item_ = codec::decode(p);
      q_ = q;
    }
    void finish() noexcept {
      if (q_) static_cast<void>(lox_queue_task_done(std::exchange(q_, nullptr)));
    }

    lox_queue* q_ = nullptr;  // non-null while holding an item not yet marked done
    T item_{};
  };

  // An unbounded queue. Throws lox::error (LOX_ENOMEM).
  queue() : queue(0) {}
  // A queue holding at most `maxsize` items (0 = unbounded): put() waits
  // while it is full. Throws lox::error (LOX_ENOMEM).
  explicit queue(std::size_t maxsize) { check(lox_queue_create(maxsize, &h_)); }
  // Destroys the C queue; items still inside are dropped (what they point
  // to is not freed). Threads still waiting in it get LOX_ESTATE (a bug:
  // see "Thread safety" above).
  ~queue() { lox_queue_destroy(h_); }

  queue(const queue&) = delete;
  queue& operator=(const queue&) = delete;
  // Moves the C queue (its items and waiters go with it); `other` becomes
  // empty: its calls throw LOX_EINVAL, its getters read 0/empty. Range-for
  // iterators keep working: they use the C queue.
  queue(queue&& other) noexcept : h_(std::exchange(other.h_, nullptr)) {}
  queue& operator=(queue&& other) noexcept {
    if (this != &other) {
      lox_queue_destroy(h_);
      h_ = std::exchange(other.h_, nullptr);
    }
    return *this;
  }

  // Appends `x`, waiting while the queue is full. Throws lox::error:
  // LOX_ECLOSED if the queue is closed (also when it closes while this
  // waits; then `x` was not put), LOX_ESTATE if destroyed while waiting.
  void put(const T& x) { check(lox_queue_put(h_, codec::encode(x), LOX_FOREVER)); }

  // put() that waits at most `timeout` for room: false if the queue stayed
  // full (then nothing was put). Throws as put().
  template <class Rep, class Period>
  bool try_put(const T& x, const std::chrono::duration<Rep, Period>& timeout) {
    return check(lox_queue_put(h_, codec::encode(x), detail::try_timeout(timeout))) == LOX_OK;
  }

  // Removes and returns the oldest item, waiting while the queue is empty.
  // After close() it still returns the items left; once the queue is closed
  // and drained it throws lox::error with LOX_ECLOSED (use range-for to stop
  // there without an exception). Also LOX_ESTATE if destroyed while waiting.
  T get() {
    void* p = nullptr;
    check(lox_queue_get(h_, &p, LOX_FOREVER));
    return codec::decode(p);
  }

  // get() that waits at most `timeout`: an empty optional if the queue
  // stayed empty (and open). Throws as get() (LOX_ECLOSED when closed and
  // drained).
  template <class Rep, class Period>
  std::optional<T> try_get(const std::chrono::duration<Rep, Period>& timeout) {
    void* p = nullptr;
    if (check(lox_queue_get(h_, &p, detail::try_timeout(timeout))) != LOX_OK) return std::nullopt;
    return codec::decode(p);
  }

  // Closes the queue: later puts throw LOX_ECLOSED, gets drain what is left
  // and then throw LOX_ECLOSED (range-for loops end), and every waiting put
  // and get wakes up. A put either took effect before the close (its item
  // will be got) or throws: nothing is lost. Closing twice is fine.
  void close() { check(lox_queue_close(h_)); }

  // Whether close() was called (a snapshot; false for a moved-from queue).
  bool closed() const noexcept { return h_ && lox_queue_closed(h_) > 0; }

  // Marks one item that was got as fully processed (Queue.task_done).
  // Throws lox::error with LOX_ESTATE if called more often than items were
  // got (nothing changes). Range-for calls it for its own items.
  void task_done() { check(lox_queue_task_done(h_)); }

  // Waits until every item ever put has been got and marked with
  // task_done() (at once if that already holds). Throws lox::error
  // (LOX_ESTATE if destroyed while waiting).
  void join() { check(lox_queue_join(h_, LOX_FOREVER)); }

  // join() that waits at most `timeout`: false if items were still
  // unfinished.
  template <class Rep, class Period>
  bool try_join(const std::chrono::duration<Rep, Period>& timeout) {
    return check(lox_queue_join(h_, detail::try_timeout(timeout))) == LOX_OK;
  }

  // Items in the queue now (qsize; a snapshot).
  std::size_t size() const noexcept { return h_ ? lox_queue_size(h_) : 0; }
  // The maxsize it was created with (0 = unbounded).
  std::size_t maxsize() const noexcept { return h_ ? lox_queue_maxsize(h_) : 0; }
  // Whether it holds no item now (a snapshot).
  bool empty() const noexcept { return !h_ || lox_queue_empty(h_) > 0; }
  // Whether it is bounded and holds maxsize items now (a snapshot).
  bool full() const noexcept { return h_ && lox_queue_full(h_) > 0; }

  // Range-for: waits for the first item (see the class comment). Throws
  // lox::error as get() does, except LOX_ECLOSED (an empty loop).
  [[nodiscard]] iterator begin() { return iterator(h_); }
  sentinel end() const noexcept { return {}; }

  // The C queue (for C code sharing it; do not destroy it). Its items are
  // T's bytes in a void* (see "Items" above).
  lox_queue* native_handle() const noexcept { return h_; }
  // False for a moved-from queue.
  explicit operator bool() const noexcept { return h_ != nullptr; }

 private:
  lox_queue* h_ = nullptr;
};

// ---------------------------------------------------------------------------
// lox::announcement
// ---------------------------------------------------------------------------

// Backlog settings of lox::announcement (lox.h's LOX_BACKLOG_*): no backlog
// (lox's backlog=None), or keep every item put until finalize() (lox's
// backlog <= 0). A positive number N keeps the last N items.
inline constexpr long long backlog_off = LOX_BACKLOG_OFF;
inline constexpr long long backlog_unbounded = LOX_BACKLOG_UNBOUNDED;

// lox's Announcement (the C `lox_announcement`): a put reaches the receive
// queue of every other member of the group, so members talk many-to-many.
//
//   lox::announcement<int> ann;          // the first member
//   auto foo_q = ann.subscribe();        // two more
//   auto bar_q = ann.subscribe();        // ann.subscribers() == 3 (lox's len)
//   ann.put(5);                          // foo_q and bar_q each get 5
//   int x = foo_q.get();
//   foo_q.put(42);                       // ann and bar_q each get 42
//   int y = ann.get();
//
// A group is a set of handles, and each lox::announcement object owns one.
// The members, each with its own receive queue, are the one constructed
// (lox's Announcement() is one of its own subscribers) and its
// subscribe()rs; a member's put reaches every other member, not itself. Its
// clone()s are publishers outside the members: their puts reach every
// member, and they receive nothing. Any handle of the group may subscribe
// or clone. Handles are independent objects, destroyed in any order; the
// group lives until its last handle is destroyed. Destroying a member
// unsubscribes it (its undelivered items are dropped). A member that never
// gets fills up like any other: in a bounded group where subscribers put
// too, the creator must get (or unsubscribe), or their puts wait for it.
//
// Puts are all or none: a put into a group with a full receiver waits until
// every receiver has room, and a timed-out try_put delivered to nobody. With
// a backlog, the last items put are kept and handed to every later
// subscriber before anything new, so a late (or racing) subscriber misses
// nothing; finalize() stops new subscriptions and frees the backlog.
//
// Puts of a group are serialized by one mutex; gets touch only the
// receiver's own lock-free queue.
template <class T>
class announcement {
  static_assert(detail::item_codec<T>::ok);
  using codec = detail::item_codec<T>;

 public:
  using value_type = T;

  // A new group with unbounded receive queues and no backlog; this object
  // is its first member. Throws lox::error (LOX_ENOMEM).
  announcement() : announcement(0) {}
  // A new group whose members' receive queues (this object's included)
  // hold at most `maxsize` items by default (0 = unbounded), with `backlog`
  // lox::backlog_off, lox::backlog_unbounded or N > 0 (keep the last N
  // items); this object is its first member. Throws lox::error (LOX_EINVAL
  // for backlog < -1, LOX_ENOMEM).
  explicit announcement(std::size_t maxsize, long long backlog = backlog_off) {
    check(lox_announcement_create(maxsize, backlog, &h_));
  }
  // Destroys this handle (a member unsubscribes first); the group lives on
  // while other handles do.
  ~announcement() { lox_announcement_destroy(h_); }

  announcement(const announcement&) = delete;
  announcement& operator=(const announcement&) = delete;
  // Moves the handle (its subscription and receive queue go with it);
  // `other` becomes empty: its calls throw LOX_EINVAL.
  announcement(announcement&& other) noexcept : h_(std::exchange(other.h_, nullptr)) {}
  // Destroys this handle (as the destructor), then takes `other`'s.
  announcement& operator=(announcement&& other) noexcept {
    if (this != &other) {
      lox_announcement_destroy(h_);
      h_ = std::exchange(other.h_, nullptr);
    }
    return *this;
  }

  // Subscribes a new member to this handle's group and returns its handle:
  // it gets every item any other handle of the group puts from now on,
  // preceded by the group's backlog. `maxsize` bounds its receive queue
  // (0 = the group's default). The new queue is fresh, so this never waits
  // (the C call's timeout would never matter and is not offered). Throws
  // lox::error: LOX_ECLOSED if the group was finalized; LOX_ESTATE if the
  // backlog holds more items than `maxsize` (nothing subscribed); LOX_ENOMEM.
  [[nodiscard]] announcement subscribe(std::size_t maxsize = 0) {
    lox_announcement* out = nullptr;
    check(lox_announcement_subscribe(h_, maxsize, LOX_FOREVER, &out));
    return announcement(adopt_t{}, out);
  }

  // A new publisher handle on this group (lox's clone): it puts to every
  // member, the creator included, and receives nothing; it is not a member.
  // Throws lox::error (LOX_ENOMEM).
  [[nodiscard]] announcement clone() {
    lox_announcement* out = nullptr;
    check(lox_announcement_clone(h_, &out));
    return announcement(adopt_t{}, out);
  }

  // Puts `x` into the receive queue of every member except this handle,
  // and into the backlog; waits while any receiver is full, then delivers
  // to all at once. Throws lox::error (LOX_ESTATE if destroyed while
  // waiting).
  void put(const T& x) { check(lox_announcement_put(h_, codec::encode(x), LOX_FOREVER)); }

  // put() that waits at most `timeout` for every receiver to have room:
  // false on timeout, and then nobody got `x`.
  template <class Rep, class Period>
  bool try_put(const T& x, const std::chrono::duration<Rep, Period>& timeout) {
    return check(lox_announcement_put(h_, codec::encode(x), detail::try_timeout(timeout))) == LOX_OK;
  }

  // Takes the oldest item of this member's receive queue, waiting while it
  // is empty. Throws lox::error: LOX_ECLOSED if this handle receives
  // nothing (a clone) or was unsubscribed and its queue is drained;
  // LOX_ESTATE if destroyed while waiting.
  T get() {
    void* p = nullptr;
    check(lox_announcement_get(h_, &p, LOX_FOREVER));
    return codec::decode(p);
  }

  // get() that waits at most `timeout`: an empty optional if nothing came.
  template <class Rep, class Period>
  std::optional<T> try_get(const std::chrono::duration<Rep, Period>& timeout) {
    void* p = nullptr;
    if (check(lox_announcement_get(h_, &p, detail::try_timeout(timeout))) != LOX_OK) return std::nullopt;
    return codec::decode(p);
  }

  // Closes the group to new subscribers (their subscribe() throws
  // LOX_ECLOSED) and frees the backlog; existing members are
  // unaffected. Finalizing twice is fine.
  void finalize() { check(lox_announcement_finalize(h_)); }

  // This member (the creator too) leaves the group: it receives nothing
  // more, its gets drain what it had and then throw LOX_ECLOSED; it may
  // still put. Throws lox::error with LOX_ESTATE if this handle is not a
  // member (a clone, or already unsubscribed).
  void unsubscribe() { check(lox_announcement_unsubscribe(h_)); }

  // Members in the group now, the creator included while it is one (lox's
  // len(); a snapshot).
  std::size_t subscribers() const noexcept { return h_ ? lox_announcement_subscribers(h_) : 0; }
  // Items in this handle's receive queue now (0 for a clone).
  std::size_t size() const noexcept { return h_ ? lox_announcement_size(h_) : 0; }
  // Items kept in the group's backlog now (0 when off or finalized).
  std::size_t backlog() const noexcept { return h_ ? lox_announcement_backlog(h_) : 0; }
  // Whether this handle's receive queue is empty (always for a clone).
  bool empty() const noexcept { return !h_ || lox_announcement_empty(h_) > 0; }
  // Whether this handle's receive queue is bounded and full.
  bool full() const noexcept { return h_ && lox_announcement_full(h_) > 0; }

  // The C handle (do not destroy it).
  lox_announcement* native_handle() const noexcept { return h_; }
  // False for a moved-from handle.
  explicit operator bool() const noexcept { return h_ != nullptr; }

 private:
  struct adopt_t {};  // a tag, so that announcement(0) is never this constructor
  announcement(adopt_t, lox_announcement* h) noexcept : h_(h) {}  // adopts a new handle
  lox_announcement* h_ = nullptr;
};

// ---------------------------------------------------------------------------
// lox::funnel
// ---------------------------------------------------------------------------

// One complete set that came out of a lox::funnel: the job id and one item
// per input, in input order (items[i] came from the input with index() i).
template <class T>
struct funnel_set {
  unsigned long long jid = 0;
  std::vector<T> items;
};

// lox's Funnel (the C `lox_funnel`): joins the results of many inputs by
// job id. Each input puts one item per job; when every input has put its
// item for a job, the set is complete and comes out of the top.
//
//   lox::funnel<const char*> top;
//   auto sub_1 = top.subscribe();        // input 0
//   auto sub_2 = top.subscribe();        // input 1
//   sub_1.put(7, "foo");                 // job 7: waits for sub_2
//   top.try_get(10ms);                   // empty optional: nothing complete
//   sub_2.put(7, "bar");
//   auto set = top.get();                // set.jid == 7, set.items == {"foo", "bar"}
//
// put(jid, x) takes the job id first, as the C call does (lox's Python
// signature is put(item, jid)). A job id is any unsigned 64-bit number the
// program chooses (lox's "hashable"). Sets come out in completion order.
// Subscribing an input later makes the sets not yet complete wait for it
// too. A second put of the same input for the same job before the set
// completes is kept for the next set with that job id (nothing is
// overwritten).
//
// The top and the inputs are independent handles, destroyed in any order;
// the funnel lives until the last one is destroyed. Destroying an input
// does not remove it: sets still need its item, so keep every input until
// it has put what it owes.
//
// Unbounded: puts never block (there is no try_put). get() allocates the
// returned vector.
template <class T>
class funnel {
  static_assert(detail::item_codec<T>::ok);
  using codec = detail::item_codec<T>;

 public:
  using value_type = T;
  using set_type = funnel_set<T>;

  // A new funnel; this object is its top. Throws lox::error (LOX_ENOMEM).
  funnel() { check(lox_funnel_create(&h_)); }
  // Destroys this handle (top or input); the funnel lives on while other
  // handles do. A destroyed input stays in the funnel (see above).
  ~funnel() { lox_funnel_destroy(h_); }

  funnel(const funnel&) = delete;
  funnel& operator=(const funnel&) = delete;
  // Moves the handle; `other` becomes empty: its calls throw LOX_EINVAL.
  funnel(funnel&& other) noexcept : h_(std::exchange(other.h_, nullptr)) {}
  // Destroys this handle (as the destructor), then takes `other`'s.
  funnel& operator=(funnel&& other) noexcept {
    if (this != &other) {
      lox_funnel_destroy(h_);
      h_ = std::exchange(other.h_, nullptr);
    }
    return *this;
  }

  // Adds an input to this handle's funnel (the top or any input may be
  // asked) and returns it; inputs are numbered 0, 1, ... in subscription
  // order (index()). Throws lox::error (LOX_ENOMEM).
  [[nodiscard]] funnel subscribe() {
    lox_funnel* out = nullptr;
    check(lox_funnel_subscribe(h_, &out));
    return funnel(adopt_t{}, out);
  }

  // Puts `x` for job `jid` on this input; never blocks. Throws lox::error
  // with LOX_ESTATE if this is the top (lox's FunnelPutTopError),
  // LOX_ENOMEM.
  void put(unsigned long long jid, const T& x) { check(lox_funnel_put(h_, jid, codec::encode(x), LOX_FOREVER)); }

  // Takes the oldest complete set, waiting until there is one. Throws
  // lox::error with LOX_ESTATE if this is an input (only the top gets) or
  // the funnel was destroyed while waiting.
  set_type get() { return *take(LOX_FOREVER); }

  // get() that waits at most `timeout`: an empty optional if no set was
  // complete by then.
  template <class Rep, class Period>
  std::optional<set_type> try_get(const std::chrono::duration<Rep, Period>& timeout) {
    return take(detail::try_timeout(timeout));
  }

  // Inputs subscribed so far (lox's len()).
  std::size_t inputs() const noexcept { return h_ ? lox_funnel_inputs(h_) : 0; }
  // Complete sets waiting at the top now (a snapshot).
  std::size_t ready() const noexcept { return h_ ? lox_funnel_ready(h_) : 0; }
  // This input's number (0, 1, ...); -1 for the top (or a moved-from handle).
  long index() const noexcept { return h_ ? lox_funnel_index(h_) : -1; }

  // The C handle (do not destroy it).
  lox_funnel* native_handle() const noexcept { return h_; }
  // False for a moved-from handle.
  explicit operator bool() const noexcept { return h_ != nullptr; }

 private:
  struct adopt_t {};
  funnel(adopt_t, lox_funnel* h) noexcept : h_(h) {}  // adopts a new handle

  // One lox_funnel_get into a buffer sized by the inputs subscribed now.
  // An input subscribed meanwhile can make a set bigger than that: the C
  // call then says LOX_EINVAL, reports the set's size in `count` and
  // consumes nothing, and we retry with that size for the time left.
  std::optional<set_type> take(double timeout) {
    const auto start = std::chrono::steady_clock::now();
    std::vector<void*> buf(h_ ? lox_funnel_inputs(h_) : 0);
    double wait = timeout;
    for (;;) {
      unsigned long long jid = 0;
      std::size_t count = 0;
      const int st = lox_funnel_get(h_, wait, &jid, buf.data(), buf.size(), &count);
      if (st == LOX_TIMEOUT) return std::nullopt;
      if (st == LOX_OK) {
        set_type set;
        set.jid = jid;
        set.items.reserve(count);
        for (std::size_t i = 0; i < count; ++i) set.items.push_back(codec::decode(buf[i]));
        return set;
      }
      if (st != LOX_EINVAL || count <= buf.size()) throw error(st, lox_last_error());
      buf.resize(count);
      if (timeout > 0) {
        const double left = timeout - to_seconds(std::chrono::steady_clock::now() - start);
        wait = left > 0 ? left : 0.0;
      }
    }
  }

  lox_funnel* h_ = nullptr;
};

}  // namespace lox

#endif  // LOX_LOX_HPP
