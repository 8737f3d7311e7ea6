"""Dramatiq on Redis: 2 processes × 8 threads (no-op), × 32 threads for I/O (64 in all)."""

from __future__ import annotations

import os

from benchmarks._common import venv_script
from benchmarks._jobs import append_byte, sync_post
from benchmarks.peers._base import (
    COUNT_FILE_ENV,
    HTTP_CONCURRENCY,
    PLATFORM_ENV,
    QUEUE_ENV,
    PeerContext,
    PeerResult,
    measure,
    missing,
)

NAME = "dramatiq"
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
QUEUE = os.environ.get(QUEUE_ENV, "finagency_bench")

try:
    import dramatiq
    from dramatiq.brokers.redis import RedisBroker
except ImportError:  # the harness reports the peer as skipped
    dramatiq = None

if dramatiq is not None:
    broker = RedisBroker(url=REDIS_URL, namespace="finagency-bench")
    dramatiq.set_broker(broker)

    @dramatiq.actor(queue_name=QUEUE, max_retries=0)
    def noop(index: int) -> None:
        append_byte(os.environ[COUNT_FILE_ENV])

    @dramatiq.actor(queue_name=QUEUE, max_retries=0)
    def post(index: int) -> None:
        sync_post(os.environ[PLATFORM_ENV], index)
        append_byte(os.environ[COUNT_FILE_ENV])


def skip_reason() -> str | None:
    return missing("dramatiq", "redis")


def run(mode: str, jobs: int, ctx: PeerContext) -> PeerResult:
    env = {
        COUNT_FILE_ENV: str(ctx.workdir / f"dramatiq-{mode}.count"),
        PLATFORM_ENV: ctx.platform_url,
        QUEUE_ENV: QUEUE,
    }
    actor = noop if mode == "noop" else post
    broker.flush(QUEUE)

    def enqueue() -> None:
        for index in range(jobs):
            actor.send(index)

    threads = 8 if mode == "noop" else HTTP_CONCURRENCY // 2
    worker = [
        venv_script("dramatiq"),
        "benchmarks.peers.dramatiq_peer",
        "-p",
        "2",
        "-t",
        str(threads),
    ]
    try:
        return measure(
            name=NAME,
            setup=f"2 processes × {threads} threads",
            jobs=jobs,
            ctx=ctx,
            enqueue=enqueue,
            workers=[worker],
            env=env,
        )
    finally:
        broker.flush(QUEUE)
