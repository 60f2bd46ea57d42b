// SPDX-License-Identifier: Apache-2.0

package lox

/*
#include "gx.h"
*/
import "C"

import (
	"sync"
	"time"
	"unsafe"
)

// Funnel joins the results of several inputs by job id (lox_funnel): when
// every input has put a value for a job id, the set is complete and comes
// out of the top, values in input order. NewFunnel returns the top;
// Subscribe adds inputs. Each handle (top or input) is closed on its own;
// the funnel lives until its last handle is closed.
//
// Values travel as cgo.Handles: the Get that receives a set deletes its
// handles, and closing the funnel's last handle deletes those of values
// still waiting in incomplete sets.
type Funnel[T any] struct {
	c *funnelCore
}

// NewFunnel creates a funnel and returns its top.
func NewFunnel[T any]() (*Funnel[T], error) {
	c, err := newFunnelTop()
	if err != nil {
		return nil, err
	}
	return &Funnel[T]{c: c}, nil
}

// Subscribe adds an input (numbered 0, 1, ... in subscription order; see
// Index). f may be the top or any input. Sets not yet complete wait for
// the new input too.
func (f *Funnel[T]) Subscribe() (*Funnel[T], error) {
	c, err := f.c.subscribe()
	if err != nil {
		return nil, err
	}
	return &Funnel[T]{c: c}, nil
}

// Put puts v for job jid on this input. Never blocks. ErrState on the top.
func (f *Funnel[T]) Put(jid uint64, v T) error { return f.c.put(jid, v) }

// Get takes the oldest complete set from the top, waiting for one.
func (f *Funnel[T]) Get() (uint64, []T, error) { return f.GetTimeout(Forever) }

// GetTimeout is Get waiting at most timeout (ErrTimeout). ErrState on an
// input.
func (f *Funnel[T]) GetTimeout(timeout time.Duration) (uint64, []T, error) {
	jid, vals, err := f.c.get(timeout)
	if err != nil {
		return 0, nil, err
	}
	out := make([]T, len(vals))
	for i, v := range vals {
		out[i], _ = v.(T)
	}
	return jid, out, nil
}

// Inputs is the number of inputs subscribed so far.
func (f *Funnel[T]) Inputs() int { return f.c.count(0) }

// Ready is the number of complete sets waiting at the top now.
func (f *Funnel[T]) Ready() int { return f.c.count(1) }

// Index is the input's number (0, 1, ...), -1 for the top.
func (f *Funnel[T]) Index() int { return f.c.count(2) }

// Close destroys this handle. The last Close of the funnel also deletes
// the handles of values never got.
func (f *Funnel[T]) Close() error { return f.c.close() }

// ---- the non-generic part ----

// funnelGroup is shared by the handles of one funnel: the values put and
// not yet got, and the number of open handles.
type funnelGroup struct {
	mu   sync.Mutex
	live map[uintptr]struct{}
	open int
}

type funnelCore struct {
	g   guard
	f   *C.lox_funnel
	grp *funnelGroup
}

func newFunnelTop() (*funnelCore, error) {
	r := C.gx_funnel_create()
	if err := check("funnel create", r); err != nil {
		return nil, err
	}
	return &funnelCore{f: (*C.lox_funnel)(r.ptr), grp: &funnelGroup{live: map[uintptr]struct{}{}, open: 1}}, nil
}

func (c *funnelCore) subscribe() (*funnelCore, error) {
	if !c.g.enterWait() {
		return nil, closedError("funnel subscribe")
	}
	defer c.g.leave()
	r := C.gx_funnel_subscribe(c.f)
	if err := check("funnel subscribe", r); err != nil {
		return nil, err
	}
	c.grp.mu.Lock()
	c.grp.open++
	c.grp.mu.Unlock()
	return &funnelCore{f: (*C.lox_funnel)(r.ptr), grp: c.grp}, nil
}

func (c *funnelCore) put(jid uint64, v any) error {
	if !c.g.enterWait() {
		return closedError("funnel put")
	}
	defer c.g.leave()
	h := newHandle(v)
	c.grp.mu.Lock()
	c.grp.live[h] = struct{}{}
	c.grp.mu.Unlock()
	if err := check("funnel put", C.gx_funnel_put(c.f, C.ulonglong(jid), C.uintptr_t(h))); err != nil {
		c.grp.mu.Lock()
		delete(c.grp.live, h)
		c.grp.mu.Unlock()
		deleteHandle(h)
		return err
	}
	return nil
}

func (c *funnelCore) get(timeout time.Duration) (uint64, []any, error) {
	if !c.g.enterWait() {
		return 0, nil, closedError("funnel get")
	}
	defer c.g.leave()
	r := C.gx_funnel_get(c.f, secs(timeout))
	if err := check("funnel get", r); err != nil {
		return 0, nil, err
	}
	defer C.free(r.ptr)
	n := int(r.val)
	items := unsafe.Slice((*C.uintptr_t)(r.ptr), n)
	out := make([]any, n)
	c.grp.mu.Lock()
	defer c.grp.mu.Unlock()
	for i, it := range items {
		h := uintptr(it)
		if _, ok := c.grp.live[h]; !ok {
			continue
		}
		delete(c.grp.live, h)
		out[i] = handleValue(h)
		deleteHandle(h)
	}
	return uint64(r.jid), out, nil
}

func (c *funnelCore) count(which int) int {
	if !c.g.enter() {
		if which == 2 {
			return -1
		}
		return 0
	}
	defer c.g.leave()
	switch which {
	case 0:
		return int(C.lox_funnel_inputs(c.f))
	case 1:
		return int(C.lox_funnel_ready(c.f))
	default:
		return int(C.lox_funnel_index(c.f))
	}
}

func (c *funnelCore) close() error {
	if !c.g.close() {
		return nil
	}
	defer c.g.done()
	C.lox_funnel_destroy(c.f)
	c.f = nil
	c.grp.mu.Lock()
	defer c.grp.mu.Unlock()
	c.grp.open--
	if c.grp.open == 0 { // the funnel is gone with the values inside
		for h := range c.grp.live {
			deleteHandle(h)
		}
		c.grp.live = nil
	}
	return nil
}
