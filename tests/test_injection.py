"""Issue 11, item 6: a name that comes from the data is shown as text, never as Markdown, HTML or a Plotly tag.

A district named ``![x](http://127.0.0.1:9/beacon.png)`` rendered as a real <img> in the overview's
late-districts warning, so every viewer's browser fetched it. Here the store holds such names: three units
(two of them late in reporting), and the file name and the uploader of a drop that makes a figure
unavailable (so the notice that names the drop shows them). Every page, in both languages, must show them
literally: in everything Streamlit renders as Markdown (texts, alerts, captions, headings, metric and
widget labels and help) and in every Plotly text (hover, legend, axis labels, notes).
tests/test_browser.py opens the overview with these names in a real browser.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import dashboard.loaders
import dashboard.state
from tests.apptools import charts, open_app
from tracker import i18n, store
from tracker.config import load_config

CFG = load_config()
PROJECT = Path(__file__).resolve().parent.parent
WIDE_VI = PROJECT / "tests" / "fixtures" / "drops" / "wide_vi.csv"  # makes 070's adults figure unavailable

# 070 has the overlapping drop below; 070 and 072 stop reporting three days before the last report.
NAMES = {
    "070": "<img src=x onerror=alert(1)>**bold**",
    "072": "![x](http://127.0.0.1:9/beacon.png)",
    "074": "<a href='http://127.0.0.1:9/a'>%{x}</a> _i_ `c` $m$ # 1. | ~s~ :red[r]",
}
LATE = ("070", "072")
SOURCE = "![file](x.png)<img src=x onerror=alert(3)>.csv"  # a file name (no "/": an upload has no folders)
UPLOADER = "<img src=x onerror=alert(2)>![u](http://127.0.0.1:9/u.png)"
UNMATCHED_FEATURE = "![g](http://127.0.0.1:9/g.png)<img src=g>"  # a boundary file's feature that matches no unit

# What Markdown (or the HTML Streamlit's Markdown lets through) would take for an image, a tag, a link, bold,
# LaTeX or a coloured text, had the names gone in as they are.
MARKDOWN_MARKERS = ("![", "<img", "<a href", "**bold**", "127.0.0.1:9", "alert(", "$m$", ":red[")
# What Plotly would take for a tag or a hovertemplate field.
PLOTLY_MARKERS = ("<img", "<a href", "%{x}")
# (page, map): None is the overview; the pages with a map, with and without a boundary file.
PAGES = [
    (None, "schematic"),
    ("pages/districts.py", "schematic"),
    ("pages/districts.py", "boundaries"),
    ("pages/trends.py", "schematic"),
    ("pages/risk.py", "schematic"),
    ("pages/risk.py", "boundaries"),
]

_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")  # CommonMark: a backslash before ASCII punctuation
WORD_JOINER = "\u2060"  # invisible; md_escape puts one in words Streamlit would make a link of (http://, @)


def shown(markdown: str) -> str:
    """The text a Markdown renderer shows for `markdown` holding no markup: escapes and entities resolved,
    word joiners left out (they show as nothing)."""
    return html.unescape(_ESCAPED.sub(r"\1", markdown)).replace(WORD_JOINER, "")


def inject(folder: Path) -> int:
    """Give a store (from the sample data) names such as NAMES, SOURCE and UPLOADER; returns the drop id
    behind 070's unavailable figure. 070 and 072 (LATE) have no report in the last three days."""
    data = WIDE_VI.read_bytes()
    prepared = store.prepare(folder, data, "vaccinations", CFG, filename=SOURCE)
    prepared.overlapping = 0  # as a drop was stored before overlaps were refused: 070's adults are unavailable
    drop_id = store.commit(folder, prepared, UPLOADER, data)  # (wide_vi.csv names its units: before the rename)
    units = pd.read_csv(PROJECT / "data" / "units.csv", dtype=str)
    units = units[units["unit_code"].isin(list(NAMES))].assign(unit_name=lambda f: f["unit_code"].map(NAMES))
    renamed = units.to_csv(index=False).encode()
    store.commit(folder, store.prepare(folder, renamed, "units", CFG, filename="units.csv"), "lan", renamed)
    last_seen = store.load(folder).latest_date - dt.timedelta(days=3)
    con = duckdb.connect(str(store.db_path(folder)))
    try:  # the way a district falls behind: its last reports never came
        late = ", ".join(f"'{code}'" for code in LATE)
        con.execute(f"DELETE FROM vaccinations WHERE unit_code IN ({late}) AND date > ?", [last_seen])
        # the series table follows the reports, as every write of the store keeps it (tracker doctor checks)
        con.execute("DELETE FROM vaccination_series")
        con.execute("INSERT INTO vaccination_series " + store.schema.SERIES_OF.format(source="vaccinations"))
    finally:
        con.close()
    return drop_id


def boundary_file(path: Path) -> Path:
    """A GeoJSON of a small square per unit, except 070 (so the map's note names it), and one more feature
    that matches no unit, named UNMATCHED_FEATURE."""
    units = pd.read_csv(PROJECT / "data" / "units.csv", dtype={"unit_code": str})

    def square(lon, lat, half=0.04):
        ring = [[lon - half, lat - half], [lon + half, lat - half], [lon + half, lat + half], [lon - half, lat + half]]
        return {"type": "Polygon", "coordinates": [ring + [ring[0]]]}

    features = [
        {"type": "Feature", "properties": {"district_code": r.unit_code}, "geometry": square(r.lon, r.lat)}
        for r in units.itertuples()
        if r.unit_code != "070"
    ]
    features.append({"type": "Feature", "properties": {"name": UNMATCHED_FEATURE}, "geometry": square(106, 21)})
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def injected(store_dir, tmp_path_factory) -> tuple[Path, int]:
    folder = Path(shutil.copytree(store_dir, tmp_path_factory.mktemp("injection") / "store"))
    return folder, inject(folder)


@pytest.fixture
def app_injected(injected, monkeypatch, tmp_path):
    """The injected store as the app sees it; call with "boundaries" for a boundary file, else "schematic"."""
    folder, drop_id = injected
    monkeypatch.setenv("TRACKER_STORE", str(folder))

    def use(mode: str) -> tuple[Path, int]:
        if mode == "boundaries":
            monkeypatch.setenv("TRACKER_BOUNDARIES", str(boundary_file(tmp_path / "districts.geojson")))
        else:
            monkeypatch.delenv("TRACKER_BOUNDARIES", raising=False)
        dashboard.loaders._config.clear()  # the configuration (and the boundaries it names) is cached per folder
        dashboard.loaders.boundaries.clear()
        return folder, drop_id

    yield use
    dashboard.loaders._config.clear()
    dashboard.loaders.boundaries.clear()


def markdown_texts(at) -> list[tuple[str, str]]:
    """(element type, text) of every text the page gives Streamlit to render as Markdown: the bodies of
    texts, alerts, captions, headings and metrics, and the labels and help of every element and widget.
    Tables, the options of a select box and Plotly charts are not Markdown."""
    found = []

    def walk(node):
        proto = getattr(node, "proto", None)
        if proto is not None and getattr(node, "type", None) not in ("plotly_chart", "dataframe", "code", "text"):
            for field, value in proto.ListFields():
                if field.name in ("body", "label", "help") and isinstance(value, str):
                    found.append((node.type, value))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return found


def _strings(value, key=""):
    """(key, string) of every string in a Plotly figure's JSON, the GeoJSON of its traces left out (Plotly
    draws shapes from it, never its text)."""
    if isinstance(value, str):
        yield key, value
    elif isinstance(value, dict):
        for k, v in value.items():
            if k != "geojson":
                yield from _strings(v, k)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _strings(v, key)
    elif hasattr(value, "tolist"):  # decoded typed arrays
        yield from _strings(value.tolist(), key)


def plotly_texts(figure: dict) -> tuple[list[str], list[str]]:
    """(the figure's strings Plotly renders as its HTML subset, the district names MapLibre writes on a map).

    The names on a map are a `mode="text"` Scattermap trace: plotly.js hands them to MapLibre as they are
    (only <br> becomes a space) and MapLibre draws plain text, so they are not escaped.
    """
    rich, plain = [], []
    for trace in figure["data"]:
        on_map = trace.get("type") == "scattermap" and trace.get("mode") == "text"
        for key, text in _strings(trace):
            (plain if on_map and key == "text" else rich).append(text)
    rich += [text for _, text in _strings(figure["layout"])]
    return rich, plain


@pytest.mark.parametrize("lang", ["vi", "en"])
@pytest.mark.parametrize(("page", "mode"), PAGES)
def test_names_from_the_data_are_shown_literally_on_every_page(app_injected, page, mode, lang):
    folder, drop_id = app_injected(mode)
    at = open_app(page, lang, units=list(NAMES))  # chosen: the trend charts and the line above them name them
    texts = markdown_texts(at)
    leaked = [(kind, text) for kind, text in texts if any(m in text for m in MARKDOWN_MARKERS)]
    assert not leaked, f"{page or 'overview'} ({lang}): Markdown holds a name as it is: {leaked}"

    warnings = [w.value for w in at.warning]
    notice = [w for w in warnings if re.search(rf"\]\(upload\?drop={drop_id}[)&]", w)]  # the link to the drop works
    assert len(notice) == 1, warnings
    for name in (NAMES["070"], SOURCE, UPLOADER):
        assert name in shown(notice[0]), f"the notice must show {name!r} as it is: {notice[0]!r}"
    if page is None:
        late = [w for w in warnings if i18n.t("overview.stale", lang, count=2, days=2, names="") in w]
        assert len(late) == 1, warnings
        assert all(NAMES[code] in shown(late[0]) for code in LATE), late[0]
    if page == "pages/trends.py":
        line = next(m.value for m in at.markdown if i18n.label(at.session_state["ctx"].target, lang) in m.value)
        assert all(NAMES[code] in shown(line) for code in NAMES), line
    if page == "pages/districts.py" and mode == "boundaries":
        assert any(UNMATCHED_FEATURE in shown(i.value) for i in at.info), [i.value for i in at.info]

    rendered = []
    for figure in charts(at):
        rich, plain = plotly_texts(figure)
        leaked = [text for text in rich if any(m in text for m in PLOTLY_MARKERS)]
        assert not leaked, f"{page or 'overview'} ({lang}): a Plotly text holds a name as it is: {leaked}"
        rendered += [html.unescape(text) for text in rich]
        assert not [text for text in plain if "&lt;" in text or "&amp;" in text], plain  # plain text, as it is
    if page is not None:
        for code in NAMES:  # each name is on the charts, escaped, and reads as itself once decoded
            assert any(NAMES[code] in text for text in rendered), f"{page} ({lang}): {NAMES[code]!r} not on a chart"


TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
_TOKENS = re.compile(r"\\[!-/:-@\[-`{-~]|&(?:lt|gt|amp);|([!-/:-@\[-`{-~])")


@given(TEXT)
def test_md_escape_shows_any_text_as_itself(text):
    escaped = dashboard.state.md_escape(text)
    one_line = re.sub(r"[\r\n\v\f\x85\u2028\u2029]", " ", text)
    assert shown(escaped) == one_line.replace(WORD_JOINER, "")
    for token in _TOKENS.finditer(escaped):  # any punctuation left bare: "_" or "." inside a word, where inert
        if token.group(1):
            before, after = escaped[token.start() - 1 : token.start()], escaped[token.end() : token.end() + 1]
            assert token.group(1) in "_." and before.isalnum() and after.isalnum(), escaped
    visible = html.unescape(_ESCAPED.sub(r"\1", escaped))  # as Streamlit's autolinker sees it
    assert not re.search(r"(?i)https?:|www\.|[-.\w+]@|:streamlit:", visible), escaped


@given(TEXT)
def test_plotly_text_shows_any_text_as_itself(text):
    from tracker.figures.common import plotly_text

    escaped = plotly_text(text)
    assert html.unescape(escaped) == text
    assert not set("<>%$") & set(escaped)
    assert re.sub(r"&(lt|gt|amp|#37|#36);", "", escaped).count("&") == 0


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_the_upload_page_shows_names_from_the_data_literally(app_injected, lang):
    """The drop a notice links to (its file name and uploader), and an overlap warning naming a unit."""
    from tests.test_upload_page import PASSWORD
    from tracker import auth

    folder, drop_id = app_injected("schematic")
    if "lan" not in set(auth.list_users(folder)["name"]):
        auth.add_user(folder, "lan", PASSWORD)
    at = open_app("pages/upload.py", lang)
    at.query_params["drop"] = str(drop_id)
    at.text_input(key="login_name").input("lan")
    at.text_input(key="login_password").input(PASSWORD)
    at.button[0].click().run()
    linked = [i.value for i in at.info if SOURCE in shown(i.value)]
    assert linked and UPLOADER in shown(linked[0]), [i.value for i in at.info]
    overlapping = b"date,unit_code,age_band,dose,people_cumulative\n2022-03-31,070,adults,1,100\n"
    at.file_uploader[0].set_value(("![f](http://127.0.0.1:9/f.png).csv", overlapping, "text/csv")).run()
    assert any(NAMES["070"] in shown(w.value) for w in at.warning), [w.value for w in at.warning]
    leaked = [(kind, text) for kind, text in markdown_texts(at) if any(m in text for m in MARKDOWN_MARKERS)]
    assert not leaked, leaked
