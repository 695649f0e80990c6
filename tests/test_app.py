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


def test_a_closed_dashboard_closes_again_for_a_disabled_account(store_dir, tmp_path, monkeypatch):
    """[access] require_login_to_view: a session whose account is disabled since its login sees nothing more."""
    import shutil

    from tracker import auth
    from tracker.config import DATA_DIR

    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    config = (data / "config.toml").read_text(encoding="utf-8")
    (data / "config.toml").write_text(
        config.replace("require_login_to_view = false", "require_login_to_view = true"), encoding="utf-8"
    )
    folder = Path(shutil.copytree(store_dir, tmp_path / "store"))
    auth.add_user(folder, "lan", "mật-khẩu-đủ-dài")
    monkeypatch.setenv("TRACKER_STORE", str(folder))
    monkeypatch.setenv("TRACKER_DATA", str(data))
    at = AppTest.from_file(str(APP), default_timeout=120).run()
    assert not at.title and at.text_input(key="login_password")  # closed: the login form only
    at.session_state["analyst"] = "lan"  # as after a login
    at.run()
    assert [t.value for t in at.title] == [i18n.t("page.overview", "vi")]
    auth.disable_user(folder, "lan")
    at.run()
    assert not at.title and at.text_input(key="login_password")
    assert any("lan" in w.value for w in at.warning)  # the form says why the session ended
