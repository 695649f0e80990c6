"""The page tables of tracker.views, on small hand-made datasets."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from tests.factories import make_config, make_dataset, make_target
from tracker import core, views

CFG = make_config()


def test_freshness_flags_two_days_without_a_report():
    ds = make_dataset(
        reports=[
            ("2021-10-10", "070", "18-49", 1, 5),  # 070 reported on the as-of day: fresh
            ("2021-10-09", "071", "18-49", 1, 5),  # 071: 1 day ago, fresh
            ("2021-10-08", "072", "18-49", 1, 5),  # 072: 2 days ago, stale
        ]
    )
    fresh = views.freshness(ds, dt.date(2021, 10, 10)).set_index("unit_code")
    assert fresh["days_since"].tolist() == [0, 1, 2]
    assert fresh["stale"].tolist() == [False, False, True]


def test_freshness_ignores_reports_after_as_of_and_flags_units_that_never_reported():
    ds = make_dataset(reports=[("2021-10-12", "070", "18-49", 1, 5), ("2021-10-01", "071", "18-49", 1, 5)])
    fresh = views.freshness(ds, dt.date(2021, 10, 10)).set_index("unit_code")
    assert pd.isna(fresh.loc["070", "last_report_date"])
    assert fresh.loc["070", "stale"] and fresh.loc["072", "stale"]
    assert fresh.loc["071", "days_since"] == 9


def test_district_table_gap_and_pace_ratio():
    # 070: 18-49 population (factories) — evaluate a 50% target for band 18-49
    target = make_target(group="18-49", threshold="0.5", deadline="2021-10-31")
    ds = make_dataset(reports=[("2021-10-01", "070", "18-49", 1, 3), ("2021-10-08", "070", "18-49", 1, 10)])
    table = views.district_table(ds, CFG, dt.date(2021, 10, 8), target).set_index("unit_code")
    row = table.loc["070"]
    population = row["population"]
    assert row["gap_points"] == pytest.approx((0.5 - 10 / population) * 100)
    # pace 7/7 = 1 per day; required = needed / 23 days
    needed = -(-population // 2) - 10
    assert row["pace_ratio"] == pytest.approx(1 / (needed / 23))
    assert core.TOTAL in table.index


def test_coverage_series_carries_forward_and_projection_is_a_straight_line():
    ds = make_dataset(reports=[("2021-10-01", "070", "18-49", 1, 7), ("2021-10-08", "070", "18-49", 1, 14)])
    series = views.coverage_series(ds, CFG, "18-49", 1, dt.date(2021, 10, 1), dt.date(2021, 10, 8), ["070"])
    own = series[series["unit_code"] == "070"].set_index("date")["people"]
    assert own.tolist() == [7, 7, 7, 7, 7, 7, 7, 14]  # missing days carry the last value forward
    proj = views.projection(series, dt.date(2021, 10, 8), dt.date(2021, 10, 18)).set_index("unit_code")
    cov = series[(series["unit_code"] == "070") & (series["date"] == "2021-10-08")]["coverage"].iat[0]
    pop = series[series["unit_code"] == "070"]["population"].iat[0]
    end = proj.loc["070"].set_index("date")["coverage"]
    assert end[pd.Timestamp("2021-10-18")] == pytest.approx(cov + (7 / pop / 7) * 10)


def test_daily_doses_are_differences_with_a_seven_day_average():
    reports = [(f"2021-10-{d:02d}", "070", "18-49", 1, 10 * d) for d in range(1, 11)]
    ds = make_dataset(reports=reports)
    doses = views.daily_doses(ds, CFG, "18-49", dt.date(2021, 10, 2), dt.date(2021, 10, 10))
    assert doses["doses"].tolist() == [10] * 9
    assert doses["avg_7d"].iloc[6] == 10 and doses["avg_7d"].iloc[:6].isna().all()


def test_incidence_series_is_a_seven_day_window_per_100k():
    cases = [("2021-10-01", "070", 2, 0), ("2021-10-07", "070", 1, 5), ("2021-10-08", "070", 4, 0)]
    ds = make_dataset(reports=[("2021-10-01", "070", "18-49", 1, 1)], cases=cases)
    inc = views.incidence_series(ds, CFG, dt.date(2021, 10, 7), dt.date(2021, 10, 8), ["070"])
    own = inc[inc["unit_code"] == "070"].set_index("date")
    pop = core.group_population(ds, CFG, "all")[0]
    assert own["cases_7d"].tolist() == [3, 5]  # 01..07 has 2+1; 02..08 has 1+4 (imported not counted)
    assert own["incidence_per_100k"].tolist() == pytest.approx([3e5 / pop, 5e5 / pop])


def test_district_table_has_no_risk_level_before_the_first_rule_set():
    ds = make_dataset(reports=[("2021-10-01", "070", "18-49", 1, 3)])
    table = views.district_table(ds, CFG, dt.date(2021, 10, 8), make_target(deadline="2021-10-31"))
    assert table["risk_level"].isna().all()  # the assessment starts on 11/10/2021
