"""The `tracker` command line: the same work as the dashboard, headless.

Exit codes: 0 ok; 1 bad input or data, or a refused store operation (a message on stderr, the
store unchanged); 2 usage.
"""

from __future__ import annotations

import argparse
import codecs
import datetime as dt
import getpass
import json
import os
import re
import sys
from pathlib import Path

import pandas as pd

from tracker import auth, core, i18n, mappings, store
from tracker.config import load_config, store_dir
from tracker.errors import MAX_SHOWN, InputError, TrackerError, ValidationError
from tracker.ingest import DATE_ORDERS, KINDS, OVERLAPS, ReadOptions

COVERAGE_COLUMNS = ["unit_code", "unit_name", "people", "population", "coverage", "last_report_date"]
REPORT_COLUMNS = [
    "unit_code", "unit_name", "target_id", "group", "dose", "people", "population", "coverage", "threshold",
    "deadline", "people_needed", "days_left", "pace_7d", "required_daily", "projected_date", "status",
]  # fmt: skip
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
INTEGER_COLUMNS = {"people", "population", "people_needed", "days_left", "dose"}
DATE_COLUMNS = {"last_report_date", "deadline", "projected_date"}
DELIMITERS = {",": ",", ";": ";", "tab": "\t", "\t": "\t"}
MEASURES = ("cumulative", "daily")
USER_COLUMNS = ["name", "created_at", "disabled"]


def _date(text: str) -> dt.date:
    try:
        if not ISO_DATE.fullmatch(text):
            raise ValueError(text)
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date in the form YYYY-MM-DD") from None


def _delimiter(text: str) -> str:
    if text not in DELIMITERS:
        raise argparse.ArgumentTypeError(f"{text!r} is not a delimiter: use ',', ';' or 'tab'")
    return DELIMITERS[text]


def _encoding(text: str) -> str:
    try:
        codecs.lookup(text)
    except LookupError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a known encoding (e.g. utf-8, utf-16, cp1258)") from None
    return text


def _column(text: str) -> tuple[str, str]:
    source, sep, canonical = text.rpartition("=")
    if not sep or not source.strip() or not canonical.strip():
        raise argparse.ArgumentTypeError(f"{text!r} is not SOURCE=CANONICAL (e.g. 'Ngày báo cáo=date')")
    return source.strip(), canonical.strip()


def _constant(text: str) -> tuple[str, str]:
    column, sep, value = text.partition("=")
    if not sep or not column.strip() or not value.strip():
        raise argparse.ArgumentTypeError(f"{text!r} is not COLUMN=VALUE (e.g. age_band=18+ or date=2021-08-04)")
    return column.strip(), value.strip()


def _mapping_name(text: str) -> str:
    try:
        return mappings.check_name(text)
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _sheet(text: str) -> str | int:
    return int(text) if text.strip().isdigit() else text


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--store", metavar="DIR", help="store folder (default: $TRACKER_STORE, else ./var/store)")
    common.add_argument(
        "--data",
        metavar="DIR",
        help="the dataset's folder: config.toml, targets.toml, … (default: $TRACKER_DATA, else data/)",
    )
    output = argparse.ArgumentParser(add_help=False)
    output.add_argument("--format", choices=("csv", "json"), default="csv", help="output format (default csv)")

    parser = argparse.ArgumentParser(
        prog="tracker", description="Vaccination target tracker for Tuyên Quang province (headless)."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sub.add_parser("init", parents=[common], help="create the store from data/ (idempotent)")

    who = argparse.ArgumentParser(add_help=False)
    who.add_argument(
        "--uploader", metavar="NAME", help="who does it, for the drop log or the login log (default: the OS user)"
    )

    p = sub.add_parser("ingest", parents=[common, who], help="validate a file and store it as a drop")
    p.add_argument(
        "file", type=Path, metavar="FILE", help="the file: delimited text (CSV, TSV, …) or an .xlsx workbook"
    )
    p.add_argument("--kind", required=True, choices=tuple(KINDS), help="what the file holds (docs/data-model.md)")
    p.add_argument(
        "--dry-run", action="store_true", help="validate and report only; store nothing (and save no mapping)"
    )
    p.add_argument(
        "--encoding", type=_encoding, metavar="NAME",
        help="text encoding, e.g. utf-8, utf-16, cp1258 (default: detected)",
    )  # fmt: skip
    p.add_argument(
        "--delimiter", type=_delimiter, metavar="',' | ';' | tab", help="field separator (default: detected)"
    )
    p.add_argument(
        "--sheet", type=_sheet, metavar="NAME|N", help=".xlsx: a sheet name or 0-based index (default: the first sheet)"
    )
    p.add_argument(
        "--measure", choices=MEASURES,
        help="vaccination counts are cumulative totals or daily new doses (default: from the headers)",
    )  # fmt: skip
    p.add_argument(
        "--column", type=_column, action="append", default=[], metavar="SOURCE=CANONICAL",
        help="read the file's column SOURCE as the canonical column CANONICAL, or as 'ignore' to leave it out "
        "(repeatable)",
    )  # fmt: skip
    p.add_argument(
        "--set", dest="constants", type=_constant, action="append", default=[], metavar="COLUMN=VALUE",
        help="a key column the file lacks, the same for every row, e.g. age_band=18+ or date=2021-08-04 (a one-day "
        "snapshot); parsed like the file's own values (repeatable)",
    )  # fmt: skip
    p.add_argument(
        "--date-order", choices=DATE_ORDERS,
        help="dates with slashes are day/month/year (dmy, the default) or month/day/year (mdy, e.g. 1/12/21 from US "
        "exports); yyyy-mm-dd is always read; a two-digit year is 20yy",
    )  # fmt: skip
    p.add_argument(
        "--overlap", choices=OVERLAPS,
        help="rows whose age group overlaps what is already reported for their district and dose: refuse the file "
        "(the default: exit 1, nothing stored) or skip those rows and store the rest",
    )  # fmt: skip
    p.add_argument(
        "--mapping", type=_mapping_name, metavar="NAME",
        help="use a mapping saved with --save-mapping (options given as well win; --column and --set pairs add to "
        "the saved ones)",
    )  # fmt: skip
    p.add_argument(
        "--save-mapping", type=_mapping_name, metavar="NAME",
        help="after a successful ingest, save --column, --set, --measure, --date-order, --encoding and --delimiter "
        "as <store>/mappings/NAME.toml (replacing one of that name)",
    )  # fmt: skip

    p = sub.add_parser("drops", parents=[common, output], help="list the drops (ingests), oldest first")

    p = sub.add_parser("undo", parents=[common, who], help="undo one drop (recorded; earlier values come back)")
    p.add_argument("drop_id", type=int, metavar="DROP_ID", help="the drop's id (tracker drops lists them)")

    sub.add_parser("rebuild", parents=[common], help="recreate the database from the raw drops")
    sub.add_parser("gc", parents=[common], help="remove raw files no drop names (left by killed commits)")
    sub.add_parser(
        "doctor", parents=[common], help="check the store: private permissions, orphan raw files, rebuild = live"
    )

    p = sub.add_parser("user", help="analyst accounts for the dashboard's upload page")
    users = p.add_subparsers(dest="user_command", required=True, metavar="ACTION")
    q = users.add_parser("add", parents=[common], help="add an analyst (asks for the password twice)")
    q.add_argument("name", metavar="NAME", help="the login name: letters, digits, '.', '_', '@', '-' (at most 64)")
    q.add_argument("--password-stdin", action="store_true", help="read the password from one line of stdin")
    users.add_parser("list", parents=[common, output], help="list the analysts")
    q = users.add_parser("disable", parents=[common], help="disable an analyst's account")
    q.add_argument("name", metavar="NAME", help="the analyst's login name")
    q = users.add_parser("unlock", parents=[common, who], help="end a lockout after failed logins on a name")
    q.add_argument("name", metavar="NAME", help="the login name to unlock")
    q = users.add_parser("log", parents=[common, output], help="the login attempts, oldest first (never passwords)")
    q.add_argument("name", nargs="?", metavar="NAME", help="only this name's attempts")
    q.add_argument("--since", type=_date, metavar="YYYY-MM-DD", help="only from this day (UTC)")

    p = sub.add_parser("coverage", parents=[common, output], help="coverage per unit and for the province")
    p.add_argument("--as-of", type=_date, metavar="YYYY-MM-DD", help="default: the latest report date")
    p.add_argument(
        "--group", required=True, metavar="NAME", help="a group id (adults, all, 50plus, 12plus) or a band (e.g. 18-49)"
    )
    p.add_argument(
        "--dose", required=True, type=int, choices=(1, 2, 3, 4), metavar="N", help="people with at least this dose"
    )

    p = sub.add_parser("report", parents=[common, output], help="every target per unit and for the province")
    p.add_argument("--as-of", type=_date, metavar="YYYY-MM-DD", help="default: the latest report date")
    p.add_argument(
        "--targets", type=Path, metavar="FILE", help="targets TOML (default: targets.toml in the dataset's folder)"
    )

    p = sub.add_parser("risk", parents=[common, output], help="epidemic risk level per unit and for the province")
    p.add_argument("--as-of", type=_date, metavar="YYYY-MM-DD", help="default: the latest report date")

    p = sub.add_parser("brief", parents=[common], help="the weekly briefing as PDF or PPTX (charts need Chromium)")
    p.add_argument("--as-of", type=_date, metavar="YYYY-MM-DD", help="default: the latest report date")
    p.add_argument(
        "--format", required=True, choices=("pdf", "pptx"),
        help="an A4 PDF (DejaVu Sans embedded: Vietnamese stays searchable, copyable text) or a 16:9 PowerPoint of "
        "editable text boxes and tables (only the charts are pictures)",
    )  # fmt: skip
    p.add_argument(
        "--out", required=True, type=Path, metavar="FILE", help="where to write the briefing (replaced atomically)"
    )
    p.add_argument("--lang", choices=("vi", "en"), default="vi", help="language (default vi)")
    p.add_argument("--target", metavar="ID", help="the target of the map and district table (default: the first)")
    return parser


def build_parser() -> argparse.ArgumentParser:
    """The command line's parser: docs/cli.md's reference is generated from it (python -m tracker.cli_docs)."""
    return _parser()


def _emit(frame: pd.DataFrame, columns: list[str], fmt: str) -> None:
    out = frame[columns].copy()
    for col in columns:
        if col in INTEGER_COLUMNS:
            out[col] = out[col].round().astype("Int64")
        elif col in DATE_COLUMNS:
            out[col] = pd.to_datetime(out[col]).dt.strftime("%Y-%m-%d")
    _write(out, fmt)


def _emit_records(frame: pd.DataFrame, fmt: str) -> None:
    """A listing (drops, users): timestamps as ISO 8601 UTC, missing values empty (csv) or null (json)."""
    out = frame.copy()
    for col in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = out[col].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    _write(out, fmt)


def _write(out: pd.DataFrame, fmt: str) -> None:
    """A table to stdout: CSV with empty cells, or a JSON array of objects with nulls."""
    if fmt == "json":
        records = out.astype(object).where(out.notna(), None).to_dict("records")
        json.dump(records, sys.stdout, ensure_ascii=False, indent=1, default=_json_default)
        sys.stdout.write("\n")
    else:
        out.to_csv(sys.stdout, index=False, lineterminator="\n")


def _json_default(value):
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"not JSON serialisable: {value!r}")


def _notes(frame: pd.DataFrame) -> None:
    """Unavailable and over-100% figures, said on stderr so stdout stays a clean table."""
    for row in frame.loc[frame["reason"] != "", ["unit_code", "reason"]].itertuples(index=False):
        print(f"note: {row.unit_code}: figure unavailable: {row.reason}", file=sys.stderr)
    over = frame.loc[frame["coverage"] > 1, "unit_code"].unique().tolist()
    if over:
        print(f"note: coverage above 100% (check population or reports): {', '.join(over)}", file=sys.stderr)


def _sample_note(ds: store.Dataset) -> None:
    if ds.sample:
        label = ds.extra.get("dataset_label_en", "Illustrative sample data, not official figures")
        print(f"note: {label}", file=sys.stderr)


def _as_of(args, ds: store.Dataset) -> dt.date:
    if args.as_of:
        return args.as_of
    if ds.latest_date is None:
        raise TrackerError("the store has no vaccination reports; give --as-of")
    return ds.latest_date


def run(args: argparse.Namespace) -> int:
    folder = store_dir(args.store)
    cfg = load_config(getattr(args, "data", None), targets_file=getattr(args, "targets", None))
    if args.command == "init":
        created = store.init(folder, cfg)
        if created:
            print(f"initialised the store at {folder} from {cfg.data_dir}")
        else:
            print(f"the store at {folder} already holds data; nothing changed")
        return 0
    if args.command == "ingest":
        return _ingest(args, folder, cfg)
    if args.command == "drops":
        _emit_records(store.drops(folder), args.format)
        return 0
    if args.command == "undo":
        who = args.uploader or store.os_user()
        store.undo(folder, args.drop_id, who)
        row = store.drops(folder).set_index("id").loc[args.drop_id]
        print(
            f"drop {args.drop_id} ({row['kind']}, {row['source']}) undone by {who}; for each of its keys the value "
            "of the latest drop still active is live again"
        )
        return 0
    if args.command == "rebuild":
        done = store.rebuild(folder, cfg)
        print(
            f"rebuilt {store.db_path(folder)} from {done['drops']} raw drop(s) ({done['undone']} undone); "
            f"the previous database is kept as {store.BACKUP_NAME}"
        )
        return 0
    if args.command == "gc":
        removed = store.gc(folder)
        print(f"removed {len(removed)} orphan raw file(s), {sum(size for _, size in removed):,} bytes, from {folder}")
        return 0
    if args.command == "doctor":
        problems = store.check(folder, cfg)
        for problem in problems:
            print(f"problem: {problem}")
        if not problems:
            print(f"{folder}: private, no orphan raw files, the live tables equal a rebuild from raw/")
        return 1 if problems else 0
    if args.command == "user":
        return _user(args, folder)
    if args.command == "coverage":
        ds = store.open_dataset(folder)
        frame = core.coverage(ds, cfg, _as_of(args, ds), args.group, args.dose)
        _emit(frame, COVERAGE_COLUMNS, args.format)
        _notes(frame)
        _sample_note(ds)
        return 0
    if args.command == "report":
        ds = store.open_dataset(folder)
        frame = core.evaluate(ds, cfg, _as_of(args, ds))
        _emit(frame, REPORT_COLUMNS, args.format)
        _notes(frame)
        _sample_note(ds)
        return 0
    if args.command == "brief":
        return _brief(args, folder, cfg)
    if args.command == "risk":
        return _risk(args, folder, cfg)
    raise AssertionError(args.command)


def _risk(args, folder: Path, cfg) -> int:
    from tracker import risk

    rules = risk.load_rules(data_dir=cfg.data_dir)
    ds = store.open_dataset(folder)
    frame = risk.levels(ds, cfg, rules, _as_of(args, ds))
    out = frame.copy()
    for col in ("week_start", "week_end"):
        out[col] = pd.to_datetime(out[col]).dt.strftime("%Y-%m-%d")
    if args.format == "csv":  # json keeps real booleans
        out["vaccine_criterion_met"] = out["vaccine_criterion_met"].map({True: "true", False: "false"})
    _write(out, args.format)
    _sample_note(ds)
    return 0


def _brief(args, folder: Path, cfg) -> int:
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
    _sample_note(ds)
    return 0


def _read_options(args, folder: Path) -> ReadOptions | None:
    """ReadOptions from the flags, on top of a saved mapping (flags win); None when nothing is set."""
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


def _ingest(args, folder: Path, cfg) -> int:
    options = _read_options(args, folder)
    prepared = store.prepare(folder, args.file, args.kind, cfg, options=options)
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
        print(f"{args.kind}: {len(prepared.frame)} rows valid (dry run: nothing stored); {warned}{dup}")
        if args.save_mapping:
            print(f"note: mapping {args.save_mapping!r} not saved (dry run)", file=sys.stderr)
        return 0
    drop_id = store.commit(folder, prepared, args.uploader or store.os_user(), args.file)
    print(f"{args.kind}: {len(prepared.frame)} rows stored in {folder} as drop {drop_id}; {warned}{dup}")
    if args.save_mapping:
        path = mappings.save(folder, args.save_mapping, args.kind, options or ReadOptions())
        print(f"saved the mapping {args.save_mapping!r} as {path}")
    return 0


def _terminal() -> bool:
    """Whether there is a terminal to ask for a password on (getpass reads /dev/tty, else stdin)."""
    try:
        with open("/dev/tty", "rb"):
            return True
    except OSError:
        return sys.stdin.isatty()


def _new_password(args) -> str:
    if args.password_stdin:
        return sys.stdin.readline().removesuffix("\n").removesuffix("\r")
    if not _terminal():  # e.g. a script or a service: getpass would fall back to stdin, with warnings
        raise InputError(
            "there is no terminal to ask for the password; nothing was stored. Give it on standard input: "
            f"printf '%s\\n' \"$PASSWORD\" | tracker user add {args.name} --password-stdin"
        )
    first = getpass.getpass(f"password for {args.name}: ")
    auth.check_password(first)
    if getpass.getpass("the same password again: ") != first:
        raise InputError("the two passwords differ; nothing was stored")
    return first


def _user(args, folder: Path) -> int:
    if args.user_command == "add":
        name = auth.check_name(args.name)
        if name in set(auth.list_users(folder)["name"]):
            raise InputError(f"there is already a user {name!r}")
        auth.add_user(folder, name, _new_password(args))
        print(f"added the analyst {name!r} to {folder}")
        return 0
    if args.user_command == "list":
        _emit_records(auth.list_users(folder)[USER_COLUMNS], args.format)
        return 0
    if args.user_command == "disable":
        auth.disable_user(folder, args.name)
        print(f"disabled the analyst {auth.check_name(args.name)!r}")
        return 0
    if args.user_command == "unlock":
        auth.unlock(folder, args.name, args.uploader or store.os_user())
        print(f"unlocked the analyst {auth.check_name(args.name)!r}: failed logins before now no longer count")
        return 0
    if args.user_command == "log":
        since = dt.datetime.combine(args.since, dt.time()) if args.since else None
        _emit_records(auth.login_log(folder, name=args.name, since=since), args.format)
        return 0
    raise AssertionError(args.user_command)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return run(args)
    except ValidationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except TrackerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # no traceback reaches a user; TRACKER_DEBUG=1 shows it
        if os.environ.get("TRACKER_DEBUG"):
            raise
        print(f"error: unexpected {type(exc).__name__}: {exc} (set TRACKER_DEBUG=1 for details)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
