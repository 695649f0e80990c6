"""The code the child interpreters run, passed as `python -c` strings: the DuckDB peers, the day file's
setup and the pages under Streamlit's AppTest."""

VACCINATION_COLUMNS = "{'date': 'DATE', 'unit_code': 'VARCHAR', 'age_band': 'VARCHAR', 'dose': 'TINYINT', " + (
    "'people_cumulative': 'BIGINT'}"
)

# The peers. Each runs in a fresh interpreter that imports duckdb (and sys for its arguments) and nothing else;
# the whole process is measured, as the tracker's commands are.
CSV_PEER = """
import sys
import duckdb
con = duckdb.connect(sys.argv[1])
con.execute(sys.argv[2])
con.close()
"""

# The peer's load and what every drop must do besides (a reference, no goal): keep the file's original bytes,
# hashed (sha256, the drop's identity) and zstd-compressed, in a thread beside the load, as
# tracker.store.raw.RawWrite does, with the same library and level (its import is counted). What is left of
# the CSV load's 1.3x for reading, checking and the series table is the tracker's ratio to this one.
CSV_FLOOR = """
import hashlib
import sys
import threading
import duckdb
def keep():
    import zstandard
    digest = hashlib.sha256()
    with open(sys.argv[3], "rb") as src, open(sys.argv[1] + ".zst", "wb") as fh:
        with zstandard.ZstdCompressor(level=1, write_checksum=True).stream_writer(fh) as out:
            while chunk := src.read(1 << 20):
                digest.update(chunk)
                out.write(chunk)
raw = threading.Thread(target=keep)
raw.start()
con = duckdb.connect(sys.argv[1])
con.execute(sys.argv[2])
con.close()
raw.join()
"""

REPORT_PEER = """
import sys
import duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
cur = con.execute(sys.argv[2])
names = [d[0] for d in cur.description]
def cell(v):
    if v is None:
        return ""
    s = str(v)
    return '"' + s.replace('"', '""') + '"' if any(c in s for c in ',"\\n') else s
out = [",".join(names)]
out += [",".join(cell(v) for v in row) for row in cur.fetchall()]
con.close()
sys.stdout.write("\\n".join(out) + "\\n")
"""

DROP_PEER = """
import sys
import duckdb
con = duckdb.connect(sys.argv[1])
con.execute(sys.argv[2])
con.close()
"""

# Untimed setup: the daily drop file, from the store (every series of the first N units, one day after the
# last report, cumulative values a little above the last stored ones).
DAY_FILE = """
import sys
import duckdb
db, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
con = duckdb.connect(db, read_only=True)
con.execute("SET enable_progress_bar = false")
last = con.execute("SELECT max(date) FROM vaccinations").fetchone()[0]
con.execute(f'''
COPY (
    WITH first_units AS (SELECT unit_code FROM units ORDER BY unit_code LIMIT {n}),
    series AS (
        SELECT unit_code, age_band, dose, arg_max(people_cumulative, date) AS last_value
        FROM vaccinations WHERE unit_code IN (SELECT unit_code FROM first_units)
        GROUP BY unit_code, age_band, dose
    )
    SELECT DATE '{last}' + 1 AS date, unit_code, age_band, dose,
           last_value + 1 + last_value % 5 AS people_cumulative
    FROM series ORDER BY unit_code, age_band, dose
) TO '{out}' (HEADER, FORMAT csv)''')
rows = con.execute(f"SELECT count(*) FROM read_csv('{out}')").fetchone()[0]
print(rows, last)
"""

# The pages: Streamlit's AppTest in a child, with the PagesManager patch of tests/conftest.py (every run as a
# running server's later runs). For each page: a fresh AppTest, every Streamlit cache cleared, the page's
# first render timed; then the same AppTest run again (warm caches), timed. A page other than the overview is
# reached as a user does: the app's first run (untimed), switch_page, then caches cleared and the timed run.
PAGES_CHILD = """
import json, sys, time
T0 = time.perf_counter()
import streamlit as st
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest, app_test

class _NavigationPagesManager(PagesManager):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        PagesManager.uses_pages_directory = False

app_test.PagesManager = _NavigationPagesManager
from dashboard.access import SESSION_KEY

app, pages, user, timeout = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3], float(sys.argv[4])

def fresh():
    at = AppTest.from_file(app, default_timeout=timeout)
    at.session_state["lang"] = "vi"
    at.session_state[SESSION_KEY] = user
    return at

def checked(at, page):
    problems = [str(e.value) for e in at.exception] + [str(e.value) for e in at.error]
    if problems:
        raise SystemExit(f"{page}: {problems[:3]}")

def clear():
    st.cache_data.clear()
    st.cache_resource.clear()

at = fresh()
at.run()
checked(at, "first run")
result = {"cold_start": time.perf_counter() - T0, "pages": {}}
for page in pages:
    at = fresh()
    if page != "pages/overview.py":
        at.run()
        at.switch_page(page)
    clear()
    t = time.perf_counter()
    at.run()
    first = time.perf_counter() - t
    checked(at, page)
    t = time.perf_counter()
    at.run()
    again = time.perf_counter() - t
    checked(at, page)
    result["pages"][page] = [first, again]
print(json.dumps(result))
"""
