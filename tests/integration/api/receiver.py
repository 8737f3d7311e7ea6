"""A local HTTP server standing in for a customer's webhook receiver.

It answers with scripted status codes (the last one repeats) and keeps every request, so
tests can check what went over the wire: headers, body, signature.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    statuses: list[int] = field(default_factory=lambda: [200])
    requests: list[Received] = field(default_factory=list)
    url: str = ""

    async def handle(self, request: Request) -> PlainTextResponse:
        self.requests.append(Received(dict(request.headers), await request.body()))
        index = min(len(self.requests) - 1, len(self.statuses) - 1)
        status = self.statuses[index]
        return PlainTextResponse("ok" if status < 300 else "receiver broke", status_code=status)


@contextlib.asynccontextmanager
async def running_receiver(statuses: list[int] | None = None) -> AsyncIterator[Receiver]:
    receiver = Receiver(statuses=statuses or [200])
    app = Starlette(routes=[Route("/hook", receiver.handle, methods=["POST"])])
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 (uvicorn offers no started event)
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    receiver.url = f"http://127.0.0.1:{port}/hook"
    try:
        yield receiver
    finally:
        server.should_exit = True
        await task
