"""Each chart's text alternative: a sentence or two saying what it shows, and its figures as a table.

Context.plot shows them under the chart ("view as table") and gives the sentence to the chart as its
accessible name. Each table is built from the frames the chart was drawn from, its columns named as the
chart's legend names its lines, dates and numbers written as the page writes them, every cell as text.
A daily series longer than TABLE_WEEKS weeks is shown a row a week, counting back from its last date, and
the risk history its last TABLE_WEEKS weeks; the table says so. The coverage chart itself is here too.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from dashboard.loaders import coverage_series
from dashboard.state import Context
from tracker import core, fmt, i18n, views
from tracker.figures import risk as risk_figures
from tracker.figures import trends
from tracker.tables.districts import METRICS
from tracker.tables.render import header, write

TABLE_WEEKS = 8


def _texts(values, write_one) -> list[str]:
    """Each value written by `write_one`; a missing one as "—"."""
    return [fmt.EMPTY if v is None else v for v in fmt.each(values, write_one)]


def _line_name(ctx: Context, code: str, name: str) -> str:
    """A unit's line as the charts' legends name it: the province's is "Toàn tỉnh" (Config.whole)."""
    return ctx.cfg.whole(ctx.lang) if code == core.TOTAL else str(name)


def unit_lines(ctx: Context, frame: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """(name, rows) of each unit's line in a long frame (unit_code, unit_name, date, …), in order of appearance."""
    lines = []
    for code in dict.fromkeys(frame["unit_code"]):
        part = frame[frame["unit_code"] == code]
        lines.append((_line_name(ctx, code, part["unit_name"].iat[0]), part))
    return lines


def _named(names, values) -> str:
    """'Toàn tỉnh 80,1%, Huyện Lâm Bình 75,2%': each name with its value."""
    return ", ".join(f"{name} {value}" for name, value in zip(names, values, strict=True))


def by_date(ctx: Context, lines, column: str, write_one) -> dict:
    """A line chart as plot()'s data and note: a row per date (a row a week, counting back from the last date,
    when the dates span more than TABLE_WEEKS weeks), a column per line (name, rows) of `column`, written by
    `write_one`; with the first and last dates and each line's last value, for its alt."""
    dates = pd.to_datetime(pd.concat([part["date"] for _, part in lines])).drop_duplicates().sort_values()
    end = dates.iat[-1]
    thinned = (end - dates.iat[0]).days > TABLE_WEEKS * 7
    kept = [d for d in dates if not thinned or (end - d).days % 7 == 0]
    data = {ctx.t("chart.date"): [ctx.date(d) for d in kept]}
    for name, part in lines:
        data[name] = _texts(part.set_index(pd.to_datetime(part["date"]))[column].reindex(kept), write_one)
    return {
        "data": pd.DataFrame(data),
        "note": ctx.t("chart.weekly_note", date=ctx.date(end)) if thinned else None,
        "start": ctx.date(dates.iat[0]),
        "end": ctx.date(end),
        "last": [data[name][-1] for name, _ in lines],
    }


# --------------------------------------------------------------------------- the coverage chart


def coverage_chart(ctx: Context, units: tuple[str, ...], place: str | None = None, height: int = 460) -> None:
    """The target's coverage for the province and `units`, its projection, and the comparison if one is chosen."""
    fig, alternative = _coverage_figure(
        ctx.folder, ctx.version, ctx.target.id, units, ctx.as_of, ctx.compare, ctx.lang, height, ctx
    )
    ctx.plot(fig, "coverage", place, **alternative)
    notes = [ctx.t("trends.coverage_note"), ctx.t("projection_note.stops")]
    if ctx.compare:
        notes.append(ctx.t("compare.note", label=ctx.compare_label(), on=ctx.judged_on()))
    st.caption(" ".join(notes))


# A figure is built again only when what it shows changes (plotly takes 0.05-0.1 s a figure, on every
# rerun otherwise); st.plotly_chart only reads it, so the cached object itself is shared (cache_resource),
# and so is its text alternative, which only st.table and st.caption read.
@st.cache_resource(max_entries=16, show_spinner=False)
def _coverage_figure(
    folder: str, version: str, target_id: str, units: tuple[str, ...], as_of: dt.date, compare, lang: str,
    height: int, _ctx: Context,
):  # fmt: skip
    ctx = _ctx
    target = ctx.target
    series = coverage_series(ctx.folder, ctx.version, target.group, target.dose, units)
    series = series[series["date"] <= str(ctx.as_of)]
    projection = views.projection(series, ctx.as_of, target.deadline)
    comparison = None
    if ctx.compare:
        comparison = coverage_series(ctx.folder, ctx.version, *ctx.compare, units)
        comparison = comparison[comparison["date"] <= str(ctx.as_of)]
    title = ctx.t(
        "trends.coverage_title",
        group=i18n.label(ctx.cfg.group(target.group), ctx.lang),
        dose=i18n.dose(target.dose, ctx.lang),
    )
    fig = trends.coverage_trend(
        series, projection, [target], lang=ctx.lang, as_of=ctx.as_of, title=title, height=height,
        comparison=comparison, comparison_label=ctx.compare_label(), whole=ctx.cfg.whole(ctx.lang),
    )  # fmt: skip
    return fig, coverage_alternative(ctx, series, comparison)


def coverage_alternative(ctx: Context, series: pd.DataFrame, comparison: pd.DataFrame | None) -> dict:
    """The coverage chart's table (a column per place, then per place compared) and what it shows."""
    if series.empty:
        return {}
    lines = unit_lines(ctx, series)
    others = unit_lines(ctx, comparison) if comparison is not None and len(comparison) else []
    label = ctx.compare_label()
    compared = [(ctx.t("compare.line", name=name, label=label), part) for name, part in others]  # as in the legend
    table = by_date(ctx, lines + compared, "coverage", ctx.percent)
    own, other = table["last"][: len(lines)], table["last"][len(lines) :]
    threshold = ctx.target.threshold
    alt = ctx.t(
        "chart.coverage_alt", on=ctx.judged_on(), start=table["start"], end=table["end"],
        values=_named([n for n, _ in lines], own),
        threshold=ctx.percent(float(threshold), decimals=0 if (threshold * 100).denominator == 1 else 1),
        deadline=ctx.date(ctx.target.deadline),
    )  # fmt: skip
    if other:
        alt += " " + ctx.t("chart.compare_alt", label=label, values=_named([n for n, _ in others], other))
    return {"data": table["data"], "note": table["note"], "alt": alt}


# --------------------------------------------------------------------------- the trends page's other charts


def doses_alternative(ctx: Context, doses: pd.DataFrame, group: str) -> dict:
    """The daily doses chart's table (each dose's 7-day average, as its lines) and what it shows."""
    if doses.empty:
        return {}
    parts = list(doses.groupby("dose", sort=True))
    lines = [(ctx.t("fig.avg_7d_of", dose=i18n.dose(dose, ctx.lang)), part) for dose, part in parts]  # as the legend
    table = by_date(ctx, lines, "avg_7d", ctx.number)
    alt = ctx.t(
        "chart.doses_alt",
        group=group,
        place=ctx.place(),
        start=table["start"],
        end=table["end"],
        values=_named([i18n.dose(dose, ctx.lang) for dose, _ in parts], table["last"]),
    )
    return {"data": table["data"], "note": table["note"], "alt": alt}


def incidence_alternative(ctx: Context, incidence: pd.DataFrame) -> dict:
    """The incidence chart's table (a column per place) and what it shows."""
    if incidence.empty:
        return {}
    lines = unit_lines(ctx, incidence)
    table = by_date(ctx, lines, "incidence_per_100k", lambda v: ctx.number(v, decimals=1))
    values = _named([n for n, _ in lines], table["last"])
    alt = ctx.t("chart.incidence_alt", start=table["start"], end=table["end"], values=values)
    return {"data": table["data"], "note": table["note"], "alt": alt}


# --------------------------------------------------------------------------- the maps and the risk history


def map_alternative(ctx: Context, table: pd.DataFrame, metric: str) -> dict:
    """The districts map's table (each district and the metric's value, as the map's tooltip writes it) and
    what it shows: the highest and lowest district, or for the status how many districts have each."""
    column = METRICS[metric].column
    units = views.map_units(table)
    name = header(column, ctx.lang)
    data = pd.DataFrame(
        {
            ctx.t("table.district"): units["unit_name"].astype(str).tolist(),
            name: list(map(write(column, ctx.lang), units[column.id])),
        }
    )
    if metric == "status":
        counts = units["status"].value_counts()
        details = ", ".join(f"{i18n.status(s, ctx.lang)} {counts[s]}" for s in core.STATUSES if s in counts)
    else:
        values = pd.to_numeric(units[column.id], errors="coerce").set_axis(units["unit_name"].astype(str))
        values = values.dropna()
        if values.empty:
            details = fmt.EMPTY
        else:
            high, low = values.idxmax(), values.idxmin()
            value = write(column, ctx.lang)
            details = ctx.t(
                "chart.map_range", high=high, high_value=value(values[high]), low=low, low_value=value(values[low])
            )
    return {"data": data, "alt": ctx.t("chart.map_alt", metric=name, date=ctx.date(ctx.as_of), details=details)}


def risk_map_alternative(ctx: Context, levels: pd.DataFrame, legend: pd.DataFrame) -> dict:
    """The risk map's table (each district and its level) and what it shows: the districts at each level."""
    districts = levels[levels["unit_code"] != core.TOTAL]
    names = risk_figures.level_names(legend, districts["level"], ctx.lang)
    places = districts["unit_name"].astype(str).tolist()
    data = pd.DataFrame({ctx.t("table.district"): places, ctx.t("risk.level"): names})
    rows = pd.DataFrame({"level": districts["level"].astype(int).to_numpy(), "name": names, "place": places})
    details = "; ".join(f"{at['name'].iat[0]}: {', '.join(at['place'])}" for _, at in rows.groupby("level"))
    return {"data": data, "alt": ctx.t("chart.risk_map_alt", date=ctx.date(ctx.as_of), levels=details)}


def history_alternative(ctx: Context, history: pd.DataFrame, legend: pd.DataFrame) -> dict:
    """The risk history strip's table (a row per place as the strip's, a column per week of the last
    TABLE_WEEKS, each level's short name: "Cấp 1") and what it shows: the weeks and the province's latest level."""
    if history.empty:
        return {}
    weeks = sorted(pd.to_datetime(history["week_end"]).unique())
    shown = weeks[-TABLE_WEEKS:]
    frame = history.assign(week_end=pd.to_datetime(history["week_end"]))
    codes = list(dict.fromkeys(frame["unit_code"]))
    names = dict(zip(frame["unit_code"], frame["unit_name"].astype(str), strict=True))
    whole = ctx.cfg.whole_named(ctx.lang)
    grid = frame.pivot_table(index="unit_code", columns="week_end", values="level", aggfunc="first")
    grid = grid.reindex(index=codes, columns=shown)
    full = risk_figures.level_name_map(legend, ctx.lang)
    short = {level: risk_figures.short_level(name) for level, name in full.items()}  # the full names: the legend
    data = {ctx.t("table.district"): [whole if code == core.TOTAL else names[code] for code in codes]}
    for week in shown:
        data[ctx.date(week)] = [fmt.EMPTY if pd.isna(v) else short[int(v)] for v in grid[week]]
    province = grid.loc[core.TOTAL, shown[-1]] if core.TOTAL in grid.index else None
    alt = ctx.t(
        "chart.history_alt", start=ctx.date(weeks[0]), end=ctx.date(weeks[-1]), whole=whole,
        level=fmt.EMPTY if province is None or pd.isna(province) else full[int(province)],
    )  # fmt: skip
    note = ctx.t("chart.history_note")
    if len(weeks) > len(shown):
        note += " " + ctx.t("chart.history_cut", date=ctx.date(shown[0]), start=ctx.date(weeks[0]))
    return {"data": pd.DataFrame(data), "note": note, "alt": alt}
