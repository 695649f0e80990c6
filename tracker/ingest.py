"""Reading and validating input tables before anything is written to the store.

One ingest path for `tracker ingest` and the upload page: `read_table` (a file) and `read_bytes`
(an upload in memory). A canonical CSV (UTF-8, commas, canonical headers) is read on a fast path:
pyarrow's multithreaded CSV reader with the canonical column types. Anything else — other encodings,
delimiters, .xlsx workbooks, Vietnamese or English headers, one column per dose, local date and number
formats, unit names — or a canonical file whose values do not all parse, is read as text by
`tracker.readers` and every column is parsed value by value, so that each problem can be reported with
its row (the file's line number or the sheet's row number, header = row 1) and column (the file's own
header), all at once. Nothing here touches the store.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import re
import unicodedata
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from tracker import readers
from tracker.config import Config
from tracker.errors import InputError, Problem, ValidationError
from tracker.i18n import Both, Term
from tracker.readers import AgeResolver, ReadOptions, UnitResolver

__all__ = ["KINDS", "Kind", "Prepared", "ReadOptions", "coverage_warnings", "read_bytes", "read_table"]

MAX_PROBLEMS_PER_CHECK = 200
SPIKE_FACTOR = 5  # a day's new doses above SPIKE_FACTOR × the series' 7-day average is warned about
SPIKE_WINDOW = 7
SPIKE_MIN_DOSES = 50  # … and at least this many: 2 doses after a week of 0.3 a day is not worth a warning


@dataclass(frozen=True)
class Kind:
    """One kind of input table: its key, its value columns and their types."""

    name: str
    keys: tuple[str, ...]
    columns: dict[str, pa.DataType]
    counts: tuple[str, ...] = ()  # non-negative integer columns
    text: tuple[str, ...] = ()  # text columns, normalised to NFC


_STR = pa.string()
KINDS: dict[str, Kind] = {
    "units": Kind(
        "units",
        keys=("unit_code",),
        columns={"unit_code": _STR, "unit_name": _STR, "unit_type": _STR, "lat": pa.float64(), "lon": pa.float64()},
        text=("unit_name", "unit_type"),
    ),
    "population": Kind(
        "population",
        keys=("unit_code", "age_band"),
        columns={"unit_code": _STR, "age_band": _STR, "population": pa.int64()},
        counts=("population",),
    ),
    "vaccinations": Kind(
        "vaccinations",
        keys=("date", "unit_code", "age_band", "dose"),
        columns={
            "date": pa.date32(),
            "unit_code": _STR,
            "age_band": _STR,
            "dose": pa.int8(),
            "people_cumulative": pa.int64(),
        },
        counts=("people_cumulative",),
    ),
    "cases": Kind(
        "cases",
        keys=("date", "unit_code"),
        columns={"date": pa.date32(), "unit_code": _STR, "community_cases": pa.int64(), "imported_cases": pa.int64()},
        counts=("community_cases", "imported_cases"),
    ),
}
DAILY_COLUMN = "doses"  # vaccinations given as daily new doses instead of people_cumulative
KnownUnits = set[str] | frozenset[str] | pd.DataFrame | None


@dataclass
class Prepared:
    """A validated table ready to be stored, with the warnings found on the way."""

    kind: str
    frame: pd.DataFrame
    source: str
    sha256: str
    warnings: list[Problem] = field(default_factory=list)
    duplicates_dropped: int = 0
    # what was detected: format, encoding, delimiter, sheet, header_row, layout, measure, columns (source
    # header -> canonical name), ignored headers, read ("fast" or "text")
    detected: dict = field(default_factory=dict)
    rows: np.ndarray | None = None  # the file row (line or sheet row) of each frame row
    overlapping: int = 0  # rows that overlap age groups already reported for their unit (see overlaps)
    skipped: int = 0  # such rows left out (ReadOptions.overlap = "skip")
    # daily input: each row's running sum within the file, before the stored value it builds on is
    # added; store.commit adds that value again inside its write transaction (see rebase)
    running: np.ndarray | None = None

    @property
    def preview(self) -> pd.DataFrame:
        return self.frame.head()


Message = tuple[str, dict]  # a message id of tracker/messages.toml and its values


class _Checker:
    """Collects problems from vectorised masks, with the file's row numbers and the file's column names.

    labels: canonical column -> the file's header for it (a string, or one per row for the count of a
    wide file). A cell is reported once: a later check does not report a cell an earlier one did. A
    file row is reported once per check and column, even where a wide file made several rows of it.
    Each check keeps its first MAX_PROBLEMS_PER_CHECK problems and counts the rest (``totals``).
    """

    def __init__(self, rows: np.ndarray, labels: dict | None = None):
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
        per_row = label[positions] if isinstance(label, np.ndarray) else None
        seen = pd.DataFrame({"row": self.rows[positions], "label": per_row if per_row is not None else ""})
        positions = positions[~seen.duplicated().to_numpy()]  # one problem per file row and column
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
        return ValidationError(source, _by_row(self.errors), self.totals, error_rows=len(rows) + rowless)


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


def _record_lines(data: bytes, n: int) -> np.ndarray:
    """The line on which each of the n records after the header starts, when quoted values may hold
    line breaks: a line break is inside quotes when an odd number of quotes precede it."""
    raw = np.frombuffer(data, dtype=np.uint8)
    quotes = np.flatnonzero(raw == ord('"'))
    breaks = np.flatnonzero(raw == ord("\n"))
    inside = np.searchsorted(quotes, breaks) % 2 == 1
    ends = np.flatnonzero(~inside)  # the line breaks that end a record (the header's first)
    return ends[:n] + 2


@dataclass
class _Input:
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


# --------------------------------------------------------------------------- entry points


def read_table(
    path: Path,
    kind: str,
    cfg: Config,
    known_units: KnownUnits,
    today: dt.date | None = None,
    base: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
    options: ReadOptions | None = None,
    limited: bool = True,
) -> Prepared:
    """Read and validate one file (CSV/TSV/Unicode Text or .xlsx); raise ValidationError listing every problem.

    known_units: the units a row may refer to (None for the units table itself): a set of unit codes,
    or a frame with unit_code and unit_name, with which rows may name a unit instead of giving its code.
    base: returns the stored cumulative value on the day before each series' first date (columns
    unit_code, age_band, dose, people_cumulative) for the series given (unit_code, age_band, dose, date):
    daily input is added on top of it, and cumulative input below it is warned about.
    options: how to read the file; what is left at None is detected (see tracker.readers).
    limited: apply cfg.limits (size, unpacked size, rows, columns, value length) before and while
    parsing; False only for a drop already accepted once (rebuild).
    Raises MeasureNeeded when cumulative or daily cannot be told from the headers and options.measure is None.
    """
    path = Path(path)
    spec = _spec(kind)
    if not path.is_file():
        raise InputError(code="file.not_found", path=str(path))
    return _prepare(_Input(str(path), path=path), spec, cfg, known_units, today, base, options, limited)


def read_bytes(
    data: bytes,
    filename: str,
    kind: str,
    cfg: Config,
    known_units: KnownUnits,
    today: dt.date | None = None,
    base: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
    options: ReadOptions | None = None,
    limited: bool = True,
) -> Prepared:
    """`read_table` for a file already in memory (an upload); nothing is written to disk."""
    spec = _spec(kind)
    inp = _Input(str(filename), data=bytes(data))
    return _prepare(inp, spec, cfg, known_units, today, base, options, limited)


def _spec(kind: str) -> Kind:
    spec = KINDS.get(kind)
    if spec is None:
        raise InputError(code="option.unknown_kind", kind=kind, kinds=list(KINDS))
    return spec


def _prepare(inp: _Input, spec: Kind, cfg, known_units, today, base, options, limited: bool) -> Prepared:
    options = options or ReadOptions()
    options.check()
    limits = cfg.limits if limited else None
    if inp.size == 0:
        raise ValidationError(inp.name, [Problem.of(None, None, "file.empty")])
    if limits is not None and inp.size > limits.max_mb * 2**20:
        size = round(inp.size / 2**20, 1)
        raise ValidationError(inp.name, [Problem.of(None, None, "limit.file_size", size=size, limit=limits.max_mb)])
    today = today or dt.date.today()

    frame = None
    fast = _fast_header(inp, spec, options)
    if fast is not None:
        raw_header, types = fast
        with ThreadPoolExecutor(max_workers=1) as pool:  # hashing releases the GIL: overlap it with the read
            scan = pool.submit(inp.scan)
            frame = _fast_read(inp, raw_header, types)
            digest, quoted = scan.result()
    if frame is not None:
        # file line numbers: 32 bits while they fit (half the memory of millions of them)
        line = np.int32 if len(frame) < 2**31 - 2 else np.int64
        rows = (_record_lines(inp.read(), len(frame)) if quoted else np.arange(2, 2 + len(frame))).astype(line)
        if limits is not None and len(frame) > limits.max_rows:
            raise ValidationError(inp.name, [Problem.of(None, None, "limit.rows", limit=limits.max_rows)])
        readers.check_field_lengths(frame, rows, inp.name, limits)
        check = _Checker(rows)
        label = inp.name
        daily = DAILY_COLUMN in types
        detected = {
            "format": "csv",
            "encoding": "utf-8",
            "delimiter": ",",
            "header_row": 1,
            "layout": "long",
            "measure": ("daily" if daily else "cumulative") if spec.name == "vaccinations" else None,
            "columns": {c: c for c in types},
            "read": "fast",
        }
    else:
        data = inp.read()
        digest = hashlib.sha256(data).hexdigest()
        frame, types, check, label, detected = _slow_read(data, inp.name, spec, options, limits)
        daily = DAILY_COLUMN in types
    frame = frame[list(types)]
    if frame.empty and not check.errors:
        empty = "file.header_only_wide" if detected.get("layout") == "wide" else "file.header_only"
        raise ValidationError(label, [Problem.of(None, None, empty)])

    for col in ("unit_code", *spec.text):
        frame[col] = _nfc(frame[col])

    units = None if known_units is None else UnitResolver(known_units)
    _check_values(frame, spec, cfg, units, today, check)
    key, sizes = _key_codes(frame, list(spec.keys))
    frame, key, dropped = _dedupe(frame, key, spec, check)
    if check.errors:
        raise check.error(label)

    running = None
    if spec.name == "vaccinations":
        frame["dose"] = frame["dose"].astype("int8")
        if daily:
            frame, order, running = _daily_to_cumulative(frame.reset_index(drop=True), base)
            check.keep(order)
            key, sizes = _key_codes(frame, list(spec.keys))
        # keys are (date, unit_code, age_band, dose): the key without its date digit is the series
        series = key % np.prod(sizes[1:])
        del key  # millions of 8 bytes no longer needed
        if series.max(initial=0) < 2**31:
            series = series.astype(np.int32)
        _warn_series(frame, series, check, base, daily)
    for col in spec.counts:
        if col in frame and frame[col].dtype != np.int64:
            frame[col] = frame[col].astype("int64")
    return Prepared(
        spec.name,
        frame.reset_index(drop=True),
        inp.name,
        digest,
        _by_row(check.warnings),
        dropped,
        detected={k: v for k, v in detected.items() if v not in (None, [], {})},
        rows=check.rows,
        running=running,
    )


def _by_row(problems: list[Problem]) -> list[Problem]:
    """Problems in file order (row, then column as found); those without a row last."""
    return sorted(problems, key=lambda p: (p.row is None, p.row or 0))


# --------------------------------------------------------------------------- the fast path


def _fast_header(inp: _Input, spec: Kind, options: ReadOptions) -> tuple[list[str], dict[str, pa.DataType]] | None:
    """The raw header and column types when the file is a canonical UTF-8 comma CSV, else None.

    Canonical: every column of the kind under its canonical name, on line 1, and no other header
    naming a known column (a synonym or a dose column would need the text path to decide).
    """
    if options.sheet is not None or options.columns or options.constants:
        return None
    if options.encoding not in (None, "utf-8", "utf-8-sig", "utf8") or options.delimiter not in (None, ","):
        return None
    head = inp.head(1 << 16)
    if head.startswith(b"PK\x03\x04") or b"\x00" in head[:4096]:
        return None
    if head.startswith(codecs.BOM_UTF8):
        head = head[3:]
    line, newline, _ = head.partition(b"\n")
    if not newline:
        return None
    try:
        text = line.decode("utf-8").rstrip("\r")
    except UnicodeDecodeError:
        return None
    raw = next(csv.reader([text]), [])
    header = [_clean(c) for c in raw]
    if len(set(header)) != len(header):
        return None
    types = dict(spec.columns)
    if spec.name == "vaccinations":
        cumulative, daily = "people_cumulative" in header, DAILY_COLUMN in header
        if options.measure == "daily" or (options.measure is None and daily and not cumulative):
            if not daily:
                return None
            types[DAILY_COLUMN] = types.pop("people_cumulative")
        elif not cumulative:
            return None
    if not all(c in header for c in types):
        return None
    canonical = {*spec.columns, DAILY_COLUMN}
    others = [h for h in header if h not in canonical]
    if others and readers.score(others, spec.name, spec.columns, ReadOptions()) > 0:
        return None
    return raw, types


def _clean(name: str) -> str:
    return unicodedata.normalize("NFC", name.strip())


def _fast_read(inp: _Input, raw_header: list[str], types: dict[str, pa.DataType]) -> pd.DataFrame | None:
    """The typed multithreaded read; None when any value does not parse or is empty."""
    # text columns are parsed straight into dictionaries (pandas categories): few distinct values
    raw = {_clean(c): c for c in raw_header}
    coded = {raw[c]: pa.dictionary(pa.int32(), pa.string()) if t == _STR else t for c, t in types.items()}
    try:
        table = pacsv.read_csv(
            inp.arrow_source(),
            read_options=pacsv.ReadOptions(use_threads=True, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(
                column_types=coded, strings_can_be_null=False, include_columns=list(coded)
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    table = table.rename_columns([_clean(c) for c in table.column_names])
    if any(table.column(c).null_count for c in types):
        return None
    # column by column, each Arrow column freed once converted; then the Arrow pool gives its memory back
    # to the system, for the checks that follow (peak memory at country scale: docs/performance.md)
    table = table.select(list(types))
    frame = table.to_pandas(date_as_object=False, split_blocks=True, self_destruct=True)
    del table
    pa.default_memory_pool().release_unused()
    return frame


# --------------------------------------------------------------------------- the text path


def _slow_read(data: bytes, name: str, spec: Kind, options: ReadOptions, limits):
    """Read any supported file as text, map its columns, lay it out long and parse every value."""

    def score(cells: list[str]) -> int:
        return readers.score(cells, spec.name, spec.columns, options)

    raw = readers.read_raw(data, name, options, score, limits)
    header = raw.header
    label = raw.label or name
    if score(header) == 0 and sum(1 for h in header if h) <= 1:
        shown = repr(header[0]) if header else "nothing"
        raise readers.not_a_table(
            label, "single_column", header=shown, at_row=raw.header_row, rows=len(raw.body),
            kind=Term(f"term.{spec.name}"), columns=list(spec.columns),
        )  # fmt: skip
    if raw.body.empty and not raw.problems:
        raise ValidationError(label, [Problem.of(None, None, "file.header_only")])
    plan = readers.plan_columns(header, spec.name, spec.columns, options, label, raw.header_row)
    text, rows, labels = readers.arrange(raw, plan, header)
    types = dict(spec.columns)
    if spec.name == "vaccinations" and plan.measure == readers.DAILY:
        types[DAILY_COLUMN] = types.pop("people_cumulative")
    check = _Checker(rows, labels)
    for problem in raw.problems:
        check.add(problem)
    frame = _parse_text(text, types, check, options.date_order or "dmy")
    detected = {
        **raw.detected,
        "header_row": raw.header_row,
        "layout": plan.layout,
        "measure": plan.measure,
        "measure_from": plan.measure_from,
        "columns": plan.mapping,
        "ignored": plan.ignored,
        "read": "text",
    }
    return frame, types, check, label, detected


def _categories(series: pd.Series) -> tuple[list[str], np.ndarray]:
    """The distinct values of a text column (stripped) and each row's index into them (-1: missing)."""
    series = series if isinstance(series.dtype, pd.CategoricalDtype) else series.astype("category")
    cats = [str(c).strip() for c in series.cat.categories]
    return cats, series.cat.codes.to_numpy().astype(np.int64)


def _per_value(cats: list[str], parse: Callable[[str], tuple], plain_ints: bool = False):
    """Parse each distinct value: (values, error message or None) lists, one per value."""
    values: list = [None] * len(cats)
    errors: list[str | None] = [None] * len(cats)
    todo = range(len(cats))
    if plain_ints and cats:  # most counts are plain digits: convert those in one vectorised step
        index = pd.Index(cats, dtype="string")
        plain = index.str.fullmatch(r"\d{1,18}").to_numpy(dtype=bool, na_value=False)
        numbers = pd.to_numeric(index[plain]).to_numpy(np.int64) if plain.any() else []
        for i, n in zip(np.flatnonzero(plain), numbers, strict=True):
            values[i] = int(n)
        todo = np.flatnonzero(~plain)
    for i in todo:
        if cats[i] and not cats[i].startswith("="):
            result = parse(cats[i])
            values[i], errors[i] = result[0], result[-1]
    return values, errors


def _parse_text(frame: pd.DataFrame, types: dict[str, pa.DataType], check: _Checker, order: str) -> pd.DataFrame:
    """Parse every column of a text frame value by value, reporting each value that does not parse.

    ``order``: how dates with slashes are read, "dmy" or "mdy" (ReadOptions.date_order)."""
    out = {}
    for name, typ in types.items():
        cats, codes = _categories(frame[name])
        empty = np.array([c == "" for c in cats] + [True])[codes]
        formula = np.array([c.startswith("=") for c in cats] + [False])[codes]
        check.mask(formula, name, lambda i, c=cats, k=codes: ("value.formula", {"value": c[k[i]]}))
        if typ == _STR:
            out[name] = _recode(frame[name], lambda s: s.strip() or None)  # emptiness is judged with the values
            continue
        if pa.types.is_date32(typ):
            parsed = [readers.parse_date(c, order) if c and not c.startswith("=") else (None, None, None) for c in cats]
            values = np.array([p[0] if p[0] else None for p in parsed] + [None], dtype="datetime64[ms]")
            errors = [p[2] for p in parsed]
            _check_date_formats(cats, codes, [p[1] for p in parsed], errors, name, check, order)
            out[name] = pd.Series(values[codes], index=frame.index)
        elif pa.types.is_integer(typ):
            parse = readers.parse_dose if name == "dose" else readers.parse_count
            values, errors = _per_value(cats, parse, plain_ints=True)
            ints = np.array([v if v is not None else 0 for v in values] + [0], dtype=np.int64)
            missing = np.array([v is None for v in values] + [True])
            out[name] = pd.Series(pd.arrays.IntegerArray(ints[codes], missing[codes]), index=frame.index)
        else:
            values, errors = _per_value(cats, readers.parse_float)
            floats = np.array([v if v is not None else np.nan for v in values] + [np.nan], dtype=np.float64)
            out[name] = pd.Series(floats[codes], index=frame.index)
        bad = np.array([e is not None for e in errors] + [False])[codes]
        check.mask(bad, name, lambda i, e=errors, k=codes: e[k[i]], check=f"parse.{name}")
        check.mask(empty, name, ("value.empty", {}))
    return pd.DataFrame(out, index=frame.index)


def _check_date_formats(cats, codes, families, errors, name, check: _Checker, order: str) -> None:
    """One way of writing dates per column: a minority in the other form is an error.

    A column mixing 2021-10-04 and 04/10/2021 is what a spreadsheet leaves when it turned some
    day/month dates into month/day ones: the odd ones out cannot be trusted.
    """
    names = ("iso", order)
    family = np.array(
        [names.index(f) if f in names and e is None else -1 for f, e in zip(families, errors, strict=True)] + [-1]
    )
    per_row = family[codes]
    counts = np.bincount(per_row[per_row >= 0], minlength=2)
    if counts.min() == 0:
        return
    first = per_row[per_row >= 0][0]
    major = first if counts[0] == counts[1] else int(np.argmax(counts))
    check.mask(
        (per_row >= 0) & (per_row != major),
        name,
        lambda i: (
            "value.mixed_dates",
            {
                "value": cats[codes[i]],
                "written": Term(f"term.date_family_{names[1 - major]}"),
                "usual": Term(f"term.date_family_{names[major]}"),
            },
        ),
    )


def _nfc(series: pd.Series) -> pd.Series:
    """NFC-normalise a text column (per distinct value); blank values become missing."""
    return _recode(series, lambda s: unicodedata.normalize("NFC", s.strip()) or None)


def _recode(series: pd.Series, fn: Callable[[str], str | None]) -> pd.Series:
    """Apply fn to each distinct value of a categorical column (not to each of its rows).

    Values fn maps to None become missing. Cheap for millions of rows with a few distinct values.
    """
    series = series if isinstance(series.dtype, pd.CategoricalDtype) else series.astype("category")
    new = [fn(str(c)) for c in series.cat.categories]
    if new == list(series.cat.categories):
        return series  # nothing to change: no pass over the rows
    categories = list(dict.fromkeys(v for v in new if v is not None))
    position = {v: i for i, v in enumerate(categories)}
    lookup = np.array([position[v] if v is not None else -1 for v in new] + [-1], dtype=np.int64)
    codes = lookup[series.cat.codes.to_numpy()]  # code -1 (missing) picks the trailing -1
    return pd.Series(pd.Categorical.from_codes(codes, categories=categories), index=series.index)


# --------------------------------------------------------------------------- checks


def _check_values(frame, spec: Kind, cfg: Config, units: UnitResolver | None, today, check: _Checker):
    for col in ("unit_code", "age_band", "unit_name"):
        if col in frame:
            check.mask(frame[col].isna(), col, ("value.empty", {}))
    for col in ("unit_code", "age_band", "unit_name", "unit_type"):
        if col in frame:
            values = frame[col]
            formula = np.array([str(c).startswith("=") for c in values.cat.categories] + [False])
            if not formula.any():  # per value first: no pass over the rows when no value is a formula
                continue
            check.mask(
                formula[values.cat.codes.to_numpy()], col, lambda i, v=values: ("value.formula", {"value": v.iat[i]})
            )
    if units is not None:
        codes = frame["unit_code"]
        found = {str(c): units.resolve(str(c)) for c in codes.cat.categories}
        unknown = np.array([found[str(c)][1] is not None for c in codes.cat.categories] + [False])
        if unknown.any():
            check.mask(
                unknown[codes.cat.codes.to_numpy()], "unit_code", lambda i: found[str(codes.iat[i])][1], check="unit"
            )
        frame["unit_code"] = _recode(codes, lambda s: found[s][0])
    if "age_band" in frame:
        labels = frame["age_band"]
        if spec.name == "population":
            ages = AgeResolver(cfg, bands_only=True)
            expected = ("value.not_a_band", {"bands": list(cfg.bands)})
        else:
            ages = AgeResolver(cfg)
            expected = ("value.not_a_label", {"labels": list(cfg.labels)})
        resolved = _recode(labels, ages.resolve)
        bad = resolved.isna() & labels.notna()
        check.mask(bad, "age_band", lambda i: (expected[0], {"value": labels.iat[i], **expected[1]}))
        frame["age_band"] = resolved
    if "dose" in frame:
        dose = frame["dose"]
        check.mask(dose.notna() & ~dose.isin([1, 2, 3, 4]), "dose", lambda i: ("value.bad_dose", {"dose": dose.iat[i]}))
    limit = cfg.limits.max_count
    for col in spec.counts + ((DAILY_COLUMN,) if DAILY_COLUMN in frame else ()):
        if col in frame:
            values = frame[col]
            check.mask(values.notna() & (values < 0), col, lambda i, v=values: ("value.negative", {"value": v.iat[i]}))
            check.mask(
                values.notna() & (values > limit), col,
                lambda i, v=values: ("limit.too_large", {"value": str(v.iat[i]), "limit": limit}),
            )  # fmt: skip
    if "date" in frame:
        dates = frame["date"]
        future = dates > pd.Timestamp(today)
        check.mask(future, "date", lambda i: ("value.future", {"date": dates.iat[i]}))
        early = dates < pd.Timestamp(cfg.campaign_start)
        check.mask(
            early,
            "date",
            lambda i: ("warning.before_campaign", {"date": dates.iat[i], "start": cfg.campaign_start}),
            severity="warning",
        )
    if spec.name == "units":
        _check_unit_names(frame, cfg, check)
        for col, lo, hi in (("lat", -90, 90), ("lon", -180, 180)):
            v = frame[col]
            check.mask(
                v.notna() & ((v < lo) | (v > hi)), col, lambda i, v=v: ("value.out_of_range", {"value": v.iat[i]})
            )


# Control characters, and the invisible marks that reverse the direction of text (a name could then
# read differently from what it holds)
_UNSAFE = re.compile("[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _check_unit_names(frame: pd.DataFrame, cfg: Config, check: _Checker) -> None:
    """Unit codes match [units] unit_code; names are at most [units] unit_name_max characters, without
    control or direction-override characters (checked per distinct value)."""
    pattern = re.compile(cfg.limits.unit_code)
    codes = frame["unit_code"]
    cats = [str(c) for c in codes.cat.categories]
    bad = np.array([pattern.fullmatch(c) is None for c in cats] + [False])[codes.cat.codes.to_numpy()]
    check.mask(bad, "unit_code", lambda i: ("value.bad_unit_code", {"value": str(codes.iat[i]),
                                                                    "pattern": cfg.limits.unit_code}))  # fmt: skip
    names = frame["unit_name"]
    cats = [str(c) for c in names.cat.categories]
    longest = cfg.limits.unit_name_max
    too_long = np.array([len(c) > longest for c in cats] + [False])[names.cat.codes.to_numpy()]
    check.mask(too_long, "unit_name", lambda i: ("value.name_too_long", {"length": len(str(names.iat[i])),
                                                                         "limit": longest}))  # fmt: skip
    unsafe = np.array([_UNSAFE.search(c) is not None for c in cats] + [False])[names.cat.codes.to_numpy()]
    check.mask(unsafe, "unit_name", lambda i: ("value.unsafe_characters", {"value": str(names.iat[i])}))


def _key_codes(frame: pd.DataFrame, keys: list[str]) -> tuple[np.ndarray, list[int]]:
    """One int64 per row identifying its key (fast duplicate detection on millions of rows).

    Mixed radix: the first key column is the most significant digit; also returns each digit's size.
    """
    combined = np.zeros(len(frame), dtype=np.int64)
    sizes = []
    for col in keys:
        values = frame[col]
        if isinstance(values.dtype, pd.CategoricalDtype):
            codes, size = values.cat.codes.to_numpy(np.int64) + 1, len(values.cat.categories) + 1
        elif values.notna().all() and (values.dtype.kind in "iuM"):
            numbers = values.to_numpy()
            if numbers.dtype.kind == "M":
                numbers = _days(numbers)
            numbers = numbers.astype(np.int64, copy=False)
            low = numbers.min() if len(numbers) else 0
            codes, size = numbers - low, (numbers.max() - low + 1 if len(numbers) else 1)
        else:
            codes, uniques = pd.factorize(values, use_na_sentinel=True)
            codes, size = codes.astype(np.int64) + 1, len(uniques) + 1
        combined = combined * size + codes
        sizes.append(int(size))
    return combined, sizes


def _days(numbers: np.ndarray) -> np.ndarray:
    """Whole days since the epoch of a datetime64 array, in one integer division."""
    per_day = np.timedelta64(1, "D") // np.timedelta64(1, np.datetime_data(numbers.dtype)[0])
    return numbers.view(np.int64) // per_day


def _has_repeats(key: np.ndarray) -> bool:
    if len(key) and key.max() < 64_000_000:
        return bool(np.bincount(key).max() > 1)
    return bool(pd.Series(key).duplicated().any())


def _dedupe(frame: pd.DataFrame, codes: np.ndarray, spec: Kind, check: _Checker):
    """Drop exact repeats of a row; the same key twice with different values is an error.

    Returns the frame, its key codes and how many repeats were dropped.
    """
    keys = list(spec.keys)
    if not _has_repeats(codes):
        return frame, codes, 0
    key = pd.Series(codes, index=frame.index)
    exact = frame.duplicated(keep="first").to_numpy()
    frame, key = frame[~exact], key[~exact]
    check.keep(~exact)
    # rows with an error in a cell are left out: a bad date is one problem, not one per later row
    fine = ~check.errored()
    later = fine & key.where(fine).duplicated(keep="first").to_numpy()
    if later.any():
        first_row = pd.Series(check.rows, index=frame.index)[fine].groupby(key[fine]).transform("min")
        first_row = first_row.reindex(frame.index).to_numpy()

        def message(i: int) -> Message:
            shown = ", ".join(f"{k}={_show(frame[k].iat[i])}" for k in keys)
            return "value.same_key", {"key": shown, "first": int(first_row[i])}

        check.mask(later, None, message)
    return frame, key.to_numpy(), int(exact.sum())


def _show(value) -> str:
    if value is None or value is pd.NaT or (not isinstance(value, str) and pd.isna(value)):
        return "—"
    if isinstance(value, pd.Timestamp):
        return f"{value:%Y-%m-%d}"
    return str(value)


_SERIES = ["unit_code", "age_band", "dose"]


def _daily_to_cumulative(frame: pd.DataFrame, base) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Daily new doses → people_cumulative: running sum on top of what was stored before.

    Returns the frame (by date, unit, band, dose), the positions of its rows in the frame given (to
    follow with the row numbers), and the running sums alone (for ``rebase`` at commit).
    """
    frame = frame.sort_values([*_SERIES, "date"], kind="stable")
    running = frame.groupby(_SERIES, observed=True, sort=False)[DAILY_COLUMN].cumsum().astype("int64")
    frame = frame.drop(columns=[DAILY_COLUMN]).assign(people_cumulative=running)
    order = np.argsort(frame["date"].to_numpy(), kind="stable")  # by date, series order kept within a date
    frame = frame.iloc[order]
    positions = frame.index.to_numpy()
    frame = frame.reset_index(drop=True)
    running = frame["people_cumulative"].to_numpy(np.int64).copy()
    return rebase(frame, running, base), positions, running


def rebase(frame: pd.DataFrame, running: np.ndarray, base) -> pd.DataFrame:
    """people_cumulative = each row's running sum within its file + the stored value before its series'
    first date in the file (``base``, as of the store state it is given): done once when the file is
    read, and again inside the write transaction that stores it, so that concurrent daily drops build
    on what is really stored, as if they had come one after the other."""
    stored = np.zeros(len(frame), dtype=np.int64)
    if base is not None and len(frame):
        starts = frame.groupby(_SERIES, observed=True, sort=False)["date"].min().reset_index()
        prior = base(starts)
        if prior is not None and not prior.empty:
            keyed = frame[_SERIES].astype({"unit_code": "string", "age_band": "string", "dose": "int64"})
            prior = prior.astype({"unit_code": "string", "age_band": "string", "dose": "int64"})
            merged = keyed.merge(prior.rename(columns={"people_cumulative": "_base"}), on=_SERIES, how="left")
            stored = merged["_base"].fillna(0).to_numpy(np.int64)
    return frame.assign(people_cumulative=running + stored)


def _warn_series(frame: pd.DataFrame, series: np.ndarray, check: _Checker, base, daily: bool) -> None:
    """Warnings along each series (unit, band, dose) in date order.

    - a cumulative count below the previous report (in the file, or for a series' first date, the
      stored value before it, from `base`): a correction;
    - a day's new doses (the difference from the report of the day before: the daily figure itself
      for daily input) above SPIKE_FACTOR × the average of the SPIKE_WINDOW days before it, and at
      least SPIKE_MIN_DOSES; checked where the series has a report on each of those days and on the
      day before them, and that average is above zero.
    """
    dates = frame["date"].to_numpy()
    if (dates[1:] >= dates[:-1]).all() and series.max(initial=0) < 2**15:
        order = np.argsort(series.astype(np.int16), kind="stable")  # radix sort: O(rows)
    else:
        order = np.lexsort((dates, series))
    people = frame["people_cumulative"].to_numpy()[order]
    ordered = series[order]
    same = ordered[1:] == ordered[:-1]
    step = np.diff(people)  # new doses of each report (across series too: masked where used)

    down = np.flatnonzero(same & (step < 0)) + 1
    if len(down):
        values, before = people[down], people[down - 1]
        _sub_warn(
            check,
            order[down],
            "people_cumulative",
            lambda i: ("warning.correction", {"value": values[i], "before": before[i]}),
        )
    if base is not None and not daily and len(order):  # daily input was added on top of the stored value
        _warn_below_stored(frame, order, same, people, check, base)
    _warn_spikes(frame, order, ordered, people, step, check, DAILY_COLUMN if daily else "people_cumulative")


def _sub_warn(check: _Checker, positions: np.ndarray, column: str, message: Callable[[int], Message]) -> None:
    label = check.labels.get(column, column)
    sub = _Checker(check.rows[positions], {column: label[positions] if isinstance(label, np.ndarray) else label})
    sub.mask(np.ones(len(positions), bool), column, message, severity="warning")
    check.problems.extend(sub.problems)


def _warn_below_stored(frame, order, same, people, check: _Checker, base) -> None:
    firsts = np.flatnonzero(np.r_[True, ~same])
    positions = order[firsts]
    starts = frame.iloc[positions][[*_SERIES, "date"]].reset_index(drop=True)
    prior = base(starts)
    if prior is None or prior.empty:
        return
    keyed = starts.astype({"unit_code": "string", "age_band": "string", "dose": "int64"})
    prior = prior.astype({"unit_code": "string", "age_band": "string", "dose": "int64"})
    merged = keyed.merge(prior.rename(columns={"people_cumulative": "_base"}), on=_SERIES, how="left")
    stored = merged["_base"].to_numpy(dtype=float)
    first = people[firsts]
    lower = np.flatnonzero(stored > first)  # NaN (nothing stored) compares False
    if len(lower):
        _sub_warn(
            check,
            positions[lower],
            "people_cumulative",
            lambda i: ("warning.correction_stored", {"value": first[lower[i]], "before": int(stored[lower[i]])}),
        )


def _warn_spikes(frame, order, ordered, people, step, check: _Checker, column: str) -> None:
    """Spikes, from the cumulative counts by series and date: row i's new doses are step[i-1] =
    people[i] - people[i-1], and the w days before it gave people[i-1] - people[i-1-w]."""
    w = SPIKE_WINDOW
    if len(order) <= w + 1:
        return
    hits = np.flatnonzero(step[w:] >= SPIKE_MIN_DOSES) + w + 1  # the cheap test on every row, the rest on these
    new = step[hits - 1]
    before = people[hits - 1] - people[hits - 1 - w]
    spike = (before > 0) & (new * w > SPIKE_FACTOR * before)
    hits, new, before = hits[spike], new[spike], before[spike]
    same = ordered[hits - w - 1] == ordered[hits]  # the row and the w + 1 before it: one series
    hits, new, before = hits[same], new[same], before[same]
    dates = frame["date"].to_numpy()
    days = _days(dates[order[hits]]) - _days(dates[order[hits - w - 1]])
    daily = days == w + 1  # one report a day: the window is the w days before, and one before them
    hits, new, averages = hits[daily], new[daily], before[daily] / w
    if not len(hits):
        return
    at = frame.iloc[order[hits]]

    def message(k: int) -> Message:
        return "warning.spike", {
            "doses": new[k], "date": at["date"].iat[k], "unit": at["unit_code"].iat[k], "band": at["age_band"].iat[k],
            "dose": at["dose"].iat[k], "factor": SPIKE_FACTOR, "window": SPIKE_WINDOW, "average": float(averages[k]),
        }  # fmt: skip

    _sub_warn(check, order[hits], column, message)


# --------------------------------------------------------------------------- coverage


def _row_population(frame: pd.DataFrame, population: pd.DataFrame, cfg: Config) -> np.ndarray:
    """The population of each row's unit and age label (a band, or the bands of a group); NaN where a band
    of the label has no population (such a label is not checked)."""
    pop = population.assign(unit_code=population["unit_code"].astype(str), age_band=population["age_band"].astype(str))
    pop = pop.groupby(["unit_code", "age_band"], observed=True)["population"].sum()
    per_label = []
    present = frame["age_band"].astype("category")
    for label in present.cat.categories[np.unique(present.cat.codes[present.cat.codes >= 0])].astype(str):
        try:
            bands = cfg.group(label).bands
        except InputError:
            continue
        have = pop[pop.index.get_level_values("age_band").isin(bands)].groupby(level="unit_code")
        total = have.sum()
        complete = have.size() == len(bands)
        per_label.append(pd.DataFrame({"unit_code": total.index, "age_band": label, "pop": total.where(complete)}))
    if not per_label:
        return np.full(len(frame), np.nan)
    table = pd.concat(per_label, ignore_index=True).dropna(subset=["pop"])
    # the population of each row's (unit, label), looked up per category pair, not per row
    units = frame["unit_code"].astype("category")
    labels = frame["age_band"].astype("category")
    lookup = np.full((len(units.cat.categories) + 1, len(labels.cat.categories) + 1), np.nan)
    ui = pd.Index(units.cat.categories.astype(str)).get_indexer(table["unit_code"])
    li = pd.Index(labels.cat.categories.astype(str)).get_indexer(table["age_band"])
    known = (ui >= 0) & (li >= 0)
    lookup[ui[known], li[known]] = table["pop"].to_numpy()[known]
    return lookup[units.cat.codes.to_numpy(), labels.cat.codes.to_numpy()]  # code -1 hits the NaN margin


def coverage_warnings(
    frame: pd.DataFrame, population: pd.DataFrame, cfg: Config, rows: np.ndarray | None = None
) -> list[Problem]:
    """population_checks, the problems alone."""
    return population_checks(frame, population, cfg, rows)[0]


def population_checks(
    frame: pd.DataFrame, population: pd.DataFrame, cfg: Config, rows: np.ndarray | None = None
) -> tuple[list[Problem], int]:
    """Warnings for vaccination reports above the population of their unit and age band or group, and
    errors for reports above ``cfg.limits.max_per_population`` times it (a typo or a hostile figure that
    no district can have; stored, it would dwarf every total).

    frame: a prepared vaccinations frame (date, unit_code, age_band, dose, people_cumulative);
    population: unit_code, age_band (bands), population; rows: the file row of each frame row
    (Prepared.rows). One warning per series, at its first report over 100%; an error per row over the
    limit (the first MAX_PROBLEMS_PER_CHECK, and how many rows are over it). A label whose bands are not
    all in the population table is not checked.
    """
    if frame.empty or population is None or population.empty:
        return [], 0
    row_pop = _row_population(frame, population, cfg)
    people = frame["people_cumulative"].to_numpy()
    rows = rows if rows is not None else np.full(len(frame), -1)
    out = []
    factor = cfg.limits.max_per_population
    absurd = np.flatnonzero(people > factor * row_pop)  # NaN population compares False
    for i in absurd[:MAX_PROBLEMS_PER_CHECK]:
        out.append(
            Problem.of(
                int(rows[i]) if rows[i] >= 0 else None, "people_cumulative", "limit.per_population",
                people=int(people[i]), unit=str(frame["unit_code"].iat[i]), band=str(frame["age_band"].iat[i]),
                population=int(row_pop[i]), factor=factor,
            )
        )  # fmt: skip
    hit = np.flatnonzero((people > row_pop) & ~(people > factor * row_pop))
    if not len(hit):
        return out, len(absurd)
    work = pd.DataFrame(
        {
            "date": frame["date"].to_numpy()[hit],
            "unit_code": frame["unit_code"].astype(str).to_numpy()[hit],
            "age_band": frame["age_band"].astype(str).to_numpy()[hit],
            "dose": frame["dose"].to_numpy()[hit],
            "people": people[hit],
            "pop": row_pop[hit],
            "row": rows[hit],
        }
    )
    over = work.sort_values("date", kind="stable")
    first = over.groupby(["unit_code", "age_band", "dose"], sort=True).head(1)
    for r in first.itertuples(index=False):
        share = 100 * r.people / r.pop
        out.append(
            Problem.of(
                int(r.row) if r.row >= 0 else None, "people_cumulative", "warning.over_population", "warning",
                people=int(r.people), unit=r.unit_code, band=r.age_band, dose=int(r.dose), date=pd.Timestamp(r.date),
                population=int(r.pop), share=float(share),
            )
        )  # fmt: skip
    return out, len(absurd)


# --------------------------------------------------------------------------- overlapping age groups


def overlaps(
    frame: pd.DataFrame,
    stored: pd.DataFrame,
    cfg: Config,
    rows: np.ndarray | None = None,
    names: dict[str, str] | None = None,
    column: str = "age_band",
):
    """Vaccination reports whose age label overlaps another label reported for the same unit and dose.

    A district that reports its adults as one figure ("Từ 18 tuổi trở lên") while its 18-49, 50-64
    and 65+ bands are stored (or the other way round, or both in one file) would make the figures of
    every group they share unavailable (tracker.core: overlapping reports). ``stored``: the distinct
    (unit_code, age_band, dose) already in the store. Returns (warnings, mask of the frame rows at
    fault): a label overlapping a stored one is at fault; within the file, the coarser label is.
    One warning per unit and label, at its first row, naming what it overlaps and the groups hit;
    ``names`` (unit code -> name) names the units, ``column`` is the file's header of the age labels.
    """
    if frame.empty:
        return [], np.zeros(0, dtype=bool)
    mask_of = {label: cfg.label_mask(label) for label in cfg.labels}
    # per distinct series (a few thousand), not per row (millions): each row's series as one integer
    row_series, distinct = pd.factorize(_key_codes(frame, _SERIES)[0])  # numbered in order of appearance
    first_row = np.flatnonzero(np.r_[True, row_series[1:] > np.maximum.accumulate(row_series)[:-1]])
    mine = frame[_SERIES].iloc[first_row].astype({"unit_code": str, "age_band": str, "dose": "int64"})
    mine = mine.assign(series=np.arange(len(distinct))).reset_index(drop=True)
    theirs = stored.astype({"unit_code": str, "age_band": str, "dose": "int64"})[_SERIES]
    pairs = []
    for other, where in ((theirs.drop_duplicates(), "stored"), (mine.drop(columns="series"), "file")):
        joined = mine.merge(other.rename(columns={"age_band": "other"}), on=["unit_code", "dose"])
        a = joined["age_band"].map(mask_of).fillna(0).astype("int64")
        b = joined["other"].map(mask_of).fillna(0).astype("int64")
        hit = (a != b) & ((a & b) != 0)
        if where == "file":  # two labels of the file: the coarser one (more bands) is at fault
            hit &= _bits(a) > _bits(b)
        pairs.append(joined[hit].assign(where=where))
    found = pd.concat(pairs, ignore_index=True)
    if found.empty:
        return [], np.zeros(len(frame), dtype=bool)
    at_fault = np.zeros(len(distinct), dtype=bool)
    at_fault[found["series"].to_numpy()] = True
    bad = at_fault[row_series]
    first = mine.assign(row=first_row)[at_fault].groupby(["unit_code", "age_band"])["row"].min()
    warnings = []
    for (unit, label), part in found.groupby(["unit_code", "age_band"], sort=True):
        pos = int(first[(unit, label)])
        where = "warning.overlap_stored" if (part["where"] == "stored").any() else "warning.overlap_file"
        others = sorted(set(part["other"]), key=lambda lb: cfg.labels.index(lb) if lb in cfg.labels else 99)
        warnings.append(
            Problem.of(
                int(rows[pos]) if rows is not None else None, column, where, "warning", check="overlap",
                unit=(names or {}).get(unit, unit), labels=_label(cfg, label), stored=[_label(cfg, o) for o in others],
                doses=sorted(int(d) for d in set(part["dose"])), groups=_groups_hit(cfg, label, others),
            )
        )  # fmt: skip
    return warnings, bad


def _bits(masks: pd.Series) -> pd.Series:
    return masks.map(int.bit_count)


def _label(cfg: Config, label: str) -> Both:
    """A band as written, a group by its configured names."""
    if label in cfg.groups:
        g = cfg.groups[label]
        return Both(g.label_vi or g.id, g.label_en or g.id)
    return Both(label, label)


def _groups_hit(cfg: Config, label: str, others: list[str]) -> list[Both]:
    """The groups whose figure two overlapping labels make unavailable: a label straddling the group,
    or both inside it."""
    hit = []
    a = cfg.label_mask(label)
    for g in cfg.groups.values():
        gm = cfg.label_mask(g.id)
        for other in others:
            b = cfg.label_mask(other)
            straddles = any(m & gm and m & ~gm for m in (a, b))
            if straddles or (a & ~gm == 0 and b & ~gm == 0):
                hit.append(_label(cfg, g.id))
                break
    return hit
