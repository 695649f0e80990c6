"""How a file is to be read (ReadOptions: every detection can be overridden) and the words shared by the
stages."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from tracker.errors import InputError

CUMULATIVE, DAILY = "cumulative", "daily"
MEASURES = (CUMULATIVE, DAILY)
DOSES = (1, 2, 3, 4)
KIND_NAMES = ("units", "population", "vaccinations", "cases")  # what a file may hold: tracker.ingest.kinds.KINDS
DATE_ORDERS = ("dmy", "mdy")
OVERLAPS = ("refuse", "skip")
HEADER_SEARCH_ROWS = 30
# the spike warning (tracker.ingest.series); here, where a check without numpy can read it (tracker.store.direct)
SPIKE_FACTOR = 5  # a day's new doses above SPIKE_FACTOR × the series' 7-day average is warned about
SPIKE_WINDOW = 7
SPIKE_MIN_DOSES = 50  # … and at least this many: 2 doses after a week of 0.3 a day is not worth a warning


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


Message = tuple[str, dict]  # a message id of tracker/messages.toml and its values
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
