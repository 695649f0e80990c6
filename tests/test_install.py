"""What `make run` and `make test` install: exactly the locked set, with the project's packages in it."""

from __future__ import annotations

import importlib.metadata
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parent.parent
PROJECT = "tuyenquang-vaccination-tracker"
BOOTSTRAP = {"pip", "setuptools", "wheel"}  # what a venv may be seeded with; never imported by the project


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _lock() -> dict:
    return tomllib.loads((ROOT / "uv.lock").read_text(encoding="utf-8"))


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_the_lock_was_made_from_the_current_pyproject():
    """`make lock` was run after the last change to the dependencies (uv sync --frozen would not notice)."""
    project = _pyproject()["project"]
    wanted = {(_norm(r.name), str(r.specifier), None) for r in map(Requirement, project["dependencies"])}
    for extra, requirements in project["optional-dependencies"].items():
        wanted |= {(_norm(r.name), str(r.specifier), extra) for r in map(Requirement, requirements)}

    root = next(p for p in _lock()["package"] if p["name"] == PROJECT)
    locked = set()
    for entry in root["metadata"]["requires-dist"]:
        extra = re.fullmatch(r"extra == '([^']+)'", entry.get("marker", "")) if "marker" in entry else None
        locked.add((entry["name"], str(SpecifierSet(entry.get("specifier", ""))), extra and extra.group(1)))
    assert locked == wanted, f"uv.lock is out of date with pyproject.toml (run `make lock`): {locked ^ wanted}"


def test_every_installed_package_is_the_locked_version():
    """The environment the tests run in was installed from uv.lock and holds nothing else."""
    locked: dict[str, set[str]] = {}
    for package in _lock()["package"]:
        locked.setdefault(package["name"], set()).add(package["version"])
    installed = {_norm(d.metadata["Name"]): d.version for d in importlib.metadata.distributions()}
    wrong = {
        name: (version, sorted(locked.get(name, [])))
        for name, version in installed.items()
        if name not in BOOTSTRAP and version not in locked.get(name, set())
    }
    assert not wrong, f"installed (version, locked versions) outside uv.lock: {wrong}"


def test_the_packages_import_from_outside_the_checkout(tmp_path):
    """tracker and dashboard are installed packages, not only folders of the checkout."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    code = "import dashboard, tracker, tracker.i18n; print(tracker.i18n.t('page.overview', 'vi'))"
    run = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "Tổng quan"
