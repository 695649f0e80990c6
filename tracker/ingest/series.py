"""Keys and series of a table of rows (a pandas DataFrame or a pyarrow Table, tracker.ingest.columns):
each row's key as one integer, and the warnings along each series (unit, band, dose) in date order."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from tracker.ingest.columns import arrow_array, arrow_strings, coded, days, is_arrow_column, numbers, values_at
from tracker.ingest.kinds import DAILY_COLUMN, Checker
from tracker.ingest.options import SPIKE_FACTOR, SPIKE_MIN_DOSES, SPIKE_WINDOW, Message

SERIES = ["unit_code", "age_band", "dose"]


def key_codes(frame, keys: list[str]) -> tuple[np.ndarray, list[int]]:
    """One integer per row identifying its key (fast duplicate detection on millions of rows).

    Mixed radix: the first key column is the most significant digit; also returns each digit's size.
    Text columns give their dictionary codes (pandas categories, Arrow dictionaries), numbers and dates
    their offset from the smallest. Built in place in one array, int32 while the keys fit (at 25 M rows
    each temporary is 100 MB), else int64.
    """
    digits = [_digit(frame[col]) for col in keys]
    return _combined(digits, len(frame)), [int(size) for _, _, size in digits]


def _combined(digits: list[tuple[np.ndarray, int, int]], n: int) -> np.ndarray:
    """The first n rows' keys from each key column's codes, lowest value and size (`_digit`)."""
    span = 1
    for _, _, size in digits:
        span *= int(size)
    combined = np.zeros(n, dtype=np.int32 if span < 2**31 else np.int64)
    for codes, low, size in digits:
        combined *= size
        combined += codes[:n]
        combined -= low
    return combined


def _digit(values) -> tuple[np.ndarray, int, int]:
    """A key column's codes, their lowest possible value and how many values a digit spans."""
    arrow = is_arrow_column(values)
    if hasattr(values, "cat") or (arrow and (values.null_count or _arrow_text(values))):
        found = coded(values)
        return found.codes, -1, len(found.values) + 1  # -1 (missing): 0
    codes = days(values) if arrow else numbers(values)
    if codes.dtype.kind not in "iuM" or (codes.dtype.kind == "M" and np.isnat(codes).any()):  # with gaps
        import pandas as pd  # a pandas column: pandas is loaded

        codes, uniques = pd.factorize(values, use_na_sentinel=True)  # numbered in order of appearance
        return codes, -1, len(uniques) + 1
    if codes.dtype.kind == "M":
        codes = days(codes)
    if not len(codes):
        return codes, 0, 1
    low = codes.min()
    return codes, low, int(codes.max()) - int(low) + 1


def _arrow_text(values) -> bool:
    import pyarrow as pa

    return pa.types.is_dictionary(values.type) or pa.types.is_string(values.type)


def has_repeats(key: np.ndarray) -> bool:
    """Whether a key (non-negative integers) occurs twice: a flag per possible key while there are at
    most 256 M of them (a byte each), else a sort."""
    if len(key) and key.max() < 2**28:
        seen = np.zeros(int(key.max()) + 1, dtype=bool)
        seen[key] = True
        return bool(np.count_nonzero(seen) < len(key))
    ordered = np.sort(key)
    return bool((ordered[1:] == ordered[:-1]).any())


# Rows read at a time along the series: each block's temporaries stay in the cache and their memory is reused,
# where arrays of millions of rows would each be fresh pages the kernel must fault in (docs/performance.md)
BLOCK = 1 << 18


class SeriesOrder(NamedTuple):
    """The rows by series, then date: ``order`` their positions, ``starts`` where each series starts in it,
    ``peaks`` each series' largest count."""

    order: np.ndarray | GridOrder
    starts: np.ndarray
    peaks: np.ndarray


class Grid(NamedTuple):
    """A full export's shape: the same ``width`` distinct series in the same order on each of its dates, the
    dates rising with the rows. ``columns``: each series' place in a date's rows, the series in code order."""

    width: int
    columns: np.ndarray


class GridOrder:
    """A full export's rows by series, then date (what sorting them would give: `SeriesOrder.order`), as
    positions computed where indexed (0 ≤ k < n): the k-th is the (k mod D)-th date's row of the series
    ranked k // D. The n positions themselves would be 100 MB at 25 M rows, read for a handful of
    warnings and the series' ends; ``np.asarray`` makes them."""

    __slots__ = ("columns", "width", "dates")

    def __init__(self, grid: Grid, n: int):
        self.columns, self.width = grid.columns, grid.width
        self.dates = n // grid.width if grid.width else 0

    def __len__(self) -> int:
        return self.width * self.dates

    def __getitem__(self, k):
        k = np.asarray(k, dtype=np.int64)
        return self.columns[k // self.dates] + (k % self.dates) * self.width

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        n = len(self)
        steps = np.arange(0, n, self.width or 1, dtype=np.int32 if n < 2**31 else np.int64)
        return (self.columns.astype(steps.dtype)[:, None] + steps[None, :]).ravel().astype(dtype or steps.dtype)


# what a walk along the series finds, as places in its order: the rows below the one before (and that count),
# and the rows whose new doses are a spike by the count tests (and the doses of their window)
FOUND = ("down", "down_was", "hits", "hit_was")


def warn_series(frame, series: np.ndarray, check: Checker, base, daily: bool) -> SeriesOrder:
    """Warnings along each series (unit, band, dose) in date order.

    - a cumulative count below the previous report (in the file, or for a series' first date, the
      stored value before it, from `base`): a correction;
    - a day's new doses (the difference from the report of the day before: the daily figure itself
      for daily input) above SPIKE_FACTOR × the average of the SPIKE_WINDOW days before it, and at
      least SPIKE_MIN_DOSES; checked where the series has a report on each of those days and on the
      day before them, and that average is above zero.

    Returns the order it read the rows in (`series_summary` takes it). A full export is read as its grid
    (`warn_grid`).
    """
    dates = days(frame["date"])
    grid = grid_of(dates, series)
    if grid is not None:
        return warn_grid(frame, grid, check, base, daily)
    order = _series_order(dates, series)
    values = numbers(frame["people_cumulative"])
    w = SPIKE_WINDOW
    found: dict[str, list[np.ndarray]] = {name: [] for name in FOUND}
    starts: list[np.ndarray] = []  # where a series starts
    peaks: list[np.ndarray] = []  # each block's largest count of each series it holds
    goes_on: list[bool] = []  # whether a block's first series is the previous block's last
    for start in range(0, len(order), BLOCK):  # a block and the w + 1 rows before it
        low = max(0, start - w - 1)
        at = order[low : start + BLOCK]
        people, ordered = values[at], series[at]
        mine = start - low  # the block's first row in ``at``
        new = np.diff(people)  # new[i - 1]: row i's count less the one before it
        same = ordered[1:] == ordered[:-1]
        down = np.flatnonzero(same[max(mine - 1, 0) :] & (new[max(mine - 1, 0) :] < 0)) + max(mine, 1)
        found["down"].append(down + low)
        found["down_was"].append(people[down - 1])
        firsts = np.flatnonzero(~same[max(mine - 1, 0) :]) + max(mine, 1)
        starts.append(firsts + low)
        # the largest count of each series in the block: its segments start at its first row and where a
        # series starts; the first goes on with the previous block's last series unless a series starts there
        starts_here = bool(len(firsts)) and firsts[0] == mine  # a series starts on the block's first row
        segments = firsts - mine if starts_here else np.r_[0, firsts - mine]
        peaks.append(np.maximum.reduceat(people[mine:], segments))
        goes_on.append(start > 0 and not starts_here)
        # spikes: row i's new doses against the w days before it, people[i - 1] - people[i - 1 - w]; the cheap
        # test first, the rest on the few rows that pass it
        i = np.flatnonzero(new[max(mine, w + 1) - 1 :] >= SPIKE_MIN_DOSES) + max(mine, w + 1)
        before = people[i - 1] - people[i - 1 - w]
        spike = (before > 0) & (new[i - 1] * w > SPIKE_FACTOR * before) & (ordered[i - w - 1] == ordered[i])
        found["hits"].append(i[spike] + low)
        found["hit_was"].append(before[spike])
    begins = np.r_[0, _joined(starts)] if len(order) else _joined(starts)  # each series' first place: 0 first
    by = SeriesOrder(order, begins, _peaks(peaks, goes_on))
    _warn_found(frame, by, values, [_joined(found[name]) for name in FOUND], check, base, daily)
    return by


def warn_grid(frame, grid: Grid, check: Checker, base, daily: bool) -> SeriesOrder:
    """`warn_series` on a full export, read as its grid: the counts as one row of series a date, a block of
    dates at a time, each test on whole rows of them, with no order of the rows made (`GridOrder`) and no
    gather of them by series. Each series' first report is on the first date and its reports follow on
    each date. The same warnings, in the same order, and the same order returned (its places computed
    where indexed)."""
    values = numbers(frame["people_cumulative"])
    s, w = grid.width, SPIKE_WINDOW
    n_dates = len(values) // s
    counts = values.reshape(n_dates, s)  # a view: row d, the d-th date's counts in the file's column order
    rank = np.empty(s, dtype=np.int64)
    rank[grid.columns] = np.arange(s)  # a column's series' place among the series
    found: dict[str, list[np.ndarray]] = {name: [] for name in FOUND}
    peaks = counts[0].copy()
    per = max(1, BLOCK // s)  # the dates of a block
    # each step's result written into the same few arrays: a block's fresh temporaries, freed and made again,
    # would each be pages the kernel faults in again (97 k faults at 25 M rows, against 2.5 k)
    new, before, product, scaled = (np.empty((per, s), dtype=counts.dtype) for _ in range(4))
    test, also = np.empty((per, s), dtype=bool), np.empty((per, s), dtype=bool)
    most = np.empty(s, dtype=counts.dtype)
    for first in range(0, n_dates, per):  # whole rows of dates: each step a slice of the counts, not a gather
        last = min(first + per, n_dates)
        np.maximum(peaks, counts[first:last].max(axis=0, out=most), out=peaks)
        low = max(first, 1)  # dates with one before them
        if low >= last:
            continue
        rows = slice(0, last - low)
        np.subtract(counts[low:last], counts[low - 1 : last - 1], out=new[rows])  # a date's less the one before
        j, col = np.nonzero(np.less(new[rows], 0, out=test[rows]))
        found["down"].append(rank[col] * n_dates + low + j)
        found["down_was"].append(counts[low + j - 1, col])
        far = max(first, w + 1)  # dates with w + 1 dates before them in their series
        if far >= last:
            continue
        rows, doses = slice(0, last - far), new[far - low : last - low]
        # the doses of the w dates before
        np.subtract(counts[far - 1 : last - 1], counts[far - 1 - w : last - 1 - w], out=before[rows])
        spike = np.greater_equal(doses, SPIKE_MIN_DOSES, out=test[rows])
        spike &= np.greater(before[rows], 0, out=also[rows])
        np.multiply(doses, w, out=product[rows])
        np.multiply(before[rows], SPIKE_FACTOR, out=scaled[rows])
        spike &= np.greater(product[rows], scaled[rows], out=also[rows])
        j, col = np.nonzero(spike)
        found["hits"].append(rank[col] * n_dates + far + j)
        found["hit_was"].append(before[j, col])
    # places in the order: each series' rows in date order, the series in code order, as a sort would list them
    down, down_was, hits, hit_was = (_joined(found[name]) for name in FOUND)
    by_place, hit_place = np.argsort(down, kind="stable"), np.argsort(hits, kind="stable")
    by = SeriesOrder(GridOrder(grid, len(values)), np.arange(s, dtype=np.int64) * n_dates, peaks[grid.columns])
    walked = [down[by_place], down_was[by_place], hits[hit_place], hit_was[hit_place]]
    _warn_found(frame, by, values, walked, check, base, daily)
    return by


def _warn_found(frame, by: SeriesOrder, values: np.ndarray, found, check: Checker, base, daily: bool) -> None:
    """The warnings of what a walk along the series found (places in ``by.order``)."""
    order, starts = by.order, by.starts
    down, down_was, hits, hit_was = found
    if len(down):
        now = values[order[down]]
        _sub_warn(
            check,
            order[down],
            "people_cumulative",
            lambda i: ("warning.correction", {"value": now[i], "before": down_was[i]}),
        )
    if base is not None and not daily and len(order):  # daily input was added on top of the stored value
        _warn_below_stored(frame, order[starts], values, check, base)
    _warn_spikes(frame, order, hits, hit_was, values, check, DAILY_COLUMN if daily else "people_cumulative")


def _series_order(dates: np.ndarray, series: np.ndarray) -> np.ndarray:
    """The row positions by series, then date, sorted (a full export is read as its grid instead)."""
    in_date_order = bool((dates[1:] >= dates[:-1]).all())
    if in_date_order and series.max(initial=0) < 2**16:
        order = np.argsort(series.astype(np.uint16), kind="stable")  # radix sort: O(rows)
    elif in_date_order:
        order = np.argsort(series, kind="stable")  # one run per date: merged, not sorted from scratch
    else:
        order = np.lexsort((dates, series))
    if len(order) < 2**31:
        order = order.astype(np.int32)  # half the memory of millions of positions
    return order


def grid_of(dates: np.ndarray, series: np.ndarray) -> Grid | None:
    """The grid of rows in date order that list the same distinct series in the same order for every date,
    as a full export does (from each row's series code); None for any other file."""
    s = _first_date_rows(dates)
    if not s or not (dates[1:] >= dates[:-1]).all() or not (series.reshape(-1, s) == series[:s]).all():
        return None
    return _grid(series[:s])


def full_export(frame, dates: np.ndarray, keys: list[str]) -> Grid | None:
    """The grid of a full export, read from its key columns without a key per row (`key_codes`): one block
    of rows a date, the dates rising, and each block listing the distinct series of the first in the same
    order. Such a file cannot list a date and series twice. None for any other file."""
    s = _first_date_rows(dates)
    if not s:
        return None
    firsts = dates[::s]  # each block's date: the same on all its rows, and later than the block before
    if not (firsts[1:] > firsts[:-1]).all():
        return None
    digits = [_digit(frame[col]) for col in keys]
    grid = _grid(_combined(digits, s))  # the first date's series, by code
    if grid is None:
        return None
    step = max(1, BLOCK // s) * s  # blocks of whole dates
    for start in range(0, len(dates), step):
        block = slice(start, start + step)
        if not (dates[block].reshape(-1, s) == dates[block][::s, None]).all():
            return None
        if not all((codes[block].reshape(-1, s) == codes[:s]).all() for codes, _, _ in digits):
            return None
    return grid


def _first_date_rows(dates: np.ndarray) -> int:
    """How many rows the first date has, where the rows could be blocks of that many; else 0."""
    n = len(dates)
    s = int(np.searchsorted(dates, dates[0], side="right")) if n else 0
    return s if s and not n % s and n < 2**31 else 0


def _grid(first: np.ndarray) -> Grid | None:
    """The grid whose first date lists the series ``first`` (codes); None when one is there twice."""
    if len(np.unique(first)) != len(first):
        return None
    return Grid(len(first), np.argsort(first, kind="stable").astype(np.int64))


def _peaks(parts: list[np.ndarray], goes_on: list[bool]) -> np.ndarray:
    """Each series' largest count from each block's, a block's first joined to the series before it where
    it goes on with it."""
    if not parts:
        return np.zeros(0, dtype=np.int64)
    joined = np.concatenate(parts)
    heads = np.zeros(len(joined), dtype=bool)  # the first value of each block that goes on
    heads[np.cumsum([0] + [len(p) for p in parts[:-1]])[np.array(goes_on)]] = True
    return np.maximum.reduceat(joined, np.flatnonzero(~heads))


def _joined(parts: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def series_summary(frame, by: SeriesOrder):
    """Each series' first and last report date and its last value, as the pyarrow Table that
    tracker.store.schema.merge_series takes (what its SERIES_OF query computes from the rows), from the
    order `warn_series` read the rows in: 8,400 rows for a file of millions, without a GROUP BY of them
    in the store (docs/performance.md). The keys of the rows are distinct."""
    import pyarrow as pa

    order, starts, peaks = by
    firsts = order[starts]
    lasts = order[np.r_[starts[1:] - 1, len(order) - 1]] if len(order) else firsts
    dates = days(frame["date"])
    return pa.table(
        {
            "unit_code": arrow_strings(coded(frame["unit_code"]).at(lasts)),
            "age_band": arrow_strings(coded(frame["age_band"]).at(lasts)),
            "dose": arrow_array(numbers(frame["dose"])[lasts].astype(np.int8)),
            "first_date": arrow_array(dates[firsts].astype(np.int32), pa.date32()),
            "last_date": arrow_array(dates[lasts].astype(np.int32), pa.date32()),
            "last_value": arrow_array(numbers(frame["people_cumulative"])[lasts].astype(np.int64)),
            "peak": arrow_array(peaks.astype(np.int64)),  # the largest count (population_checks)
        }
    )


def _sub_warn(check: Checker, positions: np.ndarray, column: str, message: Callable[[int], Message]) -> None:
    label = check.labels.get(column, column)
    sub = Checker(check.rows[positions], {column: label[positions] if isinstance(label, np.ndarray) else label})
    sub.mask(np.ones(len(positions), bool), column, message, severity="warning")
    check.problems.extend(sub.problems)


def _warn_below_stored(frame, positions: np.ndarray, values: np.ndarray, check: Checker, base) -> None:
    """``positions``: the first row of each series in the file."""
    stored = base(starts_table(frame, positions))  # -1: nothing stored before
    first = values[positions]
    lower = np.flatnonzero(stored > first)
    if len(lower):
        _sub_warn(
            check,
            positions[lower],
            "people_cumulative",
            lambda i: ("warning.correction_stored", {"value": first[lower[i]], "before": int(stored[lower[i]])}),
        )


def starts_table(frame, positions: np.ndarray):
    """The series (unit_code, age_band, dose) and date of the rows at ``positions``, as the pyarrow Table
    a ``base`` lookup takes (tracker.ingest.pipeline.Reading). Built from numpy, for either shape: a
    pyarrow ``take`` would import pyarrow.compute (25 ms, a tenth of a daily drop)."""
    import pyarrow as pa

    positions = np.asarray(positions, dtype=np.int64)
    return pa.table(
        {
            "unit_code": arrow_strings(coded(frame["unit_code"]).at(positions)),
            "age_band": arrow_strings(coded(frame["age_band"]).at(positions)),
            "dose": arrow_array(numbers(frame["dose"])[positions].astype(np.int64)),
            "date": arrow_array(days(frame["date"])[positions].astype(np.int32), pa.date32()),
        }
    )


def _warn_spikes(frame, order, hits, before, values, check: Checker, column: str) -> None:
    """The spikes among ``hits`` (places in ``order`` whose new doses passed the count tests, ``before``
    their w days' doses): those whose series reported on each of the w + 1 days before them."""
    w = SPIKE_WINDOW
    dates = days(frame["date"])
    daily = dates[order[hits]] - dates[order[hits - w - 1]] == w + 1  # the w days before, and one before them
    hits, before = hits[daily], before[daily]
    if not len(hits):
        return
    new = values[order[hits]] - values[order[hits - 1]]
    averages = before / w
    at = values_at(frame, ["date", "unit_code", "age_band", "dose"], order[hits])

    def message(k: int) -> Message:
        return "warning.spike", {
            "doses": new[k], "date": at["date"][k], "unit": at["unit_code"][k], "band": at["age_band"][k],
            "dose": at["dose"][k], "factor": SPIKE_FACTOR, "window": SPIKE_WINDOW, "average": float(averages[k]),
        }  # fmt: skip

    _sub_warn(check, order[hits], column, message)
