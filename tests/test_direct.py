"""The daily drop stored by DuckDB alone (tracker.store.direct) against the usual path (prepare + commit).

Every file here is offered to the direct path on one copy of the sample's store and read the usual way
on another: when the direct path takes a file, the usual one must accept it without a single warning,
and both stores must then hold the same rows, history, series, drop log and raw file; when it does not,
its copy of the store must be byte for byte as it was. And it must really take the daily drops it is
meant for, in a fresh interpreter without numpy, pyarrow or pandas.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.clitools import run, snapshot
from tests.fixtures.drops.make_fixtures import cp1258
from tests.test_clean_path import (
    BASE,
    CFG,
    FIXTURES,
    HEADER,
    LAST,
    WRITTEN,
    _next_day,
    _one_series,
    tables,
    write_files,
)
from tracker import store
from tracker.errors import TrackerError
from tracker.ingest import KINDS
from tracker.ingest.options import SPIKE_WINDOW
from tracker.store import direct
from tracker.store.direct import ingest_direct
from tracker.store.migrations import LATEST


def _two_days() -> str:
    lines = [
        f"{date},{u},{b},{d},{int(v) + step}"
        for date, step in (("2022-04-01", 3), ("2022-04-02", 9))
        for (u, b, d), v in LAST.items()
    ]
    return HEADER + "\n".join(lines) + "\n"


# Daily drops the direct path is for: it must take each of them.
TAKEN = {
    "direct_next_day.csv": _next_day(),
    "direct_crlf.csv": _next_day().replace("\n", "\r\n"),
    "direct_no_final_newline.csv": _next_day().rstrip("\n"),
    "direct_reordered.csv": "people_cumulative,dose,age_band,unit_code,date\n"
    + "".join(f"{int(v) + 1},{d},{b},{u},2022-04-01\n" for (u, b, d), v in LAST.items()),
    "direct_two_days.csv": _two_days(),
    "direct_one_row.csv": _one_series([BASE + 1]),
}
# What it leaves to the usual path although that path has nothing to say: it is stricter.
STRICTER = {
    "direct_past_day.csv": _one_series([BASE], start="2022-03-31"),  # the day stored already
    "direct_long_series.csv": _one_series([BASE + i for i in range(1, SPIKE_WINDOW + 3)]),  # spike-length
    "direct_leading_zero_dose.csv": _one_series([BASE + 1]).replace(",1,", ",01,"),
    "direct_bom.csv": "\ufeff" + _next_day(),
}
OTHERS = {
    "direct_ragged.csv": HEADER + f"2022-04-01,070,18-49,1\n2022-04-01,071,18-49,1,{BASE}\n",
    "direct_decimal.csv": _one_series([BASE + 1]).replace(f",{BASE + 1}", f",{BASE + 1}.5"),
    "direct_blank_line.csv": _one_series([BASE + 1]) + "\n",
    "direct_feb_30.csv": _one_series([BASE + 1], start="2022-02-28").replace("2022-02-28", "2022-02-30"),
    "direct_nul.csv": HEADER + f"2022-04-01,070\x00,18-49,1,{BASE + 1}\n",
    # an empty cell is NULL in DuckDB, which its aggregates skip (found by the random drops below)
    "direct_empty_dose.csv": HEADER + f"2022-04-01,070,18-49,,{BASE + 1}\n2022-04-01,070,18-49,2,{BASE}\n",
    "direct_empty_date.csv": HEADER + f",070,18-49,1,{BASE + 1}\n2022-04-01,070,18-49,2,{BASE}\n",
    "direct_empty_count.csv": HEADER + "2022-04-01,070,18-49,1,\n" + f"2022-04-01,070,18-49,2,{BASE}\n",
}
FILES = {**WRITTEN, **TAKEN, **STRICTER, **OTHERS}


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("direct") / "store"
    store.init(folder, CFG)
    return folder


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    # and a unit named in the Vietnamese code page
    cp = {"direct_cp1258.csv": cp1258(HEADER + f"2022-04-01,Huyện Lâm Bình,18-49,1,{BASE + 1}\n")}
    return write_files(tmp_path_factory.mktemp("files"), {**FILES, **cp})


def _usual(folder: Path, path: Path):
    """The usual path's drop, or None when it refuses the file."""
    try:
        prepared = store.prepare(folder, path, "vaccinations", CFG)
        store.check_storable(prepared)
    except TrackerError:
        return None
    return prepared


def _compare(sample: Path, path: Path, tmp_path: Path):
    """Offer ``path`` to the direct path and to the usual one, each on a copy of the store; return what the
    direct path did (None: left to the usual path) after checking it against the usual path."""
    mine = Path(shutil.copytree(sample, tmp_path / "direct"))
    theirs = Path(shutil.copytree(sample, tmp_path / "usual"))
    before = snapshot(mine)
    done = ingest_direct(mine, path, CFG, "tester")
    usual = _usual(theirs, path)
    if done is None:
        assert snapshot(mine) == before, "a file left to the usual path changed the store"
        return None
    assert usual is not None, "taken directly, refused the usual way"
    assert [str(w) for w in usual.warnings] == [], "taken directly, warned about the usual way"
    drop_id = store.commit(theirs, usual, "tester", path)
    assert done == (drop_id, len(usual.data))
    assert tables(mine) == tables(theirs)
    sha = store.drops(mine).set_index("id").loc[drop_id, "sha256"]
    assert store.read_raw(mine, sha) == path.read_bytes() == store.read_raw(theirs, sha)
    return done


@pytest.mark.parametrize("name", sorted([*FILES, "direct_cp1258.csv"]))
def test_a_drop_is_stored_as_the_usual_path_stores_it_or_left_to_it(sample, files, name, tmp_path):
    done = _compare(sample, files[name], tmp_path)
    if name in TAKEN:
        assert done is not None, "a daily drop the direct path is for was left to the usual path"
    if name in STRICTER:
        assert done is None


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_the_fixtures_are_stored_as_the_usual_path_stores_them_or_left_to_it(sample, path, tmp_path):
    _compare(sample, path, tmp_path)


def test_the_rules_it_words_none_of_are_each_left_to_the_usual_path(sample, files, tmp_path):
    """Each file the usual path refuses or warns about is left to it (the parametrized test checks that the
    direct path never takes one; here, that those files exist for every rule, so that it could fail)."""
    said = []
    for name in WRITTEN:
        prepared = _usual(Path(shutil.copytree(sample, tmp_path / name)), files[name])
        if prepared is None or prepared.warnings:
            said.append(name)
    rules = ["correction_in_file", "below_stored", "spike", "over_population", "absurd", "overlapping_label",
             "same_key_twice", "future", "before_campaign", "negative", "too_large", "dose_5",
             "unknown_unit"]  # fmt: skip
    assert not [rule for rule in rules if f"{rule}.csv" not in said]


def test_a_store_at_another_version_is_left_alone(sample, files, tmp_path):
    folder = Path(shutil.copytree(sample, tmp_path / "newer"))
    with store.writing(folder) as con:  # as a newer tracker would leave it
        con.execute("INSERT INTO schema_version VALUES (?)", [LATEST + 1])
    before = snapshot(folder)
    assert ingest_direct(folder, files["direct_next_day.csv"], CFG, "tester") is None
    assert snapshot(folder) == before


def test_no_uploader_or_no_store_is_left_to_the_usual_path(sample, files, tmp_path):
    assert ingest_direct(tmp_path / "none", files["direct_next_day.csv"], CFG, "tester") is None
    assert not (tmp_path / "none").exists()
    folder = Path(shutil.copytree(sample, tmp_path / "store"))
    before = snapshot(folder)
    assert ingest_direct(folder, files["direct_next_day.csv"], CFG, "  ") is None
    assert snapshot(folder) == before


def test_its_columns_and_types_are_those_of_the_vaccinations_kind():
    spec = KINDS["vaccinations"]
    assert direct.KEYS == spec.keys
    assert direct.COLUMNS == tuple(spec.columns)
    duck = {"date32[day]": "DATE", "string": "VARCHAR", "int8": "TINYINT", "int64": "BIGINT"}
    assert direct.TYPES == {c: duck[str(t)] for c, t in spec.columns.items()}


def test_tracker_ingest_stores_a_daily_drop_without_numpy_pyarrow_or_pandas(sample, files, tmp_path):
    """The command as analysts run it, in a fresh interpreter: the drop stored, the line it prints the
    usual one, and none of the heavy libraries imported (0.12 s of CPU: docs/performance.md)."""
    folder = Path(shutil.copytree(sample, tmp_path / "store"))
    path = files["direct_next_day.csv"]
    code = f"""
import sys
from tracker.cli import main
sys.argv = ["tracker", "ingest", {str(path)!r}, "--kind", "vaccinations", "--store", {str(folder)!r}]
code = main()
print(code, sorted(m for m in ("numpy", "pyarrow", "pandas") if m in sys.modules))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    stored, modules = done.stdout.strip().splitlines()
    assert stored == f"vaccinations: {len(LAST)} rows stored in {folder} as drop 5; 0 warning(s)"
    assert modules == "0 []"
    assert len(tables(folder)["vaccinations"]) == len(tables(sample)["vaccinations"]) + len(LAST)


def test_the_rows_stored_are_those_of_the_bytes_kept(sample, tmp_path, monkeypatch):
    """The file saved again while it is being stored: what is stored and kept is what was read and hashed."""
    path = tmp_path / "day.csv"
    path.write_text(TAKEN["direct_next_day.csv"], encoding="utf-8")
    folder = Path(shutil.copytree(sample, tmp_path / "store"))
    stage = direct._stage

    def saved_again_meanwhile(con, copy, header):
        path.write_text(_next_day(bump=lambda key, value: value + 7), encoding="utf-8")
        stage(con, copy, header)

    monkeypatch.setattr(direct, "_stage", saved_again_meanwhile)
    drop_id, rows = ingest_direct(folder, path, CFG, "tester")
    sha = store.drops(folder).set_index("id").loc[drop_id, "sha256"]
    assert store.read_raw(folder, sha) == TAKEN["direct_next_day.csv"].encode("utf-8")
    with store.reading(folder) as con:
        stored = con.execute(
            "SELECT unit_code, age_band, dose, people_cumulative FROM vaccinations WHERE drop_id = ?", [drop_id]
        ).fetchall()
    assert rows == len(stored) == len(LAST)
    assert all(people == LAST[(u, b, d)] + 5 for u, b, d, people in stored)


def test_a_query_that_fails_leaves_the_file_to_the_usual_path(sample, files, tmp_path, monkeypatch, capsys):
    """Whatever DuckDB cannot do with a file while checking it (here, a check made to fail) is not the
    user's error: nothing is written, and `tracker ingest` stores the file the usual way."""
    folder = Path(shutil.copytree(sample, tmp_path / "store"))

    def fails(con):
        con.execute("SELECT * FROM no_such_table")

    monkeypatch.setattr(direct, "_check_series", fails)
    before = snapshot(folder)
    assert ingest_direct(folder, files["direct_next_day.csv"], CFG, "tester") is None
    assert snapshot(folder) == before
    code, out, err = run(capsys, "ingest", files["direct_next_day.csv"], "--kind", "vaccinations", "--store", folder)
    assert code == 0, err
    assert out.strip() == f"vaccinations: {len(LAST)} rows stored in {folder} as drop 5; 0 warning(s)"


# --------------------------------------------------------------------------- random daily drops

SERIES = list(LAST.items())[:24]  # a few units' series of the sample, with their last stored value
# what a district's export may put in a cell instead of the canonical value: (column, the cell's text
# from the canonical one); the first changes nothing
MESSES = [
    ("date", lambda v: v),
    *[("date", lambda v, d=d: d) for d in ["2022-04-02", "2022-03-31", "2022-3-31", "2099-01-01", "2020-01-01",
                                           "01/04/2022", "2022-02-30", " 2022-04-01", ""]],
    *[("unit_code", lambda v, u=u: u) for u in ["70", " 070", "Huyện Lâm Bình", "999", "=A1", ""]],
    *[("age_band", lambda v, b=b: b) for b in ["18+", "18 - 49", "12-17", "Từ 18 tuổi trở lên", ""]],
    *[("dose", lambda v, d=d: d) for d in ["01", "5", "0", "2.0", ""]],
    *[("people_cumulative", lambda v, k=k: str(int(v) + k)) for k in [-1, -500, 50_000, 10**9]],
    *[("people_cumulative", lambda v, f=f: f.format(v=v)) for f in ["+{v}", "{v}.5", "{v}.000", " {v}", "-{v}"]],
    ("people_cumulative", lambda v: "1e3"),
    ("people_cumulative", lambda v: ""),
]  # fmt: skip


@st.composite
def daily_drops(draw) -> bytes:
    """The sample's next day for some of its series, then one or two cells made as messy as an export makes
    them (MESSES); and maybe a row repeated, the columns reordered, CRLF."""
    picked = draw(st.lists(st.sampled_from(SERIES), min_size=1, max_size=12, unique_by=lambda s: s[0]))
    rows = [
        {"date": "2022-04-01", "unit_code": unit, "age_band": band, "dose": str(dose),
         "people_cumulative": str(int(last) + draw(st.sampled_from([1, 0, 5, 10])))}
        for (unit, band, dose), last in picked
    ]  # fmt: skip
    for _ in range(draw(st.integers(1, 2))):
        row = rows[draw(st.integers(0, len(rows) - 1))]
        column, mess = draw(st.sampled_from(MESSES))
        if column != "people_cumulative" or row[column].isdigit():
            row[column] = mess(row[column])
    if draw(st.booleans()) and len(rows) > 1:
        rows.append(dict(rows[draw(st.integers(0, len(rows) - 1))]))
    columns = draw(st.permutations(list(direct.COLUMNS)))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    lines = [",".join(columns)] + [",".join(r[c] for c in columns) for r in rows]
    return (newline.join(lines) + newline).encode("utf-8")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=daily_drops())
def test_random_daily_drops_are_stored_as_the_usual_path_stores_them_or_left_to_it(sample, data):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "day.csv"
        path.write_bytes(data)
        (Path(tmp) / "run").mkdir()
        _compare(sample, path, Path(tmp) / "run")
