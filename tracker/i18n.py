"""One translation table for every label, title, axis, legend, tooltip, status word and message.

The table is data (tracker/i18n.toml): each key has a `vi` and an `en` text, with {placeholders}
filled by `t(key, lang, **values)`. Vietnamese is the default language.

Plural forms. A text that counts something names the placeholder that counts (`plural`), and a
language whose words change with the count gives a table of its CLDR plural forms (Babel's rules:
English has "one" and "other"); a language whose words do not change (Vietnamese) keeps one text:

    stale.plural = "count"
    stale.vi = "{count} huyện chưa báo cáo …"
    stale.en.one = "{count} district has not reported …"
    stale.en.other = "{count} districts have not reported …"

The counting value must be a number, never text already formatted: it picks the form, then it is
written as the language writes numbers (1.234 / 1,234), as message() writes every value. So
`t("overview.stale", "en", count=1, …)` reads "1 district has …", and count=3 "3 districts have …".
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
import tomllib
from functools import cache
from pathlib import Path
from typing import NamedTuple

LANGS = ("vi", "en")
DEFAULT_LANG = "vi"
TABLE_FILE = Path(__file__).with_name("i18n.toml")
MESSAGES_FILE = Path(__file__).with_name("messages.toml")  # what readers and validators say about files
PLURAL_FORMS = frozenset({"zero", "one", "two", "few", "many", "other"})  # CLDR's plural categories

# An entry: {lang: text, …}, where a text is a string or {plural form: string}, and "plural": the
# placeholder that counts (only in entries with plural forms).
Entry = dict[str, str | dict[str, str]]


@cache
def table() -> dict[str, Entry]:
    return _flat(TABLE_FILE)


@cache
def messages() -> dict[str, Entry]:
    return _flat(MESSAGES_FILE)


def _is_text(value) -> bool:
    """A language's text: a string, or a table of plural forms (strings)."""
    if isinstance(value, dict):
        return bool(value) and set(value) <= PLURAL_FORMS and all(isinstance(v, str) for v in value.values())
    return isinstance(value, str)


def _is_entry(node) -> bool:
    return (
        isinstance(node, dict)
        and "vi" in node
        and "en" in node
        and all(isinstance(v, str) if k == "plural" else _is_text(v) for k, v in node.items())
    )


def _flat(path: Path) -> dict[str, Entry]:
    """Dotted key -> {lang: text} of a translation file (a table holding vi and en is one entry, whether
    its texts are strings or tables of plural forms); a text outside an entry, or an entry missing a
    language, is a ValueError naming the key."""
    with path.open("rb") as fh:
        raw = tomllib.load(fh)
    flat: dict[str, Entry] = {}

    def walk(prefix: str, node) -> None:
        if not isinstance(node, dict) or "vi" in node or "en" in node:
            if not _is_entry(node):
                raise ValueError(f"{path.name}: {prefix} is not an entry of a vi and an en text")
            flat[prefix] = node
            return
        for key, value in node.items():
            walk(f"{prefix}.{key}" if prefix else key, value)

    walk("", raw)
    return flat


def forms(entry: Entry, lang: str) -> dict[str, str]:
    """The texts of `lang` in `entry` by plural form: {"other": text} where the language has one text."""
    text = entry[lang]
    return dict(text) if isinstance(text, dict) else {"other": text}


@cache
def plural_forms(lang: str) -> frozenset[str]:
    """The CLDR plural forms `lang` distinguishes ("other" always among them)."""
    return _plural_rule(lang).tags | {"other"}


def plural_form(count, lang: str = DEFAULT_LANG) -> str:
    """The CLDR plural form of a number in `lang`: "one" for 1 in English, "other" for 0, 2, 1.5, …"""
    if isinstance(count, float) and not math.isfinite(count):  # a missing figure, shown as "—"
        return "other"
    return _plural_rule(lang)(count)


@cache
def _plural_rule(lang: str):
    from babel import Locale  # late, as in _shown

    from tracker import fmt

    return Locale.parse(fmt.LOCALES[lang]).plural_form


def _counted(key: str, entry: Entry, lang: str, values: dict) -> tuple[str, dict]:
    """The text of `entry` in `lang` (Vietnamese where it has none), in the plural form of its counting
    value, and the values with that count as a number: 3.0 people are 3 (written, and counted, as 3)."""
    text = entry.get(lang, entry[DEFAULT_LANG])
    name = entry.get("plural")
    if name is None:
        return (text if isinstance(text, str) else text["other"]), values
    if name not in values:
        raise KeyError(f"{key}: no value for {{{name}}}, which picks the plural form")
    count = values[name]
    if isinstance(count, bool) or not isinstance(count, numbers.Real):
        raise TypeError(f"{key}: {{{name}}} picks the plural form and must be a number, not {count!r}")
    if isinstance(count, float) and count.is_integer():
        count = int(count)
    if isinstance(text, dict):
        text = text.get(plural_form(count, lang), text["other"])
    return text, {**values, name: count}


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
    text, values = _counted(code, messages()[code], lang, values or {})
    return text.format(**{k: _shown(v, lang) for k, v in values.items()})


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
    """The text of `key` in `lang`, with {placeholders} filled. A missing key is a KeyError.

    Values are put in as given, except the count of a text with plural forms (a number): it picks the
    form and is written as `lang` writes numbers."""
    entry = table()[key]
    text, values = _counted(key, entry, lang, values)
    if "plural" in entry:
        values[entry["plural"]] = _shown(values[entry["plural"]], lang)
    return text.format(**values) if values else text


def status(code: str, lang: str = DEFAULT_LANG) -> str:
    return t(f"status.{code}", lang)


def dose(number: int, lang: str = DEFAULT_LANG) -> str:
    return t(f"dose.d{int(number)}", lang)


def label(entry, lang: str = DEFAULT_LANG) -> str:
    """A configured object's label in `lang` (targets and groups carry label_vi / label_en)."""
    return getattr(entry, f"label_{lang}", None) or getattr(entry, "label_vi", "") or str(entry)
