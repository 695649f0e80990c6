"""The page tables of tracker.views, on small hand-made datasets."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from tests.factories import make_config, make_dataset, make_target
from tracker import core, fmt, i18n, views
from tracker.figures import trends

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


# --------------------------------------------------------------------------- projections stop at the population


def _series(reports, as_of="2021-10-08", units=("070",)):
    ds = make_dataset(reports=reports)
    return views.coverage_series(ds, CFG, "18-49", 1, dt.date(2021, 10, 1), dt.date.fromisoformat(as_of), list(units))


def _line(proj, code):
    own = proj[proj["unit_code"] == code].sort_values("date")
    return list(zip(own["date"].dt.date, own["coverage"], strict=True))


def test_projection_ends_at_100_percent_on_the_day_the_pace_reaches_it():
    # 070's 18-49 population is 30. 26 people on 08/10, 23 a week before: 3 people in 7 days.
    # 4 people left -> ceil(4 x 7 / 3) = ceil(9.33) = 10 days -> 100 % on 18/10/2021, and no further.
    series = _series([("2021-10-01", "070", "18-49", 1, 23), ("2021-10-08", "070", "18-49", 1, 26)])
    proj = views.projection(series, dt.date(2021, 10, 8), dt.date(2021, 12, 31))
    assert _line(proj, "070") == [(dt.date(2021, 10, 8), pytest.approx(26 / 30)), (dt.date(2021, 10, 18), 1.0)]
    # the province (390 people aged 18-49, 3 a week): 364 left take 850 days, past `until` -> ends on until
    total = _line(proj, core.TOTAL)
    assert total == [
        (dt.date(2021, 10, 8), pytest.approx(26 / 390)),
        (dt.date(2021, 12, 31), pytest.approx((26 + 3 / 7 * 84) / 390)),
    ]
    # an earlier `until` comes first: the line ends there, below 100 %
    short = views.projection(series, dt.date(2021, 10, 8), dt.date(2021, 10, 15))
    assert _line(short, "070")[-1] == (dt.date(2021, 10, 15), pytest.approx((26 + 3) / 30))


def test_projection_on_the_exact_day_and_without_pace_or_room():
    series = _series(
        [
            ("2021-10-01", "070", "18-49", 1, 16),  # 14 in 7 days, 0 left after 08/10 + 14 x 7 / 14 = 7 days
            ("2021-10-08", "070", "18-49", 1, 23),
            ("2021-10-01", "071", "18-49", 1, 20),  # no new people: a flat line to `until`
            ("2021-10-08", "071", "18-49", 1, 20),
            ("2021-10-01", "072", "18-49", 1, 290),  # 310 of 300 reported: already past 100 %, nothing to project
            ("2021-10-08", "072", "18-49", 1, 310),
        ],
        units=("070", "071", "072"),
    )
    proj = views.projection(series, dt.date(2021, 10, 8), dt.date(2021, 10, 31))
    assert _line(proj, "070") == [(dt.date(2021, 10, 8), pytest.approx(23 / 30)), (dt.date(2021, 10, 15), 1.0)]
    assert _line(proj, "071") == [(dt.date(2021, 10, 8), 20 / 60), (dt.date(2021, 10, 31), 20 / 60)]
    assert _line(proj, "072") == []
    assert proj["coverage"].max() <= 1 and proj["date"].max() <= pd.Timestamp("2021-10-31")


def _coverage_chart(series, as_of, until, lang="vi"):
    target = make_target(group="18-49", threshold="0.7", deadline=until)
    proj = views.projection(series, as_of, until)
    return trends.coverage_trend(series, proj, [target], lang=lang, title="t", as_of=as_of)


def test_coverage_chart_stops_at_100_percent():
    # 070 reaches its population on 18/10 at its pace: the dashed line ends there, at 100 %, and so does the axis
    series = _series([("2021-10-01", "070", "18-49", 1, 23), ("2021-10-08", "070", "18-49", 1, 26)])
    fig = _coverage_chart(series, dt.date(2021, 10, 8), dt.date(2022, 3, 31))
    assert tuple(fig.layout.yaxis.range) == (0, 1)
    assert max(y for trace in fig.data for y in trace.y if y is not None) == 1.0  # the legend-only target: None
    dashed = [trace for trace in fig.data if trace.line.dash == "dash"]
    ends = {trace.name: (pd.Timestamp(trace.x[-1]).date(), trace.y[-1]) for trace in dashed}
    assert (dt.date(2021, 10, 18), 1.0) in ends.values()
    assert not [trace for trace in fig.data if trace.name == i18n.t("over_coverage.marker", "vi")]


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_a_reported_figure_above_100_percent_extends_the_axis_and_is_flagged(lang):
    # 070 reports 36 people aged 18-49 for a population of 30 on 08/10: 120 %
    series = _series([("2021-10-01", "070", "18-49", 1, 30), ("2021-10-08", "070", "18-49", 1, 36)])
    fig = _coverage_chart(series, dt.date(2021, 10, 8), dt.date(2021, 12, 31), lang)
    assert fig.layout.yaxis.range[0] == 0 and fig.layout.yaxis.range[1] >= 1.2
    marks = [trace for trace in fig.data if trace.name == i18n.t("over_coverage.marker", lang)]
    assert len(marks) == 1
    (mark,) = marks
    assert [pd.Timestamp(x).date() for x in mark.x] == [dt.date(2021, 10, 8)] and list(mark.y) == [1.2]
    assert list(mark.text) == [fmt.percent(1.2, lang)]
    assert mark.name.startswith({"vi": "Vượt 100% dân số", "en": "Above 100% of the population"}[lang])
    projections = [trace for trace in fig.data if trace.line.dash == "dash" and max(trace.y) > 1]
    assert not projections, "nothing is projected past the population"


@pytest.mark.parametrize(
    "lang, deadline, as_of", [("vi", "Hạn chót 31/12/2021", "Số liệu đến 08/10/2021"),
                              ("en", "Deadline 31 Dec 2021", "Data as of 8 Oct 2021")],
)  # fmt: skip
def test_the_deadline_and_as_of_lines_are_labelled(lang, deadline, as_of):
    series = _series([("2021-10-01", "070", "18-49", 1, 10), ("2021-10-08", "070", "18-49", 1, 12)])
    fig = _coverage_chart(series, dt.date(2021, 10, 8), dt.date(2021, 12, 31), lang)
    labels = {a.text: pd.Timestamp(a.x, unit="ms").date() for a in fig.layout.annotations if a.x is not None}
    assert labels[deadline] == dt.date(2021, 12, 31) and labels[as_of] == dt.date(2021, 10, 8)
