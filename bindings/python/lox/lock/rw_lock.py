# SPDX-License-Identifier: Apache-2.0
"""RWLock: many readers or one writer, writer-preferring (lox_rwlock)."""

from contextlib import contextmanager

from ._common import lib, OK, ESTATE, Handle, error, check_timeout, lock_timeout

__all__ = ["RWLock"]

_MODES = {"r": ord("r"), "w": ord("w")}


def _mode(rw_flag):
    if not isinstance(rw_flag, str) or rw_flag.lower() not in _MODES:
        raise ValueError("rw_flag must be 'r' or 'w'")
    return _MODES[rw_flag.lower()]


class RWLock:
    """Lock for a Multi-Reader-Single-Writer scenario.

    Any number of readers, or one writer. As soon as a writer waits, new
    readers wait behind it: the readers already inside finish, the writer
    gets in, and when it releases the readers are let in again (writers are
    never starved by a stream of readers).

        >>> rw_lock = RWLock()
        >>> with rw_lock('r'):
        ...     pass  # read
        >>> with rw_lock('w'):
        ...     pass  # write
    """

    def __init__(self):
        self._h = Handle(lib.lox_rwlock_create, lib.lox_rwlock_destroy)

    @contextmanager
    def __call__(self, rw_flag, timeout=-1):
        """``with rw_lock('r'):`` / ``with rw_lock('w', timeout=...):``. If
        the lock is not obtained within ``timeout`` seconds, ``lox.Timeout``
        (a TimeoutError) is raised and the body does not run."""
        if not self.acquire(rw_flag, timeout=timeout):
            from ..exceptions import Timeout
            raise Timeout("RWLock(%r): not acquired within %s s" % (rw_flag, timeout))
        try:
            yield self
        finally:
            self.release(rw_flag)

    @property
    def read_counter(self):
        """Number of readers that have acquired the lock."""
        return lib.lox_rwlock_readers(self._h.ptr)

    def __len__(self):
        """The read_counter value (number of current readers)."""
        return self.read_counter

    def acquire(self, rw_flag, timeout=-1):
        """Acquire as a reader (``'r'``) or a writer (``'w'``), waiting at
        most ``timeout`` seconds (negative or None: forever). ``True`` if
        acquired, ``False`` otherwise. ValueError for another flag."""
        mode = _mode(rw_flag)
        rc = lib.lox_rwlock_acquire(self._h.ptr, mode, lock_timeout(timeout))
        return check_timeout(rc, "RWLock.acquire")

    def release(self, rw_flag):
        """Release one hold in mode ``rw_flag``. ValueError if that mode is
        not held."""
        mode = _mode(rw_flag)
        rc = lib.lox_rwlock_release(self._h.ptr, mode)
        if rc == ESTATE:
            raise ValueError("RWLock released in mode %r, which is not held" % (rw_flag,))
        if rc != OK:
            raise error(rc, "RWLock.release")

    def __repr__(self):
        return "<%s readers=%d>" % (type(self).__qualname__, self.read_counter)
