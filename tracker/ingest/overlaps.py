"""Overlapping age groups: reports whose age group overlaps another already reported for the unit."""

from __future__ import annotations

import numpy as np

from tracker.config import Config
from tracker.errors import Problem
from tracker.i18n import Both
from tracker.ingest.columns import coded, numbers
from tracker.ingest.kinds import Lines
from tracker.ingest.series import BLOCK, SERIES, key_codes


def overlaps(
    frame,
    stored,
    cfg: Config,
    rows: np.ndarray | Lines | None = None,
    names: dict[str, str] | None = None,
    column: str = "age_band",
    series=None,
):
    """Vaccination reports whose age label overlaps another label reported for the same unit and dose.

    A district that reports its adults as one figure ("Từ 18 tuổi trở lên") while its 18-49, 50-64
    and 65+ bands are stored (or the other way round, or both in one file) would make the figures of
    every group they share unavailable (tracker.core: overlapping reports). ``frame``: the rows (a pandas
    DataFrame or a pyarrow Table); ``stored``: the distinct (unit_code, age_band, dose) already in the
    store, any table whose columns iterate. Returns (warnings, mask of the frame rows at fault): a label
    overlapping a stored one is at fault; within the file, the coarser label is. One warning per unit
    and label, at its first row, naming what it overlaps and the groups hit; ``names`` (unit code ->
    name) names the units, ``column`` is the file's header of the age labels. ``series``: the frame's
    series (tracker.ingest.series.series_summary); when none overlaps, the rows are not read.
    """
    if len(frame) == 0:
        return [], np.zeros(0, dtype=bool)
    mask_of = {label: cfg.label_mask(label) for label in cfg.labels}
    stored_labels = _stored_labels(stored)
    if series is not None:
        listed = [series.column(c).to_pylist() for c in SERIES]
        if not _found(list(zip(*listed, strict=True)), stored_labels, mask_of):
            return [], np.zeros(len(frame), dtype=bool)
    # per distinct series (a few thousand), not per row (millions): a flag per possible series, and any
    # row of each to read it from
    key, _ = key_codes(frame, SERIES)
    present = np.zeros(int(key.max()) + 1, dtype=bool)
    present[key] = True
    distinct = np.flatnonzero(present)
    at = _a_row_of_each(key, len(present), distinct)
    mine = list(zip(coded(frame["unit_code"]).at(at), coded(frame["age_band"]).at(at),
                    numbers(frame["dose"])[at].tolist(), strict=True))  # fmt: skip
    found = _found(mine, stored_labels, mask_of)
    if not found:
        return [], np.zeros(len(frame), dtype=bool)
    at_fault = np.zeros(len(present), dtype=bool)
    at_fault[distinct[[f[0] for f in found]]] = True
    bad = at_fault[key]
    # the first row of each series at fault, for the warnings
    positions = np.flatnonzero(bad)
    faulty, first = np.unique(key[positions], return_index=True)
    first_row = dict(zip(faulty.tolist(), positions[first].tolist(), strict=True))
    by_label: dict[tuple[str, str], list[tuple]] = {}
    for f in found:
        by_label.setdefault((f[1], f[2]), []).append(f)
    warnings = []
    for (unit, label), part in sorted(by_label.items()):
        pos = min(first_row[int(distinct[f[0]])] for f in part)
        where = "warning.overlap_stored" if any(f[5] == "stored" for f in part) else "warning.overlap_file"
        others = sorted({f[4] for f in part}, key=lambda lb: cfg.labels.index(lb) if lb in cfg.labels else 99)
        warnings.append(
            Problem.of(
                int(rows[pos]) if rows is not None else None, column, where, "warning", check="overlap",
                unit=(names or {}).get(unit, unit), labels=_label(cfg, label), stored=[_label(cfg, o) for o in others],
                doses=sorted({int(f[3]) for f in part}), groups=_groups_hit(cfg, label, others),
            )
        )  # fmt: skip
    return warnings, bad


def _stored_labels(stored) -> dict[tuple[str, int], list[str]]:
    """The stored labels by unit and dose."""
    theirs = dict.fromkeys(
        zip(map(str, _listed(stored["unit_code"])), map(str, _listed(stored["age_band"])),
            map(int, _listed(stored["dose"])), strict=True)
    )  # fmt: skip
    labels: dict[tuple[str, int], list[str]] = {}
    for unit, label, dose in theirs:
        labels.setdefault((unit, dose), []).append(label)
    return labels


def _found(mine: list[tuple], stored_labels: dict, mask_of: dict[str, int]) -> list[tuple]:
    """(series, unit, label, dose, other label, where) of each overlap; ``mine``: the file's (unit, label,
    dose), a series each."""
    found = []
    hits_of: dict[tuple, list] = {}  # the same labels side by side (most units) are judged once
    file_series: dict[tuple[str, int], list[int]] = {}
    for s, (unit, _, dose) in enumerate(mine):
        file_series.setdefault((unit, dose), []).append(s)
    for (unit, dose), series in file_series.items():
        labels = tuple(mine[s][1] for s in series)
        others = {"stored": tuple(stored_labels.get((unit, dose), ())), "file": labels}
        both = (labels, others["stored"])
        if both not in hits_of:
            hits_of[both] = _overlapping(labels, others, mask_of)
        for k, other, where in hits_of[both]:
            found.append((series[k], unit, labels[k], dose, other, where))
    return found


def _a_row_of_each(key: np.ndarray, size: int, distinct: np.ndarray) -> np.ndarray:
    """A row of each of the ``distinct`` keys (below ``size``): blocks of rows read until each has one (a
    full export lists them all on its first date)."""
    some_row = np.full(size, -1, dtype=np.int64)
    for start in range(0, len(key), BLOCK):
        block = key[start : start + BLOCK]
        some_row[block] = np.arange(start, start + len(block))
        if (some_row[distinct] >= 0).all():
            break
    return some_row[distinct]


def _listed(column) -> list:
    """A column as a list of Python values (a numpy array's own tolist: iterating it makes numpy scalars,
    ten times slower on the few thousand stored series)."""
    return column.tolist() if hasattr(column, "tolist") else list(column)


def _overlapping(labels: tuple[str, ...], others: dict[str, tuple[str, ...]], mask_of: dict[str, int]) -> list:
    """(index in labels, other label, "stored" or "file") of each label of a unit and dose in the file
    that overlaps another: a stored one, or a finer one of the file (the coarser label is at fault)."""
    out = []
    for k, label in enumerate(labels):
        a = mask_of.get(label, 0)
        for where in ("stored", "file"):
            for other in others[where]:
                b = mask_of.get(other, 0)
                hit = a != b and a & b != 0
                if where == "file":  # two labels of the file: the coarser one (more bands) is at fault
                    hit = hit and a.bit_count() > b.bit_count()
                if hit:
                    out.append((k, other, where))
    return out


def _label(cfg: Config, label: str) -> Both:
    """A band as written, a group by its configured names."""
    if label in cfg.groups:
        g = cfg.groups[label]
        return Both(g.label_vi or g.id, g.label_en or g.id)
    return Both(label, label)


def _groups_hit(cfg: Config, label: str, others: list[str]) -> list[Both]:
    """The groups whose figure two overlapping labels make unavailable: a label straddling the group,
    or both inside it."""
    hit = []
    a = cfg.label_mask(label)
    for g in cfg.groups.values():
        gm = cfg.label_mask(g.id)
        for other in others:
            b = cfg.label_mask(other)
            straddles = any(m & gm and m & ~gm for m in (a, b))
            if straddles or (a & ~gm == 0 and b & ~gm == 0):
                hit.append(_label(cfg, g.id))
                break
    return hit
