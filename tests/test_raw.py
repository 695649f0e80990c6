"""Raw files (issue 12): every drop's original bytes are kept zstd-compressed as raw/<sha[:2]>/<sha256>.zst,
come back byte for byte, and replay to the same tables; an old store's uncompressed raw/<sha[:2]>/<sha256>
is still read; orphans of either name are reclaimed; a damaged file is a StoreError naming its drop."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from tests.clitools import run, snapshot
from tracker import store
from tracker.config import load_config
from tracker.ingest import sha256_of, source
from tracker.store import raw

CFG = load_config()
DATA = Path(__file__).resolve().parents[1] / "data"
ZSTD_MAGIC = bytes.fromhex("28b52ffd")
TABLES = ("drops", *store.LOAD_ORDER, *(f"{t}_history" for t in store.LOAD_ORDER))


@pytest.fixture
def folder(store_dir, tmp_path) -> Path:
    """A store of its own, initialised from data/ (four drops)."""
    return Path(shutil.copytree(store_dir, tmp_path / "store"))


def _tail(lines: int) -> bytes:
    """The last rows of the sample vaccinations (a repetitive CSV), as a new drop's bytes."""
    text = (DATA / "vaccinations.csv").read_text(encoding="utf-8").splitlines()
    return ("\n".join([text[0], *text[-lines:]]) + "\n").encode("utf-8")


def _drop(folder: Path, data: bytes, name: str = "tail.csv") -> int:
    """Store bytes as a vaccinations drop, as the upload page does; returns the drop id."""
    prepared = store.prepare(folder, data, "vaccinations", CFG, filename=name)
    return store.commit(folder, prepared, "tester", data)


def _sha(folder: Path, drop_id: int) -> str:
    return store.drops(folder).set_index("id").loc[drop_id, "sha256"]


def _tables(folder: Path) -> dict[str, pd.DataFrame]:
    with store.reading(folder) as con:
        return {name: con.execute(f"SELECT * FROM {name} ORDER BY ALL").df() for name in TABLES}


def _raw_files(folder: Path) -> list[Path]:
    return sorted(p for p in (folder / store.RAW_DIR).rglob("*") if p.is_file())


def _decompress(folder: Path) -> None:
    """Turn the store into one from before compression: every raw file plain, named by its sha256 alone."""
    for packed in _raw_files(folder):
        plain = packed.with_name(store.raw_sha256(packed))
        with pa.CompressedInputStream(str(packed), "zstd") as src:
            plain.write_bytes(src.read())
        os.chmod(plain, store.PRIVATE_FILE)
        packed.unlink()


# --------------------------------------------------------------------------- compressed on disk


def test_raw_files_are_zstd_and_give_back_the_original_bytes(folder):
    data = _tail(3000)
    drop_id = _drop(folder, data)
    sha = _sha(folder, drop_id)
    raw = store.raw_path(folder, sha)
    assert raw == folder / "raw" / sha[:2] / f"{sha}.zst"
    packed = raw.read_bytes()
    assert packed[:4] == ZSTD_MAGIC
    assert len(packed) < len(data) / 3  # a repetitive CSV shrinks a lot
    assert store.read_raw(folder, sha) == data
    with pa.CompressedInputStream(str(raw), "zstd") as src:  # what the docs tell: any zstd reader
        assert src.read() == data
    with store.open_raw(folder, sha) as stream:  # streamed in pieces
        pieces = []
        while piece := stream.read(1000):
            pieces.append(piece)
    assert b"".join(pieces) == data
    assert store.raw_sha256(raw) == sha
    assert not [p for p in _raw_files(folder) if p.name.endswith(".tmp")]


def test_init_keeps_the_data_files_compressed(folder):
    kept = _raw_files(folder)
    assert len(kept) == 4 and all(p.suffix == ".zst" for p in kept)
    assert all(oct(p.stat().st_mode & 0o777) == oct(store.PRIVATE_FILE) for p in kept)
    for kind in store.LOAD_ORDER:
        path = DATA / f"{kind}.csv"
        raw = store.raw_path(folder, sha256_of(path))
        assert raw.is_file() and raw.read_bytes()[:4] == ZSTD_MAGIC
        assert store.read_raw(folder, sha256_of(path)) == path.read_bytes()
    vaccinations = store.raw_path(folder, sha256_of(DATA / "vaccinations.csv"))
    assert vaccinations.stat().st_size < (DATA / "vaccinations.csv").stat().st_size / 3


@pytest.mark.skipif(shutil.which("zstd") is None, reason="no zstd command")
def test_the_zstd_command_gives_back_the_original(folder):
    raw = store.raw_path(folder, sha256_of(DATA / "cases.csv"))
    done = subprocess.run(["zstd", "-d", "-c", str(raw)], capture_output=True, timeout=60, check=True)
    assert done.stdout == (DATA / "cases.csv").read_bytes()


def test_rebuild_from_compressed_raw_files_gives_the_same_tables(capsys, folder):
    _drop(folder, _tail(500))
    before = _tables(folder)
    code, out, err = run(capsys, "rebuild", "--store", folder)
    assert code == 0, err
    after = _tables(folder)
    for name, frame in before.items():
        pd.testing.assert_frame_equal(after[name], frame, obj=name)
    assert store.check(folder, CFG) == []


def test_a_file_that_changed_after_its_check_is_not_kept(folder, tmp_path):
    path = tmp_path / "tail.csv"
    path.write_bytes(_tail(10))
    prepared = store.prepare(folder, path, "vaccinations", CFG)
    path.write_bytes(_tail(11))
    before = snapshot(folder)
    with pytest.raises(store.StoreError, match="changed since it was checked"):
        store.commit(folder, prepared, "tester", path)
    assert snapshot(folder) == before


def test_a_file_prepared_for_a_commit_is_read_once_and_kept_as_it_was_checked(folder, tmp_path, monkeypatch):
    """keep_raw (the CLI's ingest, store.ingest): the canonical path compresses the bytes pyarrow reads as it
    hashes them, and the commit keeps that copy; no other read of the file. Saved again between the check and
    the commit, the file's new bytes are neither stored nor kept."""
    path = tmp_path / "tail.csv"
    path.write_bytes(_tail(10))

    def no_second_read(*args, **kwargs):
        raise AssertionError("the file was read a second time")

    monkeypatch.setattr(source, "_scan", no_second_read)
    monkeypatch.setattr(raw.RawWrite, "_pack", no_second_read)
    monkeypatch.setattr(raw.Packed, "copy_to", no_second_read)  # made unnamed under raw/, then named
    prepared = store.prepare(folder, path, "vaccinations", CFG, keep_raw=True)
    assert prepared.detected["read"] == "fast" and isinstance(prepared.kept, raw.Packed)
    assert prepared.kept.unnamed
    path.write_bytes(_tail(11))
    drop_id = store.commit(folder, prepared, "tester", path)
    sha = _sha(folder, drop_id)
    assert sha == hashlib.sha256(_tail(10)).hexdigest() == prepared.sha256
    assert store.read_raw(folder, sha) == _tail(10)
    assert store.drops(folder).set_index("id").loc[drop_id, "rows"] == 10
    assert prepared.kept is None  # its temporary file closed once the raw file holds it
    monkeypatch.undo()  # the check below replays every drop from its raw file
    assert store.check(folder, CFG) == []


def test_where_no_unnamed_file_can_be_made_the_copy_is_kept_all_the_same(folder, tmp_path, monkeypatch):
    """Without Linux's O_TMPFILE (another system, a file system without it), the compressed copy is an
    anonymous temporary file of the system's, which the commit copies under raw/."""
    monkeypatch.setattr(raw, "_unnamed", lambda folder: None)
    path = tmp_path / "tail.csv"
    path.write_bytes(_tail(10))
    prepared = store.prepare(folder, path, "vaccinations", CFG, keep_raw=True)
    assert isinstance(prepared.kept, raw.Packed) and not prepared.kept.unnamed
    drop_id = store.commit(folder, prepared, "tester", path)
    assert store.read_raw(folder, _sha(folder, drop_id)) == _tail(10)
    assert oct(raw.raw_path(folder, _sha(folder, drop_id)).stat().st_mode & 0o777) == oct(store.PRIVATE_FILE)


def test_a_dry_run_compresses_nothing_and_a_file_the_canonical_path_declines_drops_its_copy(
    folder, tmp_path, monkeypatch
):
    made = []

    class Recorded(raw.Packed):
        def __init__(self, *args):
            super().__init__(*args)
            made.append(self)

    monkeypatch.setattr(store.intake, "Packed", Recorded)
    path = tmp_path / "tail.csv"
    path.write_bytes(_tail(10))
    assert store.ingest(folder, path, "vaccinations", CFG, dry_run=True).kept is None and made == []
    # a row twice: the canonical path gives the file up after its read (the general path words it), and the
    # commit compresses the file it is given
    data = _tail(3) + _tail(1).split(b"\n", 1)[1]
    path.write_bytes(data)
    prepared = store.prepare(folder, path, "vaccinations", CFG, keep_raw=True)
    assert prepared.duplicates_dropped == 1 and prepared.kept is None
    assert len(made) == 1 and made[0].file.closed
    drop_id = store.commit(folder, prepared, "tester", path)
    assert store.read_raw(folder, _sha(folder, drop_id)) == data


def test_raw_files_pyarrow_wrote_read_back_and_rebuild(capsys, folder):
    """Stores from before raw files were written with zstandard keep pyarrow's zstd streams (several frames
    for a big file, no content size): they read back byte for byte, and rebuild replays them."""
    data = _tail(3000)
    sha = _sha(folder, _drop(folder, data))
    for packed in _raw_files(folder):  # every raw file written again as the older stores have it
        original = store.read_raw(folder, store.raw_sha256(packed))
        with pa.CompressedOutputStream(str(packed), "zstd") as out:
            for start in range(0, len(original), 4096):  # in pieces, as RawWrite wrote them
                out.write(original[start : start + 4096])
    assert store.read_raw(folder, sha) == data
    with store.open_raw(folder, sha) as stream:
        pieces = []
        while piece := stream.read(777):
            pieces.append(piece)
    assert b"".join(pieces) == data and all(len(p) == 777 for p in pieces[:-1])
    before = _tables(folder)
    code, out, err = run(capsys, "rebuild", "--store", folder)
    assert code == 0, err
    for name, frame in _tables(folder).items():
        pd.testing.assert_frame_equal(frame, before[name], obj=name)


# --------------------------------------------------------------------------- old, uncompressed stores


def test_an_old_store_with_plain_raw_files_still_rebuilds(capsys, folder):
    _drop(folder, _tail(200))
    _decompress(folder)
    plain = _raw_files(folder)
    assert len(plain) == 5 and not [p for p in plain if p.suffix == ".zst"]
    sha = sha256_of(DATA / "units.csv")
    assert store.raw_path(folder, sha) == folder / "raw" / sha[:2] / sha
    assert store.read_raw(folder, sha) == (DATA / "units.csv").read_bytes()
    assert store.orphans(folder) == []

    code, out, err = run(capsys, "doctor", "--store", folder)
    assert code == 0, out + err
    assert "no raw file" not in out
    before = _tables(folder)
    code, out, err = run(capsys, "rebuild", "--store", folder)
    assert code == 0, err
    for name, frame in _tables(folder).items():
        pd.testing.assert_frame_equal(frame, before[name], obj=name)

    # content an old store keeps plain is not kept again; new content comes compressed beside it
    again = _drop(folder, _tail(200), "again.csv")
    assert store.raw_path(folder, _sha(folder, again)).suffix == ""
    new = _drop(folder, _tail(300), "new.csv")
    assert store.raw_path(folder, _sha(folder, new)).suffix == ".zst"
    assert store.orphans(folder) == []
    assert store.check(folder, CFG) == []


def test_a_drop_without_either_raw_file_is_reported_missing(capsys, folder):
    sha = sha256_of(DATA / "cases.csv")
    store.raw_path(folder, sha).unlink()
    assert not store.raw_path(folder, sha).exists()
    problems = store.check(folder, CFG)
    assert any("no raw file for drop(s) 4" in p for p in problems), problems
    with pytest.raises(store.StoreError, match="no raw file"):
        store.read_raw(folder, sha)


# --------------------------------------------------------------------------- orphans


def test_orphan_zst_and_plain_files_are_found_and_removed_by_gc(capsys, folder):
    kept = _raw_files(folder)
    ghost = "ab" + "0" * 62
    orphan_zst = folder / "raw" / "ab" / f"{ghost}.zst"
    orphan_plain = folder / "raw" / "ab" / ghost
    half = kept[0].with_name(f".{kept[0].name}.123.456.tmp")  # a write killed before its rename
    orphan_zst.parent.mkdir(mode=0o700)
    for path, data in ((orphan_zst, ZSTD_MAGIC + b"x" * 100), (orphan_plain, b"y" * 50), (half, b"z")):
        path.write_bytes(data)
        os.chmod(path, 0o600)
    sha = sha256_of(DATA / "units.csv")
    plain_twin = store.raw_path(folder, sha).with_name(sha)  # a drop's plain file beside its .zst is not an orphan
    plain_twin.write_bytes((DATA / "units.csv").read_bytes())
    os.chmod(plain_twin, 0o600)

    assert store.orphans(folder) == sorted([orphan_zst, orphan_plain, half])
    code, out, err = run(capsys, "doctor", "--store", folder)
    assert code == 1 and "3 orphan raw file(s)" in out
    code, out, err = run(capsys, "gc", "--store", folder)
    assert code == 0 and out.startswith("removed 3 orphan raw file(s), 155 bytes"), out + err
    assert store.orphans(folder) == []
    assert _raw_files(folder) == sorted([*kept, plain_twin])
    assert store.check(folder, CFG) == []


# --------------------------------------------------------------------------- damaged raw files


@pytest.mark.parametrize("damage", ["truncated", "garbled", "empty", "not zstd"])
def test_a_damaged_zst_is_a_store_error_naming_the_drop(capsys, folder, damage):
    drop_id = _drop(folder, _tail(2000), "tail.csv")
    raw = store.raw_path(folder, _sha(folder, drop_id))
    packed = raw.read_bytes()
    damaged = {
        "truncated": packed[: len(packed) // 2],
        "garbled": packed[:200] + bytes(b ^ 0x55 for b in packed[200:260]) + packed[260:],
        "empty": b"",
        "not zstd": b"date,unit_code\n" * 10,
    }[damage]
    raw.write_bytes(damaged)
    before = snapshot(folder)

    with pytest.raises(store.StoreError, match=f"drop {drop_id} \\(tail.csv\\).*damaged"):
        store.rebuild(folder, CFG)
    with pytest.raises(store.StoreError, match="damaged"):
        store.read_raw(folder, _sha(folder, drop_id))
    code, out, err = run(capsys, "rebuild", "--store", folder)
    assert code == 1 and f"drop {drop_id} (tail.csv)" in err and "Traceback" not in err, err
    code, out, err = run(capsys, "doctor", "--store", folder)
    assert code == 1 and f"drop {drop_id} (tail.csv)" in out + err and "Traceback" not in err
    assert snapshot(folder) == before
