# SPDX-License-Identifier: Apache-2.0
"""A plain lock backed by lox_lock, with threading.Lock's API."""

from ._common import lib, OK, ESTATE, FOREVER, Handle, error, check_timeout

__all__ = ["Lock"]


class Lock:
    """Lock with ``threading.Lock``'s API, backed by liblox's ``lox_lock``.

    Not owned by a thread (any thread may release it), not recursive, not
    fair. Waiting releases the GIL. Giving one to :class:`LightSwitch` makes
    the switch run natively (``lox_lightswitch``).
    """

    def __init__(self):
        self._h = Handle(lib.lox_lock_create, lib.lox_lock_destroy)

    def acquire(self, blocking=True, timeout=-1):
        """Acquire the lock; same arguments and result as
        ``threading.Lock.acquire``: ``True`` once held, ``False`` when
        ``timeout`` seconds passed (or ``blocking=False`` found it held)."""
        if not blocking:
            if timeout != -1:
                raise ValueError("can't specify a timeout for a non-blocking call")
            t = 0.0
        elif timeout is None or timeout == -1:
            t = FOREVER
        else:
            t = float(timeout)
            if not t >= 0:
                raise ValueError("timeout value must be a non-negative number")
        rc = lib.lox_lock_acquire(self._h.ptr, t)
        return check_timeout(rc, "Lock.acquire")

    def release(self):
        """Release the lock (any thread may). RuntimeError if it is not
        held, like ``threading.Lock``."""
        rc = lib.lox_lock_release(self._h.ptr)
        if rc == ESTATE:
            raise RuntimeError("release unlocked lock")
        if rc != OK:
            raise error(rc, "Lock.release")

    def locked(self):
        """``True`` if the lock is held (a snapshot)."""
        rc = lib.lox_lock_locked(self._h.ptr)
        if rc < 0:
            raise error(rc, "Lock.locked")
        return rc == 1

    def __enter__(self):
        return self.acquire()

    def __exit__(self, exc_type, exc_val, exc_tb):
        self.release()

    def __repr__(self):
        return "<%s %s object at %#x>" % (
            "locked" if self.locked() else "unlocked", type(self).__qualname__, id(self))
