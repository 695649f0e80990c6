"""Tổng quan / Overview: one card per target, and how fresh each district's reports are."""

from __future__ import annotations

import streamlit as st

from dashboard import tables
from dashboard.briefing_ui import briefing_buttons
from dashboard.cards import province_risk
from dashboard.loaders import (
    comparison_coverage,
    district_table,
    freshness,
    target_cards,
)
from dashboard.notices import unavailable_notice
from dashboard.state import Context, guarded, header, md_escape
from tracker import about, core, headlines, i18n, views
from tracker.figures.common import STATUS_COLORS, STATUS_TEXT_COLOR, status_label
from tracker.tables import districts as district_tables


def card(ctx: Context, target, row) -> None:
    status = row["status"]
    with st.container(border=True):
        st.subheader(i18n.label(target, ctx.lang))
        st.markdown(
            f"<span style='background:{STATUS_COLORS[status]};color:{STATUS_TEXT_COLOR};padding:2px 10px;"
            f"border-radius:10px'>{status_label(status, ctx.lang)}</span>",  # icon + word, not colour alone
            unsafe_allow_html=True,
        )
        left, right = st.columns(2)
        left.metric(
            ctx.t("overview.coverage", dose=i18n.dose(target.dose, ctx.lang)),
            ctx.percent(row["coverage"]),
            delta=headlines.change_7d(row, ctx.lang),
            delta_color="normal",
            help=about.definition("coverage", ctx.lang, ctx.cfg),
        )
        right.metric(
            ctx.t("overview.full_dose"),
            ctx.percent(row["full_dose_coverage"]),
            help=about.definition("coverage", ctx.lang, ctx.cfg),
        )
        st.caption(
            ctx.t(
                "overview.threshold",
                threshold=ctx.percent(float(target.threshold), decimals=0),
                deadline=ctx.date(target.deadline),
            )
        )
        lines = headlines.progress(row, target, ctx.lang)
        st.markdown("\n".join(f"- {line}" for line in lines))


def lagging(ctx: Context) -> None:
    """Per target, the districts behind (missed, off track, at risk), the furthest behind first."""
    st.subheader(ctx.t("lagging.heading"))
    for target in ctx.cfg.targets:  # each target on its own group and dose
        table = district_tables.lagging(
            district_table(ctx.folder, ctx.version, ctx.as_of, target.id), ctx.cfg, ctx.as_of, target
        )
        st.markdown(f"**{i18n.label(target, ctx.lang)}**")
        if table.values.empty:
            st.success(ctx.t("lagging.none"))
            continue
        st.caption(ctx.t("lagging.count", count=len(table.values)))
        tables.show(ctx, table)


def render(ctx: Context) -> None:
    header(ctx, "page.overview")
    st.markdown(f"**{ctx.t('app.as_of_line', date=ctx.date(ctx.as_of))}**")
    pairs = [(t.group, d) for t in ctx.cfg.targets for d in (t.dose, views.FULL_DOSE)]
    unavailable_notice(ctx, [*pairs, *([ctx.compare] if ctx.compare else [])])
    cards = target_cards(ctx.folder, ctx.version, ctx.as_of).set_index("target_id")
    for column, target in zip(st.columns(len(ctx.cfg.targets)), ctx.cfg.targets, strict=True):
        with column:
            card(ctx, target, cards.loc[target.id])
    if ctx.compare:  # beside the cards, named as a comparison; every card stays on its target's group and dose
        other = comparison_coverage(ctx.folder, ctx.version, ctx.as_of, *ctx.compare).set_index("unit_code")
        st.metric(
            ctx.t("compare.metric", label=ctx.compare_label()),
            ctx.percent(other.loc[core.TOTAL, "coverage"]),
            help=ctx.t("compare.help"),
        )

    province_risk(ctx)
    lagging(ctx)
    briefing_buttons(ctx)

    st.subheader(ctx.t("overview.freshness"))
    fresh = freshness(ctx.folder, ctx.version, ctx.as_of)
    stale = fresh[fresh["stale"]]
    if stale.empty:
        st.success(ctx.t("overview.all_fresh", days=views.STALE_AFTER_DAYS))
    else:
        names = ", ".join(md_escape(name) for name in stale["unit_name"])  # from the data: text, not Markdown
        st.warning(ctx.t("overview.stale", count=len(stale), names=names, days=views.STALE_AFTER_DAYS))
    tables.show(ctx, district_tables.freshness(fresh, ctx.cfg, ctx.as_of))


guarded(render)
