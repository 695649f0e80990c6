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

from tracker.errors import InputError

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
        """The area's name: "Tuyên Quang" / "Tuyen Quang" (the TOTAL row of every table)."""
        return self._pick("province_name", lang)

    def place(self, lang: str) -> str:
        """The area as titles name it: "tỉnh Tuyên Quang" / "Tuyen Quang province"."""
        return self._pick("place", lang)

    def whole(self, lang: str) -> str:
        """The whole area in a chart's legend: "Toàn tỉnh" / "Province"."""
        return self._pick("whole", lang)

    def whole_named(self, lang: str) -> str:
        """The whole area named: "Toàn tỉnh Tuyên Quang" / "Tuyen Quang province"."""
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


def load_targets(path: Path, cfg_bands: tuple[str, ...], groups: dict[str, Group]) -> tuple[Target, ...]:
    raw = read_toml(path).get("target", [])
    if not isinstance(raw, list) or not raw:
        raise InputError(f"{path}: expected an array of [[target]] tables")
    out = []
    for i, t in enumerate(raw, start=1):
        where = f"{path} target #{i}"
        missing = [k for k in ("id", "label_vi", "label_en", "group", "dose", "threshold", "deadline") if k not in t]
        if missing:
            raise InputError(f"{where}: missing {', '.join(missing)}")
        if t["group"] not in groups and t["group"] not in cfg_bands:
            raise InputError(f"{where}: unknown group {t['group']!r}")
        if not isinstance(t["dose"], int) or not 1 <= t["dose"] <= 4:
            raise InputError(f"{where}: dose must be 1, 2, 3 or 4")
        threshold = fraction(t["threshold"], f"{where} threshold")
        if not 0 < threshold <= 1:
            raise InputError(f"{where}: threshold must be a fraction in (0, 1], e.g. 0.7")
        deadline = t["deadline"]
        if not isinstance(deadline, dt.date) or isinstance(deadline, dt.datetime):
            raise InputError(f"{where}: deadline must be a TOML date such as 2021-12-31")
        out.append(
            Target(
                id=str(t["id"]),
                label_vi=str(t["label_vi"]),
                label_en=str(t["label_en"]),
                group=str(t["group"]),
                dose=int(t["dose"]),
                threshold=threshold,
                deadline=deadline,
                source=str(t.get("source", "")),
            )
        )
    ids = [t.id for t in out]
    if len(set(ids)) != len(ids):
        raise InputError(f"{path}: target ids must be unique")
    return tuple(out)


def data_dir(explicit: str | os.PathLike | None = None) -> Path:
    """The dataset's folder: --data, else $TRACKER_DATA, else the project's data/."""
    value = explicit or os.environ.get(DATA_ENV)
    return Path(value) if value else DATA_DIR


def load_config(data_dir: Path | None = None, targets_file: Path | None = None) -> Config:
    """Read ``config.toml`` and ``targets.toml`` from ``data_dir`` (default: $TRACKER_DATA, else data/)."""
    data_dir = globals()["data_dir"](data_dir)
    raw = read_toml(data_dir / "config.toml")
    bands = tuple(str(b["id"]) for b in raw.get("band", []))
    if not bands or len(set(bands)) != len(bands):
        raise InputError(f"{data_dir / 'config.toml'}: [[band]] ids must be present and unique")
    groups: dict[str, Group] = {}
    for g in raw.get("group", []):
        unknown = [b for b in g["bands"] if b not in bands]
        if unknown:
            raise InputError(f"{data_dir / 'config.toml'}: group {g['id']!r} names unknown bands {unknown}")
        groups[str(g["id"])] = Group(
            id=str(g["id"]),
            bands=tuple(g["bands"]),
            label_vi=str(g.get("label_vi", g["id"])),
            label_en=str(g.get("label_en", g["id"])),
            aliases=tuple(str(a) for a in g.get("aliases", ())),
        )
    clash = set(groups) & set(bands)
    if clash:
        raise InputError(f"{data_dir / 'config.toml'}: ids used both as band and group: {sorted(clash)}")
    targets = load_targets(targets_file or data_dir / "targets.toml", bands, groups)
    province = raw.get("province", {})
    name_vi = str(province.get("name_vi", ""))
    name_en = str(province.get("name_en", "")) or name_vi
    return Config(
        province_code=str(province.get("code", "")),
        province_name_vi=name_vi,
        province_name_en=name_en,
        place_vi=str(province.get("place_vi", f"tỉnh {name_vi}")),
        place_en=str(province.get("place_en", f"{name_en} province")),
        whole_vi=str(province.get("whole_vi", "Toàn tỉnh")),
        whole_en=str(province.get("whole_en", "Province")),
        plan_vi=str(province.get("plan_vi", "")),
        plan_en=str(province.get("plan_en", "")),
        campaign_start=raw.get("campaign", {}).get("start", dt.date(2021, 1, 1)),
        bands=bands,
        groups=groups,
        targets=targets,
        at_risk_ratio=fraction(raw.get("status", {}).get("at_risk_ratio", 0.75), "status.at_risk_ratio"),
        data_dir=data_dir,
        boundaries=_boundaries(raw.get("map", {}).get("boundaries", ""), data_dir),
        limits=_limits(raw, data_dir / "config.toml"),
        require_login_to_view=bool(raw.get("access", {}).get("require_login_to_view", False)),
        **_login_policy(raw, data_dir / "config.toml"),
    )


def _login_policy(raw: dict, path: Path) -> dict[str, int]:
    """[access] max_failures, failure_window_minutes, lockout_seconds, max_lockout_minutes: whole numbers above 0."""
    values = {}
    for key in ("max_failures", "failure_window_minutes", "lockout_seconds", "max_lockout_minutes"):
        if key not in raw.get("access", {}):
            continue
        value = raw["access"][key]
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise InputError(f"{path}: [access] {key} must be a whole number above 0, got {value!r}")
        values[f"login_{key}"] = value
    return values


def _limits(raw: dict, path: Path) -> Limits:
    """[upload] and [units] of config.toml: whole numbers above 0, a valid unit-code pattern."""
    values = {}
    defaults = Limits()
    for table, keys in (("upload", [f for f in defaults.__dataclass_fields__ if f.startswith("max_")]),
                        ("units", ["unit_code", "unit_name_max"])):  # fmt: skip
        for key in keys:
            if key not in raw.get(table, {}):
                continue
            value = raw[table][key]
            expected = type(getattr(defaults, key))
            if expected is int and (isinstance(value, bool) or not isinstance(value, int) or value <= 0):
                raise InputError(f"{path}: [{table}] {key} must be a whole number above 0, got {value!r}")
            if expected is str:
                try:
                    re.compile(str(value))
                except re.error as exc:
                    raise InputError(f"{path}: [{table}] {key} is not a regular expression: {exc}") from None
            values[key] = value
    return Limits(**values)


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
