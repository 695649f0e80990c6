"""The overview page's "Tải bản tin" / "Download briefing" buttons (PDF and PowerPoint).

The files are made on click (st.download_button with a callable) by a builder cached per store version,
as-of date, language and target; the target is the configured one, unchanged (its own group and dose:
a comparison chosen in the sidebar is not part of the briefing). Without kaleido or a Chrome/Chromium
the page shows why instead of the buttons.
"""

from __future__ import annotations

import datetime as dt
import logging

import streamlit as st

from dashboard.loaders import config, dataset
from dashboard.state import Context, md_escape
from tracker import briefing
from tracker.errors import TrackerError

LOG = logging.getLogger("tracker.dashboard")


@st.cache_data(max_entries=8, show_spinner=False)
def _build(folder: str, version: str, as_of: dt.date, lang: str, target_id: str) -> dict:
    target = config().target(target_id)  # as configured: never evaluated for another group or dose
    return briefing.build(dataset(folder, version), config(), as_of, briefing.FORMATS, lang, target, origin="dashboard")


def _maker(ctx: Context, fmt: str):
    key = (ctx.folder, ctx.version, ctx.as_of, ctx.lang, ctx.target.id)

    def make() -> bytes:
        return _build(*key)[fmt]

    return make


def briefing_buttons(ctx: Context) -> None:
    """Two download buttons (PDF, PPTX) for ctx.as_of in ctx.lang, or the reason they cannot work here."""
    st.subheader(ctx.t("brief.download"))
    try:
        briefing.check()
        briefing.find_fonts()
    except TrackerError as exc:
        st.info(ctx.t("brief.unavailable", message=md_escape(exc)))  # it may quote a path: text, not Markdown
        return
    left, right = st.columns(2)
    for column, fmt, label in ((left, "pdf", "brief.download_pdf"), (right, "pptx", "brief.download_pptx")):
        column.download_button(
            ctx.t(label),
            data=_maker(ctx, fmt),
            file_name=briefing.file_name(ctx.cfg, ctx.as_of, ctx.lang, fmt),
            mime=briefing.MIME[fmt],
            key=f"briefing-{fmt}",
            icon=":material/download:",
        )
