"""The dashboard's entry page renders the province headline from the core's own numbers."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tracker import core, fmt, store
from tracker.config import load_config

APP = Path(__file__).resolve().parent.parent / "app.py"


@pytest.fixture
def app(tmp_path, monkeypatch):
    monkeypatch.setenv("TRACKER_STORE", str(tmp_path / "store"))
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.run()
    return at, tmp_path / "store"


def test_first_start_initialises_the_store_and_shows_both_targets(app):
    at, folder = app
    assert not at.exception
    assert not at.error
    assert store.exists(folder), "the app initialises an empty store from data/ on first start"

    cfg = load_config()
    ds = store.load(folder)
    report = core.evaluate(ds, cfg, ds.latest_date)
    province = report[report["unit_code"] == core.TOTAL].set_index("target_id")

    shown = [m.value for m in at.metric]
    expected = [fmt.percent(province.loc[t.id, "coverage"]) for t in cfg.targets]
    assert shown == expected
    text = " ".join(m.value for m in at.markdown)
    for t in cfg.targets:
        assert fmt.number(province.loc[t.id, "people_needed"]) in text
    assert f"Số liệu đến ngày {fmt.date(ds.latest_date)}" in text


def test_sample_data_is_labelled(app):
    at, _ = app
    assert any("Số liệu mẫu" in w.value for w in at.warning)
