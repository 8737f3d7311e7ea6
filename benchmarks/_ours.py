"""finagency's side of the benchmarks: schema, batched enqueue, bench tasks and a worker process.

Run as a module it is one worker process:
``python -m benchmarks._ours --url URL --concurrency 64 --batch-size 50 ...``; SIGTERM stops it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from benchmarks._common import python_module, spawn
from benchmarks._jobs import append_byte, post_body
from finagency.core.db import create_engine, create_sessionmaker, transaction
from finagency.ops.migrations import upgrade_database
from finagency.queue import (
    NOTIFIER_KEY,
    JobContext,
    Notifier,
    Task,
    TaskRegistry,
    Worker,
    WorkerConfig,
    enqueue,
    enqueue_many,
)

QUEUE = "bench"
NOOP, POST, LATENCY, PUBLISH = "bench.noop", "bench.post", "bench.latency", "bench.publish"


@dataclass(frozen=True, slots=True)
class WorkerOptions:
    concurrency: int = 64
    batch_size: int = 50
    lease_seconds: float = 30.0
    poll_interval: float = 0.5
    rescue_interval: float = 5.0

    def argv(self) -> list[str]:
        return [
            "--concurrency",
            str(self.concurrency),
            "--batch-size",
            str(self.batch_size),
            "--lease",
            str(self.lease_seconds),
            "--poll",
            str(self.poll_interval),
            "--rescue-interval",
            str(self.rescue_interval),
        ]

    def config(self) -> WorkerConfig:
        return WorkerConfig(
            queues=(QUEUE,),
            concurrency=self.concurrency,
            batch_size=self.batch_size,
            lease_seconds=self.lease_seconds,
            poll_interval=self.poll_interval,
            rescue_interval=self.rescue_interval,
        )


@dataclass
class BenchServices:
    """What the bench tasks reach through ``ctx.services``."""

    count_file: str = ""
    log_file: str = ""
    platform_url: str = ""
    http: httpx.AsyncClient | None = None
    log_fd: int | None = field(default=None, repr=False)

    def log_line(self, line: str) -> None:
        if self.log_fd is None:
            self.log_fd = os.open(self.log_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        os.write(self.log_fd, line.encode())


# -- tasks -------------------------------------------------------------------------------


async def noop(ctx: JobContext) -> None:
    append_byte(ctx.services.count_file)


async def post(ctx: JobContext) -> None:
    services: BenchServices = ctx.services
    assert services.http is not None
    response = await services.http.post(
        f"{services.platform_url}/posts", json=post_body(int(ctx.args["i"]))
    )
    response.raise_for_status()
    append_byte(services.count_file)


async def latency(ctx: JobContext) -> None:
    """Record (due time, start time); the enqueuer puts the due time (or now) in ``t``."""
    ctx.services.log_line(f"{ctx.args['t']} {time.time()}\n")


INTENT_TABLE = """
CREATE TABLE bench_intent (
    key VARCHAR(64) NOT NULL,
    attempt_no INTEGER NOT NULL,
    outcome VARCHAR(16) NOT NULL,
    external_id VARCHAR(64),
    PRIMARY KEY (key, attempt_no)
)
"""


async def publish(ctx: JobContext) -> None:
    """The publishing protocol of publishing/tasks.py, reduced to its steps.

    An open intent means an earlier run may have sent the post: read it back before sending
    again. A new intent is committed (fenced by the lease) before the platform hears of it.
    """
    services: BenchServices = ctx.services
    assert services.http is not None
    key = str(ctx.args["key"])
    session = ctx.session
    services.log_line(f"{ctx.job.id} {time.time()} {os.getpid()}\n")
    last = (
        await session.execute(
            text(
                "SELECT attempt_no, outcome FROM bench_intent WHERE key = :key"
                " ORDER BY attempt_no DESC LIMIT 1"
            ),
            {"key": key},
        )
    ).first()
    attempt_no = 1
    if last is not None:
        attempt_no = last.attempt_no + 1
        if last.outcome == "confirmed":
            return
        found = await services.http.get(f"{services.platform_url}/posts/{key}")
        if found.status_code == 200:
            await _close_intent(session, key, last.attempt_no, "confirmed", found.json()["id"])
            return
        if found.status_code != 404:
            found.raise_for_status()  # an unknown answer: retry later, never send blindly
        await _close_intent(session, key, last.attempt_no, "failed", None)
    await session.execute(
        text("INSERT INTO bench_intent (key, attempt_no, outcome) VALUES (:key, :no, 'sending')"),
        {"key": key, "no": attempt_no},
    )
    await ctx.checkpoint()  # the intent is durable before the platform hears of it
    response = await services.http.post(
        f"{services.platform_url}/posts", json={"key": key, "text": f"post {key}"}
    )
    response.raise_for_status()
    await _close_intent(session, key, attempt_no, "confirmed", response.json()["id"])


async def _close_intent(
    session: AsyncSession, key: str, attempt_no: int, outcome: str, external_id: str | None
) -> None:
    await session.execute(
        text(
            "UPDATE bench_intent SET outcome = :outcome, external_id = :external_id"
            " WHERE key = :key AND attempt_no = :no"
        ),
        {"outcome": outcome, "external_id": external_id, "key": key, "no": attempt_no},
    )


def registry() -> TaskRegistry:
    return TaskRegistry(
        [
            Task(NOOP, noop, queue=QUEUE),
            Task(POST, post, queue=QUEUE, timeout_seconds=30),
            Task(LATENCY, latency, queue=QUEUE),
            Task(PUBLISH, publish, queue=QUEUE, max_attempts=50, reconcile_on_rescue=True),
        ]
    )


# -- database set-up and enqueue ---------------------------------------------------------


async def prepare(url: str) -> None:
    """Migrate the scratch database to the current schema."""
    await upgrade_database(url)


def open_db(url: str, notifier: Notifier | None = None) -> tuple[AsyncEngine, Any]:
    engine = create_engine(url)
    info = {NOTIFIER_KEY: notifier} if notifier is not None else None
    return engine, create_sessionmaker(engine, info=info)


async def enqueue_batches(
    sessionmaker: async_sessionmaker[AsyncSession],
    task: str,
    count: int,
    *,
    batch: int = 500,
    make_args: Callable[[int], dict[str, Any]] = lambda i: {"i": i},
    run_at: datetime | None = None,
    unique: bool = False,
) -> float:
    """Enqueue ``count`` jobs, one transaction per batch: through ``enqueue_many`` (one
    INSERT per batch), or through ``enqueue`` row by row when jobs carry unique keys;
    returns the seconds it took."""
    started = time.perf_counter()
    for first in range(0, count, batch):
        indexes = range(first, min(first + batch, count))
        async with transaction(sessionmaker) as session:
            if not unique:
                await enqueue_many(
                    session,
                    task,
                    [make_args(index) for index in indexes],
                    queue=QUEUE,
                    run_at=run_at,
                )
                continue
            for index in indexes:
                await enqueue(
                    session,
                    task,
                    make_args(index),
                    queue=QUEUE,
                    run_at=run_at,
                    unique_key=f"bench:{index}",
                )
    return time.perf_counter() - started


async def count_states(sessionmaker: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    async with sessionmaker() as session:
        rows = await session.execute(text("SELECT state, count(*) FROM job GROUP BY state"))
        return {state: int(total) for state, total in rows}


# -- worker processes --------------------------------------------------------------------


def spawn_worker(
    url: str,
    workdir: Path,
    options: WorkerOptions,
    *,
    count_file: Path | None = None,
    log_file: Path | None = None,
    platform_url: str = "",
    name: str = "worker",
) -> subprocess.Popen[bytes]:
    args = ["--url", url, *options.argv(), "--platform-url", platform_url]
    if count_file is not None:
        args += ["--count-file", str(count_file)]
    if log_file is not None:
        args += ["--log-file", str(log_file)]
    return spawn(python_module("benchmarks._ours", *args), workdir / f"{name}.log")


def spawn_workers(
    processes: int, url: str, workdir: Path, options: WorkerOptions, **kwargs: Any
) -> list[subprocess.Popen[bytes]]:
    return [
        spawn_worker(url, workdir, options, name=f"worker-{index}", **kwargs)
        for index in range(processes)
    ]


async def run_worker(
    url: str,
    options: WorkerOptions,
    services: BenchServices,
    stop_signals: Sequence[int] = (signal.SIGTERM, signal.SIGINT),
) -> None:
    notifier = Notifier()
    engine, sessionmaker = open_db(url, notifier)
    limits = httpx.Limits(max_connections=options.concurrency, max_keepalive_connections=None)
    async with httpx.AsyncClient(limits=limits, timeout=30.0) as http:
        services.http = http
        worker = Worker(
            sessionmaker, registry(), options.config(), services=services, notifier=notifier
        )
        loop = asyncio.get_running_loop()
        for sig in stop_signals:
            loop.add_signal_handler(sig, worker.stop)
        try:
            await worker.run()
        finally:
            await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--lease", type=float, default=30.0)
    parser.add_argument("--poll", type=float, default=0.5)
    parser.add_argument("--rescue-interval", type=float, default=5.0)
    parser.add_argument("--count-file", default="")
    parser.add_argument("--log-file", default="")
    parser.add_argument("--platform-url", default="")
    args = parser.parse_args()
    options = WorkerOptions(
        concurrency=args.concurrency,
        batch_size=args.batch_size,
        lease_seconds=args.lease,
        poll_interval=args.poll,
        rescue_interval=args.rescue_interval,
    )
    services = BenchServices(
        count_file=args.count_file, log_file=args.log_file, platform_url=args.platform_url
    )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_worker(args.url, options, services))


if __name__ == "__main__":
    main()


# -- bulk rows (memory and scale benchmarks) ---------------------------------------------

_SQLITE_BULK = """
WITH RECURSIVE seq(x) AS (SELECT :first UNION ALL SELECT x + 1 FROM seq WHERE x < :last)
INSERT INTO job (queue, task, args, state, priority, run_at, attempt, max_attempts, errors,
                 created_at, rescues)
SELECT :queue, :task, json_object('i', x), 'available', 100, :run_at, 0, 5, '[]', :now, 0
FROM seq
"""

_POSTGRES_BULK = """
INSERT INTO job (queue, task, args, state, priority, run_at, attempt, max_attempts, errors,
                 created_at, rescues)
SELECT :queue, :task, json_build_object('i', x), 'available', 100, :run_at, 0, 5, '[]'::json,
       :now, 0
FROM generate_series(CAST(:first AS bigint), CAST(:last AS bigint)) AS x
"""


async def bulk_insert_jobs(
    sessionmaker: async_sessionmaker[AsyncSession],
    count: int,
    *,
    run_at: datetime,
    task: str = NOOP,
    first: int = 0,
    chunk: int = 100_000,
) -> float:
    """Insert ``count`` available jobs with set-based SQL, ``chunk`` rows per transaction;
    returns the seconds it took. The rows are the ones ``enqueue`` writes."""
    started = time.perf_counter()
    async with sessionmaker() as probe:
        dialect = probe.get_bind().dialect.name
    statement = text(_POSTGRES_BULK if dialect == "postgresql" else _SQLITE_BULK)
    now = datetime.now(run_at.tzinfo)

    def stamp(moment: datetime) -> Any:
        # SQLite keeps UTC datetimes as naive text in SQLAlchemy's format (see UTCDateTime).
        if dialect == "postgresql":
            return moment
        return moment.astimezone(run_at.tzinfo).strftime("%Y-%m-%d %H:%M:%S.%f")

    for low in range(first, first + count, chunk):
        high = min(low + chunk, first + count) - 1
        async with transaction(sessionmaker) as session:
            await session.execute(
                statement,
                {
                    "first": low,
                    "last": high,
                    "queue": QUEUE,
                    "task": task,
                    "run_at": stamp(run_at),
                    "now": stamp(now),
                },
            )
    if dialect == "postgresql":
        async with sessionmaker() as session:
            await session.execute(text("ANALYZE job"))  # what autovacuum would have done
            await session.commit()
    return time.perf_counter() - started


def rss_mb(pid: int) -> tuple[float, float]:
    """(current, peak) resident memory of a process in MB, from /proc."""
    values = {"VmRSS": 0.0, "VmHWM": 0.0}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            key = line.split(":", 1)[0]
            if key in values:
                values[key] = int(line.split()[1]) / 1024
    return values["VmRSS"], values["VmHWM"]
