# SPDX-License-Identifier: Apache-2.0
"""lox: concurrency made easy -- Python binding of liblox.

A drop-in for the documented API of the Python library ``lox``, backed by the
native liblox (loaded with ctypes, see ``lox._native`` for how it is found).

    >>> import lox
    >>> @lox.thread(4)
    ... def foo(x, y):
    ...     return x * y
    >>> for i in range(5):
    ...     foo.scatter(i, i + 1)
    >>> foo.gather()
    [0, 2, 6, 12, 20]

Submodules: ``lox.worker`` (thread, process), ``lox.lock`` (LightSwitch,
RWLock, QLock, IndexSemaphore), ``lox.queue`` (Announcement, Funnel),
``lox.exceptions``.
"""

__version__ = "0.1.0"
__license__ = "Apache-2.0"

from . import _native
from . import exceptions
from .exceptions import *  # noqa: F401,F403
from .exceptions import Timeout, SubscribeFinalizedError, FunnelPutTopError

from . import lock
from .lock import *  # noqa: F401,F403
from .lock import LightSwitch, RWLock, QLock, IndexSemaphore

from . import queue
from .queue import *  # noqa: F401,F403
from .queue import Announcement, Funnel

from . import worker
from .worker import thread, process

#: Version of the loaded liblox ("0.1.0").
liblox_version = _native.lib.lox_version_string().decode()
