"""Schema versions: the store records the version of its tables' layout, and ordered steps bring an older store
up to the latest.

The version is the one row of ``schema_version`` (DuckDB has no ``PRAGMA user_version``). A store written before
versions were recorded has no such table: its layout tells its version (``layout_version``). A new store is made at
the latest version at once (schema.SCHEMA). Writers run the pending steps, and record the latest version, in one
transaction before anything else (``upgrade``): a step that fails leaves the store as it was. Readers attach the
file read-only and never change it: they read a store whose layout their queries read (``check_readable``) and
refuse the others, saying how to bring them up. A store of a version this tracker does not know (written by a newer
one) is refused by readers and writers alike, and nothing is changed. See docs/data-model.md, "Schema versions".
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb

from tracker.store import schema
from tracker.store.files import StoreError
from tracker.store.schema import VERSION_TABLE, table_names

NONE = 0  # a database file without the store's tables (its first write makes them, at the latest version)
FIRST = 1  # the first store (31e59c0): an ``ingests`` log, ``ingest_id`` columns
DROPS = 2  # the drop log, users and history tables (0e94758)
SERIES = 3  # the series table (8d6382c)

Step = Callable[[duckdb.DuckDBPyConnection], None]


def drops_and_history(con: duckdb.DuckDBPyConnection) -> None:
    """1 -> 2, "Drops with history and undo, raw files kept for rebuild, analyst accounts" (0e94758, 2026-11-29).

    The ``ingests`` log becomes ``drops`` (uploader 'unknown', status 'active'; no raw file was kept for
    them, so such a store cannot be rebuilt) and the live tables' ``ingest_id`` columns become ``drop_id``.
    New: ``users`` and the ``*_history`` tables (empty: nothing was superseded or undone yet).
    """
    con.execute(schema.DROPS_TABLES)
    con.execute(
        """
        INSERT INTO drops (id, ingested_at, uploader, kind, source, sha256, rows, warnings, status, sample)
        SELECT id, ingested_at, 'unknown', kind, source, coalesce(sha256, ''), rows, warnings, 'active', sample
        FROM ingests
        """
    )
    for table in schema.LOAD_ORDER:
        columns = {r[0] for r in con.execute(f"SELECT column_name FROM (DESCRIBE {table})").fetchall()}
        if "ingest_id" in columns:
            con.execute(f"ALTER TABLE {table} RENAME COLUMN ingest_id TO drop_id")
    con.execute("DROP TABLE ingests")


def series_table(con: duckdb.DuckDBPyConnection) -> None:
    """2 -> 3, "Daily drops cost the same on any store: a series table" (8d6382c, 2026-12-01).

    New: ``vaccination_series``, one row per (unit, age label, dose) with its first and last report date and
    last value, filled here from the live ``vaccinations`` (every write keeps it from then on).
    """
    con.execute(schema.SERIES_TABLE)
    con.execute("INSERT INTO vaccination_series " + schema.SERIES_OF.format(source="vaccinations"))


# STEPS[v - FIRST] takes a store from version v to v + 1. A step runs inside the caller's transaction, on a
# store of exactly its version, and makes only what its version changed: the latest layout as a whole is
# schema.SCHEMA, which a new store is made with.
STEPS: tuple[Step, ...] = (drops_and_history, series_table)
LATEST = FIRST + len(STEPS)


def layout_version(tables: set[str]) -> int:
    """The version of a store from before versions were recorded, by the tables it has (each version's writers
    made all of its tables at every write)."""
    if "drops" in tables:
        return SERIES if "vaccination_series" in tables else DROPS
    return FIRST if "ingests" in tables else NONE


def recorded_version(con: duckdb.DuckDBPyConnection, tables: set[str]) -> int | None:
    if VERSION_TABLE not in tables:
        return None
    found = con.execute(f"SELECT max(version) FROM {VERSION_TABLE}").fetchall()[0][0]
    return None if found is None else int(found)


def stored_version(con: duckdb.DuckDBPyConnection) -> int:
    """The store's schema version: recorded, else told by its layout (NONE: not a store yet)."""
    tables = table_names(con)
    found = recorded_version(con, tables)
    return layout_version(tables) if found is None else found


def record(con: duckdb.DuckDBPyConnection, version: int) -> None:
    """The store is at ``version`` now (the one row of the version table)."""
    con.execute(schema.VERSION_DDL)
    con.execute(f"DELETE FROM {VERSION_TABLE}")
    con.execute(f"INSERT INTO {VERSION_TABLE} VALUES (?)", [version])


def create(con: duckdb.DuckDBPyConnection) -> None:
    """The latest layout in a new database (inside the caller's transaction, if any)."""
    con.execute(schema.SCHEMA)
    record(con, LATEST)


def refuse_newer(version: int, where: object) -> None:
    if version > LATEST:
        raise StoreError(
            f"the store {where} was written by a newer tracker (schema version {version}; this one knows versions "
            f"up to {LATEST}): use that tracker or a later one; nothing was changed"
        )


def upgrade(con: duckdb.DuckDBPyConnection, where: object = "") -> int:
    """Inside the caller's transaction, before anything else: bring the store to the latest version (a new
    database: made at it) and record it. Returns the version the store had. Nothing is written when it is at
    the latest already; a store of a newer version is refused (StoreError) before anything is written."""
    tables = table_names(con)
    recorded = recorded_version(con, tables)
    found = layout_version(tables) if recorded is None else recorded
    refuse_newer(found, where)
    if recorded == LATEST:
        return found
    if found == NONE:
        create(con)
        return found
    for step in STEPS[found - FIRST :]:
        step(con)
    record(con, LATEST)
    return found


def read_version(con: duckdb.DuckDBPyConnection) -> int:
    """stored_version for a reader outside a transaction: one query when the version is recorded (every read
    asks it)."""
    try:
        found = con.execute(f"SELECT max(version) FROM {VERSION_TABLE}").fetchall()[0][0]
    except duckdb.CatalogException:  # a store from before versions (autocommit: the connection stays usable)
        found = None
    return layout_version(table_names(con)) if found is None else int(found)


def check_readable(con: duckdb.DuckDBPyConnection, where: object, since: int) -> int:
    """A reader's rule: the store is of a version from ``since`` (the first whose layout the reader's queries
    read as they are) to LATEST. Older: StoreError saying how to bring it up (readers never write); newer:
    StoreError (written by a newer tracker). Returns the version."""
    found = read_version(con)
    refuse_newer(found, where)
    if found < since:
        what = "holds none of the store's tables yet" if found == NONE else f"is at schema version {found}"
        raise StoreError(
            f"the store {where} {what}, older than this tracker reads (version {LATEST}): run `tracker init` or "
            "`tracker doctor` once to bring it up to date (the data stay as they are)"
        )
    return found
