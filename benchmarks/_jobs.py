"""The job bodies every system runs, so that each counts completions and calls out the same way."""

from __future__ import annotations

import asyncio
import os
import threading
from typing import Any

import httpx


def append_byte(path: str) -> None:
    """Mark one finished job: one byte appended to a shared file (O_APPEND is atomic)."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, b".")
    finally:
        os.close(fd)


def post_body(index: int) -> dict[str, Any]:
    """The JSON each I/O job sends to the fake platform."""
    return {"key": f"job-{index}", "text": f"Post number {index}: markets moved today."}


_sync_client: Any = None
_sync_lock = threading.Lock()


def sync_post(platform_url: str, index: int) -> None:
    """The I/O job for thread- and process-based peers: one shared client per process."""
    global _sync_client
    if _sync_client is None:
        with _sync_lock:
            if _sync_client is None:
                limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
                _sync_client = httpx.Client(limits=limits, timeout=30.0)
    response = _sync_client.post(f"{platform_url}/posts", json=post_body(index))
    response.raise_for_status()


_async_clients: dict[int, httpx.AsyncClient] = {}


async def async_post(platform_url: str, index: int) -> None:
    """The I/O job for asyncio peers: one shared client per event loop."""
    loop_id = id(asyncio.get_running_loop())
    client = _async_clients.get(loop_id)
    if client is None:
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
        client = _async_clients[loop_id] = httpx.AsyncClient(limits=limits, timeout=30.0)
    response = await client.post(f"{platform_url}/posts", json=post_body(index))
    response.raise_for_status()
