"""The store: one DuckDB file in the store folder, written only in transactions, and the raw drops.

Public API (the CLI and the dashboard's upload page use only these):

- ``prepare(store, path_or_bytes, kind, cfg, options=None, filename=None) -> PreparedDrop``:
  read and validate a file (a path or its bytes) against the store; writes nothing. Raises
  ``ValidationError`` (every problem, with rows), ``MeasureNeeded`` or another ``InputError``.
- ``commit(store, prepared, uploader, raw_bytes) -> int``: store a prepared drop in ONE
  transaction and return its drop id. ``raw_bytes`` are the file's original bytes (or its path):
  they are kept under ``raw/`` before the transaction commits.
- ``ingest(store, path_or_bytes, kind, cfg, ...)``: both of the above (``dry_run`` validates only).
- ``drops(store) -> DataFrame``: the drop log, one row per drop, oldest first.
- ``undo(store, drop_id, by) -> None``: revert one drop (recorded, not erased), in ONE transaction.
- ``open_dataset(store) -> Dataset`` (the reports stay in the store, asked in SQL), ``load(store)``
  (the same with every report read into pandas), ``version(store) -> str`` (changes after every commit or undo),
  ``init(store, cfg)``, ``rebuild(store, cfg)``.

Every drop is validated completely before the database is opened for writing, so a rejected file
leaves every file of the store byte-for-byte unchanged. The live rows stay in the tables
``units``, ``population``, ``vaccinations`` and ``cases`` (each row with the ``drop_id`` that wrote
it) so reads stay as fast as before; the rows a later drop supersedes, and the rows of an undone
drop, move to ``<table>_history``. Readers open the file read-only and close it at once, so the
dashboard never holds the lock a write needs. See docs/data-model.md.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import getpass
import hashlib
import json
import os
import shutil
import stat
import tempfile
import threading
import time
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

from tracker.config import Config
from tracker.errors import InputError, TrackerError, ValidationError
from tracker.ingest import KINDS, Prepared, ReadOptions, overlaps, population_checks, read_bytes, read_table, rebase
from tracker.reports import Reports

DB_NAME = "tracker.duckdb"
BACKUP_NAME = DB_NAME + ".bak"
PRIVATE_DIR = 0o700  # the store holds health data and password hashes: its owner only
PRIVATE_FILE = 0o600
REBUILD_NAME = DB_NAME + ".rebuild"
RAW_DIR = "raw"
RAW_CODEC = "zstd"  # raw files are kept compressed, as raw/<sha[:2]>/<sha256>.zst (old stores: <sha256>, plain)
RAW_SUFFIX = ".zst"
RAW_CHUNK = 1 << 20  # raw files are copied in pieces of this many bytes: a big drop is never twice in memory
LOCK_WAIT_SECONDS = 15
LOAD_ORDER = ("units", "population", "vaccinations", "cases")
ACTIVE, UNDONE = "active", "undone"
DROP_COLUMNS = [
    "id", "ingested_at", "uploader", "kind", "source", "sha256", "rows", "warnings", "status", "undone_at", "undone_by",
]  # fmt: skip

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE IF NOT EXISTS drops (
    id INTEGER PRIMARY KEY, ingested_at TIMESTAMP NOT NULL, uploader VARCHAR NOT NULL, kind VARCHAR NOT NULL,
    source VARCHAR, sha256 VARCHAR NOT NULL, rows BIGINT NOT NULL, warnings INTEGER NOT NULL,
    status VARCHAR NOT NULL DEFAULT 'active', undone_at TIMESTAMP, undone_by VARCHAR, undone_after INTEGER,
    options VARCHAR, sample BOOLEAN NOT NULL DEFAULT false
);
CREATE TABLE IF NOT EXISTS users (
    name VARCHAR PRIMARY KEY, salt BLOB NOT NULL, hash BLOB NOT NULL, kdf VARCHAR NOT NULL,
    n INTEGER NOT NULL, r INTEGER NOT NULL, p INTEGER NOT NULL, dklen INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL, disabled BOOLEAN NOT NULL DEFAULT false
);
CREATE TABLE IF NOT EXISTS units (
    unit_code VARCHAR PRIMARY KEY, unit_name VARCHAR NOT NULL, unit_type VARCHAR, lat DOUBLE, lon DOUBLE,
    drop_id INTEGER
);
CREATE TABLE IF NOT EXISTS population (
    unit_code VARCHAR NOT NULL, age_band VARCHAR NOT NULL, population BIGINT NOT NULL, drop_id INTEGER,
    PRIMARY KEY (unit_code, age_band)
);
CREATE TABLE IF NOT EXISTS vaccinations (
    date DATE NOT NULL, unit_code VARCHAR NOT NULL, age_band VARCHAR NOT NULL, dose TINYINT NOT NULL,
    people_cumulative BIGINT NOT NULL, drop_id INTEGER
);
CREATE TABLE IF NOT EXISTS cases (
    date DATE NOT NULL, unit_code VARCHAR NOT NULL, community_cases BIGINT NOT NULL,
    imported_cases BIGINT NOT NULL, drop_id INTEGER
);
CREATE TABLE IF NOT EXISTS vaccination_series (
    unit_code VARCHAR NOT NULL, age_band VARCHAR NOT NULL, dose TINYINT NOT NULL,
    first_date DATE NOT NULL, last_date DATE NOT NULL, last_value BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS units_history (
    unit_code VARCHAR NOT NULL, unit_name VARCHAR NOT NULL, unit_type VARCHAR, lat DOUBLE, lon DOUBLE,
    drop_id INTEGER NOT NULL, superseded_by INTEGER
);
CREATE TABLE IF NOT EXISTS population_history (
    unit_code VARCHAR NOT NULL, age_band VARCHAR NOT NULL, population BIGINT NOT NULL,
    drop_id INTEGER NOT NULL, superseded_by INTEGER
);
CREATE TABLE IF NOT EXISTS vaccinations_history (
    date DATE NOT NULL, unit_code VARCHAR NOT NULL, age_band VARCHAR NOT NULL, dose TINYINT NOT NULL,
    people_cumulative BIGINT NOT NULL, drop_id INTEGER NOT NULL, superseded_by INTEGER
);
CREATE TABLE IF NOT EXISTS cases_history (
    date DATE NOT NULL, unit_code VARCHAR NOT NULL, community_cases BIGINT NOT NULL,
    imported_cases BIGINT NOT NULL, drop_id INTEGER NOT NULL, superseded_by INTEGER
);
"""


class StoreError(TrackerError):
    """The store cannot be opened or written, or a store operation is refused."""


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


@dataclass
class PreparedDrop(Prepared):
    """A validated drop (a ``tracker.ingest.Prepared``) plus what ``commit`` records with it."""

    options: ReadOptions | None = None  # how it was read (kept in the drops table, used by rebuild)
    filename: str = ""  # the original file name (without folders)
    drop_id: int | None = None  # set once committed


# --------------------------------------------------------------------------- files and connections


def db_path(store: Path) -> Path:
    return Path(store) / DB_NAME


def exists(store: Path) -> bool:
    return db_path(store).is_file()


def raw_path(store: Path, sha256: str) -> Path:
    """Where a drop's original bytes are kept: raw/<first two hex digits>/<sha256>.zst, zstd-compressed.

    A store from before raw files were compressed keeps them as raw/<xx>/<sha256>, uncompressed: that
    path is returned when only it exists. The sha256 is always that of the original bytes; read them
    with ``open_raw`` or ``read_raw``, which take either kind.
    """
    folder = Path(store) / RAW_DIR / sha256[:2]
    packed = folder / (sha256 + RAW_SUFFIX)
    plain = folder / sha256
    return plain if not packed.is_file() and plain.is_file() else packed


def raw_sha256(path: Path) -> str:
    """The sha256 of the drop a raw file belongs to: its name, less .zst."""
    return Path(path).name.removesuffix(RAW_SUFFIX)


class _RawReader:
    """A raw file as a binary stream of the drop's original bytes (``read``). A damaged file raises a
    StoreError, not pyarrow's error; so does a stream whose bytes, once read to the end, do not hash to
    the drop's sha256 (a zstd frame without checksum can decode damaged bytes without complaint)."""

    def __init__(self, path: Path, sha256: str):
        self.path = path
        self.sha256 = sha256
        self._hash = hashlib.sha256()
        self._checked = False
        if path.name.endswith(RAW_SUFFIX):
            self._stream = pa.CompressedInputStream(str(path), RAW_CODEC)
        else:
            self._stream = open(path, "rb")  # noqa: SIM115 (closed by close)

    def read(self, size: int | None = -1) -> bytes:
        try:
            data = self._stream.read() if size is None or size < 0 else self._stream.read(size)
        except (OSError, pa.ArrowException) as exc:
            raise StoreError(f"the raw file {self.path} is damaged: {exc}") from None
        self._hash.update(data)
        if (not data or size is None or size < 0) and not self._checked:
            self._checked = True
            if self._hash.hexdigest() != self.sha256:
                raise StoreError(f"the raw file {self.path} is damaged: its bytes do not hash to {self.sha256}")
        return data

    def close(self) -> None:
        with contextlib.suppress(OSError, pa.ArrowException):
            self._stream.close()


@contextmanager
def open_raw(store: Path, sha256: str) -> Iterator[_RawReader]:
    """A drop's original bytes as a binary stream (``read(size)``), from its raw file, compressed or
    (an old store's) plain. Raises StoreError when there is no raw file or it is damaged."""
    path = raw_path(store, sha256)
    try:
        reader = _RawReader(path, sha256)
    except FileNotFoundError:
        raise StoreError(f"no raw file for {sha256} under {Path(store) / RAW_DIR}") from None
    except (OSError, pa.ArrowException) as exc:
        raise StoreError(f"cannot open the raw file {path}: {exc}") from None
    try:
        yield reader
    finally:
        reader.close()


def read_raw(store: Path, sha256: str) -> bytes:
    """A drop's original bytes, all in memory (see open_raw to stream them)."""
    with open_raw(store, sha256) as raw:
        return raw.read()


def _copy_raw(store: Path, sha256: str, dest: Path) -> None:
    """Write a drop's original bytes to a new private file ``dest``, piece by piece."""
    fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    with os.fdopen(fd, "wb") as out, open_raw(store, sha256) as raw:
        while chunk := raw.read(RAW_CHUNK):
            out.write(chunk)


def version(store: Path) -> str:
    """A cheap token that changes whenever the store is written (for caches)."""
    parts = []
    for p in (db_path(store), db_path(store).with_name(DB_NAME + ".wal")):
        try:
            st = p.stat()
            parts.append(f"{st.st_mtime_ns}:{st.st_size}:{st.st_ino}")
        except FileNotFoundError:
            parts.append("-")
    return "/".join(parts)


def os_user() -> str:
    """The uploader recorded for the command line: the OS user."""
    try:
        return getpass.getuser()
    except Exception:  # no USER/LOGNAME and no passwd entry (some containers)
        return "unknown"


def _now() -> dt.datetime:
    """Now in UTC, naive (as the TIMESTAMP columns hold it)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _connect_file(path: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    """A connection of its own to the file (writers, and rebuild); readers use _read_file."""
    return _waiting(path, lambda: duckdb.connect(str(path), read_only=read_only))


def _waiting(path: Path, connect: Callable[[], duckdb.DuckDBPyConnection]) -> duckdb.DuckDBPyConnection:
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    while True:
        try:
            return connect()
        except (duckdb.IOException, duckdb.ConnectionException, duckdb.ResourceInUseException) as exc:
            # another process holds the lock, or another thread of this process has the file open the other
            # way (read-only vs read-write: ConnectionException, or ResourceInUse for an attached file): wait
            busy = isinstance(exc, duckdb.ResourceInUseException) or "lock" in str(exc).lower()
            busy = busy or "different configuration" in str(exc)
            if not busy or time.monotonic() > deadline:
                raise StoreError(f"cannot open the store {path}: {exc}") from None
            time.sleep(0.2 if isinstance(exc, duckdb.IOException) else 0.05)


# Readers attach the file to one in-memory DuckDB kept by the process, each under an alias of its own, and
# detach it when done: starting a DuckDB for every question cost 20-40 ms (the dashboard asks dozens per
# page), attaching costs 2-3 ms. Detached at once, so a writer never waits on an idle reader.
_readers: duckdb.DuckDBPyConnection | None = None
_readers_lock = threading.Lock()
_reader_ids = iter(range(1, 1 << 62))


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


@contextmanager
def _read_file(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to the file: its tables are the default ones, as with duckdb.connect."""
    global _readers
    with _readers_lock:
        if _readers is None:
            _readers = duckdb.connect(":memory:")
        con = _readers.cursor()
        alias = f"reader_{next(_reader_ids)}"

    def attach() -> duckdb.DuckDBPyConnection:
        con.execute(f"ATTACH {_sql_text(str(path))} AS {alias} (READ_ONLY)")
        return con

    try:
        _waiting(path, attach)
        try:
            con.execute(f"USE {alias}")
            yield con
        finally:
            with contextlib.suppress(duckdb.Error):  # a failed statement in a transaction blocks the next ones
                con.execute("ROLLBACK")
            con.execute("USE memory")
            con.execute(f"DETACH {alias}")  # else the file stays locked: writers would wait on it
    finally:
        con.close()


def _connect(store: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    return _connect_file(db_path(store), read_only)


@contextmanager
def reading(store: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    if not exists(store):
        raise StoreError(f"no store at {store}: run `tracker init` first")
    with _read_file(db_path(store)) as con:
        yield con


def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    """The tables of the connection's database (not of others attached beside it)."""
    sql = "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()"
    return {r[0] for r in con.execute(sql).fetchall()}


def _migrate(con: duckdb.DuckDBPyConnection) -> None:
    """Bring a store made before drops existed up to date (inside the caller's transaction).

    The old ``ingests`` log becomes ``drops`` (uploader 'unknown', no raw file, so such a store
    cannot be rebuilt) and the ``ingest_id`` columns become ``drop_id``.
    """
    tables = _tables(con)
    if "ingests" not in tables or "drops" in tables:
        return
    con.execute(SCHEMA)
    con.execute(
        """
        INSERT INTO drops (id, ingested_at, uploader, kind, source, sha256, rows, warnings, status, sample)
        SELECT id, ingested_at, 'unknown', kind, source, coalesce(sha256, ''), rows, warnings, 'active', sample
        FROM ingests
        """
    )
    for table in LOAD_ORDER:
        columns = {r[0] for r in con.execute(f"SELECT column_name FROM (DESCRIBE {table})").fetchall()}
        if "ingest_id" in columns:
            con.execute(f"ALTER TABLE {table} RENAME COLUMN ingest_id TO drop_id")
    con.execute("DROP TABLE ingests")


# --------------------------------------------------------------------------- the series table
# vaccination_series: one row per series (unit, age label, dose) with its first and last report date and
# the last cumulative value. Kept in the transactions that change vaccinations, so that a daily drop reads
# what it needs (the value before its dates, the labels a unit reports) from a table of a few thousand rows
# instead of scanning every report: its cost does not grow with the store (docs/performance.md).

_SERIES_KEYS = ("unit_code", "age_band", "dose")
_SERIES_OF = """
    SELECT unit_code, age_band, dose, min(date) AS first_date, max(date) AS last_date,
           arg_max(people_cumulative, date) AS last_value
    FROM {source} GROUP BY unit_code, age_band, dose
"""


def _fill_series(con: duckdb.DuckDBPyConnection) -> None:
    """Stores made before the series table existed: fill it once (inside the caller's transaction)."""
    empty = con.execute(
        "SELECT NOT EXISTS (SELECT 1 FROM vaccination_series) AND EXISTS (SELECT 1 FROM vaccinations)"
    ).fetchall()[0][0]
    if empty:
        con.execute("INSERT INTO vaccination_series " + _SERIES_OF.format(source="vaccinations"))


def _merge_series(con: duckdb.DuckDBPyConnection, incoming: str) -> None:
    """After ``incoming`` (rows just written to vaccinations) went live: its series' first and last dates
    and last value. A row superseded by ``incoming`` has its key, dates included, so a series' last report
    is the newer of its stored last and the incoming last."""
    match = _match(_SERIES_KEYS, "s", "n")
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE series_update AS
        WITH n AS ({_SERIES_OF.format(source=incoming)})
        SELECT n.unit_code, n.age_band, n.dose,
               coalesce(least(s.first_date, n.first_date), n.first_date) AS first_date,
               CASE WHEN s.last_date IS NULL OR n.last_date >= s.last_date THEN n.last_date ELSE s.last_date END
                   AS last_date,
               CASE WHEN s.last_date IS NULL OR n.last_date >= s.last_date THEN n.last_value ELSE s.last_value END
                   AS last_value
        FROM n LEFT JOIN vaccination_series s ON {match}
        """
    )
    try:
        con.execute(f"DELETE FROM vaccination_series s USING series_update n WHERE {match}")
        con.execute("INSERT INTO vaccination_series SELECT * FROM series_update")
    finally:
        con.execute("DROP TABLE IF EXISTS temp.series_update")


def _recount_series(con: duckdb.DuckDBPyConnection, affected: str) -> None:
    """The series in ``affected`` (a temp table of keys) computed again from the live reports (undo)."""
    match = _match(_SERIES_KEYS, "s", "a")
    con.execute(f"DELETE FROM vaccination_series s USING {affected} a WHERE {match}")
    source = f"(SELECT v.* FROM vaccinations v SEMI JOIN {affected} a ON {_match(_SERIES_KEYS, 'v', 'a')})"
    con.execute("INSERT INTO vaccination_series " + _SERIES_OF.format(source=source))


@contextmanager
def _transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


@contextmanager
def writing(store: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """One transaction: committed when the block ends, rolled back on any error. The store's folder and
    database files are private to their owner (0700, 0600)."""
    private_dir(store)
    con = _connect(store, read_only=False)
    try:
        _private_files(*_db_files(store))
        with _transaction(con):  # the schema first, on its own: a crash in the write still leaves it
            _migrate(con)
            con.execute(SCHEMA)
            _fill_series(con)
        with _transaction(con):
            yield con
    finally:
        _private_files(*_db_files(store))
        con.close()
        _private_files(*_db_files(store))


def private_dir(path: Path) -> Path:
    """A folder only its owner can enter (0700), whatever the umask: the store holds health data and
    password hashes."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    if stat.S_IMODE(path.stat().st_mode) != PRIVATE_DIR:
        os.chmod(path, PRIVATE_DIR)
    return path


def _private_files(*paths: Path) -> None:
    """Files only their owner can read (0600)."""
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            if stat.S_IMODE(path.stat().st_mode) != PRIVATE_FILE:
                os.chmod(path, PRIVATE_FILE)


def _db_files(store: Path) -> list[Path]:
    db = db_path(store)
    return [db, db.with_name(DB_NAME + ".wal"), Path(store) / BACKUP_NAME]


@contextmanager
def side_file(store: Path, name: str, write: bool) -> Iterator[duckdb.DuckDBPyConnection]:
    """A small database file of its own in the store folder (the login log): writing it leaves the store's
    version alone, so a login does not make every page reload its figures. Private like the store."""
    path = Path(store) / name
    files = (path, path.with_name(name + ".wal"))
    if not write:
        with _read_file(path) as con:
            yield con
        return
    private_dir(store)
    con = _connect_file(path, read_only=False)
    try:
        _private_files(*files)
        yield con
    finally:
        con.close()
        _private_files(*files)


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class _RawWrite:
    """Keep a drop's original bytes under raw/, zstd-compressed (temp name, fsync, rename), in a thread.

    The copy overlaps the database insert; ``wait`` is called before COMMIT. Identical content is
    stored once: an existing file (compressed, or an old store's plain one) is left alone. The bytes
    are compressed piece by piece, so a big file is never twice in memory; a file given by its path
    must still hash to ``sha256``. ``discard`` removes what this write created.
    """

    def __init__(self, store: Path, sha256: str, data: bytes | Path):
        self.path = raw_path(store, sha256)  # <sha256>.zst, unless an old store keeps it plain already
        self.sha256 = sha256
        self.data = data
        self.created: list[Path] = []
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="raw-write", daemon=True)

    def start(self) -> _RawWrite:
        self.thread.start()
        return self

    def _pack(self, out: pa.NativeFile) -> None:
        if isinstance(self.data, bytes | bytearray | memoryview):  # hashed by _raw_source already
            view = memoryview(self.data)
            for start in range(0, len(view), RAW_CHUNK):
                out.write(view[start : start + RAW_CHUNK])
            return
        digest = hashlib.sha256()
        with open(self.data, "rb") as src:
            while chunk := src.read(RAW_CHUNK):
                digest.update(chunk)
                out.write(chunk)
        if digest.hexdigest() != self.sha256:
            raise StoreError(f"{self.data} changed since it was checked; check the file again")

    def _run(self) -> None:
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            if self.path.is_file():
                return
            for folder in (self.path.parent.parent, self.path.parent):
                if not folder.exists():
                    private_dir(folder)
                    self.created.append(folder)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
            keep = os.dup(fd)  # closing the compressed stream closes fd; this one is for fsync
            try:
                with os.fdopen(fd, "wb") as fh:
                    os.fchmod(fh.fileno(), PRIVATE_FILE)  # whatever the umask
                    with pa.CompressedOutputStream(fh, RAW_CODEC) as out:
                        self._pack(out)
                os.fsync(keep)
            finally:
                os.close(keep)
            os.replace(tmp, self.path)
            self.created.append(self.path)
            for folder in (self.path.parent, self.path.parent.parent, self.path.parent.parent.parent):
                _fsync_dir(folder)  # the new name, and any new folder, survive a power cut
        except BaseException as exc:
            self.error = exc
            with contextlib.suppress(OSError):
                tmp.unlink()

    def wait(self) -> None:
        self.thread.join()
        if self.error is not None:
            raise StoreError(f"cannot keep the raw file {self.path}: {self.error}")

    def discard(self) -> None:
        self.thread.join()
        for path in reversed(self.created):
            with contextlib.suppress(OSError):
                path.unlink() if path.is_file() else path.rmdir()


# --------------------------------------------------------------------------- reading a drop


def _options_json(options: ReadOptions | None) -> str | None:
    if options is None or options == ReadOptions():
        return None
    return json.dumps(dataclasses.asdict(options), ensure_ascii=False, sort_keys=True)


def _options_from_json(text: str | None) -> ReadOptions | None:
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


def _units_frame(opener: Opener | None) -> pd.DataFrame:
    """The stored units (unit_code, unit_name); empty without a store."""
    if opener is None:
        return pd.DataFrame({"unit_code": pd.Series(dtype=str), "unit_name": pd.Series(dtype=str)})
    with opener() as con:
        rows = con.execute("SELECT unit_code, unit_name FROM units ORDER BY unit_code").fetchall()
    return pd.DataFrame(rows, columns=["unit_code", "unit_name"], dtype=object)


def known_units(store: Path) -> set[str]:
    if not exists(store):
        return set()
    return set(_units_frame(lambda: reading(store))["unit_code"].astype(str))


# A report to rebase on is looked for this far before the drop's first date before all dates are scanned.
_STORED_BEFORE_WINDOW = 62


def _stored_before(opener: Opener | None):
    """For daily input: the stored cumulative value on the day before each series' first date.

    A series whose last stored report is before that date (a new day: the usual drop) has it in the
    series table; the others (a correction of past days) look in the reports of the few weeks before,
    and only what is not found there in all of them."""

    def lookup(starts: pd.DataFrame) -> pd.DataFrame | None:
        if opener is None:
            return None
        with opener() as con:
            con.register("starts", starts.astype({"unit_code": "string", "age_band": "string"}))
            try:
                return _lookup_before(con)
            finally:
                con.unregister("starts")

    return lookup


def _lookup_before(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    scan = """
        SELECT s.unit_code, s.age_band, s.dose, arg_max(v.people_cumulative, v.date) AS people_cumulative
        FROM {starts} s JOIN vaccinations v
          ON v.unit_code = s.unit_code AND v.age_band = s.age_band AND v.dose = s.dose AND v.date < s.date {window}
        GROUP BY ALL
    """
    if "vaccination_series" not in _tables(con):  # a store no writer has opened since the table came
        return con.execute(scan.format(starts="starts", window="")).df()
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE stored_before AS
        SELECT s.unit_code, s.age_band, s.dose, s.date, vs.first_date, vs.last_date, vs.last_value
        FROM starts s JOIN vaccination_series vs USING (unit_code, age_band, dose)
        WHERE vs.first_date < s.date
        """
    )
    try:
        parts = [
            con.execute(
                "SELECT unit_code, age_band, dose, last_value AS people_cumulative FROM stored_before "
                "WHERE last_date < date"
            ).df()
        ]
        past = "(SELECT * FROM stored_before WHERE last_date >= date)"
        lowest = con.execute(f"SELECT min(date) FROM {past}").fetchall()[0][0]
        if lowest is not None:
            since = lowest - dt.timedelta(days=_STORED_BEFORE_WINDOW)
            near = con.execute(scan.format(starts=past, window=f"AND v.date >= DATE '{since}'")).df()
            parts.append(near)
            rest = (
                f"(SELECT p.* FROM {past} p ANTI JOIN near n "
                "ON p.unit_code = n.unit_code AND p.age_band = n.age_band AND p.dose = n.dose)"
            )
            con.register("near", near)
            try:
                parts.append(con.execute(scan.format(starts=rest, window="")).df())
            finally:
                con.unregister("near")
        found = [p for p in parts if not p.empty]
        return pd.concat(found, ignore_index=True) if found else parts[0]
    finally:
        con.execute("DROP TABLE IF EXISTS temp.stored_before")


def _read(
    source: Path | bytes,
    filename: str,
    kind: str,
    cfg: Config,
    options: ReadOptions | None,
    opener: Opener | None,
    today: dt.date | None,
    limited: bool = True,
) -> Prepared:
    """read_table (a path) or read_bytes (an upload) against the store state that `opener` gives.

    The stored units go as a frame (unit_code, unit_name), so that rows may name a unit. ``limited``:
    the upload limits of the configuration apply (not when rebuild replays a drop accepted once).
    """
    units = None if kind == "units" else _units_frame(opener)
    base = _stored_before(opener)
    kw = {"today": today, "base": base, "options": options, "limited": limited}
    if isinstance(source, bytes | bytearray | memoryview):
        prepared = read_bytes(bytes(source), filename, kind, cfg, units, **kw)
    else:
        prepared = read_table(source, kind, cfg, units, **kw)
    if kind == "vaccinations":
        _check_overlaps(prepared, units, cfg, options, opener)
    if kind == "vaccinations" and opener is not None:  # reports above the stored population
        with opener() as con:
            population = con.execute("SELECT unit_code, age_band, population FROM population").df()
        found, absurd = population_checks(prepared.frame, population, cfg, prepared.rows)
        errors = [p for p in found if p.severity == "error"]
        if errors and limited:
            raise ValidationError(prepared.source, errors, {(errors[0].kind, errors[0].column): absurd})
        prepared.warnings.extend(p for p in found if p.severity == "warning")
    return prepared


def _check_overlaps(prepared: Prepared, units: pd.DataFrame, cfg: Config, options, opener: Opener | None) -> None:
    """Warn about reports overlapping age groups already reported for their unit (ingest.overlaps), and
    skip them when the options say so; otherwise ``prepared.overlapping`` makes ``commit`` refuse the file."""
    if opener is None:
        stored = pd.DataFrame({"unit_code": [], "age_band": [], "dose": []})
    else:
        with opener() as con:
            source = "vaccination_series" if "vaccination_series" in _tables(con) else "vaccinations"
            stored = con.execute(f"SELECT DISTINCT unit_code, age_band, dose FROM {source}").df()
    names = dict(zip(units["unit_code"].astype(str), units["unit_name"].astype(str), strict=True))
    header = {canonical: src for src, canonical in (prepared.detected.get("columns") or {}).items()}
    found, bad = overlaps(prepared.frame, stored, cfg, prepared.rows, names, header.get("age_band", "age_band"))
    prepared.warnings.extend(found)
    if not bad.any():
        return
    if options is not None and options.overlap == "skip":
        keep = ~bad
        prepared.frame = prepared.frame[keep].reset_index(drop=True)
        prepared.rows = prepared.rows[keep] if prepared.rows is not None else None
        prepared.running = prepared.running[keep] if prepared.running is not None else None
        prepared.skipped = int(bad.sum())
    else:
        prepared.overlapping = int(bad.sum())


def check_storable(prepared: Prepared) -> None:
    """InputError when a prepared drop must not be stored as it is: rows overlapping reported age groups
    (unless skipped), or nothing left after skipping them."""
    units = sorted({str(dict(w.params).get("unit")) for w in prepared.warnings if w.kind == "overlap"})
    if prepared.overlapping:
        raise InputError(code="overlap.refused", source=prepared.source, rows=prepared.overlapping, units=units)
    if prepared.skipped and prepared.frame.empty:
        raise InputError(code="overlap.nothing_left", source=prepared.source)


def _as_drop(prepared: Prepared, options: ReadOptions | None, filename: str) -> PreparedDrop:
    values = {f.name: getattr(prepared, f.name) for f in dataclasses.fields(prepared) if f.init}
    values.update(options=options, filename=filename, drop_id=None)
    return PreparedDrop(**values)


def _safe_name(filename: str | None) -> str:
    name = str(filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()  # no folders, Windows' either
    return name if name not in ("", ".", "..") else "upload.csv"


def prepare(
    store: Path,
    path_or_bytes: Path | str | bytes,
    kind: str,
    cfg: Config,
    options: ReadOptions | None = None,
    filename: str | None = None,
    today: dt.date | None = None,
) -> PreparedDrop:
    """Read and validate a file (a path, or the bytes of an upload) against the store; write nothing.

    ``filename`` names an upload in messages and in the drop log (default: the path's name).
    Raises ValidationError (all problems, by row), MeasureNeeded, or InputError.
    """
    if isinstance(path_or_bytes, bytes | bytearray | memoryview):
        source, name = path_or_bytes, _safe_name(filename)
    else:
        source = Path(path_or_bytes)
        name = _safe_name(filename or source.name)
    if not exists(store):
        return _as_drop(_read(source, name, kind, cfg, options, None, today), options, name)
    with reading(store) as con:  # one read-only connection for every question the checks ask
        prepared = _read(source, name, kind, cfg, options, lambda: contextlib.nullcontext(con), today)
    return _as_drop(prepared, options, name)


# --------------------------------------------------------------------------- writing a drop


def _history(table: str) -> str:
    return f"{table}_history"


def _match(keys: tuple[str, ...], a: str, b: str) -> str:
    return " AND ".join(f"{a}.{k} = {b}.{k}" for k in keys)


def _write(con: duckdb.DuckDBPyConnection, prepared: Prepared, record: dict) -> int:
    """Store one prepared table inside the caller's transaction; returns the drop id.

    Daily input is first rebased on the stored values as they are inside this transaction (another
    drop may have been committed since the file was read): ingest.rebase.

    Live rows with the same keys move to the history table (superseded_by = this drop). A first
    drop into an empty table writes no history. ``record`` holds the drops columns to write
    (uploader, source, options, sample; id and ingested_at when replaying).
    """
    spec = KINDS[prepared.kind]
    drop_id = record.get("id") or con.execute("SELECT coalesce(max(id), 0) + 1 FROM drops").fetchall()[0][0]
    if getattr(prepared, "running", None) is not None:
        stored_before = _stored_before(lambda: contextlib.nullcontext(con))
        prepared.frame = rebase(prepared.frame, prepared.running, stored_before)
    frame = prepared.frame
    columns = list(spec.columns)
    arrow = pa.Table.from_pandas(frame[columns], preserve_index=False)
    # text columns may stay dictionaries (pandas categories): DuckDB reads them as text, and decoding
    # millions of values here would cost as much again
    arrow = arrow.cast(
        pa.schema(
            [
                pa.field(c, arrow.schema.field(c).type)
                if pa.types.is_dictionary(arrow.schema.field(c).type) and spec.columns[c] == pa.string()
                else pa.field(c, spec.columns[c])
                for c in columns
            ]
        )
    )
    con.register("incoming", arrow)
    table, cols = prepared.kind, ", ".join(columns)
    try:
        has_rows = con.execute(f"SELECT count(*) > 0 FROM (SELECT 1 FROM {table} LIMIT 1)").fetchall()[0][0]
        if has_rows:
            match = _match(spec.keys, "t", "i")
            con.execute(
                f"INSERT INTO {_history(table)} ({cols}, drop_id, superseded_by) "
                f"SELECT {', '.join('t.' + c for c in columns)}, t.drop_id, {int(drop_id)} "
                f"FROM {table} t JOIN incoming i ON {match}"
            )
            con.execute(f"DELETE FROM {table} t USING incoming i WHERE {match}")
        # rows are found by their keys, never by their place in the table: let DuckDB insert in parallel
        con.execute("SET preserve_insertion_order = false")
        try:
            con.execute(f"INSERT INTO {table} ({cols}, drop_id) SELECT {cols}, {int(drop_id)} FROM incoming")
        finally:
            con.execute("RESET preserve_insertion_order")
        if table == "vaccinations":
            _merge_series(con, "incoming")
    finally:
        con.unregister("incoming")
    con.execute(
        """
        INSERT INTO drops (id, ingested_at, uploader, kind, source, sha256, rows, warnings, status, options, sample)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'active', ?, ?)
        """,
        [
            drop_id,
            record.get("ingested_at") or _now(),
            record["uploader"],
            prepared.kind,
            record.get("source") or os.path.basename(prepared.source),
            prepared.sha256,
            len(frame),
            len(prepared.warnings),
            record.get("options"),
            bool(record.get("sample", False)),
        ],
    )
    return int(drop_id)


def _record(prepared: Prepared, uploader: str, sample: bool = False) -> dict:
    return {
        "uploader": uploader,
        "source": getattr(prepared, "filename", "") or os.path.basename(prepared.source),
        "options": _options_json(getattr(prepared, "options", None)),
        "sample": sample,
    }


def _raw_source(raw_bytes: bytes | Path | str, sha256: str) -> bytes | Path:
    if isinstance(raw_bytes, bytes | bytearray | memoryview):
        if hashlib.sha256(raw_bytes).hexdigest() != sha256:
            raise StoreError("the bytes to keep are not those of the file that was checked; check the file again")
        return bytes(raw_bytes)
    return Path(raw_bytes)


def commit(store: Path, prepared: Prepared, uploader: str, raw_bytes: bytes | Path | str) -> int:
    """Store a prepared drop in one transaction; return its drop id.

    ``raw_bytes``: the file's original bytes (or its path), kept zstd-compressed as
    raw/<sha[:2]>/<sha256>.zst before the transaction commits. ``uploader``: who dropped it (the
    logged-in analyst, or the OS user).
    """
    if getattr(prepared, "drop_id", None) is not None:
        raise StoreError(f"this file is already stored, as drop {prepared.drop_id}")
    if not str(uploader or "").strip():
        raise InputError("a drop needs an uploader")
    check_storable(prepared)
    data = _raw_source(raw_bytes, prepared.sha256)
    raw = None
    try:
        with writing(store) as con:
            _remove_orphans(con, Path(store))  # what killed commits left behind; this one's raw file comes next
            raw = _RawWrite(Path(store), prepared.sha256, data).start()
            drop_id = _write(con, prepared, _record(prepared, str(uploader).strip()))
            raw.wait()
    except BaseException:
        if raw is not None:
            raw.discard()
        raise
    if isinstance(prepared, PreparedDrop):
        prepared.drop_id = drop_id
    return drop_id


def ingest(
    store: Path,
    path_or_bytes: Path | str | bytes,
    kind: str,
    cfg: Config,
    dry_run: bool = False,
    options: ReadOptions | None = None,
    filename: str | None = None,
    uploader: str | None = None,
) -> PreparedDrop:
    """Validate a file, then (unless dry_run) store it as one drop; ``.drop_id`` tells which."""
    prepared = prepare(store, path_or_bytes, kind, cfg, options=options, filename=filename)
    if not dry_run:
        commit(store, prepared, uploader or os_user(), path_or_bytes)
    return prepared


# --------------------------------------------------------------------------- undo


def _undo(con: duckdb.DuckDBPyConnection, drop_id: int, by: str, at: dt.datetime, after: int) -> None:
    """Revert one drop inside the caller's transaction (see docs/data-model.md, "Undo").

    Live rows of the drop move to history (superseded_by NULL); where it was live, the active row
    it had superseded comes back; where a later drop E had already superseded it, the active row
    it had superseded is re-pointed to E, so that undoing E later brings that row back.
    """
    kind = con.execute("SELECT kind FROM drops WHERE id = ?", [drop_id]).fetchall()[0][0]
    spec = KINDS[kind]
    table, hist = kind, _history(kind)
    columns = list(spec.columns)
    cols = ", ".join(columns)
    keys = ", ".join(f"h.{k}" for k in spec.keys)
    active = f"(SELECT id FROM drops WHERE status = '{ACTIVE}')"
    d = int(drop_id)
    con.execute(
        "UPDATE drops SET status = ?, undone_at = ?, undone_by = ?, undone_after = ? WHERE id = ?",
        [UNDONE, at, by, after, d],
    )
    con.execute("DROP TABLE IF EXISTS temp.undo_restore")
    con.execute(
        f"""
        CREATE TEMP TABLE undo_restore AS
        SELECT {", ".join("h." + c for c in columns)}, h.drop_id
        FROM {hist} h JOIN {table} t ON {_match(spec.keys, "h", "t")}
        WHERE t.drop_id = {d} AND h.superseded_by = {d} AND h.drop_id IN {active}
        QUALIFY row_number() OVER (PARTITION BY {keys} ORDER BY h.drop_id DESC) = 1
        """
    )
    if kind == "vaccinations":  # the series this drop wrote, computed again once it is undone
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE undo_series AS
            SELECT DISTINCT {", ".join(_SERIES_KEYS)} FROM {table} WHERE drop_id = {d}
            UNION SELECT DISTINCT {", ".join(_SERIES_KEYS)} FROM {hist} WHERE drop_id = {d}
            """
        )
    try:
        if kind == "units":
            _refuse_orphans(con, d)
        con.execute(
            f"INSERT INTO {hist} ({cols}, drop_id, superseded_by) SELECT {cols}, drop_id, NULL FROM {table} "
            f"WHERE drop_id = {d}"
        )
        con.execute(f"DELETE FROM {table} WHERE drop_id = {d}")
        con.execute(
            f"DELETE FROM {hist} h USING undo_restore r WHERE {_match(spec.keys, 'h', 'r')} AND h.drop_id = r.drop_id"
        )
        con.execute(f"INSERT INTO {table} ({cols}, drop_id) SELECT {cols}, drop_id FROM undo_restore")
        con.execute(
            f"""
            UPDATE {hist} SET superseded_by = d.superseded_by FROM {hist} AS d
            WHERE d.drop_id = {d} AND d.superseded_by IS NOT NULL AND {hist}.superseded_by = {d}
              AND {_match(spec.keys, hist, "d")} AND {hist}.drop_id IN {active}
            """
        )
        if kind == "vaccinations":
            _recount_series(con, "undo_series")
    finally:
        con.execute("DROP TABLE IF EXISTS temp.undo_restore")
        con.execute("DROP TABLE IF EXISTS temp.undo_series")


def _refuse_orphans(con: duckdb.DuckDBPyConnection, drop_id: int) -> None:
    """Undoing a units drop must not leave stored figures pointing at a unit that no longer exists."""
    uses = " OR ".join(f"unit_code IN (SELECT unit_code FROM {t})" for t in LOAD_ORDER[1:])
    orphans = [
        r[0]
        for r in con.execute(
            f"""
            SELECT unit_code FROM units
            WHERE drop_id = {drop_id} AND unit_code NOT IN (SELECT unit_code FROM undo_restore) AND ({uses})
            ORDER BY unit_code
            """
        ).fetchall()
    ]
    if orphans:
        raise StoreError(
            f"drop {drop_id} added units that stored figures still refer to ({', '.join(orphans[:20])}); "
            "undo the drops with those figures first"
        )


def undo(store: Path, drop_id: int, by: str) -> None:
    """Revert one drop, in one transaction; the drop stays in the log with status 'undone'.

    Raises StoreError for an unknown or already undone drop (nothing changes then).
    """
    if not str(by or "").strip():
        raise InputError("an undo needs the name of who does it")
    if not exists(store):
        raise StoreError(f"no store at {store}: run `tracker init` first")
    with writing(store) as con:
        found = con.execute("SELECT status, undone_at, undone_by FROM drops WHERE id = ?", [int(drop_id)]).fetchall()
        if not found:
            raise StoreError(f"there is no drop {drop_id} (`tracker drops` lists them)")
        status, undone_at, undone_by = found[0]
        if status == UNDONE:
            raise StoreError(f"drop {drop_id} was already undone ({undone_at:%Y-%m-%d %H:%M} UTC by {undone_by})")
        after = con.execute("SELECT max(id) FROM drops").fetchall()[0][0]
        _undo(con, int(drop_id), str(by).strip(), _now(), after)


# --------------------------------------------------------------------------- the log


def drops(store: Path) -> pd.DataFrame:
    """The drop log, oldest first: id, ingested_at (UTC), uploader, kind, source, sha256, rows,
    warnings, status ('active' or 'undone'), undone_at (UTC), undone_by. Empty without a store."""
    if not exists(store):
        return pd.DataFrame({c: pd.Series(dtype=object) for c in DROP_COLUMNS})
    with reading(store) as con:
        if "drops" in _tables(con):
            return con.execute(f"SELECT {', '.join(DROP_COLUMNS)} FROM drops ORDER BY id").df()
        return con.execute(  # a store from before drops, not yet migrated (it is at the next write)
            """
            SELECT id, ingested_at, 'unknown' AS uploader, kind, source, sha256, rows, warnings,
                   'active' AS status, NULL::TIMESTAMP AS undone_at, NULL::VARCHAR AS undone_by
            FROM ingests ORDER BY id
            """
        ).df()


def first_drops(store: Path, pairs: pd.DataFrame) -> pd.DataFrame:
    """For each (unit_code, dose, age_band) of ``pairs``: the first active drop whose live vaccination
    rows carry that label, with its source file, uploader and time. Columns: unit_code, dose, age_band,
    drop_id, source, uploader, ingested_at (labels no live row carries are left out)."""
    columns = ["unit_code", "dose", "age_band", "drop_id", "source", "uploader", "ingested_at"]
    if pairs.empty or not exists(store):
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    wanted = pairs[["unit_code", "dose", "age_band"]].astype({"unit_code": str, "dose": "int64", "age_band": str})
    with reading(store) as con:
        con.register("wanted", wanted)
        try:
            return con.execute(
                """
                SELECT w.unit_code, w.dose, w.age_band, d.id AS drop_id, d.source, d.uploader, d.ingested_at
                FROM (SELECT v.unit_code, v.dose, v.age_band, min(v.drop_id) AS first
                      FROM vaccinations v JOIN wanted w USING (unit_code, dose, age_band)
                      GROUP BY ALL) w
                JOIN drops d ON d.id = w.first
                ORDER BY w.unit_code, w.dose, d.id
                """
            ).df()
        finally:
            con.unregister("wanted")


def ingests(store: Path) -> pd.DataFrame:
    """Former name of ``drops``."""
    return drops(store)


# --------------------------------------------------------------------------- init, load


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
    with reading(store) as con:
        tables = _tables(con)
        log = "drops" if "drops" in tables else "ingests" if "ingests" in tables else None
        if log and con.execute(f"SELECT count(*) FROM {log}").fetchall()[0][0]:
            return False
        if not set(LOAD_ORDER) <= tables:
            return True
        return not any(con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in LOAD_ORDER)


def init(store: Path, cfg: Config, data_dir: Path | None = None, uploader: str | None = None) -> bool:
    """Fill an empty store from data/ in one transaction (four drops, raw files kept).

    Returns False when the store already holds drops.
    """
    data_dir = Path(data_dir or cfg.data_dir)
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
        p = _as_drop(read_table(path, kind, cfg, None if kind == "units" else units), None, path.name)
        if kind == "units":
            units = p.frame[["unit_code", "unit_name"]].astype(str)
        prepared.append(p)
    who = uploader or os_user()
    written: list[_RawWrite] = []
    try:
        with writing(store) as con:
            for p in prepared:
                raw = _RawWrite(Path(store), p.sha256, data_dir / f"{p.kind}.csv").start()
                written.append(raw)
                p.drop_id = _write(con, p, _record(p, who, sample=sample))
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
    with reading(store) as con:
        units = _frame(
            con, "SELECT unit_code, unit_name, unit_type, lat, lon FROM units ORDER BY unit_code", codes=False
        )
        population = _frame(con, "SELECT unit_code, age_band, population FROM population")
        log = "drops WHERE status = 'active'" if "drops" in _tables(con) else "ingests"
        sample = bool(con.execute(f"SELECT coalesce(bool_or(sample), false) FROM {log}").fetchall()[0][0])
        meta = dict(con.execute("SELECT key, value FROM meta").fetchall())

    def cases() -> pd.DataFrame:
        with reading(store) as con:
            return _frame(con, _CASES_SQL)

    return Dataset(units, population, None, cases, sample=sample, version=ver, extra=meta, reports=Reports(store=store))


# --------------------------------------------------------------------------- rebuild


# what rebuild makes again from raw/
REPLAYED = {"drops", "vaccination_series", *LOAD_ORDER, *(f"{t}_history" for t in LOAD_ORDER)}


def _records(store: Path) -> list[dict]:
    """The drop log (after bringing an old store up to date, and a checkpoint)."""
    con = _connect(store, read_only=False)
    try:
        with _transaction(con):
            _migrate(con)
            con.execute(SCHEMA)
            _fill_series(con)
        con.execute("CHECKPOINT")
        cursor = con.execute("SELECT * FROM drops ORDER BY id")
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    finally:
        con.close()


def _build(store: Path, cfg: Config, records: list[dict], new: Path) -> None:
    """Write a new database file at ``new``: every drop replayed from raw/ with its read options, each undo
    right after the drop that was newest when it was made, and every other table (meta, users, the
    login log, …) copied as it is."""
    for leftover in (new, new.with_name(new.name + ".wal")):
        leftover.unlink(missing_ok=True)
    con = duckdb.connect(str(new))
    try:
        con.execute(SCHEMA)
        con.execute(f"ATTACH '{db_path(store)}' AS old (READ_ONLY)")
        kept = [r[0] for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = 'old'"
        ).fetchall() if r[0] not in REPLAYED]  # fmt: skip
        mine = {r[0] for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()"
        ).fetchall()}  # fmt: skip
        for table in kept:
            if table in mine:
                con.execute(f"INSERT INTO main.{table} SELECT * FROM old.{table}")
            else:
                con.execute(f"CREATE TABLE main.{table} AS SELECT * FROM old.{table}")
        con.execute("DETACH old")
        undos = sorted(
            (r for r in records if r["status"] == UNDONE),
            key=lambda r: (r["undone_after"] or 0, r["undone_at"], r["id"]),
        )
        for r in records:
            _replay(con, store, cfg, r)
            for u in (u for u in undos if (u["undone_after"] or 0) == r["id"]):
                with _transaction(con):
                    _undo(con, u["id"], u["undone_by"], u["undone_at"], u["undone_after"])
        con.execute("CHECKPOINT")
    finally:
        con.close()
    _private_files(new)


def rebuild(store: Path, cfg: Config) -> dict:
    """Recreate the database from the raw drops; the old file is kept as tracker.duckdb.bak.

    Replays every drop (active and undone) in id order from raw/ with its read options, and each
    undo right after the drop that was newest when it was made, into a new file; then replaces the
    database with it atomically. Other tables (users, the login log, meta) are copied. Nothing
    changes when a raw file is missing or a drop no longer passes validation. Returns
    {"drops": n, "undone": m}.
    """
    store = Path(store)
    if not exists(store):
        raise StoreError(f"no store at {store}: run `tracker init` first")
    records = _records(store)
    token = version(store)
    missing = [f"{r['id']} ({r['source']})" for r in records if not raw_path(store, r["sha256"] or "-").is_file()]
    if missing:
        raise StoreError(f"cannot rebuild: no raw file for drop(s) {', '.join(missing)}")

    new = store / REBUILD_NAME
    try:
        _build(store, cfg, records, new)
        wal = db_path(store).with_name(DB_NAME + ".wal")
        if version(store) != token or wal.exists():
            raise StoreError("the store was written while it was being rebuilt; nothing changed, run it again")
        backup = store / BACKUP_NAME
        backup.unlink(missing_ok=True)
        try:
            os.link(db_path(store), backup)
        except OSError:
            shutil.copy2(db_path(store), backup)
        os.replace(new, db_path(store))
        _private_files(*_db_files(store))
        _fsync_dir(store)
    except BaseException:
        for leftover in (new, new.with_name(REBUILD_NAME + ".wal")):
            leftover.unlink(missing_ok=True)
        raise
    return {"drops": len(records), "undone": sum(r["status"] == UNDONE for r in records)}


# --------------------------------------------------------------------------- housekeeping: orphans, checks


def orphans(store: Path) -> list[Path]:
    """Files under raw/ that no drop names (``<sha256>.zst`` and an old store's plain ``<sha256>`` both
    belong to the drop of that sha256): kept by a commit killed before COMMIT, or half-written."""
    raw = Path(store) / RAW_DIR
    if not raw.is_dir() or not exists(store):
        return []
    with reading(store) as con:
        known = {r[0] for r in con.execute("SELECT sha256 FROM drops").fetchall() if r[0]}
    return sorted(p for p in raw.glob("*/*") if p.is_file() and raw_sha256(p) not in known)


def gc(store: Path) -> list[tuple[Path, int]]:
    """Remove orphan raw files (see orphans) while holding the store's write lock, so that no commit is
    keeping its raw file at the same time. Returns what was removed, with sizes."""
    with writing(store) as con:
        return _remove_orphans(con, Path(store))


def _remove_orphans(con: duckdb.DuckDBPyConnection, store: Path) -> list[tuple[Path, int]]:
    """Inside a write transaction (only its holder writes raw files): unlink files no drop names."""
    raw = store / RAW_DIR
    if not raw.is_dir():
        return []
    known = {r[0] for r in con.execute("SELECT sha256 FROM drops").fetchall() if r[0]}
    removed = []
    for path in sorted(raw.glob("*/*")):
        if path.is_file() and raw_sha256(path) not in known:
            with contextlib.suppress(OSError):
                size = path.stat().st_size
                path.unlink()
                removed.append((path, size))
    return removed


def check(store: Path, cfg: Config) -> list[str]:
    """What `tracker doctor` reports (empty: all is well): folders and files others can read, orphan or
    missing raw files, and live tables that differ from a rebuild made in a scratch file."""
    store = Path(store)
    if not exists(store):
        return [f"no store at {store}"]
    problems = []
    for path in [store, *sorted(p for p in store.rglob("*"))]:
        mode = stat.S_IMODE(path.stat().st_mode)
        wanted = PRIVATE_DIR if path.is_dir() else PRIVATE_FILE
        if mode & 0o077:
            problems.append(f"{path}: mode {mode:04o}, readable by others (want {wanted:04o})")
    lost = orphans(store)
    if lost:
        size = sum(p.stat().st_size for p in lost)
        problems.append(f"{len(lost)} orphan raw file(s), {size:,} bytes: `tracker gc` removes them")
    records = _records(store)
    missing = [r["id"] for r in records if not raw_path(store, r["sha256"] or "-").is_file()]
    if missing:
        problems.append(f"no raw file for drop(s) {', '.join(map(str, missing))}: the store cannot be rebuilt")
        return problems
    with tempfile.TemporaryDirectory(prefix="tracker-doctor-") as scratch:
        rebuilt = Path(scratch) / DB_NAME
        _build(store, cfg, records, rebuilt)
        with reading(store) as con:
            live, other = con.execute("SELECT current_database()").fetchall()[0][0], f"rebuilt_{next(_reader_ids)}"
            con.execute(f"ATTACH {_sql_text(str(rebuilt))} AS {other} (READ_ONLY)")
            try:
                problems += _differences(con, live, other)
            finally:
                con.execute(f"DETACH {other}")
    return problems


def _differences(con: duckdb.DuckDBPyConnection, live: str, other: str) -> list[str]:
    """How the live tables (database `live`) differ from a rebuild (database `other`), both attached to `con`."""
    problems = []
    for table in LOAD_ORDER:
        cols = ", ".join(KINDS[table].columns)
        differ = con.execute(
            f"SELECT (SELECT count(*) FROM (SELECT {cols} FROM {live}.{table} EXCEPT ALL "
            f"SELECT {cols} FROM {other}.{table})) + (SELECT count(*) FROM (SELECT {cols} FROM "
            f"{other}.{table} EXCEPT ALL SELECT {cols} FROM {live}.{table}))"
        ).fetchall()[0][0]
        if differ:
            problems.append(f"{table}: {differ} row(s) differ from a rebuild from raw/ (`tracker rebuild`)")
    series = _SERIES_OF.format(source=f"{live}.vaccinations")
    differ = con.execute(
        f"SELECT (SELECT count(*) FROM (SELECT * FROM {live}.vaccination_series EXCEPT ALL {series})) + "
        f"(SELECT count(*) FROM ({series} EXCEPT ALL SELECT * FROM {live}.vaccination_series))"
    ).fetchall()[0][0]
    if differ:
        problems.append(f"vaccination_series: {differ} row(s) differ from the reports (`tracker rebuild`)")
    return problems


def _replay(con: duckdb.DuckDBPyConnection, store: Path, cfg: Config, r: dict) -> None:
    options = _options_from_json(r["options"])
    with tempfile.TemporaryDirectory(prefix="tracker-rebuild-") as tmp:
        path = Path(tmp) / _safe_name(r["source"])
        try:
            _copy_raw(store, r["sha256"], path)  # the original bytes, from the compressed (or old plain) raw file
        except StoreError as exc:
            raise StoreError(f"cannot rebuild: drop {r['id']} ({r['source']}): {exc}") from None
        try:
            opener = lambda: contextlib.nullcontext(con)  # noqa: E731
            prepared = _read(path, r["source"], r["kind"], cfg, options, opener, None, limited=False)
        except TrackerError as exc:
            raise StoreError(f"cannot rebuild: drop {r['id']} ({r['source']}) is no longer accepted: {exc}") from None
    if prepared.sha256 != r["sha256"]:
        raise StoreError(f"cannot rebuild: the raw file of drop {r['id']} does not match its sha256")
    with _transaction(con):
        _write(con, prepared, {**r, "sample": bool(r["sample"])})
