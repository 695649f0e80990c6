"""Hand-computed tests of tracker.risk (rules in data/risk_rules.toml; populations in tests/factories.py).

070: all 100, adults 60, 50plus 30;  071: all 200, adults 120, 50plus 60;  072: all 1000, adults 600, 50plus 300
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.clitools import run
from tests.factories import BASE_BANDS, make_config, make_dataset
from tracker import cli, risk
from tracker.config import DATA_DIR
from tracker.errors import DataError, InputError

CFG = make_config()
RULES = risk.load_rules()
RS = RULES.for_date("2021-11-01")
AS_OF = "2021-10-20"


def scaled(factor: int) -> dict[str, int]:
    return {b: n * factor for b, n in BASE_BANDS.items()}


def met_reports(unit: str, adults: int, fifty: int, day: str = "2021-10-01"):
    return [(day, unit, "adults", 1, adults), (day, unit, "50plus", 2, fifty)]


def row(frame, unit: str):
    rows = frame[frame["unit_code"] == unit]
    assert len(rows) == 1
    return rows.iloc[0]


# --------------------------------------------------------------------------- rules as data


def test_default_rules_are_read_exactly():
    assert len(RULES.rulesets) == 1
    assert RS.valid_from.isoformat() == "2021-10-11" and RS.valid_to is None
    assert "128/NQ-CP" in RS.source and "4800/QĐ-BYT" in RS.source
    assert [str(e) for e in RS.band_edges] == ["20", "50", "150"]
    assert [(p.group, p.dose, str(p.threshold)) for p in RS.parts] == [("adults", 1, "7/10"), ("50plus", 2, "4/5")]
    assert RS.levels_if_met == (1, 1, 2, 3, 4) and RS.levels_if_not_met == (1, 2, 3, 4, 4)
    legend = RS.legend()
    assert legend["color"].tolist() == ["green", "yellow", "orange", "red"]
    assert legend["name_vi"].iloc[0] == "Cấp 1 – Nguy cơ thấp (vùng xanh)"
    assert legend["name_en"].iloc[3] == "Level 4 – very high (red)"
    assert RULES.capacity_not_met == ()


def test_later_ruleset_is_picked_for_later_dates(tmp_path):
    text = (DATA_DIR / risk.RULES_FILE).read_text(encoding="utf-8")
    second = text[text.index("\n[[ruleset]]\n") :].replace("valid_from = 2021-10-11", "valid_from = 2022-01-15")
    second = second.replace("band_edges = [20, 50, 150]", "band_edges = [10, 50, 150]")
    path = tmp_path / "rules.toml"
    path.write_text(text + "\n" + second, encoding="utf-8")
    rules = risk.load_rules(path)
    assert rules.for_date("2022-01-14").band_edges[0] == 20
    assert rules.for_date("2022-01-15").band_edges[0] == 10
    # 10 cases per 100,000, criterion not met: band 1 (level 2) until 14/01, band 2 (level 3) from 15/01
    ds = make_dataset(units=["070"], population={"070": scaled(1000)}, cases=[("2022-01-14", "070", 10)])
    assert risk.levels(ds, CFG, rules, "2022-01-14")["level"].tolist() == [2, 2]
    assert risk.levels(ds, CFG, rules, "2022-01-15")["level"].tolist() == [3, 3]
    history = risk.weekly(ds, CFG, rules, "2022-01-08", "2022-01-15")
    assert history.loc[history["unit_code"] == "070", "level"].tolist() == [1, 3]  # week to 01-08: no case
    with pytest.raises(InputError, match="no risk rule set applies to 2021-10-10"):
        rules.for_date("2021-10-10")


def test_bad_rules_file(tmp_path):
    path = tmp_path / "r.toml"
    path.write_text("capacity_not_met = []\n", encoding="utf-8")
    with pytest.raises(InputError, match="ruleset"):
        risk.load_rules(path)


# --------------------------------------------------------------------------- bands


@pytest.mark.parametrize(
    "cases, population, expected",
    [
        (0, 100_000, 0),
        (1, 100_000, 1),
        (1999, 10_000_000, 1),  # 19.99 per 100,000
        (2000, 10_000_000, 2),  # 20
        (4999, 10_000_000, 2),  # 49.99
        (5000, 10_000_000, 3),  # 50
        (14999, 10_000_000, 3),  # 149.99
        (15000, 10_000_000, 4),  # 150
        (40, 200_000, 2),  # 20 exactly, population 200,000
        (39, 200_000, 1),  # 19.5
    ],
)
def test_band_edges(cases, population, expected):
    assert risk.band([cases], [population], RS).tolist() == [expected]


@pytest.mark.parametrize(
    "cases, band_level_met, band_level_not_met",
    [(0, 1, 1), (19, 1, 2), (20, 1, 3), (49, 1, 3), (50, 2, 4), (149, 2, 4), (150, 3, 4)],
)
def test_levels_end_to_end_at_100000(cases, band_level_met, band_level_not_met):
    """Population 100,000 (070 × 1000): cases = incidence. adults 60,000, 50plus 30,000."""
    del band_level_met
    pop = {"070": scaled(1000)}
    c = [("2021-10-20", "070", cases)] if cases else []
    met = make_dataset(units=["070"], population=pop, cases=c, reports=met_reports("070", 42_000, 24_000))
    unmet = make_dataset(units=["070"], population=pop, cases=c)
    b = risk.band([cases], [100_000], RS)[0]
    f_met = row(risk.levels(met, CFG, RULES, AS_OF), "070")
    f_unmet = row(risk.levels(unmet, CFG, RULES, AS_OF), "070")
    assert f_met["incidence_per_100k"] == cases
    assert bool(f_met["vaccine_criterion_met"]) and not bool(f_unmet["vaccine_criterion_met"])
    assert f_met["level"] == (1, 1, 2, 3, 4)[b]
    assert f_unmet["level"] == band_level_not_met == (1, 2, 3, 4, 4)[b]


def test_no_cases_at_all_is_band_0_level_1():
    ds = make_dataset()
    frame = risk.levels(ds, CFG, RULES, AS_OF)
    assert frame["community_cases_7d"].tolist() == [0, 0, 0, 0]
    assert frame["level"].tolist() == [1, 1, 1, 1] and frame["color"].tolist() == ["green"] * 4
    assert not frame["vaccine_criterion_met"].any()


def test_window_is_the_7_days_ending_on_as_of():
    """2021-10-14 … 2021-10-20 counts; 2021-10-13 and 2021-10-21 do not. 070: 2 cases / 100 = 2,000 per 100,000."""
    cases = [("2021-10-13", "070", 5), ("2021-10-14", "070", 1), ("2021-10-20", "070", 1), ("2021-10-21", "070", 9)]
    frame = risk.levels(make_dataset(cases=cases), CFG, RULES, AS_OF)
    r = row(frame, "070")
    assert r["community_cases_7d"] == 2 and r["incidence_per_100k"] == 2000.0
    assert str(r["week_start"].date()) == "2021-10-14" and str(r["week_end"].date()) == "2021-10-20"


# --------------------------------------------------------------------------- vaccine criterion


def test_criterion_edges_and_one_part_only():
    """070: adults 60 → 70% is 42; 50plus 30 → 80% is 24. 071: adults 120 → 84; 50plus 60 → 48."""
    reports = [
        *met_reports("070", 42, 24),  # both exactly at the threshold: met
        *met_reports("071", 120, 47),  # adults 100%, 50plus 47/60 < 80%: not met
        *met_reports("072", 419, 300),  # adults 419/600 < 70%, 50plus 100%: not met
    ]
    cases = [("2021-10-20", u, 1) for u in ("070", "071", "072")]
    frame = risk.levels(make_dataset(reports=reports, cases=cases), CFG, RULES, AS_OF)
    assert frame["vaccine_criterion_met"].tolist() == [True, False, False, True]
    # 070: 1 case / 100 → 1,000 per 100k: band 4 → 4 either way; a smaller-incidence unit shows the difference
    r = row(frame, "070")
    assert r["adults_dose1_coverage"] == pytest.approx(0.7) and r["age50plus_full_coverage"] == pytest.approx(0.8)
    # TOTAL: adults (42 + 120 + 419) / 780 = 581/780 = 74.5%, 50plus (24 + 47 + 300) / 390 = 371/390 = 95.1%: met
    t = row(frame, "TOTAL")
    assert t["adults_dose1_coverage"] == pytest.approx(581 / 780)
    assert t["age50plus_full_coverage"] == pytest.approx(371 / 390)
    assert bool(t["vaccine_criterion_met"])


def test_unit_without_population_is_a_clear_error():
    pop = {"070": scaled(1), "071": scaled(2)}
    ds = make_dataset(population=pop)
    with pytest.raises(DataError, match="072"):
        risk.levels(ds, CFG, RULES, AS_OF)


# --------------------------------------------------------------------------- province row, capacity, order


def test_province_row_is_from_sums_and_last():
    """Cases 1 + 2 + 3 = 6 over population 1,300: 6 × 100,000 / 1,300 = 461.5 per 100k (mean would be 800.1)."""
    cases = [("2021-10-20", "070", 1), ("2021-10-19", "071", 2), ("2021-10-15", "072", 3)]
    frame = risk.levels(make_dataset(cases=cases), CFG, RULES, AS_OF)
    assert list(frame.columns) == risk.LEVEL_COLUMNS
    assert frame["unit_code"].tolist() == ["070", "071", "072", "TOTAL"]
    t = frame.iloc[-1]
    assert t["community_cases_7d"] == 6
    assert t["incidence_per_100k"] == pytest.approx(600_000 / 1300)
    assert t["unit_name"] == CFG.province_name_vi


def test_province_band_from_sums():
    """070 (100k people): 19 cases → band 1; 071 (200k): 30 cases → 15, band 1; province 49 / 300k = 16.3: band 1.
    With 071 at 41 cases (20.5, band 2): province 60 / 300k = 20 → band 2."""
    pop = {"070": scaled(1000), "071": scaled(2000)}
    low = make_dataset(units=["070", "071"], population=pop, cases=[(AS_OF, "070", 19), (AS_OF, "071", 30)])
    high = make_dataset(units=["070", "071"], population=pop, cases=[(AS_OF, "070", 19), (AS_OF, "071", 41)])
    assert risk.levels(low, CFG, RULES, AS_OF)["level"].tolist() == [2, 2, 2]
    assert risk.levels(high, CFG, RULES, AS_OF)["level"].tolist() == [2, 3, 3]


def test_capacity_flag_raises_the_level_up_to_4():
    """070: no case, level 1 → 2; 071: 1 case / 200 → band 4, level 4 stays 4."""
    rules = risk.Rules(RULES.rulesets, capacity_not_met=("070", "071"))
    frame = risk.levels(make_dataset(cases=[(AS_OF, "071", 1)]), CFG, rules, AS_OF)
    assert frame["level"].tolist() == [2, 4, 1, 4]
    assert frame["color"].tolist() == ["yellow", "red", "green", "red"]
    assert risk.level_of([0, 1, 2, 3, 4], [True] * 5, RS, [True] * 5).tolist() == [2, 2, 3, 4, 4]
    with pytest.raises(InputError, match="999"):
        risk.levels(make_dataset(), CFG, risk.Rules(RULES.rulesets, ("999",)), AS_OF)


# --------------------------------------------------------------------------- weekly and what would lower


def test_weekly_history():
    cases = [("2021-10-20", "071", 1), ("2021-10-13", "072", 3)]
    h = risk.weekly(make_dataset(cases=cases), CFG, RULES, "2021-10-13", "2021-10-27")
    assert list(h.columns) == risk.LEVEL_COLUMNS
    assert h["unit_code"].tolist() == ["070"] * 3 + ["071"] * 3 + ["072"] * 3 + ["TOTAL"] * 3
    assert [d.isoformat() for d in h["week_end"].dt.date[:3]] == ["2021-10-13", "2021-10-20", "2021-10-27"]
    assert h.loc[h["unit_code"] == "071", "community_cases_7d"].tolist() == [0, 1, 0]
    assert h.loc[h["unit_code"] == "072", "community_cases_7d"].tolist() == [3, 0, 0]
    assert h.loc[h["unit_code"] == "TOTAL", "level"].tolist() == [4, 4, 1]


def test_what_would_lower():
    """Population 100,000 (070): 60 cases → band 3 (50 to <150); under 50 needs at most 49 next week.
    071 (200,000): 10 cases → band 1; lower = no case: 0. Adults needed: 070 ceil(0.7 × 60,000) − 40,000 = 2,000;
    50plus: 24,000 − 24,000 = 0. 071: 84,000 − 0 and 48,000 − 0."""
    pop = {"070": scaled(1000), "071": scaled(2000)}
    ds = make_dataset(
        units=["070", "071"],
        population=pop,
        cases=[(AS_OF, "070", 60), (AS_OF, "071", 10)],
        reports=met_reports("070", 40_000, 24_000),
    )
    w = risk.what_would_lower(ds, CFG, RULES, AS_OF).set_index("unit_code")
    assert w.loc["070", "band"] == 3 and w.loc["070", "level"] == 4
    assert w.loc["070", "max_cases_next_7d"] == 49
    assert w.loc["070", "level_if_lower_band"] == 3 and w.loc["070", "level_if_criterion_met"] == 3
    assert w.loc["070", "adults_dose1_people_needed"] == 2000
    assert w.loc["070", "age50plus_full_people_needed"] == 0
    assert w.loc["071", "band"] == 1 and w.loc["071", "max_cases_next_7d"] == 0
    assert w.loc["071", "adults_dose1_people_needed"] == 84_000
    assert w.loc["071", "age50plus_full_people_needed"] == 48_000
    # TOTAL: 70 cases / 300,000 = 23.3 → band 2; under 20 needs c × 100,000 < 20 × 300,000: at most 59
    assert w.loc["TOTAL", "band"] == 2 and w.loc["TOTAL", "max_cases_next_7d"] == 59
    assert w.index[-1] == "TOTAL"
    # band 0: nothing lower
    w0 = risk.what_would_lower(make_dataset(), CFG, RULES, AS_OF)
    assert w0["max_cases_next_7d"].isna().all()


def test_max_cases_just_under_a_fractional_edge():
    """Population 130 (070 × 1.3 is not available; use 072 = 1,000): band 4 with 2 cases (200/100k);
    under 150 needs c × 100,000 < 150 × 1,000 → c ≤ 1."""
    w = risk.what_would_lower(make_dataset(cases=[(AS_OF, "072", 2)]), CFG, RULES, AS_OF).set_index("unit_code")
    assert w.loc["072", "max_cases_next_7d"] == 1


# --------------------------------------------------------------------------- CLI


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("risk") / "store"
    assert cli.main(["init", "--store", str(folder)]) == 0
    return folder


def test_cli_csv(store, capsys):
    code, out, err = run(capsys, "risk", "--store", store, "--as-of", "2021-11-30")
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == risk.LEVEL_COLUMNS
    assert rows[-1]["unit_code"] == "TOTAL" and len(rows) == 8
    assert {r["vaccine_criterion_met"] for r in rows} <= {"true", "false"}
    assert all(r["week_start"] == "2021-11-24" and r["week_end"] == "2021-11-30" for r in rows)
    assert {r["level"] for r in rows} <= {"1", "2", "3", "4"}


def test_cli_json_and_default_as_of(store, capsys):
    code, out, err = run(capsys, "risk", "--store", store, "--format", "json")
    assert code == 0, err
    records = json.loads(out)
    assert list(records[0]) == risk.LEVEL_COLUMNS and records[-1]["unit_code"] == "TOTAL"
    assert all(isinstance(r["vaccine_criterion_met"], bool) for r in records)
    assert len({r["week_end"] for r in records}) == 1


def test_cli_exit_codes(store, capsys):
    code, _, err = run(capsys, "risk", "--store", store, "--as-of", "2021-01-01")
    assert code == 1 and "no risk rule set applies" in err
    code, _, _ = run(capsys, "risk", "--store", store, "--as-of", "30/11/2021")
    assert code == 2


def test_levels_are_vectorised_numbers():
    frame = risk.levels(make_dataset(), CFG, RULES, AS_OF)
    assert frame["level"].dtype == np.int64 and frame["community_cases_7d"].dtype == np.int64


def _history(levels_by_unit: dict[str, list]) -> pd.DataFrame:
    rows = [
        {"unit_code": unit, "week_end": pd.Timestamp("2021-10-10") + pd.Timedelta(weeks=i), "level": level}
        for unit, levels in levels_by_unit.items()
        for i, level in enumerate(levels)
    ]
    frame = pd.DataFrame(rows).sample(frac=1, random_state=3)  # any order: the weeks are sorted first
    return frame.astype({"level": "Int64"})


@pytest.mark.parametrize(
    ("levels", "streak"),
    [
        ([1, 1, 1], 3),  # green every week
        ([2, 1, 1], 2),  # the last two
        ([1, 1, 2], 0),  # not green in the last week
        ([1, None, 1, 1], 2),  # a week without a figure breaks the run
        ([3], 0),
        ([], 0),
    ],
)
def test_green_streak_counts_weeks_at_level_1_back_from_the_last(levels, streak):
    history = _history({risk.TOTAL: levels, "070": [1] * 6})  # another unit's weeks do not count
    assert risk.green_streak(history) == streak
    assert risk.green_streak(history, "070") == 6
