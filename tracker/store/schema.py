"""The database's tables (SCHEMA: the latest layout, in the pieces the schema versions added), and the series
table kept with the vaccination reports. Bringing an older store up to date: tracker.store.migrations."""

from __future__ import annotations

import contextlib

import duckdb

LOAD_ORDER = ("units", "population", "vaccinations", "cases")
ACTIVE, UNDONE = "active", "undone"
DROP_COLUMNS = [
    "id", "ingested_at", "uploader", "kind", "source", "sha256", "rows", "warnings", "status", "undone_at", "undone_by",
]  # fmt: skip
VERSION_TABLE = "schema_version"

# The layout in the pieces its versions added (tracker.store.migrations): a new store runs them all at once, a step
# runs the piece of its version. A later change to one of these tables is a step of its own (ALTER TABLE …) whose
# piece comes last here, so that the earlier pieces stay the layout of their versions.
LIVE_TABLES = """
CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR);
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
"""
DROPS_TABLES = """
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
SERIES_TABLE = """
CREATE TABLE IF NOT EXISTS vaccination_series (
    unit_code VARCHAR NOT NULL, age_band VARCHAR NOT NULL, dose TINYINT NOT NULL,
    first_date DATE NOT NULL, last_date DATE NOT NULL, last_value BIGINT NOT NULL
);
"""
# one row: the version of the layout above that the store is at (DuckDB has no PRAGMA user_version)
VERSION_DDL = f"CREATE TABLE IF NOT EXISTS {VERSION_TABLE} (version INTEGER NOT NULL);"
SCHEMA = LIVE_TABLES + DROPS_TABLES + SERIES_TABLE + VERSION_DDL


def table_names(con: duckdb.DuckDBPyConnection) -> set[str]:
    """The tables of the connection's database (not of others attached beside it)."""
    sql = "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()"
    return {r[0] for r in con.execute(sql).fetchall()}


# vaccination_series: one row per series (unit, age label, dose) with its first and last report date and
# the last cumulative value. Kept in the transactions that change vaccinations, so that a daily drop reads
# what it needs (the value before its dates, the labels a unit reports) from a table of a few thousand rows
# instead of scanning every report: its cost does not grow with the store (docs/performance.md).


SERIES_KEYS = ("unit_code", "age_band", "dose")
SERIES_OF = """
    SELECT unit_code, age_band, dose, min(date) AS first_date, max(date) AS last_date,
           arg_max(people_cumulative, date) AS last_value
    FROM {source} GROUP BY unit_code, age_band, dose
"""


def merge_series(con: duckdb.DuckDBPyConnection, incoming: str, summary: str | None = None) -> None:
    """After ``incoming`` (rows just written to vaccinations) went live: its series' first and last dates
    and last value. A row superseded by ``incoming`` has its key, dates included, so a series' last report
    is the newer of its stored last and the incoming last. ``summary``: those of ``incoming`` already
    computed (a relation with the series table's columns), instead of a GROUP BY of its rows."""
    match = key_match(SERIES_KEYS, "s", "n")
    new = f"SELECT * FROM {summary}" if summary else SERIES_OF.format(source=incoming)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE series_update AS
        WITH n AS ({new})
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


def recount_series(con: duckdb.DuckDBPyConnection, affected: str) -> None:
    """The series in ``affected`` (a temp table of keys) computed again from the live reports (undo)."""
    match = key_match(SERIES_KEYS, "s", "a")
    con.execute(f"DELETE FROM vaccination_series s USING {affected} a WHERE {match}")
    source = f"(SELECT v.* FROM vaccinations v SEMI JOIN {affected} a ON {key_match(SERIES_KEYS, 'v', 'a')})"
    con.execute("INSERT INTO vaccination_series " + SERIES_OF.format(source=source))


def store_rows(
    con: duckdb.DuckDBPyConnection,
    table: str,
    keys: tuple[str, ...],
    columns: tuple[str, ...],
    incoming: str,
    drop_id: int,
) -> None:
    """Write the rows of ``incoming`` (a table or a registered relation with ``columns``) as drop ``drop_id``
    of ``table``, inside the caller's transaction: the live rows with the same keys move to the history
    table first (superseded_by = this drop). A first drop into an empty table writes no history."""
    cols = ", ".join(columns)
    has_rows = con.execute(f"SELECT count(*) > 0 FROM (SELECT 1 FROM {table} LIMIT 1)").fetchall()[0][0]
    if has_rows:
        match = key_match(keys, "t", "i")
        con.execute(
            f"INSERT INTO {history_table(table)} ({cols}, drop_id, superseded_by) "
            f"SELECT {', '.join('t.' + c for c in columns)}, t.drop_id, {int(drop_id)} "
            f"FROM {table} t JOIN {incoming} i ON {match}"
        )
        con.execute(f"DELETE FROM {table} t USING {incoming} i WHERE {match}")
    # rows are found by their keys, never by their place in the table: let DuckDB insert in parallel
    con.execute("SET preserve_insertion_order = false")
    try:
        con.execute(f"INSERT INTO {table} ({cols}, drop_id) SELECT {cols}, {int(drop_id)} FROM {incoming}")
    finally:
        with contextlib.suppress(duckdb.Error):  # after a failed INSERT the transaction is aborted: its error
            con.execute("RESET preserve_insertion_order")  # is the one to raise, not this one's


def log_drop(con: duckdb.DuckDBPyConnection, drop: dict) -> None:
    """The drop log's row of a drop just written (``drop``: the drops columns but status, undone_*)."""
    con.execute(
        """
        INSERT INTO drops (id, ingested_at, uploader, kind, source, sha256, rows, warnings, status, options, sample)
        VALUES ($id, $ingested_at, $uploader, $kind, $source, $sha256, $rows, $warnings, 'active', $options, $sample)
        """,
        drop,
    )


def history_table(table: str) -> str:
    return f"{table}_history"


def key_match(keys: tuple[str, ...], a: str, b: str) -> str:
    return " AND ".join(f"{a}.{k} = {b}.{k}" for k in keys)
