"""The weekly briefing (tracker.briefing, `tracker brief`): PDF and PPTX from the sample store."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import os
import shutil
import subprocess
import sys

import pytest

from tests.clitools import run
from tracker import briefing, fmt, i18n, risk, store, views
from tracker.config import load_config
from tracker.errors import TrackerError
from tracker.figures.common import STATUS_COLORS, status_label

AS_OF = dt.date(2021, 12, 31)
ON_CI = os.environ.get("CI", "").lower() == "true"
PNG = b"\x89PNG\r\n\x1a\n"


def _renderer_or_skip():
    try:
        briefing.check()
        briefing.find_fonts()
    except Exception as exc:  # noqa: BLE001
        if ON_CI:
            raise
        pytest.skip(f"briefing renderer unavailable here: {exc}")


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def _flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def cfg():
    return load_config()


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory, cfg):
    folder = tmp_path_factory.mktemp("brief") / "store"
    store.init(folder, cfg)
    return folder


@pytest.fixture(scope="module")
def made(sample_store, cfg):
    """The Vietnamese briefing rendered once (charts included), and both files made from it."""
    _renderer_or_skip()
    ds = store.load(sample_store)
    b = briefing.collect(ds, cfg, AS_OF, "vi")
    return ds, b, briefing.to_pdf(b), briefing.to_pptx(b)


def test_charts_are_pngs_of_the_expected_size(made, cfg):
    _, b, _, _ = made
    assert len(b.trends) == len(cfg.targets)
    for chart in b.trends:
        assert _png_size(chart.png) == tuple(n * briefing.SCALE for n in briefing.TREND_SIZE)
        assert len(chart.png) > 20_000  # a drawn chart, not an empty canvas
    assert _png_size(b.map.png) == (briefing.MAP_SIZE[0] * briefing.SCALE, briefing.MAP_SIZE[1] * briefing.SCALE)
    assert len(b.map.png) > 20_000


def test_pdf_text_layer_keeps_vietnamese_and_the_headline_figures(made, cfg):
    pypdf = pytest.importorskip("pypdf")
    ds, _, pdf, _ = made
    assert pdf[:5] == b"%PDF-"
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    text = _flat("\n".join(page.extract_text() for page in reader.pages))
    assert "Tiến độ tiêm vắc xin phòng COVID-19 tỉnh Tuyên Quang — số liệu đến ngày 31/12/2021" in text
    for name in ("Huyện Lâm Bình", "Huyện Chiêm Hóa", "Huyện Hàm Yên", "Huyện Sơn Dương"):
        assert name in text
    cards = views.target_cards(ds, cfg, AS_OF).set_index("target_id")
    for target in cfg.targets:
        row = cards.loc[target.id]
        assert fmt.percent(row["coverage"], "vi") in text
        assert fmt.number(row["people_needed"], "vi") in text
        assert i18n.status(row["status"], "vi") in text
    live = cards.loc[cfg.targets[1].id]  # the target still running on 31/12/2021
    assert fmt.number(live["required_daily"], "vi", decimals=1) in text
    assert fmt.number(live["pace_7d"], "vi", decimals=1) in text
    assert fmt.date(live["projected_date"], "vi") in text
    assert ds.extra["dataset_label_vi"] in text  # the sample-data label
    assert cfg.targets[0].source in text
    fonts = {str(f.get("/BaseFont")) for p in reader.pages for f in (p["/Resources"].get("/Font") or {}).values()}
    assert any("DejaVu" in f for f in fonts), fonts


def test_pdf_pages_are_not_blank(made, tmp_path):
    if shutil.which("pdftoppm") is None:
        if ON_CI:
            pytest.fail("pdftoppm (poppler-utils) is missing on CI")
        pytest.skip("pdftoppm is not installed")
    from PIL import Image

    _, _, pdf, _ = made
    (tmp_path / "b.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "40", "-png", tmp_path / "b.pdf", tmp_path / "page"], check=True)
    pages = sorted(tmp_path.glob("page*.png"))
    assert len(pages) >= 3
    for page in pages:
        image = Image.open(page).convert("L")
        dark = sum(image.histogram()[:200])  # pixels darker than near-white
        assert dark > image.width * image.height * 0.01, page.name


def test_pptx_has_editable_slides_text_and_table(made, cfg):
    pptx = pytest.importorskip("pptx")
    ds, b, _, deck = made
    prs = pptx.Presentation(io.BytesIO(deck))
    slides = list(prs.slides)
    assert len(slides) == 2 + len(cfg.targets) + 3  # title, headlines, trends, map, table, notes

    def texts(slide):
        return [s.text_frame.text for s in slide.shapes if s.has_text_frame]

    assert _flat(texts(slides[0])[0]) == b.title
    assert "Tuyên Quang — số liệu đến ngày 31/12/2021" in b.title
    headline_text = "\n".join(texts(slides[1]))
    for target in cfg.targets:
        assert i18n.label(target, "vi") in headline_text
    cards = views.target_cards(ds, cfg, AS_OF).set_index("target_id")
    assert fmt.number(cards.loc[cfg.targets[1].id, "people_needed"], "vi") in headline_text

    for slide in slides[2 : 3 + len(cfg.targets)]:  # the trends and the map: one picture each
        pictures = [s for s in slide.shapes if s.shape_type == pptx.enum.shapes.MSO_SHAPE_TYPE.PICTURE]
        assert len(pictures) == 1 and pictures[0].image.blob[:8] == PNG

    tables = [s.table for s in slides[-2].shapes if s.has_table]
    assert len(tables) == 1
    table = tables[0]
    header = [c.text for c in table.rows[0].cells]
    assert header[0] == i18n.t("table.district", "vi") and header[-2:] == [
        i18n.t("table.status", "vi"),
        i18n.t("table.risk_level", "vi"),
    ]
    rows = {r.cells[0].text: [c.text for c in r.cells] for r in list(table.rows)[1:]}
    district = views.district_table(ds, cfg, AS_OF, cfg.targets[0]).set_index("unit_name")
    lam_binh = district.loc["Huyện Lâm Bình"]
    assert rows["Huyện Lâm Bình"][1] == fmt.percent(lam_binh["coverage"], "vi")
    assert rows["Huyện Lâm Bình"][-2] == status_label(lam_binh["status"], "vi")  # icon + word, and its colour
    assert rows["Huyện Lâm Bình"][-1] == f"Cấp {int(lam_binh['risk_level'])}"  # the short name: "Cấp 1"
    assert len(rows) == len(ds.units) + 1  # and the province
    notes = "\n".join(texts(slides[-1]))
    assert cfg.targets[0].source in notes and "Huyện Lâm Bình: 31/12/2021" in notes


def test_cli_brief_offline_in_english(sample_store, tmp_path):
    """The whole command with the network cut (unshare), so the map and charts need no internet."""
    _renderer_or_skip()
    out = tmp_path / "brief.pdf"
    cmd = [sys.executable, "-m", "tracker", "brief", "--store", str(sample_store), "--as-of", "2021-12-31",
           "--format", "pdf", "--out", str(out), "--lang", "en"]  # fmt: skip
    if shutil.which("unshare") and subprocess.run(["unshare", "-rn", "true"], capture_output=True).returncode == 0:
        cmd = ["unshare", "-rn", *cmd]
    elif not ON_CI:
        pytest.skip("cannot cut the network here (unshare -rn)")
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert out.read_bytes()[:5] == b"%PDF-"
    pypdf = pytest.importorskip("pypdf")
    text = _flat("\n".join(p.extract_text() for p in pypdf.PdfReader(out).pages))
    assert "COVID-19 vaccination progress, Tuyên Quang province — data as of 31 Dec 2021" in text
    assert "Huyện Lâm Bình" in text


def test_cli_bad_as_of_is_usage(capsys, tmp_path):
    code, _, err = run(capsys, "brief", "--store", tmp_path, "--as-of", "31/12/2021", "--format", "pdf",
                       "--out", tmp_path / "b.pdf")  # fmt: skip
    assert code == 2 and "YYYY-MM-DD" in err


def test_cli_missing_store_is_exit_1(capsys, tmp_path):
    code, _, err = run(capsys, "brief", "--store", tmp_path / "none", "--as-of", "2021-12-31", "--format", "pptx",
                       "--out", tmp_path / "b.pptx")  # fmt: skip
    assert code == 1 and "no store" in err and "Traceback" not in err
    assert not (tmp_path / "b.pptx").exists()


def test_cli_missing_browser_is_exit_1_with_a_clear_message(capsys, tmp_path, sample_store, monkeypatch):
    pytest.importorskip("kaleido")
    monkeypatch.setenv("BROWSER_PATH", str(tmp_path / "no-chromium"))
    code, _, err = run(capsys, "brief", "--store", sample_store, "--format", "pdf", "--out", tmp_path / "b.pdf")
    assert code == 1 and "BROWSER_PATH" in err and "Chrome or Chromium" in err
    monkeypatch.delenv("BROWSER_PATH")
    from choreographer.browsers.chromium import Chromium

    monkeypatch.setattr(Chromium, "find_browser", classmethod(lambda cls, *a, **k: None))
    code, _, err = run(capsys, "brief", "--store", sample_store, "--format", "pptx", "--out", tmp_path / "b.pptx")
    assert code == 1 and "no Chrome or Chromium found" in err and "apt-get install chromium" in err
    assert not (tmp_path / "b.pdf").exists() and not (tmp_path / "b.pptx").exists()


def test_missing_font_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setattr(briefing.renderer, "FONT_DIRS", ())  # where find_fonts reads it
    monkeypatch.setenv(briefing.FONT_ENV, str(tmp_path))
    with pytest.raises(briefing.TrackerError, match="DejaVu Sans"):
        briefing.find_fonts()


def test_file_name_is_ascii(cfg):
    assert briefing.file_name(cfg, AS_OF, "vi", "pdf") == "ban-tin-tiem-chung_tuyen-quang_2021-12-31_vi.pdf"


# --------------------------------------------------------------------------- the district table's colours

LEVELS_AS_OF = dt.date(2021, 12, 1)  # issue 10: Lâm Bình's "Cấp 1" was red and Sơn Dương's "Cấp 3" green


def _blank_pngs(figures):
    """White PNGs of the requested sizes instead of rendered charts: the table does not need chromium."""
    from PIL import Image

    out = []
    for _, width, height in figures:
        data = io.BytesIO()
        Image.new("RGB", (width, height), "white").save(data, "PNG")
        out.append(data.getvalue())
    return out


@pytest.fixture(scope="module")
def level_briefing(sample_store, cfg):
    try:
        briefing.find_fonts()
    except briefing.TrackerError as exc:
        if ON_CI:
            raise
        pytest.skip(str(exc))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(briefing.renderer, "render_png", _blank_pngs)  # collect calls renderer.render_png
        ds = store.load(sample_store)
        b = briefing.collect(ds, cfg, LEVELS_AS_OF, "vi")
    return ds, b, briefing.to_pdf(b), briefing.to_pptx(b)


@pytest.fixture(scope="module")
def expected_colours(level_briefing, cfg):
    """Row name -> (status colour, level colour): the status from the core, the level from tracker.risk and
    its colour from data/risk_rules.toml."""
    ds = level_briefing[0]
    rules = risk.load_rules()
    colour = rules.for_date(LEVELS_AS_OF).legend().set_index("level")["hex"]
    levels = risk.levels(ds, cfg, rules, LEVELS_AS_OF).set_index("unit_code")["level"].astype(int)
    table = views.district_table(ds, cfg, LEVELS_AS_OF, cfg.targets[0]).set_index("unit_code")
    names = table["unit_name"].where(table.index != "TOTAL", f"Toàn tỉnh {cfg.province_name_vi}")
    expected = {
        names[code]: (STATUS_COLORS[table.loc[code, "status"]].upper(), colour[levels[code]].upper())
        for code in table.index
    }
    # the case of the issue: a district whose status and level colours differ, both ways
    assert levels["071"] == 1 and table.loc["071", "status"] == "off_track"  # Lâm Bình: green level, late
    assert levels["076"] == 3 and table.loc["076", "status"] == "met"  # Sơn Dương: orange level, target met
    return expected


def test_pptx_colours_the_status_by_status_and_the_level_by_level(level_briefing, expected_colours):
    pptx = pytest.importorskip("pptx")
    deck = pptx.Presentation(io.BytesIO(level_briefing[3]))
    (table,) = [s.table for slide in deck.slides for s in slide.shapes if s.has_table]
    shown = {}
    for row in list(table.rows)[1:]:
        cells = list(row.cells)
        shown[cells[0].text] = tuple(
            "#" + str(c.fill.fore_color.rgb) if c.fill.type == pptx.enum.dml.MSO_FILL.SOLID else None
            for c in cells[-2:]
        )
    assert shown == expected_colours


def _drawing(page) -> tuple[list, list]:
    """A PDF page's filled rectangles (x, y, width, height, fill colour) and texts (text, x, y)."""
    colour, path, rects, texts = ["#000000"], [], [], []

    def before(op, args, cm, tm):
        if op == b"rg":
            colour[0] = "#" + "".join(f"{round(float(a) * 255):02X}" for a in args)
        elif op == b"g":
            colour[0] = "#" + f"{round(float(args[0]) * 255):02X}" * 3
        elif op == b"re":
            path.append(tuple(float(a) for a in args))
        elif op in (b"f", b"F", b"f*", b"B", b"B*", b"b", b"b*"):  # the path is filled with the fill colour
            rects.extend((*r, colour[0]) for r in path)
            path.clear()
        elif op in (b"S", b"s", b"n"):  # stroked only, or not painted
            path.clear()

    def text(value, cm, tm, font, size):
        if value.strip():
            texts.append((value.strip(), tm[4], tm[5]))

    page.extract_text(visitor_operand_before=before, visitor_text=text)
    return rects, texts


def _fill_at(rects, x, y) -> str | None:
    """The fill of the last rectangle drawn under (x, y): the cell's background."""
    under = [r for r in rects if r[0] <= x <= r[0] + r[2] and r[1] <= y <= r[1] + r[3]]
    return under[-1][4] if under else None


def _pdf_cell_fills(pdf: bytes) -> dict[str, tuple[str, str]]:
    """Row name -> fill colours under the texts of its last two cells, from the page content streams."""
    pypdf = pytest.importorskip("pypdf")
    fills = {}
    for page in pypdf.PdfReader(io.BytesIO(pdf)).pages:
        rects, texts = _drawing(page)
        for name, _, y in texts:
            row = sorted((t for t in texts if abs(t[2] - y) < 0.5), key=lambda t: t[1])  # one table row, left first
            if row[0][0] == name and len(row) == 8 and name.startswith(("Huyện", "Thành phố", "Toàn tỉnh")):
                fills[name] = tuple(_fill_at(rects, x + 1, y + 1) for _, x, y in row[-2:])
    return fills


def test_pdf_colours_the_status_by_status_and_the_level_by_level(level_briefing, expected_colours):
    assert _pdf_cell_fills(level_briefing[2]) == expected_colours


def test_the_pdf_says_what_made_it_and_leaves_the_administrators_hint_out(made):
    """An official briefing: the footer names `tracker brief` or the dashboard, and the schematic map is
    explained (what it is) without the note on configuring boundary files, in the notes and above the map."""
    pypdf = pytest.importorskip("pypdf")
    _, b, pdf, _ = made
    text = _flat(" ".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages))
    assert i18n.t("brief.generated_cli", "vi") in text
    assert i18n.t("brief.generated_dashboard", "vi") not in text
    hint = i18n.t("map.schematic_hint", "vi")
    assert hint[:40] not in text and not any(hint[:40] in note for note in b.notes)
    assert any(i18n.t("map.schematic_note", "vi")[:40] in note for note in b.notes)
    page = dataclasses.replace(b, origin="dashboard")
    text = _flat(pypdf.PdfReader(io.BytesIO(briefing.to_pdf(page))).pages[0].extract_text())
    assert i18n.t("brief.generated_dashboard", "vi") in text
    with pytest.raises(TrackerError, match="origin"):
        briefing.collect(None, load_config(), AS_OF, "vi", origin="email")
