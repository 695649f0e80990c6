"""Checks against the stored population: coverage above 100 % warned about, absurd counts refused."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tracker.config import Config
from tracker.errors import InputError, Problem
from tracker.ingest.kinds import MAX_PROBLEMS_PER_CHECK


def _row_population(frame: pd.DataFrame, population: pd.DataFrame, cfg: Config) -> np.ndarray:
    """The population of each row's unit and age label (a band, or the bands of a group); NaN where a band
    of the label has no population (such a label is not checked)."""
    pop = population.assign(unit_code=population["unit_code"].astype(str), age_band=population["age_band"].astype(str))
    pop = pop.groupby(["unit_code", "age_band"], observed=True)["population"].sum()
    per_label = []
    present = frame["age_band"].astype("category")
    for label in present.cat.categories[np.unique(present.cat.codes[present.cat.codes >= 0])].astype(str):
        try:
            bands = cfg.group(label).bands
        except InputError:
            continue
        have = pop[pop.index.get_level_values("age_band").isin(bands)].groupby(level="unit_code")
        total = have.sum()
        complete = have.size() == len(bands)
        per_label.append(pd.DataFrame({"unit_code": total.index, "age_band": label, "pop": total.where(complete)}))
    if not per_label:
        return np.full(len(frame), np.nan)
    table = pd.concat(per_label, ignore_index=True).dropna(subset=["pop"])
    # the population of each row's (unit, label), looked up per category pair, not per row
    units = frame["unit_code"].astype("category")
    labels = frame["age_band"].astype("category")
    lookup = np.full((len(units.cat.categories) + 1, len(labels.cat.categories) + 1), np.nan)
    ui = pd.Index(units.cat.categories.astype(str)).get_indexer(table["unit_code"])
    li = pd.Index(labels.cat.categories.astype(str)).get_indexer(table["age_band"])
    known = (ui >= 0) & (li >= 0)
    lookup[ui[known], li[known]] = table["pop"].to_numpy()[known]
    return lookup[units.cat.codes.to_numpy(), labels.cat.codes.to_numpy()]  # code -1 hits the NaN margin


def coverage_warnings(
    frame: pd.DataFrame, population: pd.DataFrame, cfg: Config, rows: np.ndarray | None = None
) -> list[Problem]:
    """population_checks, the problems alone."""
    return population_checks(frame, population, cfg, rows)[0]


def population_checks(
    frame: pd.DataFrame, population: pd.DataFrame, cfg: Config, rows: np.ndarray | None = None
) -> tuple[list[Problem], int]:
    """Warnings for vaccination reports above the population of their unit and age band or group, and
    errors for reports above ``cfg.limits.max_per_population`` times it (a typo or a hostile figure that
    no district can have; stored, it would dwarf every total).

    frame: a prepared vaccinations frame (date, unit_code, age_band, dose, people_cumulative);
    population: unit_code, age_band (bands), population; rows: the file row of each frame row
    (Prepared.rows). One warning per series, at its first report over 100%; an error per row over the
    limit (the first MAX_PROBLEMS_PER_CHECK, and how many rows are over it). A label whose bands are not
    all in the population table is not checked.
    """
    if frame.empty or population is None or population.empty:
        return [], 0
    row_pop = _row_population(frame, population, cfg)
    people = frame["people_cumulative"].to_numpy()
    rows = rows if rows is not None else np.full(len(frame), -1)
    out = []
    factor = cfg.limits.max_per_population
    absurd = np.flatnonzero(people > factor * row_pop)  # NaN population compares False
    for i in absurd[:MAX_PROBLEMS_PER_CHECK]:
        out.append(
            Problem.of(
                int(rows[i]) if rows[i] >= 0 else None, "people_cumulative", "limit.per_population",
                people=int(people[i]), unit=str(frame["unit_code"].iat[i]), band=str(frame["age_band"].iat[i]),
                population=int(row_pop[i]), factor=factor,
            )
        )  # fmt: skip
    hit = np.flatnonzero((people > row_pop) & ~(people > factor * row_pop))
    if not len(hit):
        return out, len(absurd)
    work = pd.DataFrame(
        {
            "date": frame["date"].to_numpy()[hit],
            "unit_code": frame["unit_code"].astype(str).to_numpy()[hit],
            "age_band": frame["age_band"].astype(str).to_numpy()[hit],
            "dose": frame["dose"].to_numpy()[hit],
            "people": people[hit],
            "pop": row_pop[hit],
            "row": rows[hit],
        }
    )
    over = work.sort_values("date", kind="stable")
    first = over.groupby(["unit_code", "age_band", "dose"], sort=True).head(1)
    for r in first.itertuples(index=False):
        share = 100 * r.people / r.pop
        out.append(
            Problem.of(
                int(r.row) if r.row >= 0 else None, "people_cumulative", "warning.over_population", "warning",
                people=int(r.people), unit=r.unit_code, band=r.age_band, dose=int(r.dose), date=pd.Timestamp(r.date),
                population=int(r.pop), share=float(share),
            )
        )  # fmt: skip
    return out, len(absurd)
