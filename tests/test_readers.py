"""Messy district drops: encodings, delimiters, workbooks, synonyms, wide files, local formats, names.

The corpus is tests/fixtures/drops/ (made by make_fixtures.py there). Each test reads a file through the
one ingest path (tracker.ingest.read_table / read_bytes) and checks the exact figures that would be
stored, or the exact problems with their rows (file line or sheet row, header = 1) and columns (the
file's own headers).
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from tests.fixtures.drops.make_fixtures import cp1258
from tracker.config import PROJECT_ROOT, load_config
from tracker.errors import InputError, MeasureNeeded, ValidationError
from tracker.ingest import (
    AgeResolver,
    ReadOptions,
    coverage_warnings,
    detect_encoding,
    looks_vietnamese,
    parse_count,
    parse_date,
    read_bytes,
    read_table,
)  # fmt: skip

DROPS = Path(__file__).resolve().parent / "fixtures" / "drops"
CANONICAL = Path(__file__).resolve().parent / "fixtures" / "canonical"
CFG = load_config()
TODAY = dt.date(2022, 3, 31)
UNITS = pd.read_csv(PROJECT_ROOT / "data" / "units.csv", dtype=str)[["unit_code", "unit_name"]]


def read(name: str, kind: str = "vaccinations", known=UNITS, base=None, **options):
    return read_table(DROPS / name, kind, CFG, known, today=TODAY, base=base, options=ReadOptions(**options))


def figures(prepared) -> dict[tuple, int]:
    """Vaccination figures as {(date, unit, band, dose): people_cumulative}."""
    return {
        (f"{r.date:%Y-%m-%d}", r.unit_code, r.age_band, int(r.dose)): int(r.people_cumulative)
        for r in prepared.frame.itertuples(index=False)
    }


def problems(name: str, kind: str = "vaccinations", **kwargs) -> list[tuple]:
    with pytest.raises(ValidationError) as info:
        read(name, kind, **kwargs)
    return [(p.row, p.column, p.message) for p in info.value.problems]


# --------------------------------------------------------------------------- encodings and delimiters


def test_cp1258_bytes_decode_to_combining_marks_and_are_stored_nfc():
    raw = (DROPS / "units_cp1258.csv").read_bytes()
    assert "Huyện Lâm Bình".encode() not in raw
    decoded = raw.decode("cp1258")
    assert "Huyê\u0323n Lâm Bi\u0300nh" in decoded  # tone marks arrive as combining characters
    assert not unicodedata.is_normalized("NFC", decoded)

    prepared = read("units_cp1258.csv", "units", known=None)
    units = prepared.frame
    assert list(units["unit_code"]) == ["070", "071", "073"]
    assert list(units["unit_name"]) == ["Thành phố Tuyên Quang", "Huyện Lâm Bình", "Huyện Chiêm Hóa"]
    assert all(unicodedata.is_normalized("NFC", n) for n in units["unit_name"])
    assert list(units["unit_type"]) == ["city", "district", "district"]
    assert units["lat"].tolist() == [21.781, 22.504, 22.174]
    assert units["lon"].tolist() == [105.226, 105.227, 105.271]
    assert prepared.detected["encoding"] == "cp1258"
    assert prepared.detected["columns"] == {
        "Mã huyện": "unit_code",
        "Tên huyện": "unit_name",
        "Loại": "unit_type",
        "Vĩ độ": "lat",
        "Kinh độ": "lon",
    }


def test_cp1258_file_that_the_library_takes_for_another_code_page():
    prepared = read("vaccinations_cp1258.csv")
    assert prepared.detected["encoding"] == "cp1258"
    assert prepared.detected["encoding_rule"] == "decodes as Vietnamese in Windows-1258"
    assert figures(prepared) == {
        ("2021-10-04", "073", "18-49", 1): 120,
        ("2021-10-04", "074", "18-49", 1): 95,
        ("2021-10-04", "076", "50-64", 2): 40,
        ("2021-10-04", "075", "65+", 1): 33,
    }


@pytest.mark.parametrize(
    "text",
    [
        "Huyện Lâm Bình\n",
        "x\nĐơn vị\n",  # charset-normalizer 3.5 says cp1006
        "a,b\nChiêm Hóa,1\nHàm Yên,2\nSơn Dương,3\nYên Sơn,4\n",  # … cp1250
        "Bình\n",  # … utf_16_be
        "Ngày,Huyện,Số người đã tiêm (lũy tích)\n13/01/2022,Huyện Na Hang,1.234\n",
    ],
)
def test_vietnamese_cp1258_bytes_are_detected_as_cp1258(text):
    data = cp1258(text)
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert detect_encoding(data)[0] == "cp1258"
    assert unicodedata.normalize("NFC", data.decode("cp1258")) == text


@pytest.mark.parametrize(
    "text",
    ["Müller;Straße;Größe\n1;2;3\n", "Città;però;così\n", "Ærø;Île;Çà\n"],
)
def test_western_european_code_pages_are_not_taken_for_cp1258(text):
    data = text.encode("cp1252")
    assert not looks_vietnamese(data.decode("cp1258"))
    assert detect_encoding(data)[0] != "cp1258"


def test_excel_unicode_text_is_utf16_tab_separated():
    raw = (DROPS / "unicode_text.txt").read_bytes()
    assert raw.startswith(b"\xff\xfe") and b"\t\x00" in raw
    prepared = read("unicode_text.txt")
    assert figures(prepared) == {
        ("2022-01-13", "070", "18-49", 1): 1234,
        ("2022-01-13", "071", "18-49", 1): 567,
        ("2022-01-14", "070", "18-49", 1): 1240,
    }
    assert prepared.detected["encoding"] == "utf-16"
    assert prepared.detected["delimiter"] == "\t"


def test_utf8_with_bom_and_semicolons_cases_by_unit_name():
    prepared = read("cases_utf8_bom_semicolon.csv", "cases")
    got = {
        (f"{r.date:%Y-%m-%d}", r.unit_code): (int(r.community_cases), int(r.imported_cases))
        for r in prepared.frame.itertuples(index=False)
    }
    assert got == {("2021-10-01", "070"): (3, 1), ("2021-10-01", "071"): (0, 2), ("2021-10-02", "070"): (2, 0)}
    assert (prepared.detected["encoding"], prepared.detected["delimiter"]) == ("utf-8-sig", ";")
    assert prepared.detected["columns"] == {
        "Ngày": "date",
        "Huyện": "unit_code",
        "Ca cộng đồng": "community_cases",
        "Ca nhập cảnh": "imported_cases",
    }


def test_an_encoding_given_is_used_and_a_wrong_one_is_an_error():
    assert figures(read("vaccinations_cp1258.csv", encoding="cp1258"))[("2021-10-04", "073", "18-49", 1)] == 120
    assert problems("vaccinations_cp1258.csv", encoding="utf-8") == [(1, None, "byte b'\\xe0' is not valid utf-8")]


def test_a_delimiter_given_overrides_the_sniffed_one():
    [(row, column, message)] = problems("cases_utf8_bom_semicolon.csv", "cases", delimiter=",")
    assert (row, column) == (None, None)
    assert message.startswith("not a table: found a single column ('Ngày;Huyện;Ca cộng đồng;Ca nhập cảnh' on row 1")


# --------------------------------------------------------------------------- workbooks


@pytest.mark.parametrize("sheet", ["Số liệu", "so lieu", 1])
def test_xlsx_second_sheet_by_name_or_index(sheet):
    prepared = read("workbook.xlsx", sheet=sheet)
    assert figures(prepared) == {
        ("2021-10-13", "071", "18-49", 1): 1234,  # a real date cell and a number cell
        ("2021-10-14", "071", "18-49", 1): 1250,  # code 71 as a number, dose "Mũi 1", 1250.0
        ("2021-10-14", "071", "50-64", 2): 1001,  # the unit by name, "1.001" as text
    }
    assert list(prepared.rows) == [5, 6, 8]  # sheet rows: two title rows and a blank row above the header
    assert prepared.detected["format"] == "xlsx"
    assert prepared.detected["sheet"] == "Số liệu"
    assert prepared.detected["sheets"] == ["Hướng dẫn", "Số liệu"]
    assert prepared.detected["header_row"] == 4


def test_xlsx_first_sheet_by_default_says_which_sheet():
    with pytest.raises(ValidationError) as info:
        read("workbook.xlsx")
    assert info.value.source == f"{DROPS / 'workbook.xlsx'}, sheet 'Hướng dẫn'"
    [problem] = info.value.problems
    assert problem.message.startswith("not a table: found a single column ('Nhập số liệu ở trang tiếp theo.'")


def test_xlsx_unknown_sheet_lists_the_sheets():
    assert problems("workbook.xlsx", sheet="Data") == [
        (None, None, "no sheet 'Data' in the workbook (sheets: 0: 'Hướng dẫn', 1: 'Số liệu')")
    ]


def test_xlsx_problems_are_at_sheet_rows():
    with pytest.raises(ValidationError) as info:
        read("bad.xlsx")
    assert info.value.source.endswith("bad.xlsx, sheet 'Data'")
    assert [(p.row, p.column, p.message) for p in info.value.problems] == [
        (3, "people_cumulative", "'=E2/2' is a spreadsheet formula, not a value (paste values only)"),
        (4, "people_cumulative", "'12.5' is not a whole number"),
        (
            5,
            "date",
            "'13/10/2021' is written day/month/year but the column's dates are yyyy-mm-dd (or date cells): "
            "mixed date formats may hide day/month swaps; write every date the same way",
        ),
    ]


# --------------------------------------------------------------------------- wide files and the measure


def test_wide_vietnamese_headers_dmy_dates_and_dot_thousands():
    prepared = read("wide_vi.csv")
    assert figures(prepared) == {
        ("2021-10-13", "071", "18-49", 1): 1234,
        ("2021-10-13", "071", "18-49", 2): 567,
        ("2021-10-13", "070", "adults", 1): 12345,  # "Từ 18 tuổi trở lên"; its empty dose 2 cell: no row
        ("2021-10-14", "071", "18-49", 1): 1250,
        ("2021-10-14", "071", "18-49", 2): 601,
    }
    assert prepared.detected["layout"] == "wide"
    assert prepared.detected["measure"] == "cumulative"
    assert prepared.detected["columns"]["Mũi 2 (lũy tích)"] == "dose2_cumulative"


def test_wide_english_headers_with_the_marker_in_one_header():
    prepared = read("wide_en.csv")
    assert figures(prepared) == {
        ("2021-10-13", "071", "adults", 1): 1234,
        ("2021-10-13", "071", "adults", 2): 1000,  # "fully vaccinated" = dose 2
        ("2021-10-13", "070", "65+", 1): 800,
        ("2021-10-13", "070", "65+", 2): 650,
    }
    assert prepared.detected["columns"] == {
        "Report date": "date",
        "District": "unit_code",
        "Age group": "age_band",
        "First dose (cumulative)": "dose1_cumulative",
        "Fully vaccinated": "dose2_cumulative",
    }


def test_wide_without_a_marker_needs_the_measure():
    with pytest.raises(MeasureNeeded) as info:
        read("wide_en_no_marker.csv")
    assert info.value.columns == ["first dose", "second dose", "booster", "second booster"]
    assert info.value.source == str(DROPS / "wide_en_no_marker.csv")

    cumulative = read("wide_en_no_marker.csv", measure="cumulative")
    assert figures(cumulative) == {
        ("2021-10-13", "071", "18-49", 1): 100,
        ("2021-10-13", "071", "18-49", 2): 80,
        ("2021-10-13", "071", "18-49", 3): 10,  # booster = dose 3; "second booster" cells are empty
        ("2021-10-13", "070", "50-64", 1): 200,
        ("2021-10-13", "070", "50-64", 2): 150,
    }
    assert cumulative.detected["measure_from"] == "options"
    assert cumulative.detected["columns"]["second booster"] == "dose4_cumulative"
    daily = read("wide_en_no_marker.csv", measure="daily")  # nothing stored before: the sums start at 0
    assert figures(daily) == figures(cumulative)
    assert daily.detected["measure"] == "daily"


def test_ambiguous_long_count_needs_the_measure():
    with pytest.raises(MeasureNeeded) as info:
        read("ambiguous.csv")
    assert info.value.columns == ["Số người đã tiêm"]
    assert "--measure" in str(info.value)
    assert figures(read("ambiguous.csv", measure="cumulative")) == {("2021-10-04", "071", "18-49", 1): 10}


def stored_before(values: dict[tuple[str, str, int], int]):
    """A `base` callback like tracker.store.intake's: the stored value before each series' first date."""
    calls = []

    def base(starts: pa.Table) -> np.ndarray:
        starts = starts.to_pandas(date_as_object=False)
        calls.append(starts)
        keys = zip(starts["unit_code"], starts["age_band"], starts["dose"].astype(int), strict=True)
        return np.array([values.get(key, -1) for key in keys], dtype=np.int64)

    base.calls = calls
    return base


def test_wide_daily_file_is_added_on_top_of_the_stored_values():
    base = stored_before({("071", "18-49", 1): 100, ("071", "18-49", 3): 7})
    prepared = read("wide_daily.csv", base=base)
    assert figures(prepared) == {
        ("2021-10-03", "071", "18-49", 1): 110,
        ("2021-10-04", "071", "18-49", 1): 130,
        ("2021-10-05", "071", "18-49", 1): 160,
        ("2021-10-03", "071", "18-49", 2): 4,  # nothing stored: from 0; the empty cell of the 4th: no row
        ("2021-10-05", "071", "18-49", 2): 10,
        ("2021-10-04", "071", "18-49", 3): 8,  # "Mũi nhắc lại" = dose 3
        ("2021-10-05", "071", "18-49", 3): 10,
    }
    starts = base.calls[0]
    assert {(r.unit_code, r.age_band, int(r.dose), f"{r.date:%Y-%m-%d}") for r in starts.itertuples()} == {
        ("071", "18-49", 1, "2021-10-03"),
        ("071", "18-49", 2, "2021-10-03"),
        ("071", "18-49", 3, "2021-10-04"),
    }
    assert prepared.detected["measure"] == "daily"
    assert list(prepared.rows) == [2, 2, 3, 3, 4, 4, 4]  # each figure keeps its file line


# --------------------------------------------------------------------------- units, ages, dates, numbers


def test_unit_names_in_every_spelling_resolve_to_codes():
    raw = (DROPS / "names.csv").read_text(encoding="utf-8")
    assert unicodedata.normalize("NFD", "Huyện Lâm Bình") in raw
    prepared = read("names.csv")
    assert list(prepared.frame["unit_code"]) == ["071", "071", "070", "070", "071", "070", "072", "072"]
    assert list(prepared.frame["people_cumulative"]) == [10, 11, 12, 13, 14, 15, 16, 17]


def test_an_unknown_unit_name_suggests_the_closest_units():
    assert problems("unknown_name.csv") == [
        (3, "Huyện", "unknown unit 'Huyện Lâm Bìn'; did you mean Huyện Lâm Bình?"),
        (5, "Huyện", "unknown unit 'Quận Ba Đình' (neither a unit code nor the name of a unit)"),
    ]


def test_a_set_of_codes_still_works_and_names_need_the_units_frame():
    assert figures(read("wide_en_no_marker.csv", known={"070", "071"}, measure="cumulative"))
    assert problems("names.csv", known={"070", "071", "072"})[0] == (2, "unit", f"unknown unit {'Huyện Lâm Bình'!r}")


def test_age_groups_as_districts_write_them():
    assert problems("ages.csv") == [
        (
            13,
            "age group",
            "'18-64' is not an age band or group (0-4, 5-11, 12-17, 18-49, 50-64, 65+, adults, all, 50plus, 12plus)",
        )
    ]
    text = (DROPS / "ages.csv").read_text(encoding="utf-8").splitlines()
    labels = [line.split(";")[2] for line in text[1:-1]]
    resolver = AgeResolver(CFG)
    assert [resolver.resolve(label) for label in labels] == [
        "18-49",
        "adults",
        "65+",
        "65+",
        "12-17",
        "50-64",
        "adults",
        "adults",
        "65+",
        "all",
        "50plus",
    ]


def test_population_takes_bands_only():
    data = "Huyện;Nhóm tuổi;Dân số\nHuyện Lâm Bình;18 – 49;1.000\nHuyện Lâm Bình;≥65;250\nHuyện Lâm Bình;18+;5\n"
    with pytest.raises(ValidationError) as info:
        read_bytes(data.encode(), "dan_so.csv", "population", CFG, UNITS)
    assert [(p.row, p.column, p.message) for p in info.value.problems] == [
        (4, "Nhóm tuổi", "'18+' is not an age band (0-4, 5-11, 12-17, 18-49, 50-64, 65+)")
    ]
    good = read_bytes(data.encode()[: data.encode().rindex(b"Huy")], "dan_so.csv", "population", CFG, UNITS)
    assert good.frame.astype({"unit_code": str, "age_band": str}).values.tolist() == [
        ["071", "18-49", 1000],
        ["071", "65+", 250],
    ]


def test_dates_are_day_month_year_never_month_day():
    assert problems("dates.csv") == [
        (
            6,
            "date",
            "'01/13/2022' is not a date (month 13 does not exist; dates are read day/month/year, never month/day; "
            "for a month-first file choose the mdy date order)",
        ),
        (7, "date", "'31/02/2022' is not a date (day 31 does not exist in 2022-02)"),
        (
            8,
            "date",
            "'2022/01/16' is not a date (expected dd/mm/yyyy (also d/m/yyyy, dd-mm-yyyy, dd.mm.yyyy) or yyyy-mm-dd)",
        ),
    ]


@pytest.mark.parametrize(
    "text,date",
    [
        ("13/01/2022", dt.date(2022, 1, 13)),
        ("01/02/2022", dt.date(2022, 2, 1)),  # 1 February, not 2 January
        ("1/2/2022", dt.date(2022, 2, 1)),
        ("14-01-2022", dt.date(2022, 1, 14)),
        ("15.01.2022", dt.date(2022, 1, 15)),
        ("2022-01-16", dt.date(2022, 1, 16)),
        ("2022-01-16 00:00:00", dt.date(2022, 1, 16)),
    ],
)
def test_date_forms(text, date):
    assert parse_date(text)[0] == date


def test_one_column_one_date_form():
    assert problems("dates_mixed.csv") == [
        (
            4,
            "date",
            "'02/01/2022' is written day/month/year but the column's dates are yyyy-mm-dd (or date cells): "
            "mixed date formats may hide day/month swaps; write every date the same way",
        )
    ]


def test_counts_with_thousands_separators_decimals_and_empty_cells():
    assert problems("numbers.csv") == [
        (5, "people_cumulative", "'12,5' is not a whole number"),
        (6, "people_cumulative", "empty value"),
        (7, "people_cumulative", "'1.5' is not a whole number"),
    ]
    good = read_bytes(
        (DROPS / "numbers.csv").read_bytes().split(b"2021-10-04;071")[0], "numbers.csv", "vaccinations", CFG, UNITS
    )
    assert list(good.frame["people_cumulative"]) == [1234567, 1234567, 1234567]


@pytest.mark.parametrize(
    "text,value",
    [("1234567", 1234567), ("1.234.567", 1234567), ("1,234,567", 1234567), ("1 234 567", 1234567), ("1.234", 1234)],
)
def test_count_forms(text, value):
    assert parse_count(text) == (value, None)


@pytest.mark.parametrize("text", ["12,5", "1.5", "1,2345", "1.234,5", "1.234,567", "abc"])
def test_not_whole_numbers(text):
    assert parse_count(text) == (None, ("value.not_whole_number", {"value": text}))


# --------------------------------------------------------------------------- not tables, formulas, columns


def test_formulas_are_errors():
    assert problems("formula.csv") == [
        (3, "people_cumulative", "'=SUM(E2:E2)' is a spreadsheet formula, not a value (paste values only)"),
        (4, "unit_code", "'=A1' is a spreadsheet formula, not a value (paste values only)"),
    ]


@pytest.mark.parametrize(
    "name,message",
    [
        ("empty.csv", "the file is empty"),
        ("header_only.csv", "the file has a header but no rows"),
        ("binary.csv", "not a table: the file holds binary data (1,024 bytes starting 00 01 02 03 04 05 06 07)"),
        ("report.pdf.csv", "not a table: the file is a PDF document"),
        (
            "prose.txt",
            "not a table: found a single column ('Báo cáo tình hình tiêm chủng vắc xin phòng COVID-19' on row 1, "
            "then 2 rows); a vaccinations table has columns date, unit_code, age_band, dose, people_cumulative "
            "separated by commas, semicolons or tabs",
        ),
    ],
)
def test_files_that_are_not_tables(name, message):
    assert problems(name) == [(None, None, message)]


def test_other_headers_are_mapped_with_options_columns():
    with pytest.raises(ValidationError) as info:
        read("custom_headers.csv")
    assert {(p.row, p.column) for p in info.value.problems} == {
        (1, "date"),
        (1, "unit_code"),
        (1, "age_band"),
        (1, "people_cumulative"),
    }
    assert "found 'Thời điểm', 'Cơ sở', 'Lứa tuổi', 'Mũi', 'Tổng tiêm', 'Ghi chú'" in info.value.problems[0].message
    columns = (("thoi diem", "date"), ("CƠ SỞ", "unit_code"), ("Lứa tuổi", "age_band"), ("Tổng tiêm", "people"))
    with pytest.raises(InputError, match="cannot map a column to 'people'; a vaccinations column is one of date, "):
        read("custom_headers.csv", columns=columns)
    with pytest.raises(ValidationError, match=r"both a dose column \('Mũi'\) and per-dose columns \('Tổng tiêm'\)"):
        read("custom_headers.csv", columns=(*columns[:3], ("Tổng tiêm", "dose1_cumulative")))
    columns = (*columns[:3], ("Tổng tiêm", "people_cumulative"), ("Ghi chú", "ignore"))
    prepared = read("custom_headers.csv", columns=columns)
    assert figures(prepared) == {("2021-10-04", "070", "18-49", 1): 420, ("2021-10-04", "071", "18-49", 1): 90}
    assert prepared.detected["columns"] == {
        "Thời điểm": "date",
        "Cơ sở": "unit_code",
        "Lứa tuổi": "age_band",
        "Mũi": "dose",
        "Tổng tiêm": "people_cumulative",
    }


def test_rows_are_line_numbers_after_a_value_over_two_lines():
    assert problems("multiline.csv") == [(4, "dose", "dose 5 is not 1, 2, 3 or 4")]


# --------------------------------------------------------------------------- warnings


def test_a_spike_over_five_times_the_7_day_average_is_a_warning():
    prepared = read("spike.csv")
    assert [(w.row, w.column, w.message) for w in prepared.warnings] == [
        (
            10,
            "doses",
            "200 new doses on 9 Oct 2021 (070 18-49 dose 1), more than 5× the average of the 7 days before (10.0): "
            "check the figure",
        )
    ]
    assert figures(prepared)[("2021-10-09", "070", "18-49", 1)] == 280


def test_a_cumulative_below_the_stored_value_is_a_warning():
    base = stored_before({("071", "18-49", 1): 1300, ("070", "adults", 1): 10})
    prepared = read("wide_vi.csv", base=base)
    assert [(w.row, w.column, w.message) for w in prepared.warnings] == [
        (
            2,
            "Mũi 1 (lũy tích)",
            "cumulative count 1,234 is lower than the stored report before this file (1,300): a correction",
        )
    ]


def test_coverage_warnings_need_the_population():
    prepared = read("wide_vi.csv")
    population = pd.DataFrame(
        {
            "unit_code": ["071", "070", "070", "070"],
            "age_band": ["18-49", "18-49", "50-64", "65+"],
            "population": [1240, 9500, 2000, 1000],
        }
    )
    found = coverage_warnings(prepared.frame, population, CFG, prepared.rows)
    assert [(p.row, p.column, p.severity, p.message) for p in found] == [
        (
            4,
            "people_cumulative",
            "warning",
            "1,250 people in 071 18-49 with dose 1 on 14 Oct 2021 is more than the population (1,240): coverage 100.8%",
        )
    ]
    assert found[0].text("vi") == (
        "1.250 người ở 071 18-49 đã tiêm mũi 1 ngày 14/10/2021, nhiều hơn dân số (1.240): tỷ lệ 100,8%"
    )


# --------------------------------------------------------------------------- one path: bytes, fast path


@pytest.mark.parametrize("name", ["wide_vi.csv", "unicode_text.txt", "vaccinations_cp1258.csv"])
def test_read_bytes_gives_what_read_table_gives(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    from_file = read(name)
    from_bytes = read_bytes((DROPS / name).read_bytes(), name, "vaccinations", CFG, UNITS, today=TODAY)
    pd.testing.assert_frame_equal(from_bytes.frame, from_file.frame)
    assert from_bytes.sha256 == from_file.sha256
    assert from_bytes.source == name
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_xlsx_bytes_with_options():
    data = (DROPS / "workbook.xlsx").read_bytes()
    prepared = read_bytes(data, "upload.xlsx", "vaccinations", CFG, UNITS, today=TODAY, options=ReadOptions(sheet=1))
    assert len(prepared.frame) == 3 and prepared.detected["sheet"] == "Số liệu"


def test_canonical_csv_takes_the_fast_path_and_messy_files_the_text_path():
    canonical = read_table(CANONICAL / "vaccinations.csv", "vaccinations", CFG, {"070", "071"}, today=TODAY)
    assert canonical.detected["read"] == "fast"
    assert canonical.detected["columns"] == {c: c for c in canonical.frame.columns}
    data = (CANONICAL / "vaccinations.csv").read_bytes()
    in_memory = read_bytes(data, "v.csv", "vaccinations", CFG, {"070", "071"}, today=TODAY)
    assert in_memory.detected["read"] == "fast"
    pd.testing.assert_frame_equal(in_memory.frame, canonical.frame)
    np.testing.assert_array_equal(canonical.rows, np.arange(2, 2 + len(canonical.frame)))
    assert canonical.preview.equals(canonical.frame.head())
    assert read("wide_vi.csv").detected["read"] == "text"


def test_options_are_checked():
    with pytest.raises(InputError, match="measure must be cumulative or daily"):
        read("wide_vi.csv", measure="weekly")
    with pytest.raises(InputError, match="unknown encoding 'klingon'"):
        read("wide_vi.csv", encoding="klingon")


# --------------------------------------------------------------------------- layouts and headers


def read_text(text: str, **options):
    options = ReadOptions(**options)
    return read_bytes(text.encode(), "drop.csv", "vaccinations", CFG, UNITS, today=TODAY, options=options)


def text_problems(text: str, **options) -> list[tuple]:
    with pytest.raises(ValidationError) as info:
        read_text(text, **options)
    return [(p.row, p.column, p.message) for p in info.value.problems]


@pytest.mark.parametrize("measure", ["cumulative", "daily"])
def test_canonical_wide_names(measure):
    prepared = read_text(f"date,unit_code,age_band,dose1_{measure},dose4_{measure}\n2021-10-04,070,18-49,5,3\n")
    assert figures(prepared) == {("2021-10-04", "070", "18-49", 1): 5, ("2021-10-04", "070", "18-49", 4): 3}
    assert prepared.detected["measure"] == measure


def test_title_rows_above_the_header_are_skipped():
    prepared = read_text("BÁO CÁO TIÊM CHỦNG\n\nNgày;Huyện;Nhóm tuổi;Mũi;Lũy tích\n04/10/2021;Lâm Bình;18-49;1;5\n")
    assert figures(prepared) == {("2021-10-04", "071", "18-49", 1): 5}
    assert (prepared.detected["header_row"], prepared.detected["delimiter"], list(prepared.rows)) == (3, ";", [4])


def test_a_row_longer_than_the_header_is_an_error_trailing_empty_cells_are_not():
    header = "date,unit_code,age_band,dose,people_cumulative\n"
    assert text_problems(header + "2021-10-04,070,18-49,1,420,extra\n2021-10-04,071,18-49,1,42,,\n") == [
        (2, None, "6 values but the header has 5 columns")
    ]


def test_two_headers_for_one_column():
    assert text_problems("Ngày,Huyện,Đơn vị,Nhóm tuổi,Mũi,Lũy tích\n04/10/2021,Lâm Bình,x,18-49,1,5\n") == [
        (1, None, "columns 'Huyện' and 'Đơn vị' both look like unit_code; map one of them")
    ]
    # a code column beats a name column: the name is ignored
    prepared = read_text("Ngày,Mã huyện,Tên huyện,Nhóm tuổi,Mũi,Lũy tích\n04/10/2021,071,Lâm Bình,18-49,1,5\n")
    assert figures(prepared) == {("2021-10-04", "071", "18-49", 1): 5}
    assert prepared.detected["ignored"] == ["Tên huyện"]


def test_cumulative_and_daily_columns_of_one_file():
    both = "Ngày,Huyện,Nhóm tuổi,Mũi 1 (lũy tích),Mũi 1 (trong ngày)\n04/10/2021,071,18-49,5,1\n"
    assert figures(read_text(both)) == {("2021-10-04", "071", "18-49", 1): 5}  # cumulative where a dose has it
    assert figures(read_text(both, measure="daily")) == {("2021-10-04", "071", "18-49", 1): 1}
    only_daily = "Ngày,Huyện,Nhóm tuổi,Mũi 1 (lũy tích),Mũi 2 (trong ngày)\n04/10/2021,071,18-49,5,1\n"
    assert text_problems(only_daily) == [
        (
            1,
            "Mũi 2 (trong ngày)",
            "dose 2 is given only as daily counts while other doses are cumulative; send one measure per file",
        )
    ]
    with pytest.raises(MeasureNeeded) as info:
        read_text("Ngày,Huyện,Nhóm tuổi,Mũi 1 (lũy tích),Mũi 1 (trong ngày),Mũi 2\n04/10/2021,071,18-49,5,1,2\n")
    assert info.value.columns == ["Mũi 2"]


def test_a_missing_column_is_reported_before_the_measure_is_asked_for():
    assert [p[:2] for p in text_problems("Huyện,Nhóm tuổi,Mũi 1,Mũi 2\n071,18-49,5,4\n")] == [(1, "date")]
    assert text_problems("Ngày,Huyện,Nhóm tuổi,Mũi 5 (lũy tích)\n04/10/2021,071,18-49,5\n") == [
        (1, "Mũi 5 (lũy tích)", "dose 5 is not 1, 2, 3 or 4")
    ]


def test_a_wide_file_with_every_dose_cell_empty():
    assert text_problems("Ngày,Huyện,Nhóm tuổi,Mũi 1 (lũy tích)\n04/10/2021,071,18-49,\n") == [
        (None, None, "the file has a header but no figures: every dose cell is empty")
    ]


def test_the_corpus_is_what_its_script_makes():
    from tests.fixtures.drops.make_fixtures import FILES

    for name, data in FILES.items():
        assert (DROPS / name).read_bytes() == data, f"{name}: run tests/fixtures/drops/make_fixtures.py"
