"""Helpers for the queue's process tests: spawn helper processes, wait with deadlines, seed posts."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from finagency.analytics.service import Stats, compute_stats
from finagency.brands import service as brands
from finagency.core.db import transaction
from finagency.core.time import utcnow
from finagency.models import ContentItem, Job, JobState, Post, PostStatus
from finagency.publishing.service import schedule_post
from finagency.queue import enqueue

SUPPORT = Path(__file__).parent / "support"
Sessions = async_sessionmaker[AsyncSession]
T = TypeVar("T")

# What a healthy process never prints; any of these in a worker's output fails the test.
TROUBLE = ("database is locked", "Traceback", "claim_failed", "completion_failed")


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path
    out_path: Path
    group: str

    @property
    def returncode(self) -> int | None:
        return self.popen.poll()

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def record(self) -> Any:
        return json.loads(self.out_path.read_text())

    def terminate(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        if self.popen.poll() is None:
            self.popen.kill()
        self.popen.wait(timeout=10)


@dataclass
class Spawner:
    """Starts helper scripts as real processes and makes sure none outlives the test."""

    workdir: Path
    procs: list[Proc] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)

    def barrier(self, group: str = "main") -> Path:
        """The folder of one start barrier; processes of a group start together."""
        folder = self.workdir / f"barrier-{group}"
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def start(self, script: str, name: str, *args: str, group: str = "main") -> Proc:
        log_path = self.workdir / f"{name}.log"
        out_path = self.workdir / f"{name}.json"
        env = {key: value for key, value in os.environ.items() if not key.startswith("FINAGENCY_")}
        env["PYTHONUNBUFFERED"] = "1"
        with log_path.open("wb") as log:
            popen = subprocess.Popen(
                [
                    sys.executable,
                    str(SUPPORT / script),
                    "--name",
                    name,
                    "--barrier",
                    str(self.barrier(group)),
                    "--out",
                    str(out_path),
                    *args,
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.workdir,  # no stray .env file is read
                env=env,
            )
        proc = Proc(name, popen, log_path, out_path, group)
        self.procs.append(proc)
        return proc

    async def wait_ready(self, *procs: Proc, within: float = 30.0) -> None:
        """Wait until each process has started up and waits at its barrier."""

        async def all_ready() -> bool:
            self.check_alive(*procs)
            return all((self.barrier(proc.group) / f"ready-{proc.name}").exists() for proc in procs)

        await eventually(all_ready, within, "the helper processes to start")

    def go(self, group: str = "main") -> None:
        (self.barrier(group) / "go").touch()

    def check_alive(self, *procs: Proc) -> None:
        for proc in procs:
            if proc.returncode is not None:
                pytest.fail(
                    f"{proc.name} exited early with {proc.returncode}:\n{proc.output()[-4000:]}"
                )

    async def wait_exit(self, proc: Proc, within: float) -> int:
        deadline = time.monotonic() + within
        while (code := proc.returncode) is None:
            if time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"{proc.name} did not exit within {within} s:\n{proc.output()[-4000:]}")
            await asyncio.sleep(0.05)
        return code

    async def finish(self, proc: Proc, within: float) -> Any:
        """Wait for a clean exit and return what the process recorded."""
        code = await self.wait_exit(proc, within)
        assert code == 0, f"{proc.name} exited with {code}:\n{proc.output()[-4000:]}"
        return proc.record()

    def close(self) -> None:
        for proc in self.procs:
            proc.kill()


async def eventually(
    check: Callable[[], Awaitable[T | bool | None]], within: float, what: str
) -> T:
    """Poll ``check`` until it returns something truthy; fail with ``what`` at the deadline."""
    deadline = time.monotonic() + within
    while True:
        result = await check()
        if result:
            return result  # type: ignore[return-value]
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {within} s waiting for {what}")
        await asyncio.sleep(0.05)


def assert_no_trouble(*procs: Proc) -> None:
    for proc in procs:
        output = proc.output()
        found = [marker for marker in TROUBLE if marker in output]
        assert not found, f"{proc.name} printed {found}:\n{output[-4000:]}"


def free_port() -> int:
    """A port nobody listens on (bound and released at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- database reads --------------------------------------------------------------------


async def job_states(readers: Sessions, task: str | None = None) -> dict[str, int]:
    async with readers() as session:
        query = select(Job.state, func.count()).group_by(Job.state)
        if task is not None:
            query = query.where(Job.task == task)
        return {state: int(count) for state, count in (await session.execute(query)).all()}


async def stats(readers: Sessions) -> Stats:
    async with readers() as session:
        return await compute_stats(session, now=utcnow())


# support/worker.py's test.record task inserts a row here when its job says write=True.
SIDE_EFFECT_TABLE = "queue_test_side_effect"
RECORD_TASK = "test.record"


async def create_side_effect_table(engine: AsyncEngine) -> None:
    """A table outside the schema, emptied for this test (PostgreSQL's database is shared)."""
    async with engine.begin() as conn:
        await conn.execute(
            text(
                f"CREATE TABLE IF NOT EXISTS {SIDE_EFFECT_TABLE} "
                "(job_id BIGINT NOT NULL, pid INTEGER NOT NULL)"
            )
        )
        await conn.execute(text(f"DELETE FROM {SIDE_EFFECT_TABLE}"))  # noqa: S608


async def side_effects(readers: Sessions) -> list[tuple[int, int]]:
    """(job id, pid) of every committed side effect."""
    async with readers() as session:
        rows = await session.execute(text(f"SELECT job_id, pid FROM {SIDE_EFFECT_TABLE}"))  # noqa: S608
        return [(int(job_id), int(pid)) for job_id, pid in rows.all()]


async def enqueue_records(
    sessionmaker: Sessions,
    count: int,
    *,
    queue: str,
    args: dict[str, Any] | None = None,
    run_at: datetime | None = None,
    write_every: int = 0,
) -> list[int]:
    """``count`` jobs of support/worker.py's test.record task, committed together; with
    ``write_every=n`` every n-th job also writes its side-effect row."""
    ids: list[int | None] = []
    async with transaction(sessionmaker) as session:
        for number in range(count):
            job_args = dict(args or {})
            if write_every and number % write_every == 0:
                job_args["write"] = True
            ids.append(await enqueue(session, RECORD_TASK, job_args, queue=queue, run_at=run_at))
    return [job_id for job_id in ids if job_id is not None]


# -- seeding ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Seeded:
    brand_id: int
    account_id: int
    post_ids: list[int]
    job_ids: list[int]


async def seed_scheduled_posts(
    sessionmaker: Sessions,
    *,
    count: int,
    scheduled_at: datetime,
    platform: str = "sandbox:x",
    latest_at: datetime | None = None,
) -> Seeded:
    """A brand with one sandbox account and ``count`` approved posts put on the publish queue."""
    async with transaction(sessionmaker) as session:
        brand = await brands.create_brand(session, slug="queue-test", name="Queue Test")
        account = await brands.add_account(session, brand, platform=platform, handle="qtest")
        posts: list[Post] = []
        for number in range(count):
            body = f"Queue test post {number}: ten-year yield at 4.2%."
            item = ContentItem(brand_id=brand.id, kind="editorial", title=f"item {number}")
            session.add(item)
            await session.flush()
            post = Post(
                brand_id=brand.id,
                content_item_id=item.id,
                account_id=account.id,
                platform=platform,
                text=body,
                status=PostStatus.APPROVED,
                content_hash=hashlib.sha256(body.encode()).hexdigest(),
            )
            session.add(post)
            posts.append(post)
        await session.flush()
        job_ids = [
            await schedule_post(
                session, post, at=scheduled_at, actor="test:queue", latest_at=latest_at
            )
            for post in posts
        ]
    assert all(job_ids)
    return Seeded(brand.id, account.id, [post.id for post in posts], [j for j in job_ids if j])


async def make_due(sessionmaker: Sessions, states: Sequence[str] = ()) -> None:
    """Move every waiting job's run_at to now (the test's stand-in for waiting out backoffs)."""
    waiting = list(states) or [JobState.AVAILABLE.value, JobState.RETRYABLE.value]
    async with transaction(sessionmaker) as session:
        for job in (await session.execute(select(Job).where(Job.state.in_(waiting)))).scalars():
            job.run_at = utcnow() - timedelta(milliseconds=1)


def worker_args(database_url: str, **options: object) -> list[str]:
    """Command-line arguments for support/worker.py."""
    args = ["--db", database_url]
    for key, value in options.items():
        flag = "--" + key.replace("_", "-")
        if value is True:
            args.append(flag)
        elif value is not None and value is not False:
            args += [flag, str(value)]
    return args


def overlap(sets: Iterable[set[int]]) -> set[int]:
    """Items that appear in more than one of ``sets``."""
    seen: set[int] = set()
    twice: set[int] = set()
    for items in sets:
        twice |= seen & items
        seen |= items
    return twice
