"""First start: the app initialises an empty store from data/ by itself, then shows the overview."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from tracker import i18n, store

APP = Path(__file__).resolve().parent.parent / "app.py"


def test_first_start_initialises_the_store(tmp_path, monkeypatch):
    folder = tmp_path / "store"
    monkeypatch.setenv("TRACKER_STORE", str(folder))
    assert not store.exists(folder)
    at = AppTest.from_file(str(APP), default_timeout=120).run()
    assert not at.exception and not at.error
    assert store.exists(folder), "the app initialises an empty store from data/ on first start"
    assert store.load(folder).latest_date is not None
    assert [t.value for t in at.title] == [i18n.t("page.overview", "vi")]


def test_an_empty_store_says_so_instead_of_failing(tmp_path, monkeypatch):
    folder = tmp_path / "store"
    with store.writing(folder):  # a store with the schema and no data at all
        pass
    monkeypatch.setenv("TRACKER_STORE", str(folder))
    monkeypatch.setattr(store, "init", lambda *args, **kwargs: False)  # as if data/ had nothing to load
    at = AppTest.from_file(str(APP), default_timeout=120).run()
    assert not at.exception and not at.error
    assert any(i18n.t("app.no_data", "vi") in m.value for m in at.info)
