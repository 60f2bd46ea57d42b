// SPDX-License-Identifier: Apache-2.0
// liblox C++ layer: task graphs (lox 0.6 chaining). lox::task<R>, the
// handle every scatter returns; chaining by passing tasks as scatter
// arguments; lox::whole; when_all; as_completed; cancellation
// (task.cancel(), lox::cancelled(), lox::cancel_token).
//
//   auto foo = lox::thread(4, [](int x, int y) { return std::make_tuple(x * y, x + y); });
//   auto bar = lox::thread(2, [](int a, int b, int c) { return a + b + c; });
//   for (int i = 0; i < 5; ++i) {
//     auto r = foo.scatter(i, i + 1);   // lox::task<std::tuple<int, int>>
//     bar.scatter(r, 10);               // runs once r is done: bar(a, b, 10)
//   }
//   bar.gather();                       // {11, 15, 21, 29, 39}
//
// Chaining. Any scatter argument that is a lox::task<P> (of any pool,
// thread or process, this one included, or of then/when_all) makes the new
// task depend on it, and its value takes that argument's place: a
// std::tuple or std::pair value is unpacked into consecutive parameters
// (lox's automatic unpacking), lox::whole(t) passes it as one argument, a
// task<void> passes nothing (it only orders). Any number of task arguments.
// The task is queued only once every predecessor completed (no worker ever
// waits for one; a chain of 10,000 tasks on one worker completes). If a
// predecessor fails or is cancelled the task does not run: it fails with
// LOX_EDEPENDENCY, whose detail names the predecessor, and get() throws
// lox::error with that status. The task stays a member of the round it
// was scattered into: its pool's gather returns its outcome at its index.
//
// Values across pools: a thread task reads a thread predecessor's value in
// place (const P&, converted to the parameter type as a call converts) and
// decodes a process predecessor's bytes (lox::codec). A process task gets
// its predecessors' values as bytes: a thread predecessor's value is
// encoded with lox::codec in the thread that completes the last
// predecessor, a process predecessor's result bytes are passed as they
// are. So for a process task each predecessor's value type (each element,
// when unpacked) must be exactly the parameter's decayed type (checked at
// compile time). How the worker tells these inputs from plain ones: every
// process-task input ends with a layout byte this layer writes (0: the
// encoded argument tuple precedes it; 1: the C layer's framed inputs,
// lox_inputs_get, whose own input holds the plain arguments encoded in
// order, then one 32-bit source per parameter: the predecessor it comes
// from, or 0xFFFFFFFF for the own arguments). Bytes scattered to a C++
// process pool's native_handle() must follow this layout.
//
// Costs. A thread scatter that nobody chains costs what it cost before
// tasks existed: the task's state is the heap record the scatter makes
// anyway (an atomic state word and a reference count added to it); the
// returned task is a pointer to it. A C handle (one C allocation) is made
// only when something needs one: naming the task as a predecessor,
// wait/get before it is done, on_done, then, when_all, as_completed,
// native_handle(). A thread task with task arguments has a C node anyway
// (it is scattered with lox_thread_scatter_ex) and registers one
// completion callback. A process task always has its C handle (a process
// task costs far more than a node).
//
// Lifetimes. A task is a shared, reference-counted handle: copies are
// cheap (an atomic increment), moves are free, and destroying every copy
// before the task ends is safe (the task still runs, its dependents still
// get its value, its round still returns it). A task may outlive its pool
// (get() still returns its value, or the failure it ended with). A
// thread task's value lives in its record; the pool's gather moves it into
// the returned vector when no task handle shares the record, and copies it
// when one does. For a move-only R the gather moves it anyway: a task
// handle read after the gather sees a moved-from value (and a move-only
// value cannot be passed to a dependent: it is read in place, as const&).
#ifndef LOX_TASK_HPP
#define LOX_TASK_HPP

#include <lox/error.hpp>
#include <lox/detail/task_args.hpp>
#include <lox/detail/task_state.hpp>
#include <lox/detail/timeout.hpp>

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <exception>
#include <functional>
#include <type_traits>
#include <utility>
#include <vector>

namespace lox {

class cancel_token;

namespace detail {
template <class R>
struct get_result {
  using type = const R&;
};
template <>
struct get_result<void> {
  using type = void;
};
template <class R>
task<R> adopt_task(typed_state<R>* s) noexcept;
template <class R, class G>
void register_on_done(const task<R>& t, G&& g);
template <class R, class G>
auto make_then(const task<R>& t, G&& g);
}  // namespace detail

// One scattered task: lox's result handle, concurrent.futures' Future.
// Returned by thread_pool::scatter and process_pool::scatter, and by
// then/when_all. An empty task (default-constructed or moved-from) has
// index() SIZE_MAX and throws lox::error (LOX_EINVAL) from the calls that
// need a task.
//
// Thread safety: every member may be called from any number of threads at
// once on the same or different copies.
template <class R>
class task {
 public:
  using value_type = R;

  task() noexcept = default;
  task(const task& o) noexcept : s_(o.s_) {
    if (s_) s_->retain();
  }
  task(task&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
  task& operator=(const task& o) noexcept {
    task(o).swap(*this);
    return *this;
  }
  task& operator=(task&& o) noexcept {
    task(std::move(o)).swap(*this);
    return *this;
  }
  ~task() {
    if (s_) s_->release();
  }
  void swap(task& o) noexcept { std::swap(s_, o.s_); }

  // The task's index in the round it was scattered into (what scatter
  // used to return): a task converts to it implicitly, so
  // `std::size_t i = pool.scatter(x);` keeps working. For then/when_all:
  // the source's index (the first source's). SIZE_MAX when empty.
  std::size_t index() const noexcept { return s_ ? s_->index() : static_cast<std::size_t>(-1); }
  operator std::size_t() const noexcept { return index(); }

  // False for an empty task.
  bool valid() const noexcept { return s_ != nullptr; }

  // True once the task completed (ran, failed, was cancelled or failed for
  // a predecessor). Never blocks.
  bool done() const noexcept { return s_ && s_->done(); }

  // Waits until the task completed. wait_for returns false on timeout (a
  // timeout is never an exception; <= 0 checks once). Do not wait inside
  // a task for a task queued behind it on its own pool: it may never
  // start. Throws lox::error for a C failure (LOX_ENOMEM).
  void wait() const { state().wait(LOX_FOREVER); }
  template <class Rep, class Period>
  bool wait_for(const std::chrono::duration<Rep, Period>& timeout) const {
    return state().wait(detail::try_timeout(timeout));
  }

  // The C status once done: LOX_OK, LOX_ETASK (the task threw),
  // LOX_ECANCELLED, LOX_EDEPENDENCY (a predecessor failed), LOX_EWORKER,
  // LOX_TIMEOUT (a process task's time limit); LOX_ESTATE while not done.
  int status() const {
    const detail::state_base& s = state();
    return s.done() ? s.status() : LOX_ESTATE;
  }

  // Waits, then returns the value (in place; a process task's result is
  // decoded once, on first use) or throws: a thread task's own exception
  // when it threw; lox::error with the C status and detail otherwise
  // (LOX_EDEPENDENCY, LOX_ECANCELLED, a process task's LOX_ETASK with the
  // exception's what() text, ...).
  typename detail::get_result<R>::type get() const {
    detail::typed_state<R>& s = state();
    s.wait(LOX_FOREVER);
    if (std::exception_ptr e = s.failure(s.index())) std::rethrow_exception(e);
    if constexpr (!std::is_void_v<R>) return s.value();
  }

  // Requests cancellation. Not started yet: it never runs, completes with
  // LOX_ECANCELLED now (its waiters wake, its dependents fail with
  // LOX_EDEPENDENCY), and its round reports LOX_ECANCELLED at its index.
  // Running in a thread pool: lox::cancelled() turns true inside it and it
  // decides when to stop (its outcome is what it returns). Running in a
  // process pool: its worker is stopped (SIGTERM, then SIGKILL after the
  // grace period) and it fails with LOX_ECANCELLED. Done: nothing.
  void cancel() const { state().cancel(); }

  // A token that reports this task's cancellation (see lox::cancel_token).
  cancel_token token() const noexcept;

  // Calls f once the task completed, exactly once: on the liblox thread
  // that completes it (a worker, a process pool's driver thread, the thread
  // that cancels it), before its round's gather can return it; or at once,
  // in this thread, when it is done already. f is `f(const task<R>&)` or
  // `f()`; keep it short (it delays that thread) and do not wait in it for
  // work of the pool that runs it. f must not throw: an exception from f
  // cannot cross the C layer, so it is caught, its what() text is written
  // to stderr, and std::terminate is called (as for a std::thread).
  // Throws lox::error (LOX_ENOMEM) if it could not be registered.
  template <class G>
  void on_done(G&& f) const {
    detail::register_on_done(*this, std::forward<G>(f));
  }

  // A task of f's result: f(value) (f() for a void R) runs once this task
  // succeeded, on the thread that completes it (keep it short). If this
  // task fails, f is not called and the result fails the same way (same
  // status, same exception); an exception of f becomes the result's
  // failure (status LOX_ETASK). The result can be chained and waited for
  // as any task; its index() is this task's.
  template <class G>
  auto then(G&& f) const {
    return detail::make_then(*this, std::forward<G>(f));
  }

  // The C handle (lox/c/task.h), made on demand; owned by the task's
  // state (do not release it; lox_task_retain it to keep it longer).
  // Throws lox::error (LOX_ENOMEM, LOX_EINVAL when empty).
  lox_task* native_handle() const { return state().handle(); }

  // Not part of the API: the shared state (null when empty).
  detail::typed_state<R>* state_ptr() const noexcept { return s_; }

 private:
  template <class U>
  friend task<U> detail::adopt_task(detail::typed_state<U>* s) noexcept;

  detail::typed_state<R>& state() const {
    if (!s_) throw error(LOX_EINVAL, "task: the task is empty (default-constructed or moved from)");
    return *s_;
  }

  detail::typed_state<R>* s_ = nullptr;
};

// lox::whole(t): pass a task's std::tuple / std::pair value to a scatter as
// one argument instead of unpacking it into consecutive parameters.
template <class R>
whole_arg<R> whole(task<R> t) {
  return whole_arg<R>{std::move(t)};
}

// Reports whether one task was asked to stop: its cancel() was called, or
// (polled inside the running task) its pool's cancel() reached it. Cheap
// to copy (a shared reference to the task's state). An empty token (one
// made outside a thread task by lox::this_task::token(), or
// default-constructed) is never cancelled.
class cancel_token {
 public:
  cancel_token() noexcept = default;
  explicit cancel_token(detail::state_base* s) noexcept : s_(s) {
    if (s_) s_->retain();
  }
  cancel_token(const cancel_token& o) noexcept : cancel_token(o.s_) {}
  cancel_token(cancel_token&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
  cancel_token& operator=(cancel_token o) noexcept {
    std::swap(s_, o.s_);
    return *this;
  }
  ~cancel_token() {
    if (s_) s_->release();
  }

  // True once cancellation was requested. Inside the task it belongs to,
  // also true after a cancel of its pool (as lox::cancelled()).
  bool cancelled() const noexcept {
    if (!s_) return false;
    return s_ == detail::current_state() ? s_->stop_requested() : s_->cancel_requested();
  }

 private:
  detail::state_base* s_ = nullptr;
};

template <class R>
cancel_token task<R>::token() const noexcept {
  return cancel_token(s_);
}

// Inside a running thread task: true once it was asked to stop (its
// task's cancel(), its pool's cancel(), or a C cancel of its node or
// round). A long task polls this and returns early. False outside a task.
// Costs a thread-local read and a load or two.
inline bool cancelled() noexcept {
  if (lox_task_cancelled()) return true;
  detail::state_base* s = detail::current_state();
  return s && s->stop_requested();
}

namespace this_task {
// Inside a running thread task: a token for that task (copy it anywhere,
// e.g. into threads the task starts). Elsewhere (a process worker, a plain
// thread): an empty token, never cancelled.
inline cancel_token token() noexcept { return cancel_token(detail::current_state()); }
}  // namespace this_task

namespace detail {

template <class R>
task<R> adopt_task(typed_state<R>* s) noexcept {  // takes over one reference
  task<R> t;
  t.s_ = s;
  return t;
}

// Runs the user's completion callback; nothing may leave it (it runs under
// the C layer).
template <class G, class T>
void call_done_callback(G& g, const T& t) noexcept {
  try {
    if constexpr (std::is_invocable_v<G&, const T&>) {
      std::invoke(g, t);
    } else {
      std::invoke(g);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "lox: task::on_done: the callback threw (%s): terminating\n", e.what());
    std::terminate();
  } catch (...) {
    std::fprintf(stderr, "lox: task::on_done: the callback threw: terminating\n");
    std::terminate();
  }
}

// Registers `fire(ctx, handle)` on the task's handle; `ctx` is deleted by
// fire (or here, when registration fails).
template <class Ctx>
void on_done_raw(lox_task* h, Ctx* ctx) {
  const int st = lox_task_on_done(
      h, [](void* c, lox_task*) noexcept { Ctx::fire(static_cast<Ctx*>(c)); }, ctx);
  if (st != LOX_OK) {
    delete ctx;
    throw error(st, lox_last_error());
  }
}

template <class R, class G>
struct on_done_ctx {
  G g;
  task<R> t;
  static void fire(on_done_ctx* c) noexcept {
    call_done_callback(c->g, c->t);
    delete c;
  }
};

template <class R, class G>
void register_on_done(const task<R>& t, G&& g) {
  static_assert(std::is_invocable_v<std::decay_t<G>&, const task<R>&> || std::is_invocable_v<std::decay_t<G>&>,
                "lox: task::on_done: the callback must be callable as f(const lox::task<R>&) or f()");
  lox_task* h = t.native_handle();
  on_done_raw(h, new on_done_ctx<R, std::decay_t<G>>{std::forward<G>(g), t});
}

}  // namespace detail
}  // namespace lox

#include <lox/detail/task_combine.hpp>
#include <lox/detail/task_completions.hpp>

namespace lox {

// A task of every value: done once all are, failing as soon as one fails
// (with that task's status and exception; the others still run). Its
// index() is the first task's (0 without tasks). Needs each value copied
// once (R copyable).
//   when_all(t1, t2, ...)          -> task<std::tuple<R1, R2, ...>>
//   when_all(std::vector<task<R>>) -> task<std::vector<R>> (task<void> for R void)
// void tasks in the variadic form contribute std::monostate.
template <class... R>
auto when_all(const task<R>&... tasks) {
  return detail::make_when_all(tasks...);
}
template <class R>
auto when_all(const std::vector<task<R>>& tasks) {
  return detail::make_when_all_vector(tasks);
}

// Tasks in the order they complete (concurrent.futures.as_completed):
//
//   for (auto& [position, t] : lox::as_completed(tasks)) use(position, t.get());
//
// yields each task with its position in `tasks` (`lox::completed<R>`), the
// ones already done first. With a timeout (the whole iteration's limit)
// the iteration ends early when it passes (a timeout is never an
// exception): `timed_out()` and `remaining()` on the range then say so.
// Throws lox::error (LOX_ENOMEM, LOX_EINVAL for an empty task).
template <class R>
as_completed_range<R> as_completed(const std::vector<task<R>>& tasks) {
  return as_completed_range<R>(tasks, LOX_FOREVER);
}
template <class R, class Rep, class Period>
as_completed_range<R> as_completed(const std::vector<task<R>>& tasks, const std::chrono::duration<Rep, Period>& timeout) {
  return as_completed_range<R>(tasks, detail::try_timeout(timeout));
}

}  // namespace lox

#endif  // LOX_TASK_HPP
