# SPDX-License-Identifier: Apache-2.0
"""Announcement: put to many receive queues, with backlog (lox_announcement).

Ownership of the items
----------------------
liblox carries ``void*``; a Python item travels as a *token* (an int used as
the pointer) and lives in its group's registry ``token -> [item, count]``
until every delivered copy of the token is consumed. ``count`` is the number
of places still holding the token: receive queues and the backlog.

* ``put`` registers the token with count 0, makes the (all-or-none) liblox
  put, then adds the number of receivers it reached (the group's members,
  the creator included, minus the putter itself if it is one) plus 1 if the
  backlog kept it. A
  getter may consume a copy before that addition (the count is briefly
  negative); the entry goes away when the count is exactly 0.
* The backlog is mirrored in Python (same rule as liblox: the last N puts, or
  all of them, until ``finalize``): an item pushed out of a bounded backlog,
  or freed by ``finalize``, loses one count; a new subscriber, pre-filled
  with the backlog by liblox, adds one to each backlog token.
* ``get`` consumes one copy. A handle that is garbage-collected drains its
  receive queue (one copy each) before liblox destroys it.

So that the receiver count a put reads is the one liblox delivered to, puts,
subscribes, unsubscribes, finalize and handle destruction are serialised by
the group's Python lock (``_Group.lock``, held while a put waits for room, as
lox's own lock is). Gets never take it: a get frees room for a waiting put.
The registry has its own short lock (``_Group.reg``) never held across a
liblox call that blocks. Destruction from ``__del__`` never waits for a lock:
it is queued and done by whoever holds or next releases the group lock.
"""

import ctypes
import itertools
import operator
import queue as _queue
import threading
import time
from collections import deque

from ..exceptions import SubscribeFinalizedError
from ..lock._common import (lib, OK, TIMEOUT, ESTATE, ECLOSED, FOREVER, error,
                            queue_timeout)


class _Ptr:
    """One liblox announcement handle. Unlike ``Handle`` it has no
    ``__del__``: only ``Announcement.__del__`` (via ``_Group.flush``)
    destroys it, after draining its receive queue."""

    __slots__ = ("ptr",)

    def __init__(self, ptr):
        self.ptr = ptr

    def close(self):
        ptr, self.ptr = self.ptr, None
        if ptr is not None:
            lib.lox_announcement_destroy(ptr)

__all__ = ["Announcement", "SubscribeFinalizedError"]

# A subscriber's maxsize <= 0 means "unbounded" in queue.Queue; liblox reads 0
# as "the group's default", so an explicit unbounded queue in a bounded group
# gets this bound instead (liblox grows such a queue in blocks as needed).
_UNBOUNDED = 1 << 62

# ctypes converts a Python int to size_t / long long modulo 2**64, so a
# maxsize of 2**64 + 1 would become 1 and a backlog of 2**64 - 1 would become
# -1 (no backlog). Larger values are clamped instead: liblox takes any
# size_t bound and any long long backlog as a count (nothing is
# preallocated), so the clamped value behaves as the caller's would.
_SIZE_MAX = ctypes.c_size_t(-1).value
_LLONG_MAX = (1 << (8 * ctypes.sizeof(ctypes.c_longlong) - 1)) - 1


def _bound(maxsize):
    """A maxsize >= 1 for liblox's size_t, without wrapping."""
    return min(maxsize, _SIZE_MAX)


class _Group:
    """State shared by every Python handle of one announcement group."""

    def __init__(self, maxsize, backlog):
        self.maxsize = maxsize
        self.lock = threading.Lock()     # put / subscribe / unsubscribe / finalize / destroy
        self.lock_owner = None
        self.reg = threading.Lock()      # the registry below
        self.reg_owner = None
        self.items = {}                  # token -> [item, count]
        self.tokens = itertools.count(1)
        self.backlog_use = backlog is not None
        self.backlog_max = backlog if (backlog is not None and backlog > 0) else None
        self.mirror = deque() if self.backlog_use else None
        self.final = False
        self.pending = deque()           # handles whose destruction was deferred

    # --- group lock ----------------------------------------------------------------
    def acquire(self, timeout):
        me = threading.get_ident()
        ok = self.lock.acquire(timeout=timeout) if timeout >= 0 else self.lock.acquire()
        if ok:
            self.lock_owner = me
        return ok

    def release(self):
        self.lock_owner = None
        self.lock.release()
        self.flush()

    def flush(self):
        """Destroys the handles queued by __del__ if the group lock is free.
        Whoever releases the lock calls this, so nothing stays queued while
        the lock is free (the appender retries after appending)."""
        me = threading.get_ident()
        while self.pending:
            if self.lock_owner == me or self.reg_owner == me:
                return                   # called re-entrantly; the outer holder flushes
            if not self.lock.acquire(blocking=False):
                return                   # the holder flushes when it releases
            self.lock_owner = me
            dead = []
            try:
                while self.pending:
                    self._destroy_locked(self.pending.popleft(), dead)
            finally:
                self.lock_owner = None
                self.lock.release()
            del dead                     # user objects die outside our locks

    def _destroy_locked(self, h, dead):
        p = ctypes.c_void_p()
        while lib.lox_announcement_get(h.ptr, ctypes.byref(p), 0.0) == OK:
            self.adjust(p.value or 0, -1, dead)
        h.close()

    # --- registry -------------------------------------------------------------------
    def reg_enter(self):
        # The ident is computed before taking the lock: once it is held, no
        # allocation (hence no garbage collection, hence no __del__) happens
        # before reg_owner says who holds it.
        me = threading.get_ident()
        self.reg.acquire()
        self.reg_owner = me

    def reg_exit(self):
        self.reg_owner = None
        self.reg.release()

    def register(self, token, item):
        self.reg_enter()
        try:
            self.items[token] = [item, 0]
        finally:
            self.reg_exit()

    def unregister(self, token):
        self.reg_enter()
        try:
            del self.items[token]
        finally:
            self.reg_exit()

    def adjust(self, token, n, dead):
        """count += n; the entry is dropped at 0 (its item appended to
        ``dead`` so it is released after the locks are)."""
        self.reg_enter()
        try:
            e = self.items[token]
            e[1] += n
            if e[1] == 0:
                del self.items[token]
                dead.append(e[0])
        finally:
            self.reg_exit()

    def take(self, token):
        """Consumes one delivered copy of ``token``; returns its item."""
        self.reg_enter()
        try:
            e = self.items[token]
            e[1] -= 1
            if e[1] == 0:
                del self.items[token]
        finally:
            self.reg_exit()
        return e[0]

    def backlog_items(self):
        self.reg_enter()
        try:
            return deque(self.items[t][0] for t in list(self.mirror) if t in self.items)
        finally:
            self.reg_exit()


class Announcement:
    """Push to many queues with backlog support (lox.queue.Announcement).

    ``Announcement(maxsize=0, backlog=None)`` creates a group and its first
    member, with its own receive queue (as in lox, the creating Announcement
    is one of its own subscribers: ``len(ann) == 1``). ``subscribe()``
    returns a new member with its own receive queue: an item put on any
    member goes to every *other* member, the creator included, so members
    talk many-to-many (all or none: a full receiver makes the put wait,
    then everybody gets it).
    ``backlog``: None keeps nothing; ``<= 0`` keeps every item until
    ``finalize()``; ``N > 0`` keeps the last N; a new subscriber first
    receives the backlog. ``finalize()`` forbids further subscriptions
    (``lox.SubscribeFinalizedError``) and frees the backlog.

        >>> ann = Announcement()
        >>> foo_q = ann.subscribe()
        >>> bar_q = ann.subscribe()
        >>> ann.put(5)
        >>> foo_q.get(), bar_q.get()
        (5, 5)
        >>> foo_q.put(42)
        >>> ann.get(), bar_q.get(), len(ann)
        (42, 42, 3)
    """

    def __init__(self, maxsize=0, backlog=None):
        maxsize = operator.index(maxsize)
        if backlog is not None:
            backlog = operator.index(backlog)
        g = _Group(maxsize, backlog)
        # liblox's create handle is the group's first member, as lox's
        # Announcement() is one of its own subscribers: it receives what the
        # other members and the clones put.
        out = ctypes.c_void_p()
        rc = lib.lox_announcement_create(_bound(max(maxsize, 0)),
                                         -1 if backlog is None else min(max(backlog, 0), _LLONG_MAX),
                                         ctypes.byref(out))
        if rc != OK:
            raise error(rc, "Announcement")
        self._init(g, out, True)

    def _init(self, group, ptr, subscribed):
        self._group = group
        self._h = _Ptr(ptr)
        self._subscribed = subscribed

    @classmethod
    def _wrap(cls, group, ptr, subscribed):
        self = cls.__new__(cls)
        self._init(group, ptr, subscribed)
        return self

    def __del__(self):
        try:
            h = self._h
            g = self._group
        except AttributeError:           # __init__ failed
            return
        try:
            g.pending.append(h)
            g.flush()
        except Exception:                # interpreter shutdown
            pass

    # --- attributes -------------------------------------------------------------------
    @property
    def maxsize(self):
        """The group's default receive-queue bound (0: unbounded)."""
        return self._group.maxsize

    @property
    def final(self):
        """True once ``finalize()`` was called on the group."""
        return self._group.final

    @property
    def backlog(self):
        """The backlog as a ``deque`` (a copy, oldest first); None if not
        used or after ``finalize()``."""
        g = self._group
        if not g.backlog_use or g.final:
            return None
        items = g.backlog_items()
        if g.pending:
            g.flush()
        return items

    def __len__(self):
        """Number of subscribers in the group."""
        return lib.lox_announcement_subscribers(self._h.ptr)

    def qsize(self):
        """Approximate size of this member's receive queue."""
        return lib.lox_announcement_size(self._h.ptr)

    def empty(self):
        """True if this member's receive queue is empty (a snapshot)."""
        return lib.lox_announcement_empty(self._h.ptr) == 1

    def full(self):
        """True if this member's receive queue is bounded and full (a snapshot)."""
        return lib.lox_announcement_full(self._h.ptr) == 1

    # --- operations -------------------------------------------------------------------
    @classmethod
    def clone(cls, ann, q=None):
        """A new Announcement sharing ``ann``'s group: its puts reach every
        member, the creator included; it is not a member itself (it receives
        nothing).
        Passing an existing queue ``q`` is not supported (NotImplementedError):
        receive queues live in liblox."""
        if q is not None:
            raise NotImplementedError("Announcement.clone(q=...): a caller-supplied queue "
                                      "is not supported; receive queues live in liblox")
        out = ctypes.c_void_p()
        rc = lib.lox_announcement_clone(ann._h.ptr, ctypes.byref(out))
        if rc != OK:
            raise error(rc, "Announcement.clone")
        return cls._wrap(ann._group, out, False)

    def subscribe(self, q=None, maxsize=None, block=True, timeout=None):
        """Subscribe a new member; returns it (an Announcement to ``get``
        from and ``put`` to). It first receives the backlog, if any.

        ``maxsize``: its receive-queue bound (None: the group's default,
        ``<= 0``: unbounded). ``block``/``timeout`` are checked like
        ``queue.Queue``'s; the new queue is empty, so subscribing never
        waits -- a backlog larger than ``maxsize`` raises ``queue.Full``
        (lox would wait for room nobody can make). ``q`` (an existing queue)
        is not supported: NotImplementedError. Raises
        ``lox.SubscribeFinalizedError`` after ``finalize()``."""
        if q is not None:
            raise NotImplementedError("Announcement.subscribe(q=...): a caller-supplied queue "
                                      "is not supported; receive queues live in liblox")
        t = queue_timeout(block, timeout)
        g = self._group
        if maxsize is None:
            m = 0
        else:
            m = operator.index(maxsize)
            if m <= 0:
                m = _UNBOUNDED if g.maxsize > 0 else 0
            m = _bound(m)
        out = ctypes.c_void_p()
        dead = []
        g.acquire(FOREVER)
        try:
            rc = lib.lox_announcement_subscribe(self._h.ptr, m, t, ctypes.byref(out))
            if rc == ECLOSED:
                raise SubscribeFinalizedError("subscribe on a finalized Announcement")
            if rc == ESTATE:
                raise _queue.Full("the backlog (%d items) does not fit in maxsize=%d"
                                  % (len(g.mirror or ()), m))
            if rc != OK:
                raise error(rc, "Announcement.subscribe")
            new = type(self)._wrap(g, out, True)
            if g.mirror:
                for tok in g.mirror:
                    g.adjust(tok, 1, dead)
        finally:
            g.release()
        return new

    def unsubscribe(self, q):
        """Remove the member ``q`` (an Announcement of this group, the
        creator too) from the members: it receives nothing more; it can
        still ``get`` what it had already received and still ``put``.
        ValueError if ``q`` is not a member (a clone, or unsubscribed)."""
        g = self._group
        if not isinstance(q, Announcement) or q._group is not g:
            raise ValueError("%r is not a subscriber of this Announcement" % (q,))
        g.acquire(FOREVER)
        try:
            if not q._subscribed:
                raise ValueError("%r is not a subscriber of this Announcement" % (q,))
            rc = lib.lox_announcement_unsubscribe(q._h.ptr)
            if rc != OK:
                raise error(rc, "Announcement.unsubscribe")
            q._subscribed = False
        finally:
            g.release()

    def finalize(self):
        """Do not allow any more subscribers; frees the backlog."""
        g = self._group
        dead = []
        g.acquire(FOREVER)
        try:
            rc = lib.lox_announcement_finalize(self._h.ptr)
            if rc != OK:
                raise error(rc, "Announcement.finalize")
            if not g.final:
                g.final = True
                if g.mirror is not None:
                    while g.mirror:
                        g.adjust(g.mirror.popleft(), -1, dead)
        finally:
            g.release()

    def put(self, item, block=True, timeout=None):
        """Put ``item`` into every other member's queue (and the
        backlog). If a receiver is full, waits (at most ``timeout`` seconds;
        not at all with ``block=False``) until all have room, then delivers
        to all; ``queue.Full`` if that did not happen (nobody got it)."""
        t = queue_timeout(block, timeout)
        g = self._group
        token = next(g.tokens)
        g.register(token, item)
        dead = []
        # block=False still waits for the group lock (as lox's put does).
        deadline = time.monotonic() + t if t > 0 else None
        if not g.acquire(FOREVER if t == 0.0 else t):
            g.unregister(token)
            raise _queue.Full
        if deadline is not None:
            t = max(0.0, deadline - time.monotonic())
        try:
            rc = lib.lox_announcement_put(self._h.ptr, token, t)
            if rc != OK:
                g.unregister(token)     # all or none: nobody received it
                if rc == TIMEOUT:
                    raise _queue.Full
                raise error(rc, "Announcement.put")
            n = lib.lox_announcement_subscribers(self._h.ptr) - (1 if self._subscribed else 0)
            if g.backlog_use and not g.final:
                g.mirror.append(token)
                n += 1
                if g.backlog_max is not None and len(g.mirror) > g.backlog_max:
                    g.adjust(g.mirror.popleft(), -1, dead)
            g.adjust(token, n, dead)
        finally:
            g.release()

    def put_nowait(self, item):
        """``put(item, block=False)``."""
        return self.put(item, block=False)

    def get(self, block=True, timeout=None):
        """Get from this member's receive queue, waiting at most ``timeout``
        seconds (None: forever; ``block=False``: not at all). Raises
        ``queue.Empty`` when nothing came, and at once for a member that can
        receive nothing more (a clone, or unsubscribed and drained)."""
        t = queue_timeout(block, timeout)
        p = ctypes.c_void_p()
        rc = lib.lox_announcement_get(self._h.ptr, ctypes.byref(p), t)
        if rc == OK:
            item = self._group.take(p.value or 0)
            if self._group.pending:
                self._group.flush()
            return item
        if rc in (TIMEOUT, ECLOSED):
            raise _queue.Empty
        raise error(rc, "Announcement.get")

    def get_nowait(self):
        """``get(block=False)``."""
        return self.get(block=False)

    def __repr__(self):
        return "<%s %s subscribers=%d qsize=%d>" % (
            type(self).__qualname__, "member" if self._subscribed else "publisher",
            len(self), self.qsize())
