"""Về số liệu / About this data: every figure's definition, formula and source, the legal sources of the
targets and the risk rules, and when the data was last updated (tracker.about; docs/rules.md)."""

from __future__ import annotations

import streamlit as st

from dashboard.loaders import risk_rules, risk_start
from dashboard.state import Context, guarded, header, md_escape
from tracker import about, fmt, i18n, store


def sources(ctx: Context) -> None:
    st.subheader(ctx.t("about_page.sources"))
    plans = list(dict.fromkeys(t.source for t in ctx.cfg.targets if t.source))
    lines = [ctx.t("about_page.targets_source", source=md_escape("; ".join(plans) or ctx.cfg.plan(ctx.lang)))]
    lines += [f"  - {md_escape(i18n.label(t, ctx.lang))}" for t in ctx.cfg.targets]
    if ctx.as_of >= risk_start():
        rs = risk_rules().for_date(ctx.as_of)
        text = (rs.source_en or rs.source) if ctx.lang == "en" else rs.source
        lines.append(ctx.t("about_page.risk_source", source=md_escape(text)))
    st.markdown("\n".join(f"- {line}" if not line.startswith("  ") else line for line in lines))


def freshness(ctx: Context) -> None:
    st.subheader(ctx.t("about_page.data"))
    lines = [ctx.t("about_page.as_of", date=ctx.date(ctx.ds.latest_date))]
    drops = store.drops(ctx.folder)
    active = drops[drops["status"] == "active"]
    if active.empty:
        lines.append(ctx.t("about_page.never"))
    else:
        last = active.sort_values("ingested_at").iloc[-1]
        time = fmt.datetime(last["ingested_at"], ctx.lang)
        lines.append(ctx.t("about_page.updated", time=time, source=f"`{md_escape(last['source'])}`"))
    st.markdown("\n".join(f"- {line}" for line in lines))


def metrics(ctx: Context) -> None:
    st.subheader(ctx.t("about_page.metrics"))
    for metric in about.METRICS:
        with st.expander(about.name(metric, ctx.lang)):
            st.markdown(about.definition(metric, ctx.lang, ctx.cfg))
            st.markdown(f"**{ctx.t('about_page.formula')}:** {about.formula(metric, ctx.lang)}")
    st.caption(ctx.t("about_page.docs"))


def render(ctx: Context) -> None:
    header(ctx, "about_page.title")
    st.markdown(ctx.t("about_page.intro"))
    freshness(ctx)
    sources(ctx)
    metrics(ctx)


guarded(render)
