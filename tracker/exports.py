"""Tables as files a spreadsheet opens safely: CSV (UTF-8 with BOM) and .xlsx.

Text that begins with = + - @ or a tab / carriage return would be read by Excel or LibreOffice
as a formula ("CSV injection"), so such cells — and such column headers — get a leading
apostrophe. Only text is touched: numbers, including negative numbers, stay numbers, and dates
stay dates (real Excel dates in .xlsx, ISO 8601 in CSV).
"""

from __future__ import annotations

import datetime as dt
import io
import re

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils import get_column_letter

from tracker.figures.common import slug

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
SHEET_MAX = 31
DATE_FORMAT = "DD/MM/YYYY"
DATETIME_FORMAT = "DD/MM/YYYY HH:MM"
MIME = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _safe(value):
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def neutralise(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` whose text cells and headers cannot run as spreadsheet formulas."""
    out = frame.copy()
    out.columns = [_safe(c) for c in out.columns]
    for position in range(out.shape[1]):
        column = out.iloc[:, position]
        if pd.api.types.is_numeric_dtype(column) or pd.api.types.is_datetime64_any_dtype(column):
            continue  # no text in there: leave numbers and dates as they are
        out.isetitem(position, column.map(_safe))
    return out


def csv_bytes(frame: pd.DataFrame, decimal: str = ".") -> bytes:
    """CSV for Excel: UTF-8 with a BOM (so Vietnamese shows right), CRLF line ends, dates as ISO 8601.

    decimal ".": commas between fields and 52.31 (any tool, Excel in English). decimal ",": semicolons
    between fields and 52,31, as Excel set to Vietnamese (decimal comma, list separator ;) opens it.
    """
    sep = ";" if decimal == "," else ","
    text = neutralise(frame).to_csv(index=False, lineterminator="\r\n", sep=sep, decimal=decimal)
    return text.encode("utf-8-sig")


def sheet_name(name: str) -> str:
    """A name Excel accepts: no []:*?/\\, not blank, at most 31 characters, no apostrophe at either end."""
    cleaned = SHEET_FORBIDDEN.sub("_", name).strip().strip("'")[:SHEET_MAX].strip()
    return cleaned or "Sheet1"


def _cell(value):
    """A pandas value as openpyxl wants it: None for missing, naive datetimes, dates without midnight."""
    if value is None:
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):  # lists and the like: written as text below
        pass
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.date() if value == dt.datetime.combine(value.date(), dt.time()) else value
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if isinstance(value, int | float | dt.date | dt.time | bool):
        return value
    return str(value)


def xlsx_bytes(
    frame: pd.DataFrame,
    sheet: str = "Sheet1",
    about: list[tuple[str, str]] | None = None,
    about_sheet: str = "About",
    formats: dict[str, str] | None = None,
) -> bytes:
    """An .xlsx workbook: the table's sheet, the headers in row 1 (frozen), typed values (numbers, real
    dates), each column's number format from `formats` (header -> Excel format, e.g. "#,##0": Excel
    groups the digits as the reader's settings do); and, with `about`, a second sheet of (label, value)
    rows saying what the table is."""
    safe = neutralise(frame)
    book = Workbook()
    ws = book.active
    ws.title = sheet_name(sheet)
    if about:
        info = book.create_sheet(sheet_name(about_sheet) if sheet_name(about_sheet) != ws.title else "about")
        for label, value in about:
            info.append([_cell(_safe(label)), _cell(_safe(value))])
        info.column_dimensions["A"].width = max(10, max(len(label) for label, _ in about) + 2)
        info.column_dimensions["B"].width = min(80, max(10, max(len(str(value)) for _, value in about) + 2))
    ws.append([_cell(c) if c is not None else "" for c in safe.columns])
    for row in safe.itertuples(index=False, name=None):
        ws.append([_cell(v) for v in row])
    for cells in ws.iter_rows(min_row=2):
        for cell in cells:
            if isinstance(cell.value, dt.datetime):
                cell.number_format = DATETIME_FORMAT
            elif isinstance(cell.value, dt.date):
                cell.number_format = DATE_FORMAT
            if cell.data_type == "f":  # cannot happen after neutralise; belt and braces
                cell.value, cell.data_type = "'" + str(cell.value), "s"
    for position, header in enumerate(frame.columns, start=1):
        number_format = (formats or {}).get(header)
        if number_format:
            for (cell,) in ws.iter_rows(min_row=2, min_col=position, max_col=position):
                if isinstance(cell.value, int | float) and not isinstance(cell.value, bool):
                    cell.number_format = number_format
    for position, header in enumerate(safe.columns, start=1):
        widest = max([len(str(header))] + [len(str(v)) for v in safe.iloc[:, position - 1].head(200)])
        ws.column_dimensions[get_column_letter(position)].width = min(max(10, widest + 2), 60)
    ws.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def file_name(metric: str, place: str, as_of: dt.date | str, ext: str) -> str:
    """'districts', 'Toàn tỉnh Tuyên Quang', 2021-12-01, 'csv' -> 'districts_toan-tinh-tuyen-quang_2021-12-01.csv'."""
    day = as_of.isoformat() if isinstance(as_of, dt.date) else str(as_of)
    parts = [p for p in (slug(metric), slug(place), day) if p]
    return "_".join(parts) + "." + ext.lstrip(".")
