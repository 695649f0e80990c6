"""Cấp độ dịch / Risk level: the level per district and for the province (Resolution 128/NQ-CP).

A map coloured by level, the inputs and the level per district, the weekly history since the
rules began, the province's level with its run of green weeks, and what would lower each level.
The figures come from tracker.risk; this page only formats them.
"""

from __future__ import annotations

import datetime as dt
from functools import partial

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboard import tables
from dashboard.notices import unavailable_notice
from dashboard.state import (
    Context,
    boundaries,
    guarded,
    header,
    md_escape,
    risk_levels,
    risk_lower,
    risk_rules,
    risk_weekly,
)
from tracker import core, risk
from tracker.figures import maps
from tracker.figures.risk import risk_history
from tracker.tables import risk as risk_tables


def _value(v):
    """pd.NA / NaN as None, so the formatters show their empty mark."""
    return None if v is None or pd.isna(v) else v


def _names(ctx: Context, legend: pd.DataFrame) -> dict[int, str]:
    """The name of each level of the legend, in the page's language."""
    column = "name_en" if ctx.lang == "en" else "name_vi"
    return dict(zip(legend["level"].astype(int), legend[column].astype(str), strict=True))


def _name(ctx: Context, legend: pd.DataFrame, level) -> str:
    return _names(ctx, legend)[int(level)]


def level_names(ctx: Context, legend: pd.DataFrame, levels: pd.Series, empty: str | None = None) -> list[str]:
    """The name of each level in `levels`, in the page's language, mapped at once (not a lookup per row).

    A missing level (None, NA) is `empty` when given; a level the legend lacks is a KeyError, as a lookup is.
    """
    names = _names(ctx, legend)
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


def formatted(values, fmt) -> list[str]:
    """`fmt` of each value (a missing one as None, so its empty mark), each distinct value formatted once:
    a column of counts repeats the same few numbers, and formatting one is far slower than looking it up."""
    codes, uniques = pd.factorize(pd.Series(values), use_na_sentinel=True)
    shown = [fmt(_value(v)) for v in uniques.tolist()] + [fmt(None)]  # code -1 (missing): the last
    return np.array(shown, dtype=object)[codes].tolist()


def _part_label(ctx: Context, part) -> str:
    return (part.label_en if ctx.lang == "en" else part.label_vi) or part.id


def map_figure(ctx: Context, table: pd.DataFrame, legend: pd.DataFrame, shapes) -> go.Figure:
    units = ctx.ds.units[["unit_code", "lat", "lon"]].assign(
        unit_code=ctx.ds.units["unit_code"].astype(str),
        population=core.group_population(ctx.ds, ctx.cfg, "all"),
    )
    frame = table[table["unit_code"] != core.TOTAL].merge(units, on="unit_code", how="left")
    met = {True: ctx.t("risk.yes"), False: ctx.t("risk.no")}
    cases = formatted(frame["community_cases_7d"], ctx.number)
    incidence = formatted(frame["incidence_per_100k"], partial(ctx.number, decimals=1))
    frame = frame.assign(
        hover=[
            "<br>".join(
                [
                    f"{ctx.t('risk.cases_7d')}: {c}",
                    f"{ctx.t('risk.incidence')}: {i}",
                    f"{ctx.t('risk.criterion_met')}: {met[bool(m)]}",
                ]
            )
            for c, i, m in zip(cases, incidence, frame["vaccine_criterion_met"], strict=True)
        ]
    )
    categories = {int(r.level): (_name(ctx, legend, r.level), r.hex) for r in legend.itertuples()}
    return maps.district_map(
        frame.assign(level=frame["level"].astype(int)), "level", lang=ctx.lang, title=ctx.t("risk.map"),
        value_label=ctx.t("risk.level"), fmt_value=lambda v: _name(ctx, legend, v), boundaries=shapes,
        categories=categories,
    )  # fmt: skip


def history_figure(ctx: Context, history: pd.DataFrame, legend: pd.DataFrame, start) -> go.Figure:
    # only the columns the strip reads; the colours and names as Python strings (object), which the figure
    # walks a row at a time much faster than Arrow-backed text
    frame = history[["unit_code", "unit_name", "week_end", "level"]].merge(
        legend[["level", "hex"]].astype({"hex": object}), on="level", how="left"
    )
    frame["level_name"] = pd.Series(level_names(ctx, legend, frame["level"]), index=frame.index, dtype=object)
    frame.loc[frame["unit_code"] == core.TOTAL, "unit_name"] = ctx.cfg.whole_named(ctx.lang)
    return risk_history(frame.drop(columns="unit_code"), ctx.lang, ctx.t("risk.history", date=ctx.date(start)))


# What the page shows is built once per store version, dates and language; a rerun only sends it again.
# The arguments before `_ctx` are the cache key: the store (folder, version), the dates and the language.
# `_ctx` (a leading underscore: not hashed) is the page's context for that same store, date and language,
# and only words and formats. A figure is one object shared by every session (st.cache_resource:
# st.plotly_chart only reads it); the tables are copies (st.cache_data). The history strip holds a cell
# per unit and week, hence few of them kept.


def _ruleset(as_of: dt.date):
    return risk_rules().for_date(as_of)


@st.cache_data(max_entries=32, show_spinner=False)
def _green_weeks(folder: str, version: str, start: dt.date, as_of: dt.date) -> int:
    return risk.green_streak(risk_weekly(folder, version, start, as_of))


@st.cache_resource(max_entries=16, show_spinner=False)
def _map_figure(folder: str, version: str, as_of: dt.date, lang: str, _ctx: Context) -> go.Figure:
    shapes, _problem = boundaries(folder, version)
    return map_figure(_ctx, risk_levels(folder, version, as_of), _ruleset(as_of).legend(), shapes)


@st.cache_data(max_entries=32, show_spinner=False)
def _inputs_table(folder: str, version: str, as_of: dt.date, lang: str, _ctx: Context):
    return risk_tables.inputs(risk_levels(folder, version, as_of), _ctx.cfg, _ruleset(as_of), as_of)


@st.cache_resource(max_entries=8, show_spinner=False)
def _history_figure(folder: str, version: str, start: dt.date, as_of: dt.date, lang: str, _ctx: Context) -> go.Figure:
    history = risk_weekly(folder, version, start, as_of)
    return history_figure(_ctx, history, _ruleset(as_of).legend(), start)


@st.cache_data(max_entries=32, show_spinner=False)
def _lower_table(folder: str, version: str, as_of: dt.date, lang: str, _ctx: Context):
    return risk_tables.lower(risk_lower(folder, version, as_of), _ctx.cfg, _ruleset(as_of), as_of)


def level_map(ctx: Context) -> None:
    _shapes, problem = boundaries(ctx.folder, ctx.version)
    if problem:
        st.warning(ctx.t("districts.boundaries_problem", problem=md_escape(problem)))
    fig = _map_figure(ctx.folder, ctx.version, ctx.as_of, ctx.lang, ctx)
    ctx.plot(fig, "risk-map", ctx.cfg.province_name_vi)


def level_table(ctx: Context) -> None:
    st.subheader(ctx.t("risk.table"))
    tables.show(ctx, _inputs_table(ctx.folder, ctx.version, ctx.as_of, ctx.lang, ctx))


def history_strip(ctx: Context, start: dt.date) -> None:
    fig = _history_figure(ctx.folder, ctx.version, start, ctx.as_of, ctx.lang, ctx)
    ctx.plot(fig, "risk-history", ctx.cfg.province_name_vi)


def lower_table(ctx: Context) -> None:
    st.subheader(ctx.t("risk.lower"))
    st.caption(ctx.t("risk.lower_help"))
    tables.show(ctx, _lower_table(ctx.folder, ctx.version, ctx.as_of, ctx.lang, ctx))


def render(ctx: Context) -> None:
    header(ctx, "risk.title")
    st.markdown(f"**{ctx.t('app.as_of_line', date=ctx.date(ctx.as_of))}**")
    rules = risk_rules()
    start = min(rs.valid_from for rs in rules.rulesets)
    if ctx.as_of < start:
        st.info(ctx.t("risk.not_yet", date=ctx.date(start)))
        return
    rs = rules.for_date(ctx.as_of)
    legend = rs.legend()
    st.caption(ctx.t("risk.source", source=(rs.source_en or rs.source) if ctx.lang == "en" else rs.source))
    unavailable_notice(ctx, [(part.group, part.dose) for part in rs.parts])
    table = risk_levels(ctx.folder, ctx.version, ctx.as_of)
    total = table[table["unit_code"] == core.TOTAL].iloc[0]
    left, right = st.columns(2)
    left.metric(ctx.t("risk.province_level"), _name(ctx, legend, total["level"]))
    weeks = _green_weeks(ctx.folder, ctx.version, start, ctx.as_of)
    right.metric(ctx.t("risk.green_weeks"), ctx.t("risk.weeks_value", n=weeks))
    left, right = st.columns(2)
    with left:
        level_map(ctx)
    with right:
        level_table(ctx)
    history_strip(ctx, start)
    lower_table(ctx)


guarded(render)
