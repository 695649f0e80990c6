"""The translation catalogs (tracker/i18n.toml, tracker/messages.toml) are complete and their plurals are real.

Every entry has a Vietnamese and an English text with the same placeholders (in every plural form); a
text with plural forms names its counting placeholder and gives English exactly its CLDR forms; every
key the code names exists; English counts read "1 week" / "2 weeks", Vietnamese does not change.
"""

from __future__ import annotations

import fnmatch
import re
import string
from pathlib import Path

import pytest

from tracker import about, core, fmt, i18n
from tracker.ingest import KINDS, options

ROOT = Path(__file__).resolve().parent.parent
CODE = [*sorted((ROOT / "tracker").rglob("*.py")), *sorted((ROOT / "dashboard").glob("*.py")),
        *sorted((ROOT / "pages").glob("*.py")), ROOT / "app.py"]  # fmt: skip
CATALOGS = {"i18n.toml": i18n.table, "messages.toml": i18n.messages}

# t("key"), ctx.t("key"), i18n.t("key"), self.t("key"), message("key"), i18n.message("key"), _render("key"),
# each possibly an f-string; and code="key" (TrackerError(code=…), a message id)
CALL = re.compile(r"""(?<![\w.])(?:(?:ctx|i18n|self)\.)?(t|message|_render)\(\s*(f?)(["'])((?:(?!\3)[^\n])*)\3""")
CODE_ARG = re.compile(r"""\bcode=(f?)(["'])((?:(?!\2)[^\n])*)\2""")
KEY = re.compile(r"[a-z_0-9]+(?:\.[a-z_0-9]+)+")

# f-string keys, each {…} written as *: the keys they can become
EXPANSIONS = {
    "status.*": [f"status.{s}" for s in core.STATUSES],
    "dose.d*": [f"dose.d{d}" for d in options.DOSES],
    "map.*": ["map.city", "map.town"],
    "control.format_*": ["control.format_png", "control.format_svg"],
    "export.*": ["export.csv", "export.csv_vi", "export.xlsx"],
    "export.*_help": ["export.csv_help", "export.csv_vi_help", "export.xlsx_help"],
    "export.drop_*": ["export.drop_active", "export.drop_undone"],
    "unavailable.*": ["unavailable.overlap", "unavailable.straddle"],
    "upload.kind_*": [f"upload.kind_{k}" for k in KINDS],
    "upload.measure_*": [f"upload.measure_{m}" for m in options.MEASURES],
    "upload.date_order_*": [f"upload.date_order_{o}" for o in options.DATE_ORDERS],
    "upload.layout_*": ["upload.layout_wide", "upload.layout_long"],
    "upload.overlap_*": ["upload.overlap_skip", "upload.overlap_refuse"],
    "brief.generated_*": ["brief.generated_cli", "brief.generated_dashboard"],
    "metric.*.name": [f"metric.{m}.name" for m in about.METRICS],
    "metric.*.definition": [f"metric.{m}.definition" for m in about.METRICS],
    "metric.*.formula": [f"metric.{m}.formula" for m in about.METRICS],
}
# f-string keys that are not checked here: the whole key comes from a variable (a table column's `terms`
# prefix, tracker/tables, and the code)
SKIPPED = {"**", "column.*"}  # column.{name}: looked up only when the catalog has it (a file's header otherwise)


def _fields(text: str) -> set[str]:
    return {name.split("!")[0] for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def _texts(entry) -> dict[tuple[str, str], str]:
    """(language, plural form) -> text: a language with one text has only the form "other"."""
    return {(lang, form): text for lang in i18n.LANGS for form, text in i18n.forms(entry, lang).items()}


def _entries():
    return [(f"{name}:{key}", entry) for name, table in CATALOGS.items() for key, entry in table().items()]


def _plural_entries():
    return [(key, entry) for key, entry in _entries() if "plural" in entry]


def _filled(entry, count) -> dict:
    """Values for every placeholder of `entry`: the count, and "X" for the others."""
    names = set().union(*(_fields(text) for text in _texts(entry).values()))
    return {name: "X" for name in names} | {entry["plural"]: count}


def _render(catalog: str, key: str, lang: str, values: dict) -> str:
    return i18n.t(key, lang, **values) if catalog == "i18n.toml" else i18n.message(key, lang, values)


def _used_keys() -> tuple[set[str], set[str], set[str]]:
    """Keys of i18n.toml and message ids the code names as literals (f-strings expanded), and the
    f-string patterns neither expanded nor skipped."""
    keys, ids, unknown = set(), set(), set()
    for path in CODE:
        text = path.read_text(encoding="utf-8")
        found = [(fn, f, key) for fn, f, _, key in CALL.findall(text)]
        found += [("code", f, key) for f, _, key in CODE_ARG.findall(text) if f or KEY.fullmatch(key)]
        for fn, f, key in found:
            into = keys if fn == "t" else ids
            if not f:
                into.add(key)
                continue
            pattern = re.sub(r"\{[^{}]*\}", "*", key)
            if pattern in SKIPPED:
                continue
            if pattern not in EXPANSIONS:
                unknown.add(f"{path.relative_to(ROOT)}: {key}")
            into.update(EXPANSIONS.get(pattern, ()))
    return keys, ids, unknown


# --------------------------------------------------------------------------- the catalogs are complete


@pytest.mark.parametrize("catalog", CATALOGS)
def test_every_entry_has_both_languages_and_no_empty_text(catalog):
    entries = CATALOGS[catalog]()
    assert len(entries) > 50  # the file was read, and its entries recognised
    for key, entry in entries.items():
        assert set(entry) - {"plural"} == {"vi", "en"}, f"{catalog}:{key}: languages {sorted(entry)}"
        for (lang, form), text in _texts(entry).items():
            assert text.strip(), f"{catalog}:{key}: the {lang} text ({form}) is empty"


@pytest.mark.parametrize("catalog", CATALOGS)
def test_both_languages_and_every_plural_form_use_the_same_placeholders(catalog):
    for key, entry in CATALOGS[catalog]().items():
        texts = _texts(entry)
        expected = _fields(entry["vi"] if isinstance(entry["vi"], str) else entry["vi"]["other"])
        for (lang, form), text in texts.items():
            assert _fields(text) == expected, f"{catalog}:{key}: {lang} ({form}) has {_fields(text)}, not {expected}"


def test_the_plural_forms_are_the_languages_own():
    assert i18n.plural_forms("en") == {"one", "other"}  # CLDR English, by Babel
    plural = _plural_entries()
    assert len(plural) >= 20  # every counted text of both catalogs
    for key, entry in plural:
        name = entry["plural"]
        for (lang, form), text in _texts(entry).items():
            assert name in _fields(text), f"{key}: the counting {{{name}}} is missing from {lang} ({form})"
        english = entry["en"]
        assert isinstance(english, dict), f"{key}: English needs its plural forms, one and other"
        assert set(english) == i18n.plural_forms("en"), f"{key}: English forms {sorted(english)}"
        assert english["one"] != english["other"], f"{key}: the English forms are the same text"
        vietnamese = entry["vi"]  # one text (its words do not change), or all of its CLDR forms
        assert isinstance(vietnamese, str) or set(vietnamese) == i18n.plural_forms("vi"), key


def test_only_counted_texts_have_plural_forms():
    for key, entry in _entries():
        if "plural" not in entry:
            assert all(isinstance(entry[lang], str) for lang in i18n.LANGS), f"{key}: forms but no `plural`"


def test_no_english_text_fakes_a_plural():
    faked = re.compile(r"\(s\)|\{\w+\} (?:weeks|days|seconds|minutes|rows|warnings|districts)\b")
    constant = {"messages.toml:warning.spike": options.SPIKE_WINDOW}  # counts that are constants, never 1
    assert all(n > 1 for n in constant.values())
    for key, entry in _entries():
        text = entry["en"]
        if isinstance(text, str) and "plural" not in entry and key not in constant:
            assert not faked.search(text), f"{key}: {text!r} counts without plural forms"


def test_entries_are_found_whatever_their_toml_shape(tmp_path):
    path = tmp_path / "t.toml"
    path.write_text(
        '[a]\nplain = { vi = "x", en = "y" }\n'
        'inline = { plural = "n", vi = "{n} tuần", en = { one = "{n} week", other = "{n} weeks" } }\n'
        'dotted.plural = "n"\ndotted.vi = "{n} giây"\ndotted.en.one = "{n} second"\ndotted.en.other = "{n} seconds"\n'
        '[a.b]\ndeep = { vi = "v", en = "e" }\n',
        encoding="utf-8",
    )
    flat = i18n._flat(path)
    assert set(flat) == {"a.plain", "a.inline", "a.dotted", "a.b.deep"}
    assert flat["a.dotted"] == {"plural": "n", "vi": "{n} giây", "en": {"one": "{n} second", "other": "{n} seconds"}}
    path.write_text('[a]\nplain = { vi = "x", en = "y" }\nhalf = { vi = "x" }\n', encoding="utf-8")
    with pytest.raises(ValueError, match="a.half is not an entry"):
        i18n._flat(path)


# --------------------------------------------------------------------------- every key the code names exists


def test_every_key_the_code_names_exists():
    keys, ids, unknown = _used_keys()
    assert not unknown, f"f-string keys to list in EXPANSIONS (or SKIPPED) of tests/test_i18n.py: {sorted(unknown)}"
    assert len(keys) > 150 and len(ids) > 15  # the scan found them (a broken pattern would find none)
    odd = sorted(k for k in keys | ids if not KEY.fullmatch(k))
    assert not odd, f"not a key: {odd}"
    missing = sorted(keys - set(i18n.table())) + sorted(ids - set(i18n.messages()))
    assert not missing, f"keys used in the code but not in tracker/i18n.toml or tracker/messages.toml: {missing}"


def test_the_expansions_are_what_their_patterns_say():
    for pattern, keys in EXPANSIONS.items():
        assert keys and all(fnmatch.fnmatchcase(k, pattern) for k in keys), pattern


# --------------------------------------------------------------------------- counts read right


@pytest.mark.parametrize(
    ("key", "values", "expected"),
    [
        ("risk.weeks_value", {"n": 1}, "1 week"),
        ("risk.weeks_value", {"n": 2}, "2 weeks"),
        ("risk.weeks_value", {"n": 0}, "0 weeks"),
        ("risk.weeks_value", {"n": 1.0}, "1 week"),  # a whole float is that whole number
        ("risk.weeks_value", {"n": 1234}, "1,234 weeks"),  # written as English writes numbers
        ("overview.stale", {"count": 1, "days": 2, "names": "Na Hang"},
         "1 district has not reported for 2 days or more: Na Hang"),
        ("overview.stale", {"count": 3, "days": 2, "names": "A, B, C"},
         "3 districts have not reported for 2 days or more: A, B, C"),
        ("login_guard.wait_seconds", {"n": 1}, "1 second"),
        ("login_guard.wait_seconds", {"n": 39}, "39 seconds"),
        ("login_guard.wait_minutes", {"n": 1}, "1 minute"),
        ("upload.rejected", {"rows": 1}, "File refused: 1 row with errors. Nothing was stored."),
        ("upload.rejected", {"rows": 2}, "File refused: 2 rows with errors. Nothing was stored."),
        ("upload.warning_count", {"count": 1}, "1 warning"),
        ("overview.days_left", {"days": 1}, "**1** day to the deadline"),
        ("overview.people_needed", {"people": float("nan")}, "**—** more people to vaccinate"),  # a missing figure
    ],
)  # fmt: skip
def test_english_counts_read_right(key, values, expected):
    assert i18n.t(key, "en", **values) == expected


def test_english_messages_count_too():
    assert i18n.message("validation.summary", "en", {"source": "a.csv", "rows": 1}) == (
        "a.csv: 1 row with errors; nothing was stored"
    )
    assert i18n.message("validation.summary", "en", {"source": "a.csv", "rows": 1200}) == (
        "a.csv: 1,200 rows with errors; nothing was stored"
    )
    assert i18n.message("file.too_many_values", "en", {"count": 3, "width": 1}) == (
        "3 values but the header has 1 column"
    )


@pytest.mark.parametrize(("count", "one"), [(1, True), (2, False), (0, False), (21, False), (1.5, False)])
def test_every_english_plural_takes_the_form_of_its_count(count, one):
    for key, entry in _plural_entries():
        catalog, key = key.split(":")
        form = entry["en"]["one" if one else "other"]
        values = _filled(entry, count)
        shown = fmt.number(count, "en", decimals=0 if float(count).is_integer() else 1)
        expected = form.format(**(values | {entry["plural"]: shown}))
        assert _render(catalog, key, "en", values) == expected, key


def test_vietnamese_does_not_change_with_the_count():
    assert i18n.t("risk.weeks_value", "vi", n=1) == "1 tuần"
    assert i18n.t("risk.weeks_value", "vi", n=2) == "2 tuần"
    assert i18n.t("overview.stale", "vi", count=1, days=2, names="A") == "1 huyện chưa báo cáo từ 2 ngày trở lên: A"
    assert i18n.t("overview.stale", "vi", count=3, days=2, names="A") == "3 huyện chưa báo cáo từ 2 ngày trở lên: A"
    assert i18n.t("upload.rejected", "vi", rows=1234) == "Tệp bị từ chối: 1.234 dòng có lỗi. Chưa có gì được lưu."
    for key, entry in _plural_entries():
        catalog, key = key.split(":")
        texts = set(i18n.forms(entry, "vi").values())
        assert len(texts) == 1, f"{key}: Vietnamese texts that differ with the count"
        (text,) = texts
        for count in (0, 1, 2, 5, 21, 1000):
            values = _filled(entry, count)
            expected = text.format(**(values | {entry["plural"]: fmt.number(count, "vi")}))
            assert _render(catalog, key, "vi", values) == expected, key


def test_the_count_must_be_a_number_not_text_already_formatted():
    with pytest.raises(TypeError, match="must be a number"):
        i18n.t("risk.weeks_value", "en", n="1")
    with pytest.raises(TypeError, match="must be a number"):
        i18n.t("risk.weeks_value", "vi", n=True)
    with pytest.raises(KeyError, match="picks the plural form"):
        i18n.t("risk.weeks_value", "en")
    with pytest.raises(TypeError, match="must be a number"):
        i18n.message("validation.summary", "en", {"source": "a.csv", "rows": "2"})


def test_the_risk_history_tooltip_comes_from_the_catalog():
    import pandas as pd

    from tracker.figures.common import DATE_TICKS
    from tracker.figures.risk import risk_history

    frame = pd.DataFrame({"unit_name": ["A", "A"], "week_end": ["2021-11-07", "2021-11-14"], "level": [1, 2]})
    for lang in i18n.LANGS:
        fig = risk_history(frame, lang, None)
        week = pd.Timestamp("2021-11-14").strftime(DATE_TICKS[lang])
        assert i18n.t("risk_figure.week_ending", lang, date=week) in fig.data[0].customdata[0].tolist()


def test_the_chart_toolbar_speaks_vietnamese():
    """Plotly's locale mechanism: config.locale and a dictionary from Plotly's English texts (tracker/i18n.toml)."""
    from tracker.figures.common import download_config

    vi = download_config("coverage", "Toàn tỉnh", "2021-12-01", "vi")
    assert vi["locale"] == "vi"
    words = vi["locales"]["vi"]["dictionary"]
    assert words["Zoom in"] == "Phóng to" and words["Download plot as a png"].startswith("Tải biểu đồ")
    assert "locale" not in download_config("coverage", "Province", "2021-12-01", "en")
