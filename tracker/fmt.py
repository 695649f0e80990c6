"""Numbers and dates the way each language writes them (Babel's CLDR data, not hand-made rules).

Vietnamese: 1.234.567 · 52,3% · 31/12/2021. English: 1,234,567 · 52.3% · 31 Dec 2021.
"""

from __future__ import annotations

import datetime as dt
import math
from functools import lru_cache

from babel.dates import format_date
from babel.numbers import format_decimal, format_percent

LOCALES = {"vi": "vi_VN", "en": "en_GB"}
DATE_PATTERNS = {"vi": "dd/MM/yyyy", "en": "d MMM yyyy"}
EMPTY = "—"


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


# Babel takes tens of microseconds per value; a chart's hover texts and a table repeat the same values on
# every run of a page, so each (value, language, decimals) is formatted once.
_CACHE = 1 << 16


def number(value, lang: str = "vi", decimals: int = 0) -> str:
    if _missing(value):
        return EMPTY
    return _number(value, lang, decimals)


@lru_cache(maxsize=_CACHE)
def _number(value, lang: str, decimals: int) -> str:
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    return format_decimal(value, format=pattern, locale=LOCALES[lang])


def percent(value, lang: str = "vi", decimals: int = 1) -> str:
    if _missing(value):
        return EMPTY
    return _percent(value, lang, decimals)


@lru_cache(maxsize=_CACHE)
def _percent(value, lang: str, decimals: int) -> str:
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "") + "%"
    return format_percent(value, format=pattern, locale=LOCALES[lang])


def date(value, lang: str = "vi") -> str:
    if _missing(value) or value is None:
        return EMPTY
    if hasattr(value, "date") and not isinstance(value, dt.date | type(None)) or isinstance(value, dt.datetime):
        value = value.date()
    return _date(value, lang)


@lru_cache(maxsize=_CACHE)
def _date(value, lang: str) -> str:
    try:
        return format_date(value, format=DATE_PATTERNS[lang], locale=LOCALES[lang])
    except (TypeError, ValueError):
        return EMPTY
