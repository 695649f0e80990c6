"""tracker.reports: the last report on or before each date, per series, as integer codes; the scan for a
few dates and the grid carried forward for many give the same answer (worked out by hand)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from tracker.reports import _FEW_DATES, _WINDOW, Reports

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


def _quiet_series_reports() -> pd.DataFrame:
    """Dose 1 of units 070 and 071. 070 18-49 reports every day; 070 65+ on 1 Oct, then not for 80 days;
    071 18-49 starts on 15 Dec; 071 50-64 reports exactly the window's length before 10 Dec (just outside
    it) and 071 65+ one day later (just inside), both again on 20 Dec."""
    d10 = D(2021, 12, 10)
    outside, inside = d10 - dt.timedelta(days=_WINDOW), d10 - dt.timedelta(days=_WINDOW - 1)
    daily = [D(2021, 10, 1) + dt.timedelta(days=i) for i in range(92)]  # 1 Oct … 31 Dec
    rows = [(d, "070", "18-49", 100 + i) for i, d in enumerate(daily)]
    rows += [(D(2021, 10, 1), "070", "65+", 7), (D(2021, 12, 20), "070", "65+", 30)]
    rows += [(D(2021, 12, 15), "071", "18-49", 40)]
    rows += [(outside, "071", "50-64", 5), (D(2021, 12, 20), "071", "50-64", 9)]
    rows += [(inside, "071", "65+", 6), (D(2021, 12, 20), "071", "65+", 8)]
    dates, units, bands, people = zip(*rows, strict=True)
    return pd.DataFrame(
        {"date": pd.to_datetime(dates), "unit_code": units, "age_band": bands, "dose": 1, "people_cumulative": people}
    )


@pytest.mark.parametrize("source", ["frame", "store"])
def test_a_series_quiet_for_longer_than_the_window_still_has_its_last_report(source, units_store):
    """A few dates are answered from the reports of the window before each (DuckDB reads only those days);
    a series quiet for longer is looked up further back, one whose last report is before the date comes
    from the series table, and a series that had not started has no row. By hand."""
    frame = _quiet_series_reports()
    if source == "frame":
        reports = Reports(frame=frame)
    else:
        from tracker import store
        from tracker.config import load_config

        data = frame.assign(date=frame["date"].dt.strftime("%Y-%m-%d")).to_csv(index=False).encode()
        prepared = store.prepare(units_store, data, "vaccinations", load_config(), filename="d.csv")
        store.commit(units_store, prepared, "tester", data)
        reports = Reports(store=units_store)
    labels = ("18-49", "50-64", "65+")
    dates = [D(2021, 9, 30), D(2021, 12, 10), D(2021, 12, 25), D(2022, 2, 1)]
    outside, inside = D(2021, 12, 10) - dt.timedelta(days=_WINDOW), D(2021, 12, 10) - dt.timedelta(days=_WINDOW - 1)
    expected = {
        D(2021, 9, 30): {},
        D(2021, 12, 10): {
            (0, 0): (170, D(2021, 12, 10)),  # 70 days after 1 Oct
            (0, 2): (7, D(2021, 10, 1)),  # quiet for 70 days: looked up further back
            (1, 1): (5, outside),
            (1, 2): (6, inside),
        },
        D(2021, 12, 25): {
            (0, 0): (185, D(2021, 12, 25)),
            (0, 2): (30, D(2021, 12, 20)),
            (1, 0): (40, D(2021, 12, 15)),
            (1, 1): (9, D(2021, 12, 20)),
            (1, 2): (8, D(2021, 12, 20)),
        },
        D(2022, 2, 1): {  # after every series' last report: the series table's last values
            (0, 0): (191, D(2021, 12, 31)),
            (0, 2): (30, D(2021, 12, 20)),
            (1, 0): (40, D(2021, 12, 15)),
            (1, 1): (9, D(2021, 12, 20)),
            (1, 2): (8, D(2021, 12, 20)),
        },
    }
    assert answer(reports.last_values(1, dates, UNITS, labels), dates) == expected
    many = dates + [D(2022, 3, 1) + dt.timedelta(days=i) for i in range(_FEW_DATES)]  # the grid: same answer
    assert {d: v for d, v in answer(reports.last_values(1, many, UNITS, labels), many).items() if d in expected} == (
        expected
    )


def test_the_benchmark_reference_peer_reads_the_same_window():
    """bench/run.py times the report against a query reading only the days tracker.reports reads (the runner
    imports no tracker module, so it keeps its own copy of the number)."""
    from bench.settings import REPORT_WINDOW

    assert REPORT_WINDOW == _WINDOW
