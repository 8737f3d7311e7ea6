"""RQ on Redis: two SimpleWorker processes in burst mode; enqueue_many in a pipeline."""

from __future__ import annotations

import os

from benchmarks._jobs import append_byte, sync_post
from benchmarks.peers._base import (
    COUNT_FILE_ENV,
    PLATFORM_ENV,
    PeerContext,
    PeerResult,
    measure,
    missing,
)

NAME = "rq"
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
BATCH = 500


def noop(index: int) -> None:
    append_byte(os.environ[COUNT_FILE_ENV])


def post(index: int) -> None:
    sync_post(os.environ[PLATFORM_ENV], index)
    append_byte(os.environ[COUNT_FILE_ENV])


def skip_reason() -> str | None:
    return missing("rq", "redis")


def run(mode: str, jobs: int, ctx: PeerContext) -> PeerResult:
    from redis import Redis
    from rq import Queue

    from benchmarks._common import venv_script

    connection = Redis.from_url(REDIS_URL)
    queue_name = f"finagency_bench_{os.getpid()}_{mode}"
    queue = Queue(queue_name, connection=connection)
    env = {
        COUNT_FILE_ENV: str(ctx.workdir / f"rq-{mode}.count"),
        PLATFORM_ENV: ctx.platform_url,
    }
    function = noop if mode == "noop" else post

    def enqueue() -> None:
        for first in range(0, jobs, BATCH):
            batch = [
                Queue.prepare_data(function, (index,), result_ttl=0)
                for index in range(first, min(first + BATCH, jobs))
            ]
            with connection.pipeline() as pipe:
                queue.enqueue_many(batch, pipeline=pipe)
                pipe.execute()

    worker = [
        venv_script("rq"),
        "worker",
        "--burst",
        "-w",
        "rq.worker.SimpleWorker",
        "-u",
        REDIS_URL,
        "--quiet",
        queue_name,
    ]
    try:
        return measure(
            name=NAME,
            setup="2 SimpleWorker processes",
            jobs=jobs,
            ctx=ctx,
            enqueue=enqueue,
            workers=[worker, worker],
            env=env,
        )
    finally:
        queue.delete(delete_jobs=True)
