"""Overlapping age groups: reports whose age group overlaps another already reported for the unit."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tracker.config import Config
from tracker.errors import Problem
from tracker.i18n import Both
from tracker.ingest.checks import SERIES, key_codes


def overlaps(
    frame: pd.DataFrame,
    stored: pd.DataFrame,
    cfg: Config,
    rows: np.ndarray | None = None,
    names: dict[str, str] | None = None,
    column: str = "age_band",
):
    """Vaccination reports whose age label overlaps another label reported for the same unit and dose.

    A district that reports its adults as one figure ("Từ 18 tuổi trở lên") while its 18-49, 50-64
    and 65+ bands are stored (or the other way round, or both in one file) would make the figures of
    every group they share unavailable (tracker.core: overlapping reports). ``stored``: the distinct
    (unit_code, age_band, dose) already in the store. Returns (warnings, mask of the frame rows at
    fault): a label overlapping a stored one is at fault; within the file, the coarser label is.
    One warning per unit and label, at its first row, naming what it overlaps and the groups hit;
    ``names`` (unit code -> name) names the units, ``column`` is the file's header of the age labels.
    """
    if frame.empty:
        return [], np.zeros(0, dtype=bool)
    mask_of = {label: cfg.label_mask(label) for label in cfg.labels}
    # per distinct series (a few thousand), not per row (millions): each row's series as one integer
    row_series, distinct = pd.factorize(key_codes(frame, SERIES)[0])  # numbered in order of appearance
    first_row = np.flatnonzero(np.r_[True, row_series[1:] > np.maximum.accumulate(row_series)[:-1]])
    mine = frame[SERIES].iloc[first_row].astype({"unit_code": str, "age_band": str, "dose": "int64"})
    mine = mine.assign(series=np.arange(len(distinct))).reset_index(drop=True)
    theirs = stored.astype({"unit_code": str, "age_band": str, "dose": "int64"})[SERIES]
    pairs = []
    for other, where in ((theirs.drop_duplicates(), "stored"), (mine.drop(columns="series"), "file")):
        joined = mine.merge(other.rename(columns={"age_band": "other"}), on=["unit_code", "dose"])
        a = joined["age_band"].map(mask_of).fillna(0).astype("int64")
        b = joined["other"].map(mask_of).fillna(0).astype("int64")
        hit = (a != b) & ((a & b) != 0)
        if where == "file":  # two labels of the file: the coarser one (more bands) is at fault
            hit &= _bits(a) > _bits(b)
        pairs.append(joined[hit].assign(where=where))
    found = pd.concat(pairs, ignore_index=True)
    if found.empty:
        return [], np.zeros(len(frame), dtype=bool)
    at_fault = np.zeros(len(distinct), dtype=bool)
    at_fault[found["series"].to_numpy()] = True
    bad = at_fault[row_series]
    first = mine.assign(row=first_row)[at_fault].groupby(["unit_code", "age_band"])["row"].min()
    warnings = []
    for (unit, label), part in found.groupby(["unit_code", "age_band"], sort=True):
        pos = int(first[(unit, label)])
        where = "warning.overlap_stored" if (part["where"] == "stored").any() else "warning.overlap_file"
        others = sorted(set(part["other"]), key=lambda lb: cfg.labels.index(lb) if lb in cfg.labels else 99)
        warnings.append(
            Problem.of(
                int(rows[pos]) if rows is not None else None, column, where, "warning", check="overlap",
                unit=(names or {}).get(unit, unit), labels=_label(cfg, label), stored=[_label(cfg, o) for o in others],
                doses=sorted(int(d) for d in set(part["dose"])), groups=_groups_hit(cfg, label, others),
            )
        )  # fmt: skip
    return warnings, bad


def _bits(masks: pd.Series) -> pd.Series:
    return masks.map(int.bit_count)


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
