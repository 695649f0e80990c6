"""The figures on arrays: people per unit and date, the group's population, each target judged. numpy only.

`tracker report` computes with these directly, so that it starts without pandas and pyarrow (a third of its
time at country scale: docs/performance.md); tracker.core lays the same arrays out as the frames the dashboard,
the exports and the briefings use. One implementation of every rule, docs/rules.md:

- people(unit, group, dose, t) is the sum, over the reports that partition the group exactly, of each report's
  last cumulative value on or before t (a missing day carries the last value forward; it is never zero). Bands
  of the group no report covers count as 0 (nobody reported vaccinated yet). A report for a whole group that
  straddles the asked group, or reports that overlap, make the figure unavailable, with the reason, instead of
  silently wrong.
- The province figure is sum(people) / sum(population), never a mean of percentages.
- Target figures are exact integer arithmetic (⌈threshold × population⌉, pace against the days left).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from tracker.config import Config, Target
from tracker.errors import DataError

TOTAL = "TOTAL"
STATUSES = ("met", "on_track", "at_risk", "off_track", "missed", "unavailable")
EPOCH = dt.date(1970, 1, 1)
_LAST_DATE = dt.date(9999, 12, 31)
# evaluate's columns, in order: tracker.core.evaluate's frame; `tracker report` writes the first 16 (its contract,
# tracker.cli.output.REPORT_COLUMNS)
COLUMNS = (
    "unit_code", "unit_name", "target_id", "group", "dose", "people", "population", "coverage", "threshold",
    "deadline", "people_needed", "days_left", "pace_7d", "required_daily", "projected_date", "status",
    "coverage_at_deadline", "reason",
)  # fmt: skip


def ceil_div(num: np.ndarray, den) -> np.ndarray:
    """⌈num / den⌉ in integers, exactly (no float rounding): how many people make a threshold."""
    return -((-num) // den)


def group_population(
    codes: Sequence[str], pop_units: Sequence[str], pop_bands: Sequence[str], pop_values, cfg: Config, group: str
) -> np.ndarray:
    """Population of the group per unit (in the order of ``codes``), from the population table's columns; a
    unit without it, or with none, is a DataError naming the units and bands."""
    g = cfg.group(group)
    codes = np.asarray(codes, dtype=object).astype(str)
    ui, bj = _places(pop_units, codes), _places(pop_bands, np.asarray(g.bands, dtype=str))
    keep = (ui >= 0) & (bj >= 0)
    table = np.zeros((len(codes), len(g.bands)), dtype=np.int64)
    present = np.zeros(table.shape, dtype=bool)
    np.add.at(table, (ui[keep], bj[keep]), np.asarray(pop_values, dtype=np.int64)[keep])
    present[ui[keep], bj[keep]] = True
    total = table.sum(axis=1)
    bad = (~present).any(axis=1) | (total <= 0)
    if bad.any():
        problems = [
            f"{codes[i]} has no population for band(s) {', '.join(np.asarray(g.bands)[~present[i]])}"
            if not present[i].all()
            else f"{codes[i]} has zero population"
            for i in np.flatnonzero(bad)  # only the units in error
        ]
        raise DataError(f"population missing or zero for group {g.id!r}: " + "; ".join(problems))
    return total


def _places(values, universe: np.ndarray) -> np.ndarray:
    """Each value's place in ``universe`` (distinct texts), -1 for a value not there."""
    values = np.asarray(values, dtype=object).astype(str)
    if len(universe) == 0:
        return np.full(len(values), -1, dtype=np.int64)
    order = np.argsort(universe, kind="stable")
    at = np.minimum(np.searchsorted(universe, values, sorter=order), len(universe) - 1)
    place = order[at]
    return np.where(universe[place] == values, place, -1).astype(np.int64)


class People(NamedTuple):
    """people(unit, group, dose, t) for each unit and date asked, flat in unit-major order (unit × dates + date)."""

    people: np.ndarray  # float; NaN where unavailable
    last: np.ndarray  # the day (since 1970) of the latest report counted; -1 when the unit never reported
    reason: np.ndarray  # why unavailable, in words ("" when available)
    kind: np.ndarray  # "overlap", "straddle" or ""
    labels: np.ndarray  # the labels of the reports at fault, comma-separated ("" when available)


def people_at(reports, codes: Sequence[str], cfg: Config, group: str, dose: int, dates) -> People:
    """People vaccinated with ``dose`` in ``group``, per unit (``codes``) and date, from ``reports``
    (tracker.reports.Reports)."""
    g = cfg.group(group)
    gmask = sum(1 << cfg.bands.index(b) for b in g.bands)
    units = np.asarray(codes, dtype=object).astype(str)
    n_units, n_dates = len(units), len(dates)
    size = n_units * n_dates
    people = np.zeros(size)
    last = np.full(size, -1, dtype=np.int64)
    reasons = np.full(size, "", dtype=object)
    kinds = labels = reasons
    # a label sharing no band with the group counts for nothing in it (nor does one no longer configured)
    asked = [lb for lb in cfg.labels if cfg.label_mask(lb) & gmask]
    inside = [cfg.label_mask(lb) for lb in asked if cfg.label_mask(lb) & ~gmask == 0]
    # which checks can find anything: two labels inside the group sharing a band; a label across its edge
    can_overlap = any(a & b for i, a in enumerate(inside) for b in inside[i + 1 :])
    can_straddle = len(inside) < len(asked)
    found = reports.last_values(dose, dates, units, cfg.labels, only=asked) if n_dates else None
    if found is not None and not found.empty:
        unit_of = found.unit
        if (unit_of < 0).any():
            missing = reports.unknown_units(units)
            raise DataError(f"vaccination reports for units missing from the units table: {', '.join(missing)}")
        label_codes = found.label
        masks = np.array([cfg.label_mask(lb) for lb in cfg.labels], dtype=np.int64)[label_codes]
        key = unit_of * n_dates + found.at
        subset = (masks & ~gmask == 0) & (masks != 0)
        straddle = (masks & gmask != 0) & ~subset
        people = np.bincount(key, weights=np.where(subset, found.people, 0), minlength=size).astype(float)
        np.maximum.at(last, key[subset], found.last[subset])
        overlap = np.zeros(size, dtype=bool)
        for bit in range(len(cfg.bands)) if can_overlap else ():
            if gmask >> bit & 1:
                overlap |= np.bincount(key, weights=subset & ((masks >> bit) & 1).astype(bool), minlength=size) > 1
        straddled = np.bincount(key, weights=straddle, minlength=size) > 0 if can_straddle else np.zeros(size, bool)
        bad = overlap | straddled
        if bad.any():
            kinds, labels = _reasons(bad, straddled, key, label_codes, cfg.labels, subset, straddle)
            reasons = np.where(
                kinds == "straddle",
                "reported as " + labels + f" as a whole, which does not split into {g.id}",
                np.where(kinds == "overlap", "overlapping reports (" + labels + f") for {g.id}", ""),
            )
            people = np.where(bad, np.nan, people)
    return People(people, last, reasons, kinds, labels)


def _reasons(bad, straddled, key, label_codes, label_names, subset, straddle) -> tuple[np.ndarray, np.ndarray]:
    """Why each unavailable cell is unavailable: "overlap" or "straddle", and the reports at fault (their
    labels, in alphabetical order, comma-separated). A pass per configured label, over the faulty reports."""
    kinds = np.where(bad, np.where(straddled, "straddle", "overlap"), "").astype(object)
    named = np.full(len(bad), "", dtype=object)
    rows = np.flatnonzero(bad[key] & np.where(straddled[key], straddle, subset))
    cells, codes = key[rows], label_codes[rows]
    for code in sorted(set(codes.tolist()), key=lambda c: label_names[c]):
        at = np.unique(cells[codes == code])
        name = label_names[code]
        named[at] = np.where(named[at] == "", name, named[at] + ", " + name)
    return kinds, named


def coverage(reports, codes, names, population, cfg: Config, as_of: dt.date, group: str, dose: int) -> dict:
    """Coverage of (group, dose) per unit on as_of, then the province (TOTAL), as columns: unit_code, unit_name,
    people (NaN when unavailable), population, coverage (not capped), last_report_date (datetime64[D], NaT when
    the unit never reported), over_100, reason. ``population``: as for evaluate."""
    pop = group_population(codes, *population, cfg, group)
    at = people_at(reports, codes, cfg, group, dose, [as_of])
    seen = at.last >= 0
    last = np.where(seen, at.last, 0).astype("datetime64[D]")
    last[~seen] = np.datetime64("NaT", "D")
    unavailable = np.asarray(codes, dtype=object)[np.isnan(at.people)]
    people = _with_total(at.people)
    population_all = np.append(pop, pop.sum())
    columns = {
        "unit_code": np.append(np.asarray(codes, dtype=object), TOTAL),
        "unit_name": np.append(np.asarray(names, dtype=object), cfg.province_name_vi),
        "people": people,
        "population": population_all,
        "coverage": people / population_all,
        "last_report_date": np.append(last, last[seen].max() if seen.any() else np.datetime64("NaT", "D")),
    }
    columns["over_100"] = columns["coverage"] > 1
    columns["reason"] = np.append(at.reason, f"unavailable for {', '.join(unavailable)}" if len(unavailable) else "")
    return columns


def evaluate(reports, codes, names, population, cfg: Config, as_of: dt.date, targets=None) -> dict[str, np.ndarray]:
    """Each target for each unit and the province (TOTAL rows last), as columns (COLUMNS): dates as
    numpy datetime64[D] (NaT for none), counts that may be unavailable as floats (NaN). ``population``: the
    population table's unit codes, age bands and counts. See docs/rules.md."""
    week_before = as_of - dt.timedelta(days=7)
    codes = [str(c) for c in codes]
    targets = targets or cfg.targets
    # one question to the reports per dose: every date any target of that dose needs
    dates: dict[int, set] = {t.dose: set() for t in targets}
    for t in targets:
        dates[t.dose] |= {as_of, week_before, t.deadline}
    parts = []
    for target in targets:
        pop = group_population(codes, *population, cfg, target.group)
        asked = sorted(dates[target.dose])
        at = people_at(reports, codes, cfg, target.group, target.dose, asked)
        grid = at.people.reshape(len(codes), len(asked))
        now, before, deadline = (grid[:, asked.index(d)] for d in (as_of, week_before, target.deadline))
        reason = at.reason.reshape(len(codes), len(asked))[:, asked.index(as_of)]
        unavailable = np.asarray(codes, dtype=object)[np.isnan(now)]
        total_reason = f"unavailable for {', '.join(unavailable)}" if len(unavailable) else ""
        parts.append(
            _judge(
                unit_code=np.append(np.asarray(codes, dtype=object), TOTAL),
                unit_name=np.append(np.asarray(names, dtype=object), cfg.province_name_vi),
                people=_with_total(now),
                people_week_before=_with_total(before),
                people_deadline=_with_total(deadline),
                population=np.append(pop, pop.sum()),
                reason=np.append(reason, total_reason).astype(object),
                target=target,
                as_of=as_of,
                cfg=cfg,
            )
        )
    columns = {c: np.concatenate([p[c] for p in parts]) for c in COLUMNS}
    is_total = columns["unit_code"] == TOTAL
    order = np.concatenate([np.flatnonzero(~is_total), np.flatnonzero(is_total)])  # units first, in target order
    return {c: v[order] for c, v in columns.items()}


def _with_total(people: np.ndarray) -> np.ndarray:
    """The units' people and the province's after them: their sum, unavailable (NaN) when any unit's is."""
    return np.append(people, people.sum() if not np.isnan(people).any() else np.nan)


def _judge(*, unit_code, unit_name, people, people_week_before, people_deadline, population, reason, target: Target,
           as_of: dt.date, cfg: Config) -> dict[str, np.ndarray]:  # fmt: skip
    """The target's columns for per-unit people and population, with exact integer arithmetic."""
    n = len(unit_code)
    p, q = target.threshold.numerator, target.threshold.denominator
    population = population.astype(np.int64)
    available = ~np.isnan(people)
    counted = np.where(available, people, 0).astype(np.int64)
    needed_total = ceil_div(population * p, q)  # ceil(threshold × population), exact
    needed = np.maximum(0, needed_total - counted)
    days_left = (target.deadline - as_of).days
    gained_7d = counted - np.nan_to_num(people_week_before, nan=0).astype(np.int64)
    pace = gained_7d / 7
    required = needed / days_left if days_left > 0 else np.full(n, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        steps = np.where((needed > 0) & (gained_7d > 0), ceil_div(needed * 7, np.maximum(gained_7d, 1)), -1)
    # beyond the last representable date (a pace of a few people a day) there is no projection
    steps = np.where(steps > (_LAST_DATE - as_of).days, -1, steps)
    start = (as_of - EPOCH).days
    projected = np.where(
        (steps >= 0) & available, (start + np.maximum(steps, 0)).astype("datetime64[D]"), np.datetime64("NaT", "D")
    )

    if as_of >= target.deadline:
        reached = np.nan_to_num(people_deadline, nan=-1).astype(np.int64) >= needed_total
        status = np.where(reached, "met", "missed")
    else:
        ratio = cfg.at_risk_ratio
        # pace >= required  <=>  gained_7d * days_left >= 7 * needed  (all integers)
        on_track = gained_7d * days_left >= 7 * needed
        at_risk = gained_7d * days_left * ratio.denominator >= 7 * needed * ratio.numerator
        status = np.select([needed == 0, on_track, at_risk], ["met", "on_track", "at_risk"], "off_track")
    status = np.where(available, status, "unavailable").astype(object)

    return {
        "unit_code": unit_code,
        "unit_name": unit_name,
        "target_id": np.full(n, target.id, dtype=object),
        "group": np.full(n, target.group, dtype=object),
        "dose": np.full(n, target.dose, dtype=np.int64),
        "people": people,
        "population": population,
        "coverage": people / population,
        "threshold": np.full(n, float(target.threshold)),
        "deadline": np.full(n, np.datetime64(target.deadline, "D")),
        "people_needed": np.where(available, needed, np.nan),
        "days_left": np.full(n, days_left, dtype=np.int64),
        "pace_7d": np.where(available & ~np.isnan(people_week_before), pace, np.nan),
        "required_daily": np.where(available, required, np.nan),
        "projected_date": projected,
        "status": status,
        "coverage_at_deadline": people_deadline / population if as_of >= target.deadline else np.full(n, np.nan),
        "reason": reason,
    }
