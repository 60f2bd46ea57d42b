# SPDX-License-Identifier: Apache-2.0
"""Exceptions raised by lox.

lox's documented exceptions: ``Timeout`` (a timed wait ran out),
``SubscribeFinalizedError`` (``Announcement.subscribe`` after ``finalize``),
``FunnelPutTopError`` (``put`` on the top of a ``Funnel``). They are also
exported at the top level (``lox.Timeout`` ...).

The others map liblox's status codes (``lox._native.check``); each derives
from the builtin exception a Python caller would expect (ValueError,
RuntimeError, OSError, MemoryError; ``concurrent.futures.CancelledError``
for a cancelled task) and from ``LoxError``.
"""

import concurrent.futures

__all__ = [
    "LoxError", "Timeout", "SubscribeFinalizedError", "FunnelPutTopError",
    "LoxValueError", "LoxMemoryError", "LoxStateError", "LoxClosedError",
    "TaskError", "WorkerError", "LoxOSError", "LoxCancelledError", "DependencyError",
]


class LoxError(Exception):
    """Base of the errors raised from a liblox status (``.status`` holds it)."""
    status = None


class Timeout(LoxError, TimeoutError):
    """A timed wait ran out (LOX_TIMEOUT)."""


class SubscribeFinalizedError(LoxError):
    """Cannot subscribe to an Announcement that has been finalized."""


class FunnelPutTopError(LoxError):
    """Can only put onto subscribers, not the top/master Funnel."""


class LoxValueError(LoxError, ValueError):
    """Bad argument (LOX_EINVAL)."""


class LoxMemoryError(LoxError, MemoryError):
    """Allocation failed (LOX_ENOMEM)."""


class LoxStateError(LoxError, RuntimeError):
    """Not valid in the object's current state (LOX_ESTATE)."""


class LoxClosedError(LoxError, RuntimeError):
    """Queue closed, announcement finalized, pool shut down (LOX_ECLOSED)."""


class TaskError(LoxError, RuntimeError):
    """A task failed (LOX_ETASK)."""


class WorkerError(LoxError, RuntimeError):
    """A worker process died while running the task (LOX_EWORKER)."""


class LoxOSError(LoxError, OSError):
    """An operating-system call failed (LOX_ESYS)."""


class LoxCancelledError(LoxError, concurrent.futures.CancelledError):
    """The task was cancelled (LOX_ECANCELLED); also a
    ``concurrent.futures.CancelledError``."""


class DependencyError(LoxError, RuntimeError):
    """A predecessor failed or was cancelled; the task did not run (LOX_EDEPENDENCY)."""
