"""The risk-level history strip: districts (rows) × weeks (columns), one colour per level."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from tracker import i18n
from tracker.figures.common import DATE_TICKS, plotly_text, style

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
    fig.update_xaxes(tickformat=DATE_TICKS[lang], showgrid=False)
    fig.update_yaxes(showgrid=False)
    return fig
