// SPDX-License-Identifier: Apache-2.0

package lox

/*
#include "gx.h"
*/
import "C"

import (
	"time"
	"unsafe"
)

// Queue is a closable multi-producer multi-consumer FIFO of T values over
// lox_queue (Python's queue.Queue plus close). Each value travels through
// liblox as a cgo.Handle: Put creates it, the Get that receives the value
// deletes it, and Destroy deletes those of values still inside. Every
// value put is got exactly once (unless it is still inside at Destroy).
//
// All methods may be called from any number of goroutines. Timeouts:
// Forever (negative) waits without limit, 0 tries once; a wait that runs
// out returns an error matching ErrTimeout and leaves no trace.
type Queue[T any] struct {
	c *queueCore
}

// NewQueue creates an empty queue holding at most maxsize values (0:
// unbounded). Destroy it when done.
func NewQueue[T any](maxsize int) (*Queue[T], error) {
	if maxsize < 0 {
		return nil, newError("queue create", StatusInval, "negative maxsize")
	}
	c, err := newQueueCore(maxsize)
	if err != nil {
		return nil, err
	}
	return &Queue[T]{c: c}, nil
}

// Put appends v, waiting for room if the queue is full. An error matching
// ErrClosed once the queue is closed.
func (q *Queue[T]) Put(v T) error { return q.PutTimeout(v, Forever) }

// PutTimeout appends v, waiting at most timeout for room (ErrTimeout:
// nothing was put).
func (q *Queue[T]) PutTimeout(v T, timeout time.Duration) error {
	return q.c.put(v, timeout)
}

// Get removes the oldest value, waiting for one. After Close, Get drains
// what is left and then returns an error matching ErrClosed.
func (q *Queue[T]) Get() (T, error) { return q.GetTimeout(Forever) }

// GetTimeout removes the oldest value, waiting at most timeout
// (ErrTimeout: the queue stayed empty).
func (q *Queue[T]) GetTimeout(timeout time.Duration) (T, error) {
	v, err := q.c.get(timeout)
	if err != nil {
		var zero T
		return zero, err
	}
	t, _ := v.(T) // a nil interface value comes back as T's zero value
	return t, nil
}

// Close closes the queue: later Puts fail with ErrClosed, Gets drain the
// values left and then fail with ErrClosed, and every blocked Put and Get
// wakes up. A Put either took effect before the Close (its value will be
// got) or fails: nothing is lost. Closing twice is fine. Close does not
// free the queue: call Destroy.
func (q *Queue[T]) Close() error { return q.c.close() }

// Closed reports whether Close was called.
func (q *Queue[T]) Closed() bool { return q.c.flag(closedFlag) }

// TaskDone marks one value that was got as fully processed
// (queue.Queue.task_done); ErrState if called more often than values were
// got.
func (q *Queue[T]) TaskDone() error { return q.c.taskDone() }

// Join waits until every value ever put has been got and marked with
// TaskDone.
func (q *Queue[T]) Join() error { return q.c.join(Forever) }

// JoinTimeout is Join waiting at most timeout (ErrTimeout).
func (q *Queue[T]) JoinTimeout(timeout time.Duration) error { return q.c.join(timeout) }

// Len is the number of values in the queue now (a snapshot).
func (q *Queue[T]) Len() int { return q.c.size() }

// MaxSize is the maxsize given to NewQueue (0: unbounded).
func (q *Queue[T]) MaxSize() int { return q.c.maxsize }

// Empty reports whether the queue is empty (a snapshot).
func (q *Queue[T]) Empty() bool { return q.c.flag(emptyFlag) }

// Full reports whether a bounded queue holds maxsize values (a snapshot).
func (q *Queue[T]) Full() bool { return q.c.flag(fullFlag) }

// Destroy closes the queue (waking blocked Puts and Gets), waits for the
// calls in progress (a Join still waiting keeps it waiting), deletes the
// handles of the values left inside and frees the queue. Later calls fail
// with ErrClosed. Destroying twice is fine.
func (q *Queue[T]) Destroy() error { return q.c.destroy() }

// ---- the non-generic part ----

type queueCore struct {
	g       guard
	q       *C.lox_queue
	maxsize int
}

func newQueueCore(maxsize int) (*queueCore, error) {
	r := C.gx_queue_create(C.size_t(maxsize))
	if err := check("queue create", r); err != nil {
		return nil, err
	}
	return &queueCore{q: (*C.lox_queue)(r.ptr), maxsize: maxsize}, nil
}

func (c *queueCore) put(v any, timeout time.Duration) error {
	if !c.g.enterWait() {
		return closedError("queue put")
	}
	defer c.g.leave()
	h := newHandle(v)
	if err := check("queue put", C.gx_queue_put(c.q, C.uintptr_t(h), secs(timeout))); err != nil {
		deleteHandle(h) // not put: nobody will get it
		return err
	}
	return nil
}

func (c *queueCore) get(timeout time.Duration) (any, error) {
	if !c.g.enterWait() {
		return nil, closedError("queue get")
	}
	defer c.g.leave()
	r := C.gx_queue_get(c.q, secs(timeout))
	if err := check("queue get", r); err != nil {
		return nil, err
	}
	h := uintptr(r.val)
	v := handleValue(h)
	deleteHandle(h)
	return v, nil
}

func (c *queueCore) close() error {
	return c.g.call("queue close", func() C.gx_ret { return C.gx_queue_close(c.q) })
}

func (c *queueCore) taskDone() error {
	return c.g.call("queue task_done", func() C.gx_ret { return C.gx_queue_task_done(c.q) })
}

func (c *queueCore) join(timeout time.Duration) error {
	return c.g.waitCall("queue join", func() C.gx_ret { return C.gx_queue_join(c.q, secs(timeout)) })
}

func (c *queueCore) size() int {
	return snapshot(&c.g, func() int { return int(C.lox_queue_size(c.q)) })
}

const (
	closedFlag = iota
	emptyFlag
	fullFlag
)

func (c *queueCore) flag(which int) bool {
	if !c.g.enter() {
		return false
	}
	defer c.g.leave()
	switch which {
	case closedFlag:
		return C.lox_queue_closed(c.q) == 1
	case emptyFlag:
		return C.lox_queue_empty(c.q) == 1
	default:
		return C.lox_queue_full(c.q) == 1
	}
}

func (c *queueCore) destroy() error {
	if err := c.close(); err != nil { // wakes blocked puts and gets
		return nil // already destroyed
	}
	if !c.g.close() {
		return nil
	}
	defer c.g.done()
	for { // closed: gets drain what is left, then ECLOSED
		r := C.gx_queue_get(c.q, 0)
		if r.detail != nil {
			C.free(unsafe.Pointer(r.detail))
		}
		if r.st != C.LOX_OK {
			break
		}
		deleteHandle(uintptr(r.val))
	}
	C.lox_queue_destroy(c.q)
	c.q = nil
	return nil
}
