// SPDX-License-Identifier: Apache-2.0

// Package lox is the Go binding of liblox, a C++20 concurrency library
// (thread pool, fork/pipe process pool, locks, queues) with a C ABI
// (lox/lox.h). It is built with cgo against an installed liblox found by
// pkg-config (`#cgo pkg-config: lox`).
//
// # What is wrapped
//
//   - ThreadPool[T]: runs Go functions on liblox's worker threads
//     (Scatter/Gather in scatter order, per-task errors, panics recovered
//     and reported as *PanicError, gather timeout and progress callback,
//     Workers, Pending, Close).
//   - ProcessPool: liblox's process pool with a task written in C
//     (NewProcessPoolC); see "Process pools and Go" below.
//   - Lock, LightSwitch, RWLock (writer-preferring), QLock (FIFO),
//     IndexSemaphore: acquire with a timeout, any goroutine may release.
//   - Queue[T]: closable MPMC FIFO with Put/Get timeouts, Close,
//     TaskDone/Join, Len.
//   - Announcement[T]: many receive queues to many (the creator is a
//     member too, as in lox), with a backlog.
//   - Funnel[T]: join values of several inputs by job id.
//   - Error: status code, lox_status_str name and lox_last_error detail;
//     errors.Is(err, ErrTimeout) (ErrClosed, ErrState, ...) tests the code.
//   - SetLogLevel, SetLogHandler, Version.
//
// Timeouts are time.Duration: Forever (any negative value) waits without
// limit, 0 tries once. A wait that runs out returns an error matching
// ErrTimeout and changes nothing.
//
// # How Go functions run on liblox threads
//
// ThreadPool.Scatter wraps the function in a cgo.Handle and passes the
// handle as the task's void* argument. liblox calls a C trampoline on one
// of its own threads, which calls an //export'ed Go function (a cgo
// callback from a thread the Go runtime did not create). That function
// runs the task with a deferred recover, so no Go panic ever crosses the C
// boundary: the panic becomes that task's error. The handle comes back in
// the round's results; Gather deletes it, and Close deletes the handles of
// tasks never gathered. Queue values travel the same way. LiveHandles
// counts the handles the package holds, for leak checks.
//
// # Process pools and Go
//
// Go functions cannot run in a process pool. lox_process_create forks (a
// fork server, which forks every worker), and the child of a fork of a Go
// program holds a copy of only the forking thread: the Go runtime's other
// threads, its scheduler, garbage collector and signal handling do not
// survive, so running Go code in the child (a task, a callback, even an
// allocation) can deadlock or crash. This binding therefore only offers
// NewProcessPoolC, whose task is a C function (lox_process_fn) that runs in
// the child and never returns into Go; before the task first runs in a
// worker, every signal gets its default action back, so a crash in the C
// task kills only that worker (ErrWorker) instead of entering Go's
// handler. What works instead of Go code in a process pool:
//
//   - goroutines or ThreadPool for Go work (Go code is not limited by a
//     global interpreter lock, so threads already use every core);
//   - a C task with NewProcessPoolC for native work that needs process
//     isolation (crashes, leaks, per-task kill on timeout);
//   - os/exec of a Go worker binary (a fresh Go process, not a fork) when
//     Go code needs isolation.
//
// # Closing
//
// Every object must be closed (Queue: destroyed) to free its C memory; no
// finalizers are set. Close waits for calls in progress on the object;
// from the moment it begins, calls that may wait or add work fail with an
// error matching ErrClosed, while releases and counters still work (so a
// goroutine blocked in an acquire can still be let through), and once it
// returns every call fails with ErrClosed. ThreadPool.Close runs every
// task already scattered; ProcessPool.Close drops unfinished tasks.
package lox
