"""The risk page's tables: the inputs and level per district, and what would lower each level, built from
tracker.risk's figures as Tables (tracker.tables.spec), with the rule set in force naming the levels."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from tracker import core
from tracker.config import Config
from tracker.i18n import Both
from tracker.risk import RuleSet
from tracker.tables.districts import DISTRICT, legend_maps, place, whole_named
from tracker.tables.spec import Column, Table


def part_label(part) -> Both:
    return Both(part.label_vi or part.id, part.label_en or part.label_vi or part.id)


def _source(rs: RuleSet) -> Both:
    return Both(rs.source, rs.source_en or rs.source)


def inputs(levels: pd.DataFrame, cfg: Config, rs: RuleSet, as_of: dt.date) -> Table:
    """Per district, then the province (risk.levels): the 7-day cases and incidence, each vaccine part's
    coverage, whether the vaccine criterion is met, and the level."""
    names, colors = legend_maps(rs.legend())
    level = Column("level", "risk.level", "level", levels=names, help="risk_level")
    columns = (
        DISTRICT,
        level,
        Column("community_cases_7d", "risk.cases_7d", "count", help="cases_7d"),
        Column("incidence_per_100k", "risk.incidence", "number", decimals=1, help="incidence"),
        *(
            Column(f"{p.id}_coverage", "tables.part", "percent", args={"part": part_label(p)}, help="coverage")
            for p in rs.parts
        ),
        Column("vaccine_criterion_met", "risk.criterion_met", "flag", terms="risk."),
    )
    return Table(
        "risk_levels", "tables.risk_levels", columns, whole_named(levels, cfg), as_of=as_of,
        place=place(cfg), source=_source(rs), colors={"level": colors},
    )  # fmt: skip


def lower(frame: pd.DataFrame, cfg: Config, rs: RuleSet, as_of: dt.date) -> Table:
    """Per district (risk.lower): the level, the most cases in the next 7 days that would lower the
    incidence band (none with no case), the level then, the people each vaccine part still needs,
    and the level with the vaccine criterion met."""
    names, colors = legend_maps(rs.legend())
    units = frame[frame["unit_code"] != core.TOTAL].reset_index(drop=True)
    columns = (
        DISTRICT,
        Column("level", "risk.level", "level", levels=names, help="risk_level"),
        Column("max_cases_next_7d", "risk.max_cases", "count", missing="risk.no_case", help="max_cases"),
        Column("level_if_lower_band", "risk.level_if_lower_band", "level", levels=names, help="risk_level"),
        *(
            Column(
                f"{p.id}_people_needed",
                "risk.people_needed",
                "count",
                args={"part": part_label(p)},
                help="people_needed",
            )
            for p in rs.parts
        ),
        Column("level_if_criterion_met", "risk.level_if_criterion_met", "level", levels=names, help="risk_level"),
    )
    return Table(
        "risk_lower", "tables.risk_lower", columns, units, as_of=as_of, place=place(cfg), source=_source(rs),
        colors={"level": colors},
    )  # fmt: skip
