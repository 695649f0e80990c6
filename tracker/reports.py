"""The vaccination reports, asked in SQL: the store's table, or a frame in memory (the sample, tests).

Every figure needs, per series (unit, age label, dose), the last cumulative value on or before some
dates. Loading the table would move every report (millions) into pandas; instead DuckDB answers with
integer codes (a unit's place in the units table, a label's place in the configured labels, days
since 1970), never text per row:

- for a few dates (a report: today, a week before, the deadlines), the reports of the month before each
  date, aggregated per series (DuckDB reads only the row groups of those days: reports arrive by date),
  the store's series table for a series whose last report is before the date, and a second look further
  back for a series quiet for longer than the month: a row per series and date (a few thousand), at a
  cost that does not grow with the years stored;
- for many dates (a trend chart's every day), the dose's rows laid out as a grid, a row per series
  and a column per report day, carried forward along the days in numpy: then each date's answer is
  one column. The last dose's grid is kept (the next chart of a page often asks the same dose with
  other dates).

The same SQL runs on the store's file (read-only, opened per question, so that no writer waits on the
dashboard) and on a pandas frame (registered in an in-memory database).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import duckdb
import numpy as np

if TYPE_CHECKING:
    import pandas as pd

_EPOCH = np.datetime64("1970-01-01", "D")

# the codes: a unit's place in the units asked with, a label's place in the labels (list parameters, so that
# no frame is registered: a store's questions need neither pandas nor pyarrow)
_CODING = """
unit_pos AS (SELECT unnest($units) AS unit_code, unnest(range(len($units))) AS pos),
label_pos AS (SELECT unnest($label_names) AS age_band, unnest($label_places) AS pos)"""
_CODED = f"""
WITH {_CODING}
SELECT coalesce(u.pos, -1) AS unit, l.pos AS label, CAST(v.date AS DATE) AS date, v.people_cumulative AS people
FROM vaccinations v
JOIN label_pos l ON l.age_band = CAST(v.age_band AS VARCHAR)
LEFT JOIN unit_pos u ON u.unit_code = CAST(v.unit_code AS VARCHAR)
WHERE v.dose = $dose AND CAST(v.date AS DATE) <= $until
"""
_DAY = "date_diff('day', DATE '1970-01-01', {})"
# a series as one integer, (unit's place + 1) × (labels + 1) + label's place: small, so it indexes arrays
_ROWS = f"""
SELECT CAST((unit + 1) * $labels + label AS INTEGER) AS series, CAST({_DAY.format("date")} AS INTEGER) AS day, people
FROM ({_CODED})
"""
# what a Reports remembers: answers of up to _MEMO_ROWS rows (a report's, a table's; the dashboard caches
# its charts' data itself), and the grid of the last dose asked with many dates
_MEMO_ROWS = 100_000
_MEMO_ANSWERS = 16
_FEW_DATES = 8  # beyond, the dose's grid (read once, then kept) answers any number of dates


# a few dates: each date's last reports are looked for among the reports of the _WINDOW days up to it (DuckDB
# skips the row groups of other days: the reports arrive by date); a series whose last report is older than
# that, found through the series table (first and last report date, last value), is looked up alone
_WINDOW = 31


def _last_values_few(n: int, series: str) -> str:
    """Per asked date (``asked``: nth, d; lo = d - _WINDOW) and series reporting on or before it: the series
    table's last value when it is on or before the date, else the window's last report (NULL when the window
    has none: the caller looks further back). One scan for every window (were the reports not stored by
    date, it would cost what a scan of them all costs, never more); coded after aggregating."""
    inside = [f"(CAST(date AS DATE) > $lo{i} AND CAST(date AS DATE) <= $d{i})" for i in range(n)]
    aggregates = ",\n       ".join(
        f"arg_max(people_cumulative, date) FILTER (WHERE {inside[i]}) AS people_{i}, "
        f"max(CAST(date AS DATE)) FILTER (WHERE {inside[i]}) AS last_{i}"
        for i in range(n)
    )
    long = "\n    UNION ALL ".join(
        f"SELECT unit_code, age_band, {i} AS nth, people_{i} AS people, last_{i} AS last FROM wide" for i in range(n)
    )
    asked = ", ".join(f"({i}, $d{i})" for i in range(n))
    return f"""
WITH {_CODING},
asked (nth, d) AS (VALUES {asked}),
s AS (SELECT CAST(unit_code AS VARCHAR) AS unit_code, CAST(age_band AS VARCHAR) AS age_band,
             first_date, last_date, last_value
      FROM {series} WHERE dose = $dose),
wide AS (SELECT CAST(unit_code AS VARCHAR) AS unit_code, CAST(age_band AS VARCHAR) AS age_band,
       {aggregates}
      FROM vaccinations WHERE dose = $dose AND ({" OR ".join(inside)}) GROUP BY ALL),
w AS ({long}),
a AS (SELECT s.unit_code, s.age_band, asked.nth,
             CASE WHEN s.last_date <= asked.d THEN s.last_value ELSE w.people END AS people,
             CASE WHEN s.last_date <= asked.d THEN s.last_date ELSE w.last END AS last
      FROM s JOIN asked ON s.first_date <= asked.d
      LEFT JOIN w ON w.unit_code = s.unit_code AND w.age_band = s.age_band AND w.nth = asked.nth)
SELECT coalesce(u.pos, -1) AS unit, l.pos AS label, a.nth, coalesce(a.people, 0) AS people,
       coalesce({_DAY.format("a.last")}, 0) AS last, a.people IS NULL AS older, a.unit_code, a.age_band
FROM a JOIN label_pos l ON l.age_band = a.age_band LEFT JOIN unit_pos u ON u.unit_code = a.unit_code
"""


# the series whose last report on a date is older than its window: one scan for them all
_OLDER = f"""
WITH older AS (SELECT unnest($rows) AS row, unnest($units) AS unit_code, unnest($bands) AS age_band,
                      unnest($until) AS lo)
SELECT m.row, arg_max(v.people_cumulative, v.date) AS people, {_DAY.format("max(CAST(v.date AS DATE))")} AS last
FROM vaccinations v JOIN older m
  ON CAST(v.unit_code AS VARCHAR) = m.unit_code AND CAST(v.age_band AS VARCHAR) = m.age_band
 AND CAST(v.date AS DATE) <= m.lo
WHERE v.dose = $dose
GROUP BY m.row
"""
# without the store's series table (a frame, the sample): the same, from the reports
_SERIES_OF_REPORTS = (
    "(SELECT unit_code, age_band, dose, min(CAST(date AS DATE)) AS first_date, max(CAST(date AS DATE)) AS last_date, "
    "arg_max(people_cumulative, date) AS last_value FROM vaccinations GROUP BY ALL)"
)


class Reports:
    """Questions about the vaccination reports of a store (``store``) or of a frame (``frame``)."""

    def __init__(self, frame: pd.DataFrame | None = None, store: Path | None = None):
        if (frame is None) == (store is None):
            raise ValueError("Reports needs a frame or a store")
        self.frame = frame
        self.store = None if store is None else Path(store)
        # remembered answers: the dashboard shares one Reports between its sessions' threads
        self._memo: dict[tuple, Found] = {}
        self._rows: dict[tuple, _Grid] = {}
        self._lock = threading.Lock()

    @contextmanager
    def _connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        if self.store is not None:
            from tracker import store as store_mod  # late: the store module builds Reports

            with store_mod.reading(self.store) as con:
                yield con
            return
        con = duckdb.connect()
        try:
            con.register("vaccinations", self.frame)
            yield con
        finally:
            con.close()

    def _fetch(self, sql: str, params: dict | list | None = None) -> list[tuple]:
        with self._connection() as con:
            return con.execute(sql, params or []).fetchall()

    def last_values(
        self, dose: int, dates, units: Sequence[str], labels: Sequence[str], only: Sequence[str] | None = None
    ) -> Found:
        """Per series of ``dose`` whose age label is one of ``labels``, and per date: the last report on or
        before it (``Found``: unit, its place in ``units``, -1 for a code not there; label, its place in
        ``labels``; at, the date's place in ``dates``; people; last, the report's day in days since 1970).
        A series with no report yet on a date has no row for it. ``only``: the labels needed; with many
        dates the others are left out (with a few, one scan answers them all, and the same answer then
        serves every group). Asked again (a page's figures share questions), the answer is remembered."""
        dates = tuple(_day(d) for d in dates)
        units, labels = tuple(str(u) for u in units), tuple(str(lb) for lb in labels)
        only = labels if only is None or len(dates) <= _FEW_DATES else tuple(str(lb) for lb in only)
        if not dates or not labels or not only:
            return _empty()
        key = (int(dose), dates, units, labels, only)
        with self._lock:
            found = self._memo.get(key)
        if found is None:  # two threads may both ask; the answers are the same
            coding = self._coding(units, labels, only)
            few = len(dates) <= _FEW_DATES
            found = (self._few if few else self._many)(int(dose), dates, coding)
            if len(found.at) <= _MEMO_ROWS:  # a trend chart's answer is cached by the page itself
                _remember(self._memo, key, found, _MEMO_ANSWERS, self._lock)
        return found

    @staticmethod
    def _coding(units: tuple[str, ...], labels: tuple[str, ...], only: tuple[str, ...]) -> dict:
        keep = [i for i, lb in enumerate(labels) if lb in set(only)]
        return {
            "params": {"units": list(units), "label_names": [labels[i] for i in keep], "label_places": keep},
            "key": (units, labels, only),
            "labels": len(labels),
        }

    def _few(self, dose: int, dates: tuple[dt.date, ...], coding: dict) -> Found:
        lo = [d - dt.timedelta(days=_WINDOW) for d in dates]
        params = {
            "dose": dose,
            **coding["params"],
            **{f"d{i}": d for i, d in enumerate(dates)},
            **{f"lo{i}": d for i, d in enumerate(lo)},
        }
        with self._connection() as con:
            con.execute("BEGIN TRANSACTION")  # both questions see the same reports
            series = "vaccination_series" if self._series(con) else _SERIES_OF_REPORTS
            got = con.execute(_last_values_few(len(dates), series), params).fetchnumpy()
            people, last = got["people"].astype(np.int64), got["last"].astype(np.int64)  # no NULL: no masked array
            older = np.flatnonzero(got["older"])
            if len(older):  # a series quiet for longer than the window before the date
                asked = {
                    "rows": older.tolist(),
                    "units": got["unit_code"][older].tolist(),
                    "bands": got["age_band"][older].tolist(),
                    "until": [lo[k] for k in got["nth"][older].tolist()],
                    "dose": dose,
                }
                back = con.execute(_OLDER, asked).fetchnumpy()
                people[back["row"]], last[back["row"]] = back["people"], back["last"]
        return _found(got["unit"], got["label"], got["nth"], people, last)

    def _many(self, dose: int, dates: tuple[dt.date, ...], coding: dict) -> Found:
        key = (dose, *coding["key"])
        n = coding["labels"] + 1
        with self._lock:
            grid = self._rows.get(key)
        if grid is None:
            with self._connection() as con:  # every report of the dose: the grid serves later dates too
                params = {"dose": dose, "until": dt.date.max, "labels": n, **coding["params"]}
                got = con.execute(_ROWS, params).fetchnumpy()
            grid = _Grid.of(got["series"], got["day"], got["people"])
            _remember(self._rows, key, grid, 1, self._lock)  # the last dose asked: the next chart's, often
        return grid.at(dates, n)

    def unknown_units(self, units: Sequence[str]) -> list[str]:
        """Unit codes of vaccination reports that are not in ``units``."""
        found = self._fetch(
            "SELECT DISTINCT CAST(unit_code AS VARCHAR) AS code FROM vaccinations "
            "WHERE NOT list_contains($units, CAST(unit_code AS VARCHAR))",
            {"units": [str(u) for u in units]},
        )
        return sorted(code for (code,) in found)

    def _series(self, con) -> bool:
        """The store's series table (tracker.store: first and last date per series) is there to ask."""
        if self.store is None:
            return False
        found = con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'vaccination_series' "
            "AND database_name = current_database()"
        )
        return bool(found.fetchall()[0][0])

    def bounds(self) -> tuple[dt.date | None, dt.date | None]:
        """The first and the latest report date (None, None without reports)."""
        with self._connection() as con:
            if self._series(con):
                sql = "SELECT min(first_date), max(last_date) FROM vaccination_series"
            else:
                sql = "SELECT min(CAST(date AS DATE)), max(CAST(date AS DATE)) FROM vaccinations"
            row = con.execute(sql).fetchall()[0]
        return tuple(None if v is None else _day(v) for v in row)  # type: ignore[return-value]

    def doses(self) -> list[int]:
        with self._connection() as con:
            source = "vaccination_series" if self._series(con) else "vaccinations"
            return sorted(int(r[0]) for r in con.execute(f"SELECT DISTINCT dose FROM {source}").fetchall())

    def last_report(self, until: dt.date) -> pd.Series:
        """Each unit's last report date on or before ``until`` (unit code -> Timestamp)."""
        import pandas as pd  # for the dashboard's tables, which have it loaded already

        with self._connection() as con:
            latest = (
                self._series(con)
                and con.execute("SELECT max(last_date) <= ? FROM vaccination_series", [until]).fetchall()[0][0]
            )
            if latest:  # the latest date or after (the usual question): every unit's last report is known
                sql = "SELECT unit_code, max(last_date) AS last FROM vaccination_series GROUP BY 1"
            else:
                sql = (
                    "SELECT CAST(unit_code AS VARCHAR) AS unit_code, max(CAST(date AS DATE)) AS last "
                    "FROM vaccinations WHERE CAST(date AS DATE) <= ? GROUP BY 1"
                )
            found = con.execute(sql, [] if latest else [until]).df()
        return pd.Series(pd.to_datetime(found["last"]).to_numpy(), index=found["unit_code"].astype(str))

    def count(self) -> int:
        if self.frame is not None:
            return len(self.frame)
        return int(self._fetch("SELECT count(*) FROM vaccinations")[0][0])


class Found(NamedTuple):
    """An answer of ``Reports.last_values``: one array per column, a row per series and date (millions for
    a trend chart, so no frame: building one would copy them into blocks)."""

    unit: np.ndarray  # the unit's place in the units asked with (-1: a code not among them)
    label: np.ndarray  # the label's place in the labels asked with
    at: np.ndarray  # the date's place in the dates asked
    people: np.ndarray  # the last cumulative value on or before that date
    last: np.ndarray  # that report's day, in days since 1970

    @property
    def empty(self) -> bool:
        return len(self.at) == 0


class _Grid(NamedTuple):
    """A dose's reports as a grid: a row per series, a column per day with a report (of any series).

    ``last[r, c]`` is the column of series r's last report on or before day c (-1: none yet), ``people``
    its value there. Laid out by scattering the rows into place and carrying each series' last column
    forward (one pass, no sort); the grid is as big as the reports when every series reports daily, and a
    few times bigger when series report on different days.
    """

    series: np.ndarray  # the row's series code, ascending
    days: np.ndarray  # the column's day, in days since 1970, ascending
    last: np.ndarray  # rows × columns
    people: np.ndarray  # rows × columns

    @staticmethod
    def of(series: np.ndarray, day: np.ndarray, people: np.ndarray) -> _Grid:
        series, row = _dense(np.asarray(series, dtype=np.int64))
        days, col = _dense(np.asarray(day, dtype=np.int64))
        shape = (len(series), len(days))
        cell = row * shape[1] + col
        has = np.zeros(shape, dtype=bool)
        has.reshape(-1)[cell] = True
        small = len(people) == 0 or (people.max() < 2**31 and people.min() >= -(2**31))
        values = np.zeros(shape, dtype=np.int32 if small else np.int64)  # int32: half the memory, kept
        values.reshape(-1)[cell] = people
        last = np.where(has, np.arange(shape[1], dtype=np.int32), np.int32(-1))
        np.maximum.accumulate(last, axis=1, out=last)
        return _Grid(series, days, last, values)

    def at(self, dates: tuple[dt.date, ...], n: int) -> Found:
        """Found for ``dates`` (``n``: labels + 1, as the series codes were made)."""
        if len(self.days) == 0:
            return _empty()
        asked = (np.array(dates, dtype="datetime64[D]") - _EPOCH).astype(np.int64)
        col = np.searchsorted(self.days, asked, side="right") - 1  # the last report day on or before
        last = np.where(col >= 0, self.last[:, np.maximum(col, 0)], -1)  # series × dates
        valid = last >= 0
        rows = np.broadcast_to(np.arange(len(self.series))[:, None], last.shape)[valid]
        shown = last[valid]
        return _found(
            np.broadcast_to((self.series // n - 1)[:, None], last.shape)[valid],
            np.broadcast_to((self.series % n)[:, None], last.shape)[valid],
            np.broadcast_to(np.arange(len(dates))[None, :], last.shape)[valid],
            self.people[rows, shown],
            self.days[shown],
        )


def _day(value) -> dt.date:
    """A date asked (a date, a datetime or pandas Timestamp, a numpy datetime64, an ISO text) as a date."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, np.datetime64):
        return value.astype("datetime64[D]").astype(dt.date)
    if isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    raise TypeError(f"not a date: {value!r}")


def _dense(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values of small non-negative-offset integers, ascending, and each code's place among them
    (np.unique's answer, by counting instead of sorting)."""
    if len(codes) == 0:
        return codes, codes
    low = codes.min()
    present = np.zeros(codes.max() - low + 1, dtype=bool)
    present[codes - low] = True
    place = np.cumsum(present) - 1
    return np.flatnonzero(present) + low, place[codes - low]


def _remember(memo: dict, key, value, most: int, lock: threading.Lock) -> None:
    """Keep ``value`` under ``key``, dropping the oldest entries beyond ``most``."""
    with lock:
        memo[key] = value
        while len(memo) > most:
            memo.pop(next(iter(memo)))


def _found(unit, label, at, people, last) -> Found:
    return Found(*(np.asarray(a, dtype=np.int64) for a in (unit, label, at, people, last)))


def _empty() -> Found:
    return _found(*(np.zeros(0, dtype=np.int64) for _ in range(5)))
