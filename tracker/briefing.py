"""The weekly briefing: the overview's headlines, the trend, the map and the district table as PDF or PPTX.

The charts are the figure builders the pages use (tracker.figures), rendered to PNG on the server by
kaleido 1.x, which drives a local Chrome/Chromium (found by choreographer: $BROWSER_PATH, else `chrome`,
`chromium`… on PATH, else the usual install paths such as /usr/bin/chromium). MathJax is off, plotly.js
comes from the plotly package and the maps are offline, so rendering needs no network.
The PDF embeds DejaVu Sans (found at run time) so Vietnamese survives in the text layer; the PPTX
holds real text boxes and tables, with only the charts as pictures.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import io
import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from tracker import core, fmt, geo, i18n, risk, views
from tracker.config import Config, Target
from tracker.errors import InputError, TrackerError
from tracker.figures import maps, trends
from tracker.figures.common import STATUS_COLORS

FORMATS = ("pdf", "pptx")
MIME = {
    "pdf": "application/pdf",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
SCALE = 2  # PNG pixels per CSS pixel
TREND_SIZE = (1000, 460)  # CSS pixels; the PNG is SCALE times larger
MAP_SIZE = (800, 600)
RENDER_TIMEOUT = 90  # seconds per chart
FONT_DIRS = (
    "/usr/share/fonts/truetype/dejavu",  # Debian, Ubuntu (fonts-dejavu-core)
    "/usr/share/fonts/dejavu",  # Fedora, Alpine
    "/usr/share/fonts/TTF",  # Arch
    "/usr/local/share/fonts",
    "/Library/Fonts",
)
FONT_FILES = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf")
FONT_ENV = "TRACKER_FONT_DIR"  # a folder holding DejaVuSans.ttf and DejaVuSans-Bold.ttf


class RendererMissing(TrackerError):
    """kaleido or a Chrome/Chromium for it is not installed: no chart can be rendered."""


# --------------------------------------------------------------------------- finding the tools


def _is_exe(path: str | os.PathLike) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


def _short_level(name) -> str:
    """'Cấp 1 – Nguy cơ thấp (vùng xanh)' → 'Cấp 1' for a narrow table cell; the full names are on the risk page."""
    return name.split(" – ")[0] if isinstance(name, str) else fmt.EMPTY


def find_browser() -> str:
    """The Chrome/Chromium kaleido will drive; RendererMissing (with what to do) when there is none."""
    try:
        import kaleido  # noqa: F401
        from choreographer.browsers.chromium import Chromium
    except ImportError:
        raise RendererMissing(
            "the chart renderer is not installed: `pip install 'kaleido>=1,<2'` (it needs a Chrome or Chromium too)"
        ) from None
    explicit = os.environ.get("BROWSER_PATH")
    if explicit:
        if _is_exe(explicit):
            return explicit
        raise RendererMissing(
            f"BROWSER_PATH={explicit!r} is not an executable Chrome or Chromium; the charts cannot be rendered"
        )
    path = Chromium.find_browser(skip_local=False)
    if path and _is_exe(path):
        return path
    raise RendererMissing(
        "no Chrome or Chromium found to render the charts (kaleido needs one): install it "
        "(Debian/Ubuntu: `apt-get install chromium`) or set BROWSER_PATH to its executable"
    )


def find_fonts() -> tuple[Path, Path]:
    """DejaVu Sans regular and bold (they cover Vietnamese); TrackerError when they are not installed."""
    dirs = [os.environ[FONT_ENV]] if os.environ.get(FONT_ENV) else []
    for folder in [*dirs, *FONT_DIRS]:
        paths = tuple(Path(folder) / name for name in FONT_FILES)
        if all(p.is_file() for p in paths):
            return paths
    raise TrackerError(
        f"the PDF needs the DejaVu Sans font ({', '.join(FONT_FILES)}) for Vietnamese text and it is not "
        f"installed (Debian/Ubuntu: `apt-get install fonts-dejavu-core`), or set {FONT_ENV} to its folder"
    )


def check() -> None:
    """Raise RendererMissing / TrackerError now when a briefing could not be made on this machine."""
    find_browser()


# --------------------------------------------------------------------------- rendering charts


def render_png(figures: list[tuple[object, int, int]]) -> list[bytes]:
    """PNG bytes (SCALE× the given width and height) of each (figure, width, height), in one browser."""
    browser = find_browser()
    import kaleido
    from choreographer.errors import BrowserFailedError, ChromeNotFoundError

    async def run() -> list[bytes]:
        async with kaleido.Kaleido(n=1, timeout=RENDER_TIMEOUT, mathjax=False, path=browser) as k:
            return [
                await k.calc_fig(fig, opts={"format": "png", "width": w, "height": h, "scale": SCALE})
                for fig, w, h in figures
            ]

    try:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(run())
        with concurrent.futures.ThreadPoolExecutor(1) as pool:  # called from inside an event loop
            return pool.submit(asyncio.run, run()).result()
    except ChromeNotFoundError:
        raise RendererMissing(f"the chart renderer could not find a browser at {browser}") from None
    except BrowserFailedError as exc:
        raise RendererMissing(f"the browser {browser} did not start for the chart renderer: {exc}") from None


# --------------------------------------------------------------------------- content


@dataclass
class Chart:
    heading: str
    png: bytes
    width: int  # PNG pixels
    height: int


@dataclass
class Headline:
    label: str
    status: str
    lines: list[str]


@dataclass
class Briefing:
    lang: str
    as_of: dt.date
    title: str
    sample: str | None
    headlines: list[Headline]
    trends: list[Chart]
    map: Chart
    table_heading: str
    columns: list[str]
    rows: list[list[str]]
    statuses: list[str]  # per row: the status, which colours the status cell
    level_colors: list[str | None] = field(default_factory=list)  # per row: the level's colour (rules file), or none
    notes: list[str] = field(default_factory=list)

    def t(self, key: str, **values) -> str:
        return i18n.t(key, self.lang, **values)


def _plain(text: str) -> str:
    return text.replace("**", "").replace("`", "")


def _headline(row, target: Target, lang: str) -> Headline:
    pct = lambda v, **kw: fmt.percent(v, lang, **kw)  # noqa: E731
    num = lambda v, **kw: fmt.number(v, lang, **kw)  # noqa: E731
    t = lambda key, **kw: _plain(i18n.t(key, lang, **kw))  # noqa: E731
    lines = [
        t("brief.coverage", dose=i18n.dose(target.dose, lang), coverage=pct(row["coverage"])),
        f"{t('overview.full_dose')}: {pct(row['full_dose_coverage'])}",
        t("overview.threshold", threshold=pct(float(target.threshold), decimals=0),
          deadline=fmt.date(target.deadline, lang)),
        t("brief.status", status=i18n.status(row["status"], lang)),
    ]  # fmt: skip
    if row["days_left"] > 0:
        lines += [
            t("overview.days_left", days=num(row["days_left"])),
            t("overview.people_needed", people=num(row["people_needed"])),
            t("overview.pace", pace=num(row["pace_7d"], decimals=1), required=num(row["required_daily"], decimals=1)),
            t("overview.projected", date=fmt.date(row["projected_date"], lang)),
        ]
    else:
        lines += [
            t("overview.deadline_passed", coverage=pct(row["coverage_at_deadline"])),
            t("overview.people_short", people=num(row["people_needed"])),
        ]
    return Headline(i18n.label(target, lang), str(row["status"]), lines)


def _boundaries(ds, cfg: Config) -> tuple[geo.Boundaries | None, str | None]:
    if cfg.boundaries is None:
        return None, None
    try:
        return geo.load_boundaries(cfg.boundaries, ds.units), None
    except TrackerError as exc:
        return None, str(exc)


def _level_colors(cfg: Config, as_of: dt.date) -> dict[int, str]:
    """{level: colour} of the risk rules in force on as_of (data/risk_rules.toml); empty before any applies."""
    try:
        legend = risk.load_rules(data_dir=cfg.data_dir).for_date(as_of).legend()
    except InputError:  # before 11/10/2021 there was no level to assess
        return {}
    return dict(zip(legend["level"].astype(int), legend["hex"].astype(str), strict=True))


def _text_on(fill: str) -> tuple[int, int, int]:
    """Black text on a light fill (yellow, orange), white on a dark one: the level cell stays readable."""
    r, g, b = _rgb(fill)
    return (0, 0, 0) if 0.299 * r + 0.587 * g + 0.114 * b > 150 else (255, 255, 255)


def _png_size(png: bytes) -> tuple[int, int]:
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def collect(ds, cfg: Config, as_of: dt.date, lang: str = "vi", target: Target | None = None) -> Briefing:
    """Everything a briefing shows, formatted in `lang`, with the charts rendered.

    `target` (default: the first configured) is the one the map and the district table are about; the
    dashboard passes the configured target unchanged, judged on its own group and dose. The headlines
    and the trends cover every configured target. In the district table the status cell has the
    status colour and the risk-level cell the level's colour from data/risk_rules.toml.
    """
    if lang not in i18n.LANGS:
        raise TrackerError(f"unknown language {lang!r}; use one of {', '.join(i18n.LANGS)}")
    if ds.latest_date is None:
        raise TrackerError("the store has no vaccination reports; nothing to brief")
    first = ds.first_date
    if as_of < first:
        raise TrackerError(f"{as_of.isoformat()} is before the first report ({first.isoformat()})")
    target = target or cfg.targets[0]
    t = lambda key, **kw: _plain(i18n.t(key, lang, **kw))  # noqa: E731
    sample = None
    if ds.sample:
        sample = ds.extra.get(f"dataset_label_{lang}") or i18n.t("app.sample", lang)

    cards = views.target_cards(ds, cfg, as_of).set_index("target_id")
    headlines = [_headline(cards.loc[tg.id], tg, lang) for tg in cfg.targets]

    figures, headings = [], []
    for tg in cfg.targets:
        series = views.coverage_series(ds, cfg, tg.group, tg.dose, first, as_of)
        projection = views.projection(series, as_of, tg.deadline)
        title = t("trends.coverage_title", group=i18n.label(cfg.group(tg.group), lang), dose=i18n.dose(tg.dose, lang))
        fig = trends.coverage_trend(
            series, projection, [tg], lang=lang, title=title, as_of=as_of, height=TREND_SIZE[1], whole=cfg.whole(lang)
        )
        figures.append((fig, *TREND_SIZE))
        headings.append(f"{t('brief.trend')} — {i18n.label(tg, lang)}")

    table = views.district_table(ds, cfg, as_of, target)
    units = table[table["unit_code"] != core.TOTAL]
    units = units.drop(columns="population").rename(columns={"population_all": "population"})  # circle sizes
    shapes, problem = _boundaries(ds, cfg)
    fig = maps.district_map(
        units, "coverage", lang=lang, title=t("brief.map"), value_label=t("table.coverage"),
        fmt_value=lambda v: fmt.percent(v, lang), boundaries=shapes, zrange=(0, 1), height=MAP_SIZE[1],
    )  # fmt: skip
    fig.update_layout(width=MAP_SIZE[0])
    figures.append((fig, *MAP_SIZE))
    pngs = render_png(figures)
    charts = [Chart(h, png, *_png_size(png)) for h, png in zip([*headings, ""], pngs, strict=True)]
    map_chart = charts.pop()
    map_chart.heading = f"{t('brief.map')} — {i18n.label(target, lang)}"

    columns = [
        t("table.district"), t("table.coverage"), t("table.gap"), t("table.people_needed"),
        t("table.pace"), t("table.required"), t("table.status"), t("table.risk_level"),
    ]  # fmt: skip
    ordered = pd.concat([units, table[table["unit_code"] == core.TOTAL]])
    rows, statuses = [], []
    for r in ordered.itertuples():
        name = cfg.whole_named(lang) if r.unit_code == core.TOTAL else r.unit_name
        rows.append(
            [
                str(name),
                fmt.percent(r.coverage, lang),
                fmt.number(r.gap_points, lang, decimals=1),
                fmt.number(r.people_needed, lang),
                fmt.number(r.pace_7d, lang, decimals=1),
                fmt.number(r.required_daily, lang, decimals=1),
                i18n.status(r.status, lang) if isinstance(r.status, str) else fmt.EMPTY,
                _short_level(getattr(r, f"risk_name_{lang}")),
            ]
        )
        statuses.append(r.status if isinstance(r.status, str) else "unavailable")
    level_colors = ordered["risk_level"].map(_level_colors(cfg, as_of))
    level_colors = level_colors.astype(object).where(level_colors.notna(), None).tolist()

    notes = []
    sources = list(dict.fromkeys(tg.source for tg in cfg.targets if tg.source))
    if sources:
        notes.append(t("brief.sources", sources="; ".join(sources)))
    pairs = [(tg.group, d) for tg in cfg.targets for d in (tg.dose, views.FULL_DOSE)] + [(target.group, target.dose)]
    missing = views.unavailable(ds, cfg, as_of, pairs)
    if not missing.empty:  # an empty cell in the table is explained here, never left to guess
        notes.append(t("unavailable.heading"))
        notes += ["• " + line for line in views.unavailable_texts(missing, cfg, lang)]
    if sample:
        notes.append(t("brief.sample", label=sample))
    if problem:
        notes.append(t("brief.boundaries_problem", problem=problem))
    elif shapes is None:
        notes.append(maps.schematic_note(lang))
    notes.append(t("brief.last_reports"))
    fresh = views.freshness(ds, as_of)
    notes += [
        "• " + t("brief.last_report_line", name=r.unit_name, date=fmt.date(r.last_report_date, lang))
        for r in fresh.itertuples()
    ]

    return Briefing(
        lang=lang,
        as_of=as_of,
        title=t("brief.title", place=cfg.place(lang), date=fmt.date(as_of, lang)),
        sample=sample,
        headlines=headlines,
        trends=charts,
        map=map_chart,
        table_heading=f"{t('brief.table')} — {i18n.label(target, lang)}",
        columns=columns,
        rows=rows,
        statuses=statuses,
        level_colors=level_colors,
        notes=notes,
    )


# --------------------------------------------------------------------------- PDF


def _rgb(color: str) -> tuple[int, int, int]:
    color = color.lstrip("#")
    return tuple(int(color[i : i + 2], 16) for i in (0, 2, 4))


def to_pdf(b: Briefing) -> bytes:
    """An A4 PDF with DejaVu Sans embedded: title and headlines, trends, map and table, notes."""
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    regular, bold = find_fonts()
    footer_text = f"{b.t('brief.generated')} · {fmt.date(b.as_of, b.lang)}" + (f" · {b.sample}" if b.sample else "")

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
    pdf.set_creator("tracker brief")
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
        pdf.set_text_color(*_rgb("#a50026"))
        paragraph(b.t("brief.sample", label=b.sample), 9)
        pdf.set_text_color(0)
        pdf.ln(2)
    heading(b.t("brief.headlines"), 13)
    for h in b.headlines:
        pdf.set_font("DejaVu", "B", 11)
        pdf.set_text_color(*_rgb(STATUS_COLORS.get(h.status, "#000000")))
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
    heads = FontFace(emphasis="BOLD", fill_color=_rgb("#1f4e79"), color=(255, 255, 255))
    with pdf.table(
        col_widths=(42, 18, 18, 20, 22, 22, 24, 14), text_align=("LEFT", *["RIGHT"] * 5, "LEFT", "LEFT"),
        headings_style=heads, line_height=4.2, first_row_as_headings=True,
    ) as tbl:  # fmt: skip
        tbl.row(b.columns)
        for cells, status, level in zip(b.rows, b.statuses, b.level_colors or [None] * len(b.rows), strict=True):
            row = tbl.row()
            for cell in cells[:-2]:
                row.cell(cell)
            row.cell(cells[-2], style=FontFace(color=(255, 255, 255), fill_color=_rgb(STATUS_COLORS[status])))
            if level:
                row.cell(cells[-1], style=FontFace(color=_text_on(level), fill_color=_rgb(level)))
            else:
                row.cell(cells[-1])
    pdf.ln(4)

    heading(b.t("brief.notes"))
    for note in b.notes:
        paragraph(note, 9)
    return bytes(pdf.output())


# --------------------------------------------------------------------------- PPTX


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
                ink = _text_on(fill)
            if fill:
                cell.fill.solid()
                cell.fill.fore_color.rgb = RGBColor.from_string(fill.lstrip("#").upper())
                cell.text_frame.paragraphs[0].font.color.rgb = RGBColor(*ink)

    s = slide(b.t("brief.notes"), 22)
    text(s, b.notes, left, Inches(1.3), full, Inches(5.8), 12)

    out = io.BytesIO()
    prs.save(out)
    return out.getvalue()


# --------------------------------------------------------------------------- one call


def render(b: Briefing, fmt_: str) -> bytes:
    if fmt_ == "pdf":
        return to_pdf(b)
    if fmt_ == "pptx":
        return to_pptx(b)
    raise TrackerError(f"unknown briefing format {fmt_!r}; use {' or '.join(FORMATS)}")


def build(ds, cfg: Config, as_of: dt.date, formats=FORMATS, lang: str = "vi", target: Target | None = None) -> dict:
    """{format: bytes} for each of `formats`, the charts rendered once for all of them."""
    if isinstance(formats, str):
        formats = (formats,)
    if "pdf" in formats:
        find_fonts()  # fail before the (slow) chart rendering
    b = collect(ds, cfg, as_of, lang, target)
    return {f: render(b, f) for f in formats}


def file_name(cfg: Config, as_of: dt.date, lang: str, fmt_: str) -> str:
    """e.g. ban-tin-tiem-chung_tuyen-quang_2021-12-31_vi.pdf"""
    from tracker.figures.common import slug

    return f"ban-tin-tiem-chung_{slug(cfg.province_name_vi)}_{as_of.isoformat()}_{lang}.{fmt_}"
