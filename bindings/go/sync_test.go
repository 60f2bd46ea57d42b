// SPDX-License-Identifier: Apache-2.0

package lox_test

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"liblox.dev/lox"
)

// hammer runs body in G goroutines N times each, checking that at most one
// is inside at a time with a plain (non-atomic) counter and an atomic one.
func hammer(t *testing.T, lock, unlock func()) {
	t.Helper()
	const G, N = 8, 2000
	var inside atomic.Int32
	var overlap atomic.Int32
	total := 0
	goEach(G, func(int) {
		for i := 0; i < N; i++ {
			lock()
			if inside.Add(1) != 1 {
				overlap.Add(1)
			}
			total++ // a data race (and lost updates) without mutual exclusion
			inside.Add(-1)
			unlock()
		}
	})()
	if overlap.Load() != 0 || total != G*N {
		t.Fatalf("mutual exclusion broken: %d overlaps, total %d want %d", overlap.Load(), total, G*N)
	}
}

func TestLockMutualExclusion(t *testing.T) {
	l, err := lox.NewLock()
	if err != nil {
		t.Fatal(err)
	}
	cleanupClose(t, l)
	hammer(t, l.Lock, l.Unlock)
	var _ sync.Locker = l
}

func TestLockTimeoutAndMisuse(t *testing.T) {
	l, _ := lox.NewLock()
	cleanupClose(t, l)
	if err := l.Release(); !errors.Is(err, lox.ErrState) {
		t.Fatalf("release of unlocked lock: %v, want ErrState", err)
	}
	l.Lock()
	if !l.Locked() || l.TryLock() {
		t.Fatal("lock should be held")
	}
	if err := l.Acquire(10 * time.Millisecond); !errors.Is(err, lox.ErrTimeout) {
		t.Fatalf("Acquire on a held lock: %v, want ErrTimeout", err)
	}
	done := make(chan struct{})
	go func() { l.Unlock(); close(done) }() // any goroutine may release
	<-done
	if l.Locked() {
		t.Fatal("lock should be free")
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("Unlock of an unlocked Lock should panic")
			}
		}()
		l.Unlock()
	}()
}

func TestLightSwitch(t *testing.T) {
	l, _ := lox.NewLock()
	s, err := lox.NewLightSwitch(l)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); !errors.Is(err, lox.ErrState) {
		t.Fatalf("closing a borrowed lock: %v, want ErrState", err)
	}
	for i := 0; i < 3; i++ {
		if err := s.Acquire(lox.Forever); err != nil {
			t.Fatal(err)
		}
	}
	if s.Count() != 3 || !l.Locked() {
		t.Fatalf("count %d locked %v", s.Count(), l.Locked())
	}
	if err := l.Acquire(10 * time.Millisecond); !errors.Is(err, lox.ErrTimeout) {
		t.Fatalf("janitor got in with people inside: %v", err)
	}
	for i := 0; i < 3; i++ {
		if err := s.Release(); err != nil {
			t.Fatal(err)
		}
	}
	if l.Locked() {
		t.Fatal("last one out should release the lock")
	}
	if err := s.Release(); !errors.Is(err, lox.ErrState) {
		t.Fatalf("release at count 0: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("closing the lock after its switch: %v", err)
	}
	if err := l.Acquire(0); !errors.Is(err, lox.ErrClosed) {
		t.Fatalf("Acquire after Close: %v, want ErrClosed", err)
	}
}

func TestRWLockWritersExclusive(t *testing.T) {
	l, err := lox.NewRWLock()
	if err != nil {
		t.Fatal(err)
	}
	cleanupClose(t, l)
	hammer(t, l.Lock, l.Unlock)
}

func TestRWLockReadersConcurrent(t *testing.T) {
	l, _ := lox.NewRWLock()
	cleanupClose(t, l)
	// Three readers each wait, holding the read lock, until all three hold
	// it: possible only if readers share the lock.
	const R = 3
	var in sync.WaitGroup
	in.Add(R)
	all := make(chan struct{})
	go func() { in.Wait(); close(all) }()
	errs := make(chan error, R)
	for i := 0; i < R; i++ {
		go func() {
			if err := l.AcquireRead(lox.Forever); err != nil {
				errs <- err
				in.Done()
				return
			}
			in.Done()
			select {
			case <-all:
				errs <- nil
			case <-time.After(30 * time.Second):
				errs <- errors.New("readers did not hold the lock together")
			}
		}()
	}
	for i := 0; i < R; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if n := l.Readers(); n != R {
		t.Fatalf("Readers() = %d, want %d", n, R)
	}
	// A writer cannot get in while readers hold it ...
	if l.TryLock() {
		t.Fatal("writer got in with readers inside")
	}
	if err := l.AcquireWrite(10 * time.Millisecond); !errors.Is(err, lox.ErrTimeout) {
		t.Fatalf("AcquireWrite: %v, want ErrTimeout", err)
	}
	for i := 0; i < R; i++ {
		l.RUnlock()
	}
	// ... and readers cannot while a writer does.
	l.Lock()
	if l.TryRLock() {
		t.Fatal("reader got in with a writer inside")
	}
	if err := l.ReleaseRead(); !errors.Is(err, lox.ErrState) {
		t.Fatalf("ReleaseRead while a writer holds it: %v", err)
	}
	l.Unlock()
	if err := l.ReleaseWrite(); !errors.Is(err, lox.ErrState) {
		t.Fatalf("ReleaseWrite of a free lock: %v", err)
	}
	rl := l.RLocker()
	rl.Lock()
	if l.Readers() != 1 {
		t.Fatal("RLocker should take a read hold")
	}
	rl.Unlock()
}

func TestRWLockWriterPreferred(t *testing.T) {
	l, _ := lox.NewRWLock()
	cleanupClose(t, l)
	l.RLock()
	writerIn := make(chan struct{})
	go func() { l.Lock(); close(writerIn) }()
	// Wait until the writer is waiting: then a new reader must wait too.
	deadline := time.Now().Add(30 * time.Second)
	for {
		if err := l.AcquireRead(0); err != nil {
			break // blocked by the waiting writer
		}
		l.RUnlock()
		if time.Now().After(deadline) {
			t.Fatal("a waiting writer never blocked new readers")
		}
		time.Sleep(time.Millisecond)
	}
	l.RUnlock()
	<-writerIn
	l.Unlock()
}

func TestQLockFIFO(t *testing.T) {
	q, err := lox.NewQLock()
	if err != nil {
		t.Fatal(err)
	}
	cleanupClose(t, q)
	hammer(t, q.Lock, q.Unlock)

	// Waiters queue up one at a time (each joins the line before the next
	// starts) and must get the lock in that order.
	q.Lock()
	const W = 6
	order := make(chan int, W)
	var wg sync.WaitGroup
	for i := 0; i < W; i++ {
		i := i
		wg.Add(1)
		go func() {
			defer wg.Done()
			q.Lock()
			order <- i
			q.Unlock()
		}()
		deadline := time.Now().Add(30 * time.Second)
		for q.Waiting() != i+1 {
			if time.Now().After(deadline) {
				t.Fatalf("waiter %d never joined the line", i)
			}
			time.Sleep(time.Millisecond)
		}
	}
	q.Unlock()
	wg.Wait()
	close(order)
	want := 0
	for got := range order {
		if got != want {
			t.Fatalf("waiter %d got the lock in place %d: not FIFO", got, want)
		}
		want++
	}
	if q.Locked() {
		t.Fatal("QLock should be free")
	}
	if err := q.Release(); !errors.Is(err, lox.ErrState) {
		t.Fatalf("release of a free QLock: %v", err)
	}
	q.Lock()
	if err := q.Acquire(10 * time.Millisecond); !errors.Is(err, lox.ErrTimeout) {
		t.Fatalf("Acquire on a held QLock: %v", err)
	}
	if q.Waiting() != 0 {
		t.Fatal("a timed-out waiter must leave the line")
	}
	q.Unlock()
}

func TestIndexSemaphoreUniqueIndices(t *testing.T) {
	const N = 3
	s, err := lox.NewIndexSemaphore(N)
	if err != nil {
		t.Fatal(err)
	}
	cleanupClose(t, s)
	var holders [N]atomic.Int32
	var bad atomic.Int32
	goEach(8, func(int) {
		for i := 0; i < 500; i++ {
			idx, err := s.Acquire(lox.Forever)
			if err != nil || idx < 0 || idx >= N {
				bad.Add(1)
				return
			}
			if holders[idx].Add(1) != 1 {
				bad.Add(1) // two holders of one index
			}
			holders[idx].Add(-1)
			if err := s.Release(idx); err != nil {
				bad.Add(1)
			}
		}
	})()
	if bad.Load() != 0 {
		t.Fatalf("%d violations", bad.Load())
	}
	if s.Available() != N || s.Len() != N {
		t.Fatalf("available %d", s.Available())
	}
	// Lowest free first, all distinct, then a timeout.
	for want := 0; want < N; want++ {
		if idx, err := s.Acquire(0); err != nil || idx != want {
			t.Fatalf("Acquire: %d %v, want %d", idx, err, want)
		}
	}
	if _, err := s.Acquire(10 * time.Millisecond); !errors.Is(err, lox.ErrTimeout) {
		t.Fatalf("Acquire with none free: %v, want ErrTimeout", err)
	}
	if err := s.Release(N); !errors.Is(err, lox.ErrInval) {
		t.Fatalf("Release out of range: %v", err)
	}
	if err := s.Release(1); err != nil {
		t.Fatal(err)
	}
	if err := s.Release(1); !errors.Is(err, lox.ErrState) {
		t.Fatalf("double Release: %v", err)
	}
	if idx, err := s.Acquire(lox.Forever); err != nil || idx != 1 {
		t.Fatalf("re-Acquire: %d %v", idx, err)
	}
}

// Close waits for a goroutine blocked in Acquire: from the moment Close
// begins, new acquires fail with ErrClosed but Release still works, so the
// holder can let the waiter through; Close returns once it has left.
func TestCloseWaitsForBlockedCall(t *testing.T) {
	l, _ := lox.NewQLock()
	l.Lock()
	got := make(chan error, 1)
	go func() { got <- l.Acquire(lox.Forever) }()
	for l.Waiting() != 1 {
		time.Sleep(time.Millisecond)
	}
	closed := make(chan error, 1)
	go func() { closed <- l.Close() }()
	for {
		err := l.Acquire(0)
		if errors.Is(err, lox.ErrClosed) {
			break // Close has begun
		}
		if !errors.Is(err, lox.ErrTimeout) {
			t.Fatalf("Acquire(0) on a held lock: %v", err)
		}
		time.Sleep(time.Millisecond)
	}
	select {
	case err := <-closed:
		t.Fatalf("Close returned (%v) while a call was blocked inside", err)
	case err := <-got:
		t.Fatalf("the waiter got out (%v) without a release", err)
	case <-time.After(20 * time.Millisecond):
	}
	if err := l.Release(); err != nil { // hands the lock to the waiter
		t.Fatalf("Release during Close: %v", err)
	}
	if err := <-got; err != nil {
		t.Fatalf("waiter: %v", err)
	}
	if err := <-closed; err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := l.Release(); !errors.Is(err, lox.ErrClosed) {
		t.Fatalf("Release after Close: %v, want ErrClosed", err)
	}
	if l.Locked() || l.Waiting() != 0 {
		t.Fatal("getters after Close should read false/0")
	}
}
