"""Reading and validating input tables before anything is written to the store.

One ingest path for `tracker ingest` and the upload page: `read_table` (a file) and `read_bytes` (an
upload in memory), in `pipeline`. A file goes through these stages, one module each, in this order:

1. `source`: the input (a path or an upload's bytes), its sha256 and the line number of each record.
2. `decode`: what the bytes are (delimited text, an .xlsx workbook, or not a table), the text's
   encoding and delimiter.
3. `raw_table`: the header row found and every cell as text, with the file's line number (or the
   sheet's row number) of each row, within the configured size limits.
4. `headers` then `plan`: which column is which (synonyms in Vietnamese and English), the layout
   (long, or one column per dose) and the measure (cumulative or daily); the text laid out long under
   canonical names.
5. `frame`: the canonical frame. A canonical CSV (UTF-8, commas, canonical headers) is read on a fast
   path, pyarrow's multithreaded reader with the canonical types; anything else, or a canonical file
   whose values do not all parse, goes through stages 2-4 and every column is parsed value by value
   (`values`: dates, counts, doses, age groups and unit names as districts write them).
6. `checks`: every rule a value, a key or a series must keep; daily counts made cumulative. Then, with
   the store, `population` (coverage above 100 %, absurd counts) and `overlaps` (age groups
   overlapping those already reported).

Before all of these, `clean` tries the file the district systems export and `tracker ingest` loads at
country scale: a canonical cumulative vaccinations CSV. It is read with pyarrow, checked on its
dictionaries and on numpy views of its numbers, and handed to the store as that Arrow table, with no
DataFrame in between. Anything the stages above would refuse or word row by row sends the file to
them instead, so both ways accept and refuse the same files (tests/test_clean_path.py). The checks on
whole columns (`series`: keys, corrections, spikes; `overlaps`; `population`) take a pandas DataFrame
or a pyarrow Table alike, through `columns`.

Every problem is reported with its row (header = row 1) and column (the file's own header), all at
once, as a message id of tracker/messages.toml with its values (tracker.errors.Problem), so the upload
page shows it in Vietnamese or English and the command line in English. `options` holds ReadOptions
(each detection below can be overridden) and `kinds` what each kind of table holds. Nothing here
touches the store.

Detection rules (each overridable through `ReadOptions`):

- Format: a ZIP archive (``PK\\x03\\x04``) is an .xlsx workbook; other binary content (NUL bytes
  without a UTF-16 byte order mark, control characters, known signatures such as PDF or old .xls)
  is "not a table". Everything else is delimited text.
- Encoding: a byte order mark decides (UTF-8, UTF-16 LE/BE, UTF-32); else UTF-16 without a mark when
  every other byte is NUL; else UTF-8 when the bytes decode strictly as UTF-8; else Windows-1258 when
  the bytes decode strictly as cp1258 *and* the text then reads as Vietnamese (`looks_vietnamese`):
  at least one of ă ơ ư đ, or a tone mark right after a vowel, and no tone mark anywhere else.
  Otherwise charset-normalizer's best guess; without one, the file is rejected (give an encoding).
  cp1258 is checked before the library because the library often names another code page
  (cp1250, cp1006, even UTF-16) for short Vietnamese files. Text is then normalised to NFC, so
  cp1258's combining tone marks and NFD names come out as precomposed letters.
- Delimiter: the one of tab, semicolon and comma that occurs most often outside double quotes in
  the header line: the first non-blank line that has any of them (ties: tab, then semicolon, then comma).
- Header: the first of the first 30 non-blank rows in which at least two cells name known columns
  (title rows above it are skipped); rows are still numbered as in the file.
- Columns: a rate or a share (a header with %, "per hundred", "tỷ lệ", …) is never a count of people.
  In a file with one column per dose, a count naming no dose ("people_vaccinated" beside
  "people_fully_vaccinated") is dose 1, at least one dose; any other count of the file's measure that
  would not be stored is an error naming it (map it to a dose, or to "ignore"). A column mapping
  (ReadOptions.columns) for a header the file does not have is an error listing the headers.
- Dates: yyyy-mm-dd always; with slashes, dots or dashes day/month/year, or month/day/year when
  ReadOptions.date_order is "mdy"; a two-digit year is 20yy.
- Constants (ReadOptions.constants, `--set age_band=18+`): a key column missing from the file, with
  the same value on every row, parsed and checked like a column of the file.

Every problem is a message id of tracker/messages.toml with its values (tracker.errors.Problem), so
the upload page shows it in Vietnamese or English and the command line in English.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tracker.lazy import lazy_exports

if TYPE_CHECKING:  # for type checkers and editors: the names below, imported at once
    from tracker.ingest.checks import rebase
    from tracker.ingest.decode import detect_encoding, looks_vietnamese
    from tracker.ingest.kinds import DAILY_COLUMN, KINDS, Kind, KnownUnits, Prepared
    from tracker.ingest.options import CUMULATIVE, DAILY, DATE_ORDERS, DOSES, MEASURES, OVERLAPS, ReadOptions
    from tracker.ingest.pipeline import read_bytes, read_table
    from tracker.ingest.population import coverage_warnings, population_checks
    from tracker.ingest.source import sha256_of
    from tracker.ingest.values import AgeResolver, UnitResolver, parse_count, parse_date

# Every name a caller needs, by the module that defines it, imported when first asked for (PEP 562): the
# options and the command line's choices come without the pandas and pyarrow that reading a file needs.
_EXPORTS = {
    "checks": ("rebase",),
    "decode": ("detect_encoding", "looks_vietnamese"),
    "kinds": ("DAILY_COLUMN", "KINDS", "Kind", "KnownUnits", "Prepared"),
    "options": ("CUMULATIVE", "DAILY", "DATE_ORDERS", "DOSES", "MEASURES", "OVERLAPS", "ReadOptions"),
    "pipeline": ("read_bytes", "read_table"),
    "population": ("coverage_warnings", "population_checks"),
    "source": ("sha256_of",),
    "values": ("AgeResolver", "UnitResolver", "parse_count", "parse_date"),
}
__getattr__, __dir__ = lazy_exports(globals(), _EXPORTS)

__all__ = [
    "CUMULATIVE", "DAILY", "DAILY_COLUMN", "DATE_ORDERS", "DOSES", "KINDS", "MEASURES", "OVERLAPS", "AgeResolver",
    "Kind", "KnownUnits", "Prepared", "ReadOptions", "UnitResolver", "coverage_warnings", "detect_encoding",
    "looks_vietnamese", "parse_count", "parse_date", "population_checks", "read_bytes", "read_table",
    "rebase", "sha256_of",
]  # fmt: skip
