// SPDX-License-Identifier: Apache-2.0

package lox

/*
#include "gx.h"
*/
import "C"

import (
	"sync"
	"sync/atomic"
	"time"
)

// The locks below are liblox's: not owned by a goroutine or thread (any
// goroutine may release what another acquired) and not recursive. Acquire
// methods take a timeout: Forever (any negative duration) waits without
// limit, 0 tries once; a wait that runs out returns an error matching
// ErrTimeout and leaves no trace. Lock/Unlock-style methods (sync.Locker)
// panic on misuse that the error-returning methods report (unlocking what
// is not locked, using a closed lock).
//
// Close destroys the lock. It waits for calls in progress (including an
// acquire blocked on the lock: release the lock or let the wait time out
// first); calls that start during or after Close fail with ErrClosed.

func mustLock(err error) {
	if err != nil {
		panic(err)
	}
}

// Lock is a plain lock that any goroutine may release (lox_lock, Python's
// threading.Lock). Not fair; see QLock for FIFO.
type Lock struct {
	g        guard
	l        *C.lox_lock
	switches atomic.Int64 // live LightSwitches borrowing this lock
}

// NewLock creates an unlocked Lock.
func NewLock() (*Lock, error) {
	r := C.gx_lock_create()
	if err := check("lock create", r); err != nil {
		return nil, err
	}
	return &Lock{l: (*C.lox_lock)(r.ptr)}, nil
}

// Acquire takes the lock, waiting at most timeout.
func (l *Lock) Acquire(timeout time.Duration) error {
	return l.g.waitCall("lock acquire", func() C.gx_ret { return C.gx_lock_acquire(l.l, secs(timeout)) })
}

// Release releases the lock (any goroutine may); an error matching
// ErrState if it is not locked.
func (l *Lock) Release() error {
	return l.g.call("lock release", func() C.gx_ret { return C.gx_lock_release(l.l) })
}

// Lock waits for the lock (sync.Locker).
func (l *Lock) Lock() { mustLock(l.Acquire(Forever)) }

// Unlock releases the lock (sync.Locker); panics if it is not locked.
func (l *Lock) Unlock() { mustLock(l.Release()) }

// TryLock takes the lock if it is free, without waiting.
func (l *Lock) TryLock() bool { return l.Acquire(0) == nil }

// Locked reports whether the lock is held (a snapshot).
func (l *Lock) Locked() bool {
	return snapshot(&l.g, func() bool { return C.lox_lock_locked(l.l) == 1 })
}

// Close destroys the lock (a held lock may be destroyed). An error
// matching ErrState while a LightSwitch still borrows it.
func (l *Lock) Close() error {
	if !l.g.close() {
		return nil
	}
	defer l.g.done()
	if l.switches.Load() > 0 { // checked with every other call kept out
		l.g.reopen()
		return newError("lock close", StatusState, "a LightSwitch still borrows this lock")
	}
	C.lox_lock_destroy(l.l)
	l.l = nil
	return nil
}

// LightSwitch counts goroutines in a room (lox_lightswitch): the first in
// acquires the borrowed Lock, the last out releases it; whoever acquires
// the Lock directly waits until the room is empty.
type LightSwitch struct {
	g    guard
	s    *C.lox_lightswitch
	lock *Lock
	once sync.Once
}

// NewLightSwitch creates a switch over lock, which must not be closed
// before the switch (Lock.Close refuses while switches borrow it).
func NewLightSwitch(lock *Lock) (*LightSwitch, error) {
	if lock == nil || !lock.g.enterWait() {
		return nil, closedError("lightswitch create")
	}
	defer lock.g.leave()
	r := C.gx_light_switch_create(lock.l)
	if err := check("lightswitch create", r); err != nil {
		return nil, err
	}
	lock.switches.Add(1)
	return &LightSwitch{s: (*C.lox_lightswitch)(r.ptr), lock: lock}, nil
}

// Acquire enters: increments the count, the first entrant acquiring the
// lock (waiting at most timeout).
func (s *LightSwitch) Acquire(timeout time.Duration) error {
	return s.g.waitCall("lightswitch acquire", func() C.gx_ret {
		return C.gx_light_switch_acquire(s.s, secs(timeout))
	})
}

// Release leaves: decrements the count, the last one out releasing the
// lock. An error matching ErrState at count 0.
func (s *LightSwitch) Release() error {
	return s.g.call("lightswitch release", func() C.gx_ret { return C.gx_light_switch_release(s.s) })
}

// Count is the number of acquires not yet released (a snapshot).
func (s *LightSwitch) Count() int {
	return snapshot(&s.g, func() int { return int(C.lox_lightswitch_count(s.s)) })
}

// Close destroys the switch (never the borrowed lock; if the count is not
// 0 the lock stays locked).
func (s *LightSwitch) Close() error {
	if !s.g.close() {
		return nil
	}
	defer s.g.done()
	C.lox_lightswitch_destroy(s.s)
	s.s = nil
	s.once.Do(func() { s.lock.switches.Add(-1) })
	return nil
}

// RWLock is a writer-preferring readers-writer lock (lox_rwlock): any number
// of readers or one writer; as soon as a writer waits, new readers wait
// behind it.
type RWLock struct {
	g guard
	l *C.lox_rwlock
}

// NewRWLock creates an unlocked RWLock.
func NewRWLock() (*RWLock, error) {
	r := C.gx_rw_lock_create()
	if err := check("rwlock create", r); err != nil {
		return nil, err
	}
	return &RWLock{l: (*C.lox_rwlock)(r.ptr)}, nil
}

func (l *RWLock) acquire(mode C.int, timeout time.Duration) error {
	return l.g.waitCall("rwlock acquire", func() C.gx_ret { return C.gx_rw_lock_acquire(l.l, mode, secs(timeout)) })
}

func (l *RWLock) release(mode C.int) error {
	return l.g.call("rwlock release", func() C.gx_ret { return C.gx_rw_lock_release(l.l, mode) })
}

// AcquireRead takes a read hold, waiting at most timeout.
func (l *RWLock) AcquireRead(timeout time.Duration) error { return l.acquire(C.LOX_READ, timeout) }

// AcquireWrite takes the write hold, waiting at most timeout.
func (l *RWLock) AcquireWrite(timeout time.Duration) error { return l.acquire(C.LOX_WRITE, timeout) }

// ReleaseRead drops one read hold (whoever calls it); ErrState if no
// reader holds it.
func (l *RWLock) ReleaseRead() error { return l.release(C.LOX_READ) }

// ReleaseWrite drops the write hold; ErrState if no writer holds it.
func (l *RWLock) ReleaseWrite() error { return l.release(C.LOX_WRITE) }

// RLock waits for a read hold.
func (l *RWLock) RLock() { mustLock(l.AcquireRead(Forever)) }

// RUnlock drops a read hold; panics if no reader holds it.
func (l *RWLock) RUnlock() { mustLock(l.ReleaseRead()) }

// Lock waits for the write hold.
func (l *RWLock) Lock() { mustLock(l.AcquireWrite(Forever)) }

// Unlock drops the write hold; panics if no writer holds it.
func (l *RWLock) Unlock() { mustLock(l.ReleaseWrite()) }

// TryRLock takes a read hold if it can without waiting.
func (l *RWLock) TryRLock() bool { return l.AcquireRead(0) == nil }

// TryLock takes the write hold if it can without waiting.
func (l *RWLock) TryLock() bool { return l.AcquireWrite(0) == nil }

// RLocker returns a sync.Locker whose Lock/Unlock take and drop read holds.
func (l *RWLock) RLocker() sync.Locker { return rlocker{l} }

type rlocker struct{ l *RWLock }

func (r rlocker) Lock()   { r.l.RLock() }
func (r rlocker) Unlock() { r.l.RUnlock() }

// Readers is the number of readers holding the lock now (a snapshot).
func (l *RWLock) Readers() int {
	return snapshot(&l.g, func() int { return int(C.lox_rwlock_readers(l.l)) })
}

// Close destroys the RWLock.
func (l *RWLock) Close() error {
	if !l.g.close() {
		return nil
	}
	defer l.g.done()
	C.lox_rwlock_destroy(l.l)
	l.l = nil
	return nil
}

// QLock is a strict FIFO lock (lox_qlock): acquirers are served in arrival
// order, and release hands the lock directly to the first in line. A
// timed-out waiter leaves the line without disturbing the others.
type QLock struct {
	g guard
	l *C.lox_qlock
}

// NewQLock creates an unlocked QLock.
func NewQLock() (*QLock, error) {
	r := C.gx_qlock_create()
	if err := check("qlock create", r); err != nil {
		return nil, err
	}
	return &QLock{l: (*C.lox_qlock)(r.ptr)}, nil
}

// Acquire takes the lock in FIFO order, waiting at most timeout.
func (l *QLock) Acquire(timeout time.Duration) error {
	return l.g.waitCall("qlock acquire", func() C.gx_ret { return C.gx_qlock_acquire(l.l, secs(timeout)) })
}

// Release releases the lock (any goroutine may), handing it to the first
// waiter; ErrState if it is not locked.
func (l *QLock) Release() error {
	return l.g.call("qlock release", func() C.gx_ret { return C.gx_qlock_release(l.l) })
}

// Lock waits for the lock in FIFO order (sync.Locker).
func (l *QLock) Lock() { mustLock(l.Acquire(Forever)) }

// Unlock releases the lock (sync.Locker); panics if it is not locked.
func (l *QLock) Unlock() { mustLock(l.Release()) }

// TryLock takes the lock if it is free (never joins the line).
func (l *QLock) TryLock() bool { return l.Acquire(0) == nil }

// Waiting is the number of acquirers in line (a snapshot).
func (l *QLock) Waiting() int {
	return snapshot(&l.g, func() int { return int(C.lox_qlock_waiting(l.l)) })
}

// Locked reports whether the lock is held (a snapshot).
func (l *QLock) Locked() bool {
	return snapshot(&l.g, func() bool { return C.lox_qlock_locked(l.l) == 1 })
}

// Close destroys the QLock.
func (l *QLock) Close() error {
	if !l.g.close() {
		return nil
	}
	defer l.g.done()
	C.lox_qlock_destroy(l.l)
	l.l = nil
	return nil
}

// IndexSemaphore hands out n numbered resources 0..n-1 (lox's index
// semaphore, e.g. a pool of GPUs): each acquirer gets an index nobody else
// holds until it is released. The lowest free index is taken. Not fair.
type IndexSemaphore struct {
	g guard
	s *C.lox_index_semaphore
	n int
}

// NewIndexSemaphore creates a semaphore over n resources, all free; n must
// be at least 1 (ErrInval otherwise).
func NewIndexSemaphore(n int) (*IndexSemaphore, error) {
	if n < 0 {
		n = 0 // liblox reports EINVAL with its own detail
	}
	r := C.gx_index_semaphore_create(C.size_t(n))
	if err := check("index semaphore create", r); err != nil {
		return nil, err
	}
	return &IndexSemaphore{s: (*C.lox_index_semaphore)(r.ptr), n: n}, nil
}

// Acquire takes a free index, waiting at most timeout (ErrTimeout).
func (s *IndexSemaphore) Acquire(timeout time.Duration) (int, error) {
	if !s.g.enterWait() {
		return -1, closedError("index semaphore acquire")
	}
	defer s.g.leave()
	r := C.gx_index_semaphore_acquire(s.s, secs(timeout))
	if err := check("index semaphore acquire", r); err != nil {
		return -1, err
	}
	return int(r.val), nil
}

// Release returns index (any goroutine may): ErrInval if out of range,
// ErrState if it is not held.
func (s *IndexSemaphore) Release(index int) error {
	if index < 0 {
		return newError("index semaphore release", StatusInval, "negative index")
	}
	return s.g.call("index semaphore release", func() C.gx_ret { return C.gx_index_semaphore_release(s.s, C.size_t(index)) })
}

// Len is n, the number of resources.
func (s *IndexSemaphore) Len() int { return s.n }

// Available is the number of free indices now (a snapshot).
func (s *IndexSemaphore) Available() int {
	return snapshot(&s.g, func() int { return int(C.lox_index_semaphore_available(s.s)) })
}

// Waiting is the number of goroutines blocked in Acquire now (a snapshot).
func (s *IndexSemaphore) Waiting() int {
	return snapshot(&s.g, func() int { return int(C.lox_index_semaphore_waiting(s.s)) })
}

// Close destroys the semaphore (indices still held are forgotten).
func (s *IndexSemaphore) Close() error {
	if !s.g.close() {
		return nil
	}
	defer s.g.done()
	C.lox_index_semaphore_destroy(s.s)
	s.s = nil
	return nil
}
