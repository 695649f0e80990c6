"""The canonical vaccinations CSV kept in Arrow (tracker.ingest.clean) against the general path (pandas).

Every file here is read both ways against the same store, the sample's: the clean path must accept and
refuse exactly the files the general path does, store the same figures, and give the same warnings, row
numbers and detection; and it must really take the canonical files it is meant for. Files come from the
fixtures and from drops written here, one per rule (a unit named instead of coded, a correction, a spike,
coverage above the population, a key twice, a date in the future, …).
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from tracker import store
from tracker.config import load_config
from tracker.errors import InputError, MeasureNeeded, ValidationError
from tracker.ingest import pipeline
from tracker.ingest.clean import read_clean

TESTS = Path(__file__).resolve().parent
FIXTURES = sorted((TESTS / "fixtures" / "canonical").glob("*.csv")) + sorted(
    (TESTS / "fixtures" / "drops").glob("*.csv")
)
CFG = load_config()
HEADER = "date,unit_code,age_band,dose,people_cumulative\n"

# The sample's last report is 2022-03-31; its series for 070 18-49 dose 1 then stand at LAST.
SAMPLE = pd.read_csv(TESTS.parent / "data" / "vaccinations.csv", dtype={"unit_code": str})
LAST = SAMPLE[SAMPLE["date"] == SAMPLE["date"].max()].set_index(["unit_code", "age_band", "dose"])["people_cumulative"]


def _next_day(bump=lambda key, value: value + 5, date="2022-04-01") -> str:
    """A drop of the day after the sample's last: every series, each a little above its last value."""
    lines = [f"{date},{u},{b},{d},{bump((u, b, d), int(v))}" for (u, b, d), v in LAST.items()]
    return HEADER + "\n".join(lines) + "\n"


def _one_series(values: list[int], unit="070", band="18-49", dose=1, start="2022-04-01") -> str:
    first = dt.date.fromisoformat(start)
    lines = [f"{first + dt.timedelta(days=i)},{unit},{band},{dose},{v}" for i, v in enumerate(values)]
    return HEADER + "\n".join(lines) + "\n"


BASE = int(LAST[("070", "18-49", 1)])
LAM_BINH = int(LAST[("071", "18-49", 1)])
WRITTEN = {
    "next_day.csv": _next_day(),
    "next_day_bom_crlf.csv": "\ufeff" + _next_day().replace("\n", "\r\n"),
    "names_and_short_codes.csv": HEADER + f"2022-04-01,Huyện Lâm Bình,18-49,1,{LAM_BINH + 1}\n"
    f"2022-04-01,70,18-49,1,{BASE + 1}\n",
    "labels_written_otherwise.csv": HEADER + f"2022-04-01,070,18 - 49,1,{BASE + 1}\n",
    "quoted_newline.csv": HEADER
    + f'2022-04-01,"070",18-49,1,{BASE + 1}\n2022-04-01,"Huyện Lâm\nBình",18-49,1,{LAM_BINH + 1}\n',
    "extra_column.csv": HEADER.replace("\n", ",ghi_chu\n") + f"2022-04-01,070,18-49,1,{BASE + 1},kiểm tra lại\n",
    "reordered.csv": "unit_code,people_cumulative,dose,age_band,date\n" + f"070,{BASE + 1},1,18-49,2022-04-01\n",
    "spaces_around_codes.csv": HEADER + f"2022-04-01, 070 ,18-49,1,{BASE + 1}\n",
    "quoted.csv": HEADER + f'2022-04-01,"070","18-49",1,{BASE + 1}\n2022-04-02,"070",18-49,1,{BASE + 2}\n',
    "correction_in_file.csv": _one_series([BASE + 10, BASE + 4, BASE + 12]),
    "below_stored.csv": _one_series([BASE - 100, BASE - 90]),
    "spike.csv": _one_series([BASE + 100 * i for i in range(8)] + [BASE + 700 + 5000]),
    "over_population.csv": _one_series([50_000]),  # its population is 45,530
    "absurd.csv": _one_series([10**9]),
    "overlapping_label.csv": HEADER + "2022-04-01,070,18+,1,50000\n",
    "exact_repeat.csv": _one_series([BASE + 1]) + _one_series([BASE + 1])[len(HEADER) :],
    "same_key_twice.csv": _one_series([BASE + 1]) + _one_series([BASE + 2])[len(HEADER) :],
    "future.csv": _one_series([BASE + 1], start="2099-01-01"),
    "before_campaign.csv": _one_series([1], start="2020-01-01"),
    "negative.csv": _one_series([-1]),
    "too_large.csv": _one_series([CFG.limits.max_count + 1]),
    "dose_5.csv": _one_series([BASE + 1], dose=5),
    "unknown_unit.csv": _one_series([BASE + 1], unit="999"),
    "empty_cell.csv": HEADER + "2022-04-01,,18-49,1,5\n",
    "formula.csv": HEADER + "2022-04-01,=A1,18-49,1,5\n",
    "blank_band.csv": HEADER + "2022-04-01,070, ,1,5\n",
    "thousands.csv": HEADER + '2022-04-01,070,18-49,1,"1.234"\n',
    "slashed_date.csv": HEADER + f"01/04/2022,070,18-49,1,{BASE + 1}\n",
}


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("clean") / "store"
    store.init(folder, CFG)
    return folder


def write_files(folder: Path, texts: dict[str, str | bytes]) -> dict[str, Path]:
    """Each text as a file of that name in ``folder`` (UTF-8 unless given as bytes), by name."""
    out = {}
    for name, text in texts.items():
        out[name] = folder / name
        out[name].write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return out


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> dict[str, Path]:
    return write_files(tmp_path_factory.mktemp("written"), WRITTEN)


def outcome(folder: Path, path: Path):
    """What reading a file against the store gives, in a form both paths can be compared in."""
    try:
        prepared = store.prepare(folder, path, "vaccinations", CFG)
    except ValidationError as exc:
        return "refused", str(exc), [(p.row, p.column, p.text("vi")) for p in exc.problems]
    except (InputError, MeasureNeeded) as exc:
        return "refused", str(exc)
    frame = prepared.frame
    figures = list(
        zip(frame["date"].dt.strftime("%Y-%m-%d"), frame["unit_code"].astype(str), frame["age_band"].astype(str),
            frame["dose"].astype(int), frame["people_cumulative"].astype(int), strict=True)
    )  # fmt: skip
    return (
        "read",
        figures,
        [(w.row, w.column, w.text("vi"), w.text()) for w in prepared.warnings],
        [int(r) for r in prepared.rows],
        prepared.detected,
        prepared.sha256,
        prepared.duplicates_dropped,
        prepared.overlapping,
        {c: str(frame[c].dtype) for c in frame.columns},
    )


def both_ways(folder: Path, path: Path, monkeypatch) -> tuple:
    clean = outcome(folder, path)
    with monkeypatch.context() as m:
        m.setattr(pipeline, "read_clean", lambda *args, **kwargs: None)
        general = outcome(folder, path)
    return clean, general


@pytest.mark.parametrize("path", FIXTURES, ids=[p.name for p in FIXTURES])
def test_every_fixture_reads_the_same_both_ways(sample, path, monkeypatch):
    clean, general = both_ways(sample, path, monkeypatch)
    assert clean == general


@pytest.mark.parametrize("name", list(WRITTEN))
def test_every_rule_reads_the_same_both_ways(sample, written, name, monkeypatch):
    clean, general = both_ways(sample, written[name], monkeypatch)
    assert clean == general


# What the clean path takes, and what it leaves to the general one (which says what is wrong).
TAKEN = {
    "next_day.csv": "no warning",
    "next_day_bom_crlf.csv": "no warning",
    "names_and_short_codes.csv": "units named, or coded without their leading zero",
    "labels_written_otherwise.csv": "an age band written with spaces",
    "quoted_newline.csv": "a quoted value across two lines: rows numbered by line",
    "quoted.csv": "quoted values",
    "extra_column.csv": "a column the tracker does not store, left out",
    "reordered.csv": "the canonical columns in another order",
    "spaces_around_codes.csv": "a unit code with spaces around it, trimmed",
    "correction_in_file.csv": "warning.correction",
    "below_stored.csv": "warning.correction_stored",
    "spike.csv": "warning.spike",
    "over_population.csv": "warning.over_population",
    "overlapping_label.csv": "warning.overlap_stored (the commit refuses it)",
    "absurd.csv": "refused by the population check, which both paths share",
}


@pytest.mark.parametrize("name", list(WRITTEN))
def test_the_clean_path_takes_canonical_files_and_leaves_the_rest(sample, written, name):
    units = store.intake.unit_names(lambda: store.connection.reading(sample))
    found = read_clean(
        pipeline.Input(name, path=written[name]), pipeline.KINDS["vaccinations"], CFG, units, dt.date(2026, 1, 1),
        store.intake.stored_before(None), pipeline.ReadOptions(), CFG.limits,
    )  # fmt: skip
    if name in TAKEN:
        assert found is not None and isinstance(found.data, pa.Table)
    else:
        assert found is None


def test_the_written_files_raise_the_warnings_they_are_named_after(sample, written):
    """Else the equality above would prove little about the warnings."""
    for name, what in TAKEN.items():
        if what.startswith("warning."):
            prepared = store.prepare(sample, written[name], "vaccinations", CFG)
            assert isinstance(prepared.data, pa.Table)
            assert what.split()[0] in {w.code for w in prepared.warnings}, name


def test_the_absurd_count_is_refused_by_the_population_check(sample, written):
    with pytest.raises(ValidationError) as info:
        store.prepare(sample, written["absurd.csv"], "vaccinations", CFG)
    assert {p.code for p in info.value.problems} == {"limit.per_population"}


QUERIES = {
    "vaccinations": "SELECT date, unit_code, age_band, dose, people_cumulative, drop_id FROM vaccinations",
    "history": "SELECT * FROM vaccinations_history",
    "series": "SELECT * FROM vaccination_series",
    "drops": "SELECT id, kind, source, sha256, rows, warnings, status FROM drops",
}


def tables(folder: Path) -> dict[str, list[tuple]]:
    with store.connection.reading(folder) as con:
        return {name: con.execute(f"{sql} ORDER BY ALL").fetchall() for name, sql in QUERIES.items()}


def test_clean_drops_store_what_the_general_path_stores(sample, written, tmp_path, monkeypatch):
    """Committed both ways into copies of one store: the same rows, history, series and drop log."""
    clean = Path(shutil.copytree(sample, tmp_path / "clean"))
    general = Path(shutil.copytree(sample, tmp_path / "general"))
    for name in ("next_day.csv", "names_and_short_codes.csv", "spike.csv", "below_stored.csv"):
        assert isinstance(store.prepare(clean, written[name], "vaccinations", CFG).data, pa.Table)
        store.ingest(clean, written[name], "vaccinations", CFG, uploader="test")
        with monkeypatch.context() as m:
            m.setattr(pipeline, "read_clean", lambda *args, **kwargs: None)
            store.ingest(general, written[name], "vaccinations", CFG, uploader="test")
    assert tables(clean) == tables(general)
    # worked out from the files: every series on 04-01, then 070 18-49 dose 1 on eight more days (spike);
    # its 04-01 and 04-02 last written by below_stored
    stored = {(str(d), u, b, int(k)): int(v) for d, u, b, k, v, _ in tables(clean)["vaccinations"]}
    assert len(stored) == len(SAMPLE) + len(LAST) + 8
    assert stored[("2022-04-01", "070", "18-49", 1)] == BASE - 100
    assert stored[("2022-04-02", "070", "18-49", 1)] == BASE - 90
    assert stored[("2022-04-09", "070", "18-49", 1)] == BASE + 700 + 5000
    assert stored[("2022-04-01", "071", "18-49", 1)] == LAM_BINH + 1


def test_a_canonical_drop_goes_to_the_store_in_arrow_without_pandas(sample, written, tmp_path):
    """Arrow end to end: in a fresh interpreter, a canonical drop is read, checked and stored without the
    general path's modules and without pandas (which pyarrow imports on its first conversion from
    Python or to numpy: 0.2 s, more than the work of a daily drop) or pyarrow.compute (which a
    ``take`` or a ``cast`` imports: 25 ms), the text columns kept as dictionaries; drops with warnings too
    (their messages read a few rows' values), and with the raw file compressed as the file is read."""
    folder = Path(shutil.copytree(sample, tmp_path / "store"))
    paths = [str(written[name]) for name in ("next_day.csv", "spike.csv", "over_population.csv")]
    code = f"""
import sys
import pyarrow as pa
from tracker import store
from tracker.config import load_config
for path in {paths!r}:
    prepared = store.prepare({str(folder)!r}, path, "vaccinations", load_config(), keep_raw=True)
    assert isinstance(prepared.data, pa.Table), type(prepared.data)
    assert prepared.data.schema.field("unit_code").type == pa.dictionary(pa.int32(), pa.string())
    assert prepared.warnings or path.endswith("next_day.csv"), path
    store.commit({str(folder)!r}, prepared, "test", path)
general = ("tracker.ingest.frame", "tracker.ingest.checks", "tracker.ingest.raw_table", "pandas", "pyarrow.compute")
print(sorted(m for m in general if m in sys.modules))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
    assert len(tables(folder)["vaccinations"]) == len(SAMPLE) + len(LAST) + 8  # spike.csv: 8 more days


def test_lines_index_as_the_array_they_stand_for():
    """Prepared.rows of a file without quotes: the lines computed where a warning names one, never a line
    per row (tracker.ingest.kinds.Lines). Every way the checks index them gives what the array would."""
    import numpy as np

    from tracker.ingest.kinds import Lines

    lines, array = Lines(2, 10), np.arange(2, 12, dtype=np.int32)
    rng = np.random.default_rng(3)
    keys = [0, 9, -1, -10, np.int64(4), slice(None), slice(2, 8, 3), slice(None, None, -2),
            np.array([], dtype=np.int64), np.array([3, 3, 0, -2]), rng.integers(-10, 10, 50),
            rng.random(10) > 0.5, np.zeros(10, dtype=bool)]  # fmt: skip
    for key in keys:
        got, want = lines[key], array[key]
        assert np.array_equal(got, want) and np.asarray(got).dtype == want.dtype, key
    assert len(lines) == 10 and list(lines) == list(range(2, 12))
    assert np.array_equal(np.asarray(lines), array) and np.asarray(lines).dtype == np.int32
    for bad in (10, -11, np.array([0, 10]), np.array([-11]), np.ones(9, dtype=bool), np.array([1.0])):
        with pytest.raises(IndexError):
            lines[bad]
    assert Lines(2, 2**31).dtype == np.int64  # past 32 bits, as file_rows


def test_a_file_without_quotes_is_given_no_line_per_row(sample, written):
    """A line per row is counted only where a quoted value may span lines; the warnings name the same rows
    (the equality tests above) either way."""
    import numpy as np

    from tracker.ingest.kinds import Lines

    plain = store.prepare(sample, written["next_day.csv"], "vaccinations", CFG)
    assert isinstance(plain.data, pa.Table) and isinstance(plain.rows, Lines)
    assert np.array_equal(np.asarray(plain.rows), np.arange(2, 2 + plain.data.num_rows))
    quoted = store.prepare(sample, written["quoted_newline.csv"], "vaccinations", CFG)
    assert isinstance(quoted.data, pa.Table) and isinstance(quoted.rows, np.ndarray)
