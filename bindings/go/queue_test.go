// SPDX-License-Identifier: Apache-2.0

package lox_test

import (
	"errors"
	"testing"
	"time"

	"liblox.dev/lox"
)

func newQueue[T any](t *testing.T, maxsize int) *lox.Queue[T] {
	t.Helper()
	q, err := lox.NewQueue[T](maxsize)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := q.Destroy(); err != nil {
			t.Errorf("Destroy: %v", err)
		}
	})
	return q
}

func TestQueueFIFOAndTypes(t *testing.T) {
	checkHandles(t)
	type item struct {
		N    int
		Name string
		Ptr  *int
	}
	q := newQueue[item](t, 0)
	x := 42
	for i := 0; i < 5; i++ {
		if err := q.Put(item{N: i, Name: "n", Ptr: &x}); err != nil {
			t.Fatal(err)
		}
	}
	if q.Len() != 5 || q.Empty() || q.Full() || q.MaxSize() != 0 {
		t.Fatalf("Len %d Empty %v Full %v", q.Len(), q.Empty(), q.Full())
	}
	for i := 0; i < 5; i++ {
		v, err := q.Get()
		if err != nil || v.N != i || v.Ptr != &x {
			t.Fatalf("Get %d: %+v %v", i, v, err)
		}
	}
	if _, err := q.GetTimeout(10 * time.Millisecond); !errors.Is(err, lox.ErrTimeout) {
		t.Fatalf("Get on empty: %v, want ErrTimeout", err)
	}
	if _, err := q.GetTimeout(0); !errors.Is(err, lox.ErrTimeout) {
		t.Fatalf("GetTimeout(0) on empty: %v", err)
	}
}

func TestQueueBoundedTimeout(t *testing.T) {
	checkHandles(t)
	q := newQueue[int](t, 2)
	q.Put(1)
	q.Put(2)
	if !q.Full() {
		t.Fatal("should be full")
	}
	if err := q.PutTimeout(3, 10*time.Millisecond); !errors.Is(err, lox.ErrTimeout) {
		t.Fatalf("Put on full: %v, want ErrTimeout", err)
	}
	// A blocked Put goes through once room appears.
	done := make(chan error)
	go func() { done <- q.Put(3) }()
	if v, _ := q.Get(); v != 1 {
		t.Fatalf("got %d", v)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for _, want := range []int{2, 3} {
		if v, err := q.Get(); err != nil || v != want {
			t.Fatalf("got %d %v, want %d", v, err, want)
		}
	}
}

// Every value put by several producers is got exactly once by several
// consumers; the consumers stop when the queue is closed and drained.
func TestQueueExactlyOnceAcrossGoroutines(t *testing.T) {
	checkHandles(t)
	q := newQueue[int](t, 64)
	const P, N, C = 4, 2000, 4
	producers := goEach(P, func(p int) {
		for i := 0; i < N; i++ {
			if err := q.Put(p*N + i); err != nil {
				t.Error(err)
				return
			}
		}
	})
	got := make([][]int, C)
	consumers := goEach(C, func(c int) {
		for {
			v, err := q.Get()
			if errors.Is(err, lox.ErrClosed) {
				return
			}
			if err != nil {
				t.Error(err)
				return
			}
			got[c] = append(got[c], v)
			q.TaskDone()
		}
	})
	producers()
	if err := q.Join(); err != nil { // every value got and marked done
		t.Fatal(err)
	}
	q.Close()
	consumers()
	seen := make([]int, P*N)
	for c := range got {
		last := make(map[int]int) // per producer, values come out in order
		for _, v := range got[c] {
			seen[v]++
			p := v / N
			if prev, ok := last[p]; ok && v <= prev {
				t.Fatalf("consumer %d got %d after %d from producer %d", c, v, prev, p)
			}
			last[p] = v
		}
	}
	for v, n := range seen {
		if n != 1 {
			t.Fatalf("value %d got %d times", v, n)
		}
	}
}

func TestQueueCloseSemantics(t *testing.T) {
	checkHandles(t)
	q := newQueue[string](t, 0)
	q.Put("a")
	q.Put("b")
	// A Get blocked on an empty queue wakes up when the queue is closed.
	e := newQueue[string](t, 0)
	woke := make(chan error)
	go func() { _, err := e.Get(); woke <- err }()
	time.Sleep(5 * time.Millisecond) // let it block (passes either way)
	e.Close()
	if err := <-woke; !errors.Is(err, lox.ErrClosed) {
		t.Fatalf("blocked Get after Close: %v, want ErrClosed", err)
	}

	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	if err := q.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if !q.Closed() {
		t.Fatal("Closed() false after Close")
	}
	if err := q.Put("c"); !errors.Is(err, lox.ErrClosed) {
		t.Fatalf("Put after Close: %v, want ErrClosed", err)
	}
	for _, want := range []string{"a", "b"} { // Close drains first
		if v, err := q.Get(); err != nil || v != want {
			t.Fatalf("Get after Close: %q %v, want %q", v, err, want)
		}
	}
	if _, err := q.Get(); !errors.Is(err, lox.ErrClosed) {
		t.Fatalf("Get on closed and drained: %v, want ErrClosed", err)
	}
	if err := q.TaskDone(); err != nil {
		t.Fatal(err)
	}
	q.TaskDone()
	if err := q.TaskDone(); !errors.Is(err, lox.ErrState) {
		t.Fatalf("TaskDone more than got: %v, want ErrState", err)
	}
	if err := q.JoinTimeout(0); err != nil {
		t.Fatalf("Join with everything done: %v", err)
	}
}

func TestQueueJoinTimeout(t *testing.T) {
	checkHandles(t)
	q := newQueue[int](t, 0)
	q.Put(1)
	if err := q.JoinTimeout(10 * time.Millisecond); !errors.Is(err, lox.ErrTimeout) {
		t.Fatalf("Join with an item not done: %v, want ErrTimeout", err)
	}
	q.Get()
	if err := q.JoinTimeout(10 * time.Millisecond); !errors.Is(err, lox.ErrTimeout) {
		t.Fatalf("Join with an item got but not done: %v, want ErrTimeout", err)
	}
	q.TaskDone()
	if err := q.Join(); err != nil {
		t.Fatal(err)
	}
}

// Values left inside at Destroy have their handles deleted; a Put and a
// Get blocked at Destroy wake with ErrClosed.
func TestQueueDestroyFreesHandles(t *testing.T) {
	before := lox.LiveHandles()
	q, _ := lox.NewQueue[[]byte](1)
	q.Put(make([]byte, 100))
	if lox.LiveHandles() != before+1 {
		t.Fatalf("live handles %d, want %d", lox.LiveHandles(), before+1)
	}
	put := make(chan error)
	go func() { put <- q.Put(nil) }() // blocks: full
	time.Sleep(5 * time.Millisecond)
	if err := q.Destroy(); err != nil {
		t.Fatal(err)
	}
	if err := <-put; !errors.Is(err, lox.ErrClosed) {
		t.Fatalf("blocked Put at Destroy: %v, want ErrClosed", err)
	}
	if lox.LiveHandles() != before {
		t.Fatalf("handles leaked: %d live, want %d", lox.LiveHandles(), before)
	}
	if err := q.Destroy(); err != nil {
		t.Fatal(err)
	}
	if _, err := q.GetTimeout(0); !errors.Is(err, lox.ErrClosed) {
		t.Fatalf("Get after Destroy: %v", err)
	}
	if q.Len() != 0 {
		t.Fatal("Len after Destroy")
	}
}

func TestQueueNilInterfaceValues(t *testing.T) {
	checkHandles(t)
	q := newQueue[error](t, 0)
	if err := q.Put(nil); err != nil {
		t.Fatal(err)
	}
	if err := q.Put(errors.New("x")); err != nil {
		t.Fatal(err)
	}
	if v, err := q.Get(); err != nil || v != nil {
		t.Fatalf("Get: %v %v, want a nil error value", v, err)
	}
	if v, err := q.Get(); err != nil || v == nil || v.Error() != "x" {
		t.Fatalf("Get: %v %v", v, err)
	}
}
