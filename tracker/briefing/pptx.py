"""The briefing as a 16:9 PowerPoint deck: real text boxes and tables, with only the charts as pictures."""

from __future__ import annotations

import io

from tracker.briefing.colors import text_on
from tracker.briefing.content import Briefing, Chart
from tracker.figures.common import STATUS_COLORS


def to_pptx(b: Briefing) -> bytes:
    """A 16:9 deck of editable text boxes and tables; only the charts are pictures."""
    from pptx import Presentation
    from pptx.dml.color import RGBColor
    from pptx.util import Emu, Inches, Pt

    prs = Presentation()
    prs.slide_width, prs.slide_height = Inches(13.333), Inches(7.5)
    blank = prs.slide_layouts[6]
    left, full = Inches(0.5), Inches(12.333)

    def slide(title: str, size: int = 26):
        s = prs.slides.add_slide(blank)
        box = s.shapes.add_textbox(left, Inches(0.3), full, Inches(0.9))
        box.name = "Title"
        box.text_frame.word_wrap = True
        p = box.text_frame.paragraphs[0]
        p.text = title
        p.font.size, p.font.bold = Pt(size), True
        p.font.color.rgb = RGBColor.from_string("1F4E79")
        return s

    def text(s, lines, x, y, w, h, size=14, first_bold=False, color=None):
        box = s.shapes.add_textbox(x, y, w, h)
        frame = box.text_frame
        frame.word_wrap = True
        for i, line in enumerate(lines):
            p = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
            p.text = line
            p.font.size = Pt(size)
            p.font.bold = first_bold and i == 0
            if color and i == 0:
                p.font.color.rgb = RGBColor.from_string(color.lstrip("#").upper())
        return box

    def picture(s, chart: Chart, top, max_w, max_h):
        ratio = chart.width / chart.height
        w, h = (max_w, int(max_w / ratio)) if max_w / ratio <= max_h else (int(max_h * ratio), max_h)
        s.shapes.add_picture(io.BytesIO(chart.png), int((prs.slide_width - w) / 2), top, Emu(w), Emu(h))

    s = slide(b.title, 32)
    s.shapes[0].top = Inches(2.2)
    s.shapes[0].height = Inches(2)
    if b.sample:
        text(s, [b.t("brief.sample", label=b.sample)], left, Inches(4.6), full, Inches(0.8), 16, color="#A50026")

    s = slide(b.t("brief.headlines"))
    n = len(b.headlines)
    w = int((full - Inches(0.3) * (n - 1)) / n)
    for i, h in enumerate(b.headlines):
        x = left + i * (w + Inches(0.3))
        text(s, [h.label, *h.lines], x, Inches(1.3), w, Inches(5.6), 14, first_bold=True,
             color=STATUS_COLORS.get(h.status))  # fmt: skip

    for chart in b.trends:
        s = slide(chart.heading, 22)
        picture(s, chart, Inches(1.3), int(full), int(Inches(5.9)))

    s = slide(b.map.heading, 22)
    picture(s, b.map, Inches(1.3), int(full), int(Inches(5.9)))

    s = slide(b.table_heading, 22)
    rows, cols = len(b.rows) + 1, len(b.columns)
    shape = s.shapes.add_table(rows, cols, left, Inches(1.3), full, Inches(0.4) * rows)
    table = shape.table
    widths = (2.8, 1.3, 1.4, 1.4, 1.6, 1.6, 1.433, 1.0)
    for i, wd in enumerate(widths[:cols]):
        table.columns[i].width = Inches(wd)
    for r, cells in enumerate([b.columns, *b.rows]):
        for c, value in enumerate(cells):
            cell = table.cell(r, c)
            cell.text = value
            for p in cell.text_frame.paragraphs:
                p.font.size = Pt(12)
                p.font.bold = r == 0
            fill, ink = None, (255, 255, 255)
            if r and c == cols - 2:  # the status, in its colour
                fill = STATUS_COLORS[b.statuses[r - 1]]
            elif r and c == cols - 1 and b.level_colors and b.level_colors[r - 1]:  # the level, in its colour
                fill = b.level_colors[r - 1]
                ink = text_on(fill)
            if fill:
                cell.fill.solid()
                cell.fill.fore_color.rgb = RGBColor.from_string(fill.lstrip("#").upper())
                cell.text_frame.paragraphs[0].font.color.rgb = RGBColor(*ink)

    s = slide(b.t("brief.notes"), 22)
    text(s, b.notes, left, Inches(1.3), full, Inches(5.8), 12)

    out = io.BytesIO()
    prs.save(out)
    return out.getvalue()
