"""Worker processes sharing one database: no job is handed out twice, SQLite's write lock never
surfaces as "database is locked", and a job scheduled far ahead runs once, on time."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from queue_harness import (
    Sessions,
    Spawner,
    assert_no_trouble,
    create_side_effect_table,
    enqueue_records,
    job_states,
    overlap,
    side_effects,
    worker_args,
)
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from finagency.core.time import utcnow
from finagency.models import Job, JobState

JOBS = 600
WORKERS = 3


async def test_worker_processes_never_run_a_job_twice(
    database_url: str,
    engine: AsyncEngine,
    sessionmaker: Sessions,
    readers: Sessions,
    spawner: Spawner,
) -> None:
    await create_side_effect_table(engine)
    # Most jobs are no-ops; every third also writes a row in its own transaction, so that
    # claims, batched completions and writing jobs all contend for SQLite's write lock.
    job_ids = await enqueue_records(sessionmaker, JOBS, queue="bulk", write_every=3)
    args = worker_args(
        database_url, queues="bulk", concurrency=8, batch=10, poll=0.05, exit_when_idle=True
    )
    workers = [spawner.start("worker.py", f"worker-{n}", *args) for n in range(WORKERS)]
    await spawner.wait_ready(*workers)
    spawner.go()  # all three start claiming at the same moment

    records = [await spawner.finish(worker, within=90) for worker in workers]

    assert_no_trouble(*workers)
    ran = [{entry["job"] for entry in record["ran"]} for record in records]
    assert set().union(*ran) == set(job_ids)
    assert overlap(ran) == set()  # no job was handed to two processes
    assert all(ran), f"every process got work: {[len(jobs) for jobs in ran]}"
    assert sum(len(record["ran"]) for record in records) == JOBS  # nor twice to one process
    effects = Counter(job_id for job_id, _ in await side_effects(readers))
    assert set(effects) == set(job_ids[::3])
    assert set(effects.values()) == {1}
    assert await job_states(readers) == {JobState.COMPLETED.value: JOBS}
    async with readers() as session:
        attempts = set((await session.execute(select(Job.attempt))).scalars())
    assert attempts == {1}


async def test_job_scheduled_beyond_the_lease_runs_once_on_time(
    database_url: str, sessionmaker: Sessions, readers: Sessions, spawner: Spawner
) -> None:
    # The job is due well after the lease (1 s) and the rescue interval (0.2 s) have passed
    # many times, and then runs longer than its lease: the Celery visibility-timeout bug class.
    run_at = utcnow() + timedelta(seconds=4)
    [job_id] = await enqueue_records(
        sessionmaker, 1, queue="later", args={"sleep": 1.5}, run_at=run_at
    )
    args = worker_args(
        database_url, queues="later", lease=1, rescue=0.2, poll=0.5, exit_when_idle=True
    )
    workers = [spawner.start("worker.py", f"worker-{n}", *args) for n in range(2)]
    await spawner.wait_ready(*workers)
    spawner.go()

    records = [await spawner.finish(worker, within=30) for worker in workers]

    assert_no_trouble(*workers)
    runs = [entry for record in records for entry in record["ran"]]
    assert [entry["job"] for entry in runs] == [job_id]
    lateness = runs[0]["started"] - run_at.timestamp()
    assert 0 <= lateness <= 1.5, f"started {lateness:.2f} s after its run_at"
    async with readers() as session:
        job = await session.get(Job, job_id)
    assert job is not None
    assert (job.state, job.attempt, job.rescues) == (JobState.COMPLETED, 1, 0)
