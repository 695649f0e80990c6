"""Stage 2, the raw table: the header row found and every cell as text, with the file's line number (or
the sheet's row number) of every row, from delimited text or an .xlsx workbook, within the size limits."""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime as dt
import io
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from tracker.config import Limits
from tracker.errors import Problem, ValidationError
from tracker.ingest.decode import BOMS, CONTROL, decode, not_a_table, sniff_delimiter, sniff_format, utf16_without_bom
from tracker.ingest.options import HEADER_SEARCH_ROWS, ReadOptions, fold

XLSX_MAX_COLUMNS = 256  # a sheet formatted across all 16 384 columns is read this far
XLSX_MAX_BLANK_ROWS = 10_000  # … and stops after this many empty rows in a row
MAX_WORKBOOK_PARTS = 10_000  # files inside an .xlsx (a real workbook has a few dozen)


@dataclass
class RawTable:
    """A file's header and text columns (positional, categorical), each row with its file row number."""

    header: list[str]
    header_row: int
    body: pd.DataFrame  # columns 0..n-1, categorical text, "" for an empty cell
    rows: np.ndarray  # file line number (CSV) or sheet row number (xlsx) of each body row
    detected: dict = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    label: str = ""  # the source as shown in errors ("file.xlsx, sheet 'B'")


def read_raw(
    data: bytes, source: str, options: ReadOptions, score: Callable[[list[str]], int], limits: Limits | None = None
) -> RawTable:
    """Read a text file or a workbook; `score(cells)` says how many known columns a row names (header search).

    ``limits`` (config [upload]) bound what is unpacked and parsed: a workbook's parts are checked before
    it is opened, rows and columns and the length of a value while the file is read. None: no limits
    (a drop already accepted, replayed by rebuild).
    """
    fmt = sniff_format(data[:16], source)
    if fmt == "xlsx":
        return _read_xlsx(data, source, options, score, limits)
    return _read_text(data, source, options, score, limits)


def _too_big(source: str, code: str, row: int | None = None, **params) -> ValidationError:
    return ValidationError(source, [Problem.of(row, None, f"limit.{code}", **params)])


def check_workbook(data: bytes, source: str, limits: Limits) -> None:
    """Refuse a workbook whose parts would unpack too big, or too many times their packed size, before any
    of it is unpacked (zipfile never unpacks more than a part's declared size)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise not_a_table(source, "bad_zip", detail=str(exc)) from None
    if len(parts) > MAX_WORKBOOK_PARTS:
        raise _too_big(source, "parts", count=len(parts), limit=MAX_WORKBOOK_PARTS)
    for part in parts:
        if part.file_size > limits.max_unpacked_mb * 2**20:
            size, limit = _mb(part.file_size), limits.max_unpacked_mb
            raise _too_big(source, "unpacked", part=part.filename, size=size, limit=limit)
        ratio = part.file_size / max(part.compress_size, 1)
        if part.file_size > 2**20 and ratio > limits.max_ratio:
            raise _too_big(source, "ratio", part=part.filename, ratio=int(ratio), limit=limits.max_ratio)


def _mb(size: int) -> float:
    return round(size / 2**20, 1)


def _field_limit(limits: Limits | None) -> int:
    """The longest value allowed, in characters (the csv module's limit is per field too)."""
    return limits.max_field_kb * 1024 if limits else 2**31 - 1


def _choose_header(top: list[tuple[int, list[str]]], score: Callable[[list[str]], int]) -> int:
    for i, (_, cells) in enumerate(top):
        if score(cells) >= 2:
            return i
    scores = [score(cells) for _, cells in top]
    return int(np.argmax(scores)) if scores and max(scores) > 0 else 0


def _clean_header(cells: list[str]) -> list[str]:
    header = [unicodedata.normalize("NFC", str(c)).strip() for c in cells]
    while header and header[-1] == "":
        header.pop()
    return header


def _frame(columns: list[list[str]]) -> pd.DataFrame:
    return pd.DataFrame({i: pd.Categorical(col) for i, col in enumerate(columns)})


def _drop_blank(body: pd.DataFrame, rows: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
    if body.empty:
        return body, rows
    blank = np.ones(len(body), dtype=bool)
    for col in body.columns:
        values = body[col]
        cats = values.cat.categories
        empty = np.array([str(c).strip() == "" for c in cats] + [True])
        blank &= empty[values.cat.codes.to_numpy()]
    if not blank.any():
        return body, rows
    return body[~blank].reset_index(drop=True), rows[~blank]


def _ragged(rows: list[tuple[int, list[str]]], width: int) -> tuple[list[list[str]], list[Problem]]:
    """Cells by column (padded to the header's width); a row with more non-empty cells than that is an error."""
    problems = []
    columns: list[list[str]] = [[] for _ in range(width)]
    for line, cells in rows:
        if len(cells) > width and any(c.strip() for c in cells[width:]):
            problems.append(Problem.of(line, None, "file.too_many_values", count=len(cells), width=width))
        for i in range(width):
            columns[i].append(cells[i] if i < len(cells) else "")
    return columns, problems


def _read_text(data: bytes, source: str, options: ReadOptions, score, limits: Limits | None) -> RawTable:
    if b"\x00" in data[:4096] and not any(data.startswith(b) for b, _ in BOMS) and not utf16_without_bom(data):
        raise not_a_table(source, "binary", size=len(data), start=data[:8].hex(" "))
    text, detected, same = decode(data, source, options.encoding)
    sample = text[:65536]
    if sample and len(CONTROL.findall(sample)) > max(2, len(sample) // 100):
        raise not_a_table(source, "binary", size=len(data), start=data[:8].hex(" "))
    delimiter = options.delimiter or sniff_delimiter(text)
    detected = {"format": "csv", **detected, "delimiter": delimiter}

    head = text[: 1 << 20]  # the header is among the first rows: parse only those here
    if len(head) < len(text) and "\n" in head:
        head = head[: head.rfind("\n") + 1]
    if limits is not None and text.count("\n") > limits.max_rows:
        raise _too_big(source, "rows", limit=limits.max_rows)
    stream = io.StringIO(head, newline="")
    top: list[tuple[int, list[str]]] = []  # (line, cells) of the first non-blank rows
    ends: list[tuple[int, int]] = []  # (character offset, line) at the end of each of them
    with _fields_up_to(_field_limit(limits)):
        reader = csv.reader(stream, delimiter=delimiter)
        previous = 0
        try:
            for cells in reader:
                line, previous = previous + 1, reader.line_num
                if limits is not None and len(cells) > limits.max_columns:
                    raise _too_big(source, "columns", line, count=len(cells), limit=limits.max_columns)
                if any(c.strip() for c in cells):
                    top.append((line, cells))
                    ends.append((stream.tell(), reader.line_num))
                    if len(top) >= HEADER_SEARCH_ROWS:
                        break
        except csv.Error:  # a value longer than the limit
            raise _too_big(source, "field", reader.line_num + 1, limit=limits.max_field_kb if limits else 0) from None
    if not top:
        raise ValidationError(source, [Problem.of(None, None, "file.empty")])
    at = _choose_header(top, score)
    header_row, cells = top[at]
    header = _clean_header(cells)
    offset, last_header_line = ends[at]
    if same:  # the file's own bytes, after the byte order mark
        encoded, start = data, _bom_length(data)
    else:
        encoded, start = text.encode("utf-8"), 0
    start += len(text[:offset].encode("utf-8"))
    width = max(len(cells), 1)  # trailing empty header cells too: Excel pads every row to the same width
    body, rows, problems = _text_body(
        text, offset, encoded, start, delimiter, width, last_header_line + 1, source, limits
    )
    body, rows = _drop_blank(body, rows)
    return RawTable(header, header_row, body, rows, detected, problems, source)


def _bom_length(data: bytes) -> int:
    return len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0


def _text_body(
    text: str,
    offset: int,
    encoded: bytes,
    start: int,
    delimiter: str,
    width: int,
    first_line: int,
    source: str,
    limits: Limits | None,
):
    """The rows after the header (text[offset:], the same as encoded[start:] in UTF-8) as categorical
    columns, with their line numbers.

    Without double quotes every row is one line, so pyarrow's multithreaded reader is used (large
    files that failed the fast path); otherwise, or when rows are ragged, Python's csv module.
    """
    if encoded.find(b'"', start) < 0:
        try:
            table = pacsv.read_csv(
                pa.BufferReader(pa.py_buffer(encoded)[start:]),
                read_options=pacsv.ReadOptions(column_names=[str(i) for i in range(width)], block_size=1 << 24),
                parse_options=pacsv.ParseOptions(delimiter=delimiter, ignore_empty_lines=False, quote_char=False),
                convert_options=pacsv.ConvertOptions(
                    column_types={str(i): pa.dictionary(pa.int32(), pa.string()) for i in range(width)},
                    strings_can_be_null=False,
                ),
            )
            body = table.to_pandas()
            body.columns = range(width)
            rows = np.arange(first_line, first_line + len(body))
            check_field_lengths(body, rows, source, limits)
            return body, rows, []
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass  # ragged rows: read them one by one below
    rows: list[tuple[int, list[str]]] = []
    with _fields_up_to(_field_limit(limits)):
        reader = csv.reader(io.StringIO(text[offset:], newline=""), delimiter=delimiter)
        previous = 0
        try:
            for cells in reader:
                line, previous = first_line + previous, reader.line_num
                if cells:
                    rows.append((line, cells))
        except csv.Error:  # a value longer than the limit
            line = first_line + reader.line_num
            raise _too_big(source, "field", line, limit=limits.max_field_kb if limits else 0) from None
    columns, problems = _ragged(rows, width)
    return _frame(columns), np.array([r for r, _ in rows], dtype=np.int64), problems


def check_field_lengths(body: pd.DataFrame, rows: np.ndarray, source: str, limits: Limits | None) -> None:
    """A value longer than the limit (checked per distinct value of each text column) is refused at its row."""
    if limits is None:
        return
    longest = _field_limit(limits)
    for column in body.columns:
        values = body[column]
        if not isinstance(values.dtype, pd.CategoricalDtype):
            continue
        long = np.flatnonzero(values.cat.categories.str.len().to_numpy() > longest)
        if len(long):
            first = int(np.flatnonzero(np.isin(values.cat.codes.to_numpy(), long))[0])
            raise _too_big(source, "field", int(rows[first]), limit=limits.max_field_kb)


@contextlib.contextmanager
def _fields_up_to(size: int):
    """The csv module's field limit (process-wide) set to ``size`` while a file is read."""
    before = csv.field_size_limit()
    csv.field_size_limit(max(size, 1))
    try:
        yield
    finally:
        csv.field_size_limit(before)


def cell_text(value) -> str:
    """An .xlsx cell as text: numbers without a spurious ".0", dates as yyyy-mm-dd, formulas as written."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return f"{value:%Y-%m-%d}"
        return f"{value:%Y-%m-%d %H:%M:%S}"
    if isinstance(value, dt.date):
        return f"{value:%Y-%m-%d}"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.time):
        return value.isoformat()
    return unicodedata.normalize("NFC", str(value))


def _sheet(workbook, wanted, source: str):
    names = workbook.sheetnames
    if wanted is None or wanted == "":
        return workbook.worksheets[0]
    if isinstance(wanted, int) or (isinstance(wanted, str) and wanted.strip().isdigit() and wanted not in names):
        index = int(wanted)
        if 0 <= index < len(names):
            return workbook.worksheets[index]
    else:
        for name in names:
            if name == wanted or fold(name).strip() == fold(str(wanted)).strip():
                return workbook[name]
    shown = [f"{i}: {n!r}" for i, n in enumerate(names)]
    raise ValidationError(source, [Problem.of(None, None, "file.no_sheet", sheet=str(wanted), sheets=shown)])


def _read_xlsx(data: bytes, source: str, options: ReadOptions, score, limits: Limits | None) -> RawTable:
    import openpyxl  # imported here: only workbooks need it

    if limits is not None:
        check_workbook(data, source, limits)
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as exc:  # a damaged or non-Excel ZIP: zipfile, KeyError, XML errors …
        raise not_a_table(source, "bad_zip", detail=str(exc)) from None
    try:
        sheet = _sheet(workbook, options.sheet, source)
        label = f"{source}, sheet {sheet.title!r}"
        rows: list[tuple[int, list[str]]] = []
        last = 0
        cells_by_row = sheet.iter_rows(min_row=1, min_col=1, max_col=XLSX_MAX_COLUMNS, values_only=True)
        longest = _field_limit(limits)
        for number, values in enumerate(cells_by_row, start=1):
            if limits is not None and number > limits.max_rows:
                raise _too_big(label, "rows", limit=limits.max_rows)
            cells = [cell_text(v) for v in values]
            if limits is not None and any(len(c) > longest for c in cells):
                raise _too_big(label, "field", number, limit=limits.max_field_kb)
            while cells and cells[-1].strip() == "":
                cells.pop()
            if cells:
                rows.append((number, cells))
                last = number
            elif number - last > XLSX_MAX_BLANK_ROWS:
                break  # formatting down to row 1 048 576: the table has ended
        detected = {"format": "xlsx", "sheet": sheet.title, "sheets": list(workbook.sheetnames)}
    finally:
        workbook.close()
    if not rows:
        raise ValidationError(label, [Problem.of(None, None, "file.sheet_empty", sheet=sheet.title)])
    at = _choose_header(rows[:HEADER_SEARCH_ROWS], score)
    header_row, cells = rows[at]
    header = _clean_header(cells)
    width = max(len(header), 1)
    columns, problems = _ragged(rows[at + 1 :], width)
    body = _frame(columns)
    numbers = np.array([r for r, _ in rows[at + 1 :]], dtype=np.int64)
    return RawTable(header, header_row, body, numbers, detected, problems, label)
