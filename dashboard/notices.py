"""Notices every page shows where a figure is unavailable: which district, why, and the drop behind it.

A district's figure is unavailable when its age-group reports overlap (a group as one figure beside
its bands) or a group reported as a whole does not split into the group asked (tracker.core). The
page then says so instead of showing an empty cell, and links to the drop on the Upload page.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.state import Context, unavailable
from tracker import views


def unavailable_notice(ctx: Context, pairs) -> None:
    """One warning listing each district whose figure for a (group, dose) pair is unavailable on ctx.as_of."""
    missing = unavailable(ctx.folder, ctx.version, ctx.as_of, tuple((g, int(d)) for g, d in pairs))
    if missing.empty:
        return
    texts = views.unavailable_texts(missing, ctx.cfg, ctx.lang, unit=lambda name: f"**{name}**")
    lines = []
    for text, r in zip(texts, missing.itertuples(index=False), strict=True):
        if pd.notna(r.drop_id):
            text += " " + ctx.t(
                "unavailable.drop", drop=int(r.drop_id), source=r.source, uploader=r.uploader,
                date=ctx.date(r.ingested_at), link=f"upload?drop={int(r.drop_id)}",
            )  # fmt: skip
        lines.append(f"- {text}")
    st.warning(f"**{ctx.t('unavailable.heading')}**\n" + "\n".join(lines) + f"\n\n{ctx.t('unavailable.fix')}")
