"""What the commands print: tables on stdout (CSV with empty cells, or a JSON array of objects with
nulls) and notes on stderr, so that stdout stays a clean table."""

from __future__ import annotations

import csv
import json
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pandas is imported by the functions given frames: `tracker report` writes without it
    import numpy as np  # imported by the functions that write columns: a daily drop needs neither
    import pandas as pd

    from tracker import store

COVERAGE_COLUMNS = ["unit_code", "unit_name", "people", "population", "coverage", "last_report_date"]
REPORT_COLUMNS = [
    "unit_code", "unit_name", "target_id", "group", "dose", "people", "population", "coverage", "threshold",
    "deadline", "people_needed", "days_left", "pace_7d", "required_daily", "projected_date", "status",
]  # fmt: skip
USER_COLUMNS = ["name", "created_at", "disabled"]  # never a salt or a hash
INTEGER_COLUMNS = {"people", "population", "people_needed", "days_left", "dose"}
DATE_COLUMNS = {"last_report_date", "deadline", "projected_date"}


def emit(frame: pd.DataFrame, columns: list[str], fmt: str) -> None:
    """A figures table given as a frame (coverage): written as ``emit_columns`` writes its columns."""
    emit_columns(_columns(frame), columns, fmt)


def _columns(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    return {c: frame[c].to_numpy() for c in frame.columns}


def emit_records(frame: pd.DataFrame, fmt: str) -> None:
    """A listing (drops, users): timestamps as ISO 8601 UTC, missing values empty (csv) or null (json)."""
    import pandas as pd

    out = frame.copy()
    for col in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = out[col].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    write(out, fmt)


def emit_risk(frame: pd.DataFrame, fmt: str) -> None:
    """The risk levels: the week's days as YYYY-MM-DD, the vaccine criterion true/false (csv) or a boolean (json)."""
    import pandas as pd

    out = frame.copy()
    for col in ("week_start", "week_end"):
        out[col] = pd.to_datetime(out[col]).dt.strftime("%Y-%m-%d")
    if fmt == "csv":  # json keeps real booleans
        out["vaccine_criterion_met"] = out["vaccine_criterion_met"].map({True: "true", False: "false"})
    write(out, fmt)


def write(out: pd.DataFrame, fmt: str) -> None:
    """A table to stdout: CSV with empty cells, or a JSON array of objects with nulls."""
    if fmt == "json":
        records = out.astype(object).where(out.notna(), None).to_dict("records")
        json.dump(records, sys.stdout, ensure_ascii=False, indent=1, default=_json_default)
        sys.stdout.write("\n")
    else:
        out.to_csv(sys.stdout, index=False, lineterminator="\n")


def emit_columns(table: dict[str, np.ndarray], columns: list[str], fmt: str) -> None:
    """A figures table (report, coverage) as columns of numpy arrays (tracker.evaluation), without pandas:
    counts as integers, dates as YYYY-MM-DD, other numbers as Python writes them (the shortest text that
    reads back the same), a missing value empty (csv) or null (json)."""
    cells = [_cells(table[c], c) for c in columns]
    rows = zip(*cells, strict=True)
    if fmt == "json":
        records = [dict(zip(columns, row, strict=True)) for row in rows]
        json.dump(records, sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
    else:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)


def _cells(values: np.ndarray, column: str) -> list:
    """A column's values as the Python values written: int, float, str, or None when missing."""
    import numpy as np

    values = np.asarray(values)
    if column in DATE_COLUMNS:
        days = values.astype("datetime64[D]")
        return _with_none(np.datetime_as_string(days, unit="D").tolist(), np.isnat(days))
    if column in INTEGER_COLUMNS or values.dtype.kind == "f":
        numbers = values.astype(float)
        missing = np.isnan(numbers)
        numbers = np.where(missing, 0.0, numbers)
        if column in INTEGER_COLUMNS:
            numbers = np.rint(numbers).astype(np.int64)
        return _with_none(numbers.tolist(), missing)
    return values.tolist()


def _with_none(cells: list, missing: np.ndarray) -> list:
    """The cells, None where ``missing``."""
    import numpy as np

    if missing.any():
        for i in np.flatnonzero(missing).tolist():
            cells[i] = None
    return cells


def _json_default(value):
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"not JSON serialisable: {value!r}")


def notes_columns(table: dict[str, np.ndarray]) -> None:
    """Unavailable and over-100% figures, said on stderr so stdout stays a clean table."""
    import numpy as np

    for code, reason in zip(table["unit_code"].tolist(), table["reason"].tolist(), strict=True):
        if reason != "":
            print(f"note: {code}: figure unavailable: {reason}", file=sys.stderr)
    over = table["unit_code"][np.nan_to_num(table["coverage"], nan=0.0) > 1]
    if len(over):
        shown = ", ".join(dict.fromkeys(over.tolist()))
        print(f"note: coverage above 100% (check population or reports): {shown}", file=sys.stderr)


def notes(frame: pd.DataFrame) -> None:
    """``notes_columns`` for a frame (coverage)."""
    notes_columns(_columns(frame))


def sample_note(ds: store.Dataset | store.basics.Basics) -> None:
    """The sample dataset's label on stderr, so that its figures are never taken for official ones."""
    if ds.sample:
        label = ds.extra.get("dataset_label_en", "Illustrative sample data, not official figures")
        print(f"note: {label}", file=sys.stderr)
