"""The drop log (store.drops) as a Table: each stored file, who stored it and when, and whether it is undone."""

from __future__ import annotations

import pandas as pd

from tracker.tables.spec import Column, Table

COLUMNS = (
    Column("id", "export.drop_id", "count", pinned=True),
    Column("status", "export.drop_status", "term", terms="export.drop_"),
    Column("ingested_at", "export.ingested_at", "datetime"),
    Column("uploader", "export.uploader"),
    Column("source", "export.source"),
    Column("kind", "export.kind", "term", terms="upload.kind_"),
    Column("rows", "export.rows", "count"),
    Column("warnings", "export.warnings", "count"),
    Column("undone_at", "export.undone_at", "datetime"),
    Column("undone_by", "export.undone_by"),
    Column("sha256", "export.sha256"),
)


def log(listing: pd.DataFrame, place="") -> Table:
    """The drops in `listing`'s order (the upload page lists the newest first)."""
    return Table("drops", "tables.drops", COLUMNS, listing.reset_index(drop=True), place=place)
