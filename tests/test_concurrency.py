"""Concurrent drops give the figures of the same drops one after the other, and the live store equals its rebuild.

The reproduction (issue 11): two daily-count drops (a `doses` column) for the same series, read at
the same time and stored one after the other, built the later running total on an out-of-date
stored total: prepare A, prepare B, commit A, commit B gave 42,302 instead of 43,302, both
successful, and `tracker rebuild` then disagreed with the live store.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from tracker import store
from tracker.config import load_config

CFG = load_config()
ROOT = Path(__file__).resolve().parent.parent
SERIES = ("070", "18-49", 1)
HEADER = "date,unit_code,age_band,dose,doses\n"
CUMULATIVE = "date,unit_code,age_band,dose,people_cumulative\n"


def _daily(days: list[str], doses: int) -> bytes:
    return (HEADER + "".join(f"{d},{SERIES[0]},{SERIES[1]},{SERIES[2]},{doses}\n" for d in days)).encode()


A = _daily(["2022-04-01", "2022-04-02"], 1000)  # +2,000
B = _daily(["2022-04-03"], 1000)  # +1,000 on a later day
C = _daily(["2022-04-03", "2022-04-04"], 500)  # the same later day as B, and one more: +1,000


@pytest.fixture
def folder(store_dir, tmp_path) -> Path:
    return Path(shutil.copytree(store_dir, tmp_path / "store"))


def _series(folder: Path) -> dict[str, int]:
    with store.reading(folder) as con:
        rows = con.execute(
            "SELECT date, people_cumulative FROM vaccinations WHERE unit_code = ? AND age_band = ? AND dose = ? "
            "AND date >= '2022-04-01' ORDER BY date",
            list(SERIES),
        ).fetchall()
    return {f"{d:%Y-%m-%d}": int(p) for d, p in rows}


def _last_stored(folder: Path) -> int:
    with store.reading(folder) as con:
        return con.execute(
            "SELECT people_cumulative FROM vaccinations WHERE unit_code = ? AND age_band = ? AND dose = ? "
            "ORDER BY date DESC LIMIT 1",
            list(SERIES),
        ).fetchall()[0][0]


def _tables(folder: Path) -> dict[str, pd.DataFrame]:
    ds = store.load(folder)
    return {"vaccinations": ds.vaccinations, "cases": ds.cases}


def _same_as_rebuild(folder: Path) -> None:
    live = _tables(folder)
    copy = folder.parent / "rebuilt"
    shutil.copytree(folder, copy)
    store.rebuild(copy, CFG)
    for name, frame in _tables(copy).items():
        pd.testing.assert_frame_equal(frame, live[name], obj=name)
    shutil.rmtree(copy)


def _sequential(folder: Path, files: list[tuple[str, bytes]]) -> dict[str, int]:
    reference = folder.parent / "sequential"
    shutil.copytree(folder, reference)
    for name, data in files:
        store.commit(reference, store.prepare(reference, data, "vaccinations", CFG, filename=name), "t", data)
    figures = _series(reference)
    shutil.rmtree(reference)
    return figures


def test_prepare_a_prepare_b_commit_a_commit_b_is_a_then_b(folder):
    start = _last_stored(folder)
    expected = _sequential(folder, [("a.csv", A), ("b.csv", B)])
    assert expected == {"2022-04-01": start + 1000, "2022-04-02": start + 2000, "2022-04-03": start + 3000}

    a = store.prepare(folder, A, "vaccinations", CFG, filename="a.csv")
    b = store.prepare(folder, B, "vaccinations", CFG, filename="b.csv")  # read before A is stored
    store.commit(folder, a, "t", A)
    store.commit(folder, b, "t", B)
    assert _series(folder) == expected  # was start + 2000 + 1000 - 1000: B built on the total before A
    _same_as_rebuild(folder)


@pytest.mark.parametrize("order", list(itertools.permutations(["a", "b", "c"])))
def test_every_commit_order_of_drops_read_together_is_that_order_one_after_the_other(folder, order):
    files = {"a": A, "b": B, "c": C}
    prepared = {k: store.prepare(folder, v, "vaccinations", CFG, filename=f"{k}.csv") for k, v in files.items()}
    expected = _sequential(folder, [(f"{k}.csv", files[k]) for k in order])
    for k in order:
        store.commit(folder, prepared[k], "t", files[k])
    assert _series(folder) == expected
    _same_as_rebuild(folder)


def _ingest(folder: Path, path: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tracker", "ingest", str(path), "--kind", "vaccinations", "--store", str(folder)],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip


@pytest.mark.parametrize("offset", [0.0, 0.15, 0.3, 0.6])
def test_real_processes_ingesting_daily_drops_at_once_lose_nothing(folder, tmp_path, offset):
    """Two `tracker ingest` processes of daily files for the same series, the second started `offset`
    seconds after the first: the figures are those of the two drops one after the other, in the order
    they were stored (the drop log's), and the store equals its rebuild."""
    _at_once(folder, tmp_path, {"a.csv": A, "b.csv": B}, offset)


def _at_once(folder: Path, tmp_path: Path, files: dict[str, bytes], offset: float) -> list[str]:
    """`tracker ingest` of the two files in two processes, the second started ``offset`` seconds after the
    first; checks that both were stored, as the two drops one after the other in the drop log's order, and
    that the store equals its rebuild; returns what each printed."""
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    before = tmp_path / "before"
    shutil.copytree(folder, before)
    first, later = files
    procs = [_ingest(folder, tmp_path / first)]
    time.sleep(offset)
    procs.append(_ingest(folder, tmp_path / later))
    printed = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        printed.append(out)
    order = [s for s in store.drops(folder).sort_values("id")["source"] if s in files]
    assert sorted(order) == sorted(files)
    assert _series(folder) == _sequential(before, [(name, files[name]) for name in order])
    _same_as_rebuild(folder)
    return printed


@pytest.mark.parametrize("offset", [0.0, 0.1, 0.3])
def test_real_processes_ingesting_cumulative_daily_drops_at_once_lose_nothing(folder, tmp_path, offset):
    """The same with the canonical cumulative files analysts load every day, which `tracker ingest` checks
    and stores in DuckDB alone when it can (tracker.store.direct): a drop of the later day may be stored
    first, the earlier one then goes the usual way; either order ends as the two one after the other."""
    last = _last_stored(folder)
    files = {
        "d1.csv": f"{CUMULATIVE}2022-04-01,070,18-49,1,{last + 100}\n".encode(),
        "d2.csv": f"{CUMULATIVE}2022-04-02,070,18-49,1,{last + 250}\n".encode(),
    }
    printed = _at_once(folder, tmp_path, files, offset)
    assert all("rows stored" in out and "0 warning(s)" in out for out in printed)
    assert _series(folder) == {"2022-04-01": last + 100, "2022-04-02": last + 250}


# ---------------------------------------------------------------------------------------------------------
# Readers share one in-memory DuckDB, each attaching the file under an alias of its own and detaching it
# when done: a read must leave nothing that makes a writer wait, and see only its own store's tables.


def _writer_gets_in(folder: Path) -> bool:
    """Another process opens the store for writing at once (it fails rather than wait if anything holds it)."""
    code = "import duckdb, sys; duckdb.connect(sys.argv[1]).execute('CHECKPOINT')"
    done = subprocess.run([sys.executable, "-c", code, str(store.db_path(folder))], capture_output=True, timeout=60)
    return done.returncode == 0


def test_a_finished_read_leaves_the_file_free_for_a_writer_in_this_process_and_another(folder):
    with store.reading(folder) as con:
        assert con.execute("SELECT count(*) FROM units").fetchall()[0][0] > 0
        assert not _writer_gets_in(folder)  # while it reads, the file is locked: the check can fail
    assert _writer_gets_in(folder)
    with store.writing(folder) as con:  # and this process's own writer does not wait either
        con.execute("CHECKPOINT")


def test_a_read_that_fails_inside_a_transaction_still_lets_go_of_the_file(folder):
    with pytest.raises(Exception, match="no_such_table"), store.reading(folder) as con:
        con.execute("BEGIN")
        con.execute("SELECT * FROM no_such_table")
    assert _writer_gets_in(folder)


def test_readers_of_two_stores_at_once_see_their_own_tables(folder, tmp_path):
    other = tmp_path / "old"
    other.mkdir()
    import duckdb

    old = duckdb.connect(str(store.db_path(other)))
    old.execute("CREATE TABLE ingests (id INTEGER)")  # a store from before the drop log
    old.close()
    with store.reading(folder) as a, store.reading(other) as b:
        assert "drops" in store.schema.table_names(a) and "ingests" not in store.schema.table_names(a)
        assert store.schema.table_names(b) == {"ingests"}
        assert a.execute("SELECT count(*) FROM units").fetchall()[0][0] > 0
