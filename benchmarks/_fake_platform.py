"""A local fake social platform (Starlette under Uvicorn) that answers after a fixed delay.

POST /posts            {"key": ..., "text": ...} → 201 {"id": ...}; every call is recorded, so a
                       post sent twice is counted twice (no server-side deduplication).
GET  /posts/{key}      read-back: 200 {"id": ...} when a post with that key exists, else 404.
GET  /stats            {"posts": total, "keys": {key: times_received}}
"""

from __future__ import annotations

import argparse
import asyncio
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from subprocess import Popen

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from benchmarks._common import free_port, python_module, spawn, stop, wait_for_port


def build_app(delay: float) -> Starlette:
    received: Counter[str] = Counter()

    async def create_post(request: Request) -> Response:
        body = await request.json()
        await asyncio.sleep(delay)
        key = str(body.get("key", ""))
        received[key] += 1
        return JSONResponse({"id": f"p-{key}"}, status_code=201)

    async def read_post(request: Request) -> Response:
        key = request.path_params["key"]
        if key in received:
            return JSONResponse({"id": f"p-{key}"})
        return JSONResponse({"error": "not found"}, status_code=404)

    async def stats(_: Request) -> Response:
        return JSONResponse({"posts": sum(received.values()), "keys": dict(received)})

    return Starlette(
        routes=[
            Route("/posts", create_post, methods=["POST"]),
            Route("/posts/{key}", read_post, methods=["GET"]),
            Route("/stats", stats, methods=["GET"]),
        ]
    )


@contextmanager
def running_platform(workdir: Path, delay_ms: float) -> Iterator[str]:
    """Run the fake platform in its own process; yields its base URL."""
    port = free_port()
    proc: Popen[bytes] = spawn(
        python_module(
            "benchmarks._fake_platform", "--port", str(port), "--delay-ms", str(delay_ms)
        ),
        workdir / "platform.log",
    )
    try:
        wait_for_port(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(proc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay-ms", type=float, default=20.0)
    args = parser.parse_args()
    uvicorn.run(
        build_app(args.delay_ms / 1000),
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        access_log=False,
        backlog=4096,
    )


if __name__ == "__main__":
    main()
