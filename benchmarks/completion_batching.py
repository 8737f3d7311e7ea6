"""Probe: what batching completions would buy. Not a target of its own; it backs a proposal.

Claims jobs with the worker's claim query, then completes them two ways and times only the
completions: (a) as the worker does today, one session and one commit per job (``N``
concurrent, like a worker's slots), (b) one fenced executemany UPDATE and one commit per batch.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text

from benchmarks import _ours
from benchmarks._common import base_parser, emit, machine, print_table, scratch
from finagency.core.db import transaction
from finagency.queue import queries
from finagency.queue.backends import claim_jobs

_FENCED_COMPLETE = text(
    "UPDATE job SET state = 'completed', finalized_at = :now, lease_owner = NULL,"
    " lease_token = NULL, lease_expires_at = NULL"
    " WHERE id = :id AND lease_token = :token AND state = 'running'"
)


# PostgreSQL: one statement for the whole batch (River's BatchCompleter shape).
_FENCED_COMPLETE_UNNEST = text(
    "UPDATE job SET state = 'completed', finalized_at = :now, lease_owner = NULL,"
    " lease_token = NULL, lease_expires_at = NULL"
    " FROM unnest(CAST(:ids AS bigint[]), CAST(:tokens AS varchar[])) AS done(id, token)"
    " WHERE job.id = done.id AND job.lease_token = done.token AND job.state = 'running'"
)


async def _claim_all(sessionmaker: Any, count: int, batch: int) -> list[tuple[int, str]]:
    claimed: list[tuple[int, str]] = []
    while len(claimed) < count:
        now = datetime.now(UTC)
        async with transaction(sessionmaker) as session:
            jobs = await claim_jobs(
                session,
                queues=[_ours.QUEUE],
                limit=batch,
                owner="probe",
                lease_until=now + timedelta(minutes=10),
                now=now,
            )
            claimed += [(job.id, job.lease_token or "") for job in jobs]
        if not jobs:
            break
    return claimed


async def _per_job(sessionmaker: Any, claimed: list[tuple[int, str]], slots: int) -> float:
    gate = asyncio.Semaphore(slots)

    async def complete(job_id: int, token: str) -> None:
        async with gate, sessionmaker() as session:
            assert await queries.complete_job(session, job_id, token, datetime.now(UTC))
            await session.commit()

    started = time.perf_counter()
    await asyncio.gather(*(complete(job_id, token) for job_id, token in claimed))
    return time.perf_counter() - started


async def _batched(sessionmaker: Any, claimed: list[tuple[int, str]], batch: int) -> float:
    started = time.perf_counter()
    for first in range(0, len(claimed), batch):
        now = datetime.now(UTC)
        async with transaction(sessionmaker) as session:
            chunk = claimed[first : first + batch]
            if session.get_bind().dialect.name == "postgresql":
                await session.execute(
                    _FENCED_COMPLETE_UNNEST,
                    {
                        "now": now,
                        "ids": [job_id for job_id, _ in chunk],
                        "tokens": [token for _, token in chunk],
                    },
                )
                continue
            await session.execute(
                _FENCED_COMPLETE,
                [
                    {"now": now.strftime("%Y-%m-%d %H:%M:%S.%f"), "id": job_id, "token": token}
                    for job_id, token in chunk
                ],
            )
    return time.perf_counter() - started


async def _run(url: str, jobs: int, batch: int, slots: int) -> dict[str, float]:
    engine, sessionmaker = _ours.open_db(url)
    try:
        await _ours.bulk_insert_jobs(
            sessionmaker, 2 * jobs, run_at=datetime.now(UTC) - timedelta(seconds=1)
        )
        first = await _claim_all(sessionmaker, jobs, batch)
        per_job = await _per_job(sessionmaker, first, slots)
        second = await _claim_all(sessionmaker, jobs, batch)
        batched = await _batched(sessionmaker, second, batch)
        async with sessionmaker() as session:
            done = await session.scalar(text("SELECT count(*) FROM job WHERE state='completed'"))
        assert done == len(first) + len(second), done
        return {"per_job_per_s": len(first) / per_job, "batched_per_s": len(second) / batched}
    finally:
        await engine.dispose()


def main() -> None:
    parser = base_parser(__doc__ or "")
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--slots", type=int, default=100, help="concurrent per-job completions")
    args = parser.parse_args()
    with scratch(args.backend, args.postgres_url, "probe") as db:
        asyncio.run(_ours.prepare(db.url))
        rates = asyncio.run(_run(db.url, args.jobs, args.batch_size, args.slots))
    print_table(
        f"Completion batching probe, {args.jobs:,} jobs, backend {args.backend}",
        ["completion", "completions/s"],
        [
            [f"one commit per job ({args.slots} concurrent), as today", rates["per_job_per_s"]],
            [
                f"one fenced UPDATE + commit per {args.batch_size} "
                "(PostgreSQL: unnest; SQLite: executemany)",
                rates["batched_per_s"],
            ],
        ],
    )
    print(f"batched / per job: {rates['batched_per_s'] / rates['per_job_per_s']:.1f}×")
    emit(
        {
            "bench": "completion_batching",
            "backend": args.backend,
            **{key: round(value) for key, value in rates.items()},
            "machine": machine(),
        }
    )


if __name__ == "__main__":
    main()
