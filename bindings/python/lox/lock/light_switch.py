# SPDX-License-Identifier: Apache-2.0
"""LightSwitch: the first to enter acquires a lock, the last to leave releases it."""

import time

from ._common import lib, OK, ESTATE, Handle, error, check_timeout, lock_timeout
from .lock import Lock

__all__ = ["LightSwitch"]


class LightSwitch:
    """Acquires a provided lock while the ``LightSwitch`` is in use.

    The acquire that raises ``counter`` from 0 acquires ``lock``; the release
    that brings it back to 0 releases it (the restroom: the first person in
    turns the lights on, the last one out turns them off; a janitor taking
    ``lock`` directly waits until the room is empty).

    ``lock`` may be any object with ``acquire()``/``release()`` (lox's
    restroom example passes a ``threading.Lock``):

    * a :class:`lox.lock.Lock` -> the switch is liblox's ``lox_lightswitch``;
    * anything else -> the counter lives in Python, guarded by a liblox lock
      (so later entrants wait behind a first entrant that waits for ``lock``,
      with their own timeouts); ``lock.acquire(timeout=...)`` is called for a
      timed first acquire, ``lock.acquire()`` for an untimed one.

    ``multiprocessing=True`` (lox: share the switch between processes) is not
    supported and raises NotImplementedError.
    """

    def __init__(self, lock, multiprocessing=False):
        if multiprocessing:
            raise NotImplementedError(
                "LightSwitch(multiprocessing=True) is not supported by the liblox binding")
        if not (callable(getattr(lock, "acquire", None)) and callable(getattr(lock, "release", None))):
            raise TypeError("lock must have acquire() and release() methods")
        self._lock = lock
        if isinstance(lock, Lock):
            self._h = Handle(lib.lox_lightswitch_create, lib.lox_lightswitch_destroy,
                             lock._h.ptr, parent=lock._h)
        else:
            self._h = None
            self._turnstile = Lock()   # guards _count; held by a first entrant while it waits
            self._count = 0

    @property
    def lock(self):
        """The lock given to the constructor, acquired while the switch is in use."""
        return self._lock

    @property
    def counter(self):
        """Number of times the LightSwitch has been acquired without release."""
        if self._h is not None:
            return lib.lox_lightswitch_count(self._h.ptr)
        return self._count

    def __len__(self):
        """The counter value."""
        return self.counter

    def __enter__(self):
        self.acquire()
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        self.release()

    def acquire(self, timeout=-1):
        """Increment the counter; the acquire that raises it from 0 first
        acquires ``lock``. Waits at most ``timeout`` seconds (negative or
        None: forever). ``True`` on success, ``False`` on timeout (nothing
        changed)."""
        t = lock_timeout(timeout)
        if self._h is not None:
            rc = lib.lox_lightswitch_acquire(self._h.ptr, t)
            return check_timeout(rc, "LightSwitch.acquire")
        deadline = None if t < 0 else time.monotonic() + t
        if not self._turnstile.acquire(timeout=-1 if t < 0 else t):
            return False
        try:
            if self._count == 0:
                if deadline is None:
                    got = self._lock.acquire()
                else:
                    got = self._lock.acquire(timeout=max(0.0, deadline - time.monotonic()))
                if got is False:
                    return False
            self._count += 1
            return True
        finally:
            self._turnstile.release()

    def release(self):
        """Decrement the counter; the release that brings it to 0 releases
        ``lock``. ValueError if the switch is not acquired (released more
        often than acquired)."""
        if self._h is not None:
            rc = lib.lox_lightswitch_release(self._h.ptr)
            if rc == ESTATE:
                raise ValueError("LightSwitch released more times than acquired "
                                 "(or its lock was released by someone else)")
            if rc != OK:
                raise error(rc, "LightSwitch.release")
            return
        with self._turnstile:
            if self._count == 0:
                raise ValueError("LightSwitch released more times than acquired")
            if self._count == 1:
                self._lock.release()
            self._count -= 1

    def __repr__(self):
        return "<%s counter=%d lock=%r>" % (type(self).__qualname__, self.counter, self._lock)
