"""What a file's columns may and may not become, how errors are counted, and the options for files from
outside the province: a constant column for the whole file (--set) and month-first dates (--date-order).

Each file here is written by the test as the bytes a user would upload; figures are checked by hand.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from tracker.config import PROJECT_ROOT, load_config
from tracker.errors import InputError, ValidationError
from tracker.ingest import ReadOptions, read_bytes

CFG = load_config()
TODAY = dt.date(2022, 12, 31)
UNITS = pd.read_csv(PROJECT_ROOT / "data" / "units.csv", dtype=str)[["unit_code", "unit_name"]]


def read(text: str, name: str = "drop.csv", kind: str = "vaccinations", **options):
    return read_bytes(text.encode("utf-8"), name, kind, CFG, UNITS, today=TODAY, options=ReadOptions(**options))


def rejected(text: str, **options) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        read(text, **options)
    return info.value


def figures(prepared) -> dict[tuple, int]:
    return {
        (f"{r.date:%Y-%m-%d}", r.unit_code, r.age_band, int(r.dose)): int(r.people_cumulative)
        for r in prepared.frame.itertuples(index=False)
    }


# --------------------------------------------------------------------------- no dose column is dropped silently


def test_people_vaccinated_beside_fully_vaccinated_is_dose_1_and_both_are_stored():
    text = "date,unit_code,age_band,people_vaccinated,people_fully_vaccinated\n2022-04-01,070,adults,60000,50000\n"
    prepared = read(text, measure="cumulative")
    assert figures(prepared) == {
        ("2022-04-01", "070", "adults", 1): 60000,
        ("2022-04-01", "070", "adults", 2): 50000,
    }
    assert prepared.detected["columns"] == {
        "date": "date",
        "unit_code": "unit_code",
        "age_band": "age_band",
        "people_vaccinated": "dose1_cumulative",
        "people_fully_vaccinated": "dose2_cumulative",
    }


def test_a_count_column_that_would_not_be_stored_is_an_error_naming_it():
    text = "Ngày,Huyện,Nhóm tuổi,Mũi 1 (lũy tích),Mũi 2 (lũy tích),Số người (lũy tích)\n01/10/2021,070,18-49,10,5,12\n"
    error = rejected(text)
    assert [(p.row, p.column) for p in error.problems] == [(1, "Số người (lũy tích)")]
    message = error.problems[0].message
    assert "column 'Số người (lũy tích)' holds cumulative counts that would not be stored" in message
    assert "--column 'Số người (lũy tích)=ignore'" in message
    assert "sẽ không được lưu" in error.problems[0].text("vi")


def test_a_daily_column_beside_cumulative_dose_columns_is_redundant_not_lost():
    text = "date,unit_code,age_band,dose1_cumulative,dose2_cumulative,daily_vaccinations\n2021-10-01,070,18-49,10,5,3\n"
    prepared = read(text)
    assert figures(prepared) == {("2021-10-01", "070", "18-49", 1): 10, ("2021-10-01", "070", "18-49", 2): 5}
    assert prepared.detected["ignored"] == ["daily_vaccinations"]


# --------------------------------------------------------------------------- a mapping must name a real header


def test_a_column_mapping_for_a_header_the_file_does_not_have_is_an_error_listing_the_headers():
    text = "date,unit_code,age_band,dose,people_cumulative\n2021-10-01,070,18-49,1,10\n"
    error = rejected(text, columns=(("nosuch", "unit_code"),))
    assert [(p.row, p.column) for p in error.problems] == [(1, None)]
    assert error.problems[0].message == (
        "the file has no column 'nosuch' (named in the column mapping); its headers are: "
        "'date', 'unit_code', 'age_band', 'dose', 'people_cumulative'"
    )


# --------------------------------------------------------------------------- rates are never people


@pytest.mark.parametrize(
    "header", ["Tỷ lệ đã tiêm (lũy tích)", "Số người đã tiêm (lũy tích) %", "cumulative_per_hundred", "Cumulative (%)"]
)
def test_a_rate_column_is_never_read_as_a_count(header):
    error = rejected(f"date,unit_code,age_band,dose,{header}\n2021-10-01,070,18-49,1,72\n")
    assert [(p.column, p.code) for p in error.problems] == [("people_cumulative", "columns.missing")]


def test_a_rate_beside_the_counts_is_left_out():
    text = (
        "date,unit_code,age_band,people_vaccinated,people_vaccinated_per_hundred,people_fully_vaccinated,"
        "people_fully_vaccinated_per_hundred\n2021-10-01,070,adults,600,72.5,500,60.1\n"
    )
    prepared = read(text, measure="cumulative")
    assert figures(prepared) == {("2021-10-01", "070", "adults", 1): 600, ("2021-10-01", "070", "adults", 2): 500}


# --------------------------------------------------------------------------- counting errors


def test_300_bad_dates_are_300_rows_once_each_without_knock_on_errors():
    lines = ["Ngày,Huyện,Nhóm tuổi,Mũi 1 (lũy tích),Mũi 2 (lũy tích)"]
    lines += [f"31/02/2021,070,18-49,{i},{i}" for i in range(300)]  # one bad date per row, both doses
    lines += ["01/10/2021,071,18-49,5,4"]
    error = rejected("\n".join(lines) + "\n")
    assert error.error_rows == 300
    assert [(t.column, t.rows) for t in error.tallies] == [("Ngày", 300)]
    rows = [p.row for p in error.problems]
    assert len(rows) == len(set(rows)) == 200  # the first 200 listed, each row once though it has two doses
    text = str(error)
    assert text.startswith("drop.csv: 300 rows with errors; nothing was stored\n")
    assert "300 rows with the same problem in column 'Ngày'" in text
    assert "same key" not in text and "NaT" not in text
    assert "… and 250 more" in text  # 50 listed in the text, 300 found
    assert error.summary("vi").startswith("drop.csv: 300 dòng có lỗi; chưa lưu gì")


def test_the_same_key_twice_still_names_the_first_row():
    text = "date,unit_code,age_band,dose,people_cumulative\n2021-10-01,070,18-49,1,10\n2021-10-01,070,18-49,1,11\n"
    error = rejected(text, columns=(("people_cumulative", "people_cumulative"),))  # the text path
    assert [(p.row, p.message) for p in error.problems] == [
        (3, "same key (date=2021-10-01, unit_code=070, age_band=18-49, dose=1) as row 2 with different values")
    ]


# --------------------------------------------------------------------------- month-first dates and constants


def test_month_first_dates_with_the_mdy_order():
    text = "date,unit_code,age_band,dose,people_cumulative\n1/12/21,070,18-49,1,10\n12/31/2021,070,18-49,1,20\n"
    prepared = read(text, date_order="mdy")
    assert figures(prepared) == {("2021-01-12", "070", "18-49", 1): 10, ("2021-12-31", "070", "18-49", 1): 20}
    error = rejected(text)  # day/month/year by default: 12/31/2021 has no month 31
    assert [(p.row, p.code) for p in error.problems] == [(3, "value.date_month_swap")]
    assert "mdy" in error.problems[0].message


def test_a_date_order_other_than_dmy_or_mdy_is_refused():
    with pytest.raises(InputError, match="the date order must be dmy"):
        read("date,unit_code,age_band,dose,people_cumulative\n2021-10-01,070,18-49,1,10\n", date_order="ymd")


def test_constant_columns_fill_a_file_without_age_or_date():
    text = "Huyện,Mũi 1 (lũy tích),Mũi 2 (lũy tích)\nHuyện Lâm Bình,1.234,567\nThành phố Tuyên Quang,12.345,6.789\n"
    prepared = read(text, constants=(("age_band", "18+"), ("date", "04/08/2021")))
    assert figures(prepared) == {
        ("2021-08-04", "071", "adults", 1): 1234,
        ("2021-08-04", "071", "adults", 2): 567,
        ("2021-08-04", "070", "adults", 1): 12345,
        ("2021-08-04", "070", "adults", 2): 6789,
    }


def test_a_bad_constant_is_one_error_naming_the_setting():
    text = "Huyện,Nhóm tuổi,Mũi 1 (lũy tích)\nHuyện Lâm Bình,18-49,1\nHuyện Na Hang,18-49,2\n"
    error = rejected(text, constants=(("date", "31/02/2021"),))
    assert [(t.column, t.rows) for t in error.tallies] == [("date=31/02/2021", 2)]


def test_a_constant_for_a_column_the_file_has_is_refused():
    text = "Ngày,Huyện,Nhóm tuổi,Mũi 1 (lũy tích)\n01/10/2021,070,18-49,1\n"
    error = rejected(text, constants=(("age_band", "18+"),))
    assert [p.code for p in error.problems] == ["option.constant_and_column"]


def test_a_constant_count_is_refused():
    with pytest.raises(InputError, match="cannot set 'people_cumulative'"):
        read("Ngày,Huyện,Nhóm tuổi,Mũi\n01/10/2021,070,18-49,1\n", constants=(("people_cumulative", "5"),))
