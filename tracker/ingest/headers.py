"""Stage 3a, the header: which column is which (synonyms in Vietnamese and English, blind to case, spacing,
punctuation and diacritics), rates told from counts, doses and the measure read from the names."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from tracker.errors import InputError
from tracker.i18n import Term
from tracker.ingest.options import CUMULATIVE, DAILY, DOSES, MEASURES, ReadOptions, header_key

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
AT_LEAST_ONE = re.compile(r"^(?:people vaccinated|so nguoi (?:da )?(?:duoc )?tiem|da tiem|vaccinated)$")
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
