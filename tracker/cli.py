"""The `tracker` command line: the same work as the dashboard, headless.

Exit codes: 0 ok; 1 bad input or data (a message on stderr, the store unchanged); 2 usage.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import sys
from pathlib import Path

import pandas as pd

from tracker import core, store
from tracker.config import load_config, store_dir
from tracker.errors import TrackerError, ValidationError
from tracker.ingest import KINDS

COVERAGE_COLUMNS = ["unit_code", "unit_name", "people", "population", "coverage", "last_report_date"]
REPORT_COLUMNS = [
    "unit_code", "unit_name", "target_id", "group", "dose", "people", "population", "coverage", "threshold",
    "deadline", "people_needed", "days_left", "pace_7d", "required_daily", "projected_date", "status",
]  # fmt: skip
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
INTEGER_COLUMNS = {"people", "population", "people_needed", "days_left", "dose"}
DATE_COLUMNS = {"last_report_date", "deadline", "projected_date"}


def _date(text: str) -> dt.date:
    try:
        if not ISO_DATE.fullmatch(text):
            raise ValueError(text)
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date in the form YYYY-MM-DD") from None


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--store", metavar="DIR", help="store folder (default: $TRACKER_STORE, else ./var/store)")
    output = argparse.ArgumentParser(add_help=False)
    output.add_argument("--format", choices=("csv", "json"), default="csv", help="output format (default csv)")

    parser = argparse.ArgumentParser(
        prog="tracker", description="Vaccination target tracker for Tuyên Quang province (headless)."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sub.add_parser("init", parents=[common], help="create the store from data/ (idempotent)")

    p = sub.add_parser("ingest", parents=[common], help="validate a CSV file and store it")
    p.add_argument("file", type=Path, metavar="FILE")
    p.add_argument("--kind", required=True, choices=tuple(KINDS))
    p.add_argument("--dry-run", action="store_true", help="validate and report only; store nothing")

    p = sub.add_parser("coverage", parents=[common, output], help="coverage per unit and for the province")
    p.add_argument("--as-of", type=_date, metavar="YYYY-MM-DD", help="default: the latest report date")
    p.add_argument("--group", required=True, metavar="NAME", help="a group (adults, all, 50plus, 12plus) or a band")
    p.add_argument("--dose", required=True, type=int, choices=(1, 2, 3, 4), metavar="N")

    p = sub.add_parser("report", parents=[common, output], help="every target per unit and for the province")
    p.add_argument("--as-of", type=_date, metavar="YYYY-MM-DD", help="default: the latest report date")
    p.add_argument("--targets", type=Path, metavar="FILE", help="targets TOML (default data/targets.toml)")
    return parser


def _emit(frame: pd.DataFrame, columns: list[str], fmt: str) -> None:
    out = frame[columns].copy()
    for col in columns:
        if col in INTEGER_COLUMNS:
            out[col] = out[col].round().astype("Int64")
        elif col in DATE_COLUMNS:
            out[col] = pd.to_datetime(out[col]).dt.strftime("%Y-%m-%d")
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
    cfg = load_config(targets_file=getattr(args, "targets", None))
    if args.command == "init":
        created = store.init(folder, cfg)
        if created:
            print(f"initialised the store at {folder} from {cfg.data_dir}")
        else:
            print(f"the store at {folder} already holds data; nothing changed")
        return 0
    if args.command == "ingest":
        prepared = store.ingest(folder, args.file, args.kind, cfg, dry_run=args.dry_run)
        for w in prepared.warnings:
            print(f"warning: {prepared.source}: {w}", file=sys.stderr)
        done = "valid (dry run: nothing stored)" if args.dry_run else f"stored in {folder}"
        dup = f", {prepared.duplicates_dropped} repeated rows dropped" if prepared.duplicates_dropped else ""
        print(f"{args.kind}: {len(prepared.frame)} rows {done}; {len(prepared.warnings)} warning(s){dup}")
        return 0
    if args.command == "coverage":
        ds = store.load(folder, until=args.as_of, doses=(args.dose,))
        frame = core.coverage(ds, cfg, _as_of(args, ds), args.group, args.dose)
        _emit(frame, COVERAGE_COLUMNS, args.format)
        _notes(frame)
        _sample_note(ds)
        return 0
    if args.command == "report":
        doses = tuple(sorted({t.dose for t in cfg.targets}))
        until = max([args.as_of, *(t.deadline for t in cfg.targets)]) if args.as_of else None
        ds = store.load(folder, until=until, doses=doses)
        frame = core.evaluate(ds, cfg, _as_of(args, ds))
        _emit(frame, REPORT_COLUMNS, args.format)
        _notes(frame)
        _sample_note(ds)
        return 0
    raise AssertionError(args.command)


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
    except Exception as exc:  # no traceback reaches a user; TRACKER_DEBUG=1 shows it
        if os.environ.get("TRACKER_DEBUG"):
            raise
        print(f"error: unexpected {type(exc).__name__}: {exc} (set TRACKER_DEBUG=1 for details)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
