"""Hand-computed tests of tracker.core on tiny datasets.

Populations (tests/factories.py, per band 0-4, 5-11, 12-17, 18-49, 50-64, 65+):
  070: 10, 10, 20, 30, 20, 10   -> all 100, adults 60, 50plus 30, 12plus 80, 18-49 30
  071: 20, 20, 40, 60, 40, 20   -> all 200, adults 120, 50plus 60, 12plus 160, 18-49 60
  072: 100, 100, 200, 300, 200, 100 -> all 1000, adults 600, 50plus 300, 12plus 800, 18-49 300
Every expected number is written out with its arithmetic.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from tests.factories import BASE_BANDS, POPULATION, UNITS, make_config, make_dataset, make_target
from tracker import core, store
from tracker.errors import DataError, InputError

CFG = make_config()
D = dt.date
COVERAGE_COLUMNS = [
    "unit_code", "unit_name", "people", "population", "coverage", "last_report_date", "over_100", "reason",
]  # fmt: skip
EVALUATE_COLUMNS = [
    "unit_code", "unit_name", "target_id", "group", "dose", "people", "population", "coverage", "threshold",
    "deadline", "people_needed", "days_left", "pace_7d", "required_daily", "projected_date", "status", "reason",
]  # fmt: skip


@pytest.fixture(params=[True, False], ids=["category", "str"])
def categorical(request) -> bool:
    """unit_code / age_band as categories (as store.load gives them) and as plain strings."""
    return request.param


def by_unit(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.set_index("unit_code")


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text)


def target_row(report: pd.DataFrame, unit: str, target_id: str = "t") -> pd.Series:
    rows = report[(report["unit_code"] == unit) & (report["target_id"] == target_id)]
    assert len(rows) == 1
    return rows.iloc[0]


# --------------------------------------------------------------------------- factories vs store


def test_factory_dtypes_match_store_load(tmp_path):
    """make_dataset gives the dtypes store.load gives (so the core is tested on what it really sees)."""
    assert store.init(tmp_path / "store", CFG)
    loaded = store.load(tmp_path / "store")
    built = make_dataset(reports=[("2021-10-01", "070", "18-49", 1, 5)], cases=[("2021-10-01", "070", 1, 0)])
    for name in ("units", "population", "vaccinations", "cases"):
        assert list(getattr(built, name).columns) == list(getattr(loaded, name).columns), name
        assert getattr(built, name).dtypes.astype(str).to_dict() == getattr(loaded, name).dtypes.astype(str).to_dict()


def test_category_and_str_codes_give_the_same_figures():
    reports = [
        ("2021-10-01", "070", "adults", 1, 30),
        ("2021-10-02", "071", "18-49", 1, 40),
        ("2021-10-03", "071", "50-64", 1, 5),
    ]
    cat = make_dataset(reports=reports, categorical=True)
    txt = make_dataset(reports=reports, categorical=False)
    for group in ("adults", "all", "50plus", "18-49"):
        pd.testing.assert_frame_equal(
            core.coverage(cat, CFG, "2021-10-05", group, 1), core.coverage(txt, CFG, "2021-10-05", group, 1)
        )
    pd.testing.assert_frame_equal(core.evaluate(cat, CFG, "2021-10-05"), core.evaluate(txt, CFG, "2021-10-05"))


# --------------------------------------------------------------------------- shape


def test_coverage_columns_rows_in_units_order_then_total(categorical):
    ds = make_dataset(units=["072", "070", "071"], categorical=categorical)
    cov = core.coverage(ds, CFG, "2021-10-01", "adults", 1)
    assert list(cov.columns) == COVERAGE_COLUMNS
    assert cov["unit_code"].tolist() == ["072", "070", "071", "TOTAL"]
    assert cov["unit_name"].tolist() == ["Huyện Na Hang", "Thành phố Tuyên Quang", "Huyện Lâm Bình", "Tuyên Quang"]
    # adults population: 600, 60, 120; province 600 + 60 + 120 = 780
    assert cov["population"].tolist() == [600, 60, 120, 780]


def test_people_at_frame_indexed_by_unit_and_date(categorical):
    ds = make_dataset(reports=[("2021-10-01", "070", "18-49", 1, 6)], categorical=categorical)
    at = core.people_at(ds, CFG, "18-49", 1, [D(2021, 9, 30), D(2021, 10, 1)])
    assert list(at.index.names) == ["unit_code", "date"]
    assert {"people", "last_report_date", "reason"} <= set(at.columns)
    assert len(at) == 3 * 2  # 3 units x 2 dates
    assert at.loc[("070", ts("2021-09-30")), "people"] == 0
    assert at.loc[("070", ts("2021-10-01")), "people"] == 6
    assert at.loc[("070", ts("2021-10-01")), "last_report_date"] == ts("2021-10-01")
    assert pd.isna(at.loc[("070", ts("2021-09-30")), "last_report_date"])


# --------------------------------------------------------------------------- carry-forward


def test_a_day_without_report_carries_the_last_value_forward(categorical):
    # 070, 18-49, dose 1: 6 on 10-01, 12 on 10-03, 15 on 10-06 (given out of date order on purpose)
    reports = [
        ("2021-10-06", "070", "18-49", 1, 15),
        ("2021-10-01", "070", "18-49", 1, 6),
        ("2021-10-03", "070", "18-49", 1, 12),
    ]
    ds = make_dataset(reports=reports, categorical=categorical)
    days = ["2021-09-30", "2021-10-01", "2021-10-02", "2021-10-04", "2021-10-05", "2021-10-06", "2021-10-07"]
    at = core.people_at(ds, CFG, "18-49", 1, days).loc["070"]
    # before the first report: 0; a missing day is the previous value, never 0
    assert at["people"].tolist() == [0, 6, 6, 12, 12, 15, 15]
    last = [pd.NaT, *map(ts, ["2021-10-01", "2021-10-01", "2021-10-03", "2021-10-03", "2021-10-06", "2021-10-06"])]
    assert at["last_report_date"].isna().tolist() == [True] + [False] * 6
    assert at["last_report_date"].iloc[1:].tolist() == last[1:]

    cov = by_unit(core.coverage(ds, CFG, "2021-10-05", "18-49", 1))
    assert cov.loc["070", "people"] == 12  # carried from 10-03
    assert cov.loc["070", "coverage"] == pytest.approx(12 / 30)  # = 0.4
    assert cov.loc["070", "last_report_date"] == ts("2021-10-03")
    # province: (12 + 0 + 0) / (30 + 60 + 300) = 12 / 390
    assert cov.loc["TOTAL", "coverage"] == pytest.approx(12 / 390)


def test_pace_uses_carried_values_on_both_ends(categorical):
    # 072, 18-49: 50 on 09-20, 80 on 09-29; as_of 10-03 (no report), week before = 09-26 (no report)
    # people(10-03) = 80 (from 09-29), people(09-26) = 50 (from 09-20): pace = (80 - 50) / 7 = 30/7
    reports = [("2021-09-20", "072", "18-49", 1, 50), ("2021-09-29", "072", "18-49", 1, 80)]
    ds = make_dataset(reports=reports, categorical=categorical)
    cfg = make_config([make_target(group="18-49", threshold="0.5", deadline="2021-12-31")])
    row = target_row(core.evaluate(ds, cfg, "2021-10-03"), "072")
    assert row["people"] == 80
    assert row["pace_7d"] == pytest.approx(30 / 7)


@pytest.mark.parametrize(
    "reports",
    [
        [],  # no report at all
        [("2021-10-01", "070", "0-4", 1, 3)],  # dose 1 reported, but outside the group
        [("2021-10-01", "070", "18-49", 2, 3)],  # only dose 2 reported, dose 1 asked
    ],
    ids=["no-reports", "dose-outside-group", "other-dose-only"],
)
def test_people_is_float_whatever_was_reported(reports):
    # people_at documents people as float (NaN when unavailable): the figures' dtype must not depend on
    # which other reports exist (a dashboard concatenating days or doses would otherwise mix int and float)
    ds = make_dataset(reports=reports)
    assert core.people_at(ds, CFG, "adults", 1, ["2021-10-05"])["people"].dtype == np.float64
    cov = core.coverage(ds, CFG, "2021-10-05", "adults", 1)
    assert cov["people"].dtype == np.float64
    assert cov["people"].tolist() == [0, 0, 0, 0]


def test_reports_of_another_dose_do_not_count(categorical):
    reports = [("2021-10-01", "070", "18-49", 1, 10), ("2021-10-02", "070", "18-49", 2, 4)]
    ds = make_dataset(reports=reports, categorical=categorical)
    one = by_unit(core.coverage(ds, CFG, "2021-10-05", "18-49", 1))
    two = by_unit(core.coverage(ds, CFG, "2021-10-05", "18-49", 2))
    assert (one.loc["070", "people"], one.loc["070", "last_report_date"]) == (10, ts("2021-10-01"))
    assert (two.loc["070", "people"], two.loc["070", "last_report_date"]) == (4, ts("2021-10-02"))


def test_last_report_date_is_the_latest_contributing_report(categorical):
    # adults = 18-49 + 50-64 + 65+, dose 1, as_of 10-07
    reports = [
        ("2021-10-01", "070", "18-49", 1, 10),  # contributes
        ("2021-10-05", "070", "50-64", 1, 4),  # contributes: latest
        ("2021-10-06", "070", "12-17", 1, 3),  # band outside adults
        ("2021-10-06", "070", "65+", 2, 2),  # other dose
        ("2021-10-08", "070", "18-49", 1, 20),  # after as_of
    ]
    ds = make_dataset(reports=reports, categorical=categorical)
    cov = by_unit(core.coverage(ds, CFG, "2021-10-07", "adults", 1))
    assert cov.loc["070", "people"] == 14  # 10 + 4 + 0 (65+ dose 1 never reported)
    assert cov.loc["070", "last_report_date"] == ts("2021-10-05")
    assert cov.loc["TOTAL", "last_report_date"] == ts("2021-10-05")


# --------------------------------------------------------------------------- corrections, silence


def test_downward_correction_lowers_coverage_and_gives_negative_pace(categorical):
    # 070, 18-49 (pop 30): 20 on 09-24, corrected down to 15 on 10-01
    reports = [("2021-09-24", "070", "18-49", 1, 20), ("2021-10-01", "070", "18-49", 1, 15)]
    ds = make_dataset(reports=reports, categorical=categorical)
    before = by_unit(core.coverage(ds, CFG, "2021-09-30", "18-49", 1))
    after = by_unit(core.coverage(ds, CFG, "2021-10-01", "18-49", 1))
    assert before.loc["070", "coverage"] == pytest.approx(20 / 30)
    assert after.loc["070", "coverage"] == pytest.approx(15 / 30)  # = 0.5, dropped

    cfg = make_config([make_target(group="18-49", threshold="0.7", deadline="2021-10-31")])
    row = target_row(core.evaluate(ds, cfg, "2021-10-01"), "070")
    # needed = ceil(0.7 x 30) - 15 = 21 - 15 = 6; pace = (15 - 20) / 7 = -5/7
    assert row["people_needed"] == 6
    assert row["pace_7d"] == pytest.approx(-5 / 7)
    assert row["days_left"] == 30  # 10-31 - 10-01
    assert row["required_daily"] == pytest.approx(6 / 30)  # = 0.2
    assert pd.isna(row["projected_date"])  # pace <= 0: no projection
    assert row["status"] == "off_track"


def test_unit_that_never_reports(categorical):
    reports = [("2021-10-01", "070", "18-49", 1, 10), ("2021-10-01", "071", "18-49", 1, 20)]
    ds = make_dataset(reports=reports, categorical=categorical)
    cov = by_unit(core.coverage(ds, CFG, "2021-10-05", "adults", 1))
    assert cov.loc["072", "people"] == 0
    assert cov.loc["072", "coverage"] == 0
    assert pd.isna(cov.loc["072", "last_report_date"])
    assert cov.loc["072", "reason"] == ""
    assert not cov.loc["072", "over_100"]
    # province: (10 + 20 + 0) / (60 + 120 + 600) = 30 / 780
    assert cov.loc["TOTAL", "coverage"] == pytest.approx(30 / 780)

    cfg = make_config([make_target(group="adults", threshold="0.5", deadline="2021-12-31")])
    row = target_row(core.evaluate(ds, cfg, "2021-10-05"), "072")
    # needed = ceil(0.5 x 600) - 0 = 300; pace 0 -> no projection, off_track
    assert row["people_needed"] == 300
    assert row["pace_7d"] == 0
    assert row["required_daily"] == pytest.approx(300 / 87)  # 87 days from 10-05 to 12-31
    assert pd.isna(row["projected_date"])
    assert row["status"] == "off_track"


def test_no_report_at_all():
    ds = make_dataset()
    cov = core.coverage(ds, CFG, "2021-10-05", "all", 1)
    assert cov["people"].tolist() == [0, 0, 0, 0]
    assert cov["last_report_date"].isna().all()
    report = core.evaluate(ds, CFG, "2021-10-05")
    assert set(report["status"]) == {"off_track"}


# --------------------------------------------------------------------------- groups


@pytest.fixture
def whole_group_ds(categorical):
    # 070 reports adults as ONE figure (30) and 12-17 (8); 071 reports every adult band; 072 nothing
    reports = [
        ("2021-10-01", "070", "adults", 1, 30),
        ("2021-10-02", "070", "12-17", 1, 8),
        ("2021-10-01", "071", "18-49", 1, 40),
        ("2021-10-01", "071", "50-64", 1, 20),
        ("2021-10-01", "071", "65+", 1, 10),
    ]
    return make_dataset(reports=reports, categorical=categorical)


def test_group_reported_as_a_whole_gives_that_group(whole_group_ds):
    cov = by_unit(core.coverage(whole_group_ds, CFG, "2021-10-05", "adults", 1))
    assert cov.loc["070", "people"] == 30
    assert cov.loc["070", "coverage"] == pytest.approx(30 / 60)  # = 0.5
    assert cov.loc["070", "reason"] == ""
    assert cov.loc["071", "people"] == 70  # 40 + 20 + 10
    assert cov.loc["071", "coverage"] == pytest.approx(70 / 120)
    # province: (30 + 70 + 0) / (60 + 120 + 600) = 100 / 780
    assert cov.loc["TOTAL", "people"] == 100
    assert cov.loc["TOTAL", "coverage"] == pytest.approx(100 / 780)


def test_group_reported_as_a_whole_makes_a_smaller_group_unavailable(whole_group_ds):
    cov = by_unit(core.coverage(whole_group_ds, CFG, "2021-10-05", "50plus", 1))
    assert math.isnan(cov.loc["070", "people"])
    assert math.isnan(cov.loc["070", "coverage"])
    assert not cov.loc["070", "over_100"]
    assert "adults" in cov.loc["070", "reason"]
    assert cov.loc["071", "people"] == 30  # 20 + 10
    assert cov.loc["071", "coverage"] == pytest.approx(30 / 60)
    assert cov.loc["071", "reason"] == ""
    assert cov.loc["072", "people"] == 0
    # the province cannot be added up without 070
    assert math.isnan(cov.loc["TOTAL", "people"])
    assert math.isnan(cov.loc["TOTAL", "coverage"])
    assert "070" in cov.loc["TOTAL", "reason"]
    assert "071" not in cov.loc["TOTAL", "reason"]
    assert cov.loc["TOTAL", "population"] == 30 + 60 + 300

    # a band is a group too: 18-49 alone cannot be split out of 070's adults figure
    band = by_unit(core.coverage(whole_group_ds, CFG, "2021-10-05", "18-49", 1))
    assert math.isnan(band.loc["070", "people"]) and "adults" in band.loc["070", "reason"]
    assert band.loc["071", "coverage"] == pytest.approx(40 / 60)


def test_group_reported_as_a_whole_adds_into_a_larger_group(whole_group_ds):
    cov = by_unit(core.coverage(whole_group_ds, CFG, "2021-10-05", "all", 1))
    # 070: adults 30 + 12-17 8 + 0-4 0 + 5-11 0 = 38 of 100
    assert cov.loc["070", "people"] == 38
    assert cov.loc["070", "coverage"] == pytest.approx(0.38)
    assert cov.loc["070", "last_report_date"] == ts("2021-10-02")
    assert cov.loc["071", "coverage"] == pytest.approx(70 / 200)  # = 0.35
    # province: (38 + 70 + 0) / (100 + 200 + 1000) = 108 / 1300
    assert cov.loc["TOTAL", "coverage"] == pytest.approx(108 / 1300)
    plus12 = by_unit(core.coverage(whole_group_ds, CFG, "2021-10-05", "12plus", 1))
    assert plus12.loc["070", "coverage"] == pytest.approx(38 / 80)  # = 0.475


def test_group_alias_and_unknown_group(whole_group_ds):
    # "18+" is configured as an alias of adults
    pd.testing.assert_frame_equal(
        core.coverage(whole_group_ds, CFG, "2021-10-05", "18+", 1),
        core.coverage(whole_group_ds, CFG, "2021-10-05", "adults", 1),
    )
    with pytest.raises(InputError, match="kids"):
        core.coverage(whole_group_ds, CFG, "2021-10-05", "kids", 1)


def test_whole_group_report_only_counts_from_its_date(whole_group_ds):
    # on 09-30 nobody had reported yet: 50plus is 0 everywhere, not unavailable
    cov = core.coverage(whole_group_ds, CFG, "2021-09-30", "50plus", 1)
    assert cov["people"].tolist() == [0, 0, 0, 0]
    assert (cov["reason"] == "").all()


def test_evaluate_unavailable_when_group_does_not_split(whole_group_ds):
    cfg = make_config([make_target(group="50plus", threshold="0.5", deadline="2021-12-31")])
    report = core.evaluate(whole_group_ds, cfg, "2021-10-05")
    row = target_row(report, "070")
    assert row["status"] == "unavailable"
    assert math.isnan(row["people"]) and math.isnan(row["people_needed"]) and math.isnan(row["pace_7d"])
    assert pd.isna(row["projected_date"])
    assert "adults" in row["reason"]
    total = target_row(report, "TOTAL")
    assert total["status"] == "unavailable"
    assert math.isnan(total["people"])
    assert "070" in total["reason"]
    assert target_row(report, "071")["status"] != "unavailable"


def test_overlapping_reports_make_the_unit_unavailable(categorical):
    # 071 reports both adults (50) and 18-49 (30) for dose 1: the 18-49 people would count twice
    reports = [
        ("2021-10-01", "071", "adults", 1, 50),
        ("2021-10-01", "071", "18-49", 1, 30),
        ("2021-10-01", "071", "18-49", 2, 10),
        ("2021-10-01", "070", "18-49", 1, 15),
    ]
    ds = make_dataset(reports=reports, categorical=categorical)
    cov = by_unit(core.coverage(ds, CFG, "2021-10-05", "adults", 1))
    assert math.isnan(cov.loc["071", "people"])
    assert "adults" in cov.loc["071", "reason"] and "18-49" in cov.loc["071", "reason"]
    assert cov.loc["070", "coverage"] == pytest.approx(15 / 60)  # = 0.25
    assert math.isnan(cov.loc["TOTAL", "people"])
    assert "071" in cov.loc["TOTAL", "reason"] and "070" not in cov.loc["TOTAL", "reason"]

    everyone = by_unit(core.coverage(ds, CFG, "2021-10-05", "all", 1))
    assert math.isnan(everyone.loc["071", "people"]) and everyone.loc["071", "reason"] != ""

    # dose 2 has only the 18-49 report: no overlap, 10 / 120
    dose2 = by_unit(core.coverage(ds, CFG, "2021-10-05", "adults", 2))
    assert dose2.loc["071", "coverage"] == pytest.approx(10 / 120)
    assert dose2.loc["TOTAL", "coverage"] == pytest.approx(10 / 780)

    cfg = make_config([make_target(group="adults", threshold="0.5", deadline="2021-12-31")])
    report = core.evaluate(ds, cfg, "2021-10-05")
    assert target_row(report, "071")["status"] == "unavailable"
    assert target_row(report, "TOTAL")["status"] == "unavailable"
    # 070: needs ceil(0.5 x 60) - 15 = 15 in 87 days (0.17/day), pace (15 - 0)/7 = 2.14: on_track
    assert target_row(report, "070")["status"] == "on_track"


def test_two_group_reports_overlapping_inside_a_larger_group(categorical):
    # adults and 50plus both cover 50-64 and 65+: asked for all, 070 is unavailable
    reports = [("2021-10-01", "070", "adults", 1, 30), ("2021-10-01", "070", "50plus", 1, 12)]
    ds = make_dataset(reports=reports, categorical=categorical)
    cov = by_unit(core.coverage(ds, CFG, "2021-10-05", "all", 1))
    assert math.isnan(cov.loc["070", "people"])
    assert "adults" in cov.loc["070", "reason"] and "50plus" in cov.loc["070", "reason"]


def test_bands_reported_separately_partition_the_group(categorical):
    # 50plus reported as one figure + 18-49 on its own partition adults exactly: 12 + 9 = 21 of 60
    reports = [("2021-10-01", "070", "50plus", 1, 12), ("2021-10-01", "070", "18-49", 1, 9)]
    ds = make_dataset(reports=reports, categorical=categorical)
    cov = by_unit(core.coverage(ds, CFG, "2021-10-05", "adults", 1))
    assert cov.loc["070", "people"] == 21
    assert cov.loc["070", "coverage"] == pytest.approx(21 / 60)
    assert cov.loc["070", "reason"] == ""


# --------------------------------------------------------------------------- province, over 100 %


def test_province_is_ratio_of_sums_not_mean_of_percentages(categorical):
    # 18-49: 070 30/30 = 100 %, 071 0/60 = 0 %, 072 30/300 = 10 %
    reports = [("2021-10-01", "070", "18-49", 1, 30), ("2021-10-01", "072", "18-49", 1, 30)]
    ds = make_dataset(reports=reports, categorical=categorical)
    cov = by_unit(core.coverage(ds, CFG, "2021-10-05", "18-49", 1))
    assert cov.loc["TOTAL", "people"] == 60  # 30 + 0 + 30
    assert cov.loc["TOTAL", "population"] == 390  # 30 + 60 + 300
    assert cov.loc["TOTAL", "coverage"] == pytest.approx(60 / 390)  # = 15.38 %
    mean_of_percentages = (1.0 + 0.0 + 0.1) / 3  # = 36.67 %, wrong
    assert not math.isclose(cov.loc["TOTAL", "coverage"], mean_of_percentages)

    cfg = make_config([make_target(group="18-49", threshold="0.5", deadline="2021-12-31")])
    total = target_row(core.evaluate(ds, cfg, "2021-10-05"), "TOTAL")
    # province needs ceil(0.5 x 390) = 195, has 60: 135 more
    assert total["people_needed"] == 135
    assert total["coverage"] == pytest.approx(60 / 390)


def test_coverage_above_100_percent_is_shown_and_flagged(categorical):
    # 18-49: 070 36/30 = 120 %, 071 60/60 = exactly 100 % (not over), 072 0
    reports = [("2021-10-01", "070", "18-49", 1, 36), ("2021-10-01", "071", "18-49", 1, 60)]
    ds = make_dataset(reports=reports, categorical=categorical)
    cov = by_unit(core.coverage(ds, CFG, "2021-10-05", "18-49", 1))
    assert cov.loc["070", "coverage"] == pytest.approx(1.2)  # not capped at 1
    assert bool(cov.loc["070", "over_100"]) is True
    assert bool(cov.loc["071", "over_100"]) is False
    assert bool(cov.loc["072", "over_100"]) is False
    assert cov.loc["TOTAL", "coverage"] == pytest.approx(96 / 390)  # (36 + 60 + 0) / 390
    assert bool(cov.loc["TOTAL", "over_100"]) is False

    cfg = make_config([make_target(group="18-49", threshold="0.9", deadline="2021-12-31")])
    row = target_row(core.evaluate(ds, cfg, "2021-10-05"), "070")
    assert row["coverage"] == pytest.approx(1.2)
    assert row["people_needed"] == 0
    assert row["status"] == "met"


# --------------------------------------------------------------------------- population errors


def test_missing_band_population_is_a_data_error_naming_the_unit(categorical):
    population = {u: dict(POPULATION[u]) for u in UNITS}
    del population["071"]["65+"]
    ds = make_dataset(population=population, categorical=categorical)
    with pytest.raises(DataError, match="071") as err:
        core.coverage(ds, CFG, "2021-10-05", "adults", 1)
    assert "070" not in str(err.value) and "072" not in str(err.value)
    with pytest.raises(DataError, match="071"):
        core.evaluate(ds, CFG, "2021-10-05")
    with pytest.raises(DataError, match="071"):
        core.incidence(ds, CFG, "2021-10-05")
    # a group that does not need the missing band still works: 18-49 of 071 is 60
    assert by_unit(core.coverage(ds, CFG, "2021-10-05", "18-49", 1)).loc["071", "population"] == 60


def test_unit_without_any_population_is_a_data_error_naming_it(categorical):
    population = {u: POPULATION[u] for u in ("070", "071")}  # 072 absent
    ds = make_dataset(population=population, categorical=categorical)
    with pytest.raises(DataError, match="072"):
        core.coverage(ds, CFG, "2021-10-05", "all", 1)


def test_zero_population_is_a_data_error_naming_the_unit(categorical):
    population = {u: dict(POPULATION[u]) for u in UNITS}
    population["072"] = {b: 0 for b in BASE_BANDS}
    ds = make_dataset(population=population, categorical=categorical)
    with pytest.raises(DataError, match="072"):
        core.coverage(ds, CFG, "2021-10-05", "adults", 1)
    with pytest.raises(DataError, match="072"):
        core.evaluate(ds, CFG, "2021-10-05")
    with pytest.raises(DataError, match="072"):
        core.incidence(ds, CFG, "2021-10-05")


def test_zero_population_of_a_band_asked_as_a_group(categorical):
    population = {u: dict(POPULATION[u]) for u in UNITS}
    population["070"]["65+"] = 0
    ds = make_dataset(population=population, categorical=categorical)
    with pytest.raises(DataError, match="070"):
        core.coverage(ds, CFG, "2021-10-05", "65+", 1)
    cfg = make_config([make_target(group="65+", threshold="0.5")])
    with pytest.raises(DataError, match="070"):
        core.evaluate(ds, cfg, "2021-10-05")


# --------------------------------------------------------------------------- deadlines


@pytest.fixture
def deadline_ds(categorical):
    reports = [
        # 070 (18-49 pop 30, needs ceil(0.5 x 30) = 15): 14 on the deadline, 20 later
        ("2021-10-25", "070", "18-49", 1, 14),
        ("2021-11-05", "070", "18-49", 1, 20),
        # 071 (pop 60, needs 30): 30 on the deadline (reported 10-30), corrected down to 25 later
        ("2021-10-30", "071", "18-49", 1, 30),
        ("2021-11-10", "071", "18-49", 1, 25),
        # 072 (pop 300, needs 150): exactly 150 reported ON the deadline, 149 the day after
        ("2021-10-31", "072", "18-49", 1, 150),
        ("2021-11-01", "072", "18-49", 1, 149),
    ]
    return make_dataset(reports=reports, categorical=categorical)


DEADLINE_CFG = make_config([make_target(group="18-49", threshold="0.5", deadline="2021-10-31")])


def test_passed_deadline_is_judged_on_the_deadline_value(deadline_ds):
    report = core.evaluate(deadline_ds, DEADLINE_CFG, "2021-11-15")
    r070, r071, r072, total = (target_row(report, u) for u in ("070", "071", "072", "TOTAL"))
    assert r070["status"] == "missed"  # 14 < 15 on 10-31, even though 20 >= 15 now
    assert r070["people"] == 20 and r070["people_needed"] == 0
    assert r071["status"] == "met"  # 30 >= 30 on 10-31, even though 25 now
    assert r071["people"] == 25 and r071["people_needed"] == 5
    assert r072["status"] == "met"  # 150 >= 150 reported on the deadline itself
    assert r072["people_needed"] == 1  # 150 - 149
    # province on 10-31: 14 + 30 + 150 = 194 < ceil(0.5 x 390) = 195: missed by one
    assert total["status"] == "missed"
    assert total["people"] == 20 + 25 + 149
    assert (report["days_left"] == -15).all()  # 10-31 - 11-15
    assert report["required_daily"].isna().all()  # days_left <= 0
    # no positive pace: 071 (25 - 30)/7 < 0 since 11-08 carries 30; 070 needs nobody
    assert r071["pace_7d"] == pytest.approx(-5 / 7)
    assert report["projected_date"].isna().all()


def test_as_of_equal_to_deadline(deadline_ds):
    report = core.evaluate(deadline_ds, DEADLINE_CFG, "2021-10-31")
    assert (report["days_left"] == 0).all()
    assert report["required_daily"].isna().all()
    statuses = dict(zip(report["unit_code"], report["status"], strict=True))
    assert statuses == {"070": "missed", "071": "met", "072": "met", "TOTAL": "missed"}


def test_day_before_deadline_is_judged_on_pace(deadline_ds):
    report = core.evaluate(deadline_ds, DEADLINE_CFG, "2021-10-30")
    row = target_row(report, "071")
    # 30 >= 30 already: met; 070 needs 15 - 14 = 1 in 1 day, pace (14 - 0)/7 = 2 >= 1: on_track
    assert row["status"] == "met"
    r070 = target_row(report, "070")
    assert r070["days_left"] == 1
    assert r070["required_daily"] == pytest.approx(1.0)
    assert r070["pace_7d"] == pytest.approx(2.0)
    assert r070["status"] == "on_track"
    # 072 has nothing yet on 10-30 (its first report is on 10-31)
    assert target_row(report, "072")["people"] == 0


# --------------------------------------------------------------------------- targets arithmetic


def one_unit(band_population: int, reports) -> tuple:
    population = {"070": {**BASE_BANDS, "18-49": band_population}}
    return make_dataset(units=["070"], population=population, reports=reports)


@pytest.mark.parametrize(
    ("threshold", "population", "expected"),
    [
        ("0.7", 100, 70),  # 7/10 x 100 = 70 exactly
        ("0.56", 100, 56),  # float 0.56*100 = 56.00000000000001 -> ceil would say 57
        ("0.07", 100, 7),  # float 0.07*100 = 7.000000000000001 -> ceil would say 8
        ("0.55", 100, 55),  # float 55.00000000000001
        ("0.29", 100, 29),  # float 0.29*100 = 28.999999999999996 -> truncation would say 28
        ("0.57", 100, 57),  # float 56.99999999999999
        ("0.7", 90, 63),  # float 62.99999999999999
        ("0.7", 105, 74),  # 73.5 -> ceil 74
        ("0.5", 31, 16),  # 15.5 -> 16
        ("1", 100, 100),
    ],
)
def test_people_needed_is_exact(threshold, population, expected):
    cfg = make_config([make_target(group="18-49", threshold=threshold, deadline="2021-12-31")])
    empty = core.evaluate(one_unit(population, []), cfg, "2021-10-01")
    assert target_row(empty, "070")["people_needed"] == expected  # ceil(threshold x population) - 0

    short = one_unit(population, [("2021-10-01", "070", "18-49", 1, expected - 1)])
    row = target_row(core.evaluate(short, cfg, "2021-10-01"), "070")
    assert row["people_needed"] == 1
    assert row["status"] != "met"

    reached = one_unit(population, [("2021-10-01", "070", "18-49", 1, expected)])
    row = target_row(core.evaluate(reached, cfg, "2021-10-01"), "070")
    assert row["people_needed"] == 0
    assert row["status"] == "met"
    # after the deadline, exactly ceil(threshold x population) on the deadline is met, one less is missed
    assert target_row(core.evaluate(reached, cfg, "2022-01-05"), "070")["status"] == "met"
    assert target_row(core.evaluate(short, cfg, "2022-01-05"), "070")["status"] == "missed"


@pytest.mark.parametrize(
    ("band_population", "before", "now", "days_left", "expected"),
    [
        # needed n = population - now (threshold 1); pace = (now - before)/7; required = n / days_left
        (54, 0, 27, 7, "on_track"),  # n 27: required 27/7 = pace 27/7 exactly
        (55, 0, 27, 7, "at_risk"),  # n 28: required 4 > pace 3.857 >= 0.75 x 4 = 3
        (63, 0, 27, 7, "at_risk"),  # n 36: 0.75 x 36/7 = 27/7 = pace exactly (floats say 3.857... < 3.857...)
        (64, 0, 27, 7, "off_track"),  # n 37: 0.75 x 37/7 = 3.964 > pace 3.857, a hair below
        (900, 25, 200, 28, "on_track"),  # n 700: required 700/28 = 25 = pace 175/7
        (901, 25, 200, 28, "at_risk"),  # n 701: required 25.036 > 25 >= 18.78
        (1900, 0, 300, 28, "at_risk"),  # n 1600: 0.75 x 1600/28 = 42.857 = pace 300/7
        (1901, 0, 300, 28, "off_track"),  # n 1601: 0.75 x 1601/28 = 42.884 > 42.857
        (20, 10, 10, 7, "off_track"),  # pace 0, n 10
        (40, 30, 20, 70, "off_track"),  # pace -10/7
        (20, 0, 20, 7, "met"),  # n 0
        (20, 20, 25, 7, "met"),  # above target, n 0
    ],
)
def test_status_boundaries(band_population, before, now, days_left, expected):
    as_of = D(2021, 10, 1)
    reports = [("2021-09-24", "070", "18-49", 1, before), ("2021-10-01", "070", "18-49", 1, now)]
    deadline = as_of + dt.timedelta(days=days_left)
    cfg = make_config([make_target(group="18-49", threshold="1", deadline=deadline)])
    row = target_row(core.evaluate(one_unit(band_population, reports), cfg, as_of), "070")
    needed = max(0, band_population - now)
    assert row["people_needed"] == needed
    assert row["days_left"] == days_left
    assert row["pace_7d"] == pytest.approx((now - before) / 7)
    assert row["required_daily"] == pytest.approx(needed / days_left)
    assert row["status"] == expected


def test_at_risk_ratio_comes_from_configuration():
    # n = 54, days_left 7, pace 27/7: pace / required = (27/7) / (54/7) = 0.5
    reports = [("2021-09-24", "070", "18-49", 1, 0), ("2021-10-01", "070", "18-49", 1, 27)]
    ds = one_unit(81, reports)
    target = make_target(group="18-49", threshold="1", deadline="2021-10-08")
    assert target_row(core.evaluate(ds, make_config([target]), "2021-10-01"), "070")["status"] == "off_track"
    half = make_config([target], at_risk_ratio="0.5")
    assert target_row(core.evaluate(ds, half, "2021-10-01"), "070")["status"] == "at_risk"


def test_projected_date_arithmetic(categorical):
    # target: 18-49 dose 1, 70 %, deadline 12-31; as_of 10-01, week before 09-24
    reports = [
        # 072: needs ceil(0.7 x 300) = 210; 50 -> 64: pace 14/7 = 2; n = 146; ceil(146/2) = 73 days
        ("2021-09-24", "072", "18-49", 1, 50),
        ("2021-10-01", "072", "18-49", 1, 64),
        # 071: needs ceil(0.7 x 60) = 42; 8 -> 25: pace 17/7; n = 17; 17 / (17/7) = 7 days exactly
        #      (in floats 17 / (17/7) = 7.000000000000001: a float ceil says 8)
        ("2021-09-24", "071", "18-49", 1, 8),
        ("2021-10-01", "071", "18-49", 1, 25),
        # 070: needs ceil(0.7 x 30) = 21; 0 -> 10: pace 10/7; n = 11; 11 / (10/7) = 7.7 -> 8 days
        ("2021-10-01", "070", "18-49", 1, 10),
    ]
    ds = make_dataset(reports=reports, categorical=categorical)
    cfg = make_config([make_target(group="18-49", threshold="0.7", deadline="2021-12-31")])
    report = core.evaluate(ds, cfg, "2021-10-01")
    r070, r071, r072, total = (target_row(report, u) for u in ("070", "071", "072", "TOTAL"))

    assert r072["people_needed"] == 146
    assert r072["pace_7d"] == pytest.approx(2.0)
    assert r072["days_left"] == 91  # 30 (rest of Oct) + 30 (Nov) + 31 (Dec)
    assert r072["required_daily"] == pytest.approx(146 / 91)
    assert r072["projected_date"] == ts("2021-12-13")  # 10-01 + 73 days
    assert r072["status"] == "on_track"  # 2 >= 1.604

    assert r071["people_needed"] == 17
    assert r071["projected_date"] == ts("2021-10-08")  # 10-01 + 7 days

    assert r070["people_needed"] == 11
    assert r070["projected_date"] == ts("2021-10-09")  # 10-01 + 8 days

    # province: needs ceil(0.7 x 390) = 273; has 10 + 25 + 64 = 99 -> n = 174
    # gained 99 - (0 + 8 + 50) = 41 -> pace 41/7; 174 / (41/7) = 1218/41 = 29.7 -> 30 days
    assert total["people"] == 99
    assert total["people_needed"] == 174
    assert total["pace_7d"] == pytest.approx(41 / 7)
    assert total["projected_date"] == ts("2021-10-31")
    # required 174/91 = 1.912 <= pace 5.857: on_track
    assert total["status"] == "on_track"


def test_no_projection_when_already_met(categorical):
    reports = [("2021-09-24", "070", "18-49", 1, 10), ("2021-10-01", "070", "18-49", 1, 30)]
    ds = make_dataset(reports=reports, categorical=categorical)
    cfg = make_config([make_target(group="18-49", threshold="0.5", deadline="2021-12-31")])
    row = target_row(core.evaluate(ds, cfg, "2021-10-01"), "070")
    assert row["people_needed"] == 0 and row["status"] == "met"
    assert row["pace_7d"] == pytest.approx(20 / 7)
    assert row["required_daily"] == 0
    assert pd.isna(row["projected_date"])


def test_evaluate_rows_per_unit_and_target_then_totals(categorical):
    ds = make_dataset(reports=[("2021-10-01", "070", "adults", 1, 30)], categorical=categorical)
    report = core.evaluate(ds, CFG, "2021-10-05")  # the two targets of data/targets.toml
    assert set(EVALUATE_COLUMNS) <= set(report.columns)  # "columns include": others may be added
    ids = [t.id for t in CFG.targets]
    assert list(zip(report["unit_code"], report["target_id"], strict=True)) == [
        ("070", ids[0]), ("071", ids[0]), ("072", ids[0]),
        ("070", ids[1]), ("071", ids[1]), ("072", ids[1]),
        ("TOTAL", ids[0]), ("TOTAL", ids[1]),
    ]  # fmt: skip
    assert set(report["status"]) <= set(core.STATUSES)
    first = target_row(report, "070", "adults_50pct_2021")
    assert first["group"] == "adults" and first["dose"] == 1
    assert first["threshold"] == pytest.approx(0.5)
    assert first["deadline"] == ts("2021-12-31")
    assert first["people"] == 30 and first["population"] == 60
    # all = adults 30 + nothing else of 100; needed ceil(0.7 x 100) - 30 = 40
    second = target_row(report, "070", "all_70pct_2022q1")
    assert second["people"] == 30 and second["population"] == 100 and second["people_needed"] == 40


# --------------------------------------------------------------------------- incidence


def test_incidence_window_is_the_7_days_ending_on_as_of(categorical):
    # as_of 10-14: window 10-08 ... 10-14 inclusive
    cases = [
        ("2021-10-07", "070", 5, 9),  # as_of - 7: outside
        ("2021-10-08", "070", 3, 9),  # as_of - 6: inside
        ("2021-10-14", "070", 2, 9),  # as_of: inside
        ("2021-10-15", "070", 100, 0),  # after as_of: outside
        ("2021-10-10", "072", 1, 0),
        ("2021-10-12", "071", 0, 50),  # imported cases are not community cases
    ]
    ds = make_dataset(cases=cases, categorical=categorical)
    inc = by_unit(core.incidence(ds, CFG, "2021-10-14"))
    assert list(core.incidence(ds, CFG, "2021-10-14").columns) == [
        "unit_code", "unit_name", "community_cases_7d", "population", "incidence_per_100k",
    ]  # fmt: skip
    assert inc.loc["070", "community_cases_7d"] == 5  # 3 + 2
    assert inc.loc["070", "incidence_per_100k"] == pytest.approx(5000)  # 5 x 100,000 / 100
    assert inc.loc["071", "community_cases_7d"] == 0
    assert inc.loc["071", "incidence_per_100k"] == 0
    assert inc.loc["072", "incidence_per_100k"] == pytest.approx(100)  # 1 x 100,000 / 1000
    assert inc.loc["TOTAL", "community_cases_7d"] == 6
    assert inc.loc["TOTAL", "population"] == 1300
    assert inc.loc["TOTAL", "incidence_per_100k"] == pytest.approx(600_000 / 1300)  # = 461.54
    assert inc.loc["TOTAL", "unit_name"] == "Tuyên Quang"

    # one day later (as_of 10-15): 10-08 leaves the window, 10-15 enters
    later = by_unit(core.incidence(ds, CFG, "2021-10-15"))
    assert later.loc["070", "community_cases_7d"] == 102  # 2 + 100
    # one day earlier (as_of 10-13): 10-07 is as_of - 6, inside; 10-14 is after
    earlier = by_unit(core.incidence(ds, CFG, "2021-10-13"))
    assert earlier.loc["070", "community_cases_7d"] == 8  # 5 + 3


def test_incidence_without_cases_is_zero():
    inc = core.incidence(make_dataset(), CFG, D(2021, 10, 14))
    assert inc["community_cases_7d"].tolist() == [0, 0, 0, 0]
    assert np.all(inc["incidence_per_100k"] == 0)
