"""The series table (store.vaccination_series): one row per (unit, age label, dose) with its first and last
report date and last value, kept in the transactions that write vaccinations (issue 12: a daily drop reads
it instead of scanning every report). Figures below are worked out by hand from the drops."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from tracker import store
from tracker.config import load_config

CFG = load_config()
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "canonical"
CUMULATIVE = "date,unit_code,age_band,dose,people_cumulative\n"
DAILY = "date,unit_code,age_band,dose,doses\n"


@pytest.fixture
def folder(units_store) -> Path:
    """A store of its own with units 070, 071 and their population (tests/conftest.py)."""
    return units_store


def drop(folder: Path, text: str) -> int:
    data = text.encode("utf-8")
    return store.commit(folder, store.prepare(folder, data, "vaccinations", CFG, filename="d.csv"), "tester", data)


def series(folder: Path) -> dict[tuple, tuple]:
    with store.reading(folder) as con:
        rows = con.execute("SELECT * FROM vaccination_series").fetchall()
    return {(u, a, int(d)): (f"{f:%Y-%m-%d}", f"{last:%Y-%m-%d}", int(v)) for u, a, d, f, last, v in rows}


def cumulative(folder: Path, **where) -> dict[str, int]:
    with store.reading(folder) as con:
        rows = con.execute(
            "SELECT date, people_cumulative FROM vaccinations WHERE unit_code = ? AND age_band = ? AND dose = ? "
            "ORDER BY date",
            [where["unit"], where["band"], where["dose"]],
        ).fetchall()
    return {f"{d:%Y-%m-%d}": int(p) for d, p in rows}


# Three drops: A two days of 070/18-49; B a later day for it and a new series (071); C corrects A's
# first day (an earlier date than the last: the last value must not move) and adds a day before it.
A = CUMULATIVE + "2021-10-01,070,18-49,1,100\n2021-10-02,070,18-49,1,150\n"
B = CUMULATIVE + "2021-10-05,070,18-49,1,300\n2021-10-05,071,65+,2,40\n"
C = CUMULATIVE + "2021-09-30,070,18-49,1,90\n2021-10-01,070,18-49,1,110\n"
B071 = {("071", "65+", 2): ("2021-10-05", "2021-10-05", 40)}  # only B writes it
AFTER = {  # after the drops in the key's set: {series: (first, last, last value)}
    frozenset("A"): {("070", "18-49", 1): ("2021-10-01", "2021-10-02", 150)},
    frozenset("B"): {("070", "18-49", 1): ("2021-10-05", "2021-10-05", 300), **B071},
    frozenset("C"): {("070", "18-49", 1): ("2021-09-30", "2021-10-01", 110)},
    frozenset("AB"): {("070", "18-49", 1): ("2021-10-01", "2021-10-05", 300), **B071},
    frozenset("AC"): {("070", "18-49", 1): ("2021-09-30", "2021-10-02", 150)},
    frozenset("BC"): {("070", "18-49", 1): ("2021-09-30", "2021-10-05", 300), **B071},
    frozenset("ABC"): {("070", "18-49", 1): ("2021-09-30", "2021-10-05", 300), **B071},
    frozenset(): {},
}  # fmt: skip


def test_each_drop_moves_first_and_last_dates_and_the_last_value(folder):
    ids = {name: drop(folder, text) for name, text in zip("ABC", (A, B, C), strict=True)}
    assert ids == {"A": 3, "B": 4, "C": 5}
    assert series(folder) == AFTER[frozenset("ABC")]
    assert store.check(folder, CFG) == []


@pytest.mark.parametrize("order", list(itertools.permutations("ABC")), ids="".join)
def test_undo_in_any_order_leaves_the_series_of_the_drops_still_active(folder, order):
    ids = {name: drop(folder, text) for name, text in zip("ABC", (A, B, C), strict=True)}
    active = set("ABC")
    for name in order:
        store.undo(folder, ids[name], "lan")
        active.discard(name)
        assert series(folder) == AFTER[frozenset(active)], f"after undoing {name}"


def test_rebuild_makes_the_same_series_and_doctor_sees_a_tampered_one(folder):
    for text in (A, B, C):
        drop(folder, text)
    store.undo(folder, 4, "lan")
    before = series(folder)
    store.rebuild(folder, CFG)
    assert series(folder) == before == AFTER[frozenset("AC")]
    with store.writing(folder) as con:
        con.execute("UPDATE vaccination_series SET last_value = 1 WHERE unit_code = '070'")
    assert store.check(folder, CFG) == ["vaccination_series: 2 row(s) differ from the reports (`tracker rebuild`)"]


def test_a_store_from_before_the_series_table_is_refused_then_filled_when_upgraded(folder):
    drop(folder, A)
    with store.writing(folder) as con:  # a store as version 2 left it: no series table, no version
        con.execute("DROP TABLE vaccination_series")
        con.execute("DROP TABLE schema_version")
    text = DAILY + "2021-10-03,070,18-49,1,10\n"
    with pytest.raises(store.StoreError, match="schema version 2"):  # never read with the wrong query
        store.prepare(folder, text.encode(), "vaccinations", CFG, filename="daily.csv")
    store.init(folder, CFG)
    # the daily file read against the upgraded store: 150 + 10 on 2021-10-03
    prepared = store.prepare(folder, text.encode(), "vaccinations", CFG, filename="daily.csv")
    assert prepared.frame["people_cumulative"].tolist() == [160]
    store.commit(folder, prepared, "tester", text.encode())
    assert series(folder) == {("070", "18-49", 1): ("2021-10-01", "2021-10-03", 160)}


def test_daily_counts_build_on_the_value_before_their_first_day_wherever_it_is(folder):
    """A new day (from the series table), a correction of a past day (the reports of the weeks before),
    a day after a gap longer than those weeks (every report), and a series starting before its first
    stored day (nothing to build on)."""
    drop(folder, CUMULATIVE + "2021-06-01,071,65+,1,500\n2021-10-05,071,65+,1,600\n")  # a gap of 4 months
    drop(folder, A + "2021-10-01,070,50-64,1,70\n")
    drop(
        folder,
        DAILY + "2021-10-03,070,18-49,1,5\n"  # after the last (10-02: 150): 155
        "2021-10-02,070,50-64,1,7\n"  # after the last (10-01: 70): 77
        "2021-10-02,071,65+,1,9\n"  # in the gap: on 06-01 (500), 123 days before: 509
        "2021-09-01,070,18-49,2,4\n",  # a series of its own, nothing stored: 4
    )
    assert cumulative(folder, unit="070", band="18-49", dose=1) == {
        "2021-10-01": 100,
        "2021-10-02": 150,
        "2021-10-03": 155,
    }
    assert cumulative(folder, unit="070", band="50-64", dose=1) == {"2021-10-01": 70, "2021-10-02": 77}
    assert cumulative(folder, unit="071", band="65+", dose=1) == {
        "2021-06-01": 500,
        "2021-10-02": 509,
        "2021-10-05": 600,
    }
    assert cumulative(folder, unit="070", band="18-49", dose=2) == {"2021-09-01": 4}
    # a correction of a day before the last: builds on the day before it (10-01: 100), not on the last
    drop(folder, DAILY + "2021-10-02,070,18-49,1,60\n")
    assert cumulative(folder, unit="070", band="18-49", dose=1) == {
        "2021-10-01": 100,
        "2021-10-02": 160,
        "2021-10-03": 155,
    }
    assert series(folder)[("070", "18-49", 1)] == ("2021-10-01", "2021-10-03", 155)
    assert store.check(folder, CFG) == []
