"""Bản đồ / Districts: a map coloured by a chosen metric, a ranked table, and one district in detail."""

from __future__ import annotations

import streamlit as st

from dashboard import tables
from dashboard.charts import coverage_chart, map_alternative
from dashboard.controls import choice
from dashboard.loaders import boundaries, comparison_coverage, district_table
from dashboard.notices import unavailable_notice
from dashboard.state import Context, guarded, header, md_escape
from tracker import core, i18n
from tracker.figures import districts as district_figures
from tracker.tables import districts as district_tables
from tracker.tables.districts import METRICS
from tracker.tables.render import header as heading


def district_map(ctx: Context, table, metric: str):
    shapes, problem = boundaries(ctx.folder, ctx.version)
    if problem:
        st.warning(ctx.t("districts.boundaries_problem", problem=md_escape(problem)))
    elif shapes is not None and (shapes.unmatched_features or shapes.unmatched_units):
        st.info(  # the features' names come from the boundary file, the units' codes from the data
            ctx.t(
                "districts.unmatched",
                features=", ".join(map(md_escape, shapes.unmatched_features)) or "—",
                units=", ".join(map(md_escape, shapes.unmatched_units)) or "—",
            )
        )
    fig = _map_figure(ctx.folder, ctx.version, ctx.as_of, ctx.target.id, metric, ctx.lang, table)
    ctx.plot(fig, f"map-{metric}", ctx.cfg.province_name_vi, **map_alternative(ctx, table, metric))


# built again only when what it shows changes (plotly takes about 0.1 s for this map, on every rerun
# otherwise); st.plotly_chart only reads the figure, so the cached object itself is shared
@st.cache_resource(max_entries=16, show_spinner=False)
def _map_figure(folder: str, version: str, as_of, target_id: str, metric: str, lang: str, _table):
    shapes, _problem = boundaries(folder, version)
    return district_figures.metric_map(_table, metric, lang, shapes)  # the target is named above the map


def with_comparison(ctx: Context, table):
    """The target's table with the comparison's coverage per unit beside it (`compare_coverage`), if one is chosen."""
    if not ctx.compare:
        return table
    other = comparison_coverage(ctx.folder, ctx.version, ctx.as_of, *ctx.compare).set_index("unit_code")["coverage"]
    return table.assign(compare_coverage=table["unit_code"].map(other).to_numpy())


def ranked_table(ctx: Context, table, metric: str):
    compare = ctx.compare_label() if ctx.compare else None
    ranked = district_tables.ranked(table, ctx.cfg, ctx.as_of, ctx.target, metric, compare=compare)
    tables.show(ctx, ranked)


def detail(ctx: Context, table):
    st.subheader(ctx.t("districts.detail"))
    codes = [c for c in table["unit_code"] if c != core.TOTAL]
    default = codes.index(ctx.units[0]) if ctx.units else 0
    code = st.selectbox(ctx.t("districts.choose"), codes, index=default, format_func=ctx.names.get, key="detail")
    row = table.set_index("unit_code").loc[code]
    st.markdown(ctx.t("districts.last_report", date=ctx.date(row["last_report_date"])))
    by_target = {t.id: district_table(ctx.folder, ctx.version, ctx.as_of, t.id) for t in ctx.cfg.targets}
    tables.show(ctx, district_tables.detail(by_target, ctx.cfg, ctx.as_of, code), place=ctx.names[code])
    coverage_chart(ctx, (code,), place=ctx.names[code], height=380)


def render(ctx: Context) -> None:
    header(ctx, "page.districts")
    st.markdown(f"**{ctx.t('app.as_of_line', date=ctx.date(ctx.as_of))}** · {i18n.label(ctx.target, ctx.lang)}")
    st.caption(ctx.t("compare.judged_on", on=ctx.judged_on()))
    unavailable_notice(ctx, [(ctx.target.group, ctx.target.dose), *([ctx.compare] if ctx.compare else [])])
    table = with_comparison(ctx, district_table(ctx.folder, ctx.version, ctx.as_of, ctx.target.id))
    metric = choice(
        st.selectbox, "metric", ctx.t("districts.metric"), list(METRICS), "coverage", ctx.lang,
        format_func=lambda m: heading(METRICS[m].column, ctx.lang),
    )  # fmt: skip
    left, right = st.columns(2)
    with left:
        district_map(ctx, table, metric)
    with right:
        ranked_table(ctx, table, metric)
    detail(ctx, table)


guarded(render)
