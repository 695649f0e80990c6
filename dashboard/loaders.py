"""The store and what the pages compute from it, loaded once and cached.

Loaders and computations are cached keyed by the store's folder and version, so changing a control reruns
only cheap rendering, and a new ingest (a new version) refreshes everything.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import streamlit as st

from tracker import core, geo, store, views
from tracker.config import Config, data_dir, load_config


def config() -> Config:
    """The dataset's configuration (data/, or $TRACKER_DATA), read once per folder."""
    return _config(str(data_dir()))


@st.cache_resource(show_spinner=False)
def _config(folder: str) -> Config:
    return load_config(Path(folder))


@st.cache_resource(show_spinner=False)
def ensure_store(folder: str) -> None:
    """The store brought up to date, or filled from data/ when empty: once per folder (store.init)."""
    store.init(folder, config())


@st.cache_resource(max_entries=2, show_spinner=False)
def dataset(folder: str, version: str) -> store.Dataset:
    return store.open_dataset(folder)


@st.cache_resource(max_entries=4, show_spinner=False)
def boundaries(folder: str, version: str) -> tuple[geo.Boundaries | None, str | None]:
    """The configured boundary file matched to the units, or (None, the reason it could not be used)."""
    return geo.configured_boundaries(config(), dataset(folder, version).units)


@st.cache_data(max_entries=64, show_spinner=False)
def target_cards(folder: str, version: str, as_of: dt.date) -> pd.DataFrame:
    return views.target_cards(dataset(folder, version), config(), as_of)


@st.cache_data(max_entries=64, show_spinner=False)
def freshness(folder: str, version: str, as_of: dt.date) -> pd.DataFrame:
    return views.freshness(dataset(folder, version), as_of)


@st.cache_data(max_entries=64, show_spinner=False)
def district_table(folder: str, version: str, as_of: dt.date, target_id: str) -> pd.DataFrame:
    """The configured target's figures per district: always on the target's own group and dose."""
    return views.district_table(dataset(folder, version), config(), as_of, config().target(target_id))


@st.cache_data(max_entries=64, show_spinner=False)
def comparison_coverage(folder: str, version: str, as_of: dt.date, group: str, dose: int) -> pd.DataFrame:
    """Coverage of a comparison (group, dose) per unit and for the province (TOTAL): shown, never judged."""
    return core.coverage(dataset(folder, version), config(), as_of, group, dose)


@st.cache_data(max_entries=32, show_spinner=False)
def coverage_series(folder: str, version: str, group: str, dose: int, units: tuple[str, ...]) -> pd.DataFrame:
    ds = dataset(folder, version)
    start, end = ds.first_date, ds.latest_date
    return views.coverage_series(ds, config(), group, dose, start, end, list(units))


@st.cache_data(max_entries=32, show_spinner=False)
def daily_doses(folder: str, version: str, group: str, units: tuple[str, ...]) -> pd.DataFrame:
    ds = dataset(folder, version)
    start, end = ds.first_date, ds.latest_date
    return views.daily_doses(ds, config(), group, start, end, list(units))


@st.cache_data(max_entries=32, show_spinner=False)
def unavailable(folder: str, version: str, as_of: dt.date, pairs: tuple[tuple[str, int], ...]) -> pd.DataFrame:
    """Which districts' figures are unavailable for these (group, dose) pairs, why, and the drop behind it."""
    missing = views.unavailable(dataset(folder, version), config(), as_of, pairs)
    if missing.empty:
        return missing
    labels = missing[["unit_code", "dose", "labels"]].explode("labels").rename(columns={"labels": "age_band"})
    return views.blame(missing, store.first_drops(folder, labels.drop_duplicates()))


@st.cache_data(max_entries=32, show_spinner=False)
def incidence_series(folder: str, version: str, units: tuple[str, ...]) -> pd.DataFrame:
    ds = dataset(folder, version)
    start, end = ds.first_date, ds.latest_date
    return views.incidence_series(ds, config(), start, end, list(units))


def risk_rules():
    """The risk-level rules (risk_rules.toml of the dataset's folder), read once per folder."""
    return _risk_rules(str(config().data_dir))


@st.cache_resource(show_spinner=False)
def _risk_rules(folder: str):
    from tracker import risk

    return risk.load_rules(data_dir=Path(folder))


@st.cache_data(max_entries=64, show_spinner=False)
def _risk_day(folder: str, version: str, as_of: dt.date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The risk level per unit and what would lower it, on as_of: one computation for both."""
    from tracker import risk

    return risk.levels_and_lower(dataset(folder, version), config(), risk_rules(), as_of)


def risk_levels(folder: str, version: str, as_of: dt.date) -> pd.DataFrame:
    return _risk_day(folder, version, as_of)[0]


@st.cache_data(max_entries=32, show_spinner=False)
def risk_weekly(folder: str, version: str, start: dt.date, end: dt.date) -> pd.DataFrame:
    from tracker import risk

    return risk.weekly(dataset(folder, version), config(), risk_rules(), start, end)


def risk_lower(folder: str, version: str, as_of: dt.date) -> pd.DataFrame:
    return _risk_day(folder, version, as_of)[1]


def risk_start() -> dt.date:
    """The first day a rule set applies (11/10/2021 under Resolution 128): no level before it."""
    return min(rs.valid_from for rs in risk_rules().rulesets)


@st.cache_data(max_entries=32, show_spinner=False)
def green_weeks(folder: str, version: str, as_of: dt.date) -> int:
    """The province's run of weeks at level 1 up to as_of (risk.green_streak)."""
    from tracker import risk

    return risk.green_streak(risk_weekly(folder, version, risk_start(), as_of))
