"""The measurements: start-up, CSV load, report (with its CHECK against the SQL peer), daily drop and the
pages, each tracker command timed alternately with its peer, per scale."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import re
import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.children import CSV_FLOOR, CSV_PEER, DAY_FILE, DROP_PEER, PAGES_CHILD, REPORT_PEER, VACCINATION_COLUMNS
from bench.compare import compare_tables
from bench.dataset import configure, data_dir, dataset_ready, generate, last_csv_date, read_report_config, warm
from bench.procs import Run, describe_failure, run
from bench.report_sql import _sql_text, report_sql
from bench.settings import BENCH_USER, MB, PAGES, REPORT_WINDOW, ROOT, STORES_DIR, _rel


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

    def csv_load(self, data: Path) -> tuple[Pair, Pair, Path | None]:
        """The load against DuckDB's own; and, for reference, against DuckDB's load with the raw file kept
        beside it (CSV_FLOOR: the part of any drop's cost that no reading or checking can remove)."""
        csv_path = data / "vaccinations.csv"
        sql = (
            f"CREATE TABLE vaccinations AS SELECT * FROM read_csv({_sql_text(csv_path)}, header = true, "
            f"columns = {VACCINATION_COLUMNS})"
        )
        pair = Pair("CSV load", Measure("tracker ingest"), Measure("DuckDB CREATE TABLE AS read_csv"))
        pair.note = f"peer SQL: {sql.replace(str(csv_path), _rel(csv_path))}"
        floor = Pair("CSV load, raw-file floor", pair.tracker, Measure("the same + sha256 and zstd copy of the file"))
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
            for m, code, label in ((pair.peer, CSV_PEER, "peer"), (floor.peer, CSV_FLOOR, "floor")):
                peer_dir = Path(tempfile.mkdtemp(prefix="peer-", dir=STORES_DIR))
                argv = [self.python, "-c", code, str(peer_dir / "peer.duckdb"), sql, str(csv_path)]
                self.timed(m, argv, data, label)
                shutil.rmtree(peer_dir, ignore_errors=True)
        if floor.peer.cpu and pair.peer.cpu:
            floor.note = (
                f"the floor is {floor.peer.cpu / pair.peer.cpu:.2f}x DuckDB's load in CPU "
                f"({floor.peer.wall / pair.peer.wall:.2f}x wall): what is left of the 1.3x goal for reading, "
                "checking, the series table and the drop log"
            )
        return pair, floor, kept

    # ---------------------------------------------------------------- 2. report

    def report(self, data: Path, store: Path, as_of: str, window: int | None = None) -> Pair:
        """The report against the SQL peer; with ``window``, against the same query reading only the days the
        tracker reads (for reference: the issue's goal is against the full query)."""
        cfg = read_report_config(data)
        db = str(store / "tracker.duckdb")
        peer = "DuckDB one SQL query" if window is None else f"the same query reading only its {window}-day windows"
        what = "report" if window is None else "report, windowed peer"
        pair = Pair(what, Measure(f"tracker report --as-of {as_of}"), Measure(peer))

        def tracker_argv(date: str) -> list[str]:
            return [self.tracker, "report", "--as-of", date, "--store", str(store), "--format", "csv"]

        def peer_argv(date: str) -> list[str]:
            return [self.python, "-c", REPORT_PEER, db, report_sql(cfg, dt.date.fromisoformat(date), window)]

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

    def startups(self) -> dict[str, Pair]:
        """What a command pays before its work, whatever the data: the interpreter and the imports, against the
        peers' interpreter and `import duckdb`. `tracker ingest` reads a canonical file with pyarrow and checks it
        on numpy arrays (pandas only for other files); a daily drop with nothing to say is checked and stored
        by DuckDB alone (tracker.store.direct: no numpy, no pyarrow); `tracker report` computes on numpy arrays
        (tracker.evaluation) and imports neither pandas nor pyarrow."""
        imports = {
            "ingest": "import tracker.cli.commands, tracker.store.commits, tracker.ingest.pipeline",
            "a daily drop": "import tracker.cli.commands, tracker.store.direct",
            "report": "import tracker.cli.commands, tracker.evaluation, tracker.store.basics",
        }
        pairs = {}
        for command, mine in imports.items():
            what = command if command.startswith("a ") else f"tracker {command}"
            mine_m, peer_m = Measure(f"python + {what}'s imports"), Measure("python + import duckdb")
            pair = Pair(f"start-up of {command}", mine_m, peer_m)
            pair.note = f"tracker: python -c '{mine}'; peer: python -c 'import duckdb'"
            self.log(f"  {what}")
            for i in range(self.args.repeat):
                self.log(f"  run {i + 1}/{self.args.repeat}")
                self.timed(pair.tracker, [self.python, "-c", mine], ROOT, "tracker")
                self.timed(pair.peer, [self.python, "-c", "import duckdb"], ROOT, "peer")
            pairs[f"startup-{command.replace(' ', '-')}"] = pair
        return pairs

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
        pair, floor, store = self.csv_load(data)
        sc.pairs["ingest"] = pair
        sc.pairs["ingest-floor"] = floor
        stored = [re.search(r"(\d+) rows stored", r.stdout) for r in pair.tracker.good]
        sc.rows = int(stored[-1].group(1)) if stored and stored[-1] else None
        if store is None:
            return sc, None
        page_figures = None
        try:
            self.log(f"\n 2. report --as-of {as_of} (tracker CLI against one DuckDB SQL query)")
            sc.pairs["report"] = self.report(data, store, as_of)
            self.log(f"\n 2b. the same, against a query reading only the {REPORT_WINDOW}-day windows the tracker reads")
            sc.pairs["report-windowed"] = self.report(data, store, as_of, window=REPORT_WINDOW)
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
