"""Column access shared by the two shapes a table of rows takes here, without importing pandas.

A canonical file is checked and stored as a pyarrow Table (tracker.ingest.clean); any other file goes
through pandas (tracker.ingest.frame). The rules that work on whole columns (keys, series, overlapping
age groups, population) take either, through these few functions: a text column as dictionary codes
(`coded`), a number or date column as a numpy array (`numbers`, `days`), and a few rows as Python
values for a message (`values_at`).

pyarrow imports pandas the first time it converts between Arrow and Python or numpy (`pa.array`,
`to_numpy`, `pa.scalar`): 0.2 s of CPU, more than the work of a daily drop. Arrow arrays are therefore
read here through their buffers, and built from numpy through `arrow_array` and `arrow_strings`; a
canonical drop goes from the file to the store without pandas (tests/test_clean_path.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

EPOCH = dt.date(1970, 1, 1)
# pyarrow type name -> the numpy type of its values buffer (a date32 is its days since 1970, int32)
_BUFFER_TYPES = {
    "int8": np.int8, "int16": np.int16, "int32": np.int32, "int64": np.int64, "uint8": np.uint8,
    "uint16": np.uint16, "uint32": np.uint32, "uint64": np.uint64, "float": np.float32,
    "double": np.float64, "date32[day]": np.int32,
}  # fmt: skip


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


def is_arrow_column(column) -> bool:
    """Whether ``column`` is a pyarrow array or chunked array."""
    return hasattr(column, "type") and (hasattr(column, "chunks") or hasattr(column, "buffers"))


def _chunks(column) -> list:
    return list(column.chunks) if hasattr(column, "chunks") else [column]


def coded(column) -> Coded:
    """A pandas categorical Series or a pyarrow dictionary column (chunked or not) as codes and values."""
    if hasattr(column, "cat"):  # pandas
        return Coded(column.cat.codes.to_numpy(), [str(c) for c in column.cat.categories])
    codes, dictionary = dictionary_parts(column)
    return Coded(codes, dictionary.to_pylist())


def dictionary_parts(column):
    """A pyarrow text column as each row's code (numpy, -1: missing) and the dictionary (a pyarrow array)
    the codes index: one dictionary for every chunk."""
    import pyarrow as pa

    if not pa.types.is_dictionary(column.type):
        column = column.dictionary_encode()
    chunks = _chunks(column)
    if len(chunks) > 1:
        chunks = pa.chunked_array(chunks).unify_dictionaries().chunks  # the indices are then comparable
    if not chunks:
        return np.zeros(0, dtype=np.int32), arrow_strings([])
    codes = [_indices(c.indices) for c in chunks]
    return (codes[0] if len(codes) == 1 else np.concatenate(codes)), chunks[0].dictionary


def _indices(indices) -> np.ndarray:
    """A dictionary chunk's indices, -1 where missing."""
    values = buffer_view(indices)
    if indices.null_count == 0:
        return values
    return np.where(_valid(indices), values, -1).astype(values.dtype)


def _valid(array) -> np.ndarray:
    bits = np.frombuffer(array.buffers()[0], dtype=np.uint8)
    return np.unpackbits(bits, bitorder="little")[array.offset : array.offset + len(array)].astype(bool)


def buffer_view(array) -> np.ndarray:
    """A primitive pyarrow array's values as a numpy view of its buffer (no copy; nulls not masked)."""
    dtype = np.dtype(_BUFFER_TYPES[str(array.type)])
    whole = np.frombuffer(array.buffers()[1], dtype=dtype, count=array.offset + len(array))
    return whole[array.offset :]


def numbers(column) -> np.ndarray:
    """A number or date column (pandas or pyarrow) as a numpy array (dates as datetime64)."""
    if isinstance(column, np.ndarray):
        return column
    if is_arrow_column(column):
        parts = [buffer_view(c) for c in _chunks(column)]
        values = parts[0] if len(parts) == 1 else np.concatenate(parts) if parts else np.zeros(0)
        if str(column.type) == "date32[day]":
            return values.astype(np.int64).view("datetime64[D]")
        return values
    return np.asarray(column.to_numpy())


def days(column) -> np.ndarray:
    """A date column (pandas or pyarrow) as whole days since 1970-01-01: a pyarrow date32 column is viewed
    as its int32 days (no copy), a datetime64 one divided."""
    if is_arrow_column(column) and str(column.type) == "date32[day]":
        parts = [buffer_view(c) for c in _chunks(column)]
        return parts[0] if len(parts) == 1 else np.concatenate(parts)
    dates = numbers(column)
    if dates.dtype.kind != "M":
        return dates
    per_day = np.timedelta64(1, "D") // np.timedelta64(1, np.datetime_data(dates.dtype)[0])
    return dates.view(np.int64) // per_day


def values_at(table, columns: list[str], positions: np.ndarray) -> dict[str, list]:
    """The values of a few rows, by column, as Python objects (dates as dates, for messages)."""
    if is_arrow(table):  # through the buffers: a pyarrow ``take`` would import pyarrow.compute (30 ms)
        return {c: _arrow_values_at(table.column(c), positions) for c in columns}
    return {c: table[c].iloc[positions].tolist() for c in columns}


def _arrow_values_at(column, positions) -> list:
    import pyarrow as pa

    positions = np.asarray(positions, dtype=np.int64)
    if pa.types.is_dictionary(column.type):
        return coded(column).at(positions)
    if str(column.type) == "date32[day]":
        return [EPOCH + dt.timedelta(days=d) for d in days(column)[positions].tolist()]
    if str(column.type) in _BUFFER_TYPES and not column.null_count:
        return numbers(column)[positions].tolist()
    return column.take(arrow_array(positions)).to_pylist()


def arrow_array(values: np.ndarray, type=None):
    """A numpy array (numbers, dates as int32 days with ``type`` date32, or booleans) as a pyarrow array
    over the same memory where the layout allows (booleans are packed into bits)."""
    import pyarrow as pa

    values = np.ascontiguousarray(values)
    if values.dtype == bool:
        bits = np.packbits(values, bitorder="little")
        return pa.Array.from_buffers(pa.bool_(), len(values), [None, pa.py_buffer(bits)])
    if type is None:
        type = pa.from_numpy_dtype(values.dtype)
    return pa.Array.from_buffers(type, len(values), [None, pa.py_buffer(values)])


def arrow_strings(values: list[str]):
    """Python strings as a pyarrow string array, built from its offsets and UTF-8 bytes."""
    import pyarrow as pa

    data = [v.encode("utf-8") for v in values]
    offsets = np.zeros(len(data) + 1, dtype=np.int64)
    np.cumsum([len(d) for d in data], out=offsets[1:])
    large = offsets[-1] >= 2**31
    return pa.Array.from_buffers(
        pa.large_string() if large else pa.string(),
        len(data),
        [None, pa.py_buffer(offsets if large else offsets.astype(np.int32)), pa.py_buffer(b"".join(data))],
    )
