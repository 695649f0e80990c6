"""Writing drops: a prepared drop committed in one transaction (its raw file kept before COMMIT), an undo,
and the drop log."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa

from tracker.config import Config
from tracker.errors import InputError
from tracker.ingest import KINDS, Prepared, ReadOptions
from tracker.store.connection import reading, writing
from tracker.store.files import StoreError, exists, now, os_user
from tracker.store.intake import PreparedDrop, check_storable, options_json, prepare, stored_before
from tracker.store.migrations import DROPS

if TYPE_CHECKING:
    import pandas as pd
from tracker.store.raw import RawWrite, remove_orphans
from tracker.store.schema import (
    ACTIVE,
    DROP_COLUMNS,
    LOAD_ORDER,
    SERIES_KEYS,
    UNDONE,
    history_table,
    key_match,
    log_drop,
    merge_series,
    recount_series,
    store_rows,
)  # fmt: skip


def write(con: duckdb.DuckDBPyConnection, prepared: Prepared, record: dict) -> int:
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
        from tracker.ingest.checks import rebase  # daily input: read the general way, with pandas

        base = stored_before(lambda: contextlib.nullcontext(con))
        prepared.frame = rebase(prepared.frame, prepared.running, base)
    columns = list(spec.columns)
    arrow = prepared.table.select(columns)
    # text columns may stay dictionaries (Arrow's, or pandas categories): DuckDB reads them as text, and
    # decoding millions of values here would cost as much again
    schema = pa.schema(
        [
            pa.field(c, arrow.schema.field(c).type)
            if pa.types.is_dictionary(arrow.schema.field(c).type) and spec.columns[c] == pa.string()
            else pa.field(c, spec.columns[c])
            for c in columns
        ]
    )
    if not arrow.schema.equals(schema):  # a canonical file's table has its types already (a cast would
        arrow = arrow.cast(schema)  # import pyarrow.compute: 25 ms of a daily drop's 0.3 s)
    summary = getattr(prepared, "series", None)
    con.register("incoming", arrow)
    if summary is not None:
        con.register("incoming_series", summary)
    try:
        store_rows(con, prepared.kind, spec.keys, tuple(columns), "incoming", drop_id)
        if prepared.kind == "vaccinations":
            merge_series(con, "incoming", "incoming_series" if summary is not None else None)
    finally:
        con.unregister("incoming")
        if summary is not None:
            con.unregister("incoming_series")
    log_drop(
        con,
        {
            "id": drop_id,
            "ingested_at": record.get("ingested_at") or now(),
            "uploader": record["uploader"],
            "kind": prepared.kind,
            "source": record.get("source") or os.path.basename(prepared.source),
            "sha256": prepared.sha256,
            "rows": arrow.num_rows,
            "warnings": len(prepared.warnings),
            "options": record.get("options"),
            "sample": bool(record.get("sample", False)),
        },
    )
    return int(drop_id)


def record(prepared: Prepared, uploader: str, sample: bool = False) -> dict:
    return {
        "uploader": uploader,
        "source": getattr(prepared, "filename", "") or os.path.basename(prepared.source),
        "options": options_json(getattr(prepared, "options", None)),
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
    raw/<sha[:2]>/<sha256>.zst before the transaction commits; a drop prepared with ``keep_raw`` keeps
    the copy made as the file was read instead. ``uploader``: who dropped it (the
    logged-in analyst, or the OS user).
    """
    if getattr(prepared, "drop_id", None) is not None:
        raise StoreError(f"this file is already stored, as drop {prepared.drop_id}")
    if not str(uploader or "").strip():
        raise InputError("a drop needs an uploader")
    check_storable(prepared)
    kept = getattr(prepared, "kept", None)  # compressed as it was read and hashed: those very bytes are kept
    data = kept if kept is not None else _raw_source(raw_bytes, prepared.sha256)
    raw = None
    try:
        with writing(store) as con:
            remove_orphans(con, Path(store))  # what killed commits left behind; this one's raw file comes next
            raw = RawWrite(Path(store), prepared.sha256, data).start()
            drop_id = write(con, prepared, record(prepared, str(uploader).strip()))
            raw.wait()
    except BaseException:
        if raw is not None:
            raw.discard()
        raise
    if kept is not None:  # the raw file holds it now
        kept.discard()
        prepared.kept = None
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
    prepared = prepare(store, path_or_bytes, kind, cfg, options=options, filename=filename, keep_raw=not dry_run)
    if not dry_run:
        commit(store, prepared, uploader or os_user(), path_or_bytes)
    return prepared


def undo_drop(con: duckdb.DuckDBPyConnection, drop_id: int, by: str, at: dt.datetime, after: int) -> None:
    """Revert one drop inside the caller's transaction (see docs/data-model.md, "Undo").

    Live rows of the drop move to history (superseded_by NULL); where it was live, the active row
    it had superseded comes back; where a later drop E had already superseded it, the active row
    it had superseded is re-pointed to E, so that undoing E later brings that row back.
    """
    kind = con.execute("SELECT kind FROM drops WHERE id = ?", [drop_id]).fetchall()[0][0]
    spec = KINDS[kind]
    table, hist = kind, history_table(kind)
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
        FROM {hist} h JOIN {table} t ON {key_match(spec.keys, "h", "t")}
        WHERE t.drop_id = {d} AND h.superseded_by = {d} AND h.drop_id IN {active}
        QUALIFY row_number() OVER (PARTITION BY {keys} ORDER BY h.drop_id DESC) = 1
        """
    )
    if kind == "vaccinations":  # the series this drop wrote, computed again once it is undone
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE undo_series AS
            SELECT DISTINCT {", ".join(SERIES_KEYS)} FROM {table} WHERE drop_id = {d}
            UNION SELECT DISTINCT {", ".join(SERIES_KEYS)} FROM {hist} WHERE drop_id = {d}
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
            f"DELETE FROM {hist} h USING undo_restore r "
            f"WHERE {key_match(spec.keys, 'h', 'r')} AND h.drop_id = r.drop_id"
        )
        con.execute(f"INSERT INTO {table} ({cols}, drop_id) SELECT {cols}, drop_id FROM undo_restore")
        con.execute(
            f"""
            UPDATE {hist} SET superseded_by = d.superseded_by FROM {hist} AS d
            WHERE d.drop_id = {d} AND d.superseded_by IS NOT NULL AND {hist}.superseded_by = {d}
              AND {key_match(spec.keys, hist, "d")} AND {hist}.drop_id IN {active}
            """
        )
        if kind == "vaccinations":
            recount_series(con, "undo_series")
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
        undo_drop(con, int(drop_id), str(by).strip(), now(), after)


def drops(store: Path) -> pd.DataFrame:
    """The drop log, oldest first: id, ingested_at (UTC), uploader, kind, source, sha256, rows,
    warnings, status ('active' or 'undone'), undone_at (UTC), undone_by. Empty without a store."""
    if not exists(store):
        return _empty(DROP_COLUMNS)
    with reading(store, since=DROPS) as con:
        return con.execute(f"SELECT {', '.join(DROP_COLUMNS)} FROM drops ORDER BY id").df()


def first_drops(store: Path, pairs: pd.DataFrame) -> pd.DataFrame:
    """For each (unit_code, dose, age_band) of ``pairs``: the first active drop whose live vaccination
    rows carry that label, with its source file, uploader and time. Columns: unit_code, dose, age_band,
    drop_id, source, uploader, ingested_at (labels no live row carries are left out)."""
    columns = ["unit_code", "dose", "age_band", "drop_id", "source", "uploader", "ingested_at"]
    if pairs.empty or not exists(store):
        return _empty(columns)
    wanted = pairs[["unit_code", "dose", "age_band"]].astype({"unit_code": str, "dose": "int64", "age_band": str})
    with reading(store, since=DROPS) as con:
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


def _empty(columns: list[str]) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
