"""The measuring loop every peer shares: enqueue, start the workers, count bytes, stop them."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks._common import spawn, stop, wait_for_count

# Read by the peers' task modules, which their worker processes import.
COUNT_FILE_ENV = "BENCH_COUNT_FILE"
PLATFORM_ENV = "BENCH_PLATFORM_URL"
DSN_ENV = "BENCH_DSN"
QUEUE_ENV = "BENCH_QUEUE"
HTTP_CONCURRENCY = 64


@dataclass(frozen=True, slots=True)
class PeerContext:
    workdir: Path
    postgres_url: str
    platform_url: str = ""
    timeout: float = 60.0  # cap on one drain; a slower peer is reported from what it did


@dataclass(frozen=True, slots=True)
class PeerResult:
    name: str
    setup: str
    jobs: int
    enqueue_per_s: float
    drain_per_s: float
    drained: int
    drain_seconds: float

    @property
    def partial(self) -> bool:
        return self.drained < self.jobs


def missing(*modules: str) -> str | None:
    """The first module that is not installed, or None."""
    for module in modules:
        if importlib.util.find_spec(module) is None:
            return module
    return None


def measure(
    *,
    name: str,
    setup: str,
    jobs: int,
    ctx: PeerContext,
    enqueue: Callable[[], None],
    workers: Sequence[Sequence[str]],
    env: dict[str, str],
) -> PeerResult:
    """Time ``enqueue``, then start ``workers`` and time until ``jobs`` bytes are counted.

    Worker start-up is inside the drain time, as it is for finagency.
    """
    count_file = Path(env[COUNT_FILE_ENV])
    count_file.unlink(missing_ok=True)
    os.environ.update(env)
    started = time.perf_counter()
    enqueue()
    enqueue_seconds = time.perf_counter() - started
    procs: list[subprocess.Popen[bytes]] = [
        spawn(args, ctx.workdir / f"{name}-{index}.log", env) for index, args in enumerate(workers)
    ]
    try:
        seconds, done = wait_for_count(count_file, jobs, ctx.timeout, procs)
    finally:
        for proc in procs:
            stop(proc)
    return PeerResult(
        name=name,
        setup=setup,
        jobs=jobs,
        enqueue_per_s=jobs / enqueue_seconds,
        drain_per_s=done / seconds if seconds else 0.0,
        drained=done,
        drain_seconds=seconds,
    )
