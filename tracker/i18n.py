"""One translation table for every label, title, axis, legend, tooltip, status word and message.

The table is data (tracker/i18n.toml): each key has a `vi` and an `en` text, with {placeholders}
filled by `t(key, lang, **values)`. Vietnamese is the default language.
"""

from __future__ import annotations

import datetime as dt
import numbers
import tomllib
from functools import cache
from pathlib import Path
from typing import NamedTuple

LANGS = ("vi", "en")
DEFAULT_LANG = "vi"
TABLE_FILE = Path(__file__).with_name("i18n.toml")
MESSAGES_FILE = Path(__file__).with_name("messages.toml")  # what readers and validators say about files


@cache
def table() -> dict[str, dict[str, str]]:
    return _flat(TABLE_FILE)


@cache
def messages() -> dict[str, dict[str, str]]:
    return _flat(MESSAGES_FILE)


def _flat(path: Path) -> dict[str, dict[str, str]]:
    """Dotted key -> {lang: text} of a translation file (a table holding vi and en is one entry)."""
    with path.open("rb") as fh:
        raw = tomllib.load(fh)
    flat: dict[str, dict[str, str]] = {}

    def walk(prefix: str, node: dict) -> None:
        if "vi" in node and "en" in node and all(isinstance(v, str) for v in node.values()):
            flat[prefix] = node
            return
        for key, value in node.items():
            walk(f"{prefix}.{key}" if prefix else key, value)

    walk("", raw)
    return flat


class Term(str):
    """A message id given as a value: shown as that message's text in the language of the message."""


class Both(NamedTuple):
    """A value written in each language (a configured label): shown in the language of the message."""

    vi: str
    en: str


def message(code: str, lang: str = DEFAULT_LANG, values: dict | None = None) -> str:
    """A message of messages.toml in `lang`, its values written as that language writes them:
    whole numbers 1.234 / 1,234, other numbers with one decimal, dates 31/12/2021 / 31 Dec 2021, lists
    joined with commas; text as given (a {value!r} placeholder quotes it)."""
    entry = messages()[code]
    text = entry.get(lang, entry[DEFAULT_LANG])
    return text.format(**{k: _shown(v, lang) for k, v in (values or {}).items()})


def _shown(value, lang: str):
    from tracker import fmt  # late: fmt imports Babel, which pages load anyway but the CLI may not need

    if isinstance(value, Term):
        return message(value, lang)
    if isinstance(value, Both):
        return getattr(value, lang, value.vi)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, numbers.Integral):
        return fmt.number(int(value), lang)
    if isinstance(value, numbers.Real):
        return fmt.number(float(value), lang, decimals=1)
    if isinstance(value, dt.date):
        return fmt.date(value, lang)
    if isinstance(value, list | tuple):
        return ", ".join(str(_shown(v, lang)) for v in value)
    return value


def t(key: str, lang: str = DEFAULT_LANG, **values) -> str:
    """The text of `key` in `lang`, with {placeholders} filled. A missing key is a KeyError."""
    entry = table()[key]
    text = entry.get(lang, entry[DEFAULT_LANG])
    return text.format(**values) if values else text


def status(code: str, lang: str = DEFAULT_LANG) -> str:
    return t(f"status.{code}", lang)


def dose(number: int, lang: str = DEFAULT_LANG) -> str:
    return t(f"dose.d{int(number)}", lang)


def label(entry, lang: str = DEFAULT_LANG) -> str:
    """A configured object's label in `lang` (targets and groups carry label_vi / label_en)."""
    return getattr(entry, f"label_{lang}", None) or getattr(entry, "label_vi", "") or str(entry)
