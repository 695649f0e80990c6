"""What each figure means, how it is computed and where it comes from, in both languages: the About page and
every metric's help tooltip (tables' headers, the overview's cards) read it from here (texts: the [metric]
entries of tracker/i18n.toml; the rules themselves: docs/rules.md)."""

from __future__ import annotations

from tracker import fmt, i18n
from tracker.config import Config
from tracker.views import STALE_AFTER_DAYS

METRICS = (
    "people", "coverage", "change_7d", "people_needed", "pace", "required", "projected", "status", "gap",
    "pace_ratio", "cases_7d", "incidence", "risk_level", "max_cases", "last_report",
)  # fmt: skip


def _values(cfg: Config | None, lang: str) -> dict:
    ratio = cfg.at_risk_ratio if cfg is not None else 0.75
    return {"ratio": fmt.percent(float(ratio), lang, decimals=0), "days": STALE_AFTER_DAYS}


def name(metric: str, lang: str) -> str:
    return i18n.t(f"metric.{metric}.name", lang)


def definition(metric: str, lang: str, cfg: Config | None = None) -> str:
    """What the figure means (a tooltip); the configured at-risk ratio and stale days filled in."""
    return i18n.t(f"metric.{metric}.definition", lang, **_values(cfg, lang))


def formula(metric: str, lang: str) -> str:
    return i18n.t(f"metric.{metric}.formula", lang)
