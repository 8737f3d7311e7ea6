"""Infrastructure status at report time, and the open risks the data points at."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from redis.asyncio import Redis
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from finagency.models import Account, CircuitBreaker, Source, WorkerHeartbeat
from finagency.reports.figures import Figures
from finagency.reports.measure import source_is_failing

TOKEN_WARNING = timedelta(days=7)
RUNBOOKS = "docs/runbooks/"


@dataclass(frozen=True, slots=True)
class SourceStatus:
    name: str
    kind: str
    failing: bool
    last_success: datetime | None
    error: str


@dataclass(frozen=True, slots=True)
class AccountStatus:
    platform: str
    handle: str
    status: str
    breaker: str
    token_expires_at: datetime | None


@dataclass
class Infra:
    database: str
    database_ok: bool
    redis: str  # not configured, answering, not answering
    workers_alive: int
    sources: list[SourceStatus] = field(default_factory=list)
    accounts: list[AccountStatus] = field(default_factory=list)
    breakers_open: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Risk:
    title: str
    detail: str
    runbook: str

    @property
    def link(self) -> str:
        return RUNBOOKS + self.runbook


async def redis_state(redis: Redis | None) -> str:
    if redis is None:
        return "not configured (in-process cache and events)"
    try:
        await redis.ping()
    except Exception:  # a status line reports the failure; it never raises it
        return "not answering"
    return "answering"


async def read_infra(
    session: AsyncSession,
    now: datetime,
    brand_id: int | None,
    *,
    redis: Redis | None,
    worker_stale_after: timedelta = timedelta(seconds=30),
) -> Infra:
    dialect = session.get_bind().dialect.name
    workers = await session.scalar(
        select(func.count())
        .select_from(WorkerHeartbeat)
        .where(WorkerHeartbeat.last_seen_at >= now - worker_stale_after)
    )
    infra = Infra(
        database=f"1 database ({'PostgreSQL' if dialect == 'postgresql' else 'SQLite'})",
        database_ok=True,  # the report was just read from it
        redis=await redis_state(redis),
        workers_alive=int(workers or 0),
    )
    for source in (
        await session.execute(select(Source).where(Source.enabled.is_(True)).order_by(Source.name))
    ).scalars():
        infra.sources.append(
            SourceStatus(
                source.name,
                source.kind,
                source_is_failing(source),
                source.last_success_at,
                (source.last_error or "")[:120],
            )
        )
    accounts = select(Account).order_by(Account.platform, Account.handle)
    if brand_id is not None:
        accounts = accounts.where(Account.brand_id == brand_id)
    for account in (await session.execute(accounts)).scalars():
        infra.accounts.append(
            AccountStatus(
                account.platform,
                account.handle,
                account.status,
                account.breaker_state,
                account.token_expires_at,
            )
        )
    breakers = select(CircuitBreaker.key).where(CircuitBreaker.state.in_(["open", "half_open"]))
    infra.breakers_open = [str(key) for key in (await session.execute(breakers)).scalars()]
    return infra


def find_risks(after: Figures, infra: Infra, now: datetime) -> list[Risk]:
    """Risks worth a manager's attention, each with the runbook that handles it."""
    risks: list[Risk] = []
    start, end = after.first.get("backlog_pct"), after.end.get("backlog_pct")
    if start is not None and end is not None and end > start + 5:
        risks.append(
            Risk(
                "Backlog growing",
                f"Backlog rose from {start:.1f}% to {end:.1f}% over the period.",
                "backlog-growing.md",
            )
        )
    stuck = after.end.get("stuck", 0.0)
    if stuck > 0:
        risks.append(
            Risk(
                "Posts stuck",
                f"{int(stuck)} pending posts were more than 2 hours late at the period's end.",
                "backlog-growing.md",
            )
        )
    if infra.workers_alive == 0:
        risks.append(
            Risk(
                "No worker running",
                "No worker has a fresh heartbeat: nothing is being published.",
                "backlog-growing.md",
            )
        )
    for key in infra.breakers_open:
        risks.append(
            Risk("Circuit breaker open", f"{key}: calls are paused.", "platform-outage.md")
        )
    for account in infra.accounts:
        label = f"{account.platform} @{account.handle}"
        if account.breaker != "closed":
            risks.append(
                Risk(
                    "Circuit breaker open",
                    f"{label}: breaker {account.breaker}.",
                    "platform-outage.md",
                )
            )
        if account.status == "auth_expired":
            risks.append(
                Risk(
                    "Token expired",
                    f"{label}: the platform refuses its token.",
                    "token-expired.md",
                )
            )
        elif (
            account.token_expires_at is not None and account.token_expires_at < now + TOKEN_WARNING
        ):
            days = (account.token_expires_at - now).total_seconds() / 86400
            when = "has expired" if days < 0 else f"expires in {days:.1f} days"
            risks.append(Risk("Token expiring", f"{label}: token {when}.", "token-expired.md"))
    for platform, figures in sorted(after.platforms.items()):
        if figures.dead_lettered:
            risks.append(
                Risk(
                    "Dead letters",
                    f"{figures.dead_lettered} jobs on {platform} went to the dead-letter queue.",
                    "platform-outage.md",
                )
            )
    failing = [source.name for source in infra.sources if source.failing]
    if failing:
        risks.append(
            Risk(
                "Sources failing",
                f"{len(failing)} data sources are failing: {', '.join(failing[:5])}.",
                "platform-outage.md",
            )
        )
    if infra.redis == "not answering":
        risks.append(
            Risk("Redis down", "Redis is configured but does not answer.", "redis-down.md")
        )
    return risks
