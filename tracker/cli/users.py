"""`tracker user ACTION`: the analyst accounts of the dashboard's upload page (tracker.auth).

``ACTIONS`` maps each action of the parser's ``user`` command to its function; ``run`` dispatches on it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import sys
from collections.abc import Callable
from pathlib import Path

from tracker import auth, store
from tracker.cli import output
from tracker.config import Config
from tracker.errors import InputError


def terminal() -> bool:
    """Whether there is a terminal to ask for a password on (getpass reads /dev/tty, else stdin)."""
    try:
        with open("/dev/tty", "rb"):
            return True
    except OSError:
        return sys.stdin.isatty()


def _new_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().removesuffix("\n").removesuffix("\r")
    if not terminal():  # e.g. a script or a service: getpass would fall back to stdin, with warnings
        raise InputError(
            "there is no terminal to ask for the password; nothing was stored. Give it on standard input: "
            f"printf '%s\\n' \"$PASSWORD\" | tracker user add {args.name} --password-stdin"
        )
    first = getpass.getpass(f"password for {args.name}: ")
    auth.check_password(first)
    if getpass.getpass("the same password again: ") != first:
        raise InputError("the two passwords differ; nothing was stored")
    return first


def add(args: argparse.Namespace, folder: Path) -> int:
    name = auth.check_name(args.name)
    if name in set(auth.list_users(folder)["name"]):
        raise InputError(f"there is already a user {name!r}")
    auth.add_user(folder, name, _new_password(args))
    print(f"added the analyst {name!r} to {folder}")
    return 0


def list_users(args: argparse.Namespace, folder: Path) -> int:
    output.emit_records(auth.list_users(folder)[output.USER_COLUMNS], args.format)
    return 0


def disable(args: argparse.Namespace, folder: Path) -> int:
    auth.disable_user(folder, args.name)
    print(f"disabled the analyst {auth.check_name(args.name)!r}")
    return 0


def unlock(args: argparse.Namespace, folder: Path) -> int:
    auth.unlock(folder, args.name, args.uploader or store.os_user())
    print(f"unlocked the analyst {auth.check_name(args.name)!r}: failed logins before now no longer count")
    return 0


def log(args: argparse.Namespace, folder: Path) -> int:
    since = dt.datetime.combine(args.since, dt.time()) if args.since else None
    output.emit_records(auth.login_log(folder, name=args.name, since=since), args.format)
    return 0


ACTIONS: dict[str, Callable[[argparse.Namespace, Path], int]] = {
    "add": add,
    "list": list_users,
    "disable": disable,
    "unlock": unlock,
    "log": log,
}


def run(args: argparse.Namespace, folder: Path, cfg: Config) -> int:
    """`tracker user ACTION` (the dataset's configuration is not needed)."""
    return ACTIONS[args.user_command](args, folder)
