"""The sidebar's controls, kept across pages, and the view they make in the page's address.

The controls live in the entry script (app.py), so every page starts from the same choices; choice()
keeps a page's own choice across a change of language; the language, the choices and the districts
page's map metric are read from the page's link and written back to it (view_from_link, write_view).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from functools import partial

import streamlit as st

from dashboard.loaders import config, dataset, ensure_store
from dashboard.state import Context, pair_label
from tracker import i18n, store, views
from tracker.config import Config, Target, store_dir
from tracker.tables.districts import METRICS


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


# The file uploader's own words: Streamlit writes its button ("Upload") and size hint ("50MB per file • CSV…") in
# English whatever the page's language, and the hint gives its transport cap, not the limit the upload page
# enforces ([upload] max_mb). Streamlit has no setting for them, so CSS puts the page's words in their place
# (Chromium reads generated content into the button's accessible name). Tied to Streamlit's test ids, which the
# lock pins; tests/test_browser.py checks the words on the page after logging in.
_UPLOADER_WORDS = """<style>
[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"] p,
[data-testid="stFileUploaderDropzoneInstructions"] span {{ font-size: 0; }}
[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"] p::after {{
  content: {button}; font-size: 14px; line-height: 1.6; }}
[data-testid="stFileUploaderDropzoneInstructions"] span::after {{ content: {hint}; font-size: 14px; line-height: 1.6; }}
</style>"""


def uploader_words(lang: str, limit_mb: int, types: list[str]) -> None:
    """The next file uploader's button and size hint in ``lang``: the upload page's limit and the file types."""
    limit = min(limit_mb, int(st.get_option("server.maxUploadSize")))
    hint = i18n.t("upload.file_limit", lang, limit=limit, types=", ".join(t.upper() for t in types))
    words = {"button": i18n.t("upload.choose_file", lang), "hint": hint}
    st.html(_UPLOADER_WORDS.format(**{k: json.dumps(v, ensure_ascii=False) for k, v in words.items()}))


def page_setup(lang: str) -> None:
    """Once per run: the page's lang attribute and the layout rules above."""
    st.html(_STYLE)
    st.sidebar.html(_HTML_LANG.format(lang=json.dumps(lang)), unsafe_allow_javascript=True)


def sidebar() -> Context:
    """The controls, kept across pages (they live in the entry script), and the loaded store."""
    cfg = config()
    folder = str(store_dir())
    ensure_store(folder)
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
