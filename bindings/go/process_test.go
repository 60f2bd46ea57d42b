// SPDX-License-Identifier: Apache-2.0

package lox_test

import (
	"errors"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"liblox.dev/lox"
	"liblox.dev/lox/internal/ctask"
)

func newProcessPool(t *testing.T, workers int, opts *lox.ProcessOptions) *lox.ProcessPool {
	t.Helper()
	p, err := lox.NewProcessPoolC(workers, ctask.Fn(), ctask.Ctx(), opts)
	if err != nil {
		t.Fatalf("NewProcessPoolC: %v", err)
	}
	cleanupClose(t, p)
	return p
}

func scatterAll(t *testing.T, p *lox.ProcessPool, inputs ...string) {
	t.Helper()
	for i, in := range inputs {
		idx, err := p.Scatter([]byte(in))
		if err != nil || idx != i {
			t.Fatalf("Scatter %q: index %d, err %v", in, idx, err)
		}
	}
}

func TestProcessPoolCExample(t *testing.T) {
	checkHandles(t)
	p := newProcessPool(t, 2, nil)
	scatterAll(t, p, "sq 0", "sq 1", "sq 2", "sq 3", "sq 4")
	res, err := p.Gather()
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	var got []string
	for _, r := range res {
		if r.Err != nil || r.Status != lox.StatusOK {
			t.Fatalf("task failed: %+v", r)
		}
		got = append(got, string(r.Data))
	}
	if want := []string{"0", "2", "6", "12", "20"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

// The task ran in another process, with the C ctx, and with the Go
// runtime's signal handlers replaced by the defaults (the child never
// enters Go).
func TestProcessPoolCRunsInForkedChild(t *testing.T) {
	if debugForced() {
		t.Skip("LOX_DEBUG forces inline mode")
	}
	p := newProcessPool(t, 1, nil)
	scatterAll(t, p, "pid", "sig", "ctx")
	res, err := p.Gather()
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	pid, perr := strconv.Atoi(string(res[0].Data))
	if perr != nil || pid <= 0 || pid == os.Getpid() {
		t.Fatalf("task pid %q, this process %d: want another process", res[0].Data, os.Getpid())
	}
	if string(res[1].Data) != "dfl" {
		t.Fatalf("SIGSEGV in the worker: %q, want the default action", res[1].Data)
	}
	if string(res[2].Data) != "ctx ok" {
		t.Fatalf("ctx in the worker: %q", res[2].Data)
	}
	if w := p.Workers(); w != 1 {
		t.Fatalf("Workers() = %d, want 1", w)
	}
}

func TestProcessPoolCInlineMode(t *testing.T) {
	p := newProcessPool(t, 0, nil)
	scatterAll(t, p, "pid", "sig", "sq 9")
	res, err := p.Gather()
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	if string(res[0].Data) != strconv.Itoa(os.Getpid()) {
		t.Fatalf("inline task pid %q, want this process %d", res[0].Data, os.Getpid())
	}
	// In this process the Go runtime's handler must be left alone.
	if string(res[1].Data) != "handler" {
		t.Fatalf("SIGSEGV in this process: %q, want Go's handler kept", res[1].Data)
	}
	if string(res[2].Data) != "90" {
		t.Fatalf("sq 9 = %q", res[2].Data)
	}
}

func TestProcessPoolCFailuresIsolated(t *testing.T) {
	if debugForced() {
		t.Skip("LOX_DEBUG runs tasks inline: a crash would kill the test")
	}
	lox.SetLogLevel(lox.LogOff)
	defer lox.SetLogLevel(lox.LogWarn)
	p := newProcessPool(t, 2, nil)
	scatterAll(t, p, "sq 5", "crash", "fail", "exit 3", "sq 6")
	res, err := p.Gather()
	if !errors.Is(err, lox.ErrTask) {
		t.Fatalf("Gather: %v, want ErrTask", err)
	}
	if string(res[0].Data) != "30" || res[0].Err != nil || string(res[4].Data) != "42" || res[4].Err != nil {
		t.Fatalf("good tasks disturbed: %+v", res)
	}
	var le *lox.Error
	if !errors.Is(res[1].Err, lox.ErrWorker) || !errors.As(res[1].Err, &le) || !strings.Contains(le.Detail, "SIGSEGV") {
		t.Fatalf("crash: %v, want ErrWorker killed by SIGSEGV", res[1].Err)
	}
	if res[2].Status != 7 || !errors.As(res[2].Err, &le) || le.Code != 7 || !strings.Contains(le.Detail, "bad input") {
		t.Fatalf("fail: %+v, want status 7 with detail", res[2])
	}
	if !errors.Is(res[3].Err, lox.ErrWorker) || !strings.Contains(res[3].Err.Error(), "3") {
		t.Fatalf("exit 3: %v, want ErrWorker", res[3].Err)
	}
	// Dead workers were replaced: the pool goes on.
	scatterAll(t, p, "sq 1")
	res, err = p.Gather()
	if err != nil || string(res[0].Data) != "2" {
		t.Fatalf("after failures: %+v %v", res, err)
	}
}

func TestProcessPoolCTaskTimeoutAndGatherTimeout(t *testing.T) {
	if debugForced() {
		t.Skip("LOX_DEBUG forces inline mode")
	}
	lox.SetLogLevel(lox.LogOff)
	defer lox.SetLogLevel(lox.LogWarn)
	p := newProcessPool(t, 2, &lox.ProcessOptions{TaskTimeout: 300 * time.Millisecond})
	scatterAll(t, p, "sleep 60000", "sq 2")
	// The first task cannot be done within 1 ms: the gather times out, and
	// nothing is lost.
	if _, err := p.Gather(lox.WithTimeout(time.Millisecond)); !errors.Is(err, lox.ErrTimeout) {
		t.Fatalf("short Gather: %v, want ErrTimeout", err)
	}
	res, err := p.Gather()
	if !errors.Is(err, lox.ErrTask) || len(res) != 2 {
		t.Fatalf("Gather: %+v %v", res, err)
	}
	if res[0].Status != lox.StatusTimeout || !errors.Is(res[0].Err, lox.ErrTimeout) {
		t.Fatalf("sleeping task: %+v, want killed at its time limit", res[0])
	}
	if string(res[1].Data) != "6" {
		t.Fatalf("sq 2 = %q", res[1].Data)
	}
}

func TestProcessPoolCClose(t *testing.T) {
	if debugForced() {
		t.Skip("LOX_DEBUG runs the sleeping task inline")
	}
	p, err := lox.NewProcessPoolC(2, ctask.Fn(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	scatterAll(t, p, "sq 1", "sleep 60000")
	if err := p.Close(); err != nil { // drops the round
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Scatter([]byte("sq 1")); !errors.Is(err, lox.ErrClosed) {
		t.Fatalf("Scatter after Close: %v", err)
	}
	if _, err := p.Gather(); !errors.Is(err, lox.ErrClosed) {
		t.Fatalf("Gather after Close: %v", err)
	}
	if _, err := lox.NewProcessPoolC(1, nil, nil, nil); !errors.Is(err, lox.ErrInval) {
		t.Fatalf("nil fn: %v", err)
	}
}

func TestProcessPoolCManyGoroutines(t *testing.T) {
	p := newProcessPool(t, 2, nil)
	const G, N = 4, 100
	done := make(chan error, G)
	for g := 0; g < G; g++ {
		g := g
		go func() {
			for i := 0; i < N; i++ {
				if _, err := p.Scatter([]byte("sq " + strconv.Itoa(g*N+i))); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	for g := 0; g < G; g++ {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	var last int
	res, err := p.Gather(lox.WithProgress(func(d, total int) { last = d }))
	if err != nil || len(res) != G*N || last != G*N {
		t.Fatalf("%d results, last progress %d, err %v", len(res), last, err)
	}
	seen := make(map[int64]bool)
	for _, r := range res {
		v, err := strconv.ParseInt(string(r.Data), 10, 64)
		if err != nil || seen[v] {
			t.Fatalf("bad or duplicate result %q", r.Data)
		}
		seen[v] = true
	}
	for x := int64(0); x < G*N; x++ {
		if !seen[x*(x+1)] {
			t.Fatalf("missing result for %d", x)
		}
	}
}
