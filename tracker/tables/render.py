"""A Table as text (screen cells, briefing rows) and as a file (CSV, xlsx), from its column spec alone.

`texts` writes every cell the way the language writes it (the briefing's rows; the screen's display
values); `export_frame` keeps real values for a spreadsheet (numbers stay numbers, percentages in
points with "(%)" in the header, dates stay dates, words translated); `csv_bytes` / `xlsx_bytes` are
that frame as files, the workbook with an "about" sheet naming the table, its date, place, target
and source. The dashboard's renderer (dashboard.tables) uses the same headers and texts.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tracker import exports, fmt, i18n
from tracker.figures.common import status_label
from tracker.tables.spec import Column, Table

PERCENT_DECIMALS = 1  # shown
EXPORT_PERCENT_DECIMALS = 2  # in files, as percent points


def pick(value, lang: str):
    """A `Both` in `lang`; anything else as it is."""
    return getattr(value, lang, value.vi) if isinstance(value, i18n.Both) else value


def header(column: Column, lang: str, export: bool = False) -> str:
    text = i18n.t(column.label, lang, **{k: pick(v, lang) for k, v in column.args.items()})
    return text + " (%)" if export and column.kind == "percent" else text


def _writer(column: Column, lang: str):
    """How one present value of the column is written in `lang`."""
    kind = column.kind
    if kind == "count":
        return lambda v: fmt.number(v, lang)
    if kind == "number":
        return lambda v: fmt.number(v, lang, decimals=column.decimals or 0)
    if kind == "percent":
        decimals = PERCENT_DECIMALS if column.decimals is None else column.decimals
        return lambda v: fmt.percent(v, lang, decimals=decimals)
    if kind == "date":
        return lambda v: fmt.date(v, lang)
    if kind == "datetime":
        return lambda v: fmt.datetime(v, lang)
    if kind == "status":  # on screen and in briefings with its icon: never told by colour alone
        return lambda v: status_label(v, lang)
    if kind == "level":
        return lambda v: pick(column.levels[int(v)], lang)
    if kind == "term":  # a code without a translation (a newer store's kind) is written as it is
        return lambda v: i18n.t(f"{column.terms}{v}", lang) if f"{column.terms}{v}" in i18n.table() else str(v)
    if kind == "flag":
        return lambda v: i18n.t(f"{column.terms or 'export.'}{'yes' if v else 'no'}", lang)
    return lambda v: str(pick(v, lang))


def empty(column: Column, lang: str) -> str:
    """What a missing value of the column is written as: its `missing` text, or "—"."""
    return i18n.t(column.missing, lang) if column.missing else fmt.EMPTY


def write(column: Column, lang: str):
    """A function writing one value of the column in `lang` (a map's hover text, say)."""
    present, missing = _writer(column, lang), empty(column, lang)
    return lambda v: missing if v is None or (not isinstance(v, str | i18n.Both) and pd.isna(v)) else present(v)


def text_of(column: Column, values: pd.Series, lang: str) -> list[str]:
    """Each value of the column as text in `lang`; a missing one as the column's `missing` text or "—"."""
    missing = empty(column, lang)
    return [missing if v is None else v for v in fmt.each(values, _writer(column, lang))]


def texts(table: Table, lang: str) -> pd.DataFrame:
    """Every cell as text, under the translated headers (the briefing's rows)."""
    return _frame(
        table, [header(c, lang) for c in table.columns], [text_of(c, table.values[c.id], lang) for c in table.columns]
    )


def export_of(column: Column, values: pd.Series, lang: str) -> np.ndarray:
    """The column as a spreadsheet keeps it: numbers as numbers, dates as dates, words translated."""
    kind = column.kind
    if kind == "count":
        return pd.array(pd.to_numeric(values), dtype="Int64")
    if kind == "number":
        return pd.to_numeric(values).astype(float).round((column.decimals or 0) + 1).to_numpy()
    if kind == "percent":
        return (pd.to_numeric(values).astype(float) * 100).round(EXPORT_PERCENT_DECIMALS).to_numpy()
    if kind == "date":
        return pd.to_datetime(values).dt.normalize().to_numpy()
    if kind == "datetime":
        return fmt.local_times(values).to_numpy()
    if kind == "status":  # the word alone: a spreadsheet filters and counts by it
        return np.array(fmt.each(values, lambda v: i18n.status(v, lang)), dtype=object)
    if kind in ("level", "term", "flag", "text"):
        return np.array(fmt.each(values, _writer(column, lang)), dtype=object)
    raise ValueError(kind)


def export_frame(table: Table, lang: str) -> pd.DataFrame:
    """The table as a spreadsheet reads it, rows as shown, headers in `lang`."""
    headers = [header(c, lang, export=True) for c in table.columns]
    return _frame(table, headers, [export_of(c, table.values[c.id], lang) for c in table.columns])


def _frame(table: Table, headers: list[str], columns: list) -> pd.DataFrame:
    """Columns by position: two columns may share a header in one language (never lose one to the other)."""
    frame = pd.DataFrame(dict(enumerate(columns)), index=range(len(table.values)))
    frame.columns = headers
    return frame


def about(table: Table, lang: str) -> list[tuple[str, str]]:
    """What the table is, for the workbook's "about" sheet: (label, value) pairs."""
    rows = [
        (i18n.t("about.table", lang), i18n.t(table.title, lang)),
        (i18n.t("about.as_of", lang), fmt.date(table.as_of, lang) if table.as_of else fmt.EMPTY),
        (i18n.t("about.place", lang), str(pick(table.place, lang))),
    ]
    if table.target is not None:
        rows.append((i18n.t("about.target", lang), str(pick(table.target, lang))))
    if table.source is not None:
        rows.append((i18n.t("about.source", lang), str(pick(table.source, lang))))
    return rows


def excel_formats(table: Table, lang: str) -> dict[str, str]:
    """Each number column's Excel format, by its exported header: whole numbers grouped, decimals as many
    as the file keeps (one more than shown), percent points with two."""
    formats = {}
    for c in table.columns:
        if c.kind == "count":
            formats[header(c, lang, export=True)] = "#,##0"
        elif c.kind == "number":
            formats[header(c, lang, export=True)] = "#,##0." + "0" * ((c.decimals or 0) + 1)
        elif c.kind == "percent":
            formats[header(c, lang, export=True)] = "0." + "0" * EXPORT_PERCENT_DECIMALS
    return formats


def csv_bytes(table: Table, lang: str) -> bytes:
    """The table as CSV: the header row and the rows only, so that any tool loads it as it is (what it
    is about is in the file name; the workbook has an "about" sheet)."""
    return exports.csv_bytes(export_frame(table, lang))


def xlsx_bytes(table: Table, lang: str) -> bytes:
    """The table as a workbook: its sheet, and an "about" sheet saying what it is."""
    return exports.xlsx_bytes(
        export_frame(table, lang),
        sheet=table.name,
        about=about(table, lang),
        about_sheet=i18n.t("about.sheet", lang),
        formats=excel_formats(table, lang),
    )


def cell_colors(table: Table) -> dict[str, list[str | None]]:
    """Per column with colours (Table.colors): each row's cell colour, or None."""
    return {
        column: [None if pd.isna(v) else colors.get(v) for v in table.values[column].tolist()]
        for column, colors in table.colors.items()
    }
