// SPDX-License-Identifier: Apache-2.0
// liblox C++ layer: what a callable's type says about it (its single call
// signature, when it has one) and what a scatter stores for its arguments.
#ifndef LOX_DETAIL_SIGNATURE_HPP
#define LOX_DETAIL_SIGNATURE_HPP

#include <functional>
#include <type_traits>

namespace lox {
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
#define LOX_DETAIL_MEMBER_SIGNATURE(QUALS)          \
  template <class C, class Ret, class... A>         \
  struct member_signature<Ret (C::*)(A...) QUALS> { \
    static constexpr bool known = true;             \
    using result = Ret;                             \
    using params = type_list<A...>;                 \
  };
LOX_DETAIL_MEMBER_SIGNATURE()
LOX_DETAIL_MEMBER_SIGNATURE(const)
LOX_DETAIL_MEMBER_SIGNATURE(&)
LOX_DETAIL_MEMBER_SIGNATURE(const&)
LOX_DETAIL_MEMBER_SIGNATURE(&&)
LOX_DETAIL_MEMBER_SIGNATURE(const&&)
LOX_DETAIL_MEMBER_SIGNATURE(noexcept)
LOX_DETAIL_MEMBER_SIGNATURE(const noexcept)
LOX_DETAIL_MEMBER_SIGNATURE(&noexcept)
LOX_DETAIL_MEMBER_SIGNATURE(const& noexcept)
LOX_DETAIL_MEMBER_SIGNATURE(&&noexcept)
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

struct deduce_result {};  // a pool's default R: take it from the signature

// R as named (a value type), or deduced from F's signature. A thread pool
// needs the signature for that (`RequireSignature`); a process pool needs
// it anyway and says so in its own checks.
template <class R, class F, bool RequireSignature>
struct result_type_of {
  static_assert(!std::is_reference_v<R>,
                "lox::thread<R> / lox::process<R>: R must be a value type (results are moved into a vector)");
  using type = std::remove_cv_t<R>;
};
template <class F, bool RequireSignature>
struct result_type_of<deduce_result, F, RequireSignature> {
  static_assert(!RequireSignature || signature<F>::known,
                "lox::thread: cannot deduce the result type of this callable (a generic lambda, or an "
                "overloaded or template operator()?): name it, e.g. lox::thread<int>(4, fn)");
  using type = std::decay_t<typename signature<F>::result>;  // void when unknown
};
template <class R, class F>
using pool_result = result_type_of<R, F, true>;

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
using stored_t =
    std::conditional_t<is_reference_wrapper<std::decay_t<Arg>>::value, std::decay_t<Arg>, std::decay_t<Param>>;

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

}  // namespace detail
}  // namespace lox

#endif  // LOX_DETAIL_SIGNATURE_HPP
