"""Cập nhật dữ liệu / Upload: analysts upload a district drop, see what will be stored, commit or undo.

The same ingest path as `tracker ingest`: store.prepare validates without writing, store.commit
stores the drop in one transaction. Nothing is written while a file has errors.
"""

from __future__ import annotations

import dataclasses

import pandas as pd
import streamlit as st

from dashboard.access import login_form, logout_button
from dashboard.downloads import drops_export, table_downloads
from dashboard.state import Context, choice, config, guarded, header
from tracker import store
from tracker.errors import MeasureNeeded, TrackerError, ValidationError
from tracker.ingest import KINDS, ReadOptions

ENCODINGS = ("auto", "utf-8", "utf-8-sig", "utf-16", "cp1258")
DELIMITERS = {"auto": None, ",": ",", ";": ";", "tab": "\t"}
MAX_SHOWN = 50


@st.cache_data(max_entries=4, show_spinner=False)
def _prepare(folder: str, version: str, data: bytes, kind: str, options: tuple, filename: str):
    """Validate once per file, options and store version (not again when the commit button reruns the page)."""
    return store.prepare(folder, data, kind, config(), options=ReadOptions(*options), filename=filename)


def options_form(ctx: Context, filename: str) -> ReadOptions:
    with st.expander(ctx.t("upload.options"), expanded=bool(st.session_state.get("measure_needed"))):
        auto = ctx.t("upload.auto")
        left, middle, right = st.columns(3)
        encoding = left.selectbox(ctx.t("upload.encoding"), ENCODINGS, format_func=lambda e: auto if e == "auto" else e)
        delimiter = middle.selectbox(
            ctx.t("upload.delimiter"), list(DELIMITERS), format_func=lambda d: auto if d == "auto" else d
        )
        sheet = right.text_input(ctx.t("upload.sheet"), disabled=not filename.lower().endswith(".xlsx"))
        measure = choice(
            st.radio, "upload_measure", ctx.t("upload.measure"), ("auto", "cumulative", "daily"), "auto", ctx.lang,
            format_func=lambda m: auto if m == "auto" else ctx.t(f"upload.measure_{m}"), horizontal=True,
        )  # fmt: skip
    return ReadOptions(
        encoding=None if encoding == "auto" else encoding,
        delimiter=DELIMITERS[delimiter],
        sheet=int(sheet) if sheet.strip().isdigit() else (sheet.strip() or None),
        measure=None if measure == "auto" else measure,
    )


def how_read(ctx: Context, detected: dict) -> str:
    """'CSV, cp1258, delimited by ;, one column per dose, cumulative' in the page's language."""
    parts = [str(detected.get("format", "")).upper()]
    if detected.get("sheet"):
        parts.append(ctx.t("upload.read_sheet", sheet=detected["sheet"]))
    if detected.get("encoding"):
        parts.append(str(detected["encoding"]))
    delimiter = detected.get("delimiter")
    if delimiter:
        parts.append(ctx.t("upload.read_delimiter", delimiter="tab" if delimiter == "\t" else delimiter))
    if detected.get("layout"):
        parts.append(ctx.t(f"upload.layout_{detected['layout']}"))
    if detected.get("measure"):
        parts.append(ctx.t(f"upload.measure_{detected['measure']}"))
    return ", ".join(p for p in parts if p)


def preview(ctx: Context, frame: pd.DataFrame) -> pd.DataFrame:
    """What will be stored, with dates and district names as the page's language writes them."""
    shown = frame.copy()
    if "date" in shown:
        shown["date"] = shown["date"].map(ctx.date)
    if "unit_code" in shown and "unit_name" not in shown:
        names = shown["unit_code"].astype(str).map(ctx.names)
        shown.insert(shown.columns.get_loc("unit_code") + 1, "unit_name", names)
    return shown


def problems_table(ctx: Context, problems) -> pd.DataFrame:
    return pd.DataFrame(
        {
            ctx.t("upload.row"): [p.row for p in problems],
            ctx.t("upload.column"): [p.column or "" for p in problems],
            ctx.t("upload.message"): [p.message for p in problems],
        }
    )


def upload(ctx: Context, analyst: str) -> None:
    kind = choice(
        st.selectbox, "upload_kind", ctx.t("upload.kind"), tuple(KINDS), "vaccinations", ctx.lang,
        format_func=lambda k: ctx.t(f"upload.kind_{k}"),
    )  # fmt: skip
    uploaded = st.file_uploader(ctx.t("upload.file"), type=["csv", "txt", "tsv", "xlsx"], key="upload_file")
    if uploaded is None:
        return
    data = uploaded.getvalue()
    size_mb = len(data) / 2**20
    if size_mb > ctx.cfg.upload_max_mb:
        st.error(ctx.t("upload.too_big", size=ctx.number(size_mb, decimals=1), limit=ctx.cfg.upload_max_mb))
        return
    options = options_form(ctx, uploaded.name)
    try:
        prepared = _prepare(ctx.folder, ctx.version, data, kind, dataclasses.astuple(options), uploaded.name)
    except MeasureNeeded as exc:
        st.session_state["measure_needed"] = True
        st.warning(ctx.t("upload.measure_needed", columns=", ".join(exc.columns)))
        return
    except ValidationError as exc:
        errors = [p for p in exc.problems if p.severity == "error"]
        st.error(ctx.t("upload.rejected", count=len(errors)))
        st.subheader(ctx.t("upload.problems"))
        st.dataframe(problems_table(ctx, exc.problems[:MAX_SHOWN]), hide_index=True, width="stretch")
        return
    st.session_state.pop("measure_needed", None)

    st.success(
        ctx.t(
            "upload.summary",
            rows=ctx.number(len(prepared.frame)),
            warnings=len(prepared.warnings),
            detected=how_read(ctx, prepared.detected or {}),
        )
    )
    mapping = (prepared.detected or {}).get("columns") or {}
    if mapping:
        st.caption(ctx.t("upload.columns", mapping="; ".join(f"{src} → {dst}" for src, dst in mapping.items())))
    if prepared.warnings:
        st.subheader(ctx.t("upload.warnings"))
        st.dataframe(problems_table(ctx, prepared.warnings[:MAX_SHOWN]), hide_index=True, width="stretch")
    st.subheader(ctx.t("upload.preview"))
    st.dataframe(preview(ctx, prepared.frame.head(MAX_SHOWN)), hide_index=True, width="stretch")
    if st.button(ctx.t("upload.commit"), type="primary", key="commit"):
        drop_id = store.commit(ctx.folder, prepared, analyst, data)
        st.session_state["last_message"] = ctx.t("upload.committed", drop=drop_id, rows=ctx.number(len(prepared.frame)))
        st.rerun()


def drops(ctx: Context, analyst: str) -> None:
    st.subheader(ctx.t("upload.drops"))
    listing = store.drops(ctx.folder).sort_values("id", ascending=False)
    shown = drops_export(ctx, listing)  # translated headers and status words, on screen and in the files
    st.dataframe(shown, hide_index=True, width="stretch")
    table_downloads(ctx, shown, "drops")
    active = listing.loc[listing["status"] == "active", "id"].tolist()
    if not active:
        return
    with st.form("undo"):
        chosen = st.selectbox(ctx.t("upload.undo"), sorted(active, reverse=True), key="undo_drop")
        if st.form_submit_button(ctx.t("upload.undo_button"), key="undo_submit"):
            store.undo(ctx.folder, int(chosen), analyst)
            st.session_state["last_message"] = ctx.t("upload.undone", drop=chosen)
            st.rerun()


def render(ctx: Context) -> None:
    header(ctx, "upload.title")
    analyst = login_form(ctx.folder, ctx.lang)
    if analyst is None:
        return
    logout_button(ctx.lang)
    message = st.session_state.pop("last_message", None)
    if message:
        st.success(message)
    try:
        upload(ctx, analyst)
        drops(ctx, analyst)
    except TrackerError as exc:  # e.g. the store is busy: a message, never a traceback
        st.error(ctx.t("app.error", message=str(exc)))


guarded(render, needs_data=False)
