"""A report over seeded history: the numbers, the comparison columns, the formats, empty periods."""

from __future__ import annotations

from datetime import timedelta

from report_support import History, nearest_rank_p95, seed_history
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from finagency.core.time import utcnow
from finagency.models import MetricSample
from finagency.models.metrics import HOUR
from finagency.reports import history as metric_history
from finagency.reports import service
from finagency.reports.figures import Period


def row(markdown: str, label: str) -> list[str]:
    """The cells of the first table row whose first cell is ``label``."""
    for line in markdown.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if cells and cells[0] == label:
            return cells[1:]
    raise AssertionError(f"no row {label!r} in:\n{markdown}")


async def _seeded(sessionmaker: async_sessionmaker[AsyncSession]) -> History:
    async with sessionmaker() as session:
        seeded = await seed_history(session, utcnow())
        await metric_history.backfill(session, seeded.start, seeded.end, seconds=HOUR)
        await session.commit()
    return seeded


async def _report(
    sessionmaker: async_sessionmaker[AsyncSession], seeded: History, *, compare: bool, fmt: str
) -> bytes:
    async with sessionmaker() as session:
        brand = await session.get(service.Brand, seeded.brand_id)
        request = service.Request(
            Period(seeded.middle, seeded.end),
            Period(seeded.start, seeded.middle) if compare else None,
            brand,
        )
        built = await service.build_report(session, request, now=utcnow())
        return service.render(built, fmt)


async def test_report_shows_the_periods_numbers(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    seeded = await _seeded(sessionmaker)
    text = (await _report(sessionmaker, seeded, compare=False, fmt="md")).decode()

    published = sum(len(lags) for lags in seeded.after.values())
    every_lag = [lag for lags in seeded.after.values() for lag in lags]
    assert row(text, "Posts published") == [f"{published}"]
    assert row(text, "Throughput (posts per hour)") == [f"{published / 24:.1f}"]
    assert row(text, "Schedule lag p95") == [f"{nearest_rank_p95(every_lag):.1f} s"]
    total = published + sum(len(lags) for lags in seeded.before.values()) + seeded.pending_end
    assert row(text, "Pending") == [str(seeded.pending_end)]
    assert row(text, "Total") == [str(total)]
    assert row(text, "Backlog %") == [f"{seeded.pending_end * 100 / total:.1f}%"]
    assert row(text, "Stuck over 2 h") == [str(seeded.stuck_end)]
    linkedin = row(text, "linkedin")
    assert linkedin[:4] == [str(len(seeded.after["linkedin"])), "0", "0", "0"]
    assert linkedin[4] == f"{nearest_rank_p95(seeded.after['linkedin']):.1f} s"
    assert "Posts stuck" in text and "docs/runbooks/backlog-growing.md" in text


async def test_comparison_has_before_after_and_change(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    seeded = await _seeded(sessionmaker)
    text = (await _report(sessionmaker, seeded, compare=True, fmt="md")).decode()

    before = len(seeded.before["x"])
    after = sum(len(lags) for lags in seeded.after.values())
    assert "| Metric | Before | After | Change |" in text
    assert row(text, "Posts published") == [
        str(before),
        str(after),
        f"{after - before:+d} ({(after - before) * 100 / before:+.1f}%)",
    ]
    rate_before = before * 100 / (before + seeded.before_failed)
    assert row(text, "Publish success rate") == [
        f"{rate_before:.1f}%",
        "100.0%",
        f"{100 - round(rate_before, 1):+.1f} pp",
    ]
    p95_before = nearest_rank_p95(seeded.before["x"])
    p95_after = nearest_rank_p95([lag for lags in seeded.after.values() for lag in lags])
    assert row(text, "Schedule lag p95")[:2] == [f"{p95_before:.1f} s", f"{p95_after:.1f} s"]
    assert row(text, "Dead-lettered jobs")[:2] == [str(seeded.before_dead), "0"]
    # Per platform: one row per measure, before and after.
    lines = [line for line in text.splitlines() if line.startswith("| x | Failed |")]
    assert lines == [
        f"| x | Failed | {seeded.before_failed} | 0 | {-seeded.before_failed:+d} (-100.0%) |"
    ]
    lines = [line for line in text.splitlines() if line.startswith("| x | Retried |")]
    assert lines == [
        f"| x | Retried | {seeded.before_retried} | 0 | {-seeded.before_retried:+d} (-100.0%) |"
    ]


async def test_an_empty_period_says_so(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    seeded = await _seeded(sessionmaker)
    async with sessionmaker() as session:
        long_ago = seeded.start - timedelta(days=200)
        request = service.Request(Period(long_ago, long_ago + timedelta(days=7)))
        built = await service.build_report(session, request, now=utcnow())
    text = service.render(built, "md").decode()
    assert built.empty
    assert "No activity was recorded" in text
    assert service.render(built, "pdf").startswith(b"%PDF")
    assert "No activity was recorded" in service.render(built, "html").decode()


async def test_pdf_and_html_carry_the_report(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    seeded = await _seeded(sessionmaker)
    pdf = await _report(sessionmaker, seeded, compare=True, fmt="pdf")
    assert pdf.startswith(b"%PDF-")
    for heading in (b"Executive summary", b"Queue processing", b"Publishing per platform"):
        assert heading in pdf
    html = (await _report(sessionmaker, seeded, compare=True, fmt="html")).decode()
    assert html.count("<svg") == 3
    assert '<th scope="col" class="num">Before</th>' in html
    assert "Backlog over time" in html


async def test_history_is_written_once_per_bucket(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    seeded = await _seeded(sessionmaker)
    async with sessionmaker() as session:
        rows = await session.scalar(select(func.count()).select_from(MetricSample))
        await metric_history.backfill(session, seeded.start, seeded.end, seconds=HOUR)
        now = utcnow()
        await metric_history.record_live(session, now)
        once = await session.scalar(select(func.count()).select_from(MetricSample))
        await metric_history.record_live(session, now)
        again = await session.scalar(select(func.count()).select_from(MetricSample))
        await session.commit()
    assert once is not None and rows is not None and once > rows
    assert again == once


async def test_fine_buckets_are_pruned_and_days_kept_a_year(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    now = utcnow()
    async with sessionmaker() as session:
        old = now - timedelta(days=10)
        year = metric_history.bucket_floor(now - timedelta(days=380), 86400)
        for seconds, start in ((300, metric_history.bucket_floor(old, 300)), (86400, year)):
            session.add(
                MetricSample(
                    scope_key=0,
                    metric="pending",
                    label="",
                    bucket_start=start,
                    bucket_seconds=seconds,
                    value=1.0,
                    count=1,
                    total=1.0,
                    origin="rollup",
                )
            )
        await session.flush()
        removed = await metric_history.prune(session, now)
        left = (await session.execute(select(MetricSample.bucket_seconds))).scalars().all()
        await session.commit()
    assert removed == 1
    assert left == [86400]
