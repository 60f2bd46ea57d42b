// SPDX-License-Identifier: Apache-2.0

package lox

/*
#include "gx.h"
*/
import "C"

import (
	"strconv"
	"time"
	"unsafe"
)

// ProcessPool is liblox's fork/pipe process pool (lox_process) with a task
// written in C.
//
// Go functions cannot run in its workers: lox_process_create forks, and a
// fork of a Go program has only the forking thread — no scheduler, no GC,
// no other Ms — so any Go code in the child can deadlock or crash. The
// task is therefore a C function (a lox_process_fn, typically defined in
// the cgo preamble of one of your files) and the child only ever runs C
// code. See NewProcessPoolC and the package documentation for the
// alternatives (the thread pool, os/exec of a Go worker binary).
type ProcessPool struct {
	g    guard
	p    *C.lox_process
	shim C.uintptr_t
}

// ProcessOptions are the process pool's settings (zero values: liblox's
// defaults).
type ProcessOptions struct {
	// TaskTimeout kills a task (and its worker, which is replaced) that
	// runs longer; its status is then StatusTimeout. 0: no limit.
	TaskTimeout time.Duration
	// MaxMessage is the largest input or result in bytes (0: 1 GiB).
	MaxMessage int
}

// NewProcessPoolC creates a pool of at most workers worker processes
// (DefaultWorkers: the number of online CPUs; 0: run each task inline in
// the scattering goroutine, in this process) running the C function fn,
// a lox_process_fn:
//
//	int fn(void *ctx, const void *in, size_t in_len, lox_buffer *out);
//
// fn runs in a forked worker on a copy of each input and appends its
// result with lox_buffer_append; it returns 0, or a failure code of its own
// (best > 1, to stay apart from StatusTimeout and the negative codes) with
// the bytes appended as the error detail. fn and ctx (which is not
// dereferenced by Go) must be C memory set up before this call: a worker is
// a copy of this process as it was at create. fn must not call into Go,
// directly or through an exported function. In workers, every signal is
// given its default action before fn first runs (the Go runtime's handlers
// are useless there), so a crash in fn kills the worker: that task fails
// with an error matching ErrWorker, the worker is replaced and the other
// tasks are unaffected.
func NewProcessPoolC(workers int, fn, ctx unsafe.Pointer, opts *ProcessOptions) (*ProcessPool, error) {
	if fn == nil {
		return nil, newError("process create", StatusInval, "fn is nil")
	}
	var o ProcessOptions
	if opts != nil {
		o = *opts
	}
	tt := C.double(0)
	if o.TaskTimeout > 0 {
		tt = secs(o.TaskTimeout)
	} else if o.TaskTimeout < 0 {
		return nil, newError("process create", StatusInval, "negative TaskTimeout")
	}
	if o.MaxMessage < 0 {
		return nil, newError("process create", StatusInval, "negative MaxMessage")
	}
	r := C.gx_process_create(workersArg(workers), fn, ctx, tt, C.size_t(o.MaxMessage))
	if err := check("process create", r); err != nil {
		return nil, err
	}
	return &ProcessPool{p: (*C.lox_process)(r.ptr), shim: C.uintptr_t(r.val)}, nil
}

// Scatter copies in into a new task of the current round and returns its
// index in the round's results.
func (p *ProcessPool) Scatter(in []byte) (int, error) {
	if !p.g.enterWait() {
		return 0, closedError("process scatter")
	}
	defer p.g.leave()
	var ptr unsafe.Pointer
	if len(in) > 0 {
		ptr = unsafe.Pointer(&in[0]) // liblox copies it during the call
	}
	r := C.gx_process_scatter(p.p, ptr, C.size_t(len(in)))
	if err := check("process scatter", r); err != nil {
		return 0, err
	}
	return int(r.val), nil
}

// ByteResult is one process task's outcome: the bytes it produced, its
// status (0 for success, the task's own code, StatusWorker or
// StatusTimeout) and, on failure, an *Error carrying that status and
// liblox's detail text.
type ByteResult struct {
	Data   []byte
	Status Status
	Err    error
}

// Gather waits for the round and returns its results in scatter order, as
// ThreadPool.Gather (ErrTask when a task failed, results still delivered;
// WithTimeout loses nothing).
func (p *ProcessPool) Gather(opts ...GatherOption) ([]ByteResult, error) {
	cfg := makeGatherConfig(opts)
	if !p.g.enterWait() {
		return nil, closedError("process gather")
	}
	defer p.g.leave()
	res, release, err := gatherRound("process gather", &cfg, func(t C.double, prog C.uintptr_t, bar C.int) C.gx_ret {
		return C.gx_process_gather(p.p, t, prog, bar)
	})
	defer release()
	if err != nil {
		return nil, err
	}
	defer C.lox_results_destroy(res)
	n := int(C.lox_results_count(res))
	out := make([]ByteResult, n)
	failed := 0
	var first error
	for i := 0; i < n; i++ {
		st := Status(C.lox_results_status(res, C.size_t(i)))
		b := C.gx_results_bytes(res, C.size_t(i))
		if b.detail != nil {
			C.free(unsafe.Pointer(b.detail))
		}
		if b.st == C.LOX_OK && b.val > 0 {
			out[i].Data = C.GoBytes(b.ptr, C.int(b.val))
		} else {
			out[i].Data = []byte{}
		}
		out[i].Status = st
		if st != StatusOK {
			e := &Error{Op: "process task", Code: st, Name: statusName(st)}
			if d := C.lox_results_error(res, C.size_t(i)); d != nil {
				e.Detail = C.GoString(d)
			}
			out[i].Err = e
			failed++
			if first == nil {
				first = e
			}
		}
	}
	if failed > 0 {
		e := newError("process gather", StatusTask, strconv.Itoa(failed)+" of "+strconv.Itoa(n)+" tasks failed")
		e.Err = first
		return out, e
	}
	return out, nil
}

// Workers is the number of worker processes alive now (0 after Close).
func (p *ProcessPool) Workers() int {
	return snapshot(&p.g, func() int { return int(C.lox_process_workers(p.p)) })
}

// Pending is the number of tasks scattered but not yet started.
func (p *ProcessPool) Pending() int {
	return snapshot(&p.g, func() int { return int(C.lox_process_pending(p.p)) })
}

// Close destroys the pool: unfinished tasks are dropped, every worker and
// the fork server are killed and reaped. It waits for Gathers in progress.
// Closing twice returns nil.
func (p *ProcessPool) Close() error {
	if !p.g.close() {
		return nil
	}
	defer p.g.done()
	C.gx_process_destroy(p.p, p.shim)
	p.p = nil
	return nil
}
