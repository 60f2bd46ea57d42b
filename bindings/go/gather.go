// SPDX-License-Identifier: Apache-2.0

package lox

/*
#include "gx.h"
*/
import "C"

import (
	"sync"
	"time"
)

// GatherOption configures a Gather.
type GatherOption func(*gatherConfig)

type gatherConfig struct {
	timeout  time.Duration
	progress func(done, total int)
	bar      bool
}

// WithTimeout bounds the wait. When it runs out, Gather returns an error
// matching ErrTimeout and loses nothing: the round goes on and a later
// Gather returns it. Negative (Forever, the default) waits for the round.
func WithTimeout(d time.Duration) GatherOption {
	return func(c *gatherConfig) { c.timeout = d }
}

// WithProgress calls fn(done, total) in the gathering goroutine, never
// concurrently, as tasks of the round finish; the last call has
// done == total (also (0, 0) for an empty round). fn must not gather on the
// same pool. A panic in fn is recovered and re-raised by Gather once the
// wait is over (after the round's results have been released).
func WithProgress(fn func(done, total int)) GatherOption {
	return func(c *gatherConfig) { c.progress = fn }
}

// WithProgressBar draws liblox's progress bar on stderr when stderr is a
// terminal.
func WithProgressBar() GatherOption {
	return func(c *gatherConfig) { c.bar = true }
}

func makeGatherConfig(opts []GatherOption) gatherConfig {
	c := gatherConfig{timeout: Forever}
	for _, o := range opts {
		o(&c)
	}
	return c
}

// progressCall is what a gather's progress cgo.Handle holds.
type progressCall struct {
	fn       func(done, total int)
	mu       sync.Mutex
	panicked bool
	value    any
}

func (p *progressCall) call(done, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.panicked {
		return
	}
	defer func() {
		if v := recover(); v != nil {
			p.panicked, p.value = true, v
		}
	}()
	p.fn(done, total)
}

// progressHandle returns the handle to pass to C (0 when there is no
// callback) and a function that releases it and re-raises a panic of the
// callback. The release must run after the C gather returned.
func progressHandle(c *gatherConfig) (uintptr, func()) {
	if c.progress == nil {
		return 0, func() {}
	}
	p := &progressCall{fn: c.progress}
	h := newHandle(p)
	return h, func() {
		deleteHandle(h)
		if p.panicked {
			panic(p.value)
		}
	}
}

// gatherRound makes a pool's gather call (gather: timeout, progress handle,
// bar) with the options of cfg. The caller destroys the results, and runs
// release once it is done with them, also on error: release re-raises a
// panic of the progress callback.
func gatherRound(op string, cfg *gatherConfig, gather func(C.double, C.uintptr_t, C.int) C.gx_ret) (
	res *C.lox_results, release func(), err error,
) {
	prog, release := progressHandle(cfg)
	bar := C.int(0)
	if cfg.bar {
		bar = 1
	}
	r := gather(secs(cfg.timeout), C.uintptr_t(prog), bar)
	if err := check(op, r); err != nil {
		return nil, release, err
	}
	return (*C.lox_results)(r.ptr), release, nil
}
