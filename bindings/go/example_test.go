// SPDX-License-Identifier: Apache-2.0

package lox_test

import (
	"errors"
	"fmt"
	"time"

	"liblox.dev/lox"
	"liblox.dev/lox/internal/ctask"
)

// lox's first example on a thread pool.
func ExampleThreadPool() {
	pool, err := lox.NewThreadPool[int](4)
	if err != nil {
		panic(err)
	}
	defer pool.Close()
	for x := 0; x < 5; x++ {
		x := x
		pool.Scatter(func() (int, error) { return x * (x + 1), nil })
	}
	results, err := pool.Gather()
	if err != nil {
		panic(err)
	}
	for _, r := range results {
		fmt.Print(r.Value, " ")
	}
	fmt.Println()
	// Output: 0 2 6 12 20
}

// The same with a C task in worker processes.
func ExampleNewProcessPoolC() {
	pool, err := lox.NewProcessPoolC(2, ctask.Fn(), nil, nil)
	if err != nil {
		panic(err)
	}
	defer pool.Close()
	for x := 0; x < 5; x++ {
		pool.Scatter([]byte(fmt.Sprintf("sq %d", x)))
	}
	results, err := pool.Gather()
	if err != nil {
		panic(err)
	}
	for _, r := range results {
		fmt.Print(string(r.Data), " ")
	}
	fmt.Println()
	// Output: 0 2 6 12 20
}

func ExampleQueue() {
	q, _ := lox.NewQueue[string](0)
	defer q.Destroy()
	q.Put("hello")
	q.Close()
	v, err := q.Get()
	fmt.Println(v, err)
	_, err = q.GetTimeout(time.Second)
	fmt.Println(errors.Is(err, lox.ErrClosed))
	// Output:
	// hello <nil>
	// true
}
