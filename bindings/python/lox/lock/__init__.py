# SPDX-License-Identifier: Apache-2.0
"""Synchronization primitives (lox.lock), backed by liblox.

``LightSwitch``, ``RWLock``, ``QLock`` and ``IndexSemaphore`` follow lox's
documented API. ``Lock`` is an extra: a liblox lock with ``threading.Lock``'s
API; a ``LightSwitch`` over a ``Lock`` runs entirely in liblox (see
docs/locks-and-queues.md).
"""

from .lock import Lock  # noqa: F401  (lox.lock.Lock)
from .light_switch import LightSwitch
from .rw_lock import RWLock
from .qlock import QLock
from .index_semaphore import IndexSemaphore

# Lock is reachable as lox.lock.Lock but not star-exported: lox has no
# lox.Lock, and `from lox import *` must not shadow threading.Lock.
__all__ = ["LightSwitch", "RWLock", "QLock", "IndexSemaphore"]
