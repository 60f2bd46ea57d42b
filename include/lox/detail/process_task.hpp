// SPDX-License-Identifier: Apache-2.0
// liblox C++ layer: how a process-pool task travels: its arguments encoded as one tuple,
// the one C task function that runs it in a worker, and the owner of a
// gathered round that decodes the results.
#ifndef LOX_DETAIL_PROCESS_TASK_HPP
#define LOX_DETAIL_PROCESS_TASK_HPP

#include <lox/codec.hpp>
#include <lox/error.hpp>
#include <lox/detail/pool.hpp>
#include <lox/detail/signature.hpp>
#include <lox/detail/task_process.hpp>

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

// Encodes one argument as the parameter's decayed type `Stored` (without
// a copy when it already is one).
template <class Stored, class A>
void encode_param(std::string& out, A&& a) {
  if constexpr (std::is_same_v<remove_cvref_t<A>, Stored>) {
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
    Args args = decode_input<Args>(in, in_len);
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

// The failure of process task `i` as a lox::error (status: LOX_ETASK for
// an exception, whose what() text is the detail `text`; LOX_EWORKER for a
// dead worker, LOX_TIMEOUT for the task time limit, LOX_EDEPENDENCY,
// LOX_ECANCELLED, ...), or null if it succeeded.
inline std::exception_ptr process_error(int st, const char* text, std::size_t i) {
  if (st == LOX_OK) return nullptr;
  std::string detail =
      text ? std::string(text) : "process task " + std::to_string(i) + " failed with status " + std::to_string(st);
  return std::make_exception_ptr(error(st, std::move(detail)));
}

// Task `i`'s result bytes decoded into `value`, or the exception that says
// why they cannot be.
template <class R>
std::exception_ptr decode_result(const void* data, std::size_t len, std::size_t i, std::optional<R>& value) {
  try {
    value.emplace(codec::decode<R>(data, len));
  } catch (const error& e) {
    return std::make_exception_ptr(
        error(LOX_EWORKER, "process task " + std::to_string(i) + ": its result cannot be decoded: " + e.detail()));
  }
  return nullptr;
}

// The failure of task `i` of a gathered process round, or null.
inline std::exception_ptr process_failure(const lox_results* res, std::size_t i) {
  return process_error(lox_results_status(res, i), lox_results_error(res, i), i);
}

// The value of task `i` (which succeeded) into `value`, or the exception
// that says why it cannot be had.
template <class R>
std::exception_ptr process_value(const lox_results* res, std::size_t i, std::optional<R>& value) {
  const void* data = nullptr;
  std::size_t len = 0;
  const int st = lox_results_bytes(res, i, &data, &len);
  if (st != LOX_OK) return std::make_exception_ptr(error(st, lox_last_error()));
  return decode_result<R>(data, len, i, value);
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

  // The round the next gather would return, in completion order.
  static lox_completions* completions(lox_process* pool) {
    lox_completions* c = nullptr;
    check(lox_process_completions(pool, &c));
    return c;
  }
  // One delivered task as an outcome (its bytes decoded).
  template <class R>
  static outcome<R> completed_outcome(const lox_completed& c) {
    if (std::exception_ptr e = process_error(c.status, c.error, c.index)) return outcome<R>::failure(std::move(e));
    if constexpr (std::is_void_v<R>) {
      return outcome<R>(std::in_place);
    } else {
      std::optional<R> v;
      if (std::exception_ptr e = decode_result<R>(c.data, c.len, c.index, v)) return outcome<R>::failure(std::move(e));
      return outcome<R>(std::in_place, std::move(*v));
    }
  }
  // Undelivered outcomes are dropped with the completions object.
  template <class R>
  static void drain(lox_completions*) noexcept {}

  // Kills the workers (nothing uses the callable any more), then frees it.
  template <class R, class F>
  static void close(lox_process*& handle, std::unique_ptr<F>& fn) noexcept {
    lox_process_destroy(handle);
    handle = nullptr;
    fn.reset();
  }
};

}  // namespace detail
}  // namespace lox

#endif  // LOX_DETAIL_PROCESS_TASK_HPP
