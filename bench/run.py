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
import datetime as dt
import shutil
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script (`python bench/run.py`): the project root, for `bench.*`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.machine import load_average, machine  # noqa: E402
from bench.output import goal_rows, report_text  # noqa: E402
from bench.scenarios import Bench, Scale  # noqa: E402
from bench.settings import DEFAULT_DAYS, DEFAULT_UNITS, RESULTS_MD, STORES_DIR, _rel  # noqa: E402


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
    start.pairs.update(bench.startups())
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
