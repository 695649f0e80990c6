"""The risk figures: the map of levels by district, and the history strip (districts × weeks, a colour
per level), named and coloured by the rule set's legend (RuleSet.legend(): level, hex, name_vi, name_en)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from tracker import core, fmt, i18n
from tracker.figures import maps
from tracker.figures.common import DATE_TICKS, MONTH_TICKS, plotly_text, style

# Fallback colours per level when the frame carries no `hex` column (those of data/risk_rules.toml).
LEVEL_HEX = {1: "#00A651", 2: "#FFD500", 3: "#FF8C00", 4: "#E00000"}


def risk_history(frame: pd.DataFrame, lang: str, title: str | None) -> go.Figure:
    """A heatmap of `frame` (one row per unit × week, as tracker.risk.weekly gives it).

    Columns used: unit_name, week_end, level; optional `hex` (the level's colour) and `level_name`
    (the level's name in `lang`, for the tooltip). Rows keep the frame's unit order, top to bottom.
    """
    frame = frame.copy()
    frame["week_end"] = pd.to_datetime(frame["week_end"]).dt.normalize()
    frame["level"] = frame["level"].astype(int)
    colors = dict(LEVEL_HEX)
    if "hex" in frame:
        colors.update(dict(zip(frame["level"], frame["hex"], strict=True)))
    if "level_name" not in frame:
        frame["level_name"] = frame["level"].astype(str)
    names = dict(zip(frame["level"], frame["level_name"], strict=True))
    units = list(dict.fromkeys(frame["unit_name"].astype(str)))
    weeks = sorted(frame["week_end"].unique())
    grid = frame.pivot_table(index="unit_name", columns="week_end", values="level", aggfunc="first")
    grid = grid.reindex(index=units, columns=weeks)
    rows = [plotly_text(u) for u in units]  # the y axis labels and %{y} in the tooltip: Plotly text
    text = grid.map(lambda v: names.get(int(v), "") if pd.notna(v) else "")
    # a stepped colour scale over levels lo..hi: each whole level gets its own flat band
    lo, hi = min(colors), max(colors)
    span = hi - lo + 1
    scale = []
    for i, level in enumerate(range(lo, hi + 1)):
        colour = colors.get(level, "#9e9e9e")
        scale += [[i / span, colour], [(i + 1) / span, colour]]
    week_labels = [
        i18n.t("risk_figure.week_ending", lang, date=pd.Timestamp(w).strftime(DATE_TICKS[lang])) for w in weeks
    ]
    hover = np.array([week_labels for _ in units])
    fig = go.Figure(
        go.Heatmap(
            z=grid.to_numpy(dtype=float),
            x=weeks,
            y=rows,
            zmin=lo - 0.5,
            zmax=hi + 0.5,
            colorscale=scale,
            text=text.to_numpy(),
            customdata=hover,
            hovertemplate="%{y}<br>%{customdata}<br>%{text}<extra></extra>",
            xgap=2,
            ygap=2,
            showscale=False,
        )
    )
    # a legend entry per level present, as invisible markers in the level's colour
    for level in sorted(set(frame["level"])):
        fig.add_trace(
            go.Scatter(
                x=[None], y=[None], mode="markers", name=names.get(level, str(level)),
                marker={"size": 12, "symbol": "square", "color": colors.get(level, "#9e9e9e")},
            )
        )  # fmt: skip
    fig.update_yaxes(autorange="reversed", type="category")
    style(fig, title=title, height=max(260, 60 + 34 * len(units)), lang=lang)
    # month ticks, level and few: whole dates rotated at a phone's width ran into the legend
    fig.update_xaxes(tickformat=MONTH_TICKS[lang], tickangle=0, nticks=4, showgrid=False)
    fig.update_layout(legend={"y": -0.1, "yanchor": "top"})
    fig.update_yaxes(showgrid=False)
    return fig


def level_name_map(legend: pd.DataFrame, lang: str) -> dict[int, str]:
    """{level: its name in `lang`} of a rule set's legend."""
    return dict(zip(legend["level"].astype(int), legend[f"name_{lang}"].astype(str), strict=True))


def short_level(name: str) -> str:
    """'Cấp 1 – Nguy cơ thấp (vùng xanh)' -> 'Cấp 1', for a narrow cell; the full names are in the legend."""
    return name.split(" – ")[0]


def level_names(legend: pd.DataFrame, levels, lang: str, empty: str | None = None) -> list[str]:
    """The name of each level in `levels`, in `lang`, mapped at once (not a lookup per row).

    A missing level (None, NA) is `empty` when given; a level the legend lacks is a KeyError, as a lookup is.
    """
    names = level_name_map(legend, lang)
    levels = pd.Series(levels).reset_index(drop=True)
    present = levels.notna().to_numpy()
    codes = levels[present].astype("int64")
    unknown = sorted(set(codes.unique().tolist()) - names.keys())
    if unknown:
        raise KeyError(unknown[0])
    if empty is None and not present.all():
        raise ValueError("a risk level is missing")
    shown = pd.Series(empty, index=levels.index, dtype=object)
    shown[present] = codes.map(names).to_numpy(dtype=object)
    return shown.tolist()


def level_map(levels: pd.DataFrame, units: pd.DataFrame, legend: pd.DataFrame, lang: str, boundaries=None):
    """Each district (risk.levels, the province row left out) in its level's colour; the tooltip gives
    the 7-day cases, the incidence and whether the vaccine criterion is met. `units`: unit_code, lat,
    lon, population (circle sizes on the schematic map)."""
    frame = levels[levels["unit_code"] != core.TOTAL].merge(units, on="unit_code", how="left")
    met = {True: i18n.t("risk.yes", lang), False: i18n.t("risk.no", lang)}
    cases = fmt.each(frame["community_cases_7d"], lambda v: fmt.number(v, lang))
    incidence = fmt.each(frame["incidence_per_100k"], lambda v: fmt.number(v, lang, decimals=1))
    labels = [i18n.t(key, lang) for key in ("risk.cases_7d", "risk.incidence", "risk.criterion_met")]
    hover = [
        f"{labels[0]}: {c or fmt.EMPTY}<br>{labels[1]}: {i or fmt.EMPTY}<br>{labels[2]}: {met[bool(m)]}"
        for c, i, m in zip(cases, incidence, frame["vaccine_criterion_met"], strict=True)
    ]
    names = level_name_map(legend, lang)
    categories = {int(r.level): (names[int(r.level)], r.hex) for r in legend.itertuples()}
    return maps.district_map(
        frame.assign(level=frame["level"].astype(int), hover=hover), "level", lang=lang,
        title=i18n.t("risk.map", lang), value_label=i18n.t("risk.level", lang),
        fmt_value=lambda v: names[int(v)], boundaries=boundaries, categories=categories,
    )  # fmt: skip


def history_strip(history: pd.DataFrame, legend: pd.DataFrame, lang: str, title: str, whole: str) -> go.Figure:
    """risk.weekly's history as the strip, the province's row named `whole`."""
    # only the columns the strip reads; the colours and names as Python strings (object), which the figure
    # walks a row at a time much faster than Arrow-backed text
    frame = history[["unit_code", "unit_name", "week_end", "level"]].merge(
        legend[["level", "hex"]].astype({"hex": object}), on="level", how="left"
    )
    frame["level_name"] = pd.Series(level_names(legend, frame["level"], lang), index=frame.index, dtype=object)
    frame.loc[frame["unit_code"] == core.TOTAL, "unit_name"] = whole
    return risk_history(frame.drop(columns="unit_code"), lang, title)
