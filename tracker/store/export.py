"""The whole vaccination time series as stored, as one CSV a spreadsheet or any tool opens: every district,
age label, dose and report date, with the cumulative people reported (the live rows: undone drops and
superseded values are not in it). DuckDB writes the file itself (COPY), so a country-sized store (millions
of rows) takes a second or two, not a Python loop."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from tracker.store.connection import reading, sql_text

BOM = "\ufeff".encode()
COLUMNS = ("date", "unit_code", "unit_name", "age_band", "dose", "people_cumulative")
# text a spreadsheet would run as a formula gets a leading apostrophe, as tracker.exports does for tables
_SAFE_NAME = (
    "CASE WHEN left(u.unit_name, 1) IN ('=', '+', '-', '@', chr(9), chr(13)) "
    "THEN '''' || u.unit_name ELSE u.unit_name END"
)
QUERY = f"""
SELECT v.date, v.unit_code, {_SAFE_NAME} AS unit_name, v.age_band, v.dose, v.people_cumulative
FROM vaccinations v LEFT JOIN units u USING (unit_code)
ORDER BY v.unit_code, v.age_band, v.dose, v.date
"""


def series_csv(store: Path) -> bytes:
    """The CSV (UTF-8 with a BOM so Excel shows Vietnamese right; dates as ISO 8601): a header row, then a
    row per report, ordered by district, age label, dose and date."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "series.csv"
        with reading(store) as con:
            con.execute(f"COPY ({QUERY}) TO {sql_text(str(out))} (HEADER, DELIMITER ',', DATEFORMAT '%Y-%m-%d')")
        data = out.read_bytes()
        os.remove(out)
    return BOM + data
