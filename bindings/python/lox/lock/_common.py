# SPDX-License-Identifier: Apache-2.0
"""Helpers shared by lox.lock and lox.queue (not public).

Every blocking liblox call goes through ``_native.lib`` (a ``ctypes.CDLL``),
so the GIL is released while a thread waits.
"""

import ctypes
import math

from .. import _native

lib = _native.lib
OK = _native.LOX_OK
TIMEOUT = _native.LOX_TIMEOUT
EINVAL = _native.LOX_EINVAL
ESTATE = _native.LOX_ESTATE
ECLOSED = _native.LOX_ECLOSED
FOREVER = _native.LOX_FOREVER

check = _native.check
check_timeout = _native.check_timeout
error = _native.error


def lock_timeout(timeout):
    """Seconds for a lock-style ``timeout`` (lox's locks: ``-1``, any other
    negative value or ``None`` wait forever, ``0`` tries once)."""
    if timeout is None:
        return FOREVER
    t = float(timeout)
    if math.isnan(t):
        raise ValueError("timeout is NaN")
    return FOREVER if t < 0 else t


def queue_timeout(block, timeout):
    """Seconds for a queue-style ``(block, timeout)`` pair, as ``queue.Queue``
    takes them: ``block=False`` tries once, ``timeout=None`` waits forever,
    a negative or NaN timeout is a ValueError."""
    if not block:
        return 0.0
    if timeout is None:
        return FOREVER
    t = float(timeout)
    if math.isnan(t) or t < 0:
        raise ValueError("'timeout' must be a non-negative number")
    return t


class Handle:
    """Owns one liblox object pointer and destroys it exactly once.

    ``parent`` is a Handle this one borrows (a LightSwitch borrows its
    lox_lock): the parent is not destroyed before its last borrower, even
    when the cyclic garbage collector finalizes them in the wrong order.
    """

    __slots__ = ("ptr", "_destroy", "_parent", "_borrowers", "_dead", "__weakref__")

    def __init__(self, create, destroy, *args, parent=None):
        ptr = ctypes.c_void_p()
        check(create(*args, ctypes.byref(ptr)))
        self.ptr = ptr
        self._destroy = destroy
        self._parent = parent
        self._borrowers = 0
        self._dead = False
        if parent is not None:
            parent._borrowers += 1

    @classmethod
    def adopt(cls, ptr, destroy):
        """Wraps a pointer a liblox call returned (already created)."""
        self = cls.__new__(cls)
        self.ptr = ptr
        self._destroy = destroy
        self._parent = None
        self._borrowers = 0
        self._dead = False
        return self

    def close(self):
        ptr = self.ptr
        if ptr is None:
            return
        if self._borrowers > 0:
            self._dead = True       # the last borrower destroys it
            return
        self.ptr = None
        try:
            self._destroy(ptr)
        finally:
            parent, self._parent = self._parent, None
            if parent is not None:
                parent._borrowers -= 1
                if parent._dead and parent._borrowers == 0:
                    parent._dead = False
                    parent.close()

    def __del__(self):
        try:
            self.close()
        except Exception:       # interpreter shutdown: nothing left to do
            pass
