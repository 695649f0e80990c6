"""risk_rules.toml as it may be written: every key, its type, default and bounds (docs/rules.md "Risk level").

tracker.risk.load_rules reads the file into these with tracker.tomlschema (which says what is wrong,
where), then checks what lies between keys: edges increasing, one level per band, known levels.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from msgspec import Meta

from tracker.tomlschema import Dose, Positive, Share, Table

Edge = Annotated[float, Meta(gt=0, description="a number above 0")]
Levels = Annotated[list[int], Meta(description="a list of levels, one per incidence band, e.g. [1, 1, 2, 3, 4]")]


class VaccinePart(Table):
    id: str
    group: str
    dose: Dose
    threshold: Share
    label_vi: str = ""
    label_en: str = ""


class Level(Table):
    level: int
    color: str
    hex: Annotated[str, Meta(pattern="^#[0-9A-Fa-f]{6}$", description="a colour like #00A651")]
    name_vi: str
    name_en: str


class RuleSet(Table, kw_only=True):
    valid_from: dt.date
    valid_to: dt.date | None = None  # still in force
    source: str
    source_en: str = ""
    window_days: Positive = 7
    per: Positive = 100_000
    population_group: str = "all"
    band_edges: Annotated[list[Edge], Meta(min_length=1, description="a list of numbers above 0, e.g. [20, 50, 150]")]
    levels_if_met: Levels
    levels_if_not_met: Levels
    vaccine_part: list[VaccinePart]
    level: Annotated[list[Level], Meta(min_length=1)]


class RulesFile(Table, kw_only=True):
    capacity_not_met: Annotated[list[str], Meta(description='a list of unit codes, e.g. ["070"]')] = []
    ruleset: Annotated[list[RuleSet], Meta(min_length=1)]
