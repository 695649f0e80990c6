"""Cấp độ dịch / Risk level: the level per district and for the province (Resolution 128/NQ-CP).

A map coloured by level, the inputs and the level per district, the weekly history since the
rules began, the province's level with its run of green weeks, and what would lower each level.
The figures come from tracker.risk; this page only formats them.
"""

from __future__ import annotations

import datetime as dt

import plotly.graph_objects as go
import streamlit as st

from dashboard import charts, tables
from dashboard.cards import province_risk
from dashboard.loaders import boundaries, risk_levels, risk_lower, risk_rules, risk_start, risk_weekly
from dashboard.notices import unavailable_notice
from dashboard.state import Context, guarded, header, md_escape
from tracker import core
from tracker.figures import risk as risk_figures
from tracker.tables import risk as risk_tables

# What the page shows is built once per store version, dates and language; a rerun only sends it again.
# The arguments before `_ctx` are the cache key: the store (folder, version), the dates and the language.
# `_ctx` (a leading underscore: not hashed) is the page's context for that same store, date and language,
# and only words and formats. A figure is one object shared by every session (st.cache_resource:
# st.plotly_chart only reads it); the tables and the figures' text alternatives (dashboard.charts) are copies
# (st.cache_data). The history strip holds a cell per unit and week, hence few of them kept.


def _ruleset(as_of: dt.date):
    return risk_rules().for_date(as_of)


@st.cache_resource(max_entries=16, show_spinner=False)
def _map_figure(folder: str, version: str, as_of: dt.date, lang: str, _ctx: Context) -> go.Figure:
    shapes, _problem = boundaries(folder, version)
    units = _ctx.ds.units[["unit_code", "lat", "lon"]].assign(
        unit_code=_ctx.ds.units["unit_code"].astype(str),
        population=core.group_population(_ctx.ds, _ctx.cfg, "all"),
    )
    return risk_figures.level_map(risk_levels(folder, version, as_of), units, _ruleset(as_of).legend(), lang, shapes)


@st.cache_data(max_entries=32, show_spinner=False)
def _map_alternative(folder: str, version: str, as_of: dt.date, lang: str, _ctx: Context) -> dict:
    return charts.risk_map_alternative(_ctx, risk_levels(folder, version, as_of), _ruleset(as_of).legend())


@st.cache_data(max_entries=32, show_spinner=False)
def _inputs_table(folder: str, version: str, as_of: dt.date, lang: str, _ctx: Context):
    return risk_tables.inputs(risk_levels(folder, version, as_of), _ctx.cfg, _ruleset(as_of), as_of)


@st.cache_resource(max_entries=8, show_spinner=False)
def _history_figure(folder: str, version: str, start: dt.date, as_of: dt.date, lang: str, _ctx: Context) -> go.Figure:
    history = risk_weekly(folder, version, start, as_of)
    title = _ctx.t("risk.history", date=_ctx.date(start))
    return risk_figures.history_strip(history, _ruleset(as_of).legend(), lang, title, _ctx.cfg.whole_named(lang))


@st.cache_data(max_entries=8, show_spinner=False)
def _history_alternative(folder: str, version: str, start: dt.date, as_of: dt.date, lang: str, _ctx: Context) -> dict:
    return charts.history_alternative(_ctx, risk_weekly(folder, version, start, as_of), _ruleset(as_of).legend())


@st.cache_data(max_entries=32, show_spinner=False)
def _lower_table(folder: str, version: str, as_of: dt.date, lang: str, _ctx: Context):
    return risk_tables.lower(risk_lower(folder, version, as_of), _ctx.cfg, _ruleset(as_of), as_of)


def level_map(ctx: Context) -> None:
    _shapes, problem = boundaries(ctx.folder, ctx.version)
    if problem:
        st.warning(ctx.t("districts.boundaries_problem", problem=md_escape(problem)))
    fig = _map_figure(ctx.folder, ctx.version, ctx.as_of, ctx.lang, ctx)
    alternative = _map_alternative(ctx.folder, ctx.version, ctx.as_of, ctx.lang, ctx)
    ctx.plot(fig, "risk-map", ctx.cfg.province_name_vi, **alternative)


def level_table(ctx: Context) -> None:
    st.subheader(ctx.t("risk.table"))
    tables.show(ctx, _inputs_table(ctx.folder, ctx.version, ctx.as_of, ctx.lang, ctx))


def history_strip(ctx: Context, start: dt.date) -> None:
    fig = _history_figure(ctx.folder, ctx.version, start, ctx.as_of, ctx.lang, ctx)
    alternative = _history_alternative(ctx.folder, ctx.version, start, ctx.as_of, ctx.lang, ctx)
    ctx.plot(fig, "risk-history", ctx.cfg.province_name_vi, **alternative)


def lower_table(ctx: Context) -> None:
    st.subheader(ctx.t("risk.lower"))
    st.caption(ctx.t("risk.lower_help"))
    tables.show(ctx, _lower_table(ctx.folder, ctx.version, ctx.as_of, ctx.lang, ctx))


def render(ctx: Context) -> None:
    header(ctx, "risk.title")
    st.markdown(f"**{ctx.t('app.as_of_line', date=ctx.date(ctx.as_of))}**")
    rules = risk_rules()
    start = risk_start()
    if ctx.as_of < start:
        st.info(ctx.t("risk.not_yet", date=ctx.date(start)))
        return
    rs = rules.for_date(ctx.as_of)
    st.caption(ctx.t("risk.source", source=(rs.source_en or rs.source) if ctx.lang == "en" else rs.source))
    unavailable_notice(ctx, [(part.group, part.dose) for part in rs.parts])
    province_risk(ctx)
    left, right = st.columns(2)
    with left:
        level_map(ctx)
    with right:
        level_table(ctx)
    history_strip(ctx, start)
    lower_table(ctx)


guarded(render)
