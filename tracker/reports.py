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

_LAST_VALUES = """
WITH d AS (SELECT * FROM dates),
     v AS (SELECT CAST(unit_code AS VARCHAR) AS unit_code, CAST(age_band AS VARCHAR) AS age_band,
                  CAST(date AS DATE) AS date, people_cumulative
           FROM vaccinations WHERE dose = $dose AND CAST(date AS DATE) <= $until),
     s AS (SELECT DISTINCT unit_code, age_band FROM v)
SELECT s.unit_code, s.age_band, d.i AS at, v.people_cumulative AS people, v.date AS last
FROM s CROSS JOIN d ASOF JOIN v ON v.unit_code = s.unit_code AND v.age_band = s.age_band AND v.date <= d.at
"""


class Reports:
    """Questions about the vaccination reports of a store (``store``) or of a frame (``frame``)."""

    def __init__(self, frame: pd.DataFrame | None = None, store: Path | None = None):
        if (frame is None) == (store is None):
            raise ValueError("Reports needs a frame or a store")
        self.frame = frame
        self.store = None if store is None else Path(store)

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

    def last_values(self, dose: int, dates) -> pd.DataFrame:
        """Per series of ``dose`` and date: the last report on or before it. Columns unit_code, age_band
        (text), at (the date's position in ``dates``), people (int64), last (the report's day: datetime64).
        A series with no report yet on a date has no row for it."""
        dates = [pd.Timestamp(d).date() for d in dates]
        if not dates:
            return _empty()
        found = self._query(_LAST_VALUES, {"dose": int(dose), "until": max(dates)}, dates=dates)
        if found.empty:
            return _empty()
        return found.astype({"at": np.int64, "people": np.int64})

    def bounds(self) -> tuple[dt.date | None, dt.date | None]:
        """The first and the latest report date (None, None without reports)."""
        row = self._query("SELECT min(CAST(date AS DATE)), max(CAST(date AS DATE)) FROM vaccinations").iloc[0]
        return tuple(None if pd.isna(v) else pd.Timestamp(v).date() for v in row)  # type: ignore[return-value]

    def doses(self) -> list[int]:
        return sorted(int(d) for d in self._query("SELECT DISTINCT dose FROM vaccinations")["dose"])

    def last_report(self, until: dt.date) -> pd.Series:
        """Each unit's last report date on or before ``until`` (unit code -> Timestamp)."""
        found = self._query(
            "SELECT CAST(unit_code AS VARCHAR) AS unit_code, max(CAST(date AS DATE)) AS last FROM vaccinations "
            "WHERE CAST(date AS DATE) <= ? GROUP BY 1",
            [until],
        )
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
