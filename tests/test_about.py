"""About this data: every figure's definition and formula in both languages, the legal sources, the last
update in Vietnam time; and every figure column's header has that definition as its tooltip."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.apptools import open_app
from tracker import about, fmt, i18n, risk, store
from tracker.config import load_config
from tracker.tables import docs


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_every_figure_has_a_name_definition_and_formula(lang):
    cfg = load_config()
    for metric in about.METRICS:
        assert about.name(metric, lang) and about.formula(metric, lang)
        text = about.definition(metric, lang, cfg)
        assert "{" not in text, (metric, text)  # every placeholder filled
    ratio = fmt.percent(float(cfg.at_risk_ratio), lang, decimals=0)
    assert ratio in about.definition("status", lang, cfg)  # the configured at-risk ratio, not a number in the text
    assert "reports dated that day still count" in about.definition("status", "en", cfg)


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_the_about_page_lists_the_figures_the_sources_and_the_last_update(app_store, lang):
    at = open_app("pages/about.py", lang)
    assert [t.value for t in at.title] == [i18n.t("about_page.title", lang)]
    assert [e.label for e in at.expander] == [about.name(m, lang) for m in about.METRICS]
    text = " ".join(m.value for m in at.markdown).replace("\\", "")  # as rendered: Markdown escapes removed
    cfg = load_config()
    assert cfg.targets[0].source in text
    rules = risk.load_rules().for_date(store.load(app_store).latest_date)
    assert (rules.source_en if lang == "en" else rules.source) in text
    last = store.drops(app_store).sort_values("ingested_at").iloc[-1]
    assert fmt.datetime(last["ingested_at"], lang) in text  # Vietnam time, as every time shown
    assert about.formula("coverage", lang) in text


def test_every_figure_column_of_every_table_explains_itself(store_dir):
    """A column of a figure names one of about.METRICS; the screen shows its definition as the tooltip."""
    from dashboard.tables import screen

    cfg = load_config()
    with_help = 0
    for _builder, _where, table in docs.examples(store_dir, cfg, dt.date(2021, 12, 1)):
        _data, config = screen(table, "vi", cfg)
        for column in table.columns:
            if column.help:
                assert column.help in about.METRICS, (table.name, column.id)
                assert config[column.id]["help"] == about.definition(column.help, "vi", cfg)
                with_help += 1
            elif column.kind in ("count", "number", "percent") and table.name not in ("drops", "problems", "tallies"):
                pytest.fail(f"{table.name}.{column.id}: a figure without its definition")
    assert with_help > 20
