"""In-process wake-ups: enqueues wake local workers as soon as their transaction commits."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

PENDING_KEY = "finagency.queue.pending_wakeups"
NOTIFIER_KEY = "finagency.queue.notifier"


class Notifier:
    """Wakes workers of this process; other processes rely on polling (or LISTEN/NOTIFY)."""

    def __init__(self) -> None:
        self._event = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def notify(self, queues: Iterable[str] = ()) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._event.set()
        else:
            loop.call_soon_threadsafe(self._event.set)

    async def wait(self, seconds: float) -> bool:
        """Wait up to ``seconds`` for a wake-up; True if one came."""
        try:
            await asyncio.wait_for(self._event.wait(), seconds)
            return True
        except TimeoutError:
            return False
        finally:
            self._event.clear()


def mark_enqueued(session: Session, queue: str) -> bool:
    """Remember to wake workers of ``queue`` at commit; True the first time in this transaction."""
    pending: set[str] = session.info.setdefault(PENDING_KEY, set())
    if queue in pending:
        return False
    pending.add(queue)
    return True


@event.listens_for(Session, "after_commit")
def _wake_after_commit(session: Session) -> None:
    # Wake-ups fire only after commit, so a worker never looks for a row it cannot see yet.
    queues: set[str] | None = session.info.pop(PENDING_KEY, None)
    notifier: Any = session.info.get(NOTIFIER_KEY)
    if queues and notifier is not None:
        notifier.notify(queues)


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(PENDING_KEY, None)
