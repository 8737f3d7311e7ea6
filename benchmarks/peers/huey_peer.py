"""Huey on SQLite: 2 worker processes (no-op), 64 threads for I/O jobs."""

from __future__ import annotations

import os

from benchmarks._common import venv_script
from benchmarks._jobs import append_byte, sync_post
from benchmarks.peers._base import (
    COUNT_FILE_ENV,
    HTTP_CONCURRENCY,
    PLATFORM_ENV,
    PeerContext,
    PeerResult,
    measure,
    missing,
)

NAME = "huey"
DB_ENV = "BENCH_HUEY_DB"

try:
    from huey import SqliteHuey
except ImportError:  # the harness reports the peer as skipped
    SqliteHuey = None

if SqliteHuey is not None and os.environ.get(DB_ENV):
    huey = SqliteHuey("finagency-bench", filename=os.environ[DB_ENV], results=False)

    @huey.task()
    def noop(index: int) -> None:
        append_byte(os.environ[COUNT_FILE_ENV])

    @huey.task()
    def post(index: int) -> None:
        sync_post(os.environ[PLATFORM_ENV], index)
        append_byte(os.environ[COUNT_FILE_ENV])


def skip_reason() -> str | None:
    return missing("huey")


def run(mode: str, jobs: int, ctx: PeerContext) -> PeerResult:
    import importlib

    env = {
        COUNT_FILE_ENV: str(ctx.workdir / f"huey-{mode}.count"),
        PLATFORM_ENV: ctx.platform_url,
        DB_ENV: str(ctx.workdir / f"huey-{mode}.db"),
    }
    os.environ.update(env)
    module = importlib.reload(importlib.import_module("benchmarks.peers.huey_peer"))
    task = module.noop if mode == "noop" else module.post

    def enqueue() -> None:
        for index in range(jobs):
            task(index)

    if mode == "noop":
        pool, setup = ["-w", "2", "-k", "process"], "2 worker processes"
    else:
        pool, setup = ["-w", str(HTTP_CONCURRENCY), "-k", "thread"], f"{HTTP_CONCURRENCY} threads"
    worker = [venv_script("huey_consumer"), "benchmarks.peers.huey_peer.huey", *pool, "-q"]
    return measure(
        name=NAME, setup=setup, jobs=jobs, ctx=ctx, enqueue=enqueue, workers=[worker], env=env
    )
