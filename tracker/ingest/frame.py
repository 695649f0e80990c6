"""Stage 4, the canonical frame: a canonical CSV on the fast path (pyarrow's typed reader), anything else
through stages 1-3 and every column parsed value by value, each problem with its row and column."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

import numpy as np
import pandas as pd
import pyarrow as pa

from tracker.errors import Problem, ValidationError
from tracker.i18n import Term
from tracker.ingest.clean import arrow_read
from tracker.ingest.decode import not_a_table
from tracker.ingest.headers import score
from tracker.ingest.kinds import DAILY_COLUMN, STR, Checker, Kind
from tracker.ingest.options import DAILY, ReadOptions
from tracker.ingest.plan import arrange, plan_columns
from tracker.ingest.raw_table import read_raw
from tracker.ingest.source import Input
from tracker.ingest.values import parse_count, parse_date, parse_dose, parse_float


def fast_read(inp: Input, raw_header: list[str], types: dict[str, pa.DataType]) -> pd.DataFrame | None:
    """The typed multithreaded read as a pandas frame (text as categories); None when any value does not
    parse or is empty."""
    table = arrow_read(inp, raw_header, types)
    if table is None:
        return None
    # column by column, each Arrow column freed once converted; then the Arrow pool gives its memory back
    # to the system, for the checks that follow (peak memory at country scale: docs/performance.md)
    frame = table.to_pandas(date_as_object=False, split_blocks=True, self_destruct=True)
    del table
    pa.default_memory_pool().release_unused()
    return frame


def slow_read(data: bytes, name: str, spec: Kind, options: ReadOptions, limits):
    """Read any supported file as text, map its columns, lay it out long and parse every value."""

    def known(cells: list[str]) -> int:  # how many cells name a column of this kind
        return score(cells, spec.name, spec.columns, options)

    raw = read_raw(data, name, options, known, limits)
    header = raw.header
    label = raw.label or name
    if known(header) == 0 and sum(1 for h in header if h) <= 1:
        shown = repr(header[0]) if header else "nothing"
        raise not_a_table(
            label, "single_column", header=shown, at_row=raw.header_row, rows=len(raw.body),
            kind=Term(f"term.{spec.name}"), columns=list(spec.columns),
        )  # fmt: skip
    if raw.body.empty and not raw.problems:
        raise ValidationError(label, [Problem.of(None, None, "file.header_only")])
    plan = plan_columns(header, spec.name, spec.columns, options, label, raw.header_row)
    text, rows, labels = arrange(raw, plan, header)
    types = dict(spec.columns)
    if spec.name == "vaccinations" and plan.measure == DAILY:
        types[DAILY_COLUMN] = types.pop("people_cumulative")
    check = Checker(rows, labels)
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


def _parse_text(frame: pd.DataFrame, types: dict[str, pa.DataType], check: Checker, order: str) -> pd.DataFrame:
    """Parse every column of a text frame value by value, reporting each value that does not parse.

    ``order``: how dates with slashes are read, "dmy" or "mdy" (ReadOptions.date_order)."""
    out = {}
    for name, typ in types.items():
        cats, codes = _categories(frame[name])
        empty = np.array([c == "" for c in cats] + [True])[codes]
        formula = np.array([c.startswith("=") for c in cats] + [False])[codes]
        check.mask(formula, name, lambda i, c=cats, k=codes: ("value.formula", {"value": c[k[i]]}))
        if typ == STR:
            out[name] = recode(frame[name], lambda s: s.strip() or None)  # emptiness is judged with the values
            continue
        if pa.types.is_date32(typ):
            parsed = [parse_date(c, order) if c and not c.startswith("=") else (None, None, None) for c in cats]
            values = np.array([p[0] if p[0] else None for p in parsed] + [None], dtype="datetime64[ms]")
            errors = [p[2] for p in parsed]
            _check_date_formats(cats, codes, [p[1] for p in parsed], errors, name, check, order)
            out[name] = pd.Series(values[codes], index=frame.index)
        elif pa.types.is_integer(typ):
            parse = parse_dose if name == "dose" else parse_count
            values, errors = _per_value(cats, parse, plain_ints=True)
            ints = np.array([v if v is not None else 0 for v in values] + [0], dtype=np.int64)
            missing = np.array([v is None for v in values] + [True])
            out[name] = pd.Series(pd.arrays.IntegerArray(ints[codes], missing[codes]), index=frame.index)
        else:
            values, errors = _per_value(cats, parse_float)
            floats = np.array([v if v is not None else np.nan for v in values] + [np.nan], dtype=np.float64)
            out[name] = pd.Series(floats[codes], index=frame.index)
        bad = np.array([e is not None for e in errors] + [False])[codes]
        check.mask(bad, name, lambda i, e=errors, k=codes: e[k[i]], check=f"parse.{name}")
        check.mask(empty, name, ("value.empty", {}))
    return pd.DataFrame(out, index=frame.index)


def _check_date_formats(cats, codes, families, errors, name, check: Checker, order: str) -> None:
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


def nfc(series: pd.Series) -> pd.Series:
    """NFC-normalise a text column (per distinct value); blank values become missing."""
    return recode(series, lambda s: unicodedata.normalize("NFC", s.strip()) or None)


def recode(series: pd.Series, fn: Callable[[str], str | None]) -> pd.Series:
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
