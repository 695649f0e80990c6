"""The upload page: login required, a good drop committed and visible on the overview, a bad drop
refused with its report and nothing stored, and undo restoring the previous figures."""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.apptools import shown
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
    at.button(key="undo_confirm").click().run()
    assert not at.exception and not at.error
    assert adults_coverage(folder) == pytest.approx(before)
    assert store.drops(folder).set_index("id").loc[newest["id"], "status"] == "undone"
    assert overview_first_card(at) == fmt.percent(before, "vi")


def test_a_bad_drop_is_refused_with_its_rows_and_nothing_is_stored(folder):
    bad = b"date,unit_code,age_band,dose,people_cumulative\n2022-03-31,071,18-49,1,100\n2022-03-31,099,18-49,1,5\n"
    at = log_in(open_upload("en"))
    files_before = snapshot(folder)  # after logging in, which records the login in the store
    at.file_uploader[0].set_value(("bad.csv", bad, "text/csv")).run()
    assert not at.exception
    assert any("File refused: 1 row with errors. Nothing was stored." in e.value for e in at.error)
    problems = shown(at.dataframe[0])
    assert list(problems.iloc[0]) == ["3", "Unit code", "unknown unit '099'"]
    assert len(at.button) == 1 or all(b.key != "commit" for b in at.button)
    assert snapshot(folder) == files_before


# --------------------------------------------------------------------------- issue 10: Vietnamese throughout, overlaps

WIDE_VI = Path(__file__).resolve().parent / "fixtures" / "drops" / "wide_vi.csv"


def _texts(at: AppTest) -> str:
    parts = [
        e.value for kind in ("error", "warning", "success", "info", "caption", "markdown") for e in getattr(at, kind)
    ]
    parts += [df.value.to_csv() for df in at.dataframe]
    return "\n".join(str(p) for p in parts)


def test_a_refused_file_is_explained_in_vietnamese(folder):
    bad = (
        "Ngày,Huyện,Nhóm tuổi,Mũi 1 (lũy tích)\n31/02/2021,070,18-49,12\n01/10/2021,Huyện Lâm Bìn,18-49,5\n"
        "02/10/2021,070,18-49,-3\n"
    ).encode()
    at = log_in(open_upload("vi"))
    at.file_uploader[0].set_value(("xau.csv", bad, "text/csv")).run()
    assert not at.exception
    assert [e.value for e in at.error] == ["Tệp bị từ chối: 3 dòng có lỗi. Chưa có gì được lưu."]
    problems = shown(at.dataframe[0])
    assert list(problems.columns) == ["Dòng", "Cột", "Nội dung"]
    assert problems.values.tolist() == [
        ["2", "Ngày", "'31/02/2021' không phải ngày (tháng 2021-02 không có ngày 31)"],
        ["3", "Huyện", "không có đơn vị 'Huyện Lâm Bìn'; có phải là Huyện Lâm Bình?"],
        ["4", "Mũi 1 (lũy tích)", "số âm -3"],
    ]
    text = _texts(at)
    for english in ("is not", "unknown unit", "negative", "error(s)", "NaT", "None"):
        assert english not in text


def test_the_preview_is_in_vietnamese_with_formatted_numbers_and_kinds(folder):
    at = log_in(open_upload("vi"))
    at.file_uploader[0].set_value(("lam_binh.csv", _good_drop(folder), "text/csv")).run()
    preview = shown(at.dataframe[0])
    assert list(preview.columns) == ["Ngày", "Mã đơn vị", "Đơn vị", "Nhóm tuổi", "Mũi", "Số người đã tiêm (lũy tích)"]
    people = preview.iloc[0, -1]
    assert "." in people and people.replace(".", "").isdigit()  # 12.345, as Vietnamese writes it
    assert preview.iloc[0, 0].count("/") == 2  # dd/mm/yyyy
    drops = shown(at.dataframe[-1])
    assert set(drops["Loại số liệu"]) >= {"Tiêm chủng", "Dân số", "Ca mắc", "Danh mục huyện"}


def test_an_overlapping_file_is_warned_about_before_storing_and_the_headline_keeps_its_figures(folder):
    at = log_in(open_upload("vi"))
    files_before = snapshot(folder)  # after logging in, which records the login in the store
    at.file_uploader[0].set_value(("wide_vi.csv", WIDE_VI.read_bytes(), "text/csv")).run()
    assert not at.exception and not at.error
    warned = " ".join(w.value for w in at.warning)
    assert "Tệp chồng lên số liệu theo nhóm tuổi đã có" in warned and "1 dòng" in warned
    assert at.button(key="commit").disabled  # nothing chosen yet: it cannot be stored as it is
    assert 'sẽ thành "không có số liệu"' in shown(at.dataframe[0]).iloc[0, 2]  # the warning itself, in Vietnamese

    radio = next(r for r in at.radio if r.key and r.key.startswith("upload_overlap_"))
    radio.set_value("refuse").run()
    assert at.button(key="commit").disabled and snapshot(folder) == files_before

    radio = next(r for r in at.radio if r.key and r.key.startswith("upload_overlap_"))
    radio.set_value("skip").run()
    assert not at.button(key="commit").disabled
    assert any("1 dòng trùng sẽ được bỏ qua" in i.value for i in at.info)
    at.button(key="commit").click().run()
    assert not at.exception and not at.error
    assert store.drops(folder).sort_values("id").iloc[-1]["rows"] == 4

    at.switch_page("pages/overview.py")
    at.run()
    values = [m.value for m in at.metric]
    assert [v for v in values if "%" in v] and fmt.EMPTY not in values, values  # the coverage cards, and the others
    assert "Không có số liệu" not in _texts(at)


def test_a_saved_mapping_reads_a_file_that_needs_it(folder):
    from tracker import mappings
    from tracker.ingest import ReadOptions

    mappings.save(
        folder, "bao_cao_my", "vaccinations", ReadOptions(date_order="mdy", constants=(("age_band", "18-49"),))
    )
    text = b"date,unit_code,dose,people_cumulative\n10/13/2021,071,1,9999\n"
    at = log_in(open_upload("en"))
    at.file_uploader[0].set_value(("us.csv", text, "text/csv")).run()
    assert at.error  # without the mapping: no age column, and month 13
    at.selectbox(key="_upload_mapping_en").select("bao_cao_my").run()
    assert not at.error, [e.value for e in at.error]
    preview = next(t for t in (shown(df) for df in at.dataframe) if "Age group" in t.columns)
    assert preview.iloc[0]["Date"] == "13 Oct 2021" and preview.iloc[0]["Age group"] == "18-49"


# --------------------------------------------------------------------------- issue 11: accounts, logins


def _login_form_is_back(at: AppTest, lang: str) -> bool:
    return len(at.file_uploader) == 0 and any(i18n.t("login.heading", lang) in m.value for m in at.markdown)


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_a_disabled_account_is_logged_out_and_cannot_commit(folder, lang):
    at = log_in(open_upload(lang))
    at.file_uploader[0].set_value(("lam_binh.csv", _good_drop(folder), "text/csv")).run()
    assert not at.exception and not at.error
    auth.disable_user(folder, "lan")  # `tracker user disable lan` while the session is open
    before = snapshot(folder)
    at.button(key="commit").click().run()
    assert not at.exception
    assert snapshot(folder) == before  # nothing stored
    assert _login_form_is_back(at, lang)
    assert any(i18n.t("login_guard.ended", lang, name="lan") in w.value for w in at.warning)


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_a_disabled_account_is_logged_out_and_cannot_undo(folder, lang):
    at = log_in(open_upload(lang))
    at.button(key="undo_submit").click().run()  # asked: the confirmation shows
    auth.disable_user(folder, "lan")
    before = snapshot(folder)
    at.button(key="undo_confirm").click().run()
    assert not at.exception
    assert snapshot(folder) == before
    assert set(store.drops(folder)["status"]) == {"active"}
    assert _login_form_is_back(at, lang)
    assert any(i18n.t("login_guard.ended", lang, name="lan") in w.value for w in at.warning)


def test_a_removed_account_is_logged_out_on_the_next_run(folder):
    at = log_in(open_upload("en"))
    with store.writing(folder) as con:  # e.g. the store restored from a backup taken before the account existed
        con.execute("DELETE FROM users WHERE name = 'lan'")
    at.run()
    assert _login_form_is_back(at, "en")
    assert any(i18n.t("login_guard.ended", "en", name="lan") in w.value for w in at.warning)


def test_the_account_is_checked_again_just_before_the_write(folder, monkeypatch):
    at = log_in(open_upload())
    at.file_uploader[0].set_value(("lam_binh.csv", _good_drop(folder), "text/csv")).run()
    drops_before = store.drops(folder)
    checks = []
    real = auth.is_active

    def disabled_once_the_page_has_checked(where, name):
        active = real(where, name)
        if not checks:  # the account is disabled after the page's first check of this run, before the commit
            auth.disable_user(folder, "lan")
        checks.append(active)
        return active

    monkeypatch.setattr(auth, "is_active", disabled_once_the_page_has_checked)
    at.button(key="commit").click().run()
    assert not at.exception
    assert checks[:2] == [True, False]
    assert store.drops(folder).equals(drops_before)  # nothing stored
    assert _login_form_is_back(at, "vi")


def test_25_wrong_passwords_on_the_form_then_the_right_one_is_refused_until_the_lockout_ends(folder, monkeypatch):
    now = [dt.datetime(2021, 12, 1, 8, 0)]
    monkeypatch.setattr(auth, "_utc_now", lambda: now[0])
    at = open_upload("vi")
    for i in range(25):
        log_in(at, password=f"đoán-sai-{i}")
        now[0] += dt.timedelta(seconds=1)
    log_in(at)  # the right password, 25 s after the first failure: the 60 s lockout still runs
    assert len(at.file_uploader) == 0
    wait = i18n.t("login_guard.wait_seconds", "vi", n=39)
    assert any(i18n.t("login_guard.locked", "vi", wait=wait) in e.value for e in at.error), [e.value for e in at.error]
    assert auth.login_log(folder, "lan")["outcome"].value_counts().to_dict() == {"locked": 21, "wrong_password": 5}

    now[0] += dt.timedelta(minutes=16)
    log_in(at)
    assert len(at.file_uploader) == 1
    shown = " ".join(w.value for w in at.warning)
    assert "26" in shown and i18n.t("login_guard.not_you", "vi") in shown  # the failures since the last login
    log_in_again = auth.login_log(folder, "lan")
    assert log_in_again["outcome"].iloc[-1] == "ok" and len(log_in_again) == 27


def test_after_logging_in_the_previous_login_is_shown(folder, monkeypatch):
    monkeypatch.setattr(auth, "_utc_now", lambda: dt.datetime(2021, 12, 1, 8, 5))
    auth.attempt_login(folder, "lan", PASSWORD, client="192.0.2.1", now=dt.datetime(2021, 11, 30, 7, 45))
    at = log_in(open_upload("en"))
    assert len(at.file_uploader) == 1
    previous = i18n.t("login_guard.previous", "en", time="30 Nov 2021 07:45 UTC", client="192.0.2.1", failures="0")
    assert any(previous in i.value for i in at.info), [i.value for i in at.info]
    at.run()
    assert not any(previous in i.value for i in at.info)  # once, right after logging in


# --------------------------------------------------------------------------- upload and undo, safe by design


def _upload(at: AppTest, name: str, data: bytes) -> AppTest:
    at.file_uploader[0].set_value((name, data, "text/csv")).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _store_again_box(at: AppTest):
    return next((c for c in at.checkbox if (c.key or "").startswith("upload_again_")), None)


def _has_commit_button(at: AppTest) -> bool:
    return any(b.key == "commit" for b in at.button)


def _warned(at: AppTest) -> str:
    return "\n".join(w.value for w in at.warning)


def _stored_at(folder, drop_id: int, utc: str) -> None:
    """Set when a drop was stored (UTC, as the store keeps it): the page must show it in Vietnam time."""
    with store.writing(folder) as con:
        con.execute("UPDATE drops SET ingested_at = ?::TIMESTAMP WHERE id = ?", [utc, drop_id])


def test_the_same_file_twice_is_warned_about_and_stored_again_only_once_confirmed(folder):
    data = _good_drop(folder)
    at = _upload(log_in(open_upload("en")), "lam_binh.csv", data)
    assert _store_again_box(at) is None and "same SHA-256" not in _warned(at)  # a new file: no question
    at.button(key="commit").click().run()
    first = store.drops(folder).iloc[-1]
    assert first["sha256"] == hashlib.sha256(data).hexdigest()  # what the page compares is what the store records
    _stored_at(folder, int(first["id"]), "2021-12-01 07:05:00")
    before = store.drops(folder)

    at = _upload(at, "lam_binh (1).csv", data)  # the same bytes again, under another name
    warned = _warned(at)
    assert "This file was stored before (same SHA-256)" in warned
    assert f"Drop {first['id']} (lam_binh.csv, 1 row, stored by lan on 1 Dec 2021 14:05) — active" in warned
    assert "Storing it again makes another drop with the very same figures" in warned
    assert at.button(key="commit").disabled and _store_again_box(at).value is False
    at.run()
    assert store.drops(folder).equals(before)  # nothing stored until confirmed

    _store_again_box(at).check().run()
    assert not at.button(key="commit").disabled
    at.button(key="commit").click().run()
    assert not at.exception and not at.error
    after = store.drops(folder)
    assert len(after) == len(before) + 1
    second = after.iloc[-1]
    assert second["id"] > first["id"] and second["sha256"] == first["sha256"]
    assert second["source"] == "lam_binh (1).csv" and second["status"] == "active"


def test_a_file_whose_drop_was_undone_is_named_as_undone_and_needs_the_same_confirmation(folder):
    data = _good_drop(folder)
    stored = store.ingest(folder, data, "vaccinations", load_config(), filename="lam_binh.csv", uploader="lan")
    store.undo(folder, stored.drop_id, "hoa")
    _stored_at(folder, stored.drop_id, "2021-12-01 07:05:00")
    before = store.drops(folder)
    at = _upload(log_in(open_upload("vi")), "lam_binh.csv", data)
    warned = _warned(at)
    assert "Tệp này đã được lưu trước đây (cùng mã băm SHA-256)" in warned
    assert f"Đợt cập nhật số {stored.drop_id} (lam_binh.csv, 1 dòng, lan lưu lúc 01/12/2021 14:05)" in warned
    assert "đã hoàn tác lúc" in warned and "bởi hoa" in warned and "đưa số liệu của tệp trở lại" in warned
    assert at.button(key="commit").disabled
    _store_again_box(at).check().run()
    at.button(key="commit").click().run()
    assert not at.exception and not at.error
    assert len(store.drops(folder)) == len(before) + 1 and store.drops(folder).iloc[-1]["status"] == "active"


def test_after_storing_a_file_the_store_button_is_gone_until_another_file_is_uploaded(folder):
    at = _upload(log_in(open_upload("en")), "lam_binh.csv", _good_drop(folder))
    at.button(key="commit").click().run()
    assert not at.exception and not at.error
    drops = store.drops(folder)
    newest = int(drops.iloc[-1]["id"])
    assert any(f"Stored as drop {newest}: 1 row." in s.value for s in at.success)
    assert not _has_commit_button(at)
    assert any(f"The file above is stored: Drop {newest} (lam_binh.csv, 1 row" in i.value for i in at.info)
    at.run()  # the page runs again with the same upload
    assert not _has_commit_button(at) and not at.exception
    assert store.drops(folder).equals(drops)

    at = _upload(at, "lam_binh_2.csv", _good_drop(folder))  # another file: a new start
    assert _has_commit_button(at) and not at.button(key="commit").disabled
    at.button(key="commit").click().run()
    assert len(store.drops(folder)) == len(drops) + 1 and not _has_commit_button(at)


def test_undo_picks_the_newest_drop_shows_what_will_change_and_waits_for_confirmation(folder):
    cfg = load_config()
    older = store.ingest(folder, _good_drop(folder), "vaccinations", cfg, filename="a.csv", uploader="hoa").drop_id
    newest = store.ingest(folder, _good_drop(folder), "vaccinations", cfg, filename="lam_binh.csv", uploader="lan")
    newest = newest.drop_id
    _stored_at(folder, newest, "2021-12-01 07:05:00")
    at = log_in(open_upload("vi"))
    box = at.selectbox(key="undo_drop")
    assert box.value == newest  # the newest by default
    assert box.options[0] == f"Đợt {newest} · 01/12/2021 14:05 · lan · lam_binh.csv · Tiêm chủng · 1 dòng · Đang dùng"
    assert not any(b.key == "undo_confirm" for b in at.button)

    at.button(key="undo_submit").click().run()
    expected = (
        f"Đợt cập nhật số {newest} (lam_binh.csv, 1 dòng, lan lưu lúc 01/12/2021 14:05) sẽ được hoàn tác: "
        "các số liệu của đợt này bị gỡ khỏi kho và các số liệu mà chúng đã thay thế được dùng lại."
    )
    assert expected in _warned(at)
    assert set(store.drops(folder)["status"]) == {"active"}  # asked, nothing done yet
    at.button(key="undo_cancel").click().run()
    assert expected not in _warned(at) and set(store.drops(folder)["status"]) == {"active"}

    at.button(key="undo_submit").click().run()
    at.button(key="undo_confirm").click().run()
    assert not at.exception and not at.error
    status = store.drops(folder).set_index("id")["status"]
    assert status[newest] == "undone" and status[older] == "active"
    assert any(i18n.t("upload.undone", "vi", drop=newest) in s.value for s in at.success)
    assert at.selectbox(key="undo_drop").value == older  # now the newest active drop


def test_an_undo_the_store_refuses_is_a_message_and_changes_nothing(folder):
    drops = store.drops(folder)
    units = int(drops.loc[drops["kind"] == "units", "id"].iloc[0])  # the district list the figures refer to
    at = log_in(open_upload("en"))
    at.selectbox(key="undo_drop").select(units).run()
    at.button(key="undo_submit").click().run()
    before = snapshot(folder)
    at.button(key="undo_confirm").click().run()
    assert not at.exception
    assert any(f"Drop {units} could not be undone; nothing was changed" in e.value for e in at.error)
    assert snapshot(folder) == before and set(store.drops(folder)["status"]) == {"active"}


@pytest.mark.parametrize(
    ("lang", "data", "name"),
    [
        ("vi", b"date,unit_code,age_band,dose,people_cumulative\n2022-03-31,071,18-49,1,100\n", "dấu phẩy (,)"),
        ("en", b"date,unit_code,age_band,dose,people_cumulative\n2022-03-31,071,18-49,1,100\n", "comma (,)"),
        ("en", b"date;unit_code;age_band;dose;people_cumulative\n2022-03-31;071;18-49;1;100\n", "semicolon (;)"),
        ("vi", b"date\tunit_code\tage_band\tdose\tpeople_cumulative\n2022-03-31\t071\t18-49\t1\t100\n", "dấu tab"),
    ],
)  # fmt: skip
def test_the_summary_names_the_delimiter_in_words(folder, lang, data, name):
    at = _upload(log_in(open_upload(lang)), "lam_binh.csv", data)
    summary = next(s.value for s in at.success if i18n.t("upload.valid_rows", lang, count=1) in s.value)
    summary = summary.replace("\\", "")  # as shown: the Markdown escapes of the file's details removed
    assert i18n.t("upload.read_delimiter", lang, delimiter=name) in summary
    assert ",," not in summary and ", ," not in summary
