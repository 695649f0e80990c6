"""The store as a Dataset for the core (units, population and cases as frames, the vaccination reports
asked in SQL), and filling an empty store from data/."""

from __future__ import annotations

import dataclasses
import datetime as dt
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

from tracker.config import Config
from tracker.errors import InputError
from tracker.ingest import read_table
from tracker.reports import Reports
from tracker.store.basics import META_SQL, POPULATION_SQL, SAMPLE_SQL, UNITS_SQL
from tracker.store.commits import record, write
from tracker.store.connection import reading, upgrade_store, writing
from tracker.store.files import exists, os_user, version
from tracker.store.intake import PreparedDrop, as_drop
from tracker.store.migrations import DROPS
from tracker.store.raw import RawWrite
from tracker.store.schema import LOAD_ORDER


@dataclass
class Dataset:
    """Everything the core computes from: units, population and cases as pandas frames; the vaccination
    reports as ``reports`` (tracker.reports), asked in SQL. ``load`` also gives every report as the frame
    ``vaccinations``; ``open_dataset`` does not read them (the store answers the questions) and reads the
    cases the first time they are asked for (``cases`` may be given as a function returning the frame)."""

    units: pd.DataFrame
    population: pd.DataFrame
    vaccinations: pd.DataFrame | None
    cases: pd.DataFrame | Callable[[], pd.DataFrame]
    sample: bool = False
    version: str = ""
    extra: dict = field(default_factory=dict)
    reports: Reports | None = None

    def __post_init__(self) -> None:
        if self.reports is None:
            if self.vaccinations is None:
                raise ValueError("a Dataset needs its vaccination reports or a Reports")
            self.reports = Reports(frame=self.vaccinations)

    @cached_property
    def bounds(self) -> tuple[dt.date | None, dt.date | None]:
        """The first and the latest report date."""
        return self.reports.bounds()

    @property
    def first_date(self) -> dt.date | None:
        return self.bounds[0]

    @property
    def latest_date(self) -> dt.date | None:
        return self.bounds[1]


def _get_cases(ds: Dataset) -> pd.DataFrame:
    value = ds.__dict__["_cases"]
    if callable(value):
        value = ds.__dict__["_cases"] = value()
    return value


def _set_cases(ds: Dataset, value) -> None:
    ds.__dict__["_cases"] = value


Dataset.cases = property(_get_cases, _set_cases, doc="The case reports (read when first asked for).")  # type: ignore[assignment]


def _dataset_info(data_dir: Path) -> dict:
    path = Path(data_dir) / "dataset.toml"
    if not path.is_file():
        return {}
    with path.open("rb") as fh:
        return tomllib.load(fh).get("dataset", {})


def is_empty(store: Path) -> bool:
    """True for a store that has never held a drop (a store whose drops were all undone is not empty)."""
    if not exists(store):
        return True
    with reading(store, since=DROPS) as con:
        held = " OR ".join(f"EXISTS (SELECT 1 FROM {t})" for t in ("drops", *LOAD_ORDER))
        return not con.execute(f"SELECT {held}").fetchall()[0][0]


def init(store: Path, cfg: Config, data_dir: Path | None = None, uploader: str | None = None) -> bool:
    """Fill an empty store from data/ in one transaction (four drops, raw files kept).

    Returns False when the store already holds drops. An existing store of an older schema version is
    brought up to date first (the dashboard calls this when it starts).
    """
    data_dir = Path(data_dir or cfg.data_dir)
    if exists(store):
        upgrade_store(store)
    if not is_empty(store):
        return False
    info = _dataset_info(data_dir)
    sample = bool(info.get("sample", False))
    prepared: list[PreparedDrop] = []
    units: pd.DataFrame | None = None
    for kind in LOAD_ORDER:
        path = data_dir / f"{kind}.csv"
        if not path.is_file():
            raise InputError(f"{path}: missing; `tracker init` needs {', '.join(k + '.csv' for k in LOAD_ORDER)}")
        p = as_drop(read_table(path, kind, cfg, None if kind == "units" else units), None, path.name)
        if kind == "units":
            units = p.frame[["unit_code", "unit_name"]].astype(str)
        prepared.append(p)
    who = uploader or os_user()
    written: list[RawWrite] = []
    try:
        with writing(store) as con:
            for p in prepared:
                raw = RawWrite(Path(store), p.sha256, data_dir / f"{p.kind}.csv").start()
                written.append(raw)
                p.drop_id = write(con, p, record(p, who, sample=sample))
                raw.wait()
            for key in ("label_vi", "label_en"):
                if key in info:
                    con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [f"dataset_{key}", str(info[key])])
    except BaseException:
        for raw in reversed(written):
            raw.discard()
        raise
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


_CASES_SQL = "SELECT date, unit_code, community_cases, imported_cases FROM cases ORDER BY date"


def load(store: Path) -> Dataset:
    """The store as a Dataset with every live vaccination report read into pandas (tests and tools that
    want the frame; the CLI and the dashboard use open_dataset)."""
    ds = open_dataset(store)
    with reading(store) as con:
        vaccinations = _frame(con, "SELECT date, unit_code, age_band, dose, people_cumulative FROM vaccinations")
    fields = {f.name: getattr(ds, f.name) for f in dataclasses.fields(ds) if f.name not in ("vaccinations", "reports")}
    return Dataset(**fields, vaccinations=vaccinations)


def open_dataset(store: Path) -> Dataset:
    """The store as a Dataset whose vaccination reports stay in the store: units and population are read,
    the cases when first asked for; every question about the reports is one SQL query on the file
    (tracker.reports)."""
    store = Path(store)
    ver = version(store)
    with reading(store, since=DROPS) as con:
        units = _frame(con, UNITS_SQL, codes=False)
        population = _frame(con, POPULATION_SQL)
        sample = bool(con.execute(SAMPLE_SQL).fetchall()[0][0])
        meta = dict(con.execute(META_SQL).fetchall())

    def cases() -> pd.DataFrame:
        with reading(store) as con:
            return _frame(con, _CASES_SQL)

    return Dataset(units, population, None, cases, sample=sample, version=ver, extra=meta, reports=Reports(store=store))
