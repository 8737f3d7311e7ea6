"""Seeded publishing history for the report tests, described so each test can compute the
expected numbers itself (nothing here knows what the report will say)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from finagency.models import (
    Account,
    Brand,
    ContentItem,
    Job,
    JobState,
    Post,
    PostStatus,
    PublishAttempt,
)


def nearest_rank_p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[math.ceil(0.95 * len(ordered)) - 1]


@dataclass
class History:
    """Day one (``before``) and day two (``after``) of publishing, three days ago."""

    brand_id: int
    start: datetime
    # platform -> lateness in seconds of each post published, per day
    before: dict[str, list[float]] = field(default_factory=dict)
    after: dict[str, list[float]] = field(default_factory=dict)
    before_failed: int = 0
    before_retried: int = 0
    before_dead: int = 0
    pending_end: int = 0
    stuck_end: int = 0

    @property
    def middle(self) -> datetime:
        return self.start + timedelta(days=1)

    @property
    def end(self) -> datetime:
        return self.start + timedelta(days=2)


def day_start(at: datetime) -> datetime:
    return datetime(at.year, at.month, at.day, tzinfo=UTC)


async def seed_history(session: AsyncSession, now: datetime, name: str = "Northwind") -> History:
    brand = Brand(slug=name.lower().replace(" ", "-")[:60], name=name)
    session.add(brand)
    await session.flush()
    accounts = {}
    for platform in ("x", "linkedin"):
        account = Account(brand_id=brand.id, platform=platform, handle=f"nw-{platform}")
        session.add(account)
        accounts[platform] = account
    await session.flush()
    history = History(brand.id, day_start(now) - timedelta(days=3))
    counter = 0

    async def post(
        platform: str,
        status: PostStatus,
        scheduled: datetime,
        lateness: float | None,
        queued: datetime | None = None,
    ) -> Post:
        nonlocal counter
        counter += 1
        item = ContentItem(brand_id=brand.id, kind="market_mover")
        session.add(item)
        await session.flush()
        published = scheduled + timedelta(seconds=lateness) if lateness is not None else None
        row = Post(
            brand_id=brand.id,
            content_item_id=item.id,
            account_id=accounts[platform].id,
            platform=platform,
            text=f"post {counter}",
            status=status.value,
            content_hash=f"{counter:064d}",
            scheduled_at=scheduled,
            queued_at=queued or scheduled - timedelta(minutes=30),
            published_at=published,
        )
        session.add(row)
        return row

    day1 = history.start
    history.before = {"x": [10.0, 20.0, 30.0, 400.0]}
    before_posts = [
        await post("x", PostStatus.PUBLISHED, day1 + timedelta(hours=2 + i), lag)
        for i, lag in enumerate(history.before["x"])
    ]
    day2 = history.middle
    history.after = {"x": [5.0, 15.0], "linkedin": [1.0, 2.0, 3.0]}
    for platform, lags in history.after.items():
        for i, lag in enumerate(lags):
            await post(platform, PostStatus.PUBLISHED, day2 + timedelta(hours=3 + i), lag)
    # Two posts still waiting at the end of day two: one far past its slot, one not due yet.
    await post("x", PostStatus.SCHEDULED, day2 + timedelta(hours=20), None)
    await post(
        "linkedin",
        PostStatus.SCHEDULED,
        history.end + timedelta(days=1),
        None,
        queued=day2 + timedelta(hours=22),
    )
    history.pending_end, history.stuck_end = 2, 1
    await session.flush()
    # Day one: two failed first attempts, each retried, and one publish job dead-lettered.
    for index, row in enumerate(before_posts[:2]):
        tried = day1 + timedelta(hours=2 + index)
        session.add_all(
            [
                PublishAttempt(
                    brand_id=brand.id,
                    post_id=row.id,
                    attempt_no=1,
                    idempotency_key=f"k{row.id}-1",
                    started_at=tried - timedelta(minutes=5),
                    finished_at=tried - timedelta(minutes=4),
                    outcome="failed",
                ),
                PublishAttempt(
                    brand_id=brand.id,
                    post_id=row.id,
                    attempt_no=2,
                    idempotency_key=f"k{row.id}-2",
                    started_at=tried,
                    finished_at=tried,
                    outcome="confirmed",
                ),
            ]
        )
    history.before_failed, history.before_retried = 2, 2
    session.add(
        Job(
            task="publishing.publish_post",
            queue="publish",
            args={"post_id": before_posts[3].id},
            state=JobState.DISCARDED.value,
            brand_id=brand.id,
            finalized_at=day1 + timedelta(hours=9),
            run_at=day1 + timedelta(hours=8),
        )
    )
    history.before_dead = 1
    await session.flush()
    return history
