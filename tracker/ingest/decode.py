"""Stage 1, the bytes: what kind of file it is (delimited text, an .xlsx workbook, or not a table) and, for
text, its encoding and delimiter."""

from __future__ import annotations

import codecs
import re
import unicodedata

from tracker.errors import InputError, Problem, ValidationError
from tracker.ingest.options import HEADER_SEARCH_ROWS

BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


SIGNATURES = (  # file signature -> message id under [not_table]
    (b"%PDF", "pdf"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "xls"),
    (b"\x89PNG", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"GIF8", "gif"),
    (b"\x1f\x8b", "gzip"),
    (b"Rar!", "rar"),
    (b"7z\xbc\xaf", "seven_zip"),
    (b"{\\rtf", "rtf"),
)


_ZIP = b"PK\x03\x04"
_TONE_MARKS = "\u0300\u0301\u0303\u0309\u0323"  # the five marks cp1258 encodes as separate bytes
_VOWELS = "aăâeêioôơuưyAĂÂEÊIOÔƠUƯY"
_VIET_LETTERS = re.compile("[ăĂơƠưƯđĐ]")
_TONE_AFTER_VOWEL = re.compile(f"[{_VOWELS}][{_TONE_MARKS}]")
_TONE_ANYWHERE = re.compile(f"[{_TONE_MARKS}]")
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def not_a_table(source: str, what: str, **params) -> ValidationError:
    """The file is not a table: ``what`` is a message id under [not_table] of tracker/messages.toml."""
    return ValidationError(source, [Problem.of(None, None, f"not_table.{what}", **params)])


def sniff_format(head: bytes, filename: str) -> str:
    """The format: "xlsx" or "text"; raises ValidationError("not a table …") for other binary content."""
    if head.startswith(_ZIP):
        return "xlsx"
    for signature, what in SIGNATURES:
        if head.startswith(signature):
            raise not_a_table(filename, what)
    if filename.lower().endswith((".xlsx", ".xlsm")):
        raise not_a_table(filename, "fake_xlsx")
    return "text"


def looks_vietnamese(text: str) -> bool:
    """Vietnamese letters in text decoded as cp1258 (before NFC): ă ơ ư đ or a tone mark after a vowel,
    and no tone mark after anything else (a byte that is a tone mark in cp1258 but ì, Ò, Þ … elsewhere)."""
    after_vowel = len(_TONE_AFTER_VOWEL.findall(text))
    if len(_TONE_ANYWHERE.findall(text)) != after_vowel:
        return False
    return after_vowel > 0 or _VIET_LETTERS.search(text) is not None


def utf16_without_bom(data: bytes) -> str | None:
    sample = data[:4096]
    if len(sample) < 4 or b"\x00" not in sample:
        return None
    odd, even = sample[1::2], sample[0::2]
    if odd.count(0) > 0.9 * len(odd) and even.count(0) < 0.1 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.9 * len(even) and odd.count(0) < 0.1 * len(odd):
        return "utf-16-be"
    return None


def detect_encoding(data: bytes) -> tuple[str, str]:
    """(codec, how it was found) for the bytes of a text file; see the module docstring for the rules."""
    for bom, codec in BOMS:
        if data.startswith(bom):
            return codec, "byte order mark"
    utf16 = utf16_without_bom(data)
    if utf16:
        return utf16, "NUL bytes between characters"
    try:
        data.decode("utf-8")
        return "utf-8", "valid UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        if looks_vietnamese(data.decode("cp1258")):
            return "cp1258", "decodes as Vietnamese in Windows-1258"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes  # imported here: only messy files need it

    best = from_bytes(data).best()
    if best is None:
        raise InputError(code="not_table.encoding")
    return best.encoding, "charset-normalizer's guess"


def decode(data: bytes, source: str, encoding: str | None) -> tuple[str, dict, bool]:
    """The file's text, NFC-normalised, what was detected about its encoding, and whether the text is
    exactly the UTF-8 bytes given (after a byte order mark): no re-encoding needed."""
    if encoding:
        codec, how = encoding, "given"
        try:
            codecs.lookup(codec)
        except LookupError:
            raise InputError(code="option.unknown_encoding", encoding=encoding) from None
    else:
        try:
            codec, how = detect_encoding(data)
        except InputError:
            raise not_a_table(source, "encoding") from None
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        byte = repr(data[exc.start : exc.start + 1])
        raise ValidationError(source, [Problem.of(line, None, "file.bad_byte", byte=byte, encoding=codec)]) from None
    if text.startswith("\ufeff"):  # a mark left by an encoding given without "-sig"
        text = text[1:]
    same = codecs.lookup(codec).name in ("utf-8", "utf-8-sig")
    if not unicodedata.is_normalized("NFC", text):
        text, same = unicodedata.normalize("NFC", text), False
    return text, {"encoding": codec, "encoding_rule": how}, same


def sniff_delimiter(text: str) -> str:
    """Tab, semicolon or comma: whichever occurs most outside double quotes in the header line (the
    first non-blank line that has any of them, among the first 30); ties go to tab, then semicolon."""
    for line in [ln for ln in text[:65536].splitlines() if ln.strip()][:HEADER_SEARCH_ROWS]:
        counts = dict.fromkeys("\t;,", 0)
        quoted = False
        for ch in line:
            if ch == '"':
                quoted = not quoted
            elif not quoted and ch in counts:
                counts[ch] += 1
        best = max(counts.values())
        if best:
            return next(d for d in "\t;," if counts[d] == best)
    return ","
