// SPDX-License-Identifier: Apache-2.0
// liblox — the C++ layer.
//
// A header-only, C++17-compatible layer over the stable C ABI in <lox/lox.h>.
// It owns no concurrency logic of its own: every wait, every thread and every
// ordering guarantee comes from the `lox_*` C calls underneath. What it adds
// is type conversion and ownership:
//
//   - any callable with any number of arguments of any movable types, and a
//     result of any movable type, instead of `void *` in and out (for the
//     process pool: types lox::codec can encode, which cross as bytes);
//   - RAII: a pool is a move-only object whose destructor destroys the C pool
//     and frees everything it scattered;
//   - exceptions: a task's exception is rethrown by `gather()` in the
//     gathering thread (never across the C boundary; a process task's comes
//     back as `lox::error` with its what() text), a failing C call becomes
//     `lox::error`, and a timeout is never one (`try_*` return an empty
//     `std::optional` / `false`). Thread safety is the C layer's.
//
// Quick tour:
//
//   auto foo = lox::thread(4, [](int x, int y) { return x * y; });
//   foo(3, 4);                                   // 12, plain call
//   for (int i = 0; i < 5; ++i) foo.scatter(i, i + 1);
//   std::vector<int> r = foo.gather();           // {0, 2, 6, 12, 20}
//
//   auto job = lox::process(2, [](const std::string& s) { return s.size(); });
//   job.scatter("abc");                          // runs in a forked worker
//   std::vector<std::size_t> sizes = job.gather();  // {3}
//
//   lox::rw_lock rw;
//   { auto r = rw.read(); /* shared */ }  { auto w = rw.write(); /* exclusive */ }
//   lox::lock room; lox::light_switch people(room);
//   { std::scoped_lock in(people); /* many at once */ }  { std::scoped_lock j(room); /* alone */ }
//
//   lox::queue<Job*> q(64);                      // bounded, closable
//   for (Job* j : q) run(j);                     // in workers: until closed and drained
//   q.put(job); q.close(); q.join();             // producer: feed, close, wait
//
// The layer is split by concept; this header includes all of it:
//   <lox/error.hpp>    lox::error, lox::check, lox::outcome
//   <lox/task.hpp>     lox::task (scatter's result), chaining, when_all,
//                      as_completed, cancellation
//   <lox/thread.hpp>   lox::thread, lox::thread_pool
//   <lox/codec.hpp>    lox::codec (values as bytes)
//   <lox/process.hpp>  lox::process, lox::process_pool
//   <lox/sync.hpp>     lock, light_switch, rw_lock, qlock, index_semaphore
//   <lox/queue.hpp>    queue, announcement, funnel
// <lox/detail/...> is not part of the API.
#ifndef LOX_LOX_HPP
#define LOX_LOX_HPP

#include <lox/error.hpp>
#include <lox/task.hpp>
#include <lox/thread.hpp>
#include <lox/codec.hpp>
#include <lox/process.hpp>
#include <lox/sync.hpp>
#include <lox/queue.hpp>

#endif  // LOX_LOX_HPP
