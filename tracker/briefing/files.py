"""The briefing as files: the formats and their MIME types, build() (the charts rendered once for every
format) and the file name."""

from __future__ import annotations

import datetime as dt

from tracker.briefing import content, pdf, pptx, renderer
from tracker.config import Config, Target
from tracker.errors import TrackerError

FORMATS = ("pdf", "pptx")
MIME = {
    "pdf": "application/pdf",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}


def render(b: content.Briefing, fmt_: str) -> bytes:
    if fmt_ == "pdf":
        return pdf.to_pdf(b)
    if fmt_ == "pptx":
        return pptx.to_pptx(b)
    raise TrackerError(f"unknown briefing format {fmt_!r}; use {' or '.join(FORMATS)}")


def build(
    ds,
    cfg: Config,
    as_of: dt.date,
    formats=FORMATS,
    lang: str = "vi",
    target: Target | None = None,
    origin: str = "cli",
) -> dict:
    """{format: bytes} for each of `formats`, the charts rendered once for all of them. `origin` ("cli" or
    "dashboard") is what the footer says the file was made by."""
    if isinstance(formats, str):
        formats = (formats,)
    if "pdf" in formats:
        renderer.find_fonts()  # fail before the (slow) chart rendering
    b = content.collect(ds, cfg, as_of, lang, target, origin=origin)
    return {f: render(b, f) for f in formats}


def file_name(cfg: Config, as_of: dt.date, lang: str, fmt_: str) -> str:
    """e.g. ban-tin-tiem-chung_tuyen-quang_2021-12-31_vi.pdf"""
    from tracker.figures.common import slug

    return f"ban-tin-tiem-chung_{slug(cfg.province_name_vi)}_{as_of.isoformat()}_{lang}.{fmt_}"
