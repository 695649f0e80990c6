"""The `tracker` command line's parser: every command, flag, default and help text.

docs/cli.md's reference is generated from build_parser() (python -m tracker.cli_docs); a change here
shows there after `make docs`.
"""

from __future__ import annotations

import argparse
import codecs
import datetime as dt
import re
from pathlib import Path

from tracker.errors import InputError

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
DELIMITERS = {",": ",", ";": ";", "tab": "\t", "\t": "\t"}
MEASURES = ("cumulative", "daily")


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
    from tracker import mappings  # the store and pandas come with it: only when --mapping is given

    try:
        return mappings.check_name(text)
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _sheet(text: str) -> str | int:
    return int(text) if text.strip().isdigit() else text


def build_parser() -> argparse.ArgumentParser:
    """The command line's parser: docs/cli.md's reference is generated from it (python -m tracker.cli_docs)."""
    from tracker.ingest.options import DATE_ORDERS, KIND_NAMES, OVERLAPS

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
    p.add_argument("--kind", required=True, choices=KIND_NAMES, help="what the file holds (docs/data-model.md)")
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
