"""Xu hướng / Trends: the coverage monitoring chart, daily doses by dose number, 7-day incidence."""

from __future__ import annotations

import streamlit as st

from dashboard.state import Context, coverage_series, daily_doses, guarded, header, incidence_series
from tracker import i18n, views
from tracker.figures import trends


def render(ctx: Context) -> None:
    header(ctx, "page.trends")
    group_label = i18n.label(ctx.cfg.group(ctx.group), ctx.lang)
    st.markdown(f"**{ctx.t('app.as_of_line', date=ctx.date(ctx.as_of))}** · {ctx.place()}")

    series = coverage_series(ctx.folder, ctx.version, ctx.group, ctx.dose, ctx.units)
    series = series[series["date"] <= str(ctx.as_of)]
    projection = views.projection(series, ctx.as_of, ctx.target.deadline)
    fig = trends.coverage_trend(
        series, projection, [ctx.target], lang=ctx.lang, as_of=ctx.as_of,
        title=ctx.t("trends.coverage_title", group=group_label, dose=i18n.dose(ctx.dose, ctx.lang)),
    )  # fmt: skip
    ctx.plot(fig, "coverage")
    st.caption(ctx.t("trends.coverage_note"))

    doses = daily_doses(ctx.folder, ctx.version, ctx.group, ctx.units)
    doses = doses[doses["date"] <= str(ctx.as_of)]
    fig = trends.daily_doses(doses, lang=ctx.lang, title=ctx.t("trends.doses_title", group=group_label))
    ctx.plot(fig, "daily-doses")

    incidence = incidence_series(ctx.folder, ctx.version, ctx.units)
    incidence = incidence[incidence["date"] <= str(ctx.as_of)]
    fig = trends.incidence_trend(incidence, lang=ctx.lang, title=ctx.t("trends.incidence_title"))
    ctx.plot(fig, "incidence")


guarded(render)
