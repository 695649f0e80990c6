"""Reading messy district drops: encodings, delimiters, workbooks, synonyms, wide layouts, local formats.

`tracker.ingest.read_table` is the one ingest path. It reads a canonical UTF-8 comma CSV on its fast
path (pyarrow's typed reader) and everything else through this module:

1. `read_raw` turns the bytes of a CSV/TSV/"Unicode Text" file or an .xlsx workbook into a header and
   text columns, with the file's line number (or the sheet's row number) of every row.
2. `plan_columns` maps the header to canonical columns (synonyms in Vietnamese and English, compared
   blind to case, spacing, punctuation and diacritics) and finds the layout (long, or one column per
   dose) and the measure (cumulative or daily).
3. `arrange` lays the text out long, with canonical column names, and the parsers below read dates,
   counts, doses, age groups and unit names as districts write them.

Detection rules (each overridable through `ReadOptions`):

- Format: a ZIP archive (``PK\\x03\\x04``) is an .xlsx workbook; other binary content (NUL bytes
  without a UTF-16 byte order mark, control characters, known signatures such as PDF or old .xls)
  is "not a table". Everything else is delimited text.
- Encoding: a byte order mark decides (UTF-8, UTF-16 LE/BE, UTF-32); else UTF-16 without a mark when
  every other byte is NUL; else UTF-8 when the bytes decode strictly as UTF-8; else Windows-1258 when
  the bytes decode strictly as cp1258 *and* the text then reads as Vietnamese (`looks_vietnamese`):
  at least one of ă ơ ư đ, or a tone mark right after a vowel, and no tone mark anywhere else.
  Otherwise charset-normalizer's best guess; without one, the file is rejected (give an encoding).
  cp1258 is checked before the library because the library often names another code page
  (cp1250, cp1006, even UTF-16) for short Vietnamese files. Text is then normalised to NFC, so
  cp1258's combining tone marks and NFD names come out as precomposed letters.
- Delimiter: the one of tab, semicolon and comma that occurs most often outside double quotes in
  the header line: the first non-blank line that has any of them (ties: tab, then semicolon, then comma).
- Header: the first of the first 30 non-blank rows in which at least two cells name known columns
  (title rows above it are skipped); rows are still numbered as in the file.
- Columns: a rate or a share (a header with %, "per hundred", "tỷ lệ", …) is never a count of people.
  In a file with one column per dose, a count naming no dose ("people_vaccinated" beside
  "people_fully_vaccinated") is dose 1, at least one dose; any other count of the file's measure that
  would not be stored is an error naming it (map it to a dose, or to "ignore"). A column mapping
  (ReadOptions.columns) for a header the file does not have is an error listing the headers.
- Dates: yyyy-mm-dd always; with slashes, dots or dashes day/month/year, or month/day/year when
  ReadOptions.date_order is "mdy"; a two-digit year is 20yy.
- Constants (ReadOptions.constants, `--set age_band=18+`): a key column missing from the file, with
  the same value on every row, parsed and checked like a column of the file.

Every problem is a message id of tracker/messages.toml with its values (tracker.errors.Problem), so
the upload page shows it in Vietnamese or English and the command line in English.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime as dt
import difflib
import io
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from tracker.config import Config, Limits
from tracker.errors import InputError, MeasureNeeded, Problem, ValidationError
from tracker.geo import normalise_name
from tracker.i18n import Term

HEADER_SEARCH_ROWS = 30
XLSX_MAX_COLUMNS = 256  # a sheet formatted across all 16 384 columns is read this far
XLSX_MAX_BLANK_ROWS = 10_000  # … and stops after this many empty rows in a row
MAX_WORKBOOK_PARTS = 10_000  # files inside an .xlsx (a real workbook has a few dozen)
CUMULATIVE, DAILY = "cumulative", "daily"
MEASURES = (CUMULATIVE, DAILY)
DOSES = (1, 2, 3, 4)


DATE_ORDERS = ("dmy", "mdy")
OVERLAPS = ("refuse", "skip")


@dataclass(frozen=True)
class ReadOptions:
    """How to read and store a file; every field left at None is detected or defaulted (CLI flags and
    UI choices set them). A drop keeps its options: `tracker rebuild` replays them."""

    encoding: str | None = None  # "utf-8", "utf-8-sig", "utf-16", "cp1258", …
    delimiter: str | None = None  # ",", ";" or "\t"
    sheet: str | int | None = None  # .xlsx: a sheet name or 0-based index; None = the first sheet
    measure: str | None = None  # vaccinations: "cumulative" or "daily"; None = from the headers
    columns: tuple[tuple[str, str], ...] = ()  # (source header, canonical name) pairs: --column SRC=CANONICAL
    constants: tuple[tuple[str, str], ...] = ()  # (canonical column, value) for every row: --set age_band=18+
    date_order: str | None = None  # "dmy" (default) or "mdy" for d/m/y-looking dates; ISO dates are always read
    overlap: str | None = None  # rows overlapping reported age groups: "refuse" the file (default) or "skip" them

    def check(self) -> None:
        """InputError for a value no reader accepts (the page offers only valid ones; the CLI passes flags)."""
        if self.measure is not None and self.measure not in MEASURES:
            raise InputError(code="option.bad_measure", measure=self.measure)
        if self.date_order is not None and self.date_order not in DATE_ORDERS:
            raise InputError(code="option.bad_date_order", order=self.date_order)
        if self.overlap is not None and self.overlap not in OVERLAPS:
            raise InputError(code="option.bad_overlap", overlap=self.overlap)
        if self.delimiter is not None and len(self.delimiter) != 1:
            raise InputError(code="option.bad_delimiter", delimiter=self.delimiter)
        for pairs in (self.columns, self.constants):
            if any(not isinstance(pair, tuple | list) or len(pair) != 2 for pair in pairs):
                raise InputError("columns and constants must be (name, value) pairs")


# --------------------------------------------------------------------------- text keys


_NON_ALNUM = re.compile(r"[^0-9a-z]+")


def fold(text: str) -> str:
    """Lower case, no diacritics (đ -> d), NFC first: "Mũi 1 (Lũy tích)" -> "mũi 1 (lũy tích)" -> "mui 1 (luy tich)"."""
    text = unicodedata.normalize("NFD", unicodedata.normalize("NFC", str(text)).lower().replace("đ", "d"))
    return "".join(c for c in text if not unicodedata.combining(c))


def header_key(text: str) -> str:
    """A header as compared with the synonyms: folded, punctuation and spacing as single spaces.

    "Số người đã tiêm (lũy tích)" -> "so nguoi da tiem luy tich"; "people_cumulative" -> "people cumulative".
    """
    return _NON_ALNUM.sub(" ", fold(text)).strip()


# --------------------------------------------------------------------------- detection: format and encoding

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_SIGNATURES = (  # file signature -> message id under [not_table]
    (b"%PDF", "pdf"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "xls"),
    (b"\x89PNG", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"GIF8", "gif"),
    (b"\x1f\x8b", "gzip"),
    (b"Rar!", "rar"),
    (b"7z\xbc\xaf", "seven_zip"),
    (b"{\\rtf", "rtf"),
)
_ZIP = b"PK\x03\x04"
_TONE_MARKS = "\u0300\u0301\u0303\u0309\u0323"  # the five marks cp1258 encodes as separate bytes
_VOWELS = "aăâeêioôơuưyAĂÂEÊIOÔƠUƯY"
_VIET_LETTERS = re.compile("[ăĂơƠưƯđĐ]")
_TONE_AFTER_VOWEL = re.compile(f"[{_VOWELS}][{_TONE_MARKS}]")
_TONE_ANYWHERE = re.compile(f"[{_TONE_MARKS}]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def not_a_table(source: str, what: str, **params) -> ValidationError:
    """The file is not a table: ``what`` is a message id under [not_table] of tracker/messages.toml."""
    return ValidationError(source, [Problem.of(None, None, f"not_table.{what}", **params)])


def sniff_format(head: bytes, filename: str) -> str:
    """The format: "xlsx" or "text"; raises ValidationError("not a table …") for other binary content."""
    if head.startswith(_ZIP):
        return "xlsx"
    for signature, what in _SIGNATURES:
        if head.startswith(signature):
            raise not_a_table(filename, what)
    if filename.lower().endswith((".xlsx", ".xlsm")):
        raise not_a_table(filename, "fake_xlsx")
    return "text"


def looks_vietnamese(text: str) -> bool:
    """Vietnamese letters in text decoded as cp1258 (before NFC): ă ơ ư đ or a tone mark after a vowel,
    and no tone mark after anything else (a byte that is a tone mark in cp1258 but ì, Ò, Þ … elsewhere)."""
    after_vowel = len(_TONE_AFTER_VOWEL.findall(text))
    if len(_TONE_ANYWHERE.findall(text)) != after_vowel:
        return False
    return after_vowel > 0 or _VIET_LETTERS.search(text) is not None


def _utf16_without_bom(data: bytes) -> str | None:
    sample = data[:4096]
    if len(sample) < 4 or b"\x00" not in sample:
        return None
    odd, even = sample[1::2], sample[0::2]
    if odd.count(0) > 0.9 * len(odd) and even.count(0) < 0.1 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.9 * len(even) and odd.count(0) < 0.1 * len(odd):
        return "utf-16-be"
    return None


def detect_encoding(data: bytes) -> tuple[str, str]:
    """(codec, how it was found) for the bytes of a text file; see the module docstring for the rules."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return codec, "byte order mark"
    utf16 = _utf16_without_bom(data)
    if utf16:
        return utf16, "NUL bytes between characters"
    try:
        data.decode("utf-8")
        return "utf-8", "valid UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        if looks_vietnamese(data.decode("cp1258")):
            return "cp1258", "decodes as Vietnamese in Windows-1258"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes  # imported here: only messy files need it

    best = from_bytes(data).best()
    if best is None:
        raise InputError(code="not_table.encoding")
    return best.encoding, "charset-normalizer's guess"


def decode(data: bytes, source: str, encoding: str | None) -> tuple[str, dict, bool]:
    """The file's text, NFC-normalised, what was detected about its encoding, and whether the text is
    exactly the UTF-8 bytes given (after a byte order mark): no re-encoding needed."""
    if encoding:
        codec, how = encoding, "given"
        try:
            codecs.lookup(codec)
        except LookupError:
            raise InputError(code="option.unknown_encoding", encoding=encoding) from None
    else:
        try:
            codec, how = detect_encoding(data)
        except InputError:
            raise not_a_table(source, "encoding") from None
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        byte = repr(data[exc.start : exc.start + 1])
        raise ValidationError(source, [Problem.of(line, None, "file.bad_byte", byte=byte, encoding=codec)]) from None
    if text.startswith("\ufeff"):  # a mark left by an encoding given without "-sig"
        text = text[1:]
    same = codecs.lookup(codec).name in ("utf-8", "utf-8-sig")
    if not unicodedata.is_normalized("NFC", text):
        text, same = unicodedata.normalize("NFC", text), False
    return text, {"encoding": codec, "encoding_rule": how}, same


def sniff_delimiter(text: str) -> str:
    """Tab, semicolon or comma: whichever occurs most outside double quotes in the header line (the
    first non-blank line that has any of them, among the first 30); ties go to tab, then semicolon."""
    for line in [ln for ln in text[:65536].splitlines() if ln.strip()][:HEADER_SEARCH_ROWS]:
        counts = dict.fromkeys("\t;,", 0)
        quoted = False
        for ch in line:
            if ch == '"':
                quoted = not quoted
            elif not quoted and ch in counts:
                counts[ch] += 1
        best = max(counts.values())
        if best:
            return next(d for d in "\t;," if counts[d] == best)
    return ","


# --------------------------------------------------------------------------- the raw table


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
    if b"\x00" in data[:4096] and not any(data.startswith(b) for b, _ in _BOMS) and not _utf16_without_bom(data):
        raise not_a_table(source, "binary", size=len(data), start=data[:8].hex(" "))
    text, detected, same = decode(data, source, options.encoding)
    sample = text[:65536]
    if sample and len(_CONTROL.findall(sample)) > max(2, len(sample) // 100):
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


# --------------------------------------------------------------------------- columns

# Synonyms by canonical column, as header keys (see `header_key`), in ranks: when two headers name
# the same column, the lower rank wins (a code column beats a name column for unit_code); two of
# the same rank are an error. The canonical name itself is always rank 0.
_SYNONYMS: dict[str, tuple[tuple[str, ...], ...]] = {
    "date": ((), ("ngay", "ngay bao cao", "report date", "reporting date", "ngay tiem", "thoi gian")),
    "unit_code": (
        (),
        ("ma huyen", "ma don vi", "ma dvhc", "district code", "code", "ma"),
        (
            "huyen",
            "don vi",
            "ten huyen",
            "ten don vi",
            "district",
            "unit",
            "district name",
            "unit name",
            "quan huyen",
            "huyen thanh pho",
            "huyen thi xa thanh pho",
            "huyen tp",
        ),
    ),
    "age_band": ((), ("nhom tuoi", "do tuoi", "age group", "age", "tuoi", "age range")),
    "dose": ((), ("mui", "mui tiem", "mui thu", "dose number", "lieu")),
    "people_cumulative": (
        (),
        (
            "so nguoi da tiem luy tich",
            "so nguoi tiem luy tich",
            "so nguoi da tiem cong don",
            "luy tich",
            "luy ke",
            "cong don",
            "cumulative",
            "people vaccinated cumulative",
            "cumulative people vaccinated",
        ),
    ),
    "doses": (
        (),
        ("so mui trong ngay", "so mui tiem trong ngay", "trong ngay", "daily", "daily doses", "new doses"),
    ),
    "community_cases": ((), ("ca cong dong", "so ca cong dong", "ca mac cong dong", "community")),
    "imported_cases": (
        (),
        ("ca nhap canh", "ca ngoai tinh", "so ca nhap canh", "so ca ngoai tinh", "imported", "ca tu noi khac"),
    ),
    "population": ((), ("dan so", "so dan")),
    "unit_name": ((), ("ten don vi", "name", "ten")),
    "unit_type": ((), ("loai don vi", "loai", "type")),
    "lat": ((), ("latitude", "vi do")),
    "lon": ((), ("longitude", "lng", "long", "kinh do")),
}
# The units table itself: a name column is unit_name, not a way of giving unit_code.
_UNITS_SYNONYMS = {
    "unit_code": ((), ("ma huyen", "ma don vi", "ma dvhc", "district code", "code", "ma", "unit")),
    "unit_name": (
        (),
        ("ten don vi", "ten huyen", "name", "ten", "district", "district name", "huyen", "don vi", "unit name"),
    ),
}
# A count whose header does not say cumulative or daily (MeasureNeeded unless a marker or option says).
_COUNT_UNKNOWN = (
    "so nguoi da tiem",
    "so nguoi tiem",
    "so nguoi",
    "so mui",
    "so mui tiem",
    "so mui da tiem",
    "people vaccinated",
    "vaccinated",
    "count",
    "so luong",
    "value",
)
_CUMULATIVE_MARK = re.compile(r"\b(?:luy tich|luy ke|tich luy|cong don|cumulative|cumul|cum|to date)\b")
_DAILY_MARK = re.compile(r"\b(?:trong ngay|hang ngay|daily|new|per day)\b")
# Dose columns of a wide file (and dose values of a long one), tried in order on the header key.
_DOSE_PATTERNS: tuple[tuple[re.Pattern, int | None], ...] = tuple(
    (re.compile(p), d)
    for p, d in (
        (r"\b(?:mui )?nhac lai (?:lan )?(?:thu )?(?:2|hai)\b", 4),
        (r"\b(?:second|2nd) booster\b|\bbooster (?:dose )?2\b", 4),
        (r"\b(?:mui )?nhac lai\b|\bmui nhac\b", 3),
        (r"\bbooster\b", 3),
        (r"\bmui (?:thu )?(\d+)\b", None),
        (r"\b(\d+) mui\b", None),
        (r"\bdose ?(\d+)\b", None),
        (r"\b(\d+)(?:st|nd|rd|th)? dose\b", None),
        (r"\b(?:first|one) dose\b|\bat least one\b", 1),
        (r"\bsecond dose\b|\bfully vaccinated\b|\btiem du\b", 2),
        (r"\bthird dose\b", 3),
        (r"\bfourth dose\b", 4),
    )
)
_LETTER = re.compile("[a-z]")
# A rate, not a count of people: never read as a count (people_vaccinated_per_hundred, "Tỷ lệ tiêm (%)").
_RATE = re.compile(
    r"\b(?:per (?:hundred|100|thousand|1000|million|capita)|percent(?:age)?|pct|ty le|phan tram|rate|ratio|share)\b"
)
# "At least one dose" counts of people that name no dose: dose 1 in a file with one column per dose.
_AT_LEAST_ONE = re.compile(r"^(?:people vaccinated|so nguoi (?:da )?(?:duoc )?tiem|da tiem|vaccinated)$")
_WIDE_NAME = re.compile(r"^dose([1-9])(?:_(cumulative|daily))?$")


def is_rate(header: str) -> bool:
    """Whether a header names a rate or a share (per hundred, %, tỷ lệ), which is never a count of people."""
    return "%" in header or "‰" in header or bool(_RATE.search(header_key(header)))


def marker(key: str) -> str | None:
    """The measure a header key states: cumulative ("lũy tích", "cộng dồn", …), daily ("trong ngày", …) or None."""
    cumulative, daily = bool(_CUMULATIVE_MARK.search(key)), bool(_DAILY_MARK.search(key))
    if cumulative == daily:
        return None
    return CUMULATIVE if cumulative else DAILY


def dose_of(key: str) -> int | None:
    """The dose a header key (or a dose value) names: "mui 2" -> 2, "booster" -> 3, "mui nhac lai lan 2" -> 4."""
    key = key.strip()
    if key.isdigit():
        return int(key)
    for pattern, dose in _DOSE_PATTERNS:
        found = pattern.search(key)
        if found:
            return dose if dose is not None else int(found.group(1))
    return None


@dataclass(frozen=True)
class Cell:
    """What one header cell names: a canonical column (with a rank), a dose column of a wide file, or a count."""

    index: int
    header: str
    target: str | None  # canonical column, "count" (measure unknown) or "wide"
    rank: int = 0
    measure: str | None = None  # for counts and dose columns
    dose: int | None = None  # for dose columns
    forced: bool = False  # named by options.columns


def _synonyms(kind: str) -> dict[str, tuple[tuple[str, ...], ...]]:
    return {**_SYNONYMS, **_UNITS_SYNONYMS} if kind == "units" else _SYNONYMS


def _targets(kind: str, columns: Iterable[str]) -> list[str]:
    targets = list(columns)
    if kind == "vaccinations":
        targets.append("doses")
    return targets


def canonical_names(kind: str, columns: Iterable[str]) -> list[str]:
    """Every name options.columns may map a header to, for this kind."""
    names = _targets(kind, columns)
    if kind == "vaccinations":
        names += [f"dose{d}_{m}" for d in DOSES for m in MEASURES] + [f"dose{d}" for d in DOSES]
    return [*names, "ignore"]


def recognise(header: list[str], kind: str, columns: Iterable[str], options: ReadOptions) -> list[Cell]:
    """What each header cell names (cells naming nothing are left out)."""
    targets = _targets(kind, columns)
    synonyms = _synonyms(kind)
    lookup: dict[str, tuple[str, int]] = {}
    for target in targets:
        ranks = synonyms.get(target, ((),))
        lookup.setdefault(header_key(target), (target, 0))
        for rank, keys in enumerate(ranks):
            for key in keys:
                lookup.setdefault(key, (target, rank))
    options.check()
    forced = {header_key(src): str(dst).strip() for src, dst in options.columns}
    allowed = canonical_names(kind, columns)
    for dst in forced.values():
        if dst not in allowed:
            raise InputError(code="option.bad_column_target", target=dst, kind=Term(f"term.{kind}"), allowed=allowed)
    vaccinations = kind == "vaccinations"
    cells = []
    for i, text in enumerate(header):
        key = header_key(text)
        if not _LETTER.search(key):
            continue  # empty, or a number or a date: a data row, not a header
        if key in forced:
            dst = forced[key]
            wide = _WIDE_NAME.match(dst)
            if dst == "ignore":
                continue
            if wide:
                cells.append(Cell(i, text, "wide", 0, wide.group(2), int(wide.group(1)), forced=True))
            else:
                measure = {"people_cumulative": CUMULATIVE, "doses": DAILY}.get(dst)
                cells.append(Cell(i, text, dst, 0, measure, forced=True))
            continue
        if is_rate(text):
            continue  # a rate is never a count, and never a key column
        if key in lookup:
            target, rank = lookup[key]
            measure = {"people_cumulative": CUMULATIVE, "doses": DAILY}.get(target)
            cells.append(Cell(i, text, target, rank, measure))
            continue
        if not vaccinations:
            continue
        wide = _WIDE_NAME.match(text.strip().lower())
        dose = int(wide.group(1)) if wide else dose_of(key)
        if dose is not None:
            cells.append(Cell(i, text, "wide", 0, marker(key), dose))
        elif key in _COUNT_UNKNOWN:
            cells.append(Cell(i, text, "count", 1, None))
        elif marker(key) is not None:
            cells.append(Cell(i, text, "count", 2, marker(key)))
    return cells


def score(header: list[str], kind: str, columns: Iterable[str], options: ReadOptions) -> int:
    """How many distinct columns a row names: the header is the first row naming two."""
    try:
        cells = recognise(header, kind, columns, options)
    except InputError:
        return 0
    return len({c.target if c.target != "wide" else f"wide{c.dose}" for c in cells})


@dataclass
class ColumnPlan:
    """How a header maps to canonical columns, the layout and the measure."""

    columns: dict[str, int]  # canonical column -> header index (long columns, the count included)
    wide: list[tuple[int, int]]  # (header index, dose) of each dose column of a wide file
    measure: str | None  # vaccinations: cumulative or daily
    measure_from: str | None  # "headers" or "options"
    ignored: list[str]  # headers that name something but are not used
    mapping: dict[str, str]  # source header -> canonical name, for the UI
    constants: dict[str, str] = field(default_factory=dict)  # canonical column -> the value of every row

    @property
    def layout(self) -> str:
        return "wide" if self.wide else "long"


def _quoted(cells: Iterable[Cell]) -> str:
    return " and ".join(repr(c.header) for c in cells)


def plan_columns(
    header: list[str], kind: str, columns: Iterable[str], options: ReadOptions, source: str, header_row: int
) -> ColumnPlan:
    """Map a header to canonical columns; raise ValidationError (missing or ambiguous columns) or MeasureNeeded."""
    columns = list(columns)
    cells = recognise(header, kind, columns, options)
    problems: list[Problem] = []
    ignored: list[str] = []
    chosen: dict[str, Cell] = {}
    keys = {header_key(h) for h in header}
    for src, _ in options.columns:  # a mapping for a header the file does not have is a mistake, not a no-op
        if header_key(src) not in keys:
            problems.append(
                Problem.of(
                    header_row, None, "option.no_such_header", header=src, headers=[repr(h) for h in header if h]
                )
            )
    counts = ("wide", "count", "people_cumulative", "doses") if kind == "vaccinations" else ("wide", "count")
    for target in dict.fromkeys(c.target for c in cells if c.target not in counts):
        found = sorted((c for c in cells if c.target == target), key=lambda c: (not c.forced, c.rank))
        best = [c for c in found if (c.forced, c.rank) == (found[0].forced, found[0].rank)]
        if len(best) > 1:
            problems.append(Problem.of(header_row, None, "columns.ambiguous", columns=_quoted(best), target=target))
        chosen[target] = best[0]
        ignored += [c.header for c in found if c is not best[0]]
    constants = _constants(options, kind, columns, chosen, header_row, problems)

    measure, measure_from, wide, needed = None, None, [], None
    if kind == "vaccinations":
        try:
            measure, measure_from, wide = _plan_counts(cells, chosen, options, source, header_row, problems, ignored)
        except MeasureNeeded as exc:  # asked for after the other problems: a missing column comes first
            needed, wide = exc, (None if any(c.target == "wide" for c in cells) else [])

    required = [c for c in columns if c != "people_cumulative"] if kind == "vaccinations" else columns
    if wide is None:  # per-dose columns, none of them usable: reported already
        required = [c for c in required if c != "dose"]
        wide = []
    elif wide:
        required = [c for c in required if c != "dose"]
    elif kind == "vaccinations" and needed is None:
        required.append("people_cumulative" if measure != DAILY else "doses")
    missing = [c for c in required if c not in chosen and c not in constants]
    if missing:
        found_headers = [repr(h) for h in header if h] or ["—"]
        problems += [
            Problem.of(
                header_row, c, "columns.missing", kind=Term(f"term.{kind}"), expected=columns, found=found_headers
            )
            for c in missing
        ]
    if problems:
        raise ValidationError(source, problems)
    if needed is not None:
        raise needed
    mapping = {c.header: name for name, c in chosen.items()}
    for index, dose in wide:
        mapping[header[index]] = f"dose{dose}_{measure}"
    return ColumnPlan(
        columns={name: c.index for name, c in chosen.items()},
        wide=wide,
        measure=measure,
        measure_from=measure_from,
        ignored=ignored,
        mapping=mapping,
        constants=constants,
    )


def _constants(options: ReadOptions, kind: str, columns: list[str], chosen, header_row, problems) -> dict[str, str]:
    """The columns set for the whole file (--set COLUMN=VALUE): key and label columns, never a count."""
    allowed = [c for c in columns if c not in ("people_cumulative", "population", "community_cases", "imported_cases")]
    out = {}
    for name, value in options.constants:
        name, value = str(name).strip(), str(value).strip()
        if name not in allowed:
            raise InputError(code="option.bad_constant_column", column=name, kind=Term(f"term.{kind}"), allowed=allowed)
        if name in chosen:
            problems.append(
                Problem.of(header_row, None, "option.constant_and_column", name=name, value=value,
                           header=chosen[name].header)
            )  # fmt: skip
        out[name] = value
    return out


def _pick(found: list[Cell], measure: str | None) -> list[Cell]:
    """The cells of the best standing for a measure: named by options, then marked with it, then unmarked."""
    for test in (
        lambda c: c.forced and c.measure in (measure, None),
        lambda c: c.measure == measure,
        lambda c: c.measure is None,
        lambda c: True,
    ):
        best = [c for c in found if test(c)]
        if best:
            top = min(c.rank for c in best)
            return [c for c in best if c.rank == top]
    return []


def _plan_counts(cells, chosen, options, source, header_row, problems, ignored):
    """The count column(s) of a vaccinations file and their measure; adds the count to `chosen`."""
    options.check()
    counts = [c for c in cells if c.target in ("people_cumulative", "doses", "count")]
    dose_cells = [c for c in cells if c.target == "wide"]
    if dose_cells and "dose" in chosen:
        shown = ", ".join(repr(c.header) for c in dose_cells)
        problems.append(
            Problem.of(header_row, None, "columns.dose_and_wide", dose_column=chosen["dose"].header, columns=shown)
        )
        return None, None, []
    if dose_cells:
        return _plan_wide_counts(dose_cells, counts, options, source, header_row, problems, ignored)
    if not counts:
        return options.measure, "options" if options.measure else None, []
    if options.measure:
        measure, measure_from = options.measure, "options"
    else:
        marked = {c.measure for c in counts if c.measure}
        if CUMULATIVE in marked:
            measure = CUMULATIVE
        elif DAILY in marked:
            measure = DAILY
        else:
            raise MeasureNeeded(source, [c.header for c in counts])
        measure_from = "headers"
    best = _pick(counts, measure)
    if len(best) > 1:
        problems.append(
            Problem.of(
                header_row, None, "columns.ambiguous_counts", columns=_quoted(best), measure=Term(f"term.{measure}")
            )
        )
    chosen["people_cumulative" if measure == CUMULATIVE else "doses"] = best[0]
    ignored += [c.header for c in counts if c is not best[0]]
    return measure, measure_from, []


def _plan_wide_counts(dose_cells, counts, options, source, header_row, problems, ignored):
    """One column per dose; a count column naming no dose either is dose 1 ("people vaccinated" beside
    "people fully vaccinated": at least one dose) or would be lost, which is an error naming it."""
    doses = {c.dose for c in dose_cells}
    at_least_one = [c for c in counts if _AT_LEAST_ONE.match(header_key(c.header))]
    if 1 not in doses and len(at_least_one) == 1:
        c = at_least_one[0]
        dose_cells = [*dose_cells, Cell(c.index, c.header, "wide", 0, c.measure, 1, c.forced)]
        counts = [x for x in counts if x is not c]
    measure, measure_from, wide = _plan_wide(dose_cells, options, source, header_row, problems, ignored)
    used = ", ".join(repr(c.header) for c in dose_cells)
    for c in counts:
        if measure is not None and c.measure in (measure, None):  # the file's measure: its figures would be lost
            problems.append(
                Problem.of(
                    header_row, c.header, "columns.not_stored", header=c.header, measure=Term(f"term.{measure}"),
                    used=used, example=f"--column '{c.header}=dose1_{measure}'", ignore=f"--column '{c.header}=ignore'",
                )
            )  # fmt: skip
        else:
            ignored.append(c.header)  # the other measure of the same doses: redundant
    return measure, measure_from, wide


def _plan_wide(dose_cells: list[Cell], options, source, header_row, problems, ignored):
    for c in dose_cells:
        if c.dose not in DOSES:
            problems.append(Problem.of(header_row, c.header, "columns.bad_dose", dose=c.dose))
    dose_cells = [c for c in dose_cells if c.dose in DOSES]
    if not dose_cells:
        return None, None, None  # a wide file, but no usable dose column (the problems say why)
    by_dose: dict[int, list[Cell]] = {}
    for c in dose_cells:
        by_dose.setdefault(c.dose, []).append(c)
    if options.measure:
        measure, measure_from = options.measure, "options"
    else:
        marked = {c.measure for c in dose_cells if c.measure}
        unmarked = [c for c in dose_cells if c.measure is None]
        if not marked:
            raise MeasureNeeded(source, [c.header for c in dose_cells])
        if len(marked) == 2:
            # both measures: cumulative where a dose has it; an unmarked column is then ambiguous
            if unmarked:
                raise MeasureNeeded(source, [c.header for c in unmarked])
            measure = CUMULATIVE
            for dose, found in by_dose.items():
                if all(c.measure == DAILY for c in found):
                    problems.append(Problem.of(header_row, found[0].header, "columns.mixed_measure", dose=dose))
        else:
            measure = marked.pop()  # one marker (in one header or all) stands for every dose column
        measure_from = "headers"
    wide = []
    for dose, found in sorted(by_dose.items()):
        best = _pick(found, measure)
        if len(best) > 1:
            problems.append(Problem.of(header_row, None, "columns.ambiguous_dose", columns=_quoted(best), dose=dose))
        wide.append((best[0].index, dose))
        ignored += [c.header for c in found if c is not best[0]]
    return measure, measure_from, wide


def arrange(raw: RawTable, plan: ColumnPlan, header: list[str]) -> tuple[pd.DataFrame, np.ndarray, dict]:
    """The text laid out long with canonical column names, the row numbers, and each column's source label.

    A wide file gives one row per (file row, dose column) whose cell is not empty; the label of its count
    column is then an array (the header of each row's dose column). A column set for the whole file
    (plan.constants) has the same value on every row, labelled "column=value".
    """
    body = raw.body
    long_columns = {name: body[index] if index in body else _empty(len(body)) for name, index in plan.columns.items()}
    labels: dict[str, str | np.ndarray] = {name: header[index] for name, index in plan.columns.items()}
    for name, value in plan.constants.items():
        long_columns[name] = pd.Series(pd.Categorical.from_codes(np.zeros(len(body), dtype=np.int8), [value]))
        labels[name] = f"{name}={value}"
    if not plan.wide:
        return pd.DataFrame(long_columns), raw.rows, labels
    count = "people_cumulative" if plan.measure == CUMULATIVE else "doses"
    parts, rows, sources = [], [], []
    for index, dose in plan.wide:
        values = body[index] if index in body else _empty(len(body))
        cats = values.cat.categories
        empty = np.array([str(c).strip() == "" for c in cats] + [True])
        keep = ~empty[values.cat.codes.to_numpy()]
        part = {name: col[keep] for name, col in long_columns.items()}
        part["dose"] = pd.Series([str(dose)] * int(keep.sum()), dtype="category")
        part[count] = values[keep]
        parts.append(pd.DataFrame({k: pd.Series(v).reset_index(drop=True) for k, v in part.items()}))
        rows.append(raw.rows[keep])
        sources.append(np.full(int(keep.sum()), header[index], dtype=object))
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=[*long_columns, "dose", count])
    for col in frame.columns:
        frame[col] = frame[col].astype("string").astype("category")
    all_rows = np.concatenate(rows) if rows else np.array([], dtype=np.int64)
    order = np.argsort(all_rows, kind="stable")  # file order: problems come out row by row
    frame = frame.iloc[order].reset_index(drop=True)
    labels[count] = np.concatenate(sources)[order] if sources else np.array([], dtype=object)
    labels["dose"] = labels[count]
    return frame, all_rows[order], labels


def _empty(n: int) -> pd.Series:
    return pd.Series(pd.Categorical([""] * n))


# --------------------------------------------------------------------------- values

_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")
_SLASHED = re.compile(r"^(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})(?: \d{1,2}:\d{2}(?::\d{2})?)?$")
Message = tuple[str, dict]  # a message id of tracker/messages.toml and its values


def parse_date(text: str, order: str = "dmy") -> tuple[dt.date | None, str | None, Message | None]:
    """(date, family, error) of a date as districts write it: family "iso", or the order ("dmy"/"mdy").

    Dates with slashes, dots or dashes are day/month/year unless the file's date order says
    month/day/year (US exports): 01/13/2022 is an error in a dmy file, never 13 January. A two-digit
    year is 20yy.
    """
    text = text.strip()
    iso = _ISO.match(text)
    if iso:
        y, m, d = (int(g) for g in iso.groups())
        family = "iso"
    else:
        slashed = _SLASHED.match(text)
        if not slashed:
            return None, None, ("value.not_a_date", {"value": text, "formats": Term(f"term.date_formats_{order}")})
        first, second, year = int(slashed.group(1)), int(slashed.group(3)), slashed.group(4)
        d, m = (first, second) if order == "dmy" else (second, first)
        y = int(year) + (2000 if len(year) == 2 else 0)
        family = order
    try:
        return dt.date(y, m, d), family, None
    except ValueError:
        if family == "dmy" and m > 12 and d <= 12:
            return None, family, ("value.date_month_swap", {"value": text, "month": m})
        if m > 12:
            return None, family, ("value.date_no_month", {"value": text, "month": m})
        return None, family, ("value.date_no_day", {"value": text, "day": d, "month_of_year": f"{y}-{m:02d}"})


_GROUPED = re.compile(r"^-?\d{1,3}(?P<sep>[.,  \u00a0\u202f\u2009])\d{3}(?:(?P=sep)\d{3})*$")
_DECIMAL = re.compile(r"^-?\d+[.,]\d+$")
_INTEGER = re.compile(r"^[-+]?\d+$")


HARD_MAX = 10**15  # no count of people is this large; any limit of the configuration is below it


def parse_count(text: str) -> tuple[int | None, Message | None]:
    """A whole number: 1234567, "1.234.567", "1,234,567" or "1 234 567"; "12,5" is an error, and so is a
    number beyond HARD_MAX (it could not be stored as a 64-bit integer and summed)."""
    text = text.strip()
    value = None
    if _INTEGER.match(text):
        value = int(text)
    elif _GROUPED.match(text):
        value = int(re.sub(r"[^\d-]", "", text))
    elif _DECIMAL.match(text):
        whole, _, fraction = text.replace(",", ".").partition(".")
        if set(fraction) == {"0"}:
            value = int(whole)
    if value is None:
        return None, ("value.not_whole_number", {"value": text})
    if abs(value) > HARD_MAX:
        return None, ("limit.too_large", {"value": text, "limit": HARD_MAX})
    return value, None


def parse_float(text: str) -> tuple[float | None, Message | None]:
    """A decimal number, with a point or a decimal comma (21,78 = 21.78)."""
    text = text.strip()
    candidate = text.replace(",", ".") if text.count(",") == 1 and "." not in text else text
    try:
        return float(candidate), None
    except ValueError:
        return None, ("value.not_a_number", {"value": text})


def parse_dose(text: str) -> tuple[int | None, Message | None]:
    """1–4, or as written: "Mũi 2", "mũi nhắc lại" (3), "booster", "Mũi nhắc lại lần 2" (4)."""
    text = text.strip()
    count, error = parse_count(text)
    if error is not None and error[0] == "limit.too_large":
        return None, error
    dose = count if count is not None else dose_of(header_key(text))
    if dose is None or dose > HARD_MAX:
        return None, ("value.not_a_dose", {"value": text})
    return dose, None


# --------------------------------------------------------------------------- age bands and groups

_DASHES = re.compile("[\u2010-\u2015\u2212\ufe58\ufe63\uff0d]")
_AGE_WORDS = re.compile(r"\b(?:tuoi|years?|yrs?|old|nguoi|aged?|ages|nhom|group|do)\b")
_AGE_PATTERNS: tuple[tuple[re.Pattern, Callable[[re.Match], tuple[int, int | None]]], ...] = (
    (re.compile(r"^(?:tu |from )?(\d+)(?:-| to | den )(\d+)$"), lambda m: (int(m[1]), int(m[2]))),
    (
        re.compile(r"^(?:>=|tu |from )?(\d+)(?:\+| tro len| and over| and above| or older| or more| plus)$"),
        lambda m: (int(m[1]), None),
    ),
    (re.compile(r"^(?:>=|>|tren |over |above |tu |from )(\d+)$"), lambda m: (int(m[1]), None)),
    (re.compile(r"^(?:<|duoi |under |below )(\d+)$"), lambda m: (0, int(m[1]) - 1)),
    (re.compile(r"^<=(\d+)$"), lambda m: (0, int(m[1]))),
)


def age_key(text: str) -> str:
    """An age label folded for matching: "Từ 18 tuổi trở lên" -> "tu 18 tro len", "≥ 65" -> ">=65"."""
    text = unicodedata.normalize("NFC", str(text)).replace("≥", ">=").replace("≤", "<=")
    text = re.sub(r"[^0-9a-z+<>=-]+", " ", fold(_DASHES.sub("-", text)))
    text = re.sub(r"\s+", " ", _AGE_WORDS.sub(" ", text)).strip()
    text = re.sub(r" ?- ?", "-", text)
    text = re.sub(r" \+", "+", text)
    return re.sub(r"(>=|<=|<|>) ", r"\1", text)


def age_range(text: str) -> tuple[int, int | None] | None:
    """(lower, upper or None when open-ended) of an age label, or None when it is not a range."""
    key = age_key(text)
    for pattern, make in _AGE_PATTERNS:
        found = pattern.match(key)
        if found:
            return make(found)
    return None


class AgeResolver:
    """Age labels as districts write them -> the configured band or group whose range matches.

    Ranges come from the configuration (band ids such as "18-49", "65+"; a group covers the union of
    its bands), so nothing here lists the bands. Labels are tried as ids and aliases first, then by
    name (label_vi, label_en, case- and diacritic-blind), then as a range.
    """

    def __init__(self, cfg: Config, bands_only: bool = False):
        self.cfg = cfg
        self.bands_only = bands_only
        self.names: dict[str, str] = {}
        self.ranges: dict[tuple[int, int | None], str] = {}
        band_ranges = {b: age_range(b) for b in cfg.bands}
        for band, span in band_ranges.items():
            self.names.setdefault(header_key(band), band)
            if span:
                self.ranges.setdefault(span, band)
        if bands_only:
            return
        for group in cfg.groups.values():
            for name in (group.id, *group.aliases, group.label_vi, group.label_en):
                if name:
                    self.names.setdefault(header_key(name), group.id)
            spans = sorted(band_ranges[b] for b in group.bands if band_ranges.get(b))
            if len(spans) == len(group.bands) and spans and _contiguous(spans):
                self.ranges.setdefault((spans[0][0], spans[-1][1]), group.id)

    def resolve(self, label: str) -> str | None:
        label = label.strip()
        if not label:
            return None
        direct = label if (label in self.cfg.bands) else (None if self.bands_only else self.cfg.resolve_label(label))
        if direct:
            return direct
        named = self.names.get(header_key(label))
        if named:
            return named
        span = age_range(label)
        return self.ranges.get(span) if span else None


def _contiguous(spans: list[tuple[int, int | None]]) -> bool:
    for (_, hi), (lo, _) in zip(spans, spans[1:], strict=False):
        if hi is None or lo != hi + 1:
            return False
    return True


# --------------------------------------------------------------------------- units


class UnitResolver:
    """Unit codes, or unit names in any spelling (NFC/NFD, with or without diacritics or prefixes).

    known: a set of unit codes, or a frame with unit_code and unit_name (names then resolve too).
    """

    def __init__(self, known):
        self.names: dict[str, list[str]] = {}
        self.display: dict[str, str] = {}
        if isinstance(known, pd.DataFrame):
            codes = [str(c).strip() for c in known["unit_code"]]
            names = known["unit_name"] if "unit_name" in known else [None] * len(codes)
            for code, name in zip(codes, names, strict=True):
                if name is None or (isinstance(name, float) and np.isnan(name)):
                    continue
                name = unicodedata.normalize("NFC", str(name)).strip()
                self.display[code] = name
                key = normalise_name(name)
                if key:
                    self.names.setdefault(key, [])
                    if code not in self.names[key]:
                        self.names[key].append(code)
            self.codes = set(codes)
        else:
            self.codes = {str(c) for c in known}
        self.width = max((len(c) for c in self.codes if c.isdigit()), default=0)

    def resolve(self, value: str) -> tuple[str | None, Message | None]:
        """(unit code, None) or (None, the message saying why not)."""
        value = value.strip()
        if value in self.codes:
            return value, None
        if value.isdigit() and value.zfill(self.width) in self.codes:
            return value.zfill(self.width), None
        if not self.names or value.isdigit():
            return None, ("units.unknown", {"value": value})
        found = self.names.get(normalise_name(value), [])
        if len(found) == 1:
            return found[0], None
        if len(found) > 1:
            return None, ("units.ambiguous", {"value": value, "units": [f"{c} {self.display[c]}" for c in found]})
        close = difflib.get_close_matches(normalise_name(value), list(self.names), n=3, cutoff=0.75)
        if close:
            names = [self.display[code] for key in close for code in self.names[key]]
            return None, ("units.close", {"value": value, "names": names})
        return None, ("units.unknown_name", {"value": value})
