"""PostgreSQL restarting mid-batch loses no committed work: a worker process keeps draining a
batch while the server restarts under it, reconnects, and every job completes exactly once."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from collections import Counter

import pytest
from queue_harness import (
    Sessions,
    Spawner,
    create_side_effect_table,
    enqueue_records,
    eventually,
    job_states,
    side_effects,
    worker_args,
)
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from finagency.models import JobState

POSTGRES_URL = os.environ.get("FINAGENCY_TEST_POSTGRES_URL")
JOBS = 300


def local_cluster() -> tuple[str, str] | None:
    """(version, name) of the local cluster serving the test URL, if this process may restart it."""
    if not POSTGRES_URL or shutil.which("pg_lsclusters") is None or os.geteuid() != 0:
        return None
    port = make_url(POSTGRES_URL).port or 5432
    listing = subprocess.run(
        ["pg_lsclusters", "--no-header"], capture_output=True, text=True, check=True
    ).stdout
    for line in listing.splitlines():
        version, name, cluster_port, status, *_ = line.split()
        if int(cluster_port) == port and status == "online":
            return version, name
    return None


def restart_postgres(cluster: tuple[str, str]) -> None:
    """A fast restart: the server terminates every connection, then comes back."""
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", *cluster, "restart"],
        check=True,
        capture_output=True,
        timeout=60,
    )


async def committed(readers: Sessions) -> int | None:
    try:
        return len(await side_effects(readers))
    except Exception:  # the server is restarting
        return None


# Only PostgreSQL: the test restarts the server (SQLite has none to restart).
@pytest.mark.postgres
@pytest.mark.parametrize(
    "database_url",
    [
        pytest.param(
            "postgres",
            marks=pytest.mark.skipif(not POSTGRES_URL, reason="needs FINAGENCY_TEST_POSTGRES_URL"),
        )
    ],
    indirect=True,
)
async def test_postgres_restart_mid_batch_loses_no_committed_work(
    database_url: str,
    engine: AsyncEngine,
    sessionmaker: Sessions,
    readers: Sessions,
    spawner: Spawner,
) -> None:
    cluster = local_cluster()
    if cluster is None:
        pytest.skip("needs a local PostgreSQL cluster that this test may restart (root)")
    await create_side_effect_table(engine)
    # Each job writes its side effect in its own transaction: committed exactly when the job is.
    job_ids = await enqueue_records(
        sessionmaker, JOBS, queue="batch", args={"sleep": 0.03}, write_every=1
    )
    worker = spawner.start(
        "worker.py",
        "worker",
        *worker_args(
            database_url,
            queues="batch",
            concurrency=4,
            lease=2,
            rescue=0.2,
            poll=0.1,
            exit_when_idle=True,
        ),
    )
    await spawner.wait_ready(worker)
    spawner.go()

    async def a_fifth_done() -> bool:
        return (await committed(readers) or 0) >= JOBS // 5

    await eventually(a_fifth_done, 30, "the worker to get going")
    await asyncio.to_thread(restart_postgres, cluster)
    after_restart = await eventually(lambda: committed(readers), 30, "PostgreSQL to answer")
    assert after_restart < JOBS, "the batch finished before the restart; nothing was tested"
    spawner.check_alive(worker)  # it rode out the outage in the same process

    record = await spawner.finish(worker, within=60)

    assert record["pid"] == worker.popen.pid
    effects = Counter(job_id for job_id, _ in await side_effects(readers))
    assert set(effects) == set(job_ids)
    assert set(effects.values()) == {1}, "a job's side effect was committed twice"
    assert await job_states(readers) == {JobState.COMPLETED.value: JOBS}
