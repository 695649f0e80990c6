"""Fixtures shared across test modules."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import app_test

from tracker import store
from tracker.config import load_config


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory):
    """A store initialised from data/ (the sample data), one per test module."""
    folder = tmp_path_factory.mktemp("sample") / "store"
    store.init(folder, load_config())
    return folder


@pytest.fixture(scope="session")
def _units_template(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("units-template") / "store"
    canonical = Path(__file__).resolve().parent / "fixtures" / "canonical"
    for kind in ("units", "population"):
        store.ingest(folder, canonical / f"{kind}.csv", kind, load_config(), uploader="setup")
    return folder


@pytest.fixture
def units_store(tmp_path, _units_template) -> Path:
    """A store of its own with units 070, 071 and their population (drops 1 and 2), no reports yet."""
    return Path(shutil.copytree(_units_template, tmp_path / "store"))


@pytest.fixture
def app_store(store_dir, monkeypatch):
    """The sample store, as the app sees it (TRACKER_STORE set, no boundary file)."""
    monkeypatch.setenv("TRACKER_STORE", str(store_dir))
    monkeypatch.delenv("TRACKER_BOUNDARIES", raising=False)
    return store_dir


class _NavigationPagesManager(PagesManager):
    """The pages manager as on every run of a server after its first."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        PagesManager.uses_pages_directory = False


@pytest.fixture(autouse=True)
def _apptest_runs_like_a_running_server(monkeypatch):
    """AppTest makes every run a server's first run, and on a first run Streamlit still takes the
    pages/ folder for its old automatic navigation (see dashboard.state.guarded): every run would
    start on a bare page and drop the choices just made. A real server meets that once, before any
    choice, and tests/test_browser.py covers it; AppTest runs the app as every later run does."""
    monkeypatch.setattr(app_test, "PagesManager", _NavigationPagesManager)
