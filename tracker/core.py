"""The figures: coverage, pace, target evaluation and incidence. Pure pandas/numpy, vectorised.

Rules (docs/rules.md explains each with examples):
- people(unit, group, dose, t) is the sum, over the reports that partition the group exactly,
  of each report's last cumulative value on or before t (a missing day carries the last value
  forward; it is never zero). Bands of the group no report covers count as 0 (nobody reported
  vaccinated yet). A report for a whole group that straddles the asked group, or reports that
  overlap, make the figure unavailable, with the reason, instead of silently wrong.
- The province figure is sum(people) / sum(population), never a mean of percentages.
- Coverage is not capped: above 1 it is shown and flagged.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from tracker.config import Config, Target
from tracker.errors import DataError

TOTAL = "TOTAL"
STATUSES = ("met", "on_track", "at_risk", "off_track", "missed", "unavailable")
_EPOCH = np.datetime64("1970-01-01", "D")
_LAST_DATE = dt.date(9999, 12, 31)


def _days(value) -> int:
    return int((np.datetime64(pd.Timestamp(value).date(), "D") - _EPOCH).astype(np.int64))


def _date(days) -> dt.date | None:
    if days is None or pd.isna(days):
        return None
    return (_EPOCH + np.timedelta64(int(days), "D")).astype(object)


def group_population(ds, cfg: Config, group: str) -> np.ndarray:
    """Population of the group per unit (ds.units order); a unit without it is a DataError."""
    g = cfg.group(group)
    units = ds.units["unit_code"].astype(str)
    pop = ds.population[ds.population["age_band"].astype(str).isin(g.bands)]
    table = pop.pivot_table(
        index=pop["unit_code"].astype(str), columns=pop["age_band"].astype(str), values="population", aggfunc="sum"
    )
    table = table.reindex(index=units, columns=list(g.bands))
    absent = table.isna()
    bad = absent.any(axis=1) | (table.sum(axis=1) <= 0)
    if bad.any():
        problems = [
            f"{code} has no population for band(s) {', '.join(absent.columns[absent.loc[code]])}"
            if absent.loc[code].any()
            else f"{code} has zero population"
            for code in table.index[bad]  # only the units in error
        ]
        raise DataError(f"population missing or zero for group {g.id!r}: " + "; ".join(problems))
    return table.sum(axis=1).to_numpy(np.int64)


def people_at(ds, cfg: Config, group: str, dose: int, dates) -> pd.DataFrame:
    """People vaccinated with `dose` in `group`, per unit and date.

    Returns a frame indexed by (unit_code, date) with columns people (float; NaN when
    unavailable), last_report_date (NaT when the unit never reported), reason (text, or "").
    """
    return _people_at(ds, cfg, group, dose, dates, why=False)[0]


def _people_at(ds, cfg: Config, group: str, dose: int, dates, why: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
    """people_at, and why each unavailable figure is unavailable (kind and labels, see unavailable()); with
    why=False the second frame is left empty (a trend chart's millions of cells need no reasons)."""
    g = cfg.group(group)
    gmask = sum(1 << cfg.bands.index(b) for b in g.bands)
    dates = pd.DatetimeIndex(pd.to_datetime(list(dates))).normalize()
    n_units, n_dates = len(ds.units), len(dates)
    units = ds.units["unit_code"].astype(str).to_numpy()

    people = np.zeros(n_units * n_dates)
    last = np.full(n_units * n_dates, -1, dtype=np.int64)
    reasons = np.full(n_units * n_dates, "", dtype=object)
    kinds = labels = reasons
    # a label sharing no band with the group counts for nothing in it (nor does one no longer configured)
    asked = [lb for lb in cfg.labels if cfg.label_mask(lb) & gmask]
    inside = [cfg.label_mask(lb) for lb in asked if cfg.label_mask(lb) & ~gmask == 0]
    # which checks can find anything: two labels inside the group sharing a band; a label across its edge
    can_overlap = any(a & b for i, a in enumerate(inside) for b in inside[i + 1 :])
    can_straddle = len(inside) < len(asked)
    found = ds.reports.last_values(dose, dates, units, cfg.labels, only=asked) if n_dates else None
    if found is not None and not found.empty:
        unit_of = found.unit
        if (unit_of < 0).any():
            missing = ds.reports.unknown_units(units)
            raise DataError(f"vaccination reports for units missing from the units table: {', '.join(missing)}")
        label_codes = found.label
        label_values = np.asarray(cfg.labels, dtype=object)
        masks = np.array([cfg.label_mask(lb) for lb in cfg.labels], dtype=np.int64)[label_codes]
        key = unit_of * n_dates + found.at
        vals = found.people
        seen = found.last
        subset = (masks & ~gmask == 0) & (masks != 0)
        straddle = (masks & gmask != 0) & ~subset
        size = n_units * n_dates
        people = np.bincount(key, weights=np.where(subset, vals, 0), minlength=size).astype(float)
        np.maximum.at(last, key[subset], seen[subset])
        overlap = np.zeros(size, dtype=bool)
        for bit in range(len(cfg.bands)) if can_overlap else ():
            if gmask >> bit & 1:
                overlap |= np.bincount(key, weights=subset & ((masks >> bit) & 1).astype(bool), minlength=size) > 1
        straddled = np.bincount(key, weights=straddle, minlength=size) > 0 if can_straddle else np.zeros(size, bool)
        bad = overlap | straddled
        if bad.any():
            kinds, labels = _reasons(bad, straddled, key, label_values[label_codes], subset, straddle)
            reasons = np.where(
                kinds == "straddle",
                "reported as " + labels + f" as a whole, which does not split into {g.id}",
                np.where(kinds == "overlap", "overlapping reports (" + labels + f") for {g.id}", ""),
            )
            people = np.where(bad, np.nan, people)

    index = pd.MultiIndex.from_product([units, dates], names=["unit_code", "date"])
    last_ts = pd.DatetimeIndex(np.where(last >= 0, last, 0).astype("datetime64[D]")).where(last >= 0)
    # the texts stay Python objects: a column of millions of mostly empty reasons is not worth converting
    text = {"dtype": object, "index": index}
    frame = pd.DataFrame(
        {"people": people, "last_report_date": last_ts, "reason": pd.Series(reasons, **text)}, index=index
    )
    if not why:
        return frame, pd.DataFrame(columns=["kind", "labels"])
    return frame, pd.DataFrame({"kind": pd.Series(kinds, **text), "labels": pd.Series(labels, **text)}, index=index)


def _reasons(bad, straddled, key, labels, subset, straddle) -> tuple[np.ndarray, np.ndarray]:
    """Why each unavailable (unit, date) is unavailable: "overlap" or "straddle", and the reports at fault
    (their labels, comma-separated)."""
    kinds = np.where(bad, np.where(straddled, "straddle", "overlap"), "").astype(object)
    named = np.full(len(bad), "", dtype=object)
    rows = np.flatnonzero(bad[key] & np.where(straddled[key], straddle, subset))
    names = pd.Series(labels[rows], index=key[rows]).groupby(level=0).agg(lambda s: ", ".join(sorted(set(s))))
    named[names.index.to_numpy()] = names.to_numpy()
    return kinds, named


def unavailable(ds, cfg: Config, as_of, group: str, dose: int) -> pd.DataFrame:
    """The units whose figure for (group, dose) is unavailable on as_of, and why.

    Columns: unit_code, unit_name, group, dose, kind ("overlap": reports of overlapping age groups;
    "straddle": a group reported as a whole that does not split into the group asked), labels (the
    age labels of the reports at fault, a list). Empty when every figure is available.
    """
    why = _people_at(ds, cfg, group, dose, [as_of])[1].reset_index(level="date", drop=True)
    why = why[why["kind"] != ""]
    names = dict(zip(ds.units["unit_code"].astype(str), ds.units["unit_name"].astype(str), strict=True))
    return pd.DataFrame(
        {
            "unit_code": why.index.to_numpy(),
            "unit_name": [names[c] for c in why.index],
            "group": cfg.group(group).id,
            "dose": dose,
            "kind": why["kind"].to_numpy(),
            "labels": [s.split(", ") for s in why["labels"]],
        }
    )


def coverage(ds, cfg: Config, as_of, group: str, dose: int) -> pd.DataFrame:
    """Coverage per unit, then a TOTAL row for the province.

    Columns: unit_code, unit_name, people, population, coverage, last_report_date, over_100, reason.
    """
    population = group_population(ds, cfg, group)
    at = people_at(ds, cfg, group, dose, [as_of]).reset_index(level="date", drop=True)
    frame = pd.DataFrame(
        {
            "unit_code": ds.units["unit_code"].astype(str).to_numpy(),
            "unit_name": ds.units["unit_name"].astype(str).to_numpy(),
            "people": at["people"].to_numpy(),
            "population": population,
            "last_report_date": at["last_report_date"].to_numpy(),
            "reason": at["reason"].to_numpy(),
        }
    )
    frame = pd.concat([frame, _total_row(frame, cfg)], ignore_index=True)
    frame["coverage"] = frame["people"] / frame["population"]
    frame["over_100"] = frame["coverage"] > 1
    cols = ["unit_code", "unit_name", "people", "population", "coverage", "last_report_date", "over_100", "reason"]
    return frame[cols]


def _total_row(frame: pd.DataFrame, cfg: Config) -> pd.DataFrame:
    unavailable = frame.loc[frame["people"].isna(), "unit_code"].tolist()
    reason = f"unavailable for {', '.join(unavailable)}" if unavailable else ""
    return pd.DataFrame(
        {
            "unit_code": [TOTAL],
            "unit_name": [cfg.province_name_vi],
            "people": [np.nan if unavailable else frame["people"].sum()],
            "population": [frame["population"].sum()],
            "last_report_date": [frame["last_report_date"].max()],
            "reason": [reason],
        }
    )


def ceil_div(num: np.ndarray, den) -> np.ndarray:
    """⌈num / den⌉ in integers, exactly (no float rounding): how many people make a threshold."""
    return -((-num) // den)


def evaluate(ds, cfg: Config, as_of, targets: tuple[Target, ...] | None = None) -> pd.DataFrame:
    """Each target for each unit and the province (TOTAL rows last). See docs/rules.md."""
    as_of = pd.Timestamp(as_of).date()
    week_before = as_of - dt.timedelta(days=7)
    codes = ds.units["unit_code"].astype(str).to_numpy()
    targets = targets or cfg.targets
    # one question to the reports per dose: every date any target of that dose needs
    dates = {t.dose: set() for t in targets}
    for t in targets:
        dates[t.dose] |= {as_of, week_before, t.deadline}
    parts = []
    for target in targets:
        population = group_population(ds, cfg, target.group)
        at = people_at(ds, cfg, target.group, target.dose, sorted(dates[target.dose]))
        people = at["people"].unstack("date").reindex(codes)
        units = pd.DataFrame(
            {
                "unit_code": codes,
                "unit_name": ds.units["unit_name"].astype(str).to_numpy(),
                "people": people[pd.Timestamp(as_of)].to_numpy(),
                "people_week_before": people[pd.Timestamp(week_before)].to_numpy(),
                "people_deadline": people[pd.Timestamp(target.deadline)].to_numpy(),
                "population": population,
                "reason": at["reason"].xs(pd.Timestamp(as_of), level="date").reindex(codes).to_numpy(),
            }
        )
        unavailable = units.loc[units["people"].isna(), "unit_code"].tolist()
        total = {
            "unit_code": TOTAL,
            "unit_name": cfg.province_name_vi,
            "population": population.sum(),
            "reason": f"unavailable for {', '.join(unavailable)}" if unavailable else "",
        }
        for col in ("people", "people_week_before", "people_deadline"):
            total[col] = units[col].sum(min_count=len(units)) if units[col].notna().all() else np.nan
        frame = pd.concat([units, pd.DataFrame([total])], ignore_index=True)
        parts.append(_judge(frame, target, as_of, cfg))
    report = pd.concat(parts, ignore_index=True)
    is_total = report["unit_code"] == TOTAL
    return pd.concat([report[~is_total], report[is_total]], ignore_index=True)


def _judge(frame: pd.DataFrame, target: Target, as_of: dt.date, cfg: Config) -> pd.DataFrame:
    """Add the target columns to per-unit people/population, with exact integer arithmetic."""
    p, q = target.threshold.numerator, target.threshold.denominator
    population = frame["population"].to_numpy(np.int64)
    available = frame["people"].notna().to_numpy()
    people = frame["people"].fillna(0).to_numpy(np.int64)
    needed_total = ceil_div(population * p, q)  # ceil(threshold × population), exact
    needed = np.maximum(0, needed_total - people)
    days_left = (target.deadline - as_of).days
    gained_7d = people - frame["people_week_before"].fillna(0).to_numpy(np.int64)
    pace = gained_7d / 7
    required = needed / days_left if days_left > 0 else np.full(len(frame), np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        steps = np.where((needed > 0) & (gained_7d > 0), ceil_div(needed * 7, np.maximum(gained_7d, 1)), -1)
    # beyond the last representable date (a pace of a few people a day) there is no projection
    steps = np.where(steps > (_LAST_DATE - as_of).days, -1, steps)
    projected = pd.to_datetime(np.where(steps >= 0, _days(as_of) + steps, 0).astype("datetime64[D]")).where(steps >= 0)

    if as_of >= target.deadline:
        reached = frame["people_deadline"].fillna(-1).to_numpy(np.int64) >= needed_total
        status = np.where(reached, "met", "missed")
    else:
        ratio = cfg.at_risk_ratio
        # pace >= required  <=>  gained_7d * days_left >= 7 * needed  (all integers)
        on_track = gained_7d * days_left >= 7 * needed
        at_risk = gained_7d * days_left * ratio.denominator >= 7 * needed * ratio.numerator
        status = np.select([needed == 0, on_track, at_risk], ["met", "on_track", "at_risk"], "off_track")
    status = np.where(available, status, "unavailable")

    out = pd.DataFrame(
        {
            "unit_code": frame["unit_code"],
            "unit_name": frame["unit_name"],
            "target_id": target.id,
            "group": target.group,
            "dose": target.dose,
            "people": frame["people"],
            "population": population,
            "coverage": frame["people"] / population,
            "threshold": float(target.threshold),
            "deadline": pd.Timestamp(target.deadline),
            "people_needed": np.where(available, needed, np.nan),
            "days_left": days_left,
            "pace_7d": np.where(available & frame["people_week_before"].notna(), pace, np.nan),
            "required_daily": np.where(available, required, np.nan),
            "projected_date": projected.where(available),
            "status": status,
            "coverage_at_deadline": frame["people_deadline"] / population if as_of >= target.deadline else np.nan,
            "reason": frame["reason"],
        }
    )
    return out


def incidence(ds, cfg: Config, as_of) -> pd.DataFrame:
    """Community cases in the 7 days ending on as_of, per 100,000 population, per unit and TOTAL.

    A day without a case report counts as no cases.
    """
    as_of = pd.Timestamp(as_of).normalize()
    population = group_population(ds, cfg, "all")
    cases = ds.cases
    window = cases[(cases["date"] > as_of - pd.Timedelta(days=7)) & (cases["date"] <= as_of)]
    sums = window.groupby(window["unit_code"].astype(str))["community_cases"].sum()
    units = ds.units["unit_code"].astype(str)
    frame = pd.DataFrame(
        {
            "unit_code": units.to_numpy(),
            "unit_name": ds.units["unit_name"].astype(str).to_numpy(),
            "community_cases_7d": sums.reindex(units).fillna(0).to_numpy(np.int64),
            "population": population,
        }
    )
    total = pd.DataFrame(
        [
            {
                "unit_code": TOTAL,
                "unit_name": cfg.province_name_vi,
                "community_cases_7d": frame["community_cases_7d"].sum(),
                "population": frame["population"].sum(),
            }
        ]
    )
    frame = pd.concat([frame, total], ignore_index=True)
    frame["incidence_per_100k"] = frame["community_cases_7d"] * 100_000 / frame["population"]
    return frame
