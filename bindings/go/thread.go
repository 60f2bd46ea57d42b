// SPDX-License-Identifier: Apache-2.0

package lox

/*
#include "gx.h"
*/
import "C"

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Result is one task's outcome: its value, or its error (a *PanicError if
// the task panicked).
type Result[T any] struct {
	Value T
	Err   error
}

// ThreadPool runs Go functions on liblox's worker threads (lox_thread).
//
// Each scattered function travels to C as a cgo.Handle in the task's
// argument; liblox calls a C trampoline on one of its own threads, which
// calls back into Go (a cgo callback from a foreign thread), runs the
// function with panics recovered, and hands the handle back through the
// round's results. Gather returns the values in scatter order and deletes
// the handles; Close deletes those of tasks never gathered. Every handle is
// deleted exactly once.
//
// All methods may be called from any number of goroutines, including from
// inside the pool's own tasks (Scatter; Gather and Close return an error
// matching ErrState there, because the round could never finish).
type ThreadPool[T any] struct {
	core *threadCore
}

// NewThreadPool creates a pool of at most workers threads (DefaultWorkers:
// liblox's default of 50). Threads start on demand and exit when idle.
// workers == 0 is liblox's debug mode: Scatter runs the task inline in the
// calling goroutine (LOX_DEBUG=1 in the environment forces it for every
// pool). Close the pool when done.
func NewThreadPool[T any](workers int, opts ...ThreadOption) (*ThreadPool[T], error) {
	cfg := threadConfig{idle: -1}
	for _, o := range opts {
		o(&cfg)
	}
	c, err := newThreadCore(workers, cfg.idle)
	if err != nil {
		return nil, err
	}
	return &ThreadPool[T]{core: c}, nil
}

// ThreadOption configures NewThreadPool.
type ThreadOption func(*threadConfig)

type threadConfig struct{ idle time.Duration }

// WithIdleTimeout sets how long a worker thread waits without work before
// it exits (liblox's default: 2 s; 0: as soon as there is no work).
func WithIdleTimeout(d time.Duration) ThreadOption {
	return func(c *threadConfig) {
		if d < 0 {
			d = 0
		}
		c.idle = d
	}
}

// task is one scattered function; its cgo.Handle is the C task argument.
type task[T any] struct {
	fn    func() (T, error)
	value T
	err   error
}

func (t *task[T]) run() (ok bool) {
	defer func() {
		if v := recover(); v != nil {
			t.err = newPanicError(v)
			ok = false
		}
	}()
	t.value, t.err = t.fn()
	return t.err == nil
}

// Scatter queues fn for a worker thread and returns its index in the
// results of the Gather that collects it (0, 1, 2, ... since the last
// Gather). fn returning an error or panicking fails only that task.
func (p *ThreadPool[T]) Scatter(fn func() (T, error)) (int, error) {
	if fn == nil {
		return 0, newError("thread scatter", StatusInval, "fn is nil")
	}
	return p.core.scatter(&task[T]{fn: fn})
}

// Gather waits for the round (every task scattered since the previous
// Gather began) and returns its results in scatter order. If any task
// failed, the results are still all returned, with an error matching
// ErrTask whose Unwrap is the first failed task's error. With WithTimeout,
// a wait that runs out returns an error matching ErrTimeout and loses
// nothing (a later Gather returns the round).
func (p *ThreadPool[T]) Gather(opts ...GatherOption) ([]Result[T], error) {
	tasks, err := p.core.gather(opts)
	if tasks == nil {
		return nil, err
	}
	out := make([]Result[T], len(tasks))
	var first error
	failed := 0
	for i, r := range tasks {
		t, ok := r.(*task[T])
		if !ok {
			out[i].Err = newError("thread gather", StatusState, fmt.Sprintf("task %d: result missing", i))
		} else {
			out[i] = Result[T]{Value: t.value, Err: t.err}
		}
		if out[i].Err != nil {
			failed++
			if first == nil {
				first = fmt.Errorf("task %d: %w", i, out[i].Err)
			}
		}
	}
	if failed > 0 {
		e := newError("thread gather", StatusTask, fmt.Sprintf("%d of %d tasks failed", failed, len(out)))
		e.Err = first
		return out, e
	}
	return out, err
}

// Close runs every task already scattered to completion (liblox runs queued
// tasks rather than cancel them), joins the worker threads, frees the pool
// and deletes the handles of tasks that were never gathered. It waits for
// Gathers in progress in other goroutines; calls that start during or after
// Close fail with ErrClosed. Closing twice returns nil. Called from inside
// one of the pool's own tasks it returns an error matching ErrState.
func (p *ThreadPool[T]) Close() error { return p.core.close() }

// Workers is the number of live worker threads now (0 after Close).
func (p *ThreadPool[T]) Workers() int { return p.core.workers() }

// Pending is the number of tasks scattered but not yet picked up by a
// worker (lox's len()); a snapshot. 0 after Close.
func (p *ThreadPool[T]) Pending() int { return p.core.pending() }

// ---- the non-generic part (cgo and generics stay apart) ----

var poolIDs atomic.Uint64

type threadCore struct {
	g    guard
	p    *C.lox_thread
	id   uintptr
	mu   sync.Mutex
	live map[uintptr]struct{} // handles scattered and not yet gathered
}

func newThreadCore(workers int, idle time.Duration) (*threadCore, error) {
	c := &threadCore{id: uintptr(poolIDs.Add(1)), live: map[uintptr]struct{}{}}
	r := C.gx_thread_create(workersArg(workers), C.uintptr_t(c.id), secs(idle))
	if err := check("thread create", r); err != nil {
		return nil, err
	}
	c.p = (*C.lox_thread)(r.ptr)
	return c, nil
}

func (c *threadCore) scatter(r runner) (int, error) {
	if !c.g.enterWait() {
		return 0, closedError("thread scatter")
	}
	defer c.g.leave()
	h := newHandle(r)
	c.mu.Lock()
	c.live[h] = struct{}{}
	c.mu.Unlock()
	ret := C.gx_thread_scatter(c.p, C.uintptr_t(h))
	if err := check("thread scatter", ret); err != nil {
		c.mu.Lock()
		delete(c.live, h)
		c.mu.Unlock()
		deleteHandle(h)
		return 0, err
	}
	return int(ret.val), nil
}

func (c *threadCore) inTask() bool { return C.gx_in_task(C.uintptr_t(c.id)) != 0 }

// gather returns the round's task objects in order (their handles deleted).
func (c *threadCore) gather(opts []GatherOption) ([]any, error) {
	cfg := makeGatherConfig(opts)
	if !c.g.enterWait() {
		return nil, closedError("thread gather")
	}
	defer c.g.leave()
	if c.inTask() {
		return nil, newError("thread gather", StatusState, "called from inside one of this pool's own tasks")
	}
	res, release, err := gatherRound("thread gather", &cfg, func(t C.double, prog C.uintptr_t, bar C.int) C.gx_ret {
		return C.gx_thread_gather(c.p, t, prog, bar)
	})
	defer release()
	if err != nil {
		return nil, err
	}
	defer C.lox_results_destroy(res)
	n := int(C.lox_results_count(res))
	out := make([]any, n)
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := 0; i < n; i++ {
		h := uintptr(C.gx_results_value(res, C.size_t(i)))
		if _, ok := c.live[h]; !ok || h == 0 {
			continue // never: every task hands its handle back
		}
		delete(c.live, h)
		out[i] = handleValue(h)
		deleteHandle(h)
	}
	return out, nil
}

func (c *threadCore) close() error {
	if c.inTask() {
		return newError("thread close", StatusState, "called from inside one of this pool's own tasks")
	}
	if !c.g.close() {
		return nil
	}
	defer c.g.done()
	C.lox_thread_destroy(c.p) // runs every queued task first
	c.p = nil
	c.mu.Lock()
	for h := range c.live {
		deleteHandle(h)
	}
	c.live = nil
	c.mu.Unlock()
	return nil
}

func (c *threadCore) workers() int {
	return snapshot(&c.g, func() int { return int(C.lox_thread_workers(c.p)) })
}

func (c *threadCore) pending() int {
	return snapshot(&c.g, func() int { return int(C.lox_thread_pending(c.p)) })
}
