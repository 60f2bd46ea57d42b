// SPDX-License-Identifier: Apache-2.0

package lox

/*
#include "gx.h"
*/
import "C"

import (
	"sync"
	"time"
	"unsafe"
)

// Backlog settings of NewAnnouncement (any N > 0 keeps the last N values).
const (
	BacklogOff       = -1 // no backlog
	BacklogUnbounded = 0  // keep every value put until Finalize
)

// Announcement publishes values to many receive queues (lox_announcement).
// As in lox, NewAnnouncement returns the group's first member, with its own
// receive queue; Subscribe makes more members, each receiving every value
// put by any other handle of the group from then on (preceded by the
// group's backlog), so members talk many-to-many: a subscriber's Put
// reaches the creator too. Clone makes publishers outside the members
// (they receive nothing). Each handle is closed on its own.
//
// One Put delivers the same value to every subscriber, so its cgo.Handle
// is reference-counted: the binding counts the copies liblox makes (one per
// receiver and one for the backlog) by serializing Put, Subscribe,
// Unsubscribe, Finalize and Close of a group on a Go mutex, and deletes
// the handle when the last copy is got, dropped from the backlog or
// dropped with a closed handle's queue. Get does not take that mutex. A
// consequence: Close of a subscriber waits for a Put that is waiting for
// room (use PutTimeout if receivers may stop reading).
type Announcement[T any] struct {
	c *announcementCore
}

// NewAnnouncement creates a group and returns its first handle, a member
// with its own receive queue: it gets what the subscribers and clones put
// (not its own puts), and Subscribers counts it (3 after two Subscribes).
// maxsize bounds the members' receive queues by default, this one's
// included (0: unbounded); in a bounded group where subscribers put, the
// creator must Get (or Unsubscribe), or their Puts wait for it. backlog is
// BacklogOff, BacklogUnbounded or N > 0.
func NewAnnouncement[T any](maxsize, backlog int) (*Announcement[T], error) {
	c, err := newAnnouncement(maxsize, backlog)
	if err != nil {
		return nil, err
	}
	return &Announcement[T]{c: c}, nil
}

// Subscribe adds a member with its own receive queue (maxsize 0: the
// group's default), pre-filled with the backlog. ErrClosed once the group
// is finalized; ErrState if the backlog does not fit in maxsize.
func (a *Announcement[T]) Subscribe(maxsize int) (*Announcement[T], error) {
	c, err := a.c.subscribe(maxsize)
	if err != nil {
		return nil, err
	}
	return &Announcement[T]{c: c}, nil
}

// Clone returns a new publisher handle on the group: its Puts reach every
// member, the creator included; its Gets fail with ErrClosed.
func (a *Announcement[T]) Clone() (*Announcement[T], error) {
	c, err := a.c.clone()
	if err != nil {
		return nil, err
	}
	return &Announcement[T]{c: c}, nil
}

// Put delivers v to every member except a itself (and to the backlog),
// all or none, waiting for room in every receiver.
func (a *Announcement[T]) Put(v T) error { return a.c.put(v, Forever) }

// PutTimeout is Put waiting at most timeout (ErrTimeout: nobody got v).
func (a *Announcement[T]) PutTimeout(v T, timeout time.Duration) error { return a.c.put(v, timeout) }

// Get takes the oldest value of a's receive queue, waiting for one.
// ErrClosed for a clone, or once a is unsubscribed and drained.
func (a *Announcement[T]) Get() (T, error) { return a.GetTimeout(Forever) }

// GetTimeout is Get waiting at most timeout (ErrTimeout).
func (a *Announcement[T]) GetTimeout(timeout time.Duration) (T, error) {
	v, err := a.c.get(timeout)
	t, _ := v.(T)
	return t, err
}

// Finalize closes the group to new subscribers and frees the backlog.
func (a *Announcement[T]) Finalize() error { return a.c.finalize() }

// Unsubscribe: a (the creator too) leaves the members and receives
// nothing more (its Gets drain what it had, then fail with ErrClosed); it
// may still Put. ErrState if a is not a member (a clone, or unsubscribed).
func (a *Announcement[T]) Unsubscribe() error { return a.c.unsubscribe() }

// Subscribers is the number of members in the group now, the creator
// included while it is one (lox's len).
func (a *Announcement[T]) Subscribers() int { return a.c.count(0) }

// Len is the number of values in a's receive queue now.
func (a *Announcement[T]) Len() int { return a.c.count(1) }

// Backlog is the number of values kept in the group's backlog now.
func (a *Announcement[T]) Backlog() int { return a.c.count(2) }

// Close destroys this handle: a member is unsubscribed first (waking its
// blocked Gets) and the values left in its queue are dropped. Closing
// the group's last handle drops everything left.
func (a *Announcement[T]) Close() error { return a.c.close() }

// ---- the non-generic part ----

type announcementGroup struct {
	mu        sync.Mutex                     // serializes the calls that change copy counts
	subs      map[*announcementCore]struct{} // the members, the creator included
	backlog   int                            // BacklogOff, BacklogUnbounded or N
	kept      []uintptr                      // mirror of liblox's backlog, oldest first
	finalized bool
	open      int // handles not closed

	refsMu sync.Mutex
	refs   map[uintptr]int // live copies of each value put
}

type announcementCore struct {
	g          guard
	a          *C.lox_announcement
	group      *announcementGroup
	subscribed bool // a member; guarded by group.mu
}

func newAnnouncement(maxsize, backlog int) (*announcementCore, error) {
	if maxsize < 0 || backlog < -1 {
		return nil, newError("announcement create", StatusInval, "negative maxsize or backlog < -1")
	}
	r := C.gx_announcement_create(C.size_t(maxsize), C.longlong(backlog))
	if err := check("announcement create", r); err != nil {
		return nil, err
	}
	group := &announcementGroup{subs: map[*announcementCore]struct{}{}, backlog: backlog, open: 1, refs: map[uintptr]int{}}
	// The create handle is the group's first member (liblox, as lox).
	c := &announcementCore{a: (*C.lox_announcement)(r.ptr), group: group, subscribed: true}
	group.subs[c] = struct{}{}
	return c, nil
}

// unref drops n copies of h; the handle is deleted with its last copy.
func (group *announcementGroup) unref(h uintptr, n int) {
	group.refsMu.Lock()
	defer group.refsMu.Unlock()
	c, ok := group.refs[h]
	if !ok {
		return
	}
	if c -= n; c > 0 {
		group.refs[h] = c
		return
	}
	delete(group.refs, h)
	deleteHandle(h)
}

func (group *announcementGroup) ref(h uintptr, n int) {
	group.refsMu.Lock()
	group.refs[h] += n
	group.refsMu.Unlock()
}

func (c *announcementCore) subscribe(maxsize int) (*announcementCore, error) {
	if maxsize < 0 {
		return nil, newError("announcement subscribe", StatusInval, "negative maxsize")
	}
	if !c.g.enterWait() {
		return nil, closedError("announcement subscribe")
	}
	defer c.g.leave()
	group := c.group
	group.mu.Lock()
	defer group.mu.Unlock()
	r := C.gx_announcement_subscribe(c.a, C.size_t(maxsize))
	if err := check("announcement subscribe", r); err != nil {
		return nil, err
	}
	s := &announcementCore{a: (*C.lox_announcement)(r.ptr), group: group, subscribed: true}
	group.subs[s] = struct{}{}
	group.open++
	for _, h := range group.kept { // the new queue holds a copy of the backlog
		group.ref(h, 1)
	}
	return s, nil
}

func (c *announcementCore) clone() (*announcementCore, error) {
	if !c.g.enterWait() {
		return nil, closedError("announcement clone")
	}
	defer c.g.leave()
	group := c.group
	group.mu.Lock()
	defer group.mu.Unlock()
	r := C.gx_announcement_clone(c.a)
	if err := check("announcement clone", r); err != nil {
		return nil, err
	}
	group.open++
	return &announcementCore{a: (*C.lox_announcement)(r.ptr), group: group}, nil
}

func (c *announcementCore) put(v any, timeout time.Duration) error {
	if !c.g.enterWait() {
		return closedError("announcement put")
	}
	defer c.g.leave()
	group := c.group
	group.mu.Lock()
	defer group.mu.Unlock()
	copies := len(group.subs)
	if c.subscribed {
		copies-- // not to itself
	}
	keep := group.backlog != BacklogOff && !group.finalized
	if keep {
		copies++
	}
	if copies == 0 {
		return nil // nobody and no backlog: liblox would drop it at once
	}
	h := newHandle(v)
	group.ref(h, copies) // before the put: a receiver may get it at once
	if err := check("announcement put", C.gx_announcement_put(c.a, C.uintptr_t(h), secs(timeout))); err != nil {
		group.unref(h, copies)
		return err
	}
	if keep {
		group.kept = append(group.kept, h)
		if group.backlog > 0 && len(group.kept) > group.backlog {
			old := group.kept[0]
			group.kept = group.kept[1:]
			group.unref(old, 1)
		}
	}
	return nil
}

func (c *announcementCore) get(timeout time.Duration) (any, error) {
	if !c.g.enterWait() {
		return nil, closedError("announcement get")
	}
	defer c.g.leave()
	r := C.gx_announcement_get(c.a, secs(timeout))
	if err := check("announcement get", r); err != nil {
		return nil, err
	}
	h := uintptr(r.val)
	v := handleValue(h)
	c.group.unref(h, 1)
	return v, nil
}

func (c *announcementCore) finalize() error {
	if !c.g.enter() {
		return closedError("announcement finalize")
	}
	defer c.g.leave()
	group := c.group
	group.mu.Lock()
	defer group.mu.Unlock()
	if err := check("announcement finalize", C.gx_announcement_finalize(c.a)); err != nil {
		return err
	}
	for _, h := range group.kept {
		group.unref(h, 1)
	}
	group.kept, group.finalized = nil, true
	return nil
}

func (c *announcementCore) unsubscribe() error {
	if !c.g.enter() {
		return closedError("announcement unsubscribe")
	}
	defer c.g.leave()
	return c.unsubscribeLocked()
}

func (c *announcementCore) unsubscribeLocked() error {
	group := c.group
	group.mu.Lock()
	defer group.mu.Unlock()
	if err := check("announcement unsubscribe", C.gx_announcement_unsubscribe(c.a)); err != nil {
		return err
	}
	c.subscribed = false
	delete(group.subs, c)
	return nil
}

func (c *announcementCore) count(which int) int {
	if !c.g.enter() {
		return 0
	}
	defer c.g.leave()
	switch which {
	case 0:
		return int(C.lox_announcement_subscribers(c.a))
	case 1:
		return int(C.lox_announcement_size(c.a))
	default:
		return int(C.lox_announcement_backlog(c.a))
	}
}

func (c *announcementCore) close() error {
	// Unsubscribe first: no more deliveries, and blocked Gets wake up.
	if c.g.enter() {
		c.group.mu.Lock()
		sub := c.subscribed
		c.group.mu.Unlock()
		if sub {
			_ = c.unsubscribeLocked()
		}
		c.g.leave()
	}
	if !c.g.close() {
		return nil
	}
	group := c.group
	for { // drop the copies left in this handle's queue
		r := C.gx_announcement_get(c.a, 0)
		if r.detail != nil {
			C.free(unsafe.Pointer(r.detail))
		}
		if r.st != C.LOX_OK {
			break
		}
		group.unref(uintptr(r.val), 1)
	}
	group.mu.Lock()
	defer group.mu.Unlock()
	C.lox_announcement_destroy(c.a)
	c.a = nil
	group.open--
	if group.open == 0 { // the group is gone, with its backlog
		group.refsMu.Lock()
		for h := range group.refs {
			deleteHandle(h)
		}
		group.refs = nil
		group.refsMu.Unlock()
		group.kept = nil
	}
	return nil
}
