"""Checks against the stored population: coverage above 100 % warned about, absurd counts refused."""

from __future__ import annotations

import numpy as np

from tracker.config import Config
from tracker.errors import InputError, Problem
from tracker.ingest.columns import Coded, coded, numbers, values_at
from tracker.ingest.kinds import MAX_PROBLEMS_PER_CHECK, Lines
from tracker.ingest.series import BLOCK


def _population_lookup(frame, population, cfg: Config, series=None) -> tuple[np.ndarray, Coded, Coded]:
    """The population by unit code and age label code of the frame (a band, or the bands of a group); NaN
    where a band of the label has no population (such a label is not checked), and on the margin that the
    code -1 (missing) reads. With the frame's units and labels as codes. ``series``: as population_checks."""
    units, labels = coded(frame["unit_code"]), coded(frame["age_band"])
    unit_at = {u: i for i, u in enumerate(units.values)}
    # the stored population by (unit, band), summed (a table of a few thousand rows, not the reports)
    pop: dict[tuple[str, str], float] = {}
    stored = zip(population["unit_code"], population["age_band"], population["population"], strict=True)
    for unit, band, people in stored:
        key = (str(unit), str(band))
        pop[key] = pop.get(key, 0) + people
    lookup = np.full((len(units.values) + 1, len(labels.values) + 1), np.nan)  # code -1 hits the NaN margin
    if series is not None:  # the labels the file reports, from its series: no read of its rows
        reported = set(series.column("age_band").to_pylist())
        present = [i for i, label in enumerate(labels.values) if label in reported]
    else:
        present = np.flatnonzero(np.bincount(labels.codes[labels.codes >= 0], minlength=len(labels.values)))
    for li in present:
        try:
            bands = cfg.group(labels.values[li]).bands
        except InputError:
            continue
        for unit, ui in unit_at.items():
            have = [pop[(unit, b)] for b in bands if (unit, b) in pop]
            if len(have) == len(bands):
                lookup[ui, li] = sum(have)
    return lookup, units, labels


def _any_over(series, lookup: np.ndarray, units: Coded, labels: Coded) -> bool:
    """Whether any series' largest count is above its population (its label checked)."""
    unit_at = {u: i for i, u in enumerate(units.values)}
    label_at = {b: i for i, b in enumerate(labels.values)}
    u = np.array([unit_at.get(v, -1) for v in series.column("unit_code").to_pylist()], dtype=np.int64)
    b = np.array([label_at.get(v, -1) for v in series.column("age_band").to_pylist()], dtype=np.int64)
    return bool((numbers(series.column("peak")) > lookup[u, b]).any())  # NaN (not checked) compares False


def coverage_warnings(frame, population, cfg: Config, rows: np.ndarray | Lines | None = None) -> list[Problem]:
    """population_checks, the problems alone."""
    return population_checks(frame, population, cfg, rows)[0]


def population_checks(
    frame, population, cfg: Config, rows: np.ndarray | Lines | None = None, series=None
) -> tuple[list[Problem], int]:
    """Warnings for vaccination reports above the population of their unit and age band or group, and
    errors for reports above ``cfg.limits.max_per_population`` times it (a typo or a hostile figure that
    no district can have; stored, it would dwarf every total).

    frame: prepared vaccinations (date, unit_code, age_band, dose, people_cumulative), a pandas DataFrame
    or a pyarrow Table; population: unit_code, age_band (bands), population, any table whose columns
    iterate; rows: the file row of each frame row
    (Prepared.rows). One warning per series, at its first report over 100%; an error per row over the
    limit (the first MAX_PROBLEMS_PER_CHECK, and how many rows are over it). A label whose bands are not
    all in the population table is not checked. ``series``: the frame's series with the largest count of
    each (tracker.ingest.series.series_summary): when none is above its population, no row is, and the rows
    are not read.
    """
    if len(frame) == 0 or population is None or len(population["unit_code"]) == 0:
        return [], 0
    lookup, units, labels = _population_lookup(frame, population, cfg, series)
    if series is not None and not _any_over(series, lookup, units, labels):
        return [], 0
    people = numbers(frame["people_cumulative"])
    factor = cfg.limits.max_per_population
    absurd, hit = [], []  # rows above the limit; rows above the population but not the limit
    for start in range(0, len(people), BLOCK):  # a block at a time: no array of millions for each step
        block = slice(start, start + BLOCK)
        row_pop = lookup[units.codes[block], labels.codes[block]]
        over, far = people[block] > row_pop, people[block] > factor * row_pop  # NaN population compares False
        absurd.append(np.flatnonzero(far) + start)
        hit.append(np.flatnonzero(over & ~far) + start)
    absurd, hit = np.concatenate(absurd), np.concatenate(hit)

    def row(i: int) -> int | None:
        return int(rows[i]) if rows is not None and rows[i] >= 0 else None

    out = []
    shown = absurd[:MAX_PROBLEMS_PER_CHECK]
    pops = lookup[units.codes[shown], labels.codes[shown]]
    names, bands = units.at(shown), labels.at(shown)
    for k, i in enumerate(shown):
        out.append(
            Problem.of(
                row(i), "people_cumulative", "limit.per_population",
                people=int(people[i]), unit=str(names[k]), band=str(bands[k]), population=int(pops[k]),
                factor=factor,
            )
        )  # fmt: skip
    if not len(hit):
        return out, len(absurd)
    # one warning per series, at its first report over 100 %, the series in the order of those reports
    hit = hit[np.argsort(numbers(frame["date"])[hit], kind="stable")]
    doses = numbers(frame["dose"])
    series = (units.codes[hit].astype(np.int64) * (len(labels.values) + 1) + labels.codes[hit]) * 256 + doses[hit]
    _, first = np.unique(series, return_index=True)
    hit = hit[np.sort(first)]
    pops = lookup[units.codes[hit], labels.codes[hit]]
    at = values_at(frame, ["date", "unit_code", "age_band", "dose"], hit)
    for k, i in enumerate(hit):
        share = 100 * people[i] / pops[k]
        out.append(
            Problem.of(
                row(i), "people_cumulative", "warning.over_population", "warning",
                people=int(people[i]), unit=str(at["unit_code"][k]), band=str(at["age_band"][k]),
                dose=int(at["dose"][k]), date=at["date"][k], population=int(pops[k]), share=float(share),
            )
        )  # fmt: skip
    return out, len(absurd)
