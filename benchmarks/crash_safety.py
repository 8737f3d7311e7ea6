"""B4: crash safety. Publish jobs go to a local fake platform while a worker process is
SIGKILLed every 2 s and restarted; count lost posts, posts published twice, and the time from
a kill until each job it held is running again.

The task is a minimal publish task in this benchmark (``benchmarks._ours.publish``) that
follows the protocol of ``finagency.publishing.tasks.publish_post``: an intent row committed
through ``ctx.checkpoint()`` before the HTTP call, the result after; a run that finds an open
intent reads the platform back before it sends again. The task is ``reconcile_on_rescue``.
The fake platform does not deduplicate, so any second send is counted.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select, text

from benchmarks import _ours
from benchmarks._common import base_parser, emit, machine, print_table, scratch, stop
from benchmarks._fake_platform import running_platform
from finagency.core.db import transaction
from finagency.models import Job


@dataclass
class Kill:
    at: float
    pid: int
    held: list[int]


async def _held_by(sessionmaker: Any, pid: int) -> list[int]:
    async with sessionmaker() as session:
        rows = await session.execute(
            text("SELECT id FROM job WHERE state = 'running' AND lease_owner LIKE :owner"),
            {"owner": f"%:{pid}:%"},
        )
        return [int(job_id) for (job_id,) in rows]


async def _completed(sessionmaker: Any) -> int:
    async with sessionmaker() as session:
        value = await session.scalar(text("SELECT count(*) FROM job WHERE state = 'completed'"))
        return int(value or 0)


def _starts(path: Path) -> dict[int, list[float]]:
    starts: dict[int, list[float]] = defaultdict(list)
    if path.exists():
        for line in path.read_text().splitlines():
            job_id, at, _pid = line.split()
            starts[int(job_id)].append(float(at))
    return starts


async def _run(args: Any, url: str, workdir: Path, platform_url: str) -> dict[str, Any]:
    engine, sessionmaker = _ours.open_db(url)
    async with transaction(sessionmaker) as session:
        await session.execute(text(_ours.INTENT_TABLE))
    keys = [f"k{index}" for index in range(args.jobs)]
    await _ours.enqueue_batches(
        sessionmaker,
        _ours.PUBLISH,
        args.jobs,
        make_args=lambda index: {"key": keys[index]},
        unique=True,
    )
    options = _ours.WorkerOptions(
        concurrency=args.concurrency,
        batch_size=args.batch_size,
        lease_seconds=args.lease,
        poll_interval=0.2,
        rescue_interval=1.0,
    )
    log = workdir / "starts.log"

    def start(slot: int) -> subprocess.Popen[bytes]:
        return _ours.spawn_worker(
            url, workdir, options, log_file=log, platform_url=platform_url, name=f"w{slot}"
        )

    workers = [start(slot) for slot in range(args.workers)]
    kills: list[Kill] = []
    started = time.monotonic()
    next_kill = started + args.kill_every
    victim = 0
    done = 0
    try:
        while time.monotonic() - started < args.timeout:
            done = await _completed(sessionmaker)
            if done >= args.jobs:
                break
            if time.monotonic() >= next_kill and time.monotonic() - started < args.chaos_seconds:
                proc = workers[victim]
                os.kill(proc.pid, signal.SIGKILL)
                at = time.time()
                proc.wait()
                kills.append(Kill(at, proc.pid, await _held_by(sessionmaker, proc.pid)))
                workers[victim] = start(victim)
                if args.rotate:
                    victim = (victim + 1) % len(workers)
                next_kill += args.kill_every
            await asyncio.sleep(0.05)
        elapsed = time.monotonic() - started
    finally:
        for proc in workers:
            stop(proc)
    async with sessionmaker() as session:
        states = dict(
            (await session.execute(text("SELECT state, count(*) FROM job GROUP BY state"))).all()
        )
        open_intents = await session.scalar(
            text("SELECT count(*) FROM bench_intent WHERE outcome = 'sending'")
        )
        held = sorted({job_id for kill in kills for job_id in kill.held})
        # The rescuer sets run_at to the moment it takes a job back: for a job rescued once,
        # that is when it became claimable again.
        rescued_at = {
            job_id: run_at.timestamp()
            for job_id, run_at, rescues in (
                await session.execute(
                    select(Job.id, Job.run_at, Job.rescues).where(Job.id.in_(held))
                )
            )
            if rescues == 1
        }
    await engine.dispose()

    async with httpx.AsyncClient() as client:
        received: dict[str, int] = (await client.get(f"{platform_url}/stats")).json()["keys"]
    lost = sum(1 for key in keys if received.get(key, 0) == 0)
    duplicates = sum(count - 1 for count in received.values() if count > 1)

    starts = _starts(log)
    recoveries: list[float] = []
    rescues: list[float] = []
    unrecovered = 0
    for kill in kills:
        for job_id in kill.held:
            if job_id in rescued_at:
                rescues.append(rescued_at[job_id] - kill.at)
            later = [at for at in starts.get(job_id, []) if at > kill.at]
            if later:
                recoveries.append(min(later) - kill.at)
            else:
                unrecovered += 1
    return {
        "jobs": args.jobs,
        "completed": done,
        "seconds": elapsed,
        "kills": len(kills),
        "jobs_held_at_kill": sum(len(kill.held) for kill in kills),
        "lost": lost,
        "duplicates": duplicates,
        "recoveries": recoveries,
        "rescues": rescues,
        "unrecovered": unrecovered,
        "states": {str(state): int(count) for state, count in states.items()},
        "open_intents": int(open_intents or 0),
    }


def main() -> None:
    parser = base_parser(__doc__ or "")
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument(
        "--workers", type=int, default=2, help="worker processes (one is killed at a time)"
    )
    parser.add_argument(
        "--rotate",
        action="store_true",
        help="kill each worker in turn (default: worker 0 is killed every time, the others live)",
    )
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lease", type=float, default=5.0)
    parser.add_argument("--kill-every", type=float, default=2.0)
    parser.add_argument("--delay-ms", type=float, default=20.0)
    parser.add_argument(
        "--chaos-seconds", type=float, default=120.0, help="stop killing after this"
    )
    parser.add_argument("--timeout", type=float, default=170.0)
    args = parser.parse_args()
    with (
        scratch(args.backend, args.postgres_url, "b4") as db,
        running_platform(db.workdir, args.delay_ms) as platform_url,
    ):
        asyncio.run(_ours.prepare(db.url))
        result = asyncio.run(_run(args, db.url, db.workdir, platform_url))
    recoveries = result.pop("recoveries")
    max_recovery = max(recoveries, default=0.0)
    rescues = result.pop("rescues")
    max_rescue = max(rescues, default=0.0)
    bound = args.lease + 5
    print_table(
        f"B4 crash safety, backend {args.backend}: {args.jobs:,} publish jobs, "
        f"SIGKILL every {args.kill_every:g} s "
        f"({'each worker in turn' if args.rotate else 'worker 0 of ' + str(args.workers)}), "
        f"lease {args.lease:g} s",
        [
            "jobs",
            "completed",
            "seconds",
            "kills",
            "held at kill",
            "lost",
            "published twice",
            "max claimable again",
            "max running again",
            "unrecovered",
        ],
        [
            [
                result["jobs"],
                result["completed"],
                result["seconds"],
                result["kills"],
                result["jobs_held_at_kill"],
                result["lost"],
                result["duplicates"],
                f"{max_rescue:.2f} s",
                f"{max_recovery:.2f} s",
                result["unrecovered"],
            ]
        ],
    )
    print(f"job states at the end: {result['states']}; open intents: {result['open_intents']}")
    print(
        f"targets: 0 lost, 0 published twice, every killed job running again ≤ {bound:g} s "
        f"(lease + 5 s)"
    )
    emit(
        {
            "bench": "B4",
            "backend": args.backend,
            "lost": result["lost"],
            "duplicates": result["duplicates"],
            "max_recovery_s": round(max_recovery, 2),
            "p50_recovery_s": round(sorted(recoveries)[len(recoveries) // 2], 2)
            if recoveries
            else None,
            "max_claimable_again_s": round(max_rescue, 2),
            "lease_s": args.lease,
            "victims": "rotate" if args.rotate else "worker 0",
            **{key: value for key, value in result.items() if key not in ("lost", "duplicates")},
            "machine": machine(),
        }
    )


if __name__ == "__main__":
    main()
