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
