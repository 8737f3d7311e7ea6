"""Gauges for what an operator is paged about beyond the queue: tokens, sources, backups.

They are refreshed from the database on each scrape of `/metrics` (ops/health.py), so every
web replica exports the same numbers and none needs to remember anything between scrapes.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from prometheus_client import Gauge
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from finagency.models import Account, BackupRecord, Job, JobState, Source

# Only accounts whose token expires within this horizon get a series: tens of thousands of
# accounts must not mean tens of thousands of series.
TOKEN_HORIZON = timedelta(days=14)
TOKEN_EXPIRES_IN = Gauge(
    "finagency_account_token_expires_in_seconds",
    "Seconds until a platform account's access token expires (negative: already expired); "
    "only accounts expiring within 14 days",
    ["account_id", "platform"],
)
ACCOUNTS_AUTH_EXPIRED = Gauge(
    "finagency_accounts_auth_expired",
    "Platform accounts that need to be reconnected (status auth_expired)",
)
SOURCE_FAILURES = Gauge(
    "finagency_source_consecutive_failures",
    "Consecutive failed polls of an enabled market data source",
    ["source", "kind"],
)
SOURCE_SUCCESS_AGE = Gauge(
    "finagency_source_last_success_age_seconds",
    "Seconds since an enabled source was last polled successfully (-1: never)",
    ["source", "kind"],
)
LEASES_EXPIRED = Gauge(
    "finagency_jobs_lease_expired",
    "Running jobs whose lease has expired and that no rescuer has taken back yet (stuck)",
    ["queue"],
)
BACKUP_LAST_SUCCESS = Gauge(
    "finagency_backup_last_success_timestamp_seconds",
    "Unix time of the newest successful backup (0: none recorded)",
)


async def refresh(session: AsyncSession, now: datetime) -> None:
    """Set every gauge of this module from the database; labels of removed rows disappear."""
    accounts = (
        await session.execute(
            select(Account.id, Account.platform, Account.token_expires_at).where(
                Account.token_expires_at.is_not(None),
                Account.token_expires_at < now + TOKEN_HORIZON,
            )
        )
    ).all()
    TOKEN_EXPIRES_IN.clear()
    for account_id, platform, expires_at in accounts:
        if expires_at is None:
            continue
        TOKEN_EXPIRES_IN.labels(account_id=str(account_id), platform=platform).set(
            (expires_at - now).total_seconds()
        )
    expired = await session.scalar(
        select(func.count()).select_from(Account).where(Account.status == "auth_expired")
    )
    ACCOUNTS_AUTH_EXPIRED.set(int(expired or 0))

    sources = (
        await session.execute(
            select(
                Source.name, Source.kind, Source.consecutive_failures, Source.last_success_at
            ).where(Source.enabled.is_(True))
        )
    ).all()
    SOURCE_FAILURES.clear()
    SOURCE_SUCCESS_AGE.clear()
    for name, kind, failures, success_at in sources:
        SOURCE_FAILURES.labels(source=name, kind=kind).set(failures)
        age = (now - success_at).total_seconds() if success_at else -1
        SOURCE_SUCCESS_AGE.labels(source=name, kind=kind).set(age)

    stuck = (
        await session.execute(
            select(Job.queue, func.count())
            .where(Job.state == JobState.RUNNING.value, Job.lease_expires_at < now)
            .group_by(Job.queue)
        )
    ).all()
    LEASES_EXPIRED.clear()
    for queue, count in stuck:
        LEASES_EXPIRED.labels(queue=queue).set(count)

    last_backup = await session.scalar(
        select(func.max(BackupRecord.at)).where(BackupRecord.ok.is_(True))
    )
    BACKUP_LAST_SUCCESS.set(last_backup.timestamp() if last_backup else 0)
