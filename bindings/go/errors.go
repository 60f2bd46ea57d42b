// SPDX-License-Identifier: Apache-2.0

package lox

/*
#include <lox/lox.h>
*/
import "C"

import (
	"fmt"
	"runtime/debug"
)

// Status is a liblox status code (LOX_OK, LOX_TIMEOUT, LOX_E*), or a
// process task's own failure code.
type Status int

// The liblox status codes, with the values of lox.h (its LOX_STATUS_MAP);
// String gives each one's lox_status_str text.
const (
	StatusOK         Status = C.LOX_OK          // success
	StatusTimeout    Status = C.LOX_TIMEOUT     // a timed wait ran out
	StatusInval      Status = C.LOX_EINVAL      // bad argument
	StatusNoMem      Status = C.LOX_ENOMEM      // allocation failed
	StatusState      Status = C.LOX_ESTATE      // not valid in the object's current state
	StatusClosed     Status = C.LOX_ECLOSED     // queue closed, pool or object shut down
	StatusTask       Status = C.LOX_ETASK       // gather: at least one task failed
	StatusWorker     Status = C.LOX_EWORKER     // a worker process died running the task
	StatusSys        Status = C.LOX_ESYS        // an operating-system call failed
	StatusCancelled  Status = C.LOX_ECANCELLED  // the task was cancelled
	StatusDependency Status = C.LOX_EDEPENDENCY // a predecessor failed or was cancelled; the task did not run
)

// String is liblox's text for the status (lox_status_str).
func (s Status) String() string { return statusName(s) }

// CName is the status's name in lox.h (lox_status_name), e.g.
// "LOX_EINVAL", or "LOX_UNKNOWN" for a value that is not a LOX_* code.
func (s Status) CName() string { return statusCName(s) }

// Error is a failed liblox call (or a failed process task). Code is the
// status, Name its lox_status_str text, Detail the lox_last_error() text
// of the failing call (or a detail made by this package), Op the call.
// Err, when set, is the underlying cause (for gather's StatusTask: the
// first failed task's error).
//
// errors.Is(err, ErrTimeout) (ErrClosed, ErrState, ...) matches any Error
// with that Code.
type Error struct {
	Op     string
	Code   Status
	Name   string
	Detail string
	Err    error
}

func newError(op string, code Status, detail string) *Error {
	return &Error{Op: op, Code: code, Name: statusName(code), Detail: detail}
}

func (e *Error) Error() string {
	s := "lox: "
	if e.Op != "" {
		s += e.Op + ": "
	}
	s += fmt.Sprintf("%s (%d)", e.Name, int(e.Code))
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Is reports whether target is the sentinel for e's status code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.sentinel() && t.Code == e.Code
}

// Unwrap returns the cause, if any.
func (e *Error) Unwrap() error { return e.Err }

func (e *Error) sentinel() bool { return e.Op == "" && e.Detail == "" && e.Err == nil }

// Sentinels for errors.Is.
var (
	ErrTimeout    = newSentinel(StatusTimeout)
	ErrInval      = newSentinel(StatusInval)
	ErrNoMem      = newSentinel(StatusNoMem)
	ErrState      = newSentinel(StatusState)
	ErrClosed     = newSentinel(StatusClosed)
	ErrTask       = newSentinel(StatusTask)
	ErrWorker     = newSentinel(StatusWorker)
	ErrSys        = newSentinel(StatusSys)
	ErrCancelled  = newSentinel(StatusCancelled)
	ErrDependency = newSentinel(StatusDependency)
)

func newSentinel(c Status) *Error { return &Error{Code: c, Name: statusName(c)} }

func closedError(op string) error {
	return newError(op, StatusClosed, "object is closed")
}

// PanicError is the error of a thread-pool task that panicked: the panic
// was recovered in the worker thread (it never crosses into C) and is
// reported as that task's error.
type PanicError struct {
	Value any    // the value passed to panic
	Stack []byte // the task's stack at the panic
}

func (p *PanicError) Error() string { return fmt.Sprintf("lox: task panicked: %v", p.Value) }

func newPanicError(v any) *PanicError { return &PanicError{Value: v, Stack: debug.Stack()} }
