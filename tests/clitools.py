"""Helpers shared by the CLI, ingest and store tests: run the CLI in-process, fingerprint a store."""

from __future__ import annotations

import hashlib
from pathlib import Path

from tracker import cli


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
