"""warn_series reads the rows along their series a block at a time (tracker.ingest.series.BLOCK, so that
millions of rows need no array of millions for each step). Its warnings and order must not depend on where
the blocks fall: checked against a reference that walks each series in Python, on random files with
corrections, gaps and spikes, date-major as exports are or shuffled, with blocks of 1 row to all of them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tracker.ingest import series as S
from tracker.ingest.kinds import Checker
from tracker.ingest.options import SPIKE_FACTOR, SPIKE_MIN_DOSES, SPIKE_WINDOW

SEEDS = range(12)
BLOCKS = (1, 2, 3, SPIKE_WINDOW, SPIKE_WINDOW + 1, SPIKE_WINDOW + 2, 16, 1 << 18)
STORED = 10**9  # what the ``base`` below says was stored before every series: above every first report


def random_frame(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for unit in (f"{u:03d}" for u in range(int(rng.integers(1, 4)))):
        for band in ("18-49", "65+")[: int(rng.integers(1, 3))]:
            for dose in (1, 2):
                first = int(rng.integers(0, 10))
                days = np.arange(first, first + int(rng.integers(1, 40)))
                days = days[rng.random(len(days)) > 0.08]  # a few days without a report
                # mostly a steady pace, sometimes a spike, sometimes a correction
                step = rng.choice([8, 12, 15, 300, 700, -20], size=len(days), p=[0.3, 0.3, 0.25, 0.06, 0.04, 0.05])
                people = 100 + np.cumsum(step)
                rows += [(int(d), unit, band, dose, int(p)) for d, p in zip(days, people, strict=True)]
    frame = pd.DataFrame(rows, columns=["day", "unit_code", "age_band", "dose", "people_cumulative"])
    frame = frame.sort_values("day", kind="stable") if seed % 2 else frame.sample(frac=1, random_state=seed)
    frame["date"] = pd.Timestamp("2021-10-01") + pd.to_timedelta(frame.pop("day"), unit="D")
    for col in ("unit_code", "age_band"):
        frame[col] = frame[col].astype("category")
    return frame.reset_index(drop=True)


def reference(frame: pd.DataFrame) -> dict[str, set[int]]:
    """The rows each rule names, each series walked in date order."""
    w, found = SPIKE_WINDOW, {"warning.correction": set(), "warning.spike": set(), "warning.correction_stored": set()}
    for _, g in frame.groupby(["unit_code", "age_band", "dose"], observed=True):
        g = g.sort_values("date")
        pos, p = g.index.to_numpy(), g["people_cumulative"].to_numpy()
        d = ((g["date"] - pd.Timestamp("2021-10-01")).dt.days).to_numpy()
        found["warning.correction_stored"].add(int(pos[0]))
        for i in range(1, len(g)):
            if p[i] < p[i - 1]:
                found["warning.correction"].add(int(pos[i]))
            if i >= w + 1 and d[i] - d[i - w - 1] == w + 1:
                new, before = p[i] - p[i - 1], p[i - 1] - p[i - 1 - w]
                if new >= SPIKE_MIN_DOSES and before > 0 and new * w > SPIKE_FACTOR * before:
                    found["warning.spike"].add(int(pos[i]))
    return found


def warned(frame: pd.DataFrame, block: int, monkeypatch) -> tuple[list, S.SeriesOrder]:
    monkeypatch.setattr(S, "BLOCK", block)
    check = Checker(np.arange(2, 2 + len(frame)))
    series = S.key_codes(frame, S.SERIES)[0]
    by = S.warn_series(frame, series, check, lambda starts: np.full(starts.num_rows, STORED), False)
    return check.problems, by


@pytest.mark.parametrize("seed", SEEDS)
def test_the_warnings_are_those_of_each_series_walked_in_order_wherever_the_blocks_fall(seed, monkeypatch):
    frame = random_frame(seed)
    expected = reference(frame)
    problems, by = warned(frame, 1 << 18, monkeypatch)
    got = {code: {p.row - 2 for p in problems if p.code == code} for code in expected}
    assert got == expected
    assert len(problems) == sum(map(len, expected.values())) < 200  # every one shown: none capped
    peaks = frame.groupby(["unit_code", "age_band", "dose"], observed=True)["people_cumulative"].max()
    assert by.peaks.tolist() == peaks.tolist()  # each series' largest count, the series in code order
    for block in BLOCKS:
        blocked, blocked_by = warned(frame, block, monkeypatch)
        assert blocked == problems, block
        for got, expected in zip(blocked_by, by, strict=True):
            assert np.array_equal(got, expected), block


def test_the_random_files_raise_every_warning():
    """Else the equality above would prove little."""
    found = [reference(random_frame(seed)) for seed in SEEDS]
    for code in ("warning.correction", "warning.spike"):
        assert sum(len(f[code]) for f in found) >= 10, code


@pytest.mark.parametrize("seed", SEEDS[:4])
def test_the_population_checks_find_the_same_rows_wherever_the_blocks_fall(seed, monkeypatch):
    """tracker.ingest.population reads its rows in the same blocks: reports above the population (one
    warning per series, at its first) and above the limit (an error per row) at any block size."""
    from tracker.config import load_config
    from tracker.ingest import population as P

    cfg = load_config()
    frame = random_frame(seed)
    units = list(frame["unit_code"].cat.categories)
    # each unit's population a little under some of its reports; the first unit's far under
    people = frame.groupby(["unit_code", "age_band"], observed=True)["people_cumulative"].median()
    stored = {"unit_code": [], "age_band": [], "population": []}
    for (unit, band), median in people.items():
        stored["unit_code"].append(unit)
        stored["age_band"].append(band)
        stored["population"].append(int(median) if unit != units[0] else max(1, int(median) // 200))
    assert units
    found = {}
    for block in (1 << 18, 1, 2, 3, 5, 16):
        monkeypatch.setattr(P, "BLOCK", block)
        found[block] = P.population_checks(frame, stored, cfg, np.arange(2, 2 + len(frame)))
    assert all(f == found[1 << 18] for f in found.values())
    # given each series' largest count (the canonical path), the same; and nothing at all read from the rows
    # when no series is above its population
    summary = S.series_summary(frame, warned(frame, 1 << 18, monkeypatch)[1])
    assert P.population_checks(frame, stored, cfg, np.arange(2, 2 + len(frame)), summary) == found[1 << 18]
    ample = {**stored, "population": [10**9] * len(stored["population"])}
    monkeypatch.setattr(P, "BLOCK", None)  # a read of the rows would fail
    assert P.population_checks(frame, ample, cfg, np.arange(2, 2 + len(frame)), summary) == ([], 0)
    problems, absurd = found[1 << 18]
    # by hand: each row's population, the rows above the limit, and each series' first row above 100 %
    population = dict(zip(zip(stored["unit_code"], stored["age_band"], strict=True), stored["population"], strict=True))
    pop = np.array([population[(u, b)] for u, b in zip(frame["unit_code"], frame["age_band"], strict=True)])
    far = frame["people_cumulative"].to_numpy() > cfg.limits.max_per_population * pop
    over = frame[(frame["people_cumulative"].to_numpy() > pop) & ~far]
    firsts = over.sort_values("date", kind="stable").groupby(["unit_code", "age_band", "dose"], observed=True).head(1)
    assert [p.row - 2 for p in problems if p.code == "limit.per_population"] == np.flatnonzero(far).tolist()
    assert absurd == int(far.sum()) > 0
    assert sorted(p.row - 2 for p in problems if p.code == "warning.over_population") == sorted(firsts.index)
    assert len(firsts) > 0 and len(units) > 0


def test_a_full_export_is_put_in_series_order_without_a_sort():
    """Every date listing the same series in the same order (tracker.ingest.series.grid_of) gives, computed
    where indexed (GridOrder), the order a sort gives; one row out of place, a series missing on a day or a
    date out of order are sorted."""
    rng = np.random.default_rng(7)
    per_day = rng.permutation(np.arange(0, 300, 7))  # the series codes, in the file's own order
    days = np.repeat(np.arange(40), len(per_day))
    series = np.tile(per_day, 40)
    grid = S.grid_of(days, series)
    order, sorted_ = S.GridOrder(grid, len(series)), np.lexsort((days, series))
    assert np.array_equal(np.asarray(order), sorted_) and len(order) == len(sorted_)
    k = rng.integers(0, len(series), 500)
    assert np.array_equal(order[k], sorted_[k]) and order[17] == sorted_[17] and len(order[k[:0]]) == 0
    swapped = series.copy()
    swapped[[50, 51]] = swapped[[51, 50]]
    gap = np.delete(series, 100), np.delete(days, 100)
    for dates, codes in ((days, swapped), (gap[1], gap[0]), (np.sort(days)[::-1], series)):
        assert S.grid_of(dates, codes) is None
        assert np.array_equal(S._series_order(dates, codes), np.lexsort((dates, codes)))


def random_export(seed: int) -> pd.DataFrame:
    """A full export: every date (some days skipped) lists the same series in the same (random) order, with
    corrections and spikes along them."""
    rng = np.random.default_rng(seed)
    keys = [(f"{u:03d}", band, dose) for u in range(int(rng.integers(1, 4))) for band in ("18-49", "65+")
            for dose in (1, 2)]  # fmt: skip
    keys = [keys[i] for i in rng.permutation(len(keys))][: int(rng.integers(1, len(keys) + 1))]
    day = np.flatnonzero(rng.random(int(rng.integers(1, 45))) > 0.08)  # the dates, a few days without a report
    step = rng.choice([8, 12, 15, 300, 700, -20], size=(len(day), len(keys)), p=[0.3, 0.3, 0.25, 0.06, 0.04, 0.05])
    people = 100 + np.cumsum(step, axis=0)
    frame = pd.DataFrame(
        {
            "date": pd.Timestamp("2021-10-01") + pd.to_timedelta(np.repeat(day, len(keys)), unit="D"),
            "unit_code": pd.Categorical([k[0] for k in keys] * len(day)),
            "age_band": pd.Categorical([k[1] for k in keys] * len(day)),
            "dose": np.array([k[2] for k in keys] * len(day), dtype=np.int8),
            "people_cumulative": people.ravel().astype(np.int64),
        }
    )
    return frame


def warned_grid(frame: pd.DataFrame, block: int, monkeypatch) -> tuple[list, S.SeriesOrder]:
    monkeypatch.setattr(S, "BLOCK", block)
    grid = S.full_export(frame, S.days(frame["date"]), S.SERIES)
    assert grid is not None
    check = Checker(np.arange(2, 2 + len(frame)))
    by = S.warn_grid(frame, grid, check, lambda starts: np.full(starts.num_rows, STORED), False)
    return check.problems, by


@pytest.mark.parametrize("seed", SEEDS)
def test_a_full_export_read_as_its_grid_warns_as_each_series_walked_in_order(seed, monkeypatch):
    """warn_grid (blocks of dates, no order made) gives the warnings, in the same order, and the order,
    starts and largest counts that the sort and walk of warn_series give, and the reference's rows."""
    frame = random_export(seed)
    expected = reference(frame)
    with monkeypatch.context() as m:
        m.setattr(S, "grid_of", lambda dates, series: None)  # warn_series sorts
        walked, walked_by = warned(frame, 1 << 18, m)
    assert {code: {p.row - 2 for p in walked if p.code == code} for code in expected} == expected
    for block in BLOCKS:
        problems, by = warned_grid(frame, block, monkeypatch)
        assert problems == walked, block
        assert isinstance(by.order, S.GridOrder)
        for got, want in zip(by, walked_by, strict=True):
            assert np.array_equal(got, want), block
        # warn_series itself reads a full export as its grid
        assert warned(frame, block, monkeypatch)[0] == walked


def test_the_random_exports_raise_every_warning():
    found = [reference(random_export(seed)) for seed in SEEDS]
    for code in ("warning.correction", "warning.spike"):
        assert sum(len(f[code]) for f in found) >= 10, code


def test_only_a_full_export_is_read_as_a_grid():
    """tracker.ingest.series.full_export, from the key columns: one block of rows a date, the dates rising,
    every block the first's distinct series in the same order. Any row otherwise is another file."""
    frame = random_export(3)
    s = frame["date"].eq(frame["date"].iloc[0]).sum()
    assert s > 1 and len(frame) > 3 * s
    grid = S.full_export(frame, S.days(frame["date"]), S.SERIES)
    assert grid is not None and grid.width == s

    def changed(column, at, value):
        other = frame.copy()
        other[column] = other[column].astype(object)
        other.loc[at, column] = value
        if column in ("unit_code", "age_band"):
            other[column] = other[column].astype("category")
        return other

    last = len(frame) - 1
    band = frame["age_band"].iloc[last]
    twice = frame.copy()  # each date's second row the same series as its first
    second = np.arange(len(frame)) % s == 1
    for column in S.SERIES:
        twice.loc[second, column] = frame[column].to_numpy()[np.arange(len(frame)) % s == 0]
    others = {
        "a band swapped on the last row": changed("age_band", last, "65+" if band == "18-49" else "18-49"),
        "a dose changed mid-file": changed("dose", s + 1, 3),
        "a unit changed": changed("unit_code", 2 * s, "999"),
        "a date listed in two blocks": changed("date", slice(s, 2 * s - 1), frame["date"].iloc[0]),
        "a date out of place in its block": changed("date", s + 1, frame["date"].iloc[2 * s]),
        "a series missing on a day": frame.drop(index=s + 1).reset_index(drop=True),
        "the dates falling": frame.iloc[::-1].reset_index(drop=True),
        "a series twice on each date": twice,
    }
    for name, other in others.items():
        assert S.full_export(other, S.days(other["date"]), S.SERIES) is None, name
    assert S.full_export(frame.iloc[: len(frame) - 1], S.days(frame["date"].iloc[:-1]), S.SERIES) is None
    one_date = frame.iloc[:s]
    alone = S.full_export(one_date, S.days(one_date["date"]), S.SERIES)
    assert alone.width == s and np.array_equal(alone.columns, grid.columns)


@pytest.mark.parametrize("block", (1, 2, 3, 16, 1 << 18))
def test_the_overlap_check_finds_a_row_of_every_series_wherever_the_blocks_fall(block, monkeypatch):
    from tracker.ingest import overlaps

    monkeypatch.setattr(overlaps, "BLOCK", block)
    key = np.random.default_rng(block).integers(0, 50, size=400)
    key[-1] = 60  # one series only on the last row
    distinct = np.unique(key)
    rows = overlaps._a_row_of_each(key, 61, distinct)
    assert np.array_equal(key[rows], distinct)


def test_a_repeated_date_and_series_is_found_in_any_file_but_a_full_export():
    """tracker.ingest.clean._repeats keys every row: a full export (every date the same series, one block of
    rows a date, the dates rising) is not asked (full_export above); a date listed in two blocks is keyed."""
    from tracker.ingest.clean import _repeats

    per_day = np.array([5, 3, 9, 1])
    days = np.repeat(np.arange(100, 110), 4)
    series = np.tile(per_day, 10)
    assert not _repeats(days, series)
    twice = days.copy()
    twice[8:12] = twice[4]  # the second date's series listed again in the next block
    assert _repeats(twice, series)
    assert _repeats(np.r_[days, days[:1]], np.r_[series, series[:1]])  # one row again
    assert not _repeats(days[1:], series[1:])  # no repeat
    assert not _repeats(np.r_[days, 200], np.r_[series, 70_000])  # a series code far apart
