"""The machinery of tracker.sample: seeded vaccination curves (vectorised over days x series), the four
canonical tables built from them (``units``, ``population``, ``vaccinations``, ``cases``), and their CSV
output. Which units, curve parameters and story a sample has is tracker.sample's.
"""

from __future__ import annotations

import os
import unicodedata
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

BANDS = ("0-4", "5-11", "12-17", "18-49", "50-64", "65+")
"""Age bands, in order."""

BAND_SHARES = {"0-4": 0.085, "5-11": 0.125, "12-17": 0.095, "18-49": 0.480, "50-64": 0.145, "65+": 0.070}
"""Assumed share of each band in every unit's population (an assumption, not a statistic)."""

VACCINATED_BANDS = ("12-17", "18-49", "50-64", "65+")
"""Bands that have vaccination series (children under 12 were not vaccinated in 2021-2022)."""

ADULT_BANDS = ("18-49", "50-64", "65+")
"""Bands of the "adults" (18+) group."""

START = date(2021, 3, 8)
"""First report day (start of the campaign in the province)."""
TEEN_START = date(2021, 11, 1)
"""First report day of the 12-17 band."""
BOOSTER_START = date(2021, 12, 1)
"""First report day of dose 3 (first booster), adult bands only in the Tuyên Quang sample."""

_AUG_END = date(2021, 8, 31)
_BAND_EXTRA_UPTAKE = np.array([0.0, 0.0, 0.03, 0.05])  # per VACCINATED_BANDS: older bands slightly higher
_MAX_UPTAKE = 0.985
_CAP_SHARE = 0.99  # cumulative never exceeds 99% of the band population
_DOSE2_COMPLETION = 0.97
_DOSE2_LAGS = np.arange(28, 85)  # dose 2 is given 4 to 12 weeks after dose 1
_BOOSTER_DELAY = 90  # a booster needs dose 2 at least ~3 months earlier
_TEEN_WIDTH = 8.0
_WEEKDAY_FACTOR = np.array([1.08, 1.08, 1.08, 1.08, 1.08, 0.90, 0.70])  # Monday..Sunday, mean 1
_NOISE_SHAPE = 16.0  # gamma shape of the daily noise factor (CV 25%)
_SECONDS_PER_DAY = 86_400
_NEGLIGIBLE = 1e-6  # expected people per day below which a day's count is drawn as 0 (see _noisy)


# --------------------------------------------------------------------------------------------------
# Curve machinery (vectorised over days x series)
# --------------------------------------------------------------------------------------------------


def day(d: date) -> int:
    """Day index of ``d`` counted from :data:`START`."""
    return (d - START).days


def _surge(t: np.ndarray, start, mid, width) -> np.ndarray:
    """Logistic curve centred on ``mid``, rescaled to rise from 0 at ``start`` to 1."""
    s = 1.0 / (1.0 + np.exp(-(t - mid) / width))
    s0 = 1.0 / (1.0 + np.exp(-(start - mid) / width))
    return np.clip((s - s0) / (1.0 - s0), 0.0, 1.0)


def _noisy(rng: np.random.Generator, expected: np.ndarray) -> np.ndarray:
    """Integer daily counts around ``expected``: a weekday factor, a gamma factor, then Poisson.

    Expected counts below :data:`_NEGLIGIBLE` are drawn as exactly 0. NumPy's Poisson sampler
    takes no random number for a mean of 0 and at least one for any positive mean, so a mean that
    is 0 on one machine and 1e-13 on another (rounding in SIMD code that NumPy picks by CPU)
    would shift every later draw and change the whole sample.
    """
    weekday = _WEEKDAY_FACTOR[np.arange(expected.shape[0]) % 7]  # START is a Monday
    lam = expected * weekday.reshape((-1,) + (1,) * (expected.ndim - 1))
    lam *= rng.gamma(_NOISE_SHAPE, 1.0 / _NOISE_SHAPE, size=lam.shape)
    lam[lam < _NEGLIGIBLE] = 0.0
    return rng.poisson(lam)


def _increments(cumulative: np.ndarray) -> np.ndarray:
    """Daily increments (axis 0) of a cumulative series, never negative."""
    return np.clip(np.diff(cumulative, axis=0, prepend=0.0), 0.0, None)


def _lagged(increments: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Causal convolution along axis 0 (days) with ``weights[lag]``: one shifted add per lag.

    Elementwise products and sums in a fixed order give the same bits on every CPU, and exact
    zeros where nothing happened (an FFT leaves rounding noise of either sign there instead).
    """
    out = np.zeros_like(increments, dtype=float)
    days = increments.shape[0]
    for lag in np.flatnonzero(weights):  # at most ~60 lags, each a whole-array operation
        if lag < days:
            out[lag:] += weights[lag] * increments[: days - lag]
    return out


def _dose2_weights() -> np.ndarray:
    """Share of dose-1 recipients getting dose 2 after each lag (index = lag in days)."""
    x = (_DOSE2_LAGS - 27).astype(float)
    w = x * np.exp(-x / 10.0)
    weights = np.zeros(_DOSE2_LAGS[-1] + 1)
    weights[_DOSE2_LAGS] = _DOSE2_COMPLETION * w / w.sum()
    return weights


def vaccination_curves(rng: np.random.Generator, days: int, band_pop: np.ndarray, p: dict) -> np.ndarray:
    """Cumulative people per day, unit, vaccinated band and dose 1..3: int32 array (days, units, 4, 3).

    ``band_pop`` is (units, 4) for :data:`VACCINATED_BANDS`; ``p`` holds per-unit parameter arrays:
    ``early``, ``start``, ``mid``, ``width``, ``final`` (adult dose 1), ``teen_mid``, ``teen_final``,
    ``booster`` (share of eligible people taking a booster), ``booster_mid``, ``booster_width``.
    Day indices in ``p`` count from :data:`START`.
    """
    t = np.arange(days, dtype=float)[:, None, None]  # (days, 1, 1) against (units, bands)
    col = {k: np.asarray(v, dtype=float)[:, None] for k, v in p.items()}  # (units, 1)
    cap = np.floor(_CAP_SHARE * band_pop)

    # Dose 1: adults have a slow supply-limited phase, then a logistic surge; 12-17 only a surge.
    uptake = np.minimum(
        np.hstack([col["teen_final"], np.repeat(col["final"], 3, axis=1)]) + _BAND_EXTRA_UPTAKE, _MAX_UPTAKE
    )
    is_teen = np.arange(4) == 0
    slope = np.where(is_teen, 0.0, col["early"] / day(_AUG_END))
    start = np.where(is_teen, day(TEEN_START), col["start"])
    mid = np.where(is_teen, col["teen_mid"], col["mid"])
    width = np.where(is_teen, _TEEN_WIDTH, col["width"])
    early = slope * np.minimum(t, start)
    share = early + (uptake - slope * start) * _surge(t, start, mid, width)
    dose1 = np.minimum(np.cumsum(_noisy(rng, _increments(share * band_pop)), axis=0), cap)

    # Dose 2: dose-1 increments spread over lags of 4-12 weeks.
    expected2 = _lagged(np.diff(dose1, axis=0, prepend=0).astype(float), _dose2_weights())
    dose2 = np.minimum(np.cumsum(_noisy(rng, expected2), axis=0), dose1)

    # Dose 3: from BOOSTER_START, bounded by people who completed dose 2 at least _BOOSTER_DELAY days ago.
    eligible = np.zeros_like(dose2)
    eligible[_BOOSTER_DELAY:] = dose2[: max(days - _BOOSTER_DELAY, 0)]
    ramp = _surge(t, day(BOOSTER_START), col["booster_mid"], col["booster_width"])
    expected3 = _increments(col["booster"] * eligible * ramp)
    dose3 = np.minimum(np.cumsum(_noisy(rng, expected3), axis=0), eligible)

    return np.stack([dose1, dose2, dose3], axis=-1).astype(np.int32)


def split_bands(totals: np.ndarray) -> np.ndarray:
    """Split unit totals into :data:`BANDS` by :data:`BAND_SHARES` (largest remainder: exact sums)."""
    scale = 1_000_000
    parts = np.array([round(BAND_SHARES[b] * scale) for b in BANDS], dtype=np.int64)
    if parts.sum() != scale:
        raise ValueError("BAND_SHARES must add up to 1")
    exact = np.asarray(totals, dtype=np.int64)[:, None] * parts
    pop, remainder = np.divmod(exact, scale)
    missing = np.asarray(totals) - pop.sum(axis=1)
    rank = np.argsort(np.argsort(-remainder, axis=1, kind="stable"), axis=1, kind="stable")
    return pop + (rank < missing[:, None])


# --------------------------------------------------------------------------------------------------
# Table builders
# --------------------------------------------------------------------------------------------------


def report_dates(days: int) -> np.ndarray:
    """datetime64[s] report days from :data:`START`."""
    return np.datetime64(START.isoformat(), "s") + np.arange(days) * np.timedelta64(_SECONDS_PER_DAY, "s")


def units_table(codes, names, types, lat, lon) -> pd.DataFrame:
    """The units table (names in Unicode NFC)."""
    return pd.DataFrame(
        {
            "unit_code": pd.array(codes, dtype="str"),
            "unit_name": pd.array([unicodedata.normalize("NFC", n) for n in names], dtype="str"),
            "unit_type": pd.array(types, dtype="str"),
            "lat": np.asarray(lat, dtype=float),
            "lon": np.asarray(lon, dtype=float),
        }
    )


def population_table(codes, band_pop: np.ndarray) -> pd.DataFrame:
    """The population table from a (units, 6 bands) array."""
    return pd.DataFrame(
        {
            "unit_code": pd.array(np.repeat(np.asarray(codes, dtype=object), len(BANDS)), dtype="str"),
            "age_band": pd.array(np.tile(np.array(BANDS, dtype=object), len(codes)), dtype="str"),
            "population": band_pop.reshape(-1).astype(np.int64),
        }
    )


def _grid(shape: tuple[int, ...], axis: int, dtype) -> np.ndarray:
    """Index along ``axis`` of every cell of a C-ordered array of ``shape``, flattened."""
    index = np.arange(shape[axis], dtype=dtype).reshape([-1 if i == axis else 1 for i in range(len(shape))])
    return np.broadcast_to(index, shape).reshape(-1)


def _code_dtype(codes) -> np.dtype:
    """Smallest integer type for the category codes of ``codes``."""
    return np.int16 if len(codes) < 2**15 else np.int32


def vaccinations_table(dates, codes, cumulative: np.ndarray, keep: np.ndarray | None) -> pd.DataFrame:
    """Long table from a (days, units, 4 bands, 3 doses) array; ``keep`` selects the rows that exist."""
    shape = cumulative.shape
    columns = {
        "date": dates[_grid(shape, 0, np.int32)],
        "unit_code": pd.Categorical.from_codes(_grid(shape, 1, _code_dtype(codes)), categories=list(codes)),
        "age_band": pd.Categorical.from_codes(_grid(shape, 2, np.int8) + 2, categories=list(BANDS), ordered=True),
        "dose": _grid(shape, 3, np.int8) + 1,
        "people_cumulative": cumulative.reshape(-1),
    }
    return _rows(columns, keep)


def cases_table(dates, codes, community: np.ndarray, imported: np.ndarray, keep) -> pd.DataFrame:
    """Long table from (days, units) arrays; ``keep`` selects the rows that exist."""
    shape = community.shape
    columns = {
        "date": dates[_grid(shape, 0, np.int32)],
        "unit_code": pd.Categorical.from_codes(_grid(shape, 1, _code_dtype(codes)), categories=list(codes)),
        "community_cases": community.reshape(-1).astype(np.int32),
        "imported_cases": imported.reshape(-1).astype(np.int32),
    }
    return _rows(columns, keep)


def _rows(columns: dict, keep: np.ndarray | None) -> pd.DataFrame:
    """The frame of the flattened ``columns``, with only the rows ``keep`` selects (all when None)."""
    if keep is not None:
        keep = keep.reshape(-1)
        columns = {k: v[keep] for k, v in columns.items()}
    return pd.DataFrame(columns)


def bump(t: np.ndarray, centre, width) -> np.ndarray:
    """Gaussian bump with peak 1."""
    return np.exp(-0.5 * ((t - centre) / width) ** 2)


# --------------------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------------------


def _to_arrow(df: pd.DataFrame) -> pa.Table:
    """Arrow table for CSV output: timestamps become ISO dates (date32)."""
    table = pa.Table.from_pandas(df, preserve_index=False).replace_schema_metadata(None)
    for i, field in enumerate(table.schema):
        if pa.types.is_timestamp(field.type):
            table = table.set_column(i, field.name, table.column(i).cast(pa.date32()))
    return table


def write(tables: dict[str, pd.DataFrame], out_dir: Path) -> None:
    """Write each table to ``out_dir/<name>.csv`` (UTF-8, header, ``\\n``; quotes only where needed)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, df in tables.items():
        table = _to_arrow(df)
        path = out_dir / f"{name}.csv"
        tmp = path.with_name(path.name + ".tmp")
        try:
            # Unquoted output; arrow refuses values with commas, quotes or line ends ...
            pacsv.write_csv(table, tmp, pacsv.WriteOptions(quoting_style="none", quoting_header="none"))
        except pa.ArrowInvalid:
            # ... which are then quoted (arrow's "needed" style quotes every string).
            pacsv.write_csv(table, tmp)
        os.replace(tmp, path)
