// SPDX-License-Identifier: Apache-2.0

package lox

// Only declarations may appear in the preamble of a file with //export.

/*
#include <stddef.h>
#include <stdint.h>
*/
import "C"

// runner is what a thread-pool task's cgo.Handle holds.
type runner interface {
	// run calls the task's Go function, recovering a panic, and reports
	// whether it succeeded.
	run() bool
}

// goLoxTask is called by liblox on one of its worker threads (a thread
// the Go runtime did not create) through the C trampoline gx_task. No
// panic leaves it: run recovers the task's panics.
//
//export goLoxTask
func goLoxTask(pool, arg C.uintptr_t) (st C.int) {
	defer func() { // never let a panic cross into C (e.g. a bad handle)
		if recover() != nil {
			st = 1
		}
	}()
	r, ok := handleValue(uintptr(arg)).(runner)
	if !ok {
		return 1
	}
	if r.run() {
		return 0
	}
	return 1
}

//export goLoxProgress
func goLoxProgress(ctx C.uintptr_t, done, total C.size_t) {
	defer func() { _ = recover() }() // call recovers the callback's own panics
	if p, ok := handleValue(uintptr(ctx)).(*progressCall); ok {
		p.call(int(done), int(total))
	}
}

//export goLoxLog
func goLoxLog(level C.int, msg *C.char) {
	callLogHandler(LogLevel(level), C.GoString(msg))
}
