"""Reading and validating input tables before anything is written to the store.

A file is read on a fast path (pyarrow's multithreaded CSV reader with the canonical column
types). When that fails, it is read again as text and every column is parsed with pandas so
that each problem can be reported with its row (the file's line number, header = row 1) and
column, all at once. Nothing here touches the store.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import unicodedata
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from tracker.config import Config
from tracker.errors import InputError, Problem, ValidationError

MAX_PROBLEMS_PER_CHECK = 200


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


@dataclass(frozen=True)
class ReadOptions:
    """How to read a file; every field left at None is detected (CLI flags and UI choices set them)."""

    encoding: str | None = None  # "utf-8", "utf-8-sig", "utf-16", "cp1258", …
    delimiter: str | None = None  # ",", ";" or "\t"
    sheet: str | int | None = None  # .xlsx: a sheet name or 0-based index; None = the first sheet
    measure: str | None = None  # vaccinations: "cumulative" or "daily"; None = from the headers
    columns: tuple[tuple[str, str], ...] = ()  # (source header, canonical name) pairs: --column SRC=CANONICAL


@dataclass
class Prepared:
    """A validated table ready to be stored, with the warnings found on the way."""

    kind: str
    frame: pd.DataFrame
    source: str
    sha256: str
    warnings: list[Problem] = field(default_factory=list)
    duplicates_dropped: int = 0


class _Checker:
    """Collects problems from vectorised masks, with the file's row numbers."""

    def __init__(self, rows: np.ndarray):
        self.rows = rows  # file line number of each frame row
        self.problems: list[Problem] = []

    def mask(self, mask, column: str | None, message: str | Callable[[int], str], severity: str = "error"):
        positions = np.flatnonzero(np.asarray(mask, dtype=bool))
        for pos in positions[:MAX_PROBLEMS_PER_CHECK]:
            text = message(pos) if callable(message) else message
            self.problems.append(Problem(int(self.rows[pos]), column, text, severity))
        if len(positions) > MAX_PROBLEMS_PER_CHECK:
            extra = len(positions) - MAX_PROBLEMS_PER_CHECK
            self.problems.append(Problem(None, column, f"… {extra} more rows with the same problem", severity))

    def add(self, row: int | None, column: str | None, message: str, severity: str = "error"):
        self.problems.append(Problem(row, column, message, severity))

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _clean(name: str) -> str:
    return unicodedata.normalize("NFC", name.strip())


def _raw_header(path: Path) -> list[str]:
    with path.open("r", encoding="utf-8-sig", newline="") as fh:
        return next(csv.reader([fh.readline()]), [])


def _header(path: Path) -> list[str]:
    return [_clean(c) for c in _raw_header(path)]


def _read(path: Path, types: dict[str, pa.DataType], skip_blank: bool) -> pa.Table:
    raw = {_clean(c): c for c in _raw_header(path)}
    table = pacsv.read_csv(
        path,
        read_options=pacsv.ReadOptions(use_threads=True, block_size=1 << 24),
        parse_options=pacsv.ParseOptions(ignore_empty_lines=skip_blank),
        convert_options=pacsv.ConvertOptions(
            column_types={raw[c]: t for c, t in types.items() if c in raw}, strings_can_be_null=False
        ),
    )
    return table.rename_columns([_clean(c) for c in table.column_names])


def _fast_read(path: Path, types: dict[str, pa.DataType]) -> pd.DataFrame | None:
    """The typed multithreaded read; None when any value does not parse or is empty."""
    # text columns are parsed straight into dictionaries (pandas categories): few distinct values
    coded = {c: pa.dictionary(pa.int32(), pa.string()) if t == _STR else t for c, t in types.items()}
    try:
        table = _read(path, coded, skip_blank=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if any(table.column(c).null_count for c in types):
        return None
    return table.select(list(types)).to_pandas(date_as_object=False)


def _text_read(path: Path) -> tuple[pd.DataFrame, np.ndarray]:
    """Every column as text, blank lines dropped; with the file line number of each row.

    (A quoted value spanning several lines would shift the numbers after it: canonical files have none.)
    """
    try:
        table = _read(path, {c: _STR for c in _header(path)}, skip_blank=False)
    except pa.ArrowInvalid as exc:
        raise ValidationError(str(path), [Problem(None, None, f"not a readable CSV table: {exc}")]) from None
    frame = table.to_pandas()
    lines = np.arange(2, 2 + len(frame))
    blank = frame.apply(lambda col: col.fillna("").str.strip() == "").all(axis=1).to_numpy()
    return frame[~blank].reset_index(drop=True), lines[~blank]


def _parse_text(frame: pd.DataFrame, types: dict[str, pa.DataType], check: _Checker) -> pd.DataFrame:
    """Parse every typed column of a text frame, reporting each value that does not parse."""
    out = {}
    for name, typ in types.items():
        raw = frame[name].astype("string").str.strip()
        empty = raw.isna() | (raw == "")
        if pa.types.is_date32(typ):
            parsed = pd.to_datetime(raw, format="%Y-%m-%d", errors="coerce")
            bad = ~empty & parsed.isna()
            check.mask(bad, name, lambda i, r=raw: f"{r.iat[i]!r} is not a date (expected YYYY-MM-DD)")
        elif pa.types.is_integer(typ):
            parsed = pd.to_numeric(raw, errors="coerce")
            whole = parsed.notna() & (parsed == np.floor(parsed))
            bad = ~empty & ~whole
            check.mask(bad, name, lambda i, r=raw: f"{r.iat[i]!r} is not a whole number")
            parsed = parsed.where(whole).astype("Int64")
        elif pa.types.is_floating(typ):
            parsed = pd.to_numeric(raw, errors="coerce")
            bad = ~empty & parsed.isna()
            check.mask(bad, name, lambda i, r=raw: f"{r.iat[i]!r} is not a number")
        else:
            out[name] = raw.astype("category")  # emptiness of text is judged with the values
            continue
        check.mask(empty, name, "empty value")
        out[name] = parsed
    return pd.DataFrame(out)


def read_table(
    path: Path,
    kind: str,
    cfg: Config,
    known_units: set[str] | None,
    today: dt.date | None = None,
    base: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
) -> Prepared:
    """Read and validate one canonical CSV; raise ValidationError listing every problem.

    known_units: the unit codes a row may refer to (None for the units table itself).
    base: for daily vaccination input, returns the stored cumulative value on the day before
    each series' first date (columns unit_code, age_band, dose, people_cumulative).
    """
    path = Path(path)
    spec = KINDS.get(kind)
    if spec is None:
        raise InputError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    source = str(path)
    if path.stat().st_size == 0:
        raise ValidationError(source, [Problem(None, None, "the file is empty")])
    today = today or dt.date.today()

    header = _header(path)
    types = dict(spec.columns)
    daily = kind == "vaccinations" and DAILY_COLUMN in header and "people_cumulative" not in header
    if daily:
        types[DAILY_COLUMN] = types.pop("people_cumulative")
    missing = [c for c in types if c not in header]
    if missing:
        expected = ", ".join(types)
        raise ValidationError(
            source, [Problem(1, c, f"missing column (a {kind} file has columns {expected})") for c in missing]
        )

    with ThreadPoolExecutor(max_workers=1) as pool:  # hashing releases the GIL: overlap it with the read
        digest = pool.submit(sha256_of, path)
        frame = _fast_read(path, types)
    if frame is not None:
        check = _Checker(np.arange(2, 2 + len(frame)))
    else:
        text, lines = _text_read(path)
        check = _Checker(lines)
        frame = _parse_text(text, types, check)
    frame = frame[list(types)]
    if frame.empty:
        raise ValidationError(source, [Problem(None, None, "the file has a header but no rows")])

    for col in ("unit_code", *spec.text):
        frame[col] = _nfc(frame[col])

    _check_values(frame, spec, types, cfg, known_units, today, check)
    key, sizes = _key_codes(frame, list(spec.keys))
    frame, key, dropped = _dedupe(frame, key, spec, check)
    if check.errors:
        raise ValidationError(source, check.problems)

    if kind == "vaccinations":
        frame["dose"] = frame["dose"].astype("int8")
        if daily:
            frame = _daily_to_cumulative(frame, base)
            key, sizes = _key_codes(frame, list(spec.keys))
        # keys are (date, unit_code, age_band, dose): the key without its date digit is the series
        _warn_decreases(frame, key % np.prod(sizes[1:]), check)
    return Prepared(kind, frame.reset_index(drop=True), source, digest.result(), check.warnings, dropped)


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


def _check_values(frame, spec: Kind, types, cfg: Config, known_units, today, check: _Checker):
    for col in ("unit_code", "age_band", "unit_name"):
        if col in frame:
            check.mask(frame[col].isna(), col, "empty value")
    codes = frame["unit_code"]
    if known_units is not None:
        unknown = np.array([c not in known_units for c in codes.cat.categories] + [False])
        check.mask(unknown[codes.cat.codes.to_numpy()], "unit_code", lambda i: f"unknown unit {codes.iat[i]!r}")
    if "age_band" in frame:
        labels = frame["age_band"]
        if spec.name == "population":
            resolved = _recode(labels, lambda s: s.strip() if s.strip() in cfg.bands else None)
            expected = f"an age band ({', '.join(cfg.bands)})"
        else:
            resolved = _recode(labels, cfg.resolve_label)
            expected = f"an age band or group ({', '.join(cfg.labels)})"
        bad = resolved.isna() & labels.notna()
        check.mask(bad, "age_band", lambda i: f"{labels.iat[i]!r} is not {expected}")
        frame["age_band"] = resolved
    if "dose" in frame:
        dose = frame["dose"]
        check.mask(dose.notna() & ~dose.isin([1, 2, 3, 4]), "dose", lambda i: f"dose {dose.iat[i]} is not 1, 2, 3 or 4")
    for col in spec.counts + ((DAILY_COLUMN,) if DAILY_COLUMN in frame else ()):
        if col in frame:
            values = frame[col]
            check.mask(values.notna() & (values < 0), col, lambda i, v=values: f"negative count {v.iat[i]}")
    if "date" in frame:
        dates = frame["date"]
        future = dates > pd.Timestamp(today)
        check.mask(future, "date", lambda i: f"{dates.iat[i]:%Y-%m-%d} is in the future")
        early = dates < pd.Timestamp(cfg.campaign_start)
        check.mask(
            early,
            "date",
            lambda i: f"{dates.iat[i]:%Y-%m-%d} is before the campaign started ({cfg.campaign_start:%Y-%m-%d})",
            severity="warning",
        )
    if spec.name == "units":
        for col, lo, hi in (("lat", -90, 90), ("lon", -180, 180)):
            v = frame[col]
            check.mask(v.notna() & ((v < lo) | (v > hi)), col, lambda i, v=v: f"{v.iat[i]} is out of range")


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
            if numbers.dtype.kind == "M":  # whole days since the epoch, in one integer division
                per_day = np.timedelta64(1, "D") // np.timedelta64(1, np.datetime_data(numbers.dtype)[0])
                numbers = numbers.view(np.int64) // per_day
            numbers = numbers.astype(np.int64, copy=False)
            low = numbers.min() if len(numbers) else 0
            codes, size = numbers - low, (numbers.max() - low + 1 if len(numbers) else 1)
        else:
            codes, uniques = pd.factorize(values, use_na_sentinel=True)
            codes, size = codes.astype(np.int64) + 1, len(uniques) + 1
        combined = combined * size + codes
        sizes.append(int(size))
    return combined, sizes


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
    check.rows = check.rows[~exact]
    later = key.duplicated(keep="first").to_numpy()
    if later.any():
        first_row = pd.Series(check.rows, index=frame.index).groupby(key).transform("min").to_numpy()

        def message(i: int) -> str:
            shown = ", ".join(f"{k}={_show(frame[k].iat[i])}" for k in keys)
            return f"same key ({shown}) as row {first_row[i]} with different values"

        check.mask(later, None, message)
    return frame, key.to_numpy(), int(exact.sum())


def _show(value) -> str:
    if isinstance(value, pd.Timestamp):
        return f"{value:%Y-%m-%d}"
    return str(value)


def _series_order(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(["unit_code", "age_band", "dose", "date"], kind="stable")


def _daily_to_cumulative(frame: pd.DataFrame, base) -> pd.DataFrame:
    """Daily new doses → people_cumulative: running sum on top of what was stored before."""
    frame = _series_order(frame)
    keys = ["unit_code", "age_band", "dose"]
    running = frame.groupby(keys, observed=True, sort=False)[DAILY_COLUMN].cumsum()
    frame = frame.drop(columns=[DAILY_COLUMN]).assign(people_cumulative=running.astype("int64"))
    if base is not None:
        starts = frame.groupby(keys, observed=True, sort=False)["date"].min().reset_index()
        prior = base(starts)
        if prior is not None and not prior.empty:
            prior = prior.astype({"unit_code": "string", "age_band": "string"})
            merged = frame.astype({"unit_code": "string", "age_band": "string"}).merge(
                prior.rename(columns={"people_cumulative": "_base"}), on=keys, how="left"
            )
            frame = frame.assign(
                people_cumulative=(merged["_base"].fillna(0).to_numpy() + frame["people_cumulative"].to_numpy())
            )
    frame["people_cumulative"] = frame["people_cumulative"].astype("int64")
    return frame.sort_values(["date", "unit_code", "age_band", "dose"], kind="stable")


def _warn_decreases(frame: pd.DataFrame, series: np.ndarray, check: _Checker) -> None:
    """A cumulative count below the previous report of the same series is a correction: warn."""
    dates = frame["date"].to_numpy()
    if (dates[1:] >= dates[:-1]).all() and series.max(initial=0) < 2**15:
        order = np.argsort(series.astype(np.int16), kind="stable")  # radix sort: O(rows)
    else:
        order = np.lexsort((dates, series))
    people = frame["people_cumulative"].to_numpy()[order]
    ordered = series[order]
    same = ordered[1:] == ordered[:-1]
    down = np.flatnonzero(same & (people[1:] < people[:-1])) + 1
    if not len(down):
        return
    positions, values, before = order[down], people[down], people[down - 1]
    sub = _Checker(check.rows[positions])
    sub.mask(
        np.ones(len(positions), bool),
        "people_cumulative",
        lambda i: f"cumulative count {values[i]} is lower than the previous report ({before[i]}): a correction",
        severity="warning",
    )
    check.problems.extend(sub.problems)
