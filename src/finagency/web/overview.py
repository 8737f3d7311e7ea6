"""The Overview page and its live feed: stats over Server-Sent Events, pushed and polled."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator, Sequence
from datetime import timedelta
from typing import Annotated, Any, NamedTuple

from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from finagency.analytics import insights
from finagency.analytics import service as analytics
from finagency.analytics.router import stats_data, stats_for
from finagency.auth.dependencies import CurrentPrincipal, ReadSession, get_services, require
from finagency.auth.permissions import VIEW
from finagency.core.cache import cache_hit_rate
from finagency.core.events import Event
from finagency.core.services import Services
from finagency.core.time import utcnow
from finagency.ops.health import degraded_components
from finagency.web import charts
from finagency.web.deps import PageViewer, brand_scope
from finagency.web.templating import render

router = APIRouter()

POLL_SECONDS = 2.0  # workers may be other processes: their changes reach us only by polling
COALESCE_SECONDS = 0.25  # a burst of events costs one recomputation, not one per event
# Streams end after a while and EventSource reconnects, which re-checks the session.
MAX_STREAM_SECONDS = 300.0
RECONNECT_MS = 3000


class Metric(NamedTuple):
    key: str
    label: str
    format: str  # int, pct, seconds


METRICS: tuple[Metric, ...] = (
    Metric("total", "Total", "int"),
    Metric("pending", "Pending", "int"),
    Metric("posted", "Posted", "int"),
    Metric("backlog_pct", "Backlog", "pct"),
    Metric("stuck", "Stuck > 2 h", "int"),
    Metric("processing_rate_pct", "Processing rate", "pct"),
    Metric("in_review", "In review", "int"),
    Metric("failed", "Failed", "int"),
    Metric("dead_letters", "Dead letters", "int"),
    Metric("throughput_per_hour", "Throughput / h", "int"),
    Metric("schedule_lag_p95_s", "Schedule lag p95", "seconds"),
    Metric("failure_rate_pct", "Failure rate", "pct"),
    Metric("workers_alive", "Workers alive", "int"),
)


def format_metric(value: Any, kind: str) -> str:
    """The same text overview.js writes, so the first paint and the live updates agree."""
    if value is None:
        return "—"
    if kind == "pct":
        return f"{float(value):,.1f}%"
    if kind == "seconds":
        return f"{float(value):,.1f} s"
    return f"{int(value):,}"


CACHE_DEFINITION = (
    "Cache reads answered from the cache ÷ all cache reads by this web process since it started."
)


def format_hit_rate(rate: float | None) -> str:
    """A 0–1 fraction as a percentage; "n/a" before the cache has been read at all."""
    return "n/a" if rate is None else f"{rate * 100:,.1f}%"


def sse_message(event: str, data: dict[str, Any]) -> str:
    payload = json.dumps(data, separators=(",", ":"), default=str)
    return f"event: {event}\ndata: {payload}\n\n"


def _concerns(event: Event, scope: Sequence[int] | None) -> bool:
    return scope is None or event.brand_id is None or event.brand_id in scope


async def _wait_for_change(queue: asyncio.Queue[Event], scope: Sequence[int] | None) -> list[Event]:
    """The relevant bus events of the first burst (empty after POLL_SECONDS without one)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + POLL_SECONDS
    while (remaining := deadline - loop.time()) > 0:
        try:
            event = await asyncio.wait_for(queue.get(), timeout=remaining)
        except TimeoutError:
            return []
        if _concerns(event, scope):
            await asyncio.sleep(COALESCE_SECONDS)
            burst = [event]
            while not queue.empty():
                more = queue.get_nowait()
                if _concerns(more, scope):
                    burst.append(more)
            return burst
    return []


async def stats_events(
    services: Services, scope: Sequence[int] | None
) -> AsyncGenerator[str, None]:
    """``event: stats`` at once, then after every relevant bus event and every 2 s at most.

    The bus is shared between processes when PostgreSQL or Redis carries it, so a change made
    through another web process or a worker arrives here too. Stats sent because of events
    name them under ``cause`` (the first's name, brand and time; every name in ``names``).
    Stats come through the cache, which the events have already invalidated.
    """
    loop = asyncio.get_running_loop()
    ends_at = loop.time() + MAX_STREAM_SECONDS
    prefix = f"retry: {RECONNECT_MS}\n\n"
    cause: dict[str, Any] | None = None
    async with services.events.subscribe() as queue:
        while True:
            async with services.read_sessionmaker() as session:
                stats = await stats_data(session, scope, services.cache)
            if cause is not None:
                stats = {**stats, "cause": cause}
            yield prefix + sse_message("stats", stats)
            prefix = ""
            if loop.time() >= ends_at:
                return
            burst = await _wait_for_change(queue, scope)
            cause = None
            if burst:
                first = burst[0]
                # One recomputation answers the whole burst; "names" lists what it covers.
                names = list(dict.fromkeys(event.name for event in burst))
                cause = {"name": first.name, "names": names, "brand_id": first.brand_id}
                cause["at"] = first.at


@router.get("/")
async def overview(viewer: PageViewer, session: ReadSession, request: Request) -> Response:
    stats = (await stats_for(session, viewer.scope, get_services(request).cache)).model_dump()
    metrics = [
        {
            "key": metric.key,
            "label": metric.label,
            "format": metric.format,
            "value": format_metric(stats.get(metric.key), metric.format),
            "definition": analytics.DEFINITIONS.get(metric.key, ""),
        }
        for metric in METRICS
    ]
    now = utcnow()
    activity = await insights.activity_by_hour(session, viewer.scope, now=now)
    hours = [
        f"{(now - timedelta(hours=len(activity['published']) - 1 - index)):%H}:00"
        for index in range(len(activity["published"]))
    ]
    context = {
        "page_title": "Overview",
        "active": "/",
        "metrics": metrics,
        "cache_hit_rate": format_hit_rate(cache_hit_rate()),
        # Redis (cache, shared events) down: the page still works, and says what it costs.
        "degraded": degraded_components(get_services(request)),
        "as_of": stats["as_of"],
        "jobs_by_state": stats["jobs_by_state"],
        "health": await insights.platform_health(session, viewer.scope, now=now),
        "published_bars": charts.bar_chart(hours, activity["published"]),
        "dead_bars": charts.bar_chart(hours, activity["dead_letters"]),
        "hours": hours,
        "activity": activity,
    }
    return render(request, "overview.html", context)


class EventStreamResponse(StreamingResponse):
    """A streaming response that closes its generator (and bus subscription) when it ends.

    However the client leaves (disconnect message or a failed send), the generator is closed
    here at once rather than whenever the garbage collector gets to it.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            if isinstance(self.body_iterator, AsyncGenerator):
                await self.body_iterator.aclose()


@router.get("/events/stats")
async def stats_stream(
    request: Request, principal: Annotated[CurrentPrincipal, Depends(require(VIEW))]
) -> StreamingResponse:
    generator = stats_events(get_services(request), brand_scope(principal))
    return EventStreamResponse(
        generator,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
