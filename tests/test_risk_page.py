"""The risk page renders in both languages, shows the core's province level, and explains early dates."""

from __future__ import annotations

import datetime as dt

import pytest
from streamlit.testing.v1 import AppTest

from tests.apptools import open_app, shown
from tracker import core, fmt, i18n, risk, store
from tracker.config import load_config


@pytest.fixture
def open_risk(app_store):
    def _open(lang: str, **state) -> AppTest:
        return open_app("pages/risk.py", lang, **state)

    return _open


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_risk_page_renders_with_the_province_level(open_risk, store_dir, lang):
    as_of = dt.date(2021, 12, 1)
    at = open_risk(lang, as_of=as_of)
    assert [t.value for t in at.title] == [i18n.t("risk.title", lang)]
    assert any(i18n.t("app.sample", lang) in w.value for w in at.warning), "sample data must be labelled"
    rules = risk.load_rules()
    table = risk.levels(store.load(store_dir), load_config(), rules, as_of)
    total = table[table["unit_code"] == core.TOTAL].iloc[0]
    legend = rules.for_date(as_of).legend().set_index("level")
    expected = legend.loc[int(total["level"]), f"name_{lang}"]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics[i18n.t("risk.province_level", lang)] == expected
    weeks = risk.weekly(store.load(store_dir), load_config(), rules, dt.date(2021, 10, 11), as_of)
    run = risk.green_streak(weeks)  # counted as tests/test_risk.py checks by hand
    assert metrics[i18n.t("risk.green_weeks", lang)] == i18n.t("risk.weeks_value", lang, n=run)
    assert len(at.dataframe) == 2
    table = shown(at.dataframe[0])
    assert list(table.columns[:2]) == [i18n.t("table.district", lang), i18n.t("risk.level", lang)]
    assert table.iloc[-1, 1] == expected  # the province, last, named as a whole
    assert table.iloc[-1, 0] == load_config().whole_named(lang)


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_before_the_rules_the_page_says_when_they_start(open_risk, lang):
    at = open_risk(lang, as_of=dt.date(2021, 10, 1))
    start = fmt.date(dt.date(2021, 10, 11), lang)
    assert [i.value for i in at.info] == [i18n.t("risk.not_yet", lang, date=start)]
    assert not at.metric
