"""The event bus: domain events fan out to SSE streams, cache invalidation and other listeners.

One interface, three backends. ``EventBus`` delivers within this process only. The
PostgreSQL (LISTEN/NOTIFY) and Redis (pub/sub) backends also deliver to every other process
on the same database or Redis, so a change made through one web process reaches browsers
connected to another. A backend that loses its connection keeps delivering locally, says so
in ``status()`` and reconnects by itself; SSE streams poll as well, so nothing waits forever.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg
import structlog
from psycopg import sql
from redis.asyncio import Redis
from sqlalchemy.engine import make_url

from finagency.core.time import utcnow

log = structlog.get_logger(__name__)

Listener = Callable[["Event"], None]
# PostgreSQL refuses NOTIFY payloads of 8000 bytes or more; leave room for the envelope.
_MAX_PAYLOAD = 7000
_MAX_BACKOFF = 10.0


@dataclass(frozen=True, slots=True)
class Event:
    name: str  # "job.state_changed", "post.published", "finding.raised", "approval.given"
    data: dict[str, Any] = field(default_factory=dict)
    brand_id: int | None = None
    at: str = field(default_factory=lambda: utcnow().isoformat())

    def encode(self, origin: str) -> str:
        """The wire form; an oversized ``data`` is dropped (listeners re-read the database)."""
        body = {"o": origin, "n": self.name, "b": self.brand_id, "a": self.at, "d": self.data}
        text = json.dumps(body, separators=(",", ":"), default=str)
        if len(text.encode()) > _MAX_PAYLOAD:
            body["d"] = {"truncated": True}
            text = json.dumps(body, separators=(",", ":"))
        return text

    @staticmethod
    def decode(text: str | bytes) -> tuple[str, Event]:
        body = json.loads(text)
        brand = body.get("b")
        event = Event(
            name=str(body["n"]),
            data=dict(body.get("d") or {}),
            brand_id=int(brand) if brand is not None else None,
            at=str(body.get("a") or utcnow().isoformat()),
        )
        return str(body.get("o", "")), event


class EventBus:
    """In-process publish/subscribe; slow subscribers drop events, never block the publisher."""

    backend = "memory"

    def __init__(self, max_queue: int = 1000) -> None:
        self._subscribers: set[asyncio.Queue[Event]] = set()
        self._listeners: list[Listener] = []
        self._max_queue = max_queue
        self._loop: asyncio.AbstractEventLoop | None = None

    def publish(self, event: Event) -> None:
        """Deliver ``event``; callable from any thread (Starlette runs a sync background task,
        like ``background.add_task(events.publish, ...)``, in a worker thread)."""
        loop = self._loop
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if loop is not None and running is not loop and not loop.is_closed():
            loop.call_soon_threadsafe(self._publish_here, event)
            return
        self._publish_here(event)

    def _publish_here(self, event: Event) -> None:
        self._deliver(event)

    def _deliver(self, event: Event) -> None:
        # Listeners (cache invalidation) run first, so a woken stream never reads a stale cache.
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:
                log.exception("events.listener_failed", event_name=event.name)
        for queue in list(self._subscribers):
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(event)

    def add_listener(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` for every event, local or remote; returns the function that removes it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    @contextlib.asynccontextmanager
    async def subscribe(self) -> AsyncIterator[asyncio.Queue[Event]]:
        queue: asyncio.Queue[Event] = asyncio.Queue(self._max_queue)
        self._loop = self._loop or asyncio.get_running_loop()
        self._subscribers.add(queue)
        try:
            yield queue
        finally:
            self._subscribers.discard(queue)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    @property
    def healthy(self) -> bool:
        return True

    def status(self) -> dict[str, Any]:
        """What /readyz and the Overview show about the bus."""
        return {"backend": self.backend, "ok": self.healthy, "shared": False}

    async def start(self) -> None:
        """Bind to the running loop; shared backends also open their connection."""
        self._loop = asyncio.get_running_loop()

    async def close(self) -> None:
        """Close connections; safe to call more than once."""


class _SharedBus(EventBus):
    """Delivers locally at once, and to other processes through a transport the subclass owns."""

    def __init__(self, channel: str, max_queue: int = 1000) -> None:
        super().__init__(max_queue)
        self.channel = channel
        self.origin = uuid.uuid4().hex  # our own messages come back; this skips them
        self._healthy = False
        self._listen_task: asyncio.Task[None] | None = None
        self._sends: set[asyncio.Task[None]] = set()
        self._closed = asyncio.Event()
        self.received = 0  # events that arrived from other processes

    @property
    def healthy(self) -> bool:
        return self._healthy

    def status(self) -> dict[str, Any]:
        return {"backend": self.backend, "ok": self._healthy, "shared": True}

    def _publish_here(self, event: Event) -> None:
        self._deliver(event)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop at all (a synchronous script): local delivery only
        task = loop.create_task(self._send_safely(event.encode(self.origin)))
        self._sends.add(task)
        task.add_done_callback(self._sends.discard)

    async def _send_safely(self, payload: str) -> None:
        try:
            await self._send(payload)
        except Exception as error:
            # Other processes miss this one; their streams poll, their caches expire.
            if self._healthy:
                log.warning("events.send_failed", backend=self.backend, error=str(error))
            self._healthy = False

    def _receive(self, payload: str | bytes) -> None:
        try:
            origin, event = Event.decode(payload)
        except (ValueError, KeyError, TypeError):
            log.warning("events.bad_payload", backend=self.backend)
            return
        if origin != self.origin:
            self.received += 1
            self._deliver(event)

    async def start(self) -> None:
        await super().start()
        if self._listen_task is None:
            self._closed.clear()
            self._listen_task = asyncio.create_task(self._listen_forever(), name="events-listen")

    async def close(self) -> None:
        self._closed.set()
        if self._sends:
            await asyncio.gather(*list(self._sends), return_exceptions=True)
        if self._listen_task is not None:
            self._listen_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listen_task
            self._listen_task = None
        await self._close_transport()
        self._healthy = False

    async def _listen_forever(self) -> None:
        delay = 0.2
        while not self._closed.is_set():
            try:
                await self._listen()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                if self._healthy or delay == 0.2:
                    log.warning("events.listen_failed", backend=self.backend, error=str(error))
            if self._healthy:
                delay = 0.2  # it was working: try again soon
            self._healthy = False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closed.wait(), delay)
            delay = min(delay * 2, _MAX_BACKOFF)

    async def _listen(self) -> None:
        raise NotImplementedError

    async def _send(self, payload: str) -> None:
        raise NotImplementedError

    async def _close_transport(self) -> None:
        return None


class PostgresEventBus(_SharedBus):
    """LISTEN/NOTIFY on the application database: no extra server needed."""

    backend = "postgres"

    def __init__(self, database_url: str, channel: str, max_queue: int = 1000) -> None:
        super().__init__(channel, max_queue)
        url = make_url(database_url).set(drivername="postgresql")
        self._conninfo = url.render_as_string(hide_password=False)
        self._sender: psycopg.AsyncConnection[Any] | None = None
        self._send_lock = asyncio.Lock()

    async def _listen(self) -> None:
        async with await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True) as conn:
            await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
            self._healthy = True
            log.info("events.listening", backend=self.backend, channel=self.channel)
            async for notify in conn.notifies():
                self._receive(notify.payload)

    async def _send(self, payload: str) -> None:
        async with self._send_lock:
            if self._sender is None or self._sender.closed:
                self._sender = await psycopg.AsyncConnection.connect(
                    self._conninfo, autocommit=True
                )
            try:
                await self._sender.execute("SELECT pg_notify(%s, %s)", (self.channel, payload))
            except psycopg.Error:
                with contextlib.suppress(Exception):
                    await self._sender.close()
                self._sender = None
                raise

    async def _close_transport(self) -> None:
        if self._sender is not None:
            with contextlib.suppress(Exception):
                await self._sender.close()
            self._sender = None


class RedisEventBus(_SharedBus):
    """Redis pub/sub: the fan-out for many web processes (and what compose deploys)."""

    backend = "redis"

    def __init__(self, redis_url: str, channel: str, max_queue: int = 1000) -> None:
        super().__init__(channel, max_queue)
        # Its own clients: a subscribed connection cannot run other commands, and the shared
        # client's short socket timeout would end an idle subscription.
        self._publisher = Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2)
        self._url = redis_url

    async def _listen(self) -> None:
        client = Redis.from_url(self._url, socket_connect_timeout=2, health_check_interval=10)
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(self.channel)
            self._healthy = True
            log.info("events.listening", backend=self.backend, channel=self.channel)
            while not self._closed.is_set():
                message = await pubsub.get_message(timeout=1.0)
                if message is not None and message.get("type") == "message":
                    self._receive(message["data"])
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()
            with contextlib.suppress(Exception):
                await client.aclose()

    async def _send(self, payload: str) -> None:
        await self._publisher.publish(self.channel, payload)

    async def _close_transport(self) -> None:
        with contextlib.suppress(Exception):
            await self._publisher.aclose()


def build_event_bus(
    backend: str, *, database_url: str, redis_url: str | None, channel: str
) -> EventBus:
    """The bus the settings ask for; "auto": Redis if configured, PostgreSQL if the database is."""
    if backend == "auto":
        if redis_url:
            backend = "redis"
        elif make_url(database_url).get_backend_name() == "postgresql":
            backend = "postgres"
        else:
            backend = "memory"
    if backend == "redis":
        if not redis_url:
            raise ValueError("events backend 'redis' needs FINAGENCY_REDIS_URL")
        return RedisEventBus(redis_url, channel)
    if backend == "postgres":
        return PostgresEventBus(database_url, channel)
    return EventBus()
