"""The demo's audience on the fake platforms: likes and reposts that grow with a post's age.

It writes engagement into the fakes through their test endpoints; the product then reads it
back through the real clients, exactly as it would from the real platforms.
"""

from __future__ import annotations

from datetime import timedelta

import httpx
import structlog
from sqlalchemy import select

from finagency.core.services import Services
from finagency.core.time import utcnow
from finagency.integrations.platforms.fakes.server import audience_update
from finagency.integrations.platforms.sandbox import simulated_engagement
from finagency.models import Account, Post, PostStatus
from finagency.ops.demo import FAKES_PREFIX
from finagency.queue import JobContext, Task

log = structlog.get_logger(__name__)
AUDIENCE_TASK = "demo.fake_audience"


async def fake_audience(ctx: JobContext) -> None:
    services: Services = ctx.services
    if services.settings.demo_platforms != "fake":
        return
    fakes_root = services.settings.public_url + FAKES_PREFIX
    now = utcnow()
    result = await ctx.session.execute(
        select(Post, Account)
        .join(Account, Account.id == Post.account_id)
        .where(
            Post.status == PostStatus.PUBLISHED.value,
            Post.published_at >= now - timedelta(days=2),
            Account.base_url.startswith(fakes_root),
        )
    )
    rows = result.all()
    # Detach what was read (it stays usable) and end the transaction: no lock is held while
    # the platforms answer.
    ctx.session.expunge_all()
    await ctx.session.rollback()
    for post, account in rows:
        if not post.external_id or not post.published_at or not account.base_url:
            continue
        counts = simulated_engagement(post.external_id, post.published_at, now)
        update = audience_update(
            account.platform,
            post.external_id,
            likes=counts.likes,
            reposts=counts.reposts,
            replies=counts.replies,
            impressions=counts.impressions,
            clicks=counts.clicks,
        )
        if update is None:
            continue
        path, body = update
        try:
            await services.http.post(account.base_url.rstrip("/") + path, json=body)
        except httpx.HTTPError as error:
            log.warning("demo.audience_failed", platform=account.platform, error=str(error))


TASKS = [Task(AUDIENCE_TASK, fake_audience, queue="default", max_attempts=1)]
