"""The entry points, the stages in order: read_table (a file) and read_bytes (an upload's bytes)."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict, Unpack

import numpy as np

from tracker.config import Config
from tracker.errors import InputError, Problem, ValidationError
from tracker.ingest.clean import fast_detected, fast_header, file_rows, read_clean
from tracker.ingest.kinds import DAILY_COLUMN, KINDS, Checker, Kind, KnownUnits, Prepared, Sink, by_row
from tracker.ingest.options import ReadOptions
from tracker.ingest.source import Input
from tracker.ingest.values import UnitResolver

if TYPE_CHECKING:
    import pyarrow as pa


class Reading(TypedDict, total=False):
    """The keyword arguments of read_table and read_bytes, all optional.

    today: no date may be after it (default: today).
    base: given a pyarrow Table of series and dates (unit_code, age_band, dose, date), returns the stored
    cumulative value on the day before each of them (-1 where nothing is stored), one per row: daily
    input is added on top of it, and cumulative input below it is warned about.
    options: how to read the file; what is left at None is detected (tracker.ingest: the detection rules).
    limited: apply cfg.limits (size, unpacked size, rows, columns, value length) before and while
    parsing (default True); False only for a drop already accepted once (rebuild).
    keep: makes a Sink the file's bytes are written to as they are read and hashed, when a file on disk
    takes the canonical path (tracker.ingest.clean); the Prepared holds it as ``kept``. The store
    passes its compressed raw-file writer when a commit follows, so that the file is read once.
    """

    today: dt.date | None
    base: Callable[[pa.Table], np.ndarray] | None
    options: ReadOptions | None
    limited: bool
    keep: Callable[[], Sink] | None


def read_table(path: Path, kind: str, cfg: Config, known_units: KnownUnits, **reading: Unpack[Reading]) -> Prepared:
    """Read and validate one file (CSV/TSV/Unicode Text or .xlsx); raise ValidationError listing every problem.

    known_units: the units a row may refer to (None for the units table itself): a set of unit codes,
    or their names by code (a dict, or a frame with unit_code and unit_name), with which rows may name a
    unit instead of giving its code.
    reading: today, base, options, limited (see Reading).
    Raises MeasureNeeded when cumulative or daily cannot be told from the headers and options.measure is None.
    """
    path = Path(path)
    spec = _spec(kind)
    if not path.is_file():
        raise InputError(code="file.not_found", path=str(path))
    return _prepare(Input(str(path), path=path), spec, cfg, known_units, **reading)


def read_bytes(
    data: bytes, filename: str, kind: str, cfg: Config, known_units: KnownUnits, **reading: Unpack[Reading]
) -> Prepared:
    """`read_table` for a file already in memory (an upload); nothing is written to disk."""
    spec = _spec(kind)
    inp = Input(str(filename), data=bytes(data))
    return _prepare(inp, spec, cfg, known_units, **reading)


def _spec(kind: str) -> Kind:
    spec = KINDS.get(kind)
    if spec is None:
        raise InputError(code="option.unknown_kind", kind=kind, kinds=list(KINDS))
    return spec


def _prepare(
    inp: Input,
    spec: Kind,
    cfg,
    known_units,
    *,
    today=None,
    base=None,
    options=None,
    limited: bool = True,
    clean: bool = True,
    keep: Callable[[], Sink] | None = None,
) -> Prepared:
    """The stages in order. ``clean``: a canonical cumulative vaccinations CSV with nothing to refuse is
    read, checked and kept in Arrow (tracker.ingest.clean); False reads every file the general way."""
    options = options or ReadOptions()
    options.check()
    limits = cfg.limits if limited else None
    if inp.size == 0:
        raise ValidationError(inp.name, [Problem.of(None, None, "file.empty")])
    if limits is not None and inp.size > limits.max_mb * 2**20:
        size = round(inp.size / 2**20, 1)
        raise ValidationError(inp.name, [Problem.of(None, None, "limit.file_size", size=size, limit=limits.max_mb)])
    today = today or dt.date.today()
    if clean:
        prepared = read_clean(inp, spec, cfg, known_units, today, base, options, limits, keep)
        if prepared is not None:
            return prepared
    return _general(inp, spec, cfg, known_units, today, base, options, limits)


def _general(inp: Input, spec: Kind, cfg, known_units, today, base, options, limits) -> Prepared:
    """Any file, with pandas: each problem found and worded with its row and column."""
    from tracker.ingest.checks import check_values, daily_to_cumulative, dedupe, key_codes, warn_series
    from tracker.ingest.frame import fast_read, nfc, slow_read
    from tracker.ingest.raw_table import check_field_lengths

    frame = None
    fast = fast_header(inp, spec, options)
    if fast is not None:
        raw_header, types = fast
        with ThreadPoolExecutor(max_workers=1) as pool:  # hashing releases the GIL: overlap it with the read
            scan = pool.submit(inp.scan)
            frame = fast_read(inp, raw_header, types)
            digest, quoted = scan.result()
    if frame is not None:
        rows = file_rows(inp, len(frame), quoted)
        if limits is not None and len(frame) > limits.max_rows:
            raise ValidationError(inp.name, [Problem.of(None, None, "limit.rows", limit=limits.max_rows)])
        check_field_lengths(frame, rows, inp.name, limits)
        check = Checker(rows)
        label = inp.name
        daily = DAILY_COLUMN in types
        detected = fast_detected(spec, types)
    else:
        data = inp.read()
        digest = hashlib.sha256(data).hexdigest()
        frame, types, check, label, detected = slow_read(data, inp.name, spec, options, limits)
        daily = DAILY_COLUMN in types
    frame = frame[list(types)]
    if frame.empty and not check.errors:
        empty = "file.header_only_wide" if detected.get("layout") == "wide" else "file.header_only"
        raise ValidationError(label, [Problem.of(None, None, empty)])

    for col in ("unit_code", *spec.text):
        frame[col] = nfc(frame[col])

    units = None if known_units is None else UnitResolver(known_units)
    check_values(frame, spec, cfg, units, today, check)
    key, sizes = key_codes(frame, list(spec.keys))
    frame, key, dropped = dedupe(frame, key, spec, check)
    if check.errors:
        raise check.error(label)

    running = None
    if spec.name == "vaccinations":
        frame["dose"] = frame["dose"].astype("int8")
        if daily:
            frame, order, running = daily_to_cumulative(frame.reset_index(drop=True), base)
            check.keep(order)
            key, sizes = key_codes(frame, list(spec.keys))
        # keys are (date, unit_code, age_band, dose): the key without its date digit is the series
        series = key % np.prod(sizes[1:])
        del key  # millions of 8 bytes no longer needed
        if series.max(initial=0) < 2**31:
            series = series.astype(np.int32)
        warn_series(frame, series, check, base, daily)
    for col in spec.counts:
        if col in frame and frame[col].dtype != np.int64:
            frame[col] = frame[col].astype("int64")
    return Prepared(
        spec.name,
        frame.reset_index(drop=True),
        inp.name,
        digest,
        by_row(check.warnings),
        dropped,
        detected={k: v for k, v in detected.items() if v not in (None, [], {})},
        rows=check.rows,
        running=running,
    )
