"""The `tracker` commands, one function each, and ``COMMANDS``: the parser's command name → its function.

Every function takes the parsed arguments, the store folder and the dataset's configuration, prints
its result (tables through tracker.cli.output) and returns the exit code; a problem the user can act on
is raised as a TrackerError, which tracker.cli.main turns into a message and exit code 1.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from tracker import i18n, store
from tracker.cli import output
from tracker.config import Config, load_config, store_dir
from tracker.errors import MAX_SHOWN, InputError, TrackerError

if TYPE_CHECKING:
    from tracker.ingest import ReadOptions

# A command imports what only it needs (pandas and pyarrow with the core, the ingest, the accounts): `tracker
# report` computes on arrays (tracker.evaluation) and starts without them (docs/performance.md).

Command = Callable[[argparse.Namespace, Path, Config], int]


def _as_of(args: argparse.Namespace, ds: store.Dataset | store.basics.Basics) -> dt.date:
    if args.as_of:
        return args.as_of
    if ds.latest_date is None:
        raise TrackerError("the store has no vaccination reports; give --as-of")
    return ds.latest_date


def init(args: argparse.Namespace, folder: Path, cfg: Config) -> int:
    created = store.init(folder, cfg)
    if created:
        print(f"initialised the store at {folder} from {cfg.data_dir}")
    else:
        print(f"the store at {folder} already holds data; nothing changed")
    return 0


def _read_options(args: argparse.Namespace, folder: Path) -> ReadOptions | None:
    """ReadOptions from the flags, on top of a saved mapping (flags win); None when nothing is set."""
    from tracker import mappings
    from tracker.ingest import ReadOptions

    given = ReadOptions(
        encoding=args.encoding,
        delimiter=args.delimiter,
        sheet=args.sheet,
        measure=args.measure,
        columns=tuple(args.column),
        constants=tuple(args.constants),
        date_order=args.date_order,
        overlap=args.overlap,
    )
    options = mappings.merge(mappings.load(folder, args.mapping, args.kind) if args.mapping else None, given)
    return None if options == ReadOptions() else options


def _rows(problems) -> str:
    rows = sorted({p.row for p in problems if p.row is not None})
    if not rows:
        return ""
    shown = ", ".join(map(str, rows[:20])) + (f" and {len(rows) - 20} more" if len(rows) > 20 else "")
    return f" (row{'s' if len(rows) > 1 else ''} {shown})"


def _detected_note(prepared) -> str | None:
    """How a non-canonical file was read (encoding, delimiter, header row, columns…), for stderr."""
    detected = getattr(prepared, "detected", None) or {}
    if detected.get("read") != "text":
        return None
    shown = {"\t": "tab"}
    parts = [
        f"{key.replace('_', ' ')} {shown.get(detected[key], detected[key])}"
        for key in ("format", "encoding", "delimiter", "sheet", "header_row", "layout", "measure")
        if detected.get(key) not in (None, "")
    ]
    renamed = [f"{src} → {dst}" for src, dst in (detected.get("columns") or {}).items() if src != dst]
    if renamed:
        parts.append("columns " + "; ".join(renamed))
    return f"note: {prepared.source}: read as " + ", ".join(parts)


def ingest(args: argparse.Namespace, folder: Path, cfg: Config) -> int:
    options = _read_options(args, folder)
    if args.kind == "vaccinations" and options is None and not args.dry_run and not args.save_mapping:
        from tracker.store.direct import ingest_direct  # a daily drop with nothing to say, in DuckDB alone

        done = ingest_direct(folder, Path(args.file), cfg, args.uploader or store.os_user())
        if done is not None:
            print(f"{args.kind}: {done[1]} rows stored in {folder} as drop {done[0]}; 0 warning(s)")
            return 0
    prepared = store.prepare(folder, args.file, args.kind, cfg, options=options, keep_raw=not args.dry_run)
    note = _detected_note(prepared)
    if note:
        print(note, file=sys.stderr)
    for w in prepared.warnings[:MAX_SHOWN]:  # as many as errors are listed; the summary line counts them all
        print(f"warning: {prepared.source}: {w}", file=sys.stderr)
    if len(prepared.warnings) > MAX_SHOWN:
        more = len(prepared.warnings) - MAX_SHOWN
        print(f"warning: {prepared.source}: {i18n.message('validation.more', 'en', {'count': more})}", file=sys.stderr)
    dup = f", {prepared.duplicates_dropped} repeated rows dropped" if prepared.duplicates_dropped else ""
    dup += f", {prepared.skipped} overlapping rows skipped" if prepared.skipped else ""
    warned = f"{len(prepared.warnings)} warning(s){_rows(prepared.warnings)}"
    store.check_storable(prepared)  # overlapping age groups without --overlap skip: refused, dry run or not
    if args.dry_run:
        print(f"{args.kind}: {len(prepared.data)} rows valid (dry run: nothing stored); {warned}{dup}")
        if args.save_mapping:
            print(f"note: mapping {args.save_mapping!r} not saved (dry run)", file=sys.stderr)
        return 0
    drop_id = store.commit(folder, prepared, args.uploader or store.os_user(), args.file)
    print(f"{args.kind}: {len(prepared.data)} rows stored in {folder} as drop {drop_id}; {warned}{dup}")
    if args.save_mapping:
        from tracker import mappings
        from tracker.ingest import ReadOptions

        path = mappings.save(folder, args.save_mapping, args.kind, options or ReadOptions())
        print(f"saved the mapping {args.save_mapping!r} as {path}")
    return 0


def drops(args: argparse.Namespace, folder: Path, cfg: Config) -> int:
    output.emit_records(store.drops(folder), args.format)
    return 0


def undo(args: argparse.Namespace, folder: Path, cfg: Config) -> int:
    who = args.uploader or store.os_user()
    store.undo(folder, args.drop_id, who)
    row = store.drops(folder).set_index("id").loc[args.drop_id]
    print(
        f"drop {args.drop_id} ({row['kind']}, {row['source']}) undone by {who}; for each of its keys the value "
        "of the latest drop still active is live again"
    )
    return 0


def rebuild(args: argparse.Namespace, folder: Path, cfg: Config) -> int:
    done = store.rebuild(folder, cfg)
    print(
        f"rebuilt {store.db_path(folder)} from {done['drops']} raw drop(s) ({done['undone']} undone); "
        f"the previous database is kept as {store.BACKUP_NAME}"
    )
    return 0


def gc(args: argparse.Namespace, folder: Path, cfg: Config) -> int:
    removed = store.gc(folder)
    print(f"removed {len(removed)} orphan raw file(s), {sum(size for _, size in removed):,} bytes, from {folder}")
    return 0


def doctor(args: argparse.Namespace, folder: Path, cfg: Config) -> int:
    problems = store.check(folder, cfg)
    for problem in problems:
        print(f"problem: {problem}")
    if not problems:
        print(f"{folder}: private, no orphan raw files, the live tables equal a rebuild from raw/")
    return 1 if problems else 0


def coverage(args: argparse.Namespace, folder: Path, cfg: Config) -> int:
    from tracker import evaluation
    from tracker.store.basics import read_basics

    basics = read_basics(folder)  # as report: without pandas
    as_of = _as_of(args, basics)
    table = evaluation.coverage(
        basics.reports, basics.codes, basics.names, basics.population, cfg, as_of, args.group, args.dose
    )
    output.emit_columns(table, output.COVERAGE_COLUMNS, args.format)
    output.notes_columns(table)
    output.sample_note(basics)
    return 0


def report(args: argparse.Namespace, folder: Path, cfg: Config) -> int:
    from tracker import evaluation
    from tracker.store.basics import read_basics

    basics = read_basics(folder)  # the units, population and reports, without pandas
    as_of = _as_of(args, basics)
    table = evaluation.evaluate(basics.reports, basics.codes, basics.names, basics.population, cfg, as_of)
    output.emit_columns(table, output.REPORT_COLUMNS, args.format)
    output.notes_columns(table)
    output.sample_note(basics)
    return 0


def risk(args: argparse.Namespace, folder: Path, cfg: Config) -> int:
    from tracker.risk import levels, load_rules  # only this command needs the risk rules

    rules = load_rules(data_dir=cfg.data_dir)
    ds = store.open_dataset(folder)
    output.emit_risk(levels(ds, cfg, rules, _as_of(args, ds)), args.format)
    output.sample_note(ds)
    return 0


def brief(args: argparse.Namespace, folder: Path, cfg: Config) -> int:
    from tracker import briefing  # the renderers are imported only for this command

    target = cfg.target(args.target) if args.target else None
    ds = store.open_dataset(folder)
    as_of = _as_of(args, ds)
    briefing.check()  # no browser or font: say so before the slow part
    if args.format == "pdf":
        briefing.find_fonts()
    data = briefing.build(ds, cfg, as_of, args.format, args.lang, target)[args.format]
    out = Path(args.out)
    if out.parent and not out.parent.is_dir():
        raise InputError(f"{out.parent}: no such folder for --out")
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    print(f"wrote {out} ({args.format}, {len(data):,} bytes, data as of {as_of.isoformat()}, {args.lang})")
    output.sample_note(ds)
    return 0


def _users(args: argparse.Namespace, folder: Path, cfg: Config) -> int:
    from tracker.cli import users

    return users.run(args, folder, cfg)


COMMANDS: dict[str, Command] = {
    "init": init,
    "ingest": ingest,
    "drops": drops,
    "undo": undo,
    "rebuild": rebuild,
    "gc": gc,
    "doctor": doctor,
    "user": _users,
    "coverage": coverage,
    "report": report,
    "risk": risk,
    "brief": brief,
}


def run(args: argparse.Namespace) -> int:
    """Do the parsed command: the store folder and the dataset's configuration first, for every command."""
    folder = store_dir(args.store)
    cfg = load_config(getattr(args, "data", None), targets_file=getattr(args, "targets", None))
    return COMMANDS[args.command](args, folder, cfg)
