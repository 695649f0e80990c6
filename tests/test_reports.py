"""tracker.reports: the last report on or before each date, per series, as integer codes; the scan for a
few dates and the grid carried forward for many give the same answer (worked out by hand)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from tracker.reports import _FEW_DATES, Reports

D = dt.date
REPORTS = pd.DataFrame(
    {
        "date": pd.to_datetime(["2021-10-01", "2021-10-03", "2021-10-02", "2021-10-01", "2021-10-05", "2021-10-02"]),
        "unit_code": pd.Categorical(["070", "070", "071", "070", "071", "072"]),
        "age_band": ["18-49", "18-49", "18-49", "65+", "18-49", "18-49"],
        "dose": [1, 1, 1, 1, 1, 2],
        "people_cumulative": [100, 130, 40, 7, 55, 9],
    }
)
UNITS = ("070", "071")
LABELS = ("0-4", "18-49", "65+")
# by hand, dose 1: (unit, label) -> {date: (people, day of the report)}
EXPECTED = {
    D(2021, 9, 30): {},
    D(2021, 10, 1): {(0, 1): (100, D(2021, 10, 1)), (0, 2): (7, D(2021, 10, 1))},
    D(2021, 10, 2): {(0, 1): (100, D(2021, 10, 1)), (0, 2): (7, D(2021, 10, 1)), (1, 1): (40, D(2021, 10, 2))},
    D(2021, 10, 4): {(0, 1): (130, D(2021, 10, 3)), (0, 2): (7, D(2021, 10, 1)), (1, 1): (40, D(2021, 10, 2))},
    D(2021, 10, 9): {(0, 1): (130, D(2021, 10, 3)), (0, 2): (7, D(2021, 10, 1)), (1, 1): (55, D(2021, 10, 5))},
}


def answer(found: pd.DataFrame, dates: list[dt.date]) -> dict:
    out: dict = {d: {} for d in dates}
    for unit, label, at, people, last in zip(*found, strict=True):
        day = D(1970, 1, 1) + dt.timedelta(days=int(last))
        out[dates[at]][(int(unit), int(label))] = (int(people), day)
    return out


@pytest.mark.parametrize("many", [False, True], ids=["few dates", "many dates"])
def test_last_report_on_or_before_each_date(many):
    dates = list(EXPECTED)
    if many:  # more dates than the scan takes: the grid carried forward
        dates += [D(2022, 1, 1) + dt.timedelta(days=i) for i in range(_FEW_DATES)]
    found = Reports(frame=REPORTS).last_values(1, dates, UNITS, LABELS)
    got = answer(found, dates)
    assert {d: got[d] for d in EXPECTED} == EXPECTED
    assert all(got[d] == EXPECTED[D(2021, 10, 9)] for d in dates[len(EXPECTED) :])
    assert [a.dtype for a in found] == [np.int64] * 5  # codes, never text per row


@pytest.mark.parametrize("many", [False, True], ids=["few dates", "many dates"])
def test_a_dose_without_reports_has_no_rows(many):
    dates = [D(2021, 10, 1) + dt.timedelta(days=i) for i in range(_FEW_DATES + 1 if many else 2)]
    found = Reports(frame=REPORTS).last_values(3, dates, UNITS, LABELS)
    assert found.empty and [a.dtype for a in found] == [np.int64] * 5


def test_series_reporting_on_different_days_carry_their_own_last_report():
    """The many-dates grid has a column per day any series reported: a series without a report that day
    carries its own last one forward (never another series' value, never a later one)."""
    frame = pd.DataFrame(
        {
            "date": pd.to_datetime(["2021-10-01", "2021-10-04", "2021-10-02", "2021-10-06", "2021-10-03"]),
            "unit_code": ["070", "070", "071", "071", "070"],
            "age_band": ["18-49", "18-49", "18-49", "18-49", "65+"],
            "dose": 1,
            "people_cumulative": [10, 40, 200, 600, 3],
        }
    )
    dates = [D(2021, 9, 30) + dt.timedelta(days=i) for i in range(_FEW_DATES + 1)]  # 30 Sept … 8 Oct
    got = answer(Reports(frame=frame).last_values(1, dates, UNITS, LABELS), dates)
    a, b, c = (0, 1), (1, 1), (0, 2)  # 070 18-49, 071 18-49, 070 65+
    assert got[D(2021, 9, 30)] == {}
    assert got[D(2021, 10, 1)] == {a: (10, D(2021, 10, 1))}
    assert got[D(2021, 10, 3)] == {a: (10, D(2021, 10, 1)), b: (200, D(2021, 10, 2)), c: (3, D(2021, 10, 3))}
    assert got[D(2021, 10, 5)] == {a: (40, D(2021, 10, 4)), b: (200, D(2021, 10, 2)), c: (3, D(2021, 10, 3))}
    assert got[D(2021, 10, 8)] == {a: (40, D(2021, 10, 4)), b: (600, D(2021, 10, 6)), c: (3, D(2021, 10, 3))}
    few = [D(2021, 10, 3), D(2021, 10, 5)]
    assert answer(Reports(frame=frame).last_values(1, few, UNITS, LABELS), few) == {d: got[d] for d in few}


def test_a_unit_missing_from_the_units_is_minus_one_and_named():
    reports = Reports(frame=REPORTS)
    found = reports.last_values(1, [D(2021, 10, 9)], ("070",), LABELS)
    assert sorted(set(found.unit.tolist())) == [-1, 0]
    assert reports.unknown_units(("070",)) == ["071", "072"]


def test_only_leaves_other_labels_out_of_a_many_dates_answer():
    dates = [D(2021, 10, 1) + dt.timedelta(days=i) for i in range(_FEW_DATES + 1)]
    found = Reports(frame=REPORTS).last_values(1, dates, UNITS, LABELS, only=("65+",))
    assert set(found.label.tolist()) == {2}
    assert set(found.people.tolist()) == {7}


def test_threads_sharing_one_reports_get_the_same_answers():
    """The dashboard shares a Dataset (and its Reports) between sessions: answers asked at once from many
    threads, more than are remembered, are those asked alone."""
    from concurrent.futures import ThreadPoolExecutor

    reports = Reports(frame=REPORTS)
    questions = [
        [D(2021, 10, 1) + dt.timedelta(days=i + k) for i in range(_FEW_DATES + 1 if k % 2 else 3)] for k in range(40)
    ]
    alone = [answer(Reports(frame=REPORTS).last_values(1, q, UNITS, LABELS), q) for q in questions]
    with ThreadPoolExecutor(max_workers=8) as pool:
        together = list(pool.map(lambda q: answer(reports.last_values(1, q, UNITS, LABELS), q), questions * 3))
    assert together == alone * 3
