"""The risk figures and page after vectorising (issue 12): the same numbers, names and texts as a lookup per row.

No timing here: speed is measured by bench/run.py, never asserted in tests.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
import streamlit as st

from tests.apptools import charts, open_app, shown
from tests.factories import make_config, make_dataset
from tracker import core, fmt, i18n, risk, store
from tracker.config import load_config
from tracker.figures import risk as risk_figures

CFG = make_config()
RULES = risk.load_rules()


def legend_name(legend: pd.DataFrame, lang: str, level) -> str:
    """A level's name as the page looked it up before, one row at a time."""
    row = legend.set_index("level").loc[int(level)]
    return str(row["name_en"] if lang == "en" else row["name_vi"])


# --------------------------------------------------------------------------- community cases in the window


def reference_cases(units, cases, dates, window):
    """Cases in (d - window, d] per date and unit, summed a row at a time."""
    out = np.zeros((len(dates), len(units)), dtype=np.int64)
    for i, d in enumerate(dates):
        for day, unit, n in cases:
            if unit in units and d - pd.Timedelta(days=window) < pd.Timestamp(day) <= d:
                out[i, units.index(unit)] += n
    return out


@pytest.mark.parametrize("categorical", [True, False])
@pytest.mark.parametrize("seed", range(6))
def test_cases_in_the_window_are_the_sum_row_by_row(categorical, seed):
    rng = np.random.default_rng(seed)
    units = ["070", "071", "072"]
    days = pd.Timestamp("2021-10-01") + pd.to_timedelta(rng.integers(-10, 40, 60), unit="D")
    codes = rng.choice([*units, "999"], 60)  # 999: a unit the units table lacks, never counted
    counts = rng.integers(0, 9, 60)
    cases = [(d.date().isoformat(), str(c), int(n)) for d, c, n in zip(days, codes, counts, strict=True)]
    ds = make_dataset(units=units, cases=cases, categorical=categorical)
    for window in (1, 7, 10):
        for dates in (
            pd.DatetimeIndex(["2021-10-20"]),
            pd.date_range("2021-09-15", periods=9, freq="7D"),  # before the first case and after the last
            pd.DatetimeIndex(["2021-11-30", "2021-10-02", "2021-10-02"]),  # any order, repeated
        ):
            got = risk._cases_7d(ds, dates, window)
            assert got.dtype == np.int64
            np.testing.assert_array_equal(got, reference_cases(units, cases, dates, window))


def test_weekly_and_levels_count_the_same_cases_as_row_by_row():
    cases = [("2021-10-14", "070", 1), ("2021-10-15", "071", 3), ("2021-10-20", "071", 2), ("2021-10-21", "072", 5)]
    ds = make_dataset(cases=cases)
    weeks = risk.weekly(ds, CFG, RULES, "2021-10-11", "2021-10-27")
    units = ["070", "071", "072"]
    for end, rows in weeks[weeks["unit_code"] != core.TOTAL].groupby("week_end"):
        expected = reference_cases(units, cases, pd.DatetimeIndex([end]), 7)[0]
        assert rows.set_index("unit_code").loc[units, "community_cases_7d"].tolist() == expected.tolist()
    day = risk.levels(ds, CFG, RULES, "2021-10-21").set_index("unit_code")["community_cases_7d"]
    assert day.to_dict() == {"070": 0, "071": 5, "072": 5, core.TOTAL: 10}  # 14 October is out of (14, 21]


def test_levels_and_lower_together_are_levels_and_what_would_lower():
    cases = [("2021-10-14", "070", 1), ("2021-10-20", "071", 2), ("2021-10-21", "072", 1)]
    reports = [("2021-10-01", "070", "adults", 1, 60), ("2021-10-01", "070", "50plus", 2, 30)]
    ds = make_dataset(cases=cases, reports=reports)
    for as_of in ("2021-10-15", "2021-10-21", "2021-11-30"):
        levels, lower = risk.levels_and_lower(ds, CFG, RULES, as_of)
        pd.testing.assert_frame_equal(levels, risk.levels(ds, CFG, RULES, as_of))
        pd.testing.assert_frame_equal(lower, risk.what_would_lower(ds, CFG, RULES, as_of))


# --------------------------------------------------------------------------- the page's names and numbers


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_level_names_at_once_are_the_names_looked_up_per_row(lang):
    legend = RULES.for_date("2021-11-01").legend()
    levels = pd.Series([4, 1, 1, 3, 2, 4], index=[10, 11, 12, 13, 14, 15])  # any index
    assert risk_figures.level_names(legend, levels, lang) == [legend_name(legend, lang, v) for v in levels]
    missing = pd.Series([1, pd.NA, 3], dtype="Int64")
    assert risk_figures.level_names(legend, missing, lang, empty="—") == [
        legend_name(legend, lang, 1),
        "—",
        legend_name(legend, lang, 3),
    ]
    with pytest.raises(KeyError):  # a level the legend lacks: an error, as the lookup per row was
        risk_figures.level_names(legend, pd.Series([1, 9]), lang)
    with pytest.raises(ValueError):  # a missing level where the table has no empty mark
        risk_figures.level_names(legend, missing, lang)
    assert risk_figures.level_names(legend, pd.Series([], dtype="int64"), lang) == []


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_each_value_written_once_is_each_row_written(lang):
    """fmt.each (the tables' and figures' formatting) writes what a call per row writes; a missing value is None."""
    number = lambda v, **kw: fmt.number(v, lang, **kw)  # noqa: E731
    ints = pd.Series([3, 0, 0, 1234567, 3, 0], dtype="int64")
    assert fmt.each(ints, number) == [fmt.number(v, lang) for v in ints]
    nullable = pd.Series([5, pd.NA, 0, pd.NA, 5], dtype="Int64")
    assert fmt.each(nullable, number) == [None if v is None else fmt.number(v, lang) for v in [5, None, 0, None, 5]]
    floats = pd.Series([0.0, 12.345, np.nan, 12.345, 150.05])
    expected = [None if pd.isna(v) else fmt.number(v, lang, decimals=1) for v in floats]
    assert fmt.each(floats, lambda v: number(v, decimals=1)) == expected
    shares = pd.Series([0.7, 0.69999, np.nan, 1.2])
    percent = lambda v: fmt.percent(v, lang)  # noqa: E731
    assert fmt.each(shares, percent) == [None if pd.isna(v) else fmt.percent(v, lang) for v in shares]
    assert fmt.each(pd.Series([], dtype="float64"), number) == []


@pytest.fixture
def open_risk(app_store):
    def _open(lang: str, **state):
        return open_app("pages/risk.py", lang, **state)

    return _open


def _history_names(at) -> dict[int, str]:
    """{level: name} as the history strip's legend and cells show them."""
    strip = next(c for c in charts(at) if c["data"][0]["type"] == "heatmap")
    heat = strip["data"][0]
    z = np.asarray(heat["z"], dtype=float)
    text = np.asarray(heat["text"], dtype=object)
    return {int(level): str(name) for level, name in zip(z.ravel(), text.ravel(), strict=True) if not np.isnan(level)}


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_the_page_shows_the_names_and_numbers_of_a_lookup_per_row(open_risk, store_dir, lang):
    as_of = dt.date(2021, 12, 1)
    at = open_risk(lang, as_of=as_of)
    ds, cfg = store.load(store_dir), load_config()
    rs = RULES.for_date(as_of)
    legend = rs.legend()
    levels = risk.levels(ds, cfg, RULES, as_of)
    shown_levels = shown(at.dataframe[0])
    t = lambda key: i18n.t(key, lang)  # noqa: E731
    assert shown_levels[t("risk.level")].tolist() == [legend_name(legend, lang, v) for v in levels["level"]]
    assert shown_levels[t("risk.cases_7d")].tolist() == [fmt.number(v, lang) for v in levels["community_cases_7d"]]
    assert shown_levels[t("risk.incidence")].tolist() == [
        fmt.number(v, lang, decimals=1) for v in levels["incidence_per_100k"]
    ]
    lower = risk.what_would_lower(ds, cfg, RULES, as_of)
    lower = lower[lower["unit_code"] != core.TOTAL]
    lowered = shown(at.dataframe[1])
    for column, key in [("level", "risk.level"), ("level_if_lower_band", "risk.level_if_lower_band")]:
        expected = ["—" if pd.isna(v) else legend_name(legend, lang, v) for v in lower[column]]
        assert lowered[t(key)].tolist() == expected
    assert lowered[t("risk.max_cases")].tolist() == [
        fmt.number(None if pd.isna(v) else v, lang) if b > 0 else t("risk.no_case")
        for v, b in zip(lower["max_cases_next_7d"], lower["band"], strict=True)
    ]
    names = _history_names(at)
    assert names and names == {lv: legend_name(legend, lang, lv) for lv in names}
    assert len(shown_levels) == len(levels) and len(lowered) == len(lower)


def _shown(at) -> tuple[list[str], list[pd.DataFrame], list[str]]:
    """The page's figures (Plotly JSON, as sent), tables and metric values."""
    assert not at.exception and not at.error
    return [c.proto.spec for c in at.get("plotly_chart")], [d.value for d in at.dataframe], [m.value for m in at.metric]


def _assert_same(one, other) -> None:
    assert one[0] == other[0] and one[2] == other[2]
    assert len(one[1]) == len(other[1])
    for a, b in zip(one[1], other[1], strict=True):
        pd.testing.assert_frame_equal(a, b)


def test_a_rerun_and_a_change_of_language_show_what_a_fresh_page_shows(open_risk, store_dir):
    as_of = dt.date(2021, 12, 1)
    at = open_risk("vi", as_of=as_of)
    first = _shown(at)
    assert len(first[0]) == 2 and len(first[1]) == 2
    at.run()  # warm caches: the same page
    _assert_same(_shown(at), first)
    at.radio(key="lang").set_value("en")
    at.run()  # what was cached for Vietnamese must not come back in English
    english = _shown(at)
    legend = RULES.for_date(as_of).legend()
    names = _history_names(at)
    assert names and names == {lv: legend_name(legend, "en", lv) for lv in names}
    st.cache_data.clear()  # the caches are the process's: a fresh page must build everything again
    st.cache_resource.clear()
    _assert_same(english, _shown(open_risk("en", as_of=as_of)))
    level = risk.levels(store.load(store_dir), load_config(), RULES, as_of)
    total = level.loc[level["unit_code"] == core.TOTAL, "level"].iloc[0]
    assert english[2][0] == legend_name(legend, "en", total) != first[2][0]
