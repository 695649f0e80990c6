"""Schema versions (tracker.store.migrations): an older store is brought to the latest version by its first
write, in one transaction, and then holds the same rows and gives the same figures as the same data dropped into
a new store; readers never change it and refuse what they cannot read; a store of a newer version is refused by
readers and writers alike and left as it was. See docs/data-model.md, "Schema versions"."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from tests.clitools import run, snapshot
from tracker import core, store
from tracker.config import load_config
from tracker.store import migrations

CFG = load_config()
AS_OF = dt.date(2021, 10, 3)
AT = dt.datetime(2021, 10, 3, 8, 0)
KINDS = ("units", "population", "vaccinations", "cases")

# The first store's tables, as 31e59c0 made them (git show 31e59c0:tracker/store.py): the layout of version 1.
FIRST_LAYOUT = """
CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE IF NOT EXISTS ingests (
    id INTEGER PRIMARY KEY, ingested_at TIMESTAMP NOT NULL, kind VARCHAR NOT NULL, source VARCHAR,
    sha256 VARCHAR, rows BIGINT NOT NULL, warnings INTEGER NOT NULL, sample BOOLEAN NOT NULL
);
CREATE TABLE IF NOT EXISTS units (
    unit_code VARCHAR PRIMARY KEY, unit_name VARCHAR NOT NULL, unit_type VARCHAR, lat DOUBLE, lon DOUBLE,
    ingest_id INTEGER
);
CREATE TABLE IF NOT EXISTS population (
    unit_code VARCHAR NOT NULL, age_band VARCHAR NOT NULL, population BIGINT NOT NULL, ingest_id INTEGER,
    PRIMARY KEY (unit_code, age_band)
);
CREATE TABLE IF NOT EXISTS vaccinations (
    date DATE NOT NULL, unit_code VARCHAR NOT NULL, age_band VARCHAR NOT NULL, dose TINYINT NOT NULL,
    people_cumulative BIGINT NOT NULL, ingest_id INTEGER
);
CREATE TABLE IF NOT EXISTS cases (
    date DATE NOT NULL, unit_code VARCHAR NOT NULL, community_cases BIGINT NOT NULL,
    imported_cases BIGINT NOT NULL, ingest_id INTEGER
);
"""

# The same data for the old store (rows inserted by hand) and a new one (dropped through the public API).
FILES = {
    "units": """unit_code,unit_name,unit_type,lat,lon
070,Thành phố Tuyên Quang,city,21.781,105.226
071,Huyện Lâm Bình,district,22.504,105.227
""",
    "population": """unit_code,age_band,population
070,0-4,100
070,5-11,150
070,12-17,120
070,18-49,1000
070,50-64,400
070,65+,200
071,0-4,50
071,5-11,60
071,12-17,70
071,18-49,500
071,50-64,250
071,65+,125
""",
    "vaccinations": """date,unit_code,age_band,dose,people_cumulative
2021-10-01,070,18-49,1,300
2021-10-01,070,50-64,1,150
2021-10-01,070,65+,1,80
2021-10-01,071,18-49,1,50
2021-10-02,070,18-49,1,350
2021-10-02,070,18-49,2,120
2021-10-03,070,18-49,1,400
2021-10-03,070,50-64,1,190
2021-10-03,071,18-49,1,80
2021-10-03,071,65+,1,15
""",
    "cases": """date,unit_code,community_cases,imported_cases
2021-10-01,070,3,1
2021-10-02,070,2,0
2021-10-03,071,4,0
""",
}
DAILY = "date,unit_code,age_band,dose,doses\n2021-10-04,070,18-49,1,25\n2021-10-04,071,65+,1,5\n"


def sha(kind: str) -> str:
    return hashlib.sha256(FILES[kind].encode("utf-8")).hexdigest()


def rows(kind: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(FILES[kind])))


def first_store(folder: Path) -> Path:
    """A store of version 1 (before drops, before versions), its rows written by hand; ingest i wrote KINDS[i]."""
    folder.mkdir(parents=True)
    with duckdb.connect(str(store.db_path(folder))) as con:
        con.execute(FIRST_LAYOUT)
        for i, kind in enumerate(KINDS, start=1):
            table = rows(kind)
            con.execute(
                "INSERT INTO ingests VALUES (?, ?, ?, ?, ?, ?, 0, false)",
                [i, AT + dt.timedelta(minutes=i), kind, f"{kind}.csv", sha(kind), len(table)],
            )
            columns = list(table[0])
            values = ", ".join("?" for _ in columns)
            con.executemany(
                f"INSERT INTO {kind} ({', '.join(columns)}, ingest_id) VALUES ({values}, ?)",
                [[*r.values(), i] for r in table],
            )
        con.execute("INSERT INTO meta VALUES ('dataset_label_en', 'hand-made')")
    return folder


def new_store(folder: Path) -> Path:
    """The same four files dropped into a new store through the public API."""
    for kind in KINDS:
        store.ingest(folder, FILES[kind].encode("utf-8"), kind, CFG, filename=f"{kind}.csv", uploader="tester")
    return folder


def version_of(folder: Path) -> tuple[int, list[tuple]]:
    """The store's version, and what its version table holds, read with a plain read-only connection."""
    with duckdb.connect(str(store.db_path(folder)), read_only=True) as con:
        found = migrations.stored_version(con)
        tables = store.schema.table_names(con)
        recorded = con.execute("SELECT * FROM schema_version").fetchall() if "schema_version" in tables else []
    return found, recorded


def tables_of(folder: Path) -> dict[str, list[tuple]]:
    """Every table's rows, sorted (drop ids, history, series, meta…)."""
    with duckdb.connect(str(store.db_path(folder)), read_only=True) as con:
        return {t: sorted(con.execute(f"SELECT * FROM {t}").fetchall()) for t in sorted(store.schema.table_names(con))}


def figures(folder: Path, as_of: dt.date) -> dict[str, pd.DataFrame]:
    ds = store.load(folder)
    return {
        "coverage 1": core.coverage(ds, CFG, as_of, "adults", 1),
        "coverage 2": core.coverage(ds, CFG, as_of, "adults", 2),
        "targets": core.evaluate(ds, CFG, as_of),
        "incidence": core.incidence(ds, CFG, as_of),
        "vaccinations": ds.vaccinations.sort_values(["date", "unit_code", "age_band", "dose"]).reset_index(drop=True),
    }


def assert_same_figures(a: Path, b: Path, as_of: dt.date) -> None:
    fa, fb = figures(a, as_of), figures(b, as_of)
    for name in fa:
        pd.testing.assert_frame_equal(fa[name], fb[name], obj=name)


@pytest.fixture
def old(tmp_path) -> Path:
    return first_store(tmp_path / "old")


@pytest.fixture
def new(tmp_path) -> Path:
    return new_store(tmp_path / "new")


# --------------------------------------------------------------------------- a new store


def test_a_new_store_starts_at_the_latest_version(new, tmp_path):
    assert version_of(new) == (migrations.LATEST, [(migrations.LATEST,)])
    assert migrations.LATEST == migrations.SERIES == 3
    with duckdb.connect(":memory:") as con:  # every table of the latest layout, and no other
        migrations.create(con)
        assert store.schema.table_names(con) == set(tables_of(new))
    store.init(tmp_path / "sample", CFG)
    assert version_of(tmp_path / "sample") == (migrations.LATEST, [(migrations.LATEST,)])


def test_rebuild_keeps_one_version_row(new):
    store.undo(new, 4, "lan")
    before = tables_of(new)
    store.rebuild(new, CFG)
    assert version_of(new) == (migrations.LATEST, [(migrations.LATEST,)])
    after = tables_of(new)
    drops = [(r[0], r[2], r[8]) for r in after["drops"]]
    assert drops == [(r[0], r[2], r[8]) for r in before["drops"]]  # id, uploader, status
    assert {t: v for t, v in after.items() if t != "drops"} == {t: v for t, v in before.items() if t != "drops"}


# --------------------------------------------------------------------------- the oldest store


def test_the_first_store_is_brought_up_by_its_first_write_with_the_same_rows_and_figures(old, new):
    assert version_of(old) == (migrations.FIRST, [])
    with store.writing(old):
        pass
    assert version_of(old) == (migrations.LATEST, [(migrations.LATEST,)])

    got, want = tables_of(old), tables_of(new)
    assert set(got) == set(want)
    # the live rows, with the drop that wrote them (ingest i is drop i in both), and the series made from them
    for table in (*KINDS, "vaccination_series"):
        assert got[table] == want[table], table
        assert got[table], table
    assert got["meta"] == [("dataset_label_en", "hand-made")]
    for table in ("users", *(f"{kind}_history" for kind in KINDS)):
        assert got[table] == want[table] == [], table
    # the log: the ingests as drops, by 'unknown' (uploader and the drops' own times aside, as in the new store)
    log, fresh = store.drops(old), store.drops(new)
    assert list(log["uploader"]) == ["unknown"] * 4
    same = ["id", "kind", "source", "sha256", "rows", "status", "undone_at", "undone_by"]
    pd.testing.assert_frame_equal(log[same], fresh[same])
    assert list(log["ingested_at"]) == [AT + dt.timedelta(minutes=i) for i in range(1, 5)]

    assert_same_figures(old, new, AS_OF)
    assert store.open_dataset(old).extra == {"dataset_label_en": "hand-made"}
    assert not store.open_dataset(old).sample


def test_after_the_upgrade_a_daily_drop_builds_on_the_same_values(old, new):
    """The series table the upgrade filled gives a daily file the values a new store's gives it."""
    store.init(old, CFG)  # brings it up; holds data, so it fills nothing
    assert version_of(old)[0] == migrations.LATEST
    assert len(store.drops(old)) == 4
    ids = [
        store.ingest(folder, DAILY.encode(), "vaccinations", CFG, filename="daily.csv", uploader="lan").drop_id
        for folder in (old, new)
    ]
    assert ids == [5, 5]
    with store.reading(old) as con:
        added = con.execute("SELECT unit_code, people_cumulative FROM vaccinations WHERE drop_id = 5 ORDER BY 1")
        assert added.fetchall() == [("070", 425), ("071", 20)]  # 400 + 25, 15 + 5
    assert tables_of(old)["vaccination_series"] == tables_of(new)["vaccination_series"]
    assert_same_figures(old, new, AS_OF + dt.timedelta(days=1))


def test_doctor_brings_an_old_store_up(old, capsys):
    code, out, err = run(capsys, "doctor", "--store", old)
    assert version_of(old)[0] == migrations.LATEST
    assert code == 1 and "no raw file for drop(s) 1, 2, 3, 4" in out + err  # kept no raw files: cannot rebuild


def test_readers_refuse_an_old_store_they_cannot_read_and_change_nothing(old, capsys):
    before = snapshot(old)
    message = "schema version 1, older than this tracker reads .* `tracker init` or `tracker doctor`"
    for read in (
        store.drops,
        store.open_dataset,
        store.is_empty,
        lambda folder: store.prepare(folder, DAILY.encode(), "vaccinations", CFG),
    ):
        with pytest.raises(store.StoreError, match=message):
            read(old)
    code, out, err = run(capsys, "coverage", "--store", old, "--as-of", AS_OF, "--group", "adults", "--dose", 1)
    assert code == 1 and "`tracker init` or `tracker doctor`" in err
    assert store.known_units(old) == {"070", "071"}  # units are read the same in every version
    assert snapshot(old) == before


def test_a_store_of_version_2_is_read_where_its_layout_reads_the_same(new):
    """Version 2 (drops, no series table): the drop log and the dataset are read; a drop is not prepared
    against it (the checks read the series table)."""
    with duckdb.connect(str(store.db_path(new))) as con:
        con.execute("DROP TABLE schema_version")
        con.execute("DROP TABLE vaccination_series")
    before = snapshot(new)
    assert version_of(new)[0] == migrations.DROPS
    assert len(store.drops(new)) == 4
    assert store.load(new).vaccinations["people_cumulative"].sum() == sum(
        int(r["people_cumulative"]) for r in rows("vaccinations")
    )
    with pytest.raises(store.StoreError, match="schema version 2"):
        store.prepare(new, DAILY.encode(), "vaccinations", CFG)
    assert snapshot(new) == before
    store.init(new, CFG)
    assert version_of(new) == (migrations.LATEST, [(migrations.LATEST,)])
    with store.reading(new) as con:
        assert con.execute("SELECT count(*) FROM vaccination_series").fetchall()[0][0] == 6  # the series of the file


def test_a_store_of_the_latest_layout_from_before_versions_gets_its_version_and_nothing_else(new):
    with duckdb.connect(str(store.db_path(new))) as con:
        con.execute("DROP TABLE schema_version")
    before = tables_of(new)
    assert version_of(new) == (migrations.LATEST, [])
    assert len(store.drops(new)) == 4  # read as it is
    with store.writing(new):
        pass
    assert tables_of(new) == {**before, "schema_version": [(migrations.LATEST,)]}


# --------------------------------------------------------------------------- a failing step


def test_a_failing_step_leaves_the_store_at_its_old_version_with_its_data(old, monkeypatch):
    before = tables_of(old)

    def broken(con):
        con.execute("CREATE TABLE vaccination_series (unit_code VARCHAR)")
        raise RuntimeError("step 2 -> 3 failed")

    # the first step runs in full, the second fails part-way: neither stays
    monkeypatch.setattr(migrations, "STEPS", (migrations.drops_and_history, broken))
    with pytest.raises(RuntimeError, match="step 2 -> 3 failed"):
        with store.writing(old) as con:
            con.execute("INSERT INTO meta VALUES ('written', 'no')")
    assert version_of(old) == (migrations.FIRST, [])
    assert tables_of(old) == before
    monkeypatch.undo()
    with store.writing(old):  # the next write, with the steps as they are, brings it up
        pass
    assert version_of(old)[0] == migrations.LATEST
    assert len(store.drops(old)) == 4


# --------------------------------------------------------------------------- a store of a newer version


def test_a_store_of_a_newer_version_is_refused_by_readers_and_writers_and_left_as_it_was(new, capsys):
    with duckdb.connect(str(store.db_path(new))) as con:
        con.execute("UPDATE schema_version SET version = ?", [migrations.LATEST + 1])
    before = snapshot(new)
    message = f"written by a newer tracker \\(schema version {migrations.LATEST + 1}; this one knows versions up to"
    readers = (
        store.drops,
        store.load,
        store.known_units,
        lambda folder: store.prepare(folder, DAILY.encode(), "vaccinations", CFG),
    )
    writers = (
        lambda folder: store.undo(folder, 4, "lan"),
        lambda folder: store.init(folder, CFG),
        store.gc,
        lambda folder: store.rebuild(folder, CFG),
        lambda folder: store.check(folder, CFG),
    )
    for call in (*readers, *writers):
        with pytest.raises(store.StoreError, match=message):
            call(new)
    with pytest.raises(store.StoreError, match=message), store.writing(new) as con:
        con.execute("INSERT INTO meta VALUES ('written', 'yes')")
    code, out, err = run(capsys, "drops", "--store", new)
    assert code == 1 and "newer tracker" in err
    assert snapshot(new) == before
    assert version_of(new) == (migrations.LATEST + 1, [(migrations.LATEST + 1,)])
