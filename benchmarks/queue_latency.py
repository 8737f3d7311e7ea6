"""B3: latency. Steady 200 jobs/s for ~20 s: enqueue→start p50/p99. Then 10,000 jobs due at
the same moment: time until all have started.

Topology ``inprocess`` is ``finagency serve``: the web process enqueues and its worker hears
of it through the in-process notifier. ``separate`` runs the worker in its own process: on
PostgreSQL it is woken by LISTEN/NOTIFY, on SQLite it finds jobs by polling.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks import _ours
from benchmarks._common import base_parser, emit, machine, percentile, print_table, scratch, stop
from finagency.core.db import transaction
from finagency.queue import Notifier, Worker, enqueue


def _read_log(path: Path) -> list[tuple[float, float]]:
    if not path.exists():
        return []
    pairs = []
    for line in path.read_text().splitlines():
        due, started = line.split()
        pairs.append((float(due), float(started)))
    return pairs


def _count_lines(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


async def _wait_lines(path: Path, count: int, seconds: float) -> None:
    """Wait until the task log holds ``count`` lines, or ``seconds`` have passed."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            while True:
                if await asyncio.to_thread(_count_lines, path) >= count:
                    return
                await asyncio.sleep(0.05)  # a file has no event to wait on


async def _steady(sessionmaker: Any, rate: float, seconds: float) -> int:
    """Enqueue one job per transaction at a fixed rate; each carries its enqueue time."""
    count = int(rate * seconds)
    started = time.monotonic()
    for index in range(count):
        delay = started + index / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        async with transaction(sessionmaker) as session:
            await enqueue(session, _ours.LATENCY, {"t": time.time()}, queue=_ours.QUEUE)
    return count


async def _burst(sessionmaker: Any, count: int) -> float:
    """Enqueue ``count`` jobs all due at one moment, far enough ahead to enqueue them all."""
    lead = max(8.0, count / 800)
    due = time.time() + lead
    run_at = datetime.fromtimestamp(due, tz=UTC)
    await _ours.enqueue_batches(
        sessionmaker, _ours.LATENCY, count, batch=500, make_args=lambda _: {"t": due}, run_at=run_at
    )
    if time.time() > due:
        print(f"warning: enqueueing the burst ran {time.time() - due:.1f} s past its due time")
    return due


async def _run(args: Any, url: str, workdir: Path) -> dict[str, Any]:
    options = _ours.WorkerOptions(
        concurrency=args.concurrency, batch_size=args.batch_size, poll_interval=args.poll
    )
    steady_log, burst_log = workdir / "steady.log", workdir / "burst.log"
    notifier = Notifier()
    engine, sessionmaker = _ours.open_db(url, notifier)
    results: dict[str, Any] = {}
    try:
        for phase, log in (("steady", steady_log), ("burst", burst_log)):
            worker: Worker | None = None
            worker_task: asyncio.Task[None] | None = None
            proc = None
            if args.topology == "inprocess":
                services = _ours.BenchServices(log_file=str(log))
                worker = Worker(
                    sessionmaker,
                    _ours.registry(),
                    options.config(),
                    services=services,
                    notifier=notifier,
                )
                worker_task = asyncio.create_task(worker.run())
            else:
                proc = _ours.spawn_worker(
                    url, workdir, options, log_file=log, name=f"worker-{phase}"
                )
                await asyncio.sleep(3.0)  # let it start and LISTEN before the clock runs
            try:
                if phase == "steady":
                    expected = await _steady(sessionmaker, args.rate, args.seconds)
                    await _wait_lines(log, expected, 30)
                    latencies = [started - due for due, started in _read_log(log)]
                    results["steady"] = {
                        "jobs": expected,
                        "started": len(latencies),
                        "p50_ms": 1000 * percentile(latencies, 50),
                        "p99_ms": 1000 * percentile(latencies, 99),
                        "max_ms": 1000 * max(latencies, default=float("nan")),
                    }
                else:
                    due = await _burst(sessionmaker, args.burst)
                    await _wait_lines(log, args.burst, max(90.0, due - time.time() + 90))
                    lateness = [started - due for _, started in _read_log(log)]
                    results["burst"] = {
                        "jobs": args.burst,
                        "started": len(lateness),
                        "all_started_s": max(lateness, default=float("nan")),
                        "p50_s": percentile(lateness, 50),
                        "p99_s": percentile(lateness, 99),
                    }
            finally:
                if worker is not None and worker_task is not None:
                    worker.stop()
                    await worker_task
                if proc is not None:
                    stop(proc)
    finally:
        await engine.dispose()
    return results


def main() -> None:
    parser = base_parser(__doc__ or "")
    parser.add_argument(
        "--topology",
        choices=("inprocess", "separate"),
        default=None,
        help="default: inprocess on SQLite, separate on PostgreSQL",
    )
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--burst", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--poll", type=float, default=0.5)
    args = parser.parse_args()
    if args.topology is None:
        args.topology = "inprocess" if args.backend == "sqlite" else "separate"
    with scratch(args.backend, args.postgres_url, "b3") as db:
        asyncio.run(_ours.prepare(db.url))
        results = asyncio.run(_run(args, db.url, db.workdir))
    steady, burst = results["steady"], results["burst"]
    print_table(
        f"B3 latency, backend {args.backend}, topology {args.topology}, poll {args.poll} s",
        ["phase", "jobs", "started", "p50", "p99", "worst / all started"],
        [
            [
                f"steady {args.rate:g}/s × {args.seconds:g} s",
                steady["jobs"],
                steady["started"],
                f"{steady['p50_ms']:.1f} ms",
                f"{steady['p99_ms']:.1f} ms",
                f"{steady['max_ms']:.1f} ms",
            ],
            [
                f"{args.burst:,} due at once",
                burst["jobs"],
                burst["started"],
                f"{burst['p50_s']:.2f} s",
                f"{burst['p99_s']:.2f} s",
                f"{burst['all_started_s']:.2f} s",
            ],
        ],
    )
    print("targets: p50 ≤ 10 ms, p99 ≤ 100 ms; all 10,000 started within 60 s")
    emit(
        {
            "bench": "B3",
            "backend": args.backend,
            "topology": args.topology,
            "p50_ms": round(steady["p50_ms"], 2),
            "p99_ms": round(steady["p99_ms"], 2),
            "steady": steady,
            "burst_all_started_s": round(burst["all_started_s"], 2),
            "burst": burst,
            "machine": machine(),
        }
    )


if __name__ == "__main__":
    main()
