"""What each kind of table holds (Kind, KINDS) and what a read gives back (Prepared)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, TypeAlias

import numpy as np
import pyarrow as pa

from tracker.errors import Problem, ValidationError
from tracker.ingest.options import KIND_NAMES, Message

if TYPE_CHECKING:
    import pandas as pd

MAX_PROBLEMS_PER_CHECK = 200


@dataclass(frozen=True)
class Kind:
    """One kind of input table: its key, its value columns and their types."""

    name: str
    keys: tuple[str, ...]
    columns: dict[str, pa.DataType]
    counts: tuple[str, ...] = ()  # non-negative integer columns
    text: tuple[str, ...] = ()  # text columns, normalised to NFC


STR = pa.string()


KINDS: dict[str, Kind] = {
    "units": Kind(
        "units",
        keys=("unit_code",),
        columns={"unit_code": STR, "unit_name": STR, "unit_type": STR, "lat": pa.float64(), "lon": pa.float64()},
        text=("unit_name", "unit_type"),
    ),
    "population": Kind(
        "population",
        keys=("unit_code", "age_band"),
        columns={"unit_code": STR, "age_band": STR, "population": pa.int64()},
        counts=("population",),
    ),
    "vaccinations": Kind(
        "vaccinations",
        keys=("date", "unit_code", "age_band", "dose"),
        columns={
            "date": pa.date32(),
            "unit_code": STR,
            "age_band": STR,
            "dose": pa.int8(),
            "people_cumulative": pa.int64(),
        },
        counts=("people_cumulative",),
    ),
    "cases": Kind(
        "cases",
        keys=("date", "unit_code"),
        columns={"date": pa.date32(), "unit_code": STR, "community_cases": pa.int64(), "imported_cases": pa.int64()},
        counts=("community_cases", "imported_cases"),
    ),
}
assert tuple(KINDS) == KIND_NAMES, "tracker.ingest.options.KIND_NAMES names the kinds, for the command line"


DAILY_COLUMN = "doses"  # vaccinations given as daily new doses instead of people_cumulative
KnownUnits: TypeAlias = "set[str] | frozenset[str] | dict[str, str] | pd.DataFrame | None"


class Sink(Protocol):
    """Where a file's bytes go as they are read (Reading.keep)."""

    def write(self, data: bytes) -> object: ...

    def finish(self) -> None: ...

    def discard(self) -> None: ...


@dataclass
class Prepared:
    """A validated table ready to be stored, with the warnings found on the way."""

    kind: str
    data: pa.Table | pd.DataFrame  # the rows: Arrow for a canonical file (tracker.ingest.clean), else pandas
    source: str
    sha256: str
    warnings: list[Problem] = field(default_factory=list)
    duplicates_dropped: int = 0
    # what was detected: format, encoding, delimiter, sheet, header_row, layout, measure, columns (source
    # header -> canonical name), ignored headers, read ("fast" or "text")
    detected: dict = field(default_factory=dict)
    rows: np.ndarray | Lines | None = None  # the file row (line or sheet row) of each frame row
    overlapping: int = 0  # rows that overlap age groups already reported for their unit (see overlaps)
    skipped: int = 0  # such rows left out (ReadOptions.overlap = "skip")
    # daily input: each row's running sum within the file, before the stored value it builds on is
    # added; store.commit adds that value again inside its write transaction (see rebase)
    running: np.ndarray | None = None
    # each series' first and last date, last value and largest count in ``data`` (tracker.ingest.series.
    # series_summary), when the reader has it at hand; None: the store and the checks work from the rows.
    # Whatever changes ``data`` after reading sets it to None.
    series: pa.Table | None = None
    # the file's bytes written to a sink as they were read and hashed (Reading.keep: the store's compressed
    # copy for the raw file, tracker.store.raw.Packed); None: the store keeps the file it is given
    kept: Sink | None = None

    @property
    def frame(self) -> pd.DataFrame:
        """The rows as a pandas DataFrame (converted on each call when they are a pyarrow Table)."""
        return _pandas(self.data)

    @frame.setter
    def frame(self, value) -> None:
        self.data = value

    @property
    def table(self) -> pa.Table:
        """The rows as a pyarrow Table, text columns as dictionaries (converted when they are pandas)."""
        if isinstance(self.data, pa.Table):
            return self.data
        return pa.Table.from_pandas(self.data, preserve_index=False)

    def head(self, n: int = 5) -> pd.DataFrame:
        """The first ``n`` rows as a pandas DataFrame (only those are converted)."""
        if isinstance(self.data, pa.Table):
            return _pandas(self.data.slice(0, n))
        return self.data.head(n)

    @property
    def preview(self) -> pd.DataFrame:
        return self.head()


def _pandas(data) -> pd.DataFrame:
    if isinstance(data, pa.Table):  # as the pandas reader gives it: dates as datetime64, text as categories
        return data.to_pandas(date_as_object=False)
    return data


class Lines:
    """The file lines of ``n`` records of one line each, the first on line ``first``: what
    ``np.arange(first, first + n)`` holds, without its n integers. At 25 M rows that array is 100 MB of
    fresh pages, written once and read for the few rows a warning names (docs/performance.md).

    Indexed like that array (a position, a slice, positions or a boolean mask) it gives what the array
    would: numpy integers and arrays. ``np.asarray`` makes the array itself."""

    __slots__ = ("first", "n", "dtype")

    def __init__(self, first: int, n: int):
        self.first, self.n = int(first), int(n)
        self.dtype = np.dtype(np.int32 if first + n < 2**31 else np.int64)

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, key):
        if isinstance(key, slice):
            return np.arange(*key.indices(self.n), dtype=self.dtype) + self.dtype.type(self.first)
        if isinstance(key, int | np.integer):
            if not -self.n <= key < self.n:
                raise IndexError(f"index {key} is out of bounds for {self.n} lines")
            return self.dtype.type(self.first + key % self.n)
        key = np.asarray(key)
        if key.dtype == bool:
            if key.shape != (self.n,):
                raise IndexError(f"a mask of {key.shape} for {self.n} lines")
            key = np.flatnonzero(key)
        elif key.dtype.kind not in "iu":
            raise IndexError(f"lines are indexed by integers or a mask, not {key.dtype}")
        elif len(key) and not (-self.n <= key.min() and key.max() < self.n):
            raise IndexError(f"an index out of bounds for {self.n} lines")
        return (np.where(key < 0, key + self.n, key) + self.first).astype(self.dtype, copy=False)

    def __iter__(self):
        return iter(range(self.first, self.first + self.n))

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        return np.arange(self.first, self.first + self.n, dtype=dtype or self.dtype)

    def __repr__(self) -> str:
        return f"Lines({self.first}, {self.n})"


class Checker:
    """Collects problems from vectorised masks, with the file's row numbers and the file's column names.

    labels: canonical column -> the file's header for it (a string, or one per row for the count of a
    wide file). A cell is reported once: a later check does not report a cell an earlier one did. A
    file row is reported once per check and column, even where a wide file made several rows of it.
    Each check keeps its first MAX_PROBLEMS_PER_CHECK problems and counts the rest (``totals``).
    """

    def __init__(self, rows: np.ndarray | Lines, labels: dict | None = None):
        self.rows = rows  # file row number of each frame row
        self.labels: dict[str, str | np.ndarray] = dict(labels or {})
        self.reported: dict[str, np.ndarray] = {}
        self.problems: list[Problem] = []
        self.totals: dict[tuple[str, str | None], int] = {}  # (check, column label) -> rows found
        self._bad_rows: list[np.ndarray] = []  # file rows with an error

    def label(self, column: str | None, pos: int) -> str | None:
        label = self.labels.get(column, column) if column is not None else None
        return str(label[pos]) if isinstance(label, np.ndarray) else label

    def mask(
        self,
        mask,
        column: str | None,
        message: Message | Callable[[int], Message],
        severity: str = "error",
        check: str | None = None,
    ):
        """Report the rows where ``mask`` holds: ``message`` is (id, values), or gives them for a position."""
        positions = np.flatnonzero(np.asarray(mask, dtype=bool))
        if not len(positions):
            return
        if severity == "error" and column is not None:
            done = self.reported.get(column)
            if done is None:
                done = self.reported[column] = np.zeros(len(self.rows), dtype=bool)
            positions = positions[~done[positions]]
            done[positions] = True
        label = self.labels.get(column, column) if column is not None else None
        positions = positions[
            _first_of_each(self.rows[positions], label[positions] if isinstance(label, np.ndarray) else None)
        ]
        if not len(positions):
            return
        first = message(positions[0]) if callable(message) else message
        kind = check or first[0]
        for pos in positions[:MAX_PROBLEMS_PER_CHECK]:
            code, params = message(pos) if callable(message) else message
            where = self.label(column, pos)
            self.problems.append(Problem(int(self.rows[pos]), where, code, tuple(params.items()), severity, kind))
            self.totals[(kind, where)] = self.totals.get((kind, where), 0) + 1
        if len(positions) > MAX_PROBLEMS_PER_CHECK:  # counted under the first one's column
            key = (kind, self.problems[-1].column)
            self.totals[key] += len(positions) - MAX_PROBLEMS_PER_CHECK
        if severity == "error":
            self._bad_rows.append(self.rows[positions])

    def add(self, problem: Problem) -> None:
        self.problems.append(problem)
        if problem.severity == "error" and problem.row is not None:
            self._bad_rows.append(np.array([problem.row]))

    def keep(self, keep: np.ndarray) -> None:
        """Follow the frame when rows are dropped (a boolean mask) or reordered (positions)."""
        self.rows = self.rows[keep]
        self.labels = {k: (v[keep] if isinstance(v, np.ndarray) else v) for k, v in self.labels.items()}
        self.reported = {k: v[keep] for k, v in self.reported.items()}

    def errored(self) -> np.ndarray:
        """Per frame row: whether one of its cells has an error already (later checks leave it alone)."""
        out = np.zeros(len(self.rows), dtype=bool)
        for done in self.reported.values():
            out |= done
        return out

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    def error(self, source: str) -> ValidationError:
        """Every error found, file order, with each check's true count of rows."""
        rows = np.unique(np.concatenate(self._bad_rows)) if self._bad_rows else np.array([], dtype=np.int64)
        rowless = sum(1 for p in self.errors if p.row is None)
        return ValidationError(source, by_row(self.errors), self.totals, error_rows=len(rows) + rowless)


def _first_of_each(rows: np.ndarray, labels: np.ndarray | None) -> np.ndarray:
    """The positions, in order, of the first occurrence of each file row (and label, one per row)."""
    if labels is not None:
        _, label_codes = np.unique(labels.astype(str), return_inverse=True)
        rows = rows.astype(np.int64) * (int(label_codes.max(initial=0)) + 1) + label_codes
    _, first = np.unique(rows, return_index=True)
    return np.sort(first)


def by_row(problems: list[Problem]) -> list[Problem]:
    """Problems in file order (row, then column as found); those without a row last."""
    return sorted(problems, key=lambda p: (p.row is None, p.row or 0))
