"""`tracker ingest`: canonical CSV files, good and bad (fixtures in tests/fixtures/canonical/)."""

from __future__ import annotations

import re
import shutil
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.clitools import run, snapshot
from tracker import store
from tracker.config import load_config

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "canonical"


# --------------------------------------------------------------------------- helpers


def ingest(capsys, folder: Path, name: str, kind: str, *extra) -> tuple[int, str, str]:
    return run(capsys, "ingest", FIXTURES / name, "--kind", kind, "--store", folder, *extra)


def stored(folder: Path, table: str) -> pd.DataFrame:
    """A stored table as plain pandas (text as str, dates as Timestamps)."""
    frame = getattr(store.load(folder), table).copy()
    for col in frame.columns:
        if isinstance(frame[col].dtype, pd.CategoricalDtype) or frame[col].dtype == object:
            frame[col] = frame[col].astype(str)
    return frame


def vacc(folder: Path) -> dict[tuple[str, str, str, int], int]:
    """Stored vaccinations as {(date, unit, band, dose): people_cumulative}."""
    v = stored(folder, "vaccinations")
    return {
        (f"{r.date:%Y-%m-%d}", r.unit_code, r.age_band, int(r.dose)): int(r.people_cumulative)
        for r in v.itertuples(index=False)
    }


def has_problem(err: str, row: int | None, column: str | None) -> bool:
    """A line of stderr names this row and this column."""
    for line in err.splitlines():
        if row is not None and not re.search(rf"\brow {row}\b", line):
            continue
        if column is not None and column not in line:
            continue
        return True
    return False


def build(folder: Path, names: tuple[str, ...]) -> Path:
    cfg = load_config()
    for name in names:
        store.ingest(folder, FIXTURES / f"{name}.csv", name, cfg)
    return folder


@pytest.fixture(scope="session")
def _templates(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("ingest-templates")
    return {
        "base": build(root / "base", ("units", "population", "vaccinations", "cases")),
        "units_only": build(root / "units_only", ("units", "population")),
    }


@pytest.fixture
def base(tmp_path, _templates) -> Path:
    """A small store of its own: two units (070, 071) with population; vaccinations and cases from the fixtures."""
    return Path(shutil.copytree(_templates["base"], tmp_path / "store"))


@pytest.fixture
def units_only(tmp_path, _templates) -> Path:
    """A small store of its own with units and population only."""
    return Path(shutil.copytree(_templates["units_only"], tmp_path / "store"))


# --------------------------------------------------------------------------- good files


@pytest.mark.parametrize("make_folder", [True, False], ids=["empty-folder", "missing-folder"])
def test_units_into_an_empty_or_missing_folder_creates_the_store(capsys, tmp_path, make_folder):
    folder = tmp_path / "a" / "store"
    if make_folder:
        folder.mkdir(parents=True)
    code, out, err = ingest(capsys, folder, "units.csv", "units")
    assert code == 0, err
    assert "Traceback" not in err
    assert store.exists(folder)
    units = stored(folder, "units")
    assert list(units["unit_code"]) == ["070", "071"]
    assert list(units["unit_name"]) == ["Thành phố Tuyên Quang", "Huyện Lâm Bình"]
    assert list(units["unit_type"]) == ["city", "district"]
    assert units["lat"].tolist() == [21.781, 22.504]
    assert units["lon"].tolist() == [105.226, 105.227]


def test_good_files_of_each_kind_are_stored_as_given(base):
    pop = stored(base, "population")
    expected = pd.read_csv(FIXTURES / "population.csv", dtype={"unit_code": str, "age_band": str})
    got = {(r.unit_code, r.age_band): int(r.population) for r in pop.itertuples(index=False)}
    assert got == {(r.unit_code, r.age_band): int(r.population) for r in expected.itertuples(index=False)}

    file = pd.read_csv(FIXTURES / "vaccinations.csv", dtype={"unit_code": str, "age_band": str})
    assert vacc(base) == {
        (r.date, r.unit_code, r.age_band, int(r.dose)): int(r.people_cumulative) for r in file.itertuples(index=False)
    }

    cases = stored(base, "cases")
    got = {
        (f"{r.date:%Y-%m-%d}", r.unit_code): (int(r.community_cases), int(r.imported_cases))
        for r in cases.itertuples(index=False)
    }
    assert got == {("2021-10-01", "070"): (3, 1), ("2021-10-01", "071"): (0, 0), ("2021-10-02", "070"): (2, 0)}


def test_unit_codes_keep_leading_zeros_through_coverage(capsys, base):
    code, out, err = run(capsys, "coverage", "--store", base, "--as-of", "2021-10-03", "--group", "adults", "--dose", 1)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[1].startswith("070,") and lines[2].startswith("071,") and lines[3].startswith("TOTAL,")


def test_dry_run_validates_and_stores_nothing(capsys, base):
    before = snapshot(base)
    code, out, err = ingest(capsys, base, "vaccinations_v2.csv", "vaccinations", "--dry-run")
    assert code == 0, err
    assert "dry run" in out
    assert snapshot(base) == before
    assert vacc(base)[("2021-10-03", "070", "18-49", 1)] == 400


def test_dry_run_of_a_bad_file_is_bad_input(capsys, base):
    before = snapshot(base)
    code, _, err = ingest(capsys, base, "bad_dose.csv", "vaccinations", "--dry-run")
    assert code == 1
    assert has_problem(err, 2, "dose")
    assert snapshot(base) == before


def test_dry_run_of_units_into_a_missing_store_creates_nothing(capsys, tmp_path):
    folder = tmp_path / "store"
    code, _, err = ingest(capsys, folder, "units.csv", "units", "--dry-run")
    assert code == 0, err
    assert not folder.exists()


# --------------------------------------------------------------------------- daily increments


def test_daily_doses_are_stored_as_cumulative_on_top_of_the_stored_value(capsys, base):
    stored_before = vacc(base)
    code, out, err = ingest(capsys, base, "vaccinations_daily.csv", "vaccinations")
    assert code == 0, err
    v = vacc(base)
    # 070 18-49 dose 1: stored 350 on 2021-10-02 (the day before the file's first date), then +10 +20 +30;
    # the stored 400 of 2021-10-03 is superseded.
    assert [v[(d, "070", "18-49", 1)] for d in ("2021-10-03", "2021-10-04", "2021-10-05")] == [360, 380, 410]
    # 071 18-49 dose 1: no report on 2021-10-02, so the base is 50 of 2021-10-01.
    assert [v[(d, "071", "18-49", 1)] for d in ("2021-10-03", "2021-10-04", "2021-10-05")] == [55, 55, 62]
    # 070 12-17 dose 1: nothing stored before, so it starts from 0.
    assert [v[(d, "070", "12-17", 1)] for d in ("2021-10-03", "2021-10-04")] == [4, 10]
    # Everything else is untouched.
    daily = pd.read_csv(FIXTURES / "vaccinations_daily.csv", dtype={"unit_code": str, "age_band": str})
    daily_keys = {(r.date, r.unit_code, r.age_band, int(r.dose)) for r in daily.itertuples(index=False)}
    assert len(v) == len(stored_before | dict.fromkeys(daily_keys, 0))
    for key, value in stored_before.items():
        if key not in daily_keys:
            assert v[key] == value, key


def test_daily_doses_into_a_store_without_vaccinations_start_from_zero(capsys, units_only):
    code, _, err = ingest(capsys, units_only, "vaccinations_daily.csv", "vaccinations")
    assert code == 0, err
    v = vacc(units_only)
    assert [v[(d, "070", "18-49", 1)] for d in ("2021-10-03", "2021-10-04", "2021-10-05")] == [10, 30, 60]
    assert [v[(d, "071", "18-49", 1)] for d in ("2021-10-03", "2021-10-04", "2021-10-05")] == [5, 5, 12]


# --------------------------------------------------------------------------- bad files

BAD_FILES = [
    ("bad_unknown_unit.csv", [(3, "unit_code")], "099"),
    ("bad_age_band.csv", [(2, "age_band")], "99+"),
    ("bad_date.csv", [(3, "date")], "04/10/2021"),
    ("bad_count.csv", [(2, "people_cumulative")], "420.5"),
    ("bad_negative.csv", [(3, "people_cumulative")], "-5"),
    ("bad_dose.csv", [(2, "dose")], "5"),
    ("bad_future.csv", [(3, "date")], "1 Jan 2099 is in the future"),
    ("bad_missing_column.csv", [(None, "dose")], "missing"),
]


@pytest.mark.parametrize("name,where,word", BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_a_bad_file_is_rejected_with_row_and_column(capsys, base, name, where, word):
    before = snapshot(base)
    code, out, err = ingest(capsys, base, name, "vaccinations")
    assert code == 1
    assert "Traceback" not in err
    assert name in err
    for row, column in where:
        assert has_problem(err, row, column), (row, column, err)
    assert word in err
    assert snapshot(base) == before


def test_every_problem_of_a_file_is_reported_at_once(capsys, base):
    before = snapshot(base)
    code, _, err = ingest(capsys, base, "bad_many.csv", "vaccinations")
    assert code == 1
    assert "Traceback" not in err
    expected = [
        (2, "unit_code"),  # unknown unit 099
        (3, "age_band"),  # 99+
        (4, "date"),  # 2021-13-04
        (5, "people_cumulative"),  # 1.5
        (6, "people_cumulative"),  # -5
        (7, "dose"),  # 5
        (8, "date"),  # 2099-01-01
    ]
    for row, column in expected:
        assert has_problem(err, row, column), (row, column, err)
    assert snapshot(base) == before


def test_the_same_key_twice_with_different_values_names_both_rows(capsys, base):
    before = snapshot(base)
    code, _, err = ingest(capsys, base, "bad_conflict.csv", "vaccinations")
    assert code == 1
    lines = [line for line in err.splitlines() if re.search(r"\brow 4\b", line)]
    assert lines and re.search(r"\brow 2\b", lines[0]), err
    assert snapshot(base) == before


def test_a_key_conflict_is_reported_together_with_value_errors(capsys, base):
    """All at once: a file with a bad dose (row 3) and a key conflict (rows 2 and 4) gets both reported."""
    code, _, err = ingest(capsys, base, "bad_many_with_conflict.csv", "vaccinations")
    assert code == 1
    assert has_problem(err, 3, "dose"), err
    conflict = [line for line in err.splitlines() if re.search(r"\brow 4\b", line)]
    assert conflict and re.search(r"\brow 2\b", conflict[0]), f"key conflict of rows 2 and 4 not reported:\n{err}"


def test_rows_are_file_line_numbers_even_after_a_blank_line(capsys, base):
    """Row = the file's line number (header = 1): the bad dose is on line 4, after a blank line 3."""
    lines = (FIXTURES / "bad_blank_line.csv").read_text().splitlines()
    assert lines[2] == "" and ",5," in lines[3]
    code, _, err = ingest(capsys, base, "bad_blank_line.csv", "vaccinations")
    assert code == 1
    assert has_problem(err, 4, "dose"), err


@pytest.mark.parametrize("name,word", [("empty.csv", "empty"), ("header_only.csv", "no rows")])
def test_empty_and_header_only_files_are_rejected(capsys, base, name, word):
    before = snapshot(base)
    code, out, err = ingest(capsys, base, name, "vaccinations")
    assert code == 1
    assert name in err and word in err
    assert "Traceback" not in err
    assert snapshot(base) == before


def test_a_missing_column_is_named(capsys, base):
    code, _, err = ingest(capsys, base, "bad_missing_column.csv", "vaccinations")
    assert code == 1
    assert has_problem(err, 1, "dose") and "missing column" in err


def test_a_missing_file_is_bad_input(capsys, base):
    before = snapshot(base)
    code, _, err = run(capsys, "ingest", FIXTURES / "no_such_file.csv", "--kind", "vaccinations", "--store", base)
    assert code == 1
    assert "no_such_file.csv" in err and "Traceback" not in err
    assert snapshot(base) == before


def test_a_file_of_another_kind_is_rejected(capsys, base):
    before = snapshot(base)
    code, _, err = ingest(capsys, base, "cases.csv", "vaccinations")
    assert code == 1
    assert "missing column" in err and "Traceback" not in err
    assert snapshot(base) == before


# --------------------------------------------------------------------------- repeats, corrections, aliases, Unicode


def test_exact_repeats_are_dropped(capsys, base):
    code, out, err = ingest(capsys, base, "vaccinations_repeats.csv", "vaccinations")
    assert code == 0, err
    assert "1 repeated" in out
    v = stored(base, "vaccinations")
    mine = v[v["date"] == pd.Timestamp("2021-10-04")]
    assert len(mine) == 2
    assert vacc(base)[("2021-10-04", "070", "18-49", 1)] == 420
    log = store.ingests(base)
    assert int(log.iloc[-1]["rows"]) == 2


def test_a_downward_cumulative_is_a_warning_not_an_error(capsys, base):
    code, out, err = ingest(capsys, base, "vaccinations_down.csv", "vaccinations")
    assert code == 0, err
    warnings = [line for line in err.splitlines() if "warning" in line.lower()]
    assert any(re.search(r"\brow 3\b", w) and "people_cumulative" in w for w in warnings), err
    v = vacc(base)
    assert v[("2021-10-04", "070", "18-49", 1)] == 420
    assert v[("2021-10-05", "070", "18-49", 1)] == 410


def test_group_alias_is_stored_as_the_group_id(capsys, base):
    code, _, err = ingest(capsys, base, "vaccinations_alias.csv", "vaccinations")
    assert code == 0, err
    v = vacc(base)
    assert v[("2021-10-01", "071", "adults", 2)] == 40
    assert v[("2021-10-02", "071", "adults", 2)] == 45
    assert not any(k[2] == "18+" for k in v)
    code, out, err = run(capsys, "coverage", "--store", base, "--as-of", "2021-10-02", "--group", "adults", "--dose", 2)
    assert code == 0, err
    row = next(line for line in out.splitlines() if line.startswith("071,")).split(",")
    assert int(row[2]) == 45 and int(row[3]) == 500 + 250 + 125


def test_nfd_unit_names_are_stored_nfc(capsys, tmp_path):
    raw = (FIXTURES / "units_nfd.csv").read_text(encoding="utf-8")
    assert unicodedata.is_normalized("NFD", raw) and not unicodedata.is_normalized("NFC", raw)
    folder = tmp_path / "store"
    code, _, err = ingest(capsys, folder, "units_nfd.csv", "units")
    assert code == 0, err
    names = list(stored(folder, "units")["unit_name"])
    assert names == ["Thành phố Tuyên Quang", "Huyện Lâm Bình"]
    assert all(unicodedata.is_normalized("NFC", n) for n in names)
    assert list(stored(folder, "units")["unit_code"]) == ["070", "071"]


def test_read_table_reports_problems_as_objects():
    """The library call under the CLI: every problem carries a row and a column."""
    from tracker.errors import ValidationError
    from tracker.ingest import read_table

    with pytest.raises(ValidationError) as info:
        read_table(FIXTURES / "bad_many.csv", "vaccinations", load_config(), {"070", "071"})
    found = {(p.row, p.column) for p in info.value.problems if p.severity == "error"}
    assert found >= {
        (2, "unit_code"),
        (3, "age_band"),
        (4, "date"),
        (5, "people_cumulative"),
        (6, "people_cumulative"),
        (7, "dose"),
        (8, "date"),
    }


def test_key_codes_are_one_mixed_radix_number_per_row():
    """The ingest's duplicate check and series codes: each key column a digit (the first the most
    significant), a missing or unknown value the digit 0, worked out by hand."""
    from tracker.ingest.checks import key_codes

    frame = pd.DataFrame(
        {
            "date": pd.to_datetime(["2021-10-03", "2021-10-01", "2021-10-03", "2021-10-02"]),
            "unit_code": pd.Categorical(["071", "070", None, "070"]),
            "age_band": ["65+", "18-49", "65+", None],
            "dose": np.array([2, 1, 1, 2], dtype=np.int8),
        }
    )
    key, sizes = key_codes(frame, ["date", "unit_code", "age_band", "dose"])
    # digits: days since the first (0-2, size 3); unit 070 -> 1, 071 -> 2, missing -> 0 (size 3);
    # bands in order of appearance 65+ -> 1, 18-49 -> 2, missing -> 0 (size 3); dose minus 1 (size 2)
    assert sizes == [3, 3, 3, 2]
    digits = [(2, 2, 1, 1), (0, 1, 2, 0), (2, 0, 1, 0), (1, 1, 0, 1)]
    assert key.tolist() == [((d * 3 + u) * 3 + b) * 2 + s for d, u, b, s in digits]
    assert key.dtype == np.int32  # the keys fit: half the memory of int64
