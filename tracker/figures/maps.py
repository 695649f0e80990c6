"""The district map: a choropleth over real boundaries, or a schematic of circles when there are none.

Offline first: only MapLibre map traces (Choroplethmap, Scattermap) on a plain white style given inline
(OFFLINE_STYLE: no tiles, no sources, no glyph server), so nothing is fetched from the internet, in the
browser or in a server-side kaleido export; district names are drawn with a local font.
Plotly's geo traces (Choropleth, Scattergeo) load a world base map from a CDN and are never used here.
"""

from __future__ import annotations

import copy
import textwrap
from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from tracker import geo, geometry
from tracker.figures.common import STATUS_COLORS, plotly_text, style
from tracker.figures.scales import colors_at, continuous, flat, is_dark
from tracker.i18n import t

NO_DATA_COLOR = STATUS_COLORS["unavailable"]
CONTEXT_COLOR = "#eeeeee"  # districts on the boundary file but not in the table (filtered out)
BORDER_COLOR = "#ffffff"
LABEL_COLOR = "#1b1b1b"
LIGHT_LABEL_COLOR = "#ffffff"  # on dark fills
CONTEXT_LABEL_COLOR = "#8a8a8a"
NOTE_COLOR = "#555555"
NOTE_LINE = 15  # px per line of note above the map
# The base map: Plotly's "white-bg" (a white background, no tiles) given inline, minus the `glyphs`
# URL that Plotly's built-in copy carries (https://fonts.openmaptiles.org/...). Without that URL
# MapLibre draws the district names with a local font and the map makes no request at all; with it,
# every text label would first try the internet. `sources` holds one empty local GeoJSON source because
# plotly.js drops an empty {} when it re-renders a figure (Plotly.react, as Streamlit does), and MapLibre
# then rejects the style ("missing required property sources": "Map error.").
OFFLINE_STYLE = {
    "id": "white-bg",
    "version": 8,
    "sources": {"offline-empty": {"type": "geojson", "data": {"type": "FeatureCollection", "features": []}}},
    "layers": [{"id": "white-bg", "type": "background", "paint": {"background-color": "#FFFFFF"}}],
}
LABEL_SIZE = 12
MIN_CIRCLE, MAX_CIRCLE = 16, 46  # schematic circle diameters, px
ASSUMED_WIDTH = 560  # map width (px) the initial zoom is fitted to; the page width is not known here


def district_map(
    table: pd.DataFrame,
    value: str,
    *,
    lang: str,
    title: str | None,
    value_label: str,
    fmt_value: Callable[[object], str],
    boundaries: geo.Boundaries | None = None,
    categories: Mapping[object, tuple[str, str]] | None = None,
    colorscale: str | list | None = None,
    reverse: bool = False,
    height: int = 520,
    zrange: tuple[float, float] | None = None,
    tiles: str | None = None,
    labels: bool = True,
    hints: bool = True,
) -> go.Figure:
    """A map of `table[value]` per district.

    `table` has one row per unit: unit_code, unit_name, lat, lon, population, `value` and optionally
    `hover` (pre-formatted lines in `lang`: a string with "<br>" or "\\n" breaks, or a list of lines).
    Continuous values get a colour scale over `zrange` (default: the data's range), with colour-bar ticks
    formatted by `fmt_value`: by default light to dark blue, darker = higher; `reverse=True` when higher is
    worse (light to dark orange, see colorscale_for).
    `categories` = {value: (label, colour)} draws a categorical map instead, one legend entry per category
    present; NaN is the grey "no data" entry; a value that is not a category is a ValueError.
    With `boundaries` (tracker.geo.Boundaries) the districts are filled polygons; without, an offline
    schematic of circles at the unit positions, sized by population, with a note saying so.
    `tiles` (e.g. "open-street-map") puts a tile base map under the districts: it needs the internet;
    the default None draws on plain white (OFFLINE_STYLE) and makes no request.
    `labels=False` leaves district names off the map; `hints=False` leaves off how an administrator
    configures boundaries (an official briefing says what the schematic is, not how to set it up).
    """
    frame = _prepare(table, value, boundaries is None)
    frame["label"] = [map_label(n, lang) for n in frame["unit_name"]]
    frame["size"] = _circle_sizes(frame)
    frame["tooltip"] = _tooltips(frame, value, value_label, fmt_value, categories, lang)
    groups = _groups(frame, value, categories, lang)

    notes = _notes(frame, boundaries, lang, hints)
    top = (50 if title else 10) + NOTE_LINE * len(notes)
    legend = any(g.color is not None for g in groups)
    map_height = max(height - top - (40 if legend else 0), 150)

    fig = go.Figure()
    if boundaries is not None:
        scale = {"colorscale": colorscale, "reverse": reverse, "zrange": zrange}
        center, zoom = _draw_choropleth(fig, frame, groups, value, value_label, fmt_value, scale, boundaries,
                                        labels, map_height, lang)  # fmt: skip
    else:
        scale = {"colorscale": colorscale, "reverse": reverse, "zrange": zrange}
        center, zoom = _draw_schematic(fig, frame, groups, value, value_label, fmt_value, scale,
                                       labels, map_height)  # fmt: skip

    style(fig, title, height)
    fig.update_layout(
        map={"style": tiles or copy.deepcopy(OFFLINE_STYLE), "center": center, "zoom": zoom, "fitbounds": False},
        margin={"l": 0, "r": 0, "t": top, "b": 0},
        showlegend=legend,
        legend={"y": -0.01, "yanchor": "top", "itemclick": False, "itemdoubleclick": False},
        dragmode=False,
        hovermode="closest",
    )
    if notes:
        if title:
            fig.update_layout(title={"y": 1, "yref": "container", "yanchor": "top", "pad": {"t": 14}})
        fig.add_annotation(
            text="<br>".join(notes), xref="paper", yref="paper", x=0, y=1, xanchor="left", yanchor="bottom",
            yshift=4, align="left", showarrow=False, font={"size": 11, "color": NOTE_COLOR}, name="map-note",
        )  # fmt: skip
    return fig


def schematic_note(lang: str) -> str:
    """What the schematic map is, and how to get real boundaries (one plain-text paragraph)."""
    return f"{t('map.schematic_note', lang)} {t('map.schematic_hint', lang)}"


def map_label(name: str, lang: str) -> str:
    """The short name written on the map: "Huyện Lâm Bình" -> "Lâm Bình", a city "TP. Tuyên Quang"."""
    short, kind = geo.short_name(name)
    return t(f"map.{kind}", lang, name=short) if kind in ("city", "town") else short


# --- building blocks --------------------------------------------------------------------------------


class _Group:
    """One legend entry: the rows drawn in one colour (or the continuous scale)."""

    def __init__(self, key: str, rows: pd.DataFrame, name: str, color: str | None):
        self.key, self.rows, self.name, self.color = key, rows, name, color


def _prepare(table: pd.DataFrame, value: str, schematic: bool) -> pd.DataFrame:
    needed = ["unit_code", "unit_name", value] + (["lat", "lon"] if schematic else [])
    missing = [c for c in needed if c not in table.columns]
    if missing:
        raise ValueError(f"district_map: the table lacks column(s) {missing}")
    # A column name given twice (e.g. after a rename onto an existing name): the last one is meant.
    frame = table.loc[:, ~table.columns.duplicated(keep="last")].reset_index(drop=True).copy()
    frame["unit_code"] = frame["unit_code"].astype(str)
    frame["unit_name"] = frame["unit_name"].astype(str)
    twice = sorted(set(frame.loc[frame["unit_code"].duplicated(), "unit_code"]))
    if twice:
        raise ValueError(f"district_map: unit codes {twice} appear more than once in the table")
    for col in ("lat", "lon"):
        if col in frame.columns:
            frame[col] = pd.to_numeric(frame[col], errors="coerce").astype(float)
    return frame


def _missing(v) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _hover_lines(v) -> list[str]:
    if v is None or (not isinstance(v, list | tuple) and _missing(v)):
        return []
    if isinstance(v, list | tuple):
        return [str(x) for x in v if not _missing(x) and str(x)]
    return [line for line in str(v).replace("\r\n", "\n").replace("\n", "<br>").split("<br>") if line]


def _tooltips(frame, value, value_label, fmt_value, categories, lang) -> list[str]:
    hover = frame["hover"] if "hover" in frame.columns else [None] * len(frame)
    out = []
    for name, v, extra in zip(frame["unit_name"], frame[value], hover, strict=True):
        if _missing(v):
            shown = t("map.no_data", lang)
        elif categories is not None:
            shown = categories[v][0] if v in categories else fmt_value(v)
        else:
            shown = fmt_value(v)
        own = f"{value_label}:"  # the map's own metric: its line (with "no data" where missing) replaces the page's
        extra_lines = [line for line in _hover_lines(extra) if not line.startswith(own)]
        lines = [f"<b>{plotly_text(name)}</b>", f"{value_label}: {shown}", *extra_lines]
        out.append("<br>".join(dict.fromkeys(lines)))
    return out


def _groups(frame, value, categories, lang) -> list[_Group]:
    missing = frame[value].map(_missing).astype(bool)
    groups: list[_Group] = []
    if categories is not None:
        unknown = sorted({str(v) for v in frame.loc[~missing, value] if v not in categories})
        if unknown:
            raise ValueError(f"district_map: values {unknown} of {value!r} are not among the categories")
        for i, (key, (label, color)) in enumerate(categories.items()):
            rows = frame[~missing & (frame[value] == key)]
            if len(rows):
                groups.append(_Group(f"category-{i}", rows, label, color))
    else:
        numbers = pd.to_numeric(frame[value], errors="coerce").astype(float)
        missing = missing | ~np.isfinite(numbers)
        rows = frame[~missing].assign(**{value: numbers[~missing]})
        if len(rows):
            groups.append(_Group("value", rows, "", None))
    if missing.any():
        groups.append(_Group("no_data", frame[missing], t("map.no_data", lang), NO_DATA_COLOR))
    return groups


def _fits(text: str, width_deg: float, zoom: float) -> bool:
    """Whether a label of `text` is narrower than a polygon `width_deg` degrees of longitude wide."""
    width_px = width_deg / 360 * 512 * 2**zoom
    return len(text) * LABEL_SIZE * 0.55 <= 0.95 * width_px


def _draw_choropleth(fig, frame, groups, value, value_label, fmt_value, scale_options, boundaries, labels,
                     map_height, lang):  # fmt: skip
    center, zoom = geometry.fit_view(boundaries.bounds, ASSUMED_WIDTH, map_height)
    drawn = set(boundaries.codes)
    in_table = set(frame["unit_code"])
    context = [c for c in boundaries.codes if c not in in_table]
    border = {"line": {"color": BORDER_COLOR, "width": 1.2}}
    if context:
        fig.add_trace(
            go.Choroplethmap(
                geojson=_subset(boundaries, context), featureidkey="id", locations=context, z=[0] * len(context),
                colorscale=flat(CONTEXT_COLOR), showscale=False, marker=border, hoverinfo="skip",
                showlegend=False, name="", meta="context",
            )
        )  # fmt: skip
    fills = {c: CONTEXT_COLOR for c in context}  # unit_code -> fill colour, to pick a readable label colour
    for group in groups:
        rows = group.rows[group.rows["unit_code"].isin(drawn)]
        common = {
            "geojson": _subset(boundaries, rows["unit_code"]),
            "featureidkey": "id",
            "locations": rows["unit_code"].tolist(),
            "customdata": rows["tooltip"].tolist(),
            "hovertemplate": "%{customdata}<extra></extra>",
            "marker": border,
            "meta": group.key,
        }
        if group.color is None:
            z = rows[value].astype(float).tolist()
            scale = continuous(group.rows[value], value_label, fmt_value, **scale_options)
            fig.add_trace(go.Choroplethmap(z=z, name=value_label, showlegend=False, **scale, **common))
            fills.update(zip(rows["unit_code"], colors_at(z, scale), strict=True))
        else:
            fig.add_trace(
                go.Choroplethmap(
                    z=[0] * len(rows), colorscale=flat(group.color), showscale=False, showlegend=True,
                    name=group.name, legendgroup=group.key, **common,
                )
            )  # fmt: skip
            fills.update(dict.fromkeys(rows["unit_code"], group.color))
    if labels:
        names = {f["id"]: map_label(f["properties"]["unit_name"], lang) for f in boundaries.geojson["features"]}
        names.update(zip(frame["unit_code"], frame["label"], strict=True))
        codes = [c for c in boundaries.codes if c in boundaries.label_points]
        by_color: dict[str, list[str]] = {}
        for code in codes:
            text = names[code]
            if code in context:
                color = CONTEXT_LABEL_COLOR
            elif is_dark(fills.get(code, CONTEXT_COLOR)) and _fits(text, boundaries.feature_width(code), zoom):
                color = LIGHT_LABEL_COLOR  # white on a dark fill, unless the name spills over the neighbours
            else:
                color = LABEL_COLOR
            by_color.setdefault(color, []).append(code)
        for color, subset in by_color.items():
            fig.add_trace(_text_layer([boundaries.label_points[c] for c in subset], [names[c] for c in subset], color))
    return center, zoom


def _draw_schematic(fig, frame, groups, value, value_label, fmt_value, scale_options, labels,
                    map_height):  # fmt: skip
    placed = frame.dropna(subset=["lat", "lon"])
    if placed.empty:
        raise ValueError("district_map: no unit has a position (lat, lon) for the schematic map")
    extent = (placed["lon"].min(), placed["lat"].min(), placed["lon"].max(), placed["lat"].max())
    center, zoom = geometry.fit_view(geometry.pad_bounds(extent, fraction=0.12), ASSUMED_WIDTH, map_height)
    for group in groups:
        rows = group.rows.dropna(subset=["lat", "lon"])
        marker = {"size": rows["size"].tolist(), "opacity": 0.9}
        if group.color is None:
            scale = continuous(group.rows[value], value_label, fmt_value, **scale_options)
            marker.update(
                color=rows[value].astype(float).tolist(),
                colorscale=scale["colorscale"],
                colorbar=scale["colorbar"],
                showscale=True,
                cmin=scale.get("zmin"),
                cmax=scale.get("zmax"),
            )
            name, legend = value_label, False
        else:
            marker.update(color=group.color)
            name, legend = group.name, True
        fig.add_trace(
            go.Scattermap(
                lat=rows["lat"].tolist(), lon=rows["lon"].tolist(), ids=rows["unit_code"].tolist(),
                mode="markers", marker=marker,
                customdata=rows["tooltip"].tolist(), hovertemplate="%{customdata}<extra></extra>",
                name=name, showlegend=legend, legendgroup=group.key, meta=group.key,
            )
        )  # fmt: skip
    if labels:
        # Names just below each circle: shifted south by the circle's radius plus half a line, in pixels
        # at the fitted zoom (the map scale depends on the zoom only, not on the page width).
        points = [
            (lon, geometry.shift_lat(lat, -(size / 2 + LABEL_SIZE * 0.8), zoom))
            for lat, lon, size in zip(placed["lat"], placed["lon"], placed["size"], strict=True)
        ]
        fig.add_trace(_text_layer(points, placed["label"].tolist(), LABEL_COLOR))
    return center, zoom


def _circle_sizes(frame: pd.DataFrame) -> pd.Series:
    """Circle diameters (px) with area proportional to population, kept between readable bounds."""
    middle = pd.Series((MIN_CIRCLE + MAX_CIRCLE) / 2, index=frame.index)
    if "population" not in frame.columns:
        return middle
    population = pd.to_numeric(frame["population"], errors="coerce").astype(float)
    population = population.where(population > 0)
    top = population.max()
    if pd.isna(top):
        return middle
    return (MAX_CIRCLE * np.sqrt(population / top)).clip(lower=MIN_CIRCLE).fillna(MIN_CIRCLE).round(1)


def _text_layer(points, texts, color) -> go.Scattermap:
    return go.Scattermap(
        lon=[p[0] for p in points],
        lat=[p[1] for p in points],
        text=texts,
        mode="text",
        textposition="middle center",
        textfont={"size": LABEL_SIZE, "color": color},
        hoverinfo="skip",
        showlegend=False,
        name="",
        meta="labels",
    )


def _subset(boundaries: geo.Boundaries, codes) -> dict:
    """Only the features a trace draws: every trace carries its own GeoJSON into the figure's JSON."""
    wanted = set(codes)
    return {"type": "FeatureCollection", "features": [f for f in boundaries.geojson["features"] if f["id"] in wanted]}


def _notes(frame: pd.DataFrame, boundaries: geo.Boundaries | None, lang: str, hints: bool = True) -> list[str]:
    """Lines written above the map: what a schematic is (and how to get boundaries), or which districts
    have no boundary."""
    if boundaries is None:
        return _wrap(t("map.schematic_note", lang)) + (_wrap(t("map.schematic_hint", lang)) if hints else [])
    drawn = set(boundaries.codes)
    absent = [plotly_text(n) for c, n in zip(frame["unit_code"], frame["unit_name"], strict=True) if c not in drawn]
    return _wrap(t("map.missing_boundaries", lang, names=", ".join(absent))) if absent else []


def _wrap(text: str, width: int = 60) -> list[str]:  # about 75 characters fit a phone's map: 60 leaves room
    return textwrap.wrap(text, width) or [""]
