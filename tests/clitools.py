"""Helpers shared by the CLI, ingest and store tests: run the CLI in-process, fingerprint a store."""

from __future__ import annotations

import hashlib
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from tracker import cli

ROOT = Path(__file__).resolve().parent.parent

# `tracker ...` in a child process that stops inside the commit's transaction, once the drop's rows are
# inserted and its raw file kept, and waits there: the parent kills it (SIGKILL, as a power cut or the
# OOM killer would) at that point. The seam is a wrapper around the wait for the raw file, set up by the
# test: nothing in the product knows about it.
_STOP_IN_COMMIT = """
import sys, time
from pathlib import Path
from tracker import cli, store

marker, args = Path(sys.argv[1]), sys.argv[2:]
kept = store.raw.RawWrite.wait


def wait_then_stop(self):
    kept(self)
    marker.touch()  # the rows are in, the raw file is kept, COMMIT has not run
    time.sleep(3600)


store.raw.RawWrite.wait = wait_then_stop
sys.exit(cli.main(args))
"""


def killed_in_commit(*args, timeout: float = 120) -> None:
    """Run `tracker *args` in a child and kill it inside the commit, before COMMIT (see _STOP_IN_COMMIT)."""
    marker = Path(tempfile.gettempdir()) / f"tracker-in-commit-{uuid.uuid4().hex}"
    child = subprocess.Popen(
        [sys.executable, "-c", _STOP_IN_COMMIT, str(marker), *map(str, args)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + timeout
    try:
        while not marker.exists():
            if child.poll() is not None:
                out, err = child.communicate()
                raise AssertionError(f"the command ended ({child.returncode}) before its commit: {err or out}")
            if time.monotonic() > deadline:
                raise AssertionError(f"the command did not reach its commit in {timeout:.0f} s")
            time.sleep(0.02)
        child.send_signal(signal.SIGKILL)
        child.communicate(timeout=60)
        assert child.returncode == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
        marker.unlink(missing_ok=True)


def run(capsys, *args) -> tuple[int, str, str]:
    """Run the CLI in-process; usage errors (argparse's SystemExit) come back as their exit code."""
    capsys.readouterr()
    try:
        code = cli.main([str(a) for a in args])
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def snapshot(folder: Path) -> dict[str, str] | None:
    """sha256 of every file in the folder, by relative path; None when the folder does not exist."""
    folder = Path(folder)
    if not folder.exists():
        return None
    return {str(p.relative_to(folder)): sha256(p) for p in sorted(folder.rglob("*")) if p.is_file()}
