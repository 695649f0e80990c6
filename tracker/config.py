"""Configuration as data: province, age bands, groups, targets and status rules.

Everything here is read from TOML files in ``data/`` (or another folder), never hard-coded,
so the department can change a target or a group without touching code.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tomllib
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Annotated

import msgspec
from msgspec import Meta

from tracker import tomlschema
from tracker.errors import InputError
from tracker.tomlschema import Dose, Positive, Share, Table

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT_ROOT / "data"
DEFAULT_STORE = Path("var") / "store"
STORE_ENV = "TRACKER_STORE"
DATA_ENV = "TRACKER_DATA"  # another dataset's folder (config.toml, targets.toml, … and its CSVs)
BOUNDARIES_ENV = "TRACKER_BOUNDARIES"


@dataclass(frozen=True)
class Group:
    id: str
    bands: tuple[str, ...]
    label_vi: str = ""
    label_en: str = ""
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Target:
    id: str
    label_vi: str
    label_en: str
    group: str
    dose: int
    threshold: Fraction
    deadline: dt.date
    source: str = ""


@dataclass(frozen=True)
class Limits:
    """What one file may be, checked before and while it is parsed ([upload] in config.toml), so that no
    upload or `tracker ingest` can exhaust the server; and what a unit's code and name may be ([units])."""

    max_mb: int = 50  # the file itself
    max_unpacked_mb: int = 300  # each part of an .xlsx workbook once unpacked (a sheet, the shared strings)
    max_ratio: int = 200  # unpacked / packed size of each part (a zip bomb unpacks thousands of times over)
    max_rows: int = 10_000_000
    max_columns: int = 1_000
    max_field_kb: int = 64  # one value
    max_count: int = 10**12  # any count of people or cases, far inside int64 even summed over every unit
    max_per_population: int = 10  # people reported in a unit and age group, as a multiple of its population
    unit_code: str = r"[0-9]{1,8}"  # a regular expression a unit code must match
    unit_name_max: int = 100  # characters


@dataclass(frozen=True)
class Config:
    province_code: str
    province_name_vi: str
    province_name_en: str
    campaign_start: dt.date
    bands: tuple[str, ...]
    groups: dict[str, Group]
    targets: tuple[Target, ...]
    at_risk_ratio: Fraction = Fraction(3, 4)
    data_dir: Path = field(default=DATA_DIR)
    boundaries: Path | None = None  # district boundary GeoJSON ([map] boundaries), if configured
    require_login_to_view: bool = False  # [access] require_login_to_view
    # How titles name the area ("tỉnh Tuyên Quang"), its whole in charts and tables ("Toàn tỉnh"), and
    # the plan the targets come from; [province] place_*, whole_*, plan_* (a country-wide dataset whose
    # units are provinces says "Việt Nam", "Toàn quốc").
    place_vi: str = ""
    place_en: str = ""
    whole_vi: str = "Toàn tỉnh"
    whole_en: str = "Province"
    plan_vi: str = ""
    plan_en: str = ""
    limits: Limits = field(default_factory=Limits)
    # Failed dashboard logins, per account name and per client ([access] max_failures, …; see tracker.auth):
    # max_failures within failure_window_minutes lock out for lockout_seconds, doubled per further failure,
    # at most max_lockout_minutes.
    login_max_failures: int = 5
    login_failure_window_minutes: int = 15
    login_lockout_seconds: int = 60
    login_max_lockout_minutes: int = 60

    def _pick(self, field_name: str, lang: str) -> str:
        return getattr(self, f"{field_name}_{lang}", "") or getattr(self, f"{field_name}_vi", "")

    def name(self, lang: str) -> str:
        """The area's name: "Tuyên Quang" in both languages (the TOTAL row of every table)."""
        return self._pick("province_name", lang)

    def place(self, lang: str) -> str:
        """The area as titles name it: "tỉnh Tuyên Quang" / "Tuyên Quang province"."""
        return self._pick("place", lang)

    def whole(self, lang: str) -> str:
        """The whole area in a chart's legend: "Toàn tỉnh" / "Province"."""
        return self._pick("whole", lang)

    def whole_named(self, lang: str) -> str:
        """The whole area named: "Toàn tỉnh Tuyên Quang" / "Tuyên Quang province"."""
        return f"{self.whole('vi')} {self.name('vi')}" if lang == "vi" else self.place(lang)

    def plan(self, lang: str) -> str:
        """Where the targets come from, for page captions ("" when not configured)."""
        return self._pick("plan", lang)

    def group(self, name: str) -> Group:
        """A configured group, or a single band treated as a group of one."""
        key = self.resolve_label(name)
        if key is None:
            known = ", ".join([*self.groups, *self.bands])
            raise InputError(f"unknown group {name!r}; known groups and bands: {known}")
        return self.groups[key] if key in self.groups else Group(id=key, bands=(key,), label_vi=key, label_en=key)

    def resolve_label(self, label: str) -> str | None:
        """Canonical id of a band or group label (ids and aliases), or None."""
        label = label.strip()
        if label in self.bands or label in self.groups:
            return label
        for g in self.groups.values():
            if label in g.aliases:
                return g.id
        return None

    @property
    def labels(self) -> tuple[str, ...]:
        """Every label a vaccination report may carry: the bands, then the groups."""
        return (*self.bands, *self.groups)

    def label_mask(self, label: str) -> int:
        """Bit mask of the bands a label covers (bit i = band i)."""
        bands = (label,) if label in self.bands else self.groups[label].bands
        return sum(1 << self.bands.index(b) for b in bands)

    def target(self, target_id: str) -> Target:
        for t in self.targets:
            if t.id == target_id:
                return t
        raise InputError(f"unknown target {target_id!r}; known: {', '.join(t.id for t in self.targets)}")


def read_toml(path: Path) -> dict:
    """A TOML file as a dict; a missing or malformed file is an InputError naming it."""
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: not valid TOML: {exc}") from None


def fraction(value: object, where: str) -> Fraction:
    """Exact fraction of a TOML number: 0.7 means 7/10, not the nearest binary float."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(f"{where}: expected a number, got {value!r}")
    return Fraction(str(value))


# --------------------------------------------------------------------------- the files, as they may be written
# Every key of config.toml and targets.toml, its type, default and bounds (tracker.tomlschema says what is
# wrong, where). Checks between keys follow in load_config and load_targets.


class _Province(Table):
    code: str = ""
    name_vi: str = ""
    name_en: str = ""
    place_vi: str | None = None  # default "tỉnh {name_vi}"
    place_en: str | None = None  # default "{name_en} province"
    whole_vi: str = Config.whole_vi
    whole_en: str = Config.whole_en
    plan_vi: str = ""
    plan_en: str = ""


class _Campaign(Table):
    start: dt.date = dt.date(2021, 1, 1)


class _Band(Table):
    id: str


class _Group(Table):
    id: str
    bands: Annotated[list[str], Meta(min_length=1, description='a list of [[band]] ids, e.g. ["50-64", "65+"]')]
    label_vi: str | None = None  # default: the id
    label_en: str | None = None
    aliases: list[str] = []


class _Status(Table):
    at_risk_ratio: Share = 0.75


class _Map(Table):
    boundaries: str = ""


class _Upload(Table):
    max_mb: Positive = Limits.max_mb
    max_unpacked_mb: Positive = Limits.max_unpacked_mb
    max_ratio: Positive = Limits.max_ratio
    max_rows: Positive = Limits.max_rows
    max_columns: Positive = Limits.max_columns
    max_field_kb: Positive = Limits.max_field_kb
    max_count: Positive = Limits.max_count
    max_per_population: Positive = Limits.max_per_population


class _Units(Table):
    unit_code: str = Limits.unit_code  # a regular expression (checked in load_config)
    unit_name_max: Positive = Limits.unit_name_max


class _Access(Table):
    require_login_to_view: bool = False
    max_failures: Positive = Config.login_max_failures
    failure_window_minutes: Positive = Config.login_failure_window_minutes
    lockout_seconds: Positive = Config.login_lockout_seconds
    max_lockout_minutes: Positive = Config.login_max_lockout_minutes


class _ConfigFile(Table, kw_only=True):  # kw_only: [[band]], required, stands after optional tables
    province: _Province = msgspec.field(default_factory=_Province)
    campaign: _Campaign = msgspec.field(default_factory=_Campaign)
    band: Annotated[list[_Band], Meta(min_length=1)]
    group: list[_Group] = []
    status: _Status = msgspec.field(default_factory=_Status)
    map: _Map = msgspec.field(default_factory=_Map)
    upload: _Upload = msgspec.field(default_factory=_Upload)
    units: _Units = msgspec.field(default_factory=_Units)
    access: _Access = msgspec.field(default_factory=_Access)


class _Target(Table):
    id: str
    label_vi: str
    label_en: str
    group: str  # a [[group]] or [[band]] id of config.toml (checked in load_targets)
    dose: Dose
    threshold: Share
    deadline: dt.date
    source: str = ""


class _TargetsFile(Table):
    target: Annotated[list[_Target], Meta(min_length=1)]


def load_targets(path: Path, cfg_bands: tuple[str, ...], groups: dict[str, Group]) -> tuple[Target, ...]:
    raw = tomlschema.load(read_toml(path), _TargetsFile, path).target
    known = (*groups, *cfg_bands)
    for i, t in enumerate(raw, start=1):
        if t.group not in known:
            raise tomlschema.error(path, f"target[{i}].group", tomlschema.one_of(known), t.group)
    if i := tomlschema.repeat(t.id for t in raw):
        raise tomlschema.error(path, f"target[{i}].id", "an id no other [[target]] has", raw[i - 1].id)
    return tuple(
        Target(t.id, t.label_vi, t.label_en, t.group, t.dose, fraction(t.threshold, "threshold"), t.deadline, t.source)
        for t in raw
    )


def data_dir(explicit: str | os.PathLike | None = None) -> Path:
    """The dataset's folder: --data, else $TRACKER_DATA, else the project's data/."""
    value = explicit or os.environ.get(DATA_ENV)
    return Path(value) if value else DATA_DIR


def load_config(data_dir: Path | None = None, targets_file: Path | None = None) -> Config:
    """Read ``config.toml`` and ``targets.toml`` from ``data_dir`` (default: $TRACKER_DATA, else data/)."""
    data_dir = globals()["data_dir"](data_dir)
    path = data_dir / "config.toml"
    raw = tomlschema.load(read_toml(path), _ConfigFile, path)
    bands = tuple(b.id for b in raw.band)
    if i := tomlschema.repeat(bands):
        raise tomlschema.error(path, f"band[{i}].id", "an id no other [[band]] has", bands[i - 1])
    groups: dict[str, Group] = {}
    for i, g in enumerate(raw.group, start=1):
        if g.id in bands or g.id in groups:
            raise tomlschema.error(path, f"group[{i}].id", "an id no [[band]] and no other [[group]] has", g.id)
        for j, b in enumerate(g.bands, start=1):
            if b not in bands:
                raise tomlschema.error(path, f"group[{i}].bands[{j}]", tomlschema.one_of(bands), b)
        if j := tomlschema.repeat(g.bands):
            raise tomlschema.error(path, f"group[{i}].bands[{j}]", "a band not listed before in it", g.bands[j - 1])
        label_vi = g.id if g.label_vi is None else g.label_vi
        label_en = g.id if g.label_en is None else g.label_en
        groups[g.id] = Group(g.id, tuple(g.bands), label_vi, label_en, tuple(g.aliases))
    try:
        re.compile(raw.units.unit_code)
    except re.error as exc:
        raise tomlschema.error(
            path, "units.unit_code", "a regular expression", raw.units.unit_code, note=str(exc)
        ) from None
    targets = load_targets(targets_file or data_dir / "targets.toml", bands, groups)
    p, access = raw.province, raw.access
    name_en = p.name_en or p.name_vi
    return Config(
        province_code=p.code,
        province_name_vi=p.name_vi,
        province_name_en=name_en,
        place_vi=f"tỉnh {p.name_vi}" if p.place_vi is None else p.place_vi,
        place_en=f"{name_en} province" if p.place_en is None else p.place_en,
        whole_vi=p.whole_vi,
        whole_en=p.whole_en,
        plan_vi=p.plan_vi,
        plan_en=p.plan_en,
        campaign_start=raw.campaign.start,
        bands=bands,
        groups=groups,
        targets=targets,
        at_risk_ratio=fraction(raw.status.at_risk_ratio, "status.at_risk_ratio"),
        data_dir=data_dir,
        boundaries=_boundaries(raw.map.boundaries, data_dir),
        limits=Limits(**msgspec.structs.asdict(raw.upload), **msgspec.structs.asdict(raw.units)),
        require_login_to_view=access.require_login_to_view,
        login_max_failures=access.max_failures,
        login_failure_window_minutes=access.failure_window_minutes,
        login_lockout_seconds=access.lockout_seconds,
        login_max_lockout_minutes=access.max_lockout_minutes,
    )


def _boundaries(setting: str, data_dir: Path) -> Path | None:
    """The boundary file: $TRACKER_BOUNDARIES, else [map] boundaries (relative to the project), else None."""
    value = os.environ.get(BOUNDARIES_ENV) or setting
    if not value:
        return None
    path = Path(value).expanduser()
    return path if path.is_absolute() else (data_dir.parent / path)


def store_dir(explicit: str | os.PathLike | None = None) -> Path:
    """The store folder: --store, else $TRACKER_STORE, else ./var/store."""
    if explicit:
        return Path(explicit)
    env = os.environ.get(STORE_ENV)
    return Path(env) if env else DEFAULT_STORE
