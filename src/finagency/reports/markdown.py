"""The report as Markdown: text and tables, with a one-line sparkline per chart."""

from __future__ import annotations

from finagency.reports.document import Bullets, Chart, Report, Table

SPARKS = "▁▂▃▄▅▆▇█"


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def sparkline(values: list[float], width: int = 48) -> str:
    """Unicode bars, one per value; long series are averaged down to ``width`` bars."""
    if not values:
        return ""
    if len(values) > width:
        step = len(values) / width
        values = [
            sum(chunk) / len(chunk)
            for chunk in (values[int(i * step) : int((i + 1) * step)] for i in range(width))
            if chunk
        ]
    low, high = min(values), max(values)
    spread = (high - low) or 1.0
    return "".join(SPARKS[int((v - low) / spread * (len(SPARKS) - 1))] for v in values)


def _table(table: Table) -> list[str]:
    align = [":---" if i in table.text_columns else "---:" for i in range(len(table.headers))]
    lines = ["| " + " | ".join(_cell(h) for h in table.headers) + " |"]
    lines.append("| " + " | ".join(align) + " |")
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in table.rows]
    return lines


def _chart(chart: Chart) -> list[str]:
    values = [value for _, value in chart.series]
    if not values:
        return [f"*{chart.title}: no data in this period.*"]
    return [
        f"**{chart.title}** ({chart.unit}): `{sparkline(values)}` "
        f"min {min(values):,.1f}, max {max(values):,.1f}, last {values[-1]:,.1f}"
    ]


def render_markdown(report: Report) -> str:
    lines = [f"# {report.title}", ""]
    lines += [f"- {line}" for line in report.subtitle]
    for section in report.sections:
        lines += ["", f"## {section.title}", ""]
        for block in section.blocks:
            if isinstance(block, Table):
                lines += _table(block)
            elif isinstance(block, Chart):
                lines += _chart(block)
            elif isinstance(block, Bullets):
                for text, link in block.items:
                    suffix = f" ([{link.text}]({link.target}))" if link else ""
                    lines.append(f"- {text}{suffix}")
            else:
                lines.append(block)
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"
