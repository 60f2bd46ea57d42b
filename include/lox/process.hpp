// SPDX-License-Identifier: Apache-2.0
// liblox C++ layer: the process pool (lox.process).
#ifndef LOX_PROCESS_HPP
#define LOX_PROCESS_HPP

#include <lox/codec.hpp>
#include <lox/error.hpp>
#include <lox/task.hpp>
#include <lox/detail/pool.hpp>
#include <lox/detail/signature.hpp>
#include <lox/detail/process_task.hpp>
#include <lox/detail/task_process.hpp>

#include <array>
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
// `arguments_type` (lox::codec) followed by one 0 byte (the layout byte,
// lox/task.hpp), and do not destroy it.
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
  // task (lox::task<R>), which converts to its index in the results of the
  // gather that collects it (0, 1, 2, ... since the previous gather). The
  // arguments are encoded as the callable's decayed parameter types (an
  // argument of another type is converted first). An argument that is a
  // lox::task (or lox::whole(t)) makes this task depend on it and passes
  // its value, as bytes (lox/task.hpp, "Chaining": its value type must be
  // the parameter type exactly). With 0 workers the task runs before this
  // returns.
  //
  // Cost: the encoding (one std::string), the C scatter, which copies it,
  // and the task's C handle and shared state (two small allocations, not
  // measurable next to a process task's round trip). Throws lox::error
  // (LOX_EINVAL for a moved-from pool or arguments over max_message,
  // LOX_ENOMEM) and then nothing was queued.
  template <class... Args>
  task<R> scatter(Args&&... args) {
    constexpr bool chained = detail::any_task_arg<Args...>;
    constexpr bool arity_ok =
        detail::layout_width<arguments_type, 0, Args...>() == std::tuple_size_v<arguments_type>;
    static_assert(arity_ok,
                  "lox::process: scatter: wrong number of arguments for the pool's callable (a task argument whose "
                  "value is a std::tuple or std::pair counts as its elements, a task<void> as none)");
    std::string bytes;
    lox_scatter_opts o;
    lox_scatter_opts_init(&o);
    std::unique_ptr<detail::held_states> held;
    [[maybe_unused]] std::array<lox_task*, detail::task_arg_count<Args...>> after{};
    if constexpr (arity_ok && !chained) {
      encode_args(bytes, std::make_index_sequence<sizeof...(Args)>{}, std::forward<Args>(args)...);
      bytes.push_back(static_cast<char>(detail::plain_layout));
    } else if constexpr (arity_ok) {
      after = detail::predecessor_handles(args...);
      held = std::make_unique<detail::held_states>();
      held->states.reserve(after.size());
      const auto hold = [&held](const auto& a) {
        if constexpr (detail::arg_info<decltype(a)>::is_task) {
          detail::state_base* s = detail::arg_state(a);
          s->retain();
          held->states.push_back(s);
        }
      };
      (hold(args), ...);
      bytes = detail::chained_input<arguments_type>(std::forward<Args>(args)...);
      o.after = after.data();
      o.n_after = after.size();
      o.encode = &detail::encode_thread_value;
    }
    auto state = std::make_unique<detail::process_state<R>>();
    std::size_t index = 0;
    lox_task* node = nullptr;
    const int st = lox_process_scatter_ex(this->handle_, bytes.data(), bytes.size(), &o, &index, &node);
    if (st != LOX_OK) throw error(st, lox_last_error());
    state->adopt(node);
    if (held && lox_task_on_done(node, &detail::held_states::done, held.get()) == LOX_OK) {
      static_cast<void>(held.release());  // freed when the task completes
    } else if (held) {
      // Out of memory: keep the predecessors as long as this process runs
      // rather than free them under an encode.
      static_cast<void>(held.release());
    }
    return detail::adopt_task<R>(state.release());
  }

  // Cancels every task of the pool not gathered yet (lox_process_cancel):
  // tasks not started never run (LOX_ECANCELLED; their dependents fail with
  // LOX_EDEPENDENCY), running ones have their worker stopped (SIGTERM,
  // then SIGKILL after the grace period) and fail with LOX_ECANCELLED;
  // finished ones keep their results. The current round is closed: the
  // next gather returns it alone, later scatters start a new one. Throws
  // lox::error (LOX_EINVAL for a moved-from pool).
  void cancel() { check(lox_process_cancel(this->handle_)); }

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
    (detail::encode_param<std::tuple_element_t<I, arguments_type>>(out, std::forward<Args>(args)), ...);
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
