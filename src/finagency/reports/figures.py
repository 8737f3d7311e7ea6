"""A period's figures, read from the metric history (and, for exact lateness, from the posts)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from finagency.models import EngagementSnapshot, MetricSample, Post, PostStatus
from finagency.models.metrics import DAY, HOUR
from finagency.reports.history import RETENTION
from finagency.reports.measure import p95

Point = tuple[datetime, float]


@dataclass(frozen=True, slots=True)
class Period:
    start: datetime
    end: datetime  # exclusive

    @property
    def hours(self) -> float:
        return max((self.end - self.start).total_seconds() / 3600, 0.0)

    def label(self) -> str:
        last = self.end - timedelta(seconds=1)
        if last.date() == self.start.date():
            return self.start.strftime("%Y-%m-%d")
        return f"{self.start:%Y-%m-%d} to {last:%Y-%m-%d}"


@dataclass
class PlatformFigures:
    posted: int = 0
    failed: int = 0
    retried: int = 0
    dead_lettered: int = 0
    lateness_p95_s: float | None = None
    lateness_avg_s: float | None = None
    lateness_max_s: float | None = None


@dataclass
class Engagement:
    posts: int = 0
    likes: int = 0
    reposts: int = 0
    replies: int = 0
    impressions: int = 0
    clicks: int = 0
    top: list[tuple[str, str, int]] = field(default_factory=list)  # platform, excerpt, score


@dataclass
class Figures:
    """Everything the report says about one period. ``end`` gauges are the last sample."""

    period: Period
    buckets: int = 0
    sample_history: bool = False
    end: dict[str, float] = field(default_factory=dict)
    average: dict[str, float] = field(default_factory=dict)
    peak: dict[str, float] = field(default_factory=dict)
    first: dict[str, float] = field(default_factory=dict)
    jobs_by_state: dict[str, float] = field(default_factory=dict)
    platforms: dict[str, PlatformFigures] = field(default_factory=dict)
    totals: PlatformFigures = field(default_factory=PlatformFigures)
    engagement: Engagement = field(default_factory=Engagement)
    backlog_series: list[Point] = field(default_factory=list)
    throughput_series: list[Point] = field(default_factory=list)
    lateness_series: list[Point] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return self.buckets == 0 and self.totals.posted == 0 and self.engagement.posts == 0

    @property
    def throughput_per_hour(self) -> float:
        hours = self.period.hours
        return round(self.totals.posted / hours, 2) if hours else 0.0

    @property
    def success_rate_pct(self) -> float | None:
        tried = self.totals.posted + self.totals.failed
        return round(self.totals.posted * 100 / tried, 1) if tried else None


def resolution(period: Period, now: datetime) -> int:
    """Hours while they are kept and the period is short enough to chart by the hour."""
    if period.start >= now - RETENTION[HOUR] and period.hours <= 24 * 31:
        return HOUR
    return DAY


async def _rows(
    session: AsyncSession, period: Period, scope_key: int, seconds: int
) -> list[MetricSample]:
    query = (
        select(MetricSample)
        .where(
            MetricSample.scope_key == scope_key,
            MetricSample.bucket_seconds == seconds,
            MetricSample.bucket_start >= period.start,
            MetricSample.bucket_start < period.end,
        )
        .order_by(MetricSample.bucket_start)
    )
    return list((await session.execute(query)).scalars())


async def load_figures(
    session: AsyncSession, period: Period, brand_id: int | None, now: datetime
) -> Figures:
    """The period's figures for one brand, or for the agency when ``brand_id`` is None."""
    figures = Figures(period)
    scope_key = brand_id or 0
    seconds = resolution(period, now)
    rows = await _rows(session, period, scope_key, seconds)
    if not rows and seconds == HOUR:
        rows = await _rows(session, period, scope_key, DAY)
    _fill(figures, rows)
    await _exact_lateness(session, figures, brand_id)
    figures.engagement = await engagement(session, period, brand_id)
    return figures


def _fill(figures: Figures, rows: list[MetricSample]) -> None:
    starts: set[datetime] = set()
    sums: dict[str, float] = defaultdict(float)
    counts: dict[str, int] = defaultdict(int)
    throughput: dict[datetime, float] = {}
    lateness: dict[datetime, float] = {}
    lateness_weight: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for row in rows:
        starts.add(row.bucket_start)
        figures.sample_history = figures.sample_history or row.origin == "sample"
        if row.metric == "jobs":
            figures.jobs_by_state[row.label] = row.value
            continue
        platform = figures.platforms.setdefault(row.label, PlatformFigures()) if row.label else None
        target = platform or figures.totals
        if row.metric == "published":
            target.posted += int(row.value)
            if not row.label:
                throughput[row.bucket_start] = row.value
        elif row.metric == "publish_failed":
            target.failed += int(row.value)
        elif row.metric == "publish_retried":
            target.retried += int(row.value)
        elif row.metric == "dead_lettered":
            target.dead_lettered += int(row.value)
        elif row.metric == "lateness_s":
            weight = lateness_weight[row.label]
            weight[0] += row.total
            weight[1] += row.count
            target.lateness_max_s = max(target.lateness_max_s or 0.0, row.max_value or 0.0)
            # Until the exact figure is read from the posts: the busiest bucket's p95.
            target.lateness_p95_s = max(target.lateness_p95_s or 0.0, row.value)
            if not row.label and row.count:
                lateness[row.bucket_start] = round(row.total / row.count, 1)
        elif not row.label:
            figures.first.setdefault(row.metric, row.value)
            figures.end[row.metric] = row.value
            sums[row.metric] += row.total
            counts[row.metric] += row.count
            top = row.max_value if row.max_value is not None else row.value
            figures.peak[row.metric] = max(figures.peak.get(row.metric, top), top)
    for label, (total, count) in lateness_weight.items():
        target = figures.platforms[label] if label else figures.totals
        target.lateness_avg_s = round(total / count, 1) if count else None
    figures.platforms.pop("", None)
    figures.average = {
        metric: round(sums[metric] / counts[metric], 1) for metric in sums if counts[metric]
    }
    figures.buckets = len(starts)
    ordered = sorted(starts)
    gauge_rows = [r for r in rows if r.metric == "backlog_pct" and not r.label]
    figures.backlog_series = [(r.bucket_start, r.value) for r in gauge_rows]
    figures.throughput_series = [(start, throughput.get(start, 0.0)) for start in ordered]
    figures.lateness_series = [(start, lateness[start]) for start in ordered if start in lateness]


async def _exact_lateness(session: AsyncSession, figures: Figures, brand_id: int | None) -> None:
    """The period's lateness p95 from the posts themselves, where the posts are there."""
    period = figures.period
    query = select(Post.platform, Post.published_at, Post.scheduled_at).where(
        Post.status == PostStatus.PUBLISHED.value,
        Post.published_at >= period.start,
        Post.published_at < period.end,
        Post.scheduled_at.is_not(None),
    )
    if brand_id is not None:
        query = query.where(Post.brand_id == brand_id)
    by_platform: dict[str, list[float]] = defaultdict(list)
    for platform, published, scheduled in (await session.execute(query)).all():
        if published and scheduled:
            by_platform[platform].append(max((published - scheduled).total_seconds(), 0.0))
    every = [value for values in by_platform.values() for value in values]
    if every:
        figures.totals.lateness_p95_s = round(p95(every), 1)
    for platform, values in by_platform.items():
        figures.platforms.setdefault(platform, PlatformFigures()).lateness_p95_s = round(
            p95(values), 1
        )


async def engagement(session: AsyncSession, period: Period, brand_id: int | None) -> Engagement:
    """Latest counters of the posts published in the period (engagement keeps growing after)."""
    latest = (
        select(EngagementSnapshot.post_id, func.max(EngagementSnapshot.at).label("at"))
        .group_by(EngagementSnapshot.post_id)
        .subquery()
    )
    query = (
        select(Post.platform, Post.text, EngagementSnapshot)
        .join(latest, latest.c.post_id == Post.id)
        .join(
            EngagementSnapshot,
            (EngagementSnapshot.post_id == Post.id) & (EngagementSnapshot.at == latest.c.at),
        )
        .where(Post.published_at >= period.start, Post.published_at < period.end)
    )
    if brand_id is not None:
        query = query.where(Post.brand_id == brand_id)
    result = Engagement()
    scored: list[tuple[str, str, int]] = []
    seen: set[int] = set()
    for platform, text, snap in (await session.execute(query)).all():
        if snap.post_id in seen:
            continue
        seen.add(snap.post_id)
        result.posts += 1
        result.likes += snap.likes
        result.reposts += snap.reposts
        result.replies += snap.replies
        result.impressions += snap.impressions
        result.clicks += snap.clicks
        excerpt = " ".join(str(text).split())[:80]
        scored.append((platform, excerpt, snap.likes + snap.reposts + snap.replies))
    result.top = sorted(scored, key=lambda item: item[2], reverse=True)[:3]
    return result
