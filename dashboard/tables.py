"""A Table (tracker.tables) on a page: st.dataframe with the spec's headers, formats and pinned columns,
and under it the same table as CSV and Excel downloads (tracker.tables.render).

On screen a number stays a number (sorting a column sorts by value) and is *displayed* as the language
writes it (a Styler's display values); a percentage drawn as a bar is in whole percent, which needs no
decimal mark. A flag column marked as the table's highlight colours its true rows.

What is downloaded is the table's rows as shown (same rows, same order) with the headers in the user's
language, but with real values rather than the on-screen text: numbers stay numbers (coverage in percent
points, e.g. 52.31, with "(%)" in the header), dates stay dates, words are translated. The workbook has
an "about" sheet: what the table is, its date, place, target and source.
"""

from __future__ import annotations

from functools import partial

import pandas as pd
import streamlit as st

from dashboard.state import Context, show_table
from tracker import about, exports
from tracker.tables import Table, render

HIGHLIGHT = "background-color: #fde2e1"
NUMERIC = ("count", "number", "percent", "date", "datetime")  # sorted by value, displayed as text


def screen(table: Table, lang: str, cfg=None):
    """What st.dataframe is given for `table` in `lang`: a Styler (or frame) and its column_config (a
    column of a figure has its definition as the header's tooltip; `cfg` fills in configured values)."""
    raw, formats, config = {}, {}, {}
    for c in table.columns:
        values = table.values[c.id]
        label = render.header(c, lang)
        if c.kind == "percent" and c.bar:
            raw[c.id] = pd.to_numeric(values).astype(float) * 100
            config[c.id] = st.column_config.ProgressColumn(
                label,
                min_value=0,
                max_value=100,
                format="%.0f%%",
                pinned=c.pinned or None,
                help=_help(c, lang, cfg),
                width=c.width,
            )
            continue
        texts = render.text_of(c, values, lang)
        if c.kind in NUMERIC:
            raw[c.id] = values.to_numpy()
            shown = dict(zip(values.tolist(), texts, strict=True))
            formats[c.id] = partial(_shown, shown, render.empty(c, lang))
        else:
            raw[c.id] = texts
        config[c.id] = st.column_config.Column(label, pinned=c.pinned or None, help=_help(c, lang, cfg), width=c.width)
    frame = pd.DataFrame(raw, index=range(len(table.values)))
    if not formats and not table.highlight:
        return frame, config
    styled = frame.style.format(formats)
    if table.highlight:
        rows = table.values[table.highlight].fillna(False).astype(bool).to_numpy()
        css = pd.DataFrame("", index=frame.index, columns=frame.columns)
        css.loc[rows, :] = HIGHLIGHT
        styled = styled.apply(lambda _: css, axis=None)
    return styled, config


def _shown(shown: dict, empty: str, value) -> str:
    """A value's display text (the Styler's formatter): looked up, as every distinct value was written once."""
    return empty if pd.isna(value) else shown.get(value, str(value))


def _help(column, lang: str, cfg) -> str | None:
    return about.definition(column.help, lang, cfg) if column.help else None


def show(ctx: Context, table: Table, place: str | None = None, downloads: bool = True) -> None:
    """The table on the page, then (unless `downloads` is False: a preview, a tally) its downloads."""
    data, config = screen(table, ctx.lang, ctx.cfg)
    show_table(data, column_config=config)
    if downloads:
        download_buttons(ctx, table, place)


def download_buttons(ctx: Context, table: Table, place: str | None = None) -> None:
    """Two buttons side by side, CSV and Excel, named '<table>_<place>_<as-of date>.<ext>'; `place`
    defaults to the province, as most tables cover all districts."""
    place = place or ctx.cfg.province_name_vi
    frame = render.export_frame(table, ctx.lang)
    about = tuple(render.about(table, ctx.lang))
    formats = tuple(render.excel_formats(table, ctx.lang).items())
    files = {
        "csv": ("csv", lambda: exports.csv_bytes(frame)),
        "csv_vi": ("csv", lambda: exports.csv_bytes(frame, decimal=",")),
        "xlsx": ("xlsx", lambda: _xlsx_bytes(frame, table.name, about, ctx.t("about.sheet"), formats)),
    }
    with st.container(horizontal=True):
        for kind, (ext, build) in files.items():
            st.download_button(
                ctx.t(f"export.{kind}"),
                build,  # made when clicked, not on every run of the page
                file_name=exports.file_name(table.name, place, table.as_of or ctx.as_of, ext),
                mime=exports.MIME[ext],
                key=f"download_{kind}_{table.name}",
                help=ctx.t(f"export.{kind}_help"),
                on_click="ignore",
                icon=":material/download:",
            )


@st.cache_data(max_entries=32, show_spinner=False)
def _xlsx_bytes(frame: pd.DataFrame, sheet: str, about: tuple, about_sheet: str, formats: tuple) -> bytes:
    """The workbook of a table, made again only when the table changes: openpyxl takes about 0.1 s for
    the ranked districts at 700 units."""
    return exports.xlsx_bytes(frame, sheet=sheet, about=list(about), about_sheet=about_sheet, formats=dict(formats))
