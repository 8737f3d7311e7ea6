"""Charts drawn on the server as inline SVG geometry (no chart library, no script needed).

The functions return numbers and strings only; the templates draw ``<polyline>`` and ``<rect>``
elements from them, so every label still goes through autoescaping. Each chart also comes
with a table in the page, which is what screen readers read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

WIDTH = 640
HEIGHT = 180
PAD = 24
SERIES_CLASSES = 6  # CSS has .series-0 … .series-5


@dataclass(frozen=True, slots=True)
class Line:
    name: str
    points: str  # "x,y x,y ..." for <polyline points>
    css: str
    total: float


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: float
    label: str


@dataclass(frozen=True, slots=True)
class LineChart:
    lines: list[Line]
    peak: float
    first_label: str
    last_label: str
    width: int = WIDTH
    height: int = HEIGHT


def _scale(value: float, peak: float) -> float:
    usable = HEIGHT - 2 * PAD
    return round(HEIGHT - PAD - (value / peak) * usable if peak else HEIGHT - PAD, 1)


def line_chart(labels: Sequence[str], series: Mapping[str, Sequence[float]]) -> LineChart:
    """One polyline per series over shared x labels (e.g. days)."""
    peak = max((max(values, default=0) for values in series.values()), default=0) or 1
    count = max(len(labels), 1)
    step = (WIDTH - 2 * PAD) / max(count - 1, 1)
    lines = []
    for index, (name, values) in enumerate(sorted(series.items())):
        points = " ".join(
            f"{round(PAD + i * step, 1)},{_scale(float(v), peak)}" for i, v in enumerate(values)
        )
        lines.append(Line(name, points, f"series-{index % SERIES_CLASSES}", float(sum(values))))
    return LineChart(lines, float(peak), labels[0] if labels else "", labels[-1] if labels else "")


def bar_chart(labels: Sequence[str], values: Sequence[float]) -> list[Bar]:
    """Bars over the chart's width, tallest at the top padding."""
    peak = max(values, default=0) or 1
    count = max(len(values), 1)
    slot = (WIDTH - 2 * PAD) / count
    bars = []
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        top = _scale(float(value), float(peak))
        bars.append(
            Bar(
                x=round(PAD + index * slot + 1, 1),
                y=top,
                width=round(max(slot - 2, 1), 1),
                height=round(HEIGHT - PAD - top, 1),
                value=float(value),
                label=label,
            )
        )
    return bars


def heat_level(value: float | None, peak: float) -> int:
    """0 (no data) to 4 (the busiest cell), for the heatmap's CSS classes."""
    if value is None or peak <= 0:
        return 0
    return min(4, 1 + int(3 * value / peak))
