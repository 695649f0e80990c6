"""Tables the dashboard pages show, computed from the core: no streamlit, no formatting.

Each function takes the Dataset and Config plus the page's choices and returns a DataFrame;
the pages only render them, and the exports and briefings reuse them.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from tracker import core, i18n, risk
from tracker.config import Config, Target
from tracker.errors import InputError

STALE_AFTER_DAYS = 2  # a district that has not reported for this many days is highlighted
FULL_DOSE = 2  # "primary series complete"


def target_cards(ds, cfg: Config, as_of: dt.date) -> pd.DataFrame:
    """One row per target: the province evaluation, plus the full-dose coverage of the same group, the
    change of coverage over the last 7 days (a fraction: 0.012 = 1.2 points), for a target met the first
    day the province reached it (reached_on), and for a target missed on its deadline but reached since
    (nobody still needed) the first day after the deadline it was (reached_late_on); NaT otherwise."""
    report = core.evaluate(ds, cfg, as_of)
    province = report[report["unit_code"] == core.TOTAL].set_index("target_id")
    full, reached, late = {}, {}, {}
    for target in cfg.targets:
        cov = core.coverage(ds, cfg, as_of, target.group, FULL_DOSE)
        full[target.id] = cov.loc[cov["unit_code"] == core.TOTAL, "coverage"].iat[0]
        status, needed = province.loc[target.id, ["status", "people_needed"]]
        reached[target.id] = reached_on(ds, cfg, target, as_of) if status == "met" else pd.NaT
        since = status == "missed" and needed == 0
        late[target.id] = reached_on(ds, cfg, target, as_of, late=True) if since else pd.NaT
    province["full_dose_coverage"] = pd.Series(full)
    province["coverage_change_7d"] = province["pace_7d"] * 7 / province["population"]
    province["reached_on"] = pd.Series(reached, dtype="datetime64[ns]")
    province["reached_late_on"] = pd.Series(late, dtype="datetime64[ns]")
    return province.reset_index()


def reached_on(ds, cfg: Config, target: Target, as_of: dt.date, late: bool = False) -> pd.Timestamp:
    """The first day, on or before as_of, the province's people reached the target's threshold of its
    population (exactly: people >= ceil(threshold × population)); NaT if it never did. Days up to the
    deadline; with ``late``, the days after it instead (a target missed, reached since)."""
    if late:
        start, end = target.deadline + dt.timedelta(days=1), as_of
    else:
        start, end = ds.first_date, min(as_of, target.deadline)
    if start is None or start > end:
        return pd.NaT
    series = coverage_series(ds, cfg, target.group, target.dose, start, end)
    total = series[series["unit_code"] == core.TOTAL]
    population = int(total["population"].iat[0])
    needed = core.ceil_div(population * target.threshold.numerator, target.threshold.denominator)
    hit = (total["people"] >= needed).to_numpy()  # a day without the whole province's figure is not a hit
    return pd.Timestamp(total["date"].to_numpy()[hit.argmax()]) if hit.any() else pd.NaT


def freshness(ds, as_of: dt.date) -> pd.DataFrame:
    """Each district's last report date on or before as_of, and whether it is stale."""
    last = ds.reports.last_report(as_of)
    units = ds.units["unit_code"].astype(str)
    frame = pd.DataFrame(
        {
            "unit_code": units.to_numpy(),
            "unit_name": ds.units["unit_name"].astype(str).to_numpy(),
            "last_report_date": last.reindex(units).to_numpy(),
        }
    )
    frame["days_since"] = (pd.Timestamp(as_of) - frame["last_report_date"]).dt.days
    frame["stale"] = frame["days_since"].isna() | (frame["days_since"] >= STALE_AFTER_DAYS)
    return frame


def district_table(ds, cfg: Config, as_of: dt.date, target: Target) -> pd.DataFrame:
    """Per district (and the province last): the target's figures, the gap, pace ratio and incidence."""
    report = core.evaluate(ds, cfg, as_of, (target,))
    inc = core.incidence(ds, cfg, as_of).set_index("unit_code")
    fresh = freshness(ds, as_of).set_index("unit_code")
    units = ds.units.set_index(ds.units["unit_code"].astype(str))
    table = report.set_index("unit_code")
    table["gap_points"] = ((table["threshold"] - table["coverage"]) * 100).clip(lower=0)
    table["coverage_change_7d"] = table["pace_7d"] * 7 / table["population"]  # the last 7 days, a fraction
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = table["pace_7d"] / table["required_daily"]
    table["pace_ratio"] = ratio.where(table["required_daily"] > 0)
    table["incidence_per_100k"] = inc["incidence_per_100k"]
    table["community_cases_7d"] = inc["community_cases_7d"]
    table["last_report_date"] = fresh["last_report_date"]
    table.loc[core.TOTAL, "last_report_date"] = fresh["last_report_date"].max()
    for col in ("lat", "lon"):
        table[col] = units[col]
    table["population_all"] = inc["population"]
    table["risk_level"] = _risk_levels(ds, cfg, as_of, table.index)
    return table.reset_index()


def map_units(table: pd.DataFrame) -> pd.DataFrame:
    """The districts of a district_table as a map draws them: circles sized by the whole population,
    not the target group's."""
    units = table[table["unit_code"] != core.TOTAL]
    return units.drop(columns="population").rename(columns={"population_all": "population"})


def _risk_levels(ds, cfg: Config, as_of: dt.date, codes: pd.Index) -> pd.Series:
    """The epidemic level of each unit (and TOTAL), or empty before any rule set applies (11/10/2021)."""
    rules = risk.load_rules(data_dir=cfg.data_dir)
    try:
        rules.for_date(as_of)
    except InputError:  # before 11/10/2021 there was no level to assess
        return pd.Series(np.nan, index=codes)
    return risk.levels(ds, cfg, rules, as_of).set_index("unit_code")["level"].reindex(codes)


def coverage_series(
    ds, cfg: Config, group: str, dose: int, start: dt.date, end: dt.date, units: list[str] | None = None
) -> pd.DataFrame:
    """Daily coverage from start to end for the province (TOTAL) and the chosen units (long form)."""
    dates = pd.date_range(start, end, freq="D")
    population = pd.Series(core.group_population(ds, cfg, group), index=ds.units["unit_code"].astype(str))
    at = core.people_at(ds, cfg, group, dose, dates)["people"].unstack("date")  # units × dates
    total = at.sum(axis=0, min_count=len(at)).where(at.notna().all(axis=0))
    rows = [_long(total.to_frame(core.TOTAL).T, population.sum())]
    chosen = [u for u in (units or []) if u in at.index]
    if chosen:
        rows.append(_long(at.loc[chosen], population.loc[chosen]))
    frame = pd.concat(rows, ignore_index=True)
    names = dict(zip(ds.units["unit_code"].astype(str), ds.units["unit_name"].astype(str), strict=True))
    names[core.TOTAL] = cfg.province_name_vi
    frame["unit_name"] = frame["unit_code"].map(names)
    return frame


def _long(wide: pd.DataFrame, population) -> pd.DataFrame:
    long = wide.rename_axis(index="unit_code", columns="date").stack(future_stack=True).rename("people").reset_index()
    pop = population if np.isscalar(population) else long["unit_code"].map(population)
    long["population"] = pop
    long["coverage"] = long["people"] / long["population"]
    return long


def projection(series: pd.DataFrame, as_of: dt.date, until: dt.date) -> pd.DataFrame:
    """Each unit's straight line from its coverage on as_of at its 7-day pace (dashed on charts).

    Two points per unit: as_of, and the end. The line never goes past the population: it ends at
    100 % on the day the pace reaches it, as_of + ceil((population - people) × 7 / people gained in
    7 days), when that comes before `until`; otherwise it ends on `until`. A unit already at or above
    100 % has no line; a pace of zero or less gives a flat one. Nothing after `until`.
    """
    if until <= as_of:
        return series.iloc[0:0]
    now = series[series["date"] == pd.Timestamp(as_of)].set_index("unit_code")
    week = series[series["date"] == pd.Timestamp(as_of - dt.timedelta(days=7))].set_index("unit_code")
    people, population = now["people"].to_numpy(float), now["population"].to_numpy(float)
    gained = people - week["people"].reindex(now.index).to_numpy(float)
    horizon = (until - as_of).days
    with np.errstate(divide="ignore", invalid="ignore"):
        to_full = np.ceil((population - people) * 7 / gained)  # days until everybody, at this pace
    full = (gained > 0) & (to_full <= horizon)
    days = np.where(full, to_full, horizon)
    end = np.where(full, 1.0, (people + np.clip(gained, 0, None) / 7 * days) / population)
    keep = ~(people >= population)  # at or above 100 % already: nothing left to project
    out = [
        pd.DataFrame(
            {
                "unit_code": now.index[keep],
                "unit_name": now["unit_name"].to_numpy()[keep],
                "date": pd.Timestamp(as_of) + pd.to_timedelta(offset[keep], unit="D"),
                "coverage": coverage[keep],
            }
        )
        for offset, coverage in ((np.zeros(len(now)), now["coverage"].to_numpy(float)), (days, end))
    ]
    return pd.concat(out, ignore_index=True).dropna(subset=["coverage", "date"])


def daily_doses(
    ds, cfg: Config, group: str, start: dt.date, end: dt.date, units: list[str] | None = None
) -> pd.DataFrame:
    """New people per day by dose number (difference of the cumulative counts) and the 7-day average.

    Columns: date, dose, doses, avg_7d. For the chosen units, or the province when none are chosen.
    Corrections make a day negative; it is kept, so the sums stay true.
    """
    doses = ds.reports.doses()
    dates = pd.date_range(start - dt.timedelta(days=1), end, freq="D")
    codes = ds.units["unit_code"].astype(str)
    keep = codes.isin(units) if units else pd.Series(True, index=codes.index)
    parts = []
    for dose in doses:
        at = core.people_at(ds, cfg, group, dose, dates)["people"].unstack("date")
        people = at.loc[codes[keep]].sum(axis=0, min_count=1)
        new = people.diff().iloc[1:]
        parts.append(
            pd.DataFrame(
                {
                    "date": new.index,
                    "dose": dose,
                    "doses": new.to_numpy(),
                    "avg_7d": new.rolling(7, min_periods=7).mean().to_numpy(),
                }
            )
        )
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["date", "dose", "doses", "avg_7d"])


def incidence_series(ds, cfg: Config, start: dt.date, end: dt.date, units: list[str] | None = None) -> pd.DataFrame:
    """Community cases in the 7 days ending on each date, per 100,000, for the province and chosen units."""
    dates = pd.date_range(start - dt.timedelta(days=6), end, freq="D")
    cases = ds.cases.assign(unit_code=ds.cases["unit_code"].astype(str))
    daily = (
        cases.pivot_table(index="date", columns="unit_code", values="community_cases", aggfunc="sum")
        .reindex(dates)
        .fillna(0)
    )
    codes = ds.units["unit_code"].astype(str)
    daily = daily.reindex(columns=codes, fill_value=0)
    population = pd.Series(core.group_population(ds, cfg, "all"), index=codes)
    window = daily.rolling(7, min_periods=7).sum().loc[pd.Timestamp(start) :]
    frames = [
        pd.DataFrame(
            {
                "date": window.index,
                "unit_code": core.TOTAL,
                "unit_name": cfg.province_name_vi,
                "cases_7d": window.sum(axis=1).to_numpy(),
                "incidence_per_100k": window.sum(axis=1).to_numpy() * 100_000 / population.sum(),
            }
        )
    ]
    names = dict(zip(codes, ds.units["unit_name"].astype(str), strict=True))
    for code in [u for u in (units or []) if u in window.columns]:
        frames.append(
            pd.DataFrame(
                {
                    "date": window.index,
                    "unit_code": code,
                    "unit_name": names[code],
                    "cases_7d": window[code].to_numpy(),
                    "incidence_per_100k": window[code].to_numpy() * 100_000 / population[code],
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def unavailable(ds, cfg: Config, as_of: dt.date, pairs) -> pd.DataFrame:
    """Every unit whose figure for one of the (group, dose) pairs is unavailable on as_of, and why
    (core.unavailable): unit_code, unit_name, group, dose, kind, labels. One row per unit and pair."""
    parts = [core.unavailable(ds, cfg, as_of, group, dose) for group, dose in dict.fromkeys(pairs)]
    parts = [p for p in parts if not p.empty]
    if not parts:
        return core.unavailable(ds, cfg, as_of, *next(iter(pairs)))  # empty, with the columns
    return pd.concat(parts, ignore_index=True)


def blame(unavailable: pd.DataFrame, first: pd.DataFrame) -> pd.DataFrame:
    """The drop behind each unavailable figure, from the first drop carrying each label at fault
    (store.first_drops): for overlapping reports, the latest of those (it made them overlap); for a
    group reported as a whole, the first drop that reported it. Adds drop_id, source, uploader, ingested_at."""
    rows = unavailable.reset_index(names="row").explode("labels").rename(columns={"labels": "age_band"})
    first = first.astype({"unit_code": str, "age_band": str, "dose": "int64"})
    rows = rows.astype({"dose": "int64"}).merge(first, on=["unit_code", "dose", "age_band"], how="left")
    latest = rows.sort_values(["row", "drop_id"]).groupby("row").tail(1).set_index("row")
    earliest = rows.sort_values(["row", "drop_id"]).groupby("row").head(1).set_index("row")
    overlap = (unavailable["kind"] == "overlap").to_numpy()
    out = unavailable.copy()
    for col in ("drop_id", "source", "uploader", "ingested_at"):
        pick = np.where(overlap, latest[col].reindex(out.index).to_numpy(), earliest[col].reindex(out.index).to_numpy())
        out[col] = pick
    return out


def unavailable_texts(missing: pd.DataFrame, cfg: Config, lang: str, unit=lambda name: name) -> list[str]:
    """One sentence per row of ``unavailable()``: which district, which figure, why (``unit`` may
    dress the district's name, e.g. in bold)."""

    def label(value: str) -> str:
        return i18n.label(cfg.groups[value], lang) if value in cfg.groups else value

    return [
        i18n.t(
            f"unavailable.{r.kind}",
            lang,
            unit=unit(r.unit_name),
            what=f"{label(r.group)} ({i18n.dose(r.dose, lang)})",
            labels=", ".join(label(lb) for lb in r.labels),
            group=label(r.group),
        )  # fmt: skip
        for r in missing.itertuples(index=False)
    ]
