"""The upload page's tables: what a file will store (the preview), the problems found in it, and how many rows
each check found wrong. Headers name the canonical columns in the reader's language, a file's own header as
it is; every message is in both languages (tracker/messages.toml), chosen when the table is written."""

from __future__ import annotations

import re
from functools import cache

import pandas as pd

from tracker import i18n
from tracker.config import Config
from tracker.errors import Problem, Tally
from tracker.i18n import Both
from tracker.tables.spec import Column, Table

WIDE_NAME = re.compile(r"dose([1-4])_(cumulative|daily)")
COUNTS = ("people_cumulative", "community_cases", "imported_cases", "population", "doses")
HELP = {"people_cumulative": "people", "doses": "people", "community_cases": "cases_7d"}  # what each figure is


@cache
def _column_keys() -> frozenset[str]:
    return frozenset(k for k in i18n.table() if k.startswith("column."))


def column_label(name: str | None, lang: str) -> str:
    """A canonical column in `lang` ("dose1_cumulative" too); a file's own header as it is."""
    if not name:
        return ""
    if f"column.{name}" in _column_keys():
        return i18n.t(f"column.{name}", lang)
    wide = WIDE_NAME.fullmatch(name)
    if wide:
        return f"{i18n.dose(int(wide.group(1)), lang)} ({i18n.t(f'upload.measure_{wide.group(2)}', lang)})"
    return name


def _named(name: str | None) -> Both:
    return Both(column_label(name, "vi"), column_label(name, "en"))


def _header(column_id: str, kind: str = "text", **options) -> Column:
    """A column headed by a canonical column's name (the catalog's "{part}" entry takes it as it is)."""
    return Column(column_id, "tables.part", kind, args={"part": _named(column_id)}, **options)


def preview(frame: pd.DataFrame, cfg: Config, names: dict[str, str], source: str = "") -> Table:
    """The first rows a file will store, as read: dates, counts, a group by its name, a district's name."""
    values = frame.reset_index(drop=True).copy()
    if "unit_code" in values and "unit_name" not in values:
        values.insert(values.columns.get_loc("unit_code") + 1, "unit_name", values["unit_code"].astype(str).map(names))
    if "age_band" in values:  # a group by its label, a band as written
        labels = {g.id: Both(g.label_vi or g.id, g.label_en or g.label_vi or g.id) for g in cfg.groups.values()}
        values["age_band"] = [labels.get(a, a) for a in values["age_band"].astype(str)]
    columns = []
    for c in values.columns:
        kind = "date" if c == "date" else "count" if c in COUNTS else "text"
        columns.append(_header(c, kind, pinned=c == "date", help=HELP.get(c)))
    return Table("preview", "tables.preview", tuple(columns), values, source=source or None)


def problems(found: list[Problem], name: str = "problems") -> Table:
    """One row per problem: the file's line, the column, what is wrong (both languages)."""
    values = pd.DataFrame(
        {
            "row": pd.array([p.row for p in found], dtype="Int64"),
            "column": [_named(p.column) for p in found],
            "message": [Both(p.text("vi"), p.text("en")) for p in found],
        }
    )
    columns = (
        Column("row", "upload.row", "count", pinned=True),
        Column("column", "upload.column"),
        Column("message", "upload.message"),
    )
    return Table(name, "tables.problems", columns, values)


def tallies(counted: list[Tally]) -> Table:
    """Per check and column: how many rows it found wrong, and the first as an example."""
    values = pd.DataFrame(
        {
            "column": [_named(t.column) for t in counted],
            "rows": pd.array([t.rows for t in counted], dtype="Int64"),
            "example": [Both(t.first.describe("vi"), t.first.describe("en")) for t in counted],
        }
    )
    columns = (
        Column("column", "upload.column", pinned=True),
        Column("rows", "upload.tally_rows", "count"),
        Column("example", "upload.tally_example"),
    )
    return Table("tallies", "tables.tallies", columns, values)
