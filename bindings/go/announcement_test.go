// SPDX-License-Identifier: Apache-2.0

package lox_test

import (
	"errors"
	"math"
	"testing"
	"time"

	"liblox.dev/lox"
)

// mustNewAnnouncement and mustSubscribe fail the test when liblox refuses.
func mustNewAnnouncement[T any](t *testing.T, maxsize, backlog int) *lox.Announcement[T] {
	t.Helper()
	a, err := lox.NewAnnouncement[T](maxsize, backlog)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func mustSubscribe[T any](t *testing.T, a *lox.Announcement[T], maxsize int) *lox.Announcement[T] {
	t.Helper()
	s, err := a.Subscribe(maxsize)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustGetAll[T comparable](t *testing.T, a *lox.Announcement[T], want ...T) {
	t.Helper()
	for _, w := range want {
		v, err := a.GetTimeout(0)
		if err != nil || v != w {
			t.Fatalf("Get: %v %v, want %v", v, err, w)
		}
	}
	if _, err := a.GetTimeout(0); !errors.Is(err, lox.ErrTimeout) {
		t.Fatalf("queue should be empty now: %v", err)
	}
}

func TestAnnouncementDeliversToEveryOtherMember(t *testing.T) {
	checkHandles(t)
	base := lox.LiveHandles()
	pub := mustNewAnnouncement[int](t, 0, lox.BacklogOff)
	s1 := mustSubscribe(t, pub, 0)
	s2 := mustSubscribe(t, pub, 0)
	if pub.Subscribers() != 3 {
		t.Fatalf("Subscribers() = %d, want 3 (the creator is a member)", pub.Subscribers())
	}
	pub.Put(1)
	pub.Put(2)
	s1.Put(3) // reaches s2 and the creator, not s1 itself
	mustGetAll(t, s1, 1, 2)
	mustGetAll(t, s2, 1, 2, 3)
	mustGetAll(t, pub, 3)
	if lox.LiveHandles() != base {
		t.Fatalf("every copy was got: %d live handles, want %d", lox.LiveHandles(), base)
	}
	// Unsubscribe: drain what it had, then ErrClosed.
	pub.Put(4)
	if err := s1.Unsubscribe(); err != nil {
		t.Fatal(err)
	}
	pub.Put(5)
	if v, err := s1.Get(); err != nil || v != 4 {
		t.Fatalf("drain after Unsubscribe: %v %v", v, err)
	}
	if _, err := s1.Get(); !errors.Is(err, lox.ErrClosed) {
		t.Fatalf("Get after Unsubscribe and drain: %v", err)
	}
	if err := s1.Unsubscribe(); !errors.Is(err, lox.ErrState) {
		t.Fatalf("second Unsubscribe: %v", err)
	}
	// A clone is no member: it receives nothing, its puts reach every
	// member. Copies never got (s2 holds 4, 5 and 6, the creator 6) are
	// dropped with their queues.
	c, _ := pub.Clone()
	if _, err := c.GetTimeout(0); !errors.Is(err, lox.ErrClosed) {
		t.Fatalf("Get on a clone: %v, want ErrClosed", err)
	}
	if err := c.Unsubscribe(); !errors.Is(err, lox.ErrState) {
		t.Fatalf("Unsubscribe of a clone: %v, want ErrState", err)
	}
	c.Put(6)
	if pub.Len() != 1 {
		t.Fatalf("the clone's put did not reach the creator (Len %d)", pub.Len())
	}
	for _, a := range []*lox.Announcement[int]{pub, s1, c, s2} {
		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// lox's many-queue-to-many-queue example: foo := ann.Subscribe;
// foo.Put(42); ann.Get() == 42; three members after two Subscribes.
func TestAnnouncementLoxManyToManyExample(t *testing.T) {
	checkHandles(t)
	base := lox.LiveHandles()
	ann := mustNewAnnouncement[int](t, 0, lox.BacklogOff)
	foo := mustSubscribe(t, ann, 0)
	bar := mustSubscribe(t, ann, 0)
	if n := ann.Subscribers(); n != 3 {
		t.Fatalf("Subscribers() = %d, want 3", n)
	}
	// The creator waits in Get while a subscriber puts from a goroutine.
	got := make(chan int)
	go func() {
		v, err := ann.Get()
		if err != nil {
			t.Error(err)
		}
		got <- v
	}()
	if err := foo.Put(42); err != nil {
		t.Fatal(err)
	}
	if v := <-got; v != 42 {
		t.Fatalf("ann.Get() = %d, want 42", v)
	}
	mustGetAll(t, bar, 42)
	mustGetAll(t, foo) // not to the sender
	// The creator may leave, as in lox (ann.unsubscribe(ann)).
	if err := ann.Unsubscribe(); err != nil {
		t.Fatal(err)
	}
	bar.Put(7)
	mustGetAll(t, foo, 7)
	if _, err := ann.GetTimeout(0); !errors.Is(err, lox.ErrClosed) {
		t.Fatalf("Get of the unsubscribed creator: %v, want ErrClosed", err)
	}
	for _, a := range []*lox.Announcement[int]{ann, foo, bar} {
		a.Close()
	}
	if lox.LiveHandles() != base {
		t.Fatalf("%d live handles, want %d", lox.LiveHandles(), base)
	}
}

// Bounds are counts, not allocations: the largest maxsize and backlog an
// int can carry work, the creator's queue included.
func TestAnnouncementHugeBounds(t *testing.T) {
	checkHandles(t)
	ann := mustNewAnnouncement[int](t, math.MaxInt, math.MaxInt)
	defer ann.Close()
	sub, err := ann.Subscribe(math.MaxInt)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	for i := 0; i < 3; i++ {
		if err := sub.PutTimeout(i, 0); err != nil {
			t.Fatal(err)
		}
	}
	mustGetAll(t, ann, 0, 1, 2)
	if ann.Backlog() != 3 {
		t.Fatalf("Backlog() = %d, want 3", ann.Backlog())
	}
	late, err := ann.Subscribe(0)
	if err != nil {
		t.Fatal(err)
	}
	defer late.Close()
	mustGetAll(t, late, 0, 1, 2)
	if _, err := lox.NewAnnouncement[int](-1, lox.BacklogOff); !errors.Is(err, lox.ErrInval) {
		t.Fatalf("negative maxsize: %v, want ErrInval", err)
	}
}

func TestAnnouncementBacklog(t *testing.T) {
	checkHandles(t)
	pub := mustNewAnnouncement[string](t, 0, 2)
	defer pub.Close()
	pub.Put("a")
	pub.Put("b")
	pub.Put("c")
	if pub.Backlog() != 2 {
		t.Fatalf("Backlog() = %d, want 2", pub.Backlog())
	}
	late, err := pub.Subscribe(0)
	if err != nil {
		t.Fatal(err)
	}
	defer late.Close()
	mustGetAll(t, late, "b", "c")
	if _, err := pub.Subscribe(1); !errors.Is(err, lox.ErrState) {
		t.Fatalf("backlog larger than the new queue: %v, want ErrState", err)
	}
	if err := pub.Finalize(); err != nil {
		t.Fatal(err)
	}
	if pub.Backlog() != 0 {
		t.Fatal("Finalize should free the backlog")
	}
	if _, err := pub.Subscribe(0); !errors.Is(err, lox.ErrClosed) {
		t.Fatalf("Subscribe after Finalize: %v, want ErrClosed", err)
	}
	pub.Put("d")
	mustGetAll(t, late, "d")

	// An unbounded backlog keeps everything until Finalize.
	all := mustNewAnnouncement[int](t, 0, lox.BacklogUnbounded)
	defer all.Close()
	for i := 0; i < 10; i++ {
		all.Put(i)
	}
	sub := mustSubscribe(t, all, 0)
	defer sub.Close()
	mustGetAll(t, sub, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9)
}

func TestAnnouncementPutTimeoutAllOrNone(t *testing.T) {
	checkHandles(t)
	pub := mustNewAnnouncement[int](t, 0, lox.BacklogOff)
	small := mustSubscribe(t, pub, 1)
	big := mustSubscribe(t, pub, 0)
	defer func() {
		for _, a := range []*lox.Announcement[int]{small, big, pub} {
			a.Close()
		}
	}()
	pub.Put(1)
	if err := pub.PutTimeout(2, 10*time.Millisecond); !errors.Is(err, lox.ErrTimeout) {
		t.Fatalf("Put with a full receiver: %v, want ErrTimeout", err)
	}
	if big.Len() != 1 {
		t.Fatalf("a timed-out put reached a receiver (Len %d)", big.Len())
	}
	mustGetAll(t, small, 1)
	mustGetAll(t, big, 1)
}

// Two clones publish; the creator and three subscribers receive.
func TestAnnouncementManyPublishersAndReceivers(t *testing.T) {
	checkHandles(t)
	base := lox.LiveHandles()
	pub := mustNewAnnouncement[int](t, 16, lox.BacklogOff)
	const R, P, N = 4, 2, 400
	subs := make([]*lox.Announcement[int], R)
	subs[0] = pub
	for i := 1; i < R; i++ {
		subs[i], _ = pub.Subscribe(0)
	}
	got := make([][]int, R)
	receivers := goEach(R, func(r int) {
		for len(got[r]) < P*N {
			v, err := subs[r].Get()
			if err != nil {
				t.Error(err)
				return
			}
			got[r] = append(got[r], v)
		}
	})
	clones := make([]*lox.Announcement[int], P)
	for p := range clones {
		clones[p], _ = pub.Clone()
	}
	goEach(P, func(p int) {
		defer clones[p].Close()
		for i := 0; i < N; i++ {
			if err := clones[p].Put(p*N + i); err != nil {
				t.Error(err)
				return
			}
		}
	})()
	receivers()
	for r := range got {
		seen := make(map[int]bool)
		for _, v := range got[r] {
			if seen[v] {
				t.Fatalf("receiver %d got %d twice", r, v)
			}
			seen[v] = true
		}
		if len(seen) != P*N {
			t.Fatalf("receiver %d got %d values, want %d", r, len(seen), P*N)
		}
	}
	if lox.LiveHandles() != base {
		t.Fatalf("every copy was got: %d live handles, want %d", lox.LiveHandles(), base)
	}
	for _, s := range subs {
		s.Close() // the creator too
	}
}

// A put that times out is not kept in the backlog either (all or none),
// and the binding's copy count stays exact.
func TestAnnouncementTimedOutPutNotInBacklog(t *testing.T) {
	checkHandles(t)
	base := lox.LiveHandles()
	pub := mustNewAnnouncement[int](t, 0, 5)
	small := mustSubscribe(t, pub, 1)
	pub.Put(1)
	if err := pub.PutTimeout(2, 10*time.Millisecond); !errors.Is(err, lox.ErrTimeout) {
		t.Fatalf("Put with a full receiver: %v, want ErrTimeout", err)
	}
	if pub.Backlog() != 1 {
		t.Fatalf("Backlog() = %d after a timed-out put, want 1", pub.Backlog())
	}
	mustGetAll(t, small, 1)
	if err := pub.Finalize(); err != nil {
		t.Fatal(err)
	}
	if lox.LiveHandles() != base {
		t.Fatalf("got and finalized: %d live handles, want %d", lox.LiveHandles(), base)
	}
	small.Close()
	pub.Close()
}
