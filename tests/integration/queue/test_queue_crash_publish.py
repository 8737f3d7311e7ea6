"""A worker process SIGKILLed at each step of the publish protocol: another worker takes the job
over after the lease, and the post goes out exactly once, with nothing left stuck."""

from __future__ import annotations

import asyncio
import signal
import time
from dataclasses import dataclass
from datetime import timedelta

import pytest
from queue_harness import (
    Proc,
    Sessions,
    Spawner,
    assert_no_trouble,
    job_states,
    seed_scheduled_posts,
    stats,
    worker_args,
)
from sqlalchemy import select

from finagency.core.time import utcnow
from finagency.models import Job, JobState, Post, PostStatus, PublishAttempt, SandboxPost
from finagency.publishing.service import PUBLISH_TASK


@dataclass(frozen=True, slots=True)
class Durable:
    """What the database holds for the post once the dying worker is gone."""

    post_status: str
    attempts: list[str]
    sandbox_posts: int


# What each crash leaves behind: the protocol commits the intent before the platform call,
# so from the intent on, the next worker reconciles (reads back, or resends under the same
# idempotency key) instead of sending blindly.
LEFT_BEHIND = {
    "after_claim": Durable(PostStatus.SCHEDULED, [], 0),
    "before_intent_commit": Durable(PostStatus.SCHEDULED, [], 0),
    "after_intent_commit": Durable(PostStatus.PUBLISHING, ["sending"], 0),
    "after_platform_stored": Durable(PostStatus.PUBLISHING, ["sending"], 1),
    "before_result_commit": Durable(PostStatus.PUBLISHING, ["sending"], 1),
}


async def durable_state(readers: Sessions, post_id: int) -> Durable:
    async with readers() as session:
        post = await session.get(Post, post_id)
        assert post is not None
        attempts = (
            await session.execute(
                select(PublishAttempt.outcome)
                .where(PublishAttempt.post_id == post_id)
                .order_by(PublishAttempt.attempt_no)
            )
        ).scalars()
        sandbox = (
            await session.execute(
                select(SandboxPost).where(SandboxPost.account_id == post.account_id)
            )
        ).scalars()
        return Durable(post.status, list(attempts), len(list(sandbox)))


async def wait_for_clean_takeover(successor: Proc, readers: Sessions, within: float) -> None:
    """Wait for the successor to finish; a failed run of the publish job fails the test at once
    (a takeover must not need retries)."""
    deadline = time.monotonic() + within
    while (code := successor.returncode) is None:
        async with readers() as session:
            job = (await session.execute(select(Job).where(Job.task == PUBLISH_TASK))).scalar_one()
        if job.errors:
            pytest.fail(f"the publish job failed after the takeover: {job.errors[-1]['error']}")
        if time.monotonic() > deadline:
            pytest.fail(
                f"the successor did not finish in {within} s:\n{successor.output()[-3000:]}"
            )
        await asyncio.sleep(0.1)
    assert code == 0, successor.output()[-3000:]


@pytest.mark.parametrize("step", list(LEFT_BEHIND))
async def test_sigkill_at_each_publish_step_publishes_exactly_once(
    step: str,
    database_url: str,
    sessionmaker: Sessions,
    readers: Sessions,
    spawner: Spawner,
) -> None:
    now = utcnow()
    # Scheduled three hours ago (a backlog after an outage): the dashboard counts the post as
    # stuck until it is out, so "stuck == 0" below means something.
    seeded = await seed_scheduled_posts(
        sessionmaker,
        count=1,
        scheduled_at=now - timedelta(hours=3),
        latest_at=now + timedelta(hours=1),
    )
    [post_id] = seeded.post_ids
    common = worker_args(database_url, queues="publish", lease=1, poll=0.1, exit_when_idle=True)
    # The doomed worker never gets to lead the rescuer (rescue interval 60 s), so the takeover
    # waits for its job lease (1 s), not also for a dead leader's lease.
    doomed = spawner.start(
        "worker.py", "doomed", *common, "--rescue", "60", "--crash-at", step, group="doomed"
    )
    successor = spawner.start("worker.py", "successor", *common, "--rescue", "0.2", group="next")
    await spawner.wait_ready(doomed, successor)

    spawner.go("doomed")
    assert await spawner.wait_exit(doomed, 30) == -signal.SIGKILL, doomed.output()[-3000:]
    assert f"crashing at {step}" in doomed.output()
    assert await durable_state(readers, post_id) == LEFT_BEHIND[step]
    assert await job_states(readers) == {JobState.RUNNING.value: 1}
    assert (await stats(readers)).stuck == 1

    spawner.go("next")
    await wait_for_clean_takeover(successor, readers, within=30)

    assert_no_trouble(successor)
    async with readers() as session:
        post = await session.get(Post, post_id)
        [stored] = (
            await session.execute(
                select(SandboxPost).where(SandboxPost.account_id == seeded.account_id)
            )
        ).scalars()
        attempts = list(
            (
                await session.execute(
                    select(PublishAttempt)
                    .where(PublishAttempt.post_id == post_id)
                    .order_by(PublishAttempt.attempt_no)
                )
            ).scalars()
        )
        job = (await session.execute(select(Job).where(Job.task == PUBLISH_TASK))).scalar_one()
    assert post is not None
    assert post.status == PostStatus.PUBLISHED
    assert post.external_id == str(stored.id)  # the one post on the platform is the one we show
    # The last attempt is confirmed with the one platform post; an earlier intent was either
    # closed as failed after a read-back or reused for a resend under the same key.
    assert attempts[-1].outcome == "confirmed"
    assert {attempt.outcome for attempt in attempts[:-1]} <= {"failed"}
    assert attempts[-1].external_id == str(stored.id)
    assert stored.idempotency_key == attempts[-1].idempotency_key
    assert (job.state, job.rescues) == (JobState.COMPLETED, 1)
    final = await stats(readers)
    assert (final.stuck, final.pending, final.posted) == (0, 0, 1)
    assert JobState.RUNNING.value not in final.jobs_by_state
