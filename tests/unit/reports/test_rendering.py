"""The report's formats, drawn from one document: numbers, changes, escaping, charts, PDF."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from finagency.reports import charts
from finagency.reports.document import Bullets, Chart, Link, Report, Section, Table, change, fmt
from finagency.reports.html import render_fragment, render_html
from finagency.reports.markdown import render_markdown, sparkline
from finagency.reports.pdf import render_pdf

START = datetime(2026, 3, 2, tzinfo=UTC)


def _report(text: str = "Acme | <script>alert(1)</script>") -> Report:
    series = [(START + timedelta(hours=h), float(h % 5)) for h in range(24)]
    return Report(
        title="Operations report",
        subtitle=["Scope: " + text],
        generated_at=START,
        sections=[
            Section(
                "Queue processing",
                [
                    Table(["Metric", "Before", "After"], [[text, "84.7%", "2.1%"]]),
                    Chart("Backlog over time", "%", series, span=(START, START + timedelta(1))),
                    Bullets(
                        [("Backlog growing", Link("runbook", "docs/runbooks/backlog-growing.md"))]
                    ),
                ],
            )
        ],
        empty=False,
    )


def test_changes_read_as_a_manager_expects() -> None:
    assert change(84.7, 2.1, "pct") == "-82.6 pp"
    assert change(127, 0, "int") == "-127 (-100.0%)"
    assert change(0, 5, "int") == "+5"
    assert change(10.0, 10.0, "seconds") == "no change"
    assert change(None, 3, "int") == "n/a"
    assert fmt(1234567, "int") == "1,234,567"
    assert fmt(None, "pct") == "n/a"


def test_markdown_escapes_table_cells_and_keeps_links() -> None:
    text = render_markdown(_report())
    assert "| Acme \\| <script>alert(1)</script> | 84.7% | 2.1% |" in text
    assert "(docs/runbooks/backlog-growing.md)" in text
    assert "**Backlog over time** (%)" in text


def test_sparkline_is_bounded_and_follows_the_values() -> None:
    assert sparkline([0.0, 1.0, 2.0]) == "▁▄█"
    assert len(sparkline([float(v) for v in range(500)])) == 48


def test_html_escapes_everything_it_is_given() -> None:
    html = str(render_fragment(_report()))
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    page = render_html(_report())
    assert page.startswith("<!doctype html>") and page.count("<svg") == 1


def test_chart_geometry_spans_the_period_and_overlays_the_earlier_one() -> None:
    after = [(START, 10.0), (START + timedelta(hours=12), 20.0)]
    before = [(START - timedelta(days=1), 40.0)]
    shape = charts.plot(
        Chart(
            "t",
            "%",
            after,
            before,
            span=(START, START + timedelta(days=1)),
            before_span=(START - timedelta(days=1), START),
        )
    )
    assert shape.top == 44.0
    assert shape.after == [(0.0, 10 / 44), (0.5, 20 / 44)]
    assert shape.before == [(0.0, 40 / 44)]
    empty = charts.svg(Chart("Nothing <here>", "s", []))
    assert "No data in this period" in empty and "Nothing &lt;here&gt;" in empty


def test_pdf_holds_the_text_and_survives_characters_outside_latin1() -> None:
    pdf = render_pdf(_report("Ünïcode − “quotes” → arrows"))
    assert pdf.startswith(b"%PDF-")
    assert b"Queue processing" in pdf
    assert b"Backlog over time" in pdf
