"""Metric cards more than one page shows: the province's epidemic level and its run of weeks at level 1."""

from __future__ import annotations

import streamlit as st

from dashboard.loaders import green_weeks, risk_levels, risk_rules, risk_start
from dashboard.state import Context
from tracker import about, core
from tracker.figures import risk as risk_figures


def province_risk(ctx: Context) -> None:
    """The province's level on the as-of date and its run of green weeks; nothing before the rules began."""
    if ctx.as_of < risk_start():
        return
    levels = risk_levels(ctx.folder, ctx.version, ctx.as_of)
    level = levels.loc[levels["unit_code"] == core.TOTAL, "level"].iat[0]
    legend = risk_rules().for_date(ctx.as_of).legend()
    left, right = st.columns(2)
    name = risk_figures.level_names(legend, [level], ctx.lang)[0]
    left.metric(ctx.t("risk.province_level"), name, help=about.definition("risk_level", ctx.lang, ctx.cfg))
    weeks = green_weeks(ctx.folder, ctx.version, ctx.as_of)
    right.metric(ctx.t("risk.green_weeks"), ctx.t("risk.weeks_value", n=weeks))
