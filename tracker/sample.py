"""Seeded generator of illustrative sample data (NOT official figures).

Two generators share one vectorised curve machinery (tracker.samplekit):

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
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from tracker import samplekit as kit
from tracker.samplekit import (
    ADULT_BANDS,
    BAND_SHARES,
    BANDS,
    BOOSTER_START,
    START,
    TEEN_START,
    VACCINATED_BANDS,
    write,
)

__all__ = [
    "ADULT_BANDS", "BAND_SHARES", "BANDS", "BOOSTER_START", "CORRECTION", "DISTRICTS", "END", "MISSING_DAYS", "SEED",
    "START", "TEEN_START", "VACCINATED_BANDS", "main", "synthetic", "tuyen_quang", "write",
]  # fmt: skip

SEED = 174
"""Default seed (after Kế hoạch 174/KH-UBND)."""

END = date(2022, 3, 31)
"""Last report day of the Tuyên Quang sample."""

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


# --------------------------------------------------------------------------------------------------
# Public generators
# --------------------------------------------------------------------------------------------------


def tuyen_quang(seed: int = SEED) -> dict[str, pd.DataFrame]:
    """Illustrative sample for the 7 districts of Tuyên Quang, 2021-03-08 to 2022-03-31 (not official)."""
    rng = np.random.default_rng(seed)
    codes, names, types, totals, lat, lon = (list(column) for column in zip(*DISTRICTS, strict=True))
    totals = np.array(totals)
    band_pop = kit.split_bands(totals)
    days = kit.day(END) + 1
    dates = kit.report_dates(days)

    early, start, mid, width, final, teen_mid, teen_final, booster = zip(*(_TQ_CURVES[c] for c in codes), strict=True)
    params = {
        "early": early,
        "start": [kit.day(d) for d in start],
        "mid": [kit.day(d) for d in mid],
        "width": width,
        "final": final,
        "teen_mid": [kit.day(d) for d in teen_mid],
        "teen_final": teen_final,
        "booster": booster,
        "booster_mid": [kit.day(_TQ_BOOSTER_MID)] * len(codes),
        "booster_width": [_TQ_BOOSTER_WIDTH] * len(codes),
    }
    cumulative = kit.vaccination_curves(rng, days, band_pop[:, 2:], params)

    # The one downward correction (applied after dose 2 and 3 were derived from the true series).
    fix = CORRECTION
    first, band = kit.day(fix["first_date"]), VACCINATED_BANDS.index(fix["age_band"])
    cumulative[first : first + fix["days"], codes.index(fix["unit_code"]), band, fix["dose"] - 1] += fix["excess"]

    # Which rows exist: 12-17 from TEEN_START (doses 1-2), adults doses 1-2 always and dose 3 from
    # BOOSTER_START, and nothing for a district on its missing report days.
    t = np.arange(days)[:, None, None, None]
    is_teen = (np.arange(4) == 0)[None, None, :, None]
    dose = np.arange(1, 4)[None, None, None, :]
    reported = np.ones((days, len(codes)), dtype=bool)
    for code, missing in MISSING_DAYS.items():
        reported[[kit.day(d) for d in missing], codes.index(code)] = False
    keep = reported[:, :, None, None] & np.where(
        is_teen, (t >= kit.day(TEEN_START)) & (dose <= 2), (dose <= 2) | (t >= kit.day(BOOSTER_START))
    )

    # Cases: sporadic community cases, imported cases (returning workers, more in Aug-Oct 2021) and
    # one community cluster in Sơn Dương in late 2021 with a few spill-over cases in Yên Sơn.
    td = np.arange(days, dtype=float)[:, None]
    per_100k = totals[None, :] / 100_000
    in_cluster = (td >= kit.day(date(2021, 11, 20))) & (td <= kit.day(date(2021, 12, 15)))
    outbreak = 15.0 * kit.bump(td, kit.day(date(2021, 12, 1)), 6.0) * in_cluster
    spread = np.array([{"076": 1.0, "075": 0.04}.get(c, 0.0) for c in codes])
    community = rng.poisson(0.006 * per_100k + outbreak * spread)
    imported = rng.poisson(per_100k * (0.015 + 0.35 * kit.bump(td, kit.day(date(2021, 9, 25)), 22.0)))

    return {
        "units": kit.units_table(codes, names, types, lat, lon),
        "population": kit.population_table(codes, band_pop),
        "vaccinations": kit.vaccinations_table(dates, codes, cumulative, keep),
        "cases": kit.cases_table(dates, codes, community, imported, reported),
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
    band_pop = kit.split_bands(totals)

    delay = rng.uniform(0, 45, size=units)
    params = {
        "early": rng.uniform(0.02, 0.08, size=units),
        "start": kit.day(date(2021, 9, 1)) + delay,
        "mid": kit.day(date(2021, 9, 28)) + delay + rng.uniform(0, 20, size=units),
        "width": rng.uniform(8, 16, size=units),
        "final": rng.uniform(0.60, 0.95, size=units),
        "teen_mid": kit.day(date(2021, 11, 12)) + delay + rng.uniform(0, 10, size=units),
        "teen_final": rng.uniform(0.55, 0.95, size=units),
        "booster": rng.uniform(0.40, 0.80, size=units),
        "booster_mid": kit.day(date(2022, 1, 20)) + rng.uniform(0, 30, size=units),
        "booster_width": rng.uniform(10, 20, size=units),
    }
    cumulative = kit.vaccination_curves(rng, days, band_pop[:, 2:], params)

    td = np.arange(days, dtype=float)[:, None]
    per_100k = totals[None, :] / 100_000
    outbreak = rng.uniform(0, 20, size=units) * kit.bump(
        td, rng.uniform(0, days, size=units), rng.uniform(5, 15, size=units)
    )
    community = rng.poisson(0.006 * per_100k + outbreak)
    imported = rng.poisson(per_100k * (0.015 + 0.35 * kit.bump(td, kit.day(date(2021, 9, 25)), 22.0)))

    dates = kit.report_dates(days)
    return {
        "units": kit.units_table(codes, [f"Đơn vị {c}" for c in codes], ["district"] * units, lat, lon),
        "population": kit.population_table(codes, band_pop),
        "vaccinations": kit.vaccinations_table(dates, codes, cumulative, None),
        "cases": kit.cases_table(dates, codes, community, imported, None),
    }


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
