# SPDX-License-Identifier: Apache-2.0
"""Funnel: join the items of many inputs by job id (lox_funnel).

Job ids: lox accepts any hashable ``jid``; liblox keys sets by a 64-bit
integer. Each funnel maps ``jid -> number`` (and back) in a dict, with a
count of items put under that jid and not yet got; the mapping is dropped
when the count returns to 0 (so ``1``, ``1.0`` and ``True`` are the same
job, as in a dict).

Items: each put item is registered under a token (an int used as the
``void*``); ``get`` takes the tokens of the set out of the registry. Items of
sets never completed stay in the registry until the funnel (every handle of
it) is garbage-collected.
"""

import ctypes
import itertools
import queue as _queue
import threading

from ..exceptions import FunnelPutTopError
from ..lock._common import lib, OK, TIMEOUT, EINVAL, ESTATE, Handle, error, queue_timeout

__all__ = ["Funnel", "FunnelPutTopError"]


class _Group:
    """State shared by the top and every input of one funnel. It owns the
    liblox top handle, so any member can ``get`` (as in lox)."""

    def __init__(self):
        self.top = Handle(lib.lox_funnel_create, lib.lox_funnel_destroy)
        self.lock = threading.Lock()
        self.jid_num = {}        # jid -> number
        self.num_jid = {}        # number -> [jid, items outstanding]
        self.nums = itertools.count(1)
        self.items = {}          # token -> item
        self.tokens = itertools.count(1)


class Funnel:
    """Wait on many queues: each input ``put``s ``(item, jid)``; when every
    input has put an item for the same ``jid``, ``get`` on the funnel returns
    ``(jid, item_of_input_0, item_of_input_1, ...)`` (inputs in subscription
    order; without ``jid`` with ``return_jid=False``).

        >>> funnel = Funnel()
        >>> sub_1 = funnel.subscribe()
        >>> sub_2 = funnel.subscribe()
        >>> sub_1.put('foo', 'job_id')
        True
        >>> sub_2.put('bar', 'job_id')
        True
        >>> funnel.get()
        ('job_id', 'foo', 'bar')
    """

    def __init__(self):
        self._group = _Group()
        self._h = self._group.top
        self.index = -1

    @classmethod
    def _input(cls, group, handle):
        self = cls.__new__(cls)
        self._group = group
        self._h = handle
        self.index = lib.lox_funnel_index(handle.ptr)
        return self

    def __len__(self):
        """Number of input queues."""
        return lib.lox_funnel_inputs(self._h.ptr)

    def subscribe(self):
        """Create a new input; every set not yet complete needs its item
        too. Returns it (a Funnel to ``put`` on)."""
        g = self._group
        h = Handle(lib.lox_funnel_subscribe, lib.lox_funnel_destroy, g.top.ptr)
        return type(self)._input(g, h)

    def put(self, item, jid, blocking=True, timeout=-1):
        """Put ``item`` for job ``jid`` (any hashable) on this input. Never
        blocks (``blocking``/``timeout`` are accepted for lox's signature).
        Returns True. Raises ``lox.FunnelPutTopError`` on the top funnel
        (only inputs take puts), TypeError for an unhashable ``jid``."""
        if self.index < 0:
            raise FunnelPutTopError("can only put onto subscribers, not the top Funnel")
        hash(jid)
        g = self._group
        with g.lock:
            num = g.jid_num.get(jid)
            if num is None:
                num = next(g.nums)
                g.jid_num[jid] = num
                g.num_jid[num] = [jid, 0]
            g.num_jid[num][1] += 1
            token = next(g.tokens)
            g.items[token] = item
            rc = lib.lox_funnel_put(self._h.ptr, num, token, -1.0)
            if rc != OK:
                del g.items[token]
                self._unref(num, 1)
        if rc == ESTATE:
            raise FunnelPutTopError("can only put onto subscribers, not the top Funnel")
        if rc != OK:
            raise error(rc, "Funnel.put")
        return True

    def _unref(self, num, n):
        g = self._group
        e = g.num_jid[num]
        e[1] -= n
        if e[1] == 0:
            del g.num_jid[num]
            del g.jid_num[e[0]]
        return e[0]

    def get(self, block=True, timeout=None, return_jid=True):
        """Get the oldest complete set as a tuple ``(jid, item_0, item_1,
        ...)`` (``(item_0, item_1, ...)`` with ``return_jid=False``), waiting
        at most ``timeout`` seconds (None: forever; ``block=False``: not at
        all). Raises ``queue.Empty`` when no set completed in time. Any
        member of the funnel (top or input) may get."""
        t = queue_timeout(block, timeout)
        g = self._group
        cap = max(lib.lox_funnel_inputs(g.top.ptr), 1)
        while True:
            arr = (ctypes.c_void_p * cap)()
            jid = ctypes.c_ulonglong()
            count = ctypes.c_size_t()
            rc = lib.lox_funnel_get(g.top.ptr, t, ctypes.byref(jid), arr, cap,
                                    ctypes.byref(count))
            if rc == EINVAL and count.value > cap:
                cap = count.value        # a set grew with a new input; nothing consumed
                continue
            break
        if rc == TIMEOUT:
            raise _queue.Empty
        if rc != OK:
            raise error(rc, "Funnel.get")
        n = count.value
        with g.lock:
            items = [g.items.pop(arr[i] or 0) for i in range(n)]
            key = self._unref(jid.value, n)
        if return_jid:
            return tuple([key] + items)
        return tuple(items)

    def get_nowait(self, return_jid=True):
        """``get(block=False)``."""
        return self.get(block=False, return_jid=return_jid)

    def __repr__(self):
        return "<%s index=%d inputs=%d>" % (type(self).__qualname__, self.index, len(self))
