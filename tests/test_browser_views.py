"""In a real browser: a link opens its view, a reload and a page switch keep it, <html lang> follows the language,
and the keyboard reaches the filters before the charts' toolbars, on a desktop and on a phone.

The server, the browser and the page helper (Visit) are tests/test_browser.py's; this module starts its own
server, and its first visit is a link to a page with a view in its address (the server's first run, which
Streamlit still takes for its old pages/ folder mode: see dashboard.state.guarded). Without chromium the
module is skipped, except on CI (CI=true).
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.test_browser import (  # noqa: F401 - browser, chromium, context, contexts and server are fixtures
    FIRST_LOAD_MS,
    LANGUAGE_OPTION,
    LANGUAGE_RADIO,
    TITLES,
    PlaywrightError,
    Visit,
    browser,
    chromium,
    context,
    contexts,
    server,
)
from tracker import fmt, i18n

DAY = dt.date(2021, 12, 1)
VIEW = {"lang": "en", "as_of": DAY.isoformat(), "target": "all_70pct_2022q1", "units": "071"}
LINK = "trends?" + "&".join(f"{key}={value}" for key, value in VIEW.items())
FOCUS_JS = """() => {
    const e = document.activeElement;
    if (!e || e === document.body) return null;
    const r = e.getBoundingClientRect();
    return {
        testid: e.closest('[data-testid]')?.getAttribute('data-testid') ?? '',
        nav: !!e.closest('[data-testid="stSidebarNav"]'),
        control: !!e.closest('[data-testid="stSidebarUserContent"]'),
        modebar: !!e.closest('.modebar'),
        left: r.left, right: r.right, width: r.width, height: r.height,
        label: (e.getAttribute('aria-label') || e.innerText || e.tagName).trim().slice(0, 40),
    };
}"""


def address(visit: Visit) -> dict[str, str]:
    return {key: values[-1] for key, values in parse_qs(urlsplit(visit.page.url).query).items()}


def wait_for_lang(visit: Visit, lang: str, where: str) -> None:
    try:
        visit.page.wait_for_function(f"document.documentElement.lang === {lang!r}", timeout=10_000)
    except PlaywrightError:
        shown = visit.page.evaluate("document.documentElement.lang")
        pytest.fail(f"{where}: <html lang={shown!r}>, expected {lang!r}", pytrace=False)


def wait_for_address(visit: Visit, expected: dict[str, str], where: str) -> None:
    try:
        visit.page.wait_for_url(lambda url: address(visit) == expected, timeout=10_000)
    except PlaywrightError:
        pytest.fail(f"{where}: the address is {visit.page.url}, expected the parameters {expected}", pytrace=False)


def check_view(visit: Visit, page_name: str, lang: str, expected: dict[str, str], where: str) -> None:
    """The page in `lang`, as of DAY, with `expected` as its address's parameters and <html lang> in `lang`."""
    visit.check_no_errors(where)
    main = visit.page.get_by_test_id("stMain")
    titles = [t.strip() for t in main.locator("h1").all_inner_texts()]
    assert TITLES[page_name][lang] in titles, f"{where}: page titles {titles}"
    line = i18n.t("app.as_of_line", lang, date=fmt.date(DAY, lang))
    assert line in main.inner_text(), f"{where}: no '{line}' on the page"
    wait_for_lang(visit, lang, where)
    wait_for_address(visit, expected, where)


@pytest.fixture
def visit(context, server):  # noqa: F811 - the fixtures imported above
    opened = Visit(context, server)
    yield opened
    opened.close()


def test_a_link_opens_its_view_and_a_reload_and_a_page_switch_keep_it(visit):
    page = visit.page
    try:
        page.goto(f"{visit.server.base}/{LINK}", wait_until="domcontentloaded")
        visit.wait_for_run(TITLES["trends"]["en"], "trends, opened from a link")
        visit.wait_for_charts()
        check_view(visit, "trends", "en", VIEW, "trends, opened from a link")
        chart_titles = visit.chart_titles()  # wrapped titles read as one line
        assert i18n.t("trends.incidence_title", "en") in chart_titles, f"chart titles {chart_titles}"
        assert page.get_by_test_id("stSidebar").get_by_test_id("stMultiSelect").get_by_text("Huyện Lâm Bình").count()

        page.reload(wait_until="domcontentloaded")
        visit.wait_for_run(TITLES["trends"]["en"], "trends, reloaded")
        visit.wait_for_charts()
        check_view(visit, "trends", "en", VIEW, "trends, reloaded")

        # the navigation drops the address's parameters; the new page's run writes them back
        sidebar = page.get_by_test_id("stSidebar")
        sidebar.get_by_test_id("stSidebarNavLink").filter(has_text=TITLES["districts"]["en"]).click()
        visit.wait_for_run(TITLES["districts"]["en"], "districts, from the navigation", started=True)
        check_view(visit, "districts", "en", VIEW, "districts, from the navigation")

        # Vietnamese, the default language: out of the address, and <html lang="vi">
        radio = sidebar.get_by_test_id("stRadio").filter(has_text=LANGUAGE_RADIO)
        radio.get_by_text(LANGUAGE_OPTION["vi"], exact=True).click()
        visit.wait_for_run(TITLES["districts"]["vi"], "districts, in Vietnamese", started=True)
        without_lang = {key: value for key, value in VIEW.items() if key != "lang"}
        check_view(visit, "districts", "vi", without_lang, "districts, in Vietnamese")
        page.reload(wait_until="domcontentloaded")
        visit.wait_for_run(TITLES["districts"]["vi"], "districts in Vietnamese, reloaded")
        check_view(visit, "districts", "vi", without_lang, "districts in Vietnamese, reloaded")
    except PlaywrightError as exc:
        shot = visit.last_screenshot("view-link-failed")
        pytest.fail(f"a view from a link: {exc}\n(screenshot {shot})\n{visit.server.state()}", pytrace=False)


@pytest.mark.parametrize(("width", "height"), [(1440, 900), (390, 844)], ids=["desktop", "phone"])
def test_the_keyboard_reaches_the_filters_before_the_charts(browser, server, width, height):  # noqa: F811
    """Tab from the top of the trends page (three charts, 24 toolbar buttons): on a desktop, the skip link and
    the navigation, then the sidebar's controls, and only then a chart's toolbar; on a phone, whose sidebar
    starts collapsed, "Expand sidebar" before any toolbar, and never a focus out of sight."""
    ctx = browser.new_context(viewport={"width": width, "height": height}, service_workers="block")
    ctx.set_default_timeout(FIRST_LOAD_MS)
    visit = Visit(ctx, server)
    try:
        visit.page.goto(f"{server.base}/trends", wait_until="domcontentloaded")
        visit.wait_for_run(TITLES["trends"]["vi"], f"trends at {width} px")
        visit.wait_for_charts()
        stops = []
        for _ in range(40):
            visit.page.keyboard.press("Tab")
            stops.append(visit.page.evaluate(FOCUS_JS))
            if stops[-1] and stops[-1]["modebar"]:
                break
    finally:
        ctx.close()
    stops = [s for s in stops if s]
    described = "\n".join(f"  {s['testid']} {s['label']!r} x={s['left']:.0f}..{s['right']:.0f}" for s in stops)
    first_toolbar = next((i for i, s in enumerate(stops) if s["modebar"]), len(stops))
    assert first_toolbar < len(stops), f"no chart toolbar within 40 Tab presses:\n{described}"
    before = stops[:first_toolbar]
    if width > 640:
        controls = [i for i, s in enumerate(before) if s["control"]]
        assert len(controls) >= 6, f"the sidebar's controls come before the first toolbar button:\n{described}"
        lead = before[: controls[0]]
        assert all(s["testid"] == "stSkipToContent" or s["nav"] for s in lead), f"before the filters:\n{described}"
    else:
        assert any(s["testid"] == "stExpandSidebarButton" for s in before), f"no 'Expand sidebar':\n{described}"
        hidden = [s for s in stops if s["right"] <= 0 or s["left"] >= width or not (s["width"] and s["height"])]
        assert not hidden, f"the focus went out of sight ({len(hidden)} stops):\n{described}"
