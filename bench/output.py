"""The report: the figures, the runs, the pages and the goals with their verdicts, as text or Markdown."""

from __future__ import annotations

import statistics
from pathlib import Path

from bench.scenarios import Scale
from bench.settings import (
    DROP_GOAL,
    DROP_SCALING,
    FIRST_RENDER_GOAL,
    INGEST_CPU_GOAL,
    INGEST_RSS_BYTES,
    MB,
    PAGES,
    REPORT_CPU_GOAL,
    REPORT_RSS_GOAL,
    RERENDER_GOAL,
)


def _secs(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.2f} s" if value >= 0.1 else f"{value:.3f} s"


def _mem(value: int | None) -> str:
    return "—" if value is None else f"{value / MB:,.0f} MB"


def _ratio(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}×"


FIGURE_HEADER = [
    "measure",
    "tracker CPU",
    "peer CPU",
    "CPU ratio",
    "tracker wall",
    "peer wall",
    "wall ratio",
    "tracker peak RSS",
    "peer peak RSS",
    "RSS ratio",
]
GOAL_HEADER = ["goal", "measured", "result"]
PAGE_HEADER = ["page", "first render (cold caches)", "re-render (warm)", "first, all runs (s)", "re-render, all runs"]


def figure_rows(sc: Scale) -> list[list[str]]:
    rows = []
    for pair in sc.pairs.values():
        t, p = pair.tracker, pair.peer
        rows.append(
            [
                f"{pair.what}: {t.name} / {p.name}",
                _secs(t.cpu),
                _secs(p.cpu),
                _ratio(pair.ratio("cpu")),
                _secs(t.wall),
                _secs(p.wall),
                _ratio(pair.ratio("wall")),
                _mem(t.rss),
                _mem(p.rss),
                _ratio(pair.ratio("rss")),
            ]
        )
    return rows


def run_lines(sc: Scale) -> list[str]:
    lines = []
    for pair in sc.pairs.values():
        for m in (pair.tracker, pair.peer):
            walls = " / ".join(f"{r.seconds:.2f}" for r in m.good) or "—"
            cpus = " / ".join(f"{r.cpu:.2f}" for r in m.good) or "—"
            lines.append(f"{pair.what}, {m.name}: wall {walls} s; CPU {cpus} s")
        if pair.note:
            lines.append(f"{pair.what}: {pair.note}")
    return lines


def verdict(ok: bool | None) -> str:
    return "— (not measured)" if ok is None else ("PASS" if ok else "FAIL")


def goal_rows(scales: list[Scale], pages: dict | None, args) -> list[list[str]]:
    rows: list[list[str]] = []
    by_factor = {sc.factor: sc for sc in scales}
    for sc in scales:
        tag = f"{sc.factor}×"
        report = sc.pairs.get("report")
        if report is not None:
            r = report.ratio("cpu")
            ok = None if r is None else r <= REPORT_CPU_GOAL
            if report.check_failed:
                ok = False
            measured = _ratio(r) + (" (tables differ)" if report.check_failed else "")
            rows.append([f"{tag} report CPU ≤ {REPORT_CPU_GOAL:g}× the SQL query's", measured, verdict(ok)])
            r = report.ratio("rss")
            ok = None if r is None else r <= REPORT_RSS_GOAL
            rows.append([f"{tag} report peak RSS ≤ {REPORT_RSS_GOAL:g}× the SQL query's", _ratio(r), verdict(ok)])
        ingest = sc.pairs.get("ingest")
        if ingest is not None:
            r = ingest.ratio("cpu")
            ok = None if r is None else r <= INGEST_CPU_GOAL
            rows.append([f"{tag} ingest CPU ≤ {INGEST_CPU_GOAL:g}× DuckDB's CREATE TABLE AS", _ratio(r), verdict(ok)])
            if sc.factor == 4:
                rss = ingest.tracker.rss
                ok = None if rss is None else rss <= INGEST_RSS_BYTES
                rows.append([f"{tag} ingest peak RSS ≤ {INGEST_RSS_BYTES / 1e9:g} GB", _mem(rss), verdict(ok)])
        drop = sc.pairs.get("drop")
        if drop is not None:
            r = drop.ratio("cpu")
            ok = None if r is None else r <= DROP_GOAL
            measured = f"{_ratio(r)} CPU ({_ratio(drop.ratio('wall'))} wall)"
            rows.append([f"{tag} daily drop CPU ≤ {DROP_GOAL:g}× DuckDB's INSERT", measured, verdict(ok)])
    one, four = by_factor.get(1), by_factor.get(4)
    if one is not None and four is not None and "drop" in one.pairs and "drop" in four.pairs:
        a, b = one.pairs["drop"].tracker, four.pairs["drop"].tracker
        cpu = b.cpu / a.cpu if a.cpu and b.cpu is not None else None
        wall = b.wall / a.wall if a.wall and b.wall is not None else None
        ok = None if cpu is None else abs(cpu - 1) <= DROP_SCALING
        rows.append(
            [
                f"daily drop CPU at 4× within ±{DROP_SCALING:.0%} of 1×",
                f"{_ratio(cpu)} CPU ({_ratio(wall)} wall)",
                verdict(ok),
            ]
        )
    elif 4 in by_factor or 1 in by_factor:
        rows.append([f"daily drop CPU at 4× within ±{DROP_SCALING:.0%} of 1×", "needs 1× and 4× in one run", "—"])
    if pages is not None:
        for page in PAGES:
            first, again = pages["pages"][page]
            f, a = statistics.median(first), statistics.median(again)
            name = Path(page).stem
            goal = f"1× {name} first render ≤ {FIRST_RENDER_GOAL:g} s"
            rows.append([goal, _secs(f), verdict(f <= FIRST_RENDER_GOAL)])
            rows.append([f"1× {name} re-render ≤ {RERENDER_GOAL:g} s", _secs(a), verdict(a <= RERENDER_GOAL)])
    return rows


def page_rows(pages: dict) -> list[list[str]]:
    rows = []
    for page in PAGES:
        first, again = pages["pages"][page]
        rows.append(
            [
                page,
                _secs(statistics.median(first)),
                _secs(statistics.median(again)),
                " / ".join(f"{x:.2f}" for x in first),
                " / ".join(f"{x:.2f}" for x in again),
            ]
        )
    return rows


def text_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def line(r: list[str]) -> str:
        return "  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()

    return "\n".join([line(header), "  ".join("-" * w for w in widths), *(line(r) for r in rows)])


def md_table(header: list[str], rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    out += ["| " + " | ".join(str(c).replace("|", "\\|") for c in r) + " |" for r in rows]
    return "\n".join(out)


def report_text(when, mach, loads, args, scales, pages, goals, failures, markdown: bool) -> str:
    table = md_table if markdown else text_table
    h = (lambda level, s: "#" * level + " " + s) if markdown else (lambda level, s: s.upper() if level < 3 else s)
    parts = [h(1, f"Benchmark results ({when})"), ""]
    parts.append(f"Commit: {mach['commit']}")
    parts.append(f"Load average (1/5/15 min): at the start {loads[0]}; at the end {loads[1]}")
    parts.append("Machine: " + "; ".join(f"{k} {v}" for k, v in mach.items() if k != "commit"))
    parts.append(
        f"Each figure: the median of {args.repeat} runs (peak RSS: the max), each run a separate process; tracker "
        "and peer runs alternate. Ratios are tracker / peer, medians of the same run."
    )
    parts.append("")
    for sc in scales:
        rows = f"{sc.rows:,} vaccination rows" if sc.rows else ""
        if sc.factor == 0:  # the start-up, measured once
            parts += [h(2, "Start-up: the interpreter and the imports, paid by every command"), ""]
            parts += [table(FIGURE_HEADER, figure_rows(sc)), ""]
            parts += [("- " if markdown else "  ") + line for line in run_lines(sc)] + [""]
            continue
        parts += [h(2, f"{sc.factor}×: {sc.units:,} units × {args.days} days, {rows}"), ""]
        parts += [table(FIGURE_HEADER, figure_rows(sc)), ""]
        lines = run_lines(sc)
        parts += [("- " if markdown else "  ") + line for line in lines]
        parts += ["", f"({sc.factor}× took {sc.seconds / 60:.1f} min in all, with its untimed setup)", ""]
    if pages is not None:
        cold = pages["cold_start"]
        parts += [
            h(2, "Pages at 1× (Streamlit AppTest)"),
            "",
            table(PAGE_HEADER, page_rows(pages)),
            "",
            "The first render is a fresh AppTest with every Streamlit cache cleared; the re-render runs the same "
            "AppTest again (warm caches). Not counted: the child's start, imports and first app run "
            f"({' / '.join(f'{x:.1f}' for x in cold)} s).",
            "",
        ]
    parts += [h(2, "Goals"), "", table(GOAL_HEADER, goals), ""]
    if failures:
        parts += [h(2, "Failures"), "", "```" if markdown else "", *failures, "```" if markdown else "", ""]
    return "\n".join(parts) + "\n"
