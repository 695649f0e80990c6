"""Trend charts: the coverage monitoring chart, daily doses, and 7-day case incidence."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import plotly.graph_objects as go

from tracker import core, fmt, i18n
from tracker.config import Target
from tracker.figures.common import DOSE_COLORS, OVER_COLOR, PROVINCE_COLOR, SERIES_COLORS, plotly_text, style


def _colors(codes: list[str]) -> dict[str, str]:
    others = [c for c in codes if c != core.TOTAL]
    colors = {c: SERIES_COLORS[i % len(SERIES_COLORS)] for i, c in enumerate(others)}
    colors[core.TOTAL] = PROVINCE_COLOR
    return colors


def _units(frame: pd.DataFrame, lang: str, whole: str | None = None):
    """(code, rows, display name) for each unit of a long frame, in order of appearance; the TOTAL row
    is called ``whole`` (the configured "Toàn tỉnh", see Config.whole). The name is Plotly text (plotly_text):
    it names the line in the legend and in the hovertemplate."""
    for code in dict.fromkeys(frame["unit_code"]):
        part = frame[frame["unit_code"] == code]
        yield code, part, plotly_text(_name(code, part["unit_name"].iat[0], lang, whole))


def _line(part: pd.DataFrame, column: str, name: str, line: dict, customdata, hovertemplate, **more) -> go.Scatter:
    """A line of `column` over the dates of the rows `part`, drawn as `line` (Plotly's line dict)."""
    return go.Scatter(
        x=part["date"],
        y=part[column],
        mode="lines",
        name=name,
        line=line,
        customdata=customdata,
        hovertemplate=hovertemplate,
        **more,
    )


def _unit_style(code: str, color: str) -> dict:
    """How a unit's line is drawn: in its colour, the province's thicker."""
    return {"color": color, "width": 3 if code == core.TOTAL else 2}


def _formatters(lang: str):
    return (lambda v: fmt.percent(v, lang)), (lambda d: fmt.date(d, lang))


def _decimals(fraction: float) -> int:
    """0 decimals for a whole percentage (50%), 1 otherwise (52,5%)."""
    return 0 if float(round(fraction * 100, 6)).is_integer() else 1


def _name(row_code: str, row_name: str, lang: str, whole: str | None = None) -> str:
    if row_code != core.TOTAL:
        return row_name
    return whole or i18n.t("unit.province", lang)


def coverage_trend(
    series: pd.DataFrame,
    projection: pd.DataFrame,
    targets: list[Target],
    *,
    lang: str,
    title: str,
    as_of: dt.date,
    height: int = 460,
    comparison: pd.DataFrame | None = None,
    comparison_label: str | None = None,
    whole: str | None = None,
) -> go.Figure:
    """Cumulative coverage per unit, each target as a threshold line with a deadline marker,
    and a dashed projection at the current 7-day pace (the chart health workers know). The TOTAL
    line is named ``whole`` (Config.whole: "Toàn tỉnh").

    `comparison` (the same long form as `series`, for another group or dose) adds one dash-dot line per
    unit, named as a comparison with `comparison_label`; the targets and projections stay on `series`.
    The y axis stops at 100 % unless a reported figure is above it; then it extends to show it, and the
    highest such figure of each line is marked as over-coverage.
    """
    fmt_percent, fmt_date = _formatters(lang)
    fig = go.Figure()
    colors = _colors(list(dict.fromkeys(series["unit_code"])))

    def coverage(part, name, line, hovertemplate, **more) -> go.Scatter:
        points = [[fmt_date(d), fmt_percent(c)] for d, c in zip(part["date"], part["coverage"], strict=True)]
        return _line(part, "coverage", name, line, points, hovertemplate, **more)

    over = []  # (code, name, row) of each line's highest figure above 100 %
    for code, part, name in _units(series, lang, whole):
        hover = f"{name}<br>%{{customdata[0]}}: %{{customdata[1]}}<extra></extra>"
        fig.add_trace(coverage(part, name, _unit_style(code, colors[code]), hover))
        over.append((name, part))
        proj = projection[projection["unit_code"] == code]
        if len(proj) == 2:
            label = i18n.t("fig.projection_of", lang, name=name)
            dashed = {"color": colors[code], "dash": "dash", "width": 2}
            hover = i18n.t("fig.projection_hover", lang, name=name) + "<extra></extra>"
            fig.add_trace(coverage(proj, label, dashed, hover, showlegend=code == core.TOTAL, legendgroup="projection"))
    if comparison is not None and len(comparison):
        for code, part, name in _units(comparison, lang, whole):
            line = i18n.t("compare.line", lang, name=name, label=comparison_label)
            dashdot = {"color": colors.get(code, PROVINCE_COLOR), "dash": "dashdot", "width": 1.5}
            hover = i18n.t("compare.hover", lang, name=name, label=comparison_label) + "<extra></extra>"
            fig.add_trace(coverage(part, line, dashdot, hover, opacity=0.8, legendgroup="comparison"))
            over.append((line, part))
    top = _over_coverage(fig, over, lang)
    for target in targets:
        level = float(target.threshold)
        line = {"color": "#a50026", "dash": "dot", "width": 1.5}
        fig.add_hline(y=level, line=line)
        # named in the legend, not written on the chart: on a phone any place on the line covers a curve
        name = i18n.t(
            "fig.target_line", lang, threshold=fmt.percent(level, lang, decimals=_decimals(level)),
            date=fmt_date(target.deadline),
        )  # fmt: skip
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="lines", name=name, line=line, hoverinfo="skip"))
        fig.add_vline(
            x=pd.Timestamp(target.deadline).timestamp() * 1000,
            line={"color": "#a50026", "width": 1},
            annotation_text=i18n.t("fig.deadline_line", lang, date=fmt_date(target.deadline)),
            annotation_position="top left",  # inside the plot, left of the line: never cut at the right edge
            annotation_font={"size": 11, "color": "#a50026"},
        )
    fig.add_vline(
        x=pd.Timestamp(as_of).timestamp() * 1000,
        line={"color": "#555", "width": 1, "dash": "dot"},
        annotation_text=i18n.t("fig.as_of_line", lang, date=fmt_date(as_of)),
        annotation_position="bottom left",  # low on the line: the curves rise from 0 %, labels stay off them
        annotation_font={"size": 11, "color": "#555"},
    )
    fig.update_yaxes(title=i18n.t("fig.coverage_axis", lang), tickformat=".0%", range=[0, top])
    fig.update_xaxes(title=None, type="date")
    return style(fig, title, height, lang)


def _over_coverage(fig: go.Figure, lines, lang: str) -> float:
    """Mark the highest reported figure above 100 % of each line; the top of the y axis (1 = 100 %)."""
    fmt_percent, fmt_date = _formatters(lang)
    highest = 1.0
    marks = []
    for name, part in lines:
        above = part[part["coverage"] > 1]
        if above.empty:
            continue
        row = above.loc[above["coverage"].idxmax()]
        highest = max(highest, float(row["coverage"]))
        marks.append((name, row))
    if marks:
        label = i18n.t("over_coverage.marker", lang)
        fig.add_trace(
            go.Scatter(
                x=[row["date"] for _, row in marks],
                y=[row["coverage"] for _, row in marks],
                mode="markers+text",
                name=label,
                marker={"color": OVER_COLOR, "size": 11, "symbol": "triangle-up"},
                text=[fmt_percent(row["coverage"]) for _, row in marks],
                textposition="top center",
                textfont={"color": OVER_COLOR},
                customdata=[[fmt_date(row["date"]), fmt_percent(row["coverage"])] for _, row in marks],
                hovertemplate=[i18n.t("over_coverage.hover", lang, name=name) + "<extra></extra>" for name, _ in marks],
            )
        )
        fig.add_hline(y=1, line={"color": OVER_COLOR, "width": 1, "dash": "dot"})  # the population
        return highest * 1.08  # room for the mark and its label above the highest figure
    return highest


def daily_doses(frame: pd.DataFrame, *, lang: str, title: str, height: int = 400) -> go.Figure:
    """New people vaccinated per day by dose number (bars) with each dose's 7-day average (line)."""
    fmt_number, fmt_date = (lambda v: fmt.number(v, lang)), _formatters(lang)[1]
    fig = go.Figure()
    for dose, part in frame.groupby("dose", sort=True):
        label = i18n.dose(dose, lang)
        color = DOSE_COLORS.get(int(dose), "#888")
        fig.add_trace(
            go.Bar(
                x=part["date"],
                y=part["doses"],
                name=label,
                marker_color=color,
                opacity=0.45,
                customdata=[[fmt_date(d), fmt_number(v)] for d, v in zip(part["date"], part["doses"], strict=True)],
                hovertemplate=f"{label}<br>%{{customdata[0]}}: %{{customdata[1]}}<extra></extra>",
            )
        )
        average = i18n.t("fig.avg_7d_of", lang, dose=label)
        points = [[fmt_date(d), fmt_number(v)] for d, v in zip(part["date"], part["avg_7d"], strict=True)]
        hover = average + "<br>%{customdata[0]}: %{customdata[1]}<extra></extra>"
        fig.add_trace(_line(part, "avg_7d", average, {"color": color, "width": 2}, points, hover))
    fig.update_layout(barmode="overlay", bargap=0)
    fig.update_yaxes(title=i18n.t("fig.people_per_day_axis", lang), rangemode="tozero", tickformat=",d")
    fig.update_xaxes(type="date")
    return style(fig, title, height, lang)


def incidence_trend(
    frame: pd.DataFrame, *, lang: str, title: str, height: int = 380, whole: str | None = None
) -> go.Figure:
    """Community cases in the last 7 days per 100,000 people, for the province and chosen units."""
    fmt_number, fmt_date = (lambda v: fmt.number(v, lang, decimals=1)), _formatters(lang)[1]
    fig = go.Figure()
    colors = _colors(list(dict.fromkeys(frame["unit_code"])))
    for code, part, name in _units(frame, lang, whole):
        points = [
            [fmt_date(d), fmt_number(v), fmt_number(c)]
            for d, v, c in zip(part["date"], part["incidence_per_100k"], part["cases_7d"], strict=True)
        ]
        hover = i18n.t("fig.incidence_hover", lang, name=name) + "<extra></extra>"
        fig.add_trace(_line(part, "incidence_per_100k", name, _unit_style(code, colors[code]), points, hover))
    fig.update_yaxes(title=i18n.t("fig.incidence_axis", lang), rangemode="tozero")
    fig.update_xaxes(type="date")
    return style(fig, title, height, lang)
