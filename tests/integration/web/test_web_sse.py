"""The Overview's live feed: the first Server-Sent Event carries the stats, and updates follow."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
from fastapi import FastAPI
from starlette.types import Message, Scope
from web_support import Login, Seed

from finagency.core.events import Event
from finagency.core.services import Services


async def read_events(
    app: FastAPI, cookies: httpx.Cookies, count: int, *, during: Callable[[], None] | None = None
) -> tuple[dict[str, str], list[tuple[str, dict[str, Any]]]]:
    """Call /events/stats as raw ASGI (httpx buffers whole bodies), read ``count`` events,
    then disconnect the way a closing browser tab does."""
    cookie = "; ".join(f"{name}={value}" for name, value in cookies.items())
    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/events/stats",
        "raw_path": b"/events/stats",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"accept", b"text/event-stream"),
            (b"cookie", cookie.encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    gone = asyncio.Event()
    requested = False
    headers: dict[str, str] = {}
    buffer = b""
    events: list[tuple[str, dict[str, Any]]] = []

    async def receive() -> Message:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await gone.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        nonlocal buffer
        if message["type"] == "http.response.start":
            headers.update({k.decode(): v.decode() for k, v in message["headers"]})
            headers[":status"] = str(message["status"])
            return
        buffer += message.get("body", b"")
        while b"\n\n" in buffer:
            block, buffer = buffer.split(b"\n\n", 1)
            lines = dict(
                line.split(": ", 1) for line in block.decode().splitlines() if ": " in line
            )
            if "event" in lines:
                events.append((lines["event"], json.loads(lines["data"])))
                if len(events) == 1 and during is not None:
                    during()
        if len(events) >= count or not message.get("more_body", False):
            gone.set()

    await asyncio.wait_for(app(scope, receive, send), timeout=10)
    return headers, events


async def test_first_event_carries_the_users_stats(
    app: FastAPI, client: httpx.AsyncClient, seed: Seed, login: Login, services: Services
) -> None:
    await login(client, "approver")
    expected = (await client.get("/api/v1/stats")).json()

    headers, events = await read_events(app, client.cookies, 1)

    assert headers[":status"] == "200"
    assert headers["content-type"].startswith("text/event-stream")
    assert headers["cache-control"] == "no-cache"
    assert headers["x-accel-buffering"] == "no"
    name, stats = events[0]
    assert name == "stats"
    assert {key: stats[key] for key in ("total", "pending", "posted", "stuck")} == {
        key: expected[key] for key in ("total", "pending", "posted", "stuck")
    }
    assert services.events.subscriber_count == 0  # the disconnect ended the subscription


async def test_a_bus_event_pushes_fresh_numbers(
    app: FastAPI, client: httpx.AsyncClient, seed: Seed, login: Login, services: Services
) -> None:
    await login(client, "approver")

    def announce() -> None:
        services.events.publish(Event("job.state_changed", {}, brand_id=seed.brand_ids["a"]))

    started = asyncio.get_running_loop().time()
    _, events = await read_events(app, client.cookies, 2, during=announce)

    assert [name for name, _ in events] == ["stats", "stats"]
    assert asyncio.get_running_loop().time() - started < 5


async def test_the_stream_needs_a_signed_in_user(app: FastAPI, seed: Seed) -> None:
    headers, events = await read_events(app, httpx.Cookies(), 1)

    assert headers[":status"] == "401"
    assert events == []
