// SPDX-License-Identifier: Apache-2.0

package lox_test

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"liblox.dev/lox"
)

func newPool[T any](t *testing.T, workers int) *lox.ThreadPool[T] {
	t.Helper()
	p, err := lox.NewThreadPool[T](workers)
	if err != nil {
		t.Fatalf("NewThreadPool: %v", err)
	}
	cleanupClose(t, p)
	return p
}

func debugForced() bool {
	switch strings.ToLower(os.Getenv("LOX_DEBUG")) {
	case "1", "true", "yes", "on":
		return true
	}
	return false
}

// lox's first example: x*(x+1) over 0..4.
func TestThreadPoolExample(t *testing.T) {
	checkHandles(t)
	p := newPool[int](t, 4)
	for x := 0; x < 5; x++ {
		x := x
		i, err := p.Scatter(func() (int, error) { return x * (x + 1), nil })
		if err != nil || i != x {
			t.Fatalf("Scatter %d: index %d, err %v", x, i, err)
		}
	}
	res, err := p.Gather()
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	got := make([]int, len(res))
	for i, r := range res {
		if r.Err != nil {
			t.Fatalf("task %d: %v", i, r.Err)
		}
		got[i] = r.Value
	}
	if want := []int{0, 2, 6, 12, 20}; !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestThreadPoolOrderAndRounds(t *testing.T) {
	checkHandles(t)
	p := newPool[int](t, 8)
	for round := 0; round < 3; round++ {
		const n = 200
		for i := 0; i < n; i++ {
			i := i
			if _, err := p.Scatter(func() (int, error) {
				if i%7 == 0 {
					time.Sleep(time.Millisecond) // finish out of order
				}
				return round*1000 + i, nil
			}); err != nil {
				t.Fatal(err)
			}
		}
		res, err := p.Gather()
		if err != nil {
			t.Fatalf("Gather: %v", err)
		}
		if len(res) != n {
			t.Fatalf("round %d: %d results, want %d", round, len(res), n)
		}
		for i, r := range res {
			if r.Err != nil || r.Value != round*1000+i {
				t.Fatalf("round %d result %d = %+v", round, i, r)
			}
		}
	}
	// An empty round.
	res, err := p.Gather()
	if err != nil || len(res) != 0 {
		t.Fatalf("empty Gather: %v, %v", res, err)
	}
}

func TestThreadPoolErrorsAndPanicsIsolated(t *testing.T) {
	checkHandles(t)
	lox.SetLogLevel(lox.LogOff) // failed tasks would be logged at WARN
	defer lox.SetLogLevel(lox.LogWarn)
	p := newPool[string](t, 4)
	boom := errors.New("boom")
	p.Scatter(func() (string, error) { return "a", nil })
	p.Scatter(func() (string, error) { panic("kaboom") })
	p.Scatter(func() (string, error) { return "", boom })
	p.Scatter(func() (string, error) { var m map[string]int; m["x"] = 1; return "never", nil })
	p.Scatter(func() (string, error) { return "e", nil })
	res, err := p.Gather()
	if !errors.Is(err, lox.ErrTask) {
		t.Fatalf("Gather error %v, want ErrTask", err)
	}
	var pe *lox.PanicError
	if !errors.As(err, &pe) || pe.Value != "kaboom" {
		t.Fatalf("Gather error %v should unwrap to the first failure (the panic)", err)
	}
	if len(res) != 5 || res[0].Value != "a" || res[0].Err != nil || res[4].Value != "e" || res[4].Err != nil {
		t.Fatalf("good tasks disturbed: %+v", res)
	}
	if !errors.As(res[1].Err, &pe) || pe.Value != "kaboom" || !strings.Contains(string(pe.Stack), "goroutine") {
		t.Fatalf("task 1: %v, want a PanicError with a stack", res[1].Err)
	}
	if res[2].Err != boom {
		t.Fatalf("task 2: %v, want boom", res[2].Err)
	}
	if !errors.As(res[3].Err, &pe) || !strings.Contains(fmt.Sprint(pe.Value), "nil map") {
		t.Fatalf("task 3: %v, want a runtime-error panic", res[3].Err)
	}
	// The pool still works.
	p.Scatter(func() (string, error) { return "ok", nil })
	res, err = p.Gather()
	if err != nil || len(res) != 1 || res[0].Value != "ok" {
		t.Fatalf("after failures: %+v, %v", res, err)
	}
}

func TestThreadPoolManyGoroutines(t *testing.T) {
	checkHandles(t)
	p := newPool[int](t, 8)
	const G, N = 6, 300
	var ran atomic.Int64
	goEach(G, func(g int) {
		for i := 0; i < N; i++ {
			v := g*N + i
			if _, err := p.Scatter(func() (int, error) { ran.Add(1); return v, nil }); err != nil {
				t.Error(err)
				return
			}
		}
	})()
	res, err := p.Gather()
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != G*N || ran.Load() != G*N {
		t.Fatalf("%d results, %d ran, want %d", len(res), ran.Load(), G*N)
	}
	seen := make([]bool, G*N)
	last := make([]int, G) // per goroutine, its tasks keep their order
	for g := range last {
		last[g] = -1
	}
	for _, r := range res {
		if r.Err != nil || seen[r.Value] {
			t.Fatalf("bad or duplicate result %+v", r)
		}
		seen[r.Value] = true
		g, i := r.Value/N, r.Value%N
		if i <= last[g] {
			t.Fatalf("goroutine %d: task %d after %d", g, i, last[g])
		}
		last[g] = i
	}
}

func TestThreadPoolRunsInParallel(t *testing.T) {
	if debugForced() {
		t.Skip("LOX_DEBUG forces inline mode")
	}
	checkHandles(t)
	p := newPool[bool](t, 4)
	// Four tasks that each wait for all four to have started: they can only
	// finish if they run at once (the timeout is generous, not a threshold).
	var started sync.WaitGroup
	started.Add(4)
	all := make(chan struct{})
	go func() { started.Wait(); close(all) }()
	for i := 0; i < 4; i++ {
		p.Scatter(func() (bool, error) {
			started.Done()
			select {
			case <-all:
				return true, nil
			case <-time.After(30 * time.Second):
				return false, errors.New("tasks did not run in parallel")
			}
		})
	}
	res, err := p.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if !r.Value {
			t.Fatal("not parallel")
		}
	}
	if w := p.Workers(); w > 4 {
		t.Fatalf("Workers() = %d, more than max_workers 4", w)
	}
}

func TestThreadPoolDebugModeInline(t *testing.T) {
	checkHandles(t)
	p := newPool[int](t, 0)
	ran := false
	p.Scatter(func() (int, error) { ran = true; return 7, nil })
	if !ran {
		t.Fatal("workers=0 must run the task inside Scatter")
	}
	res, err := p.Gather()
	if err != nil || len(res) != 1 || res[0].Value != 7 {
		t.Fatalf("%+v %v", res, err)
	}
}

func TestThreadPoolGatherTimeoutLosesNothing(t *testing.T) {
	if debugForced() {
		t.Skip("LOX_DEBUG forces inline mode")
	}
	checkHandles(t)
	p := newPool[int](t, 2)
	release := make(chan struct{})
	p.Scatter(func() (int, error) { <-release; return 1, nil })
	p.Scatter(func() (int, error) { return 2, nil })
	_, err := p.Gather(lox.WithTimeout(20 * time.Millisecond))
	if !errors.Is(err, lox.ErrTimeout) {
		t.Fatalf("Gather with a blocked task: %v, want ErrTimeout", err)
	}
	if errors.Is(err, lox.ErrClosed) {
		t.Fatal("errors.Is matched the wrong sentinel")
	}
	close(release)
	var calls [][2]int
	res, err := p.Gather(lox.WithProgress(func(done, total int) { calls = append(calls, [2]int{done, total}) }))
	if err != nil || len(res) != 2 || res[0].Value != 1 || res[1].Value != 2 {
		t.Fatalf("round after timeout: %+v %v", res, err)
	}
	if len(calls) == 0 || calls[len(calls)-1] != [2]int{2, 2} {
		t.Fatalf("progress calls %v, want the last to be (2, 2)", calls)
	}
	for i := 1; i < len(calls); i++ {
		if calls[i][0] < calls[i-1][0] {
			t.Fatalf("progress went back: %v", calls)
		}
	}
}

func TestThreadPoolProgressPanicReraised(t *testing.T) {
	checkHandles(t)
	p := newPool[int](t, 2)
	p.Scatter(func() (int, error) { return 1, nil })
	defer func() {
		if v := recover(); v != "progress boom" {
			t.Fatalf("recovered %v, want the progress callback's panic", v)
		}
	}()
	p.Gather(lox.WithProgress(func(done, total int) { panic("progress boom") }))
	t.Fatal("Gather should have re-raised the callback's panic")
}

func TestThreadPoolCloseRunsQueuedAndFreesHandles(t *testing.T) {
	checkHandles(t)
	p, err := lox.NewThreadPool[int](2)
	if err != nil {
		t.Fatal(err)
	}
	var ran atomic.Int64
	for i := 0; i < 50; i++ {
		p.Scatter(func() (int, error) { ran.Add(1); return 0, nil })
	}
	if err := p.Close(); err != nil { // never gathered
		t.Fatal(err)
	}
	if ran.Load() != 50 {
		t.Fatalf("Close ran %d of 50 queued tasks", ran.Load())
	}
	if err := p.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := p.Scatter(func() (int, error) { return 0, nil }); !errors.Is(err, lox.ErrClosed) {
		t.Fatalf("Scatter after Close: %v, want ErrClosed", err)
	}
	if _, err := p.Gather(); !errors.Is(err, lox.ErrClosed) {
		t.Fatalf("Gather after Close: %v, want ErrClosed", err)
	}
	if p.Workers() != 0 || p.Pending() != 0 {
		t.Fatal("counters after Close should be 0")
	}
}

func TestThreadPoolTaskScattersGatherAndCloseRefused(t *testing.T) {
	checkHandles(t)
	p := newPool[int](t, 4)
	var inner []error
	var mu sync.Mutex
	p.Scatter(func() (int, error) {
		// A task may scatter to its own pool ...
		if _, err := p.Scatter(func() (int, error) { return 2, nil }); err != nil {
			return 0, err
		}
		// ... but not gather it or close it.
		_, gerr := p.Gather()
		cerr := p.Close()
		mu.Lock()
		inner = append(inner, gerr, cerr)
		mu.Unlock()
		return 1, nil
	})
	res, err := p.Gather()
	if err != nil {
		t.Fatal(err)
	}
	if len(inner) != 2 || !errors.Is(inner[0], lox.ErrState) || !errors.Is(inner[1], lox.ErrState) {
		t.Fatalf("Gather/Close inside a task: %v, want ErrState twice", inner)
	}
	total := 0
	for _, r := range res {
		total += r.Value
	}
	if len(res) == 2 && total != 3 {
		t.Fatalf("results %+v", res)
	}
	if len(res) == 1 { // the inner task landed in the next round
		res2, err := p.Gather()
		if err != nil || len(res2) != 1 || res2[0].Value != 2 {
			t.Fatalf("inner task: %+v %v", res2, err)
		}
	}
}

func TestErrorDetailAndStatus(t *testing.T) {
	_, err := lox.NewIndexSemaphore(0)
	var le *lox.Error
	if !errors.As(err, &le) || le.Code != lox.StatusInval || !errors.Is(err, lox.ErrInval) {
		t.Fatalf("NewIndexSemaphore(0): %v, want EINVAL", err)
	}
	if le.Name == "" || le.Name == "unknown status" || le.Detail == "" {
		t.Fatalf("error should carry lox_status_str and lox_last_error: %#v", le)
	}
	if lox.StatusTimeout.String() == lox.StatusClosed.String() {
		t.Fatal("status names should differ")
	}
	if lox.Version() == "" {
		t.Fatal("empty version")
	}
}

// Two goroutines gathering at once each get a disjoint round, in order.
func TestThreadPoolConcurrentGathers(t *testing.T) {
	checkHandles(t)
	p := newPool[int](t, 4)
	const N = 500
	var mu sync.Mutex
	seen := make(map[int]int)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var gerr atomic.Value
	for g := 0; g < 2; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				res, err := p.Gather()
				if err != nil {
					gerr.Store(err)
					return
				}
				for i := 1; i < len(res); i++ {
					if res[i].Value <= res[i-1].Value {
						gerr.Store(fmt.Errorf("round out of order: %d after %d", res[i].Value, res[i-1].Value))
					}
				}
				mu.Lock()
				for _, r := range res {
					seen[r.Value]++
				}
				mu.Unlock()
				if len(res) == 0 {
					time.Sleep(100 * time.Microsecond) // do not spin on empty rounds
				}
				select {
				case <-stop:
					return
				default:
				}
			}
		}()
	}
	for i := 0; i < N; i++ {
		i := i
		p.Scatter(func() (int, error) { return i, nil })
	}
	close(stop)
	wg.Wait()
	res, err := p.Gather() // what the gatherers left
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		seen[r.Value]++
	}
	if e := gerr.Load(); e != nil {
		t.Fatal(e)
	}
	for i := 0; i < N; i++ {
		if seen[i] != 1 {
			t.Fatalf("task %d gathered %d times", i, seen[i])
		}
	}
}

// liblox logs a failed task at WARN from its worker thread; a Go log
// handler receives it (a cgo callback from a foreign thread).
func TestLogHandler(t *testing.T) {
	checkHandles(t)
	got := make(chan string, 16)
	lox.SetLogLevel(lox.LogWarn)
	lox.SetLogHandler(func(level lox.LogLevel, msg string) {
		if level >= lox.LogWarn {
			select {
			case got <- msg:
			default:
			}
		}
	})
	defer lox.SetLogHandler(nil)
	if lox.GetLogLevel() != lox.LogWarn {
		t.Fatalf("log level %d", lox.GetLogLevel())
	}
	p := newPool[int](t, 2)
	p.Scatter(func() (int, error) { return 0, errors.New("fails") })
	if _, err := p.Gather(); !errors.Is(err, lox.ErrTask) {
		t.Fatalf("Gather: %v", err)
	}
	select {
	case msg := <-got:
		if msg == "" {
			t.Fatal("empty log message")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no log message for a failed task")
	}
}

// Workers start on demand and, with a zero idle timeout, exit once idle.
func TestThreadPoolIdleWorkersExit(t *testing.T) {
	if debugForced() {
		t.Skip("LOX_DEBUG forces inline mode")
	}
	checkHandles(t)
	p, err := lox.NewThreadPool[int](3, lox.WithIdleTimeout(0))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if p.Workers() != 0 {
		t.Fatalf("a new pool has %d workers, want 0 (started on demand)", p.Workers())
	}
	for i := 0; i < 20; i++ {
		p.Scatter(func() (int, error) { return 1, nil })
	}
	if _, err := p.Gather(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for p.Workers() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d workers still alive long after the work ended", p.Workers())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if p.Pending() != 0 {
		t.Fatal("nothing should be pending")
	}
}
