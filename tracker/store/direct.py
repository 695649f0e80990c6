"""A daily drop stored by DuckDB alone: a small canonical vaccinations CSV with nothing to say.

What analysts load every day is a few thousand rows in the canonical layout. For such a file, importing
numpy and pyarrow (0.12 s of CPU) cost more than everything else the tracker does with it, and DuckDB
can read it and ask every rule of it in SQL in a few milliseconds. So `tracker ingest` first offers the
file here (docs/performance.md, "Daily drop").

The file is read as text into a temporary table inside the write transaction, so that it is checked
against exactly the state it is written into. It is stored only when there is nothing to say: no error,
no warning. Anything else, and any file that is not plainly canonical, rolls the transaction back
(nothing written) and returns None: the caller then reads the file the usual way (tracker.store.intake),
which words every problem with its row and column. So this path never accepts a file the others would
refuse or warn about, and stores what they would store; where it is stricter than them (a unit named
instead of coded, quotes, a blank line, spaces around a value, a correction of past days) the file
simply goes the usual way. tests/test_direct.py holds it to that, file by file.

The rules, as tracker.ingest.clean and tracker.store.intake apply them: every value present and
parsing; units among the stored codes, age labels among the configured ones; doses 1-4, counts from 0
to the limit, dates from the campaign's start to today; no key twice; the upload limits. No warning:
no count below the one before it in its series, in the file or stored; no series long enough in the
file for a spike; no age label overlapping another of its unit and dose, in the file or stored; no
count above its unit's population for the label.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import tempfile
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from tracker.config import Config
from tracker.ingest.options import DOSES, SPIKE_WINDOW
from tracker.store.connection import Outdated, sql_text, writing
from tracker.store.files import exists, now, safe_name
from tracker.store.raw import RawWrite, remove_orphans
from tracker.store.schema import log_drop, merge_series, store_rows

# the write lock is held while the file is read and checked: only files that take milliseconds
DIRECT_MAX_BYTES = 8 * 2**20
KEYS = ("date", "unit_code", "age_band", "dose")  # tracker.ingest.kinds.KINDS["vaccinations"]
COLUMNS = (*KEYS, "people_cumulative")
TYPES = {
    "date": "DATE",
    "unit_code": "VARCHAR",
    "age_band": "VARCHAR",
    "dose": "TINYINT",
    "people_cumulative": "BIGINT",
}
SPIKE_ROWS = SPIKE_WINDOW + 2  # a spike needs the row, the window's days before it and one more, in one series
MAX_DIGITS = 18  # a count of more digits could overflow BIGINT; the limit is far below it anyway


class _Declined(Exception):
    """Something to say, or to decide the usual way: roll back, and leave the file to the other paths."""


def ingest_direct(
    store: Path, path: Path, cfg: Config, uploader: str, today: dt.date | None = None
) -> tuple[int, int] | None:
    """Store ``path`` as one vaccinations drop when it is a small canonical cumulative CSV with nothing to
    say: returns (drop id, rows). None, with nothing written, for any other file."""
    store, path = Path(store), Path(path)
    if not exists(store) or not path.is_file() or not str(uploader or "").strip():
        return None
    size = path.stat().st_size
    if not 0 < size <= min(DIRECT_MAX_BYTES, cfg.limits.max_mb * 2**20):
        return None
    data = path.read_bytes()
    header = _canonical_header(data)
    if header is None:
        return None
    lines = data.count(b"\n") + (not data.endswith(b"\n")) - 1  # records after the header
    if lines < 1 or lines > cfg.limits.max_rows or data.count(b",") != (len(COLUMNS) - 1) * (lines + 1):
        return None
    digest = hashlib.sha256(data).hexdigest()
    raw = None
    try:
        # the temporary tables go with the connection, which writing() closes
        with writing(store, upgrade_first=False) as con, _private_copy(data) as copy:
            try:
                _stage(con, copy, header)  # the bytes hashed and kept, whatever happens to the file meanwhile
                _check(con, cfg, lines, today or dt.date.today())
            except duckdb.Error as exc:  # a file this path did not foresee: the usual path will say what it is
                raise _Declined from exc
            remove_orphans(con, store)  # as commits.commit: what killed commits left behind
            raw = RawWrite(store, digest, data).start()
            drop_id = _write(con, digest, safe_name(path.name), uploader, lines)
            raw.wait()
    except (_Declined, Outdated):
        return None
    except BaseException:
        if raw is not None:
            raw.discard()
        raise
    return drop_id, lines


@contextmanager
def _private_copy(data: bytes) -> Iterator[Path]:
    """The bytes in a file of their own for DuckDB to read (owner-only, removed after)."""
    fd, name = tempfile.mkstemp(prefix="tracker-drop-", suffix=".csv")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        yield Path(name)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(name)


def _canonical_header(data: bytes) -> list[str] | None:
    """The header's column names when the file is plain canonical UTF-8: the five columns under their
    names in any order, no BOM, no quotes, no NUL, a line break only as LF or CRLF, no blank line."""
    if data.startswith(b"\xef\xbb\xbf") or b'"' in data or b"\x00" in data:
        return None
    if data.count(b"\r") != data.count(b"\r\n") or b"\n\n" in data or b"\n\r\n" in data:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    first, newline, _ = text.partition("\n")
    header = first.removesuffix("\r").split(",")
    return header if newline and sorted(header) == sorted(COLUMNS) else None


def _stage(con: duckdb.DuckDBPyConnection, path: Path, header: list[str]) -> None:
    """The file as text (direct_text), then typed (direct_rows) once every value is known to parse the way
    the other paths parse it: DuckDB's casts are more lenient ('1.5' is a BIGINT 2 there, a refusal here)."""
    text_columns = "{" + ", ".join(f"{sql_text(c)}: 'VARCHAR'" for c in header) + "}"
    con.execute(
        f"""
        CREATE TEMP TABLE direct_text AS SELECT * FROM read_csv({sql_text(str(path))}, header = true,
            auto_detect = false, delim = ',', quote = '', escape = '', columns = {text_columns},
            null_padding = false, strict_mode = true)
        """
    )
    parses = con.execute(
        f"""
        SELECT count(*),
            -- an empty cell is NULL, and bool_and skips NULLs: each row's answer is made false first
            coalesce(bool_and(coalesce(
                regexp_full_match(date, '[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}') AND try_cast(date AS DATE) IS NOT NULL
                AND dose IN ({", ".join(sql_text(str(d)) for d in DOSES)})
                AND regexp_full_match(people_cumulative, '[0-9]{{1,{MAX_DIGITS}}}')
                AND unit_code IS NOT NULL AND age_band IS NOT NULL, false)), false)
        FROM direct_text
        """
    ).fetchall()[0]
    if not parses[1]:
        raise _Declined
    con.execute(
        f"""
        CREATE TEMP TABLE direct_rows AS
        SELECT {", ".join(f"CAST({c} AS {TYPES[c]}) AS {c}" for c in COLUMNS)} FROM direct_text
        """
    )


def _check(con: duckdb.DuckDBPyConnection, cfg: Config, lines: int, today: dt.date) -> None:
    """Every rule (the module's docstring); _Declined at the first with something to say."""
    limits = cfg.limits
    rows, first, last, most, longest = con.execute(
        "SELECT count(*), min(date), max(date), max(people_cumulative), "
        "greatest(max(strlen(unit_code)), max(strlen(age_band))) FROM direct_rows"
    ).fetchall()[0]
    if rows != lines or first < cfg.campaign_start or last > today or most > limits.max_count:
        raise _Declined
    if longest > limits.max_field_kb * 1024:
        raise _Declined
    # the drop's units, not the store's: a fixed-size drop costs the same whatever the store holds
    units = con.execute(
        "SELECT DISTINCT unit_code, unit_code IN (SELECT unit_code FROM units) FROM direct_rows"
    ).fetchall()
    if any(not known or unicodedata.normalize("NFC", u.strip()) != u for u, known in units):
        raise _Declined
    repeated = f"SELECT 1 FROM direct_rows GROUP BY {', '.join(KEYS)} HAVING count(*) > 1"
    if con.execute(f"SELECT count(*) FROM ({repeated})").fetchall()[0][0]:
        raise _Declined
    _check_series(con)
    _check_labels(con, cfg)
    _check_population(con, cfg)


def _check_series(con: duckdb.DuckDBPyConnection) -> None:
    """No count below the one before it (in the file; for a series' first date, the stored one before it),
    no series with rows enough for a spike, no series reaching back into the dates already stored."""
    said = con.execute(
        f"""
        WITH ordered AS (
            SELECT unit_code, age_band, dose, date, people_cumulative,
                   lag(people_cumulative) OVER (PARTITION BY unit_code, age_band, dose ORDER BY date) AS before
            FROM direct_rows
        ), series AS (
            SELECT unit_code, age_band, dose, count(*) AS n, min(date) AS first_date,
                   arg_min(people_cumulative, date) AS first_value, bool_or(people_cumulative < before) AS down
            FROM ordered GROUP BY unit_code, age_band, dose
        )
        SELECT count(*) FROM series n LEFT JOIN vaccination_series s USING (unit_code, age_band, dose)
        WHERE n.down OR n.n >= {SPIKE_ROWS}
           OR (s.first_date < n.first_date AND (s.last_date >= n.first_date OR s.last_value > n.first_value))
        """
    ).fetchall()[0][0]
    if said:
        raise _Declined


def _check_labels(con: duckdb.DuckDBPyConnection, cfg: Config) -> None:
    """Labels among the configured ones (each its own id), and none of the file's overlapping another
    label of its unit and dose, in the file or stored (tracker.ingest.overlaps warns about a little less
    among the file's own: a finer label beside a coarser one; this path leaves both cases to it)."""
    mask = {label: cfg.label_mask(label) for label in cfg.labels}
    labels = {b for (b,) in con.execute("SELECT DISTINCT age_band FROM direct_rows").fetchall()}
    if any(b not in mask or cfg.resolve_label(b) != b for b in labels):
        raise _Declined
    side_by_side = con.execute(
        """
        WITH f AS (SELECT unit_code, dose, list(DISTINCT age_band ORDER BY age_band) AS labels
                   FROM direct_rows GROUP BY unit_code, dose),
             s AS (SELECT s.unit_code, s.dose, list(s.age_band ORDER BY s.age_band) AS labels
                   FROM vaccination_series s SEMI JOIN f ON s.unit_code = f.unit_code AND s.dose = f.dose
                   GROUP BY s.unit_code, s.dose)
        SELECT DISTINCT f.labels, coalesce(s.labels, []) FROM f LEFT JOIN s USING (unit_code, dose)
        """
    ).fetchall()
    for mine, stored in side_by_side:  # the same labels side by side (most units): one row
        others = [mask.get(b, 0) for b in (*mine, *stored)]
        for a in (mask[b] for b in mine):
            if any(a != b and a & b for b in others):
                raise _Declined


def _check_population(con: duckdb.DuckDBPyConnection, cfg: Config) -> None:
    """No count above the population of its unit and label (the sum of the label's bands, when each is
    stored): the other paths warn above it, and refuse far above it."""
    population: dict[tuple[str, str], int] = {}
    stored = "SELECT unit_code, age_band, population FROM population SEMI JOIN direct_rows USING (unit_code)"
    for unit, band, people in con.execute(stored).fetchall():
        population[(unit, band)] = population.get((unit, band), 0) + people
    highest = con.execute("SELECT unit_code, age_band, max(people_cumulative) FROM direct_rows GROUP BY ALL")
    for unit, label, most in highest.fetchall():
        bands = (label,) if label in cfg.bands else cfg.group(label).bands
        if all((unit, b) in population for b in bands) and most > sum(population[(unit, b)] for b in bands):
            raise _Declined


def _write(con: duckdb.DuckDBPyConnection, digest: str, source: str, uploader: str, rows: int) -> int:
    """The rows and the drop log, as tracker.store.commits.write writes them."""
    drop_id = con.execute("SELECT coalesce(max(id), 0) + 1 FROM drops").fetchall()[0][0]
    store_rows(con, "vaccinations", KEYS, COLUMNS, "direct_rows", drop_id)
    merge_series(con, "direct_rows")
    log_drop(
        con,
        {
            "id": drop_id, "ingested_at": now(), "uploader": str(uploader).strip(), "kind": "vaccinations",
            "source": source, "sha256": digest, "rows": rows, "warnings": 0, "options": None, "sample": False,
        },
    )  # fmt: skip
    return int(drop_id)
