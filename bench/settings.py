"""The benchmark's paths, defaults and goals."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "var" / "bench"
STORES_DIR = BENCH_DIR / "stores"
RESULTS_MD = BENCH_DIR / "results.md"
META_FILE = "bench.json"
TABLES = ("units", "population", "vaccinations", "cases")
PAGES = ("pages/overview.py", "pages/districts.py", "pages/trends.py", "pages/risk.py", "pages/upload.py")
BENCH_USER = "bench"  # the analyst the upload page is rendered for (added to the pages' store, untimed)

# the days before each date tracker.reports reads for a report (its _WINDOW; the runner imports no tracker module),
# for the reference peer that reads the same
REPORT_WINDOW = 31

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


def _rel(path: Path | str) -> str:
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return str(path)
