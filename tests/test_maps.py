"""The district map: offline map traces only, values on the right districts, legends, notes, both languages."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from tests.geofixtures import SHARED_SIMPLIFIED, district_collection, needs_shared, write_districts
from tracker import fmt, geo, geometry
from tracker.figures import maps, scales
from tracker.figures.common import STATUS_COLORS
from tracker.i18n import t

PROJECT = Path(__file__).resolve().parents[1]
LANGS = ("vi", "en")
MODES = ("boundaries", "schematic")
MAP_TRACES = {"choroplethmap", "scattermap"}
COVERAGE = {"070": 0.81, "071": 0.55, "072": np.nan, "073": 0.62, "074": 0.70, "075": 0.74, "076": 0.68}
STATUS = {"070": "met", "071": "off_track", "072": None, "073": "at_risk", "074": "on_track", "075": "on_track",
          "076": "off_track"}  # fmt: skip
POPULATION = {"070": 110_000, "071": 34_000, "072": 46_000, "073": 135_000, "074": 120_000, "075": 170_000,
              "076": 200_000}  # fmt: skip


@pytest.fixture(scope="module")
def units() -> pd.DataFrame:
    return pd.read_csv(PROJECT / "data" / "units.csv", dtype={"unit_code": str})


@pytest.fixture(scope="module")
def shapes(units, tmp_path_factory) -> geo.Boundaries:
    """The synthetic province of tests/geofixtures.py: a square per unit around its position, Yên Sơn a
    ring around the city, Sơn Dương a MultiPolygon; lon 104.967-105.483, lat 21.56-22.554."""
    path = write_districts(tmp_path_factory.mktemp("geo") / "districts.geojson", units)
    return geo.load_boundaries(path, units)


@pytest.fixture(scope="module")
def table(units) -> pd.DataFrame:
    frame = units.copy()
    frame["population"] = frame["unit_code"].map(POPULATION)
    frame["coverage"] = frame["unit_code"].map(COVERAGE).astype(float)
    frame["status"] = frame["unit_code"].map(STATUS)
    frame["hover"] = [f"Dân số / Population: {p}" for p in frame["population"]]
    return frame


@pytest.fixture(params=MODES)
def mode(request):
    return request.getfixturevalue("shapes") if request.param == "boundaries" else None


def categories(lang: str) -> dict:
    return {s: (t(f"status.{s}", lang), color) for s, color in STATUS_COLORS.items()}


def coverage_map(table, lang, boundaries, **kw) -> go.Figure:
    return maps.district_map(
        table, "coverage", lang=lang, title=t("page.districts", lang), value_label="Coverage",
        fmt_value=lambda v: fmt.percent(v, lang), boundaries=boundaries, **kw,
    )  # fmt: skip


def status_map(table, lang, boundaries, **kw) -> go.Figure:
    return maps.district_map(
        table, "status", lang=lang, title="Status", value_label=t("control.target", lang),
        fmt_value=str, boundaries=boundaries, categories=categories(lang), **kw,
    )  # fmt: skip


def traces(fig: go.Figure, meta: str) -> list:
    return [tr for tr in fig.data if tr.meta == meta]


def values_by_unit(fig: go.Figure, meta: str) -> dict:
    """unit_code -> value: choropleth locations <-> z, or schematic ids <-> marker colours."""
    out = {}
    for tr in traces(fig, meta):
        if tr.type == "choroplethmap":
            out.update(zip(tr.locations, tr.z, strict=True))
        else:
            out.update(zip(tr.ids, tr.marker.color, strict=True))
    return out


def units_of(tr) -> list[str]:
    return list(tr.locations) if tr.type == "choroplethmap" else list(tr.ids)


def legend_entries(fig: go.Figure) -> list[tuple[str, str]]:
    """(name, colour) of every legend entry, in order."""
    out = []
    for tr in fig.data:
        if tr.showlegend:
            if tr.type == "choroplethmap":
                colors = {c for _, c in tr.colorscale}
                assert len(colors) == 1, "a category is drawn in one colour"
                out.append((tr.name, colors.pop()))
            else:
                out.append((tr.name, tr.marker.color))
    return out


# --- offline: map traces only, no geo, no tiles, no URLs --------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("kind", ["coverage", "status"])
def test_only_offline_map_traces(table, mode, lang, kind):
    fig = (coverage_map if kind == "coverage" else status_map)(table, lang, mode)
    assert {tr.type for tr in fig.data} <= MAP_TRACES
    assert not {"choropleth", "scattergeo", "choroplethmapbox", "scattermapbox"} & {tr.type for tr in fig.data}
    layout = fig.to_dict()["layout"]
    assert "geo" not in layout and "mapbox" not in layout
    assert fig.layout.geo.to_plotly_json() == {}
    style = fig.layout.map.style
    # Plotly's "white-bg" inline, without the glyph server URL its built-in copy carries
    assert style == maps.OFFLINE_STYLE
    assert style["layers"] == [{"id": "white-bg", "type": "background", "paint": {"background-color": "#FFFFFF"}}]
    assert "glyphs" not in style and "sprite" not in style  # district names drawn with a local font
    # not empty: plotly.js drops an empty {} on Plotly.react and MapLibre then rejects the style ("Map error.")
    assert style["sources"]
    for source in style["sources"].values():  # only inline GeoJSON: no tiles, no URL
        assert source["type"] == "geojson" and isinstance(source["data"], dict)
    assert not fig.layout.map.layers  # no raster or vector tile sources
    text = fig.to_json()
    assert not re.search(r"https?://", text), "no URL anywhere in the figure"
    assert "mapbox" not in text.lower()
    assert "https://" not in json.dumps(layout)


def test_tiles_only_when_asked(table, shapes):
    assert coverage_map(table, "vi", shapes).layout.map.style == maps.OFFLINE_STYLE
    assert coverage_map(table, "vi", shapes, tiles="open-street-map").layout.map.style == "open-street-map"


# --- values on the right districts ------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_continuous_values_sit_on_their_units(table, mode, lang):
    fig = coverage_map(table, lang, mode)
    shown = values_by_unit(fig, "value")
    expected = {c: v for c, v in COVERAGE.items() if not math.isnan(v)}
    assert shown == pytest.approx(expected)
    (no_data,) = traces(fig, "no_data")
    assert units_of(no_data) == ["072"]
    assert legend_entries(fig) == [(t("map.no_data", lang), STATUS_COLORS["unavailable"])]


def test_choropleth_traces_carry_only_their_own_features(table, shapes):
    fig = coverage_map(table, "vi", shapes)
    for tr in fig.data:
        if tr.type == "choroplethmap":
            assert sorted(f["id"] for f in tr.geojson["features"]) == sorted(tr.locations)
            assert tr.featureidkey == "id"


@pytest.mark.parametrize("lang", LANGS)
def test_categories_one_legend_entry_each_with_its_colour(table, mode, lang):
    fig = status_map(table, lang, mode)
    present = ["met", "on_track", "at_risk", "off_track"]  # in the order of the categories given
    expected = [(t(f"status.{s}", lang), STATUS_COLORS[s]) for s in present]
    expected.append((t("map.no_data", lang), STATUS_COLORS["unavailable"]))
    assert legend_entries(fig) == expected
    by_name = {tr.name: sorted(units_of(tr)) for tr in fig.data if tr.showlegend}
    assert by_name[t("status.off_track", lang)] == ["071", "076"]
    assert by_name[t("status.on_track", lang)] == ["074", "075"]
    assert by_name[t("map.no_data", lang)] == ["072"]
    assert not any(tr.showscale for tr in fig.data if tr.type == "choroplethmap")


def test_a_value_outside_the_categories_is_an_error(table):
    odd = table.assign(status=table["status"].replace({"met": "excellent"}))
    with pytest.raises(ValueError, match="excellent"):
        status_map(odd, "vi", None)


def test_numeric_categories_such_as_risk_levels(table, shapes):
    levels = {1: ("Cấp 1", "#2ca02c"), 2: ("Cấp 2", "#ffd700"), 3: ("Cấp 3", "#ff7f0e"), 4: ("Cấp 4", "#d62728")}
    frame = table.assign(level=[1.0, 2.0, np.nan, 4.0, 4.0, 1.0, 2.0])
    fig = maps.district_map(
        frame, "level", lang="vi", title=None, value_label="Cấp độ dịch", fmt_value=str,
        boundaries=shapes, categories=levels,
    )  # fmt: skip
    no_data = ("Không có số liệu", STATUS_COLORS["unavailable"])
    assert legend_entries(fig) == [levels[1], levels[2], levels[4], no_data]  # level 3 is absent


# --- colour scale -----------------------------------------------------------------------------------


def test_colour_scale_is_sequential_light_to_dark_blue_or_orange_when_higher_is_worse(table, shapes):
    """No red -> green: darker = more, blue where more is better, orange where more is worse (the palettes'
    colour-blind checks are in tests/test_palettes.py)."""
    (plain,) = traces(coverage_map(table, "vi", shapes), "value")
    (worse,) = traces(coverage_map(table, "vi", shapes, reverse=True), "value")
    for tr in (plain, worse):
        first, last = _rgb(tr.colorscale[0][1]), _rgb(tr.colorscale[-1][1])
        assert sum(first) > sum(last)  # low values light, high values dark
    first, last = _rgb(plain.colorscale[0][1]), _rgb(plain.colorscale[-1][1])
    assert first[2] > first[0] and last[2] > last[0]  # blue at both ends
    first, last = _rgb(worse.colorscale[0][1]), _rgb(worse.colorscale[-1][1])
    assert first[0] > first[2] and last[0] > last[2]  # orange at both ends
    assert plain.zmin == pytest.approx(0.55) and plain.zmax == pytest.approx(0.81)


def test_a_given_colour_scale_is_flipped_by_reverse(table, shapes):
    (plain,) = traces(coverage_map(table, "vi", shapes, colorscale="Viridis"), "value")
    (flipped,) = traces(coverage_map(table, "vi", shapes, colorscale="Viridis", reverse=True), "value")
    first, last = plain.colorscale[0][1], plain.colorscale[-1][1]
    assert flipped.colorscale[0][1] == last and flipped.colorscale[-1][1] == first


def test_all_zero_values_sit_at_the_low_end_of_the_scale(table, shapes):
    fig = coverage_map(table.assign(coverage=0.0), "vi", shapes, reverse=True)
    (tr,) = traces(fig, "value")
    assert (tr.zmin, tr.zmax) == (0.0, 1.0)
    assert list(tr.colorbar.ticktext) == ["0,0%"]
    assert tr.colorscale[0][1] == scales.colorscale_for(reverse=True)[0][1]  # the lightest end: nothing to worry about


def test_colour_bar_titled_and_ticks_formatted_in_the_language(table, mode):
    fig = coverage_map(table, "vi", mode, zrange=(0.0, 1.0))
    (tr,) = traces(fig, "value")
    bar = tr.colorbar if tr.type == "choroplethmap" else tr.marker.colorbar
    assert bar.title.text == "Coverage"
    assert list(bar.tickvals) == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert list(bar.ticktext) == ["0,0%", "25,0%", "50,0%", "75,0%", "100,0%"]


def _rgb(color: str) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", color)[:3])


# --- tooltips, labels, notes ------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_tooltips_name_value_and_hover_lines(table, mode, lang):
    fig = coverage_map(table, lang, mode)
    tips = {}
    for tr in fig.data:
        if tr.meta in ("value", "no_data"):
            tips.update(zip(units_of(tr), tr.customdata, strict=True))
            assert tr.hovertemplate == "%{customdata}<extra></extra>"
    assert set(tips) == set(COVERAGE)
    assert tips["071"] == f"<b>Huyện Lâm Bình</b><br>Coverage: {fmt.percent(0.55, lang)}<br>Dân số / Population: 34000"
    assert f"Coverage: {t('map.no_data', lang)}" in tips["072"]


def test_hover_lines_may_be_lists_and_repeats_are_dropped(table, shapes):
    frame = table.assign(hover=[["Coverage: 81,0%", "Line A"], "B\nC", None, "", np.nan, "D<br>E", ["F"]])
    fig = coverage_map(frame, "vi", shapes)
    tips = {}
    for tr in fig.data:
        if tr.meta in ("value", "no_data"):
            tips.update(zip(units_of(tr), tr.customdata, strict=True))
    assert tips["070"] == "<b>Thành phố Tuyên Quang</b><br>Coverage: 81,0%<br>Line A"
    assert tips["071"].endswith("<br>B<br>C")
    assert tips["073"].endswith("Coverage: 62,0%")
    assert tips["075"].endswith("<br>D<br>E")


@pytest.mark.parametrize("lang", LANGS)
def test_district_names_are_written_on_the_map(table, mode, lang):
    fig = coverage_map(table, lang, mode)
    labels = [tr for tr in fig.data if tr.meta == "labels"]
    assert labels and all(tr.mode == "text" and tr.hoverinfo == "skip" for tr in labels)
    names = sorted(n for tr in labels for n in tr.text)
    city = "TP. Tuyên Quang"  # in English too: the name the tables show, abbreviated
    assert names == sorted([city, "Lâm Bình", "Na Hang", "Chiêm Hóa", "Hàm Yên", "Yên Sơn", "Sơn Dương"])
    assert fig.layout.map.center.lat and fig.layout.map.zoom


def test_labels_can_be_left_off(table, mode):
    fig = coverage_map(table, "vi", mode, labels=False)
    assert not [tr for tr in fig.data if tr.meta == "labels"]


@pytest.mark.parametrize("lang", LANGS)
def test_schematic_says_what_it_is_in_the_language(table, lang):
    fig = coverage_map(table, lang, None)
    notes = [a.text.replace("<br>", " ") for a in fig.layout.annotations]
    assert notes == [maps.schematic_note(lang)]
    assert "TRACKER_BOUNDARIES" in notes[0] and "[map] boundaries" in notes[0]
    other = "en" if lang == "vi" else "vi"
    assert t("map.schematic_note", other) not in notes[0]


def test_schematic_circles_by_population(table):
    fig = coverage_map(table, "vi", None)
    sizes = {}
    for tr in fig.data:
        if tr.meta in ("value", "no_data"):
            assert tr.mode == "markers"
            sizes.update(zip(tr.ids, tr.marker.size, strict=True))
    assert sizes["076"] == maps.MAX_CIRCLE  # the largest population
    assert all(maps.MIN_CIRCLE <= s <= maps.MAX_CIRCLE for s in sizes.values())
    # area ∝ population between the two largest
    assert (sizes["075"] / sizes["076"]) ** 2 == pytest.approx(170_000 / 200_000, rel=0.01)
    assert sizes["071"] < sizes["073"]


def test_schematic_view_contains_every_unit(table, units):
    fig = coverage_map(table, "vi", None)
    center, zoom = fig.layout.map.center, fig.layout.map.zoom
    world = 512 * 2**zoom
    cx, cy = geometry.merc_x(center.lon) * world, geometry.merc_y(center.lat) * world
    for lon, lat in zip(units["lon"], units["lat"], strict=True):
        dx, dy = geometry.merc_x(lon) * world - cx, geometry.merc_y(lat) * world - cy
        assert abs(dx) < maps.ASSUMED_WIDTH / 2 and abs(dy) < 520 / 2


def test_boundary_map_is_fitted_to_the_province(table, shapes):
    fig = coverage_map(table, "vi", shapes)
    lon_min, lat_min, lon_max, lat_max = shapes.bounds
    assert lon_min < fig.layout.map.center.lon < lon_max and lat_min < fig.layout.map.center.lat < lat_max
    assert fig.layout.map.center.lon == pytest.approx((104.967 + 105.483) / 2)
    assert fig.layout.map.center.lat == pytest.approx(22.058, abs=0.001)  # halfway in Web Mercator y
    assert 7 < fig.layout.map.zoom < 9.5
    # The province is taller than wide: its 0.994 degrees of latitude (0.002979 of the Mercator world's
    # height) fill 84% of the 430-px map (520 less 50 for the title and 40 for the legend):
    # log2(0.84 * 430 / (0.002979 * 512)) = 7.89; the 0.516 degrees of longitude would allow 9.32.
    assert fig.layout.map.zoom == pytest.approx(7.89, abs=0.01)
    assert not fig.layout.annotations  # no schematic note over real boundaries
    assert fig.layout.dragmode is False


def test_units_without_a_boundary_are_named_and_filtered_units_stay_as_context(table, units):
    partial = geo.parse_boundaries(district_collection(units, omit={"076"}), units)
    assert partial.unmatched_units == ["076"]
    chosen = table[table["unit_code"].isin(["071", "073", "076"])]
    fig = coverage_map(chosen, "vi", partial)
    (note,) = fig.layout.annotations
    assert note.text == t("map.missing_boundaries", "vi", names="Huyện Sơn Dương")
    (context,) = traces(fig, "context")
    assert sorted(context.locations) == ["070", "072", "074", "075"]
    assert context.hoverinfo == "skip" and not context.showlegend
    assert values_by_unit(fig, "value") == pytest.approx({"071": 0.55, "073": 0.62})


def test_all_values_missing_gives_a_grey_map(table, mode):
    fig = coverage_map(table.assign(coverage=np.nan), "en", mode)
    assert not traces(fig, "value")
    (no_data,) = traces(fig, "no_data")
    assert sorted(units_of(no_data)) == sorted(COVERAGE)


def test_table_problems_are_reported(table, shapes):
    with pytest.raises(ValueError, match="coverage"):
        coverage_map(table.drop(columns="coverage"), "vi", shapes)
    with pytest.raises(ValueError, match="lat"):
        coverage_map(table.drop(columns="lat"), "vi", None)
    with pytest.raises(ValueError, match="more than once"):
        coverage_map(pd.concat([table, table.head(1)]), "vi", shapes)


def test_a_doubled_column_name_uses_the_last_one(table):
    # e.g. table.rename(columns={"population_all": "population"}) on a table that has a population column
    doubled = pd.concat([table.drop(columns="population").assign(population=1), table[["population"]]], axis=1)
    fig = coverage_map(doubled, "vi", None)
    sizes = {}
    for tr in fig.data:
        if tr.meta in ("value", "no_data"):
            sizes.update(zip(tr.ids, tr.marker.size, strict=True))
    assert sizes["076"] == maps.MAX_CIRCLE and sizes["071"] < maps.MAX_CIRCLE


def test_style_is_the_house_style(table, shapes):
    fig = coverage_map(table, "vi", shapes, height=480)
    assert fig.layout.height == 480
    assert fig.layout.title.text == t("page.districts", "vi")
    assert fig.layout.margin.l == 0 and fig.layout.margin.r == 0


# --- static export ----------------------------------------------------------------------------------


@pytest.mark.parametrize("boundaries_mode", MODES)
def test_static_png_export(table, boundaries_mode, request):
    pytest.importorskip("kaleido")
    boundaries = request.getfixturevalue("shapes") if boundaries_mode == "boundaries" else None
    fig = coverage_map(table, "vi", boundaries)
    png = fig.to_image(format="png", width=700, height=520)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000


def test_a_missing_value_has_one_line_for_the_map_s_metric(table, shapes):
    """A district without a figure: "Coverage: No data" from the map, not also the page's "Coverage: —"."""
    frame = table.assign(coverage=np.where(table["unit_code"] == "070", np.nan, table["coverage"]))
    frame = frame.assign(hover=[["Coverage: —", "Status: Unavailable"]] + [["Line"]] * (len(frame) - 1))
    fig = coverage_map(frame, "en", shapes)
    tips = {}
    for tr in fig.data:
        if tr.meta in ("value", "no_data"):
            tips.update(zip(units_of(tr), tr.customdata, strict=True))
    lines = tips["070"].split("<br>")
    assert [line for line in lines if line.startswith("Coverage:")] == ["Coverage: No data"]
    assert "Status: Unavailable" in lines


# --- the shared 2021 file itself (outside the repository, in ../shared/geo: skipped without it) ---------


@needs_shared(SHARED_SIMPLIFIED)
def test_shared_2021_file_draws_every_district_fitted_to_the_province(table, units):
    real = geo.load_boundaries(SHARED_SIMPLIFIED, units)
    fig = coverage_map(table, "vi", real)
    assert {tr.type for tr in fig.data} <= MAP_TRACES
    assert values_by_unit(fig, "value") == pytest.approx({c: v for c, v in COVERAGE.items() if not math.isnan(v)})
    (no_data,) = traces(fig, "no_data")
    assert units_of(no_data) == ["072"]
    names = sorted(n for tr in fig.data if tr.meta == "labels" for n in tr.text)
    assert names == sorted(["TP. Tuyên Quang", "Lâm Bình", "Na Hang", "Chiêm Hóa", "Hàm Yên", "Yên Sơn", "Sơn Dương"])
    lon_min, lat_min, lon_max, lat_max = real.bounds
    assert lon_min < fig.layout.map.center.lon < lon_max and lat_min < fig.layout.map.center.lat < lat_max
    assert 7 < fig.layout.map.zoom < 9.5
    assert not fig.layout.annotations
