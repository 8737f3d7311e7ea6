"""Open risks come from the data, each with the runbook that handles it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from finagency.reports.figures import Figures, Period, PlatformFigures
from finagency.reports.infra import AccountStatus, Infra, SourceStatus, find_risks

NOW = datetime(2026, 3, 9, 6, tzinfo=UTC)


def _figures(first_backlog: float, last_backlog: float, stuck: float) -> Figures:
    figures = Figures(Period(NOW - timedelta(days=7), NOW))
    figures.first = {"backlog_pct": first_backlog}
    figures.end = {"backlog_pct": last_backlog, "stuck": stuck}
    return figures


def _infra(**changes: object) -> Infra:
    infra = Infra(
        database="1 database (SQLite)", database_ok=True, redis="answering", workers_alive=2
    )
    for name, value in changes.items():
        setattr(infra, name, value)
    return infra


def test_a_healthy_week_has_no_risks() -> None:
    assert find_risks(_figures(3.0, 2.0, 0), _infra(), NOW) == []


def test_each_problem_in_the_data_becomes_a_risk_with_its_runbook() -> None:
    figures = _figures(10.0, 40.0, 3)
    figures.platforms = {"x": PlatformFigures(posted=5, dead_lettered=2)}
    infra = _infra(
        redis="not answering",
        workers_alive=0,
        breakers_open=["platform:x"],
        sources=[SourceStatus("SEC press releases", "rss", True, None, "timeout")],
        accounts=[
            AccountStatus("linkedin", "acme", "active", "closed", NOW + timedelta(days=2)),
            AccountStatus("x", "acme", "auth_expired", "open", None),
            AccountStatus("mastodon", "acme", "active", "closed", NOW + timedelta(days=60)),
        ],
    )
    risks = {(risk.title, risk.link) for risk in find_risks(figures, infra, NOW)}
    assert risks == {
        ("Backlog growing", "docs/runbooks/backlog-growing.md"),
        ("Posts stuck", "docs/runbooks/backlog-growing.md"),
        ("No worker running", "docs/runbooks/backlog-growing.md"),
        ("Circuit breaker open", "docs/runbooks/platform-outage.md"),
        ("Token expiring", "docs/runbooks/token-expired.md"),
        ("Token expired", "docs/runbooks/token-expired.md"),
        ("Dead letters", "docs/runbooks/platform-outage.md"),
        ("Sources failing", "docs/runbooks/platform-outage.md"),
        ("Redis down", "docs/runbooks/redis-down.md"),
    }
    details = " ".join(risk.detail for risk in find_risks(figures, infra, NOW))
    assert "from 10.0% to 40.0%" in details and "expires in 2.0 days" in details
