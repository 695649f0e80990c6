"""Benchmark of the tracker against peers measured in the same run: `make bench` (or `.venv/bin/python bench/run.py`).

Every performance claim is a ratio against a peer that does the same job with DuckDB alone, timed in the same
run on the same machine, interleaved with the tracker's runs (project issue 12). Per scale (--scales, default
"1,4": 700 and 2,800 units × 750 days, 6.3 M and 25.2 M vaccination rows):

* CSV load   -- `tracker ingest vaccinations.csv --kind vaccinations` into a fresh store holding the units and
                population (untimed setup), against a fresh interpreter doing DuckDB
                `CREATE TABLE vaccinations AS SELECT * FROM read_csv(...)` into a new database file;
* report     -- `tracker report --as-of <last date> --format csv`, against one DuckDB SQL query (built from
                targets.toml and config.toml, see report_sql) that computes the same table in a fresh
                interpreter importing only duckdb, on the store's database file opened read-only. Both are run
                once first and their tables compared (CHECK); a difference is printed and fails the run;
* daily drop -- `tracker ingest day.csv` (one day, the first 700 units × every series the store has) into a
                copy of that store, against DuckDB `INSERT INTO vaccinations SELECT ... FROM read_csv('day.csv')`
                into another copy;

and at 1× the dashboard's pages in Streamlit's AppTest (first render with cold caches, re-render warm).

Each measured command is a separate process: wall time, CPU time (user + system, all threads, from os.wait4)
and peak RSS (ru_maxrss) of that process. Figures are the median of --repeat runs (peak RSS: the max). The
machine's load average is printed at the start and at the end. Goals are PASS/FAIL lines; the exit status is 1
only when a command fails or the report tables differ.

This runner imports only the standard library on purpose: a child forked from a big parent inherits the
parent's resident pages until it execs, and Linux counts those in the child's ru_maxrss.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import math
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from dataclasses import dataclass, field
from fractions import Fraction
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "var" / "bench"
STORES_DIR = BENCH_DIR / "stores"
RESULTS_MD = BENCH_DIR / "results.md"
META_FILE = "bench.json"
TABLES = ("units", "population", "vaccinations", "cases")
PAGES = ("pages/overview.py", "pages/districts.py", "pages/trends.py", "pages/risk.py", "pages/upload.py")
BENCH_USER = "bench"  # the analyst the upload page is rendered for (added to the pages' store, untimed)

DEFAULT_UNITS = 700
DEFAULT_DAYS = 750
MB = 1_000_000

# Goals (issue 12): ratios against the peer of the same run, and the dashboard's render times at 1×.
REPORT_CPU_GOAL = 1.2  # tracker report CPU <= 1.2 × the SQL query's
REPORT_RSS_GOAL = 1.5  # tracker report peak RSS <= 1.5 × the SQL query's
INGEST_CPU_GOAL = 1.3  # tracker ingest CPU <= 1.3 × DuckDB's CREATE TABLE AS read_csv
INGEST_RSS_BYTES = 2_000_000_000  # tracker ingest peak RSS <= 2 GB at 4×
DROP_GOAL = 2.0  # daily drop CPU <= 2 × DuckDB's INSERT of the same rows
DROP_SCALING = 0.2  # daily drop CPU at 4× within ±20 % of the CPU at 1×
FIRST_RENDER_GOAL = 3.0  # seconds, each page, cold caches, 1×
RERENDER_GOAL = 0.5  # seconds, each page, warm caches, 1×

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


# --------------------------------------------------------------------------------------------------
# Running one child process
# --------------------------------------------------------------------------------------------------


@dataclass
class Run:
    """One finished child process."""

    argv: list[str]
    seconds: float  # wall time, Popen to reaped
    cpu: float  # user + system CPU seconds of the process (all its threads)
    maxrss: int  # bytes (ru_maxrss is KiB on Linux)
    returncode: int
    stdout: str
    stderr: str
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out


def run(argv: list[str], timeout: float, env: dict | None = None, stdin: bytes | None = None) -> Run:
    """Run argv to completion; wall time, CPU time and peak RSS of that one process (os.wait4)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, tempfile.TemporaryFile() as inp:
        if stdin is not None:
            inp.write(stdin)
            inp.seek(0)
        start = time.perf_counter()
        proc = subprocess.Popen(
            argv, stdin=inp if stdin is not None else subprocess.DEVNULL, stdout=out, stderr=err, cwd=ROOT, env=env
        )
        timed_out = threading.Event()

        def kill():
            timed_out.set()
            try:
                os.kill(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

        timer = threading.Timer(timeout, kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here: keep Popen from waiting again
        out.seek(0)
        err.seek(0)
        return Run(
            argv=list(argv),
            seconds=seconds,
            cpu=usage.ru_utime + usage.ru_stime,
            maxrss=usage.ru_maxrss * 1024,
            returncode=proc.returncode,
            stdout=out.read().decode("utf-8", "replace"),
            stderr=err.read().decode("utf-8", "replace"),
            timed_out=timed_out.is_set(),
        )


def describe_failure(r: Run) -> str:
    what = "timed out" if r.timed_out else f"exited {r.returncode}"
    tail = "\n".join((r.stderr or r.stdout).strip().splitlines()[-15:])
    argv = " ".join(a if len(a) < 200 else a[:200] + "…" for a in r.argv)
    return f"FAILED ({what}): {argv}\n{tail}"


# --------------------------------------------------------------------------------------------------
# Datasets and their configuration
# --------------------------------------------------------------------------------------------------


def data_dir(units: int, days: int) -> Path:
    return BENCH_DIR / f"data-{units}x{days}"


def dataset_ready(folder: Path, units: int, days: int) -> bool:
    """The cached dataset exists, is complete and has the asked shape."""
    try:
        meta = json.loads((folder / META_FILE).read_text())
    except (FileNotFoundError, ValueError):
        return False
    if meta.get("units") != units or meta.get("days") != days:
        return False
    return all((folder / f"{t}.csv").is_file() for t in TABLES)


def configure(folder: Path) -> None:
    """The dataset folder gets the project's configuration, with upload limits raised for a country-sized
    file (a deployment at that scale raises them the same way, in its config.toml)."""
    folder.mkdir(parents=True, exist_ok=True)
    project = ROOT / "data"
    for name in ("targets.toml", "risk_rules.toml"):
        shutil.copyfile(project / name, folder / name)
    config = (project / "config.toml").read_text(encoding="utf-8")
    config = re.sub(r"(?m)^max_mb = \d+$", "max_mb = 4096", config)
    config = re.sub(r"(?m)^max_rows = \d+$", "max_rows = 1000000000", config)
    (folder / "config.toml").write_text(config, encoding="utf-8")
    (folder / "dataset.toml").write_text(
        '[dataset]\nsample = true\nlabel_vi = "Số liệu tổng hợp cho đo hiệu năng"\n'
        'label_en = "Synthetic benchmark data"\n',
        encoding="utf-8",
    )


def generate(python: str, folder: Path, units: int, days: int, timeout: float) -> Run:
    (folder / META_FILE).unlink(missing_ok=True)  # incomplete until the generator succeeds
    argv = [python, "-m", "tracker.sample", "--units", str(units), "--days", str(days), "--out", str(folder)]
    r = run(argv, timeout, env=dict(os.environ))
    if r.ok:
        meta = {"units": units, "days": days, "generated": dt.datetime.now().isoformat(timespec="seconds")}
        (folder / META_FILE).write_text(json.dumps(meta) + "\n")
    return r


def warm(path: Path) -> None:
    """Read a file once so every timed run starts with it in the page cache."""
    with path.open("rb") as fh:
        while fh.read(1 << 24):
            pass


def last_csv_date(path: Path) -> str:
    """The last report date of a generated vaccinations.csv (its rows are in date order): its last line."""
    with path.open("rb") as fh:
        fh.seek(max(0, path.stat().st_size - 4096))
        line = fh.read().decode("utf-8").strip().splitlines()[-1]
    return line.split(",", 1)[0]


@dataclass(frozen=True)
class Target:
    id: str
    group: str
    bands: tuple[str, ...]
    dose: int
    threshold: Fraction
    deadline: dt.date


@dataclass(frozen=True)
class ReportConfig:
    """What the report needs from the dataset's config.toml and targets.toml, read as tracker/config.py does
    (thresholds and the at-risk ratio as exact fractions of their decimal text)."""

    province: str
    at_risk_ratio: Fraction
    targets: tuple[Target, ...]


def read_report_config(folder: Path) -> ReportConfig:
    config = tomllib.loads((folder / "config.toml").read_text(encoding="utf-8"))
    targets = tomllib.loads((folder / "targets.toml").read_text(encoding="utf-8"))
    bands = [b["id"] for b in config["band"]]
    groups = {}
    for g in config["group"]:
        for name in (g["id"], *g.get("aliases", ())):
            groups[name] = tuple(g["bands"])

    def group_bands(name: str) -> tuple[str, ...]:
        if name in groups:
            return groups[name]
        if name in bands:
            return (name,)
        raise ValueError(f"targets.toml: unknown group {name!r}")

    return ReportConfig(
        province=config["province"]["name_vi"],
        at_risk_ratio=Fraction(str(config.get("status", {}).get("at_risk_ratio", 0.75))),
        targets=tuple(
            Target(
                id=t["id"],
                group=t["group"],
                bands=group_bands(t["group"]),
                dose=int(t["dose"]),
                threshold=Fraction(str(t["threshold"])),
                deadline=t["deadline"],
            )
            for t in targets["target"]
        ),
    )


# --------------------------------------------------------------------------------------------------
# The report peer: one SQL query
# --------------------------------------------------------------------------------------------------


def _sql_text(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def report_sql(cfg: ReportConfig, as_of: dt.date) -> str:
    """One DuckDB query computing the table of `tracker report --as-of AS_OF --format csv` (docs/rules.md).

    people(unit, group, dose, t) = the sum over the group's bands of each band series' last people_cumulative
    on or before t (0 where a band has no report yet); the arg_max aggregates read every date a target needs
    (as_of, as_of - 7 days, each deadline) in one scan of the doses the targets ask for. Every target figure
    is integer arithmetic: ceil(p/q × population) = (p × population + q - 1) // q, status comparisons as in
    tracker.core._judge. It assumes band labels only (no report of a whole group), as the synthetic data has.
    """
    week_before = as_of - dt.timedelta(days=7)
    dates = sorted({as_of, week_before, *(t.deadline for t in cfg.targets)})
    col = {d: f"at_{i}" for i, d in enumerate(dates)}
    last_day = (dt.date(9999, 12, 31) - as_of).days  # tracker: no projection beyond the last representable date
    rn, rd = cfg.at_risk_ratio.numerator, cfg.at_risk_ratio.denominator
    targets = ",\n        ".join(
        f"({i}, {_sql_text(t.id)}, {_sql_text(t.group)}, {t.dose}, {t.threshold.numerator}, "
        f"{t.threshold.denominator}, DATE '{t.deadline}')"
        for i, t in enumerate(cfg.targets)
    )
    target_bands = ", ".join(f"({i}, {_sql_text(b)})" for i, t in enumerate(cfg.targets) for b in t.bands)
    doses = ", ".join(sorted({str(t.dose) for t in cfg.targets}))
    last_values = ",\n        ".join(
        f"arg_max(people_cumulative, date) FILTER (WHERE date <= DATE '{d}') AS {col[d]}" for d in dates
    )
    deadline_pick = " ".join(f"WHEN {i} THEN s.{col[t.deadline]}" for i, t in enumerate(cfg.targets))
    return f"""
WITH
targets (ord, target_id, grp, dose, p, q, deadline) AS (VALUES
        {targets}),
target_bands (ord, age_band) AS (VALUES {target_bands}),
series AS (  -- each series' last value on or before each date needed, one scan
    SELECT unit_code, age_band, dose,
        {last_values}
    FROM vaccinations
    WHERE dose IN ({doses}) AND date <= DATE '{dates[-1]}'
    GROUP BY unit_code, age_band, dose
),
group_people AS (  -- per target and unit: the sum over the group's bands
    SELECT t.ord, s.unit_code,
        sum(s.{col[as_of]}) AS people,
        sum(s.{col[week_before]}) AS people_week_before,
        sum(CASE t.ord {deadline_pick} END) AS people_deadline
    FROM series s
    JOIN target_bands b ON b.age_band = s.age_band
    JOIN targets t ON t.ord = b.ord AND t.dose = s.dose
    GROUP BY t.ord, s.unit_code
),
group_population AS (
    SELECT b.ord, p.unit_code, sum(p.population) AS population
    FROM population p JOIN target_bands b ON b.age_band = p.age_band
    GROUP BY b.ord, p.unit_code
),
per_unit AS (
    SELECT 0 AS is_total, t.ord, u.unit_code, u.unit_name,
        coalesce(g.people, 0)::BIGINT AS people,
        coalesce(g.people_week_before, 0)::BIGINT AS people_week_before,
        coalesce(g.people_deadline, 0)::BIGINT AS people_deadline,
        pop.population::BIGINT AS population
    FROM units u CROSS JOIN targets t
    LEFT JOIN group_people g ON g.ord = t.ord AND g.unit_code = u.unit_code
    LEFT JOIN group_population pop ON pop.ord = t.ord AND pop.unit_code = u.unit_code
),
per_row AS (
    SELECT * FROM per_unit
    UNION ALL
    SELECT 1, ord, 'TOTAL', {_sql_text(cfg.province)}, sum(people)::BIGINT, sum(people_week_before)::BIGINT,
        sum(people_deadline)::BIGINT, sum(population)::BIGINT
    FROM per_unit GROUP BY ord
),
judged AS (
    SELECT r.*, t.target_id, t.grp, t.dose, t.p, t.q, t.deadline,
        (t.p * r.population + t.q - 1) // t.q AS needed_total,
        greatest(0, (t.p * r.population + t.q - 1) // t.q - r.people) AS needed,
        date_diff('day', DATE '{as_of}', t.deadline) AS days_left,
        r.people - r.people_week_before AS gained_7d
    FROM per_row r JOIN targets t USING (ord)
)
SELECT unit_code, unit_name, target_id, grp AS "group", dose, people, population,
    people / population AS coverage,
    p / q AS threshold,
    deadline,
    needed AS people_needed,
    days_left,
    gained_7d / 7 AS pace_7d,
    CASE WHEN days_left > 0 THEN needed / days_left END AS required_daily,
    CASE WHEN needed > 0 AND gained_7d > 0 AND (7 * needed + gained_7d - 1) // gained_7d <= {last_day}
        THEN DATE '{as_of}' + ((7 * needed + gained_7d - 1) // gained_7d)::INTEGER END AS projected_date,
    CASE
        WHEN DATE '{as_of}' >= deadline THEN CASE WHEN people_deadline >= needed_total THEN 'met' ELSE 'missed' END
        WHEN needed = 0 THEN 'met'
        WHEN gained_7d * days_left >= 7 * needed THEN 'on_track'
        WHEN gained_7d * days_left * {rd} >= 7 * needed * {rn} THEN 'at_risk'
        ELSE 'off_track'
    END AS status
FROM judged
ORDER BY is_total, ord, unit_code
"""


# --------------------------------------------------------------------------------------------------
# Comparing two CSV tables
# --------------------------------------------------------------------------------------------------

_INT = re.compile(r"[+-]?\d+")


def _number(text: str) -> int | float | None:
    if _INT.fullmatch(text):
        return int(text)
    try:
        return float(text)
    except ValueError:
        return None


def cells_equal(a: str, b: str, rel: float = 1e-9) -> bool:
    """Two CSV cells hold the same value: the same text; or numbers equal (integers exactly, others within a
    relative 1e-9; 12 and 12.0 are equal); empty only equals empty. Dates are compared as text (ISO)."""
    if a == b:
        return True
    if a == "" or b == "":
        return False
    x, y = _number(a), _number(b)
    if x is None or y is None:
        return False
    if isinstance(x, int) and isinstance(y, int):
        return x == y
    if math.isnan(x) or math.isnan(y):
        return False
    return math.isclose(x, y, rel_tol=rel, abs_tol=0.0)


def compare_tables(left: str, right: str, names: tuple[str, str] = ("tracker", "peer"), limit: int = 10) -> list[str]:
    """The differences between two CSV texts (header and every cell, row by row, in order), at most `limit`
    of them described; an empty list when the tables are equal."""
    a = list(csv.reader(io.StringIO(left)))
    b = list(csv.reader(io.StringIO(right)))
    problems: list[str] = []
    if not a or not b:
        return [f"empty table: {names[0]} {len(a)} lines, {names[1]} {len(b)} lines"]
    if a[0] != b[0]:
        return [f"columns differ: {names[0]} {a[0]} / {names[1]} {b[0]}"]
    header = a[0]
    if len(a) != len(b):
        problems.append(f"row count differs: {names[0]} {len(a) - 1}, {names[1]} {len(b) - 1}")
    differing = 0
    for i, (ra, rb) in enumerate(zip(a[1:], b[1:], strict=False), start=1):
        if len(ra) != len(header) or len(rb) != len(header):
            differing += 1
            if len(problems) < limit:
                problems.append(f"row {i}: {len(ra)} / {len(rb)} cells for {len(header)} columns")
            continue
        bad = [j for j in range(len(header)) if not cells_equal(ra[j], rb[j])]
        if bad:
            differing += 1
            if len(problems) < limit:
                key = ", ".join(ra[:3])
                what = "; ".join(f"{header[j]}: {ra[j]!r} vs {rb[j]!r}" for j in bad[:4])
                problems.append(f"row {i} ({key}): {what}")
    if differing > 0:
        problems.append(f"{differing} row(s) differ in all")
    return problems


# --------------------------------------------------------------------------------------------------
# Machine
# --------------------------------------------------------------------------------------------------


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024**2:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def load_average() -> str:
    """The 1, 5 and 15 minute load averages: other work on the machine skews every figure."""
    try:
        return " / ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def revision() -> str:
    """The commit measured, and whether tracker/ differs from it (others may be editing it)."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "tracker", "dashboard", "pages", "app.py"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return head + (" with uncommitted changes in the measured code" if dirty else "")


def machine() -> dict[str, str]:
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cpus": f"{usable} usable ({os.cpu_count()} online), {_cpu_model()}",
        "memory": _memory_gib(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "duckdb": _version("duckdb"),
        "pandas": _version("pandas"),
        "pyarrow": _version("pyarrow"),
        "streamlit": _version("streamlit"),
        "commit": revision(),
    }


# --------------------------------------------------------------------------------------------------
# Measurements
# --------------------------------------------------------------------------------------------------


@dataclass
class Measure:
    """The timed runs of one command."""

    name: str
    runs: list[Run] = field(default_factory=list)
    failed: bool = False

    def add(self, r: Run) -> None:
        self.runs.append(r)
        if not r.ok:
            self.failed = True

    @property
    def good(self) -> list[Run]:
        return [r for r in self.runs if r.ok]

    @property
    def wall(self) -> float | None:
        return statistics.median(r.seconds for r in self.good) if self.good else None

    @property
    def cpu(self) -> float | None:
        return statistics.median(r.cpu for r in self.good) if self.good else None

    @property
    def rss(self) -> int | None:
        return max(r.maxrss for r in self.good) if self.good else None


@dataclass
class Pair:
    """A tracker command and its peer, run alternately."""

    what: str
    tracker: Measure
    peer: Measure
    note: str = ""
    check_failed: bool = False

    def ratio(self, attr: str) -> float | None:
        a, b = getattr(self.tracker, attr), getattr(self.peer, attr)
        return a / b if a is not None and b else None


@dataclass
class Scale:
    factor: int
    units: int
    rows: int | None = None
    pairs: dict[str, Pair] = field(default_factory=dict)
    setup_seconds: float = 0.0
    seconds: float = 0.0


class Bench:
    def __init__(self, args, python: str, tracker: str):
        self.args = args
        self.python = python
        self.tracker = tracker
        self.failures: list[str] = []
        self.notes: list[str] = []

    # ---------------------------------------------------------------- helpers

    def log(self, msg: str) -> None:
        print(msg, flush=True)

    def fail(self, msg: str) -> None:
        print(msg, flush=True)
        self.failures.append(msg)

    def env(self, data: Path, **extra: str) -> dict:
        return {**os.environ, "TRACKER_DATA": str(data), **extra}

    def setup(self, argv: list[str], data: Path, stdin: bytes | None = None) -> bool:
        """An untimed setup command; a failure is reported and stops the measurement that needed it."""
        r = run(argv, self.args.timeout, env=self.env(data), stdin=stdin)
        if not r.ok:
            self.fail(describe_failure(r))
        return r.ok

    def timed(self, m: Measure, argv: list[str], data: Path, label: str) -> Run:
        r = run(argv, self.args.timeout, env=self.env(data))
        m.add(r)
        if r.ok:
            self.log(f"    {label:8} {r.seconds:7.2f} s wall  {r.cpu:7.2f} s CPU  {r.maxrss / MB:7,.0f} MB peak")
        else:
            self.fail(describe_failure(r))
        return r

    def fresh_store(self, data: Path) -> Path | None:
        """A new store holding the dataset's units and population (untimed setup)."""
        STORES_DIR.mkdir(parents=True, exist_ok=True)
        store = Path(tempfile.mkdtemp(prefix="store-", dir=STORES_DIR))
        for kind in ("units", "population"):
            argv = [self.tracker, "ingest", str(data / f"{kind}.csv"), "--kind", kind, "--store", str(store)]
            if not self.setup(argv, data):
                shutil.rmtree(store, ignore_errors=True)
                return None
        return store

    @staticmethod
    def copy_store(store: Path) -> Path:
        """A copy of a store: the database copied, the raw files (content-addressed, never modified in place)
        hard-linked. Untimed."""
        copy = Path(tempfile.mkdtemp(prefix="copy-", dir=STORES_DIR))
        shutil.rmtree(copy)

        def link_or_copy(src, dst):
            if os.sep + "raw" + os.sep in src:
                try:
                    os.link(src, dst)
                    return dst
                except OSError:
                    pass
            return shutil.copy2(src, dst)

        shutil.copytree(store, copy, copy_function=link_or_copy)
        return copy

    # ---------------------------------------------------------------- the dataset

    def dataset(self, units: int) -> Path | None:
        folder = data_dir(units, self.args.days)
        configure(folder)
        if self.args.regenerate or not dataset_ready(folder, units, self.args.days):
            self.log(f"  generating {units} units × {self.args.days} days into {_rel(folder)}/ …")
            g = generate(self.python, folder, units, self.args.days, self.args.timeout)
            if not g.ok:
                self.fail(describe_failure(g))
                return None
            self.log(f"  generated in {g.seconds:.0f} s (peak {g.maxrss / MB:,.0f} MB)")
        else:
            self.log(f"  cached dataset {_rel(folder)}/ (--regenerate to make it again)")
        csv_path = folder / "vaccinations.csv"
        self.log(f"  {_rel(csv_path)}: {csv_path.stat().st_size / MB:,.0f} MB")
        return folder

    # ---------------------------------------------------------------- 1. CSV load

    def csv_load(self, data: Path) -> tuple[Pair, Path | None]:
        csv_path = data / "vaccinations.csv"
        sql = (
            f"CREATE TABLE vaccinations AS SELECT * FROM read_csv({_sql_text(csv_path)}, header = true, "
            f"columns = {VACCINATION_COLUMNS})"
        )
        pair = Pair("CSV load", Measure("tracker ingest"), Measure("DuckDB CREATE TABLE AS read_csv"))
        pair.note = f"peer SQL: {sql.replace(str(csv_path), _rel(csv_path))}"
        kept = None
        warm(csv_path)
        for i in range(self.args.repeat):
            self.log(f"  run {i + 1}/{self.args.repeat}")
            store = self.fresh_store(data)
            if store is None:
                pair.tracker.failed = True
                break
            argv = [self.tracker, "ingest", str(csv_path), "--kind", "vaccinations", "--store", str(store)]
            r = self.timed(pair.tracker, argv, data, "tracker")
            if not r.ok:
                shutil.rmtree(store, ignore_errors=True)
                break
            if kept is not None:
                shutil.rmtree(kept, ignore_errors=True)
            kept = store
            peer_dir = Path(tempfile.mkdtemp(prefix="peer-", dir=STORES_DIR))
            self.timed(pair.peer, [self.python, "-c", CSV_PEER, str(peer_dir / "peer.duckdb"), sql], data, "peer")
            shutil.rmtree(peer_dir, ignore_errors=True)
        return pair, kept

    # ---------------------------------------------------------------- 2. report

    def report(self, data: Path, store: Path, as_of: str) -> Pair:
        cfg = read_report_config(data)
        db = str(store / "tracker.duckdb")
        pair = Pair("report", Measure(f"tracker report --as-of {as_of}"), Measure("DuckDB one SQL query"))

        def tracker_argv(date: str) -> list[str]:
            return [self.tracker, "report", "--as-of", date, "--store", str(store), "--format", "csv"]

        def peer_argv(date: str) -> list[str]:
            return [self.python, "-c", REPORT_PEER, db, report_sql(cfg, dt.date.fromisoformat(date))]

        # CHECK before timing: the two tables must be equal, at the timed date and at a date before the
        # deadlines (where on_track / at_risk / off_track are decided, not met / missed).
        check_dates = [as_of]
        early = min(t.deadline for t in cfg.targets) - dt.timedelta(weeks=11)  # mid-October: every status
        first = dt.date.fromisoformat(as_of) - dt.timedelta(days=self.args.days - 1)
        if first <= early < dt.date.fromisoformat(as_of):
            check_dates.append(early.isoformat())
        for date in check_dates:
            t = run(tracker_argv(date), self.args.timeout, env=self.env(data))
            p = run(peer_argv(date), self.args.timeout, env=self.env(data))
            for r in (t, p):
                if not r.ok:
                    self.fail(describe_failure(r))
            if not (t.ok and p.ok):
                pair.check_failed = True
                continue
            problems = compare_tables(t.stdout, p.stdout)
            statuses = _count_statuses(t.stdout)
            rows = max(0, len(t.stdout.strip().splitlines()) - 1)
            if problems:
                pair.check_failed = True
                self.fail(f"CHECK FAILED: the report at {date} differs between the tracker and the SQL peer:")
                for line in problems:
                    self.fail(f"    {line}")
            else:
                self.log(f"  check at {date}: the tables are equal ({rows} rows; statuses {statuses})")
        pair.note = "equal tables at " + ", ".join(check_dates) if not pair.check_failed else "TABLES DIFFER"
        for i in range(self.args.repeat):
            self.log(f"  run {i + 1}/{self.args.repeat}")
            self.timed(pair.tracker, tracker_argv(as_of), data, "tracker")
            self.timed(pair.peer, peer_argv(as_of), data, "peer")
        return pair

    # ---------------------------------------------------------------- 3. daily drop

    def daily_drop(self, data: Path, store: Path) -> Pair:
        pair = Pair("daily drop", Measure("tracker ingest day.csv"), Measure("DuckDB INSERT … read_csv"))
        day = store.parent / f"{store.name}-day.csv"
        code = [self.python, "-c", DAY_FILE, str(store / "tracker.duckdb"), str(day), str(self.args.units)]
        r = run(code, self.args.timeout, env=self.env(data))
        if not r.ok:
            self.fail(describe_failure(r))
            pair.tracker.failed = pair.peer.failed = True
            return pair
        rows, date = r.stdout.split()
        self.log(f"  day.csv: {int(rows):,} rows dated the day after {date} (first {self.args.units} units)")
        sql = (
            "INSERT INTO vaccinations SELECT date, unit_code, age_band, dose, people_cumulative, 0 AS drop_id "
            f"FROM read_csv({_sql_text(day)}, header = true, columns = {VACCINATION_COLUMNS})"
        )
        pair.note = f"{int(rows):,} rows; peer SQL: {sql.replace(str(day), 'day.csv')}"
        for i in range(self.args.repeat):
            self.log(f"  run {i + 1}/{self.args.repeat}")
            copy = self.copy_store(store)
            argv = [self.tracker, "ingest", str(day), "--kind", "vaccinations", "--store", str(copy)]
            self.timed(pair.tracker, argv, data, "tracker")
            shutil.rmtree(copy, ignore_errors=True)
            copy = self.copy_store(store)
            self.timed(pair.peer, [self.python, "-c", DROP_PEER, str(copy / "tracker.duckdb"), sql], data, "peer")
            shutil.rmtree(copy, ignore_errors=True)
        day.unlink(missing_ok=True)
        return pair

    # ---------------------------------------------------------------- 4. pages

    def pages(self, data: Path, store: Path) -> dict | None:
        copy = self.copy_store(store)
        try:
            add = [self.tracker, "user", "add", BENCH_USER, "--password-stdin", "--store", str(copy)]
            if not self.setup(add, data, stdin=b"bench-password-not-secret\n"):
                return None
            env = self.env(data, TRACKER_STORE=str(copy))
            env.pop("TRACKER_BOUNDARIES", None)
            runs = []
            for i in range(self.args.repeat):
                argv = [
                    self.python,
                    "-c",
                    PAGES_CHILD,
                    str(ROOT / "app.py"),
                    json.dumps(PAGES),
                    BENCH_USER,
                    str(self.args.timeout),
                ]
                r = run(argv, self.args.timeout, env=env)
                if not r.ok:
                    self.fail(describe_failure(r))
                    return None
                result = json.loads(r.stdout.strip().splitlines()[-1])
                runs.append(result)
                shown = "  ".join(f"{Path(p).stem} {f:.2f}/{a:.2f}" for p, (f, a) in result["pages"].items())
                self.log(f"  run {i + 1}/{self.args.repeat}: first/re-render (s): {shown}")
            return {
                "cold_start": [r["cold_start"] for r in runs],
                "pages": {p: ([r["pages"][p][0] for r in runs], [r["pages"][p][1] for r in runs]) for p in PAGES},
            }
        finally:
            shutil.rmtree(copy, ignore_errors=True)

    # ---------------------------------------------------------------- 0. start-up

    def startup(self) -> Pair:
        """What every command pays before its work, whatever the data: the interpreter and the imports of
        `tracker report` and `tracker ingest` (pandas, pyarrow, numpy, duckdb, the tracker's modules), against
        the peers' interpreter and `import duckdb`."""
        pair = Pair("start-up", Measure("python + the tracker's imports"), Measure("python + import duckdb"))
        mine = "import tracker.cli, tracker.core, tracker.reports, tracker.store, tracker.ingest"
        pair.note = f"tracker: python -c '{mine}'; peer: python -c 'import duckdb'"
        for i in range(self.args.repeat):
            self.log(f"  run {i + 1}/{self.args.repeat}")
            self.timed(pair.tracker, [self.python, "-c", mine], ROOT, "tracker")
            self.timed(pair.peer, [self.python, "-c", "import duckdb"], ROOT, "peer")
        return pair

    # ---------------------------------------------------------------- one scale

    def scale(self, factor: int, pages: bool) -> tuple[Scale, dict | None]:
        units = self.args.units * factor
        sc = Scale(factor, units)
        start = time.perf_counter()
        self.log(f"\n== {factor}× : {units:,} units × {self.args.days} days")
        data = self.dataset(units)
        if data is None:
            return sc, None
        as_of = last_csv_date(data / "vaccinations.csv")

        self.log("\n 1. CSV load (tracker: fresh store with units and population each run, untimed setup)")
        pair, store = self.csv_load(data)
        sc.pairs["ingest"] = pair
        stored = [re.search(r"(\d+) rows stored", r.stdout) for r in pair.tracker.good]
        sc.rows = int(stored[-1].group(1)) if stored and stored[-1] else None
        if store is None:
            return sc, None
        page_figures = None
        try:
            self.log(f"\n 2. report --as-of {as_of} (tracker CLI against one DuckDB SQL query)")
            sc.pairs["report"] = self.report(data, store, as_of)
            self.log(f"\n 3. daily drop into a copy of the {factor}× store")
            sc.pairs["drop"] = self.daily_drop(data, store)
            if pages:
                self.log("\n 4. pages (Streamlit AppTest; first render with cold caches, then a re-render)")
                page_figures = self.pages(data, store)
        finally:
            shutil.rmtree(store, ignore_errors=True)
        sc.seconds = time.perf_counter() - start
        return sc, page_figures


def _count_statuses(text: str) -> str:
    counts: dict[str, int] = {}
    for row in csv.DictReader(io.StringIO(text)):
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))


# --------------------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------------------


def _rel(path: Path | str) -> str:
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def _secs(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.2f} s" if value >= 0.1 else f"{value:.3f} s"


def _mem(value: int | None) -> str:
    return "—" if value is None else f"{value / MB:,.0f} MB"


def _ratio(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}×"


FIGURE_HEADER = [
    "measure",
    "tracker CPU",
    "peer CPU",
    "CPU ratio",
    "tracker wall",
    "peer wall",
    "wall ratio",
    "tracker peak RSS",
    "peer peak RSS",
    "RSS ratio",
]
GOAL_HEADER = ["goal", "measured", "result"]
PAGE_HEADER = ["page", "first render (cold caches)", "re-render (warm)", "first, all runs (s)", "re-render, all runs"]


def figure_rows(sc: Scale) -> list[list[str]]:
    rows = []
    for pair in sc.pairs.values():
        t, p = pair.tracker, pair.peer
        rows.append(
            [
                f"{pair.what}: {t.name} / {p.name}",
                _secs(t.cpu),
                _secs(p.cpu),
                _ratio(pair.ratio("cpu")),
                _secs(t.wall),
                _secs(p.wall),
                _ratio(pair.ratio("wall")),
                _mem(t.rss),
                _mem(p.rss),
                _ratio(pair.ratio("rss")),
            ]
        )
    return rows


def run_lines(sc: Scale) -> list[str]:
    lines = []
    for pair in sc.pairs.values():
        for m in (pair.tracker, pair.peer):
            walls = " / ".join(f"{r.seconds:.2f}" for r in m.good) or "—"
            cpus = " / ".join(f"{r.cpu:.2f}" for r in m.good) or "—"
            lines.append(f"{pair.what}, {m.name}: wall {walls} s; CPU {cpus} s")
        if pair.note:
            lines.append(f"{pair.what}: {pair.note}")
    return lines


def verdict(ok: bool | None) -> str:
    return "— (not measured)" if ok is None else ("PASS" if ok else "FAIL")


def goal_rows(scales: list[Scale], pages: dict | None, args) -> list[list[str]]:
    rows: list[list[str]] = []
    by_factor = {sc.factor: sc for sc in scales}
    for sc in scales:
        tag = f"{sc.factor}×"
        report = sc.pairs.get("report")
        if report is not None:
            r = report.ratio("cpu")
            ok = None if r is None else r <= REPORT_CPU_GOAL
            if report.check_failed:
                ok = False
            measured = _ratio(r) + (" (tables differ)" if report.check_failed else "")
            rows.append([f"{tag} report CPU ≤ {REPORT_CPU_GOAL:g}× the SQL query's", measured, verdict(ok)])
            r = report.ratio("rss")
            ok = None if r is None else r <= REPORT_RSS_GOAL
            rows.append([f"{tag} report peak RSS ≤ {REPORT_RSS_GOAL:g}× the SQL query's", _ratio(r), verdict(ok)])
        ingest = sc.pairs.get("ingest")
        if ingest is not None:
            r = ingest.ratio("cpu")
            ok = None if r is None else r <= INGEST_CPU_GOAL
            rows.append([f"{tag} ingest CPU ≤ {INGEST_CPU_GOAL:g}× DuckDB's CREATE TABLE AS", _ratio(r), verdict(ok)])
            if sc.factor == 4:
                rss = ingest.tracker.rss
                ok = None if rss is None else rss <= INGEST_RSS_BYTES
                rows.append([f"{tag} ingest peak RSS ≤ {INGEST_RSS_BYTES / 1e9:g} GB", _mem(rss), verdict(ok)])
        drop = sc.pairs.get("drop")
        if drop is not None:
            r = drop.ratio("cpu")
            ok = None if r is None else r <= DROP_GOAL
            measured = f"{_ratio(r)} CPU ({_ratio(drop.ratio('wall'))} wall)"
            rows.append([f"{tag} daily drop CPU ≤ {DROP_GOAL:g}× DuckDB's INSERT", measured, verdict(ok)])
    one, four = by_factor.get(1), by_factor.get(4)
    if one is not None and four is not None and "drop" in one.pairs and "drop" in four.pairs:
        a, b = one.pairs["drop"].tracker, four.pairs["drop"].tracker
        cpu = b.cpu / a.cpu if a.cpu and b.cpu is not None else None
        wall = b.wall / a.wall if a.wall and b.wall is not None else None
        ok = None if cpu is None else abs(cpu - 1) <= DROP_SCALING
        rows.append(
            [
                f"daily drop CPU at 4× within ±{DROP_SCALING:.0%} of 1×",
                f"{_ratio(cpu)} CPU ({_ratio(wall)} wall)",
                verdict(ok),
            ]
        )
    elif 4 in by_factor or 1 in by_factor:
        rows.append([f"daily drop CPU at 4× within ±{DROP_SCALING:.0%} of 1×", "needs 1× and 4× in one run", "—"])
    if pages is not None:
        for page in PAGES:
            first, again = pages["pages"][page]
            f, a = statistics.median(first), statistics.median(again)
            name = Path(page).stem
            goal = f"1× {name} first render ≤ {FIRST_RENDER_GOAL:g} s"
            rows.append([goal, _secs(f), verdict(f <= FIRST_RENDER_GOAL)])
            rows.append([f"1× {name} re-render ≤ {RERENDER_GOAL:g} s", _secs(a), verdict(a <= RERENDER_GOAL)])
    return rows


def page_rows(pages: dict) -> list[list[str]]:
    rows = []
    for page in PAGES:
        first, again = pages["pages"][page]
        rows.append(
            [
                page,
                _secs(statistics.median(first)),
                _secs(statistics.median(again)),
                " / ".join(f"{x:.2f}" for x in first),
                " / ".join(f"{x:.2f}" for x in again),
            ]
        )
    return rows


def text_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def line(r: list[str]) -> str:
        return "  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()

    return "\n".join([line(header), "  ".join("-" * w for w in widths), *(line(r) for r in rows)])


def md_table(header: list[str], rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    out += ["| " + " | ".join(str(c).replace("|", "\\|") for c in r) + " |" for r in rows]
    return "\n".join(out)


def report_text(when, mach, loads, args, scales, pages, goals, failures, markdown: bool) -> str:
    table = md_table if markdown else text_table
    h = (lambda level, s: "#" * level + " " + s) if markdown else (lambda level, s: s.upper() if level < 3 else s)
    parts = [h(1, f"Benchmark results ({when})"), ""]
    parts.append(f"Commit: {mach['commit']}")
    parts.append(f"Load average (1/5/15 min): at the start {loads[0]}; at the end {loads[1]}")
    parts.append("Machine: " + "; ".join(f"{k} {v}" for k, v in mach.items() if k != "commit"))
    parts.append(
        f"Each figure: the median of {args.repeat} runs (peak RSS: the max), each run a separate process; tracker "
        "and peer runs alternate. Ratios are tracker / peer, medians of the same run."
    )
    parts.append("")
    for sc in scales:
        rows = f"{sc.rows:,} vaccination rows" if sc.rows else ""
        if sc.factor == 0:  # the start-up, measured once
            parts += [h(2, "Start-up: the interpreter and the imports, paid by every command"), ""]
            parts += [table(FIGURE_HEADER, figure_rows(sc)), ""]
            parts += [("- " if markdown else "  ") + line for line in run_lines(sc)] + [""]
            continue
        parts += [h(2, f"{sc.factor}×: {sc.units:,} units × {args.days} days, {rows}"), ""]
        parts += [table(FIGURE_HEADER, figure_rows(sc)), ""]
        lines = run_lines(sc)
        parts += [("- " if markdown else "  ") + line for line in lines]
        parts += ["", f"({sc.factor}× took {sc.seconds / 60:.1f} min in all, with its untimed setup)", ""]
    if pages is not None:
        cold = pages["cold_start"]
        parts += [
            h(2, "Pages at 1× (Streamlit AppTest)"),
            "",
            table(PAGE_HEADER, page_rows(pages)),
            "",
            "The first render is a fresh AppTest with every Streamlit cache cleared; the re-render runs the same "
            "AppTest again (warm caches). Not counted: the child's start, imports and first app run "
            f"({' / '.join(f'{x:.1f}' for x in cold)} s).",
            "",
        ]
    parts += [h(2, "Goals"), "", table(GOAL_HEADER, goals), ""]
    if failures:
        parts += [h(2, "Failures"), "", "```" if markdown else "", *failures, "```" if markdown else "", ""]
    return "\n".join(parts) + "\n"


# --------------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------------


def parse_scales(text: str) -> list[int]:
    try:
        scales = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: scales are whole numbers, e.g. 1,4") from None
    if not scales or any(s < 1 for s in scales) or len(set(scales)) != len(scales):
        raise argparse.ArgumentTypeError(f"{text!r}: distinct positive whole numbers, e.g. 1,4")
    return scales


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/run.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--scales", type=parse_scales, default=[1, 4], help="multiples of --units (default 1,4)")
    parser.add_argument("--units", type=int, default=DEFAULT_UNITS, help=f"units at 1× (default {DEFAULT_UNITS})")
    parser.add_argument("--days", type=int, default=DEFAULT_DAYS, help=f"report days (default {DEFAULT_DAYS})")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each measurement, median kept (default 3)")
    parser.add_argument("--regenerate", action="store_true", help="generate the datasets again even when cached")
    parser.add_argument("--skip-pages", action="store_true", help="leave out the dashboard pages")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds before a command is killed")
    args = parser.parse_args(argv)
    if args.units < 1 or args.days < 8 or args.repeat < 1:
        parser.error("--units and --repeat must be positive, --days at least 8")

    python = sys.executable
    tracker = str(Path(python).with_name("tracker"))
    if not Path(tracker).is_file():
        tracker = shutil.which("tracker") or tracker
    bench = Bench(args, python, tracker)

    when = dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    mach = machine()
    load_start = load_average()
    started = time.perf_counter()
    print(f"tracker benchmark, {when}")
    for k, v in mach.items():
        print(f"  {k:9} {v}")
    print(f"  load      {load_start} (1/5/15 min, at the start)", flush=True)

    print("\n== start-up (interpreter and imports, whatever the data)")
    start = Scale(0, 0)
    start.pairs["startup"] = bench.startup()
    scales: list[Scale] = []
    pages = None
    for factor in args.scales:
        sc, figures = bench.scale(factor, pages=factor == 1 and not args.skip_pages)
        scales.append(sc)
        if figures is not None:
            pages = figures
    try:
        STORES_DIR.rmdir()
    except OSError:
        pass

    load_end = load_average()
    total = time.perf_counter() - started
    goals = goal_rows(scales, pages, args)
    loads = (load_start, load_end)
    print()
    print(report_text(when, mach, loads, args, [start, *scales], pages, goals, bench.failures, markdown=False))
    print(f"(the whole benchmark took {total / 60:.1f} min)")
    md = report_text(when, mach, loads, args, [start, *scales], pages, goals, bench.failures, markdown=True)
    md += f"\nThe whole benchmark took {total / 60:.1f} min.\n"
    RESULTS_MD.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_MD.write_text(md, encoding="utf-8")
    print(f"Markdown: {_rel(RESULTS_MD)}")

    if bench.failures:
        print("\ncommands failed or the report tables differ (see above): exit 1", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
