# SPDX-License-Identifier: Apache-2.0
"""Queues (lox.queue), backed by liblox: ``Announcement`` (one-to-many with
backlog) and ``Funnel`` (join many inputs by job id). Items are any Python
objects; see docs/locks-and-queues.md for how they are owned."""

from .announcement import Announcement
from .funnel import Funnel
from ..exceptions import SubscribeFinalizedError, FunnelPutTopError

__all__ = ["Announcement", "Funnel", "SubscribeFinalizedError", "FunnelPutTopError"]
