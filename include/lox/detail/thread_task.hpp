// SPDX-License-Identifier: Apache-2.0
// liblox C++ layer: the thread pool's tasks as heap records, the one C task
// function that runs them, the owner of a gathered round, and how the pool
// gathers and ends (thread_kind).
#ifndef LOX_DETAIL_THREAD_TASK_HPP
#define LOX_DETAIL_THREAD_TASK_HPP

#include <lox/error.hpp>
#include <lox/detail/pool.hpp>
#include <lox/detail/signature.hpp>

#include <cstddef>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

namespace lox {
namespace detail {

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
    return std::make_exception_ptr(
        lox::error(st != LOX_OK ? st : LOX_ESTATE,
                   text ? std::string(text) : "task " + std::to_string(i) + " left no result record"));
  }

  // Hands task i's value to `sink` (`sink(R&)`, or `sink()` for a void R)
  // and returns null, or returns the task's failure without calling it.
  template <class Sink>
  std::exception_ptr take(std::size_t i, Sink&& sink) {
    std::exception_ptr e = failure(i);
    if (e) return e;
    if constexpr (std::is_void_v<R>) {
      sink();
    } else {
      sink(*record(i)->value);
    }
    return nullptr;
  }

 private:
  lox_results* res_ = nullptr;
};

// How a thread pool's rounds are gathered and how the pool ends.
struct thread_kind : pool_calls<lox_thread, gathered_round, lox_thread_gather, lox_thread_pending, lox_thread_workers> {
  static constexpr const char* name = "thread";

  // Waits for and frees everything scattered and not gathered, then
  // destroys the C pool. Gathering (rather than tracking the records) keeps
  // scatter free of any bookkeeping: the C pool is the only list of
  // outstanding records, and gather is how it hands them back.
  template <class R, class F>
  static void close(lox_thread*& handle, std::unique_ptr<F>& fn) noexcept {
    if (!handle) return;
    for (;;) {
      lox_results* res = nullptr;
      const int st = lox_thread_gather(handle, nullptr, &res);
      if (st == LOX_ESTATE) {
        // Inside one of our own tasks: the C destroy refuses (and logs); the
        // tasks still running need the callable, so leak both.
        lox_thread_destroy(handle);
        handle = nullptr;
        static_cast<void>(fn.release());
        return;
      }
      if (st != LOX_OK && st != LOX_ETASK) break;  // out of memory: destroy still runs every task
      gathered_round<R> round;
      round.adopt(res);
      if (round.size() == 0) break;  // nothing left: no task of this pool runs any more
    }
    lox_thread_destroy(handle);
    handle = nullptr;
    fn.reset();
  }
};

}  // namespace detail
}  // namespace lox

#endif  // LOX_DETAIL_THREAD_TASK_HPP
