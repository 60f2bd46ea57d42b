package lox

import "sync"

// guard keeps a liblox object from being destroyed while a call on it is
// in progress (liblox: destroy must not race with other calls), and makes
// calls after Close fail with ErrClosed instead of using freed memory.
// Calls take it shared; Close takes it exclusively, so Close waits for the
// calls in progress to return, and calls that start while Close runs fail
// at once (they never wait behind Close).
type guard struct {
	mu     sync.RWMutex
	closed bool
}

// enter returns false when the object is closed or being closed.
func (g *guard) enter() bool {
	if !g.mu.TryRLock() {
		return false
	}
	if g.closed {
		g.mu.RUnlock()
		return false
	}
	return true
}

func (g *guard) leave() { g.mu.RUnlock() }

// close marks the object closed, waiting for the calls in progress; it
// returns false (and keeps nothing locked) if it was already closed. On
// true the caller destroys the object and then calls done.
func (g *guard) close() bool {
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return false
	}
	g.closed = true
	return true
}

func (g *guard) done() { g.mu.Unlock() }
