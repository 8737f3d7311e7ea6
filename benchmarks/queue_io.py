"""B2: I/O-bound throughput: each job POSTs JSON with httpx to a local fake platform (20 ms).

64-way concurrency in all (finagency: 1 process × 64 and 2 processes × 32); the ideal is
concurrency ÷ latency = 3,200 jobs/s. The fake platform shares the machine's cores with the
workers, so HTTP on both ends costs CPU; the peers run at their best I/O setting.
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from benchmarks import _ours
from benchmarks._common import base_parser, emit, machine, note, print_table, scratch, stop
from benchmarks._common import wait_for_count as wait_count
from benchmarks._fake_platform import running_platform
from benchmarks._jobs import async_post, sync_post
from benchmarks.peers import parse_names, run_peers
from benchmarks.peers._base import HTTP_CONCURRENCY, PeerContext


async def _enqueue(url: str, jobs: int) -> float:
    engine, sessionmaker = _ours.open_db(url)
    try:
        return await _ours.enqueue_batches(sessionmaker, _ours.POST, jobs, batch=500)
    finally:
        await engine.dispose()


async def _bare_async(platform_url: str, jobs: int) -> float:
    """The same POSTs with no queue: 64 asyncio tasks sharing one httpx.AsyncClient."""
    gate = asyncio.Semaphore(HTTP_CONCURRENCY)

    async def one(index: int) -> None:
        async with gate:
            await async_post(platform_url, index)

    started = time.perf_counter()
    await asyncio.gather(*(one(index) for index in range(jobs)))
    return jobs / (time.perf_counter() - started)


def _bare_threads(platform_url: str, jobs: int) -> float:
    """The same POSTs with no queue: 64 threads sharing one httpx.Client."""
    started = time.perf_counter()
    with ThreadPoolExecutor(HTTP_CONCURRENCY) as pool:
        list(pool.map(lambda index: sync_post(platform_url, index), range(jobs)))
    return jobs / (time.perf_counter() - started)


def main() -> None:
    parser = base_parser(__doc__ or "")
    parser.add_argument("--jobs", type=int, default=5_000)
    parser.add_argument("--delay-ms", type=float, default=20.0)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--peers", default="all", help="all, none, or a comma-separated list")
    parser.add_argument("--peer-timeout", type=float, default=40.0)
    parser.add_argument("--timeout", type=float, default=120.0)
    args = parser.parse_args()
    jobs = args.jobs
    ideal = HTTP_CONCURRENCY / (args.delay_ms / 1000)

    rows: list[list[Any]] = []
    ours: dict[str, float] = {}
    with (
        scratch(args.backend, args.postgres_url, "b2") as db,
        running_platform(db.workdir, args.delay_ms) as platform_url,
    ):
        asyncio.run(_ours.prepare(db.url))
        bare = {
            "no queue: 64 asyncio tasks, httpx.AsyncClient": asyncio.run(
                _bare_async(platform_url, jobs)
            ),
            "no queue: 64 threads, httpx.Client": _bare_threads(platform_url, jobs),
        }
        for setup, value in bare.items():
            rows.append(["(baseline)", setup, "", value, f"{100 * value / ideal:.0f}%", ""])
        for processes in (1, 2):
            concurrency = HTTP_CONCURRENCY // processes
            options = _ours.WorkerOptions(
                concurrency=concurrency, batch_size=min(args.batch_size, concurrency)
            )
            enqueue_seconds = asyncio.run(_enqueue(db.url, jobs))
            count_file = db.workdir / f"ours-{processes}.count"
            workers = _ours.spawn_workers(
                processes,
                db.url,
                db.workdir,
                options,
                count_file=count_file,
                platform_url=platform_url,
            )
            try:
                seconds, done = wait_count(count_file, jobs, args.timeout, workers)
            finally:
                for worker in workers:
                    stop(worker)
            setup = f"{processes} process(es) × {concurrency}"
            ours[setup] = done / seconds
            rows.append(
                [
                    f"finagency ({args.backend})",
                    setup,
                    jobs / enqueue_seconds,
                    done / seconds,
                    f"{100 * done / seconds / ideal:.0f}%",
                    f"{done}/{jobs} in {seconds:.1f} s",
                ]
            )
        ctx = PeerContext(
            workdir=db.workdir,
            postgres_url=args.postgres_url,
            platform_url=platform_url,
            timeout=args.peer_timeout,
        )
        results, skipped = run_peers("io", jobs, ctx, parse_names(args.peers))

    for result in results:
        rows.append(
            [
                result.name,
                result.setup,
                result.enqueue_per_s,
                result.drain_per_s,
                f"{100 * result.drain_per_s / ideal:.0f}%",
                f"{result.drained}/{result.jobs} in {result.drain_seconds:.1f} s"
                + (" (capped)" if result.partial else ""),
            ]
        )
    print_table(
        f"B2 I/O-bound throughput: {jobs:,} jobs × HTTP POST ({args.delay_ms:g} ms), "
        f"{HTTP_CONCURRENCY}-way, backend {args.backend}",
        ["system", "setup", "enqueue/s", "jobs/s", "of ideal", "drained"],
        rows,
    )
    best_setup = max(ours, key=lambda setup: ours[setup])
    rate = ours[best_setup]
    peers = {result.name: round(result.drain_per_s) for result in results}
    print(
        f"\nideal {ideal:,.0f}/s; finagency best: {rate:,.0f}/s ({best_setup}), "
        f"{100 * rate / ideal:.0f}% of ideal (target ≥ 80%)"
    )
    if peers:
        best = max(peers, key=lambda name: peers[name])
        print(f"vs best peer ({best}): {rate / peers[best]:.2f}× (target ≥ 2×)")
    for name, reason in skipped.items():
        note(f"skipped {name}: {reason}")
    emit(
        {
            "bench": "B2",
            "backend": args.backend,
            "jobs": jobs,
            "jobs_per_s": round(rate),
            "setup": best_setup,
            "by_setup": {setup: round(value) for setup, value in ours.items()},
            "pct_of_ideal": round(100 * rate / ideal, 1),
            "ideal_per_s": round(ideal),
            "no_queue_baselines": {setup: round(value) for setup, value in bare.items()},
            "peers": peers,
            "peers_capped": [result.name for result in results if result.partial],
            "skipped": skipped,
            "machine": machine(),
        }
    )


if __name__ == "__main__":
    main()
