"""Celery on RabbitMQ: prefork 2 with acks late (no-op), 64 threads for I/O jobs."""

from __future__ import annotations

import os

from benchmarks._common import python_module
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

NAME = "celery"
BROKER = os.environ.get("BENCH_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")
QUEUE = os.environ.get(QUEUE_ENV, "finagency_bench")

try:
    from celery import Celery
except ImportError:  # the harness reports the peer as skipped
    Celery = None

if Celery is not None:
    app = Celery("finagency_bench", broker=BROKER)
    app.conf.update(
        task_acks_late=True,
        task_ignore_result=True,
        task_default_queue=QUEUE,
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
    )

    @app.task(name="bench.noop")
    def noop(index: int) -> None:
        append_byte(os.environ[COUNT_FILE_ENV])

    @app.task(name="bench.post")
    def post(index: int) -> None:
        sync_post(os.environ[PLATFORM_ENV], index)
        append_byte(os.environ[COUNT_FILE_ENV])


def skip_reason() -> str | None:
    return missing("celery", "amqp")


def run(mode: str, jobs: int, ctx: PeerContext) -> PeerResult:
    queue = f"finagency_bench_{os.getpid()}_{mode}"
    env = {
        COUNT_FILE_ENV: str(ctx.workdir / f"celery-{mode}.count"),
        PLATFORM_ENV: ctx.platform_url,
        QUEUE_ENV: queue,
    }
    task = noop if mode == "noop" else post
    app.conf.task_default_queue = queue

    def enqueue() -> None:
        with app.producer_or_acquire() as producer:
            for index in range(jobs):
                task.apply_async((index,), producer=producer, queue=queue)

    if mode == "noop":
        pool, setup = ["-P", "prefork", "-c", "2"], "prefork 2, acks late"
    else:
        pool = ["-P", "threads", "-c", str(HTTP_CONCURRENCY)]
        setup = f"{HTTP_CONCURRENCY} threads, acks late"
    worker = python_module(
        "celery",
        "-A",
        "benchmarks.peers.celery_peer",
        "worker",
        *pool,
        "-Q",
        queue,
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "--loglevel",
        "WARNING",
    )
    try:
        return measure(
            name=NAME, setup=setup, jobs=jobs, ctx=ctx, enqueue=enqueue, workers=[worker], env=env
        )
    finally:
        with app.connection_for_write() as conn:
            conn.default_channel.queue_delete(queue)
