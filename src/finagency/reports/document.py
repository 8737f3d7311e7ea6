"""The report as a neutral document (sections of paragraphs, tables, charts and links) that the
Markdown, HTML and PDF renderers all draw, so the three formats always say the same thing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

Point = tuple[datetime, float]


@dataclass(frozen=True, slots=True)
class Table:
    headers: list[str]
    rows: list[list[str]]
    # Columns after the first are numbers unless listed here (text columns align left).
    text_columns: frozenset[int] = frozenset({0})


@dataclass(frozen=True, slots=True)
class Chart:
    title: str
    unit: str
    series: list[Point]
    before: list[Point] = field(default_factory=list)
    # Where each series starts and ends, so the before period overlays the after one.
    span: tuple[datetime, datetime] | None = None
    before_span: tuple[datetime, datetime] | None = None


@dataclass(frozen=True, slots=True)
class Link:
    text: str
    target: str


@dataclass(frozen=True, slots=True)
class Bullets:
    items: list[tuple[str, Link | None]]


Block = str | Table | Chart | Bullets


@dataclass
class Section:
    title: str
    blocks: list[Block] = field(default_factory=list)


@dataclass
class Report:
    title: str
    subtitle: list[str]
    generated_at: datetime
    sections: list[Section]
    empty: bool
    summary: dict[str, Any] = field(default_factory=dict)


def fmt(value: float | None, kind: str) -> str:
    """A number as a manager reads it: counts with separators, one decimal elsewhere."""
    if value is None:
        return "n/a"
    if kind == "int":
        return f"{round(value):,}"
    if kind == "pct":
        return f"{value:,.1f}%"
    if kind == "seconds":
        return f"{value:,.1f} s"
    return f"{value:,.1f}"


def change(before: float | None, after: float | None, kind: str) -> str:
    """After minus before: percentage points for rates, and the relative change for amounts."""
    if before is None or after is None:
        return "n/a"
    delta = after - before
    if kind == "pct":
        return f"{delta:+,.1f} pp"
    shown = f"{round(delta):+,}" if kind == "int" else f"{delta:+,.1f}"
    if kind == "seconds":
        shown += " s"
    if before == 0:
        return shown if delta else "no change"
    if delta == 0:
        return "no change"
    return f"{shown} ({delta * 100 / abs(before):+,.1f}%)"
