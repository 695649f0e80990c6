"""End to end in a real browser: every page in both languages renders offline, with no error.

Starts `streamlit run app.py` on a free port with a fresh store, drives Debian's chromium through
Playwright (the PyPI wheel's driver; no browser download), and checks for each page and language:
the title, the sample-data label, every Plotly chart drawn, no exception, error alert or uncaught
page error, and no request leaving the machine. Screenshots go to test-output/browser/.

Without chromium the module is skipped, except on CI (CI=true), where that is a failure.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

try:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright
except ImportError:  # skipped (or failed on CI) by the browser fixture
    sync_playwright = None
    PlaywrightError = Exception

from tracker import core, fmt, i18n, store
from tracker.config import load_config

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "test-output" / "browser"
ON_CI = os.environ.get("CI", "").lower() == "true"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",  # no internet here: without these chromium floods refused connections
    "--disable-component-update",
    "--disable-sync",
]
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "[::1]"}
SERVER_START_S = 90
FIRST_LOAD_MS = 60_000  # the first run initialises the store
TITLE_MS = 15_000  # after a finished run, how long the title may still take
CHART_MS = 30_000

# page -> URL path; the overview is the default page, served at the root (there is no /overview).
PATHS = {
    "overview": "", "districts": "districts", "trends": "trends", "risk": "risk", "upload": "upload", "about": "about",
}  # fmt: skip
TITLES = {
    "overview": {"vi": "Tổng quan", "en": "Overview"},
    "districts": {"vi": "Bản đồ", "en": "Districts"},
    "trends": {"vi": "Xu hướng", "en": "Trends"},
    "risk": {"vi": "Cấp độ dịch", "en": "Risk level"},
    "upload": {"vi": "Cập nhật dữ liệu", "en": "Upload"},
    "about": {"vi": "Về số liệu", "en": "About this data"},
}
SAMPLE_LABEL = {"vi": "Số liệu mẫu minh họa", "en": "Illustrative sample data"}
DRAWN = "g.trace, canvas"  # a Plotly chart has drawn: SVG traces, or a WebGL / MapLibre canvas
FULL_HEIGHT_JS = """() => Math.max(window.innerHeight, ...["stMain", "stSidebarContent"].map(
    id => document.querySelector(`[data-testid="${id}"]`)?.scrollHeight ?? 0))"""
LANGUAGE_RADIO = "Ngôn ngữ / Language"
LANGUAGE_OPTION = {"vi": "Tiếng Việt", "en": "English"}


def _unavailable(reason: str):
    """Skip on a developer's machine; on CI a missing browser means the test did not run, so fail."""
    if ON_CI:
        pytest.fail(f"{reason} (CI=true: the browser test must run on CI; .ci/run installs chromium)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def chromium() -> str:
    path = shutil.which("chromium")
    if not path:
        _unavailable("chromium is not installed (apt-get install chromium)")
    return path


@pytest.fixture(scope="module")
def browser(chromium):
    if sync_playwright is None:
        _unavailable("playwright is not installed (make test installs it from uv.lock)")
    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()


class Server:
    """`streamlit run app.py` from the project root on a free port, with its own store."""

    def __init__(self, tmp: Path):
        self.folder, self.log = tmp / "store", tmp / "streamlit.log"
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.base = f"http://localhost:{self.port}"
        env = {**os.environ, "TRACKER_STORE": str(self.folder)}
        env.pop("TRACKER_BOUNDARIES", None)  # the project's own configuration
        command = [
            str(Path(sys.executable).parent / "streamlit"), "run", "app.py", "--server.port", str(self.port),
            "--server.headless", "true", "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
        ]  # fmt: skip
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(
                command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, ended as a whole by stop()
            )  # fmt: skip

    def output(self, lines: int = 60) -> str:
        text = self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:]) or "(no output)"

    def state(self) -> str:
        """For failure messages: is the server still up, and what did it print."""
        alive = "running" if self.proc.poll() is None else f"exited with code {self.proc.returncode}"
        return f"streamlit server {alive}; its output:\n{self.output()}"

    def wait_healthy(self) -> None:
        no_proxy = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        deadline = time.monotonic() + SERVER_START_S
        while True:
            if self.proc.poll() is not None:
                pytest.fail(f"streamlit exited with code {self.proc.returncode} before answering:\n{self.output()}")
            with contextlib.suppress(OSError):
                with no_proxy.open(f"{self.base}/_stcore/health", timeout=2) as answer:
                    if answer.read().strip() == b"ok":
                        return
            if time.monotonic() > deadline:
                url = f"{self.base}/_stcore/health"
                pytest.fail(f"{url} did not answer 'ok' within {SERVER_START_S} s:\n{self.output()}")
            time.sleep(0.25)

    def stop(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=10)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)


@contextlib.contextmanager
def running_server(tmp: Path) -> Iterator[Server]:
    server = Server(tmp)
    try:
        server.wait_healthy()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("browser")) as started:
        yield started


SIZES = {"desktop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}
# Text that ends cut off: a heading, a metric, a caption or a chart title wider than its box. Plotly's titles
# are SVG text: measured against the chart's own width.
CLIPPED_JS = """() => {
  const out = [];
  const main = document.querySelector('[data-testid="stMain"]');
  for (const el of main.querySelectorAll('h1, h2, h3, [data-testid="stMetricValue"], [data-testid="stMetricLabel"]')) {
    if (el.offsetParent !== null && el.scrollWidth > el.clientWidth + 1) out.push(el.innerText.trim());
  }
  for (const plot of main.querySelectorAll('.js-plotly-plot')) {
    const svg = plot.querySelector('svg.main-svg');
    const width = svg ? svg.getBoundingClientRect().width : 0;
    for (const t of plot.querySelectorAll('.gtitle, .annotation-text')) {
      const box = t.getBoundingClientRect(), left = svg.getBoundingClientRect().left;
      if (box.width > 0 && (box.right - left > width + 1 || box.left < left - 1)) out.push(t.textContent);
    }
  }
  return out;
}"""


@pytest.fixture(scope="module")
def contexts(browser):
    """A browser context per screen size: a desktop (1440 x 900) and a phone (390 x 844, touch)."""
    made = {}
    for size, viewport in SIZES.items():
        phone = size == "phone"
        made[size] = browser.new_context(
            viewport=viewport, service_workers="block", is_mobile=phone, has_touch=phone, device_scale_factor=1
        )
        made[size].set_default_timeout(FIRST_LOAD_MS)
    yield made
    for ctx in made.values():
        ctx.close()


@pytest.fixture(scope="module")
def context(contexts):
    return contexts["desktop"]


class Visit:
    """One page in its own tab (a fresh Streamlit session), with what went wrong recorded."""

    def __init__(self, context, server: Server):
        self.server = server
        self.page = context.new_page()
        self.page_errors: list[str] = []
        self.outside: list[str] = []  # requests that would have left the machine (blocked)
        self.page.on("pageerror", lambda exc: self.page_errors.append(str(exc)))
        self.page.route("**/*", self._route)

    def _route(self, route) -> None:
        url = route.request.url
        if url.startswith(("data:", "blob:")) or urlsplit(url).hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            self.outside.append(url)
            route.abort("blockedbyclient")

    def open(self, page_name: str, lang: str = "vi") -> Visit:
        """Open the page by its link, switch the language in the sidebar if needed, wait for the charts."""
        where = f"{page_name} ({lang})"
        try:
            self.page.goto(f"{self.server.base}/{PATHS[page_name]}", wait_until="domcontentloaded")
            self.wait_for_run(TITLES[page_name]["vi"], where)
            if lang != "vi":
                self.check_no_errors(f"{page_name} (vi, before switching to {lang})")
                radio = self.page.get_by_test_id("stSidebar").get_by_test_id("stRadio").filter(has_text=LANGUAGE_RADIO)
                radio.get_by_text(LANGUAGE_OPTION[lang], exact=True).click()
                self.wait_for_run(TITLES[page_name][lang], where, started=True)
            self.wait_for_charts()
            return self
        except PlaywrightError as exc:
            self._failed(where, f"{page_name}-{lang}", exc)

    def open_link(self, page_name: str, lang: str) -> Visit:
        """Open the page by a link carrying the language (?lang=en), as a shared link would; wait for the charts."""
        where = f"{page_name} ({lang}, by link)"
        query = "" if lang == "vi" else "?lang=en"
        try:
            self.page.goto(f"{self.server.base}/{PATHS[page_name]}{query}", wait_until="domcontentloaded")
            self.wait_for_run(TITLES[page_name][lang], where)
            self.wait_for_charts()
            return self
        except PlaywrightError as exc:
            self._failed(where, f"{page_name}-{lang}", exc)

    def _failed(self, where: str, name: str, exc: Exception) -> None:
        shot = self.last_screenshot(f"{name}-failed")
        pytest.fail(f"{where}: {exc}\n(screenshot {shot})\n{self.server.state()}", pytrace=False)

    def _finished(self):
        return self.page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]')

    def wait_for_run(self, title: str, where: str, started: bool = False) -> None:
        """Until the script has finished and the page shows its title (or an exception or error)."""
        page = self.page
        if not started:
            self._finished().wait_for(state="attached", timeout=FIRST_LOAD_MS)
        shown = (
            page.get_by_test_id("stMain")
            .locator("h1", has_text=title)
            .or_(page.get_by_test_id("stException"))
            .or_(page.get_by_test_id("stAlertContentError"))
        )
        try:
            shown.first.wait_for(state="visible", timeout=FIRST_LOAD_MS if started else TITLE_MS)
            missing = False
        except PlaywrightError:
            missing = True
        if missing:  # say what the page shows instead
            main = page.get_by_test_id("stMain")
            text = main.inner_text(timeout=1000).strip() if main.count() else page.inner_text("body", timeout=1000)
            shot = self.last_screenshot(f"{where.split()[0]}-no-title")
            pytest.fail(
                f"{where}: the script finished but the page shows no title '{title}' "
                f"(screenshot {shot}); it shows: {text[:500]!r}",
                pytrace=False,
            )
        self._finished().wait_for(state="attached", timeout=FIRST_LOAD_MS)
        page.get_by_test_id("stStatusWidget").filter(has_text="Running").wait_for(state="hidden")

    def wait_for_charts(self) -> int:
        """Until every Plotly chart on the page has drawn its traces; returns how many there are."""
        self.page.get_by_test_id("stSkeleton").first.wait_for(state="detached", timeout=CHART_MS)
        charts = self.page.get_by_test_id("stPlotlyChart")
        for i in range(charts.count()):
            chart = charts.nth(i).locator(".js-plotly-plot")
            chart.locator("svg.main-svg").first.wait_for(state="attached", timeout=CHART_MS)
            chart.locator(DRAWN).first.wait_for(state="attached", timeout=CHART_MS)
        return charts.count()

    def chart_titles(self) -> list[str]:
        """Each chart's title as one line: Plotly writes a wrapped title as one <tspan class="line"> per line."""
        return (
            self.page.get_by_test_id("stPlotlyChart")
            .locator(".gtitle")
            .evaluate_all(
                "els => els.map(e => { const lines = Array.from(e.querySelectorAll('tspan.line'), t => t.textContent);"
                " return lines.length ? lines.join(' ') : e.textContent; })"
            )
        )

    def texts(self, test_id: str) -> list[str]:
        return [t.strip() for t in self.page.get_by_test_id(test_id).all_inner_texts()]

    def check_no_errors(self, where: str) -> None:
        problems = []
        if exceptions := self.texts("stException"):
            problems.append("Streamlit exception:\n" + "\n---\n".join(exceptions))
        if errors := self.texts("stAlertContentError"):
            problems.append("error alert:\n" + "\n---\n".join(errors))
        if self.page_errors:
            problems.append("uncaught page error:\n" + "\n---\n".join(self.page_errors))
        if self.outside:
            problems.append("requests to the internet (blocked):\n" + "\n".join(self.outside))
        assert not problems, f"{where}: " + "\n\n".join(problems)

    def screenshot(self, name: str) -> Path:
        """The whole page: Streamlit scrolls inside its main area, so the window grows to fit it first."""
        SHOTS.mkdir(parents=True, exist_ok=True)
        path = SHOTS / f"{name}.png"
        page, size = self.page, self.page.viewport_size
        height = page.evaluate(FULL_HEIGHT_JS)
        try:
            if height > size["height"]:
                page.set_viewport_size({"width": size["width"], "height": height})
                self.wait_for_charts()  # a resize redraws the charts
            page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")
            page.screenshot(path=str(path), full_page=True)
        finally:
            page.set_viewport_size(size)
        return path

    def last_screenshot(self, name: str) -> str:
        """A screenshot for a failure message, if the page can still take one."""
        try:
            return str(self.screenshot(name).relative_to(ROOT))
        except PlaywrightError as exc:
            return f"none: {str(exc).splitlines()[0]}"

    def close(self) -> None:
        self.page.close()


@pytest.fixture(scope="module")
def app(context, server):
    """The server once its home page has run: the app has initialised its store from data/.

    Links to other pages before that are checked by test_a_link_to_a_page_works_on_a_fresh_server.
    """
    Visit(context, server).open("overview").close()
    return server


@pytest.fixture
def visit(context, app):
    opened = Visit(context, app)
    yield opened
    opened.close()


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("lang", ["vi", "en"])
@pytest.mark.parametrize("page_name", list(PATHS))
def test_page_renders_offline_without_errors(contexts, app, page_name, lang, size):
    """Every page, both languages, a desktop and a phone: it renders with no error and no request out, its
    title and the sample label show, no heading, metric or chart title is cut off, and the page says its
    language (<html lang>). Screenshots: test-output/browser/<page>-<lang>-<size>.png."""
    visit = Visit(contexts[size], app)
    try:
        visit.open_link(page_name, lang)
        shot = visit.screenshot(f"{page_name}-{lang}-{size}")  # before the checks: a failing page is worth seeing
        where = f"{page_name} ({lang}, {size}, screenshot {shot.relative_to(ROOT)})"
        visit.check_no_errors(where)

        main = visit.page.get_by_test_id("stMain")
        titles = [t.strip() for t in main.locator("h1").all_inner_texts()]
        assert TITLES[page_name][lang] in titles, f"{where}: page titles {titles}"
        text = main.inner_text()
        assert SAMPLE_LABEL[lang] in text, f"{where}: the sample data must be labelled '{SAMPLE_LABEL[lang]}'"
        assert visit.page.evaluate("() => document.documentElement.lang") == lang, f"{where}: <html lang>"
        clipped = visit.page.evaluate(CLIPPED_JS)
        assert not clipped, f"{where}: cut off: {clipped}"
        if page_name in ("districts", "trends", "risk"):
            assert visit.wait_for_charts() > 0, f"{where}: no Plotly chart"
            buttons = visit.page.eval_on_selector_all(".modebar-btn", "els => els.map(e => e.dataset.title)")
            english = {"Zoom in", "Zoom out", "Reset axes", "Download plot as a PNG", "Download plot as a png"}
            if lang == "vi":  # the chart toolbar speaks the page's language (Streamlit's own Fullscreen aside)
                assert not english & set(buttons), f"{where}: toolbar in English: {buttons}"
        if page_name == "upload":  # the login form, before anything else
            assert main.locator('input[type="password"]').count() == 1, f"{where}: no login form"
        if page_name == "overview":  # which districts are behind, without a click
            assert i18n.t("lagging.heading", lang) in text, f"{where}: no districts-behind section"
            cfg, ds = load_config(), store.load(app.folder)
            report = core.evaluate(ds, cfg, ds.latest_date)
            lagging = report["status"].isin(["missed", "off_track", "at_risk"]) & (report["unit_code"] != core.TOTAL)
            counts = report[lagging].groupby("target_id").size()
            assert counts.sum() > 0  # the sample data has districts behind on its last day
            for target_id, count in counts.items():  # the table is drawn on a canvas: its caption is text
                said = i18n.t("lagging.count", lang, count=int(count))
                assert said in text, f"{where}: {target_id}: '{said}' not on the overview"
    finally:
        visit.close()


def test_overview_card_shows_the_core_figure(visit, app):
    visit.open("overview", "vi")
    visit.check_no_errors("overview (vi)")

    cfg = load_config()
    ds = store.load(app.folder)  # the store the app created on first start
    report = core.evaluate(ds, cfg, ds.latest_date)
    first = cfg.targets[0]
    province = report[(report["unit_code"] == core.TOTAL) & (report["target_id"] == first.id)]
    expected = fmt.percent(province["coverage"].iat[0])

    shown = visit.page.get_by_test_id("stMain").get_by_test_id("stMetricValue").first.inner_text().strip()
    assert shown == expected, f"first target ({first.id}) province coverage: page {shown!r}, core {expected!r}"


@pytest.mark.parametrize("page_name", [name for name, path in PATHS.items() if path])
def test_a_link_to_a_page_works_on_a_fresh_server(context, tmp_path, page_name):
    """A bookmark to a page, opened before anyone has opened the home page since the server started.

    That first run is the one where Streamlit's old pages/ folder mode still applies (see
    dashboard.state.guarded): the page must open with the shared sidebar and our navigation,
    and the server must print no warning or traceback.
    """
    with running_server(tmp_path) as fresh:
        opened = Visit(context, fresh)
        try:
            opened.open(page_name, "vi")
            where = f"{page_name} (vi), first visit after the server started"
            opened.check_no_errors(where)
            nav = opened.texts("stSidebarNavLink")
            assert nav == [TITLES[name]["vi"] for name in PATHS], f"{where}: sidebar navigation {nav}"
            sidebar = opened.page.get_by_test_id("stSidebar").inner_text()
            assert LANGUAGE_RADIO in sidebar, f"{where}: the shared sidebar controls are missing"
        finally:
            opened.close()
        log = fresh.output(lines=10_000)
        noisy = [line for line in log.splitlines() if "Traceback" in line or "WARNING" in line.upper()]
        assert not noisy, f"{page_name}: the server printed warnings:\n{log}"


def test_a_target_is_judged_on_its_own_group_in_the_browser(visit):
    """Issue 10, where it happened: choosing "≥ 70% dân số" left the old age-group control on adults in the
    browser, and the next click (here: a district, then the Trends page) judged the target on adults."""
    cfg = load_config()
    target = cfg.target("all_70pct_2022q1")
    group, dose = cfg.groups[target.group].label_vi, i18n.dose(target.dose, "vi")
    visit.open("overview", "vi")
    page, sidebar = visit.page, visit.page.get_by_test_id("stSidebar")
    try:
        sidebar.get_by_test_id("stSelectbox").first.click()  # Mục tiêu / Target
        page.get_by_role("option", name=target.label_vi).click()
        sidebar.get_by_text(i18n.t("compare.judged_on", "vi", on=f"{group} — {dose}")).wait_for()
        visit.wait_for_run(TITLES["overview"]["vi"], "overview (vi), target chosen", started=True)
        sidebar.get_by_test_id("stMultiSelect").click()  # an unrelated click: a district
        page.get_by_role("option", name="Huyện Lâm Bình").click()
        page.keyboard.press("Escape")
        visit.wait_for_run(TITLES["overview"]["vi"], "overview (vi), district chosen", started=True)
        sidebar.get_by_test_id("stSidebarNavLink").filter(has_text=TITLES["trends"]["vi"]).click()
        visit.wait_for_run(TITLES["trends"]["vi"], "trends (vi)", started=True)
        visit.wait_for_charts()
        page.get_by_test_id("stPlotlyChart").first.locator(".gtitle").wait_for(timeout=CHART_MS)
        expected = i18n.t("trends.coverage_title", "vi", group=group, dose=dose)
        assert visit.chart_titles()[0] == expected
    except PlaywrightError as exc:
        shot = visit.last_screenshot("target-group-failed")
        pytest.fail(f"the 70 % target on its own group: {exc}\n(screenshot {shot})", pytrace=False)
    visit.check_no_errors("trends (vi) after choosing the 70 % target and a district")
    shown = sidebar.get_by_test_id("stSelectbox").first.inner_html()
    assert target.label_vi in shown, f"the target control shows {shown[:2000]!r}"


def test_a_name_written_as_markdown_is_shown_as_text(context, tmp_path):
    """Issue 11, item 6, where it happened: a district named ``![x](http://127.0.0.1:9/beacon.png)`` was a real
    <img> in the overview's late-districts warning, and every viewer's browser fetched it. With the names of
    tests/test_injection.py (two late districts, a drop's file name and uploader in the unavailable-figure
    notice), the overview shows them as text: no image or link from them, no request, no script."""
    from tests.test_injection import LATE, NAMES, SOURCE, UPLOADER, WORD_JOINER, inject

    store.init(tmp_path / "store", load_config())  # the folder Server gives the app as TRACKER_STORE
    inject(tmp_path / "store")
    with running_server(tmp_path) as server:
        opened = Visit(context, server)
        requests, dialogs = [], []
        opened.page.on("request", lambda request: requests.append(request.url))
        opened.page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        try:
            opened.open("overview", "vi")
            opened.check_no_errors("overview (vi) with names written as Markdown")
            page, main = opened.page, opened.page.get_by_test_id("stMain")
            injected = page.locator('img[src*="127.0.0.1:9"], img[src="x"], img[src="x.png"], a[href*="127.0.0.1:9"]')
            assert injected.count() == 0, [
                injected.nth(i).evaluate("e => e.outerHTML") for i in range(injected.count())
            ]
            alerts = " ".join(main.get_by_test_id("stAlert").all_inner_texts()).replace(WORD_JOINER, "")
            for name in [*(NAMES[code] for code in LATE), SOURCE, UPLOADER]:
                assert name in alerts, f"{name!r} is not shown as it is: {alerts[:3000]!r}"
            assert main.locator('a[href*="upload?drop="]').count() >= 1, "the notice links to the drop"
        finally:
            opened.close()
    fetched = [url for url in requests if urlsplit(url).port == 9 or urlsplit(url).path in ("/x", "/x.png")]
    assert not fetched, f"the page fetched what the names point at: {fetched}"
    assert not dialogs, f"a name ran a script: {dialogs}"


UPLOADER_JS = """() => {
  const zone = '[data-testid="stFileUploaderDropzone"]';
  const button = document.querySelector(`${zone} button [data-testid="stMarkdownContainer"] p`);
  const hint = document.querySelector('[data-testid="stFileUploaderDropzoneInstructions"] span');
  const shown = (e) => ({own: getComputedStyle(e).fontSize, after: getComputedStyle(e, '::after').content});
  return {button: shown(button), hint: shown(hint)};
}"""


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_the_file_uploader_speaks_the_page_language(context, app, lang):
    """Streamlit writes its uploader's button ("Upload") and size hint ("50MB per file") in English; after an
    analyst logs in, the page's own words are shown instead (dashboard/controls.py, uploader_words), with the
    limit the page enforces ([upload] max_mb), and the button is named by them for a screen reader."""
    password = "correct horse battery staple"
    added = subprocess.run(
        [sys.executable, "-m", "tracker", "user", "add", f"lan_{lang}", "--password-stdin", "--store", str(app.folder)],
        input=password, capture_output=True, text=True, cwd=ROOT, timeout=60,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    opened = Visit(context, app)
    try:
        opened.open("upload", lang)
        page, t = opened.page, (lambda key, **kw: i18n.t(key, lang, **kw))
        page.get_by_label(t("login.name"), exact=True).fill(f"lan_{lang}")
        page.get_by_label(t("login.password"), exact=True).fill(password)
        page.get_by_role("button", name=t("login.submit")).click()
        page.get_by_test_id("stFileUploaderDropzone").wait_for()
        opened.check_no_errors(f"upload ({lang}), logged in")
        words = page.evaluate(UPLOADER_JS)
        limit = load_config().limits.max_mb
        hint = t("upload.file_limit", limit=limit, types="CSV, TXT, TSV, XLSX")
        assert words["button"] == {"own": "0px", "after": f'"{t("upload.choose_file")}"'}
        assert words["hint"] == {"own": "0px", "after": f'"{hint}"'}
        assert page.get_by_role("button", name=t("upload.choose_file")).count() == 1
        page.get_by_test_id("stFileUploader").screenshot(path=SHOTS / f"uploader-{lang}.png")
    finally:
        opened.close()
