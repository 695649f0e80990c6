"""The store: one DuckDB file in the store folder, written only in transactions.

Every ingest is validated completely before the database is opened for writing, so a
rejected file leaves the store byte-for-byte unchanged; the write itself is one transaction,
so a failure part-way leaves the previous state. Readers open the file read-only and close
it at once, so the dashboard never holds the lock an ingest needs.
"""

from __future__ import annotations

import datetime as dt
import os
import time
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

from tracker.config import Config
from tracker.errors import InputError, TrackerError
from tracker.ingest import KINDS, Prepared, read_table

DB_NAME = "tracker.duckdb"
LOCK_WAIT_SECONDS = 15

SCHEMA = """
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
LOAD_ORDER = ("units", "population", "vaccinations", "cases")


class StoreError(TrackerError):
    """The store cannot be opened or written."""


@dataclass
class Dataset:
    """Everything the core computes from, as pandas frames."""

    units: pd.DataFrame
    population: pd.DataFrame
    vaccinations: pd.DataFrame
    cases: pd.DataFrame
    sample: bool = False
    version: str = ""
    extra: dict = field(default_factory=dict)

    @cached_property
    def latest_date(self) -> dt.date | None:
        dates = self.vaccinations["date"]
        return None if dates.empty else dates.max().date()


def db_path(store: Path) -> Path:
    return Path(store) / DB_NAME


def exists(store: Path) -> bool:
    return db_path(store).is_file()


def version(store: Path) -> str:
    """A cheap token that changes whenever the store is written (for caches)."""
    parts = []
    for p in (db_path(store), db_path(store).with_name(DB_NAME + ".wal")):
        try:
            st = p.stat()
            parts.append(f"{st.st_mtime_ns}:{st.st_size}")
        except FileNotFoundError:
            parts.append("-")
    return "/".join(parts)


def _connect(store: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    while True:
        try:
            return duckdb.connect(str(db_path(store)), read_only=read_only)
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                raise StoreError(f"cannot open the store {db_path(store)}: {exc}") from None
            time.sleep(0.2)


@contextmanager
def reading(store: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    if not exists(store):
        raise StoreError(f"no store at {store}: run `tracker init` first")
    con = _connect(store, read_only=True)
    try:
        yield con
    finally:
        con.close()


@contextmanager
def writing(store: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """One transaction: committed when the block ends, rolled back on any error."""
    Path(store).mkdir(parents=True, exist_ok=True)
    con = _connect(store, read_only=False)
    try:
        con.execute(SCHEMA)
        con.execute("BEGIN TRANSACTION")
        try:
            yield con
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")
    finally:
        con.close()


def known_units(store: Path) -> set[str]:
    if not exists(store):
        return set()
    with reading(store) as con:
        return {r[0] for r in con.execute("SELECT unit_code FROM units").fetchall()}


def _stored_before(store: Path):
    """For daily input: the stored cumulative value on the day before each series' first date."""

    def lookup(starts: pd.DataFrame) -> pd.DataFrame | None:
        if not exists(store):
            return None
        with reading(store) as con:
            con.register("starts", starts.astype({"unit_code": "string", "age_band": "string"}))
            return con.execute(
                """
                SELECT s.unit_code, s.age_band, s.dose, arg_max(v.people_cumulative, v.date) AS people_cumulative
                FROM starts s JOIN vaccinations v
                  ON v.unit_code = s.unit_code AND v.age_band = s.age_band AND v.dose = s.dose
                 AND v.date < s.date
                GROUP BY ALL
                """
            ).df()

    return lookup


def prepare(store: Path, path: Path, kind: str, cfg: Config, today: dt.date | None = None) -> Prepared:
    """Read and validate a file against the store's units, without writing anything."""
    units = None if kind == "units" else known_units(store)
    return read_table(path, kind, cfg, units, today=today, base=_stored_before(store))


def _write(con: duckdb.DuckDBPyConnection, prepared: Prepared, sample: bool) -> int:
    """Upsert one prepared table inside the caller's transaction; returns the ingest id."""
    spec = KINDS[prepared.kind]
    ingest_id = con.execute("SELECT coalesce(max(id), 0) + 1 FROM ingests").fetchall()[0][0]
    frame = prepared.frame
    columns = list(spec.columns)
    arrow = pa.Table.from_pandas(frame[columns], preserve_index=False)
    arrow = arrow.cast(
        pa.schema([pa.field(c, pa.string() if spec.columns[c] == pa.string() else spec.columns[c]) for c in columns])
    )
    con.register("incoming", arrow)
    table = prepared.kind
    has_rows = con.execute(f"SELECT count(*) > 0 FROM (SELECT 1 FROM {table} LIMIT 1)").fetchall()[0][0]
    if has_rows:
        match = " AND ".join(f"t.{k} = i.{k}" for k in spec.keys)
        con.execute(f"DELETE FROM {table} t USING incoming i WHERE {match}")
    cols = ", ".join(columns)
    con.execute(f"INSERT INTO {table} ({cols}, ingest_id) SELECT {cols}, {ingest_id} FROM incoming")
    con.unregister("incoming")
    con.execute(
        "INSERT INTO ingests VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            ingest_id,
            dt.datetime.now(),
            prepared.kind,
            os.path.basename(prepared.source),
            prepared.sha256,
            len(frame),
            len(prepared.warnings),
            sample,
        ],
    )
    return ingest_id


def ingest(store: Path, path: Path, kind: str, cfg: Config, dry_run: bool = False) -> Prepared:
    """Validate a file, then (unless dry_run) store it in one transaction."""
    prepared = prepare(store, path, kind, cfg)
    if not dry_run:
        with writing(store) as con:
            _write(con, prepared, sample=False)
    return prepared


def _dataset_info(data_dir: Path) -> dict:
    path = Path(data_dir) / "dataset.toml"
    if not path.is_file():
        return {}
    with path.open("rb") as fh:
        return tomllib.load(fh).get("dataset", {})


def is_empty(store: Path) -> bool:
    if not exists(store):
        return True
    with reading(store) as con:
        tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        if not set(LOAD_ORDER) <= tables:
            return True
        return not any(con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in LOAD_ORDER)


def init(store: Path, cfg: Config, data_dir: Path | None = None) -> bool:
    """Fill an empty store from data/ in one transaction. Returns False when it already holds data."""
    data_dir = Path(data_dir or cfg.data_dir)
    if not is_empty(store):
        return False
    sample = bool(_dataset_info(data_dir).get("sample", False))
    prepared: list[Prepared] = []
    units: set[str] = set()
    for kind in LOAD_ORDER:
        path = data_dir / f"{kind}.csv"
        if not path.is_file():
            raise InputError(f"{path}: missing; `tracker init` needs {', '.join(k + '.csv' for k in LOAD_ORDER)}")
        p = read_table(path, kind, cfg, None if kind == "units" else units)
        if kind == "units":
            units = set(p.frame["unit_code"].astype(str))
        prepared.append(p)
    with writing(store) as con:
        for p in prepared:
            _write(con, p, sample=sample)
        info = _dataset_info(data_dir)
        for key in ("label_vi", "label_en"):
            if key in info:
                con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [f"dataset_{key}", str(info[key])])
    return True


def _frame(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None, codes: bool = True) -> pd.DataFrame:
    """A query as pandas; with `codes`, text columns come as categories (cheap for millions of rows)."""
    table = con.sql(sql, params=params or None).to_arrow_table()
    cols = {}
    for name in table.column_names:
        col = table.column(name)
        if pa.types.is_string(col.type) or pa.types.is_large_string(col.type) or pa.types.is_string_view(col.type):
            col = col.cast(pa.string())
            if codes:
                col = col.dictionary_encode()
        cols[name] = col
    return pa.table(cols).to_pandas(date_as_object=False)


def load(store: Path, until: dt.date | None = None, doses: tuple[int, ...] | None = None) -> Dataset:
    """Load the store into pandas; `until` and `doses` narrow the vaccinations read."""
    ver = version(store)
    where, params = [], []
    if until is not None:
        where.append("date <= ?")
        params.append(until)
    if doses:
        where.append(f"dose IN ({', '.join(str(int(d)) for d in doses)})")
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    with reading(store) as con:
        units = _frame(
            con, "SELECT unit_code, unit_name, unit_type, lat, lon FROM units ORDER BY unit_code", codes=False
        )
        population = _frame(con, "SELECT unit_code, age_band, population FROM population")
        vaccinations = _frame(
            con, f"SELECT date, unit_code, age_band, dose, people_cumulative FROM vaccinations {clause}", params
        )
        cases = _frame(con, "SELECT date, unit_code, community_cases, imported_cases FROM cases ORDER BY date")
        sample = bool(con.execute("SELECT coalesce(bool_or(sample), false) FROM ingests").fetchall()[0][0])
        meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
    return Dataset(units, population, vaccinations, cases, sample=sample, version=ver, extra=meta)


def ingests(store: Path) -> pd.DataFrame:
    with reading(store) as con:
        return con.execute("SELECT * FROM ingests ORDER BY id").df()
