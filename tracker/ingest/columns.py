"""Column access shared by the two shapes a table of rows takes here, without importing pandas.

A canonical file is checked and stored as a pyarrow Table (tracker.ingest.clean); any other file goes
through pandas (tracker.ingest.frame). The rules that work on whole columns (keys, series, overlapping
age groups, population) take either, through these few functions: a text column as dictionary codes
(`coded`), a number or date column as a numpy array (`numbers`), and a few rows as Python values for a
message (`values_at`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Coded:
    """A text column as each row's index into its distinct values (-1: missing)."""

    codes: np.ndarray
    values: list[str]

    def at(self, positions) -> list[str | None]:
        """The text of the rows at ``positions``."""
        return [self.values[c] if c >= 0 else None for c in self.codes[positions]]


def is_arrow(table) -> bool:
    """Whether ``table`` is a pyarrow Table (else a pandas DataFrame)."""
    return hasattr(table, "schema") and hasattr(table, "num_rows")


def coded(column) -> Coded:
    """A pandas categorical Series or a pyarrow dictionary column (chunked or not) as codes and values."""
    if hasattr(column, "cat"):  # pandas
        return Coded(column.cat.codes.to_numpy(), [str(c) for c in column.cat.categories])
    import pyarrow as pa

    if isinstance(column, pa.Array):
        column = pa.chunked_array([column])
    if not pa.types.is_dictionary(column.type):
        column = column.dictionary_encode()
    if column.num_chunks > 1:
        column = column.unify_dictionaries()  # one dictionary for every chunk: the indices are comparable
    if column.num_chunks == 0:
        return Coded(np.zeros(0, dtype=np.int32), [])
    values = column.chunk(0).dictionary.to_pylist()
    if column.num_chunks == 1:
        return Coded(_indices(column.chunk(0).indices), values)
    return Coded(np.concatenate([_indices(c.indices) for c in column.chunks]), values)


def _indices(indices) -> np.ndarray:
    """A dictionary chunk's indices, -1 where missing (without pyarrow's fill_null, which imports pandas)."""
    if indices.null_count == 0:
        return indices.to_numpy()
    valid = np.asarray(indices.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    return np.where(valid, np.nan_to_num(indices.to_numpy(zero_copy_only=False)), -1).astype(np.int32)


def numbers(column) -> np.ndarray:
    """A number or date column (pandas or pyarrow) as a numpy array (dates as datetime64)."""
    if isinstance(column, np.ndarray):
        return column
    if getattr(column, "num_chunks", None) == 1:  # pyarrow, one array: a view of it where the type allows
        column = column.chunk(0)
    if hasattr(column, "null_count") and not hasattr(column, "num_chunks"):  # a pyarrow array
        return np.asarray(column.to_numpy(zero_copy_only=False))
    return np.asarray(column.to_numpy())


def days(column) -> np.ndarray:
    """A date column (pandas or pyarrow) as whole days since 1970-01-01: a pyarrow date32 column is viewed
    as its int32 days (no copy), a datetime64 one divided."""
    if hasattr(column, "num_chunks") or hasattr(column, "null_count"):  # pyarrow
        import pyarrow as pa

        if pa.types.is_date32(column.type) and column.null_count == 0:
            if hasattr(column, "num_chunks"):
                column = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
            return column.view(pa.int32()).to_numpy()
    dates = numbers(column)
    if dates.dtype.kind != "M":
        return dates
    per_day = np.timedelta64(1, "D") // np.timedelta64(1, np.datetime_data(dates.dtype)[0])
    return dates.view(np.int64) // per_day


def values_at(table, columns: list[str], positions: np.ndarray) -> dict[str, list]:
    """The values of a few rows, by column, as Python objects (dates as dates, for messages)."""
    if is_arrow(table):
        return table.select(columns).take(np.asarray(positions, dtype=np.int64)).to_pydict()
    return {c: table[c].iloc[positions].tolist() for c in columns}
