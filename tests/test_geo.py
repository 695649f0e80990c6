"""Boundary files: name keys, matching features to units by code or by name, errors, and the map view."""

from __future__ import annotations

import copy
import json
import math
import unicodedata
from pathlib import Path

import pandas as pd
import pytest

from tests.geofixtures import (
    HOLE_CODE,
    RING_CODE,
    RING_OUTER,
    SHARED_FULL,
    SHARED_SIMPLIFIED,
    district_collection,
    needs_shared,
    write_districts,
)
from tracker import geo, geometry
from tracker.errors import InputError

PROJECT = Path(__file__).resolve().parents[1]
CODES = ["070", "071", "072", "073", "074", "075", "076"]


@pytest.fixture(scope="module")
def units() -> pd.DataFrame:
    return pd.read_csv(PROJECT / "data" / "units.csv", dtype={"unit_code": str})


def square(lon: float, lat: float, half: float = 0.05) -> dict:
    ring = [[lon - half, lat - half], [lon + half, lat - half], [lon + half, lat + half], [lon - half, lat + half]]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


def feature(props: dict, lon: float = 105.2, lat: float = 22.0) -> dict:
    return {"type": "Feature", "properties": props, "geometry": square(lon, lat)}


def collection(*features: dict) -> dict:
    return {"type": "FeatureCollection", "features": list(features)}


def write(tmp_path: Path, data, name: str = "b.geojson") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


# --- normalise_name ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["Huyện Lâm Bình", "lam binh", "H. Lâm Bình", "LÂM BÌNH", "Lâm  Bình", "huyen lam binh", "H.Lâm Bình", "Lam-Binh"],
)
def test_lam_binh_spellings_share_one_key(name):
    assert geo.normalise_name(name) == "lambinh"


@pytest.mark.parametrize(
    "name",
    ["Thành phố Tuyên Quang", "TP. Tuyên Quang", "tp tuyen quang", "T.P. Tuyên Quang", "TP.Tuyên Quang",
     "THÀNH PHỐ TUYÊN QUANG", "Tuyen Quang City", "Tỉnh Tuyên Quang"],
)  # fmt: skip
def test_city_spellings_share_one_key(name):
    assert geo.normalise_name(name) == "tuyenquang"


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Huyện Chiêm Hóa", "chiemhoa"),
        ("Huyện Chiêm Hoá", "chiemhoa"),  # old-style tone mark placement
        ("Thị xã Phú Thọ", "phutho"),
        ("TX. Phú Thọ", "phutho"),
        ("Quận Ba Đình", "badinh"),
        ("Q. Ba Đình", "badinh"),
        ("Huyện Đắk Glong", "dakglong"),
        ("Huyện Quản Bạ", "quanba"),  # "Quản" is part of the name, not the prefix "Quận"
        ("Huyện Tịnh Biên", "tinhbien"),  # and "Tịnh" is not "Tỉnh"
        ("Quan Hoa", "quanhoa"),
    ],
)
def test_prefixes_diacritics_and_real_names(name, key):
    assert geo.normalise_name(name) == key


@pytest.mark.parametrize("name", ["Huyện Lâm Bình", "Thành phố Tuyên Quang", "Huyện Chiêm Hóa", "Huyện Đắk Glong"])
def test_nfd_input_gives_the_nfc_key(name):
    decomposed = unicodedata.normalize("NFD", name)
    assert decomposed != name or name.isascii()
    assert geo.normalise_name(decomposed) == geo.normalise_name(name)
    assert geo.normalise_name(decomposed).isascii()


def test_normalise_names_keeps_the_index_and_tolerates_gaps():
    series = pd.Series(["H. Lâm Bình", None, "TP Tuyên Quang"], index=[10, 11, 12])
    out = geo.normalise_names(series)
    assert out.to_dict() == {10: "lambinh", 11: "", 12: "tuyenquang"}


def test_short_name_drops_the_prefix_and_tells_the_kind():
    assert geo.short_name("Huyện Lâm Bình") == ("Lâm Bình", "district")
    assert geo.short_name("Thành phố Tuyên Quang") == ("Tuyên Quang", "city")
    assert geo.short_name("Thị xã Phú Thọ") == ("Phú Thọ", "town")
    assert geo.short_name("Na Hang") == ("Na Hang", "district")


# --- a whole province: the synthetic boundary file of tests/geofixtures.py ----------------------------

# Squares of side 0.1 degree around the positions of data/units.csv (lon, lat), so each label point is
# the unit's own position; Yên Sơn (075) is a ring around the city's square, Sơn Dương (076) its square
# plus the exclave lon 105.40-105.42, lat 21.56-21.58.
SQUARE_CENTRES = {
    "070": (105.226, 21.781),
    "071": (105.227, 22.504),
    "072": (105.433, 22.445),
    "073": (105.271, 22.174),
    "074": (105.017, 22.1),
    "076": (105.387, 21.653),
}
# Hàm Yên's west edge 105.017 - 0.05, the exclave's south edge, Na Hang's east edge 105.433 + 0.05,
# Lâm Bình's north edge 22.504 + 0.05.
PROVINCE_BOUNDS = (104.967, 21.56, 105.483, 22.554)


@pytest.mark.parametrize(
    ("keys", "bom"), [("code", False), ("name", False), ("code", True)], ids=["by-code", "by-name", "bom"]
)
def test_a_province_file_matches_every_unit(tmp_path, units, keys, bom):
    path = write_districts(tmp_path / "districts.geojson", units, keys=keys, bom=bom)
    b = geo.load_boundaries(path, units)
    assert b.codes == CODES
    assert [f["id"] for f in b.geojson["features"]] == CODES
    assert b.unmatched_features == [] and b.unmatched_units == []
    assert b.source == str(path)
    assert b.bounds == pytest.approx(PROVINCE_BOUNDS)
    assert {f["properties"]["unit_name"] for f in b.geojson["features"]} == set(units["unit_name"])
    assert all(f["properties"]["unit_code"] == f["id"] for f in b.geojson["features"])
    assert b.geojson["features"][-1]["geometry"]["type"] == "MultiPolygon"
    # A square's label point is its centre; Sơn Dương's lies in its square, not in the exclave.
    for code, centre in SQUARE_CENTRES.items():
        assert b.label_points[code] == pytest.approx(centre, abs=1e-6)
    assert b.feature_width("074") == pytest.approx(0.1)


def test_label_point_of_a_district_around_the_city_is_on_the_ring(units):
    # Yên Sơn's outer rectangle is centred (105.23, 21.825), inside the city's square (the hole): the
    # label moves onto the ring, to its deepest part, the band north of the city (lat 21.831-21.94,
    # 0.109 deep; the west, east and south bands are 0.056, 0.064 and 0.021 deep), about halfway up.
    b = geo.parse_boundaries(district_collection(units), units)
    lon, lat = b.label_points[RING_CODE]
    lon_min, lat_min, lon_max, lat_max = RING_OUTER
    assert lon_min < lon < lon_max and lat_min < lat < lat_max
    hole_lon, hole_lat = SQUARE_CENTRES[HOLE_CODE]
    assert not (abs(lon - hole_lon) < 0.05 and abs(lat - hole_lat) < 0.05)  # not in the city
    assert lat == pytest.approx((21.831 + 21.94) / 2, abs=0.01)
    assert b.feature_width(RING_CODE) == pytest.approx(lon_max - lon_min)  # north of the hole: the full width
    assert b.label_points[HOLE_CODE] == pytest.approx(SQUARE_CENTRES[HOLE_CODE], abs=1e-6)  # the city's own


def test_parsing_leaves_the_callers_dict_alone(units):
    raw = district_collection(units)
    before = copy.deepcopy(raw)
    b = geo.parse_boundaries(raw, units, source="dict")
    assert raw == before
    assert all("id" not in f for f in raw["features"])
    assert b.codes == CODES and b.source == "dict"


def test_a_province_file_without_a_district_names_the_unit(tmp_path, units):
    path = write_districts(tmp_path / "districts.geojson", units, omit={"076"})
    b = geo.load_boundaries(path, units)
    assert b.codes == CODES[:-1]
    assert b.unmatched_units == ["076"] and b.unmatched_features == []
    assert b.bounds == pytest.approx((104.967, 21.71, 105.483, 22.554))  # south: Yên Sơn's edge now


# --- matching by code and by name -------------------------------------------------------------------


def test_names_written_oddly_match_by_name(tmp_path, units):
    data = collection(
        feature({"name": "H. Lâm Bình"}, 105.2, 22.5),
        feature({"name": "TP Tuyên Quang"}, 105.2, 21.8),
        feature({"name": unicodedata.normalize("NFD", "Huyện Na Hang")}, 105.4, 22.4),
        feature({"name": "Chiem Hoa"}, 105.3, 22.2),
        feature({"name": "HUYỆN HÀM YÊN"}, 105.0, 22.1),
        feature({"NAME": "yên sơn"}, 105.3, 21.9),  # keys are case-insensitive
        feature({"name": "Huyện Bắc Mê"}, 105.4, 22.7),  # a district of Hà Giang
    )
    b = geo.load_boundaries(write(tmp_path, data), units)
    assert sorted(b.codes) == ["070", "071", "072", "073", "074", "075"]
    assert b.unmatched_features == ["Huyện Bắc Mê"]
    assert b.unmatched_units == ["076"]
    assert all(f["id"] == f["properties"]["unit_code"] for f in b.geojson["features"])
    lon_min, lat_min, lon_max, lat_max = b.bounds
    assert (lon_min, lat_min) == pytest.approx((104.95, 21.75)) and (lon_max, lat_max) == pytest.approx((105.45, 22.55))


def test_codes_are_compared_as_zero_padded_strings_before_names(tmp_path, units):
    data = collection(
        feature({"MA_HUYEN": 71, "name": "Na Hang"}),  # the code wins over a conflicting name
        feature({"gso_code": "72.0"}),
        feature({"district_code": 73.0}),
        feature({"Code": "999", "ten": "Huyện Hàm Yên"}),  # unknown code: falls back to the name
        feature({"unit_code": "076", "name": "Sơn Dương"}),
        feature({"district_code": "076", "name": "Sơn Dương (bản cũ)"}),  # same unit twice: the first stays
        feature({"district_code": "027", "name": "Huyện Bắc Mê"}),
        feature({}),
    )
    b = geo.parse_boundaries(json.dumps(data).encode(), units)
    assert b.codes == ["071", "072", "073", "074", "076"]
    assert b.unmatched_features == ["Sơn Dương (bản cũ) [076]", "Huyện Bắc Mê [027]", "feature #8"]
    assert b.unmatched_units == ["070", "075"]
    assert b.source == "upload"


def test_codes_of_another_width_or_kind_do_not_match(units):
    b = geo.parse_boundaries(collection(feature({"code": "7"}), feature({"code": "08070"}), feature({"ma": 70})), units)
    assert b.codes == ["070"]
    assert b.unmatched_features == ["7", "08070"]


def test_a_province_outline_is_not_taken_for_the_city(units):
    data = collection(
        feature({"name": "Tỉnh Tuyên Quang"}, 105.2, 22.0),
        feature({"name": "TP Tuyên Quang"}, 105.2, 21.8),
    )
    b = geo.parse_boundaries(data, units)
    assert b.codes == ["070"]
    assert b.label_points["070"] == pytest.approx((105.2, 21.8))
    assert b.unmatched_features == ["Tỉnh Tuyên Quang"]


def test_features_without_polygons_are_reported(units):
    point = {"type": "Feature", "properties": {"name": "Na Hang"}, "geometry": {"type": "Point", "coordinates": [1, 2]}}
    empty = {"type": "Feature", "properties": {"name": "Chiêm Hóa"}, "geometry": None}
    b = geo.parse_boundaries(collection(feature({"name": "Lâm Bình"}), point, empty), units)
    assert b.codes == ["071"]
    assert b.unmatched_features == ["Na Hang (Point)", "Chiêm Hóa (no geometry)"]


def test_multipolygons_and_bom_are_read(units):
    multi = {
        "type": "Feature",
        "properties": {"ten": "Thành phố Tuyên Quang"},
        "geometry": {
            "type": "MultiPolygon",
            "coordinates": [square(105.2, 21.8)["coordinates"], square(105.3, 21.7, 0.01)["coordinates"]],
        },
    }
    data = "\ufeff" + json.dumps(collection(multi), ensure_ascii=False)
    b = geo.parse_boundaries(data.encode("utf-8"), units)
    assert b.codes == ["070"]
    assert b.label_points["070"] == pytest.approx((105.2, 21.8), abs=0.01)  # in the larger polygon
    assert b.bounds == pytest.approx((105.15, 21.69, 105.31, 21.85))


def test_label_point_of_a_ring_shaped_district_is_inside_it():
    # A "C" shape whose centroid falls in the gap: the label must move onto the polygon itself.
    ring = [[0, 0], [3, 0], [3, 1], [1, 1], [1, 2], [3, 2], [3, 3], [0, 3], [0, 0]]
    lon, lat = geometry.label_point({"type": "Polygon", "coordinates": [ring]})
    assert 0 < lon < 1 and 0 < lat < 3


# --- broken files -----------------------------------------------------------------------------------


def test_missing_file(tmp_path, units):
    with pytest.raises(InputError, match="not found"):
        geo.load_boundaries(tmp_path / "nope.geojson", units)


def test_a_folder_is_not_a_file(tmp_path, units):
    with pytest.raises(InputError, match="not a file"):
        geo.load_boundaries(tmp_path, units)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "invalid JSON"),
        ("", "invalid JSON"),
        ("[1, 2, 3]", "FeatureCollection"),
        (json.dumps(feature({"name": "Lâm Bình"})), "FeatureCollection, got type 'Feature'"),
        (json.dumps({"type": "Topology", "objects": {}}), "TopoJSON"),
        (json.dumps({"type": "FeatureCollection", "features": []}), "no features"),
        (json.dumps(collection(feature({"name": "Huyện Bắc Mê"}), feature({"code": "027"}))), "none of the 2"),
    ],
)
def test_broken_files_raise_input_error(tmp_path, units, content, message):
    path = write(tmp_path, content)
    with pytest.raises(InputError, match=message) as caught:
        geo.load_boundaries(path, units)
    assert str(path) in str(caught.value)


def test_no_match_message_lists_features_and_units(units):
    with pytest.raises(InputError) as caught:
        geo.parse_boundaries(collection(feature({"name": "Huyện Bắc Mê"})), units, source="bac_me.geojson")
    text = str(caught.value)
    assert "bac_me.geojson" in text and "Huyện Bắc Mê" in text and "071 Huyện Lâm Bình" in text


def test_binary_upload_is_rejected(units):
    with pytest.raises(InputError, match="not UTF-8"):
        geo.parse_boundaries(b"\xff\xfe\x00\x01garbage", units)


def test_projected_coordinates_are_rejected(units):
    projected = feature({"name": "Lâm Bình"})
    projected["geometry"] = square(500000.0, 2400000.0, 1000.0)
    with pytest.raises(InputError, match="WGS 84"):
        geo.parse_boundaries(collection(projected), units)


def test_units_frame_needs_codes_and_names():
    with pytest.raises(ValueError, match="unit_name"):
        geo.parse_boundaries(collection(feature({"name": "x"})), pd.DataFrame({"unit_code": ["070"]}))


# --- fit_view ---------------------------------------------------------------------------------------


def _pixel_extent(bounds, zoom):
    lon_min, lat_min, lon_max, lat_max = bounds
    world = 512 * 2**zoom
    width = (geometry.merc_x(lon_max) - geometry.merc_x(lon_min)) * world
    height = (geometry.merc_y(lat_min) - geometry.merc_y(lat_max)) * world
    return width, height


@pytest.mark.parametrize(
    "bounds",
    [(104.85, 21.5, 105.6, 22.69), (105.2, 21.75, 105.25, 21.8), (102.1, 8.5, 109.5, 23.4), (-10.0, 40.0, 5.0, 45.0)],
)
def test_fit_view_centers_and_fits(bounds):
    center, zoom = geometry.fit_view(bounds, 600, 500)
    lon_min, lat_min, lon_max, lat_max = bounds
    assert lon_min < center["lon"] < lon_max and lat_min < center["lat"] < lat_max
    width, height = _pixel_extent(bounds, zoom)
    assert width <= 600 and height <= 500  # everything shows
    assert width >= 0.75 * 600 or height >= 0.75 * 500  # and fills most of the frame


def test_fit_view_zooms_in_more_for_smaller_bounds():
    province = (104.85, 21.5, 105.6, 22.69)
    city = (105.17, 21.74, 105.28, 21.84)
    assert geometry.fit_view(city)[1] > geometry.fit_view(province)[1] + 2
    assert geometry.fit_view(province, 600, 1000)[1] > geometry.fit_view(province, 600, 500)[1]


def test_fit_view_of_a_point_is_a_close_zoom():
    center, zoom = geometry.fit_view((105.2, 21.8, 105.2, 21.8))
    assert center == pytest.approx({"lat": 21.8, "lon": 105.2})
    assert 10 <= zoom <= 16


def test_shift_lat_moves_by_pixels_at_a_zoom():
    lat = geometry.shift_lat(22.0, -100, 8.0)
    assert lat < 22.0
    moved = (geometry.merc_y(lat) - geometry.merc_y(22.0)) * 512 * 2**8
    assert moved == pytest.approx(100)


# --- the shared 2021 file itself (outside the repository, in ../shared/geo: skipped without it) ---------


@pytest.mark.parametrize(
    "path",
    [
        pytest.param(SHARED_FULL, marks=needs_shared(SHARED_FULL), id="full"),
        pytest.param(SHARED_SIMPLIFIED, marks=needs_shared(SHARED_SIMPLIFIED), id="simplified"),
    ],
)
def test_shared_2021_file_matches_every_unit_by_code(path, units):
    b = geo.load_boundaries(path, units)
    assert b.codes == CODES
    assert [f["id"] for f in b.geojson["features"]] == CODES
    assert b.unmatched_features == [] and b.unmatched_units == []
    assert b.source == str(path)
    lon_min, lat_min, lon_max, lat_max = b.bounds
    assert 104.5 < lon_min < lon_max < 106.0 and 21.2 < lat_min < lat_max < 23.0
    assert {f["properties"]["unit_name"] for f in b.geojson["features"]} == set(units["unit_name"])
    # Label points lie inside the province, near the published unit positions.
    positions = units.set_index("unit_code")
    for code, (lon, lat) in b.label_points.items():
        assert lon_min <= lon <= lon_max and lat_min <= lat <= lat_max
        assert math.dist((lon, lat), (positions.at[code, "lon"], positions.at[code, "lat"])) < 0.2


@needs_shared(SHARED_SIMPLIFIED)
def test_shared_file_is_not_modified_by_loading(units):
    before = SHARED_SIMPLIFIED.read_bytes()
    raw = json.loads(before.decode("utf-8"))
    b = geo.parse_boundaries(raw, units, source="dict")
    assert all("id" not in f for f in raw["features"])  # the caller's dict is left alone
    assert b.codes == CODES and b.source == "dict"
    geo.load_boundaries(SHARED_SIMPLIFIED, units)
    assert SHARED_SIMPLIFIED.read_bytes() == before
