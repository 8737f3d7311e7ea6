"""Line charts drawn by hand: the geometry once, as inline SVG for HTML and as lines for PDF.

The earlier period (when comparing) is laid over the later one by its offset from its own
start, so "the same day of the week before" sits under today.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from markupsafe import escape

from finagency.reports.document import Chart, Point

AFTER_COLOUR = "#1f5fa8"
BEFORE_COLOUR = "#9a9a9a"


@dataclass(frozen=True, slots=True)
class Plot:
    """A chart in unit coordinates: x and y from 0 to 1, y upwards."""

    after: list[tuple[float, float]]
    before: list[tuple[float, float]]
    top: float  # the value at y = 1


def _scale(
    series: list[Point], span: tuple[datetime, datetime] | None, top: float
) -> list[tuple[float, float]]:
    if not series:
        return []
    start, end = span or (series[0][0], series[-1][0])
    width = (end - start).total_seconds() or 1.0
    return [
        (min(max((at - start).total_seconds() / width, 0.0), 1.0), value / top if top else 0.0)
        for at, value in series
    ]


def plot(chart: Chart) -> Plot:
    values = [v for _, v in chart.series] + [v for _, v in chart.before]
    top = max(values, default=0.0)
    top = top * 1.1 if top > 0 else 1.0
    return Plot(
        _scale(chart.series, chart.span, top), _scale(chart.before, chart.before_span, top), top
    )


def _polyline(
    points: list[tuple[float, float]],
    box: tuple[int, int, int, int],
    colour: str,
    dashed: bool = False,
) -> str:
    left, top, width, height = box
    coords = " ".join(f"{left + x * width:.1f},{top + (1 - y) * height:.1f}" for x, y in points)
    dash = ' stroke-dasharray="4 3"' if dashed else ""
    return f'<polyline fill="none" stroke="{colour}" stroke-width="2"{dash} points="{coords}"/>'


def svg(chart: Chart, width: int = 640, height: int = 180) -> str:
    """An accessible SVG line chart; every text in it is escaped."""
    shape = plot(chart)
    box = (48, 12, width - 60, height - 36)
    left, top, inner_w, inner_h = box
    title = escape(chart.title)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="report-chart" role="img" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'aria-label="{title}"><title>{title}</title>',
        f'<rect x="{left}" y="{top}" width="{inner_w}" height="{inner_h}" fill="#fafafa" '
        f'stroke="#cccccc"/>',
    ]
    for fraction in (0.0, 0.5, 1.0):
        y = top + (1 - fraction) * inner_h
        label = escape(f"{shape.top * fraction:,.1f}")
        parts.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="#555555">{label}</text>'
        )
    if chart.span:
        for x, at in ((left, chart.span[0]), (left + inner_w, chart.span[1])):
            anchor = "start" if x == left else "end"
            parts.append(
                f'<text x="{x}" y="{height - 8}" text-anchor="{anchor}" font-size="11" '
                f'fill="#555555">{escape(at.strftime("%Y-%m-%d %H:%M"))}</text>'
            )
    if not shape.after and not shape.before:
        parts.append(
            f'<text x="{left + inner_w / 2:.0f}" y="{top + inner_h / 2:.0f}" '
            f'text-anchor="middle" font-size="13" fill="#555555">No data in this period</text>'
        )
    if len(shape.before) > 1:
        parts.append(_polyline(shape.before, box, BEFORE_COLOUR, dashed=True))
    if len(shape.after) > 1:
        parts.append(_polyline(shape.after, box, AFTER_COLOUR))
    elif len(shape.after) == 1:
        dot_x, dot_y = shape.after[0]
        parts.append(
            f'<circle cx="{left + dot_x * inner_w:.1f}" cy="{top + (1 - dot_y) * inner_h:.1f}" r="3" '
            f'fill="{AFTER_COLOUR}"/>'
        )
    parts.append("</svg>")
    return "".join(parts)
