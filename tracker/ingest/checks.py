"""Stage 5, validation: values within their rules, keys unique, daily counts made cumulative, and the
warnings on a series (a fall, a spike, below what is stored)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from tracker.config import Config
from tracker.ingest.frame import recode
from tracker.ingest.kinds import DAILY_COLUMN, Checker, Kind
from tracker.ingest.options import Message
from tracker.ingest.series import SERIES, has_repeats, key_codes, starts_table, warn_series
from tracker.ingest.values import AgeResolver, UnitResolver

__all__ = ["check_values", "daily_to_cumulative", "dedupe", "key_codes", "rebase", "warn_series"]


def check_values(frame, spec: Kind, cfg: Config, units: UnitResolver | None, today, check: Checker):
    for col in ("unit_code", "age_band", "unit_name"):
        if col in frame:
            check.mask(frame[col].isna(), col, ("value.empty", {}))
    for col in ("unit_code", "age_band", "unit_name", "unit_type"):
        if col in frame:
            values = frame[col]
            formula = np.array([str(c).startswith("=") for c in values.cat.categories] + [False])
            if not formula.any():  # per value first: no pass over the rows when no value is a formula
                continue
            check.mask(
                formula[values.cat.codes.to_numpy()], col, lambda i, v=values: ("value.formula", {"value": v.iat[i]})
            )
    if units is not None:
        codes = frame["unit_code"]
        found = {str(c): units.resolve(str(c)) for c in codes.cat.categories}
        unknown = np.array([found[str(c)][1] is not None for c in codes.cat.categories] + [False])
        if unknown.any():
            check.mask(
                unknown[codes.cat.codes.to_numpy()], "unit_code", lambda i: found[str(codes.iat[i])][1], check="unit"
            )
        frame["unit_code"] = recode(codes, lambda s: found[s][0])
    if "age_band" in frame:
        labels = frame["age_band"]
        if spec.name == "population":
            ages = AgeResolver(cfg, bands_only=True)
            expected = ("value.not_a_band", {"bands": list(cfg.bands)})
        else:
            ages = AgeResolver(cfg)
            expected = ("value.not_a_label", {"labels": list(cfg.labels)})
        resolved = recode(labels, ages.resolve)
        bad = resolved.isna() & labels.notna()
        check.mask(bad, "age_band", lambda i: (expected[0], {"value": labels.iat[i], **expected[1]}))
        frame["age_band"] = resolved
    if "dose" in frame:
        dose = frame["dose"]
        check.mask(dose.notna() & ~dose.isin([1, 2, 3, 4]), "dose", lambda i: ("value.bad_dose", {"dose": dose.iat[i]}))
    limit = cfg.limits.max_count
    for col in spec.counts + ((DAILY_COLUMN,) if DAILY_COLUMN in frame else ()):
        if col in frame:
            values = frame[col]
            check.mask(values.notna() & (values < 0), col, lambda i, v=values: ("value.negative", {"value": v.iat[i]}))
            check.mask(
                values.notna() & (values > limit), col,
                lambda i, v=values: ("limit.too_large", {"value": str(v.iat[i]), "limit": limit}),
            )  # fmt: skip
    if "date" in frame:
        dates = frame["date"]
        future = dates > pd.Timestamp(today)
        check.mask(future, "date", lambda i: ("value.future", {"date": dates.iat[i]}))
        early = dates < pd.Timestamp(cfg.campaign_start)
        check.mask(
            early,
            "date",
            lambda i: ("warning.before_campaign", {"date": dates.iat[i], "start": cfg.campaign_start}),
            severity="warning",
        )
    if spec.name == "units":
        _check_unit_names(frame, cfg, check)
        for col, lo, hi in (("lat", -90, 90), ("lon", -180, 180)):
            v = frame[col]
            check.mask(
                v.notna() & ((v < lo) | (v > hi)), col, lambda i, v=v: ("value.out_of_range", {"value": v.iat[i]})
            )


# Control characters, and the invisible marks that reverse the direction of text (a name could then
# read differently from what it holds)
_UNSAFE = re.compile("[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _check_unit_names(frame: pd.DataFrame, cfg: Config, check: Checker) -> None:
    """Unit codes match [units] unit_code; names are at most [units] unit_name_max characters, without
    control or direction-override characters (checked per distinct value)."""
    pattern = re.compile(cfg.limits.unit_code)
    codes = frame["unit_code"]
    cats = [str(c) for c in codes.cat.categories]
    bad = np.array([pattern.fullmatch(c) is None for c in cats] + [False])[codes.cat.codes.to_numpy()]
    check.mask(bad, "unit_code", lambda i: ("value.bad_unit_code", {"value": str(codes.iat[i]),
                                                                    "pattern": cfg.limits.unit_code}))  # fmt: skip
    names = frame["unit_name"]
    cats = [str(c) for c in names.cat.categories]
    longest = cfg.limits.unit_name_max
    too_long = np.array([len(c) > longest for c in cats] + [False])[names.cat.codes.to_numpy()]
    check.mask(too_long, "unit_name", lambda i: ("value.name_too_long", {"length": len(str(names.iat[i])),
                                                                         "limit": longest}))  # fmt: skip
    unsafe = np.array([_UNSAFE.search(c) is not None for c in cats] + [False])[names.cat.codes.to_numpy()]
    check.mask(unsafe, "unit_name", lambda i: ("value.unsafe_characters", {"value": str(names.iat[i])}))


def dedupe(frame: pd.DataFrame, codes: np.ndarray, spec: Kind, check: Checker):
    """Drop exact repeats of a row; the same key twice with different values is an error.

    Returns the frame, its key codes and how many repeats were dropped.
    """
    keys = list(spec.keys)
    if not has_repeats(codes):
        return frame, codes, 0
    key = pd.Series(codes, index=frame.index)
    exact = frame.duplicated(keep="first").to_numpy()
    frame, key = frame[~exact], key[~exact]
    check.keep(~exact)
    # rows with an error in a cell are left out: a bad date is one problem, not one per later row
    fine = ~check.errored()
    later = fine & key.where(fine).duplicated(keep="first").to_numpy()
    if later.any():
        first_row = pd.Series(check.rows, index=frame.index)[fine].groupby(key[fine]).transform("min")
        first_row = first_row.reindex(frame.index).to_numpy()

        def message(i: int) -> Message:
            shown = ", ".join(f"{k}={_show(frame[k].iat[i])}" for k in keys)
            return "value.same_key", {"key": shown, "first": int(first_row[i])}

        check.mask(later, None, message)
    return frame, key.to_numpy(), int(exact.sum())


def _show(value) -> str:
    if value is None or value is pd.NaT or (not isinstance(value, str) and pd.isna(value)):
        return "—"
    if isinstance(value, pd.Timestamp):
        return f"{value:%Y-%m-%d}"
    return str(value)


def daily_to_cumulative(frame: pd.DataFrame, base) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Daily new doses → people_cumulative: running sum on top of what was stored before.

    Returns the frame (by date, unit, band, dose), the positions of its rows in the frame given (to
    follow with the row numbers), and the running sums alone (for ``rebase`` at commit).
    """
    frame = frame.sort_values([*SERIES, "date"], kind="stable")
    running = frame.groupby(SERIES, observed=True, sort=False)[DAILY_COLUMN].cumsum().astype("int64")
    frame = frame.drop(columns=[DAILY_COLUMN]).assign(people_cumulative=running)
    order = np.argsort(frame["date"].to_numpy(), kind="stable")  # by date, series order kept within a date
    frame = frame.iloc[order]
    positions = frame.index.to_numpy()
    frame = frame.reset_index(drop=True)
    running = frame["people_cumulative"].to_numpy(np.int64).copy()
    return rebase(frame, running, base), positions, running


def rebase(frame: pd.DataFrame, running: np.ndarray, base) -> pd.DataFrame:
    """people_cumulative = each row's running sum within its file + the stored value before its series'
    first date in the file (``base``, as of the store state it is given): done once when the file is
    read, and again inside the write transaction that stores it, so that concurrent daily drops build
    on what is really stored, as if they had come one after the other."""
    stored = np.zeros(len(frame), dtype=np.int64)
    if base is not None and len(frame):
        series, distinct = pd.factorize(key_codes(frame, SERIES)[0])
        _, firsts = np.unique(series, return_index=True)  # each series' first row (rows are by date)
        prior = base(starts_table(frame, firsts))  # -1: nothing stored before
        stored = np.maximum(prior, 0)[series]
    return frame.assign(people_cumulative=running + stored)
