"""One translation table for every label, title, axis, legend, tooltip, status word and message.

The table is data (tracker/i18n.toml): each key has a `vi` and an `en` text, with {placeholders}
filled by `t(key, lang, **values)`. Vietnamese is the default language.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path

LANGS = ("vi", "en")
DEFAULT_LANG = "vi"
TABLE_FILE = Path(__file__).with_name("i18n.toml")


@cache
def table() -> dict[str, dict[str, str]]:
    with TABLE_FILE.open("rb") as fh:
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
