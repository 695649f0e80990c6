"""Numbers, dates and times the way each language writes them (Babel's CLDR data, not hand-made rules).

Vietnamese: 1.234.567 · 52,3% · 31/12/2021 · 31/12/2021 14:05. English: 1,234,567 · 52.3% · 31 Dec 2021 ·
31 Dec 2021 14:05. Times are stored in UTC and shown in the province's time zone (Vietnam has one).
"""

from __future__ import annotations

import datetime as dt
import math
from functools import lru_cache

from babel.dates import format_date
from babel.numbers import format_decimal, format_percent

TIME_ZONE = "Asia/Ho_Chi_Minh"  # UTC+7 all year: the time an official reads on the wall clock

LOCALES = {"vi": "vi_VN", "en": "en_GB"}
DATE_PATTERNS = {"vi": "dd/MM/yyyy", "en": "d MMM yyyy"}
EMPTY = "—"


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


# Babel takes tens of microseconds per value; a chart's hover texts and a table repeat the same values on
# every run of a page, so each (value, language, decimals) is formatted once.
_CACHE = 1 << 16


def number(value, lang: str = "vi", decimals: int = 0) -> str:
    return EMPTY if _missing(value) else _grouped(value, lang, decimals, "")


def percent(value, lang: str = "vi", decimals: int = 1) -> str:
    return EMPTY if _missing(value) else _grouped(value, lang, decimals, "%")


@lru_cache(maxsize=2 * _CACHE)  # numbers and percentages
def _grouped(value, lang: str, decimals: int, suffix: str) -> str:
    """`value` with grouped thousands and `decimals` decimals; times 100, as a percentage, with suffix "%"."""
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "") + suffix
    babel = format_percent if suffix == "%" else format_decimal
    return babel(value, format=pattern, locale=LOCALES[lang])


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


def local_times(values):
    """UTC times (naive, as the store keeps them, or aware) as naive times in TIME_ZONE, a pandas Series."""
    import pandas as pd  # late: the CLI's formatting needs no pandas

    times = pd.to_datetime(pd.Series(values))
    if times.dt.tz is None:
        times = times.dt.tz_localize("UTC")
    return times.dt.tz_convert(TIME_ZONE).dt.tz_localize(None)


def datetime(value, lang: str = "vi") -> str:
    """A UTC time as the date and hour:minute in TIME_ZONE: 31/12/2021 14:05 / 31 Dec 2021 14:05."""
    if _missing(value):
        return EMPTY
    try:
        local = local_times([value]).iloc[0]
    except (TypeError, ValueError):
        return EMPTY
    if local is None or local != local:  # NaT
        return EMPTY
    return f"{date(local.date(), lang)} {local.strftime('%H:%M')}"


def each(values, write) -> list:
    """`write` of each value, each distinct value written once (a column repeats a few values, and writing
    one with Babel is far slower than looking it up); a missing value (None, NaN, NA, NaT) is None."""
    import numpy as np
    import pandas as pd

    codes, uniques = pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=True)
    written = [write(v) for v in uniques.tolist()] + [None]  # code -1 (missing): the last
    return np.array(written, dtype=object)[codes].tolist()
