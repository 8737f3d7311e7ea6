"""What every helper process of the queue tests shares: arguments, the start barrier, settings."""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
from typing import Any

from finagency.config import Settings, WorkerSettings
from finagency.core.logging import configure_logging

# Every process waits at the barrier until the test says go, so that processes which took
# different times to import start their work at the same moment (real contention).
GO_FILE = "go"
BARRIER_POLL_SECONDS = 0.01


def base_parser(description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--db", required=True, help="SQLAlchemy URL of the test database")
    parser.add_argument("--name", required=True, help="this process's name in the test")
    parser.add_argument("--barrier", type=Path, help="folder of the ready/go files")
    parser.add_argument("--out", type=Path, help="where to write this process's record (JSON)")
    return parser


def configure(level: str = "WARNING") -> None:
    """Warnings and errors only: the tests search the output for lock errors and tracebacks."""
    configure_logging(level)


async def pass_barrier(barrier: Path | None, name: str) -> None:
    """Say ready, then wait for the test's go (no barrier: go at once)."""
    if barrier is None:
        return
    (barrier / f"ready-{name}").touch()
    # The go signal comes from another process, so a file is polled (no asyncio.Event here).
    while not (barrier / GO_FILE).exists():  # noqa: ASYNC110
        await asyncio.sleep(BARRIER_POLL_SECONDS)


def write_record(out: Path | None, record: Any) -> None:
    if out is None:
        return
    partial = out.with_suffix(".partial")
    partial.write_text(json.dumps(record))
    partial.replace(out)  # the test never reads half a file


def settings_for(
    db_url: str,
    *,
    lease_seconds: float = 30.0,
    rescue_interval: float = 5.0,
    poll_interval: float = 0.5,
    concurrency: int = 8,
    batch_size: int = 10,
    redis_url: str | None = None,
    sandbox_failure_rate: float = 0.0,
) -> Settings:
    return Settings(
        database_url=db_url,
        redis_url=redis_url,
        secret_key="queue-process-test-secret",
        sandbox_failure_rate=sandbox_failure_rate,
        worker=WorkerSettings(
            lease_seconds=lease_seconds,
            rescue_interval=rescue_interval,
            poll_interval=poll_interval,
            concurrency=concurrency,
            batch_size=batch_size,
            shutdown_grace_seconds=5.0,
        ),
    )
