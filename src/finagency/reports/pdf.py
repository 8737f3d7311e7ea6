"""The report as PDF (fpdf2), with the same tables and the charts drawn as lines."""

from __future__ import annotations

import itertools

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from finagency.reports import charts
from finagency.reports.document import Bullets, Chart, Report, Table

# The built-in PDF fonts cover Latin-1 only; these are the characters reports use beyond it.
REPLACEMENTS = {"−": "-", "–": "-", "—": "-", "…": "...", "’": "'", "“": '"', "”": '"', "≥": ">="}


def latin1(text: str) -> str:
    for char, plain in REPLACEMENTS.items():
        text = text.replace(char, plain)
    return text.encode("latin-1", "replace").decode("latin-1")


class _Pdf(FPDF):
    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("Helvetica", size=8)
        self.cell(0, 8, f"finagency operations report - page {self.page_no()}", align="C")


def _table(pdf: _Pdf, table: Table) -> None:
    pdf.set_font("Helvetica", size=8)
    first = 0.42 if len(table.headers) <= 4 else 0.2
    widths = [first] + [(1 - first) / (len(table.headers) - 1)] * (len(table.headers) - 1)
    total = pdf.epw
    with pdf.table(
        col_widths=tuple(w * total for w in widths),
        text_align=tuple(
            "LEFT" if i in table.text_columns else "RIGHT" for i in range(len(table.headers))
        ),
        line_height=5,
        first_row_as_headings=True,
    ) as grid:
        for row in [table.headers, *table.rows]:
            line = grid.row()
            for cell in row:
                line.cell(latin1(cell))
    pdf.ln(2)


def _chart(pdf: _Pdf, chart: Chart) -> None:
    shape = charts.plot(chart)
    if pdf.get_y() > pdf.h - 70:
        pdf.add_page()
    pdf.set_font("Helvetica", "B", 9)
    pdf.cell(0, 6, latin1(chart.title), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    left, top, width, height = pdf.l_margin + 14, pdf.get_y() + 2, pdf.epw - 16, 38
    pdf.set_draw_color(200, 200, 200)
    pdf.rect(left, top, width, height)
    pdf.set_font("Helvetica", size=7)
    for fraction in (0.0, 0.5, 1.0):
        pdf.text(pdf.l_margin, top + (1 - fraction) * height + 1, f"{shape.top * fraction:,.1f}")
    for series, colour in ((shape.before, (154, 154, 154)), (shape.after, (31, 95, 168))):
        pdf.set_draw_color(*colour)
        pdf.set_line_width(0.5)
        points = [(left + x * width, top + (1 - y) * height) for x, y in series]
        for (x1, y1), (x2, y2) in itertools.pairwise(points):
            pdf.line(x1, y1, x2, y2)
    if not shape.after and not shape.before:
        pdf.text(left + width / 2 - 15, top + height / 2, "No data in this period")
    if chart.span:
        pdf.text(left, top + height + 4, chart.span[0].strftime("%Y-%m-%d %H:%M"))
        pdf.text(left + width - 22, top + height + 4, chart.span[1].strftime("%Y-%m-%d %H:%M"))
    pdf.set_line_width(0.2)
    pdf.set_draw_color(0, 0, 0)
    pdf.set_y(top + height + 8)


def render_pdf(report: Report) -> bytes:
    pdf = _Pdf(format="A4")
    pdf.set_title(latin1(report.title))
    pdf.set_creator("finagency")
    # Uncompressed text streams keep the PDF searchable by simple tools (and by our tests).
    pdf.set_compression(False)
    pdf.set_auto_page_break(auto=True, margin=16)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.multi_cell(0, 8, latin1(report.title), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("Helvetica", size=9)
    for line in report.subtitle:
        pdf.cell(0, 5, latin1(line), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    for section in report.sections:
        pdf.ln(3)
        pdf.set_font("Helvetica", "B", 12)
        pdf.cell(0, 8, latin1(section.title), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        for block in section.blocks:
            if isinstance(block, Table):
                _table(pdf, block)
            elif isinstance(block, Chart):
                _chart(pdf, block)
            elif isinstance(block, Bullets):
                pdf.set_font("Helvetica", size=9)
                for text, link in block.items:
                    suffix = f" ({link.text})" if link else ""
                    pdf.multi_cell(
                        0, 5, latin1(f"- {text}{suffix}"), new_x=XPos.LMARGIN, new_y=YPos.NEXT
                    )
            else:
                pdf.set_font("Helvetica", size=9)
                pdf.multi_cell(0, 5, latin1(block), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
                pdf.ln(1)
    return bytes(pdf.output())
