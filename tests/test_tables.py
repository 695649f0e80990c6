"""The table model: every table is built once (tracker.tables) and its screen, CSV, xlsx and briefing forms all
come from its column spec. Each kind is checked against hand-written texts and values; each table of the
sample store is checked to read the same on screen, in the CSV, in the workbook and as briefing rows."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pandas as pd
import pytest

from dashboard.tables import screen
from tests.apptools import open_app, shown
from tracker import core, i18n, risk, store, views
from tracker.config import load_config
from tracker.i18n import Both
from tracker.tables import Column, Table, districts, docs, drops, render
from tracker.tables import risk as risk_tables

AS_OF = dt.date(2021, 12, 1)


# --------------------------------------------------------------------------- each kind, by hand


@pytest.fixture
def kinds() -> Table:
    values = pd.DataFrame(
        {
            "name": ["Huyện Lâm Bình", Both("Toàn tỉnh", "Province")],
            "people": [1234567, None],
            "pace": [1234.56, 0.04],
            "coverage": [0.523149, 1.0],
            "day": [pd.Timestamp("2021-12-31"), pd.NaT],
            "at": [pd.Timestamp("2021-12-31 20:30"), pd.Timestamp("2022-01-01 01:00")],
            "status": ["on_track", "off_track"],
            "level": [1, 3],
            "state": ["active", "undone"],
            "met": [True, False],
        }
    )
    names = {1: Both("Cấp 1 – Nguy cơ thấp", "Level 1 – Low"), 3: Both("Cấp 3 – Nguy cơ cao", "Level 3 – High")}
    columns = (
        Column("name", "table.district"),
        Column("people", "table.people_needed", "count", missing="risk.no_case"),
        Column("pace", "table.pace", "number", decimals=1),
        Column("coverage", "table.coverage", "percent"),
        Column("day", "table.projected", "date"),
        Column("at", "export.ingested_at", "datetime"),
        Column("status", "table.status", "status"),
        Column("level", "risk.level", "level", levels=names),
        Column("state", "export.drop_status", "term", terms="export.drop_"),
        Column("met", "risk.criterion_met", "flag", terms="risk."),
    )
    return Table("kinds", "tables.ranked", columns, values, as_of=AS_OF, place=Both("Toàn tỉnh", "Province"))


def test_each_kind_is_written_as_each_language_writes_it(kinds):
    vi = render.texts(kinds, "vi").to_numpy().tolist()
    assert vi == [
        ["Huyện Lâm Bình", "1.234.567", "1.234,6", "52,3%", "31/12/2021", "01/01/2022 03:30", "▲ Đúng tiến độ",
         "Cấp 1 – Nguy cơ thấp", "Đang dùng", "Đạt"],
        ["Toàn tỉnh", "Không có ca", "0,0", "100,0%", "—", "01/01/2022 08:00", "▼ Chậm tiến độ",
         "Cấp 3 – Nguy cơ cao", "Đã hoàn tác", "Chưa đạt"],
    ]  # fmt: skip
    en = render.texts(kinds, "en").to_numpy().tolist()
    assert en[0] == ["Huyện Lâm Bình", "1,234,567", "1,234.6", "52.3%", "31 Dec 2021", "1 Jan 2022 03:30",
                     "▲ On track", "Level 1 – Low", "Active", "Yes"]  # fmt: skip
    assert en[1][0] == "Province"


def test_each_kind_is_exported_as_a_spreadsheet_keeps_it(kinds):
    frame = render.export_frame(kinds, "en")
    assert list(frame.columns) == [
        "District", "People still needed", "7-day pace (people/day)", "Coverage (%)", "Projected date",
        "Stored at (Vietnam time)", "Status", "Level", "Status", "Vaccine criterion met",
    ]  # fmt: skip
    first = frame.iloc[0].tolist()
    assert first[1] == 1234567 and first[2] == 1234.56 and first[3] == 52.31
    assert first[4] == pd.Timestamp("2021-12-31") and first[5] == pd.Timestamp("2022-01-01 03:30")
    assert first[6:] == ["On track", "Level 1 – Low", "Active", "Yes"]
    assert pd.isna(frame.iloc[1, 1]) and pd.isna(frame.iloc[1, 4])  # missing stays empty, never a word
    assert frame.iloc[1, 3] == 100.0


def test_the_workbook_has_typed_cells_and_an_about_sheet(kinds):
    book = openpyxl.load_workbook(io.BytesIO(render.xlsx_bytes(kinds, "vi")))
    sheet, about = book["kinds"], book["Thông tin"]
    assert [c.value for c in sheet[1]][:4] == ["Huyện, thành phố", "Cần tiêm thêm", "Tốc độ 7 ngày (người/ngày)",
                                               "Tỷ lệ bao phủ (%)"]  # fmt: skip
    row = [c.value for c in sheet[2]]
    assert row[1] == 1234567 and row[3] == 52.31
    assert sheet["E2"].is_date and sheet["F2"].is_date
    assert dict((a.value, b.value) for a, b in about.iter_rows()) == {
        "Bảng": i18n.t("tables.ranked", "vi"),
        "Số liệu đến ngày": "01/12/2021",
        "Địa bàn": "Toàn tỉnh",
    }


def test_a_new_column_is_one_line_and_reaches_every_form(kinds):
    values = kinds.values.assign(required=[99.5, None])
    wider = Table(kinds.name, kinds.title, (*kinds.columns, Column("required", "table.required", "number")), values)
    header = i18n.t("table.required", "vi")
    assert render.texts(wider, "vi")[header].tolist() == ["100", "—"]  # 99,5 rounds half to even: 100
    assert render.export_frame(wider, "vi")[header].tolist() == pytest.approx([99.5, float("nan")], nan_ok=True)
    csv = pd.read_csv(io.BytesIO(render.csv_bytes(wider, "vi")), encoding="utf-8-sig")
    assert csv[header].tolist() == pytest.approx([99.5, float("nan")], nan_ok=True)
    _data, config = screen(wider, "vi")
    assert config["required"]["label"] == header


def test_a_spec_without_its_values_is_refused():
    with pytest.raises(ValueError, match="no values for column"):
        Table("x", "tables.ranked", (Column("absent", "table.district"),), pd.DataFrame({"present": [1]}))
    with pytest.raises(ValueError, match="twice"):
        Table("x", "tables.ranked", (Column("a", "table.district"),) * 2, pd.DataFrame({"a": [1]}))
    with pytest.raises(ValueError, match="unknown column kind"):
        Column("x", "table.district", "money")


# --------------------------------------------------------------------------- every table, every form


@pytest.fixture(scope="module")
def built(store_dir) -> list[Table]:
    cfg, ds = load_config(), store.load(store_dir)
    rules = risk.load_rules()
    rs = rules.for_date(AS_OF)
    by_target = {t.id: views.district_table(ds, cfg, AS_OF, t) for t in cfg.targets}
    first = by_target[cfg.targets[0].id]
    compared = first.assign(compare_coverage=first["coverage"] / 2)
    return [
        *(districts.ranked(first, cfg, AS_OF, cfg.targets[0], metric) for metric in districts.METRICS),
        districts.ranked(compared, cfg, AS_OF, cfg.targets[0], "gap_points", compare="Người từ 18 tuổi — ≥ 1 mũi"),
        districts.detail(by_target, cfg, AS_OF, "071"),
        districts.freshness(views.freshness(ds, AS_OF), cfg, AS_OF),
        districts.lagging(first, cfg, AS_OF, cfg.targets[0]),
        districts.briefing(first, cfg, AS_OF, cfg.targets[0]),
        risk_tables.inputs(risk.levels(ds, cfg, rules, AS_OF), cfg, rs, AS_OF),
        risk_tables.lower(risk.what_would_lower(ds, cfg, rules, AS_OF), cfg, rs, AS_OF),
        drops.log(store.drops(store_dir)),
        *(table for _builder, _where, table in docs.examples(store_dir, cfg, AS_OF) if _builder.startswith("upload.")),
    ]


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_screen_csv_and_workbook_read_the_same(built, lang):
    for table in built:
        texts = render.texts(table, lang)
        export = render.export_frame(table, lang)
        assert len(texts) == len(export) == len(table.values) > 0, table.name
        # on screen: the same headers (what is displayed is checked on the pages, below)
        _data, config = screen(table, lang)
        assert [config[c.id]["label"] for c in table.columns] == list(texts.columns), table.name
        # the CSV: the export's headers and values
        csv = pd.read_csv(io.BytesIO(render.csv_bytes(table, lang)), encoding="utf-8-sig", keep_default_na=False)
        assert list(csv.columns) == list(export.columns), table.name
        # the workbook: the same headers, typed cells, and the about sheet naming the table
        book = openpyxl.load_workbook(io.BytesIO(render.xlsx_bytes(table, lang)))
        sheet = book.worksheets[0]
        assert [c.value for c in sheet[1]] == list(export.columns), table.name
        assert sheet.max_row == len(export) + 1
        about = dict((a.value, b.value) for a, b in book.worksheets[1].iter_rows())
        assert about[i18n.t("about.table", lang)] == i18n.t(table.title, lang)
        for position, (c, header) in enumerate(zip(table.columns, export.columns, strict=True), start=1):
            column = [row[0].value for row in sheet.iter_rows(min_row=2, min_col=position, max_col=position)]
            if c.kind in ("count", "number", "percent"):
                expected = [None if pd.isna(v) else v for v in export[header]]
                assert column == pytest.approx(expected, nan_ok=True), (table.name, c.id)
                present = [v for v in csv[header] if v != ""]
                assert [float(v) for v in present] == pytest.approx([v for v in expected if v is not None])
            elif c.kind in ("status", "level", "term", "flag", "text"):
                assert [v or "" for v in column] == ["" if pd.isna(v) else str(v) for v in export[header]], (
                    table.name,
                    c.id,
                )


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_the_pages_display_what_the_tables_write(app_store, lang):
    """In the app, every cell reads as the table's text (a bar shows the same fraction in whole percent)."""
    cfg, ds = load_config(), store.load(app_store)
    rules = risk.load_rules()
    first = views.district_table(ds, cfg, AS_OF, cfg.targets[0])
    expected = {
        None: districts.freshness(views.freshness(ds, AS_OF), cfg, AS_OF),
        "pages/districts.py": districts.ranked(first, cfg, AS_OF, cfg.targets[0]),
        "pages/risk.py": risk_tables.inputs(risk.levels(ds, cfg, rules, AS_OF), cfg, rules.for_date(AS_OF), AS_OF),
    }
    for page, table in expected.items():
        at = open_app(page, lang, as_of=AS_OF)
        on_screen = shown(at.dataframe[-1 if page is None else 0])  # the overview's last: freshness
        texts = render.texts(table, lang)
        assert list(on_screen.columns) == list(texts.columns), page
        for c, header in zip(table.columns, texts.columns, strict=True):
            if c.kind == "percent" and c.bar:
                values = (table.values[c.id].astype(float) * 100).tolist()
                assert on_screen[header].astype(float).tolist() == pytest.approx(values), (page, c.id)
            else:
                assert on_screen[header].tolist() == texts[header].tolist(), (page, c.id)


def test_the_briefing_rows_are_the_briefing_tables_texts(built, store_dir):
    table = next(t for t in built if t.name == "briefing")
    texts = render.texts(table, "vi")
    cfg = load_config()
    assert texts.iloc[-1, 0] == cfg.whole_named("vi") and texts.iloc[-1, -1].startswith("Cấp ")
    colors = render.cell_colors(table)
    assert colors["status"][0] is not None and len(colors["risk_level"]) == len(texts)


def test_ranked_puts_the_key_columns_first_and_the_furthest_behind_on_top(built):
    ranked = dict(zip(districts.METRICS, built, strict=False))  # built in the order of METRICS
    gap = ranked["gap_points"]
    assert [c.id for c in gap.columns[:6]] == ["unit_name", "coverage", "status", "risk_level", "gap_points",
                                                "people_needed"]  # fmt: skip
    gaps = gap.values["gap_points"].tolist()
    assert gaps == sorted(gaps, reverse=True) and core.TOTAL not in set(gap.values["unit_code"])
    pace = ranked["pace_ratio"].values["pace_ratio"].dropna().tolist()
    assert pace == sorted(pace)  # the slowest first


def test_docs_tables_md_is_what_the_generator_writes():
    """docs/tables.md lists every table and its columns from the builders' specs; `make docs` rewrites it."""

    assert docs.DOCS.read_text(encoding="utf-8") == docs.generate(), "docs/tables.md is stale: run make docs"
