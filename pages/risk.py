"""Cấp độ dịch / Risk level: the level per district and for the province (Resolution 128/NQ-CP).

A map coloured by level, the inputs and the level per district, the weekly history since the
rules began, the province's level with its run of green weeks, and what would lower each level.
The figures come from tracker.risk; this page only formats them.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.downloads import table_downloads
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
    show_table,
)
from tracker import core
from tracker.figures import maps
from tracker.figures.risk import risk_history


def _value(v):
    """pd.NA / NaN as None, so the formatters show their empty mark."""
    return None if v is None or pd.isna(v) else v


def _name(ctx: Context, legend: pd.DataFrame, level) -> str:
    row = legend.set_index("level").loc[int(level)]
    return str(row["name_en"] if ctx.lang == "en" else row["name_vi"])


def _part_label(ctx: Context, part) -> str:
    return (part.label_en if ctx.lang == "en" else part.label_vi) or part.id


def green_weeks(history: pd.DataFrame) -> int:
    """Consecutive weeks at level 1 of the province (TOTAL), counted back from the last week."""
    total = history[history["unit_code"] == core.TOTAL].sort_values("week_end")
    run = 0
    for level in reversed(total["level"].tolist()):
        if int(level) != 1:
            break
        run += 1
    return run


def level_map(ctx: Context, table: pd.DataFrame, legend: pd.DataFrame, rs) -> None:
    shapes, problem = boundaries(ctx.folder, ctx.version)
    if problem:
        st.warning(ctx.t("districts.boundaries_problem", problem=md_escape(problem)))
    units = ctx.ds.units[["unit_code", "lat", "lon"]].assign(
        unit_code=ctx.ds.units["unit_code"].astype(str),
        population=core.group_population(ctx.ds, ctx.cfg, "all"),
    )
    frame = table[table["unit_code"] != core.TOTAL].merge(units, on="unit_code", how="left")
    met = {True: ctx.t("risk.yes"), False: ctx.t("risk.no")}
    frame = frame.assign(
        hover=[
            "<br>".join(
                [
                    f"{ctx.t('risk.cases_7d')}: {ctx.number(r.community_cases_7d)}",
                    f"{ctx.t('risk.incidence')}: {ctx.number(r.incidence_per_100k, decimals=1)}",
                    f"{ctx.t('risk.criterion_met')}: {met[bool(r.vaccine_criterion_met)]}",
                ]
            )
            for r in frame.itertuples()
        ]
    )
    categories = {int(r.level): (_name(ctx, legend, r.level), r.hex) for r in legend.itertuples()}
    fig = maps.district_map(
        frame.assign(level=frame["level"].astype(int)), "level", lang=ctx.lang, title=ctx.t("risk.map"),
        value_label=ctx.t("risk.level"), fmt_value=lambda v: _name(ctx, legend, v), boundaries=shapes,
        categories=categories,
    )  # fmt: skip
    ctx.plot(fig, "risk-map", ctx.cfg.province_name_vi)


def level_table(ctx: Context, table: pd.DataFrame, legend: pd.DataFrame, rs) -> None:
    st.subheader(ctx.t("risk.table"))
    parts = [(f"{p.id}_coverage", _part_label(ctx, p)) for p in rs.parts]
    yes_no = [ctx.t("risk.yes") if m else ctx.t("risk.no") for m in table["vaccine_criterion_met"]]
    names = [_name(ctx, legend, lv) for lv in table["level"]]
    shown = {
        ctx.t("table.district"): table["unit_name"].astype(str).tolist(),
        ctx.t("risk.cases_7d"): [ctx.number(_value(v)) for v in table["community_cases_7d"]],
        ctx.t("risk.incidence"): [ctx.number(_value(v), decimals=1) for v in table["incidence_per_100k"]],
    }
    export = {
        ctx.t("table.district"): table["unit_name"].astype(str).to_numpy(),
        ctx.t("risk.cases_7d"): table["community_cases_7d"].astype("Int64").to_numpy(),
        ctx.t("risk.incidence"): table["incidence_per_100k"].astype(float).round(1).to_numpy(),
    }
    for column, label in parts:
        shown[label] = [ctx.percent(_value(v)) for v in table[column]]
        export[label + " (%)"] = (table[column].astype(float) * 100).round(2).to_numpy()
    shown[ctx.t("risk.criterion_met")] = yes_no
    shown[ctx.t("risk.level")] = names
    export[ctx.t("risk.criterion_met")] = yes_no
    export[ctx.t("risk.level")] = names
    show_table(pd.DataFrame(shown))
    table_downloads(ctx, pd.DataFrame(export), "risk_levels")


def history_strip(ctx: Context, history: pd.DataFrame, legend: pd.DataFrame, start) -> None:
    frame = history.merge(legend[["level", "hex"]], on="level", how="left")
    frame["level_name"] = [_name(ctx, legend, lv) for lv in frame["level"]]
    frame.loc[frame["unit_code"] == core.TOTAL, "unit_name"] = ctx.cfg.whole_named(ctx.lang)
    fig = risk_history(frame, ctx.lang, ctx.t("risk.history", date=ctx.date(start)))
    ctx.plot(fig, "risk-history", ctx.cfg.province_name_vi)


def lower_table(ctx: Context, lower: pd.DataFrame, legend: pd.DataFrame, rs) -> None:
    st.subheader(ctx.t("risk.lower"))
    st.caption(ctx.t("risk.lower_help"))
    units = lower[lower["unit_code"] != core.TOTAL]

    def level_name(v):
        v = _value(v)
        return _name(ctx, legend, v) if v is not None else "—"

    shown = {
        ctx.t("table.district"): units["unit_name"].astype(str).tolist(),
        ctx.t("risk.level"): [level_name(v) for v in units["level"]],
        ctx.t("risk.max_cases"): [
            ctx.number(_value(v)) if b > 0 else ctx.t("risk.no_case")
            for v, b in zip(units["max_cases_next_7d"], units["band"], strict=True)
        ],
        ctx.t("risk.level_if_lower_band"): [level_name(v) for v in units["level_if_lower_band"]],
    }
    export = {
        ctx.t("table.district"): units["unit_name"].astype(str).to_numpy(),
        ctx.t("risk.level"): units["level"].astype("Int64").to_numpy(),
        ctx.t("risk.max_cases"): units["max_cases_next_7d"].astype("Int64").to_numpy(),
        ctx.t("risk.level_if_lower_band"): units["level_if_lower_band"].astype("Int64").to_numpy(),
    }
    for part in rs.parts:
        label = ctx.t("risk.people_needed", part=_part_label(ctx, part))
        column = units[f"{part.id}_people_needed"]
        shown[label] = [ctx.number(_value(v)) for v in column]
        export[label] = column.astype("Int64").to_numpy()
    shown[ctx.t("risk.level_if_criterion_met")] = [level_name(v) for v in units["level_if_criterion_met"]]
    export[ctx.t("risk.level_if_criterion_met")] = units["level_if_criterion_met"].astype("Int64").to_numpy()
    show_table(pd.DataFrame(shown))
    table_downloads(ctx, pd.DataFrame(export), "risk_lower")


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
    history = risk_weekly(ctx.folder, ctx.version, start, ctx.as_of)
    total = table[table["unit_code"] == core.TOTAL].iloc[0]
    left, right = st.columns(2)
    left.metric(ctx.t("risk.province_level"), _name(ctx, legend, total["level"]))
    right.metric(ctx.t("risk.green_weeks"), ctx.t("risk.weeks_value", n=ctx.number(green_weeks(history))))
    left, right = st.columns(2)
    with left:
        level_map(ctx, table, legend, rs)
    with right:
        level_table(ctx, table, legend, rs)
    history_strip(ctx, history, legend, start)
    lower_table(ctx, risk_lower(ctx.folder, ctx.version, ctx.as_of), legend, rs)


guarded(render)
