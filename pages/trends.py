"""Xu hướng / Trends: the coverage monitoring chart, daily doses by dose number, 7-day incidence.

The coverage chart is the selected target's, on its own group and dose; a comparison chosen in the
sidebar is one more, labelled line per place, never a replacement.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboard.charts import coverage_chart, doses_alternative, incidence_alternative
from dashboard.loaders import daily_doses, incidence_series
from dashboard.notices import unavailable_notice
from dashboard.state import Context, guarded, header, md_escape
from tracker import exports, i18n, store
from tracker.figures import trends


def render(ctx: Context) -> None:
    header(ctx, "page.trends")
    group_label = i18n.label(ctx.cfg.group(ctx.target.group), ctx.lang)
    st.markdown(
        f"**{ctx.t('app.as_of_line', date=ctx.date(ctx.as_of))}** · {md_escape(ctx.place())} · "
        f"{i18n.label(ctx.target, ctx.lang)}"
    )
    unavailable_notice(ctx, [(ctx.target.group, ctx.target.dose), *([ctx.compare] if ctx.compare else [])])
    coverage_chart(ctx, ctx.units)

    doses = daily_doses(ctx.folder, ctx.version, ctx.target.group, ctx.units)
    doses = doses[doses["date"] <= str(ctx.as_of)]
    fig = trends.daily_doses(doses, lang=ctx.lang, title=ctx.t("trends.doses_title", group=group_label))
    ctx.plot(fig, "daily-doses", **doses_alternative(ctx, doses, group_label))

    incidence = incidence_series(ctx.folder, ctx.version, ctx.units)
    incidence = incidence[incidence["date"] <= str(ctx.as_of)]
    fig = trends.incidence_trend(
        incidence, lang=ctx.lang, title=ctx.t("trends.incidence_title"), whole=ctx.cfg.whole(ctx.lang)
    )
    ctx.plot(fig, "incidence", **incidence_alternative(ctx, incidence))

    st.download_button(
        ctx.t("export.series"),
        lambda: store.series_csv(Path(ctx.folder)),  # made when clicked: a country's series is millions of rows
        file_name=exports.file_name("vaccinations", ctx.cfg.province_name_vi, ctx.ds.latest_date, "csv"),
        mime=exports.MIME["csv"],
        key="download_series",
        help=ctx.t("export.series_help"),
        on_click="ignore",
        icon=":material/download:",
    )


guarded(render)
