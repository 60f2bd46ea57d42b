// SPDX-License-Identifier: Apache-2.0
// liblox C++ layer: scatter arguments that are tasks (chaining). Which
// arguments are lox::task<P> or lox::whole(t), how many parameters each
// fills (a tuple or pair is unpacked, a void task fills none), what a
// thread record stores for them, how their values are passed, and the C
// handles named as predecessors.
#ifndef LOX_DETAIL_TASK_ARGS_HPP
#define LOX_DETAIL_TASK_ARGS_HPP

#include <lox/detail/signature.hpp>
#include <lox/detail/task_state.hpp>

#include <array>
#include <cstddef>
#include <tuple>
#include <type_traits>
#include <utility>

namespace lox {

template <class R>
class task;

// A task argument passed whole: `bar.scatter(lox::whole(t))` gives bar's
// parameter t's std::tuple / std::pair value as one argument instead of
// unpacking it. Made by lox::whole.
template <class R>
struct whole_arg {
  task<R> source;
};

namespace detail {

template <class T>
struct is_tuple_like : std::false_type {};
template <class... T>
struct is_tuple_like<std::tuple<T...>> : std::true_type {};
template <class A, class B>
struct is_tuple_like<std::pair<A, B>> : std::true_type {};

// What an argument of a scatter is. A plain value fills one parameter; a
// task<P> fills tuple_size<P> parameters when P is a tuple or pair, none
// when P is void (it only orders), else one; whole(t) fills one.
template <class A>
struct task_arg_info {
  static constexpr bool is_task = false;
  static constexpr bool unpack = false;
  static constexpr std::size_t width = 1;
};
template <class P>
struct task_arg_info<task<P>> {
  using value = P;
  static constexpr bool is_task = true;
  static constexpr bool unpack = is_tuple_like<P>::value;
  static constexpr std::size_t width = [] {
    if constexpr (std::is_void_v<P>) {
      return std::size_t{0};
    } else if constexpr (is_tuple_like<P>::value) {
      return std::tuple_size_v<P>;
    } else {
      return std::size_t{1};
    }
  }();
};
template <class P>
struct task_arg_info<whole_arg<P>> {
  using value = P;
  static constexpr bool is_task = true;
  static constexpr bool unpack = false;
  static constexpr std::size_t width = 1;
};

template <class A>
using arg_info = task_arg_info<remove_cvref_t<A>>;

template <class... A>
inline constexpr bool any_task_arg = (arg_info<A>::is_task || ...);
template <class... A>
inline constexpr std::size_t task_arg_count = (std::size_t{0} + ... + (arg_info<A>::is_task ? 1 : 0));

// The task's shared state behind a task argument.
template <class P>
state_base* arg_state(const task<P>& t) noexcept {
  return t.state_ptr();
}
template <class P>
state_base* arg_state(const whole_arg<P>& w) noexcept {
  return w.source.state_ptr();
}

// The parameter at position I (`Fallback` past the end, so a wrong arity
// gives one clear static_assert instead of a cascade).
template <class Params, std::size_t I, class Fallback>
struct param_at {
  using type = Fallback;
};
template <class P0, class... P, std::size_t I, class Fallback>
struct param_at<type_list<P0, P...>, I, Fallback> {
  using type = typename param_at<type_list<P...>, I - 1, Fallback>::type;
};
template <class P0, class... P, class Fallback>
struct param_at<type_list<P0, P...>, 0, Fallback> {
  using type = P0;
};

template <class T, class List>
struct prepend;
template <class T, class... U>
struct prepend<T, type_list<U...>> {
  using type = type_list<T, U...>;
};

// What a record stores for each argument when some are tasks: a task as
// itself (the record then holds a reference to its predecessor until its
// call is done), a plain value as stored_args would store it for the
// parameter it lands on. `end` is the number of parameters filled.
template <class Params, std::size_t Off, class... Args>
struct chain_stored {
  using type = type_list<>;
  static constexpr std::size_t end = Off;
};
template <class Params, std::size_t Off, class A, class... Rest>
struct chain_stored<Params, Off, A, Rest...> {
  using head = std::conditional_t<arg_info<A>::is_task, remove_cvref_t<A>,
                                  stored_t<typename param_at<Params, Off, A>::type, A>>;
  using next = chain_stored<Params, Off + arg_info<A>::width, Rest...>;
  using type = typename prepend<head, typename next::type>::type;
  static constexpr std::size_t end = next::end;
};

template <class Params, class... Args>
struct chain_args {  // unknown signature: everything as its decayed type
  using type = type_list<std::decay_t<Args>...>;
};
template <class... P, class... Args>
struct chain_args<type_list<P...>, Args...> {
  using stored = chain_stored<type_list<P...>, 0, Args...>;
  static constexpr bool arity_ok = stored::end == sizeof...(P);
  static_assert(arity_ok,
                "lox: scatter: wrong number of arguments for the pool's callable (a task argument whose value is "
                "a std::tuple or std::pair counts as its elements, a task<void> as none; lox::whole(t) passes the "
                "tuple as one argument)");
  using type = typename stored::type;
};

// What a scatter's record stores: as before when no argument is a task.
template <class Params, class... Args>
using record_args = typename std::conditional_t<any_task_arg<Args...>, chain_args<Params, Args...>,
                                                stored_args<Params, Args...>>::type;

// The arguments one stored element passes to the callable, as a tuple of
// references: a plain value as an rvalue; a task's value in place, as
// const references (unpacked, or nothing for a void task). Predecessors
// have succeeded when this runs (a failed one fails the task before).
template <class S>
auto call_args(S& s) {
  return std::forward_as_tuple(std::move(s));
}
template <class P>
auto call_args(task<P>& t) {
  if constexpr (std::is_void_v<P>) {
    return std::tuple<>{};
  } else if constexpr (is_tuple_like<P>::value) {
    return std::apply([](const auto&... e) { return std::forward_as_tuple(e...); }, t.get());
  } else {
    return std::forward_as_tuple(t.get());
  }
}
template <class P>
auto call_args(whole_arg<P>& w) {
  return std::forward_as_tuple(w.source.get());
}

template <class S>
using call_args_t = decltype(call_args(std::declval<S&>()));

template <class F, class Tuple>
struct applicable;
template <class F, class... T>
struct applicable<F, std::tuple<T...>> : std::is_invocable<F, T...> {
  using result = std::invoke_result<F, T...>;
};

// The callable applied to every stored element's arguments.
template <class F, class... S>
decltype(auto) apply_chained(const F& f, std::tuple<S...>& stored) {
  return std::apply([&f](S&... s) -> decltype(auto) { return std::apply(f, std::tuple_cat(call_args(s)...)); },
                    stored);
}

// The C handles of the task arguments, in argument order (made on
// demand). Throws lox::error.
template <class... A>
std::array<lox_task*, task_arg_count<A...>> predecessor_handles(const A&... a) {
  std::array<lox_task*, task_arg_count<A...>> out{};
  std::size_t n = 0;
  static_cast<void>(n);
  const auto put = [&out, &n](const auto& x) {
    if constexpr (arg_info<decltype(x)>::is_task) out[n++] = arg_state(x)->handle();
  };
  (put(a), ...);
  return out;
}

}  // namespace detail
}  // namespace lox

#endif  // LOX_DETAIL_TASK_ARGS_HPP
