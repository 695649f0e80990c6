"""Every chart has a text alternative and a "view as table" (an accessibility review's ask).

Right after each Plotly chart comes an expander, "Xem dạng bảng" / "View as table", holding a sentence or
two saying what the chart shows (also the chart's accessible name: st.plotly_chart's alt) and the chart's
figures as a table of text. The tables must say what the figures draw: each value is checked against the
figure's own data (its lines, its map's districts, its heatmap's cells) and the core's, in both languages.
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd
import pytest

from dashboard.state import md_escape
from tests.apptools import charts, open_app
from tracker import core, fmt, i18n, risk, store, views
from tracker.config import load_config
from tracker.figures.common import plotly_text, status_label

AS_OF = dt.date(2021, 12, 1)
LANGS = ["vi", "en"]


@pytest.fixture
def open_page(app_store):
    return open_app


def _in_order(node):
    """The page's elements and blocks in reading order; an expander is one element (its content not walked)."""
    for child in getattr(node, "children", {}).values():
        yield child
        if child.type != "expander":
            yield from _in_order(child)


def alternatives(at, lang: str) -> list[tuple[dict, str, list[str], pd.DataFrame]]:
    """Each chart and what follows it: (the figure, its alt, the expander's captions, the expander's table).
    Fails unless every chart is followed at once by a "view as table" expander with one table and a non-empty
    alt, whose first caption is that alt (as Markdown showing that very text)."""
    elements = list(_in_order(at.main))
    figures = charts(at)
    plots = [i for i, element in enumerate(elements) if element.type == "plotly_chart"]
    assert figures and len(plots) == len(figures)
    found = []
    for i, figure in zip(plots, figures, strict=True):
        after = elements[i + 1] if i + 1 < len(elements) else None
        assert after is not None and after.type == "expander", "a chart without its table"
        assert after.label == i18n.t("chart.as_table", lang)
        tables = after.get("table")
        assert len(tables) == 1
        alt = elements[i].proto.alt
        assert alt.strip(), "a chart without a text alternative"
        captions = [caption.value for caption in after.caption]
        assert captions[0] == md_escape(alt)
        table = tables[0].value
        assert len(table) and all(isinstance(v, str) and v for v in table.to_numpy().ravel()), "cells are text"
        found.append((figure, alt, captions, table))
    return found


def assert_lines_match(figure: dict, table: pd.DataFrame, lang: str, write) -> None:
    """The table's first column is the date; each other column is the figure's line of that name, each cell
    its value on the row's date written by `write`; the last row is the data date."""
    dates, *lines = table.columns
    assert lines
    traces = {trace.get("name"): trace for trace in figure["data"]}
    for name in lines:
        trace = traces[plotly_text(name)]
        days = [fmt.date(pd.Timestamp(x), lang) for x in trace["x"]]
        values = dict(zip(days, np.asarray(trace["y"], dtype=float), strict=True))
        assert table[name].tolist() == [write(values[day]) for day in table[dates]], name


def assert_weekly(table: pd.DataFrame, note: str, lang: str, as_of: dt.date) -> None:
    """A long daily series is shown a row a week up to the data date, and the table says so."""
    assert note == i18n.t("chart.weekly_note", lang, date=fmt.date(as_of, lang))
    assert table.iloc[-1, 0] == fmt.date(as_of, lang)
    days = pd.Series([as_of - dt.timedelta(days=7 * n) for n in range(len(table))][::-1])
    assert table.iloc[:, 0].tolist() == [fmt.date(day, lang) for day in days]


@pytest.mark.parametrize("lang", LANGS)
def test_every_trends_chart_has_its_table_and_text(open_page, store_dir, lang):
    at = open_page("pages/trends.py", lang, as_of=AS_OF)
    cfg, ds = load_config(), store.load(store_dir)
    (coverage, coverage_alt, coverage_notes, coverage_table), doses, incidence = alternatives(at, lang)
    percent = lambda v: fmt.percent(v, lang)  # noqa: E731

    assert coverage_table.columns.tolist() == [i18n.t("chart.date", lang), cfg.whole(lang)]
    assert_lines_match(coverage, coverage_table, lang, percent)
    assert_weekly(coverage_table, coverage_notes[1], lang, AS_OF)
    target = cfg.targets[0]  # the sidebar's default
    expected = percent(views.target_cards(ds, cfg, AS_OF).set_index("target_id").loc[target.id, "coverage"])
    assert coverage_table.iloc[-1, 1] == expected  # the core's coverage, as the overview's card shows it
    assert f"{cfg.whole(lang)} {expected}" in coverage_alt and fmt.date(target.deadline, lang) in coverage_alt

    figure, alt, notes, table = doses
    assert_lines_match(figure, table, lang, lambda v: fmt.number(v, lang))
    assert_weekly(table, notes[1], lang, AS_OF)
    assert table.columns[1] == i18n.t("fig.avg_7d_of", lang, dose=i18n.dose(1, lang))
    assert f"{i18n.dose(1, lang)} {table.iloc[-1, 1]}" in alt

    figure, alt, notes, table = incidence
    assert_lines_match(figure, table, lang, lambda v: fmt.number(v, lang, decimals=1))
    assert_weekly(table, notes[1], lang, AS_OF)
    assert f"{cfg.whole(lang)} {table.iloc[-1, 1]}" in alt


def test_the_coverage_table_has_a_column_per_place_and_comparison(open_page):
    at = open_page("pages/trends.py", "en", as_of=AS_OF, units=["071", "072"], compare="all:1")
    figure, alt, _notes, table = alternatives(at, "en")[0]
    label = i18n.t("compare.option", "en", group=i18n.label(load_config().group("all"), "en"), dose=i18n.dose(1, "en"))
    places = ["Province", "Huyện Lâm Bình", "Huyện Na Hang"]
    compared = [i18n.t("compare.line", "en", name=place, label=label) for place in places]
    assert table.columns.tolist() == ["Date", *places, *compared]
    assert_lines_match(figure, table, "en", lambda v: fmt.percent(v, "en"))
    assert f"Huyện Na Hang {table.iloc[-1, 3]}" in alt
    assert alt.endswith(
        f"Comparison ({label}): Province {table.iloc[-1, 4]}, Huyện Lâm Bình {table.iloc[-1, 5]}, "
        f"Huyện Na Hang {table.iloc[-1, 6]}."
    )


@pytest.mark.parametrize("lang", LANGS)
def test_the_districts_map_and_the_detail_chart_have_their_tables(open_page, store_dir, lang):
    at = open_page("pages/districts.py", lang, as_of=AS_OF)
    (figure, alt, _notes, table), (detail, _alt, notes, detail_table) = alternatives(at, lang)
    assert table.columns.tolist() == [i18n.t("table.district", lang), i18n.t("table.coverage", lang)]
    circles = figure["data"][0]  # the schematic map: a circle per district, coloured by its value
    names = [re.search(r"<b>(.*?)</b>", hover).group(1) for hover in circles["customdata"]]
    values = [fmt.percent(v, lang) for v in circles["marker"]["color"]]
    assert table.iloc[:, 0].tolist() == names and table.iloc[:, 1].tolist() == values
    cfg = load_config()
    core_table = views.district_table(store.load(store_dir), cfg, AS_OF, cfg.targets[0]).set_index("unit_name")
    assert values == [fmt.percent(core_table.loc[name, "coverage"], lang) for name in names]
    highest = core_table.drop(index=cfg.name("vi"), errors="ignore")["coverage"].idxmax()
    assert f"{highest} ({fmt.percent(core_table.loc[highest, 'coverage'], lang)})" in alt

    # the district in detail: the first one, beside the province
    assert detail_table.columns.tolist() == [i18n.t("chart.date", lang), cfg.whole(lang), names[0]]
    assert_lines_match(detail, detail_table, lang, lambda v: fmt.percent(v, lang))
    assert_weekly(detail_table, notes[1], lang, AS_OF)


def test_a_map_by_status_counts_the_districts_of_each_status(open_page, store_dir):
    at = open_page("pages/districts.py", "vi", as_of=AS_OF, metric="status")
    _figure, alt, _notes, table = alternatives(at, "vi")[0]
    assert table.columns.tolist() == ["Huyện, thành phố", i18n.t("table.status", "vi")]
    cfg = load_config()
    statuses = views.map_units(views.district_table(store.load(store_dir), cfg, AS_OF, cfg.targets[0]))["status"]
    assert table.iloc[:, 1].tolist() == [status_label(s, "vi") for s in statuses]  # icon and word, as the map's
    for status, count in statuses.value_counts().items():
        assert f"{i18n.status(status, 'vi')} {count}" in alt


@pytest.mark.parametrize("lang", LANGS)
def test_the_risk_map_and_history_have_their_tables(open_page, store_dir, lang):
    at = open_page("pages/risk.py", lang)  # the latest date: the history is longer than its table
    ds, cfg, rules = store.load(store_dir), load_config(), risk.load_rules()
    as_of = ds.latest_date
    (_map, map_alt, _notes, levels_table), (strip, alt, notes, history) = alternatives(at, lang)

    levels = risk.levels(ds, cfg, rules, as_of)
    levels = levels[levels["unit_code"] != core.TOTAL]
    legend = rules.for_date(as_of).legend()
    names = dict(zip(legend["level"].astype(int), legend[f"name_{lang}"], strict=True))
    assert levels_table.columns.tolist() == [i18n.t("table.district", lang), i18n.t("risk.level", lang)]
    assert levels_table.iloc[:, 0].tolist() == levels["unit_name"].tolist()
    assert levels_table.iloc[:, 1].tolist() == [names[int(v)] for v in levels["level"]]
    for name, level in zip(levels["unit_name"], levels["level"], strict=True):
        assert name in map_alt and names[int(level)] in map_alt

    heat = strip["data"][0]
    weeks = [fmt.date(pd.Timestamp(x), lang) for x in heat["x"]]
    text = np.asarray(heat["text"], dtype=object)
    assert len(weeks) > 8 and history.columns.tolist() == [i18n.t("table.district", lang), *weeks[-8:]]
    assert history.iloc[:, 0].tolist() == list(heat["y"])
    short = np.vectorize(lambda name: name.split(" – ")[0])  # "Cấp 1", the full names in the chart's legend
    assert (history.iloc[:, 1:].to_numpy() == short(text[:, -8:])).all()
    province = list(heat["y"]).index(cfg.whole_named(lang))
    assert alt.endswith(f"{cfg.whole_named(lang)}: {text[province, -1]}.")
    assert i18n.t("chart.history_cut", lang, date=weeks[-8], start=weeks[0]) in notes[1]
