"""What every page shares: its context (the store, the language and the sidebar's choices, and how a chart is
shown: Context.plot), its frame (the header, the guard that turns a problem into a message), how a table is
shown, and Markdown escaping.

The store and its computations are in dashboard.loaders, the sidebar's controls in dashboard.controls, the
charts' text alternatives and the coverage chart in dashboard.charts.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import string
from dataclasses import dataclass, field
from functools import partial

import pandas as pd
import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from tracker import fmt, i18n, store
from tracker.config import Config, Target
from tracker.errors import TrackerError
from tracker.figures.common import download_config

LOG = logging.getLogger("tracker.dashboard")

# Markdown: every ASCII punctuation character, backslash-escaped, stands for itself (CommonMark), so no image,
# link, emphasis, code, heading, list, table, LaTeX ($) or Streamlit directive (:red[…]) can start; < > &
# become entities, so no HTML tag or entity either. A line break would start a new block: a space instead.
# "_" and "." between two letters or digits mean nothing there (no emphasis, no list), and stay readable.
_MARKDOWN = {c: "\\" + c for c in string.punctuation} | {"<": "&lt;", ">": "&gt;", "&": "&amp;"}
_MARKDOWN |= dict.fromkeys("\r\n\v\f\x85\u2028\u2029", " ")
_INWORD = "_."
# Streamlit also makes links of text after escapes are resolved (GFM autolinks: http://…, www.…, a@b.c) and
# draws its logo for :streamlit:. An invisible word joiner breaks those words.
_LINKS = re.compile(r"(?i)(?<=http)(?=s?:)|(?<=www)(?=\.)|(?=@)|(?<=:)(?=streamlit:)")
WORD_JOINER = "\u2060"


def md_escape(text) -> str:
    """`text` as Markdown that shows exactly that text, on one line: for every string that comes from the
    data rather than from tracker/i18n.toml (unit names and codes, file names, uploaders, age labels,
    boundary features, error messages quoting them) before it goes into st.markdown, an alert, a caption,
    a heading, or a metric's or widget's label or help. Not for tables and select-box options (plain text)."""
    if text is None:
        return ""
    text = _LINKS.sub(WORD_JOINER, str(text))
    last = len(text) - 1
    return "".join(
        c if c in _INWORD and 0 < i < last and text[i - 1].isalnum() and text[i + 1].isalnum() else _MARKDOWN.get(c, c)
        for i, c in enumerate(text)
    )


@dataclass
class Context:
    """The page's inputs: the store, the language and the sidebar's choices."""

    folder: str
    version: str
    ds: store.Dataset
    cfg: Config
    lang: str
    as_of: dt.date
    target: Target  # the selected target as configured: judged on its own group and dose, always
    units: tuple[str, ...]
    compare: tuple[str, int] | None = None  # an optional (group, dose) shown beside it, labelled, never judged
    image_format: str = "png"
    names: dict[str, str] = field(default_factory=dict)

    def t(self, key: str, **values) -> str:
        return i18n.t(key, self.lang, **values)

    def group_dose(self, group: str, dose: int) -> str:
        return pair_label(self.cfg, group, dose, self.lang)

    def judged_on(self) -> str:
        """What the target is judged on: its own group and dose."""
        return self.group_dose(self.target.group, self.target.dose)

    def compare_label(self) -> str | None:
        return self.group_dose(*self.compare) if self.compare else None

    @property
    def number(self):
        return partial(fmt.number, lang=self.lang)

    @property
    def percent(self):
        return partial(fmt.percent, lang=self.lang)

    def date(self, value) -> str:
        return fmt.date(value, self.lang)

    def place(self) -> str:
        """Where the charts are about: the chosen districts, or the province."""
        if not self.units:
            return self.cfg.whole_named(self.lang)
        return ", ".join(self.names[u] for u in self.units)

    def plot(
        self,
        fig,
        metric: str,
        place: str | None = None,
        data: pd.DataFrame | None = None,
        alt: str | None = None,
        note: str | None = None,
    ) -> None:
        """Render a figure with the toolbar download set up for briefings, and its text alternative.

        `alt`, a sentence or two saying what the chart shows, is its accessible name (what a screen reader
        says for it); under the chart, "view as table" holds `alt` again, `note` (how the table is cut, if it
        is) and `data`: the chart's figures as text under translated headers (built by dashboard.charts)."""
        config = download_config(metric, place or self.place(), self.as_of, self.lang)  # toolbar in the language
        config["toImageButtonOptions"]["format"] = self.image_format
        st.plotly_chart(fig, config=config, width="stretch", alt=alt)
        if data is None and not alt:
            return
        with st.expander(self.t("chart.as_table")):
            if alt:
                st.caption(md_escape(alt))  # it names places from the data: text, not Markdown
            if note:
                st.caption(note)
            if data is not None:
                st.table(data, hide_index=True)  # an HTML table: read cell by cell, unlike a data grid


def pair_label(cfg: Config, group: str, dose: int, lang: str) -> str:
    """'Toàn dân — ≥ 1 mũi': a group and a dose, as the caption, the options and the comparison labels say it."""
    return i18n.t("compare.option", lang, group=i18n.label(cfg.group(group), lang), dose=i18n.dose(dose, lang))


def show_table(data, **kwargs) -> None:
    """st.dataframe as every page shows a table: full width, no index, and "—" for a missing value
    (Streamlit's own placeholder is the word "None")."""
    st.dataframe(data, hide_index=True, width="stretch", placeholder=fmt.EMPTY, **kwargs)


def header(ctx: Context, page_key: str) -> None:
    """Page title, the plan, the sample-data label and the as-of line: the same on every page."""
    st.title(ctx.t(page_key))
    st.caption(" · ".join(p for p in (ctx.t("app.title", place=ctx.cfg.place(ctx.lang)), ctx.cfg.plan(ctx.lang)) if p))
    if ctx.ds.sample:
        st.warning(ctx.t("app.sample"), icon="⚠️")


def _through_app() -> None:
    """Run again through app.py: this page script was started on its own, without the entry point.

    Streamlit still has its legacy multipage mode: while no script has called ``st.navigation`` since
    the server started, a folder named ``pages/`` beside the entry point is taken as the page list,
    and a link such as /trends runs ``pages/trends.py`` bare (no sidebar, and no ``ctx`` or one
    left from an earlier run). Only the first run after a start meets this (and every AppTest run,
    which resets the mode); switching the mode off and rerunning makes app.py run, and its
    ``st.navigation`` opens the same page (a page is known by its URL path in both modes).
    """
    PagesManager.uses_pages_directory = False
    st.rerun()


def guarded(render, needs_data: bool = True) -> None:
    """Run a page body; a problem with the data shows as a message, never a traceback."""
    if PagesManager.uses_pages_directory:  # started without app.py
        _through_app()
    ctx = st.session_state.get("ctx")
    if ctx is None:
        return
    if needs_data and ctx.ds.latest_date is None:
        st.info(ctx.t("app.no_data"))
        return
    try:
        render(ctx)
    except TrackerError as exc:
        st.error(ctx.t("app.error", message=md_escape(exc)))  # it may quote the data: text, not Markdown
    except Exception:  # a bug: details to the server log, a message to the user (st.stop/st.rerun are BaseExceptions)
        LOG.exception("page failed")
        st.error(ctx.t("app.unexpected"))
