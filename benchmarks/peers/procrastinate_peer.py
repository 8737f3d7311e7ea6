"""Procrastinate on PostgreSQL: one worker, concurrency 10 (no-op) or 64 (I/O); batch_defer."""

from __future__ import annotations

import asyncio
import os

from benchmarks._common import python_module, scratch_postgres
from benchmarks._jobs import append_byte, async_post
from benchmarks.peers._base import (
    COUNT_FILE_ENV,
    DSN_ENV,
    HTTP_CONCURRENCY,
    PLATFORM_ENV,
    PeerContext,
    PeerResult,
    measure,
    missing,
)

NAME = "procrastinate"
BATCH = 500

try:
    import procrastinate
except ImportError:  # the harness reports the peer as skipped
    procrastinate = None

if procrastinate is not None:
    app = procrastinate.App(
        connector=procrastinate.PsycopgConnector(conninfo=os.environ.get(DSN_ENV, ""))
    )

    @app.task(name="bench.noop", queue="bench")
    async def noop(index: int) -> None:
        append_byte(os.environ[COUNT_FILE_ENV])

    @app.task(name="bench.post", queue="bench")
    async def post(index: int) -> None:
        await async_post(os.environ[PLATFORM_ENV], index)
        append_byte(os.environ[COUNT_FILE_ENV])


def skip_reason() -> str | None:
    return missing("procrastinate", "psycopg_pool")


def run(mode: str, jobs: int, ctx: PeerContext) -> PeerResult:
    with scratch_postgres(ctx.postgres_url, "procrastinate") as dsn:
        env = {
            COUNT_FILE_ENV: str(ctx.workdir / f"procrastinate-{mode}.count"),
            PLATFORM_ENV: ctx.platform_url,
            DSN_ENV: dsn,
        }
        local = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=dsn))
        task_name = "bench.noop" if mode == "noop" else "bench.post"

        async def install() -> None:
            async with local.open_async():
                await local.schema_manager.apply_schema_async()

        asyncio.run(install())

        async def defer_all() -> None:
            async with local.open_async():
                deferrer = local.configure_task(task_name, queue="bench")
                for first in range(0, jobs, BATCH):
                    await deferrer.batch_defer_async(
                        *({"index": index} for index in range(first, min(first + BATCH, jobs)))
                    )
                # A fresh table has no statistics until autovacuum runs; without them the
                # planner picks a slow plan for procrastinate's fetch (60 jobs/s at 20k rows).
                await local.connector.execute_query_async("ANALYZE procrastinate_jobs")

        concurrency = 10 if mode == "noop" else HTTP_CONCURRENCY
        worker = python_module(
            "procrastinate",
            "--app=benchmarks.peers.procrastinate_peer.app",
            "--log-level",
            "warning",
            "worker",
            "--concurrency",
            str(concurrency),
            "--queues",
            "bench",
        )
        return measure(
            name=NAME,
            setup=f"1 worker, concurrency {concurrency}",
            jobs=jobs,
            ctx=ctx,
            enqueue=lambda: asyncio.run(defer_all()),
            workers=[worker],
            env=env,
        )
