"""The report peer: one SQL query computing the table of `tracker report`."""

from __future__ import annotations

import datetime as dt

from bench.dataset import ReportConfig


def _sql_text(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def report_sql(cfg: ReportConfig, as_of: dt.date, window: int | None = None) -> str:
    """One DuckDB query computing the table of `tracker report --as-of AS_OF --format csv` (docs/rules.md).

    people(unit, group, dose, t) = the sum over the group's bands of each band series' last people_cumulative
    on or before t (0 where a band has no report yet); the arg_max aggregates read every date a target needs
    (as_of, as_of - 7 days, each deadline) in one scan of the doses the targets ask for. Every target figure
    is integer arithmetic: ceil(p/q × population) = (p × population + q - 1) // q, status comparisons as in
    tracker.core._judge. It assumes band labels only (no report of a whole group), as the synthetic data has.

    With ``window`` (days), each date's values come from the reports of the ``window`` days up to it only, as
    tracker.reports reads them: DuckDB then skips the other row groups. Without the tracker's look further back
    for a series quiet for longer, it is exact only where every series reports within the window, as in the
    benchmark's data; the benchmark's CHECK proves it for each run.
    """
    week_before = as_of - dt.timedelta(days=7)
    dates = sorted({as_of, week_before, *(t.deadline for t in cfg.targets)})
    col = {d: f"at_{i}" for i, d in enumerate(dates)}
    last_day = (dt.date(9999, 12, 31) - as_of).days  # tracker: no projection beyond the last representable date
    rn, rd = cfg.at_risk_ratio.numerator, cfg.at_risk_ratio.denominator
    targets = ",\n        ".join(
        f"({i}, {_sql_text(t.id)}, {_sql_text(t.group)}, {t.dose}, {t.threshold.numerator}, "
        f"{t.threshold.denominator}, DATE '{t.deadline}')"
        for i, t in enumerate(cfg.targets)
    )
    target_bands = ", ".join(f"({i}, {_sql_text(b)})" for i, t in enumerate(cfg.targets) for b in t.bands)
    doses = ", ".join(sorted({str(t.dose) for t in cfg.targets}))
    inside = {
        d: f"date <= DATE '{d}'"
        if window is None
        else f"date > DATE '{d - dt.timedelta(days=window)}' AND date <= DATE '{d}'"
        for d in dates
    }
    last_values = ",\n        ".join(
        f"arg_max(people_cumulative, date) FILTER (WHERE {inside[d]}) AS {col[d]}" for d in dates
    )
    scanned = f"date <= DATE '{dates[-1]}'" if window is None else " OR ".join(f"({inside[d]})" for d in dates)
    deadline_pick = " ".join(f"WHEN {i} THEN s.{col[t.deadline]}" for i, t in enumerate(cfg.targets))
    return f"""
WITH
targets (ord, target_id, grp, dose, p, q, deadline) AS (VALUES
        {targets}),
target_bands (ord, age_band) AS (VALUES {target_bands}),
series AS (  -- each series' last value on or before each date needed, one scan
    SELECT unit_code, age_band, dose,
        {last_values}
    FROM vaccinations
    WHERE dose IN ({doses}) AND ({scanned})
    GROUP BY unit_code, age_band, dose
),
group_people AS (  -- per target and unit: the sum over the group's bands
    SELECT t.ord, s.unit_code,
        sum(s.{col[as_of]}) AS people,
        sum(s.{col[week_before]}) AS people_week_before,
        sum(CASE t.ord {deadline_pick} END) AS people_deadline
    FROM series s
    JOIN target_bands b ON b.age_band = s.age_band
    JOIN targets t ON t.ord = b.ord AND t.dose = s.dose
    GROUP BY t.ord, s.unit_code
),
group_population AS (
    SELECT b.ord, p.unit_code, sum(p.population) AS population
    FROM population p JOIN target_bands b ON b.age_band = p.age_band
    GROUP BY b.ord, p.unit_code
),
per_unit AS (
    SELECT 0 AS is_total, t.ord, u.unit_code, u.unit_name,
        coalesce(g.people, 0)::BIGINT AS people,
        coalesce(g.people_week_before, 0)::BIGINT AS people_week_before,
        coalesce(g.people_deadline, 0)::BIGINT AS people_deadline,
        pop.population::BIGINT AS population
    FROM units u CROSS JOIN targets t
    LEFT JOIN group_people g ON g.ord = t.ord AND g.unit_code = u.unit_code
    LEFT JOIN group_population pop ON pop.ord = t.ord AND pop.unit_code = u.unit_code
),
per_row AS (
    SELECT * FROM per_unit
    UNION ALL
    SELECT 1, ord, 'TOTAL', {_sql_text(cfg.province)}, sum(people)::BIGINT, sum(people_week_before)::BIGINT,
        sum(people_deadline)::BIGINT, sum(population)::BIGINT
    FROM per_unit GROUP BY ord
),
judged AS (
    SELECT r.*, t.target_id, t.grp, t.dose, t.p, t.q, t.deadline,
        (t.p * r.population + t.q - 1) // t.q AS needed_total,
        greatest(0, (t.p * r.population + t.q - 1) // t.q - r.people) AS needed,
        date_diff('day', DATE '{as_of}', t.deadline) AS days_left,
        r.people - r.people_week_before AS gained_7d
    FROM per_row r JOIN targets t USING (ord)
)
SELECT unit_code, unit_name, target_id, grp AS "group", dose, people, population,
    people / population AS coverage,
    p / q AS threshold,
    deadline,
    needed AS people_needed,
    days_left,
    gained_7d / 7 AS pace_7d,
    CASE WHEN days_left > 0 THEN needed / days_left END AS required_daily,
    CASE WHEN needed > 0 AND gained_7d > 0 AND (7 * needed + gained_7d - 1) // gained_7d <= {last_day}
        THEN DATE '{as_of}' + ((7 * needed + gained_7d - 1) // gained_7d)::INTEGER END AS projected_date,
    CASE
        WHEN DATE '{as_of}' >= deadline THEN CASE WHEN people_deadline >= needed_total THEN 'met' ELSE 'missed' END
        WHEN needed = 0 THEN 'met'
        WHEN gained_7d * days_left >= 7 * needed THEN 'on_track'
        WHEN gained_7d * days_left * {rd} >= 7 * needed * {rn} THEN 'at_risk'
        ELSE 'off_track'
    END AS status
FROM judged
ORDER BY is_total, ord, unit_code
"""
