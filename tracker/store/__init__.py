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
leaves every file of the store byte-for-byte unchanged (a daily drop that ``direct`` checks inside the
write transaction is rolled back before anything is written when there is anything to say). The live
rows stay in the tables ``units``, ``population``, ``vaccinations`` and ``cases`` (each row with the
``drop_id`` that wrote it) so reads stay as fast as before; the rows a later drop supersedes, and the
rows of an undone drop, move to ``<table>_history``. Readers open the file read-only and close it at once, so the
dashboard never holds the lock a write needs. See docs/data-model.md.

The modules, each of one job: ``files`` (the folder, privacy, the version token), ``schema`` (the
tables, the series table), ``migrations`` (schema versions: the steps that bring an older store up
to date, what readers accept), ``connection`` (readers, writers, locks), ``raw`` (the kept original
bytes and their orphans), ``intake`` (reading a drop against the store), ``commits`` (committing,
undoing, the drop log), ``direct`` (a daily drop with nothing to say, checked and stored in DuckDB
alone), ``dataset`` (the store as a Dataset, filling it from data/) and ``replay`` (rebuild and
doctor). Everything a caller needs is named here, and imported when first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tracker.lazy import lazy_exports

if TYPE_CHECKING:  # for type checkers and editors: the names below, imported at once
    from tracker.store.commits import commit, drops, first_drops, ingest, ingests, undo
    from tracker.store.connection import LOCK_WAIT_SECONDS, reading, side_file, writing
    from tracker.store.dataset import Dataset, init, is_empty, load, open_dataset
    from tracker.store.export import series_csv
    from tracker.store.files import (
        BACKUP_NAME,
        DB_NAME,
        PRIVATE_DIR,
        PRIVATE_FILE,
        REBUILD_NAME,
        StoreError,
        db_path,
        exists,
        os_user,
        private_dir,
        version,
    )  # fmt: skip
    from tracker.store.intake import PreparedDrop, check_storable, known_units, prepare
    from tracker.store.raw import RAW_DIR, RAW_SUFFIX, gc, open_raw, orphans, raw_path, raw_sha256, read_raw
    from tracker.store.replay import check, rebuild
    from tracker.store.schema import DROP_COLUMNS, LOAD_ORDER

# Every name a caller needs, by the module that defines it, imported when first asked for (PEP 562): a command
# that only reads the store (connection, files, migrations, schema) then does not load pandas and pyarrow with
# the modules that write it, and `tracker report` starts in half the time (docs/performance.md).
_EXPORTS = {
    "commits": ("commit", "drops", "first_drops", "ingest", "ingests", "undo"),
    "connection": ("LOCK_WAIT_SECONDS", "reading", "side_file", "writing"),
    "dataset": ("Dataset", "init", "is_empty", "load", "open_dataset"),
    "export": ("series_csv",),
    "files": (
        "BACKUP_NAME", "DB_NAME", "PRIVATE_DIR", "PRIVATE_FILE", "REBUILD_NAME", "StoreError", "db_path", "exists",
        "os_user", "private_dir", "version",
    ),
    "intake": ("PreparedDrop", "check_storable", "known_units", "prepare"),
    "raw": ("RAW_DIR", "RAW_SUFFIX", "gc", "open_raw", "orphans", "raw_path", "raw_sha256", "read_raw"),
    "replay": ("check", "rebuild"),
    "schema": ("DROP_COLUMNS", "LOAD_ORDER"),
}  # fmt: skip
__getattr__, __dir__ = lazy_exports(globals(), _EXPORTS)

__all__ = [
    "BACKUP_NAME", "DB_NAME", "DROP_COLUMNS", "LOAD_ORDER", "LOCK_WAIT_SECONDS", "PRIVATE_DIR", "PRIVATE_FILE",
    "RAW_DIR", "RAW_SUFFIX", "REBUILD_NAME", "Dataset", "PreparedDrop", "StoreError", "check", "check_storable",
    "commit", "db_path", "drops", "exists", "first_drops", "gc", "ingest", "ingests", "init", "is_empty",
    "known_units", "load", "open_dataset", "open_raw", "orphans", "os_user", "prepare", "private_dir", "raw_path",
    "raw_sha256", "read_raw", "rebuild", "reading", "series_csv", "side_file", "undo", "version", "writing",
]  # fmt: skip
