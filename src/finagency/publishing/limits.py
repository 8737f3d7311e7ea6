"""Platform rate limits and breaker policy for publishing, from each platform's published limits."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from finagency.core.services import Services
from finagency.models import Account
from finagency.queue import breaker
from finagency.queue.limits import DatabaseRateLimiter, Rate, RateLimiter, RedisRateLimiter

# Post creation limits per account (reference/platforms.md); conservative where a platform
# gives a range. Bursts let a short queue drain at once without tripping the platform.
PLATFORM_RATES: dict[str, Rate] = {
    "x": Rate(100, timedelta(minutes=15), burst=5),  # POST /2/tweets per user
    "linkedin": Rate(150, timedelta(days=1), burst=5),  # member daily quota
    "telegram": Rate(20, timedelta(minutes=1), burst=3),  # one group: 20 per minute
    "mastodon": Rate(300, timedelta(minutes=5), burst=10),
    "bluesky": Rate(1666, timedelta(hours=1), burst=10),  # 5000 points/h, 3 per create
    "discord": Rate(5, timedelta(seconds=2), burst=5),
    "slack": Rate(1, timedelta(seconds=1), burst=3),
    "webhook": Rate(10, timedelta(seconds=1), burst=10),
}
DEFAULT_RATE = Rate(60, timedelta(minutes=1), burst=5)
BREAKER_POLICY = breaker.BreakerPolicy(threshold=5, cooldown=timedelta(seconds=60))


def platform_of(account: Account) -> str:
    """The real platform an account publishes to (a sandbox account: the one it stands in for)."""
    kind, _, stands_in_for = account.platform.partition(":")
    if kind == "sandbox":
        return stands_in_for or "x"
    return kind


def rate_for(account: Account) -> Rate:
    return PLATFORM_RATES.get(platform_of(account), DEFAULT_RATE)


def breaker_keys(account: Account) -> tuple[str, str]:
    return f"platform:{account.platform}", f"account:{account.id}"


def rate_key(account: Account) -> str:
    return f"account:{account.id}"


def limiter_for(services: Services) -> RateLimiter:
    """Redis when configured (no database write per token), else the database."""
    return RedisRateLimiter(services.redis) if services.redis is not None else DatabaseRateLimiter()


async def wait_for_gates(
    session: AsyncSession, services: Services, account: Account
) -> tuple[datetime, str] | None:
    """None if the account may post now; else (when to come back, why)."""
    for key in breaker_keys(account):
        reopen = await breaker.check(session, key, BREAKER_POLICY)
        if reopen is not None:
            return reopen, f"circuit breaker {key} is open"
    free_at = await limiter_for(services).acquire(session, rate_key(account), rate_for(account))
    if free_at is not None:
        return free_at, f"rate limit of {account.platform} account {account.handle}"
    return None


async def hold(
    session: AsyncSession, services: Services, account: Account, until: datetime
) -> None:
    """After a platform's 429: no job of this account takes a token before ``until``."""
    await limiter_for(services).hold(session, rate_key(account), rate_for(account), until)
