"""Table downloads: CSV with a BOM and .xlsx, formula-like text neutralised, numbers and dates kept,
and the buttons under the tables in both languages."""

from __future__ import annotations

import datetime as dt
import io
import shutil

import openpyxl
import pandas as pd
import pytest
import streamlit as st

from tests.apptools import open_app
from tracker import auth, core, exports, i18n, store, views
from tracker.config import load_config
from tracker.store import export as store_export
from tracker.tables import districts as tables_districts
from tracker.tables import render

BOM = b"\xef\xbb\xbf"
DANGEROUS = ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tx", "\rx"]


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Huyện, thành phố": [*DANGEROUS, "Huyện Lâm Bình", "Thành phố Tuyên Quang"],
            "Số": [-5, -1.25, 0, 3, 4, 5, -7, 8],
            "Ngày": pd.to_datetime(["2021-11-14"] * 7 + [None]),
        }
    )


def test_formula_like_text_is_neutralised_and_numbers_are_not(frame):
    safe = exports.neutralise(frame)
    assert safe["Huyện, thành phố"].tolist()[:6] == ["'" + text for text in DANGEROUS]
    assert safe["Huyện, thành phố"].tolist()[6:] == ["Huyện Lâm Bình", "Thành phố Tuyên Quang"]
    assert safe["Số"].tolist() == [-5, -1.25, 0, 3, 4, 5, -7, 8]  # negative numbers are numbers, not text
    assert pd.api.types.is_numeric_dtype(safe["Số"])
    assert pd.api.types.is_datetime64_any_dtype(safe["Ngày"])
    assert frame["Huyện, thành phố"].iloc[0] == "=1+1", "the input is not changed"


def test_headers_are_neutralised_too():
    safe = exports.neutralise(pd.DataFrame({"=cmd|' /C calc'!A0": ["a"], "-x": [1], 3: [2]}))
    assert list(safe.columns) == ["'=cmd|' /C calc'!A0", "'-x", 3]


def test_mixed_object_column_touches_only_strings():
    safe = exports.neutralise(pd.DataFrame({"v": pd.Series([-3, "-3", None, "ok"], dtype=object)}))
    assert safe["v"].tolist()[:2] == [-3, "'-3"] and safe["v"].iloc[3] == "ok"
    assert safe["v"].iloc[2] is None


def test_csv_has_a_bom_crlf_and_round_trips(frame):
    data = exports.csv_bytes(frame)
    assert data.startswith(BOM)
    text = data.decode("utf-8-sig")
    assert text == exports.neutralise(frame).to_csv(index=False, lineterminator="\r\n")
    assert text.splitlines()[0] == '"Huyện, thành phố",Số,Ngày'
    assert "\r\n" in text and "Huyện Lâm Bình,-7.0,2021-11-14\r\n" in text
    back = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig")
    assert back["Huyện, thành phố"].iloc[0] == "'=1+1"
    assert back["Số"].tolist() == [-5, -1.25, 0, 3, 4, 5, -7, 8]
    assert not any(line.startswith(("=", "+", "-", "@")) for line in text.split("\r\n"))


def test_xlsx_has_typed_values_and_no_formulas(frame):
    book = openpyxl.load_workbook(io.BytesIO(exports.xlsx_bytes(frame, sheet="Huyện")))
    ws = book["Huyện"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == ("Huyện, thành phố", "Số", "Ngày")
    assert [r[0] for r in rows[1:]] == ["'" + t for t in DANGEROUS] + ["Huyện Lâm Bình", "Thành phố Tuyên Quang"]
    assert [r[1] for r in rows[1:]] == [-5, -1.25, 0, 3, 4, 5, -7, 8]
    assert rows[1][2] == dt.datetime(2021, 11, 14) and ws["C2"].is_date  # a real Excel date
    assert rows[8][2] is None
    assert all(cell.data_type != "f" for row in ws.iter_rows() for cell in row)
    assert ws["B8"].data_type == "n"


def test_xlsx_sheet_names_follow_excels_rules():
    assert exports.sheet_name("a/b[c]:d*e?f\\g") == "a_b_c__d_e_f_g"
    assert len(exports.sheet_name("x" * 50)) == 31
    assert exports.sheet_name("   ") == "Sheet1"
    book = openpyxl.load_workbook(io.BytesIO(exports.xlsx_bytes(pd.DataFrame({"a": [1]}), sheet="Q1/2022: [all]?")))
    assert book.sheetnames == ["Q1_2022_ _all__"]


def test_xlsx_copes_with_times_zones_and_empty_frames():
    stamp = pd.Timestamp("2021-12-01 08:30", tz="Asia/Ho_Chi_Minh")
    frame = pd.DataFrame({"at": [stamp], "n": [pd.NA], "ctrl": ["a\x01b"]}).astype({"n": "Int64"})
    ws = openpyxl.load_workbook(io.BytesIO(exports.xlsx_bytes(frame))).active
    assert ws["A2"].value == dt.datetime(2021, 12, 1, 1, 30)  # UTC, as Excel has no time zones
    assert ws["B2"].value is None and ws["C2"].value == "ab"
    empty = openpyxl.load_workbook(io.BytesIO(exports.xlsx_bytes(pd.DataFrame(columns=["x"])))).active
    assert [c.value for c in empty[1]] == ["x"]


def test_file_name_is_ascii_and_dated():
    assert exports.file_name("districts", "Huyện Lâm Bình", dt.date(2021, 12, 1), "csv") == (
        "districts_huyen-lam-binh_2021-12-01.csv"
    )
    assert (
        exports.file_name("freshness", "Tuyên Quang", "2021-11-15", ".xlsx") == "freshness_tuyen-quang_2021-11-15.xlsx"
    )


# --------------------------------------------------------------------------- the buttons on the pages


@pytest.fixture
def exported(app_store, monkeypatch):
    """Run pages with the store, recording each table's frame the download buttons are made from (the files
    themselves are made when a button is clicked: render.csv_bytes and xlsx_bytes of that frame)."""
    frames: list[pd.DataFrame] = []
    real = render.export_frame

    def recording(table, lang):
        frame = real(table, lang)
        frames.append(frame)
        return frame

    monkeypatch.setattr(render, "export_frame", recording)
    return frames


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_districts_page_offers_both_downloads_for_each_table(exported, lang):
    at = open_app("pages/districts.py", lang)
    buttons = at.get("download_button")
    labels = [b.proto.label for b in buttons]
    kinds = ["csv", "csv_vi", "xlsx"]
    assert labels == [i18n.t(f"export.{k}", lang) for k in kinds] * 2  # ranked table, then detail
    keys = [b.proto.id.rsplit("-", 1)[-1] for b in buttons]
    assert keys == [f"download_{k}_{table}" for table in ("districts", "district") for k in kinds]
    assert all(b.proto.ignore_rerun for b in buttons), "a download does not rerun the page"


def test_districts_export_has_the_core_numbers_with_translated_headers(exported, store_dir):
    as_of = dt.date(2021, 12, 1)
    exported.clear()
    open_app("pages/districts.py", "vi", as_of=as_of)
    ranked, detail = exported[-2:]
    cfg = load_config()
    table = views.district_table(store.load(store_dir), cfg, as_of, cfg.targets[0])
    expected = table[table["unit_code"] != core.TOTAL].sort_values("coverage")
    district, coverage = i18n.t("table.district", "vi"), i18n.t("table.coverage", "vi") + " (%)"
    assert ranked[district].tolist() == expected["unit_name"].tolist()
    assert ranked[coverage].tolist() == pytest.approx((expected["coverage"] * 100).round(2).tolist())
    assert pd.api.types.is_numeric_dtype(ranked[coverage])
    assert ranked[i18n.t("table.status", "vi")].tolist() == [i18n.status(s, "vi") for s in expected["status"]]
    assert detail[i18n.t("control.target", "vi")].tolist() == [i18n.label(t, "vi") for t in cfg.targets]
    assert pd.api.types.is_datetime64_any_dtype(detail[i18n.t("table.projected", "vi")])


def test_districts_export_labels_a_comparison_and_keeps_each_target_on_its_own(exported, store_dir):
    as_of = dt.date(2021, 12, 1)
    exported.clear()
    open_app("pages/districts.py", "en", as_of=as_of, target="all_70pct_2022q1", compare="adults:2", units=["076"])
    ranked, detail = exported[-2:]
    cfg, ds = load_config(), store.load(store_dir)
    table = views.district_table(ds, cfg, as_of, cfg.target("all_70pct_2022q1"))
    expected = table[table["unit_code"] != core.TOTAL].sort_values("coverage")
    other = core.coverage(ds, cfg, as_of, "adults", 2).set_index("unit_code")["coverage"]
    label = f"{cfg.groups['adults'].label_en} — {i18n.dose(2, 'en')}"
    columns = list(ranked.columns)
    comparison = i18n.t("compare.column", "en", label=label) + " (%)"
    assert columns[1:3] == [i18n.t("table.coverage", "en") + " (%)", comparison]
    assert ranked[columns[1]].tolist() == pytest.approx((expected["coverage"] * 100).round(2).tolist())
    assert ranked[comparison].tolist() == pytest.approx((other[expected["unit_code"]] * 100).round(2).tolist())
    # the district in detail (Sơn Dương): every target on its own group and dose, whatever the comparison
    coverage = detail.set_index(i18n.t("control.target", "en"))[i18n.t("table.coverage", "en") + " (%)"]
    for target in cfg.targets:
        own = views.district_table(ds, cfg, as_of, target).set_index("unit_code").loc["076", "coverage"]
        assert coverage[i18n.label(target, "en")] == pytest.approx(round(own * 100, 2))


def test_overview_freshness_download_has_dates_and_numbers(exported):
    exported.clear()
    at = open_app(None, "en", as_of=dt.date(2021, 11, 15))
    tables = [b.proto.label for b in at.get("download_button") if b.key.endswith("_freshness")]
    assert tables == [i18n.t(f"export.{k}", "en") for k in ("csv", "csv_vi", "xlsx")]
    fresh = exported[-1].set_index(i18n.t("table.district", "en"))
    row = fresh.loc["Huyện Lâm Bình"]  # did not report on 15/11/2021 (tracker.sample.MISSING_DAYS)
    assert row[i18n.t("table.last_report", "en")] == pd.Timestamp("2021-11-14")
    assert row[i18n.t("table.days_since", "en")] == 1
    ws = openpyxl.load_workbook(io.BytesIO(exports.xlsx_bytes(exported[-1]))).active
    assert ws["B2"].is_date and isinstance(ws["C2"].value, int)


def test_upload_page_offers_the_drop_log(exported, store_dir, tmp_path, monkeypatch):
    folder = tmp_path / "store"
    shutil.copytree(store_dir, folder)
    auth.add_user(folder, "lan", "mật-khẩu-đủ-dài")
    monkeypatch.setenv("TRACKER_STORE", str(folder))
    exported.clear()
    at = open_app("pages/upload.py", "vi")
    at.text_input(key="login_name").input("lan")
    at.text_input(key="login_password").input("mật-khẩu-đủ-dài")
    at.button[0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    keys = [b.proto.id.rsplit("-", 1)[-1] for b in at.get("download_button")]
    assert keys == ["download_csv_drops", "download_csv_vi_drops", "download_xlsx_drops"]
    log = exported[-1]
    assert log.columns[0] == i18n.t("export.drop_id", "vi")
    assert set(log[i18n.t("export.drop_status", "vi")]) <= {i18n.t("export.drop_active", "vi")}
    assert len(log) == len(store.drops(folder))


def test_no_file_is_made_until_its_button_is_clicked(app_store, monkeypatch):
    """openpyxl takes about 0.1 s for the ranked table at 700 units and the page reruns on every click: the
    buttons are given functions that make the file on the click, never the file on every run."""
    built: list[str] = []

    def counting(*args, **kwargs):
        built.append("file")
        return b""

    monkeypatch.setattr(exports, "xlsx_bytes", counting)
    monkeypatch.setattr(exports, "csv_bytes", counting)
    st.cache_data.clear()
    at = open_app("pages/districts.py", "vi", as_of=dt.date(2021, 11, 20))
    at.run()
    assert len(at.get("download_button")) == 6 and built == []


def test_the_vietnamese_csv_has_decimal_commas_and_semicolons():
    frame = pd.DataFrame({"Huyện": ["Lâm Bình"], "Tỷ lệ (%)": [52.31], "Ngày": [pd.Timestamp("2021-12-01")]})
    text = exports.csv_bytes(frame, decimal=",").decode("utf-8-sig")
    assert text == "Huyện;Tỷ lệ (%);Ngày\r\nLâm Bình;52,31;2021-12-01\r\n"
    assert exports.csv_bytes(frame).decode("utf-8-sig") == "Huyện,Tỷ lệ (%),Ngày\r\nLâm Bình,52.31,2021-12-01\r\n"


def test_the_workbook_formats_numbers_as_the_column_kind_says(store_dir):
    cfg = load_config()
    table = views.district_table(store.load(store_dir), cfg, dt.date(2021, 12, 1), cfg.targets[0])
    ranked = tables_districts.ranked(table, cfg, dt.date(2021, 12, 1), cfg.targets[0])
    sheet = openpyxl.load_workbook(io.BytesIO(render.xlsx_bytes(ranked, "vi"))).worksheets[0]
    formats = {c.value: sheet.cell(row=2, column=c.column).number_format for c in sheet[1]}
    assert formats[i18n.t("table.people_needed", "vi")] == "#,##0"
    assert formats[i18n.t("table.coverage", "vi") + " (%)"] == "0.00"
    assert formats[i18n.t("table.gap", "vi")] == "#,##0.00"  # one decimal shown, two kept
    assert formats[i18n.t("table.district", "vi")] == "General"  # text untouched


def test_the_whole_series_is_every_stored_report(store_dir):
    data = store.series_csv(store_dir)
    assert data.startswith(BOM)
    frame = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", dtype={"unit_code": str})
    assert list(frame.columns) == list(store_export.COLUMNS)
    ds = store.load(store_dir)
    assert len(frame) == len(ds.vaccinations)
    stored = ds.vaccinations.assign(unit_code=ds.vaccinations["unit_code"].astype(str))
    one = stored[(stored["unit_code"] == "071") & (stored["dose"] == 1)].sort_values("date").iloc[-1]
    row = frame[(frame["unit_code"] == "071") & (frame["dose"] == 1) & (frame["age_band"] == one["age_band"])]
    assert row.sort_values("date").iloc[-1]["people_cumulative"] == one["people_cumulative"]
    assert set(frame["unit_name"]) == set(ds.units["unit_name"].astype(str))


def test_a_formula_like_district_name_is_neutralised_in_the_series(tmp_path):
    folder = tmp_path / "store"
    store.init(folder, load_config())
    with store.writing(folder) as con:
        con.execute("UPDATE units SET unit_name = '=HYPERLINK(\"x\")' WHERE unit_code = '071'")
    frame = pd.read_csv(io.BytesIO(store.series_csv(folder)), encoding="utf-8-sig", dtype={"unit_code": str})
    assert set(frame.loc[frame["unit_code"] == "071", "unit_name"]) == {'\'=HYPERLINK("x")'}
