"""What a target's card says under its figures, for the overview and the briefing alike (Markdown **bold**).

Before the deadline: the days left, the people still needed, the pace against the pace needed and the
projected day; a target already met says so and since when, instead of a projection. On the deadline day
itself its reports still count: "today is the deadline", with what is still needed (not "deadline passed").
After it: the coverage on the deadline, and the people it is still short of, or, when it has been reached
since, the day it was (never "0 people" beside a target missed).
"""

from __future__ import annotations

import pandas as pd

from tracker import fmt, i18n
from tracker.config import Target


def progress(row, target: Target, lang: str) -> list[str]:
    """The lines for one target's province row of views.target_cards, in `lang`."""
    t = lambda key, **kw: i18n.t(key, lang, **kw)  # noqa: E731
    days, status = int(row["days_left"]), row["status"]
    reached = row.get("reached_on", pd.NaT)
    met_on = t("headline.met_on", date=fmt.date(reached, lang)) if pd.notna(reached) else t("headline.met")
    if days < 0:
        lines = [t("overview.deadline_passed", coverage=fmt.percent(row["coverage_at_deadline"], lang))]
        if status == "met":
            return [*lines, met_on]
        late = row.get("reached_late_on", pd.NaT)
        if pd.notna(late):  # missed on the deadline day, reached since: nobody is still short
            return [*lines, t("headline.reached_late_on", date=fmt.date(late, lang))]
        return [*lines, t("overview.people_short", people=row["people_needed"])]
    if status == "met":
        return [met_on, t("overview.days_left", days=days) if days else t("headline.deadline_today")]
    if days == 0:
        return [t("headline.deadline_today"), t("overview.people_needed", people=row["people_needed"])]
    pace = fmt.number(row["pace_7d"], lang, decimals=1)
    lines = [
        t("overview.days_left", days=days),
        t("overview.people_needed", people=row["people_needed"]),
        t("overview.pace", pace=pace, required=fmt.number(row["required_daily"], lang, decimals=1)),
    ]
    projected = row["projected_date"]
    if pd.isna(projected):
        return [*lines, t("headline.no_projection")]
    late = pd.Timestamp(projected).date() > target.deadline
    return [*lines, t("headline.projected_late" if late else "overview.projected", date=fmt.date(projected, lang))]


def change_7d(row, lang: str) -> str | None:
    """The province coverage's change over the last 7 days, in percentage points ("+1,2 điểm % trong 7 ngày")."""
    change = row.get("coverage_change_7d")
    if change is None or pd.isna(change):
        return None
    points = fmt.number(abs(change) * 100, lang, decimals=1)
    return i18n.t(
        "headline.change_7d", lang, points=("+" if change >= 0 else "-") + points
    )  # ASCII: st.metric reads the sign
