"""The generated datasets (cached in var/bench/) and their configuration, as the report needs it."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import tomllib
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from bench.procs import Run, run
from bench.settings import BENCH_DIR, META_FILE, ROOT, TABLES


def data_dir(units: int, days: int) -> Path:
    return BENCH_DIR / f"data-{units}x{days}"


def dataset_ready(folder: Path, units: int, days: int) -> bool:
    """The cached dataset exists, is complete and has the asked shape."""
    try:
        meta = json.loads((folder / META_FILE).read_text())
    except (FileNotFoundError, ValueError):
        return False
    if meta.get("units") != units or meta.get("days") != days:
        return False
    return all((folder / f"{t}.csv").is_file() for t in TABLES)


def configure(folder: Path) -> None:
    """The dataset folder gets the project's configuration, with upload limits raised for a country-sized
    file (a deployment at that scale raises them the same way, in its config.toml)."""
    folder.mkdir(parents=True, exist_ok=True)
    project = ROOT / "data"
    for name in ("targets.toml", "risk_rules.toml"):
        shutil.copyfile(project / name, folder / name)
    config = (project / "config.toml").read_text(encoding="utf-8")
    config = re.sub(r"(?m)^max_mb = \d+$", "max_mb = 4096", config)
    config = re.sub(r"(?m)^max_rows = \d+$", "max_rows = 1000000000", config)
    (folder / "config.toml").write_text(config, encoding="utf-8")
    (folder / "dataset.toml").write_text(
        '[dataset]\nsample = true\nlabel_vi = "Số liệu tổng hợp cho đo hiệu năng"\n'
        'label_en = "Synthetic benchmark data"\n',
        encoding="utf-8",
    )


def generate(python: str, folder: Path, units: int, days: int, timeout: float) -> Run:
    (folder / META_FILE).unlink(missing_ok=True)  # incomplete until the generator succeeds
    argv = [python, "-m", "tracker.sample", "--units", str(units), "--days", str(days), "--out", str(folder)]
    r = run(argv, timeout, env=dict(os.environ))
    if r.ok:
        meta = {"units": units, "days": days, "generated": dt.datetime.now().isoformat(timespec="seconds")}
        (folder / META_FILE).write_text(json.dumps(meta) + "\n")
    return r


def warm(path: Path) -> None:
    """Read a file once so every timed run starts with it in the page cache."""
    with path.open("rb") as fh:
        while fh.read(1 << 24):
            pass


def last_csv_date(path: Path) -> str:
    """The last report date of a generated vaccinations.csv (its rows are in date order): its last line."""
    with path.open("rb") as fh:
        fh.seek(max(0, path.stat().st_size - 4096))
        line = fh.read().decode("utf-8").strip().splitlines()[-1]
    return line.split(",", 1)[0]


@dataclass(frozen=True)
class Target:
    id: str
    group: str
    bands: tuple[str, ...]
    dose: int
    threshold: Fraction
    deadline: dt.date


@dataclass(frozen=True)
class ReportConfig:
    """What the report needs from the dataset's config.toml and targets.toml, read as tracker/config.py does
    (thresholds and the at-risk ratio as exact fractions of their decimal text)."""

    province: str
    at_risk_ratio: Fraction
    targets: tuple[Target, ...]


def read_report_config(folder: Path) -> ReportConfig:
    config = tomllib.loads((folder / "config.toml").read_text(encoding="utf-8"))
    targets = tomllib.loads((folder / "targets.toml").read_text(encoding="utf-8"))
    bands = [b["id"] for b in config["band"]]
    groups = {}
    for g in config["group"]:
        for name in (g["id"], *g.get("aliases", ())):
            groups[name] = tuple(g["bands"])

    def group_bands(name: str) -> tuple[str, ...]:
        if name in groups:
            return groups[name]
        if name in bands:
            return (name,)
        raise ValueError(f"targets.toml: unknown group {name!r}")

    return ReportConfig(
        province=config["province"]["name_vi"],
        at_risk_ratio=Fraction(str(config.get("status", {}).get("at_risk_ratio", 0.75))),
        targets=tuple(
            Target(
                id=t["id"],
                group=t["group"],
                bands=group_bands(t["group"]),
                dose=int(t["dose"]),
                threshold=Fraction(str(t["threshold"])),
                deadline=t["deadline"],
            )
            for t in targets["target"]
        ),
    )
