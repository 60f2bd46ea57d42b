# SPDX-License-Identifier: Apache-2.0
"""QLock: a strictly FIFO lock (lox_qlock)."""

from ._common import lib, OK, ESTATE, Handle, error, check_timeout, lock_timeout

__all__ = ["QLock"]


class _Flag:
    """A bool that can also be called: lox documents ``QLock.locked`` as an
    attribute, threading's locks have ``locked()``; both spellings work."""

    __slots__ = ("_v",)

    def __init__(self, v):
        self._v = bool(v)

    def __bool__(self):
        return self._v

    def __call__(self):
        return self._v

    def __eq__(self, other):
        return self._v == (other._v if isinstance(other, _Flag) else other)

    def __hash__(self):
        return hash(self._v)

    def __repr__(self):
        return repr(self._v)


class QLock:
    """Lock that guarantees FIFO operation: threads that wait obtain it in
    the order they started waiting (release hands it to the first in line,
    nobody can cut in)."""

    def __init__(self):
        self._h = Handle(lib.lox_qlock_create, lib.lox_qlock_destroy)

    def __enter__(self):
        self.acquire()
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        self.release()

    def __len__(self):
        """Number of threads waiting to acquire."""
        return lib.lox_qlock_waiting(self._h.ptr)

    @property
    def locked(self):
        """Whether the QLock is acquired (``q.locked`` and ``q.locked()``
        both work)."""
        rc = lib.lox_qlock_locked(self._h.ptr)
        if rc < 0:
            raise error(rc, "QLock.locked")
        return _Flag(rc)

    def acquire(self, timeout=-1):
        """Block until the lock is obtained, in FIFO order, at most
        ``timeout`` seconds (negative or None: forever). ``True`` on success,
        ``False`` on timeout (the caller left the line)."""
        rc = lib.lox_qlock_acquire(self._h.ptr, lock_timeout(timeout))
        return check_timeout(rc, "QLock.acquire")

    def release(self):
        """Release exclusive access (any thread may). ValueError if the lock
        is released more than it has been acquired."""
        rc = lib.lox_qlock_release(self._h.ptr)
        if rc == ESTATE:
            raise ValueError("lock not acquired")
        if rc != OK:
            raise error(rc, "QLock.release")

    def __repr__(self):
        return "<%s locked=%r waiting=%d>" % (type(self).__qualname__, bool(self.locked), len(self))
