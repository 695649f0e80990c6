"""The vaccination reports, asked in SQL: the store's table, or a frame in memory (the sample, tests).

Every figure needs, per series (unit, age label, dose), the last cumulative value on or before some
dates. DuckDB answers that with one ASOF join over the rows of one dose and hands back a row per
series and date (a few thousand for a report), where loading the table would move every report
(millions) into pandas. The same SQL runs on the store's file (read-only, opened per question, so
that no writer waits on the dashboard) and on a pandas frame (registered in an in-memory database).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

_REPORTS = """
SELECT CAST(unit_code AS VARCHAR) AS unit_code, CAST(age_band AS VARCHAR) AS age_band, CAST(date AS DATE) AS date,
       people_cumulative
FROM vaccinations
WHERE dose = $dose AND CAST(date AS DATE) <= $until
  AND ($labels IS NULL OR list_contains($labels, CAST(age_band AS VARCHAR)))
"""

# Many dates (a trend chart's every day): one ASOF join of each series and date with the reports.
_LAST_VALUES_ASOF = f"""
WITH v AS ({_REPORTS}), s AS (SELECT DISTINCT unit_code, age_band FROM v)
SELECT s.unit_code, s.age_band, d.i AS at, v.people_cumulative AS people, v.date AS last
FROM s CROSS JOIN dates d ASOF JOIN v ON v.unit_code = s.unit_code AND v.age_band = s.age_band AND v.date <= d.at
"""
# A few dates (a report: today, a week before, the deadlines): one scan aggregating per series, a pair of
# columns per date; a few times cheaper than the join, which sorts.
_FEW_DATES = 8  # measured on 6.3 M reports: 8 dates 0.7 s CPU against 1.3 s, 12 about even, 40 ten times worse


def _last_values_few(n: int) -> str:
    cols = ",\n       ".join(
        f"arg_max(people_cumulative, date) FILTER (WHERE date <= $d{i}) AS people_{i}, "
        f"max(date) FILTER (WHERE date <= $d{i}) AS last_{i}"
        for i in range(n)
    )
    return f"WITH v AS ({_REPORTS})\nSELECT unit_code, age_band,\n       {cols}\nFROM v GROUP BY unit_code, age_band"


class Reports:
    """Questions about the vaccination reports of a store (``store``) or of a frame (``frame``)."""

    def __init__(self, frame: pd.DataFrame | None = None, store: Path | None = None):
        if (frame is None) == (store is None):
            raise ValueError("Reports needs a frame or a store")
        self.frame = frame
        self.store = None if store is None else Path(store)
        self._memo: dict[tuple, pd.DataFrame] = {}

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

    def _query(self, sql: str, params: dict | list | None = None, dates: list[dt.date] | None = None) -> pd.DataFrame:
        with self._connection() as con:
            if dates is not None:
                con.register("dates", pd.DataFrame({"at": pd.to_datetime(dates).date, "i": np.arange(len(dates))}))
            return con.execute(sql, params or []).df()

    def last_values(self, dose: int, dates, labels) -> pd.DataFrame:
        """Per series of ``dose`` whose age label is in ``labels`` and per date: the last report on or
        before it. Columns unit_code, age_band (text), at (the date's position in ``dates``), people
        (int64), last (the report's day: datetime64). A series with no report yet on a date has no row
        for it; with a few dates, series of other labels may come too (one scan answers every label, and
        the question is then the same for every group). Asked again with the same dose, dates and labels
        (a page's figures share them), the answer is remembered."""
        dates = tuple(pd.Timestamp(d).date() for d in dates)
        labels = tuple(sorted(str(lb) for lb in labels))
        if not dates or not labels:
            return _empty()
        if len(dates) <= _FEW_DATES:
            labels = None
        key = (int(dose), dates, labels)
        if key in self._memo:
            return self._memo[key]
        params = {"dose": int(dose), "until": max(dates), "labels": None if labels is None else list(labels)}
        if len(dates) <= _FEW_DATES:
            found = self._last_values_few(params, dates)
        else:
            found = self._query(_LAST_VALUES_ASOF, params, dates=list(dates))
        found = _empty() if found.empty else found.astype({"at": np.int64, "people": np.int64})
        if len(self._memo) >= 32:
            self._memo.pop(next(iter(self._memo)))
        self._memo[key] = found
        return found

    def _last_values_few(self, params: dict, dates: tuple[dt.date, ...]) -> pd.DataFrame:
        params = {**params, **{f"d{i}": d for i, d in enumerate(dates)}}
        wide = self._query(_last_values_few(len(dates)), params)
        n = len(wide)
        people = np.column_stack([wide[f"people_{i}"].to_numpy(np.float64, na_value=np.nan) for i in range(len(dates))])
        last = np.column_stack([wide[f"last_{i}"].to_numpy("datetime64[ns]") for i in range(len(dates))])
        seen = ~np.isnat(last).ravel()
        rows = np.repeat(np.arange(n), len(dates))[seen]
        return pd.DataFrame(
            {
                "unit_code": wide["unit_code"].to_numpy(object)[rows],
                "age_band": wide["age_band"].to_numpy(object)[rows],
                "at": np.tile(np.arange(len(dates), dtype=np.int64), n)[seen],
                "people": people.ravel()[seen].astype(np.int64),
                "last": last.ravel()[seen],
            }
        )

    def _series(self, con) -> bool:
        """The store's series table (tracker.store: first and last date per series) is there to ask."""
        if self.store is None:
            return False
        found = con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'vaccination_series'")
        return bool(found.fetchall()[0][0])

    def bounds(self) -> tuple[dt.date | None, dt.date | None]:
        """The first and the latest report date (None, None without reports)."""
        with self._connection() as con:
            if self._series(con):
                sql = "SELECT min(first_date), max(last_date) FROM vaccination_series"
            else:
                sql = "SELECT min(CAST(date AS DATE)), max(CAST(date AS DATE)) FROM vaccinations"
            row = con.execute(sql).fetchall()[0]
        return tuple(None if v is None else pd.Timestamp(v).date() for v in row)  # type: ignore[return-value]

    def doses(self) -> list[int]:
        with self._connection() as con:
            source = "vaccination_series" if self._series(con) else "vaccinations"
            return sorted(int(r[0]) for r in con.execute(f"SELECT DISTINCT dose FROM {source}").fetchall())

    def last_report(self, until: dt.date) -> pd.Series:
        """Each unit's last report date on or before ``until`` (unit code -> Timestamp)."""
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
        return int(self._query("SELECT count(*) AS n FROM vaccinations")["n"].iat[0])


def _empty() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "unit_code": pd.Series(dtype=str),
            "age_band": pd.Series(dtype=str),
            "at": pd.Series(dtype=np.int64),
            "people": pd.Series(dtype=np.int64),
            "last": pd.Series(dtype="datetime64[ns]"),
        }
    )
