"""Stage 3b, the column plan: the canonical columns, the layout (long, or one column per dose) and the
measure (cumulative or daily) of a header; then the text laid out long under canonical names."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tracker.errors import InputError, MeasureNeeded, Problem, ValidationError
from tracker.i18n import Term
from tracker.ingest.headers import AT_LEAST_ONE, Cell, recognise
from tracker.ingest.options import CUMULATIVE, DAILY, DOSES, ReadOptions, header_key
from tracker.ingest.raw_table import RawTable


@dataclass
class ColumnPlan:
    """How a header maps to canonical columns, the layout and the measure."""

    columns: dict[str, int]  # canonical column -> header index (long columns, the count included)
    wide: list[tuple[int, int]]  # (header index, dose) of each dose column of a wide file
    measure: str | None  # vaccinations: cumulative or daily
    measure_from: str | None  # "headers" or "options"
    ignored: list[str]  # headers that name something but are not used
    mapping: dict[str, str]  # source header -> canonical name, for the UI
    constants: dict[str, str] = field(default_factory=dict)  # canonical column -> the value of every row

    @property
    def layout(self) -> str:
        return "wide" if self.wide else "long"


def _quoted(cells: Iterable[Cell]) -> str:
    return " and ".join(repr(c.header) for c in cells)


def plan_columns(
    header: list[str], kind: str, columns: Iterable[str], options: ReadOptions, source: str, header_row: int
) -> ColumnPlan:
    """Map a header to canonical columns; raise ValidationError (missing or ambiguous columns) or MeasureNeeded."""
    columns = list(columns)
    cells = recognise(header, kind, columns, options)
    problems: list[Problem] = []
    ignored: list[str] = []
    chosen: dict[str, Cell] = {}
    keys = {header_key(h) for h in header}
    for src, _ in options.columns:  # a mapping for a header the file does not have is a mistake, not a no-op
        if header_key(src) not in keys:
            problems.append(
                Problem.of(
                    header_row, None, "option.no_such_header", header=src, headers=[repr(h) for h in header if h]
                )
            )
    counts = ("wide", "count", "people_cumulative", "doses") if kind == "vaccinations" else ("wide", "count")
    for target in dict.fromkeys(c.target for c in cells if c.target not in counts):
        found = sorted((c for c in cells if c.target == target), key=lambda c: (not c.forced, c.rank))
        best = [c for c in found if (c.forced, c.rank) == (found[0].forced, found[0].rank)]
        if len(best) > 1:
            problems.append(Problem.of(header_row, None, "columns.ambiguous", columns=_quoted(best), target=target))
        chosen[target] = best[0]
        ignored += [c.header for c in found if c is not best[0]]
    constants = _constants(options, kind, columns, chosen, header_row, problems)

    measure, measure_from, wide, needed = None, None, [], None
    if kind == "vaccinations":
        try:
            measure, measure_from, wide = _plan_counts(cells, chosen, options, source, header_row, problems, ignored)
        except MeasureNeeded as exc:  # asked for after the other problems: a missing column comes first
            needed, wide = exc, (None if any(c.target == "wide" for c in cells) else [])

    required = [c for c in columns if c != "people_cumulative"] if kind == "vaccinations" else columns
    if wide is None:  # per-dose columns, none of them usable: reported already
        required = [c for c in required if c != "dose"]
        wide = []
    elif wide:
        required = [c for c in required if c != "dose"]
    elif kind == "vaccinations" and needed is None:
        required.append("people_cumulative" if measure != DAILY else "doses")
    missing = [c for c in required if c not in chosen and c not in constants]
    if missing:
        found_headers = [repr(h) for h in header if h] or ["—"]
        problems += [
            Problem.of(
                header_row, c, "columns.missing", kind=Term(f"term.{kind}"), expected=columns, found=found_headers
            )
            for c in missing
        ]
    if problems:
        raise ValidationError(source, problems)
    if needed is not None:
        raise needed
    mapping = {c.header: name for name, c in chosen.items()}
    for index, dose in wide:
        mapping[header[index]] = f"dose{dose}_{measure}"
    return ColumnPlan(
        columns={name: c.index for name, c in chosen.items()},
        wide=wide,
        measure=measure,
        measure_from=measure_from,
        ignored=ignored,
        mapping=mapping,
        constants=constants,
    )


def _constants(options: ReadOptions, kind: str, columns: list[str], chosen, header_row, problems) -> dict[str, str]:
    """The columns set for the whole file (--set COLUMN=VALUE): key and label columns, never a count."""
    allowed = [c for c in columns if c not in ("people_cumulative", "population", "community_cases", "imported_cases")]
    out = {}
    for name, value in options.constants:
        name, value = str(name).strip(), str(value).strip()
        if name not in allowed:
            raise InputError(code="option.bad_constant_column", column=name, kind=Term(f"term.{kind}"), allowed=allowed)
        if name in chosen:
            problems.append(
                Problem.of(header_row, None, "option.constant_and_column", name=name, value=value,
                           header=chosen[name].header)
            )  # fmt: skip
        out[name] = value
    return out


def _pick(found: list[Cell], measure: str | None) -> list[Cell]:
    """The cells of the best standing for a measure: named by options, then marked with it, then unmarked."""
    for test in (
        lambda c: c.forced and c.measure in (measure, None),
        lambda c: c.measure == measure,
        lambda c: c.measure is None,
        lambda c: True,
    ):
        best = [c for c in found if test(c)]
        if best:
            top = min(c.rank for c in best)
            return [c for c in best if c.rank == top]
    return []


def _plan_counts(cells, chosen, options, source, header_row, problems, ignored):
    """The count column(s) of a vaccinations file and their measure; adds the count to `chosen`."""
    options.check()
    counts = [c for c in cells if c.target in ("people_cumulative", "doses", "count")]
    dose_cells = [c for c in cells if c.target == "wide"]
    if dose_cells and "dose" in chosen:
        shown = ", ".join(repr(c.header) for c in dose_cells)
        problems.append(
            Problem.of(header_row, None, "columns.dose_and_wide", dose_column=chosen["dose"].header, columns=shown)
        )
        return None, None, []
    if dose_cells:
        return _plan_wide_counts(dose_cells, counts, options, source, header_row, problems, ignored)
    if not counts:
        return options.measure, "options" if options.measure else None, []
    if options.measure:
        measure, measure_from = options.measure, "options"
    else:
        marked = {c.measure for c in counts if c.measure}
        if CUMULATIVE in marked:
            measure = CUMULATIVE
        elif DAILY in marked:
            measure = DAILY
        else:
            raise MeasureNeeded(source, [c.header for c in counts])
        measure_from = "headers"
    best = _pick(counts, measure)
    if len(best) > 1:
        problems.append(
            Problem.of(
                header_row, None, "columns.ambiguous_counts", columns=_quoted(best), measure=Term(f"term.{measure}")
            )
        )
    chosen["people_cumulative" if measure == CUMULATIVE else "doses"] = best[0]
    ignored += [c.header for c in counts if c is not best[0]]
    return measure, measure_from, []


def _plan_wide_counts(dose_cells, counts, options, source, header_row, problems, ignored):
    """One column per dose; a count column naming no dose either is dose 1 ("people vaccinated" beside
    "people fully vaccinated": at least one dose) or would be lost, which is an error naming it."""
    doses = {c.dose for c in dose_cells}
    at_least_one = [c for c in counts if AT_LEAST_ONE.match(header_key(c.header))]
    if 1 not in doses and len(at_least_one) == 1:
        c = at_least_one[0]
        dose_cells = [*dose_cells, Cell(c.index, c.header, "wide", 0, c.measure, 1, c.forced)]
        counts = [x for x in counts if x is not c]
    measure, measure_from, wide = _plan_wide(dose_cells, options, source, header_row, problems, ignored)
    used = ", ".join(repr(c.header) for c in dose_cells)
    for c in counts:
        if measure is not None and c.measure in (measure, None):  # the file's measure: its figures would be lost
            problems.append(
                Problem.of(
                    header_row, c.header, "columns.not_stored", header=c.header, measure=Term(f"term.{measure}"),
                    used=used, example=f"--column '{c.header}=dose1_{measure}'", ignore=f"--column '{c.header}=ignore'",
                )
            )  # fmt: skip
        else:
            ignored.append(c.header)  # the other measure of the same doses: redundant
    return measure, measure_from, wide


def _plan_wide(dose_cells: list[Cell], options, source, header_row, problems, ignored):
    for c in dose_cells:
        if c.dose not in DOSES:
            problems.append(Problem.of(header_row, c.header, "columns.bad_dose", dose=c.dose))
    dose_cells = [c for c in dose_cells if c.dose in DOSES]
    if not dose_cells:
        return None, None, None  # a wide file, but no usable dose column (the problems say why)
    by_dose: dict[int, list[Cell]] = {}
    for c in dose_cells:
        by_dose.setdefault(c.dose, []).append(c)
    if options.measure:
        measure, measure_from = options.measure, "options"
    else:
        marked = {c.measure for c in dose_cells if c.measure}
        unmarked = [c for c in dose_cells if c.measure is None]
        if not marked:
            raise MeasureNeeded(source, [c.header for c in dose_cells])
        if len(marked) == 2:
            # both measures: cumulative where a dose has it; an unmarked column is then ambiguous
            if unmarked:
                raise MeasureNeeded(source, [c.header for c in unmarked])
            measure = CUMULATIVE
            for dose, found in by_dose.items():
                if all(c.measure == DAILY for c in found):
                    problems.append(Problem.of(header_row, found[0].header, "columns.mixed_measure", dose=dose))
        else:
            measure = marked.pop()  # one marker (in one header or all) stands for every dose column
        measure_from = "headers"
    wide = []
    for dose, found in sorted(by_dose.items()):
        best = _pick(found, measure)
        if len(best) > 1:
            problems.append(Problem.of(header_row, None, "columns.ambiguous_dose", columns=_quoted(best), dose=dose))
        wide.append((best[0].index, dose))
        ignored += [c.header for c in found if c is not best[0]]
    return measure, measure_from, wide


def arrange(raw: RawTable, plan: ColumnPlan, header: list[str]) -> tuple[pd.DataFrame, np.ndarray, dict]:
    """The text laid out long with canonical column names, the row numbers, and each column's source label.

    A wide file gives one row per (file row, dose column) whose cell is not empty; the label of its count
    column is then an array (the header of each row's dose column). A column set for the whole file
    (plan.constants) has the same value on every row, labelled "column=value".
    """
    body = raw.body
    long_columns = {name: body[index] if index in body else _empty(len(body)) for name, index in plan.columns.items()}
    labels: dict[str, str | np.ndarray] = {name: header[index] for name, index in plan.columns.items()}
    for name, value in plan.constants.items():
        long_columns[name] = pd.Series(pd.Categorical.from_codes(np.zeros(len(body), dtype=np.int8), [value]))
        labels[name] = f"{name}={value}"
    if not plan.wide:
        return pd.DataFrame(long_columns), raw.rows, labels
    count = "people_cumulative" if plan.measure == CUMULATIVE else "doses"
    parts, rows, sources = [], [], []
    for index, dose in plan.wide:
        values = body[index] if index in body else _empty(len(body))
        cats = values.cat.categories
        empty = np.array([str(c).strip() == "" for c in cats] + [True])
        keep = ~empty[values.cat.codes.to_numpy()]
        part = {name: col[keep] for name, col in long_columns.items()}
        part["dose"] = pd.Series([str(dose)] * int(keep.sum()), dtype="category")
        part[count] = values[keep]
        parts.append(pd.DataFrame({k: pd.Series(v).reset_index(drop=True) for k, v in part.items()}))
        rows.append(raw.rows[keep])
        sources.append(np.full(int(keep.sum()), header[index], dtype=object))
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=[*long_columns, "dose", count])
    for col in frame.columns:
        frame[col] = frame[col].astype("string").astype("category")
    all_rows = np.concatenate(rows) if rows else np.array([], dtype=np.int64)
    order = np.argsort(all_rows, kind="stable")  # file order: problems come out row by row
    frame = frame.iloc[order].reset_index(drop=True)
    labels[count] = np.concatenate(sources)[order] if sources else np.array([], dtype=object)
    labels["dose"] = labels[count]
    return frame, all_rows[order], labels


def _empty(n: int) -> pd.Series:
    return pd.Series(pd.Categorical([""] * n))
