"""Saved ways of reading one source's files: how `tracker ingest --save-mapping NAME` / `--mapping NAME`
and the Upload page's "saved mapping" choice remember encoding, delimiter, measure, date order, column
mappings and constant columns.

A mapping is a small TOML file in the store, ``mappings/NAME.toml``::

    kind = "vaccinations"
    measure = "cumulative"
    date_order = "mdy"

    [columns]          # the file's header = canonical column
    location = "unit_code"

    [set]              # canonical column = the value of every row
    age_band = "all"
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path

import tomli_w

from tracker.errors import InputError
from tracker.ingest import ReadOptions
from tracker.store import private_dir

DIR = "mappings"
NAME = re.compile(r"\w[\w.-]{0,63}")
SCALARS = ("encoding", "delimiter", "measure", "date_order")  # what a mapping keeps besides columns and set


def path(store: Path, name: str) -> Path:
    return Path(store) / DIR / f"{check_name(name)}.toml"


def check_name(name: str) -> str:
    if not NAME.fullmatch(name or ""):
        raise InputError(f"{name!r} is not a mapping name: letters, digits, '.', '_', '-' (at most 64)")
    return name


def names(store: Path, kind: str | None = None) -> list[str]:
    """The saved mappings (for one kind of file, if given), by name."""
    folder = Path(store) / DIR
    found = sorted(p.stem for p in folder.glob("*.toml")) if folder.is_dir() else []
    return [n for n in found if kind is None or _read(path(store, n)).get("kind", kind) == kind]


def _read(file: Path) -> dict:
    try:
        with file.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{file}: not valid TOML: {exc}") from None


def load(store: Path, name: str, kind: str) -> ReadOptions:
    """The options saved as NAME, for a file of `kind`; InputError naming the saved ones when there is none."""
    file = path(store, name)
    if not file.is_file():
        saved = names(store)
        known = f"saved mappings: {', '.join(saved)}" if saved else "no mapping is saved yet (--save-mapping NAME)"
        raise InputError(f"no mapping {name!r} in {file.parent}; {known}")
    raw = _read(file)
    if raw.get("kind", kind) != kind:
        raise InputError(f"mapping {name!r} is for {raw['kind']} files, not {kind}")
    pairs = {}
    for table in ("columns", "set"):
        value = raw.get(table, {})
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise InputError(f"{file}: [{table}] must map names to text values")
        pairs[table] = tuple(value.items())
    scalars = {key: raw[key] for key in SCALARS if isinstance(raw.get(key), str)}
    options = ReadOptions(**scalars, columns=pairs["columns"], constants=pairs["set"])
    options.check()
    return options


def save(store: Path, name: str, kind: str, options: ReadOptions) -> Path:
    """Keep how a file was read as NAME (replacing a mapping of that name); returns its path."""
    doc: dict = {"kind": kind}
    doc.update({key: getattr(options, key) for key in SCALARS if getattr(options, key) is not None})
    if options.columns:
        doc["columns"] = dict(options.columns)
    if options.constants:
        doc["set"] = dict(options.constants)
    file = path(store, name)
    private_dir(Path(store))
    private_dir(file.parent)
    tmp = file.with_name(f".{file.name}.{os.getpid()}.tmp")
    header = f"# tracker ingest --mapping {name}: how to read this source's {kind} files\n"
    tmp.write_text(header + tomli_w.dumps(doc), encoding="utf-8")
    os.chmod(tmp, 0o600)
    os.replace(tmp, file)
    return file


def merge(saved: ReadOptions | None, given: ReadOptions) -> ReadOptions:
    """A saved mapping with the options given on top: given values win, column and constant pairs merge."""
    if saved is None:
        return given
    values = {key: getattr(given, key) or getattr(saved, key) for key in (*SCALARS, "sheet", "overlap")}
    columns = {**dict(saved.columns), **dict(given.columns)}
    constants = {**dict(saved.constants), **dict(given.constants)}
    return ReadOptions(**values, columns=tuple(columns.items()), constants=tuple(constants.items()))
