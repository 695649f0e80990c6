"""The store's folder and files: where the database is, privacy (the store holds health data and password
hashes: its owner only), durable renames, and the version token the dashboard's caches key on."""

from __future__ import annotations

import contextlib
import datetime as dt
import getpass
import os
import stat
from pathlib import Path

from tracker.errors import TrackerError

DB_NAME = "tracker.duckdb"
BACKUP_NAME = DB_NAME + ".bak"
PRIVATE_DIR = 0o700  # the store holds health data and password hashes: its owner only
PRIVATE_FILE = 0o600
REBUILD_NAME = DB_NAME + ".rebuild"


class StoreError(TrackerError):
    """The store cannot be opened or written, or a store operation is refused."""


def db_path(store: Path) -> Path:
    return Path(store) / DB_NAME


def exists(store: Path) -> bool:
    return db_path(store).is_file()


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


def now() -> dt.datetime:
    """Now in UTC, naive (as the TIMESTAMP columns hold it)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def private_dir(path: Path) -> Path:
    """A folder only its owner can enter (0700), whatever the umask: the store holds health data and
    password hashes."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    if stat.S_IMODE(path.stat().st_mode) != PRIVATE_DIR:
        os.chmod(path, PRIVATE_DIR)
    return path


def private_files(*paths: Path) -> None:
    """Files only their owner can read (0600)."""
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            if stat.S_IMODE(path.stat().st_mode) != PRIVATE_FILE:
                os.chmod(path, PRIVATE_FILE)


def db_files(store: Path) -> list[Path]:
    db = db_path(store)
    return [db, db.with_name(DB_NAME + ".wal"), Path(store) / BACKUP_NAME]


def fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def safe_name(filename: str | None) -> str:
    name = str(filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()  # no folders, Windows' either
    return name if name not in ("", ".", "..") else "upload.csv"
