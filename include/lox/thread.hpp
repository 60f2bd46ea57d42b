// SPDX-License-Identifier: Apache-2.0
// liblox C++ layer: the thread pool (lox.thread).
#ifndef LOX_THREAD_HPP
#define LOX_THREAD_HPP

#include <lox/error.hpp>
#include <lox/task.hpp>
#include <lox/detail/pool.hpp>
#include <lox/detail/signature.hpp>
#include <lox/detail/thread_task.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <type_traits>
#include <utility>

namespace lox {

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
// Chaining (lox 0.6): scatter returns a lox::task<R>; pass it as an
// argument of another scatter, of any pool, to make that task depend on it
// and receive its value (lox/task.hpp):
//
//   auto r = foo.scatter(i, i + 1);   // foo returns std::tuple<int, int>
//   bar.scatter(r, 10);               // bar(a, b, 10) once r is done
//
// Destroying the pool waits for every task that was scattered and not yet
// gathered (queued tasks are run, not cancelled), frees their records and
// discards their results and exceptions, and joins the workers; move
// assignment first does the same to the pool it replaces. Called from
// inside one of the pool's own tasks it cannot finish: the C layer logs an
// error and the pool and its callable are deliberately leaked (never freed
// under the running tasks).
//
// native_handle() is the C pool: do not scatter to it with
// lox_thread_scatter (its tasks expect C++ records), and do not destroy it.
template <class F, class R>
class thread_pool : public detail::pool_base<detail::thread_kind, F, R> {
  using base = detail::pool_base<detail::thread_kind, F, R>;

 public:
  // Queues `fn(args...)` for a worker and returns at once with the task
  // (lox::task<R>), which converts to its index in the results of the
  // gather that collects it (0, 1, 2, ... since the previous gather). The
  // arguments are copied or moved into the task's record: as the callable's
  // decayed parameter types when it has a single signature (so a `const
  // char*` for a `std::string` parameter is copied as a string), otherwise
  // as their own decayed types. Pointers, views and std::ref arguments are
  // stored as they are: their referents must outlive the task. An argument
  // that is a lox::task (or lox::whole(t)) makes this task depend on it
  // and passes its value (lox/task.hpp, "Chaining"). In debug mode
  // (max_workers 0, or LOX_DEBUG=1) the task runs before this returns (a
  // dependent: in the thread that completes its last predecessor).
  //
  // Cost without task arguments: one heap allocation (the record, which is
  // also the task's shared state), the argument moves, the C scatter (a
  // short critical section); no C handle is made. With task arguments: the
  // C layer's node and one completion callback besides. Throws lox::error
  // (LOX_EINVAL for a moved-from pool, LOX_ENOMEM, LOX_ESYS) and then
  // nothing was queued; std::bad_alloc or an argument's copy exception
  // likewise leave nothing behind.
  template <class... Args>
  task<R> scatter(Args&&... args) {
    using rec_t = detail::record_for<F, R, Args&&...>;
    auto rec = std::make_unique<rec_t>(std::forward<Args>(args)...);
    rec->epoch_src_ = epoch_ ? epoch_.get() : detail::never_cancelled();
    rec->epoch_ = rec->epoch_src_->load(std::memory_order_relaxed);
    rec->init_refs(2);  // the round's and the returned task's
    detail::state_base* arg = rec.get();
    std::size_t index = 0;
    if constexpr (!detail::any_task_arg<Args...>) {
      const int st = lox_thread_scatter(this->handle_, arg, &index);
      if (st != LOX_OK) throw error(st, lox_last_error());
    } else {
      const auto after = std::apply([](const auto&... a) { return detail::predecessor_handles(a...); }, *rec->args);
      lox_scatter_opts o;
      lox_scatter_opts_init(&o);
      o.after = after.data();
      o.n_after = after.size();
      lox_task* node = nullptr;
      const int st = lox_thread_scatter_ex(this->handle_, nullptr, nullptr, arg, &o, &index, &node);
      if (st != LOX_OK) throw error(st, lox_last_error());
      rec->node_ = node;
      // Out of memory here leaves only this: if the task then never runs,
      // its record is leaked rather than freed under the pool.
      static_cast<void>(lox_task_on_done(node, &detail::chained_done<R>, arg));
    }
    rec->set_index(index);
    return detail::adopt_task<R>(rec.release());  // also owned by the C pool's task until gathered
  }

  // Cancels every task scattered to this pool before the call that has not
  // started: each is skipped when a worker reaches it (it never runs; its
  // status is LOX_ECANCELLED, its dependents fail with LOX_EDEPENDENCY),
  // and the gathers return these rounds as usual with every task's
  // status; tasks that finished keep their results. Running tasks see
  // lox::cancelled() turn true. Tasks scattered afterwards run normally
  // (in the same round, if it was not gathered yet). This layer's own
  // counter rather than lox_thread_cancel: the C cancel completes queued
  // tasks without calling them, so their records could not be freed.
  // May be called from a task. Throws nothing.
  void cancel() noexcept {
    if (epoch_) epoch_->fetch_add(1, std::memory_order_relaxed);
  }

  // Used by lox::thread(...), which is how pools are made (the tag keeps
  // this constructor out of the way).
  template <class G>
  thread_pool(detail::make_pool_tag, std::size_t max_workers, const thread_options& options, G&& fn)
      : base(max_workers, std::forward<G>(fn)), epoch_(std::make_unique<std::atomic<std::uint64_t>>(0)) {
    lox_thread_opts o;
    lox_thread_opts_init(&o);
    o.idle_timeout = options.idle_timeout.count();
    check(lox_thread_create_ex(max_workers, &detail::task_trampoline<R>, static_cast<void*>(this->fn_.get()), &o,
                               &this->handle_));
  }

  // The destructor and moves of pool_base, with the cancel counter kept
  // until every record was gathered (the records read it until they ran).
  ~thread_pool() { detail::thread_kind::close<R>(this->handle_, this->fn_); }
  thread_pool(thread_pool&&) noexcept = default;
  thread_pool& operator=(thread_pool&&) noexcept = default;

 private:
  // pool::cancel()'s counter, on the heap so records keep its address
  // across moves; read by a task only while it runs.
  std::unique_ptr<std::atomic<std::uint64_t>> epoch_;
};

// Creates a thread pool running `fn`:
//
//   lox::thread(max_workers, options, fn)
//   lox::thread(max_workers, fn)         // thread_options{}
//   lox::thread(fn)                      // LOX_DEFAULT_WORKERS: lox's bare `@lox.thread`
//   auto foo = lox::thread(4, [](int x, int y) { return x * y; });
//
// on at most `max_workers` threads (LOX_DEFAULT_WORKERS = lox's 50; 0 =
// debug mode, tasks run inline in scatter). Threads start on demand and
// exit after `options.idle_timeout` without work; none is started here.
// `fn` is copied or moved into the pool.
//
// R, the result type, is deduced from `fn`'s signature; a generic lambda or an
// overloaded call operator must name it: `lox::thread<std::string>(4, fn)`.
// Throws lox::error (LOX_EINVAL for a NaN or negative idle_timeout,
// LOX_ENOMEM).
template <class R = detail::deduce_result, class... Args>
auto thread(Args&&... args) {
  return detail::make_pool<thread_pool, thread_options, detail::pool_result, R>::from(std::forward<Args>(args)...);
}

}  // namespace lox

#endif  // LOX_THREAD_HPP
