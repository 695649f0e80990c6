"""Download buttons under every table: the table as CSV (UTF-8 with BOM) and as Excel (.xlsx).

What is exported is the table's *rows as shown* (same districts, same order) with the headers in
the user's language, but with real values rather than the on-screen text: numbers stay numbers
(coverage in percent, e.g. 52.31, with "(%)" in the header), dates stay dates, status words are
translated. A civil servant can then sort, sum and chart in Excel without retyping anything.
The files are built by tracker.exports, which also neutralises formula-like text.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.state import Context, district_table
from tracker import exports, i18n
from tracker.ingest import KINDS


def table_downloads(ctx: Context, frame: pd.DataFrame, name: str, place: str | None = None) -> None:
    """Two buttons side by side, CSV and Excel, named '<name>_<place>_<as-of date>.<ext>'.

    `name` identifies the table (it keys the buttons, so it must be unique on the page) and
    starts the file name; `place` defaults to the province, as the page tables cover all districts.
    """
    place = place or ctx.cfg.province_name_vi
    builders = {"csv": exports.csv_bytes, "xlsx": lambda f: _xlsx_bytes(f, sheet=name)}
    with st.container(horizontal=True):
        for ext, build in builders.items():
            st.download_button(
                ctx.t(f"export.{ext}"),
                build(frame),
                file_name=exports.file_name(name, place, ctx.as_of, ext),
                mime=exports.MIME[ext],
                key=f"download_{ext}_{name}",
                help=ctx.t(f"export.{ext}_help"),
                on_click="ignore",
                icon=":material/download:",
            )


@st.cache_data(max_entries=32, show_spinner=False)
def _xlsx_bytes(frame: pd.DataFrame, sheet: str) -> bytes:
    """The workbook of a table, made again only when the table changes: openpyxl takes about 0.1 s for
    the ranked districts at 700 units, on every rerun of the page otherwise."""
    return exports.xlsx_bytes(frame, sheet=sheet)


def _status(ctx: Context, code) -> str | None:
    return i18n.status(code, ctx.lang) if isinstance(code, str) else None


def _percent(series: pd.Series) -> pd.Series:
    return (series.astype(float) * 100).round(2)


def _dates(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series).dt.normalize()


def freshness_export(ctx: Context, fresh: pd.DataFrame) -> pd.DataFrame:
    """The overview's reporting table: district, last report (a date), days since (a number), late or not."""
    return pd.DataFrame(
        {
            ctx.t("table.district"): fresh["unit_name"].astype(str).to_numpy(),
            ctx.t("table.last_report"): _dates(fresh["last_report_date"]).to_numpy(),
            ctx.t("table.days_since"): fresh["days_since"].astype("Int64").to_numpy(),
            ctx.t("export.late"): [ctx.t("export.yes") if s else ctx.t("export.no") for s in fresh["stale"]],
        }
    )


def ranked_export(ctx: Context, units: pd.DataFrame) -> pd.DataFrame:
    """The districts page's ranked table, in its order, with every map metric as a number.

    With a comparison chosen, its coverage follows the target's, under a header naming it as a comparison.
    """
    frame = pd.DataFrame(
        {
            ctx.t("table.district"): units["unit_name"].astype(str).to_numpy(),
            ctx.t("table.coverage") + " (%)": _percent(units["coverage"]).to_numpy(),
        }
    )
    if "compare_coverage" in units:
        header = ctx.t("compare.column", label=ctx.compare_label()) + " (%)"
        frame[header] = _percent(units["compare_coverage"]).to_numpy()
    return frame.assign(
        **{
            ctx.t("table.gap"): units["gap_points"].astype(float).round(2).to_numpy(),
            ctx.t("table.people_needed"): units["people_needed"].astype("Int64").to_numpy(),
            ctx.t("table.pace_ratio"): units["pace_ratio"].astype(float).round(3).to_numpy(),
            ctx.t("table.incidence"): units["incidence_per_100k"].astype(float).round(1).to_numpy(),
            ctx.t("table.status"): [_status(ctx, s) for s in units["status"]],
        }
    )


def detail_export(ctx: Context, code: str) -> pd.DataFrame:
    """One district against every target (each on its own group and dose), as on the districts page."""
    rows = []
    for target in ctx.cfg.targets:
        table = district_table(ctx.folder, ctx.version, ctx.as_of, target.id)
        r = table.set_index("unit_code").loc[code]
        projected = pd.to_datetime(r["projected_date"]) if pd.notna(r["projected_date"]) else pd.NaT
        rows.append(
            {
                ctx.t("control.target"): i18n.label(target, ctx.lang),
                ctx.t("table.coverage") + " (%)": round(float(r["coverage"]) * 100, 2),
                ctx.t("table.people_needed"): r["people_needed"],
                ctx.t("table.pace"): round(float(r["pace_7d"]), 1),
                ctx.t("table.required"): round(float(r["required_daily"]), 1),
                ctx.t("table.projected"): projected.normalize() if pd.notna(projected) else pd.NaT,
                ctx.t("table.status"): _status(ctx, r["status"]),
            }
        )
    frame = pd.DataFrame(rows)
    people = ctx.t("table.people_needed")
    frame[people] = pd.to_numeric(frame[people]).astype("Int64")
    return frame


DROP_HEADERS = {
    "id": "export.drop_id",
    "ingested_at": "export.ingested_at",
    "uploader": "export.uploader",
    "kind": "export.kind",
    "source": "export.source",
    "sha256": "export.sha256",
    "rows": "export.rows",
    "warnings": "export.warnings",
    "status": "export.drop_status",
    "undone_at": "export.undone_at",
    "undone_by": "export.undone_by",
}


def drops_export(ctx: Context, listing: pd.DataFrame) -> pd.DataFrame:
    """The upload page's drop log with translated headers, kinds and status words (times stay UTC)."""
    frame = listing[[c for c in DROP_HEADERS if c in listing]].copy()
    if "kind" in frame:
        frame["kind"] = frame["kind"].map(lambda k: ctx.t(f"upload.kind_{k}") if k in KINDS else k)
    if "status" in frame:
        frame["status"] = frame["status"].map(lambda s: ctx.t(f"export.drop_{s}") if s in ("active", "undone") else s)
    return frame.rename(columns={c: ctx.t(key) for c, key in DROP_HEADERS.items()})
