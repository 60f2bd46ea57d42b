// SPDX-License-Identifier: Apache-2.0
// liblox C++ layer: process tasks as lox::task (their C handle and the
// lazily decoded value), and the layout of a process task's input: the
// trailing layout byte, and for a task with predecessors the source of
// each parameter, written by the scatter and read by the worker.
#ifndef LOX_DETAIL_TASK_PROCESS_HPP
#define LOX_DETAIL_TASK_PROCESS_HPP

#include <lox/codec.hpp>
#include <lox/error.hpp>
#include <lox/detail/codec_format.hpp>
#include <lox/detail/task_args.hpp>
#include <lox/detail/task_state.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace lox {
namespace detail {

inline std::exception_ptr process_error(int st, const char* text, std::size_t i);
template <class R>
std::exception_ptr decode_result(const void* data, std::size_t len, std::size_t i, std::optional<R>& value);

// ---- The shared state of a process task ----------------------------------------
// The C handle is the truth (done, status, detail, cancel); the value is
// decoded from its bytes once, on first use, and kept.

template <class R>
class process_common : public typed_state<R> {
 public:
  process_common() noexcept : typed_state<R>(1) {}
  void adopt(lox_task* node) noexcept {
    node_ = node;
    this->set_index(lox_task_index(node));
  }

  bool done() const noexcept override { return lox_task_done(node_) != 0; }
  bool wait(double timeout) override {
    const int st = lox_task_wait(node_, timeout);
    if (st == LOX_TIMEOUT) return false;
    if (st != LOX_OK) throw error(st, lox_last_error());
    return true;
  }
  int status() const noexcept override { return lox_task_status(node_); }
  std::exception_ptr failure(std::size_t index) const override {
    return process_error(status(), lox_task_error(node_), index);
  }
  lox_task* handle() override { return node_; }
  void cancel() override {
    cancelled_.store(true, std::memory_order_release);
    lox_task_cancel(node_);
  }
  bool cancel_requested() const noexcept override { return cancelled_.load(std::memory_order_acquire); }

 protected:
  ~process_common() override { lox_task_release(node_); }
  lox_task* node_ = nullptr;

 private:
  std::atomic<bool> cancelled_{false};
};

template <class R, bool = std::is_void_v<R>>
class process_state final : public process_common<R> {
 public:
  const R& value() override {
    std::call_once(once_, [this] {
      const void* data = nullptr;
      std::size_t len = 0;
      const int st = lox_task_bytes(this->node_, &data, &len);
      error_ = st != LOX_OK ? std::make_exception_ptr(error(st, lox_last_error()))
                            : decode_result<R>(data, len, this->index(), value_);
    });
    if (error_) std::rethrow_exception(error_);
    return *value_;
  }

 private:
  std::once_flag once_;
  std::optional<R> value_;
  std::exception_ptr error_;
};
template <class R>
class process_state<R, true> final : public process_common<R> {};

// lox_scatter_opts.encode for C++ process pools: a thread predecessor's C
// value is its state, which encodes its own value.
inline int encode_thread_value(void*, void* value, lox_buffer* out) noexcept {
  return static_cast<state_base*>(value)->encode_value(out);
}

// References to a process task's predecessors, held until it completes
// (a thread predecessor's value is read by encode when the task becomes
// ready, in the completing thread).
struct held_states {
  std::vector<state_base*> states;
  ~held_states() {
    for (state_base* s : states) s->release();
  }
  static void done(void* ctx, lox_task*) noexcept { delete static_cast<held_states*>(ctx); }
};

// ---- The input layout -----------------------------------------------------------
// Every input ends with one layout byte: 0: the encoded argument tuple
// precedes it. 1: the input is the C layer's framed predecessor results
// (lox_inputs_get) whose own input is: the plain arguments encoded in
// order, then one 32-bit source per parameter in the host's byte order
// (the predecessor it comes from, or own_source), then the layout byte.

inline constexpr unsigned char plain_layout = 0;
inline constexpr unsigned char chained_layout = 1;
inline constexpr std::uint32_t own_source = 0xFFFFFFFFu;

template <class Args, std::size_t Off, class P, std::size_t... J>
constexpr bool unpacked_types_match(std::index_sequence<J...>) {
  return (std::is_same_v<std::tuple_element_t<Off + J, Args>, std::decay_t<std::tuple_element_t<J, P>>> && ...);
}

// Whether a task argument's value lands on the parameters at Off exactly
// as they are typed (it crosses as codec bytes).
template <class Args, std::size_t Off, class A>
constexpr bool task_arg_types_match() {
  using info = arg_info<A>;
  using P = typename info::value;
  if constexpr (std::is_void_v<P>) {
    return true;
  } else if constexpr (Off + info::width > std::tuple_size_v<Args>) {
    return true;  // the arity check says what is wrong
  } else if constexpr (info::unpack) {
    return unpacked_types_match<Args, Off, P>(std::make_index_sequence<info::width>{});
  } else {
    return std::is_same_v<std::tuple_element_t<Off, Args>, std::remove_cv_t<P>>;
  }
}

template <class Args, std::size_t Off>
constexpr std::size_t layout_width() {
  return Off;
}
template <class Args, std::size_t Off, class A, class... Rest>
constexpr std::size_t layout_width() {
  return layout_width<Args, Off + arg_info<A>::width, Rest...>();
}

template <class Stored, class A>
void encode_param(std::string& out, A&& a);

// Appends the plain arguments to `own` and fills each parameter's source.
template <class Args, std::size_t Off, std::uint32_t Pred>
void layout_args(std::string&, std::uint32_t*) {}
template <class Args, std::size_t Off, std::uint32_t Pred, class A, class... Rest>
void layout_args(std::string& own, std::uint32_t* src, A&& a, Rest&&... rest) {
  if constexpr (arg_info<A>::is_task) {
    static_assert(task_arg_types_match<Args, Off, A>(),
                  "lox::process: scatter: a task argument's value type (each element, when a tuple is unpacked) "
                  "must be exactly the callable's decayed parameter type: it reaches the worker as lox::codec bytes");
    for (std::size_t k = 0; k < arg_info<A>::width; ++k) src[Off + k] = Pred;
    layout_args<Args, Off + arg_info<A>::width, Pred + 1>(own, src, std::forward<Rest>(rest)...);
  } else {
    if constexpr (Off < std::tuple_size_v<Args>) {
      src[Off] = own_source;
      encode_param<std::tuple_element_t<Off, Args>>(own, std::forward<A>(a));
    }
    layout_args<Args, Off + 1, Pred>(own, src, std::forward<Rest>(rest)...);
  }
}

// The own input of a process scatter with task arguments.
template <class Args, class... A>
std::string chained_input(A&&... a) {
  constexpr std::size_t k = std::tuple_size_v<Args>;
  std::uint32_t src[k + 1] = {};
  std::string own;
  layout_args<Args, 0, 0>(own, src, std::forward<A>(a)...);
  own.append(reinterpret_cast<const char*>(src), k * sizeof(std::uint32_t));
  own.push_back(static_cast<char>(chained_layout));
  return own;
}

template <class Args, std::size_t... I>
Args decode_sources(std::vector<codec_reader>& in, const std::uint32_t* src, std::index_sequence<I...>) {
  static_cast<void>(in);
  static_cast<void>(src);
  return Args{codec_for<std::tuple_element_t<I, Args>>::decode(in[src[I]])...};  // braces: left to right
}

// In the worker: the argument tuple of a framed input (layout byte 1).
template <class Args>
Args decode_chained(const void* in, std::size_t len) {
  constexpr std::size_t k = std::tuple_size_v<Args>;
  const std::size_t n = lox_inputs_count(in, len);
  if (n == static_cast<std::size_t>(-1)) throw error(LOX_EINVAL, "process task input: malformed predecessor frames");
  std::vector<codec_reader> readers;
  readers.reserve(n + 1);
  for (std::size_t p = 0; p <= n; ++p) {
    const void* d = nullptr;
    std::size_t l = 0;
    if (lox_inputs_get(in, len, p, &d, &l) != LOX_OK) {
      throw error(LOX_EINVAL, "process task input: malformed predecessor frames");
    }
    if (p == n) {  // the own input: arguments, sources, layout byte
      if (l < k * sizeof(std::uint32_t) + 1) throw error(LOX_EINVAL, "process task input: no parameter sources");
      l -= k * sizeof(std::uint32_t) + 1;
    }
    readers.emplace_back(d, l);
  }
  const void* own = nullptr;
  std::size_t own_len = 0;
  lox_inputs_get(in, len, n, &own, &own_len);
  std::uint32_t src[k + 1] = {};
  std::memcpy(src, static_cast<const unsigned char*>(own) + own_len - 1 - k * sizeof(std::uint32_t),
              k * sizeof(std::uint32_t));
  for (std::size_t i = 0; i < k; ++i) {
    if (src[i] == own_source) {
      src[i] = static_cast<std::uint32_t>(n);
    } else if (src[i] >= n) {
      throw error(LOX_EINVAL, "process task input: parameter " + std::to_string(i) + " names predecessor " +
                                  std::to_string(src[i]) + " of " + std::to_string(n));
    }
  }
  Args args = decode_sources<Args>(readers, src, std::make_index_sequence<k>{});
  for (codec_reader& r : readers) r.finish();
  return args;
}

// In the worker: the argument tuple of any input of a C++ process pool.
template <class Args>
Args decode_input(const void* in, std::size_t len) {
  if (len == 0) throw error(LOX_EINVAL, "process task input: no layout byte");
  const unsigned char tag = static_cast<const unsigned char*>(in)[len - 1];
  if (tag == plain_layout) return codec::decode<Args>(in, len - 1);
  if (tag == chained_layout) return decode_chained<Args>(in, len);
  throw error(LOX_EINVAL, "process task input: unknown layout byte " + std::to_string(tag));
}

}  // namespace detail
}  // namespace lox

#endif  // LOX_DETAIL_TASK_PROCESS_HPP
