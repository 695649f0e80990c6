"""Reading a drop against the store: a file (a path, or an upload's bytes) read and validated with what the
store holds (its units, the value before a daily file's first day, the age groups already reported,
the population); nothing is written."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from tracker.config import Config
from tracker.errors import InputError, ValidationError
from tracker.ingest import Prepared, ReadOptions, population_checks, read_bytes, read_table
from tracker.ingest.columns import arrow_array
from tracker.ingest.overlaps import overlaps
from tracker.store.connection import reading
from tracker.store.files import exists, safe_name
from tracker.store.migrations import SERIES
from tracker.store.raw import RAW_DIR, Packed


@dataclass
class PreparedDrop(Prepared):
    """A validated drop (a ``tracker.ingest.Prepared``) plus what ``commit`` records with it."""

    options: ReadOptions | None = None  # how it was read (kept in the drops table, used by rebuild)
    filename: str = ""  # the original file name (without folders)
    drop_id: int | None = None  # set once committed


def options_json(options: ReadOptions | None) -> str | None:
    if options is None or options == ReadOptions():
        return None
    return json.dumps(dataclasses.asdict(options), ensure_ascii=False, sort_keys=True)


def options_from_json(text: str | None) -> ReadOptions | None:
    if not text:
        return None
    raw = json.loads(text)
    known = {f.name for f in dataclasses.fields(ReadOptions)}
    values = {k: v for k, v in raw.items() if k in known}
    for pairs in ("columns", "constants"):
        if pairs in values:
            values[pairs] = tuple(tuple(pair) for pair in values[pairs])
    return ReadOptions(**values)


Opener = Callable[[], contextlib.AbstractContextManager]


def unit_names(opener: Opener | None) -> dict[str, str]:
    """The stored units' names by code; empty without a store."""
    if opener is None:
        return {}
    with opener() as con:
        return dict(con.execute("SELECT unit_code, unit_name FROM units ORDER BY unit_code").fetchall())


def known_units(store: Path) -> set[str]:
    if not exists(store):
        return set()
    return set(unit_names(lambda: reading(store)))


# A report to rebase on is looked for this far before the drop's first date before all dates are scanned.
STORED_BEFORE_WINDOW = 62


def stored_before(opener: Opener | None):
    """For daily input and the check of cumulative input against the store: the stored cumulative value
    on the day before each series' date (``base`` of tracker.ingest.read_table).

    ``lookup(starts)`` takes a pyarrow Table (unit_code, age_band, dose, date) and returns one value per
    row, -1 where nothing is stored before. A series whose last stored report is before that date (a new
    day: the usual drop) has it in the series table; the others (a correction of past days) look in the
    reports of the few weeks before, and only what is not found there in all of them."""

    def lookup(starts: pa.Table) -> np.ndarray:
        found = np.full(starts.num_rows, -1, dtype=np.int64)
        if opener is None or starts.num_rows == 0:
            return found
        numbered = starts.append_column("i", arrow_array(np.arange(starts.num_rows, dtype=np.int64)))
        with opener() as con:
            con.register("starts", numbered)
            try:
                for i, value in _lookup_before(con):
                    found[i] = value
            finally:
                con.unregister("starts")
        return found

    return lookup


def _lookup_before(con: duckdb.DuckDBPyConnection) -> list[tuple[np.ndarray, np.ndarray]]:
    """(row of starts, stored value) arrays, in parts; a row found in no part has nothing stored before."""
    scan = """
        SELECT s.i, arg_max(v.people_cumulative, v.date) AS people_cumulative
        FROM {starts} s JOIN vaccinations v
          ON v.unit_code = s.unit_code AND v.age_band = s.age_band AND v.dose = s.dose AND v.date < s.date {window}
        GROUP BY ALL
    """
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE stored_before AS
        SELECT s.i, s.unit_code, s.age_band, s.dose, s.date, vs.last_date, vs.last_value
        FROM starts s JOIN vaccination_series vs USING (unit_code, age_band, dose)
        WHERE vs.first_date < s.date
        """
    )
    try:
        queries = ["SELECT i, last_value AS people_cumulative FROM stored_before WHERE last_date < date"]
        past = "(SELECT * FROM stored_before WHERE last_date >= date)"
        lowest = con.execute(f"SELECT min(date) FROM {past}").fetchall()[0][0]
        if lowest is not None:
            since = lowest - dt.timedelta(days=STORED_BEFORE_WINDOW)
            near = scan.format(starts=past, window=f"AND v.date >= DATE '{since}'")
            con.execute(f"CREATE OR REPLACE TEMP TABLE stored_near AS {near}")
            queries.append("SELECT * FROM stored_near")
            rest = f"(SELECT p.* FROM {past} p ANTI JOIN stored_near n ON p.i = n.i)"
            queries.append(scan.format(starts=rest, window=""))
        parts = []
        for query in queries:
            part = con.execute(query).fetchnumpy()
            parts.append((part["i"], part["people_cumulative"]))
        return parts
    finally:
        con.execute("DROP TABLE IF EXISTS temp.stored_before")
        con.execute("DROP TABLE IF EXISTS temp.stored_near")


def read_drop(
    source: Path | bytes,
    filename: str,
    kind: str,
    cfg: Config,
    options: ReadOptions | None,
    opener: Opener | None,
    today: dt.date | None,
    limited: bool = True,
    keep=None,
) -> Prepared:
    """read_table (a path) or read_bytes (an upload) against the store state that `opener` gives.

    The stored units go as their names by code, so that rows may name a unit. ``limited``:
    the upload limits of the configuration apply (not when rebuild replays a drop accepted once).
    ``keep``: Reading.keep (tracker.ingest.pipeline).
    """
    units = None if kind == "units" else unit_names(opener)
    base = stored_before(opener)
    kw = {"today": today, "base": base, "options": options, "limited": limited, "keep": keep}
    if isinstance(source, bytes | bytearray | memoryview):
        prepared = read_bytes(bytes(source), filename, kind, cfg, units, **kw)
    else:
        prepared = read_table(source, kind, cfg, units, **kw)
    if kind == "vaccinations":
        _check_overlaps(prepared, units, cfg, options, opener)
    if kind == "vaccinations" and opener is not None:  # reports above the stored population
        with opener() as con:
            population = con.execute("SELECT unit_code, age_band, population FROM population").fetchnumpy()
        found, absurd = population_checks(prepared.data, population, cfg, prepared.rows, prepared.series)
        errors = [p for p in found if p.severity == "error"]
        if errors and limited:
            raise ValidationError(prepared.source, errors, {(errors[0].kind, errors[0].column): absurd})
        prepared.warnings.extend(p for p in found if p.severity == "warning")
    return prepared


def _check_overlaps(prepared: Prepared, units: dict[str, str], cfg: Config, options, opener: Opener | None) -> None:
    """Warn about reports overlapping age groups already reported for their unit (ingest.overlaps), and
    skip them when the options say so; otherwise ``prepared.overlapping`` makes ``commit`` refuse the file."""
    if opener is None:
        stored = {"unit_code": [], "age_band": [], "dose": []}
    else:
        with opener() as con:
            stored = con.execute("SELECT DISTINCT unit_code, age_band, dose FROM vaccination_series").fetchnumpy()
    names = {str(code): str(name) for code, name in units.items()}
    header = {canonical: src for src, canonical in (prepared.detected.get("columns") or {}).items()}
    column = header.get("age_band", "age_band")
    found, bad = overlaps(prepared.data, stored, cfg, prepared.rows, names, column, prepared.series)
    prepared.warnings.extend(found)
    if not bad.any():
        return
    if options is not None and options.overlap == "skip":
        keep = ~bad
        data = prepared.data
        kept = data.filter(arrow_array(keep)) if isinstance(data, pa.Table) else data[keep].reset_index(drop=True)
        prepared.data = kept
        prepared.rows = prepared.rows[keep] if prepared.rows is not None else None
        prepared.running = prepared.running[keep] if prepared.running is not None else None
        prepared.series = None  # it described the rows before some were left out
        prepared.skipped = int(bad.sum())
    else:
        prepared.overlapping = int(bad.sum())


def check_storable(prepared: Prepared) -> None:
    """InputError when a prepared drop must not be stored as it is: rows overlapping reported age groups
    (unless skipped), or nothing left after skipping them."""
    units = sorted({str(dict(w.params).get("unit")) for w in prepared.warnings if w.kind == "overlap"})
    if prepared.overlapping:
        raise InputError(code="overlap.refused", source=prepared.source, rows=prepared.overlapping, units=units)
    if prepared.skipped and len(prepared.data) == 0:
        raise InputError(code="overlap.nothing_left", source=prepared.source)


def as_drop(prepared: Prepared, options: ReadOptions | None, filename: str) -> PreparedDrop:
    values = {f.name: getattr(prepared, f.name) for f in dataclasses.fields(prepared) if f.init}
    values.update(options=options, filename=filename, drop_id=None)
    return PreparedDrop(**values)


def prepare(
    store: Path,
    path_or_bytes: Path | str | bytes,
    kind: str,
    cfg: Config,
    options: ReadOptions | None = None,
    filename: str | None = None,
    today: dt.date | None = None,
    keep_raw: bool = False,
) -> PreparedDrop:
    """Read and validate a file (a path, or the bytes of an upload) against the store; write nothing.

    ``filename`` names an upload in messages and in the drop log (default: the path's name).
    ``keep_raw``: a commit follows; a canonical file on disk is then compressed for its raw file as it is
    read and hashed (`PreparedDrop.kept`), instead of read again by the commit.
    Raises ValidationError (all problems, by row), MeasureNeeded, or InputError.
    """
    if isinstance(path_or_bytes, bytes | bytearray | memoryview):
        source, name = path_or_bytes, safe_name(filename)
    else:
        source = Path(path_or_bytes)
        name = safe_name(filename or source.name)
    keep = (lambda: Packed(Path(store) / RAW_DIR)) if keep_raw else None  # noqa: E731
    if not exists(store):
        return as_drop(read_drop(source, name, kind, cfg, options, None, today, keep=keep), options, name)
    with reading(store, since=SERIES) as con:  # one read-only connection for every question the checks ask
        opener = lambda: contextlib.nullcontext(con)  # noqa: E731
        prepared = read_drop(source, name, kind, cfg, options, opener, today, keep=keep)
    return as_drop(prepared, options, name)
