"""What the briefing says: the headlines, the trend and map charts (the figure builders of tracker.figures,
rendered by tracker.briefing.renderer), the district table and the notes, from the core, formatted in one
language."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from tracker import fmt, geo, headlines, i18n, tables, views
from tracker.briefing import renderer
from tracker.config import Config, Target
from tracker.errors import TrackerError
from tracker.figures import districts as district_figures
from tracker.figures import trends

TREND_SIZE = (1000, 460)  # CSS pixels; the PNG is SCALE times larger
MAP_SIZE = (800, 600)


@dataclass
class Chart:
    heading: str
    png: bytes
    width: int  # PNG pixels
    height: int


@dataclass
class Headline:
    label: str
    status: str
    lines: list[str]


@dataclass
class Briefing:
    lang: str
    as_of: dt.date
    title: str
    sample: str | None
    headlines: list[Headline]
    trends: list[Chart]
    map: Chart
    table_heading: str
    columns: list[str]
    rows: list[list[str]]
    statuses: list[str]  # per row: the status, which colours the status cell
    level_colors: list[str | None] = field(default_factory=list)  # per row: the level's colour (rules file), or none
    notes: list[str] = field(default_factory=list)
    origin: str = "cli"  # made by `tracker brief` ("cli") or from the dashboard's overview ("dashboard")

    def t(self, key: str, **values) -> str:
        return i18n.t(key, self.lang, **values)


def _plain(text: str) -> str:
    return text.replace("**", "").replace("`", "")


def _headline(row, target: Target, lang: str) -> Headline:
    pct = lambda v, **kw: fmt.percent(v, lang, **kw)  # noqa: E731
    t = lambda key, **kw: _plain(i18n.t(key, lang, **kw))  # noqa: E731
    lines = [
        t("brief.coverage", dose=i18n.dose(target.dose, lang), coverage=pct(row["coverage"])),
        f"{t('overview.full_dose')}: {pct(row['full_dose_coverage'])}",
        t("overview.threshold", threshold=pct(float(target.threshold), decimals=0),
          deadline=fmt.date(target.deadline, lang)),
        t("brief.status", status=i18n.status(row["status"], lang)),
    ]  # fmt: skip
    change = headlines.change_7d(row, lang)
    if change:
        lines[0] += f" ({change})"
    lines += [_plain(line) for line in headlines.progress(row, target, lang)]
    return Headline(i18n.label(target, lang), str(row["status"]), lines)


def _png_size(png: bytes) -> tuple[int, int]:
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def collect(
    ds, cfg: Config, as_of: dt.date, lang: str = "vi", target: Target | None = None, origin: str = "cli"
) -> Briefing:
    """Everything a briefing shows, formatted in `lang`, with the charts rendered.

    `target` (default: the first configured) is the one the map and the district table are about; the
    dashboard passes the configured target unchanged, judged on its own group and dose. The headlines
    and the trends cover every configured target. In the district table the status cell has the
    status colour and the risk-level cell the level's colour from data/risk_rules.toml.
    """
    if origin not in ("cli", "dashboard"):
        raise TrackerError(f"unknown briefing origin {origin!r}")
    if lang not in i18n.LANGS:
        raise TrackerError(f"unknown language {lang!r}; use one of {', '.join(i18n.LANGS)}")
    if ds.latest_date is None:
        raise TrackerError("the store has no vaccination reports; nothing to brief")
    first = ds.first_date
    if as_of < first:
        raise TrackerError(f"{as_of.isoformat()} is before the first report ({first.isoformat()})")
    target = target or cfg.targets[0]
    t = lambda key, **kw: _plain(i18n.t(key, lang, **kw))  # noqa: E731
    sample = None
    if ds.sample:
        sample = ds.extra.get(f"dataset_label_{lang}") or i18n.t("app.sample", lang)

    cards = views.target_cards(ds, cfg, as_of).set_index("target_id")
    headlines = [_headline(cards.loc[tg.id], tg, lang) for tg in cfg.targets]

    figures, headings = [], []
    for tg in cfg.targets:
        series = views.coverage_series(ds, cfg, tg.group, tg.dose, first, as_of)
        projection = views.projection(series, as_of, tg.deadline)
        title = t("trends.coverage_title", group=i18n.label(cfg.group(tg.group), lang), dose=i18n.dose(tg.dose, lang))
        fig = trends.coverage_trend(
            series, projection, [tg], lang=lang, title=title, as_of=as_of, height=TREND_SIZE[1], whole=cfg.whole(lang)
        )
        figures.append((fig, *TREND_SIZE))
        headings.append(f"{t('brief.trend')} — {i18n.label(tg, lang)}")

    table = views.district_table(ds, cfg, as_of, target)
    shapes, problem = geo.configured_boundaries(cfg, ds.units)
    fig = district_figures.metric_map(
        table, "coverage", lang, shapes, title=t("brief.map"), height=MAP_SIZE[1], hints=False
    )
    fig.update_layout(width=MAP_SIZE[0])
    figures.append((fig, *MAP_SIZE))
    pngs = renderer.render_png(figures)
    charts = [Chart(h, png, *_png_size(png)) for h, png in zip([*headings, ""], pngs, strict=True)]
    map_chart = charts.pop()
    map_chart.heading = f"{t('brief.map')} — {i18n.label(target, lang)}"

    brief_table = tables.districts.briefing(table, cfg, as_of, target)
    cells = tables.render.texts(brief_table, lang)
    colors = tables.render.cell_colors(brief_table)
    statuses = brief_table.values["status"].where(brief_table.values["status"].notna(), "unavailable").tolist()

    notes = []
    sources = list(dict.fromkeys(tg.source for tg in cfg.targets if tg.source))
    if sources:
        notes.append(t("brief.sources", sources="; ".join(sources)))
    pairs = [(tg.group, d) for tg in cfg.targets for d in (tg.dose, views.FULL_DOSE)] + [(target.group, target.dose)]
    missing = views.unavailable(ds, cfg, as_of, pairs)
    if not missing.empty:  # an empty cell in the table is explained here, never left to guess
        notes.append(t("unavailable.heading"))
        notes += ["• " + line for line in views.unavailable_texts(missing, cfg, lang)]
    if sample:
        notes.append(t("brief.sample", label=sample))
    if problem:
        notes.append(t("brief.boundaries_problem", problem=problem))
    elif shapes is None:  # what the schematic is; how an administrator configures boundaries is not for this file
        notes.append(t("map.schematic_note"))
    notes.append(t("brief.last_reports"))
    fresh = views.freshness(ds, as_of)
    notes += [
        "• " + t("brief.last_report_line", name=r.unit_name, date=fmt.date(r.last_report_date, lang))
        for r in fresh.itertuples()
    ]

    return Briefing(
        lang=lang,
        as_of=as_of,
        title=t("brief.title", place=cfg.place(lang), date=fmt.date(as_of, lang)),
        sample=sample,
        headlines=headlines,
        trends=charts,
        map=map_chart,
        table_heading=f"{t('brief.table')} — {i18n.label(target, lang)}",
        columns=cells.columns.tolist(),
        rows=cells.to_numpy().tolist(),
        statuses=statuses,
        level_colors=colors["risk_level"],
        origin=origin,
        notes=notes,
    )
