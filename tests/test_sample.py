"""The bundled sample data is exactly what the seeded generator makes, and tells the intended story."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tracker import core, sample
from tracker.config import DATA_DIR, load_config
from tracker.ingest import read_table
from tracker.store import Dataset

FILES = ("units.csv", "population.csv", "vaccinations.csv", "cases.csv")


def _first_difference(made: Path, bundled: Path) -> str | None:
    """None if the two files are byte-identical, else where they first differ."""
    if made.read_bytes() == bundled.read_bytes():
        return None
    ours, theirs = made.read_text(encoding="utf-8").splitlines(), bundled.read_text(encoding="utf-8").splitlines()
    for number, (a, b) in enumerate(zip(ours, theirs, strict=False), start=1):
        if a != b:
            return f"first difference at line {number}: bundled {b!r}, generated {a!r}"
    return f"generated {len(ours)} lines, bundled {len(theirs)} (or only line ends differ)"


def _differences(made_dir: Path, bundled_dir: Path) -> list[str]:
    return [
        f"{name}: {problem}"
        for name in FILES
        if (problem := _first_difference(made_dir / name, bundled_dir / name)) is not None
    ]


def test_generator_reproduces_the_bundled_files(tmp_path):
    sample.main(["--out", str(tmp_path)])
    problems = _differences(tmp_path, DATA_DIR)
    assert not problems, "data/ differs from `python -m tracker.sample`:\n" + "\n".join(problems)


def _simd_levels() -> list[str]:
    """The SIMD levels beyond its baseline that NumPy found on this CPU and dispatches to."""
    try:
        from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__
    except ImportError:  # NumPy 1.x
        from numpy.core._multiarray_umath import __cpu_dispatch__, __cpu_features__
    return [name for name in __cpu_dispatch__ if __cpu_features__.get(name)]


def test_the_sample_does_not_depend_on_the_cpu(tmp_path):
    """The same files with NumPy's SIMD code paths switched off, as on a CPU without them.

    The bundled files once differed on a machine whose CPU had other SIMD levels: rounding noise of
    an FFT changed how many random numbers a Poisson draw took (see samplekit._noisy).
    """
    levels = _simd_levels()
    if not levels:
        pytest.skip("NumPy uses only its baseline on this CPU: nothing to switch off")
    env = {**os.environ, "NPY_DISABLE_CPU_FEATURES": " ".join(levels)}
    run = subprocess.run(
        [sys.executable, "-m", "tracker.sample", "--out", str(tmp_path)], env=env, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    problems = _differences(tmp_path, DATA_DIR)
    assert not problems, f"with NPY_DISABLE_CPU_FEATURES={' '.join(levels)!r}:\n" + "\n".join(problems)


def _bundled() -> Dataset:
    cfg = load_config()
    units = read_table(DATA_DIR / "units.csv", "units", cfg, None).frame
    known = set(units["unit_code"].astype(str))
    kinds = ("population", "vaccinations", "cases")
    frames = {k: read_table(DATA_DIR / f"{k}.csv", k, cfg, known).frame for k in kinds}
    return Dataset(units=units, **frames)


def test_population_matches_the_2015_yearbook():
    pop = pd.read_csv(DATA_DIR / "population.csv", dtype={"unit_code": str})
    totals = pop.groupby("unit_code")["population"].sum().to_dict()
    assert totals == {
        "070": 94_855,
        "071": 31_201,
        "072": 43_964,
        "073": 129_836,
        "074": 115_026,
        "075": 165_908,
        "076": 179_499,
    }


def test_the_sample_tells_the_intended_story():
    cfg = load_config()
    ds = _bundled()
    # at the deadlines: the adult target met by the province, the whole-population target missed
    final = core.evaluate(ds, cfg, dt.date(2022, 3, 31)).set_index(["unit_code", "target_id"])["status"]
    assert final[("TOTAL", "adults_50pct_2021")] == "met"
    assert final[("TOTAL", "all_70pct_2022q1")] == "missed"
    assert final[("070", "all_70pct_2022q1")] == "met"
    # a month before the first deadline some remote district is behind
    early = core.evaluate(ds, cfg, dt.date(2021, 12, 1))
    behind = early[(early["target_id"] == "adults_50pct_2021") & early["status"].isin(["at_risk", "off_track"])]
    assert set(behind["unit_code"]) & {"071", "072"}


def test_missing_days_and_the_correction_are_in_the_data():
    vacc = pd.read_csv(DATA_DIR / "vaccinations.csv", dtype={"unit_code": str}, parse_dates=["date"])
    for unit, days in sample.MISSING_DAYS.items():
        for day in days:
            assert vacc[(vacc["unit_code"] == unit) & (vacc["date"] == pd.Timestamp(day))].empty
    c = sample.CORRECTION
    series = vacc[
        (vacc["unit_code"] == c["unit_code"]) & (vacc["age_band"] == c["age_band"]) & (vacc["dose"] == c["dose"])
    ].sort_values("date")
    drops = series["people_cumulative"].diff() < 0
    assert drops.sum() == 1


def test_synthetic_dataset_has_twelve_series_per_unit_and_day():
    tables = sample.synthetic(units=5, days=10)
    assert len(tables["units"]) == 5
    assert len(tables["vaccinations"]) == 5 * 10 * 12
    assert len(tables["cases"]) == 5 * 10
