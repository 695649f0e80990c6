"""config.toml, targets.toml and risk_rules.toml: the sample loads to what the files say, and each malformed
file is refused with a message naming the file, the key (arrays counted from 1) and what was expected."""

from __future__ import annotations

import datetime as dt
import shutil
from fractions import Fraction
from pathlib import Path

import msgspec
import pytest

from tests.clitools import run
from tracker import risk
from tracker.config import DATA_DIR, Config, Group, Limits, Target, load_config, load_targets
from tracker.errors import InputError

PLAN = "Kế hoạch 174/KH-UBND ngày 12/10/2021 của UBND tỉnh Tuyên Quang"
BANDS = ("0-4", "5-11", "12-17", "18-49", "50-64", "65+")
ALL_BANDS = "0-4, 5-11, 12-17, 18-49, 50-64, 65+"
SHARE = "a number above 0 and at most 1 (0.7 = 70%)"
TARGET_KEYS = "id, label_vi, label_en, group, dose, threshold, deadline, source"


def edited(tmp_path: Path, name: str, old: str, new: str) -> Path:
    """A copy of data/'s TOML files with ``old``, which ``name`` holds once, replaced by ``new``."""
    folder = tmp_path / "data"
    folder.mkdir()
    for file in ("config.toml", "targets.toml", "risk_rules.toml"):
        shutil.copy(DATA_DIR / file, folder / file)
    text = (folder / name).read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    (folder / name).write_text(text.replace(old, new), encoding="utf-8")
    return folder


def refusal(tmp_path: Path, name: str, old: str, new: str) -> str:
    """The message of the InputError that loading the edited file raises, less the folder."""
    folder = edited(tmp_path, name, old, new)
    with pytest.raises(InputError) as exc:
        risk.load_rules(folder / name) if name == "risk_rules.toml" else load_config(folder)
    message = str(exc.value)
    assert message.startswith(f"{folder / name}: "), message  # the file, with its folder
    return message.removeprefix(f"{folder}/")


# --------------------------------------------------------------------------- the sample


def test_the_sample_configuration_loads_to_what_its_files_say():
    """Every value written out by hand from data/config.toml and data/targets.toml."""
    assert load_config(DATA_DIR) == Config(
        province_code="08",
        province_name_vi="Tuyên Quang",
        province_name_en="Tuyên Quang",
        place_vi="tỉnh Tuyên Quang",
        place_en="Tuyên Quang province",
        whole_vi="Toàn tỉnh",
        whole_en="Province",
        plan_vi="Theo Kế hoạch 174/KH-UBND ngày 12/10/2021 của UBND tỉnh Tuyên Quang",
        plan_en="Under Plan 174/KH-UBND of 12/10/2021 of the Tuyên Quang People's Committee",
        campaign_start=dt.date(2021, 3, 8),
        bands=BANDS,
        groups={
            "adults": Group("adults", ("18-49", "50-64", "65+"), "Người từ 18 tuổi trở lên", "Adults (18+)", ("18+",)),
            "all": Group("all", BANDS, "Toàn dân", "Whole population", ("0+", "total")),
            "50plus": Group("50plus", ("50-64", "65+"), "Người từ 50 tuổi trở lên", "People aged 50+", ("50+",)),
            "12plus": Group(
                "12plus", ("12-17", "18-49", "50-64", "65+"), "Người từ 12 tuổi trở lên", "People aged 12+", ("12+",)
            ),
        },
        targets=(
            Target(
                id="adults_50pct_2021",
                label_vi="≥ 50% người từ 18 tuổi trở lên được tiêm vắc xin trước 31/12/2021",
                label_en="≥ 50% of people aged 18+ vaccinated by 31 Dec 2021",
                group="adults",
                dose=1,
                threshold=Fraction(1, 2),
                deadline=dt.date(2021, 12, 31),
                source=PLAN,
            ),
            Target(
                id="all_70pct_2022q1",
                label_vi="≥ 70% dân số được tiêm vắc xin trước 31/03/2022",
                label_en="≥ 70% of the population vaccinated by 31 Mar 2022",
                group="all",
                dose=1,
                threshold=Fraction(7, 10),
                deadline=dt.date(2022, 3, 31),
                source=PLAN,
            ),
        ),
        at_risk_ratio=Fraction(3, 4),
        data_dir=DATA_DIR,
        boundaries=None,
        require_login_to_view=False,
        limits=Limits(
            max_mb=50,
            max_unpacked_mb=300,
            max_ratio=200,
            max_rows=10_000_000,
            max_columns=1_000,
            max_field_kb=64,
            max_count=10**12,
            max_per_population=10,
            unit_code="[0-9]{1,8}",
            unit_name_max=100,
        ),
        login_max_failures=5,
        login_failure_window_minutes=15,
        login_lockout_seconds=60,
        login_max_lockout_minutes=60,
    )


def test_the_sample_values_have_the_public_types():
    cfg = load_config(DATA_DIR)
    assert type(cfg.at_risk_ratio) is Fraction and type(cfg.targets[1].threshold) is Fraction
    assert type(cfg.campaign_start) is dt.date and type(cfg.targets[0].deadline) is dt.date
    assert type(cfg.bands) is tuple and type(cfg.groups) is dict and type(cfg.groups["all"].aliases) is tuple
    assert type(cfg.targets) is tuple and type(cfg.targets[0].dose) is int and type(cfg.limits.max_count) is int


def test_the_sample_risk_rules_load_to_what_their_file_says():
    rules = risk.load_rules(DATA_DIR / risk.RULES_FILE)
    (rs,) = rules.rulesets
    assert (rs.valid_from, rs.valid_to, rs.window_days, rs.per, rs.population_group) == (
        dt.date(2021, 10, 11), None, 7, 100_000, "all"
    )  # fmt: skip
    assert rs.band_edges == (Fraction(20), Fraction(50), Fraction(150))
    assert (rs.levels_if_met, rs.levels_if_not_met) == ((1, 1, 2, 3, 4), (1, 2, 3, 4, 4))
    assert [(p.id, p.group, p.dose, p.threshold) for p in rs.parts] == [
        ("adults_dose1", "adults", 1, Fraction(7, 10)),
        ("age50plus_full", "50plus", 2, Fraction(4, 5)),
    ]
    assert [(lv.level, lv.color, lv.hex) for lv in rs.levels] == [
        (1, "green", "#00A651"), (2, "yellow", "#FFD500"), (3, "orange", "#FF8C00"), (4, "red", "#E00000")
    ]  # fmt: skip
    assert rules.capacity_not_met == ()


def test_what_the_files_leave_out_takes_its_default(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "config.toml").write_text('[[band]]\nid = "0-4"\n[[group]]\nid = "kids"\nbands = ["0-4"]\n')
    (folder / "targets.toml").write_text(
        '[[target]]\nid = "t"\nlabel_vi = "v"\nlabel_en = "e"\ngroup = "kids"\ndose = 2\nthreshold = 1\n'
        "deadline = 2022-01-01\n"
    )
    cfg = load_config(folder)
    assert cfg.groups == {"kids": Group("kids", ("0-4",), "kids", "kids", ())}
    assert cfg.targets == (Target("t", "v", "e", "kids", 2, Fraction(1), dt.date(2022, 1, 1), ""),)
    assert (cfg.campaign_start, cfg.at_risk_ratio, cfg.limits) == (dt.date(2021, 1, 1), Fraction(3, 4), Limits())
    assert (cfg.province_name_vi, cfg.place_vi, cfg.whole_vi, cfg.plan_vi) == ("", "tỉnh ", "Toàn tỉnh", "")
    assert (cfg.require_login_to_view, cfg.login_max_failures, cfg.login_max_lockout_minutes) == (False, 5, 60)


def test_another_targets_file_is_checked_against_the_configuration(tmp_path):
    cfg = load_config(DATA_DIR)
    path = tmp_path / "mine.toml"
    text = (DATA_DIR / "targets.toml").read_text(encoding="utf-8").replace('group = "all"', 'group = "18+"')
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as exc:
        load_targets(path, cfg.bands, cfg.groups)
    assert str(exc.value) == (
        f"{path}: target[2].group: expected one of: adults, all, 50plus, 12plus, {ALL_BANDS}, got " + '"18+"'
    )


# --------------------------------------------------------------------------- config.toml

CONFIG_CASES = {
    "wrong type": ("max_mb = 50", 'max_mb = "50"', 'upload.max_mb: expected a whole number above 0, got "50"'),
    "zero": ("max_failures = 5", "max_failures = 0", "access.max_failures: expected a whole number above 0, got 0"),
    "true for a number": (
        "max_rows = 10000000",
        "max_rows = true",
        "upload.max_rows: expected a whole number above 0, got true",
    ),
    "a fraction for a whole number": (
        "unit_name_max = 100",
        "unit_name_max = 99.5",
        "units.unit_name_max: expected a whole number above 0, got 99.5",
    ),
    "text for true or false": (
        "require_login_to_view = false",
        'require_login_to_view = "no"',
        'access.require_login_to_view: expected true or false, got "no"',
    ),
    "ratio above 1": (
        "at_risk_ratio = 0.75",
        "at_risk_ratio = 1.5",
        f"status.at_risk_ratio: expected {SHARE}, got 1.5",
    ),
    "a quoted date": (
        "start = 2021-03-08",
        'start = "2021-03-08"',
        'campaign.start: expected a date like 2021-12-31, got "2021-03-08"',
    ),
    "a date and time": (
        "start = 2021-03-08",
        "start = 2021-03-08T07:00:00",
        "campaign.start: expected a date like 2021-12-31, got 2021-03-08T07:00:00",
    ),
    "a number for text": ('code = "08"', "code = 8", "province.code: expected text in quotes, got 8"),
    "a text for a table": (
        "[province]\n",
        'province = "Tuyên Quang"\n[old_province]\n',
        'province: expected a [province] table, got "Tuyên Quang"',
    ),
    "a text for a list": (
        'aliases = ["18+"]',
        'aliases = "18+"',
        'group[1].aliases: expected a list, each text in quotes, got "18+"',
    ),
    "unknown key": (
        'name_vi = "Tuyên Quang"',
        'nam_vi = "Tuyên Quang"',
        "province.nam_vi: unknown key, expected one of: "
        "code, name_vi, name_en, place_vi, place_en, whole_vi, whole_en, plan_vi, plan_en",
    ),
    "unknown table": (
        "[map]",
        "[mapp]",
        "mapp: unknown key, expected one of: province, campaign, band, group, status, map, upload, units, access",
    ),
    "unknown key in a [[group]]": (
        'label_en = "Adults (18+)"',
        'label_en = "Adults (18+)"\nlable_vi = "x"',
        "group[1].lable_vi: unknown key, expected one of: id, bands, label_vi, label_en, aliases",
    ),
    "group without bands": (
        'bands = ["50-64", "65+"]\n',
        "",
        'group[3].bands: missing, expected a list of [[band]] ids, e.g. ["50-64", "65+"]',
    ),
    "group of no band": (
        'bands = ["50-64", "65+"]',
        "bands = []",
        'group[3].bands: expected a list of [[band]] ids, e.g. ["50-64", "65+"], got []',
    ),
    "group with an unknown band": (
        'bands = ["18-49", "50-64", "65+"]',
        'bands = ["18-64", "65+"]',
        f'group[1].bands[1]: expected one of: {ALL_BANDS}, got "18-64"',
    ),
    "group naming a band twice": (
        'bands = ["50-64", "65+"]',
        'bands = ["50-64", "65+", "50-64"]',
        'group[3].bands[3]: expected a band not listed before in it, got "50-64"',
    ),
    "group id of a band": (
        'id = "adults"',
        'id = "65+"',
        'group[1].id: expected an id no [[band]] and no other [[group]] has, got "65+"',
    ),
    "two groups of one id": (
        'id = "12plus"',
        'id = "adults"',
        'group[4].id: expected an id no [[band]] and no other [[group]] has, got "adults"',
    ),
    "two bands of one id": ('id = "65+"', 'id = "0-4"', 'band[6].id: expected an id no other [[band]] has, got "0-4"'),
    "band without id": (
        '[[band]]\nid = "0-4"',
        '[[band]]\nlabel = "0-4"',
        "band[1].label: unknown key, expected one of: id",
    ),
    "unit code pattern": (
        'unit_code = "[0-9]{1,8}"',
        'unit_code = "[0-9"',
        'units.unit_code: expected a regular expression, got "[0-9" (unterminated character set at position 0)',
    ),
}


@pytest.mark.parametrize("old, new, message", CONFIG_CASES.values(), ids=CONFIG_CASES)
def test_a_malformed_config_toml_is_refused_naming_key_and_expectation(tmp_path, old, new, message):
    assert refusal(tmp_path, "config.toml", old, new) == f"config.toml: {message}"


def test_a_config_toml_without_bands_is_refused(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "config.toml").write_text('[province]\nname_vi = "X"\n', encoding="utf-8")
    with pytest.raises(InputError) as exc:
        load_config(folder)
    assert str(exc.value) == f"{folder / 'config.toml'}: band: missing, expected one or more [[band]] tables"


# --------------------------------------------------------------------------- targets.toml

TARGET_CASES = {
    "threshold 1.5": ("threshold = 0.7", "threshold = 1.5", f"target[2].threshold: expected {SHARE}, got 1.5"),
    "threshold 0": ("threshold = 0.5", "threshold = 0", f"target[1].threshold: expected {SHARE}, got 0"),
    "threshold as text": ("threshold = 0.7", 'threshold = "70%"', f'target[2].threshold: expected {SHARE}, got "70%"'),
    "dose 5": (
        "dose = 1\nthreshold = 0.5",
        "dose = 5\nthreshold = 0.5",
        "target[1].dose: expected a dose: 1, 2, 3 or 4, got 5",
    ),
    "dose as text": (
        "dose = 1\nthreshold = 0.5",
        'dose = "1"\nthreshold = 0.5',
        'target[1].dose: expected a dose: 1, 2, 3 or 4, got "1"',
    ),
    "missing dose": (
        "dose = 1\nthreshold = 0.5",
        "threshold = 0.5",
        "target[1].dose: missing, expected a dose: 1, 2, 3 or 4",
    ),
    "missing deadline": ("deadline = 2022-03-31\n", "", "target[2].deadline: missing, expected a date like 2021-12-31"),
    "quoted date": (
        "deadline = 2021-12-31",
        'deadline = "2021-12-31"',
        'target[1].deadline: expected a date like 2021-12-31, got "2021-12-31"',
    ),
    "date as a number": (
        "deadline = 2021-12-31",
        "deadline = 20211231",
        "target[1].deadline: expected a date like 2021-12-31, got 20211231",
    ),
    "unknown key (a typo)": (
        "threshold = 0.7",
        "treshold = 0.7",
        f"target[2].treshold: unknown key, expected one of: {TARGET_KEYS}",
    ),
    "unknown top-level key": (
        '\n[[target]]\nid = "adults',
        '\nversion = 2\n[[target]]\nid = "adults',
        "version: unknown key, expected one of: target",
    ),
    "unknown group": (
        'group = "all"',
        'group = "kids"',
        f'target[2].group: expected one of: adults, all, 50plus, 12plus, {ALL_BANDS}, got "kids"',
    ),
    "two targets of one id": (
        'id = "all_70pct_2022q1"',
        'id = "adults_50pct_2021"',
        'target[2].id: expected an id no other [[target]] has, got "adults_50pct_2021"',
    ),
    "id as a number": ('id = "all_70pct_2022q1"', "id = 70", "target[2].id: expected text in quotes, got 70"),
}


@pytest.mark.parametrize("old, new, message", TARGET_CASES.values(), ids=TARGET_CASES)
def test_a_malformed_targets_toml_is_refused_naming_key_and_expectation(tmp_path, old, new, message):
    assert refusal(tmp_path, "targets.toml", old, new) == f"targets.toml: {message}"


@pytest.mark.parametrize(
    "text, message",
    [
        ("# no target yet\n", "target: missing, expected one or more [[target]] tables"),
        ("target = []\n", "target: expected one or more [[target]] tables, got []"),
        ('[target]\nid = "t"\n', "target: expected one or more [[target]] tables, got a table"),
    ],
)
def test_a_targets_toml_without_an_array_of_targets_is_refused(tmp_path, text, message):
    folder = edited(tmp_path, "config.toml", "[province]", "[province]")
    (folder / "targets.toml").write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as exc:
        load_config(folder)
    assert str(exc.value) == f"{folder / 'targets.toml'}: {message}"


def test_a_file_that_is_not_toml_names_itself(tmp_path):
    message = refusal(tmp_path, "targets.toml", "deadline = 2021-12-31", "deadline = 2021-02-30")
    assert message.startswith("targets.toml: not valid TOML")


# --------------------------------------------------------------------------- risk_rules.toml

RULE_CASES = {
    "edges not increasing": (
        "band_edges = [20, 50, 150]",
        "band_edges = [50, 20, 150]",
        "ruleset[1].band_edges: expected finite numbers in strictly increasing order, got [50, 20, 150]",
    ),
    "an edge of 0": (
        "band_edges = [20, 50, 150]",
        "band_edges = [20, 0, 150]",
        "ruleset[1].band_edges[2]: expected a number above 0, got 0",
    ),
    "an infinite edge": (
        "band_edges = [20, 50, 150]",
        "band_edges = [20, 50, inf]",
        "ruleset[1].band_edges: expected finite numbers in strictly increasing order, got [20, 50, inf]",
    ),
    "no edge": (
        "band_edges = [20, 50, 150]",
        "band_edges = []",
        "ruleset[1].band_edges: expected a list of numbers above 0, e.g. [20, 50, 150], got []",
    ),
    "a level too few": (
        "levels_if_met = [1, 1, 2, 3, 4]",
        "levels_if_met = [1, 1, 2, 3]",
        "ruleset[1].levels_if_met: expected 5 levels: one for no case, one under the first band edge, one per edge, "
        "got [1, 1, 2, 3]",
    ),
    "a level not described": (
        "levels_if_not_met = [1, 2, 3, 4, 4]",
        "levels_if_not_met = [1, 2, 3, 4, 5]",
        "ruleset[1].levels_if_not_met[5]: expected a [[ruleset.level]] level, one of: 1, 2, 3, 4, got 5",
    ),
    "a level as text": (
        "levels_if_met = [1, 1, 2, 3, 4]",
        'levels_if_met = [1, 1, 2, 3, "4"]',
        'ruleset[1].levels_if_met[5]: expected a whole number, got "4"',
    ),
    "two levels of one number": (
        "level = 4\n",
        "level = 3\n",
        "ruleset[1].level[4].level: expected a level no other [[ruleset.level]] has, got 3",
    ),
    "a colour name for hex": (
        'hex = "#E00000"',
        'hex = "red"',
        'ruleset[1].level[4].hex: expected a colour like #00A651, got "red"',
    ),
    "part threshold 1.5": (
        "threshold = 0.8",
        "threshold = 1.5",
        f"ruleset[1].vaccine_part[2].threshold: expected {SHARE}, got 1.5",
    ),
    "part dose 0": ("dose = 1", "dose = 0", "ruleset[1].vaccine_part[1].dose: expected a dose: 1, 2, 3 or 4, got 0"),
    "part without group": (
        'group = "50plus"\n',
        "",
        "ruleset[1].vaccine_part[2].group: missing, expected text in quotes",
    ),
    "part with a typo": (
        "threshold = 0.8",
        "treshold = 0.8",
        "ruleset[1].vaccine_part[2].treshold: unknown key, expected one of: "
        "id, group, dose, threshold, label_vi, label_en",
    ),
    "window of 0 days": (
        "window_days = 7",
        "window_days = 0",
        "ruleset[1].window_days: expected a whole number above 0, got 0",
    ),
    "valid_to before valid_from": (
        "valid_from = 2021-10-11",
        "valid_from = 2021-10-11\nvalid_to = 2021-10-01",
        "ruleset[1].valid_to: expected a date on or after valid_from (2021-10-11), got 2021-10-01",
    ),
    "valid_from quoted": (
        "valid_from = 2021-10-11",
        'valid_from = "2021-10-11"',
        'ruleset[1].valid_from: expected a date like 2021-12-31, got "2021-10-11"',
    ),
    "capacity of numbers": (
        "capacity_not_met = []",
        "capacity_not_met = [70]",
        "capacity_not_met[1]: expected text in quotes, got 70",
    ),
    "capacity as text": (
        "capacity_not_met = []",
        'capacity_not_met = "070"',
        'capacity_not_met: expected a list of unit codes, e.g. ["070"], got "070"',
    ),
    "no rule set": (
        "[[ruleset]]\nvalid_from",
        "[[rule_set]]\nvalid_from",
        "rule_set: unknown key, expected one of: capacity_not_met, ruleset",
    ),
}


@pytest.mark.parametrize("old, new, message", RULE_CASES.values(), ids=RULE_CASES)
def test_a_malformed_risk_rules_toml_is_refused_naming_key_and_expectation(tmp_path, old, new, message):
    assert refusal(tmp_path, "risk_rules.toml", old, new) == f"risk_rules.toml: {message}"


def test_two_rule_sets_from_one_day_are_refused(tmp_path):
    text = (DATA_DIR / risk.RULES_FILE).read_text(encoding="utf-8")
    path = tmp_path / "rules.toml"
    path.write_text(text + "\n" + text[text.index("\n[[ruleset]]\n") :], encoding="utf-8")
    with pytest.raises(InputError) as exc:
        risk.load_rules(path)
    assert (
        str(exc.value)
        == f"{path}: ruleset[2].valid_from: expected a date no other [[ruleset]] starts on, got 2021-10-11"
    )


def test_a_rules_file_without_rule_sets_is_refused(tmp_path):
    path = tmp_path / "r.toml"
    path.write_text("capacity_not_met = []\n", encoding="utf-8")
    with pytest.raises(InputError) as exc:
        risk.load_rules(path)
    assert str(exc.value) == f"{path}: ruleset: missing, expected one or more [[ruleset]] tables"


# --------------------------------------------------------------------------- where the message shows


def test_the_command_line_shows_the_message_and_exits_1(capsys, tmp_path):
    folder = edited(tmp_path, "targets.toml", "threshold = 0.7", "threshold = 1.5")
    code, out, err = run(capsys, "init", "--store", tmp_path / "store", "--data", folder)
    assert code == 1 and not out
    assert err == f"error: {folder / 'targets.toml'}: target[2].threshold: expected {SHARE}, got 1.5\n"
    assert not (tmp_path / "store").exists()


def test_a_msgspec_wording_this_does_not_know_still_names_the_file(tmp_path, monkeypatch):
    def convert(*args, **kwargs):
        raise msgspec.ValidationError("Something new - at `$.nowhere[3]`")

    monkeypatch.setattr(msgspec, "convert", convert)
    with pytest.raises(InputError) as exc:
        load_config(DATA_DIR)
    assert str(exc.value) == f"{DATA_DIR / 'config.toml'}: Something new - at `$.nowhere[3]`"
