"""Fixtures shared across test modules."""

from __future__ import annotations

import pytest

from tracker import store
from tracker.config import load_config


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory):
    """A store initialised from data/ (the sample data), one per test module."""
    folder = tmp_path_factory.mktemp("sample") / "store"
    store.init(folder, load_config())
    return folder


@pytest.fixture
def app_store(store_dir, monkeypatch):
    """The sample store, as the app sees it (TRACKER_STORE set, no boundary file)."""
    monkeypatch.setenv("TRACKER_STORE", str(store_dir))
    monkeypatch.delenv("TRACKER_BOUNDARIES", raising=False)
    return store_dir
