"""Seeded generator of illustrative sample data (NOT official figures).

Two generators share one vectorised curve machinery:

* :func:`tuyen_quang` -- the 7 districts of Tuyên Quang province, daily reports from 2021-03-08 to
  2022-03-31, with a few missing report days (:data:`MISSING_DAYS`) and one downward correction
  (:data:`CORRECTION`), so the dashboard has a story to tell and edge cases to handle.
* :func:`synthetic` -- N units x D days with every series reported every day, for benchmarks.

Both return the four canonical tables ``units``, ``population``, ``vaccinations`` and ``cases``;
:func:`write` stores them as CSV files. Command line::

    python -m tracker.sample [--out DIR] [--seed S]
    python -m tracker.sample --units 700 --days 750 --out /tmp/synth [--seed S]
"""

from __future__ import annotations

import argparse
import os
import unicodedata
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

SEED = 174
"""Default seed (after Kế hoạch 174/KH-UBND)."""

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
END = date(2022, 3, 31)
"""Last report day of the Tuyên Quang sample."""
TEEN_START = date(2021, 11, 1)
"""First report day of the 12-17 band."""
BOOSTER_START = date(2021, 12, 1)
"""First report day of dose 3 (first booster), adult bands only in the Tuyên Quang sample."""

DISTRICTS = (
    # GSO code, name, unit type, population (2015 statistical yearbook), centroid lat, lon
    ("070", "Thành phố Tuyên Quang", "city", 94_855, 21.781, 105.226),
    ("071", "Huyện Lâm Bình", "district", 31_201, 22.504, 105.227),
    ("072", "Huyện Na Hang", "district", 43_964, 22.445, 105.433),
    ("073", "Huyện Chiêm Hóa", "district", 129_836, 22.174, 105.271),
    ("074", "Huyện Hàm Yên", "district", 115_026, 22.100, 105.017),
    ("075", "Huyện Yên Sơn", "district", 165_908, 21.880, 105.289),
    ("076", "Huyện Sơn Dương", "district", 179_499, 21.653, 105.387),
)
"""The districts of Tuyên Quang province (total population 760,289)."""

MISSING_DAYS = {
    "071": (date(2021, 9, 20), date(2021, 11, 15), date(2022, 1, 24)),
    "072": (date(2021, 10, 4), date(2021, 12, 20)),
    "076": (date(2022, 2, 7),),
}
"""Report days a district did not report: no vaccination and no case rows for that district and date."""

CORRECTION = {
    "unit_code": "074",
    "age_band": "18-49",
    "dose": 1,
    "first_date": date(2021, 10, 14),
    "days": 3,
    "excess": 1_200,
}
"""The one downward correction: this series over-reports by ``excess`` people on ``days`` report days
from ``first_date``; the next report drops back to the true figure (the cumulative goes down once)."""

# Curve parameters of the Tuyên Quang sample, per district: adult dose-1 coverage reached by 2021-08-31
# (supply-limited start); start, midpoint and width (days) of the logistic surge; final adult (18-49)
# dose-1 uptake; midpoint and final uptake of the 12-17 band; share of eligible adults taking a booster.
_TQ_CURVES = {
    "070": (0.080, date(2021, 9, 1), date(2021, 9, 28), 10.0, 0.92, date(2021, 11, 12), 0.95, 0.70),
    "071": (0.030, date(2021, 10, 20), date(2021, 12, 20), 12.0, 0.64, date(2021, 12, 25), 0.55, 0.45),
    "072": (0.035, date(2021, 10, 5), date(2021, 11, 25), 12.0, 0.66, date(2021, 12, 10), 0.60, 0.45),
    "073": (0.050, date(2021, 9, 1), date(2021, 10, 6), 11.0, 0.85, date(2021, 11, 18), 0.86, 0.70),
    "074": (0.050, date(2021, 9, 1), date(2021, 10, 8), 11.0, 0.84, date(2021, 11, 20), 0.85, 0.70),
    "075": (0.060, date(2021, 9, 1), date(2021, 10, 2), 10.0, 0.87, date(2021, 11, 15), 0.88, 0.70),
    "076": (0.050, date(2021, 9, 1), date(2021, 10, 4), 11.0, 0.86, date(2021, 11, 17), 0.87, 0.70),
}
_TQ_BOOSTER_MID = date(2022, 1, 20)
_TQ_BOOSTER_WIDTH = 12.0

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


def _day(d: date) -> int:
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


def _vaccination_curves(rng: np.random.Generator, days: int, band_pop: np.ndarray, p: dict) -> np.ndarray:
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
    slope = np.where(is_teen, 0.0, col["early"] / _day(_AUG_END))
    start = np.where(is_teen, _day(TEEN_START), col["start"])
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
    ramp = _surge(t, _day(BOOSTER_START), col["booster_mid"], col["booster_width"])
    expected3 = _increments(col["booster"] * eligible * ramp)
    dose3 = np.minimum(np.cumsum(_noisy(rng, expected3), axis=0), eligible)

    return np.stack([dose1, dose2, dose3], axis=-1).astype(np.int32)


def _split_bands(totals: np.ndarray) -> np.ndarray:
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


def _dates(days: int) -> np.ndarray:
    """datetime64[s] report days from :data:`START`."""
    return np.datetime64(START.isoformat(), "s") + np.arange(days) * np.timedelta64(_SECONDS_PER_DAY, "s")


def _units_table(codes, names, types, lat, lon) -> pd.DataFrame:
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


def _population_table(codes, band_pop: np.ndarray) -> pd.DataFrame:
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


def _vaccinations_table(dates, codes, cumulative: np.ndarray, keep: np.ndarray | None) -> pd.DataFrame:
    """Long table from a (days, units, 4 bands, 3 doses) array; ``keep`` selects the rows that exist."""
    shape = cumulative.shape
    columns = {
        "date": dates[_grid(shape, 0, np.int32)],
        "unit_code": pd.Categorical.from_codes(_grid(shape, 1, _code_dtype(codes)), categories=list(codes)),
        "age_band": pd.Categorical.from_codes(_grid(shape, 2, np.int8) + 2, categories=list(BANDS), ordered=True),
        "dose": _grid(shape, 3, np.int8) + 1,
        "people_cumulative": cumulative.reshape(-1),
    }
    if keep is not None:
        keep = keep.reshape(-1)
        columns = {k: v[keep] for k, v in columns.items()}
    return pd.DataFrame(columns)


def _cases_table(dates, codes, community: np.ndarray, imported: np.ndarray, keep) -> pd.DataFrame:
    """Long table from (days, units) arrays; ``keep`` selects the rows that exist."""
    shape = community.shape
    columns = {
        "date": dates[_grid(shape, 0, np.int32)],
        "unit_code": pd.Categorical.from_codes(_grid(shape, 1, _code_dtype(codes)), categories=list(codes)),
        "community_cases": community.reshape(-1).astype(np.int32),
        "imported_cases": imported.reshape(-1).astype(np.int32),
    }
    if keep is not None:
        keep = keep.reshape(-1)
        columns = {k: v[keep] for k, v in columns.items()}
    return pd.DataFrame(columns)


def _bump(t: np.ndarray, centre, width) -> np.ndarray:
    """Gaussian bump with peak 1."""
    return np.exp(-0.5 * ((t - centre) / width) ** 2)


# --------------------------------------------------------------------------------------------------
# Public generators
# --------------------------------------------------------------------------------------------------


def tuyen_quang(seed: int = SEED) -> dict[str, pd.DataFrame]:
    """Illustrative sample for the 7 districts of Tuyên Quang, 2021-03-08 to 2022-03-31 (not official)."""
    rng = np.random.default_rng(seed)
    codes, names, types, totals, lat, lon = (list(column) for column in zip(*DISTRICTS, strict=True))
    totals = np.array(totals)
    band_pop = _split_bands(totals)
    days = _day(END) + 1
    dates = _dates(days)

    early, start, mid, width, final, teen_mid, teen_final, booster = zip(*(_TQ_CURVES[c] for c in codes), strict=True)
    params = {
        "early": early,
        "start": [_day(d) for d in start],
        "mid": [_day(d) for d in mid],
        "width": width,
        "final": final,
        "teen_mid": [_day(d) for d in teen_mid],
        "teen_final": teen_final,
        "booster": booster,
        "booster_mid": [_day(_TQ_BOOSTER_MID)] * len(codes),
        "booster_width": [_TQ_BOOSTER_WIDTH] * len(codes),
    }
    cumulative = _vaccination_curves(rng, days, band_pop[:, 2:], params)

    # The one downward correction (applied after dose 2 and 3 were derived from the true series).
    fix = CORRECTION
    first, band = _day(fix["first_date"]), VACCINATED_BANDS.index(fix["age_band"])
    cumulative[first : first + fix["days"], codes.index(fix["unit_code"]), band, fix["dose"] - 1] += fix["excess"]

    # Which rows exist: 12-17 from TEEN_START (doses 1-2), adults doses 1-2 always and dose 3 from
    # BOOSTER_START, and nothing for a district on its missing report days.
    t = np.arange(days)[:, None, None, None]
    is_teen = (np.arange(4) == 0)[None, None, :, None]
    dose = np.arange(1, 4)[None, None, None, :]
    reported = np.ones((days, len(codes)), dtype=bool)
    for code, missing in MISSING_DAYS.items():
        reported[[_day(d) for d in missing], codes.index(code)] = False
    keep = reported[:, :, None, None] & np.where(
        is_teen, (t >= _day(TEEN_START)) & (dose <= 2), (dose <= 2) | (t >= _day(BOOSTER_START))
    )

    # Cases: sporadic community cases, imported cases (returning workers, more in Aug-Oct 2021) and
    # one community cluster in Sơn Dương in late 2021 with a few spill-over cases in Yên Sơn.
    td = np.arange(days, dtype=float)[:, None]
    per_100k = totals[None, :] / 100_000
    in_cluster = (td >= _day(date(2021, 11, 20))) & (td <= _day(date(2021, 12, 15)))
    outbreak = 15.0 * _bump(td, _day(date(2021, 12, 1)), 6.0) * in_cluster
    spread = np.array([{"076": 1.0, "075": 0.04}.get(c, 0.0) for c in codes])
    community = rng.poisson(0.006 * per_100k + outbreak * spread)
    imported = rng.poisson(per_100k * (0.015 + 0.35 * _bump(td, _day(date(2021, 9, 25)), 22.0)))

    return {
        "units": _units_table(codes, names, types, lat, lon),
        "population": _population_table(codes, band_pop),
        "vaccinations": _vaccinations_table(dates, codes, cumulative, keep),
        "cases": _cases_table(dates, codes, community, imported, reported),
    }


def synthetic(units: int, days: int, seed: int = SEED) -> dict[str, pd.DataFrame]:
    """Synthetic country-sized data for benchmarks: every unit reports every series every day."""
    if units < 1 or days < 1:
        raise ValueError("units and days must be positive")
    rng = np.random.default_rng(seed)
    digits = max(3, len(str(units)))
    codes = [str(i).zfill(digits) for i in range(1, units + 1)]
    totals = rng.integers(30_000, 400_001, size=units)
    lat = np.round(rng.uniform(8.5, 23.3, size=units), 4)
    lon = np.round(rng.uniform(102.2, 109.4, size=units), 4)
    band_pop = _split_bands(totals)

    delay = rng.uniform(0, 45, size=units)
    params = {
        "early": rng.uniform(0.02, 0.08, size=units),
        "start": _day(date(2021, 9, 1)) + delay,
        "mid": _day(date(2021, 9, 28)) + delay + rng.uniform(0, 20, size=units),
        "width": rng.uniform(8, 16, size=units),
        "final": rng.uniform(0.60, 0.95, size=units),
        "teen_mid": _day(date(2021, 11, 12)) + delay + rng.uniform(0, 10, size=units),
        "teen_final": rng.uniform(0.55, 0.95, size=units),
        "booster": rng.uniform(0.40, 0.80, size=units),
        "booster_mid": _day(date(2022, 1, 20)) + rng.uniform(0, 30, size=units),
        "booster_width": rng.uniform(10, 20, size=units),
    }
    cumulative = _vaccination_curves(rng, days, band_pop[:, 2:], params)

    td = np.arange(days, dtype=float)[:, None]
    per_100k = totals[None, :] / 100_000
    outbreak = rng.uniform(0, 20, size=units) * _bump(
        td, rng.uniform(0, days, size=units), rng.uniform(5, 15, size=units)
    )
    community = rng.poisson(0.006 * per_100k + outbreak)
    imported = rng.poisson(per_100k * (0.015 + 0.35 * _bump(td, _day(date(2021, 9, 25)), 22.0)))

    dates = _dates(days)
    return {
        "units": _units_table(codes, [f"Đơn vị {c}" for c in codes], ["district"] * units, lat, lon),
        "population": _population_table(codes, band_pop),
        "vaccinations": _vaccinations_table(dates, codes, cumulative, None),
        "cases": _cases_table(dates, codes, community, imported, None),
    }


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


def main(argv=None) -> int:
    """Command line entry point: write the Tuyên Quang sample, or a synthetic dataset with --units/--days."""
    parser = argparse.ArgumentParser(prog="python -m tracker.sample", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(__file__).resolve().parent.parent / "data",
        help="output directory (default: the project's data/)",
    )
    parser.add_argument("--seed", type=int, default=SEED, help=f"random seed (default {SEED})")
    parser.add_argument("--units", type=int, help="number of synthetic units (with --days)")
    parser.add_argument("--days", type=int, help="number of synthetic report days (with --units)")
    args = parser.parse_args(argv)
    if (args.units is None) != (args.days is None):
        parser.error("--units and --days go together")
    if args.units is not None:
        if args.units < 1 or args.days < 1:
            parser.error("--units and --days must be positive")
        tables = synthetic(args.units, args.days, args.seed)
    else:
        tables = tuyen_quang(args.seed)
    write(tables, args.out)
    for name, df in tables.items():
        print(f"{args.out / (name + '.csv')}\t{len(df):,} rows")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
