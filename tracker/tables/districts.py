"""The district tables: ranked districts, one district against every target, report freshness, and the
briefing's table. Each is built from the core's figures (tracker.views) as a Table (tracker.tables.spec)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tracker import core, risk
from tracker.config import Config, Target
from tracker.errors import InputError
from tracker.figures.common import STATUS_COLORS
from tracker.figures.risk import short_level
from tracker.i18n import Both
from tracker.tables.spec import Column, Table


@dataclass(frozen=True)
class Metric:
    """A figure the districts map can be coloured by, and the ranked table sorted by."""

    column: Column
    worse_when_higher: bool  # sort (and colour) so that the districts furthest behind come first


STATUS = Column("status", "table.status", "status", help="status")
METRICS = {
    m.column.id: m
    for m in (
        Metric(Column("coverage", "table.coverage", "percent", bar=True, help="coverage"), False),
        Metric(Column("gap_points", "table.gap", "number", decimals=1, help="gap"), True),
        Metric(Column("people_needed", "table.people_needed", "count", help="people_needed"), True),
        Metric(Column("pace_ratio", "table.pace_ratio", "number", decimals=2, help="pace_ratio"), False),
        Metric(Column("incidence_per_100k", "table.incidence", "number", decimals=1, help="incidence"), True),
        Metric(STATUS, False),
    )
}
DISTRICT = Column("unit_name", "table.district", pinned=True, width="medium")


def label(entry) -> Both:
    """A configured object's label (targets, groups) in both languages."""
    return Both(entry.label_vi, entry.label_en or entry.label_vi)


def place(cfg: Config) -> Both:
    """The whole area named, in both languages: "Toàn tỉnh Tuyên Quang" / "Tuyên Quang province"."""
    return Both(cfg.whole_named("vi"), cfg.whole_named("en"))


def whole_named(frame: pd.DataFrame, cfg: Config) -> pd.DataFrame:
    """`frame` (a row per unit and the province's TOTAL row) with the province's row named as a whole."""
    total = (frame["unit_code"] == core.TOTAL).to_numpy()
    names = frame["unit_name"].astype(object).to_numpy().copy()
    for row in np.flatnonzero(total):  # one row (a Both is a tuple: numpy would spread a list of them)
        names[row] = place(cfg)
    return frame.assign(unit_name=names).reset_index(drop=True)


def level_legend(cfg: Config, as_of: dt.date) -> tuple[dict[int, Both], dict[int, str]]:
    """The epidemic levels' names and colours in the rules in force on as_of (data/risk_rules.toml);
    empty before any rule set applies (11/10/2021)."""
    try:
        legend = risk.load_rules(data_dir=cfg.data_dir).for_date(as_of).legend()
    except InputError:
        return {}, {}
    return legend_maps(legend)


def legend_maps(legend: pd.DataFrame) -> tuple[dict[int, Both], dict[int, str]]:
    """A rule set's legend as {level: its names} and {level: its colour}."""
    levels = legend["level"].astype(int).tolist()
    names = [Both(vi, en) for vi, en in zip(legend["name_vi"], legend["name_en"], strict=True)]
    return dict(zip(levels, names, strict=True)), dict(zip(levels, legend["hex"].astype(str), strict=True))


def _level(cfg: Config, as_of: dt.date, short: bool = False) -> tuple[Column, dict[int, str]]:
    names, colors = level_legend(cfg, as_of)
    if short:  # 'Cấp 1 – Nguy cơ thấp (vùng xanh)' → 'Cấp 1' for a narrow cell; the full names are on the risk page
        names = {level: Both(*map(short_level, name)) for level, name in names.items()}
    return Column("risk_level", "table.risk_level", "level", levels=names, help="risk_level"), colors


def ranked(
    table: pd.DataFrame,
    cfg: Config,
    as_of: dt.date,
    target: Target,
    metric: str = "coverage",
    compare: Both | None = None,
) -> Table:
    """Every district (not the province) ranked by `metric`, furthest behind first (by name for status).

    `table` is views.district_table for the target, with `compare_coverage` beside it when a comparison
    (named `compare`) is chosen. The district, its coverage, status and level come first; the chosen
    metric next, then the other figures.
    """
    chosen = METRICS[metric]
    units = table[table["unit_code"] != core.TOTAL]
    if metric != "status":
        units = units.sort_values(metric, ascending=not chosen.worse_when_higher, na_position="last", kind="stable")
    level, colors = _level(cfg, as_of)
    compared = [Column("compare_coverage", "compare.column", "percent", args={"label": compare}, bar=True)]
    figures = [m.column for m in METRICS.values() if m.column.id not in ("coverage", "status")]
    figures.sort(key=lambda c: c.id != metric)  # the chosen one first, the others in their order
    columns = (
        DISTRICT, METRICS["coverage"].column, *(compared if compare is not None else ()), STATUS, level, *figures,
    )  # fmt: skip
    return Table(
        "districts", "tables.ranked", columns, units.reset_index(drop=True), as_of=as_of,
        place=place(cfg), target=label(target),
        colors={"status": STATUS_COLORS, "risk_level": colors},
    )  # fmt: skip


def detail(tables: Mapping[str, pd.DataFrame], cfg: Config, as_of: dt.date, code: str) -> Table:
    """One district against every target, each on its own group and dose: `tables` holds
    views.district_table per target id."""
    rows = [tables[t.id].set_index("unit_code").loc[code] for t in cfg.targets]
    values = pd.DataFrame(rows).reset_index(drop=True)
    values.insert(0, "target", [label(t) for t in cfg.targets])
    name = str(rows[0]["unit_name"]) if rows else code
    columns = (
        Column("target", "control.target", pinned=True, width="medium"),  # a long label: not a phone's whole width
        Column("coverage", "table.coverage", "percent", help="coverage"),
        STATUS,
        Column("people_needed", "table.people_needed", "count", help="people_needed"),
        Column("pace_7d", "table.pace", "number", decimals=1, help="pace"),
        Column("required_daily", "table.required", "number", decimals=1, help="required"),
        Column("projected_date", "table.projected", "date", help="projected"),
    )
    return Table(
        "district", "tables.detail", columns, values, as_of=as_of, place=name, colors={"status": STATUS_COLORS}
    )


LAGGING = ("missed", "off_track", "at_risk")  # the statuses of a district behind, the furthest behind first


def lagging(table: pd.DataFrame, cfg: Config, as_of: dt.date, target: Target) -> Table:
    """The districts behind on the target (missed, off track, at risk; in that order, then by the people
    they still need, most first), with the change of their coverage over the last 7 days."""
    units = table[table["status"].isin(LAGGING) & (table["unit_code"] != core.TOTAL)]  # the province is on the card
    order = units["status"].map({s: i for i, s in enumerate(LAGGING)})
    units = units.assign(_order=order).sort_values(["_order", "people_needed"], ascending=[True, False])
    level, colors = _level(cfg, as_of)
    columns = (
        DISTRICT,
        STATUS,
        Column("people_needed", "table.people_needed", "count", help="people_needed"),
        Column("coverage", "table.coverage", "percent", help="coverage"),
        Column("coverage_change_7d", "lagging.change_7d", "percent", help="change_7d"),
        level,
        Column("required_daily", "table.required", "number", decimals=1, help="required"),
        Column("pace_7d", "table.pace", "number", decimals=1, help="pace"),
        Column("last_report_date", "table.last_report", "date", help="last_report"),
    )
    return Table(
        f"lagging_{target.id}", "tables.lagging", columns, units.drop(columns="_order").reset_index(drop=True),
        as_of=as_of, place=place(cfg), target=label(target), colors={"status": STATUS_COLORS, "risk_level": colors},
    )  # fmt: skip


def freshness(fresh: pd.DataFrame, cfg: Config, as_of: dt.date) -> Table:
    """Each district's last report on or before as_of (views.freshness), late ones highlighted."""
    columns = (
        DISTRICT,
        Column("last_report_date", "table.last_report", "date", help="last_report"),
        Column("days_since", "table.days_since", "count", help="last_report"),
        Column("stale", "export.late", "flag"),
    )
    return Table(
        "freshness", "tables.freshness", columns, fresh.reset_index(drop=True), as_of=as_of,
        place=place(cfg), highlight="stale",
    )  # fmt: skip


def briefing(table: pd.DataFrame, cfg: Config, as_of: dt.date, target: Target) -> Table:
    """The briefing's table: every district in the data's order, then the province; the status cell in the
    status colour and the level cell in the level's colour."""
    total = table["unit_code"] == core.TOTAL
    values = whole_named(pd.concat([table[~total], table[total]]), cfg)
    level, colors = _level(cfg, as_of, short=True)
    columns = (
        DISTRICT,
        Column("coverage", "table.coverage", "percent", help="coverage"),
        Column("gap_points", "table.gap", "number", decimals=1, help="gap"),
        Column("people_needed", "table.people_needed", "count", help="people_needed"),
        Column("pace_7d", "table.pace", "number", decimals=1, help="pace"),
        Column("required_daily", "table.required", "number", decimals=1, help="required"),
        STATUS,
        level,
    )
    return Table(
        "briefing", "tables.briefing", columns, values, as_of=as_of,
        place=place(cfg), target=label(target),
        colors={"status": STATUS_COLORS, "risk_level": colors},
    )  # fmt: skip
