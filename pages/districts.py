"""Bản đồ / Districts: a map coloured by a chosen metric, a ranked table, and one district in detail."""

from __future__ import annotations

import streamlit as st

from dashboard.downloads import detail_export, ranked_export, table_downloads
from dashboard.notices import unavailable_notice
from dashboard.state import (
    Context,
    boundaries,
    choice,
    comparison_coverage,
    coverage_chart,
    district_table,
    guarded,
    header,
    md_escape,
    show_table,
)
from tracker import core, i18n
from tracker.figures import maps
from tracker.figures.common import STATUS_COLORS

# metric -> (table column, translation key, "higher is worse", how to format)
METRICS = {
    "coverage": ("coverage", "table.coverage", False, "percent"),
    "gap_points": ("gap_points", "table.gap", True, "points"),
    "people_needed": ("people_needed", "table.people_needed", True, "number"),
    "pace_ratio": ("pace_ratio", "table.pace_ratio", False, "ratio"),
    "incidence_per_100k": ("incidence_per_100k", "table.incidence", True, "decimal"),
    "status": ("status", "table.status", False, "status"),
}


def formatter(ctx: Context, kind: str):
    return {
        "percent": ctx.percent,
        "points": lambda v: ctx.number(v, decimals=1),
        "number": ctx.number,
        "ratio": lambda v: ctx.number(v, decimals=2),
        "decimal": lambda v: ctx.number(v, decimals=1),
        "status": lambda v: i18n.status(v, ctx.lang) if isinstance(v, str) else "—",
    }[kind]


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
    fig = _map_figure(ctx.folder, ctx.version, ctx.as_of, ctx.target.id, metric, ctx.lang, table, ctx)
    ctx.plot(fig, f"map-{metric}", ctx.cfg.province_name_vi)


# built again only when what it shows changes (plotly takes about 0.1 s for this map, on every rerun
# otherwise); st.plotly_chart only reads the figure, so the cached object itself is shared
@st.cache_resource(max_entries=16, show_spinner=False)
def _map_figure(folder: str, version: str, as_of, target_id: str, metric: str, lang: str, _table, _ctx: Context):
    ctx, table = _ctx, _table
    column, key, worse, kind = METRICS[metric]
    shapes, _problem = boundaries(folder, version)
    units = table[table["unit_code"] != core.TOTAL]
    units = units.drop(columns="population").rename(columns={"population_all": "population"})  # circle sizes
    units = units.assign(
        hover=[
            "<br>".join(
                [
                    f"{ctx.t('table.coverage')}: {ctx.percent(r.coverage)}",
                    f"{ctx.t('table.people_needed')}: {ctx.number(r.people_needed)}",
                    f"{ctx.t('table.status')}: {i18n.status(r.status, ctx.lang)}",
                ]
            )
            for r in units.itertuples()  # one line per district for the tooltip
        ]
    )
    title = ctx.t(key)  # the target is named in the line above the map
    if metric == "status":
        categories = {s: (i18n.status(s, ctx.lang), STATUS_COLORS[s]) for s in core.STATUSES}
        return maps.district_map(
            units, column, lang=ctx.lang, title=title, value_label=ctx.t(key), fmt_value=formatter(ctx, kind),
            boundaries=shapes, categories=categories,
        )  # fmt: skip
    return maps.district_map(
        units, column, lang=ctx.lang, title=title, value_label=ctx.t(key), fmt_value=formatter(ctx, kind),
        boundaries=shapes, reverse=worse, zrange=(0, 1) if metric == "coverage" else None,
    )  # fmt: skip


def with_comparison(ctx: Context, table):
    """The target's table with the comparison's coverage per unit beside it (`compare_coverage`), if one is chosen."""
    if not ctx.compare:
        return table
    other = comparison_coverage(ctx.folder, ctx.version, ctx.as_of, *ctx.compare).set_index("unit_code")["coverage"]
    return table.assign(compare_coverage=table["unit_code"].map(other).to_numpy())


def ranked_table(ctx: Context, table, metric: str):
    column, _, worse, _ = METRICS[metric]
    units = table[table["unit_code"] != core.TOTAL]
    if metric != "status":
        units = units.sort_values(column, ascending=not worse, na_position="last")
    extra = [column] if column not in ("coverage", "gap_points", "people_needed", "status") else []
    compared = ["compare_coverage"] if "compare_coverage" in units else []
    shown = units[
        ["unit_name", "coverage", *compared, "gap_points", "people_needed", *extra, "status", f"risk_name_{ctx.lang}"]
    ]
    shown = shown.rename(columns={f"risk_name_{ctx.lang}": "risk_level"}).copy()
    shown["status"] = shown["status"].map(lambda s: i18n.status(s, ctx.lang))
    shown["coverage"] = shown["coverage"] * 100  # whole percent on the bar: no decimal mark to localise
    bars = {"coverage": ctx.t("table.coverage")}
    if compared:
        shown["compare_coverage"] = shown["compare_coverage"] * 100
        bars["compare_coverage"] = ctx.t("compare.column", label=ctx.compare_label())
    names = {
        "unit_name": ctx.t("table.district"),
        "gap_points": ctx.t("table.gap"),
        "people_needed": ctx.t("table.people_needed"),
        "pace_ratio": ctx.t("table.pace_ratio"),
        "status": ctx.t("table.status"),
        "incidence_per_100k": ctx.t("table.incidence"),
        "risk_level": ctx.t("table.risk_level"),
    }
    formats = {
        "gap_points": lambda v: ctx.number(v, decimals=1),
        "people_needed": ctx.number,
        "pace_ratio": lambda v: ctx.number(v, decimals=2),
        "incidence_per_100k": lambda v: ctx.number(v, decimals=1),
    }
    styled = shown.style.format({k: f for k, f in formats.items() if k in shown})
    show_table(
        styled,
        column_config={name: st.column_config.Column(label) for name, label in names.items() if name in shown}
        | {
            name: st.column_config.ProgressColumn(label, min_value=0, max_value=100, format="%.0f%%")
            for name, label in bars.items()
        },
    )
    table_downloads(ctx, ranked_export(ctx, units), "districts")


def detail(ctx: Context, table):
    st.subheader(ctx.t("districts.detail"))
    codes = [c for c in table["unit_code"] if c != core.TOTAL]
    default = codes.index(ctx.units[0]) if ctx.units else 0
    code = st.selectbox(ctx.t("districts.choose"), codes, index=default, format_func=ctx.names.get, key="detail")
    row = table.set_index("unit_code").loc[code]
    st.markdown(ctx.t("districts.last_report", date=ctx.date(row["last_report_date"])))
    rows = []
    for target in ctx.cfg.targets:  # each target on its own group and dose
        r = district_table(ctx.folder, ctx.version, ctx.as_of, target.id).set_index("unit_code").loc[code]
        rows.append(
            {
                ctx.t("control.target"): i18n.label(target, ctx.lang),
                ctx.t("table.coverage"): ctx.percent(r["coverage"]),
                ctx.t("table.people_needed"): ctx.number(r["people_needed"]),
                ctx.t("table.pace"): ctx.number(r["pace_7d"], decimals=1),
                ctx.t("table.required"): ctx.number(r["required_daily"], decimals=1),
                ctx.t("table.projected"): ctx.date(r["projected_date"]),
                ctx.t("table.status"): i18n.status(r["status"], ctx.lang),
            }
        )
    show_table(rows)
    table_downloads(ctx, detail_export(ctx, code), "district", place=ctx.names[code])
    coverage_chart(ctx, (code,), place=ctx.names[code], height=380)


def render(ctx: Context) -> None:
    header(ctx, "page.districts")
    st.markdown(f"**{ctx.t('app.as_of_line', date=ctx.date(ctx.as_of))}** · {i18n.label(ctx.target, ctx.lang)}")
    st.caption(ctx.t("compare.judged_on", on=ctx.judged_on()))
    unavailable_notice(ctx, [(ctx.target.group, ctx.target.dose), *([ctx.compare] if ctx.compare else [])])
    table = with_comparison(ctx, district_table(ctx.folder, ctx.version, ctx.as_of, ctx.target.id))
    metric = choice(
        st.selectbox, "metric", ctx.t("districts.metric"), list(METRICS), "coverage", ctx.lang,
        format_func=lambda m: ctx.t(METRICS[m][1]),
    )  # fmt: skip
    left, right = st.columns(2)
    with left:
        district_map(ctx, table, metric)
    with right:
        ranked_table(ctx, table, metric)
    detail(ctx, table)


guarded(render)
