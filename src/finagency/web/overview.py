"""The Overview page and its live feed: stats over Server-Sent Events, pushed and polled."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator, Sequence
from typing import Annotated, Any, NamedTuple

from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from finagency.analytics import service as analytics
from finagency.analytics.router import stats_for
from finagency.auth.dependencies import CurrentPrincipal, ReadSession, get_services, require
from finagency.auth.permissions import VIEW
from finagency.core.events import Event
from finagency.core.services import Services
from finagency.core.time import utcnow
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


def sse_message(event: str, data: dict[str, Any]) -> str:
    payload = json.dumps(data, separators=(",", ":"), default=str)
    return f"event: {event}\ndata: {payload}\n\n"


def _concerns(event: Event, scope: Sequence[int] | None) -> bool:
    return scope is None or event.brand_id is None or event.brand_id in scope


async def _wait_for_change(queue: asyncio.Queue[Event], scope: Sequence[int] | None) -> None:
    """Return on the first relevant bus event (then drain the burst) or after POLL_SECONDS."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + POLL_SECONDS
    while (remaining := deadline - loop.time()) > 0:
        try:
            event = await asyncio.wait_for(queue.get(), timeout=remaining)
        except TimeoutError:
            return
        if _concerns(event, scope):
            await asyncio.sleep(COALESCE_SECONDS)
            while not queue.empty():
                queue.get_nowait()
            return


async def stats_events(
    services: Services, scope: Sequence[int] | None
) -> AsyncGenerator[str, None]:
    """``event: stats`` at once, then after every relevant bus event and every 2 s at most."""
    loop = asyncio.get_running_loop()
    ends_at = loop.time() + MAX_STREAM_SECONDS
    prefix = f"retry: {RECONNECT_MS}\n\n"
    async with services.events.subscribe() as queue:
        while True:
            async with services.read_sessionmaker() as session:
                stats = await analytics.compute_stats(session, now=utcnow(), brand_ids=scope)
            yield prefix + sse_message("stats", stats.to_dict())
            prefix = ""
            if loop.time() >= ends_at:
                return
            await _wait_for_change(queue, scope)


@router.get("/")
async def overview(viewer: PageViewer, session: ReadSession, request: Request) -> Response:
    stats = (await stats_for(session, viewer.scope)).model_dump()
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
    context = {
        "page_title": "Overview",
        "active": "/",
        "metrics": metrics,
        "as_of": stats["as_of"],
        "jobs_by_state": stats["jobs_by_state"],
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
