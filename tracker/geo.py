"""District boundaries: read a GeoJSON file and match its features to the units.

The boundary file is data supplied by the department (``[map] boundaries`` in data/config.toml or
$TRACKER_BOUNDARIES). Features are matched to units by a GSO code property, else by name, with names
compared through `normalise_name` so that "H. Lâm Bình", "LAM BINH" and "Huyện Lâm Bình" are one unit.
Nothing here draws (tracker.figures.maps does) or measures polygons (tracker.geometry does).
"""

from __future__ import annotations

import copy
import json
import math
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from tracker import geometry as geom
from tracker.errors import InputError, TrackerError

if TYPE_CHECKING:
    import pandas as pd

    from tracker.config import Config

# Property keys (compared case-insensitively), in order of preference.
CODE_KEYS = (
    "district_code",
    "unit_code",
    "ma_huyen",
    "mahuyen",
    "ma_dvhc",
    "madvhc",
    "gso_code",
    "code",
    "ma",
)
NAME_KEYS = (
    "unit_name",
    "name",
    "ten",
    "ten_huyen",
    "tenhuyen",
    "ten_dvhc",
    "tendvhc",
    "district",
    "district_name",
    "name_vi",
    "name_2",
    "varname_2",
)
POLYGON_TYPES = ("Polygon", "MultiPolygon")

# Administrative prefixes, matched on the lower-case name with its diacritics (punctuation already
# turned into spaces). Unaccented "quan" and "tinh" are left alone on purpose: Quản Bạ, Quan Hóa and
# Tịnh Biên are district names, not "Quận …" or "Tỉnh …".
_PREFIX = re.compile(r"^(?:huyện|huyen|h|thành phố|thanh pho|tp|t p|thị xã|thi xa|tx|t x|quận|q|tỉnh)\s+")
_PROVINCE = re.compile(r"^\s*tỉnh\s", re.IGNORECASE)
_SUFFIX = re.compile(r"\s+(?:district|city|town|province)$")
_NON_WORD = re.compile(r"[\W_]+")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_SHORT_PREFIX = re.compile(r"^(?:huyện|quận|tỉnh|h\.|q\.)\s*", re.IGNORECASE)
_CITY_PREFIX = re.compile(r"^(?:thành phố|tp\.?|t\.p\.)\s*", re.IGNORECASE)
_TOWN_PREFIX = re.compile(r"^(?:thị xã|tx\.?|t\.x\.)\s*", re.IGNORECASE)


def _fold(text: str) -> str:
    """Lower-case ASCII letters and digits only: diacritics dropped, đ -> d."""
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return _NON_ALNUM.sub("", text.lower())


@lru_cache(maxsize=4096)
def _normalise(name: str) -> str:
    words = _NON_WORD.sub(" ", unicodedata.normalize("NFC", name).lower()).strip()
    stripped = _SUFFIX.sub("", _PREFIX.sub("", words))
    return _fold(stripped) or _fold(words)


def normalise_name(name: str) -> str:
    """A matching key for a unit name, blind to case, diacritics, spacing, punctuation and prefixes.

    "Huyện Lâm Bình", "H. Lâm Bình", "lam binh", "LÂM BÌNH" -> "lambinh";
    "Thành phố Tuyên Quang", "TP. Tuyên Quang", "tp tuyen quang" -> "tuyenquang".
    """
    if name is None or (isinstance(name, float) and math.isnan(name)):
        return ""
    return _normalise(str(name))


def normalise_names(names: Iterable) -> pd.Series:
    """`normalise_name` over a column (a Series keeps its index)."""
    import pandas as pd  # here: reading a file's unit names (tracker.ingest) needs normalise_name alone

    series = names if isinstance(names, pd.Series) else pd.Series(list(names), dtype=object)
    return series.map(normalise_name).astype(object)


def short_name(name: str) -> tuple[str, str]:
    """The name without its administrative prefix, and the kind: ("Lâm Bình", "district"),
    ("Tuyên Quang", "city"), ("Sơn Dương", "district"); labels on a map are built from these."""
    name = unicodedata.normalize("NFC", str(name)).strip()
    for pattern, kind in ((_CITY_PREFIX, "city"), (_TOWN_PREFIX, "town"), (_SHORT_PREFIX, "district")):
        rest = pattern.sub("", name, count=1)
        if rest != name and rest:
            return rest, kind
    return name, "district"


@dataclass
class Boundaries:
    """Boundary polygons matched to units, ready for a choropleth (feature "id" = unit_code)."""

    geojson: dict
    unmatched_features: list[str]
    unmatched_units: list[str]
    bounds: tuple[float, float, float, float]  # lon_min, lat_min, lon_max, lat_max
    source: str
    label_points: dict[str, tuple[float, float]] = field(default_factory=dict)  # unit_code -> (lon, lat)

    @property
    def codes(self) -> list[str]:
        return [f["id"] for f in self.geojson["features"]]

    def feature_width(self, code: str) -> float:
        """Width in degrees of longitude of a unit's polygon at its label point (0 when unknown)."""
        point = self.label_points.get(code)
        for feature in self.geojson["features"]:
            if feature["id"] == code and point is not None:
                return geom.width_at(feature["geometry"], point[1])
        return 0.0


def load_boundaries(path: str | Path, units: pd.DataFrame) -> Boundaries:
    """Read a GeoJSON FeatureCollection of district polygons and match it to `units`."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: boundary file not found")
    if not path.is_file():
        raise InputError(f"{path}: not a file (expected a GeoJSON file of district boundaries)")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read the boundary file: {exc.strerror or exc}") from None
    return parse_boundaries(data, units, source=str(path))


def configured_boundaries(cfg: Config, units: pd.DataFrame) -> tuple[Boundaries | None, str | None]:
    """The configured boundary file (cfg.boundaries) matched to `units`, or (None, the reason it could not
    be used); (None, None) when no file is configured."""
    if cfg.boundaries is None:
        return None, None
    try:
        return load_boundaries(cfg.boundaries, units), None
    except TrackerError as exc:
        return None, str(exc)


def parse_boundaries(data: bytes | str | dict, units: pd.DataFrame, source: str = "upload") -> Boundaries:
    """Like `load_boundaries`, for GeoJSON already in memory (an uploaded file's bytes, or a dict)."""
    collection = data if isinstance(data, dict) else _parse_json(data, source)
    features = _features(collection, source)
    codes, names = _unit_keys(units)
    width = max((len(c) for c in codes), default=0)

    matched: list[dict] = []
    unmatched_features: list[str] = []
    for i, feature in enumerate(features):
        props = feature.get("properties") if isinstance(feature, dict) else None
        props = props if isinstance(props, dict) else {}
        label = _feature_label(props, i)
        geometry = feature.get("geometry") if isinstance(feature, dict) else None
        if not isinstance(geometry, dict) or geometry.get("type") not in POLYGON_TYPES:
            kind = geometry.get("type") if isinstance(geometry, dict) else "no geometry"
            unmatched_features.append(f"{label} ({kind})")
            continue
        code = _match(props, codes, names, width)
        if code is None or any(f["id"] == code for f in matched):
            unmatched_features.append(label)
            continue
        out = copy.deepcopy(feature)
        out["id"] = code
        out["properties"] = {**props, "unit_code": code, "unit_name": codes[code]}
        matched.append(out)

    if not matched:
        shown = ", ".join(
            _feature_label((f.get("properties") or {}) if isinstance(f, dict) else {}, i)
            for i, f in enumerate(features[:8])
        )
        more = ", …" if len(features) > 8 else ""
        expected = ", ".join(f"{c} {n}" for c, n in codes.items())
        raise InputError(
            f"{source}: none of the {len(features)} boundary features matches a unit, by a code property "
            f"({', '.join(CODE_KEYS)}) or by name ({', '.join(NAME_KEYS)}). Features: {shown}{more}. "
            f"Units: {expected}"
        )

    bounds = geom.bounds([f["geometry"] for f in matched], source)
    matched_codes = {f["id"] for f in matched}
    order = {c: i for i, c in enumerate(codes)}
    matched.sort(key=lambda f: order[f["id"]])
    return Boundaries(
        geojson={"type": "FeatureCollection", "features": matched},
        unmatched_features=unmatched_features,
        unmatched_units=[c for c in codes if c not in matched_codes],
        bounds=bounds,
        source=source,
        label_points=_label_points(matched, source),
    )


def _label_points(features: list[dict], source: str) -> dict[str, tuple[float, float]]:
    out = {}
    for f in features:
        try:
            out[f["id"]] = geom.label_point(f["geometry"])
        except InputError as exc:
            raise InputError(f"{source}: unit {f['id']}: {exc}") from None
    return out


# --- internals -------------------------------------------------------------------------------------


def _parse_json(data: bytes | str, source: str) -> dict:
    if isinstance(data, bytes | bytearray):
        try:
            data = bytes(data).decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InputError(f"{source}: not a GeoJSON file (not UTF-8 text)") from None
    try:
        return json.loads(data)
    except json.JSONDecodeError as exc:
        raise InputError(f"{source}: not a GeoJSON file (invalid JSON at line {exc.lineno}: {exc.msg})") from None


def _features(collection, source: str) -> list:
    if not isinstance(collection, dict):
        raise InputError(f"{source}: expected a GeoJSON FeatureCollection, got a JSON {type(collection).__name__}")
    kind = collection.get("type")
    if kind == "Topology":
        raise InputError(f"{source}: this is TopoJSON; convert it to a GeoJSON FeatureCollection first")
    if kind != "FeatureCollection" or not isinstance(collection.get("features"), list):
        raise InputError(f"{source}: expected a GeoJSON FeatureCollection, got type {kind!r}")
    if not collection["features"]:
        raise InputError(f"{source}: the FeatureCollection has no features")
    return collection["features"]


def _unit_keys(units: pd.DataFrame) -> tuple[dict[str, str], dict[str, str]]:
    """code -> name, and normalised name -> code (names shared by two units are left out)."""
    missing = [c for c in ("unit_code", "unit_name") if c not in units.columns]
    if missing:
        raise ValueError(f"units frame lacks column(s) {missing}")
    codes = {str(c).strip(): str(n) for c, n in zip(units["unit_code"], units["unit_name"], strict=True)}
    names: dict[str, str] = {}
    clash: set[str] = set()
    for code, name in codes.items():
        key = normalise_name(name)
        if key in names:
            clash.add(key)
        names[key] = code
    for key in clash:
        del names[key]
    names.pop("", None)
    return codes, names


def _ci(props: dict, keys: tuple[str, ...]) -> Iterator:
    lower = {str(k).lower(): v for k, v in props.items()}
    for key in keys:
        value = lower.get(key)
        if value is not None and str(value).strip():
            yield value


def _code_text(value, width: int) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    text = re.sub(r"^(\d+)\.0*$", r"\1", text)  # "72.0": a number that went through a float
    return text.zfill(width) if text.isdigit() else text


def _match(props: dict, codes: dict[str, str], names: dict[str, str], width: int) -> str | None:
    for value in _ci(props, CODE_KEYS):
        code = _code_text(value, width)
        if code in codes:
            return code
    for value in _ci(props, NAME_KEYS):
        if _PROVINCE.match(unicodedata.normalize("NFC", str(value))):
            continue  # "Tỉnh Tuyên Quang" is the province outline, not the city of the same name
        code = names.get(normalise_name(str(value)))
        if code is not None:
            return code
    return None


def _feature_label(props: dict, index: int) -> str:
    name = next(_ci(props, NAME_KEYS), None)
    code = next(_ci(props, CODE_KEYS), None)
    if name is not None and code is not None:
        return f"{name} [{code}]"
    if name is not None or code is not None:
        return str(name if name is not None else code)
    return f"feature #{index + 1}"
