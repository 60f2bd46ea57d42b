// SPDX-License-Identifier: Apache-2.0

package lox

import "sync"

// guard keeps a liblox object from being destroyed while a call on it is
// in progress (liblox: destroy must not race with other calls) and makes
// calls after Close fail with ErrClosed instead of touching freed memory.
//
// Close first marks the object closing: from then on calls that may wait
// or add work (acquire, put, get, scatter, gather) fail at once, while
// calls that cannot block (release, task_done, counters) still work, so a
// goroutine blocked in an acquire can still be let through by a release.
// Close then waits until no call is in progress, marks the object closed
// (every call fails from here on) and destroys it.
type guard struct {
	mu      sync.Mutex
	cond    sync.Cond
	n       int // calls in progress
	closing bool
	closed  bool
}

func (g *guard) enterCall(mayWait bool) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed || (g.closing && mayWait) {
		return false
	}
	g.n++
	return true
}

// enter admits a call that does not block; false once closed.
func (g *guard) enter() bool { return g.enterCall(false) }

// enterWait admits a call that may block or add work; false once Close
// has begun.
func (g *guard) enterWait() bool { return g.enterCall(true) }

func (g *guard) leave() {
	g.mu.Lock()
	g.n--
	if g.n == 0 && g.closing {
		g.condInit().Broadcast()
	}
	g.mu.Unlock()
}

func (g *guard) condInit() *sync.Cond {
	if g.cond.L == nil {
		g.cond.L = &g.mu
	}
	return &g.cond
}

// close returns true when the caller must destroy the object: no call is
// in progress and none can start. A second Close waits for the first to
// mark the object closed and returns false.
func (g *guard) close() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	c := g.condInit()
	if g.closing {
		for !g.closed {
			c.Wait()
		}
		return false
	}
	g.closing = true
	for g.n > 0 {
		c.Wait()
	}
	g.closed = true
	c.Broadcast()
	return true
}

// reopen undoes a close that the caller refused to complete.
func (g *guard) reopen() {
	g.mu.Lock()
	g.closing, g.closed = false, false
	g.mu.Unlock()
}

// done is kept for symmetry with close: the object is destroyed.
func (g *guard) done() {}
