"""A canonical vaccinations CSV read, checked and handed to the store in Arrow, without pandas.

The file a district system exports and `tracker ingest` loads at country scale: UTF-8, commas, the
canonical headers on line 1 (`fast_header`), cumulative counts. pyarrow's multithreaded reader gives
typed columns with text as dictionaries (`arrow_read`); each rule is checked on the few distinct values
of the dictionaries or on numpy views of the numbers and dates; the table that is stored is that same
Arrow table, its unit and age-group dictionaries replaced by the resolved codes and labels.

This path never words an error. Whatever the general path (tracker.ingest.frame and checks, with
pandas) would refuse or word row by row sends the file there: a value that does not parse or is
empty, a unit or age label that does not resolve, a formula, a dose outside 1-4, a count below zero or
above the limit, a date in the future or before the campaign, a key twice, a value over the length
limit, too many rows. Both paths therefore accept and refuse the same files, and every problem is
described in one place. The warnings along series (corrections, spikes, below what is stored) come from
the same functions on both paths (tracker.ingest.series).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import unicodedata
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from tracker.config import Config, Limits
from tracker.ingest.columns import arrow_array, arrow_strings, buffer_view, coded, days, dictionary_parts, numbers
from tracker.ingest.headers import score
from tracker.ingest.kinds import DAILY_COLUMN, STR, Checker, Kind, Lines, Prepared, Sink, by_row
from tracker.ingest.options import DOSES, ReadOptions
from tracker.ingest.series import full_export, has_repeats, key_codes, series_summary, warn_grid, warn_series
from tracker.ingest.source import Input, Tee, record_lines
from tracker.ingest.values import AgeResolver, UnitResolver

TEXT = pa.dictionary(pa.int32(), pa.string())


def fast_header(inp: Input, spec: Kind, options: ReadOptions) -> tuple[list[str], dict[str, pa.DataType]] | None:
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
    if others and score(others, spec.name, spec.columns, ReadOptions()) > 0:
        return None
    return raw, types


def _clean(name: str) -> str:
    """A header as the general path compares it: trimmed, NFC."""
    return unicodedata.normalize("NFC", name.strip())


def arrow_read(
    inp: Input, raw_header: list[str], types: dict[str, pa.DataType], in_numpy: bool = False, source=None
) -> pa.Table | None:
    """The typed multithreaded read, the columns of ``types`` under their canonical names; None when any
    value does not parse or is empty. ``source``: what to read the file's bytes from (a Tee), else the input.

    ``in_numpy``: each column as one array over numpy memory, which numpy gives back to the system as
    soon as it is freed where pyarrow's allocator keeps it: at 25 M rows the checks that follow would
    otherwise add their arrays to what the reader left behind (docs/performance.md)."""
    # text columns are parsed straight into dictionaries: few distinct values
    raw = {_clean(c): c for c in raw_header}
    typed = {raw[c]: TEXT if t == STR else t for c, t in types.items()}
    try:
        table = pacsv.read_csv(
            source if source is not None else inp.arrow_source(),
            read_options=pacsv.ReadOptions(use_threads=True, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(
                column_types=typed, strings_can_be_null=False, include_columns=list(typed)
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    table = table.rename_columns([_clean(c) for c in table.column_names])
    if any(table.column(c).null_count for c in types):
        return None
    table = table.select(list(types))
    if in_numpy:  # column by column, each column's chunks freed and given back before the next is copied
        for i, name in enumerate(table.column_names):
            table = table.set_column(i, name, _numpy_backed(table.column(i)))
            _release()
    return table


def read_clean(
    inp: Input,
    spec: Kind,
    cfg: Config,
    known_units,
    today: dt.date,
    base,
    options: ReadOptions,
    limits: Limits | None,
    keep: Callable[[], Sink] | None = None,
) -> Prepared | None:
    """A canonical cumulative vaccinations CSV with nothing to refuse, as a Prepared holding an Arrow
    table; None for any other file, or one the general path must read to say what is wrong.

    A file on disk is read once: hashed as pyarrow reads it and, with ``keep``, written to the sink that
    ``keep()`` makes as well (`Prepared.kept`: the store's compressed copy for the raw file)."""
    if spec.name != "vaccinations":
        return None
    fast = fast_header(inp, spec, options)
    if fast is None or DAILY_COLUMN in fast[1]:  # daily counts are made cumulative on the general path
        return None
    raw_header, types = fast
    kept = keep() if keep is not None and inp.path is not None else None
    try:
        prepared = _read_clean(inp, spec, cfg, known_units, today, base, limits, raw_header, types, kept)
    except BaseException:
        if kept is not None:
            kept.discard()
        raise
    if prepared is None and kept is not None:
        kept.discard()
    return prepared


def _read_clean(inp, spec, cfg, known_units, today, base, limits, raw_header, types, kept) -> Prepared | None:
    if inp.path is not None:
        tee = Tee(inp.path, kept)
        try:
            table = arrow_read(inp, raw_header, types, in_numpy=True, source=tee)
            digest, quoted = (tee.finish(), tee.quoted) if table is not None else ("", False)
        finally:
            tee.close()
    else:
        with ThreadPoolExecutor(max_workers=1) as pool:  # hashing releases the GIL: overlap it with the read
            scan = pool.submit(inp.scan)
            table = arrow_read(inp, raw_header, types, in_numpy=True)
            digest, quoted = scan.result()
    if table is None or table.num_rows == 0 or not _within_limits(table, limits):
        return None
    units = None if known_units is None else UnitResolver(known_units)
    table = _resolved(table, "unit_code", lambda v: _unit(v, units))
    table = table and _resolved(table, "age_band", AgeResolver(cfg).resolve)
    if table is None or not _within_rules(table, cfg, today):
        return None
    keys, dates = list(spec.keys[1:]), days(table.column("date"))  # the key without its date: the series
    grid = full_export(table, dates, keys)  # a full export: no key per row to build, and none can repeat
    series = key_codes(table, keys)[0] if grid is None else None
    if series is not None and _repeats(dates, series):
        return None
    # a line each unless a value is quoted: then the lines are counted, else computed when a warning names one
    rows = file_rows(inp, table.num_rows, quoted) if quoted else Lines(2, table.num_rows)
    check = Checker(rows)
    by = warn_series(table, series, check, base, False) if grid is None else warn_grid(table, grid, check, base, False)
    summary = series_summary(table, by)
    del series, by, dates
    _release()  # the checks' arrays, given back before the insert
    detected = fast_detected(spec, types)
    warnings = by_row(check.warnings)
    if kept is not None:
        kept.finish()
    return Prepared(
        spec.name, table, inp.name, digest, warnings, 0, detected=detected, rows=rows, series=summary, kept=kept
    )


def file_rows(inp: Input, n: int, quoted: bool) -> np.ndarray:
    """The file line of each of the n records of a canonical CSV (header = line 1): one line each unless
    a quoted value spans lines. 32 bits while they fit (half the memory of millions of them)."""
    line = np.int32 if n < 2**31 - 2 else np.int64
    return record_lines(inp.read(), n).astype(line) if quoted else np.arange(2, 2 + n, dtype=line)


def fast_detected(spec: Kind, types: dict[str, pa.DataType]) -> dict:
    """What a canonical CSV is, as `Prepared.detected` reports it."""
    measure = ("daily" if DAILY_COLUMN in types else "cumulative") if spec.name == "vaccinations" else None
    return {
        "format": "csv",
        "encoding": "utf-8",
        "delimiter": ",",
        "header_row": 1,
        "layout": "long",
        "measure": measure,
        "columns": {c: c for c in types},
        "read": "fast",
    }


def _release() -> None:
    """Give the memory pyarrow's pool holds unused back to the system: its allocator keeps what is freed
    for later, and at 25 M rows that would double the peak (docs/performance.md)."""
    pa.default_memory_pool().release_unused()


def _numpy_backed(column) -> pa.Array:
    """A column as one array over numpy memory (pyarrow arrays wrap it without a copy)."""
    if pa.types.is_dictionary(column.type):
        codes, dictionary = dictionary_parts(column)
        if not (codes.flags.owndata and codes.dtype == np.int32):  # a view of the chunk's own indices
            codes = np.array(codes, dtype=np.int32)
        return pa.DictionaryArray.from_arrays(arrow_array(codes), dictionary)
    parts = [buffer_view(c) for c in column.chunks]
    return arrow_array(np.concatenate(parts) if parts else np.zeros(0, dtype=np.int32), column.type)


def _repeats(dates: np.ndarray, series: np.ndarray) -> bool:
    """Whether a (date, series) key occurs twice (a full export, which cannot, is not asked: `full_export`)."""
    low, span = int(dates.min()), int(dates.max()) - int(dates.min()) + 1
    wide = int(series.max()) * span + span >= 2**31
    key = series.astype(np.int64 if wide else np.int32) * span
    key += (dates - low).astype(key.dtype)
    return has_repeats(key)


def _within_limits(table: pa.Table, limits: Limits | None) -> bool:
    if limits is None:
        return True
    if table.num_rows > limits.max_rows:
        return False
    longest = limits.max_field_kb * 1024
    for name in table.column_names:
        column = table.column(name)
        if pa.types.is_dictionary(column.type):
            for chunk in column.chunks:
                if any(len(value) > longest for value in chunk.dictionary.to_pylist()):
                    return False
    return True


def _unit(value: str, units: UnitResolver | None) -> str | None:
    """A unit code as the general path resolves it (NFC, trimmed; a code or a name); None: refused."""
    value = unicodedata.normalize("NFC", value.strip())
    if not value:
        return None
    if units is None:
        return value
    code, problem = units.resolve(value)
    return None if problem is not None else code


def _resolved(table: pa.Table, name: str, resolve) -> pa.Table | None:
    """The text column ``name`` with each distinct value resolved (a unit's code, an age group's label);
    None when a value does not resolve or is a formula."""
    found = coded(table.column(name))
    resolved = []
    for value in found.values:
        result = None if value.strip().startswith("=") else resolve(value)
        if result is None:
            return None
        resolved.append(result)
    if resolved == found.values:
        return table
    # distinct values that name the same unit or label ("1" and "001") get one code
    distinct = list(dict.fromkeys(resolved))
    position = {v: i for i, v in enumerate(distinct)}
    lookup = np.array([position[v] for v in resolved], dtype=np.int32)
    column = pa.DictionaryArray.from_arrays(arrow_array(lookup[found.codes]), arrow_strings(distinct))
    return table.set_column(table.column_names.index(name), name, column)


def _within_rules(table: pa.Table, cfg: Config, today: dt.date) -> bool:
    """Doses, counts and dates within the rules the general path words (tracker.ingest.checks.check_values)."""
    people, dates = numbers(table.column("people_cumulative")), days(table.column("date"))
    epoch = dt.date(1970, 1, 1)
    doses = numbers(table.column("dose"))
    if DOSES == tuple(range(min(DOSES), max(DOSES) + 1)):  # a range: its ends are enough
        known = bool(doses.min() >= min(DOSES) and doses.max() <= max(DOSES))
    else:
        known = bool(np.isin(doses, DOSES).all())
    return (
        known
        and people.min() >= 0 and people.max() <= cfg.limits.max_count
        and (cfg.campaign_start - epoch).days <= dates.min() and dates.max() <= (today - epoch).days
    )  # fmt: skip
