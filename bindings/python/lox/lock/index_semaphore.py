# SPDX-License-Identifier: Apache-2.0
"""IndexSemaphore: n numbered resources (lox_index_semaphore)."""

import ctypes
import operator
from contextlib import contextmanager

from ._common import lib, OK, TIMEOUT, ESTATE, Handle, error, queue_timeout

__all__ = ["IndexSemaphore"]


class IndexSemaphore:
    """BoundedSemaphore-like object where acquires return an index from
    ``[0, val)`` that nobody else holds until it is released (the GPU pool).

        >>> semaphore = IndexSemaphore(4)
        >>> with semaphore() as index:
        ...     print("Obtained resource %d" % (index,))
        Obtained resource 0
    """

    def __init__(self, val):
        val = operator.index(val)
        if val <= 0:
            raise ValueError("val must be >0")
        self._n = val
        self._h = Handle(lib.lox_index_semaphore_create, lib.lox_index_semaphore_destroy, val)

    @contextmanager
    def __call__(self, timeout=None):
        """``with semaphore() as index:`` / ``with semaphore(timeout=...) as index:``;
        ``index`` is None if none became free within ``timeout`` seconds.
        The index is released when the block ends (exceptions propagate)."""
        index = self.acquire(timeout=timeout)
        try:
            yield index
        finally:
            if index is not None:
                self.release(index)

    def __len__(self):
        """Number of threads blocked in acquire (the blocked queue size)."""
        return lib.lox_index_semaphore_waiting(self._h.ptr)

    def acquire(self, timeout=None):
        """Take a free index, waiting at most ``timeout`` seconds (None:
        forever). The index, or None on timeout."""
        idx = ctypes.c_size_t()
        rc = lib.lox_index_semaphore_acquire(self._h.ptr, queue_timeout(True, timeout),
                                             ctypes.byref(idx))
        if rc == OK:
            return idx.value
        if rc == TIMEOUT:
            return None
        raise error(rc, "IndexSemaphore.acquire")

    def release(self, index):
        """Release the resource at ``index``. ValueError (an Exception, as
        lox documents) if ``index`` is not held -- released more times than
        acquired -- or out of range."""
        index = operator.index(index)
        if not 0 <= index < self._n:
            raise ValueError("IndexSemaphore index %d out of range [0, %d)" % (index, self._n))
        rc = lib.lox_index_semaphore_release(self._h.ptr, index)
        if rc == ESTATE:
            raise ValueError("IndexSemaphore index %d released more times than acquired" % (index,))
        if rc != OK:
            raise error(rc, "IndexSemaphore.release")

    def __repr__(self):
        return "<%s val=%d available=%d>" % (
            type(self).__qualname__, self._n, lib.lox_index_semaphore_available(self._h.ptr))
