"""The upload page: login required, a good drop committed and visible on the overview, a bad drop
refused with its report and nothing stored, and undo restoring the previous figures."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.clitools import snapshot
from tracker import auth, core, fmt, i18n, store
from tracker.config import load_config

APP = str(Path(__file__).resolve().parent.parent / "app.py")
PASSWORD = "mật-khẩu-đủ-dài"


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory):
    folder = tmp_path_factory.mktemp("upload") / "store"
    store.init(folder, load_config())
    auth.add_user(folder, "lan", PASSWORD)
    return folder


@pytest.fixture
def folder(sample_store, tmp_path, monkeypatch):
    copy = tmp_path / "store"
    shutil.copytree(sample_store, copy)
    monkeypatch.setenv("TRACKER_STORE", str(copy))
    monkeypatch.delenv("TRACKER_BOUNDARIES", raising=False)
    return copy


def open_upload(lang: str = "vi") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["lang"] = lang
    at.run()
    at.switch_page("pages/upload.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def log_in(at: AppTest, name: str = "lan", password: str = PASSWORD) -> AppTest:
    at.text_input(key="login_name").input(name)
    at.text_input(key="login_password").input(password)
    at.button[0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def adults_coverage(folder) -> float:
    ds = store.load(folder)
    cov = core.coverage(ds, load_config(), ds.latest_date, "adults", 1)
    return cov.loc[cov["unit_code"] == core.TOTAL, "coverage"].iat[0]


def overview_first_card(at: AppTest) -> str:
    at.switch_page("pages/overview.py")
    at.run()
    assert not at.exception
    return at.metric[0].value


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_upload_needs_an_analyst_login(folder, lang):
    at = open_upload(lang)
    assert len(at.file_uploader) == 0
    assert any(i18n.t("login.heading", lang) in m.value for m in at.markdown)
    log_in(at, password="wrong password")
    assert len(at.file_uploader) == 0
    assert any(i18n.t("login.failed", lang) in e.value for e in at.error)
    log_in(at)
    assert len(at.file_uploader) == 1


def _good_drop(folder) -> bytes:
    ds = store.load(folder)
    v = ds.vaccinations
    last = v[(v["unit_code"] == "071") & (v["age_band"] == "18-49") & (v["dose"] == 1)]["people_cumulative"].max()
    # Lâm Bình reports 3,000 more adults aged 18-49 with a first dose on the latest day
    return f"date,unit_code,age_band,dose,people_cumulative\n{ds.latest_date},071,18-49,1,{last + 3000}\n".encode()


def test_a_good_drop_is_stored_shown_on_the_overview_and_undone(folder):
    before = adults_coverage(folder)
    at = log_in(open_upload())
    at.file_uploader[0].set_value(("lam_binh.csv", _good_drop(folder), "text/csv")).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert len(at.dataframe) >= 1  # the preview of what will be stored
    at.button(key="commit").click().run()
    assert not at.exception and not at.error
    after = adults_coverage(folder)
    population = core.group_population(store.load(folder), load_config(), "adults").sum()
    assert after == pytest.approx(before + 3000 / population)
    assert overview_first_card(at) == fmt.percent(after, "vi")

    drops = store.drops(folder)
    newest = drops.sort_values("id").iloc[-1]
    assert newest["uploader"] == "lan" and newest["status"] == "active"

    at.switch_page("pages/upload.py")
    at.run()
    at.selectbox(key="undo_drop").select(int(newest["id"]))
    at.button(key="undo_submit").click().run()
    assert not at.exception and not at.error
    assert adults_coverage(folder) == pytest.approx(before)
    assert store.drops(folder).set_index("id").loc[newest["id"], "status"] == "undone"
    assert overview_first_card(at) == fmt.percent(before, "vi")


def test_a_bad_drop_is_refused_with_its_rows_and_nothing_is_stored(folder):
    files_before = snapshot(folder)
    bad = b"date,unit_code,age_band,dose,people_cumulative\n2022-03-31,071,18-49,1,100\n2022-03-31,099,18-49,1,5\n"
    at = log_in(open_upload("en"))
    at.file_uploader[0].set_value(("bad.csv", bad, "text/csv")).run()
    assert not at.exception
    assert any(i18n.t("upload.rejected", "en", count=1) in e.value for e in at.error)
    problems = at.dataframe[0].value
    assert problems.iloc[0, 0] == 3 and problems.iloc[0, 1] == "unit_code"
    assert len(at.button) == 1 or all(b.key != "commit" for b in at.button)
    assert snapshot(folder) == files_before
