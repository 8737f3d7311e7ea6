"""The report as HTML: a fragment for the dashboard, or a standalone page to download or mail."""

from __future__ import annotations

from markupsafe import Markup, escape

from finagency.reports import charts
from finagency.reports.document import Bullets, Chart, Report, Table

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;color:#1c1c1c;max-width:60rem;
margin:2rem auto;padding:0 1rem;line-height:1.45}
table{border-collapse:collapse;margin:.5rem 0 1rem}th,td{padding:.3rem .7rem;
border-bottom:1px solid #ddd}th{text-align:left;background:#f3f3f3}td.num,th.num{text-align:right}
.report-meta{color:#555;padding-left:1.2rem}.report-chart{max-width:100%;height:auto}
"""


def _table(table: Table) -> str:
    def cls(index: int) -> str:
        return "" if index in table.text_columns else ' class="num"'

    head = "".join(f'<th scope="col"{cls(i)}>{escape(h)}</th>' for i, h in enumerate(table.headers))
    body = "".join(
        "<tr>" + "".join(f"<td{cls(i)}>{escape(c)}</td>" for i, c in enumerate(row)) + "</tr>"
        for row in table.rows
    )
    return f'<table class="compact report-table"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _chart(chart: Chart) -> str:
    legend = ""
    if chart.before:
        legend = (
            '<p class="hint">Solid blue: this period. Dashed grey: the period compared with.</p>'
        )
    return f"<figure><figcaption>{escape(chart.title)}</figcaption>{charts.svg(chart)}{legend}</figure>"


def _link(target: str, text: str) -> str:
    return f'<code title="{escape(target)}">{escape(text)}</code>'


def render_fragment(report: Report, level: int = 1) -> Markup:
    """The report body; all text is escaped here, so the result is safe to insert as is.

    ``level`` is the title's heading level (2 inside a dashboard page that has its own h1).
    """
    title, section = f"h{level}", f"h{level + 1}"
    parts = [
        f'<article class="report"><{title}>{escape(report.title)}</{title}>',
        '<ul class="report-meta">',
    ]
    parts += [f"<li>{escape(line)}</li>" for line in report.subtitle]
    parts.append("</ul>")
    for part in report.sections:
        parts.append(f"<section><{section}>{escape(part.title)}</{section}>")
        for block in part.blocks:
            if isinstance(block, Table):
                parts.append(_table(block))
            elif isinstance(block, Chart):
                parts.append(_chart(block))
            elif isinstance(block, Bullets):
                items = "".join(
                    f"<li>{escape(text)}{' (' + _link(link.target, link.text) + ')' if link else ''}</li>"
                    for text, link in block.items
                )
                parts.append(f'<ul class="report-risks">{items}</ul>')
            else:
                parts.append(f"<p>{escape(block)}</p>")
        parts.append("</section>")
    parts.append("</article>")
    return Markup("".join(parts))  # noqa: S704 - built from escaped parts above


def render_html(report: Report) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(report.title)}</title><style>{STYLE}</style></head>"
        f"<body>{render_fragment(report)}</body></html>\n"
    )
