"""PgQueuer on PostgreSQL: one asyncio process, batch 10 (no-op) or 64 (I/O); batched enqueue."""

from __future__ import annotations

import argparse
import asyncio
import os
from typing import Any

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

NAME = "pgqueuer"
BATCH = 500


def skip_reason() -> str | None:
    return missing("pgqueuer", "asyncpg")


async def create_pgqueuer() -> object:
    """The factory ``pgq run`` calls in the worker process."""
    import asyncpg
    from pgqueuer import PgQueuer
    from pgqueuer.db import AsyncpgDriver
    from pgqueuer.models import Job

    connection = await asyncpg.connect(os.environ[DSN_ENV])
    pgq = PgQueuer(AsyncpgDriver(connection))
    count_file = os.environ[COUNT_FILE_ENV]
    platform = os.environ.get(PLATFORM_ENV, "")

    @pgq.entrypoint("noop")
    async def noop(job: Job) -> None:
        append_byte(count_file)

    @pgq.entrypoint("post")
    async def post(job: Job) -> None:
        await async_post(platform, int(job.payload or b"0"))
        append_byte(count_file)

    return pgq


async def _work(batch_size: int) -> None:
    pgq: Any = await create_pgqueuer()
    await pgq.run(batch_size=batch_size)


def run(mode: str, jobs: int, ctx: PeerContext) -> PeerResult:
    import asyncpg
    from pgqueuer.db import AsyncpgDriver
    from pgqueuer.queries import Queries

    with scratch_postgres(ctx.postgres_url, "pgqueuer") as dsn:
        env = {
            COUNT_FILE_ENV: str(ctx.workdir / f"pgqueuer-{mode}.count"),
            PLATFORM_ENV: ctx.platform_url,
            DSN_ENV: dsn,
        }
        entrypoint = "noop" if mode == "noop" else "post"

        async def install() -> None:
            connection = await asyncpg.connect(dsn)
            try:
                await Queries(AsyncpgDriver(connection)).install()
            finally:
                await connection.close()

        asyncio.run(install())

        async def enqueue_all() -> None:
            connection = await asyncpg.connect(dsn)
            try:
                queries = Queries(AsyncpgDriver(connection))
                for first in range(0, jobs, BATCH):
                    indexes = range(first, min(first + BATCH, jobs))
                    await queries.enqueue(
                        [entrypoint] * len(indexes),
                        [str(index).encode() for index in indexes],
                        [0] * len(indexes),
                    )
            finally:
                await connection.close()

        batch = 10 if mode == "noop" else HTTP_CONCURRENCY
        # ``pgq run`` of 1.6 crashes while setting up its logger, so the worker calls
        # ``PgQueuer.run`` itself: the same manager with the same batch size.
        worker = python_module("benchmarks.peers.pgqueuer_peer", "--batch-size", str(batch))
        return measure(
            name=NAME,
            setup=f"1 asyncio process, batch {batch}",
            jobs=jobs,
            ctx=ctx,
            enqueue=lambda: asyncio.run(enqueue_all()),
            workers=[worker],
            env={**env, "PGDSN": dsn},
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="one PgQueuer worker process")
    parser.add_argument("--batch-size", type=int, default=10)
    asyncio.run(_work(parser.parse_args().batch_size))
