"""A drop that reports an age group as one figure where the district reports bands (or the other way round)
is warned about before storing, refused unless its overlapping rows are skipped, and never blanks a figure.

The reproduction: tests/fixtures/drops/wide_vi.csv has a "Từ 18 tuổi trở lên" row for Thành phố Tuyên
Quang (070), which reports 18-49, 50-64 and 65+ in the sample data. Stored as it was, both overview
cards showed "Không có số liệu".
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from tests.clitools import run, snapshot
from tracker import core, store
from tracker.config import load_config
from tracker.errors import InputError
from tracker.ingest import ReadOptions, read_bytes
from tracker.ingest.overlaps import overlaps

CFG = load_config()
WIDE_VI = Path(__file__).resolve().parent / "fixtures" / "drops" / "wide_vi.csv"


@pytest.fixture
def folder(store_dir, tmp_path) -> Path:
    return Path(shutil.copytree(store_dir, tmp_path / "store"))


def test_the_overlap_is_a_warning_before_storing_and_storing_it_as_it_is_is_refused(folder):
    before = snapshot(folder)
    prepared = store.prepare(folder, WIDE_VI, "vaccinations", CFG)
    assert prepared.overlapping == 1 and len(prepared.frame) == 5
    [warning] = [w for w in prepared.warnings if w.kind == "overlap"]
    assert (warning.row, warning.column, warning.severity) == (3, "Nhóm tuổi", "warning")
    assert warning.message == (
        "Thành phố Tuyên Quang: the file reports Adults (18+) while the store holds 18-49, 50-64, 65+ for this "
        "unit (dose 1); stored as it is, Thành phố Tuyên Quang's Adults (18+), Whole population, People aged 50+, "
        "People aged 12+ figures would become unavailable (overlapping reports)"
    )
    assert warning.text("vi").startswith(
        "Thành phố Tuyên Quang: tệp báo cáo Người từ 18 tuổi trở lên trong khi kho đã có số liệu 18-49, 50-64, 65+"
    )
    with pytest.raises(InputError, match=r"1 row overlaps .* \(Thành phố Tuyên Quang\); nothing was stored"):
        store.commit(folder, prepared, "lan", WIDE_VI)
    assert snapshot(folder) == before


def test_skipping_the_overlapping_rows_keeps_every_figure(folder):
    prepared = store.prepare(folder, WIDE_VI, "vaccinations", CFG, options=ReadOptions(overlap="skip"))
    assert (prepared.skipped, prepared.overlapping, len(prepared.frame)) == (1, 0, 4)
    assert set(prepared.frame["unit_code"]) == {"071"}  # the Lâm Bình rows: 2 days x 2 doses
    drop_id = store.commit(folder, prepared, "lan", WIDE_VI)

    ds = store.load(folder)
    for target in CFG.targets:
        cov = core.coverage(ds, CFG, "2021-10-14", target.group, target.dose).set_index("unit_code")
        assert cov["reason"].eq("").all(), cov["reason"].to_dict()
        assert cov["people"].notna().all()
    lam_binh = core.coverage(ds, CFG, "2021-10-14", "18-49", 1).set_index("unit_code")
    assert lam_binh.loc["071", "people"] == 1250  # the file's figure for 14/10/2021

    listing = store.drops(folder).set_index("id")
    assert listing.loc[drop_id, "rows"] == 4
    figures = {k: getattr(store.load(folder), k) for k in ("vaccinations", "cases")}
    store.rebuild(folder, CFG)  # the drop's options (overlap = skip) replay the same rows
    rebuilt = store.load(folder)
    for name, frame in figures.items():
        pd.testing.assert_frame_equal(getattr(rebuilt, name), frame, obj=name)


def test_within_one_file_the_coarser_label_overlaps():
    text = (
        "date,unit_code,age_band,dose,people_cumulative\n"
        "2021-10-20,071,18-49,1,1300\n2021-10-20,071,adults,1,1500\n2021-10-20,072,adults,1,900\n"
        "2021-10-20,072,adults,2,700\n"
    )
    prepared = read_bytes(text.encode(), "mixed.csv", "vaccinations", CFG, {"071", "072"})
    nothing_stored = pd.DataFrame({"unit_code": [], "age_band": [], "dose": []})
    warnings, bad = overlaps(prepared.frame, nothing_stored, CFG, prepared.rows)
    assert bad.tolist() == [False, True, False, False]  # 071 adults beside 071 18-49; 072 adults alone is fine
    assert [(w.row, w.code) for w in warnings] == [(3, "warning.overlap_file")]


def test_the_cli_refuses_and_names_the_option(capsys, folder):
    before = snapshot(folder)
    code, out, err = run(capsys, "ingest", WIDE_VI, "--kind", "vaccinations", "--store", folder)
    assert code == 1
    assert "would become unavailable" in err and "--overlap skip" in err
    assert snapshot(folder) == before
    code, out, err = run(capsys, "ingest", WIDE_VI, "--kind", "vaccinations", "--store", folder, "--dry-run")
    assert code == 1 and "--overlap skip" in err
    code, out, err = run(capsys, "ingest", WIDE_VI, "--kind", "vaccinations", "--store", folder, "--overlap", "skip")
    assert code == 0, err
    assert "4 rows stored" in out and "1 overlapping rows skipped" in out


def test_skipping_rows_of_a_canonical_file_keeps_the_series_table_true(folder):
    """A canonical file is read in Arrow, and its series' dates and last values come with it; the rows left
    out must leave them too (the adults row of 070 would otherwise make a series no report has)."""
    text = (
        b"date,unit_code,age_band,dose,people_cumulative\n"
        b"2022-04-01,070,adults,1,90000\n2022-04-01,071,18-49,1,9800\n2022-04-02,071,18-49,1,9820\n"
    )
    prepared = store.prepare(folder, text, "vaccinations", CFG, filename="d.csv", options=ReadOptions(overlap="skip"))
    assert prepared.detected["read"] == "fast" and prepared.skipped == 1
    store.commit(folder, prepared, "lan", text)
    with store.reading(folder) as con:
        series = con.execute(
            "SELECT unit_code, age_band, dose, first_date::VARCHAR, last_date::VARCHAR, last_value "
            "FROM vaccination_series WHERE last_date > DATE '2022-03-31' OR age_band = 'adults'"
        ).fetchall()
    assert series == [("071", "18-49", 1, "2021-03-08", "2022-04-02", 9820)]  # the sample's first day: 08/03/2021
    assert store.check(folder, CFG) == []
