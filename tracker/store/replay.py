"""Rebuilding the database from raw/ (every drop replayed with its read options, every undo in its place),
and `tracker doctor`'s check that the live tables equal such a rebuild."""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
from pathlib import Path

import duckdb

from tracker.config import Config
from tracker.errors import TrackerError
from tracker.ingest import KINDS
from tracker.store import files
from tracker.store.commits import undo_drop, write
from tracker.store.connection import connect, reader_ids, reading, sql_text, transaction
from tracker.store.files import StoreError, db_path, exists, private_files, version
from tracker.store.intake import options_from_json, read_drop
from tracker.store.migrations import create, upgrade
from tracker.store.raw import copy_raw, orphans, raw_path
from tracker.store.schema import LOAD_ORDER, SERIES_OF, UNDONE, VERSION_TABLE

# what rebuild makes again from raw/ (and the version, which a new file starts at: the latest)
REPLAYED = {"drops", "vaccination_series", VERSION_TABLE, *LOAD_ORDER, *(f"{t}_history" for t in LOAD_ORDER)}


def drop_records(store: Path) -> list[dict]:
    """The drop log (after bringing an older store up to date, and a checkpoint)."""
    con = connect(store, read_only=False)
    try:
        with transaction(con):
            upgrade(con, store)
        con.execute("CHECKPOINT")
        cursor = con.execute("SELECT * FROM drops ORDER BY id")
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    finally:
        con.close()


def build(store: Path, cfg: Config, records: list[dict], new: Path) -> None:
    """Write a new database file at ``new``: every drop replayed from raw/ with its read options, each undo
    right after the drop that was newest when it was made, and every other table (meta, users, the
    login log, …) copied as it is."""
    for leftover in (new, new.with_name(new.name + ".wal")):
        leftover.unlink(missing_ok=True)
    con = duckdb.connect(str(new))
    try:
        create(con)
        con.execute(f"ATTACH {sql_text(str(db_path(store)))} AS old (READ_ONLY)")
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
                with transaction(con):
                    undo_drop(con, u["id"], u["undone_by"], u["undone_at"], u["undone_after"])
        con.execute("CHECKPOINT")
    finally:
        con.close()
    private_files(new)


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
    records = drop_records(store)
    token = version(store)
    missing = [f"{r['id']} ({r['source']})" for r in records if not raw_path(store, r["sha256"] or "-").is_file()]
    if missing:
        raise StoreError(f"cannot rebuild: no raw file for drop(s) {', '.join(missing)}")

    new = store / files.REBUILD_NAME
    try:
        build(store, cfg, records, new)
        wal = db_path(store).with_name(files.DB_NAME + ".wal")
        if version(store) != token or wal.exists():
            raise StoreError("the store was written while it was being rebuilt; nothing changed, run it again")
        backup = store / files.BACKUP_NAME
        backup.unlink(missing_ok=True)
        try:
            os.link(db_path(store), backup)
        except OSError:
            shutil.copy2(db_path(store), backup)
        os.replace(new, db_path(store))
        private_files(*files.db_files(store))
        files.fsync_dir(store)
    except BaseException:
        for leftover in (new, new.with_name(files.REBUILD_NAME + ".wal")):
            leftover.unlink(missing_ok=True)
        raise
    return {"drops": len(records), "undone": sum(r["status"] == UNDONE for r in records)}


def check(store: Path, cfg: Config) -> list[str]:
    """What `tracker doctor` reports (empty: all is well): folders and files others can read, orphan or
    missing raw files, and live tables that differ from a rebuild made in a scratch file."""
    store = Path(store)
    if not exists(store):
        return [f"no store at {store}"]
    problems = []
    for path in [store, *sorted(p for p in store.rglob("*"))]:
        mode = stat.S_IMODE(path.stat().st_mode)
        wanted = files.PRIVATE_DIR if path.is_dir() else files.PRIVATE_FILE
        if mode & 0o077:
            problems.append(f"{path}: mode {mode:04o}, readable by others (want {wanted:04o})")
    records = drop_records(store)  # an older store is brought up to date first
    lost = orphans(store)
    if lost:
        size = sum(p.stat().st_size for p in lost)
        problems.append(f"{len(lost)} orphan raw file(s), {size:,} bytes: `tracker gc` removes them")
    missing = [r["id"] for r in records if not raw_path(store, r["sha256"] or "-").is_file()]
    if missing:
        problems.append(f"no raw file for drop(s) {', '.join(map(str, missing))}: the store cannot be rebuilt")
        return problems
    with tempfile.TemporaryDirectory(prefix="tracker-doctor-") as scratch:
        rebuilt = Path(scratch) / files.DB_NAME
        build(store, cfg, records, rebuilt)
        with reading(store) as con:
            live, other = con.execute("SELECT current_database()").fetchall()[0][0], f"rebuilt_{next(reader_ids)}"
            con.execute(f"ATTACH {sql_text(str(rebuilt))} AS {other} (READ_ONLY)")
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
    series = SERIES_OF.format(source=f"{live}.vaccinations")
    differ = con.execute(
        f"SELECT (SELECT count(*) FROM (SELECT * FROM {live}.vaccination_series EXCEPT ALL {series})) + "
        f"(SELECT count(*) FROM ({series} EXCEPT ALL SELECT * FROM {live}.vaccination_series))"
    ).fetchall()[0][0]
    if differ:
        problems.append(f"vaccination_series: {differ} row(s) differ from the reports (`tracker rebuild`)")
    return problems


def _replay(con: duckdb.DuckDBPyConnection, store: Path, cfg: Config, r: dict) -> None:
    options = options_from_json(r["options"])
    with tempfile.TemporaryDirectory(prefix="tracker-rebuild-") as tmp:
        path = Path(tmp) / files.safe_name(r["source"])
        try:
            copy_raw(store, r["sha256"], path)  # the original bytes, from the compressed (or old plain) raw file
        except StoreError as exc:
            raise StoreError(f"cannot rebuild: drop {r['id']} ({r['source']}): {exc}") from None
        try:
            opener = lambda: contextlib.nullcontext(con)  # noqa: E731
            prepared = read_drop(path, r["source"], r["kind"], cfg, options, opener, None, limited=False)
        except TrackerError as exc:
            raise StoreError(f"cannot rebuild: drop {r['id']} ({r['source']}) is no longer accepted: {exc}") from None
    if prepared.sha256 != r["sha256"]:
        raise StoreError(f"cannot rebuild: the raw file of drop {r['id']} does not match its sha256")
    with transaction(con):
        write(con, prepared, {**r, "sample": bool(r["sample"])})
