"""A small synthetic district boundary file, made by the tests, and the way to the real one.

The geo and map tests draw on `district_collection`: one polygon per unit of the units table
(data/units.csv), with the properties the shared 2021 file has (``district_code`` and ``name``, e.g.
{"district_code": "071", "name": "Huyện Lâm Bình"}), or names only (``keys="name"``) for the fallback
by name. Each unit is a square of side 2 * HALF degrees centred on its published position, except:

- Yên Sơn (075) is a ring around the city, as the real district wraps around Tuyên Quang city: the
  rectangle RING_OUTER with the city's square (070) as its hole. Its published position
  (105.289, 21.88) lies on the ring, north-east of the hole.
- Sơn Dương (076) is a MultiPolygon: its square and a small exclave, EXCLAVE, to the south.

With data/units.csv the squares do not overlap, and the file spans lon 104.967-105.483 (Hàm Yên's
west edge to Na Hang's east edge) and lat 21.56-22.554 (the exclave's south edge to Lâm Bình's north
edge).

The real boundaries live outside the repository, in ../shared/geo (SHARED_GEO; the environment variable
TRACKER_TEST_SHARED_GEO points the tests elsewhere, e.g. at a missing folder to run as on a plain
clone). Only the tests of that file itself read it, marked with `needs_shared`; nothing here copies it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest

SHARED_GEO = Path(os.environ.get("TRACKER_TEST_SHARED_GEO") or Path(__file__).resolve().parents[2] / "shared" / "geo")
SHARED_FULL = SHARED_GEO / "tuyen_quang_districts_2021.geojson"
SHARED_SIMPLIFIED = SHARED_GEO / "tuyen_quang_districts_2021_simplified.geojson"

HALF = 0.05  # half the side of a unit's square, in degrees
RING_CODE, HOLE_CODE = "075", "070"
RING_OUTER = (105.12, 21.71, 105.34, 21.94)  # lon_min, lat_min, lon_max, lat_max
MULTI_CODE = "076"
EXCLAVE = (105.40, 21.56, 105.42, 21.58)


def needs_shared(path: Path) -> pytest.MarkDecorator:
    """Skip a test of the real shared 2021 file when it is not there (a plain clone has no ../shared)."""
    return pytest.mark.skipif(
        not path.is_file(),
        reason=f"the shared 2021 boundaries are not available: {path} (outside the repository, in ../shared/geo)",
    )


def rectangle(lon_min: float, lat_min: float, lon_max: float, lat_max: float) -> list[list[float]]:
    """A closed ring, counter-clockwise."""
    return [[lon_min, lat_min], [lon_max, lat_min], [lon_max, lat_max], [lon_min, lat_max], [lon_min, lat_min]]


def square_around(lon: float, lat: float, half: float = HALF) -> list[list[float]]:
    return rectangle(lon - half, lat - half, lon + half, lat + half)


def district_features(units: pd.DataFrame, *, keys: str = "code", omit=()) -> list[dict]:
    """One GeoJSON feature per unit of `units` (unit_code, unit_name, lat, lon), in the table's order,
    leaving out the codes in `omit`. `keys="code"`: district_code and name, as in the shared 2021 file;
    `keys="name"`: the name only."""
    if keys not in ("code", "name"):
        raise ValueError(f"keys must be 'code' or 'name', not {keys!r}")
    squares = {str(r.unit_code): square_around(float(r.lon), float(r.lat)) for r in units.itertuples(index=False)}
    features = []
    for r in units.itertuples(index=False):
        code, name = str(r.unit_code), str(r.unit_name)
        if code in omit:
            continue
        if code == RING_CODE:
            geometry = {"type": "Polygon", "coordinates": [rectangle(*RING_OUTER), squares[HOLE_CODE][::-1]]}
        elif code == MULTI_CODE:
            geometry = {"type": "MultiPolygon", "coordinates": [[squares[code]], [rectangle(*EXCLAVE)]]}
        else:
            geometry = {"type": "Polygon", "coordinates": [squares[code]]}
        props = {"district_code": code, "name": name} if keys == "code" else {"name": name}
        features.append({"type": "Feature", "properties": props, "geometry": geometry})
    return features


def district_collection(units: pd.DataFrame, **kw) -> dict:
    """The FeatureCollection of `district_features` (same keyword arguments)."""
    return {"type": "FeatureCollection", "name": "synthetic_districts", "features": district_features(units, **kw)}


def write_districts(path: Path, units: pd.DataFrame, *, bom: bool = False, **kw) -> Path:
    """`district_collection` written to `path` as UTF-8 GeoJSON (with a byte order mark when `bom`)."""
    text = json.dumps(district_collection(units, **kw), ensure_ascii=False)
    path.write_text(("\ufeff" if bom else "") + text, encoding="utf-8")
    return path
