"""The input: a file on disk or an upload's bytes, its sha256, and the line numbers of its records."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa


def sha256_of(path: Path) -> str:
    return _scan(path)[0]


def _scan(path: Path) -> tuple[str, bool]:
    """The file's sha256, and whether it holds a double quote (then a value may span lines)."""
    h = hashlib.sha256()
    quoted = False
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
            quoted = quoted or b'"' in chunk
    return h.hexdigest(), quoted


def record_lines(data: bytes, n: int) -> np.ndarray:
    """The line on which each of the n records after the header starts, when quoted values may hold
    line breaks: a line break is inside quotes when an odd number of quotes precede it."""
    raw = np.frombuffer(data, dtype=np.uint8)
    quotes = np.flatnonzero(raw == ord('"'))
    breaks = np.flatnonzero(raw == ord("\n"))
    inside = np.searchsorted(quotes, breaks) % 2 == 1
    ends = np.flatnonzero(~inside)  # the line breaks that end a record (the header's first)
    return ends[:n] + 2


class Tee:
    """A file on disk read once, by pyarrow's CSV reader (which calls ``read`` for each block): its bytes
    hashed, looked through for double quotes, and handed to ``sink`` (``write``; the store's compressed copy
    for the raw file) as they pass. What is checked, hashed and kept are then the same bytes, read once."""

    def __init__(self, path: Path, sink=None):
        self._file = path.open("rb")
        self._hash = hashlib.sha256()
        self.quoted = False
        self.sink = sink
        self.closed = False

    def read(self, size: int = -1) -> bytes:
        data = self._file.read(size)
        self._hash.update(data)
        self.quoted = self.quoted or b'"' in data
        if self.sink is not None:
            self.sink.write(data)
        return data

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def writable(self) -> bool:
        return False

    def finish(self) -> str:
        """The sha256 of the whole file (what the reader left unread is read here)."""
        while self.read(1 << 20):
            pass
        self.close()
        return self._hash.hexdigest()

    def close(self) -> None:
        self._file.close()
        self.closed = True


@dataclass
class Input:
    """A file on disk or an upload in memory."""

    name: str
    path: Path | None = None
    data: bytes | None = None

    @property
    def size(self) -> int:
        return len(self.data) if self.data is not None else self.path.stat().st_size

    def head(self, n: int) -> bytes:
        if self.data is not None:
            return self.data[:n]
        with self.path.open("rb") as fh:
            return fh.read(n)

    def read(self) -> bytes:
        return self.data if self.data is not None else self.path.read_bytes()

    def scan(self) -> tuple[str, bool]:
        """sha256, and whether there is a double quote anywhere."""
        if self.data is not None:
            return hashlib.sha256(self.data).hexdigest(), b'"' in self.data
        return _scan(self.path)

    def arrow_source(self):
        return pa.BufferReader(self.data) if self.data is not None else self.path
