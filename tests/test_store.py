"""The store: rejected writes change nothing, good writes supersede and are logged, readers are read-only."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.clitools import run, sha256, snapshot
from tracker import store
from tracker.config import load_config

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "canonical"
DATA = Path(__file__).resolve().parents[1] / "data"


# --------------------------------------------------------------------------- helpers


def coverage(capsys, folder: Path, as_of: str, group: str, dose: int) -> dict[str, dict[str, str]]:
    code, out, err = run(capsys, "coverage", "--store", folder, "--as-of", as_of, "--group", group, "--dose", dose)
    assert code == 0, err
    return {r["unit_code"]: r for r in csv.DictReader(io.StringIO(out))}


@pytest.fixture(scope="session")
def _template(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("store-template") / "store"
    cfg = load_config()
    for kind in ("units", "population", "vaccinations", "cases"):
        store.ingest(folder, FIXTURES / f"{kind}.csv", kind, cfg)
    return folder


@pytest.fixture
def small(tmp_path, _template) -> Path:
    """A small store of its own (units 070 and 071, the fixture files), four ingests recorded."""
    return Path(shutil.copytree(_template, tmp_path / "store"))


# --------------------------------------------------------------------------- rejected writes

REJECTED = [
    ("bad_unknown_unit.csv", "vaccinations"),
    ("bad_many.csv", "vaccinations"),
    ("bad_conflict.csv", "vaccinations"),
    ("empty.csv", "vaccinations"),
    ("header_only.csv", "cases"),
    ("bad_missing_column.csv", "vaccinations"),
    ("vaccinations.csv", "population"),
    ("population.csv", "units"),
]


@pytest.mark.parametrize("name,kind", REJECTED, ids=[f"{n}-{k}" for n, k in REJECTED])
def test_a_rejected_ingest_leaves_every_store_file_byte_identical(capsys, small, name, kind):
    before = snapshot(small)
    version = store.version(small)
    code, out, err = run(capsys, "ingest", FIXTURES / name, "--kind", kind, "--store", small)
    assert code == 1
    assert err.strip() and "Traceback" not in err
    assert snapshot(small) == before
    assert store.version(small) == version


@pytest.mark.parametrize(
    "name,kind",
    [("population.csv", "population"), ("vaccinations.csv", "vaccinations"), ("bad_missing_column.csv", "units")],
)
def test_a_rejected_ingest_into_a_missing_store_leaves_it_missing(capsys, tmp_path, name, kind):
    folder = tmp_path / "store"
    code, _, err = run(capsys, "ingest", FIXTURES / name, "--kind", kind, "--store", folder)
    assert code == 1
    assert "Traceback" not in err
    assert not folder.exists()


def test_a_rejected_ingest_into_an_empty_folder_leaves_it_empty(capsys, tmp_path):
    folder = tmp_path / "store"
    folder.mkdir()
    code, _, err = run(capsys, "ingest", FIXTURES / "population.csv", "--kind", "population", "--store", folder)
    assert code == 1
    assert "Traceback" not in err
    assert list(folder.iterdir()) == []


def test_dry_run_leaves_every_store_file_byte_identical(capsys, small):
    before = snapshot(small)
    code, _, err = run(capsys, "ingest", FIXTURES / "vaccinations_v2.csv", "--kind", "vaccinations", "--store", small,
                       "--dry-run")  # fmt: skip
    assert code == 0, err
    assert snapshot(small) == before
    assert len(store.ingests(small)) == 4


# --------------------------------------------------------------------------- good writes


def test_a_good_reingest_supersedes_values_and_is_logged(capsys, small):
    rows = coverage(capsys, small, "2021-10-03", "adults", 1)
    assert int(rows["070"]["people"]) == 400 + 190 + 95
    version = store.version(small)

    code, _, err = run(capsys, "ingest", FIXTURES / "vaccinations_v2.csv", "--kind", "vaccinations", "--store", small)
    assert code == 0, err
    assert store.version(small) != version

    rows = coverage(capsys, small, "2021-10-03", "adults", 1)
    assert int(rows["070"]["people"]) == 410 + 195 + 99
    assert float(rows["070"]["coverage"]) == (410 + 195 + 99) / (1000 + 400 + 200)
    assert int(rows["071"]["people"]) == 80 + 30 + 15  # not in the new file: unchanged
    assert int(rows["TOTAL"]["people"]) == 410 + 195 + 99 + 80 + 30 + 15
    # superseded, not duplicated
    v = store.load(small).vaccinations
    keys = v[["date", "unit_code", "age_band", "dose"]].astype(str)
    assert not keys.duplicated().any()
    assert len(v) == 18

    # the same file again: the values stay, and the ingest is logged again
    code, _, err = run(capsys, "ingest", FIXTURES / "vaccinations_v2.csv", "--kind", "vaccinations", "--store", small)
    assert code == 0, err
    assert len(store.load(small).vaccinations) == 18

    log = store.ingests(small)
    assert list(log["kind"]) == ["units", "population", "vaccinations", "cases", "vaccinations", "vaccinations"]
    assert list(log["rows"]) == [2, 12, 18, 3, 3, 3]
    expected = [sha256(FIXTURES / f"{k}.csv") for k in ("units", "population", "vaccinations", "cases")]
    expected += [sha256(FIXTURES / "vaccinations_v2.csv")] * 2
    assert list(log["sha256"]) == expected
    assert log["id"].is_unique


def test_a_good_population_reingest_changes_coverage(capsys, small, tmp_path):
    drop = tmp_path / "population_fix.csv"
    drop.write_text("unit_code,age_band,population\n070,18-49,2000\n", encoding="utf-8")
    code, _, err = run(capsys, "ingest", drop, "--kind", "population", "--store", small)
    assert code == 0, err
    rows = coverage(capsys, small, "2021-10-03", "adults", 1)
    assert int(rows["070"]["population"]) == 2000 + 400 + 200
    assert float(rows["070"]["coverage"]) == (400 + 190 + 95) / (2000 + 400 + 200)
    log = store.ingests(small)
    assert log.iloc[-1]["kind"] == "population" and int(log.iloc[-1]["rows"]) == 1
    assert log.iloc[-1]["sha256"] == sha256(drop)


def test_version_changes_after_each_write_and_not_after_a_read(small):
    cfg = load_config()
    first = store.version(small)
    assert store.load(small).version == first
    assert store.version(small) == first
    store.ingest(small, FIXTURES / "vaccinations_v2.csv", "vaccinations", cfg)
    second = store.version(small)
    assert second != first
    store.ingest(small, FIXTURES / "cases.csv", "cases", cfg)
    assert store.version(small) not in (first, second)


# --------------------------------------------------------------------------- readers


def test_readers_open_read_only(small):
    before = snapshot(small)
    a = store.load(small)
    b = store.load(small)
    assert len(a.vaccinations) == len(b.vaccinations) == 18
    assert list(a.units["unit_code"].astype(str)) == ["070", "071"]
    assert snapshot(small) == before


def test_readers_work_while_another_process_reads(small, monkeypatch):
    """Another process holds a read-only connection (a shared lock): load must still work, at once."""
    monkeypatch.setattr(store.connection, "LOCK_WAIT_SECONDS", 1)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, duckdb; con = duckdb.connect(sys.argv[1], read_only=True); "
            "print('ready', flush=True); sys.stdin.read(); con.close()",
            str(store.db_path(small)),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        first = store.load(small)
        second = store.load(small)
        assert len(first.vaccinations) == len(second.vaccinations) == 18
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)


def test_a_reader_does_not_block_another_reader_in_process(small):
    with store.reading(small) as con:
        assert con.execute("SELECT count(*) FROM units").fetchall()[0][0] == 2
        assert len(store.load(small).units) == 2
    with duckdb.connect(str(store.db_path(small)), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM vaccinations").fetchall()[0][0] == 18


def test_loading_a_missing_store_is_a_clear_error(tmp_path):
    with pytest.raises(store.StoreError, match="init"):
        store.load(tmp_path / "nowhere")
    assert not (tmp_path / "nowhere").exists()


# --------------------------------------------------------------------------- init


def test_init_into_a_store_that_holds_data_returns_false_and_changes_nothing(small):
    before = snapshot(small)
    assert store.init(small, load_config()) is False
    assert snapshot(small) == before
    assert len(store.ingests(small)) == 4
    assert list(store.load(small).units["unit_code"].astype(str)) == ["070", "071"]


def test_init_into_an_empty_folder_then_again(tmp_path):
    folder = tmp_path / "store"
    folder.mkdir()
    cfg = load_config()
    assert store.init(folder, cfg) is True
    log = store.ingests(folder)
    assert list(log["kind"]) == ["units", "population", "vaccinations", "cases"]
    assert list(log["sha256"]) == [sha256(DATA / f"{k}.csv") for k in log["kind"]]
    before = snapshot(folder)
    assert store.init(folder, cfg) is False
    assert snapshot(folder) == before
