"""Running one child process: wall time, CPU time and peak RSS of that process (os.wait4)."""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass

from bench.settings import ROOT


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


def run(argv: list[str], timeout: float, env: dict | None = None, stdin: bytes | None = None) -> Run:
    """Run argv to completion; wall time, CPU time and peak RSS of that one process (os.wait4)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, tempfile.TemporaryFile() as inp:
        if stdin is not None:
            inp.write(stdin)
            inp.seek(0)
        start = time.perf_counter()
        proc = subprocess.Popen(
            argv, stdin=inp if stdin is not None else subprocess.DEVNULL, stdout=out, stderr=err, cwd=ROOT, env=env
        )
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
    argv = " ".join(a if len(a) < 200 else a[:200] + "…" for a in r.argv)
    return f"FAILED ({what}): {argv}\n{tail}"
