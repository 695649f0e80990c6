"""The `tracker` command line: the same work as the dashboard, headless.

Exit codes: 0 ok; 1 bad input or data, or a refused store operation (a message on stderr, the
store unchanged); 2 usage.

The modules, each of one job: ``parser`` (``build_parser()``: every command, flag and help text;
docs/cli.md's reference is generated from it by tracker.cli_docs), ``commands`` (one function per
command and ``COMMANDS``, the table ``run`` dispatches on), ``users`` (the ``user`` sub-commands: analyst
accounts, and asking for a password) and ``output`` (tables as CSV or JSON on stdout, notes on stderr).
Here: ``main``, which turns every error into a message and an exit code.

``import tracker.cli`` stays light: pandas, DuckDB and the store come in with ``commands``, once the
arguments have parsed, and a command that needs more (risk, briefing) imports it itself.
"""

from __future__ import annotations

import os
import sys

from tracker.cli.parser import build_parser
from tracker.errors import TrackerError

__all__ = ["build_parser", "main"]


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)  # a usage error exits here, with 2
    # numpy advises the kernel to back each large array with huge pages; where the kernel then compacts
    # memory synchronously to find them (THP defrag "madvise", Debian's and Ubuntu's default), every fresh
    # array of a big drop stalls in the kernel: 0.3-0.8 s of system time at 25 M rows (numpy issue 31590;
    # docs/performance.md). Off for the command line, before numpy is imported, unless set otherwise.
    os.environ.setdefault("NUMPY_MADVISE_HUGEPAGE", "0")
    from tracker.cli.commands import run

    try:
        return run(args)
    except TrackerError as exc:  # a ValidationError too: its message lists the problems
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
