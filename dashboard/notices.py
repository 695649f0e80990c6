"""Notices every page shows where a figure is unavailable: which district, why, and the drop behind it.

A district's figure is unavailable when its age-group reports overlap (a group as one figure beside
its bands) or a group reported as a whole does not split into the group asked (tracker.core). The
page then says so instead of showing an empty cell, and links to the drop on the Upload page.

The district's name, the age labels, the file name and the uploader come from the data: they are escaped
(md_escape) so they show as text, never as Markdown; the link to the drop is ours.
"""

from __future__ import annotations

from urllib.parse import urlencode

import pandas as pd
import streamlit as st

from dashboard.controls import VIEW_PARAMS
from dashboard.loaders import unavailable
from dashboard.state import Context, md_escape
from tracker import i18n, views


def unavailable_notice(ctx: Context, pairs) -> None:
    """One warning listing each district whose figure for a (group, dose) pair is unavailable on ctx.as_of."""
    missing = unavailable(ctx.folder, ctx.version, ctx.as_of, tuple((g, int(d)) for g, d in pairs))
    if missing.empty:
        return
    texts = views.unavailable_texts(
        _escaped_labels(missing, ctx), ctx.cfg, ctx.lang, unit=lambda n: f"**{md_escape(n)}**"
    )
    lines = []
    for text, r in zip(texts, missing.itertuples(index=False), strict=True):
        if pd.notna(r.drop_id):
            text += " " + ctx.t(
                "unavailable.drop", drop=int(r.drop_id), source=md_escape(r.source), uploader=md_escape(r.uploader),
                date=ctx.date(r.ingested_at), link=drop_link(int(r.drop_id)),
            )  # fmt: skip
        lines.append(f"- {text}")
    st.warning(f"**{ctx.t('unavailable.heading')}**\n" + "\n".join(lines) + f"\n\n{ctx.t('unavailable.fix')}")


def _escaped_labels(missing: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    """`missing` with each age label as the Markdown of its display text: a configured group by its label,
    any other label (a band, as the file gave it) escaped. views.unavailable_texts shows a label that is
    not a group id as it is."""

    def shown(label: str) -> str:
        return i18n.label(ctx.cfg.groups[label], ctx.lang) if label in ctx.cfg.groups else md_escape(label)

    return missing.assign(labels=[[shown(label) for label in labels] for labels in missing["labels"]])


def drop_link(drop_id: int) -> str:
    """The upload page with that drop chosen, in the view the reader has (language, date, ...): a new session
    opened from it would otherwise start from the defaults."""
    view = {key: value for key, value in st.query_params.to_dict().items() if key in VIEW_PARAMS}
    return "upload?" + urlencode({"drop": drop_id, **view})
