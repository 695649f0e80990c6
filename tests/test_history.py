"""Drops: supersede with history, undo (recorded, chains re-pointed), raw files, rebuild, crash safety,
saved mappings and the new commands' exit codes."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from tests.clitools import killed_in_commit, run, sha256, snapshot
from tracker import auth, store
from tracker.config import load_config
from tracker.errors import InputError, MeasureNeeded, ValidationError
from tracker.ingest import ReadOptions

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "canonical"
ROOT = Path(__file__).resolve().parents[1]
CFG = load_config()
HEADER = "date,unit_code,age_band,dose,people_cumulative\n"
KEY = ("2021-10-01", "070", "18-49", 1)
LIVE = ("units", "population", "vaccinations", "cases")


# --------------------------------------------------------------------------- helpers


@pytest.fixture
def folder(units_store) -> Path:
    """A store of its own with units 070, 071 and their population (tests/conftest.py)."""
    return units_store


def drop(folder: Path, text: str, name: str = "drop.csv", kind: str = "vaccinations", **kw) -> int:
    """Store CSV text as a drop (as the upload page does: bytes + file name); returns the drop id."""
    data = text.encode("utf-8")
    prepared = store.prepare(folder, data, kind, CFG, filename=name, options=kw.pop("options", None))
    return store.commit(folder, prepared, kw.pop("uploader", "tester"), data)


def value(people: int, unit: str = "070") -> str:
    return f"{HEADER}{KEY[0]},{unit},{KEY[2]},{KEY[3]},{people}\n"


def live(folder: Path) -> dict[tuple, int]:
    with store.reading(folder) as con:
        rows = con.execute("SELECT date, unit_code, age_band, dose, people_cumulative FROM vaccinations").fetchall()
    return {(f"{d:%Y-%m-%d}", u, a, int(n)): int(p) for d, u, a, n, p in rows}


def table(folder: Path, name: str) -> pd.DataFrame:
    with store.reading(folder) as con:
        return con.execute(f"SELECT * FROM {name} ORDER BY ALL").df()


def history(folder: Path) -> list[tuple[int, int, int | None]]:
    """(people_cumulative, drop_id, superseded_by) of the history rows of KEY, by drop."""
    with store.reading(folder) as con:
        return con.execute(
            "SELECT people_cumulative, drop_id, superseded_by FROM vaccinations_history "
            "WHERE unit_code = '070' AND age_band = '18-49' AND dose = 1 AND date = DATE '2021-10-01' ORDER BY drop_id"
        ).fetchall()


def status(folder: Path) -> dict[int, str]:
    return dict(zip(store.drops(folder)["id"], store.drops(folder)["status"], strict=True))


# --------------------------------------------------------------------------- supersede


def test_a_later_drop_supersedes_the_value_and_keeps_the_old_one_as_history(folder):
    a = drop(folder, value(100), "a.csv")
    assert history(folder) == []  # the first value of a key writes no history
    b = drop(folder, value(200), "b.csv")
    assert live(folder) == {KEY: 200}
    assert history(folder) == [(100, a, b)]
    with store.reading(folder) as con:
        assert con.execute("SELECT drop_id FROM vaccinations").fetchall() == [(b,)]
    assert len(store.load(folder).vaccinations) == 1


def test_drop_ids_record_who_and_what(folder):
    a = drop(folder, value(100), "lam_binh.csv", uploader="lan")
    log = store.drops(folder)
    assert list(log.columns) == store.DROP_COLUMNS
    row = log.set_index("id").loc[a]
    assert (row["uploader"], row["kind"], row["source"], row["rows"], row["status"]) == (
        "lan", "vaccinations", "lam_binh.csv", 1, "active",
    )  # fmt: skip
    assert row["sha256"] == hashlib.sha256(value(100).encode()).hexdigest()
    assert pd.isna(row["undone_at"]) and row["undone_by"] is None
    assert abs(pd.Timestamp.now(tz="UTC").tz_localize(None) - row["ingested_at"]) < pd.Timedelta(minutes=5)  # UTC


# --------------------------------------------------------------------------- undo


def test_undo_chain_a_b_c_undo_b_keeps_c_then_undo_c_brings_a_back(folder):
    a, b, c = (drop(folder, value(n), f"{n}.csv") for n in (100, 200, 300))
    store.undo(folder, b, "lan")
    assert live(folder) == {KEY: 300}  # a later active drop had replaced the key: it stays live
    assert (100, a, c) in history(folder)  # the chain is re-pointed past the undone drop
    store.undo(folder, c, "lan")
    assert live(folder) == {KEY: 100}
    store.undo(folder, a, "lan")
    assert live(folder) == {}
    assert sorted(h[0] for h in history(folder)) == [100, 200, 300]  # recorded, never erased


def test_undo_chain_undo_c_then_b_brings_a_back(folder):
    a, b, c = (drop(folder, value(n), f"{n}.csv") for n in (100, 200, 300))
    store.undo(folder, c, "lan")
    assert live(folder) == {KEY: 200}
    store.undo(folder, b, "lan")
    assert live(folder) == {KEY: 100}
    d = drop(folder, value(400), "d.csv")
    assert live(folder) == {KEY: 400}
    store.undo(folder, d, "lan")
    assert live(folder) == {KEY: 100}


# 8 of the 24 orders (each drop undone first twice and last twice), to keep the suite fast
ORDERS = [
    (0, 1, 2, 3),
    (3, 2, 1, 0),
    (1, 0, 3, 2),
    (1, 3, 0, 2),
    (2, 0, 3, 1),
    (3, 1, 2, 0),
    (0, 3, 1, 2),
    (2, 3, 0, 1),
]


FOUR = [  # (text, what it writes: {unit: people} for KEY's date, band and dose)
    (value(100), {"070": 100}),
    (value(200) + f"{KEY[0]},071,18-49,1,20\n", {"070": 200, "071": 20}),
    (f"{HEADER}{KEY[0]},071,18-49,1,30\n", {"071": 30}),
    (value(400) + f"{KEY[0]},071,18-49,1,40\n", {"070": 400, "071": 40}),
]


@pytest.fixture(scope="module")
def _four(_units_template, tmp_path_factory) -> Path:
    folder = Path(shutil.copytree(_units_template, tmp_path_factory.mktemp("four") / "store"))
    assert [drop(folder, text, f"{i}.csv") for i, (text, _) in enumerate(FOUR)] == [3, 4, 5, 6]
    return folder


@pytest.mark.parametrize("order", ORDERS, ids=lambda o: "-".join(map(str, o)))
def test_after_undos_in_any_order_the_latest_active_drop_is_live(_four, tmp_path, order):
    """Four drops over two keys, undone one by one: each key always shows its latest active value."""
    folder = Path(shutil.copytree(_four, tmp_path / "store"))
    active = set(range(4))
    for i in order:
        store.undo(folder, 3 + i, "lan")
        active.discard(i)
        expected = {}
        for j in sorted(active):
            expected.update({(KEY[0], unit, KEY[2], KEY[3]): people for unit, people in FOUR[j][1].items()})
        with store.reading(folder) as con:
            rows = con.execute("SELECT date, unit_code, age_band, dose, people_cumulative FROM vaccinations").fetchall()
            total = con.execute("SELECT count(*) FROM vaccinations_history").fetchall()[0][0] + len(rows)
        assert {(f"{d:%Y-%m-%d}", u, a, int(n)): p for d, u, a, n, p in rows} == expected, f"after undoing {i}"
        assert total == sum(len(w) for _, w in FOUR)  # no row lost or doubled across live and history


def test_undo_is_recorded_and_changes_the_version(capsys, folder):
    a = drop(folder, value(100))
    version = store.version(folder)
    code, out, err = run(capsys, "undo", a, "--store", folder, "--uploader", "minh")
    assert code == 0, err
    assert f"drop {a}" in out
    assert store.version(folder) != version
    row = store.drops(folder).set_index("id").loc[a]
    assert row["status"] == "undone" and row["undone_by"] == "minh" and not pd.isna(row["undone_at"])
    assert len(store.drops(folder)) == 3  # kept in the log


def test_undo_of_an_undone_or_unknown_drop_is_exit_1_and_changes_nothing(capsys, folder):
    a = drop(folder, value(100))
    store.undo(folder, a, "lan")
    before = snapshot(folder)
    for drop_id, words in ((a, "already undone"), (99, "no drop 99")):
        code, out, err = run(capsys, "undo", drop_id, "--store", folder)
        assert code == 1
        assert words in err and "Traceback" not in err
        assert snapshot(folder) == before


def test_undoing_units_that_figures_still_use_is_refused(folder):
    drop(folder, value(100))
    before = snapshot(folder)
    with pytest.raises(store.StoreError, match="070"):
        store.undo(folder, 1, "lan")
    assert snapshot(folder) == before
    assert status(folder)[1] == "active"


def test_a_second_units_drop_can_be_undone_and_the_first_comes_back(folder):
    renamed = "unit_code,unit_name,unit_type,lat,lon\n070,TP Tuyên Quang,city,21.78,105.22\n"
    d = drop(folder, renamed, "rename.csv", kind="units")
    assert store.load(folder).units.set_index("unit_code").loc["070", "unit_name"] == "TP Tuyên Quang"
    store.undo(folder, d, "lan")
    assert store.load(folder).units.set_index("unit_code").loc["070", "unit_name"] == "Thành phố Tuyên Quang"


def test_sample_flag_holds_while_any_active_drop_is_sample_data(tmp_path):
    folder = tmp_path / "store"
    assert store.init(folder, CFG)
    log = store.drops(folder)
    assert list(log["kind"]) == ["units", "population", "vaccinations", "cases"]
    assert store.load(folder).sample
    for drop_id in (4, 3, 2):
        store.undo(folder, drop_id, "lan")
        assert store.load(folder).sample  # the units drop is still active sample data
    store.undo(folder, 1, "lan")
    assert not store.load(folder).sample
    assert store.init(folder, CFG) is False  # a store with a drop history is not refilled


# --------------------------------------------------------------------------- raw files


def test_raw_files_are_kept_once_per_content(capsys, folder):
    path = FIXTURES / "vaccinations_v2.csv"
    for _ in range(2):
        code, _, err = run(capsys, "ingest", path, "--kind", "vaccinations", "--store", folder)
        assert code == 0, err
    digest = sha256(path)
    raw = store.raw_path(folder, digest)
    assert raw == folder / "raw" / digest[:2] / f"{digest}.zst"  # zstd-compressed (tests/test_raw.py)
    assert store.read_raw(folder, digest) == path.read_bytes()
    kept = [p for p in (folder / "raw").rglob("*") if p.is_file()]
    assert len(kept) == 3  # units, population, and this content once
    assert not [p for p in kept if p.name.endswith(".tmp")]
    assert list(store.drops(folder)["sha256"])[-2:] == [digest, digest]


def test_commit_refuses_bytes_that_are_not_the_checked_file(folder):
    data = value(100).encode()
    prepared = store.prepare(folder, data, "vaccinations", CFG, filename="a.csv")
    before = snapshot(folder)
    with pytest.raises(store.StoreError, match="not those"):
        store.commit(folder, prepared, "lan", data + b"2021-10-02,070,18-49,1,5\n")
    assert snapshot(folder) == before


def test_a_rejected_drop_leaves_every_file_byte_identical_and_keeps_no_raw_file(capsys, folder):
    drop(folder, value(100))
    before = snapshot(folder)
    version = store.version(folder)
    for name in ("bad_unknown_unit.csv", "bad_many.csv", "bad_conflict.csv", "empty.csv"):
        code, out, err = run(capsys, "ingest", FIXTURES / name, "--kind", "vaccinations", "--store", folder)
        assert code == 1
        assert err.strip() and "Traceback" not in err
        assert snapshot(folder) == before
        assert not store.raw_path(folder, sha256(FIXTURES / name)).exists()
    assert store.version(folder) == version
    with pytest.raises(ValidationError):
        store.prepare(folder, b"date,unit_code,age_band,dose,people_cumulative\n2021-10-01,099,18-49,1,5\n",
                      "vaccinations", CFG, filename="bad.csv")  # fmt: skip
    assert snapshot(folder) == before


# --------------------------------------------------------------------------- rebuild


def _state(folder: Path) -> dict[str, pd.DataFrame]:
    names = [*LIVE, *(f"{t}_history" for t in LIVE), "drops", "meta", "users"]
    return {name: table(folder, name) for name in names}


def test_rebuild_gives_identical_tables_and_drops(capsys, folder):
    auth.add_user(folder, "lan", "mật khẩu dài")
    for name in ("vaccinations", "cases", "vaccinations_v2"):
        kind = "cases" if name == "cases" else "vaccinations"
        store.ingest(folder, FIXTURES / f"{name}.csv", kind, CFG, uploader="lan")
    d = store.ingest(folder, FIXTURES / "vaccinations_daily.csv", "vaccinations", CFG).drop_id
    semi = "Ngày;Đơn vị;Nhóm;Mũi;Lũy kế\n2021-10-04;071;50-64;1;33\n2021-10-04;070;50-64;1;200\n"
    options = ReadOptions(
        delimiter=";",
        columns=(("Ngày", "date"), ("Đơn vị", "unit_code"), ("Nhóm", "age_band"), ("Mũi", "dose"),
                 ("Lũy kế", "people_cumulative")),
    )  # fmt: skip
    s = drop(folder, semi, "semi.csv", options=options)
    store.undo(folder, 5, "lan")  # vaccinations_v2, superseded since by nothing: the fixture values come back
    store.undo(folder, d, "minh")
    fix = drop(folder, "unit_code,age_band,population\n070,18-49,2000\n", "pop.csv", kind="population")
    store.undo(folder, fix, "lan")
    before = _state(folder)
    assert json.loads(before["drops"].set_index("id").loc[s, "options"])["delimiter"] == ";"
    old = store.db_path(folder).read_bytes()

    code, out, err = run(capsys, "rebuild", "--store", folder)
    assert code == 0, err
    assert "tracker.duckdb.bak" in out
    assert (folder / "tracker.duckdb.bak").read_bytes() == old
    after = _state(folder)
    for name, frame in before.items():
        pd.testing.assert_frame_equal(after[name], frame, obj=name)
    assert auth.verify(folder, "lan", "mật khẩu dài")
    assert not (folder / store.REBUILD_NAME).exists()


def test_rebuild_without_a_raw_file_changes_nothing(capsys, folder):
    a = drop(folder, value(100))
    raw = store.raw_path(folder, store.drops(folder).set_index("id").loc[a, "sha256"])
    raw.unlink()
    before = snapshot(folder)
    code, out, err = run(capsys, "rebuild", "--store", folder)
    assert code == 1
    assert f"drop(s) {a} (drop.csv)" in err
    assert snapshot(folder) == before


# --------------------------------------------------------------------------- crash safety


def _big_file(path: Path) -> Path:
    """1,000 days from the campaign's start, 2 units x 6 bands x 4 doses: 48,000 rows (bands only: a group
    beside its bands would overlap them, and the file would be refused)."""
    dates = pd.date_range(CFG.campaign_start, periods=1000, freq="D").strftime("%Y-%m-%d")
    with path.open("w", encoding="utf-8") as fh:
        fh.write(HEADER)
        for i, day in enumerate(dates):
            figure = min(i, 40)  # within the test store's tiny populations
            fh.writelines(
                f"{day},{u},{a},{d},{figure + d}\n" for u in ("070", "071") for a in CFG.bands for d in (1, 2, 3, 4)
            )
    return path


def _cli(*args, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tracker", *map(str, args)],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_crash_in_the_middle_of_a_commit_leaves_the_previous_state(folder, tmp_path):
    drop(folder, value(100))
    figures = store.load(folder)
    log = store.drops(folder)
    big = _big_file(tmp_path / "big.csv")
    rows = sum(1 for _ in big.open()) - 1

    killed_in_commit("ingest", big, "--kind", "vaccinations", "--store", folder)  # after the insert, before COMMIT

    after = store.load(folder)
    for name in LIVE:
        pd.testing.assert_frame_equal(getattr(after, name), getattr(figures, name), obj=name)
    pd.testing.assert_frame_equal(store.drops(folder), log)

    done = _cli("ingest", big, "--kind", "vaccinations", "--store", folder)
    assert done.returncode == 0, done.stderr
    assert len(store.load(folder).vaccinations) == rows
    assert list(store.drops(folder)["id"]) == [1, 2, 3, 4]


# --------------------------------------------------------------------------- ingest flags and mappings

ODD = "X1;X2;X3;X4;X5\n2021-10-05;070;18-49;1;430\n"
ODD_2 = "X1;X2;X3;X4;X5\n2021-10-06;070;18-49;1;440\n2021-10-06;071;18-49;1;40\n"
ODD_COLUMNS = ["X1=date", "X2=unit_code", "X3=age_band", "X4=dose", "X5=people_cumulative"]


def test_save_mapping_then_use_it(capsys, folder, tmp_path):
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    first.write_text(ODD, encoding="utf-8")
    second.write_text(ODD_2, encoding="utf-8")
    columns = [arg for pair in ODD_COLUMNS for arg in ("--column", pair)]

    before = snapshot(folder)
    code, out, err = run(capsys, "ingest", first, "--kind", "vaccinations", "--store", folder, "--delimiter", ";",
                         *columns, "--save-mapping", "xa_a", "--dry-run")  # fmt: skip
    assert code == 0, err
    assert snapshot(folder) == before  # a dry run saves no mapping either

    code, out, err = run(capsys, "ingest", first, "--kind", "vaccinations", "--store", folder, "--delimiter", ";",
                         "--measure", "cumulative", *columns, "--save-mapping", "xa_a")  # fmt: skip
    assert code == 0, err
    assert "as drop 3" in out
    saved = folder / "mappings" / "xa_a.toml"
    assert tomllib.loads(saved.read_text(encoding="utf-8")) == {
        "kind": "vaccinations",
        "delimiter": ";",
        "measure": "cumulative",
        "columns": dict(pair.split("=") for pair in ODD_COLUMNS),
    }

    code, out, err = run(capsys, "ingest", second, "--kind", "vaccinations", "--store", folder)
    assert code == 1  # without the mapping the headers mean nothing
    code, out, err = run(capsys, "ingest", second, "--kind", "vaccinations", "--store", folder, "--mapping", "xa_a")
    assert code == 0, err
    assert live(folder)[("2021-10-06", "071", "18-49", 1)] == 40
    options = json.loads(table(folder, "drops").set_index("id").loc[4, "options"])
    assert options["delimiter"] == ";" and ["X5", "people_cumulative"] in options["columns"]

    code, out, err = run(capsys, "ingest", second, "--kind", "vaccinations", "--store", folder, "--mapping", "nope")
    assert code == 1 and "xa_a" in err
    code, out, err = run(capsys, "ingest", second, "--kind", "cases", "--store", folder, "--mapping", "xa_a")
    assert code == 1 and "vaccinations" in err


def test_flags_reach_the_reader_as_read_options(capsys, folder, monkeypatch):
    seen = []
    real = store.intake.read_table

    def spy(path, kind, cfg, known_units, today=None, base=None, options=None, limited=True, keep=None):
        seen.append(options)
        return real(path, kind, cfg, known_units, today=today, base=base, limited=limited, keep=keep)

    monkeypatch.setattr(store.intake, "read_table", spy)
    code, _, err = run(capsys, "ingest", FIXTURES / "vaccinations_v2.csv", "--kind", "vaccinations", "--store", folder,
                       "--encoding", "utf-8", "--delimiter", "tab", "--sheet", "2", "--measure", "daily",
                       "--column", "Ngày=date", "--column", "a=b=dose", "--dry-run")  # fmt: skip
    assert code == 0, err
    assert seen == [
        ReadOptions(
            encoding="utf-8", delimiter="\t", sheet=2, measure="daily", columns=(("Ngày", "date"), ("a=b", "dose"))
        )
    ]
    seen.clear()
    run(capsys, "ingest", FIXTURES / "vaccinations_v2.csv", "--kind", "vaccinations", "--store", folder, "--dry-run")
    assert seen == [None]  # no flags: everything detected


def test_measure_needed_is_exit_1_with_the_hint(capsys, folder, tmp_path):
    path = tmp_path / "count.csv"
    path.write_text("date,unit_code,age_band,dose,count\n2021-10-04,070,18-49,1,420\n", encoding="utf-8")
    before = snapshot(folder)
    code, out, err = run(capsys, "ingest", path, "--kind", "vaccinations", "--store", folder)
    assert code == 1
    assert "--measure" in err and "Traceback" not in err
    assert snapshot(folder) == before
    with pytest.raises(MeasureNeeded):
        store.prepare(folder, path.read_bytes(), "vaccinations", CFG, filename="count.csv")
    code, out, err = run(capsys, "ingest", path, "--kind", "vaccinations", "--store", folder, "--measure", "cumulative")
    assert code == 0, err


def test_ingest_prints_rows_warnings_with_rows_and_the_drop_id(capsys, folder):
    store.ingest(folder, FIXTURES / "vaccinations.csv", "vaccinations", CFG)
    code, out, err = run(capsys, "ingest", FIXTURES / "vaccinations_down.csv", "--kind", "vaccinations",
                         "--store", folder, "--uploader", "lan")  # fmt: skip
    assert code == 0, err
    assert "stored in" in out and "as drop 4" in out and "warning(s) (row 3)" in out
    assert store.drops(folder).iloc[-1]["uploader"] == "lan"


def test_the_cli_uploader_defaults_to_the_os_user(capsys, folder, monkeypatch):
    monkeypatch.setattr(store, "os_user", lambda: "os-user")
    code, _, err = run(capsys, "ingest", FIXTURES / "vaccinations.csv", "--kind", "vaccinations", "--store", folder)
    assert code == 0, err
    assert store.drops(folder).iloc[-1]["uploader"] == "os-user"


# --------------------------------------------------------------------------- drops listing, exit codes


def test_drops_lists_every_drop_as_csv_and_json(capsys, folder):
    a = drop(folder, value(100), uploader="lan")
    store.undo(folder, a, "minh")
    code, out, err = run(capsys, "drops", "--store", folder)
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == store.DROP_COLUMNS
    assert [r["status"] for r in rows] == ["active", "active", "undone"]
    assert rows[2]["undone_by"] == "minh" and rows[2]["undone_at"].endswith("Z") and rows[0]["undone_at"] == ""
    code, out, err = run(capsys, "drops", "--store", folder, "--format", "json")
    assert code == 0, err
    records = json.loads(out)
    assert records[2]["uploader"] == "lan" and records[0]["undone_by"] is None and records[2]["rows"] == 1


USAGE = [
    ["undo"],
    ["undo", "three"],
    ["drops", "--format", "xml"],
    ["ingest", "x.csv", "--kind", "units", "--delimiter", "|"],
    ["ingest", "x.csv", "--kind", "units", "--column", "nothing"],
    ["ingest", "x.csv", "--kind", "units", "--measure", "weekly"],
    ["ingest", "x.csv", "--kind", "units", "--encoding", "no-such-codec"],
    ["ingest", "x.csv", "--kind", "units", "--mapping", "../etc"],
    ["user"],
    ["user", "add"],
]


@pytest.mark.parametrize("args", USAGE, ids=" ".join)
def test_usage_errors_of_the_new_commands_exit_2(capsys, folder, args):
    before = snapshot(folder)
    code, out, err = run(capsys, *args, "--store", folder) if args[0] != "user" else run(capsys, *args)
    assert code == 2
    assert err.strip() and "Traceback" not in err
    assert snapshot(folder) == before


def test_undo_and_drops_without_a_store(capsys, tmp_path):
    code, out, err = run(capsys, "undo", "1", "--store", tmp_path / "none")
    assert code == 1 and "init" in err
    code, out, err = run(capsys, "drops", "--store", tmp_path / "none")
    assert code == 0 and out.strip() == ",".join(store.DROP_COLUMNS)
    assert not (tmp_path / "none").exists()


# --------------------------------------------------------------------------- a store from before drops


OLD_SCHEMA = """
CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE ingests (id INTEGER PRIMARY KEY, ingested_at TIMESTAMP NOT NULL, kind VARCHAR NOT NULL, source VARCHAR,
    sha256 VARCHAR, rows BIGINT NOT NULL, warnings INTEGER NOT NULL, sample BOOLEAN NOT NULL);
CREATE TABLE units (unit_code VARCHAR PRIMARY KEY, unit_name VARCHAR NOT NULL, unit_type VARCHAR, lat DOUBLE,
    lon DOUBLE, ingest_id INTEGER);
CREATE TABLE population (unit_code VARCHAR NOT NULL, age_band VARCHAR NOT NULL, population BIGINT NOT NULL,
    ingest_id INTEGER, PRIMARY KEY (unit_code, age_band));
CREATE TABLE vaccinations (date DATE NOT NULL, unit_code VARCHAR NOT NULL, age_band VARCHAR NOT NULL,
    dose TINYINT NOT NULL, people_cumulative BIGINT NOT NULL, ingest_id INTEGER);
CREATE TABLE cases (date DATE NOT NULL, unit_code VARCHAR NOT NULL, community_cases BIGINT NOT NULL,
    imported_cases BIGINT NOT NULL, ingest_id INTEGER);
INSERT INTO ingests VALUES (1, TIMESTAMP '2026-01-01 08:00:00', 'units', 'units.csv', 'ab', 1, 0, true);
INSERT INTO units VALUES ('070', 'Thành phố Tuyên Quang', 'city', 21.781, 105.226, 1);
"""


def test_a_store_from_before_drops_is_refused_by_readers_until_upgraded_then_migrated(tmp_path):
    folder = tmp_path / "old"
    folder.mkdir()
    with duckdb.connect(str(store.db_path(folder))) as con:
        con.execute(OLD_SCHEMA)
    with pytest.raises(store.StoreError, match="tracker init"):  # never read through a guess at its layout
        store.drops(folder)
    store.init(folder, CFG)  # what the dashboard does when it starts, and `tracker init` / `tracker doctor`
    assert store.load(folder).sample
    assert list(store.drops(folder)["kind"]) == ["units"]
    a = drop(folder, value(100))
    assert a == 2
    log = store.drops(folder)
    assert list(log["uploader"]) == ["unknown", "tester"]
    with store.reading(folder) as con:
        assert "ingests" not in store.schema.table_names(con)
        assert con.execute("SELECT drop_id FROM units").fetchall() == [(1,)]
    with pytest.raises(store.StoreError, match="no raw file"):
        store.rebuild(folder, CFG)


def test_prepare_names_an_upload_by_its_file_name(folder):
    with pytest.raises(ValidationError) as caught:
        store.prepare(folder, b"date,unit_code\n", "vaccinations", CFG, filename="C:\\drops\\lam_binh.csv")
    assert str(caught.value).startswith("lam_binh.csv:")  # no folders, not even Windows ones
    with pytest.raises(InputError):
        store.commit(folder, store.prepare(folder, value(1).encode(), "vaccinations", CFG), "", b"")


def test_a_report_above_the_population_is_a_warning_not_an_error(tmp_path):
    cfg = load_config()
    folder = tmp_path / "store"
    store.init(folder, cfg)
    ds = store.load(folder)
    pop = ds.population
    band = int(pop[(pop["unit_code"] == "071") & (pop["age_band"] == "65+")]["population"].iat[0])
    data = f"date,unit_code,age_band,dose,people_cumulative\n{ds.latest_date},071,65+,1,{band + 10}\n".encode()
    prepared = store.prepare(folder, data, "vaccinations", cfg, filename="over.csv")
    over = [w for w in prepared.warnings if w.row == 2]
    assert over and "100" in over[0].message


def test_ingest_lists_at_most_fifty_warnings_and_counts_the_rest(capsys, folder, tmp_path):
    """The benchmark's file printed 200 warning lines; errors stop at 50 (errors.MAX_SHOWN), so do warnings."""
    days = [dt.date(2021, 10, 1) + dt.timedelta(days=i) for i in range(61)]
    down = tmp_path / "down.csv"  # each day one below the day before: 60 corrections
    down.write_text(HEADER + "".join(f"{d},070,18-49,1,{1000 - i}\n" for i, d in enumerate(days)), encoding="utf-8")
    code, out, err = run(capsys, "ingest", down, "--kind", "vaccinations", "--store", folder)
    assert code == 0, err
    lines = [line for line in err.splitlines() if line.startswith("warning: ")]
    assert len(lines) == 51 and lines[-1] == f"warning: {down}: … and 10 more", lines[-3:]
    assert "60 warning(s)" in out
