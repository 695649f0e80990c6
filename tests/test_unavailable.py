"""Where a figure is unavailable, every page says which district, why, and links to the drop behind it;
no page ever shows "None".

The store here holds what a drop made before overlaps were refused (or through `tracker rebuild` of
such a log): tests/fixtures/drops/wide_vi.csv stored as it is, so Thành phố Tuyên Quang (070)
reports its adults as one figure beside its 18-49, 50-64 and 65+ bands from 13/10/2021.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.apptools import open_app
from tracker import core, store, views
from tracker.config import load_config

CFG = load_config()
WIDE_VI = Path(__file__).resolve().parent / "fixtures" / "drops" / "wide_vi.csv"
AS_OF = dt.date(2021, 12, 1)


@pytest.fixture(scope="module")
def legacy_store(store_dir, tmp_path_factory) -> tuple[Path, int]:
    folder = Path(shutil.copytree(store_dir, tmp_path_factory.mktemp("legacy") / "store"))
    prepared = store.prepare(folder, WIDE_VI, "vaccinations", CFG)
    prepared.overlapping = 0  # as a drop was stored before the check: the overlap goes in
    return folder, store.commit(folder, prepared, "lan", WIDE_VI)


@pytest.fixture
def app_legacy(legacy_store, monkeypatch):
    folder, drop_id = legacy_store
    monkeypatch.setenv("TRACKER_STORE", str(folder))
    monkeypatch.delenv("TRACKER_BOUNDARIES", raising=False)
    return folder, drop_id


def test_the_core_says_why_and_the_view_finds_the_drop(legacy_store):
    folder, drop_id = legacy_store
    ds = store.load(folder)
    missing = views.unavailable(ds, CFG, AS_OF, [("adults", 1), ("50plus", 2)])
    assert missing[["unit_code", "group", "dose", "kind"]].values.tolist() == [["070", "adults", 1, "overlap"]]
    assert missing["labels"].iat[0] == ["18-49", "50-64", "65+", "adults"]
    explode = missing[["unit_code", "dose", "labels"]].explode("labels").rename(columns={"labels": "age_band"})
    blamed = views.blame(missing, store.first_drops(folder, explode))
    assert blamed["drop_id"].tolist() == [drop_id] and blamed["source"].tolist() == ["wide_vi.csv"]
    # before the drop's date the figure was there
    assert views.unavailable(ds, CFG, dt.date(2021, 10, 12), [("adults", 1)]).empty
    assert core.coverage(ds, CFG, dt.date(2021, 10, 12), "adults", 1)["people"].notna().all()


def _page_text(at) -> str:
    parts = []
    kinds = ("title", "header", "subheader", "markdown", "caption", "warning", "info", "success", "error", "metric")
    for kind in kinds:
        for element in getattr(at, kind):
            parts.append(str(element.value))
            parts.append(str(getattr(element, "label", "")))
    for df in at.dataframe:  # a missing value shows as the table's placeholder: "None" unless one is set
        parts.append(df.value.to_csv())
        if df.value.isna().to_numpy().any():
            assert df.proto.placeholder == "—", "a missing value would show as None"
    return "\n".join(parts)


@pytest.mark.parametrize("lang", ["vi", "en"])
@pytest.mark.parametrize("page", [None, "pages/districts.py", "pages/trends.py", "pages/risk.py"])
def test_every_page_explains_the_unavailable_figure_and_never_shows_none(app_legacy, page, lang):
    folder, drop_id = app_legacy
    at = open_app(page, lang, as_of=AS_OF)
    notices = [w.value for w in at.warning if ("Thành phố Tuyên Quang" in w.value and "upload?drop=" in w.value)]
    assert notices, [w.value for w in at.warning]
    notice = notices[0]
    link = re.search(r"\]\((upload\?[^)]*)\)", notice).group(1)
    params = parse_qs(urlsplit(link).query)
    assert params["drop"] == [str(drop_id)] and "wide_vi.csv" in notice
    assert params.get("lang") == (["en"] if lang == "en" else None)  # the reader's view goes with the link
    assert params.get("as_of") == [AS_OF.isoformat()]
    assert ("chồng lên nhau" if lang == "vi" else "overlap") in notice
    text = _page_text(at)
    assert "None" not in text and "nan" not in text.lower().split() and "NaT" not in text


def test_the_link_opens_the_drop_on_the_upload_page(app_legacy):
    from tests.test_upload_page import PASSWORD
    from tracker import auth

    folder, drop_id = app_legacy
    if "lan" not in set(auth.list_users(folder)["name"]):
        auth.add_user(folder, "lan", PASSWORD)
    at = open_app("pages/upload.py", "vi")
    at.query_params["drop"] = str(drop_id)
    at.text_input(key="login_name").input("lan")
    at.text_input(key="login_password").input(PASSWORD)
    at.button[0].click().run()
    assert any(f"Lần nạp số {drop_id}: wide_vi.csv, Tiêm chủng, 5 dòng" in i.value for i in at.info)
    assert at.selectbox(key="undo_drop").value == drop_id


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_the_briefing_notes_say_which_figure_is_missing_and_why(legacy_store, lang):
    from tracker import briefing

    folder, _ = legacy_store
    notes = briefing.collect(store.load(folder), CFG, AS_OF, lang).notes
    why = [n for n in notes if n.startswith("• Thành phố Tuyên Quang")]
    assert why, notes
    assert ("chồng lên nhau" if lang == "vi" else "overlap") in why[0]
