"""Comparing two CSV tables, cell by cell (the tracker's report against the SQL peer's)."""

from __future__ import annotations

import csv
import io
import math
import re

_INT = re.compile(r"[+-]?\d+")


def _number(text: str) -> int | float | None:
    if _INT.fullmatch(text):
        return int(text)
    try:
        return float(text)
    except ValueError:
        return None


def cells_equal(a: str, b: str, rel: float = 1e-9) -> bool:
    """Two CSV cells hold the same value: the same text; or numbers equal (integers exactly, others within a
    relative 1e-9; 12 and 12.0 are equal); empty only equals empty. Dates are compared as text (ISO)."""
    if a == b:
        return True
    if a == "" or b == "":
        return False
    x, y = _number(a), _number(b)
    if x is None or y is None:
        return False
    if isinstance(x, int) and isinstance(y, int):
        return x == y
    if math.isnan(x) or math.isnan(y):
        return False
    return math.isclose(x, y, rel_tol=rel, abs_tol=0.0)


def compare_tables(left: str, right: str, names: tuple[str, str] = ("tracker", "peer"), limit: int = 10) -> list[str]:
    """The differences between two CSV texts (header and every cell, row by row, in order), at most `limit`
    of them described; an empty list when the tables are equal."""
    a = list(csv.reader(io.StringIO(left)))
    b = list(csv.reader(io.StringIO(right)))
    problems: list[str] = []
    if not a or not b:
        return [f"empty table: {names[0]} {len(a)} lines, {names[1]} {len(b)} lines"]
    if a[0] != b[0]:
        return [f"columns differ: {names[0]} {a[0]} / {names[1]} {b[0]}"]
    header = a[0]
    if len(a) != len(b):
        problems.append(f"row count differs: {names[0]} {len(a) - 1}, {names[1]} {len(b) - 1}")
    differing = 0
    for i, (ra, rb) in enumerate(zip(a[1:], b[1:], strict=False), start=1):
        if len(ra) != len(header) or len(rb) != len(header):
            differing += 1
            if len(problems) < limit:
                problems.append(f"row {i}: {len(ra)} / {len(rb)} cells for {len(header)} columns")
            continue
        bad = [j for j in range(len(header)) if not cells_equal(ra[j], rb[j])]
        if bad:
            differing += 1
            if len(problems) < limit:
                key = ", ".join(ra[:3])
                what = "; ".join(f"{header[j]}: {ra[j]!r} vs {rb[j]!r}" for j in bad[:4])
                problems.append(f"row {i} ({key}): {what}")
    if differing > 0:
        problems.append(f"{differing} row(s) differ in all")
    return problems
