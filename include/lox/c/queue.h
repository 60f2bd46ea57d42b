/* SPDX-License-Identifier: Apache-2.0 */
/* liblox C ABI: the queues. */
/* Part of <lox/lox.h> (its conventions apply); include that header. */
#ifndef LOX_C_QUEUE_H
#define LOX_C_QUEUE_H

#include <stddef.h>
#include <lox/c/api.h>
#include <lox/c/status.h>

LOX_BEGIN_DECLS

/* ==========================================================================
 * Queues: lox_queue, lox_announcement, lox_funnel
 * ==========================================================================
 *
 * Items are opaque pointer-sized values (`void *`, NULL included): the
 * library stores and hands them back, never dereferences or frees them. An
 * item that was put is delivered exactly once (to each receiver, for an
 * announcement) unless the queue is destroyed with the item still inside.
 *
 * Rules shared with the synchronization objects: timeouts are seconds
 * (LOX_FOREVER waits forever, 0 tries once, NaN is LOX_EINVAL); waits spin
 * for a few microseconds, then sleep on a futex (no polling loop); a put
 * or get that returns LOX_TIMEOUT leaves no trace; destroying an object
 * while threads are blocked in it is detected (logged at ERROR, the blocked
 * threads return LOX_ESTATE, destroy waits until they have left); counter
 * getters are snapshots and read 0 for a NULL handle (detail set), flag
 * getters return 1/0 or LOX_EINVAL for NULL. All functions are thread-safe.
 */

typedef struct lox_queue lox_queue;
typedef struct lox_announcement lox_announcement;
typedef struct lox_funnel lox_funnel;

/* --- lox_queue: closable MPMC FIFO (queue.Queue + close) ----------------- */

/** Creates an empty queue holding at most `maxsize` items (0 = unbounded;
 *  any other value, SIZE_MAX included, is a bound, not a preallocation).
 *  LOX_EINVAL if `out` is NULL; LOX_ENOMEM. The caller owns `*out`
 *  (lox_queue_destroy).
 *
 *  Lock-free: puts and gets are a compare-and-swap on the producers' or the
 *  consumers' end plus one store; the queue sleeps only when a get finds it
 *  empty or a put finds it full, and a put or get wakes a sleeper without a
 *  system call when nobody sleeps. A bounded queue with maxsize <= 65536
 *  is one preallocated ring (16 bytes per slot); larger or unbounded queues
 *  grow in blocks of about 16 KiB, allocated as needed and freed as soon as
 *  they are drained. FIFO: items come out in the order their puts took
 *  effect (two concurrent puts take effect in either order). */
LOX_API int lox_queue_create(size_t maxsize, lox_queue **out);

/** Frees the queue and any items still inside (the items themselves are the
 *  caller's). NULL is ignored. Threads blocked in put, get or join get
 *  LOX_ESTATE. */
LOX_API void lox_queue_destroy(lox_queue *q);

/** Appends `item`, waiting at most `timeout` seconds for room.
 *  LOX_OK; LOX_TIMEOUT: still full (nothing was put); LOX_ECLOSED: the queue
 *  is closed (also when it closes while this put waits); LOX_EINVAL: `q`
 *  NULL or NaN timeout; LOX_ESTATE: destroyed while waiting. */
LOX_API int lox_queue_put(lox_queue *q, void *item, double timeout);

/** Removes the oldest item into `*item`, waiting at most `timeout` seconds
 *  for one. LOX_OK; LOX_TIMEOUT: still empty (`*item` untouched);
 *  LOX_ECLOSED: the queue is closed and empty (after a close, gets drain
 *  what is left first); LOX_EINVAL: `q` or `item` NULL, or NaN timeout;
 *  LOX_ESTATE: destroyed while waiting. */
LOX_API int lox_queue_get(lox_queue *q, void **item, double timeout);

/** Closes the queue: later puts return LOX_ECLOSED, gets drain the items
 *  left and then return LOX_ECLOSED, and every blocked put and get wakes up
 *  (Effective Python's ClosableQueue, without a sentinel item). A put either took
 *  effect before the close (its item will be got) or returns LOX_ECLOSED:
 *  nothing is lost. Closing twice is allowed (LOX_OK). LOX_EINVAL if `q` is
 *  NULL. */
LOX_API int lox_queue_close(lox_queue *q);

/** 1 if lox_queue_close was called, 0 if not; LOX_EINVAL for NULL. */
LOX_API int lox_queue_closed(const lox_queue *q);

/** Marks one item that was got as fully processed (queue.Queue.task_done).
 *  LOX_ESTATE if called more often than items were got (nothing changes);
 *  LOX_EINVAL if `q` is NULL. When every item ever put has been marked,
 *  lox_queue_join returns. */
LOX_API int lox_queue_task_done(lox_queue *q);

/** Waits at most `timeout` seconds until every item ever put has been got
 *  and marked with lox_queue_task_done (returns at once when that already
 *  holds). LOX_OK; LOX_TIMEOUT; LOX_EINVAL: `q` NULL or NaN timeout;
 *  LOX_ESTATE: destroyed while waiting. */
LOX_API int lox_queue_join(lox_queue *q, double timeout);

/** Items in the queue now (qsize). 0 for NULL (detail set). */
LOX_API size_t lox_queue_size(const lox_queue *q);

/** The maxsize given to lox_queue_create (0 = unbounded). 0 for NULL. */
LOX_API size_t lox_queue_maxsize(const lox_queue *q);

/** 1 if empty, 0 if not; LOX_EINVAL for NULL. */
LOX_API int lox_queue_empty(const lox_queue *q);

/** 1 if bounded and holding maxsize items, 0 if not (always 0 when
 *  unbounded); LOX_EINVAL for NULL. */
LOX_API int lox_queue_full(const lox_queue *q);

/* --- lox_announcement: many receive queues to many, with backlog -------- */

#define LOX_BACKLOG_OFF (-1)      /* no backlog (lox: backlog=None) */
#define LOX_BACKLOG_UNBOUNDED (0) /* keep everything put until finalize (lox: backlog<=0) */
/* backlog > 0: keep the most recent `backlog` items (circular) */

/** Creates an announcement group and returns its first handle, which is
 *  the group's first member (lox's Announcement() is one of its own
 *  subscribers): it has its own receive queue, bounded by `maxsize`, and
 *  gets what the other handles put, so lox_announcement_subscribers is 1
 *  now and 3 after two subscribes. `maxsize` is also the default
 *  receive-queue bound of the group's later members (0 = unbounded; any
 *  value works, large bounds are counts, not preallocated); `backlog` is
 *  LOX_BACKLOG_OFF, LOX_BACKLOG_UNBOUNDED or N > 0 (the last N items put
 *  are kept and pre-filled into every later subscriber, so a late or racing
 *  subscriber misses nothing; the backlog grows as items come, any N
 *  works). LOX_EINVAL: `out` NULL or `backlog` < -1; LOX_ENOMEM.
 *
 *  Membership is lox's: the members are the handle from create and every
 *  subscriber (subscribers of subscribers included), each with its own
 *  receive queue; a put by a member reaches every OTHER member, so members
 *  talk many-to-many (lox 0.6):
 *
 *      lox_announcement_create(0, LOX_BACKLOG_OFF, &ann);
 *      lox_announcement_subscribe(ann, 0, LOX_FOREVER, &foo);
 *      lox_announcement_put(foo, item, LOX_FOREVER);   (ann gets item)
 *
 *  A clone is a publisher outside the member list: its puts reach every
 *  member, the creator included, and it receives nothing.
 *
 *  A group is a set of handles: its members, unsubscribed members and
 *  clones. Each handle is owned by its caller and destroyed on its own
 *  (lox_announcement_destroy); the group's shared state lives until the
 *  last handle is destroyed, in any order. Puts are serialized by a group
 *  mutex (all-or-none delivery needs it); gets only touch the receiver's
 *  own lock-free queue. */
LOX_API int lox_announcement_create(size_t maxsize, long long backlog, lox_announcement **out);

/** Destroys one handle (NULL is ignored). A member (the create handle
 *  included) first leaves the group (items still in its queue are
 *  dropped); the other handles go on. Threads blocked in this handle's get
 *  get LOX_ESTATE. */
LOX_API void lox_announcement_destroy(lox_announcement *a);

/** Subscribes a new member to `a`'s group (any handle of the group may be
 *  used) and returns its handle in `*out`: it gets every item put by any
 *  other handle of the group from now on, preceded by the group's backlog
 *  (its own puts reach the other members, the creator included).
 *  `maxsize` bounds its receive queue (0 = the group's default). The new
 *  queue is fresh and empty, so subscribe never waits for room (lox's
 *  `timeout` only mattered for a caller-supplied full queue); `timeout` is
 *  still checked (NaN is LOX_EINVAL). LOX_OK; LOX_ECLOSED: the group was
 *  finalized; LOX_ESTATE: the backlog holds more items than the new queue's
 *  maxsize (nothing subscribed: nobody could drain the queue before
 *  subscribe returns, so waiting would never end); LOX_EINVAL: `a` or `out`
 *  NULL, NaN timeout; LOX_ENOMEM. The caller owns `*out`. */
LOX_API int lox_announcement_subscribe(lox_announcement *a, size_t maxsize, double timeout, lox_announcement **out);

/** Puts `item` into the receive queue of every member except `a` itself
 *  (the creator's queue included when `a` is a subscriber or a clone), and
 *  into the backlog. All or none: if a receiver is full, the put waits (at
 *  most `timeout` seconds) until every receiver has room, then delivers to
 *  all at once; on LOX_TIMEOUT nobody got the item (lox delivers
 *  partially; we do not). A member that never gets fills up like any
 *  other: in a bounded group, a creator that only publishes while its
 *  subscribers put too must get (or unsubscribe). With no other member the
 *  item only goes to the backlog. Unsubscribed handles and clones may
 *  still put.
 *  LOX_EINVAL: `a` NULL or NaN timeout; LOX_ESTATE: `a` was destroyed
 *  while this put waited. Cost: one mutex plus one lock-free enqueue per
 *  receiver. */
LOX_API int lox_announcement_put(lox_announcement *a, void *item, double timeout);

/** Takes the oldest item of `a`'s receive queue, waiting at most `timeout`
 *  seconds. LOX_OK; LOX_TIMEOUT (empty); LOX_ECLOSED: `a` is a clone (it
 *  receives nothing) or was unsubscribed and its queue is drained;
 *  LOX_EINVAL: `a` or `item` NULL, NaN timeout; LOX_ESTATE: destroyed while
 *  waiting. */
LOX_API int lox_announcement_get(lox_announcement *a, void **item, double timeout);

/** Closes the group to new subscribers (their subscribe returns
 *  LOX_ECLOSED) and frees the backlog; later puts keep no backlog. Existing
 *  members (the creator included) are unaffected. Finalizing twice is
 *  LOX_OK. LOX_EINVAL if `a` is NULL. */
LOX_API int lox_announcement_finalize(lox_announcement *a);

/** `a` leaves the group's members (lox's unsubscribe; the create handle
 *  may too): it receives nothing more, its gets drain what it had and then
 *  return LOX_ECLOSED; it may still put. LOX_ESTATE if `a` is not a member
 *  (a clone, or already unsubscribed); LOX_EINVAL if `a` is NULL. */
LOX_API int lox_announcement_unsubscribe(lox_announcement *a);

/** A new publisher handle on `a`'s group (lox's clone without a
 *  subscribe): its puts reach every member, the creator included; it
 *  receives nothing (gets return LOX_ECLOSED) and is not counted as a
 *  member. LOX_EINVAL: `a` or `out` NULL; LOX_ENOMEM. The caller owns
 *  `*out`. */
LOX_API int lox_announcement_clone(lox_announcement *a, lox_announcement **out);

/** Members in the group now, the creator included while it is one (lox's
 *  len(): 1 after create, 3 after two subscribes). 0 for NULL (detail
 *  set). */
LOX_API size_t lox_announcement_subscribers(const lox_announcement *a);

/** Items in `a`'s receive queue (qsize); 0 for a clone or NULL. */
LOX_API size_t lox_announcement_size(const lox_announcement *a);

/** Items kept in the group's backlog now (0 when off or finalized). */
LOX_API size_t lox_announcement_backlog(const lox_announcement *a);

/** 1 if `a`'s receive queue is empty (always for a clone), 0 if not;
 *  LOX_EINVAL for NULL. */
LOX_API int lox_announcement_empty(const lox_announcement *a);

/** 1 if `a`'s receive queue is bounded and full, 0 if not; LOX_EINVAL for
 *  NULL. */
LOX_API int lox_announcement_full(const lox_announcement *a);

/* --- lox_funnel: join the results of many inputs by job id --------------- */

/** Creates a funnel and returns its top, where complete sets come out.
 *  LOX_EINVAL if `out` is NULL; LOX_ENOMEM. The caller owns `*out`; the
 *  funnel's shared state lives until its last handle (top or input) is
 *  destroyed, in any order. Unbounded: puts never block. */
LOX_API int lox_funnel_create(lox_funnel **out);

/** Destroys one handle (NULL is ignored). Destroying an input does not
 *  remove it from the funnel (the inputs keep their numbers, and sets still
 *  need its item). Threads blocked in the top's get get LOX_ESTATE. */
LOX_API void lox_funnel_destroy(lox_funnel *f);

/** Adds an input to the funnel of `top` (the top or any input may be
 *  given) and returns it in `*input`; inputs are numbered 0, 1, ... in
 *  subscription order (lox_funnel_index). Sets not yet complete now also
 *  wait for the new input. LOX_EINVAL: NULL argument; LOX_ENOMEM. */
LOX_API int lox_funnel_subscribe(lox_funnel *top, lox_funnel **input);

/** Puts `item` for job `jid` on `input`. When every input has put an item
 *  for `jid`, the set is complete and comes out of the top (in completion
 *  order, items in input order). A second put of the same input for the
 *  same jid before the set completes is kept for the next set with that jid
 *  (nothing is overwritten). Never blocks; `timeout` is checked (NaN is
 *  LOX_EINVAL) for symmetry with the other puts. LOX_ESTATE if `input` is
 *  the top (lox's FunnelPutTopError); LOX_EINVAL: NULL `input`; LOX_ENOMEM. */
LOX_API int lox_funnel_put(lox_funnel *input, unsigned long long jid, void *item, double timeout);

/** Takes the oldest complete set, waiting at most `timeout` seconds: its
 *  job id goes to `*jid` (may be NULL), its items in input order to
 *  `items[0 .. *count-1]`; `capacity` is the room at `items` as the caller
 *  knows it (any value: only the set's own items are written). LOX_OK;
 *  LOX_TIMEOUT (nothing complete);
 *  LOX_EINVAL: `top` or `count` NULL, `items` NULL with `capacity` > 0, NaN
 *  timeout, or `capacity` smaller than the set (then `*count` is set to the
 *  set's size and nothing is consumed); LOX_ESTATE: `top` is an input, or
 *  the funnel was destroyed while waiting. */
LOX_API int lox_funnel_get(lox_funnel *top, double timeout, unsigned long long *jid, void **items, size_t capacity,
                           size_t *count);

/** Inputs subscribed so far (lox's len()); 0 for NULL (detail set). */
LOX_API size_t lox_funnel_inputs(const lox_funnel *f);

/** Complete sets waiting at the top now; 0 for NULL. */
LOX_API size_t lox_funnel_ready(const lox_funnel *f);

/** The input's number (0, 1, ...), -1 for the top; -1 for NULL (detail set). */
LOX_API long lox_funnel_index(const lox_funnel *f);

LOX_END_DECLS

#endif /* LOX_C_QUEUE_H */
