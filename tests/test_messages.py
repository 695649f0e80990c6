"""Both languages are complete: every text in both, the same placeholders, every id the code names exists."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest

from tracker import i18n
from tracker.errors import Problem, ValidationError
from tracker.ingest import KINDS, decode, options

ROOT = Path(__file__).resolve().parent.parent
CODE = [*sorted((ROOT / "tracker").rglob("*.py")), *sorted((ROOT / "dashboard").glob("*.py")),
        *sorted((ROOT / "pages").glob("*.py")), ROOT / "app.py"]  # fmt: skip
MESSAGE_ID = re.compile(
    r"^(?:where|validation|term|not_table|file|option|columns|value|units|warning|overlap|measure)\.[a-z_0-9]*[a-z0-9]$"
)


def _fields(text: str) -> set[str]:
    return {name.split("!")[0] for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def _literals(path: Path) -> list[str]:
    return [n.value for n in ast.walk(ast.parse(path.read_text(encoding="utf-8"))) if isinstance(n, ast.Constant)
            and isinstance(n.value, str)]  # fmt: skip


@pytest.mark.parametrize("table", [i18n.table, i18n.messages], ids=["i18n.toml", "messages.toml"])
def test_every_text_is_in_both_languages_with_the_same_placeholders(table):
    for key, entry in table().items():
        assert set(entry) - {"plural"} == {"vi", "en"}, f"{key}: languages {sorted(entry)}"
        texts = [*i18n.forms(entry, "vi").values(), *i18n.forms(entry, "en").values()]  # every plural form
        assert all(text.strip() for text in texts), f"{key}: an empty text"
        assert all(_fields(text) == _fields(texts[0]) for text in texts), f"{key}: placeholders differ"


def test_every_message_id_in_the_code_exists():
    known = i18n.messages()
    # f-string parts end in "_"; the config files' checks name TOML key paths (units.unit_code), not messages
    keys = {ROOT / "tracker" / name for name in ("config.py", "tomlschema.py", "rules_schema.py")}
    used = {s for path in CODE if path not in keys for s in _literals(path) if MESSAGE_ID.match(s)}
    used |= {f"not_table.{what}" for _, what in decode.SIGNATURES}
    used |= {f"term.{kind}" for kind in KINDS} | {f"term.{m}" for m in options.MEASURES}
    used |= {f"term.date_formats_{o}" for o in options.DATE_ORDERS}
    used |= {f"term.date_family_{f}" for f in ("iso", *options.DATE_ORDERS)}
    missing = sorted(used - set(known))
    assert not missing, f"message ids used in the code but not in tracker/messages.toml: {missing}"
    assert len(used) > 60  # the scan found the ids (a broken pattern would find none)


def test_every_translation_key_the_pages_name_exists():
    keys = set(i18n.table())
    pattern = re.compile(r"\b(?:ctx\.t|i18n\.t|t)\(\s*\"([a-z_0-9]+\.[a-z_0-9.]+)\"")
    used = {m for path in CODE for m in pattern.findall(path.read_text(encoding="utf-8"))}
    assert used, "the scan found no translation keys"
    missing = sorted(used - keys)
    assert not missing, f"translation keys used in the code but not in tracker/i18n.toml: {missing}"


def test_a_problem_reads_in_both_languages():
    problem = Problem.of(12, "Ngày", "value.not_a_date", value="31/02/2021", formats=i18n.Term("term.date_formats_dmy"))
    assert problem.describe("en") == (
        "row 12, column 'Ngày': '31/02/2021' is not a date (expected dd/mm/yyyy (also d/m/yyyy, dd-mm-yyyy, "
        "dd.mm.yyyy) or yyyy-mm-dd)"
    )
    assert problem.describe("vi").startswith("dòng 12, cột 'Ngày': '31/02/2021' không phải ngày (cần ngày/tháng/năm")
    error = ValidationError("a.csv", [problem, Problem.of(1234, None, "value.empty")])
    assert error.summary("vi") == "a.csv: 2 dòng có lỗi; chưa lưu gì"
    assert "dòng 1.234: ô trống" in error.text("vi")
    assert "row 1,234: empty value" in str(error)
