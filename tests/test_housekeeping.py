"""The store holds health data and password hashes: private to its owner whatever the umask; what killed
commits leave behind is reclaimed; `tracker doctor` says what is wrong.

The reproduction (issue 11): 8 commits killed after their raw file was kept left 65.7 MB of orphan
raw files that nothing removed.
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest

from tests.clitools import killed_in_commit, run
from tracker import mappings, store
from tracker.config import load_config
from tracker.ingest import ReadOptions, sha256_of

CFG = load_config()
ROOT = Path(__file__).resolve().parent.parent
HEADER = "date,unit_code,age_band,dose,people_cumulative\n"


@pytest.fixture
def loose_umask():
    before = os.umask(0o022)  # files and folders readable by everyone, unless the store says otherwise
    yield
    os.umask(before)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_store_is_private_whatever_the_umask(tmp_path, loose_umask):
    folder = tmp_path / "store"
    store.init(folder, CFG)
    mappings.save(folder, "nguon_a", "vaccinations", ReadOptions(measure="cumulative"))
    paths = [folder, *folder.rglob("*")]
    assert len([p for p in paths if p.is_file() and p.parent.parent.name == "raw"]) == 4
    loose = {str(p.relative_to(tmp_path)): oct(_mode(p)) for p in paths if _mode(p) & 0o077}
    assert not loose
    assert _mode(folder) == 0o700 and _mode(store.db_path(folder)) == 0o600


def _killed_commit(folder: Path, path: Path) -> None:
    killed_in_commit("ingest", path, "--kind", "vaccinations", "--store", folder)  # raw file kept, no COMMIT


def test_orphans_of_killed_commits_are_found_and_reclaimed(capsys, store_dir, tmp_path):
    folder = Path(shutil.copytree(store_dir, tmp_path / "store"))
    files = []
    for i in range(3):
        path = tmp_path / f"drop{i}.csv"
        path.write_text(HEADER + f"2022-03-31,070,18-49,1,{70000 + i}\n", encoding="utf-8")
        _killed_commit(folder, path)
        files.append(path)
        # each commit, even one killed later, first reclaims what the one before it left
        assert [p.name for p in store.orphans(folder)] == [f"{sha256_of(path)}.zst"]

    code, out, err = run(capsys, "doctor", "--store", folder)
    assert code == 1 and "1 orphan raw file(s)" in out and "tracker gc" in out

    code, out, err = run(capsys, "gc", "--store", folder)
    assert code == 0 and out.startswith("removed 1 orphan raw file(s)"), err
    assert store.orphans(folder) == []

    _killed_commit(folder, files[0])
    assert len(store.orphans(folder)) == 1
    code, out, err = run(capsys, "ingest", files[1], "--kind", "vaccinations", "--store", folder)
    assert code == 0, err
    assert store.orphans(folder) == []  # the next successful commit reclaimed it; its own raw file stays
    assert store.raw_path(folder, store.drops(folder).iloc[-1]["sha256"]).is_file()

    code, out, err = run(capsys, "doctor", "--store", folder)
    assert code == 0, out
    assert "the live tables equal a rebuild from raw/" in out


def test_doctor_reports_loose_permissions_and_a_store_that_differs_from_its_rebuild(capsys, store_dir, tmp_path):
    folder = Path(shutil.copytree(store_dir, tmp_path / "store"))
    os.chmod(store.db_path(folder), 0o644)
    with store.writing(folder) as con:  # a change that did not come through a drop
        con.execute("UPDATE vaccinations SET people_cumulative = people_cumulative + 1 WHERE unit_code = '071'")
    os.chmod(folder / store.RAW_DIR, 0o755)
    code, out, err = run(capsys, "doctor", "--store", folder)
    assert code == 1
    assert f"{folder / store.RAW_DIR}: mode 0755, readable by others" in out
    assert "vaccinations:" in out and "differ from a rebuild" in out
    assert "tracker.duckdb: mode" not in out  # writing() made the database file private again
