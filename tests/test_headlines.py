"""The overview's answers without a click: what each target card says (tracker.headlines), the day a met
target was reached, the week-on-week change, and the districts behind (tables.districts.lagging)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from tests.apptools import open_app, shown
from tests.factories import make_config, make_dataset, make_target
from tracker import core, headlines, i18n, store, views
from tracker.config import load_config
from tracker.tables import districts, render

TARGET = make_target(group="adults", dose=1, threshold="0.5", deadline="2021-12-31")


def row(**values) -> pd.Series:
    base = {
        "status": "on_track", "days_left": 30, "people_needed": 10, "pace_7d": 2.0, "required_daily": 1 / 3,
        "projected_date": pd.Timestamp("2021-12-06"), "coverage_at_deadline": float("nan"), "reached_on": pd.NaT,
        "coverage_change_7d": 0.0123,
    }  # fmt: skip
    return pd.Series({**base, **values})


def test_on_track_says_days_people_pace_and_projection():
    assert headlines.progress(row(), TARGET, "vi") == [
        "Còn **30** ngày đến hạn",
        "Cần tiêm thêm **10** người",
        "Tốc độ 7 ngày **2,0** người/ngày; cần **0,3** người/ngày",
        "Dự kiến đạt mục tiêu: **06/12/2021**",
    ]
    one = headlines.progress(row(days_left=1, people_needed=1), TARGET, "en")
    assert one[:2] == ["**1** day to the deadline", "**1** more person to vaccinate"]


def test_a_met_target_says_since_when_not_a_projection():
    lines = headlines.progress(row(status="met", people_needed=0, reached_on=pd.Timestamp("2021-10-03")), TARGET, "vi")
    assert lines == ["**Đã đạt mục tiêu** từ ngày **03/10/2021**", "Còn **30** ngày đến hạn"]
    assert not any("Dự kiến" in line or "—" in line for line in lines)
    en = headlines.progress(row(status="met", people_needed=0, reached_on=pd.Timestamp("2021-10-03")), TARGET, "en")
    assert en[0] == "**Target met** since **3 Oct 2021**"


def test_the_deadline_day_is_still_in_time():
    lines = headlines.progress(row(status="missed", days_left=0, required_daily=float("nan")), TARGET, "vi")
    assert lines == ["Hôm nay là **hạn chót**: báo cáo của ngày hôm nay vẫn được tính", "Cần tiêm thêm **10** người"]
    assert not any("Đã qua hạn" in line for line in lines)
    met = headlines.progress(row(status="met", days_left=0, people_needed=0), TARGET, "en")
    assert met == ["**Target met**", "Today is **the deadline**: reports dated today still count"]


def test_after_the_deadline_the_coverage_then_and_the_people_short():
    missed = row(status="missed", days_left=-3, coverage_at_deadline=0.487)
    assert headlines.progress(missed, TARGET, "vi") == [
        "Đã qua hạn; tỷ lệ tại hạn chót: **48,7%**",
        "Còn thiếu đến nay: **10** người",
    ]
    met = row(status="met", days_left=-3, coverage_at_deadline=0.51, reached_on=pd.Timestamp("2021-12-20"))
    assert headlines.progress(met, TARGET, "en")[1] == "**Target met** since **20 Dec 2021**"


def test_a_target_missed_then_reached_says_since_when_not_zero_people_short():
    late = row(status="missed", days_left=-10, coverage_at_deadline=0.487, people_needed=0,
               reached_late_on=pd.Timestamp("2022-01-04"))  # fmt: skip
    assert headlines.progress(late, TARGET, "vi") == [
        "Đã qua hạn; tỷ lệ tại hạn chót: **48,7%**",
        "Không đạt đúng hạn; **đã đạt sau hạn** từ ngày **04/01/2022**",
    ]
    assert headlines.progress(late, TARGET, "en")[1] == "Missed on the deadline; **reached since** **4 Jan 2022**"


def test_no_increase_or_a_late_projection_is_said_so():
    none = headlines.progress(row(pace_7d=0.0, projected_date=pd.NaT), TARGET, "en")
    assert none[-1] == "No projected date: no increase in the last 7 days"
    late = headlines.progress(row(projected_date=pd.Timestamp("2022-01-15")), TARGET, "vi")
    assert late[-1] == "Dự kiến đạt mục tiêu: **15/01/2022**, sau hạn chót"


def test_the_week_on_week_change_in_points_with_its_sign():
    assert headlines.change_7d(row(), "vi") == "+1,2 điểm % trong 7 ngày"
    assert headlines.change_7d(row(coverage_change_7d=-0.004), "en") == "-0.4 points in 7 days"
    assert headlines.change_7d(row(coverage_change_7d=float("nan")), "en") is None


# --------------------------------------------------------------------------- from the data, by hand

# adults: 070 has 60, 071 120, 072 600 -> 780; half is 390 people. Reported for the group as a whole.
REPORTS = [
    ("2021-09-26", "070", "adults", 1, 20),
    ("2021-09-26", "071", "adults", 1, 50),
    ("2021-09-26", "072", "adults", 1, 270),  # 340
    ("2021-10-01", "070", "adults", 1, 30),
    ("2021-10-01", "071", "adults", 1, 60),
    ("2021-10-01", "072", "adults", 1, 290),  # 380: not yet
    ("2021-10-03", "072", "adults", 1, 300),  # 390 on 3 October (070 and 071 carried forward)
]


def test_the_first_day_the_province_reached_the_target():
    ds, cfg = make_dataset(reports=REPORTS), make_config([TARGET])
    assert views.reached_on(ds, cfg, TARGET, dt.date(2021, 10, 2)) is pd.NaT
    assert views.reached_on(ds, cfg, TARGET, dt.date(2021, 10, 3)) == pd.Timestamp("2021-10-03")
    cards = views.target_cards(ds, cfg, dt.date(2021, 10, 5)).set_index("target_id")
    assert cards.loc["t", "status"] == "met" and cards.loc["t", "reached_on"] == pd.Timestamp("2021-10-03")
    # 7 days before 5 October (28 September) the province had 340: +50 of 780 people
    assert cards.loc["t", "coverage_change_7d"] == pytest.approx(50 / 780)
    not_yet = views.target_cards(ds, cfg, dt.date(2021, 10, 2)).set_index("target_id")
    assert not_yet.loc["t", "status"] != "met" and pd.isna(not_yet.loc["t", "reached_on"])


def test_the_first_day_after_the_deadline_a_missed_target_was_reached():
    """390 people are half of 780: 380 by the deadline (missed), 390 on 4 January (070 reports 40)."""
    reports = [*REPORTS[:6], ("2022-01-04", "070", "adults", 1, 40)]
    ds, cfg = make_dataset(reports=reports), make_config([TARGET])
    assert views.reached_on(ds, cfg, TARGET, dt.date(2022, 1, 3), late=True) is pd.NaT
    assert views.reached_on(ds, cfg, TARGET, dt.date(2022, 1, 10), late=True) == pd.Timestamp("2022-01-04")
    card = views.target_cards(ds, cfg, dt.date(2022, 1, 10)).set_index("target_id").loc["t"]
    assert card["status"] == "missed" and card["people_needed"] == 0 and pd.isna(card["reached_on"])
    assert card["reached_late_on"] == pd.Timestamp("2022-01-04")
    before = views.target_cards(ds, cfg, dt.date(2022, 1, 3)).set_index("target_id").loc["t"]
    assert before["people_needed"] == 10 and pd.isna(before["reached_late_on"])


def test_the_districts_behind_come_first_by_status_then_people_needed():
    table = pd.DataFrame(
        {
            "unit_code": ["a", "b", "c", "d", "e", "f", core.TOTAL],
            "unit_name": ["A", "B", "C", "D", "E", "F", "Province"],
            "status": ["at_risk", "off_track", "met", "off_track", "missed", "on_track", "off_track"],
            "people_needed": [5, 10, 0, 30, 1, 7, 46],
            "coverage": [0.4] * 7,
            "coverage_change_7d": [0.01] * 7,
            "required_daily": [1.0] * 7,
            "pace_7d": [0.5] * 7,
            "last_report_date": [pd.Timestamp("2021-12-01")] * 7,
            "risk_level": [1] * 7,
        }
    )
    behind = districts.lagging(table, load_config(), dt.date(2021, 12, 1), TARGET)
    assert behind.values["unit_name"].tolist() == ["E", "D", "B", "A"]  # missed; off track most needed first
    texts = render.texts(behind, "vi")
    assert texts.iloc[0].tolist()[:3] == ["E", "✕ Không đạt", "1"]


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_the_overview_names_the_districts_behind_per_target(app_store, lang):
    as_of = dt.date(2022, 2, 1)
    at = open_app(None, lang, as_of=as_of)
    report = core.evaluate(store.load(app_store), load_config(), as_of)
    behind = report[report["status"].isin(districts.LAGGING) & (report["unit_code"] != core.TOTAL)]
    cfg = load_config()
    tables = [shown(d) for d in at.dataframe[:-1]]  # the last is the freshness table
    expected = [t for t in cfg.targets if (behind["target_id"] == t.id).any()]
    assert len(tables) == len(expected)
    for table, target in zip(tables, expected, strict=True):
        names = set(behind.loc[behind["target_id"] == target.id, "unit_name"])
        assert set(table[i18n.t("table.district", lang)]) == names
        assert table.columns[1] == i18n.t("table.status", lang)
    metrics = [m.label for m in at.metric]
    assert i18n.t("risk.province_level", lang) in metrics and i18n.t("risk.green_weeks", lang) in metrics
