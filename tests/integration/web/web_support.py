"""What the web tests share: the seeded brands, users and posts, and small HTML helpers."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx

from finagency.auth import service as auth
from finagency.brands import service as brands
from finagency.core.db import transaction
from finagency.core.services import Services
from finagency.core.time import utcnow
from finagency.models import ContentItem, Finding, Job, JobState, Post, PostStatus

PASSWORD = "correct horse battery staple"
HTML = {"accept": "text/html,application/xhtml+xml"}
SCRIPT_TEXT = "Buy ACME <script>alert(1)</script> today: guaranteed returns for everyone."
PROMISE = "guaranteed returns"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass(frozen=True)
class SeedPost:
    """One seeded post, described so tests can compute the expected numbers on their own."""

    brand: str  # "a" or "b"
    status: PostStatus
    text: str
    author: str | None = "editor"
    scheduled: timedelta | None = None  # offset from now
    queued: timedelta | None = None
    published: timedelta | None = None
    external_url: str | None = None


SEED_POSTS: tuple[SeedPost, ...] = (
    SeedPost(
        "a",
        PostStatus.PUBLISHED,
        "Published one",
        scheduled=timedelta(minutes=-40),
        queued=timedelta(hours=-1),
        published=timedelta(minutes=-30),
        external_url="https://sandbox.example/posts/1",
    ),
    SeedPost(
        "a",
        PostStatus.PUBLISHED,
        "Published two",
        scheduled=timedelta(minutes=-50),
        queued=timedelta(hours=-1),
        published=timedelta(minutes=-45),
        external_url="javascript:alert(1)",
    ),
    SeedPost("a", PostStatus.SCHEDULED, "Late and stuck", scheduled=timedelta(hours=-3)),
    SeedPost("a", PostStatus.SCHEDULED, "Due later", scheduled=timedelta(hours=1)),
    SeedPost("a", PostStatus.APPROVED, "Approved, never queued", queued=timedelta(hours=-3)),
    SeedPost("a", PostStatus.FAILED, "Failed at the platform"),
    SeedPost("a", PostStatus.IN_REVIEW, SCRIPT_TEXT),
    SeedPost("a", PostStatus.IN_REVIEW, "The approver's own draft", author="approver"),
    SeedPost("a", PostStatus.IN_REVIEW, "A clean draft about the ECB rate"),
    SeedPost("a", PostStatus.DRAFT, "Still a draft"),
    SeedPost("b", PostStatus.PUBLISHED, "Beta published", published=timedelta(hours=-5)),
    SeedPost("b", PostStatus.IN_REVIEW, "Beta secret draft"),
)

USERS = {
    "admin": ("admin@example.com", None),
    "approver": ("approver@example.com", ("a", "approver")),
    "editor": ("editor@example.com", ("a", "editor")),
    "client": ("client@example.com", ("a", "client")),
    "other": ("other@example.com", ("b", "editor")),
}


@dataclass
class Seed:
    now: datetime
    brand_ids: dict[str, int] = field(default_factory=dict)
    user_ids: dict[str, int] = field(default_factory=dict)
    post_ids: list[int] = field(default_factory=list)
    job_ids: dict[str, int] = field(default_factory=dict)

    def post_id(self, text: str) -> int:
        for spec, post_id in zip(SEED_POSTS, self.post_ids, strict=True):
            if spec.text == text:
                return post_id
        raise KeyError(text)


def email(user: str) -> str:
    return USERS[user][0]


def csrf_in(html: str) -> str:
    match = CSRF_FIELD.search(html)
    assert match, "the page has no CSRF field"
    return match.group(1)


async def seed_database(services: Services) -> Seed:
    """Two brands, a user per role, the posts of SEED_POSTS and two dead-lettered jobs."""
    now = utcnow()
    seeded = Seed(now=now)
    async with transaction(services.sessionmaker) as session:
        accounts = {}
        for key, slug, name in (("a", "acme", "Acme Capital"), ("b", "beta", "Beta Wealth")):
            brand = await brands.create_brand(session, slug=slug, name=name)
            seeded.brand_ids[key] = brand.id
            accounts[key] = await brands.add_account(
                session, brand, platform="sandbox", handle=f"{slug}-desk"
            )
        for key, (address, grant) in USERS.items():
            user = await auth.create_user(
                session, address, PASSWORD, name=key.title(), is_admin=grant is None
            )
            seeded.user_ids[key] = user.id
            if grant is not None:
                await auth.grant_role(session, user.id, seeded.brand_ids[grant[0]], grant[1])
        for index, spec in enumerate(SEED_POSTS):
            brand_id = seeded.brand_ids[spec.brand]
            item = ContentItem(brand_id=brand_id, kind="editorial", title=f"item {index}")
            session.add(item)
            await session.flush()
            post = Post(
                brand_id=brand_id,
                content_item_id=item.id,
                account_id=accounts[spec.brand].id,
                platform="sandbox",
                text=spec.text,
                status=spec.status.value,
                content_hash=hashlib.sha256(spec.text.encode()).hexdigest(),
                author_id=seeded.user_ids[spec.author] if spec.author else None,
                scheduled_at=now + spec.scheduled if spec.scheduled is not None else None,
                queued_at=now + spec.queued if spec.queued is not None else None,
                published_at=now + spec.published if spec.published is not None else None,
                external_url=spec.external_url,
                check_verdict="block" if spec.text == SCRIPT_TEXT else "pass",
            )
            session.add(post)
            await session.flush()
            seeded.post_ids.append(post.id)
            if spec.text == SCRIPT_TEXT:
                start = SCRIPT_TEXT.index(PROMISE)
                session.add(
                    Finding(
                        brand_id=brand_id,
                        post_id=post.id,
                        post_version=1,
                        check_id="lexicon",
                        severity="block",
                        reason_code="promissory",
                        message="Promises a return",
                        span_start=start,
                        span_end=start + len(PROMISE),
                        excerpt=PROMISE,
                    )
                )
        dead_jobs: list[tuple[str, int | None]] = [
            ("dead_a", seeded.brand_ids["a"]),
            ("dead_system", None),
        ]
        for key, job_brand_id in dead_jobs:
            job = Job(
                queue="publish" if job_brand_id else "ingest",
                task="publishing.publish_post" if job_brand_id else "market.poll_due_sources",
                args={},
                state=JobState.DISCARDED.value,
                attempt=1,
                brand_id=job_brand_id,
                finalized_at=now - timedelta(minutes=10),
                last_error="HTTP 400 from the platform",
                dlq_reason="permanent_error",
                errors=[],
            )
            session.add(job)
            await session.flush()
            seeded.job_ids[key] = job.id
    return seeded


Login = Callable[[httpx.AsyncClient, str], Awaitable[str]]
