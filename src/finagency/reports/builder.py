"""Turn a period's figures (and an earlier period's, for comparison) into the report's sections."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from finagency.reports.document import (
    Bullets,
    Chart,
    Link,
    Report,
    Section,
    Table,
    change,
    fmt,
)
from finagency.reports.figures import Figures
from finagency.reports.infra import TOKEN_WARNING, Infra, Risk

Getter = Callable[[Figures], float | None]
Row = tuple[str, str, Getter]

SUMMARY_ROWS: list[Row] = [
    ("Posts published", "int", lambda f: f.totals.posted),
    ("Publish success rate", "pct", lambda f: f.success_rate_pct),
    ("Throughput (posts per hour)", "num", lambda f: f.throughput_per_hour),
    ("Backlog at period end", "pct", lambda f: f.end.get("backlog_pct")),
    ("Stuck over 2 h at period end", "int", lambda f: f.end.get("stuck")),
    ("Schedule lag p95", "seconds", lambda f: f.totals.lateness_p95_s),
    ("Dead-lettered jobs", "int", lambda f: f.totals.dead_lettered),
    ("Impressions", "int", lambda f: f.engagement.impressions),
]
# The seed system's own table, with its definitions (analytics.stats), at the period's end.
QUEUE_ROWS: list[Row] = [
    ("Total", "int", lambda f: f.end.get("total")),
    ("Pending", "int", lambda f: f.end.get("pending")),
    ("Posted", "int", lambda f: f.end.get("posted")),
    ("Backlog %", "pct", lambda f: f.end.get("backlog_pct")),
    ("Stuck over 2 h", "int", lambda f: f.end.get("stuck")),
    ("Processing rate", "pct", lambda f: f.end.get("processing_rate_pct")),
    ("In review", "int", lambda f: f.end.get("in_review")),
    ("Failed (needs attention)", "int", lambda f: f.end.get("failed")),
    ("Dead letters (in queue)", "int", lambda f: f.end.get("dead_letters")),
    ("Failure rate (24 h)", "pct", lambda f: f.end.get("failure_rate_pct")),
    ("Average backlog %", "pct", lambda f: f.average.get("backlog_pct")),
    ("Peak stuck over 2 h", "int", lambda f: f.peak.get("stuck")),
    ("Workers alive (average)", "num", lambda f: f.average.get("workers_alive")),
]
ENGAGEMENT_ROWS: list[Row] = [
    ("Posts with engagement", "int", lambda f: f.engagement.posts),
    ("Impressions", "int", lambda f: f.engagement.impressions),
    ("Likes", "int", lambda f: f.engagement.likes),
    ("Reposts", "int", lambda f: f.engagement.reposts),
    ("Replies", "int", lambda f: f.engagement.replies),
    ("Clicks", "int", lambda f: f.engagement.clicks),
]
PLATFORM_MEASURES: list[tuple[str, str, str]] = [
    ("Posted", "int", "posted"),
    ("Failed", "int", "failed"),
    ("Retried", "int", "retried"),
    ("Dead-lettered", "int", "dead_lettered"),
    ("Lateness p95", "seconds", "lateness_p95_s"),
    ("Lateness max", "seconds", "lateness_max_s"),
]


def metric_table(rows: list[Row], after: Figures, before: Figures | None) -> Table:
    if before is None:
        return Table(["Metric", "Value"], [[label, fmt(get(after), k)] for label, k, get in rows])
    return Table(
        ["Metric", "Before", "After", "Change"],
        [
            [label, fmt(get(before), k), fmt(get(after), k), change(get(before), get(after), k)]
            for label, k, get in rows
        ],
    )


def platform_table(after: Figures, before: Figures | None) -> Table | str:
    names = sorted(set(after.platforms) | set(before.platforms if before else {}))
    if not names:
        return "Nothing was published or attempted in this period."
    if before is None:
        headers = ["Platform", *(label for label, _, _ in PLATFORM_MEASURES)]
        body = []
        for name in names:
            figures = after.platforms[name]
            body.append(
                [name, *(fmt(getattr(figures, attr), k) for _, k, attr in PLATFORM_MEASURES)]
            )
        return Table(headers, body)
    body = []
    for name in names:
        old, new = before.platforms.get(name), after.platforms.get(name)
        for label, k, attr in PLATFORM_MEASURES:
            b = getattr(old, attr) if old else None
            a = getattr(new, attr) if new else None
            b = 0 if b is None and k == "int" else b
            a = 0 if a is None and k == "int" else a
            body.append([name, label, fmt(b, k), fmt(a, k), change(b, a, k)])
    return Table(["Platform", "Measure", "Before", "After", "Change"], body, frozenset({0, 1}))


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "never"


def infra_blocks(infra: Infra, now: datetime) -> list[str | Table | Chart | Bullets]:
    failing = [s for s in infra.sources if s.failing]
    expiring = [
        a
        for a in infra.accounts
        if a.status == "auth_expired"
        or (a.token_expires_at is not None and a.token_expires_at < now + TOKEN_WARNING)
    ]
    overview = Table(
        ["Component", "Status"],
        [
            ["Database", f"{infra.database}, answering"],
            ["Redis", infra.redis],
            ["Workers", f"{infra.workers_alive} alive"],
            ["Sources", f"{len(infra.sources) - len(failing)} healthy, {len(failing)} failing"],
            [
                "Accounts",
                f"{len(infra.accounts)} connected, {len(expiring)} with a token expired "
                "or expiring within 7 days",
            ],
            ["Circuit breakers", f"{len(infra.breakers_open)} open"],
        ],
        frozenset({0, 1}),
    )
    blocks: list[str | Table | Chart | Bullets] = [
        f"As of {_when(now)}; restore drill: docs/runbooks/database-restore.md.",
        overview,
    ]
    if infra.sources:
        blocks.append(
            Table(
                ["Source", "Kind", "Status", "Last success"],
                [
                    [s.name, s.kind, "failing" if s.failing else "ok", _when(s.last_success)]
                    for s in infra.sources
                ],
                frozenset({0, 1, 2, 3}),
            )
        )
    if infra.accounts:
        rows = []
        for a in infra.accounts:
            if a.token_expires_at is None:
                expiry = "does not expire"
            else:
                days = (a.token_expires_at - now).total_seconds() / 86400
                expiry = f"{_when(a.token_expires_at)} ({days:.0f} days)"
            rows.append([a.platform, a.handle, a.status, a.breaker, expiry])
        blocks.append(
            Table(
                ["Platform", "Account", "Status", "Breaker", "Token expiry"],
                rows,
                frozenset({0, 1, 2, 3, 4}),
            )
        )
    return blocks


def _charts(after: Figures, before: Figures | None) -> list[str | Table | Chart | Bullets]:
    span = (after.period.start, after.period.end)
    old = (before.period.start, before.period.end) if before else None
    return [
        Chart(
            "Backlog over time",
            "%",
            after.backlog_series,
            before.backlog_series if before else [],
            span,
            old,
        ),
        Chart(
            "Throughput (posts published per bucket)",
            "posts",
            after.throughput_series,
            before.throughput_series if before else [],
            span,
            old,
        ),
        Chart(
            "Lateness (average seconds past schedule)",
            "s",
            after.lateness_series,
            before.lateness_series if before else [],
            span,
            old,
        ),
    ]


def _headline(after: Figures, before: Figures | None) -> str:
    text = (
        f"In the period {after.period.label()} finagency published {after.totals.posted:,} posts "
        f"({after.throughput_per_hour:,.1f} an hour)"
    )
    rate = after.success_rate_pct
    if rate is not None:
        text += f" with a {rate:.1f}% publish success rate"
    backlog = after.end.get("backlog_pct")
    if backlog is not None:
        text += f"; the backlog stood at {backlog:.1f}% at the end"
        if before is not None and before.end.get("backlog_pct") is not None:
            text += f" (before: {before.end['backlog_pct']:.1f}%)"
    return text + "."


def build(
    *,
    title: str,
    scope: str,
    after: Figures,
    before: Figures | None,
    infra: Infra,
    risks: list[Risk],
    now: datetime,
) -> Report:
    subtitle = [f"Scope: {scope}", f"Period: {after.period.label()} (UTC)"]
    if before is not None:
        subtitle.append(f"Compared with: {before.period.label()} (UTC)")
    subtitle.append(f"Generated: {_when(now)}")
    summary = Section("Executive summary")
    sections = [summary]
    if after.empty:
        summary.blocks.append(
            f"No activity was recorded in the period {after.period.label()}: the metric history "
            "has no buckets in this period and no post was published in it."
        )
    else:
        summary.blocks += [_headline(after, before), metric_table(SUMMARY_ROWS, after, before)]
        if after.sample_history or (before is not None and before.sample_history):
            summary.blocks.append("Part of this history is the demo's sample data.")
        sections += [
            Section("Queue processing", [metric_table(QUEUE_ROWS, after, before)]),
            Section("Publishing per platform", [platform_table(after, before)]),
            Section("Trends", _charts(after, before)),
        ]
    cache = after.average.get("cache_hit_rate_pct")
    cache_blocks: list[str | Table | Chart | Bullets] = [
        "No cache counters were recorded for this period."
        if cache is None
        else metric_table(
            [("Cache hit rate (average)", "pct", lambda f: f.average.get("cache_hit_rate_pct"))],
            after,
            before,
        )
    ]
    sections.append(Section("Cache performance", cache_blocks))
    engagement: list[str | Table | Chart | Bullets] = [metric_table(ENGAGEMENT_ROWS, after, before)]
    if after.engagement.top:
        engagement.append(
            Table(
                ["Top posts", "Platform", "Interactions"],
                [[text, platform, f"{score:,}"] for platform, text, score in after.engagement.top],
                frozenset({0, 1}),
            )
        )
    sections.append(Section("Engagement", engagement))
    sections.append(Section("Infrastructure status", infra_blocks(infra, now)))
    risk_items: list[tuple[str, Link | None]] = [
        (f"{risk.title}: {risk.detail}", Link(f"runbook: {risk.link}", risk.link)) for risk in risks
    ]
    sections.append(
        Section(
            "Open risks",
            [Bullets(risk_items) if risk_items else "No open risks were found in the data."],
        )
    )
    values = {label: get(after) for label, _, get in SUMMARY_ROWS}
    return Report(
        title=title,
        subtitle=subtitle,
        generated_at=now,
        sections=sections,
        empty=after.empty,
        summary={"after": values, "risks": len(risks), "empty": after.empty},
    )
