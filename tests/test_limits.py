"""No file can exhaust the server: limits from [upload] checked before and while a file is parsed, the same
for the upload page and `tracker ingest`; and no accepted value can later make a report fail.

The reproductions (issue 11): a 2 MB .xlsx whose one shared string unpacks to 2 GiB took the CLI to
13 GB before a MemoryError; a 6.6 MB .xlsx of 10 M rows ran for minutes; a 9.9 MB CSV with 1 M columns
took 56 s and 2 GB; a field over 128 KiB gave "unexpected Error"; a count of 9223372036854775807 was
accepted and then broke `tracker report`; 99999999999999999999 or 1e308 gave "unexpected OverflowError".

The bombs are built here as real files (they do unpack that far): each check runs `tracker ingest` in
a process of its own and asserts its peak memory (< 500 MB) and its time (< 10 s).
"""

from __future__ import annotations

import io
import os
import resource
import shutil
import subprocess
import sys
import time
import zipfile
import zlib
from pathlib import Path

import pytest

from tests.clitools import snapshot
from tracker import store
from tracker.config import DATA_DIR, load_config
from tracker.errors import ValidationError
from tracker.ingest import read_bytes

ROOT = Path(__file__).resolve().parent.parent
CFG = load_config()
UNITS = {"070", "071", "072", "073", "074", "075", "076"}
MAX_RSS_MB = 500
MAX_SECONDS = 10

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="xml" ContentType="application/xml"/></Types>'
)


def _workbook(path: Path, part: str, chunks, declared_rows: str = "") -> Path:
    """An .xlsx-shaped ZIP whose `part` is written from `chunks` (bytes), deflated as it streams."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        with archive.open(part, "w", force_zip64=True) as out:
            for chunk in chunks:
                out.write(chunk)
    return path


def _shared_string_bomb(path: Path, unpacked_mb: int) -> Path:
    head = b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>'
    block = b"A" * 2**20
    return _workbook(path, "xl/sharedStrings.xml", [head, *(block for _ in range(unpacked_mb)), b"</t></si></sst>"])


def _rows_bomb(path: Path, rows: int) -> Path:
    row = b'<row><c t="inlineStr"><is><t>070</t></is></c><c><v>1</v></c></row>'
    head = (
        b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    )
    per_chunk = 50_000
    chunks = (row * per_chunk for _ in range(rows // per_chunk))
    return _workbook(path, "xl/worksheets/sheet1.xml", [head, *chunks, b"</sheetData></worksheet>"])


@pytest.fixture
def folder(store_dir, tmp_path) -> Path:
    return Path(shutil.copytree(store_dir, tmp_path / "store"))


def _ingest(
    path: Path, folder: Path, *args: str, data: Path | None = None
) -> tuple[subprocess.CompletedProcess, float, float]:
    """`tracker ingest` in a process of its own: (result, seconds, that process's peak memory in MB)."""
    # VmHWM: this process's own peak (getrusage's ru_maxrss would start from the forked parent's)
    probe = (
        "import runpy, sys; sys.argv = ['tracker', *sys.argv[1:]];"
        "code = 0\n"
        "try:\n    runpy.run_module('tracker', run_name='__main__')\n"
        "except SystemExit as exc:\n    code = exc.code or 0\n"
        "peak = [l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')][0]\n"
        "print('RSS_KB', peak, file=sys.stderr); sys.exit(code)"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if data is not None:
        env["TRACKER_DATA"] = str(data)
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", probe, "ingest", str(path), "--kind", "vaccinations", "--store", str(folder), *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    seconds = time.monotonic() - start
    rss = int(done.stderr.rsplit("RSS_KB", 1)[1].split()[0]) / 1024
    return done, seconds, rss


def _refused(done, seconds, rss, message: str, folder: Path, before: dict) -> None:
    assert done.returncode == 1, done.stderr
    assert message in done.stderr, done.stderr
    assert "unexpected" not in done.stderr and "Traceback" not in done.stderr
    assert seconds < MAX_SECONDS, f"{seconds:.1f} s"
    assert rss < MAX_RSS_MB, f"{rss:.0f} MB"
    assert snapshot(folder) == before


def test_a_shared_string_that_unpacks_past_the_limit_is_refused_before_it_is_read(folder, tmp_path):
    bomb = _shared_string_bomb(tmp_path / "bomb.xlsx", unpacked_mb=400)
    assert bomb.stat().st_size < 2 * 2**20  # a small file that really unpacks to 400 MB
    before = snapshot(folder)
    done, seconds, rss = _ingest(bomb, folder)
    _refused(done, seconds, rss, "'xl/sharedStrings.xml' unpacks to 400.0 MB, over the 300 MB limit", folder, before)


def test_a_part_that_unpacks_too_many_times_its_size_is_refused(folder, tmp_path):
    bomb = _shared_string_bomb(tmp_path / "ratio.xlsx", unpacked_mb=250)  # under 300 MB, but ~1000x
    before = snapshot(folder)
    done, seconds, rss = _ingest(bomb, folder)
    _refused(done, seconds, rss, "times its packed size, over the limit of 200", folder, before)


def test_ten_million_rows_in_a_small_workbook_are_refused_quickly(folder, tmp_path):
    bomb = _rows_bomb(tmp_path / "rows.xlsx", rows=10_000_000)
    assert bomb.stat().st_size < 8 * 2**20
    before = snapshot(folder)
    done, seconds, rss = _ingest(bomb, folder)
    _refused(done, seconds, rss, "xl/worksheets/sheet1.xml", folder, before)


def test_a_million_columns_are_refused_with_a_short_message(folder, tmp_path):
    wide = tmp_path / "wide.csv"
    line = ",".join(f"c{i}" for i in range(1_000_000))
    wide.write_text(line + "\n" + line + "\n", encoding="utf-8")
    before = snapshot(folder)
    done, seconds, rss = _ingest(wide, folder)
    _refused(done, seconds, rss, "columns, over the limit of 1,000", folder, before)
    assert len(done.stderr) < 2_000  # was a 7.4 MB error


@pytest.mark.parametrize("quoted", [False, True])
def test_a_value_longer_than_the_limit_is_a_message_at_its_row(folder, quoted):
    value = "x" * (200 * 1024)
    value = f'"{value}"' if quoted else value
    text = f"date,unit_code,age_band,dose,people_cumulative\n2021-10-01,070,18-49,1,5\n2021-10-02,{value},18-49,1,6\n"
    with pytest.raises(ValidationError) as info:
        store.prepare(folder, text.encode(), "vaccinations", CFG, filename="long.csv")
    [problem] = info.value.problems
    assert (problem.row, problem.code) == (3, "limit.field")
    assert problem.text("vi") == "có một giá trị dài hơn 64 KiB ([upload] max_field_kb)"


def test_the_cli_has_the_page_s_size_limit(folder, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    config = (data / "config.toml").read_text(encoding="utf-8").replace("max_mb = 50", "max_mb = 1")
    (data / "config.toml").write_text(config, encoding="utf-8")
    big = tmp_path / "big.csv"
    big.write_text("date,unit_code,age_band,dose,people_cumulative\n" + "2021-10-01,070,18-49,1,5\n" * 100_000)
    before = snapshot(folder)
    done, seconds, rss = _ingest(big, folder, data=data)
    _refused(done, seconds, rss, "the file is 2.4 MB, over the 1 MB limit ([upload] max_mb)", folder, before)


# --------------------------------------------------------------------------- values that would break reports


@pytest.mark.parametrize(
    ("people", "code"),
    [
        ("9223372036854775807", "limit.too_large"),  # int64's largest: accepted with a warning before
        ("5000000000000000000", "limit.too_large"),
        ("99999999999999999999", "limit.too_large"),  # beyond int64: "unexpected OverflowError" before
        ("1e308", "value.not_whole_number"),
    ],
)
def test_a_count_too_large_is_refused_at_its_row(folder, people, code):
    text = f"date,unit_code,age_band,dose,people_cumulative\n2022-03-31,070,18-49,1,{people}\n"
    with pytest.raises(ValidationError) as info:
        store.prepare(folder, text.encode(), "vaccinations", CFG, filename="big.csv")
    assert [(p.row, p.column, p.code) for p in info.value.problems] == [(2, "people_cumulative", code)]


def test_two_counts_that_would_overflow_a_sum_are_refused(folder):
    text = (
        "date,unit_code,age_band,dose,people_cumulative\n"
        "2022-03-31,070,18-49,1,5000000000000000000\n2022-03-31,071,18-49,1,5000000000000000000\n"
    )
    with pytest.raises(ValidationError) as info:
        store.prepare(folder, text.encode(), "vaccinations", CFG, filename="two.csv")
    assert info.value.error_rows == 2


def test_a_dose_beyond_any_integer_is_a_message(folder):
    text = "date,unit_code,age_band,dose,people_cumulative\n2022-03-31,070,18-49,99999999999999999999,5\n"
    with pytest.raises(ValidationError) as info:
        store.prepare(folder, text.encode(), "vaccinations", CFG, filename="dose.csv")
    assert [(p.row, p.column, p.code) for p in info.value.problems] == [(2, "dose", "limit.too_large")]


def test_1e308_in_a_workbook_cell_is_a_message(folder, tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["date", "unit_code", "age_band", "dose", "people_cumulative"])
    sheet.append(["2022-03-31", "070", "18-49", 1, 1e308])
    buffer = io.BytesIO()
    book.save(buffer)
    with pytest.raises(ValidationError) as info:
        store.prepare(folder, buffer.getvalue(), "vaccinations", CFG, filename="big.xlsx")
    assert [(p.row, p.column, p.code) for p in info.value.problems] == [(2, "people_cumulative", "limit.too_large")]


def test_more_people_than_ten_times_the_population_is_an_error_and_reports_still_run(folder, capsys):
    from tests.clitools import run

    with store.reading(folder) as con:
        population = con.execute(
            "SELECT sum(population) FROM population WHERE unit_code = '070' AND age_band = '18-49'"
        ).fetchall()[0][0]
    over = population * 10 + 1
    text = f"date,unit_code,age_band,dose,people_cumulative\n2022-03-31,070,18-49,1,{over}\n"
    with pytest.raises(ValidationError) as info:
        store.prepare(folder, text.encode(), "vaccinations", CFG, filename="over.csv")
    [problem] = info.value.problems
    assert problem.code == "limit.per_population" and problem.row == 2
    ok = population * 2  # over 100 %: a warning, stored
    text = f"date,unit_code,age_band,dose,people_cumulative\n2022-03-31,070,18-49,1,{ok}\n"
    prepared = store.prepare(folder, text.encode(), "vaccinations", CFG, filename="high.csv")
    assert [w.code for w in prepared.warnings] == ["warning.over_population"]
    store.commit(folder, prepared, "t", text.encode())
    for command in (["report"], ["coverage", "--group", "adults", "--dose", "1"]):
        code, out, err = run(capsys, *command, "--store", folder)
        assert code == 0, err


# --------------------------------------------------------------------------- unit codes and names


@pytest.mark.parametrize(
    ("code", "name", "column", "message"),
    [
        ("07a", "Huyện A", "unit_code", "value.bad_unit_code"),
        ("077", "Huyện \u202eA", "unit_name", "value.unsafe_characters"),  # a right-to-left override
        ("077", "Huyện\x07A", "unit_name", "value.unsafe_characters"),
        ("077", "H" * 101, "unit_name", "value.name_too_long"),
    ],
)
def test_unit_codes_and_names_are_checked(code, name, column, message):
    text = f"unit_code,unit_name,unit_type,lat,lon\n{code},{name},district,21.7,105.2\n"
    with pytest.raises(ValidationError) as info:
        read_bytes(text.encode(), "units.csv", "units", CFG, None)
    assert [(p.row, p.column, p.code) for p in info.value.problems] == [(2, column, message)]


def test_this_process_stayed_small():
    """The bombs ran in their own processes: this one never unpacked them."""
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 < 2_000


def test_zlib_really_deflates_a_bomb_that_far():
    """The bombs above are real: 16 MB of one byte deflate to a few KB."""
    assert len(zlib.compress(b"A" * 16 * 2**20, 9)) < 20_000
