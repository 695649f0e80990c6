"""A view lives in the page's address: a link (or a reload) opens it, a control writes it, a bad value is ignored.

The sidebar's choices, the language and the districts page's map metric are query parameters (see
dashboard.controls: VIEW_PARAMS). AppTest runs each test's first run as a new session opened from that address;
tests/test_browser_views.py does the same in a browser, with a reload and a page switch.
"""

from __future__ import annotations

import datetime as dt

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.controls import VIEW_PARAMS, view_from_link
from tests.apptools import APP, charts, checked, run_like_a_browser
from tracker import fmt, i18n, store
from tracker.config import load_config

LATEST = dt.date(2022, 3, 31)  # the sample data's dates: 2021-03-08 to 2022-03-31
LINK = {"lang": "en", "as_of": "2021-12-01", "target": "all_70pct_2022q1", "compare": "adults:2", "units": "071,072"}


def open_link(params: dict[str, str], page: str | None = None) -> AppTest:
    """A new session opened from an address with `params`, on `page` (a file under pages/; None: the overview):
    no exception, no error."""
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update(params)
    if page:
        at.switch_page(page)
    at.run()
    return checked(at)


def page_lang(at: AppTest) -> list[str]:
    """The languages the page's script sets on <html lang>."""
    bodies = [html.proto.body for html in at.get("html")]
    return [lang for lang in i18n.LANGS if any(f'documentElement.lang = "{lang}"' in body for body in bodies)]


def as_of_line(at: AppTest, day: dt.date, lang: str) -> bool:
    line = i18n.t("app.as_of_line", lang, date=fmt.date(day, lang))
    return any(line in markdown.value for markdown in at.markdown)


def test_a_link_opens_its_view(app_store):
    at = open_link(LINK)
    ctx = at.session_state["ctx"]
    assert ctx.lang == "en"
    assert ctx.as_of == dt.date(2021, 12, 1)
    assert ctx.target.id == "all_70pct_2022q1"
    assert ctx.compare == ("adults", 2)
    assert ctx.units == ("071", "072")
    # the controls show it, as a browser would (the widgets' own values)
    assert at.radio(key="lang").value == "en"
    assert at.date_input(key="as_of").value == dt.date(2021, 12, 1)
    assert at.selectbox(key="_target_en").value == "all_70pct_2022q1"
    assert at.selectbox(key="_compare_en").value == "adults:2"
    assert at.multiselect(key="units").value == ["071", "072"]
    # the page: in English, on that date
    assert [t.value for t in at.title] == [i18n.t("page.overview", "en")]
    assert as_of_line(at, dt.date(2021, 12, 1), "en")
    assert page_lang(at) == ["en"]
    # the address still says it, and a rerun keeps the view
    assert at.query_params == LINK
    at.run()
    assert at.query_params == LINK and at.session_state["ctx"].as_of == dt.date(2021, 12, 1)


def test_a_reload_opens_the_same_view(app_store):
    """A reload is a new session from the address the last run left: the same view, the same address."""
    at = open_link({})
    at.radio(key="lang").set_value("en")
    run_like_a_browser(at)
    at.date_input(key="as_of").set_value(dt.date(2021, 11, 15))
    run_like_a_browser(at)
    address = dict(at.query_params)
    assert address == {"lang": "en", "as_of": "2021-11-15"}
    reloaded = open_link(address)
    assert reloaded.session_state["ctx"].lang == "en"
    assert reloaded.session_state["ctx"].as_of == dt.date(2021, 11, 15)
    assert as_of_line(reloaded, dt.date(2021, 11, 15), "en")
    assert reloaded.query_params == address


def test_a_link_opens_the_map_metric(app_store):
    at = open_link({"lang": "en", "metric": "people_needed"}, page="pages/districts.py")
    assert [t.value for t in at.title] == [i18n.t("page.districts", "en")]
    assert at.selectbox(key="_metric_en").value == "people_needed"
    assert charts(at)[0]["layout"]["title"]["text"] == i18n.t("table.people_needed", "en")
    assert at.query_params == {"lang": "en", "metric": "people_needed"}


@pytest.mark.parametrize("page", [None, "pages/districts.py", "pages/trends.py"])
def test_the_default_view_leaves_the_address_empty(app_store, page):
    """Only choices other than the default are written (the map metric's default is the districts page's)."""
    at = open_link({}, page)
    ctx = at.session_state["ctx"]
    assert (ctx.lang, ctx.as_of, ctx.units, ctx.compare) == ("vi", LATEST, (), None)
    assert at.query_params == {}
    assert page_lang(at) == ["vi"]


BAD = [
    ("lang", "fr"),
    ("lang", ""),
    ("lang", "EN"),
    ("as_of", "2030-01-01"),  # after the data
    ("as_of", "2021-03-07"),  # before it
    ("as_of", "2021-02-30"),  # no such day
    ("as_of", "20211201"),  # ISO, but not YYYY-MM-DD
    ("as_of", "01/12/2021"),
    ("as_of", "2021-12-01T00:00"),
    ("as_of", "yesterday"),
    ("as_of", ""),
    ("target", "nope"),
    ("target", ""),
    ("compare", "adults:1"),  # the default target's own pair: that one is the target
    ("compare", "adults"),
    ("compare", "adults:x"),
    ("compare", "nobody:1"),
    ("units", "999"),
    ("units", ""),
    ("units", ","),
    ("metric", "nope"),
    ("metric", "__class__"),
]


@pytest.mark.parametrize(("key", "value"), BAD)
def test_a_bad_value_is_ignored_without_an_error(app_store, key, value):
    at = open_link({key: value}, page="pages/districts.py")  # the metric's page: every parameter is read there
    ctx = at.session_state["ctx"]
    cfg = load_config()
    assert (ctx.lang, ctx.as_of, ctx.target.id, ctx.compare, ctx.units) == ("vi", LATEST, cfg.targets[0].id, None, ())
    assert at.selectbox(key="_metric_vi").value == "coverage"
    assert at.query_params == {}, "a value that was not used leaves the address"
    assert [t.value for t in at.toast] == [i18n.t("views.left_out", "vi", names=key)]


def test_the_values_that_fit_are_kept(app_store):
    """Known unit codes are kept, in the link's order and once; the parameters that fit still count."""
    at = open_link({"units": "072,999,071,072", "lang": "en", "as_of": "2021-13-01", "drop": "3"})
    ctx = at.session_state["ctx"]
    assert (ctx.lang, ctx.as_of, ctx.units) == ("en", LATEST, ("072", "071"))
    assert at.query_params == {"drop": "3", "lang": "en", "units": "072,071"}  # another page's parameter stays
    assert [t.value for t in at.toast] == [i18n.t("views.left_out", "en", names="as_of, units")]


def test_view_from_link_checks_each_value(store_dir):
    cfg, ds = load_config(), store.load(store_dir)
    link = {"target": "all_70pct_2022q1", "compare": "adults:1", "as_of": "2021-03-08", "metric": "status"}
    view, left_out = view_from_link(link, cfg, ds)
    # adults:1 is allowed beside the 70 % target (not its own pair); the first day of data is in range
    assert view == link | {"as_of": dt.date(2021, 3, 8)}
    assert left_out == []
    assert set(VIEW_PARAMS) == {"lang", "as_of", "target", "compare", "units", "metric"}


def test_a_control_change_updates_the_address(app_store):
    at = open_link({})
    at.radio(key="lang").set_value("en")
    run_like_a_browser(at)
    assert at.query_params == {"lang": "en"}
    at.date_input(key="as_of").set_value(dt.date(2021, 12, 1))
    run_like_a_browser(at)
    at.selectbox(key="_target_en").select("all_70pct_2022q1")
    run_like_a_browser(at)
    at.selectbox(key="_compare_en").select("adults:2")
    run_like_a_browser(at)
    at.multiselect(key="units").select("072").select("071")
    run_like_a_browser(at)
    assert at.query_params == {
        "lang": "en", "as_of": "2021-12-01", "target": "all_70pct_2022q1", "compare": "adults:2", "units": "072,071",
    }  # fmt: skip
    view = dict(at.query_params)

    # the navigation drops the parameters no widget is bound to; the new page's run writes them back
    at.query_params.clear()
    at.switch_page("pages/districts.py")
    at.run()
    assert [t.value for t in at.title] == [i18n.t("page.districts", "en")]
    assert at.query_params == view
    at.selectbox(key="_metric_en").select("status")
    run_like_a_browser(at)
    assert at.query_params == view | {"metric": "status"}
    at.query_params.clear()
    at.switch_page("pages/trends.py")
    at.run()
    assert at.query_params == view | {"metric": "status"}, "the map metric stays while another page is shown"

    # back to the defaults: out of the address
    at.radio(key="lang").set_value("vi")
    run_like_a_browser(at)
    at.multiselect(key="units").set_value([])
    run_like_a_browser(at)
    at.date_input(key="as_of").set_value(LATEST)
    run_like_a_browser(at)
    assert at.query_params == {"target": "all_70pct_2022q1", "compare": "adults:2", "metric": "status"}
    assert page_lang(at) == ["vi"]
