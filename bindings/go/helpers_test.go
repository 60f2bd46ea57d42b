// SPDX-License-Identifier: Apache-2.0

package lox_test

import (
	"sync"
	"testing"

	"liblox.dev/lox"
)

// checkHandles fails the test if it leaves cgo.Handles behind.
func checkHandles(t *testing.T) {
	t.Helper()
	before := lox.LiveHandles()
	t.Cleanup(func() {
		if after := lox.LiveHandles(); after != before {
			t.Errorf("handle leak: %d live handles before the test, %d after", before, after)
		}
	})
}

type closer interface{ Close() error }

// cleanupClose closes c when the test ends; a failing Close fails the test.
func cleanupClose(t *testing.T, c closer) {
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
}

// goEach runs f(0) .. f(n-1), each in its own goroutine, and returns a
// function that waits until all have returned.
func goEach(n int, f func(i int)) (wait func()) {
	var wg sync.WaitGroup
	wg.Add(n)
	for i := 0; i < n; i++ {
		go func(i int) {
			defer wg.Done()
			f(i)
		}(i)
	}
	return wg.Wait
}
