"""The figures as the dashboard, the exports and the briefings use them: pandas frames of coverage, target
evaluation and incidence. The rules themselves are computed on arrays in tracker.evaluation (numpy only, so
that `tracker report` starts without pandas); this module lays them out as frames. docs/rules.md explains
each rule with examples.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tracker import evaluation
from tracker.config import Config, Target
from tracker.evaluation import STATUSES, TOTAL, ceil_div

__all__ = [
    "STATUSES", "TOTAL", "ceil_div", "coverage", "evaluate", "group_population", "incidence", "people_at",
    "unavailable",
]  # fmt: skip


def _population(ds) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    pop = ds.population
    return pop["unit_code"].astype(str).to_numpy(), pop["age_band"].astype(str).to_numpy(), pop["population"]


def _codes(ds) -> np.ndarray:
    return ds.units["unit_code"].astype(str).to_numpy()


def group_population(ds, cfg: Config, group: str) -> np.ndarray:
    """Population of the group per unit (ds.units order); a unit without it is a DataError."""
    return evaluation.group_population(_codes(ds), *_population(ds), cfg, group)


def people_at(ds, cfg: Config, group: str, dose: int, dates) -> pd.DataFrame:
    """People vaccinated with `dose` in `group`, per unit and date.

    Returns a frame indexed by (unit_code, date) with columns people (float; NaN when
    unavailable), last_report_date (NaT when the unit never reported), reason (text, or "").
    """
    return _people_at(ds, cfg, group, dose, dates, why=False)[0]


def _people_at(ds, cfg: Config, group: str, dose: int, dates, why: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
    """people_at, and why each unavailable figure is unavailable (kind and labels, see unavailable()); with
    why=False the second frame is left empty (a trend chart's millions of cells need no reasons)."""
    dates = pd.DatetimeIndex(pd.to_datetime(list(dates))).normalize()
    units = _codes(ds)
    at = evaluation.people_at(ds.reports, units, cfg, group, dose, dates)
    index = pd.MultiIndex.from_product([units, dates], names=["unit_code", "date"])
    last_ts = pd.DatetimeIndex(np.where(at.last >= 0, at.last, 0).astype("datetime64[D]")).where(at.last >= 0)
    # the texts stay Python objects: a column of millions of mostly empty reasons is not worth converting
    text = {"dtype": object, "index": index}
    frame = pd.DataFrame(
        {"people": at.people, "last_report_date": last_ts, "reason": pd.Series(at.reason, **text)}, index=index
    )
    if not why:
        return frame, pd.DataFrame(columns=["kind", "labels"])
    return frame, pd.DataFrame(
        {"kind": pd.Series(at.kind, **text), "labels": pd.Series(at.labels, **text)}, index=index
    )


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
    as_of = pd.Timestamp(as_of).date()
    names = ds.units["unit_name"].astype(str).to_numpy()
    columns = evaluation.coverage(ds.reports, _codes(ds), names, _population(ds), cfg, as_of, group, dose)
    return pd.DataFrame({c: pd.to_datetime(v) if c == "last_report_date" else v for c, v in columns.items()})


_DATES = ("deadline", "projected_date")


def evaluate(ds, cfg: Config, as_of, targets: tuple[Target, ...] | None = None) -> pd.DataFrame:
    """Each target for each unit and the province (TOTAL rows last). See docs/rules.md."""
    as_of = pd.Timestamp(as_of).date()
    columns = evaluation.evaluate(
        ds.reports, _codes(ds), ds.units["unit_name"].astype(str).to_numpy(), _population(ds), cfg, as_of, targets
    )
    return pd.DataFrame({c: pd.to_datetime(v) if c in _DATES else v for c, v in columns.items()})


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
