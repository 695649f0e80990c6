"""`tracker report` reads the store without pandas (tracker.store.basics) and computes on arrays
(tracker.evaluation); the dashboard reads a Dataset of frames (open_dataset) and gets tracker.core.evaluate's
frame. The command's CSV and JSON, and its notes, are byte for byte what that frame gives through the same
writer, on the sample store at dates across both deadlines, on a store with figures unavailable (overlapping
reports) and on one with coverage above 100%: the pages and the command show the same figures. (How each
value is written is pinned by tests/test_cli.py.) And the command really starts without pandas and pyarrow:
the point of it (issue 12, docs/performance.md). `tracker coverage` takes the same path, against
tracker.core.coverage's frame."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.clitools import run
from tracker import core, store
from tracker.cli import output
from tracker.config import load_config
from tracker.errors import DataError

# a numpy warning (a NaN cast to an integer, a division by zero) would reach a user's terminal: here it fails the test
pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

CFG = load_config()
DROPS = Path(__file__).resolve().parent / "fixtures" / "drops"
DATES = ["2021-09-01", "2021-10-15", "2021-12-01", "2021-12-31", "2022-01-05", "2022-03-31", "2022-06-30"]


@pytest.fixture(scope="module")
def stores(store_dir, tmp_path_factory) -> dict[str, Path]:
    # reports of overlapping age groups, stored as a drop was before such files were refused
    overlap = Path(shutil.copytree(store_dir, tmp_path_factory.mktemp("overlap") / "store"))
    prepared = store.prepare(overlap, DROPS / "wide_vi.csv", "vaccinations", CFG)
    prepared.overlapping = 0
    store.commit(overlap, prepared, "lan", DROPS / "wide_vi.csv")
    # more adults of 071 vaccinated than live there (population or reports wrong: said on stderr)
    over = Path(shutil.copytree(store_dir, tmp_path_factory.mktemp("over") / "store"))
    data = b"date,unit_code,age_band,dose,people_cumulative\n2021-12-31,071,18-49,1,30000\n"
    store.commit(over, store.prepare(over, data, "vaccinations", CFG, filename="over.csv"), "lan", data)
    return {"sample": store_dir, "overlap": overlap, "over": over}


def frames_path(folder: Path, as_of: str, fmt: str) -> tuple[str, str]:
    """What the command prints when it computes the dashboard's way: a Dataset's frames, tracker.core."""
    out, err = io.StringIO(), io.StringIO()
    ds = store.open_dataset(folder)
    frame = core.evaluate(ds, CFG, dt.date.fromisoformat(as_of))
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        output.emit(frame, output.REPORT_COLUMNS, fmt)
        output.notes(frame)
        output.sample_note(ds)
    return out.getvalue(), err.getvalue()


@pytest.mark.parametrize("fmt", ["csv", "json"])
@pytest.mark.parametrize("which", ["sample", "overlap", "over"])
def test_the_report_is_what_the_frames_give(capsys, stores, which, fmt):
    seen = set()
    for as_of in DATES:
        code, out, err = run(capsys, "report", "--store", stores[which], "--as-of", as_of, "--format", fmt)
        assert code == 0, err
        assert (out, err) == frames_path(stores[which], as_of, fmt), f"{which} at {as_of}"
        assert all(line.startswith("note: ") for line in err.splitlines()), err  # nothing but notes
        seen |= {note for note in ("figure unavailable", "coverage above 100%") if note in err}
    # the stores do show what they are for: figures unavailable, coverage above 100%
    expected = {"sample": set(), "overlap": {"figure unavailable"}, "over": {"coverage above 100%"}}
    assert seen == expected[which]


@pytest.mark.parametrize("which", ["sample", "overlap", "over"])
def test_coverage_is_what_the_frames_give(capsys, stores, which):
    """`tracker coverage` takes the same path: each group and dose against tracker.core.coverage's frame."""
    ds = store.open_dataset(stores[which])
    for as_of in DATES:
        for group, dose in [("adults", 1), ("all", 2), ("18-49", 1), ("50plus", 3)]:
            args = ["coverage", "--store", stores[which], "--as-of", as_of, "--group", group, "--dose", str(dose)]
            code, out, err = run(capsys, *args)
            assert code == 0, err
            expected_out, expected_err = io.StringIO(), io.StringIO()
            frame = core.coverage(ds, CFG, dt.date.fromisoformat(as_of), group, dose)
            with contextlib.redirect_stdout(expected_out), contextlib.redirect_stderr(expected_err):
                output.emit(frame, output.COVERAGE_COLUMNS, "csv")
                output.notes(frame)
                output.sample_note(ds)
            assert (out, err) == (expected_out.getvalue(), expected_err.getvalue()), f"{which} {group} {dose} {as_of}"


def test_report_and_coverage_start_without_pandas_or_pyarrow(store_dir):
    script = (
        "import io, sys, contextlib\n"
        "from tracker.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        f"    code = main(['report', '--store', {str(store_dir)!r}, '--as-of', '2021-12-01'])\n"
        f"    code += main(['coverage', '--store', {str(store_dir)!r}, '--group', 'adults', '--dose', '1'])\n"
        "assert code == 0 and out.getvalue().startswith('unit_code,unit_name,target_id'), out.getvalue()[:200]\n"
        "assert '\\nunit_code,unit_name,people,population,coverage' in out.getvalue()\n"
        "print(sorted(m for m in ('pandas', 'pyarrow', 'streamlit', 'plotly') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def _altered(store_dir: Path, tmp_path: Path, *statements: str) -> Path:
    """A copy of the sample store with its tables changed behind the tracker's back (a damaged or old store)."""
    folder = Path(shutil.copytree(store_dir, tmp_path / "store"))
    con = duckdb.connect(str(store.db_path(folder)))
    try:
        for sql in statements:
            con.execute(sql)
    finally:
        con.close()
    return folder


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        (
            "DELETE FROM population WHERE unit_code = '071' AND age_band = '65+'",
            "population missing or zero for group 'adults': 071 has no population for band(s) 65+",
        ),
        (
            "UPDATE population SET population = 0 WHERE unit_code = '071'",
            "population missing or zero for group 'adults': 071 has zero population",
        ),
        (
            "DELETE FROM units WHERE unit_code = '071'",
            "vaccination reports for units missing from the units table: 071",
        ),
    ],
    ids=["a band without population", "zero population", "reports of a unit not in the units"],
)
def test_stored_data_the_figures_cannot_use_is_the_same_error_both_ways(
    capsys, store_dir, tmp_path, statement, message
):
    folder = _altered(store_dir, tmp_path, statement)
    code, out, err = run(capsys, "report", "--store", folder, "--as-of", "2021-12-01")
    assert (code, out, err) == (1, "", f"error: {message}\n")
    with pytest.raises(DataError) as raised:
        core.evaluate(store.open_dataset(folder), CFG, dt.date(2021, 12, 1))
    assert str(raised.value) == message


def test_a_store_from_before_the_series_table_gives_the_same_report(capsys, store_dir, tmp_path):
    """Schema version 2 (no vaccination_series, no recorded version): the reports give the series' bounds."""
    old = _altered(store_dir, tmp_path, "DROP TABLE vaccination_series", "DROP TABLE schema_version")
    for as_of in DATES:
        assert run(capsys, "report", "--store", old, "--as-of", as_of) == run(
            capsys, "report", "--store", store_dir, "--as-of", as_of
        ), as_of


def test_a_store_without_reports(capsys, units_store):
    code, out, err = run(capsys, "report", "--store", units_store)
    assert (code, out) == (1, "") and err == "error: the store has no vaccination reports; give --as-of\n"
    code, out, err = run(capsys, "report", "--store", units_store, "--as-of", "2021-12-01")
    assert code == 0 and (out, err) == frames_path(units_store, "2021-12-01", "csv")
    rows = out.splitlines()[1:]
    assert rows and all(",0," in row for row in rows)  # nobody vaccinated yet: 0 people, never empty
