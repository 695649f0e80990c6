"""Epidemic risk level per unit and for the province (Resolution 128/NQ-CP, Decision 4800/QĐ-BYT).

Rules as data (data/risk_rules.toml, docs/rules.md "Risk level"); pure pandas/numpy, vectorised:
- band from community cases in the `window_days` days ending on the as-of date per `per` population
  (0 = no case; edges compared exactly in integers);
- vaccine criterion met when every part is met: people(group, dose) * q >= p * population(group);
- level = levels_if_met[band] or levels_if_not_met[band]; +1 (up to the top level) for a unit listed
  in capacity_not_met.
The province (TOTAL) row is computed from province sums of cases, people and population, never a mean.
A coverage that is unavailable (core.people_at gives a reason) counts as criterion not met.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd

from tracker import config, core, rules_schema, tomlschema
from tracker.config import Config, fraction, read_toml
from tracker.errors import InputError

RULES_FILE = "risk_rules.toml"
TOTAL = core.TOTAL
LEVEL_COLUMNS = [
    "unit_code", "unit_name", "week_start", "week_end", "community_cases_7d", "incidence_per_100k",
    "adults_dose1_coverage", "age50plus_full_coverage", "vaccine_criterion_met", "level", "color",
]  # fmt: skip
_EPOCH = np.datetime64("1970-01-01", "D")


@dataclass(frozen=True)
class VaccinePart:
    id: str
    group: str
    dose: int
    threshold: Fraction
    label_vi: str = ""
    label_en: str = ""


@dataclass(frozen=True)
class Level:
    level: int
    color: str  # a name: green, yellow, orange, red
    hex: str
    name_vi: str
    name_en: str


@dataclass(frozen=True)
class RuleSet:
    valid_from: dt.date
    valid_to: dt.date | None
    source: str
    window_days: int
    per: int
    population_group: str
    band_edges: tuple[Fraction, ...]
    levels_if_met: tuple[int, ...]
    levels_if_not_met: tuple[int, ...]
    parts: tuple[VaccinePart, ...]
    levels: tuple[Level, ...]
    source_en: str = ""

    def applies(self, day: dt.date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)

    @property
    def top(self) -> int:
        return max(lv.level for lv in self.levels)

    def level(self, n: int) -> Level:
        return {lv.level: lv for lv in self.levels}[n]

    def legend(self) -> pd.DataFrame:
        """One row per level: level, color, hex, name_vi, name_en (for a map legend)."""
        return pd.DataFrame([vars(lv) for lv in sorted(self.levels, key=lambda lv: lv.level)])


@dataclass(frozen=True)
class Rules:
    rulesets: tuple[RuleSet, ...]
    capacity_not_met: tuple[str, ...] = ()
    path: Path | None = None

    def for_date(self, day) -> RuleSet:
        """The rule set in force on `day`: of those whose range holds it, the latest valid_from."""
        day = pd.Timestamp(day).date()
        found = [rs for rs in self.rulesets if rs.applies(day)]
        if not found:
            spans = "; ".join(f"{rs.valid_from} to {rs.valid_to or 'now'}" for rs in self.rulesets)
            raise InputError(f"no risk rule set applies to {day.isoformat()} (rule sets: {spans})")
        return max(found, key=lambda rs: rs.valid_from)


# --------------------------------------------------------------------------- loading


def _ruleset(rs: rules_schema.RuleSet, where: str, path: Path) -> RuleSet:
    """One [[ruleset]] whose keys rules_schema has checked: the checks between them, then the RuleSet."""

    def refuse(key: str, expected: str, got: object) -> InputError:
        return tomlschema.error(path, f"{where}.{key}", expected, got)

    if rs.band_edges != sorted(set(rs.band_edges)) or not all(map(math.isfinite, rs.band_edges)):
        raise refuse("band_edges", "finite numbers in strictly increasing order", rs.band_edges)
    edges = tuple(fraction(e, "band_edges") for e in rs.band_edges)
    known = [lv.level for lv in rs.level]
    if i := tomlschema.repeat(known):
        raise refuse(f"level[{i}].level", "a level no other [[ruleset.level]] has", known[i - 1])
    n_bands = len(edges) + 2  # band 0 (no case), band 1 (under the first edge), one more per edge
    for key in ("levels_if_met", "levels_if_not_met"):
        values = getattr(rs, key)
        if len(values) != n_bands:
            raise refuse(key, f"{n_bands} levels: one for no case, one under the first band edge, one per edge", values)
        for i, n in enumerate(values, start=1):
            if n not in known:
                raise refuse(f"{key}[{i}]", f"a [[ruleset.level]] level, {tomlschema.one_of(map(str, known))}", n)
    if rs.valid_to is not None and rs.valid_to < rs.valid_from:
        raise refuse("valid_to", f"a date on or after valid_from ({rs.valid_from})", rs.valid_to)
    return RuleSet(
        valid_from=rs.valid_from,
        valid_to=rs.valid_to,
        source=rs.source,
        source_en=rs.source_en,
        window_days=rs.window_days,
        per=rs.per,
        population_group=rs.population_group,
        band_edges=edges,
        levels_if_met=tuple(rs.levels_if_met),
        levels_if_not_met=tuple(rs.levels_if_not_met),
        parts=tuple(
            VaccinePart(p.id, p.group, p.dose, fraction(p.threshold, "threshold"), p.label_vi, p.label_en)
            for p in rs.vaccine_part
        ),
        levels=tuple(Level(lv.level, lv.color, lv.hex, lv.name_vi, lv.name_en) for lv in rs.level),
    )


def load_rules(path: Path | str | None = None, data_dir: Path | None = None) -> Rules:
    """Read the risk rules (default: risk_rules.toml of the dataset's folder, see config.data_dir)."""
    path = Path(path) if path else config.data_dir(data_dir) / RULES_FILE
    raw = tomlschema.load(read_toml(path), rules_schema.RulesFile, path)
    rulesets = tuple(_ruleset(rs, f"ruleset[{i}]", path) for i, rs in enumerate(raw.ruleset, start=1))
    if i := tomlschema.repeat(rs.valid_from for rs in rulesets):
        day = rulesets[i - 1].valid_from
        raise tomlschema.error(path, f"ruleset[{i}].valid_from", "a date no other [[ruleset]] starts on", day)
    return Rules(rulesets=rulesets, capacity_not_met=tuple(raw.capacity_not_met), path=path)


# --------------------------------------------------------------------------- the rules, vectorised


def band(cases, population, rs: RuleSet) -> np.ndarray:
    """Incidence band per (cases, population): 0 with no case, else 1 + the number of edges reached.

    cases * per >= edge * population, in integers (edge = p/q: cases * per * q >= p * population).
    """
    cases = np.asarray(cases, dtype=np.int64)
    population = np.asarray(population, dtype=np.int64)
    out = np.where(cases > 0, 1, 0)
    for edge in rs.band_edges:
        out = out + ((cases > 0) & (cases * rs.per * edge.denominator >= edge.numerator * population))
    return out.astype(np.int64)


def level_of(bands, met, rs: RuleSet, capacity_not_met=None) -> np.ndarray:
    """Level per (band, criterion met), raised by one (up to the top) where capacity is not met."""
    bands = np.asarray(bands, dtype=np.int64)
    out = np.where(np.asarray(met, dtype=bool), np.take(rs.levels_if_met, bands), np.take(rs.levels_if_not_met, bands))
    if capacity_not_met is not None:
        out = np.minimum(out + np.asarray(capacity_not_met, dtype=bool), rs.top)
    return out.astype(np.int64)


def _days(dates) -> np.ndarray:
    return (pd.DatetimeIndex(dates).to_numpy().astype("datetime64[D]") - _EPOCH).astype(np.int64)


def _positions(codes: pd.Index, column: pd.Series) -> np.ndarray:
    """The position in `codes` of each row's unit code (-1 when it is not there).

    A categorical column (the store's) is matched per category, not per row: the case reports are
    units × days long, the categories only units long.
    """
    if isinstance(column.dtype, pd.CategoricalDtype):
        per_category = np.append(codes.get_indexer(column.cat.categories.astype(str)), -1)
        return per_category[column.cat.codes.to_numpy()]  # code -1 (a missing value): the appended -1
    return codes.get_indexer(column.astype(str))


def _cases_7d(ds, dates: pd.DatetimeIndex, window: int) -> np.ndarray:
    """Community cases in (d - window, d] per date (rows) and unit (columns, ds.units order).

    Only the days some window covers count: summed per unit and day into a grid (units × those days,
    no sort), then cumulated along the days; a window's sum is the difference of two cumulated columns.
    """
    codes = pd.Index(ds.units["unit_code"].astype(str))
    days = _days(dates)
    if not len(days):
        return np.zeros((0, len(codes)), dtype=np.int64)
    first, last = days.min() - window + 1, days.max()  # the days some window covers
    span = last - first + 1
    c = ds.cases
    pos = _positions(codes, c["unit_code"])
    day = _days(c["date"])
    keep = (pos >= 0) & (day >= first) & (day <= last)
    cell = pos[keep].astype(np.int64) * span + (day[keep] - first)
    grid = np.zeros(len(codes) * span, dtype=np.int64)
    np.add.at(grid, cell, c["community_cases"].to_numpy(np.int64)[keep])
    cum = np.zeros((len(codes), span + 1), dtype=np.int64)  # cum[u, k]: unit u's cases on days first .. first + k - 1
    np.cumsum(grid.reshape(len(codes), span), axis=1, out=cum[:, 1:])
    return (cum[:, days - first + 1] - cum[:, days - window - first + 1]).T


def _check_capacity(ds, rules: Rules) -> None:
    known = set(ds.units["unit_code"].astype(str)) | {TOTAL}
    unknown = sorted(set(rules.capacity_not_met) - known)
    if unknown:
        where = f"{rules.path}: " if rules.path else ""
        raise InputError(f"{where}capacity_not_met names unknown unit(s): {', '.join(unknown)}")


def _compute(ds, cfg: Config, rules: Rules, rs: RuleSet, dates: pd.DatetimeIndex) -> pd.DataFrame:
    """Every figure for the units then TOTAL, per date (date-major), with people and population."""
    codes = ds.units["unit_code"].astype(str).to_numpy()
    names = ds.units["unit_name"].astype(str).to_numpy()
    n_dates, n = len(dates), len(codes) + 1
    all_codes = np.append(codes, TOTAL)
    pop = core.group_population(ds, cfg, rs.population_group)
    pop = np.append(pop, pop.sum())
    cases = _cases_7d(ds, dates, rs.window_days)
    cases = np.hstack([cases, cases.sum(axis=1, keepdims=True)])
    out = {
        "unit_code": np.tile(all_codes, n_dates),
        "unit_name": np.tile(np.append(names, cfg.province_name_vi), n_dates),
        "week_start": np.repeat(dates - pd.Timedelta(days=rs.window_days - 1), n),
        "week_end": np.repeat(dates, n),
        "community_cases_7d": cases.ravel(),
        "population": np.tile(pop, n_dates),
    }
    out["incidence_per_100k"] = out["community_cases_7d"] * 100_000 / out["population"]
    met = np.ones(n_dates * n, dtype=bool)
    for part in rs.parts:
        ppop = core.group_population(ds, cfg, part.group)
        ppop = np.append(ppop, ppop.sum())
        at = core.people_at(ds, cfg, part.group, part.dose, dates)["people"].unstack("date")
        people = at.reindex(index=codes, columns=dates).to_numpy().T  # dates × units
        total = np.where(np.isnan(people).any(axis=1), np.nan, np.nan_to_num(people).sum(axis=1))
        people = np.hstack([people, total[:, None]]).ravel()
        available = ~np.isnan(people)
        whole = np.nan_to_num(people).astype(np.int64)
        popr = np.tile(ppop, n_dates)
        p, q = part.threshold.numerator, part.threshold.denominator
        part_met = available & (whole * q >= p * popr)
        out[f"{part.id}_coverage"] = people / popr
        out[f"{part.id}_people"] = people
        out[f"{part.id}_population"] = popr
        out[f"{part.id}_met"] = part_met
        met &= part_met
    out["vaccine_criterion_met"] = met
    out["band"] = band(out["community_cases_7d"], out["population"], rs)
    flagged = np.isin(out["unit_code"], list(rules.capacity_not_met))
    out["capacity_not_met"] = flagged
    out["level"] = level_of(out["band"], met, rs, flagged)
    colors = {lv.level: lv.color for lv in rs.levels}
    out["color"] = pd.Series(out["level"]).map(colors).to_numpy()
    return pd.DataFrame(out)


def _frame(ds, cfg: Config, rules: Rules, dates) -> pd.DataFrame:
    _check_capacity(ds, rules)
    dates = pd.DatetimeIndex(pd.to_datetime(list(dates))).normalize()
    by_set: dict[int, list] = {}
    for d in dates:
        rs = rules.for_date(d)
        by_set.setdefault(rules.rulesets.index(rs), []).append(d)
    parts = [_compute(ds, cfg, rules, rules.rulesets[i], pd.DatetimeIndex(ds_)) for i, ds_ in by_set.items()]
    return pd.concat(parts, ignore_index=True)


def _columns(frame: pd.DataFrame) -> list[str]:
    """LEVEL_COLUMNS, with the rule set's own coverage columns (one per vaccine part) in their place."""
    coverage = [c for c in frame if c.endswith("_coverage")]
    return [*LEVEL_COLUMNS[:6], *coverage, *LEVEL_COLUMNS[8:]]


def _int_or_na(values, keep) -> pd.Series:
    return pd.Series(np.asarray(values, dtype=np.int64), dtype="Int64").mask(~np.asarray(keep, dtype=bool))


def levels(ds, cfg: Config, rules: Rules, as_of) -> pd.DataFrame:
    """The risk level per unit, then TOTAL for the province, on `as_of`: exactly LEVEL_COLUMNS."""
    return _levels(_frame(ds, cfg, rules, [as_of]))


def _levels(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[_columns(frame)].reset_index(drop=True)


def weekly(ds, cfg: Config, rules: Rules, start, end) -> pd.DataFrame:
    """The weekly history: one row per unit (TOTAL last) × week ending on end, end − 7, … (≥ start).

    Weeks ascending within each unit; columns as `levels`. Each week uses the rule set in force on its end.
    """
    start, end = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
    if start > end:
        raise InputError(f"start {start.date()} is after end {end.date()}")
    dates = pd.date_range(end=end, periods=(end - start).days // 7 + 1, freq="7D")
    frame = _frame(ds, cfg, rules, dates)
    order = {code: i for i, code in enumerate([*ds.units["unit_code"].astype(str), TOTAL])}
    frame = frame.assign(_u=frame["unit_code"].map(order)).sort_values(["_u", "week_end"], kind="stable")
    cols = _columns(frame)
    return frame[cols].reset_index(drop=True)


def green_streak(history: pd.DataFrame, unit: str = TOTAL) -> int:
    """Consecutive weeks at level 1 ("vùng xanh") of `unit` (default the province), counted back from its
    last week in `history` (as `weekly` returns it); 0 when the last week is not at level 1."""
    levels = history.loc[history["unit_code"] == unit].sort_values("week_end")["level"].astype("Float64")
    below = np.flatnonzero(levels.to_numpy(float, na_value=np.nan)[::-1] != 1)  # no figure (NA) breaks it too
    return int(below[0]) if len(below) else len(levels)


def what_would_lower(ds, cfg: Config, rules: Rules, as_of) -> pd.DataFrame:
    """Per unit (TOTAL last): what would bring the band and the vaccine criterion down.

    Columns: unit_code, unit_name, level, color, band, community_cases_7d, population,
    max_cases_next_7d (the most community cases in the next window that keep the incidence under the
    lower edge of the current band: for band 1 that is 0; empty for band 0), level_if_lower_band,
    then per vaccine part <id>_people_needed (max(0, ceil(threshold × population) − people), exact;
    empty when unavailable), and level_if_criterion_met.
    """
    rs = rules.for_date(as_of)
    return _lower(_frame(ds, cfg, rules, [as_of]), rs)


def levels_and_lower(ds, cfg: Config, rules: Rules, as_of) -> tuple[pd.DataFrame, pd.DataFrame]:
    """`levels` and `what_would_lower` on `as_of`, from one computation of the day's figures (the risk
    page shows both)."""
    rs = rules.for_date(as_of)
    f = _frame(ds, cfg, rules, [as_of])
    return _levels(f), _lower(f, rs)


def _lower(f: pd.DataFrame, rs: RuleSet) -> pd.DataFrame:
    """what_would_lower from the day's figures `f` (one date: units then TOTAL) under the rule set `rs`."""
    b = f["band"].to_numpy(np.int64)
    pop = f["population"].to_numpy(np.int64)
    # lower edge of band b (b >= 2) is band_edges[b - 2] = p/q: most cases c with c * per * q < p * pop
    edges = [Fraction(0), Fraction(0), *rs.band_edges]
    p = np.array([e.numerator for e in edges], dtype=np.int64)[b]
    q = np.array([e.denominator for e in edges], dtype=np.int64)[b]
    max_cases = core.ceil_div(p * pop, rs.per * q) - 1
    max_cases = np.where(b == 1, 0, max_cases)
    out = pd.DataFrame(
        {
            "unit_code": f["unit_code"],
            "unit_name": f["unit_name"],
            "level": f["level"],
            "color": f["color"],
            "band": b,
            "community_cases_7d": f["community_cases_7d"],
            "population": pop,
            "max_cases_next_7d": _int_or_na(np.where(b > 0, max_cases, 0), b > 0),
            "level_if_lower_band": _int_or_na(
                level_of(np.maximum(b - 1, 0), f["vaccine_criterion_met"], rs, f["capacity_not_met"]), b > 0
            ),
        }
    )
    for part in rs.parts:
        people = f[f"{part.id}_people"]
        ppop = f[f"{part.id}_population"].to_numpy(np.int64)
        need = np.maximum(
            0,
            core.ceil_div(ppop * part.threshold.numerator, part.threshold.denominator)
            - people.fillna(0).to_numpy(np.int64),
        )
        out[f"{part.id}_people_needed"] = _int_or_na(need, people.notna())
    out["level_if_criterion_met"] = level_of(b, np.ones(len(b), dtype=bool), rs, f["capacity_not_met"])
    return out
