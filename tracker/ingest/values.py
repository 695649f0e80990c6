"""Reading values as districts write them: dates, counts, doses; age groups and unit names resolved to the
configuration's labels and the stored units."""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import math
import re
import unicodedata
from collections.abc import Callable

from tracker.config import Config
from tracker.geo import normalise_name
from tracker.i18n import Term
from tracker.ingest.headers import dose_of
from tracker.ingest.options import Message, fold, header_key

_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")
_SLASHED = re.compile(r"^(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})(?: \d{1,2}:\d{2}(?::\d{2})?)?$")


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


class UnitResolver:
    """Unit codes, or unit names in any spelling (NFC/NFD, with or without diacritics or prefixes).

    known: a set of unit codes; or the units' names by code (a dict), or a frame with unit_code and
    unit_name: names then resolve too.
    """

    def __init__(self, known):
        self._named: list[tuple[str, object]] = []  # (code, name), matched once a value is not a code
        if hasattr(known, "columns"):  # a pandas frame
            names = known["unit_name"] if "unit_name" in known else [None] * len(known)
            known = dict(zip(known["unit_code"], names, strict=True))
        if isinstance(known, dict):
            self._named = [(str(c).strip(), name) for c, name in known.items()]
            self.codes = {code for code, _ in self._named}
        else:
            self.codes = {str(c) for c in known}
        self.width = max((len(c) for c in self.codes if c.isdigit()), default=0)

    @functools.cached_property
    def _by_name(self) -> tuple[dict[str, list[str]], dict[str, str]]:
        """Each name's matching key -> the codes named so, and each code's name as written."""
        names: dict[str, list[str]] = {}
        display: dict[str, str] = {}
        for code, name in self._named:
            if name is None or (isinstance(name, float) and math.isnan(name)):
                continue
            name = unicodedata.normalize("NFC", str(name)).strip()
            display[code] = name
            key = normalise_name(name)
            if key and code not in names.setdefault(key, []):
                names[key].append(code)
        return names, display

    @property
    def names(self) -> dict[str, list[str]]:
        return self._by_name[0]

    @property
    def display(self) -> dict[str, str]:
        return self._by_name[1]

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
