// SPDX-License-Identifier: Apache-2.0
// liblox C++ layer: the thread pool's tasks as heap records, the one C task
// function that runs them, the owner of a gathered round, and how the pool
// gathers and ends (thread_kind).
#ifndef LOX_DETAIL_THREAD_TASK_HPP
#define LOX_DETAIL_THREAD_TASK_HPP

#include <lox/error.hpp>
#include <lox/task.hpp>
#include <lox/detail/pool.hpp>
#include <lox/detail/signature.hpp>
#include <lox/detail/task_args.hpp>
#include <lox/detail/task_state.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

namespace lox {
namespace detail {

// One heap record per scattered task: the stored arguments, then the
// outcome. It is also the task's shared state (lox::task<R> points to it,
// value_state's word and reference count): the C layer carries a pointer
// to it (as a state_base*) as the task's `arg` and, once the task ran, as
// its result value. Made with one reference, the round's (dropped by the
// gather, or by the completion callback of a task that never ran); scatter
// adds the returned task's before it publishes the record.
template <class R>
struct record_base : value_state<R> {
  record_base() noexcept : value_state<R>(1) {}

  // Runs the task with the pool's callable `fn` (a `const F*`). Never throws:
  // the task's exception lands in `error_`. Destroys the arguments.
  virtual void run(const void* fn) noexcept = 0;
  // Destroys the arguments (and the predecessors they hold) of a task that
  // will never run.
  virtual void drop_args() noexcept = 0;

  // Inside the running task: also a cancel of the pool since the scatter
  // (recorded in the word, so tokens read later see it).
  bool stop_requested() noexcept override {
    if (this->cancel_requested()) return true;
    if (epoch_src_->load(std::memory_order_relaxed) == epoch_) return false;
    this->cancel_state();
    return true;
  }

  // The trampoline's part: skips a task cancelled (by task::cancel or a
  // pool cancel since the scatter) before it started, else runs it,
  // records its outcome and completes an attached promise.
  int execute(const void* fn) noexcept {
    reached_ = true;
    if (epoch_src_->load(std::memory_order_relaxed) != epoch_) this->cancel_state();
    if (!this->claim()) {
      drop_args();
      return LOX_ECANCELLED;
    }
    {
      running_scope running(this);
      run(fn);
    }
    const int st = this->error_ ? LOX_ETASK : LOX_OK;
    this->status_ = st;
    this->finish();
    return st;
  }

  // Set by the trampoline: the round's slot holds this record (else the
  // completion callback drops the round's reference).
  bool reached_ = false;
  // The pool's cancel counter and its value at scatter (pool::cancel()
  // raises it: every task scattered before is cancelled).
  const std::atomic<std::uint64_t>* epoch_src_ = nullptr;
  std::uint64_t epoch_ = 0;
};

template <class F, class R, class Stored>
struct record;
template <class F, class R, class... Stored>
struct record<F, R, type_list<Stored...>> final : record_base<R> {
  static constexpr bool chained = any_task_arg<Stored...>;
  using call_types = std::conditional_t<chained, decltype(std::tuple_cat(std::declval<call_args_t<Stored>>()...)),
                                        std::tuple<Stored&&...>>;
  static_assert(applicable<const F&, call_types>::value,
                "lox: the pool's callable cannot be called with these arguments. Workers call it as a const "
                "object (a mutable lambda cannot be used: it would run on several threads at once) and pass each "
                "stored argument as an rvalue (take it by value or const&; pass std::ref(x) for a T& parameter), "
                "and a task argument's value as const& (a std::tuple or std::pair unpacked)");

  template <class... A>
  explicit record(A&&... a) : args(std::in_place, std::forward<A>(a)...) {
    static_assert((std::is_constructible_v<Stored, A&&> && ...),
                  "lox: scatter: an argument cannot be converted to the callable's parameter type");
  }

  void run(const void* fn) noexcept override {
    const F& f = *static_cast<const F*>(fn);
    try {
      if constexpr (std::is_void_v<R>) {
        call(f);
      } else {
        static_assert(std::is_constructible_v<R, typename applicable<const F&, call_types>::result::type>,
                      "lox: the callable's result cannot be converted to the pool's result type");
        this->value_.emplace(call(f));
      }
    } catch (...) {
      this->error_ = std::current_exception();
    }
    args.reset();  // arguments are released in the worker, right after the call
  }
  void drop_args() noexcept override { args.reset(); }

  decltype(auto) call(const F& f) {
    if constexpr (chained) {
      return apply_chained(f, *args);
    } else {
      return std::apply(f, std::move(*args));
    }
  }

  std::optional<std::tuple<Stored...>> args;
};

template <class F, class R, class... Args>
using record_for = record<F, R, record_args<typename signature<F>::params, Args...>>;

// The cancel counter of a moved-from pool (never raised).
inline const std::atomic<std::uint64_t>* never_cancelled() noexcept {
  static const std::atomic<std::uint64_t> zero{0};
  return &zero;
}

template <class R>
record_base<R>* record_of(void* p) noexcept {  // a C value or arg
  return static_cast<record_base<R>*>(static_cast<state_base*>(p));
}

// The one lox_task_fn of every C++ pool: `ctx` is the pool's callable, `arg`
// the record. Records itself as the result first (so gather and the pool's
// destructor always find it), never lets an exception out, and reports
// LOX_ETASK for a task that threw, LOX_ECANCELLED for one cancelled before
// it started.
template <class R>
int task_trampoline(void* ctx, void* arg, void** result) noexcept {
  record_base<R>* rec = record_of<R>(arg);
  *result = static_cast<state_base*>(rec);
  return rec->execute(ctx);
}

// Completion callback of a thread task with predecessors (it has a C
// node). If the task never ran (a predecessor failed, or it was cancelled
// while waiting) its slot holds no record: the outcome is copied from the
// node here and the round's reference dropped.
template <class R>
void chained_done(void* ctx, lox_task* node) noexcept {
  record_base<R>* rec = record_of<R>(ctx);
  if (rec->reached_) return;
  if (rec->claim()) {
    rec->status_ = lox_task_status(node);
    try {
      // The node's index: this callback may run before scatter stored it in the record.
      rec->error_ = status_failure(rec->status_, lox_task_error(node), lox_task_index(node));
    } catch (...) {
      rec->error_ = std::current_exception();
    }
    rec->finish();
  }
  rec->drop_args();
  rec->release();
}

// Hands a finished record's value to `sink` (`sink(R&)`, or `sink()` for a
// void R) and returns null, or returns its failure without calling it. The
// value is moved out when nobody else holds the record, copied when a
// task still does (a move-only R is moved anyway).
template <class R, class Sink>
std::exception_ptr take_record(record_base<R>* rec, int status, const char* text, std::size_t i, Sink&& sink) {
  // A record the trampoline did not finish (a foreign task function, via
  // native_handle) has only the C status.
  std::exception_ptr e = rec && rec->done() ? rec->failure(i) : nullptr;
  if (!e && (!rec || status != LOX_OK)) {
    e = status_failure(status != LOX_OK ? status : LOX_ESTATE, text ? text : rec ? nullptr : "task left no result record", i);
  }
  if (e) return e;
  if constexpr (std::is_void_v<R>) {
    sink();
  } else if constexpr (std::is_copy_constructible_v<R>) {
    if (rec->shared()) {
      R copy(*rec->value_);
      sink(copy);
    } else {
      sink(*rec->value_);
    }
  } else {
    sink(*rec->value_);
  }
  return nullptr;
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
    for (std::size_t i = 0; i < n; ++i) {
      if (record_base<R>* rec = record(i)) rec->release();
    }
    lox_results_destroy(res_);
    res_ = nullptr;
  }
  std::size_t size() const noexcept { return lox_results_count(res_); }
  record_base<R>* record(std::size_t i) const noexcept {
    void* v = lox_results_value(res_, i);
    return v ? record_of<R>(v) : nullptr;
  }

  // Hands task i's value to `sink` (see take_record) and returns null, or
  // returns the task's failure: its exception, or a lox::error for a
  // failure the C layer reported (LOX_EDEPENDENCY, LOX_ECANCELLED).
  template <class Sink>
  std::exception_ptr take(std::size_t i, Sink&& sink) {
    return take_record<R>(record(i), lox_results_status(res_, i), lox_results_error(res_, i), i,
                          std::forward<Sink>(sink));
  }

 private:
  lox_results* res_ = nullptr;
};

// How a thread pool's rounds are gathered and how the pool ends.
struct thread_kind : pool_calls<lox_thread, gathered_round, lox_thread_gather, lox_thread_pending, lox_thread_workers> {
  static constexpr const char* name = "thread";

  // The round the next gather would return, in completion order.
  static lox_completions* completions(lox_thread* pool) {
    lox_completions* c = nullptr;
    check(lox_thread_completions(pool, &c));
    return c;
  }
  // One delivered task as an outcome; drops the round's reference.
  template <class R>
  static outcome<R> completed_outcome(const lox_completed& c) {
    record_base<R>* rec = c.value ? record_of<R>(c.value) : nullptr;
    struct drop {
      record_base<R>* r;
      ~drop() {
        if (r) r->release();
      }
    } guard{rec};
    std::optional<outcome<R>> out;
    std::exception_ptr e = take_record<R>(rec, c.status, c.error, c.index,
                                          [&out](auto&... v) { out.emplace(std::in_place, std::move(v)...); });
    if (e) return outcome<R>::failure(std::move(e));
    return std::move(*out);
  }
  // Waits for the tasks not delivered and drops their records.
  template <class R>
  static void drain(lox_completions* c) noexcept {
    if (!c) return;
    for (;;) {
      lox_completed d{};
      d.struct_size = sizeof d;
      if (lox_completions_next(c, LOX_FOREVER, &d) != LOX_OK) return;
      if (d.value) record_of<R>(d.value)->release();
    }
  }

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
