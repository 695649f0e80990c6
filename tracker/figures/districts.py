"""The districts map: each district coloured by one of the ranked table's metrics (tracker.tables.districts
METRICS), for the districts page and the briefing alike."""

from __future__ import annotations

import pandas as pd

from tracker import core, fmt, i18n, views
from tracker.figures import maps
from tracker.figures.common import STATUS_COLORS, status_label
from tracker.tables.districts import METRICS
from tracker.tables.render import header, write


def metric_map(table: pd.DataFrame, metric: str, lang: str, boundaries=None, title: str | None = None, **layout):
    """views.district_table's districts coloured by `metric` (furthest behind in the strong colour), with a
    tooltip giving each district's coverage, people still needed and status. `title` defaults to the
    metric's name; `layout` (height) goes to maps.district_map."""
    chosen = METRICS[metric]
    column = chosen.column
    units = views.map_units(table)
    labels = [i18n.t(key, lang) for key in ("table.coverage", "table.people_needed", "table.status")]
    coverage = fmt.each(units["coverage"], lambda v: fmt.percent(v, lang))
    people = fmt.each(units["people_needed"], lambda v: fmt.number(v, lang))
    status = fmt.each(units["status"], lambda v: status_label(v, lang))
    hover = [
        f"{labels[0]}: {c or fmt.EMPTY}<br>{labels[1]}: {p or fmt.EMPTY}<br>{labels[2]}: {s or fmt.EMPTY}"
        for c, p, s in zip(coverage, people, status, strict=True)
    ]
    name = header(column, lang)
    style = {"lang": lang, "title": title or name, "value_label": name, "fmt_value": write(column, lang), **layout}
    units = units.assign(hover=hover)
    if metric == "status":
        categories = {s: (status_label(s, lang), STATUS_COLORS[s]) for s in core.STATUSES}  # icon + word
        return maps.district_map(units, column.id, boundaries=boundaries, categories=categories, **style)
    zrange = (0, 1) if metric == "coverage" else None
    return maps.district_map(
        units, column.id, boundaries=boundaries, reverse=chosen.worse_when_higher, zrange=zrange, **style
    )
