"""Every page renders in both languages with no exception or error, showing the core's own figures."""

from __future__ import annotations

import datetime as dt
import json
import shutil

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

import dashboard.briefing_ui
import dashboard.loaders
from tests.apptools import APP, charts, open_app, run_like_a_browser, shown
from tracker import briefing, core, fmt, i18n, risk, store, views
from tracker.config import load_config
from tracker.figures.common import status_label

PAGES = {"overview": "pages/overview.py", "districts": "pages/districts.py", "trends": "pages/trends.py"}
TITLES = {"overview": "page.overview", "districts": "page.districts", "trends": "page.trends"}


@pytest.fixture
def open_page(app_store):
    def _open(page: str, lang: str, **state) -> AppTest:
        return open_app(None if page == "overview" else PAGES[page], lang, **state)

    return _open


@pytest.mark.parametrize("lang", ["vi", "en"])
@pytest.mark.parametrize("page", list(PAGES))
def test_every_page_renders_in_both_languages(open_page, page, lang):
    at = open_page(page, lang)
    assert [t.value for t in at.title] == [i18n.t(TITLES[page], lang)]
    assert any(i18n.t("app.sample", lang) in w.value for w in at.warning), "sample data must be labelled"


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_overview_cards_show_the_core_figures(open_page, store_dir, lang):
    as_of = dt.date(2021, 12, 1)
    at = open_page("overview", lang, as_of=as_of)
    cfg = load_config()
    cards = views.target_cards(store.load(store_dir), cfg, as_of).set_index("target_id")
    values = [m.value for m in at.metric]
    expected = []
    for target in cfg.targets:
        expected += [
            fmt.percent(cards.loc[target.id, "coverage"], lang),
            fmt.percent(cards.loc[target.id, "full_dose_coverage"], lang),
        ]
    assert values[: len(expected)] == expected  # then the province's epidemic level and its green weeks
    # the week-on-week change beside each coverage, in points: (people - people a week before) / population
    first = cards.loc[cfg.targets[0].id]
    change = (first["pace_7d"] * 7 / first["population"]) * 100
    assert at.metric[0].proto.delta == i18n.t(
        "headline.change_7d", lang, points="+" + fmt.number(change, lang, decimals=1)
    )
    text = " ".join(m.value for m in at.markdown)
    assert i18n.status(first["status"], lang) in text
    # before the first deadline: days left, people still needed, pace and projection are shown
    second = cards.loc[cfg.targets[1].id]
    assert fmt.number(second["people_needed"], lang) in text
    assert fmt.number(second["pace_7d"], lang, decimals=1) in text
    assert fmt.date(second["projected_date"], lang) in text


def test_overview_shows_each_districts_last_report(open_page):
    # Lâm Bình (071) did not report on 15/11/2021 (tracker.sample.MISSING_DAYS): its last report is 14/11
    at = open_page("overview", "vi", as_of=dt.date(2021, 11, 15))
    table = shown(at.dataframe[-1])  # after the districts behind
    row = table[table.iloc[:, 0] == "Huyện Lâm Bình"].iloc[0]
    assert row.iloc[1] == "14/11/2021"
    assert row.iloc[2] == "1"
    assert row.iloc[3] == "Không"  # one day: not yet late


def test_districts_page_table_matches_the_core(open_page, store_dir):
    as_of = dt.date(2021, 12, 1)
    at = open_page("districts", "en", as_of=as_of)
    cfg = load_config()
    table = views.district_table(store.load(store_dir), cfg, as_of, cfg.targets[0])
    shown = at.dataframe[0].value
    expected = table[table["unit_code"] != core.TOTAL].sort_values("coverage")
    assert list(shown["unit_name"]) == list(expected["unit_name"])
    assert shown["coverage"].tolist() == pytest.approx((expected["coverage"] * 100).tolist())
    levels = risk.levels(store.load(store_dir), cfg, risk.load_rules(), as_of).set_index("unit_code")["level"]
    names = risk.load_rules().for_date(as_of).legend().set_index("level")["name_en"]
    assert shown["risk_level"].tolist() == [names[levels[c]] for c in expected["unit_code"]]  # the level joins


@pytest.mark.parametrize(
    "metric", ["coverage", "gap_points", "people_needed", "pace_ratio", "incidence_per_100k", "status"]
)
def test_every_map_metric_renders(open_page, metric):
    open_page("districts", "vi", metric=metric)


def test_cached_figures_follow_every_control(open_page):
    """The districts page keeps its figures between reruns: a change of metric, language, date or district
    must still show the figure of the new choice, never the one kept."""
    at = open_page("districts", "vi", as_of=dt.date(2021, 12, 1))

    def titles() -> list[str]:
        return [c["layout"]["title"]["text"] for c in charts(at)]

    before = titles()
    assert before[0] == i18n.t("table.coverage", "vi")
    at.run()
    assert titles() == before  # the same choices: the same figures
    at.selectbox(key="_metric_vi").select("people_needed")
    run_like_a_browser(at)
    assert titles()[0] == i18n.t("table.people_needed", "vi") and titles()[1:] == before[1:]
    at.radio(key="lang").set_value("en")
    run_like_a_browser(at)
    assert titles()[0] == i18n.t("table.people_needed", "en")
    assert titles()[1] != before[1]  # the coverage chart in English
    names = [t.get("name") for t in charts(at)[1]["data"]]
    at.selectbox(key="detail").select("076")
    run_like_a_browser(at)
    assert [t.get("name") for t in charts(at)[1]["data"]] != names  # another district's coverage
    assert not at.exception and not at.error


def test_trends_for_chosen_districts(open_page):
    at = open_page("trends", "en", units=["071", "072"], as_of=dt.date(2021, 12, 1))
    assert len(at.get("plotly_chart")) == 3


def test_choices_survive_a_change_of_language(open_page):
    at = open_page("overview", "vi")
    at.selectbox(key="_target_vi").select("all_70pct_2022q1")
    run_like_a_browser(at)
    at.selectbox(key="_compare_vi").select("adults:2")
    run_like_a_browser(at)
    at.radio(key="lang").set_value("en")
    run_like_a_browser(at)
    assert not at.exception and not at.error
    cfg = load_config()
    target = at.selectbox(key="_target_en")
    assert target.value == "all_70pct_2022q1"
    assert target.format_func(target.value) == cfg.target("all_70pct_2022q1").label_en
    compare = at.selectbox(key="_compare_en")
    assert compare.value == "adults:2"
    assert compare.format_func("adults:2") == f"{cfg.groups['adults'].label_en} — {i18n.dose(2, 'en')}"
    assert [t.value for t in at.title] == [i18n.t("page.overview", "en")]


def _briefing_targets(monkeypatch) -> tuple[list, list]:
    """Record the briefing builders the overview makes, and the target each one hands to briefing.build."""
    makers, built = [], []
    real = dashboard.briefing_ui._maker

    def maker(ctx, fmt):
        makers.append(real(ctx, fmt))
        return makers[-1]

    def build(ds, cfg, as_of, formats, lang, target, origin="cli"):
        assert origin == "dashboard"  # the footer says where the file came from
        built.append(target)
        return dict.fromkeys(formats, b"")

    monkeypatch.setattr(dashboard.briefing_ui, "_maker", maker)
    monkeypatch.setattr(briefing, "check", lambda: None)  # the buttons whether or not chromium is here
    monkeypatch.setattr(briefing, "find_fonts", lambda: None)
    monkeypatch.setattr(briefing, "build", build)
    dashboard.briefing_ui._build.clear()
    return makers, built


@pytest.mark.parametrize("click", ["districts", "language"])
def test_a_target_is_judged_on_its_own_group_and_dose_after_any_click(open_page, store_dir, monkeypatch, click):
    """Issue 10: choosing "≥ 70% of the population" left the age-group control on adults in the browser,
    and the next click anywhere judged the 70 % target on adults (pages and briefing)."""
    as_of = dt.date(2021, 12, 1)
    cfg, ds = load_config(), store.load(store_dir)
    target = cfg.target("all_70pct_2022q1")
    assert (target.group, target.dose) == ("all", 1)
    report = core.evaluate(ds, cfg, as_of, (target,)).set_index("unit_code")
    makers, built = _briefing_targets(monkeypatch)

    at = open_page("overview", "vi", as_of=as_of)
    at.selectbox(key="_target_vi").select(target.id)
    run_like_a_browser(at)
    if click == "language":
        at.radio(key="lang").set_value("en")
    else:
        at.multiselect(key="units").select("071")
    run_like_a_browser(at)
    lang = "en" if click == "language" else "vi"
    assert not at.exception and not at.error
    cards = views.target_cards(ds, cfg, as_of).set_index("target_id")
    assert at.metric[2].value == fmt.percent(cards.loc[target.id, "coverage"], lang)  # its card, on "all"
    assert cards.loc[target.id, "coverage"] == report.loc[core.TOTAL, "coverage"]
    makers[-1]()  # what the "download briefing" button makes
    assert built == [target], "the briefing gets the configured target, unchanged"

    at.switch_page(PAGES["districts"])
    run_like_a_browser(at)
    assert not at.exception and not at.error
    shown = at.dataframe[0].value
    units = report.drop(index=core.TOTAL).sort_values("coverage")
    assert list(shown["unit_name"]) == list(units["unit_name"])
    assert shown["coverage"].tolist() == pytest.approx((units["coverage"] * 100).tolist())
    assert shown["people_needed"].tolist() == units["people_needed"].tolist()

    at.switch_page(PAGES["trends"])
    run_like_a_browser(at)
    assert not at.exception and not at.error
    chart = charts(at)[0]
    assert chart["layout"]["title"]["text"].replace("<br>", " ") == i18n.t(  # wrapped for a phone
        "trends.coverage_title", lang, group=i18n.label(cfg.groups["all"], lang), dose=i18n.dose(1, lang)
    )
    lines = {trace["name"]: trace for trace in chart["data"]}
    assert lines[i18n.t("unit.province", lang)]["y"][-1] == pytest.approx(report.loc[core.TOTAL, "coverage"])
    if click == "districts":
        assert lines["Huyện Lâm Bình"]["y"][-1] == pytest.approx(report.loc["071", "coverage"])
    on = f"{i18n.label(cfg.groups['all'], lang)} — {i18n.dose(1, lang)}"  # and the sidebar says so
    assert i18n.t("compare.judged_on", lang, on=on) in [c.value for c in at.sidebar.caption]


def test_a_comparison_is_labelled_and_never_judged(open_page, store_dir):
    as_of = dt.date(2021, 12, 1)
    cfg, ds = load_config(), store.load(store_dir)
    target = cfg.target("all_70pct_2022q1")
    report = core.evaluate(ds, cfg, as_of, (target,)).set_index("unit_code")
    other = core.coverage(ds, cfg, as_of, "adults", 2).set_index("unit_code")["coverage"]
    label = f"{i18n.label(cfg.groups['adults'], 'en')} — {i18n.dose(2, 'en')}"

    at = open_page("overview", "en", as_of=as_of, target=target.id)
    at.selectbox(key="_compare_en").select("adults:2")
    run_like_a_browser(at)
    assert not at.exception and not at.error
    metrics = {m.label: m.value for m in at.metric}
    assert metrics[i18n.t("compare.metric", "en", label=label)] == fmt.percent(other[core.TOTAL], "en")

    at.switch_page(PAGES["districts"])
    run_like_a_browser(at)
    assert not at.exception and not at.error
    shown = at.dataframe[0].value
    units = report.drop(index=core.TOTAL).sort_values("coverage")  # ranked by the target's coverage
    assert shown["coverage"].tolist() == pytest.approx((units["coverage"] * 100).tolist())
    assert shown["status"].tolist() == [status_label(s, "en") for s in units["status"]]  # icon + word
    assert shown["compare_coverage"].tolist() == pytest.approx((other[units.index] * 100).tolist())
    config = json.loads(at.dataframe[0].proto.columns)
    assert config["compare_coverage"]["label"] == i18n.t("compare.column", "en", label=label)

    at.switch_page(PAGES["trends"])
    run_like_a_browser(at)
    assert not at.exception and not at.error
    lines = {trace["name"]: trace for trace in charts(at)[0]["data"]}
    province = i18n.t("unit.province", "en")
    assert lines[province]["y"][-1] == pytest.approx(report.loc[core.TOTAL, "coverage"])
    compared = lines[i18n.t("compare.line", "en", name=province, label=label)]
    assert compared["y"][-1] == pytest.approx(other[core.TOTAL])
    projection = lines[i18n.t("fig.projection_of", "en", name=province)]
    assert projection["y"][0] == pytest.approx(report.loc[core.TOTAL, "coverage"])  # from the target's line


def test_a_comparison_that_becomes_the_target_is_dropped(open_page):
    """The comparison options leave out the target's own group and dose; a target change that makes the
    chosen comparison the target itself resets the control to "no comparison", in the browser too."""
    at = open_page("overview", "vi")
    at.selectbox(key="_compare_vi").select("all:1")
    run_like_a_browser(at)
    assert at.selectbox(key="_compare_vi").value == "all:1"
    at.selectbox(key="_target_vi").select("all_70pct_2022q1")
    run_like_a_browser(at)
    compare = at.selectbox(key="_compare_vi")
    assert compare.value == "none" and compare.proto.set_value
    assert f"{i18n.label(load_config().groups['all'], 'vi')} — {i18n.dose(1, 'vi')}" not in compare.options
    at.multiselect(key="units").select("071")
    run_like_a_browser(at)
    assert at.selectbox(key="_compare_vi").value == "none"
    assert not [m for m in at.metric if m.label.startswith(i18n.t("compare.metric", "vi", label=""))]


def test_overview_warns_about_districts_behind_with_their_reports(store_dir, tmp_path, monkeypatch):
    # a copy of the sample store, then Na Hang (072) stops reporting after 01/12/2021: on 04/12 it is 3 days behind
    folder = tmp_path / "store"
    shutil.copytree(store_dir, folder)
    con = duckdb.connect(str(store.db_path(folder)))
    con.execute("DELETE FROM vaccinations WHERE unit_code = '072' AND date > DATE '2021-12-01'")
    con.execute("DELETE FROM vaccination_series")  # the series table follows, as every store write keeps it
    con.execute("INSERT INTO vaccination_series " + store.schema.SERIES_OF.format(source="vaccinations"))
    con.close()
    monkeypatch.setenv("TRACKER_STORE", str(folder))
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["as_of"] = dt.date(2021, 12, 4)
    at.run()
    assert not at.exception and not at.error
    warnings = [w.value for w in at.warning]
    assert any("Huyện Na Hang" in w and "1 huyện" in w for w in warnings), warnings


def test_a_bug_in_a_page_shows_a_message_not_a_traceback(open_page, monkeypatch):
    def broken(*args, **kwargs):
        raise KeyError("boom")

    monkeypatch.setattr(dashboard.loaders, "incidence_series", broken)  # the trends page's last chart
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page(PAGES["trends"])
    at.run()
    assert not at.exception
    assert [e.value for e in at.error] == [i18n.t("app.unexpected", "vi")]


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_overview_offers_the_briefing_as_pdf_and_pptx(open_page, lang):
    at = open_page("overview", lang)
    keys = {b.key for b in at.get("download_button")}
    assert {"briefing-pdf", "briefing-pptx"} <= keys
