"""B1: queue throughput with no-op jobs (each appends one byte to a file), finagency vs peers.

Enqueue in batches through the public ``enqueue``, then drain with one worker process, then
(after enqueueing again) with two. Worker start-up is inside the drain time. The peers run
after, one after the other, each in its own worker processes.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select

from benchmarks import _ours
from benchmarks._common import base_parser, emit, machine, note, print_table, scratch, stop
from benchmarks._common import wait_for_count as wait_count
from benchmarks.peers import parse_names, run_peers
from benchmarks.peers._base import PeerContext
from finagency.core.db import transaction
from finagency.models import Job, utcnow
from finagency.queue.backends import postgres


async def _enqueue(url: str, jobs: int, batch: int) -> float:
    engine, sessionmaker = _ours.open_db(url)
    try:
        return await _ours.enqueue_batches(sessionmaker, _ours.NOOP, jobs, batch=batch)
    finally:
        await engine.dispose()


async def _bulk_enqueue(url: str, jobs: int, batch: int) -> float:
    """What a batched ``enqueue_many`` would reach: one multi-row INSERT and one NOTIFY per
    batch (the rows ``enqueue`` writes, run_at in the future so that nothing claims them)."""
    engine, sessionmaker = _ours.open_db(url)
    later = datetime(2999, 1, 1, tzinfo=utcnow().tzinfo)
    try:
        started = time.perf_counter()
        for first in range(0, jobs, batch):
            rows: list[dict[str, Any]] = [
                {
                    "task": _ours.NOOP,
                    "queue": _ours.QUEUE,
                    "args": {"i": index},
                    "state": "available",
                    "priority": 100,
                    "run_at": later,
                    "attempt": 0,
                    "max_attempts": 5,
                    "errors": [],
                    "created_at": utcnow(),
                }
                for index in range(first, min(first + batch, jobs))
            ]
            async with transaction(sessionmaker) as session:
                await session.execute(insert(Job), rows)
                if engine.dialect.name == "postgresql":
                    await postgres.notify(session, _ours.QUEUE)
        seconds = time.perf_counter() - started
        async with sessionmaker() as session:
            assert await session.scalar(select(func.count()).select_from(Job)) >= jobs
        return seconds
    finally:
        await engine.dispose()


def main() -> None:
    parser = base_parser(__doc__ or "")
    parser.add_argument("--jobs", type=int, default=20_000)
    parser.add_argument("--enqueue-batch", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--peers", default="all", help="all, none, or a comma-separated list")
    parser.add_argument("--peer-timeout", type=float, default=45.0)
    parser.add_argument("--timeout", type=float, default=120.0)
    args = parser.parse_args()
    jobs = args.jobs
    options = _ours.WorkerOptions(concurrency=args.concurrency, batch_size=args.batch_size)

    rows: list[list[Any]] = []
    drains: dict[int, float] = {}
    enqueue_rates: list[float] = []
    with scratch(args.backend, args.postgres_url, "b1") as db:
        asyncio.run(_ours.prepare(db.url))
        for processes in (1, 2):
            enqueue_seconds = asyncio.run(_enqueue(db.url, jobs, args.enqueue_batch))
            enqueue_rates.append(jobs / enqueue_seconds)
            count_file = db.workdir / f"ours-{processes}.count"
            workers = _ours.spawn_workers(
                processes, db.url, db.workdir, options, count_file=count_file
            )
            try:
                seconds, done = wait_count(count_file, jobs, args.timeout, workers)
            finally:
                for worker in workers:
                    stop(worker)
            drains[processes] = done / seconds
            rows.append(
                [
                    f"finagency ({args.backend})",
                    f"{processes} process(es) × concurrency {options.concurrency}, "
                    f"batch {options.batch_size}",
                    jobs / enqueue_seconds,
                    drains[processes],
                    f"{done}/{jobs} in {seconds:.1f} s",
                ]
            )
        bulk_rate = jobs / asyncio.run(_bulk_enqueue(db.url, jobs, args.enqueue_batch))

        peer_names = parse_names(args.peers)
        ctx = PeerContext(
            workdir=db.workdir, postgres_url=args.postgres_url, timeout=args.peer_timeout
        )
        results, skipped = run_peers("noop", jobs, ctx, peer_names)

    for result in results:
        rows.append(
            [
                result.name,
                result.setup,
                result.enqueue_per_s,
                result.drain_per_s,
                f"{result.drained}/{result.jobs} in {result.drain_seconds:.1f} s"
                + (" (capped)" if result.partial else ""),
            ]
        )
    drain = max(drains.values())
    enqueue_rate = sum(enqueue_rates) / len(enqueue_rates)
    print_table(
        f"B1 queue throughput, no-op jobs, {jobs:,} jobs, backend {args.backend}",
        ["system", "setup", "enqueue/s", "drain/s", "drained"],
        rows,
    )
    print(f"\nfinagency bulk INSERT (prototype of a batched enqueue_many): {bulk_rate:,.0f} rows/s")
    peers = {result.name: round(result.drain_per_s) for result in results}
    peer_enqueue = {result.name: round(result.enqueue_per_s) for result in results}
    if peers:
        best = max(peers, key=lambda name: peers[name])
        best_enqueue = max(peer_enqueue.values())
        print(
            f"drain vs best peer ({best}): {drain / peers[best]:.2f}× (target ≥ 1.5×); "
            f"enqueue vs best peer: {enqueue_rate / best_enqueue:.2f}× (target ≥ 1×)"
        )
    for name, reason in skipped.items():
        note(f"skipped {name}: {reason}")
    emit(
        {
            "bench": "B1",
            "backend": args.backend,
            "jobs": jobs,
            "drain_per_s": round(drain),
            "drain_per_s_1proc": round(drains[1]),
            "drain_per_s_2proc": round(drains[2]),
            "enqueue_per_s": round(enqueue_rate),
            "enqueue_bulk_sql_per_s": round(bulk_rate),
            "peers": peers,
            "peers_enqueue_per_s": peer_enqueue,
            "peers_capped": [result.name for result in results if result.partial],
            "skipped": skipped,
            "machine": machine(),
        }
    )


if __name__ == "__main__":
    main()
