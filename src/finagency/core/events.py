"""The in-process event bus: domain events fan out to SSE streams and other listeners."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from finagency.core.time import utcnow


@dataclass(frozen=True, slots=True)
class Event:
    name: str  # "job.state_changed", "post.published", "finding.raised", "approval.given"
    data: dict[str, Any] = field(default_factory=dict)
    brand_id: int | None = None
    at: str = field(default_factory=lambda: utcnow().isoformat())


class EventBus:
    """Publish/subscribe within one process; slow subscribers drop events, never block."""

    def __init__(self, max_queue: int = 1000) -> None:
        self._subscribers: set[asyncio.Queue[Event]] = set()
        self._max_queue = max_queue

    def publish(self, event: Event) -> None:
        for queue in list(self._subscribers):
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(event)

    @contextlib.asynccontextmanager
    async def subscribe(self) -> AsyncIterator[asyncio.Queue[Event]]:
        queue: asyncio.Queue[Event] = asyncio.Queue(self._max_queue)
        self._subscribers.add(queue)
        try:
            yield queue
        finally:
            self._subscribers.discard(queue)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)
