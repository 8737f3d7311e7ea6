"""A real worker process for the queue tests: the production worker with two test tasks, and
optionally a SIGKILL at one step of the publish protocol.

    python worker.py --db URL --name A --queues publish --lease 2 --rescue 0.2 \
        [--crash-at STEP] [--exit-when-idle] [--barrier DIR] [--out FILE]

Crash steps (each kills the process with SIGKILL, as the OOM killer or a power cut would):
  after_claim           the claim committed; the task has not started
  before_intent_commit  the publish_attempt intent is written but its transaction is open
  after_intent_commit   the intent committed; the platform has not been called
  after_platform_stored the sandbox platform stored the post; our result is not written
  before_result_commit  the result is written in the job's transaction, not committed
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from datetime import datetime
from typing import Any, NoReturn

import structlog
from proc_common import base_parser, configure, pass_barrier, settings_for, write_record
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from finagency.core.services import Services
from finagency.integrations.platforms.sandbox.client import SandboxClient
from finagency.models import LIVE_STATES, Job
from finagency.publishing.sandbox_store import DatabaseSandboxStore
from finagency.publishing.service import PUBLISH_TASK
from finagency.queue import JobContext, JobInfo, Notifier, Task, Worker, queries
from finagency.runtime import build_registry, build_worker, open_services

log = structlog.get_logger("queue-test-worker")

# The tests create this table to count side effects committed with the job's completion.
SIDE_EFFECT_TABLE = "queue_test_side_effect"
CRASH_STEPS = (
    "after_claim",
    "before_intent_commit",
    "after_intent_commit",
    "after_platform_stored",
    "before_result_commit",
)
RECORDS: list[dict[str, Any]] = []


def die(step: str) -> NoReturn:
    print(f"crashing at {step}", file=sys.stderr, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
    raise AssertionError("SIGKILL did not stop the process")


def install_crash(step: str) -> None:
    """Patch the one seam where ``step`` happens; production code carries no test hooks."""
    if step == "after_claim":
        execute = Worker._execute

        async def execute_then_die(self: Worker, info: JobInfo, token: str) -> None:
            if info.task == PUBLISH_TASK:
                die(step)
            await execute(self, info, token)

        Worker._execute = execute_then_die  # type: ignore[method-assign]
    elif step == "before_intent_commit":

        async def flush_then_die(self: JobContext) -> None:
            await self.session.flush()  # the intent reaches the database, uncommitted
            die(step)

        JobContext.checkpoint = flush_then_die  # type: ignore[method-assign]
    elif step == "after_intent_commit":

        async def die_before_sending(self: SandboxClient, *args: Any, **kwargs: Any) -> Any:
            die(step)

        SandboxClient.create_post = die_before_sending  # type: ignore[method-assign]
    elif step == "after_platform_stored":
        insert = DatabaseSandboxStore.insert

        async def store_then_die(self: DatabaseSandboxStore, *args: Any, **kwargs: Any) -> Any:
            await insert(self, *args, **kwargs)
            die(step)

        DatabaseSandboxStore.insert = store_then_die  # type: ignore[method-assign]
    elif step == "before_result_commit":

        async def flush_then_die_on_complete(
            session: AsyncSession, job_id: int, token: str, now: datetime
        ) -> bool:
            await session.flush()  # post published and attempt confirmed, uncommitted
            die(step)

        queries.complete_job = flush_then_die_on_complete
    else:
        raise SystemExit(f"unknown crash step {step!r}")


async def record(ctx: JobContext) -> None:
    """Note that this process ran the job, take the time asked for, and with ``write`` also
    insert a row in the job's own transaction (it exists exactly when the job completed)."""
    RECORDS.append(
        {"job": ctx.job.id, "attempt": ctx.job.attempt, "pid": os.getpid(), "started": time.time()}
    )
    await asyncio.sleep(float(ctx.args.get("sleep", 0)))
    if ctx.args.get("write"):
        await ctx.session.execute(
            text(f"INSERT INTO {SIDE_EFFECT_TABLE} (job_id, pid) VALUES (:job_id, :pid)"),  # noqa: S608
            {"job_id": ctx.job.id, "pid": os.getpid()},
        )


TEST_TASKS = (Task("test.record", record),)


async def stop_when_idle(services: Services, worker: Worker, queues: list[str]) -> None:
    """Stop the worker once its queues hold no live job (it keeps going while any is due)."""
    live = [state.value for state in LIVE_STATES]
    while True:
        await asyncio.sleep(0.1)
        try:
            async with services.read_sessionmaker() as session:
                count = await session.scalar(
                    select(func.count())
                    .select_from(Job)
                    .where(Job.queue.in_(queues), Job.state.in_(live))
                )
        except Exception as error:  # the database may be restarting: ask again
            log.warning("idle_check_failed", error=type(error).__name__)
            continue
        if count == 0:
            worker.stop()
            return


async def main() -> int:
    parser = base_parser(__doc__ or "")
    parser.add_argument("--queues", default="default")
    parser.add_argument("--lease", type=float, default=30.0)
    parser.add_argument("--rescue", type=float, default=5.0)
    parser.add_argument("--poll", type=float, default=0.5)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--batch", type=int, default=10)
    parser.add_argument("--crash-at", choices=CRASH_STEPS)
    parser.add_argument("--exit-when-idle", action="store_true")
    args = parser.parse_args()
    configure()
    if args.crash_at:
        install_crash(args.crash_at)
    queues = args.queues.split(",")
    settings = settings_for(
        args.db,
        lease_seconds=args.lease,
        rescue_interval=args.rescue,
        poll_interval=args.poll,
        concurrency=args.concurrency,
        batch_size=args.batch,
    )
    notifier = Notifier()
    async with open_services(settings, notifier) as services:
        registry = build_registry(settings)
        for task in TEST_TASKS:
            registry.add(task)
        worker = build_worker(services, registry, notifier, queues=queues)
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, worker.stop)
        await pass_barrier(args.barrier, args.name)
        watcher = (
            asyncio.create_task(stop_when_idle(services, worker, queues))
            if args.exit_when_idle
            else None
        )
        await worker.run()
        if watcher is not None:
            watcher.cancel()
    write_record(args.out, {"pid": os.getpid(), "ran": RECORDS, "processed": worker.processed})
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
