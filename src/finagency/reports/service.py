"""Generate, store and send operations reports: the one entry point the CLI, pages and jobs use."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from finagency.core.errors import NotFound, ValidationFailed
from finagency.core.time import utcnow
from finagency.models import Brand, StoredReport
from finagency.reports import builder
from finagency.reports.document import Report
from finagency.reports.figures import Period, load_figures
from finagency.reports.html import render_html
from finagency.reports.infra import find_risks, read_infra
from finagency.reports.markdown import render_markdown
from finagency.reports.pdf import render_pdf
from finagency.webhooks import deliver_event

FORMATS = ("md", "html", "pdf")
MEDIA_TYPES = {"md": "text/markdown; charset=utf-8", "html": "text/html; charset=utf-8"}
MEDIA_TYPES["pdf"] = "application/pdf"
REPORT_EVENT = "report.ready"


def parse_day(text: str, field: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValidationFailed(
            f"{field} must be a date like 2026-03-01", details={"field": field}
        ) from None


def day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def period_from(first: date, last: date, field: str = "period") -> Period:
    """Whole UTC days from ``first`` to ``last`` inclusive."""
    if last < first:
        raise ValidationFailed(f"{field}: the end is before the start", details={"field": field})
    return Period(day_start(first), day_start(last) + timedelta(days=1))


def parse_range(text: str, field: str = "compare_to") -> Period:
    """``2026-03-01..2026-03-07`` (both days included)."""
    first, sep, last = text.partition("..")
    if not sep:
        raise ValidationFailed(
            f"{field} must look like 2026-03-01..2026-03-07", details={"field": field}
        )
    return period_from(parse_day(first, field), parse_day(last, field), field)


def default_period(now: datetime, days: int = 7) -> Period:
    """The last ``days`` whole days plus today so far."""
    end = day_start(now.date()) + timedelta(days=1)
    return Period(end - timedelta(days=days), end)


def previous(period: Period) -> Period:
    """The period of the same length just before ``period``."""
    length = period.end - period.start
    return Period(period.start - length, period.start)


@dataclass(frozen=True, slots=True)
class Request:
    period: Period
    compare: Period | None = None
    brand: Brand | None = None


async def find_brand(session: AsyncSession, name: str, scope: Sequence[int] | None) -> Brand:
    """A brand by slug or name, among those the caller may see."""
    query = select(Brand).where((Brand.slug == name) | (Brand.name == name))
    brand = (await session.execute(query)).scalars().first()
    if brand is None or (scope is not None and brand.id not in scope):
        raise NotFound(f"no brand called {name!r}")
    return brand


async def resolve_request(
    session: AsyncSession,
    scope: Sequence[int] | None,
    *,
    first: str | None,
    last: str | None,
    compare_to: str | None,
    brand: str | None,
) -> Request:
    """A report request from form or query text; a caller bound to brands reports on one."""
    now = utcnow()
    start = parse_day(first, "from") if first else default_period(now).start.date()
    end = parse_day(last, "to") if last else now.date()
    chosen = await find_brand(session, brand, scope) if brand else None
    if chosen is None and scope is not None:
        if len(scope) != 1:
            raise ValidationFailed("choose one of your brands", details={"field": "brand"})
        chosen = await session.get(Brand, scope[0])
    compare = parse_range(compare_to) if compare_to else None
    return Request(period_from(start, end), compare, chosen)


async def build_report(
    session: AsyncSession,
    request: Request,
    *,
    now: datetime,
    redis: Redis | None = None,
    title: str = "Operations report",
) -> Report:
    brand_id = request.brand.id if request.brand else None
    after = await load_figures(session, request.period, brand_id, now)
    before = (
        await load_figures(session, request.compare, brand_id, now) if request.compare else None
    )
    infra = await read_infra(session, now, brand_id, redis=redis)
    scope = request.brand.name if request.brand else "all brands"
    return builder.build(
        title=title,
        scope=scope,
        after=after,
        before=before,
        infra=infra,
        risks=find_risks(after, infra, now),
        now=now,
    )


def render(report: Report, fmt: str) -> bytes:
    if fmt == "md":
        return render_markdown(report).encode()
    if fmt == "html":
        return render_html(report).encode()
    if fmt == "pdf":
        return render_pdf(report)
    raise ValidationFailed(
        f"format must be one of {', '.join(FORMATS)}", details={"field": "format"}
    )


async def store(
    session: AsyncSession, report: Report, request: Request, *, kind: str = "manual"
) -> StoredReport:
    stored = StoredReport(
        brand_id=request.brand.id if request.brand else None,
        scope_key=request.brand.id if request.brand else 0,
        title=report.title,
        kind=kind,
        period_start=request.period.start,
        period_end=request.period.end,
        compare_start=request.compare.start if request.compare else None,
        compare_end=request.compare.end if request.compare else None,
        summary=report.summary,
        markdown=render_markdown(report),
    )
    session.add(stored)
    await session.flush()
    return stored


async def list_stored(
    session: AsyncSession, scope: Sequence[int] | None, limit: int = 50
) -> list[StoredReport]:
    """Stored reports the caller may see; agency-wide ones only for unscoped (admin) callers."""
    query = select(StoredReport).order_by(StoredReport.created_at.desc(), StoredReport.id.desc())
    if scope is not None:
        query = query.where(StoredReport.brand_id.in_(list(scope)))
    return list((await session.execute(query.limit(limit))).scalars())


async def get_stored(
    session: AsyncSession, report_id: int, scope: Sequence[int] | None
) -> StoredReport:
    stored = await session.get(StoredReport, report_id)
    if stored is None or (scope is not None and stored.brand_id not in scope):
        raise NotFound("no such report")
    return stored


def stored_request(stored: StoredReport, brand: Brand | None) -> Request:
    compare = (
        Period(stored.compare_start, stored.compare_end)
        if stored.compare_start and stored.compare_end
        else None
    )
    return Request(Period(stored.period_start, stored.period_end), compare, brand)


async def weekly_reports(
    session: AsyncSession, now: datetime, *, public_url: str, redis: Redis | None = None
) -> list[StoredReport]:
    """Last week (Monday to Sunday, UTC) against the week before, per brand: stored and sent.

    Stored once per brand and week, so a retried or doubly scheduled job sends nothing twice.
    """
    monday = day_start(now.date() - timedelta(days=now.weekday()))
    period = Period(monday - timedelta(days=7), monday)
    made: list[StoredReport] = []
    for brand in (await session.execute(select(Brand).order_by(Brand.id))).scalars():
        done = await session.scalar(
            select(StoredReport.id).where(
                StoredReport.scope_key == brand.id,
                StoredReport.kind == "weekly",
                StoredReport.period_start == period.start,
            )
        )
        if done is not None:
            continue
        request = Request(period, previous(period), brand)
        report = await build_report(
            session, request, now=now, redis=redis, title=f"Weekly operations report: {brand.name}"
        )
        stored = await store(session, report, request, kind="weekly")
        deliveries = await deliver_event(
            session,
            brand.id,
            REPORT_EVENT,
            {
                "report_id": stored.id,
                "title": stored.title,
                "period": {"start": period.start.isoformat(), "end": period.end.isoformat()},
                "summary": stored.summary,
                "url": f"{public_url.rstrip('/')}/reports/{stored.id}",
                "markdown": stored.markdown,
            },
        )
        stored.delivery = f"queued to {len(deliveries)} endpoints" if deliveries else "no_endpoint"
        made.append(stored)
    return made
