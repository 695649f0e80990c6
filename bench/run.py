"""Country-sized benchmark of the tracker: `make bench` (or `.venv/bin/python bench/run.py`).

Generates (once, cached under var/bench/data/) a synthetic dataset of --units x --days
(default 700 x 750: about 6.3 million vaccination rows), then measures, each as a separate
process so every figure is that process alone:

* floor  -- pyarrow.csv.read_csv(vaccinations.csv) with default options, timed inside a fresh
            interpreter around the call only (best of N);
* ingest -- wall time of `tracker ingest vaccinations.csv --kind vaccinations --store S` on a
            fresh store S that already holds the units and population (untimed setup), best of N;
* report -- wall time of `tracker report --as-of <last date> --store S`, best of N;

with the peak resident memory of each process (ru_maxrss from os.wait4 on that child). Prints a
table with the goals (ingest <= 3x floor, report <= 2 s, peak memory <= 2 GB) and writes the
same as Markdown to var/bench/results.md. Exit 0 whether the goals pass or not; exit 1 when a
command failed.

This runner imports only the standard library on purpose: a child forked from a big parent
inherits the parent's resident pages until it execs, and Linux counts those in the child's
ru_maxrss. A small parent keeps each child's peak its own.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "var" / "bench"
DATA_DIR = BENCH_DIR / "data"
STORES_DIR = BENCH_DIR / "stores"
RESULTS_MD = BENCH_DIR / "results.md"
META_FILE = "bench.json"
TABLES = ("units", "population", "vaccinations", "cases")

DEFAULT_UNITS = 700
DEFAULT_DAYS = 750
INGEST_RATIO_GOAL = 3.0  # tracker ingest <= 3 x pyarrow's raw parse
REPORT_SECONDS_GOAL = 2.0
MEMORY_GOAL_BYTES = 2_000_000_000  # 2 GB (decimal), per process
MB = 1_000_000

# Timed inside a fresh interpreter: only the read_csv call. The row count and the last date are
# taken after the clock stops.
FLOOR_CODE = r"""
import json, sys, time
import pyarrow.csv as pacsv
import pyarrow.compute as pc
path = sys.argv[1]
t0, c0 = time.perf_counter(), time.process_time()
table = pacsv.read_csv(path)
seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
last = pc.max(table.column("date")).as_py()
print(json.dumps({"seconds": seconds, "cpu": cpu, "rows": table.num_rows, "last_date": str(last)}))
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


def run(argv: list[str], timeout: float, env: dict | None = None) -> Run:
    """Run argv to completion; wall time and peak RSS of that one process (os.wait4)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        env = env or {**os.environ, "TRACKER_DATA": str(DATA_DIR)}  # the benchmark's dataset and its limits
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err, cwd=ROOT, env=env)
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
    return f"FAILED ({what}): {' '.join(r.argv)}\n{tail}"


# --------------------------------------------------------------------------------------------------
# The dataset
# --------------------------------------------------------------------------------------------------


def dataset_ready(units: int, days: int) -> bool:
    """The cached dataset exists, is complete and has the asked size."""
    try:
        meta = json.loads((DATA_DIR / META_FILE).read_text())
    except (FileNotFoundError, ValueError):
        return False
    if meta.get("units") != units or meta.get("days") != days:
        return False
    return all((DATA_DIR / f"{t}.csv").is_file() for t in TABLES)


def configure() -> None:
    """The benchmark's dataset folder gets the project's configuration, with upload limits raised for a
    country-sized file (a deployment at that scale raises them the same way, in its config.toml)."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    project = ROOT / "data"
    for name in ("targets.toml", "risk_rules.toml"):
        shutil.copyfile(project / name, DATA_DIR / name)
    config = (project / "config.toml").read_text(encoding="utf-8")
    config = re.sub(r"(?m)^max_mb = \d+$", "max_mb = 4096", config)
    config = re.sub(r"(?m)^max_rows = \d+$", "max_rows = 1000000000", config)
    (DATA_DIR / "config.toml").write_text(config, encoding="utf-8")
    (DATA_DIR / "dataset.toml").write_text(
        '[dataset]\nsample = true\nlabel_vi = "Số liệu tổng hợp cho đo hiệu năng"\n'
        'label_en = "Synthetic benchmark data"\n',
        encoding="utf-8",
    )


def generate(python: str, units: int, days: int, timeout: float) -> Run:
    (DATA_DIR / META_FILE).unlink(missing_ok=True)  # incomplete until the generator succeeds
    argv = [python, "-m", "tracker.sample", "--units", str(units), "--days", str(days), "--out", str(DATA_DIR)]
    r = run(argv, timeout)
    if r.ok:
        meta = {"units": units, "days": days, "generated": dt.datetime.now().isoformat(timespec="seconds")}
        (DATA_DIR / META_FILE).write_text(json.dumps(meta) + "\n")
    return r


def warm(path: Path) -> None:
    """Read a file once so every timed run starts with it in the page cache."""
    with path.open("rb") as fh:
        while fh.read(1 << 24):
            pass


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


def _load() -> str:
    """Load average at the start: other work on the machine skews every figure."""
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg()) + " (1, 5, 15 min averages, at the start)"
    except OSError:
        return "unknown"


def revision() -> str:
    """The commit measured, and whether tracker/ differs from it (others may be editing it)."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "tracker"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return head + (" with uncommitted changes in tracker/" if dirty else "")


def machine() -> dict[str, str]:
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cores": f"{usable} usable ({os.cpu_count()} online), {_cpu_model()}",
        "memory": _memory_gib(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "pandas": _version("pandas"),
        "pyarrow": _version("pyarrow"),
        "duckdb": _version("duckdb"),
        "numpy": _version("numpy"),
        "load": _load(),
    }


# --------------------------------------------------------------------------------------------------
# Measurements
# --------------------------------------------------------------------------------------------------


@dataclass
class Measure:
    name: str
    command: str
    runs: list[Run] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)  # the timed figure of each successful run
    cpu: list[float] = field(default_factory=list)  # CPU seconds of the same runs
    failed: bool = False

    @property
    def best(self) -> float | None:
        return min(self.seconds) if self.seconds else None

    @property
    def best_cpu(self) -> float | None:
        return self.cpu[self.seconds.index(min(self.seconds))] if self.seconds else None

    @property
    def peak(self) -> int | None:
        ok = [r.maxrss for r in self.runs if r.ok]
        return max(ok) if ok else None


def measure_floor(python: str, csv: Path, repeat: int, timeout: float, log) -> tuple[Measure, int | None, str | None]:
    m = Measure("pyarrow read_csv (floor)", f"pyarrow.csv.read_csv('{_rel(csv)}') in a fresh interpreter")
    rows = last = None
    for i in range(repeat):
        r = run([python, "-c", FLOOR_CODE, str(csv)], timeout)
        m.runs.append(r)
        if not r.ok:
            m.failed = True
            log(describe_failure(r))
            break
        info = json.loads(r.stdout.strip().splitlines()[-1])
        m.seconds.append(info["seconds"])
        m.cpu.append(info["cpu"])
        rows, last = info["rows"], info["last_date"]
        log(f"  floor run {i + 1}: {info['seconds']:.2f} s ({info['cpu']:.2f} s CPU), peak {r.maxrss / MB:,.0f} MB")
    return m, rows, last


def fresh_store(tracker: str, timeout: float, log) -> tuple[Path | None, bool]:
    """A new store holding the units and population of the dataset (untimed setup)."""
    STORES_DIR.mkdir(parents=True, exist_ok=True)
    store = Path(tempfile.mkdtemp(prefix="store-", dir=STORES_DIR))
    for kind in ("units", "population"):
        r = run([tracker, "ingest", str(DATA_DIR / f"{kind}.csv"), "--kind", kind, "--store", str(store)], timeout)
        if not r.ok:
            log(describe_failure(r))
            shutil.rmtree(store, ignore_errors=True)
            return None, False
    return store, True


def measure_ingest(tracker: str, csv: Path, repeat: int, timeout: float, log) -> tuple[Measure, Path | None]:
    m = Measure(
        "tracker ingest", f"tracker ingest {_rel(csv)} --kind vaccinations --store <fresh store with units, population>"
    )
    kept = None
    for i in range(repeat):
        store, ok = fresh_store(tracker, timeout, log)
        if not ok:
            m.failed = True
            break
        r = run([tracker, "ingest", str(csv), "--kind", "vaccinations", "--store", str(store)], timeout)
        m.runs.append(r)
        if not r.ok:
            m.failed = True
            log(describe_failure(r))
            shutil.rmtree(store, ignore_errors=True)
            break
        m.seconds.append(r.seconds)
        m.cpu.append(r.cpu)
        summary = r.stdout.strip().splitlines()[-1] if r.stdout.strip() else ""
        log(f"  ingest run {i + 1}: {r.seconds:.2f} s ({r.cpu:.2f} s CPU), peak {r.maxrss / MB:,.0f} MB  ({summary})")
        if kept is not None:
            shutil.rmtree(kept, ignore_errors=True)
        kept = store
    return m, kept


def measure_report(tracker: str, store: Path, as_of: str, repeat: int, timeout: float, log) -> Measure:
    m = Measure("tracker report", f"tracker report --as-of {as_of} --store <that store>")
    for i in range(repeat):
        r = run([tracker, "report", "--as-of", as_of, "--store", str(store)], timeout)
        m.runs.append(r)
        if not r.ok:
            m.failed = True
            log(describe_failure(r))
            break
        m.seconds.append(r.seconds)
        m.cpu.append(r.cpu)
        lines = len(r.stdout.splitlines())
        peak = f"peak {r.maxrss / MB:,.0f} MB"
        log(f"  report run {i + 1}: {r.seconds:.2f} s ({r.cpu:.2f} s CPU), {peak}  ({lines - 1} result rows)")
    return m


# --------------------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------------------


def _rel(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def _secs(value: float | None) -> str:
    if value is None:
        return "failed"
    return f"{value:.2f} s" if value >= 0.1 else f"{value:.3f} s"


def _mem(value: int | None) -> str:
    return "—" if value is None else f"{value / MB:,.0f} MB"


def _runs(m: Measure) -> str:
    return " / ".join(f"{s:.2f}" for s in m.seconds) if m.seconds else "—"


def build_tables(rows, floor: Measure, ingest: Measure, report: Measure | None) -> tuple[list, list]:
    ratio = ingest.best / floor.best if ingest.best is not None and floor.best else None

    def cpu(m: Measure | None) -> str:
        return "—" if m is None or m.best_cpu is None else f"{m.best_cpu:.2f} s"

    figures = [
        ["vaccination rows", f"{rows:,}" if rows is not None else "—", "", "", ""],
        [floor.name, _secs(floor.best), cpu(floor), _runs(floor), _mem(floor.peak)],
        [
            ingest.name,
            _secs(ingest.best) + (f" ({ratio:.2f}× floor)" if ratio is not None else ""),
            cpu(ingest),
            _runs(ingest),
            _mem(ingest.peak),
        ],
        [
            "tracker report",
            _secs(report.best if report else None),
            cpu(report),
            _runs(report) if report else "—",
            _mem(report.peak if report else None),
        ],
    ]

    def verdict(ok: bool | None) -> str:
        return "FAIL (not measured)" if ok is None else ("PASS" if ok else "FAIL")

    report_best = report.best if report else None
    peaks = {"ingest": ingest.peak, "report": report.peak if report else None}
    mem_measured = {k: v for k, v in peaks.items() if v is not None}
    mem_ok = all(v <= MEMORY_GOAL_BYTES for v in mem_measured.values()) if len(mem_measured) == len(peaks) else None
    if mem_measured and any(v > MEMORY_GOAL_BYTES for v in mem_measured.values()):
        mem_ok = False
    goals = [
        [
            f"ingest ≤ {INGEST_RATIO_GOAL:g}× raw parse",
            f"{ratio:.2f}×" if ratio is not None else "—",
            verdict(None if ratio is None else ratio <= INGEST_RATIO_GOAL),
        ],
        [
            f"report ≤ {REPORT_SECONDS_GOAL:g} s",
            _secs(report_best) if report_best is not None else "—",
            verdict(None if report_best is None else report_best <= REPORT_SECONDS_GOAL),
        ],
        [
            f"peak memory ≤ {MEMORY_GOAL_BYTES / 1e9:g} GB (each process)",
            ", ".join(f"{k} {_mem(v)}" for k, v in peaks.items()),
            verdict(mem_ok),
        ],
    ]
    return figures, goals


FIGURE_HEADER = ["measure", "wall, best run", "CPU, best run", "wall, all runs (s)", "peak memory (max of runs)"]
GOAL_HEADER = ["goal", "measured", "result"]


def text_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def line(r: list[str]) -> str:
        return "  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()

    return "\n".join([line(header), "  ".join("-" * w for w in widths), *(line(r) for r in rows)])


def md_table(header: list[str], rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def markdown(when: str, mach: dict, args, rows, figures, goals, commands: list[str], failures: list[str]) -> str:
    parts = [
        f"# Benchmark results ({when})",
        "",
        f"Dataset: synthetic, {args.units} units × {args.days} days ({rows:,} vaccination rows)"
        if rows is not None
        else f"Dataset: {args.units} units × {args.days} days",
        "",
        "Machine: " + "; ".join(f"{k} {v}" for k, v in mach.items()),
        "",
        md_table(FIGURE_HEADER, figures),
        "",
        md_table(GOAL_HEADER, goals),
        "",
        f"Commands (each a separate process, best of {args.repeat}; the floor times the read_csv call only, "
        "ingest and report the whole command; units and population ingests are untimed setup on a fresh "
        "store S per ingest run; peak memory is ru_maxrss of that process):",
        "",
        "```",
        *commands,
        "```",
    ]
    if failures:
        parts += ["", "Failed commands:", "", "```", *failures, "```"]
    return "\n".join(parts) + "\n"


# --------------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/run.py", description="Country-sized benchmark of the tracker.")
    parser.add_argument("--units", type=int, default=DEFAULT_UNITS, help=f"units (default {DEFAULT_UNITS})")
    parser.add_argument("--days", type=int, default=DEFAULT_DAYS, help=f"report days (default {DEFAULT_DAYS})")
    parser.add_argument("--regenerate", action="store_true", help="generate the dataset again even when cached")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each measurement, best kept (default 3)")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds before a command is killed")
    args = parser.parse_args(argv)
    if args.units < 1 or args.days < 1 or args.repeat < 1:
        parser.error("--units, --days and --repeat must be positive")

    python = sys.executable
    tracker = str(Path(python).with_name("tracker"))
    if not Path(tracker).is_file():
        tracker = shutil.which("tracker") or tracker
    failures: list[str] = []

    def log(msg: str) -> None:
        print(msg, flush=True)
        if msg.startswith("FAILED"):
            failures.append(msg)

    when = dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    mach = machine()
    mach["tracker"] = revision()
    print(f"tracker benchmark, {when}")
    for k, v in mach.items():
        print(f"  {k:8} {v}")
    print(flush=True)

    configure()
    csv = DATA_DIR / "vaccinations.csv"
    if args.regenerate or not dataset_ready(args.units, args.days):
        print(f"generating {args.units} units × {args.days} days into {_rel(DATA_DIR)}/ …", flush=True)
        g = generate(python, args.units, args.days, args.timeout)
        if not g.ok:
            log(describe_failure(g))
            return 1
        print(f"  done in {g.seconds:.0f} s, peak {g.maxrss / MB:,.0f} MB", flush=True)
    else:
        print(f"using the cached dataset in {_rel(DATA_DIR)}/ (--regenerate to make it again)", flush=True)
    print(f"  {_rel(csv)}: {csv.stat().st_size / MB:,.0f} MB", flush=True)
    warm(csv)

    print("\nfloor: pyarrow.csv.read_csv, default options, fresh interpreter each run", flush=True)
    floor, rows, last_date = measure_floor(python, csv, args.repeat, args.timeout, log)

    print("\ntracker ingest (fresh store each run; units and population ingested first, untimed)", flush=True)
    ingest, store = measure_ingest(tracker, csv, args.repeat, args.timeout, log)

    report = None
    if store is not None and last_date is not None:
        print(f"\ntracker report --as-of {last_date}", flush=True)
        report = measure_report(tracker, store, last_date, args.repeat, args.timeout, log)
    else:
        print("\ntracker report: skipped (no store or no last date)", flush=True)
    if store is not None:
        shutil.rmtree(store, ignore_errors=True)
    try:
        STORES_DIR.rmdir()
    except OSError:
        pass

    figures, goals = build_tables(rows, floor, ingest, report)
    print()
    print(text_table(FIGURE_HEADER, figures))
    print()
    print(text_table(GOAL_HEADER, goals))

    commands = [
        f"python -m tracker.sample --units {args.units} --days {args.days} --out {_rel(DATA_DIR)}   # once, cached",
        "",
        f"python -c 'import pyarrow.csv as c; c.read_csv(\"{_rel(csv)}\")'   # the read_csv call only",
        "",
        f"tracker ingest {_rel(DATA_DIR)}/units.csv --kind units --store S",
        f"tracker ingest {_rel(DATA_DIR)}/population.csv --kind population --store S",
        f"tracker ingest {_rel(csv)} --kind vaccinations --store S",
        "",
        f"tracker report --as-of {last_date or '<last date>'} --store S",
    ]
    md = markdown(when, mach, args, rows, figures, goals, commands, failures)
    RESULTS_MD.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_MD.write_text(md, encoding="utf-8")
    print(f"\nMarkdown: {_rel(RESULTS_MD)}")

    failed = floor.failed or ingest.failed or report is None or report.failed or bool(failures)
    if failed:
        print("\nsome commands failed (see above): exit 1", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
