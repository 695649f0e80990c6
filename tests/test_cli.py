"""The `tracker` command line against a store initialised from data/.

Expected figures are computed here, independently, from data/*.csv with plain pandas and the
rules of docs/rules.md; nothing is copied from the CLI's own output.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import json
import math
import os
import subprocess
import sys
import tomllib
from fractions import Fraction
from pathlib import Path

import pandas as pd
import pytest

from tests.clitools import run, snapshot
from tracker import cli

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
TRACKER = Path(sys.executable).with_name("tracker")

COVERAGE_COLUMNS = ["unit_code", "unit_name", "people", "population", "coverage", "last_report_date"]
REPORT_COLUMNS = [
    "unit_code", "unit_name", "target_id", "group", "dose", "people", "population", "coverage", "threshold",
    "deadline", "people_needed", "days_left", "pace_7d", "required_daily", "projected_date", "status",
]  # fmt: skip
DISTRICTS = 7


# --------------------------------------------------------------------------- helpers


def parse_csv(text: str) -> tuple[list[str], list[dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(text))
    rows = list(reader)
    return list(reader.fieldnames or []), rows


# --------------------------------------------------------------------------- independent expectations


@pytest.fixture(scope="session")
def config() -> dict:
    with (DATA / "config.toml").open("rb") as fh:
        return tomllib.load(fh)


@pytest.fixture(scope="session")
def targets() -> list[dict]:
    with (DATA / "targets.toml").open("rb") as fh:
        return tomllib.load(fh)["target"]


@pytest.fixture(scope="session")
def units() -> pd.DataFrame:
    return pd.read_csv(DATA / "units.csv", dtype=str)


@pytest.fixture(scope="session")
def population() -> pd.DataFrame:
    return pd.read_csv(DATA / "population.csv", dtype={"unit_code": str, "age_band": str})


@pytest.fixture(scope="session")
def vaccinations() -> pd.DataFrame:
    v = pd.read_csv(DATA / "vaccinations.csv", dtype={"unit_code": str, "age_band": str})
    v["date"] = pd.to_datetime(v["date"], format="%Y-%m-%d")
    return v


def bands_of(config: dict, group: str) -> list[str]:
    for g in config["group"]:
        if g["id"] == group:
            return list(g["bands"])
    assert group in [b["id"] for b in config["band"]], group
    return [group]


@pytest.fixture(scope="session")
def series(vaccinations) -> dict[tuple[str, str, int], pd.Series]:
    """people_cumulative by date, per (unit, band, dose) series of data/vaccinations.csv."""
    return {
        (unit, band, int(dose)): part.set_index("date")["people_cumulative"].sort_index()
        for (unit, band, dose), part in vaccinations.groupby(["unit_code", "age_band", "dose"])
    }


def people_of(series, config, unit: str, group: str, dose: int, as_of) -> tuple[int, pd.Timestamp | None]:
    """Sum over the group's bands of the last cumulative value on or before as_of; and the latest such date."""
    people, latest = 0, None
    for band in bands_of(config, group):
        s = series.get((unit, band, dose))
        if s is None:
            continue
        s = s.loc[: pd.Timestamp(as_of)]
        if s.empty:
            continue
        people += int(s.iloc[-1])
        latest = s.index[-1] if latest is None else max(latest, s.index[-1])
    return people, latest


def population_of(population, config, unit: str, group: str) -> int:
    p = population
    return int(p.loc[(p["unit_code"] == unit) & p["age_band"].isin(bands_of(config, group)), "population"].sum())


# --------------------------------------------------------------------------- the shared store


@pytest.fixture(scope="session")
def store(tmp_path_factory) -> Path:
    """One store initialised from data/ for the whole session (read by every test here, written by none)."""
    folder = tmp_path_factory.mktemp("cli") / "store"
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(["init", "--store", str(folder)])
    assert code == 0, err.getvalue()
    assert (folder / "tracker.duckdb").is_file()
    return folder


def coverage_rows(capsys, store, as_of, group, dose, fmt="csv"):
    code, out, err = run(capsys, "coverage", "--store", store, "--as-of", as_of, "--group", group, "--dose", dose,
                         "--format", fmt)  # fmt: skip
    assert code == 0, err
    assert "Traceback" not in err
    return out, err


# --------------------------------------------------------------------------- init


def test_init_is_idempotent(capsys, store):
    before = snapshot(store)
    code, out, err = run(capsys, "init", "--store", store)
    assert code == 0, err
    assert "nothing changed" in out or "already" in out, out
    assert snapshot(store) == before


def test_init_creates_the_store_and_says_so(capsys, tmp_path):
    folder = tmp_path / "new" / "store"
    code, out, err = run(capsys, "init", "--store", folder)
    assert code == 0, err
    assert str(folder) in out
    assert (folder / "tracker.duckdb").is_file()
    before = snapshot(folder)
    code, out2, err = run(capsys, "init", "--store", folder)
    assert code == 0, err
    assert "nothing changed" in out2 or "already" in out2, out2
    assert snapshot(folder) == before


# --------------------------------------------------------------------------- coverage


COVERAGE_CASES = [
    ("2021-12-31", "adults", 1),
    ("2021-11-15", "adults", 1),  # 071 has no report that day
    ("2021-09-20", "50plus", 2),  # 071 has no report that day
    ("2022-02-01", "all", 1),
    ("2022-03-31", "12plus", 2),
    ("2022-01-24", "18-49", 3),  # a band as the group; 071 has no report that day
    ("2021-03-01", "adults", 1),  # before any report
]


@pytest.mark.parametrize("as_of,group,dose", COVERAGE_CASES)
def test_coverage_matches_independent_figures(capsys, store, config, units, population, series, as_of, group,
                                              dose):  # fmt: skip
    out, _ = coverage_rows(capsys, store, as_of, group, dose)
    header, rows = parse_csv(out)
    assert header == COVERAGE_COLUMNS
    assert len(rows) == DISTRICTS + 1
    assert [r["unit_code"] for r in rows[:-1]] == list(units["unit_code"])
    assert rows[-1]["unit_code"] == "TOTAL"

    total_people = total_population = 0
    for row in rows[:-1]:
        code = row["unit_code"]
        people, last = people_of(series, config, code, group, dose, as_of)
        pop = population_of(population, config, code, group)
        assert row["unit_name"] == units.set_index("unit_code").loc[code, "unit_name"]
        assert int(row["people"]) == people, code
        assert int(row["population"]) == pop, code
        assert float(row["coverage"]) == people / pop, code
        assert float(row["coverage"]) == int(row["people"]) / int(row["population"])
        assert row["last_report_date"] == ("" if last is None else f"{last:%Y-%m-%d}"), code
        total_people += people
        total_population += pop

    total = rows[-1]
    assert int(total["people"]) == sum(int(r["people"]) for r in rows[:-1]) == total_people
    assert int(total["population"]) == sum(int(r["population"]) for r in rows[:-1]) == total_population
    assert float(total["coverage"]) == total_people / total_population


def test_coverage_adults_071_end_of_2021(capsys, store, vaccinations, population):
    """People with >= 1 dose among adults in 071 on 2021-12-31, computed straight from the CSV."""
    v = vaccinations
    expected = 0
    for band in ("18-49", "50-64", "65+"):
        s = v[(v.unit_code == "071") & (v.age_band == band) & (v.dose == 1) & (v.date <= "2021-12-31")]
        expected += int(s.sort_values("date")["people_cumulative"].iloc[-1])
    out, _ = coverage_rows(capsys, store, "2021-12-31", "adults", 1)
    row = next(r for r in parse_csv(out)[1] if r["unit_code"] == "071")
    assert int(row["people"]) == expected
    p = population
    pop = int(p[(p.unit_code == "071") & p.age_band.isin(["18-49", "50-64", "65+"])]["population"].sum())
    assert int(row["population"]) == pop
    assert float(row["coverage"]) == expected / pop


def test_coverage_carries_forward_a_missing_report_day(capsys, store, vaccinations):
    v = vaccinations
    assert v[(v.unit_code == "071") & (v.date == "2021-11-15")].empty  # the gap in data/
    on_14 = v[
        (v.unit_code == "071") & (v.date == "2021-11-14") & (v.dose == 1) & v.age_band.isin(["18-49", "50-64", "65+"])
    ]
    assert len(on_14) == 3
    out, _ = coverage_rows(capsys, store, "2021-11-15", "adults", 1)
    rows = {r["unit_code"]: r for r in parse_csv(out)[1]}
    assert int(rows["071"]["people"]) == int(on_14["people_cumulative"].sum()) > 0
    assert rows["071"]["last_report_date"] == "2021-11-14"
    assert rows["070"]["last_report_date"] == "2021-11-15"


def test_coverage_before_any_report_is_zero_with_empty_date(capsys, store):
    out, _ = coverage_rows(capsys, store, "2021-03-01", "adults", 1)
    for row in parse_csv(out)[1]:
        assert int(row["people"]) == 0
        assert float(row["coverage"]) == 0.0
        assert row["last_report_date"] == ""


@pytest.mark.parametrize("as_of,group,dose", [("2021-11-15", "adults", 1), ("2021-03-01", "all", 2)])
def test_coverage_json_has_the_same_content_as_csv(capsys, store, as_of, group, dose):
    text_csv, _ = coverage_rows(capsys, store, as_of, group, dose, "csv")
    text_json, _ = coverage_rows(capsys, store, as_of, group, dose, "json")
    header, rows = parse_csv(text_csv)
    records = json.loads(text_json)
    assert isinstance(records, list) and len(records) == len(rows) == DISTRICTS + 1
    for rec, row in zip(records, rows, strict=True):
        assert list(rec) == header
        assert rec["unit_code"] == row["unit_code"] and isinstance(rec["unit_code"], str)
        assert rec["unit_name"] == row["unit_name"]
        assert rec["people"] == int(row["people"]) and isinstance(rec["people"], int)
        assert rec["population"] == int(row["population"]) and isinstance(rec["population"], int)
        assert rec["coverage"] == float(row["coverage"])
        assert rec["last_report_date"] == (row["last_report_date"] or None)
    assert records[0]["unit_code"] == "070"


def test_coverage_unit_codes_keep_leading_zeros(capsys, store):
    out, _ = coverage_rows(capsys, store, "2021-12-31", "adults", 2)
    codes = [r["unit_code"] for r in parse_csv(out)[1]]
    assert codes == ["070", "071", "072", "073", "074", "075", "076", "TOTAL"]


def test_coverage_unknown_group_is_bad_input(capsys, store):
    code, out, err = run(capsys, "coverage", "--store", store, "--as-of", "2021-12-31", "--group", "kids", "--dose", 1)
    assert code == 1
    assert "kids" in err and "group" in err
    assert "Traceback" not in err
    assert out == ""


def test_coverage_without_a_store_is_bad_input_and_creates_nothing(capsys, tmp_path):
    folder = tmp_path / "nowhere"
    code, _, err = run(capsys, "coverage", "--store", folder, "--as-of", "2021-12-31", "--group", "adults", "--dose", 1)
    assert code == 1
    assert err.strip() and "Traceback" not in err
    assert not folder.exists()


# --------------------------------------------------------------------------- report


def expected_report(config, targets, units, population, series, as_of: str) -> dict[tuple[str, str], dict]:
    """Every (unit, target) figure by the rules of docs/rules.md, in exact arithmetic."""
    as_of_d = dt.date.fromisoformat(as_of)
    ratio = Fraction(str(config["status"]["at_risk_ratio"]))
    out = {}
    for t in targets:
        threshold = Fraction(str(t["threshold"]))
        deadline = t["deadline"]
        days_left = (deadline - as_of_d).days
        per_unit = {}
        for code in units["unit_code"]:
            people, _ = people_of(series, config, code, t["group"], t["dose"], as_of)
            before, _ = people_of(series, config, code, t["group"], t["dose"], as_of_d - dt.timedelta(days=7))
            at_deadline, _ = people_of(series, config, code, t["group"], t["dose"], deadline)
            pop = population_of(population, config, code, t["group"])
            per_unit[code] = (people, before, at_deadline, pop)
        per_unit["TOTAL"] = tuple(sum(x[i] for x in per_unit.values()) for i in range(4))
        for code, (people, before, at_deadline, pop) in per_unit.items():
            need_total = math.ceil(threshold * pop)
            needed = max(0, need_total - people)
            gained = people - before
            if as_of_d >= deadline:
                status = "met" if at_deadline >= need_total else "missed"
            elif needed == 0:
                status = "met"
            elif gained * days_left >= 7 * needed:
                status = "on_track"
            elif gained * days_left * ratio.denominator >= 7 * needed * ratio.numerator:
                status = "at_risk"
            else:
                status = "off_track"
            projected = None
            if needed > 0 and gained > 0:
                projected = as_of_d + dt.timedelta(days=math.ceil(Fraction(needed * 7, gained)))
            out[(code, t["id"])] = {
                "group": t["group"],
                "dose": t["dose"],
                "people": people,
                "population": pop,
                "coverage": people / pop,
                "threshold": float(threshold),
                "deadline": deadline.isoformat(),
                "people_needed": needed,
                "days_left": days_left,
                "pace_7d": gained / 7,
                "required_daily": needed / days_left if days_left > 0 else None,
                "projected_date": projected.isoformat() if projected else "",
                "status": status,
            }
    return out


def check_report_row(row: dict[str, str], exp: dict) -> None:
    where = (row["unit_code"], row["target_id"])
    assert row["group"] == exp["group"], where
    assert int(row["dose"]) == exp["dose"], where
    assert int(row["people"]) == exp["people"], where
    assert int(row["population"]) == exp["population"], where
    assert float(row["coverage"]) == exp["coverage"], where
    assert float(row["threshold"]) == exp["threshold"], where
    assert row["deadline"] == exp["deadline"], where
    assert int(row["people_needed"]) == exp["people_needed"], where
    assert int(row["days_left"]) == exp["days_left"], where
    assert float(row["pace_7d"]) == pytest.approx(exp["pace_7d"], rel=1e-12, abs=1e-12), where
    if exp["required_daily"] is None:
        assert row["required_daily"] == "", where
    else:
        assert float(row["required_daily"]) == pytest.approx(exp["required_daily"], rel=1e-12, abs=1e-12), where
    assert row["projected_date"] == exp["projected_date"], where
    assert row["status"] == exp["status"], where


@pytest.mark.parametrize("as_of", ["2021-11-15", "2021-12-01", "2021-12-31", "2022-01-15"])
def test_report_matches_independent_figures(capsys, store, config, targets, units, population, series, as_of):
    code, out, err = run(capsys, "report", "--store", store, "--as-of", as_of)
    assert code == 0, err
    header, rows = parse_csv(out)
    assert header == REPORT_COLUMNS
    assert len(rows) == DISTRICTS * len(targets) + len(targets) == 16
    unit_rows, total_rows = rows[: DISTRICTS * len(targets)], rows[DISTRICTS * len(targets) :]
    assert all(r["unit_code"] != "TOTAL" for r in unit_rows)
    assert [r["unit_code"] for r in total_rows] == ["TOTAL"] * len(targets)
    assert {(r["unit_code"], r["target_id"]) for r in unit_rows} == {
        (u, t["id"]) for u in units["unit_code"] for t in targets
    }
    assert [r["target_id"] for r in total_rows] == [t["id"] for t in targets]

    expected = expected_report(config, targets, units, population, series, as_of)
    for row in rows:
        check_report_row(row, expected[(row["unit_code"], row["target_id"])])
    for total in total_rows:
        parts = [r for r in unit_rows if r["target_id"] == total["target_id"]]
        assert int(total["people"]) == sum(int(r["people"]) for r in parts)
        assert int(total["population"]) == sum(int(r["population"]) for r in parts)
        assert float(total["coverage"]) == int(total["people"]) / int(total["population"])


def test_report_after_a_deadline_judges_met_or_missed(capsys, store, config, targets, units, population,
                                                      series):  # fmt: skip
    as_of = "2022-03-31"  # both deadlines have come
    code, out, err = run(capsys, "report", "--store", store, "--as-of", as_of)
    assert code == 0, err
    rows = parse_csv(out)[1]
    assert {r["status"] for r in rows} <= {"met", "missed"}
    expected = expected_report(config, targets, units, population, series, as_of)
    for row in rows:
        check_report_row(row, expected[(row["unit_code"], row["target_id"])])


def test_report_carries_forward_a_missing_report_day(capsys, store, config, series):
    code, out, err = run(capsys, "report", "--store", store, "--as-of", "2021-11-15")
    assert code == 0, err
    row = next(r for r in parse_csv(out)[1] if r["unit_code"] == "071" and r["target_id"] == "adults_50pct_2021")
    expected, last = people_of(series, config, "071", "adults", 1, "2021-11-14")
    assert last == pd.Timestamp("2021-11-14")
    assert int(row["people"]) == expected > 0


def test_report_json_has_the_same_content_as_csv(capsys, store):
    code, text_csv, err = run(capsys, "report", "--store", store, "--as-of", "2021-12-01")
    assert code == 0, err
    code, text_json, err = run(capsys, "report", "--store", store, "--as-of", "2021-12-01", "--format", "json")
    assert code == 0, err
    header, rows = parse_csv(text_csv)
    records = json.loads(text_json)
    assert len(records) == len(rows) == 16
    for rec, row in zip(records, rows, strict=True):
        assert list(rec) == header
        for col in header:
            value = rec[col]
            if value is None:
                assert row[col] == "", col
            elif isinstance(value, bool):
                pytest.fail(f"{col}: unexpected boolean")
            elif isinstance(value, int):
                assert int(row[col]) == value, col
            elif isinstance(value, float):
                assert float(row[col]) == value, col
            else:
                assert row[col] == value, col


def test_report_with_a_custom_targets_file(capsys, store, tmp_path, config, units, population, series):
    toml = tmp_path / "one_target.toml"
    toml.write_text(
        "[[target]]\n"
        'id = "older_60pct_full"\n'
        'label_vi = "≥ 60% người từ 50 tuổi trở lên tiêm đủ liều"\n'
        'label_en = "≥ 60% of people aged 50+ fully vaccinated"\n'
        'group = "50plus"\n'
        "dose = 2\n"
        "threshold = 0.6\n"
        "deadline = 2022-01-31\n",
        encoding="utf-8",
    )
    as_of = "2021-12-15"
    code, out, err = run(capsys, "report", "--store", store, "--as-of", as_of, "--targets", toml)
    assert code == 0, err
    header, rows = parse_csv(out)
    assert header == REPORT_COLUMNS
    assert len(rows) == DISTRICTS + 1
    assert {r["target_id"] for r in rows} == {"older_60pct_full"}
    assert rows[-1]["unit_code"] == "TOTAL"
    target = {"id": "older_60pct_full", "group": "50plus", "dose": 2, "threshold": 0.6,
              "deadline": dt.date(2022, 1, 31)}  # fmt: skip
    expected = expected_report(config, [target], units, population, series, as_of)
    for row in rows:
        check_report_row(row, expected[(row["unit_code"], row["target_id"])])


def test_report_with_a_missing_targets_file_is_bad_input(capsys, store, tmp_path):
    code, out, err = run(capsys, "report", "--store", store, "--as-of", "2021-12-01", "--targets", tmp_path / "no.toml")
    assert code == 1
    assert "no.toml" in err and "Traceback" not in err
    assert out == ""


# --------------------------------------------------------------------------- usage errors


USAGE_ERRORS = [
    [],
    ["frobnicate"],
    ["coverage", "--group", "adults"],
    ["coverage", "--dose", "1"],
    ["coverage", "--as-of", "31/12/2021", "--group", "adults", "--dose", "1"],
    ["coverage", "--as-of", "2021-13-01", "--group", "adults", "--dose", "1"],
    ["coverage", "--as-of", "2021-02-30", "--group", "adults", "--dose", "1"],
    ["coverage", "--as-of", "yesterday", "--group", "adults", "--dose", "1"],
    ["coverage", "--as-of", "2021-12-31", "--group", "adults", "--dose", "5"],
    ["coverage", "--as-of", "2021-12-31", "--group", "adults", "--dose", "one"],
    ["coverage", "--as-of", "2021-12-31", "--group", "adults", "--dose", "1", "--format", "xml"],
    ["report", "--as-of", "2021/12/31"],
    ["report", "--as-of"],
    ["report", "--as-of", "2021-12-31", "--bogus"],
    ["ingest", "--kind", "units"],
    ["ingest", "x.csv"],
    ["ingest", "x.csv", "--kind", "vaccines"],
]


@pytest.mark.parametrize("args", USAGE_ERRORS, ids=lambda a: " ".join(a) or "no-args")
def test_usage_errors_exit_2(capsys, store, args):
    before = snapshot(store)
    code, out, err = run(capsys, *args, "--store", store) if args else run(capsys)
    assert code == 2
    assert err.strip() and "Traceback" not in err
    assert snapshot(store) == before


@pytest.mark.parametrize("as_of", ["20211231", "2021-W52-5"])
def test_as_of_not_in_yyyy_mm_dd_form_is_a_usage_error(capsys, store, as_of):
    """`--as-of YYYY-MM-DD`: other ISO 8601 spellings are not that form and must be refused (exit 2)."""
    code, out, err = run(capsys, "coverage", "--store", store, "--as-of", as_of, "--group", "adults", "--dose", 1)
    assert code == 2, f"--as-of {as_of} was accepted (exit {code})"
    assert out == ""


# --------------------------------------------------------------------------- the package


def test_every_command_of_the_parser_has_a_function_and_no_more():
    """`run` dispatches on tracker.cli.commands.COMMANDS and `user` on tracker.cli.users.ACTIONS."""
    from tracker.cli import commands, users
    from tracker.cli_docs import commands as walk

    names = [name.split()[1:] for name, _, _ in walk(cli.build_parser())]
    assert {n[0] for n in names if len(n) == 1} == set(commands.COMMANDS)
    assert {n[1] for n in names if len(n) == 2 and n[0] == "user"} == set(users.ACTIONS)


def test_import_tracker_cli_leaves_pandas_and_the_store_for_the_commands():
    """`import tracker.cli` (tracker.cli_docs, the console script) is light; the commands import what they need."""
    heavy = "{'pandas', 'duckdb', 'tracker.store', 'tracker.ingest', 'tracker.auth'}"
    code = f"import sys, tracker.cli; print(sorted({heavy} & set(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


# --------------------------------------------------------------------------- the store folder
# `ingest units` into an empty folder creates a store cheaply, so it stands in for `init` here.


def test_store_defaults_to_var_store_under_cwd(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TRACKER_STORE", raising=False)
    code, _, err = run(capsys, "ingest", DATA / "units.csv", "--kind", "units")
    assert code == 0, err
    assert (tmp_path / "var" / "store" / "tracker.duckdb").is_file()
    assert [p.name for p in tmp_path.iterdir()] == ["var"]


def test_store_from_env_then_option(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TRACKER_STORE", str(tmp_path / "from_env"))
    code, _, err = run(capsys, "ingest", DATA / "units.csv", "--kind", "units")
    assert code == 0, err
    assert (tmp_path / "from_env" / "tracker.duckdb").is_file()
    assert not (tmp_path / "var").exists()

    code, _, err = run(capsys, "ingest", DATA / "units.csv", "--kind", "units", "--store", tmp_path / "from_option")
    assert code == 0, err
    assert (tmp_path / "from_option" / "tracker.duckdb").is_file()
    assert not (tmp_path / "var").exists()


# --------------------------------------------------------------------------- the installed console script


def test_console_script_exit_codes_and_default_store(store, tmp_path):
    """The installed entry point: 0 (into ./var/store, cwd = tmp_path, no TRACKER_STORE), 2 usage, 1 bad input."""
    assert TRACKER.is_file(), TRACKER
    env = {k: v for k, v in os.environ.items() if k not in ("TRACKER_STORE", "TRACKER_DEBUG")}
    before = snapshot(store)
    calls = {
        "ok": ["ingest", DATA / "units.csv", "--kind", "units"],
        "usage": ["coverage", "--store", store, "--as-of", "31-12-2021", "--group", "adults", "--dose", 1],
        "bad": ["coverage", "--store", store, "--as-of", "2021-12-31", "--group", "kids", "--dose", 1],
    }
    procs = {
        name: subprocess.Popen(
            [str(TRACKER), *map(str, args)],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        for name, args in calls.items()
    }
    done = {name: (p.communicate(timeout=60), p.returncode) for name, p in procs.items()}

    (out, err), code = done["ok"]
    assert code == 0, err
    assert (tmp_path / "var" / "store" / "tracker.duckdb").is_file()

    (out, err), code = done["usage"]
    assert code == 2
    assert err.strip() and "Traceback" not in err
    assert out == ""

    (out, err), code = done["bad"]
    assert code == 1
    assert "kids" in err and "Traceback" not in err
    assert out == ""
    assert snapshot(store) == before


@pytest.mark.parametrize(("setting", "expected"), [(None, "False"), ("1", "True")])
def test_the_command_line_asks_numpy_for_no_huge_pages_unless_told_otherwise(tmp_path, setting, expected):
    """numpy's huge-page advice makes the kernel compact memory synchronously on hosts whose THP defrag is
    "madvise" (numpy issue 31590): system time at country scale. A setting of the user's own wins."""
    env = {k: v for k, v in os.environ.items() if k != "NUMPY_MADVISE_HUGEPAGE"}
    if setting is not None:
        env["NUMPY_MADVISE_HUGEPAGE"] = setting
    code = f"""
import sys
from tracker.cli import main
main(["drops", "--store", {str(tmp_path / "none")!r}])
import numpy
print(numpy._core.multiarray._get_madvise_hugepage())
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert done.stdout.strip().splitlines()[-1] == expected, done.stderr
