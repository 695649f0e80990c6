"""Small builders for the core's inputs: a Config (with custom targets) and a Dataset.

`make_dataset` returns the same frames, with the same dtypes, as `tracker.store.load`:
dates as datetime64[ms], dose int8, counts int64, and unit_code / age_band as categories
(or as plain strings with ``categorical=False``; the core must accept both).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from fractions import Fraction

import pandas as pd

from tracker.config import Config, Target, load_config
from tracker.store import Dataset

BANDS = ("0-4", "5-11", "12-17", "18-49", "50-64", "65+")

# Population per band of three small units, chosen so every group total is a round number.
#   unit 070: all = 10+10+20+30+20+10 = 100, adults = 30+20+10 = 60, 50plus = 20+10 = 30, 12plus = 80
#   unit 071: twice 070  -> all = 200, adults = 120, 50plus = 60, 12plus = 160
#   unit 072: ten times  -> all = 1000, adults = 600, 50plus = 300, 12plus = 800
BASE_BANDS = {"0-4": 10, "5-11": 10, "12-17": 20, "18-49": 30, "50-64": 20, "65+": 10}
UNITS = ("070", "071", "072")
NAMES = {"070": "Thành phố Tuyên Quang", "071": "Huyện Lâm Bình", "072": "Huyện Na Hang"}
POPULATION = {
    "070": dict(BASE_BANDS),
    "071": {b: 2 * n for b, n in BASE_BANDS.items()},
    "072": {b: 10 * n for b, n in BASE_BANDS.items()},
}

DateLike = str | dt.date | pd.Timestamp


def day(value: DateLike) -> dt.date:
    """A date from 'YYYY-MM-DD', a date or a Timestamp."""
    if isinstance(value, str):
        return dt.date.fromisoformat(value)
    if isinstance(value, pd.Timestamp):
        return value.date()
    return value


def make_target(
    id: str = "t",
    group: str = "18-49",
    dose: int = 1,
    threshold: Fraction | str | int = "0.5",
    deadline: DateLike = "2021-12-31",
    label_vi: str = "",
    label_en: str = "",
) -> Target:
    """A target; a threshold given as text ("0.7") is read exactly, as load_config reads TOML."""
    return Target(
        id=id,
        label_vi=label_vi or id,
        label_en=label_en or id,
        group=group,
        dose=dose,
        threshold=Fraction(threshold),
        deadline=day(deadline),
    )


def make_config(targets: Iterable[Target] | None = None, at_risk_ratio: Fraction | str | None = None) -> Config:
    """The project's configuration from data/, optionally with other targets or at-risk ratio."""
    cfg = load_config()
    changes: dict = {}
    if targets is not None:
        changes["targets"] = tuple(targets)
    if at_risk_ratio is not None:
        changes["at_risk_ratio"] = Fraction(at_risk_ratio)
    if not changes:
        return cfg
    return replace(cfg, **changes)


def _codes(series: pd.Series, categorical: bool) -> pd.Series:
    return series.astype("category") if categorical else series.astype("str")


def _dates(values: Sequence) -> pd.Series:
    return pd.Series(pd.to_datetime(list(values)), dtype="datetime64[ms]")


def units_frame(units: Sequence[str | tuple[str, str]]) -> pd.DataFrame:
    codes, names = [], []
    for u in units:
        code, name = (u, NAMES.get(u, f"Đơn vị {u}")) if isinstance(u, str) else u
        codes.append(code)
        names.append(name)
    n = len(codes)
    return pd.DataFrame(
        {
            "unit_code": pd.Series(codes, dtype="str"),
            "unit_name": pd.Series(names, dtype="str"),
            "unit_type": pd.Series(["district"] * n, dtype="str"),
            "lat": pd.Series([22.0] * n, dtype="float64"),
            "lon": pd.Series([105.0] * n, dtype="float64"),
        }
    )


def population_frame(population: Mapping[str, Mapping[str, int]], categorical: bool = True) -> pd.DataFrame:
    rows = [(u, b, int(n)) for u, bands in population.items() for b, n in bands.items()]
    frame = pd.DataFrame(rows, columns=["unit_code", "age_band", "population"])
    return pd.DataFrame(
        {
            "unit_code": _codes(frame["unit_code"].astype("str"), categorical),
            "age_band": _codes(frame["age_band"].astype("str"), categorical),
            "population": frame["population"].astype("int64"),
        }
    )


def vaccinations_frame(
    reports: Iterable[tuple[DateLike, str, str, int, int]], categorical: bool = True
) -> pd.DataFrame:
    """reports: (date, unit_code, age_band, dose, people_cumulative) tuples."""
    rows = list(reports)
    return pd.DataFrame(
        {
            "date": _dates([day(r[0]) for r in rows]),
            "unit_code": _codes(pd.Series([r[1] for r in rows], dtype="str"), categorical),
            "age_band": _codes(pd.Series([r[2] for r in rows], dtype="str"), categorical),
            "dose": pd.Series([r[3] for r in rows], dtype="int8"),
            "people_cumulative": pd.Series([r[4] for r in rows], dtype="int64"),
        }
    )


def cases_frame(cases: Iterable[tuple], categorical: bool = True) -> pd.DataFrame:
    """cases: (date, unit_code, community_cases[, imported_cases]) tuples."""
    rows = [tuple(c) + (0,) * (4 - len(c)) for c in cases]
    return pd.DataFrame(
        {
            "date": _dates([day(r[0]) for r in rows]),
            "unit_code": _codes(pd.Series([r[1] for r in rows], dtype="str"), categorical),
            "community_cases": pd.Series([r[2] for r in rows], dtype="int64"),
            "imported_cases": pd.Series([r[3] for r in rows], dtype="int64"),
        }
    )


def make_dataset(
    units: Sequence[str | tuple[str, str]] = UNITS,
    population: Mapping[str, Mapping[str, int]] | None = None,
    reports: Iterable[tuple[DateLike, str, str, int, int]] = (),
    cases: Iterable[tuple] = (),
    categorical: bool = True,
) -> Dataset:
    """A Dataset as store.load returns it.

    units: codes (names from NAMES) or (code, name) pairs, in the order the core must keep.
    population: {unit_code: {age_band: population}}; default POPULATION for the given units.
    reports: (date, unit_code, age_band, dose, people_cumulative).
    cases: (date, unit_code, community_cases[, imported_cases]).
    """
    if population is None:
        codes = [u if isinstance(u, str) else u[0] for u in units]
        population = {c: POPULATION[c] for c in codes if c in POPULATION}
    return Dataset(
        units=units_frame(units),
        population=population_frame(population, categorical),
        vaccinations=vaccinations_frame(reports, categorical),
        cases=cases_frame(cases, categorical),
    )


def dataset_from_frames(
    vaccinations: pd.DataFrame,
    units: Sequence[str | tuple[str, str]] = UNITS,
    population: Mapping[str, Mapping[str, int]] | None = None,
) -> Dataset:
    """A Dataset around a vaccinations frame read by tracker.ingest.read_table."""
    ds = make_dataset(units=units, population=population)
    cols = ["date", "unit_code", "age_band", "dose", "people_cumulative"]
    return Dataset(ds.units, ds.population, vaccinations[cols].reset_index(drop=True), ds.cases)
