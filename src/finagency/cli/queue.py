"""`finagency queue`: look at the queue and act on it (status, list, show, retry, discard, pause, drain)."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from finagency.config import Settings
from finagency.core.db import transaction
from finagency.core.time import utcnow
from finagency.models import CircuitBreaker, Job, JobState
from finagency.queue import Notifier, admin
from finagency.runtime import build_registry, build_worker, open_services

queue_app = typer.Typer(
    help="The job queue: status, jobs, dead letters, pauses, drains.", no_args_is_help=True
)
out = Console()
err = Console(stderr=True)

StateOption = Annotated[
    list[str] | None, typer.Option("--state", help="Only jobs in this state (repeatable).")
]


@queue_app.command("status")
def status(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Depth by state for every queue, paused queues, breakers, and the oldest due job's age."""
    settings = Settings()

    async def main() -> dict[str, object]:
        async with open_services(settings) as services, services.read_sessionmaker() as session:
            summaries = await admin.queue_summaries(session, build_registry(settings).queues())
            now = utcnow()
            oldest = await session.scalar(
                select(func.min(Job.run_at)).where(
                    Job.state.in_([JobState.AVAILABLE.value, JobState.RETRYABLE.value]),
                    Job.run_at <= now,
                )
            )
            breakers = list((await session.execute(select(CircuitBreaker))).scalars())
            return {
                "queues": [
                    {"queue": s.queue, "paused": s.paused, "counts": s.counts} for s in summaries
                ],
                "oldest_due_age_s": round((now - oldest).total_seconds(), 1) if oldest else 0.0,
                "breakers": {b.key: b.state for b in breakers if b.state != "closed"},
            }

    report = asyncio.run(main())
    if as_json:
        out.print_json(json.dumps(report))
        return
    table = Table("queue", "paused", *[state.value for state in JobState], title="queues")
    for row in report["queues"]:  # type: ignore[attr-defined]
        counts = row["counts"]
        table.add_row(
            row["queue"],
            "yes" if row["paused"] else "",
            *[str(counts.get(s.value, 0)) for s in JobState],
        )
    out.print(table)
    out.print(f"oldest due job waiting: {report['oldest_due_age_s']} s")
    if report["breakers"]:
        out.print(f"[yellow]breakers not closed:[/yellow] {report['breakers']}")


@queue_app.command("list")
def list_jobs(
    state: StateOption = None,
    queue: Annotated[str | None, typer.Option(help="Only this queue.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
) -> None:
    """Recent jobs, newest first."""
    settings = Settings()

    async def main() -> tuple[list[Job], int]:
        async with open_services(settings) as services, services.read_sessionmaker() as session:
            return await admin.list_jobs(session, states=state or (), queue=queue, limit=limit)

    jobs, total = asyncio.run(main())
    table = Table(
        "id",
        "queue",
        "task",
        "state",
        "attempt",
        "run at",
        "last error",
        title=f"{len(jobs)} of {total} jobs",
    )
    for job in jobs:
        table.add_row(
            str(job.id),
            job.queue,
            job.task,
            job.state,
            f"{job.attempt}/{job.max_attempts}",
            job.run_at.strftime("%Y-%m-%d %H:%M:%S"),
            (job.dlq_reason or job.last_error or "")[:60],
        )
    out.print(table)


@queue_app.command("show")
def show(job_id: int) -> None:
    """One job in full: arguments, attempts and its error history."""
    settings = Settings()

    async def main() -> Job:
        async with open_services(settings) as services, services.read_sessionmaker() as session:
            return await admin.get_job(session, job_id)

    job = asyncio.run(main())
    fields = {
        "id": job.id,
        "queue": job.queue,
        "task": job.task,
        "state": job.state,
        "args": job.args,
        "priority": job.priority,
        "attempt": job.attempt,
        "max_attempts": job.max_attempts,
        "run_at": job.run_at.isoformat(),
        "unique_key": job.unique_key,
        "rescues": job.rescues,
        "dlq_reason": job.dlq_reason,
        "last_error": job.last_error,
        "errors": job.errors,
    }
    out.print_json(json.dumps(fields, default=str))


def _act(action: str, ids: list[int], state: list[str] | None) -> int:
    settings = Settings()

    async def main() -> int:
        async with (
            open_services(settings) as services,
            transaction(services.sessionmaker) as session,
        ):
            targets = list(ids)
            if state:
                jobs, _ = await admin.list_jobs(session, states=state, limit=100_000)
                targets += [job.id for job in jobs]
            if not targets:
                return 0
            now = utcnow()
            if action == "retry":
                return await admin.retry_jobs(session, targets, now=now)
            if action == "cancel":
                return await admin.cancel_jobs(session, targets, now=now)
            return await admin.discard_jobs(session, targets, now=now)

    return asyncio.run(main())


@queue_app.command("retry")
def retry(
    job_ids: Annotated[list[int] | None, typer.Argument(help="Job ids.")] = None,
    state: StateOption = None,
) -> None:
    """Run jobs again now with fresh attempts: by id, or every job in a state (e.g. --state discarded)."""
    count = _act("retry", job_ids or [], state)
    out.print(f"{count} job(s) put back to run now")


@queue_app.command("discard")
def discard(
    job_ids: Annotated[list[int] | None, typer.Argument(help="Job ids.")] = None,
    state: StateOption = None,
) -> None:
    """Send waiting jobs to the dead-letter queue (by id or by state)."""
    count = _act("discard", job_ids or [], state)
    out.print(f"{count} job(s) discarded")


@queue_app.command("edit")
def edit(
    job_id: int, args: Annotated[str, typer.Option(help="New arguments as a JSON object.")]
) -> None:
    """Replace a dead-lettered job's arguments and run it again."""
    settings = Settings()
    try:
        new_args = json.loads(args)
    except json.JSONDecodeError as error:
        raise typer.BadParameter(f"--args is not JSON: {error}") from None
    if not isinstance(new_args, dict):
        raise typer.BadParameter("--args must be a JSON object")

    async def main() -> None:
        async with (
            open_services(settings) as services,
            transaction(services.sessionmaker) as session,
        ):
            await admin.edit_and_retry(session, job_id, new_args, now=utcnow())

    asyncio.run(main())
    out.print(f"job {job_id} will run again with the new arguments")


def _pause(target: str, paused: bool, reason: str) -> None:
    settings = Settings()

    async def main() -> None:
        async with (
            open_services(settings) as services,
            transaction(services.sessionmaker) as session,
        ):
            await admin.set_pause(session, target, paused=paused, reason=reason, now=utcnow())

    asyncio.run(main())


@queue_app.command("pause")
def pause(
    queue: Annotated[str | None, typer.Option(help="Pause a whole queue.")] = None,
    account: Annotated[int | None, typer.Option(help="Pause one platform account's jobs.")] = None,
    reason: Annotated[str, typer.Option(help="Shown on the dashboard.")] = "paused from the CLI",
) -> None:
    """Stop claiming jobs of a queue or an account (running jobs finish)."""
    target = _target(queue, account)
    _pause(target, True, reason)
    out.print(f"{target} paused")


@queue_app.command("resume")
def resume(
    queue: Annotated[str | None, typer.Option()] = None,
    account: Annotated[int | None, typer.Option()] = None,
) -> None:
    """Claim jobs of a paused queue or account again."""
    target = _target(queue, account)
    _pause(target, False, "")
    out.print(f"{target} resumed")


def _target(queue: str | None, account: int | None) -> str:
    if (queue is None) == (account is None):
        raise typer.BadParameter("give exactly one of --queue or --account")
    return f"queue:{queue}" if queue is not None else f"account:{account}"


@queue_app.command("drain")
def drain(
    concurrency: Annotated[
        int, typer.Option(min=1, max=1024, help="Jobs run at once while draining.")
    ] = 32,
    queues: Annotated[
        str | None, typer.Option(help="Comma-separated queues (default: all).")
    ] = None,
) -> None:
    """Emergency processing: work the due backlog with extra concurrency, with a progress bar, then stop."""
    settings = Settings()
    chosen = queues.split(",") if queues else None

    async def due(read_sessionmaker: async_sessionmaker[AsyncSession]) -> int:
        async with read_sessionmaker() as session:
            query = (
                select(func.count())
                .select_from(Job)
                .where(
                    Job.state.in_(
                        [
                            JobState.AVAILABLE.value,
                            JobState.RETRYABLE.value,
                            JobState.RECONCILE.value,
                            JobState.RUNNING.value,
                        ]
                    ),
                    Job.run_at <= utcnow(),
                )
            )
            if chosen:
                query = query.where(Job.queue.in_(chosen))
            return int(await session.scalar(query) or 0)

    async def main() -> int:
        notifier = Notifier()
        async with open_services(settings, notifier) as opened:
            worker = build_worker(
                opened, build_registry(settings), notifier, queues=chosen, concurrency=concurrency
            )
            start = await due(opened.read_sessionmaker)
            runner = asyncio.create_task(worker.run())
            columns = (
                TextColumn("draining"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
            )
            with Progress(*columns, console=err) as progress:
                bar = progress.add_task("backlog", total=max(start, 1))
                while True:
                    left = await due(opened.read_sessionmaker)
                    progress.update(bar, completed=max(start - left, 0), total=max(start, left, 1))
                    if left == 0:
                        break
                    await asyncio.sleep(0.5)
            worker.stop()
            await runner
            return start

    drained = asyncio.run(main())
    out.print(f"drained {drained} due job(s); only future jobs remain")
