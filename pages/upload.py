"""Cập nhật dữ liệu / Upload: analysts upload a district drop, see what will be stored, commit or undo.

The same ingest path as `tracker ingest`: store.prepare validates without writing, store.commit
stores the drop in one transaction. Nothing is written while a file has errors, or while it
overlaps age groups already reported and the analyst has not chosen to skip those rows, or while it
is a file already stored (the same SHA-256 as a drop in the log) and the analyst has not confirmed
storing it again. A file stored in this session is not offered for storing again; an undo names the
drop and what will change, and runs only once confirmed. Every message is in the page's language
(tracker/messages.toml, tracker/i18n.toml).
"""

from __future__ import annotations

import dataclasses

import pandas as pd
import streamlit as st

from dashboard import tables
from dashboard.access import ensure_active, login_form, logout_button
from dashboard.controls import choice, uploader_words
from dashboard.loaders import config
from dashboard.state import Context, guarded, header, md_escape
from tracker import fmt, mappings, store
from tracker.errors import MeasureNeeded, TrackerError, ValidationError
from tracker.ingest import KINDS, ReadOptions
from tracker.tables import drops as drop_tables
from tracker.tables import upload as upload_tables

ENCODINGS = ("auto", "utf-8", "utf-8-sig", "utf-16", "cp1258")
DELIMITERS = {"auto": None, ",": ",", ";": ";", "tab": "\t"}
MAX_SHOWN = 50
STORED_KEY = "upload_stored"  # {uploaded file id: drop id}: the files this session stored (not offered again)
UNDO_KEY = "undo_pending"  # the drop the analyst asked to undo, shown for confirmation
NO_MAPPING = ""


@st.cache_data(max_entries=4, show_spinner=False)
def _prepare(folder: str, version: str, data: bytes, kind: str, options: tuple, filename: str):
    """Validate once per file, options and store version (not again when the commit button reruns the page)."""
    return store.prepare(folder, data, kind, config(), options=ReadOptions(*options), filename=filename)


def options_form(ctx: Context, filename: str, kind: str, overlap: str | None) -> tuple[ReadOptions, str]:
    """The reading options (a saved mapping, with what the form sets on top, and the analyst's choice
    for rows overlapping reported age groups) and the name to save them as."""
    saved = mappings.names(ctx.folder, kind)
    chosen = choice(
        st.selectbox, "upload_mapping", ctx.t("upload.mapping"), [NO_MAPPING, *saved], NO_MAPPING, ctx.lang,
        format_func=lambda n: n or ctx.t("upload.mapping_none"), help=ctx.t("upload.mapping_help"),
    )  # fmt: skip
    base = mappings.load(ctx.folder, chosen, kind) if chosen else None
    with st.expander(ctx.t("upload.options"), expanded=bool(st.session_state.get("measure_needed"))):
        auto = ctx.t("upload.auto")
        left, middle, right = st.columns(3)
        encoding = left.selectbox(ctx.t("upload.encoding"), ENCODINGS, format_func=lambda e: auto if e == "auto" else e)
        delimiter = middle.selectbox(
            ctx.t("upload.delimiter"),
            list(DELIMITERS),
            format_func=lambda d: auto if d == "auto" else delimiter_name(ctx, DELIMITERS[d]),
        )
        sheet = right.text_input(ctx.t("upload.sheet"), disabled=not filename.lower().endswith(".xlsx"))
        left, right = st.columns(2)
        with left:
            measure = choice(
                st.radio, "upload_measure", ctx.t("upload.measure"), ("auto", "cumulative", "daily"), "auto",
                ctx.lang, format_func=lambda m: auto if m == "auto" else ctx.t(f"upload.measure_{m}"), horizontal=True,
            )  # fmt: skip
        with right:
            order = choice(
                st.radio, "upload_date_order", ctx.t("upload.date_order"), ("auto", "dmy", "mdy"), "auto", ctx.lang,
                format_func=lambda o: auto if o == "auto" else ctx.t(f"upload.date_order_{o}"), horizontal=True,
            )  # fmt: skip
        constants = []
        if kind in ("vaccinations", "cases", "population"):
            left, right = st.columns(2)
            if kind != "cases":
                age = left.text_input(ctx.t("upload.set_age"), key="upload_set_age", help=ctx.t("upload.set_age_help"))
                if age.strip():
                    constants.append(("age_band", age.strip()))
            if kind != "population":
                day = right.date_input(ctx.t("upload.set_date"), value=None, format="DD/MM/YYYY", key="upload_set_date")
                if day is not None:
                    constants.append(("date", day.isoformat()))
        save_as = st.text_input(
            ctx.t("upload.save_mapping"), key="upload_save_as", help=ctx.t("upload.save_mapping_help")
        )
    given = ReadOptions(
        encoding=None if encoding == "auto" else encoding,
        delimiter=DELIMITERS[delimiter],
        sheet=int(sheet) if sheet.strip().isdigit() else (sheet.strip() or None),
        measure=None if measure == "auto" else measure,
        constants=tuple(constants),
        date_order=None if order == "auto" else order,
        overlap=overlap,
    )
    return mappings.merge(base, given), save_as.strip()


def delimiter_name(ctx: Context, delimiter: str) -> str:
    """A delimiter as words ("comma (,)", "tab"): a bare "," in a list separated by commas reads as ",,"."""
    names = {
        ",": ctx.t("upload_safety.delimiter_comma"),
        ";": ctx.t("upload_safety.delimiter_semicolon"),
        "\t": ctx.t("upload_safety.delimiter_tab"),
        "|": ctx.t("upload_safety.delimiter_pipe"),
    }
    return names.get(delimiter) or ctx.t("upload_safety.delimiter_other", delimiter=delimiter)


def how_read(ctx: Context, detected: dict) -> str:
    """'CSV, cp1258, delimited by semicolon (;), one column per dose, cumulative' in the page's language."""
    parts = [str(detected.get("format", "")).upper()]
    if detected.get("sheet"):
        parts.append(ctx.t("upload.read_sheet", sheet=detected["sheet"]))
    if detected.get("encoding"):
        parts.append(str(detected["encoding"]))
    delimiter = detected.get("delimiter")
    if delimiter:
        parts.append(ctx.t("upload.read_delimiter", delimiter=delimiter_name(ctx, delimiter)))
    if detected.get("layout"):
        parts.append(ctx.t(f"upload.layout_{detected['layout']}"))
    if detected.get("measure"):
        parts.append(ctx.t(f"upload.measure_{detected['measure']}"))
    return ", ".join(p for p in parts if p)


def rejected(ctx: Context, exc: ValidationError) -> None:
    """Why a file was refused: how many rows, the rows per problem, then the first problems themselves."""
    errors = [p for p in exc.problems if p.severity == "error"]
    if all(p.row is None for p in errors):  # the file as a whole (not a table, too big, …): say so
        st.error(ctx.t("upload.refused", message=md_escape("; ".join(p.text(ctx.lang) for p in errors))))
        return
    st.error(ctx.t("upload.rejected", rows=exc.error_rows))
    many = [t for t in exc.tallies if t.rows > 1]
    if many:
        st.subheader(ctx.t("upload.tallies"))
        tables.show(ctx, upload_tables.tallies(many), downloads=False)
    st.subheader(ctx.t("upload.problems"))
    tables.show(ctx, upload_tables.problems(errors[:MAX_SHOWN]))  # downloadable: the list to fix the file by
    total = sum(t.rows for t in exc.tallies)
    if total > MAX_SHOWN:
        st.caption(ctx.t("upload.shown_of", shown=ctx.number(MAX_SHOWN), total=ctx.number(total)))


def _overlap_key(ctx: Context, uploaded) -> str:
    """The overlap choice belongs to one uploaded file (a new file asks again)."""
    return f"upload_overlap_{uploaded.file_id}_{ctx.lang}"


def overlap_choice(ctx: Context, prepared, key: str) -> bool:
    """When the file overlaps reported age groups: explain, offer skip or refuse (nothing chosen at first:
    the file cannot be stored until the analyst chooses to skip); whether it may be stored now."""
    if not prepared.overlapping and not prepared.skipped:
        return True
    rows = prepared.overlapping or prepared.skipped
    found = [f"- {md_escape(w.describe(ctx.lang))}" for w in prepared.warnings if w.kind == "overlap"]
    explain = ctx.t("upload.overlap_explain", rows=rows)
    st.warning(f"**{ctx.t('upload.overlap_title')}** — {explain}\n" + "\n".join(found))
    picked = st.radio(
        ctx.t("upload.overlap_choice"),
        ("skip", "refuse"),
        index=None,
        key=key,
        format_func=lambda o: ctx.t(f"upload.overlap_{o}", rows=rows),
    )  # fmt: skip  (a choice reruns the page, which reads the file again with it: see upload())
    if picked == "refuse":
        st.error(ctx.t("upload.overlap_refused"))
    if prepared.skipped:
        st.info(ctx.t("upload.skipped", rows=prepared.skipped))
    return picked == "skip" and not prepared.overlapping


def drop_text(ctx: Context, r) -> str:
    """A drop of the log as Markdown: 'Drop 7 (lam_binh.csv, 240 rows, stored by lan on 1 Dec 2021 14:05)',
    the time in Vietnam time."""
    return ctx.t(
        "upload_safety.drop", drop=int(r["id"]), source=md_escape(r["source"]), rows=int(r["rows"]),
        uploader=md_escape(r["uploader"]), time=fmt.datetime(r["ingested_at"], ctx.lang),
    )  # fmt: skip


def same_file(ctx: Context, prepared, listing: pd.DataFrame, key: str) -> bool:
    """A file already stored (the SHA-256 the store records for it, prepared.sha256, is that of a drop in the
    log, active or undone): name those drops, say what storing it again does, and ask. Whether it may be
    stored: it is new, or the analyst ticked "store it again anyway"."""
    same = listing[listing["sha256"] == prepared.sha256].sort_values("id", ascending=False)
    if same.empty:
        return True
    lines = []
    for _, r in same.iterrows():
        if r["status"] == "active":
            lines.append(ctx.t("upload_safety.same_active", drop=drop_text(ctx, r)))
            continue
        undone_at = fmt.datetime(r["undone_at"], ctx.lang)
        undone_by = md_escape(r["undone_by"])
        lines.append(
            ctx.t("upload_safety.same_undone", drop=drop_text(ctx, r), undone_at=undone_at, undone_by=undone_by)
        )
    then = "upload_safety.same_active_then" if (same["status"] == "active").any() else "upload_safety.same_undone_then"
    st.warning(
        f"**{ctx.t('upload_safety.same_title')}**\n" + "\n".join(f"- {line}" for line in lines) + f"\n\n{ctx.t(then)}"
    )
    return st.checkbox(ctx.t("upload_safety.store_again"), key=key)


def stored_already(ctx: Context, uploaded, listing: pd.DataFrame) -> bool:
    """The uploaded file was stored in this session: show its drop instead of a Store button (a rerun, or a
    second click, must not store it twice); uploading a file again starts over."""
    drop_id = st.session_state.get(STORED_KEY, {}).get(uploaded.file_id)
    found = listing[listing["id"] == drop_id] if drop_id is not None else listing.iloc[:0]
    if found.empty:  # not stored here (or the store was replaced since)
        return False
    r = found.iloc[0]
    key = "upload_safety.stored" if r["status"] == "active" else "upload_safety.stored_undone"
    st.info(ctx.t(key, drop=drop_text(ctx, r)))
    return True


def upload(ctx: Context, analyst: str) -> None:
    kind = choice(
        st.selectbox, "upload_kind", ctx.t("upload.kind"), tuple(KINDS), "vaccinations", ctx.lang,
        format_func=lambda k: ctx.t(f"upload.kind_{k}"),
    )  # fmt: skip
    types = ["csv", "txt", "tsv", "xlsx"]
    uploader_words(ctx.lang, ctx.cfg.limits.max_mb, types)
    uploaded = st.file_uploader(ctx.t("upload.file"), type=types, key="upload_file")
    if uploaded is None:
        return
    listing = store.drops(ctx.folder)
    if stored_already(ctx, uploaded, listing):
        return
    data = uploaded.getvalue()
    size_mb = len(data) / 2**20
    if size_mb > ctx.cfg.limits.max_mb:  # before anything is read (the reader checks it too, for the CLI)
        st.error(ctx.t("upload.too_big", size=ctx.number(size_mb, decimals=1), limit=ctx.cfg.limits.max_mb))
        return
    overlap_key = _overlap_key(ctx, uploaded)
    overlap = st.session_state.get(overlap_key)
    options, save_as = options_form(ctx, uploaded.name, kind, overlap if overlap == "skip" else None)
    try:
        prepared = _prepare(ctx.folder, ctx.version, data, kind, dataclasses.astuple(options), uploaded.name)
    except MeasureNeeded as exc:
        st.session_state["measure_needed"] = True
        st.warning(ctx.t("upload.measure_needed", columns=md_escape(", ".join(exc.columns))))
        return
    except ValidationError as exc:
        rejected(ctx, exc)
        return
    st.session_state.pop("measure_needed", None)

    st.success(
        ctx.t(
            "upload.summary",
            rows=ctx.t("upload.valid_rows", count=len(prepared.data)),
            warnings=ctx.t("upload.warning_count", count=len(prepared.warnings)),
            detected=md_escape(how_read(ctx, prepared.detected or {})),
        )
    )
    mapping = (prepared.detected or {}).get("columns") or {}
    if mapping:
        shown = "; ".join(f"{src} → {upload_tables.column_label(dst, ctx.lang)}" for src, dst in mapping.items())
        st.caption(ctx.t("upload.columns", mapping=md_escape(shown)))
    again = same_file(ctx, prepared, listing, f"upload_again_{uploaded.file_id}_{ctx.lang}")
    storable = overlap_choice(ctx, prepared, overlap_key) and again
    if prepared.warnings:
        st.subheader(ctx.t("upload.warnings"))
        tables.show(ctx, upload_tables.problems(prepared.warnings[:MAX_SHOWN], name="warnings"))
    st.subheader(ctx.t("upload.preview"))
    tables.show(ctx, upload_tables.preview(prepared.head(MAX_SHOWN), ctx.cfg, ctx.names), downloads=False)
    if st.button(ctx.t("upload.commit"), type="primary", key="commit", disabled=not storable) and storable:
        ensure_active(ctx.folder)  # the account may have been disabled since the page ran: then nothing is stored
        drop_id = store.commit(ctx.folder, prepared, analyst, data)
        st.session_state[STORED_KEY] = {**st.session_state.get(STORED_KEY, {}), uploaded.file_id: drop_id}
        st.session_state["last_message"] = ctx.t("upload.committed", drop=drop_id, rows=len(prepared.data))
        if save_as:
            mappings.save(ctx.folder, save_as, kind, dataclasses.replace(options, overlap=None, sheet=None))
            st.session_state["last_message"] += " " + ctx.t("upload.mapping_saved", name=md_escape(save_as))
        st.rerun()


def linked_drop(ctx: Context, listing: pd.DataFrame) -> int | None:
    """The drop a link from another page points at (?drop=N, e.g. one behind an unavailable figure)."""
    value = st.query_params.get("drop", "")
    if not value.isdigit() or int(value) not in set(listing["id"]):
        return None
    r = listing.set_index("id").loc[int(value)]
    st.info(
        ctx.t(
            "unavailable.drop_linked", drop=int(value), source=md_escape(r["source"]),
            kind=ctx.t(f"upload.kind_{r['kind']}"), rows=int(r["rows"]), uploader=md_escape(r["uploader"]),
            date=ctx.date(r["ingested_at"]),
            status=ctx.t(f"export.drop_{r['status']}"),
        )
    )  # fmt: skip
    return int(value)


def drops(ctx: Context, analyst: str) -> None:
    st.subheader(ctx.t("upload.drops"))
    listing = store.drops(ctx.folder).sort_values("id", ascending=False)
    linked = linked_drop(ctx, listing)
    tables.show(ctx, drop_tables.log(listing))
    undo(ctx, analyst, listing, linked)


def undo_option(ctx: Context, r) -> str:
    """A drop in the undo list (plain text): 'Drop 7 · 1 Dec 2021 14:05 · lan · lam_binh.csv · … · Active'."""
    return ctx.t(
        "upload_safety.undo_option", drop=int(r["id"]), time=fmt.datetime(r["ingested_at"], ctx.lang),
        uploader=str(r["uploader"]), source=str(r["source"]), kind=ctx.t(f"upload.kind_{r['kind']}"),
        rows=int(r["rows"]), status=ctx.t(f"export.drop_{r['status']}"),
    )  # fmt: skip


def undo(ctx: Context, analyst: str, listing: pd.DataFrame, linked: int | None) -> None:
    """Choose an active drop (the newest, or the one a link points at), ask, then show what will change and
    undo it only once confirmed; a refusal (the store busy, a units drop still used) is a message."""
    active = listing[listing["status"] == "active"]
    if active.empty:
        st.session_state.pop(UNDO_KEY, None)
        return
    rows = {int(r["id"]): r for _, r in active.iterrows()}
    choices = list(rows)  # the listing is newest first
    chosen = st.selectbox(
        ctx.t("upload.undo"), choices, index=choices.index(linked) if linked in rows else 0, key="undo_drop",
        format_func=lambda d: undo_option(ctx, rows[d]),
    )  # fmt: skip
    if st.session_state.get(UNDO_KEY) != chosen:  # not asked yet, or another drop chosen since: ask first
        st.session_state.pop(UNDO_KEY, None)
        if st.button(ctx.t("upload.undo_button"), key="undo_submit"):
            st.session_state[UNDO_KEY] = chosen
            st.rerun()
        return
    st.warning(
        f"**{ctx.t('upload_safety.undo_title')}** — "
        + ctx.t("upload_safety.undo_explain", drop=drop_text(ctx, rows[chosen]))
    )
    left, right = st.columns(2)
    if left.button(ctx.t("upload_safety.undo_confirm", drop=chosen), type="primary", key="undo_confirm"):
        st.session_state.pop(UNDO_KEY, None)
        ensure_active(ctx.folder)
        try:
            store.undo(ctx.folder, chosen, analyst)
        except TrackerError as exc:  # nothing changed: say why, in the page's language
            st.error(ctx.t("upload_safety.undo_failed", drop=chosen, message=md_escape(exc.text(ctx.lang))))
            return
        st.session_state["last_message"] = ctx.t("upload.undone", drop=chosen)
        st.rerun()
    if right.button(ctx.t("upload_safety.undo_cancel"), key="undo_cancel"):
        st.session_state.pop(UNDO_KEY, None)
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
    except TrackerError as exc:  # e.g. the store is busy: a message in the page's language, never a traceback
        st.error(ctx.t("app.error", message=md_escape(exc.text(ctx.lang))))


guarded(render, needs_data=False)
