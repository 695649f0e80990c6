"""What every page shares: the cached store and computations, the sidebar controls, formatting.

Loaders and computations are cached keyed by the store's version, so changing a control reruns
only cheap rendering, and a new ingest (a new version) refreshes everything.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import pandas as pd
import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from tracker import core, fmt, geo, i18n, store, views
from tracker.config import Config, Target, data_dir, load_config, store_dir
from tracker.errors import TrackerError
from tracker.figures import trends
from tracker.figures.common import download_config
from tracker.tables.districts import METRICS

LOG = logging.getLogger("tracker.dashboard")

# Markdown: every ASCII punctuation character, backslash-escaped, stands for itself (CommonMark), so no image,
# link, emphasis, code, heading, list, table, LaTeX ($) or Streamlit directive (:red[…]) can start; < > &
# become entities, so no HTML tag or entity either. A line break would start a new block: a space instead.
# "_" and "." between two letters or digits mean nothing there (no emphasis, no list), and stay readable.
_MARKDOWN = {c: "\\" + c for c in string.punctuation} | {"<": "&lt;", ">": "&gt;", "&": "&amp;"}
_MARKDOWN |= dict.fromkeys("\r\n\v\f\x85\u2028\u2029", " ")
_INWORD = "_."
# Streamlit also makes links of text after escapes are resolved (GFM autolinks: http://…, www.…, a@b.c) and
# draws its logo for :streamlit:. An invisible word joiner breaks those words.
_LINKS = re.compile(r"(?i)(?<=http)(?=s?:)|(?<=www)(?=\.)|(?=@)|(?<=:)(?=streamlit:)")
WORD_JOINER = "\u2060"


def md_escape(text) -> str:
    """`text` as Markdown that shows exactly that text, on one line: for every string that comes from the
    data rather than from tracker/i18n.toml (unit names and codes, file names, uploaders, age labels,
    boundary features, error messages quoting them) before it goes into st.markdown, an alert, a caption,
    a heading, or a metric's or widget's label or help. Not for tables and select-box options (plain text)."""
    if text is None:
        return ""
    text = _LINKS.sub(WORD_JOINER, str(text))
    last = len(text) - 1
    return "".join(
        c if c in _INWORD and 0 < i < last and text[i - 1].isalnum() and text[i + 1].isalnum() else _MARKDOWN.get(c, c)
        for i, c in enumerate(text)
    )


def config() -> Config:
    """The dataset's configuration (data/, or $TRACKER_DATA), read once per folder."""
    return _config(str(data_dir()))


@st.cache_resource(show_spinner=False)
def _config(folder: str) -> Config:
    return load_config(Path(folder))


@st.cache_resource(show_spinner=False)
def _ensure_store(folder: str) -> None:
    store.init(folder, config())


@st.cache_resource(max_entries=2, show_spinner=False)
def dataset(folder: str, version: str) -> store.Dataset:
    return store.open_dataset(folder)


@st.cache_resource(max_entries=4, show_spinner=False)
def boundaries(folder: str, version: str) -> tuple[geo.Boundaries | None, str | None]:
    """The configured boundary file matched to the units, or (None, the reason it could not be used)."""
    return geo.configured_boundaries(config(), dataset(folder, version).units)


@st.cache_data(max_entries=64, show_spinner=False)
def target_cards(folder: str, version: str, as_of: dt.date) -> pd.DataFrame:
    return views.target_cards(dataset(folder, version), config(), as_of)


@st.cache_data(max_entries=64, show_spinner=False)
def freshness(folder: str, version: str, as_of: dt.date) -> pd.DataFrame:
    return views.freshness(dataset(folder, version), as_of)


@st.cache_data(max_entries=64, show_spinner=False)
def district_table(folder: str, version: str, as_of: dt.date, target_id: str) -> pd.DataFrame:
    """The configured target's figures per district: always on the target's own group and dose."""
    return views.district_table(dataset(folder, version), config(), as_of, config().target(target_id))


@st.cache_data(max_entries=64, show_spinner=False)
def comparison_coverage(folder: str, version: str, as_of: dt.date, group: str, dose: int) -> pd.DataFrame:
    """Coverage of a comparison (group, dose) per unit and for the province (TOTAL): shown, never judged."""
    return core.coverage(dataset(folder, version), config(), as_of, group, dose)


@st.cache_data(max_entries=32, show_spinner=False)
def coverage_series(folder: str, version: str, group: str, dose: int, units: tuple[str, ...]) -> pd.DataFrame:
    ds = dataset(folder, version)
    start, end = ds.first_date, ds.latest_date
    return views.coverage_series(ds, config(), group, dose, start, end, list(units))


@st.cache_data(max_entries=32, show_spinner=False)
def daily_doses(folder: str, version: str, group: str, units: tuple[str, ...]) -> pd.DataFrame:
    ds = dataset(folder, version)
    start, end = ds.first_date, ds.latest_date
    return views.daily_doses(ds, config(), group, start, end, list(units))


@st.cache_data(max_entries=32, show_spinner=False)
def unavailable(folder: str, version: str, as_of: dt.date, pairs: tuple[tuple[str, int], ...]) -> pd.DataFrame:
    """Which districts' figures are unavailable for these (group, dose) pairs, why, and the drop behind it."""
    missing = views.unavailable(dataset(folder, version), config(), as_of, pairs)
    if missing.empty:
        return missing
    labels = missing[["unit_code", "dose", "labels"]].explode("labels").rename(columns={"labels": "age_band"})
    return views.blame(missing, store.first_drops(folder, labels.drop_duplicates()))


@st.cache_data(max_entries=32, show_spinner=False)
def incidence_series(folder: str, version: str, units: tuple[str, ...]) -> pd.DataFrame:
    ds = dataset(folder, version)
    start, end = ds.first_date, ds.latest_date
    return views.incidence_series(ds, config(), start, end, list(units))


@dataclass
class Context:
    """The page's inputs: the store, the language and the sidebar's choices."""

    folder: str
    version: str
    ds: store.Dataset
    cfg: Config
    lang: str
    as_of: dt.date
    target: Target  # the selected target as configured: judged on its own group and dose, always
    units: tuple[str, ...]
    compare: tuple[str, int] | None = None  # an optional (group, dose) shown beside it, labelled, never judged
    image_format: str = "png"
    names: dict[str, str] = field(default_factory=dict)

    def t(self, key: str, **values) -> str:
        return i18n.t(key, self.lang, **values)

    def group_dose(self, group: str, dose: int) -> str:
        return pair_label(self.cfg, group, dose, self.lang)

    def judged_on(self) -> str:
        """What the target is judged on: its own group and dose."""
        return self.group_dose(self.target.group, self.target.dose)

    def compare_label(self) -> str | None:
        return self.group_dose(*self.compare) if self.compare else None

    @property
    def number(self):
        return partial(fmt.number, lang=self.lang)

    @property
    def percent(self):
        return partial(fmt.percent, lang=self.lang)

    def date(self, value) -> str:
        return fmt.date(value, self.lang)

    def place(self) -> str:
        """Where the charts are about: the chosen districts, or the province."""
        if not self.units:
            return self.cfg.whole_named(self.lang)
        return ", ".join(self.names[u] for u in self.units)

    def plot(self, fig, metric: str, place: str | None = None) -> None:
        """Render a figure with the toolbar download set up for briefings."""
        config = download_config(metric, place or self.place(), self.as_of)
        config["toImageButtonOptions"]["format"] = self.image_format
        st.plotly_chart(fig, config=config, width="stretch")


def choice(widget, name: str, label: str, options, default, lang: str, **kwargs):
    """A selectbox or radio whose choice survives a change of language, and never goes stale.

    Streamlit keeps a keyed widget's state when only its option labels change, and then shows the
    old language's label or no selection at all. So the widget is keyed per language, starts from
    the choice kept under `name` in the session, and writes the choice back there.

    A keyed widget also keeps, in the browser, the value it shows whatever `index` the script passes
    later, and sends that value back on the next click. So a value is never given through `index`:
    when the widget has no valid value yet (a new language, or options that no longer hold its
    value), it is set through the Session State API, which the browser follows.
    """
    options = list(options)
    key = f"_{name}_{lang}"
    if key not in st.session_state or st.session_state[key] not in options:
        current = st.session_state.get(name, default)
        if current not in options:
            current = default if default in options else options[0]
        st.session_state[key] = current
    value = widget(label, options, key=key, **kwargs)
    st.session_state[name] = value
    if name in PAGE_PARAMS:  # chosen on a page, after the sidebar has written the address
        write_view({name: None if value == default else value})
    return value


NO_COMPARISON = "none"
COMPARE_DOSES = (1, views.FULL_DOSE)  # at least one dose; the full primary series


def comparison_options(cfg: Config, target: Target) -> list[str]:
    """'none', then every 'group:dose' pair other than the target's own (that one is the target)."""
    pairs = [(group, dose) for group in cfg.groups for dose in COMPARE_DOSES]
    return [NO_COMPARISON] + [f"{g}:{d}" for g, d in pairs if (g, d) != (target.group, target.dose)]


def pair_label(cfg: Config, group: str, dose: int, lang: str) -> str:
    """'Toàn dân — ≥ 1 mũi': a group and a dose, as the caption, the options and the comparison labels say it."""
    return i18n.t("compare.option", lang, group=i18n.label(cfg.group(group), lang), dose=i18n.dose(dose, lang))


def parse_comparison(option: str) -> tuple[str, int] | None:
    if option == NO_COMPARISON:
        return None
    group, dose = option.rsplit(":", 1)
    return group, int(dose)


# A view can be shared and survives a reload: the language, the sidebar's choices and the districts page's map
# metric live in the page's address (st.query_params), e.g. ?lang=en&as_of=2021-12-01&units=070,071. A session's
# first run takes them from its link, each checked (a value that does not fit is left out, never an error);
# every run writes the current ones back, only those other than the default, so a link stays short. Streamlit
# drops the parameters no widget is bound to when the navigation switches page: the new page's run, which
# starts with the same sidebar, writes them back. Other parameters (the Upload page's drop=…) are left alone.
VIEW_PARAMS = ("lang", "as_of", "target", "compare", "units", "metric")
PAGE_PARAMS = ("metric",)  # written by choice() too, as the page chooses it: the sidebar has run by then
DEFAULT_METRIC = "coverage"  # the districts page's map metric when none is chosen (its choice() default)
_LINK_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def view_from_link(params: Mapping[str, str], cfg: Config, ds: store.Dataset) -> tuple[dict, list[str]]:
    """The choices a link names (`params`, st.query_params), checked: (those that fit, the names of the others).

    lang: a language of the dashboard; as_of: a YYYY-MM-DD date within the data's dates; target: a configured
    target's id; compare: a comparison the target allows; units: unit codes, comma-separated (unknown codes are
    left out); metric: a map metric. A parameter given more than once counts with its last value."""
    names = set(ds.units["unit_code"].astype(str))
    targets = {target.id: target for target in cfg.targets}
    first = cfg.targets[0].id

    def day(text: str) -> dt.date | None:
        if ds.latest_date is None or not _LINK_DATE.fullmatch(text):
            return None
        value = dt.date.fromisoformat(text)  # a ValueError for 2021-02-30
        return value if ds.first_date <= value <= ds.latest_date else None

    checks = {
        "lang": lambda text: text if text in i18n.LANGS else None,
        "as_of": day,
        "target": lambda text: text if text in targets else None,
        "compare": lambda text: text if text in comparison_options(cfg, targets[view.get("target", first)]) else None,
        "units": lambda text: [code for code in dict.fromkeys(text.split(",")) if code in names],
        "metric": lambda text: text if text in METRICS else None,
    }
    view, left_out = {}, []
    for key, check in checks.items():  # the target before the comparison it allows
        if key not in params:
            continue
        text = params[key]
        try:
            value = check(text)
        except ValueError:
            value = None
        if value is None or (key == "units" and len(value) < len(set(text.split(",")))):
            left_out.append(key)  # for units: an unknown code; the known ones are kept
        if value:
            view[key] = value
    return view, left_out


def _read_link(cfg: Config, ds: store.Dataset) -> list[str]:
    """On a session's first run, the view its link names becomes the session's choices: returns the names of
    the link's parameters left out. Later runs leave the choices to the controls."""
    if st.session_state.get("_link_read"):
        return []
    st.session_state["_link_read"] = True
    view, left_out = view_from_link(st.query_params, cfg, ds)
    if "as_of" in view:  # the date input's starting value: through the Session State API as well, it would warn
        st.session_state["_link_as_of"] = view.pop("as_of")
    for key, value in view.items():  # lang and units are the widgets' own keys; the others choice() starts from
        st.session_state[key] = value
    return left_out


def write_view(values: Mapping[str, str | None]) -> None:
    """Each of `values` (a view parameter) into the address, or out of it for None (the default). The view's
    parameters go in VIEW_PARAMS's order, after any other; nothing is sent when nothing changes."""
    current = st.query_params.to_dict()
    merged = {key: value for key, value in current.items() if key in VIEW_PARAMS} | dict(values)
    wanted = {key: value for key, value in current.items() if key not in VIEW_PARAMS}
    wanted |= {key: merged[key] for key in VIEW_PARAMS if merged.get(key) is not None}
    if wanted != current:
        st.query_params.from_dict(wanted)


# The page's language for the browser, screen readers and translation tools: Streamlit's page says <html lang="en">
# whatever the app shows and has no setting for it, so a script sets it (st.html runs a script only when allowed).
_HTML_LANG = "<script>document.documentElement.lang = {lang};</script>"

# Layout, mostly for a phone (Streamlit stacks st.columns below 640 px already): a metric's value (a risk level's
# name) wraps instead of ending in "…", and so does a long word in a heading. A collapsed sidebar (a phone's, at
# first) is only moved off the screen: hidden, its controls leave the tab order, where they took the focus out of
# sight before the page's first element; "Expand sidebar" comes first instead. Only <style>: Streamlit puts it
# out of the page's flow, so it takes no room.
_STYLE = """<style>
[data-testid="stSidebar"][data-collapsed="true"],
[data-testid="stSidebar"][data-collapsed="true"] * { visibility: hidden; }
[data-testid="stMetricValue"] [data-testid="stMarkdownContainer"],
[data-testid="stMetricValue"] [data-testid="stMarkdownContainer"] p {
  white-space: normal; overflow: visible; text-overflow: clip; overflow-wrap: break-word; }
@media (max-width: 640px) {
  [data-testid="stMain"] h1, [data-testid="stMain"] h2, [data-testid="stMain"] h3 { overflow-wrap: anywhere; }
}
</style>"""


def page_setup(lang: str) -> None:
    """Once per run: the page's lang attribute and the layout rules above."""
    st.html(_STYLE)
    st.sidebar.html(_HTML_LANG.format(lang=json.dumps(lang)), unsafe_allow_javascript=True)


def sidebar() -> Context:
    """The controls, kept across pages (they live in the entry script), and the loaded store."""
    cfg = config()
    folder = str(store_dir())
    _ensure_store(folder)
    version = store.version(folder)
    ds = dataset(folder, version)
    left_out = _read_link(cfg, ds)

    lang = st.sidebar.radio(
        i18n.t("control.language", "vi"),
        i18n.LANGS,
        format_func=lambda code: {"vi": "Tiếng Việt", "en": "English"}[code],
        horizontal=True,
        key="lang",
    )
    t = partial(i18n.t, lang=lang)
    if left_out:  # only the names: the values are the link's, not ours
        st.toast(t("views.left_out", names=", ".join(left_out)), icon="🔗")
    if ds.latest_date is None:
        write_view({"lang": None if lang == i18n.DEFAULT_LANG else lang})
        page_setup(lang)
        return Context(folder, version, ds, cfg, lang, dt.date.today(), cfg.targets[0], ())

    st.sidebar.header(t("control.heading"))
    first = ds.first_date
    as_of = st.sidebar.date_input(
        t("control.as_of"),
        value=st.session_state.get("_link_as_of", ds.latest_date),
        min_value=first,
        max_value=ds.latest_date,
        format="DD/MM/YYYY",
        key="as_of",
    )
    targets = {target.id: target for target in cfg.targets}
    target_id = choice(
        st.sidebar.selectbox, "target", t("control.target"), list(targets), cfg.targets[0].id, lang,
        format_func=lambda k: i18n.label(targets[k], lang),
    )  # fmt: skip
    target = targets[target_id]  # as configured: nothing on this page changes its group or dose
    st.sidebar.caption(t("compare.judged_on", on=pair_label(cfg, target.group, target.dose, lang)))
    option = choice(
        st.sidebar.selectbox, "compare", t("compare.control"), comparison_options(cfg, target), NO_COMPARISON, lang,
        format_func=lambda o: t("compare.none") if o == NO_COMPARISON else pair_label(cfg, *parse_comparison(o), lang),
        help=t("compare.help"),
    )  # fmt: skip
    names = dict(zip(ds.units["unit_code"].astype(str), ds.units["unit_name"].astype(str), strict=True))
    units = st.sidebar.multiselect(
        t("control.districts"), list(names), format_func=names.get, key="units", placeholder=t("control.districts_help")
    )
    image_format = choice(
        st.sidebar.radio, "image_format", t("control.image_format"), ("png", "svg"), "png", lang,
        format_func=lambda f: t(f"control.format_{f}"),
    )  # fmt: skip
    st.sidebar.caption(t("views.share"))
    metric = st.session_state.get("metric", DEFAULT_METRIC)  # kept while another page is shown
    write_view({
        "lang": None if lang == i18n.DEFAULT_LANG else lang,
        "as_of": None if as_of == ds.latest_date else as_of.isoformat(),
        "target": None if target_id == cfg.targets[0].id else target_id,
        "compare": None if option == NO_COMPARISON else option,
        "units": ",".join(units) or None,
        "metric": None if metric == DEFAULT_METRIC else metric,
    })  # fmt: skip
    page_setup(lang)
    return Context(
        folder=folder,
        version=version,
        ds=ds,
        cfg=cfg,
        lang=lang,
        as_of=as_of,
        target=target,
        units=tuple(units),
        compare=parse_comparison(option),
        image_format=image_format,
        names=names,
    )


def coverage_chart(ctx: Context, units: tuple[str, ...], place: str | None = None, height: int = 460) -> None:
    """The target's coverage for the province and `units`, its projection, and the comparison if one is chosen."""
    fig = _coverage_figure(ctx.folder, ctx.version, ctx.target.id, units, ctx.as_of, ctx.compare, ctx.lang, height, ctx)
    ctx.plot(fig, "coverage", place)
    notes = [ctx.t("trends.coverage_note"), ctx.t("projection_note.stops")]
    if ctx.compare:
        notes.append(ctx.t("compare.note", label=ctx.compare_label(), on=ctx.judged_on()))
    st.caption(" ".join(notes))


# A figure is built again only when what it shows changes (plotly takes 0.05-0.1 s a figure, on every
# rerun otherwise); st.plotly_chart only reads it, so the cached object itself is shared (cache_resource).
@st.cache_resource(max_entries=16, show_spinner=False)
def _coverage_figure(
    folder: str, version: str, target_id: str, units: tuple[str, ...], as_of: dt.date, compare, lang: str,
    height: int, _ctx: Context,
):  # fmt: skip
    ctx = _ctx
    target = ctx.target
    series = coverage_series(ctx.folder, ctx.version, target.group, target.dose, units)
    series = series[series["date"] <= str(ctx.as_of)]
    projection = views.projection(series, ctx.as_of, target.deadline)
    comparison = None
    if ctx.compare:
        comparison = coverage_series(ctx.folder, ctx.version, *ctx.compare, units)
        comparison = comparison[comparison["date"] <= str(ctx.as_of)]
    title = ctx.t(
        "trends.coverage_title",
        group=i18n.label(ctx.cfg.group(target.group), ctx.lang),
        dose=i18n.dose(target.dose, ctx.lang),
    )
    return trends.coverage_trend(
        series, projection, [target], lang=ctx.lang, as_of=ctx.as_of, title=title, height=height,
        comparison=comparison, comparison_label=ctx.compare_label(), whole=ctx.cfg.whole(ctx.lang),
    )  # fmt: skip


def show_table(data, **kwargs) -> None:
    """st.dataframe as every page shows a table: full width, no index, and "—" for a missing value
    (Streamlit's own placeholder is the word "None")."""
    st.dataframe(data, hide_index=True, width="stretch", placeholder=fmt.EMPTY, **kwargs)


def header(ctx: Context, page_key: str) -> None:
    """Page title, the plan, the sample-data label and the as-of line: the same on every page."""
    st.title(ctx.t(page_key))
    st.caption(" · ".join(p for p in (ctx.t("app.title", place=ctx.cfg.place(ctx.lang)), ctx.cfg.plan(ctx.lang)) if p))
    if ctx.ds.sample:
        st.warning(ctx.t("app.sample"), icon="⚠️")


def _through_app() -> None:
    """Run again through app.py: this page script was started on its own, without the entry point.

    Streamlit still has its legacy multipage mode: while no script has called ``st.navigation`` since
    the server started, a folder named ``pages/`` beside the entry point is taken as the page list,
    and a link such as /trends runs ``pages/trends.py`` bare (no sidebar, and no ``ctx`` or one
    left from an earlier run). Only the first run after a start meets this (and every AppTest run,
    which resets the mode); switching the mode off and rerunning makes app.py run, and its
    ``st.navigation`` opens the same page (a page is known by its URL path in both modes).
    """
    PagesManager.uses_pages_directory = False
    st.rerun()


def guarded(render, needs_data: bool = True) -> None:
    """Run a page body; a problem with the data shows as a message, never a traceback."""
    if PagesManager.uses_pages_directory:  # started without app.py
        _through_app()
    ctx = st.session_state.get("ctx")
    if ctx is None:
        return
    if needs_data and ctx.ds.latest_date is None:
        st.info(ctx.t("app.no_data"))
        return
    try:
        render(ctx)
    except TrackerError as exc:
        st.error(ctx.t("app.error", message=md_escape(exc)))  # it may quote the data: text, not Markdown
    except Exception:  # a bug: details to the server log, a message to the user (st.stop/st.rerun are BaseExceptions)
        LOG.exception("page failed")
        st.error(ctx.t("app.unexpected"))


def risk_rules():
    """The risk-level rules (risk_rules.toml of the dataset's folder), read once per folder."""
    return _risk_rules(str(config().data_dir))


@st.cache_resource(show_spinner=False)
def _risk_rules(folder: str):
    from tracker import risk

    return risk.load_rules(data_dir=Path(folder))


@st.cache_data(max_entries=64, show_spinner=False)
def _risk_day(folder: str, version: str, as_of: dt.date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The risk level per unit and what would lower it, on as_of: one computation for both."""
    from tracker import risk

    return risk.levels_and_lower(dataset(folder, version), config(), risk_rules(), as_of)


def risk_levels(folder: str, version: str, as_of: dt.date) -> pd.DataFrame:
    return _risk_day(folder, version, as_of)[0]


@st.cache_data(max_entries=32, show_spinner=False)
def risk_weekly(folder: str, version: str, start: dt.date, end: dt.date) -> pd.DataFrame:
    from tracker import risk

    return risk.weekly(dataset(folder, version), config(), risk_rules(), start, end)


def risk_lower(folder: str, version: str, as_of: dt.date) -> pd.DataFrame:
    return _risk_day(folder, version, as_of)[1]


def risk_start() -> dt.date:
    """The first day a rule set applies (11/10/2021 under Resolution 128): no level before it."""
    return min(rs.valid_from for rs in risk_rules().rulesets)


@st.cache_data(max_entries=32, show_spinner=False)
def green_weeks(folder: str, version: str, as_of: dt.date) -> int:
    """The province's run of weeks at level 1 up to as_of (risk.green_streak)."""
    from tracker import risk

    return risk.green_streak(risk_weekly(folder, version, risk_start(), as_of))
