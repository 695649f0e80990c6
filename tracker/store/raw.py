"""Raw files: every drop's original bytes, kept zstd-compressed under raw/ (what rebuild replays), and the
orphans a killed commit leaves behind."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import zstandard

from tracker.store.connection import reading, writing
from tracker.store.files import PRIVATE_FILE, StoreError, exists, fsync_dir, private_dir
from tracker.store.migrations import DROPS

RAW_DIR = "raw"
# raw files are kept zstd-compressed, as raw/<sha[:2]>/<sha256>.zst (old stores: <sha256>, plain)
RAW_LEVEL = 1  # zstd's fastest level but the negative ones: a 171 MB CSV in 0.19 s of CPU, to 15 MB (level 3: 0.25 s)
RAW_SUFFIX = ".zst"
RAW_CHUNK = 1 << 20  # raw files are copied in pieces of this many bytes: a big drop is never twice in memory


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


class RawReader:
    """A raw file as a binary stream of the drop's original bytes (``read``). A damaged file raises a
    StoreError, not the codec's error; so does a stream whose bytes, once read to the end, do not hash to
    the drop's sha256 (a zstd frame without checksum can decode damaged bytes without complaint)."""

    def __init__(self, path: Path, sha256: str):
        self.path = path
        self.sha256 = sha256
        self._hash = hashlib.sha256()
        self._checked = False
        self._stream = open(path, "rb")  # noqa: SIM115 (closed by close)
        if path.name.endswith(RAW_SUFFIX):  # across frames: any zstd writer may split a stream into several
            self._stream = zstandard.ZstdDecompressor().stream_reader(self._stream, read_across_frames=True)

    def read(self, size: int | None = -1) -> bytes:
        try:
            data = self._stream.read() if size is None or size < 0 else self._read_exactly(size)
        except (OSError, zstandard.ZstdError) as exc:
            raise StoreError(f"the raw file {self.path} is damaged: {exc}") from None
        self._hash.update(data)
        if (not data or size is None or size < 0) and not self._checked:
            self._checked = True
            if self._hash.hexdigest() != self.sha256:
                raise StoreError(f"the raw file {self.path} is damaged: its bytes do not hash to {self.sha256}")
        return data

    def _read_exactly(self, size: int) -> bytes:
        """``size`` bytes, fewer only at the end (zstandard's reader may return less mid-stream)."""
        data = self._stream.read(size)
        while 0 < len(data) < size:
            more = self._stream.read(size - len(data))
            if not more:
                break
            data += more
        return data

    def close(self) -> None:
        with contextlib.suppress(OSError, zstandard.ZstdError):
            self._stream.close()


@contextmanager
def open_raw(store: Path, sha256: str) -> Iterator[RawReader]:
    """A drop's original bytes as a binary stream (``read(size)``), from its raw file, compressed or
    (an old store's) plain. Raises StoreError when there is no raw file or it is damaged."""
    path = raw_path(store, sha256)
    try:
        reader = RawReader(path, sha256)
    except FileNotFoundError:
        raise StoreError(f"no raw file for {sha256} under {Path(store) / RAW_DIR}") from None
    except (OSError, zstandard.ZstdError) as exc:
        raise StoreError(f"cannot open the raw file {path}: {exc}") from None
    try:
        yield reader
    finally:
        reader.close()


def read_raw(store: Path, sha256: str) -> bytes:
    """A drop's original bytes, all in memory (see open_raw to stream them)."""
    with open_raw(store, sha256) as raw:
        return raw.read()


def copy_raw(store: Path, sha256: str, dest: Path) -> None:
    """Write a drop's original bytes to a new private file ``dest``, piece by piece."""
    fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    with os.fdopen(fd, "wb") as out, open_raw(store, sha256) as raw:
        while chunk := raw.read(RAW_CHUNK):
            out.write(chunk)


class Packed:
    """A drop's original bytes zstd-compressed as they are read (Reading.keep), exactly as its raw file holds
    them, in a file without a name (gone with the process) until `RawWrite` keeps it under raw/.

    ``folder``: the store's raw/ folder. Where Linux can (O_TMPFILE), the file is made there unnamed and the
    commit gives it its name (`link_to`) without copying it; else it is an anonymous temporary file of the
    system's, which the commit copies (`copy_to`)."""

    def __init__(self, folder: Path | None = None):
        self.file = _unnamed(folder)
        self.unnamed = self.file is not None
        if self.file is None:
            self.file = tempfile.TemporaryFile()  # noqa: SIM115 (closed by discard)
        packer = zstandard.ZstdCompressor(level=RAW_LEVEL, write_checksum=True)
        self._out = packer.stream_writer(self.file, closefd=False)
        self._open = True

    def write(self, data: bytes) -> None:
        self._out.write(data)

    def finish(self) -> None:
        """End the frame: nothing more is written."""
        if self._open:
            self._out.close()
            self._open = False

    def link_to(self, target: Path) -> bool:
        """Give the unnamed file the name ``target`` (a new name in the same file system) and flush it to disk;
        False when it cannot, and nothing is then created."""
        if not self.unnamed:
            return False
        self.finish()
        self.file.flush()
        try:  # linkat(2) with AT_SYMLINK_FOLLOW: os.link calls it only when given a directory descriptor
            proc = os.open("/proc/self/fd", os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.link(str(self.file.fileno()), target, src_dir_fd=proc, follow_symlinks=True)
            finally:
                os.close(proc)
        except OSError:
            return False
        os.fsync(self.file.fileno())
        return True

    def copy_to(self, fh) -> None:
        self.finish()
        self.file.seek(0)
        shutil.copyfileobj(self.file, fh, RAW_CHUNK)

    def discard(self) -> None:
        with contextlib.suppress(OSError, zstandard.ZstdError):
            self.finish()
        self.file.close()


def _unnamed(folder: Path | None):
    """A private file without a name in ``folder`` (Linux's O_TMPFILE), open for reading and writing; None
    where there is no such folder or the system or its file system cannot."""
    if folder is None or not hasattr(os, "O_TMPFILE") or not Path(folder).is_dir():
        return None
    try:
        fd = os.open(folder, os.O_TMPFILE | os.O_RDWR, PRIVATE_FILE)
    except OSError:
        return None
    os.fchmod(fd, PRIVATE_FILE)  # whatever the umask
    return os.fdopen(fd, "w+b")


class RawWrite:
    """Keep a drop's original bytes under raw/, zstd-compressed (temp name, fsync, rename), in a thread.

    The copy overlaps the database insert; ``wait`` is called before COMMIT. Identical content is
    stored once: an existing file (compressed, or an old store's plain one) is left alone. The bytes
    are compressed piece by piece, so a big file is never twice in memory; a file given by its path
    must still hash to ``sha256``; bytes already compressed as they were read and hashed (`Packed`) are
    copied as they are. ``discard`` removes what this write created.
    """

    def __init__(self, store: Path, sha256: str, data: bytes | Path | Packed):
        self.path = raw_path(store, sha256)  # <sha256>.zst, unless an old store keeps it plain already
        self.sha256 = sha256
        self.data = data
        self.created: list[Path] = []
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="raw-write", daemon=True)

    def start(self) -> RawWrite:
        self.thread.start()
        return self

    def _pack(self, out) -> None:
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

    def _size(self) -> int:
        """The original size, written in the frame's header (-1: unknown)."""
        if isinstance(self.data, bytes | bytearray | memoryview):
            return len(self.data)
        return -1

    def _run(self) -> None:
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            if self.path.is_file():
                return
            for folder in (self.path.parent.parent, self.path.parent):
                if not folder.exists():
                    private_dir(folder)
                    self.created.append(folder)
            if not (isinstance(self.data, Packed) and self.data.link_to(tmp)):  # else written to the temp name
                self._write(tmp)
            os.replace(tmp, self.path)
            self.created.append(self.path)
            for folder in (self.path.parent, self.path.parent.parent, self.path.parent.parent.parent):
                fsync_dir(folder)  # the new name, and any new folder, survive a power cut
        except BaseException as exc:
            self.error = exc
            with contextlib.suppress(OSError):
                tmp.unlink()

    def _write(self, tmp: Path) -> None:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
        keep = os.dup(fd)  # closing the compressed stream closes fd; this one is for fsync
        try:
            with os.fdopen(fd, "wb") as fh:
                os.fchmod(fh.fileno(), PRIVATE_FILE)  # whatever the umask
                if isinstance(self.data, Packed):
                    self.data.copy_to(fh)
                else:
                    packer = zstandard.ZstdCompressor(level=RAW_LEVEL, write_checksum=True)
                    with packer.stream_writer(fh, size=self._size(), closefd=False) as out:
                        self._pack(out)
            os.fsync(keep)
        finally:
            os.close(keep)

    def wait(self) -> None:
        self.thread.join()
        if self.error is not None:
            raise StoreError(f"cannot keep the raw file {self.path}: {self.error}")

    def discard(self) -> None:
        self.thread.join()
        for path in reversed(self.created):
            with contextlib.suppress(OSError):
                path.unlink() if path.is_file() else path.rmdir()


def orphans(store: Path) -> list[Path]:
    """Files under raw/ that no drop names (``<sha256>.zst`` and an old store's plain ``<sha256>`` both
    belong to the drop of that sha256): kept by a commit killed before COMMIT, or half-written."""
    raw = Path(store) / RAW_DIR
    if not raw.is_dir() or not exists(store):
        return []
    with reading(store, since=DROPS) as con:
        known = {r[0] for r in con.execute("SELECT sha256 FROM drops").fetchall() if r[0]}
    return sorted(p for p in raw.glob("*/*") if p.is_file() and raw_sha256(p) not in known)


def gc(store: Path) -> list[tuple[Path, int]]:
    """Remove orphan raw files (see orphans) while holding the store's write lock, so that no commit is
    keeping its raw file at the same time. Returns what was removed, with sizes."""
    with writing(store) as con:
        return remove_orphans(con, Path(store))


def remove_orphans(con: duckdb.DuckDBPyConnection, store: Path) -> list[tuple[Path, int]]:
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
