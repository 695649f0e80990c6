"""Connections to the store's database: readers attach it read-only to one in-memory DuckDB of the process
and let go at once; writers get a connection of their own, in one transaction, and wait for a lock
another process or thread holds."""

from __future__ import annotations

import contextlib
import itertools
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from tracker.store.files import StoreError, db_files, db_path, exists, private_dir, private_files
from tracker.store.migrations import FIRST, LATEST, check_readable, read_version, upgrade

LOCK_WAIT_SECONDS = 15


def connect_file(path: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    """A connection of its own to the file (writers, and rebuild); readers use read_file."""
    return waiting(path, lambda: duckdb.connect(str(path), read_only=read_only))


def waiting(path: Path, connect: Callable[[], duckdb.DuckDBPyConnection]) -> duckdb.DuckDBPyConnection:
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
reader_ids = itertools.count(1)  # the aliases of attached files, unique in the process


def sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


@contextmanager
def read_file(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to the file: its tables are the default ones, as with duckdb.connect."""
    global _readers
    with _readers_lock:
        if _readers is None:
            _readers = duckdb.connect(":memory:")
        con = _readers.cursor()
        alias = f"reader_{next(reader_ids)}"

    def attach() -> duckdb.DuckDBPyConnection:
        con.execute(f"ATTACH {sql_text(str(path))} AS {alias} (READ_ONLY)")
        return con

    try:
        waiting(path, attach)
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


def connect(store: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    return connect_file(db_path(store), read_only)


@contextmanager
def reading(store: Path, since: int = FIRST) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to the store, of a schema version from ``since`` (the first whose layout the
    block's queries read as they are) to the latest; else StoreError (migrations.check_readable)."""
    if not exists(store):
        raise StoreError(f"no store at {store}: run `tracker init` first")
    with read_file(db_path(store)) as con:
        check_readable(con, store, since)
        yield con


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


class Outdated(StoreError):
    """A writer that may not upgrade the store found it at another schema version."""


@contextmanager
def writing(store: Path, upgrade_first: bool = True) -> Iterator[duckdb.DuckDBPyConnection]:
    """One transaction: committed when the block ends, rolled back on any error. Before it, in a transaction
    of its own, the store is brought to the latest schema version (migrations.upgrade; a store of a newer
    version is refused). The store's folder and database files are private to their owner (0700, 0600).
    ``upgrade_first`` False: a store at another version is left as it is (Outdated), for a writer that
    may still give up without a trace (tracker.store.direct)."""
    private_dir(store)
    con = connect(store, read_only=False)
    try:
        private_files(*db_files(store))
        if not upgrade_first:
            if read_version(con) != LATEST:
                raise Outdated(f"the store {store} is not at schema version {LATEST}")
        else:
            with transaction(con):  # the schema first, on its own: a crash or a refusal in the write still leaves it
                upgrade(con, store)
        with transaction(con):
            yield con
    finally:
        private_files(*db_files(store))
        con.close()
        private_files(*db_files(store))


def upgrade_store(store: Path) -> None:
    """Bring an existing store to the latest schema version: a write only when it is older (migrations)."""
    with read_file(db_path(store)) as con:
        found = read_version(con)
    if found != LATEST:  # a newer store is refused by the writer, unchanged
        with writing(store):
            pass


@contextmanager
def side_file(store: Path, name: str, write: bool) -> Iterator[duckdb.DuckDBPyConnection]:
    """A small database file of its own in the store folder (the login log): writing it leaves the store's
    version alone, so a login does not make every page reload its figures. Private like the store."""
    path = Path(store) / name
    files = (path, path.with_name(name + ".wal"))
    if not write:
        with read_file(path) as con:
            yield con
        return
    private_dir(store)
    con = connect_file(path, read_only=False)
    try:
        private_files(*files)
        yield con
    finally:
        con.close()
        private_files(*files)
