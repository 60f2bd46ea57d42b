// SPDX-License-Identifier: Apache-2.0

package lox_test

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"liblox.dev/lox"
)

func TestFunnelJoinsByJobID(t *testing.T) {
	checkHandles(t)
	top, err := lox.NewFunnel[string]()
	if err != nil {
		t.Fatal(err)
	}
	a, _ := top.Subscribe()
	b, _ := top.Subscribe()
	defer func() {
		for _, f := range []*lox.Funnel[string]{a, b, top} {
			if err := f.Close(); err != nil {
				t.Error(err)
			}
		}
	}()
	if top.Index() != -1 || a.Index() != 0 || b.Index() != 1 || top.Inputs() != 2 {
		t.Fatalf("indices %d %d %d inputs %d", top.Index(), a.Index(), b.Index(), top.Inputs())
	}
	if err := top.Put(1, "x"); !errors.Is(err, lox.ErrState) {
		t.Fatalf("Put on the top: %v, want ErrState", err)
	}
	if _, _, err := a.GetTimeout(0); !errors.Is(err, lox.ErrState) {
		t.Fatalf("Get on an input: %v, want ErrState", err)
	}
	b.Put(7, "b7")
	a.Put(8, "a8")
	if _, _, err := top.GetTimeout(10 * time.Millisecond); !errors.Is(err, lox.ErrTimeout) {
		t.Fatalf("Get with nothing complete: %v, want ErrTimeout", err)
	}
	a.Put(7, "a7") // completes job 7
	jid, items, err := top.Get()
	if err != nil || jid != 7 || !reflect.DeepEqual(items, []string{"a7", "b7"}) {
		t.Fatalf("Get: %d %v %v", jid, items, err)
	}
	// A second put of the same input for a job waits for the next set.
	a.Put(8, "a8-second")
	b.Put(8, "b8")
	b.Put(8, "b8-second")
	for _, want := range [][]string{{"a8", "b8"}, {"a8-second", "b8-second"}} {
		jid, items, err := top.Get()
		if err != nil || jid != 8 || !reflect.DeepEqual(items, want) {
			t.Fatalf("Get: %d %v %v, want 8 %v", jid, items, err, want)
		}
	}
	if top.Ready() != 0 {
		t.Fatal("nothing should be ready")
	}
	// An incomplete set is left inside: its handle is deleted by the last
	// Close (checkHandles verifies).
	a.Put(9, "left behind")
}

func TestFunnelManyProducers(t *testing.T) {
	checkHandles(t)
	top, _ := lox.NewFunnel[int]()
	const I, J = 3, 300
	inputs := make([]*lox.Funnel[int], I)
	for i := range inputs {
		inputs[i], _ = top.Subscribe()
	}
	putters := goEach(len(inputs), func(i int) {
		for j := 0; j < J; j++ {
			inputs[i].Put(uint64(j), j*10+i)
		}
	})
	seen := make(map[uint64]bool)
	for k := 0; k < J; k++ {
		jid, items, err := top.Get()
		if err != nil || seen[jid] || len(items) != I {
			t.Fatalf("Get: %d %v %v", jid, items, err)
		}
		seen[jid] = true
		for i, v := range items {
			if v != int(jid)*10+i {
				t.Fatalf("job %d: items %v", jid, items)
			}
		}
	}
	putters()
	for _, in := range inputs {
		in.Close()
	}
	top.Close()
	if err := top.Close(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := top.GetTimeout(0); !errors.Is(err, lox.ErrClosed) {
		t.Fatalf("Get after Close: %v", err)
	}
}
