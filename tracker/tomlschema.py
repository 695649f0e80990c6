"""Declarative checks of the TOML files a dataset is configured with (config.toml, targets.toml, risk_rules.toml).

A file's schema is a tree of ``Table`` structs (msgspec); ``load`` converts what tomllib read into it and
turns msgspec's first complaint into an InputError that names the file, the key path (arrays counted
from 1, as the tables stand in the file) and what was expected::

    data/targets.toml: target[2].threshold: expected a number above 0 and at most 1 (0.7 = 70%), got 1.5

Any key a table does not declare is refused (a typo such as ``treshold`` is never silently ignored).
A field says what it expects with ``Meta(description=...)``; without one its type says it ("a whole
number", "a date like 2021-12-31", ...). Checks between fields stay code, raising ``error``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import types
import typing
from pathlib import Path
from typing import Annotated, TypeVar

import msgspec
from msgspec import Meta

from tracker.errors import InputError

# What tomllib gives natively: never parsed from text, so a quoted "2021-12-31" is text, not a date.
TOML_TYPES = (dt.date, dt.datetime, dt.time)
_PLAIN = {
    str: "text in quotes",
    int: "a whole number",
    float: "a number",
    bool: "true or false",
    dt.date: "a date like 2021-12-31",
}
_MISSING = object()
_ERROR = re.compile(r"(?P<what>.*?)(?: - at `\$(?P<at>[^`]*)`)?")
_FIELD = re.compile(r"Object (?P<kind>missing required|contains unknown) field `(?P<key>[^`]*)`")
T = TypeVar("T")


class Table(msgspec.Struct, forbid_unknown_fields=True):
    """A TOML table: the keys it declares, and no other."""


# Kinds of value the files share.
Positive = Annotated[int, Meta(gt=0, description="a whole number above 0")]
Share = Annotated[float, Meta(gt=0, le=1, description="a number above 0 and at most 1 (0.7 = 70%)")]
Dose = Annotated[int, Meta(ge=1, le=4, description="a dose: 1, 2, 3 or 4")]


def load(raw: dict, schema: type[T], path: Path) -> T:
    """``raw`` (a TOML file as tomllib read it) as ``schema``; an InputError naming file, key and expectation."""
    try:
        return msgspec.convert(raw, schema, builtin_types=TOML_TYPES)
    except msgspec.ValidationError as exc:
        try:
            problem = _explain(str(exc), raw, schema, path)
        except (AttributeError, IndexError, KeyError, TypeError, StopIteration):  # a wording this does not know
            problem = InputError(f"{path}: {exc}")
        raise problem from None


def error(path: Path, where: str, expected: str, got: object = _MISSING, *, note="", problem="") -> InputError:
    """The InputError for a key: ``path: where: [problem, ]expected …, got …`` (``got`` as TOML writes it)."""
    text = f"{path}: {where}: {problem + ', ' if problem else ''}expected {expected}"
    if got is not _MISSING:
        text += f", got {show(got)}"
    return InputError(f"{text} ({note})" if note else text)


def repeat(values) -> int:
    """The position (from 1) of the first value that an earlier one equals, else 0."""
    seen = set()
    for i, v in enumerate(values, start=1):
        if v in seen:
            return i
        seen.add(v)
    return 0


def one_of(values) -> str:
    return "one of: " + ", ".join(values)


def show(value: object, limit: int = 60) -> str:
    """A value as TOML writes it: "text", true, 2021-12-31, [1, 2], a table."""
    if isinstance(value, bool):
        text = str(value).lower()
    elif isinstance(value, float) and value.is_integer():
        text = str(int(value))  # 20, as written, for a number read as 20.0
    elif isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
    elif isinstance(value, dt.date | dt.time):
        text = value.isoformat()
    elif isinstance(value, dict):
        text = "a table"
    elif isinstance(value, list):
        text = "[" + ", ".join(show(v, limit) for v in value) + "]"
    else:
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _explain(message: str, raw: dict, schema: type, path: Path) -> InputError:
    match = _ERROR.fullmatch(message)
    steps = [int(s[1:-1]) if s.startswith("[") else s[1:] for s in re.findall(r"\.[^.[]+|\[\d+\]", match["at"] or "")]
    field = _FIELD.fullmatch(match["what"])
    if field:
        table = _strip(_type_at(schema, steps))
        steps.append(field["key"])
        if field["kind"] == "contains unknown":
            return error(path, _where(steps), one_of(table.__struct_fields__), problem="unknown key")
        return error(path, _where(steps), _expected(_type_at(schema, steps), steps), problem="missing")
    value = raw
    for step in steps:
        try:
            value = value[step]
        except (KeyError, IndexError, TypeError):
            value = _MISSING
    return error(path, _where(steps), _expected(_type_at(schema, steps), steps), value)


def _where(steps: list) -> str:
    """target[2].threshold: arrays counted from 1, as the file's tables stand."""
    out = ""
    for s in steps:
        out += f"[{s + 1}]" if isinstance(s, int) else f".{s}" if out else s
    return out


def _strip(tp):
    """The type without Annotated and without None (an optional key's type)."""
    while True:
        if typing.get_origin(tp) is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif typing.get_origin(tp) in (typing.Union, types.UnionType):
            tp = next(a for a in typing.get_args(tp) if a is not type(None))
        else:
            return tp


def _type_at(schema: type, steps: list):
    tp = schema
    for step in steps:
        tp = _strip(tp)
        tp = typing.get_args(tp)[0] if isinstance(step, int) else typing.get_type_hints(tp, include_extras=True)[step]
    return tp


def _expected(tp, steps: list) -> str:
    """What a key holds, in words: its Meta description, else its type's."""
    for meta in typing.get_args(tp)[1:] if typing.get_origin(tp) is typing.Annotated else ():
        if isinstance(meta, msgspec.Meta) and meta.description:
            return meta.description
    tp = _strip(tp)
    name = ".".join(s for s in steps if isinstance(s, str))
    if isinstance(tp, type) and issubclass(tp, msgspec.Struct):
        return f"a [{name}] table"
    if typing.get_origin(tp) is list:
        (item,) = typing.get_args(tp)
        if isinstance(_strip(item), type) and issubclass(_strip(item), msgspec.Struct):
            return f"one or more [[{name}]] tables"
        return f"a list, each {_expected(item, steps)}"
    return _PLAIN.get(tp, getattr(tp, "__name__", str(tp)))
