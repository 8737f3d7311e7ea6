"""B9: claim latency p50/p99 at 10k, 100k and 1M queued jobs.

One claim is the worker's claim transaction: read paused queues, claim a batch with the
backend's claim query, commit. The claimed jobs are then completed (untimed), as a worker
would, so that finished rows pile up as they do in production. Jobs are added with
set-based SQL between sizes.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text

from benchmarks import _ours
from benchmarks._common import base_parser, emit, machine, percentile, print_table, scratch
from finagency.core.db import transaction
from finagency.queue import queries
from finagency.queue.backends import claim_jobs

SIZES = (10_000, 100_000, 1_000_000)


async def _claims(sessionmaker: Any, rounds: int, batch: int) -> list[float]:
    timings: list[float] = []
    for _ in range(rounds):
        now = datetime.now(UTC)
        started = time.perf_counter()
        async with transaction(sessionmaker) as session:
            paused = await queries.paused_queues(session)
            queues = [queue for queue in (_ours.QUEUE,) if queue not in paused]
            jobs = await claim_jobs(
                session,
                queues=queues,
                limit=batch,
                owner="bench-scale",
                lease_until=now + timedelta(seconds=30),
                now=now,
            )
            ids = [job.id for job in jobs]
        timings.append(time.perf_counter() - started)
        async with transaction(sessionmaker) as session:
            for job_id in ids:
                await session.execute(
                    text(
                        "UPDATE job SET state = 'completed', finalized_at = :now, "
                        "lease_token = NULL WHERE id = :id"
                    ),
                    {
                        "now": now.strftime("%Y-%m-%d %H:%M:%S.%f")
                        if session.get_bind().dialect.name == "sqlite"
                        else now,
                        "id": job_id,
                    },
                )
    return timings


async def _run(url: str, sizes: list[int], rounds: int, batch: int) -> list[dict[str, Any]]:
    engine, sessionmaker = _ours.open_db(url)
    rows: list[dict[str, Any]] = []
    queued = 0
    try:
        for size in sizes:
            fill = await _ours.bulk_insert_jobs(
                sessionmaker,
                size - queued,
                first=queued,
                run_at=datetime.now(UTC) - timedelta(seconds=1),
            )
            queued = size
            await _claims(sessionmaker, 20, batch)  # warm caches and the connection
            timings = await _claims(sessionmaker, rounds, batch)
            rows.append(
                {
                    "queued": size,
                    "fill_s": round(fill, 1),
                    "p50_ms": 1000 * percentile(timings, 50),
                    "p99_ms": 1000 * percentile(timings, 99),
                }
            )
    finally:
        await engine.dispose()
    return rows


def main() -> None:
    parser = base_parser(__doc__ or "")
    parser.add_argument("--max-jobs", type=int, default=1_000_000)
    parser.add_argument("--claims", type=int, default=300, help="timed claims per size")
    parser.add_argument("--batch-size", type=int, default=10)
    args = parser.parse_args()
    sizes = [size for size in SIZES if size <= args.max_jobs] or [args.max_jobs]
    with scratch(args.backend, args.postgres_url, "b9") as db:
        asyncio.run(_ours.prepare(db.url))
        rows = asyncio.run(_run(db.url, sizes, args.claims, args.batch_size))
    p99s = [row["p99_ms"] for row in rows]
    spread = max(p99s) / min(p99s) - 1 if min(p99s) > 0 else float("inf")
    print_table(
        f"B9 claim latency (batch {args.batch_size}, {args.claims} claims per size), "
        f"backend {args.backend}",
        ["queued jobs", "fill time", "claim p50", "claim p99"],
        [
            [
                row["queued"],
                f"{row['fill_s']} s",
                f"{row['p50_ms']:.2f} ms",
                f"{row['p99_ms']:.2f} ms",
            ]
            for row in rows
        ],
    )
    print(f"p99 spread across the range: {100 * spread:.0f}% (target within ±25%)")
    emit(
        {
            "bench": "B9",
            "backend": args.backend,
            "sizes": [
                {**row, "p50_ms": round(row["p50_ms"], 3), "p99_ms": round(row["p99_ms"], 3)}
                for row in rows
            ],
            "p99_spread_pct": round(100 * spread, 1),
            "machine": machine(),
        }
    )


if __name__ == "__main__":
    main()
