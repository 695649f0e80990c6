"""What a table is: typed values plus a column spec, rendered the same way on screen, in files and in briefings.

A builder (tracker.tables.districts, .risk, .drops) returns a `Table`: its values as a DataFrame of real
values (fractions for percentages, integers, dates, status codes, level numbers) and one `Column` per
column shown, in the order shown. Everything a renderer needs to know about a column is in its spec:
the translation key of its header, its kind (how a value of it is written) and the few options below.
Adding a column is one `Column(...)` line in the builder; the dashboard, the CSV/xlsx files and the
briefing all pick it up (tracker.tables.render, dashboard.tables).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

from tracker.i18n import Both

# How a column's values are written (tracker.tables.render.text_of and export_of):
KINDS = {
    "text": "text as it is (a `Both` is written in the reader's language)",
    "count": "a whole number: 1.234 / 1,234; exported as an integer",
    "number": "a decimal number with `decimals` places; exported with one more",
    "percent": "a fraction shown as a percentage (52,3%); exported as percent points with 2 decimals, header + (%)",
    "date": "a date: 31/12/2021 / 31 Dec 2021; exported as a real date",
    "datetime": "a time (UTC in the store) shown in the province's time zone; exported as such",
    "status": "a target status code (met, on_track, …) written as its icon and word (✓ Đạt); exported as the word",
    "level": "an epidemic level number written as its name in the rules in force (`levels`)",
    "term": "a code written as the translation `terms` + code (e.g. export.drop_ + active)",
    "flag": "true/false written as the translations `terms` + yes / no",
}


@dataclass(frozen=True)
class Column:
    id: str  # the values' column
    label: str  # the header's translation key (tracker/i18n.toml)
    kind: str = "text"
    args: Mapping[str, object] = field(default_factory=dict)  # the header's {placeholders} (str or Both)
    decimals: int | None = None  # number: places shown; percent: 1 unless given
    bar: bool = False  # percent: drawn as a bar on screen (whole percent, no decimal mark to localise)
    pinned: bool = False  # kept in view when the table scrolls sideways on screen
    width: str | None = None  # on screen: "small", "medium" or "large" (a long pinned column on a phone)
    terms: str = ""  # term and flag: the translation keys' prefix
    missing: str | None = None  # the translation key written for a missing value (default "—")
    levels: Mapping[int, Both] = field(default_factory=dict)  # level: each level's name
    help: str | None = None  # a figure of tracker.about: its definition is the header's tooltip on screen

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown column kind {self.kind!r}; one of {', '.join(KINDS)}")


@dataclass(frozen=True)
class Table:
    name: str  # identifies the table: the file names start with it, the download buttons are keyed by it
    title: str  # the translation key of what the table is (the files' "about" sheet)
    columns: tuple[Column, ...]
    values: pd.DataFrame  # one row per row shown, in order; a column per Column.id (and maybe others)
    as_of: dt.date | None = None
    place: Both | str = ""  # where the table is about (the province, or one district)
    target: Both | str | None = None  # the target it is judged against, if any
    source: Both | str | None = None  # where the figures come from (the sample label, a plan)
    highlight: str | None = None  # a flag column: its true rows are highlighted on screen and in briefings
    colors: Mapping[str, Mapping[object, str]] = field(default_factory=dict)  # column -> value -> cell colour

    def __post_init__(self):
        ids = [c.id for c in self.columns]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise ValueError(f"table {self.name}: column(s) {', '.join(twice)} given twice")
        absent = [c.id for c in self.columns if c.id not in self.values.columns]
        if absent:
            raise ValueError(f"table {self.name}: no values for column(s) {', '.join(absent)}")
