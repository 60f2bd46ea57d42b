// SPDX-License-Identifier: Apache-2.0
// liblox C++ layer: the process pool (lox.process).
#ifndef LOX_PROCESS_HPP
#define LOX_PROCESS_HPP

#include <lox/codec.hpp>
#include <lox/error.hpp>
#include <lox/detail/pool.hpp>
#include <lox/detail/signature.hpp>

#include <chrono>
#include <cstddef>
#include <cstring>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

namespace lox {

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
      ((!std::is_lvalue_reference_v<P> || std::is_const_v<std::remove_reference_t<P>>)&&...);
};

template <class R, class F>
using process_result = result_type_of<R, F, false>;  // an unknown signature: process_checks says so

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

// The failure of task `i` of a gathered process round as a lox::error
// (status: LOX_ETASK for an exception, whose what() text is the detail;
// LOX_EWORKER for a dead worker, LOX_TIMEOUT for the task time limit, ...),
// or null if it succeeded.
inline std::exception_ptr process_failure(const lox_results* res, std::size_t i) {
  const int st = lox_results_status(res, i);
  if (st == LOX_OK) return nullptr;
  const char* text = lox_results_error(res, i);
  std::string detail =
      text ? std::string(text) : "process task " + std::to_string(i) + " failed with status " + std::to_string(st);
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

// Owns one gathered process round (its lox_results) and decodes the values.
template <class R>
class process_round {
 public:
  void adopt(lox_results* r) noexcept { res_.reset(r); }
  void reset() noexcept { res_.reset(); }
  std::size_t size() const noexcept { return lox_results_count(res_.get()); }

  // Hands task i's decoded value to `sink` (`sink(R&)`, or `sink()` for a
  // void R) and returns null, or returns why there is none (the task's
  // failure, or a result that cannot be decoded).
  template <class Sink>
  std::exception_ptr take(std::size_t i, Sink&& sink) {
    std::exception_ptr e = process_failure(res_.get(), i);
    if (e) return e;
    if constexpr (std::is_void_v<R>) {
      sink();
    } else {
      std::optional<R> v;
      e = process_value<R>(res_.get(), i, v);
      if (e) return e;
      sink(*v);
    }
    return nullptr;
  }

 private:
  struct destroy {
    void operator()(lox_results* r) const noexcept { lox_results_destroy(r); }
  };
  std::unique_ptr<lox_results, destroy> res_;
};

// How a process pool's rounds are gathered and how the pool ends.
struct process_kind
    : pool_calls<lox_process, process_round, lox_process_gather, lox_process_pending, lox_process_workers> {
  static constexpr const char* name = "process";

  // Kills the workers (nothing uses the callable any more), then frees it.
  template <class R, class F>
  static void close(lox_process*& handle, std::unique_ptr<F>& fn) noexcept {
    lox_process_destroy(handle);
    handle = nullptr;
    fn.reset();
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
//
// native_handle() is the C pool: scatter to it only bytes encoded as
// `arguments_type` (lox::codec), and do not destroy it.
template <class F, class R>
class process_pool : public detail::pool_base<detail::process_kind, F, R> {
  using base = detail::pool_base<detail::process_kind, F, R>;

 public:
  // The tuple a scatter's arguments are encoded as.
  using arguments_type = typename detail::process_params<typename detail::signature<F>::params>::tuple;

 private:
  using checks = detail::process_checks<F, R, arguments_type>;

 public:
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
    const int st = lox_process_scatter(this->handle_, bytes.data(), bytes.size(), &index);
    if (st != LOX_OK) throw error(st, lox_last_error());
    return index;
  }

  // Used by lox::process(...), which is how pools are made (the tag keeps
  // this constructor out of the way). The callable is stored on the heap
  // before the C pool (and its fork server) is created, so the workers'
  // copy of the process holds it at the address passed as ctx.
  template <class G>
  process_pool(detail::make_pool_tag, std::size_t max_workers, const process_options& options, G&& fn)
      : base(max_workers, std::forward<G>(fn)) {
    if constexpr (checks::all) {
      lox_process_opts o;
      lox_process_opts_init(&o);
      o.task_timeout = options.task_timeout.count();
      o.max_message = options.max_message;
      check(lox_process_create_ex(max_workers, &detail::process_trampoline<F, R, arguments_type>,
                                  static_cast<void*>(this->fn_.get()), &o, &this->handle_));
    } else {
      static_cast<void>(options);
    }
  }

 private:
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
};

// Creates a process pool running `fn`:
//
//   lox::process(max_workers, options, fn)
//   lox::process(max_workers, fn)        // process_options{}
//   lox::process(fn)                     // LOX_DEFAULT_WORKERS: lox's bare `@lox.process`
//   auto job = lox::process(2, [](const std::string& s) { return s.size(); });
//
// in at most `max_workers` worker processes (LOX_DEFAULT_WORKERS = the
// number of online CPUs; 0 = tasks run inline in scatter, in this
// process). `fn` is copied or moved into the pool, then the C pool forks
// its fork server: from here on the workers are copies of this process as
// it is now (set up everything first).
//
// R, the result type, is deduced from `fn`'s signature; `lox::process<R>(n,
// fn)` converts the callable's result to R instead. Throws lox::error
// (LOX_EINVAL for a zero or NaN task_timeout or a zero max_message,
// LOX_ENOMEM, LOX_ESYS when fork or socketpair fails).
template <class R = detail::deduce_result, class... Args>
auto process(Args&&... args) {
  return detail::make_pool<process_pool, process_options, detail::process_result, R>::from(std::forward<Args>(args)...);
}

}  // namespace lox

#endif  // LOX_PROCESS_HPP
