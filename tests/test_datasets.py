"""Datasets of their own: a folder like data/ (TRACKER_DATA or --data) whose units are a country's provinces
or a country's states, and public files from outside the province loaded into them.

The US file is written here the way Our World in Data publishes its US-state series (month-first dates
in this export, no age column, rates beside the counts); its per-hundred figures are computed from the
same populations, so coverage must match them to 0.01 percentage points.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
from pathlib import Path

import pytest

from tests.apptools import open_app
from tests.clitools import run
from tracker import core, fmt, store
from tracker.config import DATA_DIR, load_config

BANDS = ("0-4", "5-11", "12-17", "18-49", "50-64", "65+")
SHARES = (0.06, 0.09, 0.08, 0.42, 0.19, 0.16)


def _dataset(folder: Path, province: dict, units: list[tuple[str, str, int]], label: str) -> Path:
    """A dataset folder: the project's configuration with another [province], these units, and one
    report of 0 people for the first unit's age label ``label`` (the label its files will use)."""
    folder.mkdir(parents=True)
    for name in ("targets.toml", "risk_rules.toml"):
        shutil.copy(DATA_DIR / name, folder / name)
    config = (DATA_DIR / "config.toml").read_text(encoding="utf-8")
    start, end = config.index("[province]"), config.index("[campaign]")
    block = "[province]\n" + "".join(f"{k} = {v!r}\n".replace("'", '"') for k, v in province.items()) + "\n"
    (folder / "config.toml").write_text(config[:start] + block + config[end:], encoding="utf-8")
    (folder / "dataset.toml").write_text("[dataset]\nsample = false\n", encoding="utf-8")
    rows = ["unit_code,unit_name,unit_type,lat,lon"] + [f"{c},{n},province,16.0,106.0" for c, n, _ in units]
    (folder / "units.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    pop = ["unit_code,age_band,population"]
    for code, _, total in units:
        parts = [round(total * s) for s in SHARES[:-1]]
        pop += [f"{code},{b},{p}" for b, p in zip(BANDS, [*parts, total - sum(parts)], strict=True)]
    (folder / "population.csv").write_text("\n".join(pop) + "\n", encoding="utf-8")
    first = units[0][0]
    (folder / "vaccinations.csv").write_text(
        f"date,unit_code,age_band,dose,people_cumulative\n2021-03-08,{first},{label},1,0\n", encoding="utf-8"
    )
    (folder / "cases.csv").write_text(
        f"date,unit_code,community_cases,imported_cases\n2021-03-08,{first},0,0\n", encoding="utf-8"
    )
    return folder


def test_a_country_of_provinces_names_its_total_row_from_its_configuration(capsys, tmp_path, monkeypatch):
    units = [("01", "Hà Nội", 8_246_600), ("08", "Tuyên Quang", 784_800), ("79", "Hồ Chí Minh", 9_166_800)]
    data = _dataset(
        tmp_path / "vietnam",
        {
            "code": "VN",
            "name_vi": "Việt Nam",
            "name_en": "Viet Nam",
            "place_vi": "toàn quốc",
            "place_en": "Viet Nam",
            "whole_vi": "Toàn quốc",
            "whole_en": "Country",
        },  # fmt: skip
        units,
        "adults",
    )
    folder = tmp_path / "store"
    code, out, err = run(capsys, "init", "--store", folder, "--data", data)
    assert code == 0, err
    drop = tmp_path / "snapshot.csv"  # the national portal's one-day snapshot: no date column, adults only
    drop.write_text("Tỉnh,Mũi 1 (lũy tích)\nHà Nội,6.100.000\nTuyên Quang,520.000\nHồ Chí Minh,7.000.000\n")
    code, out, err = run(capsys, "ingest", drop, "--kind", "vaccinations", "--store", folder, "--data", data,
                         "--set", "date=2021-11-30", "--set", "age_band=18+", "--column", "Tỉnh=unit_code")  # fmt: skip
    assert code == 0, err
    code, out, err = run(capsys, "coverage", "--as-of", "2021-11-30", "--group", "adults", "--dose", "1",
                         "--store", folder, "--data", data)  # fmt: skip
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["unit_name"] for r in rows] == ["Hà Nội", "Tuyên Quang", "Hồ Chí Minh", "Việt Nam"]
    assert int(rows[-1]["people"]) == 6_100_000 + 520_000 + 7_000_000

    monkeypatch.setenv("TRACKER_DATA", str(data))
    cfg = load_config()
    assert (cfg.name("vi"), cfg.whole("vi"), cfg.whole_named("en")) == ("Việt Nam", "Toàn quốc", "Viet Nam")
    assert cfg.plan("vi") == ""

    monkeypatch.setenv("TRACKER_STORE", str(folder))
    monkeypatch.delenv("TRACKER_BOUNDARIES", raising=False)
    at = open_app(None, "vi", as_of=dt.date(2021, 11, 30))
    captions = [c.value for c in at.caption]
    assert "Tiến độ tiêm vắc xin phòng COVID-19 toàn quốc" in captions
    assert not any("Kế hoạch 174" in c for c in captions)
    cards = [m.value for m in at.metric]
    assert cards[0] == fmt.percent(float(rows[-1]["coverage"]), "vi")  # the adults target, on the country


def _us_file(populations: dict[str, int]) -> str:
    """Three days for three states, OWID's columns, dates written m/d/yy."""
    header = (
        "date,location,total_vaccinations,total_distributed,people_vaccinated,people_fully_vaccinated_per_hundred,"
        "total_vaccinations_per_hundred,people_fully_vaccinated,people_vaccinated_per_hundred,distributed_per_hundred,"
        "daily_vaccinations_raw,daily_vaccinations,daily_vaccinations_per_million,share_doses_used,total_boosters,"
        "total_boosters_per_hundred"
    )
    lines = [header]
    for day, factor in (("1/12/21", 0.010), ("1/13/21", 0.012), ("12/31/21", 0.61)):
        for state, pop in populations.items():
            first = int(pop * factor * 1.37) % pop
            full = first * 4 // 5
            total = first + full
            lines.append(
                f"{day},{state},{total},{total * 2},{first},{100 * full / pop:.2f},{100 * total / pop:.2f},{full},"
                f"{100 * first / pop:.2f},{200 * total / pop:.2f},1000,900,{900e6 / pop:.1f},0.5,0,0.00"
            )
    return "\n".join(lines) + "\n"


def test_a_us_state_file_with_set_and_mdy_stores_both_doses_and_matches_its_own_rates(capsys, tmp_path):
    populations = {"Alabama": 4_903_185, "Alaska": 731_545, "Arizona": 7_278_717}
    units = [(f"{i:02d}", name, pop) for i, (name, pop) in enumerate(populations.items(), start=1)]
    data = _dataset(
        tmp_path / "us",
        {
            "code": "US",
            "name_vi": "Hoa Kỳ",
            "name_en": "United States",
            "place_vi": "Hoa Kỳ",
            "place_en": "the United States",
            "whole_vi": "Toàn quốc",
            "whole_en": "Country",
        },  # fmt: skip
        units,
        "all",
    )
    folder = tmp_path / "store"
    assert run(capsys, "init", "--store", folder, "--data", data)[0] == 0
    path = tmp_path / "us_state_vaccinations.csv"
    path.write_text(_us_file(populations), encoding="utf-8")
    code, out, err = run(capsys, "ingest", path, "--kind", "vaccinations", "--store", folder, "--data", data,
                         "--set", "age_band=all", "--date-order", "mdy", "--measure", "cumulative",
                         "--column", "location=unit_code", "--save-mapping", "owid_us")  # fmt: skip
    assert code == 0, err
    assert "18 rows stored" in out  # 3 days x 3 states x doses 1 and 2

    cfg = load_config(data)
    ds = store.load(folder)
    given = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    for row in given:
        month, day, year = (int(x) for x in row["date"].split("/"))
        as_of = f"20{year:02d}-{month:02d}-{day:02d}"
        for dose, rate in ((1, "people_vaccinated_per_hundred"), (2, "people_fully_vaccinated_per_hundred")):
            cov = core.coverage(ds, cfg, as_of, "all", dose).set_index("unit_name")
            assert cov.loc[row["location"], "coverage"] * 100 == pytest.approx(float(row[rate]), abs=0.01)

    # the saved mapping reads the next day's file alone
    later = tmp_path / "next.csv"
    later.write_text(_us_file(populations).replace("12/31/21", "1/14/22"), encoding="utf-8")
    code, out, err = run(capsys, "ingest", later, "--kind", "vaccinations", "--store", folder, "--data", data,
                         "--mapping", "owid_us", "--dry-run")  # fmt: skip
    assert code == 0, err
