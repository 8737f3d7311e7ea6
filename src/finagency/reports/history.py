"""Metric history: write buckets idempotently, roll 5-minute buckets into hours and days, prune.

Every write is an upsert on (scope, metric, label, bucket size, bucket start), so a bucket
computed twice (two schedulers, a retried job, a back-fill over live data) ends as one row
holding the latest computation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from finagency.models import Brand, MetricSample
from finagency.models.metrics import DAY, FIVE_MINUTES, HOUR
from finagency.reports.measure import (
    Kind,
    Reading,
    bucket_floor,
    events,
    kind_of,
    live_gauges,
    rebuilt_gauges,
)

# How long each resolution is kept: fine buckets for recent charts, days for a year and more.
RETENTION: dict[int, timedelta] = {
    FIVE_MINUTES: timedelta(days=3),
    HOUR: timedelta(days=90),
    DAY: timedelta(days=3 * 365),
}
PARENT: dict[int, int] = {FIVE_MINUTES: HOUR, HOUR: DAY}
KEY = ["scope_key", "metric", "label", "bucket_seconds", "bucket_start"]


def _row(reading: Reading, start: datetime, seconds: int, origin: str) -> dict[str, Any]:
    kind = kind_of(reading.metric)
    single = kind is Kind.GAUGE
    return {
        "brand_id": reading.brand_id,
        "scope_key": reading.brand_id or 0,
        "metric": reading.metric,
        "label": reading.label,
        "bucket_start": start,
        "bucket_seconds": seconds,
        "value": reading.value,
        "count": reading.count,
        "total": reading.value if reading.total is None else reading.total,
        "min_value": reading.value if single else reading.min_value,
        "max_value": reading.value if single else reading.max_value,
        "origin": origin,
    }


_UPSERTS: dict[str, Any] = {}


def _upsert_statement(dialect: str) -> Any:
    """Built once per dialect: compiling an ON CONFLICT statement costs more than running it."""
    if dialect not in _UPSERTS:
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        table: Table = MetricSample.__table__  # type: ignore[assignment]
        statement = insert(table)
        _UPSERTS[dialect] = statement.on_conflict_do_update(
            index_elements=KEY,
            set_={
                column: statement.excluded[column]
                for column in ("value", "count", "total", "min_value", "max_value", "origin")
            },
        )
    return _UPSERTS[dialect]


async def upsert(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Insert or overwrite bucket rows: one Core statement executed for every row."""
    if rows:
        statement = _upsert_statement(session.get_bind().dialect.name)
        await session.execute(statement, list(rows))


async def write_bucket(
    session: AsyncSession,
    start: datetime,
    seconds: int,
    readings: Sequence[Reading],
    *,
    origin: str = "rollup",
) -> None:
    await upsert(session, [_row(reading, start, seconds, origin) for reading in readings])


@dataclass
class _Acc:
    brand_id: int | None
    value: float = 0.0
    count: int = 0
    total: float = 0.0
    weighted: float = 0.0
    min_value: float | None = None
    max_value: float | None = None
    origin: str = "rollup"


def _merge(acc: _Acc, row: MetricSample, kind: Kind) -> None:
    if kind is Kind.GAUGE:
        acc.value = row.value  # rows arrive oldest first: the last one wins
    elif kind is Kind.COUNTER:
        acc.value += row.value
    else:
        acc.weighted += row.value * row.count
    acc.count += row.count
    acc.total += row.total
    if row.min_value is not None:
        acc.min_value = (
            row.min_value if acc.min_value is None else min(acc.min_value, row.min_value)
        )
    if row.max_value is not None:
        acc.max_value = (
            row.max_value if acc.max_value is None else max(acc.max_value, row.max_value)
        )
    acc.origin = row.origin


async def aggregate(session: AsyncSession, child: int, parent_start: datetime) -> None:
    """Recompute the parent bucket holding ``parent_start`` from its ``child``-sized rows.

    A parent's timing value (lateness p95) is the count-weighted mean of its children's p95s:
    percentiles do not add up, and the exact figure for a period is taken from the posts.
    """
    parent = PARENT[child]
    rows = (
        await session.execute(
            select(MetricSample)
            .where(
                MetricSample.bucket_seconds == child,
                MetricSample.bucket_start >= parent_start,
                MetricSample.bucket_start < parent_start + timedelta(seconds=parent),
            )
            .order_by(MetricSample.bucket_start)
        )
    ).scalars()
    accs: dict[tuple[int, str, str], _Acc] = {}
    for row in rows:
        key = (row.scope_key, row.metric, row.label)
        acc = accs.setdefault(key, _Acc(row.brand_id))
        _merge(acc, row, kind_of(row.metric))
    out = []
    for (scope_key, metric, label), acc in accs.items():
        kind = kind_of(metric)
        value = acc.value
        if kind is Kind.TIMING:
            value = round(acc.weighted / acc.count, 1) if acc.count else 0.0
        out.append(
            {
                "brand_id": acc.brand_id,
                "scope_key": scope_key,
                "metric": metric,
                "label": label,
                "bucket_start": parent_start,
                "bucket_seconds": parent,
                "value": value,
                "count": acc.count,
                "total": acc.total,
                "min_value": acc.min_value,
                "max_value": acc.max_value,
                "origin": acc.origin,
            }
        )
    await upsert(session, out)


async def roll_up_parents(session: AsyncSession, child: int, start: datetime) -> None:
    """After a ``child`` bucket changed, recompute every coarser bucket that holds it."""
    while child in PARENT:
        parent_start = bucket_floor(start, PARENT[child])
        await aggregate(session, child, parent_start)
        child, start = PARENT[child], parent_start


async def brand_ids(session: AsyncSession) -> list[int]:
    return [int(b) for b in (await session.execute(select(Brand.id).order_by(Brand.id))).scalars()]


async def record_live(
    session: AsyncSession, now: datetime, *, cache_hit_rate_pct: float | None = None
) -> datetime:
    """Measure the 5-minute bucket that ends at or before ``now`` and roll it up.

    Gauges are read as they are now; events are counted over the bucket. Returns its start.
    """
    end = bucket_floor(now, FIVE_MINUTES)
    start = end - timedelta(seconds=FIVE_MINUTES)
    brands = await brand_ids(session)
    readings = await live_gauges(session, now, brands, cache_hit_rate_pct=cache_hit_rate_pct)
    readings += await events(session, start, end)
    await write_bucket(session, start, FIVE_MINUTES, readings)
    await roll_up_parents(session, FIVE_MINUTES, start)
    return start


async def backfill(
    session: AsyncSession, start: datetime, end: datetime, *, seconds: int = HOUR
) -> int:
    """Rebuild ``seconds``-sized buckets over [start, end) from the rows' timestamps.

    Used for gaps (a scheduler that was down) and to give an existing installation its
    history. Buckets already measured live keep their live gauges. Returns buckets written.
    """
    cursor = bucket_floor(start, seconds)
    written = 0
    while cursor < end:
        upper = cursor + timedelta(seconds=seconds)
        live = await session.scalar(
            select(MetricSample.id)
            .where(
                MetricSample.bucket_seconds == seconds,
                MetricSample.bucket_start == cursor,
                MetricSample.origin == "rollup",
            )
            .limit(1)
        )
        readings = await events(session, cursor, upper)
        if live is None:
            readings += await rebuilt_gauges(session, min(upper, end))
        await write_bucket(session, cursor, seconds, readings, origin="backfill")
        await roll_up_parents(session, seconds, cursor)
        cursor = upper
        written += 1
    return written


async def latest_bucket(session: AsyncSession, seconds: int) -> datetime | None:
    """The newest agency-wide bucket of this size measured live or rebuilt (not sample data)."""
    latest: datetime | None = await session.scalar(
        select(func.max(MetricSample.bucket_start)).where(
            MetricSample.scope_key == 0,
            MetricSample.bucket_seconds == seconds,
            MetricSample.origin != "sample",
        )
    )
    return latest


async def prune(session: AsyncSession, now: datetime) -> int:
    """Delete buckets past their resolution's retention; days are kept three years."""
    removed = 0
    for seconds, keep in RETENTION.items():
        result = await session.execute(
            delete(MetricSample).where(
                MetricSample.bucket_seconds == seconds, MetricSample.bucket_start < now - keep
            )
        )
        removed += int(getattr(result, "rowcount", 0) or 0)
    return removed
