// SPDX-License-Identifier: Apache-2.0

package lox

/*
#cgo pkg-config: lox
#include "gx.h"
*/
import "C"

import (
	"sync/atomic"
	"time"
	"unsafe"
)

// Forever as a timeout waits without limit (any negative duration does).
const Forever time.Duration = -1

// DefaultWorkers asks liblox for its default worker count: 50 threads for a
// thread pool, the number of online CPUs for a process pool.
const DefaultWorkers = -1

// secs converts a Go timeout to liblox's seconds: negative waits forever,
// 0 tries once.
func secs(d time.Duration) C.double {
	if d < 0 {
		return C.double(-1)
	}
	return C.double(d.Seconds())
}

func workersArg(n int) C.size_t {
	if n < 0 {
		return C.size_t(^uint(0)) // LOX_DEFAULT_WORKERS
	}
	return C.size_t(n)
}

// check turns a wrapper's return into a Go error (nil for LOX_OK) and frees
// the copied detail text.
func check(op string, r C.gx_ret) error {
	if r.detail != nil {
		defer C.free(unsafe.Pointer(r.detail))
	}
	if r.st == C.LOX_OK {
		return nil
	}
	e := newError(op, Status(r.st), "")
	if r.detail != nil {
		e.Detail = C.GoString(r.detail)
	}
	return e
}

// call makes a liblox call that does not block on g's object (ErrClosed
// once the object is closed) and turns its return into an error.
func (g *guard) call(op string, f func() C.gx_ret) error {
	if !g.enter() {
		return closedError(op)
	}
	defer g.leave()
	return check(op, f())
}

// waitCall makes a liblox call that may block or add work on g's object
// (ErrClosed once Close has begun) and turns its return into an error.
func (g *guard) waitCall(op string, f func() C.gx_ret) error {
	if !g.enterWait() {
		return closedError(op)
	}
	defer g.leave()
	return check(op, f())
}

// snapshot reads a counter of g's object, or zero once it is closed.
func snapshot[T any](g *guard, f func() T) T {
	var zero T
	if !g.enter() {
		return zero
	}
	defer g.leave()
	return f()
}

func statusName(st Status) string { return C.GoString(C.lox_status_str(C.int(st))) }

func statusCName(st Status) string { return C.GoString(C.lox_status_name(C.int(st))) }

// Version is the version of the loaded liblox, e.g. "0.1.0".
func Version() string { return C.GoString(C.lox_version_string()) }

// ---- handle accounting ----

var liveHandles atomic.Int64

func newHandle(v any) uintptr {
	liveHandles.Add(1)
	return uintptr(newCgoHandle(v))
}

func deleteHandle(h uintptr) {
	deleteCgoHandle(h)
	liveHandles.Add(-1)
}

// LiveHandles is the number of cgo.Handles this package holds right now
// (tasks scattered and not yet gathered, queue items not yet got, ...).
// A diagnostic: it returns to its earlier value once every pool, queue and
// gather is finished, which the tests use to prove nothing leaks.
func LiveHandles() int64 { return liveHandles.Load() }
