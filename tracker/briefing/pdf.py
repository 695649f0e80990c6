"""The briefing as an A4 PDF: DejaVu Sans embedded so Vietnamese survives in the text layer, the charts as
pictures, the district table coloured by status and level."""

from __future__ import annotations

import io

from tracker import fmt
from tracker.briefing import renderer
from tracker.briefing.colors import rgb, text_on
from tracker.briefing.content import Briefing, Chart
from tracker.figures.common import STATUS_COLORS


def to_pdf(b: Briefing) -> bytes:
    """An A4 PDF with DejaVu Sans embedded: title and headlines, trends, map and table, notes."""
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    regular, bold = renderer.find_fonts()
    made = b.t(f"brief.generated_{b.origin}")
    footer_text = f"{made} · {fmt.date(b.as_of, b.lang)}" + (f" · {b.sample}" if b.sample else "")

    class Doc(FPDF):
        def footer(self):
            self.set_y(-12)
            self.set_font("DejaVu", size=7)
            self.set_text_color(110)
            self.cell(0, 5, footer_text, align="L")
            self.cell(0, 5, b.t("brief.page", page=self.page_no()), align="R")
            self.set_text_color(0)

    pdf = Doc(orientation="P", unit="mm", format="A4")
    pdf.set_auto_page_break(True, margin=16)
    pdf.set_margins(15, 15, 15)
    pdf.add_font("DejaVu", "", str(regular))
    pdf.add_font("DejaVu", "B", str(bold))
    pdf.set_title(b.title)
    pdf.set_lang(b.lang)
    pdf.set_creator("tracker brief" if b.origin == "cli" else "tracker dashboard")
    width = pdf.epw

    def heading(text: str, size: float = 13) -> None:
        pdf.set_font("DejaVu", "B", size)
        pdf.multi_cell(width, size * 0.5, text, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)

    def paragraph(text: str, size: float = 10, indent: float = 0) -> None:
        pdf.set_font("DejaVu", size=size)
        pdf.set_x(pdf.l_margin + indent)
        pdf.multi_cell(width - indent, size * 0.5, text, new_x="LMARGIN", new_y="NEXT")

    def image(chart: Chart, w: float) -> None:
        h = w * chart.height / chart.width
        if pdf.get_y() + h > pdf.page_break_trigger:
            pdf.add_page()
        pdf.image(io.BytesIO(chart.png), x=pdf.l_margin + (width - w) / 2, w=w, h=h)
        pdf.ln(3)

    pdf.add_page()
    heading(b.title, 16)
    if b.sample:
        pdf.set_text_color(*rgb("#a50026"))
        paragraph(b.t("brief.sample", label=b.sample), 9)
        pdf.set_text_color(0)
        pdf.ln(2)
    heading(b.t("brief.headlines"), 13)
    for h in b.headlines:
        pdf.set_font("DejaVu", "B", 11)
        pdf.set_text_color(*rgb(STATUS_COLORS.get(h.status, "#000000")))
        pdf.multi_cell(width, 5.5, f"■ {h.label}", new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0)
        for line in h.lines:
            paragraph(f"– {line}", 10, indent=5)
        pdf.ln(3)

    pdf.add_page()
    heading(b.t("brief.trend"))
    for chart in b.trends:
        paragraph(chart.heading, 10)
        image(chart, width)

    pdf.add_page()
    heading(b.map.heading)
    image(b.map, width * 0.78)
    heading(b.table_heading, 11)
    pdf.set_font("DejaVu", size=7.5)
    heads = FontFace(emphasis="BOLD", fill_color=rgb("#1f4e79"), color=(255, 255, 255))
    with pdf.table(
        col_widths=(42, 18, 18, 20, 22, 22, 24, 14), text_align=("LEFT", *["RIGHT"] * 5, "LEFT", "LEFT"),
        headings_style=heads, line_height=4.2, first_row_as_headings=True,
    ) as tbl:  # fmt: skip
        tbl.row(b.columns)
        for cells, status, level in zip(b.rows, b.statuses, b.level_colors or [None] * len(b.rows), strict=True):
            row = tbl.row()
            for cell in cells[:-2]:
                row.cell(cell)
            row.cell(cells[-2], style=FontFace(color=(255, 255, 255), fill_color=rgb(STATUS_COLORS[status])))
            if level:
                row.cell(cells[-1], style=FontFace(color=text_on(level), fill_color=rgb(level)))
            else:
                row.cell(cells[-1])
    pdf.ln(4)

    heading(b.t("brief.notes"))
    for note in b.notes:
        paragraph(note, 9)
    return bytes(pdf.output())
