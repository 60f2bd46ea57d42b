# SPDX-License-Identifier: Apache-2.0
"""Add concurrency to methods and functions in a single line of code.

``lox.worker.thread`` runs the decorated function on a liblox thread pool,
``lox.worker.process`` in liblox worker processes. Both have the same API:
``__call__`` (plain call), ``scatter``, ``gather(tqdm=...)``, ``len()``.
"""

from ._base import ScatterResult, disable_auto_unpacking, enable_auto_unpacking
from .thread import thread
from .process import process

__all__ = ["thread", "process", "enable_auto_unpacking", "disable_auto_unpacking"]
