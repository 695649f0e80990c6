"""Errors the tracker raises for bad input or bad data: shown to users as messages, never tracebacks.

Messages about input files are translatable: a message id from ``tracker/messages.toml`` and its
values. ``text(lang)`` renders one in Vietnamese or English (numbers and dates as that language
writes them); ``str()`` is the English text, for the command line and logs.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

MAX_SHOWN = 50  # problems listed in an error's English text (the command line); the rest are counted


def _render(code: str, params, lang: str) -> str:
    from tracker import i18n  # late: i18n reads its tables on first use

    return i18n.message(code, lang, dict(params))


class TrackerError(Exception):
    """Base class: anything the user can act on.

    ``TrackerError("text")`` is English only; ``TrackerError(code="id", value=...)`` is a message of
    tracker/messages.toml and renders in either language with ``text(lang)``.
    """

    def __init__(self, text: str = "", *, code: str | None = None, **params):
        self.code = code
        self.params = params
        super().__init__(_render(code, params, "en") if code else text)

    def text(self, lang: str = "en") -> str:
        return _render(self.code, self.params, lang) if self.code else str(self)


class InputError(TrackerError):
    """A file, argument or configuration value is not usable."""


class DataError(TrackerError):
    """Stored data cannot give the figure asked for (e.g. a unit without population)."""


@dataclass(frozen=True)
class Problem:
    """One finding about an input file: a row (file line number, header = 1), a column (the file's own
    header, or a canonical column name), and a message of tracker/messages.toml with its values."""

    row: int | None
    column: str | None
    code: str
    params: tuple[tuple[str, object], ...] = ()
    severity: str = "error"  # "error" blocks the drop; "warning" does not
    check: str | None = None  # the check that found it (default: the message id), for counting

    @classmethod
    def of(
        cls, row: int | None, column: str | None, code: str, severity: str = "error", check: str | None = None, **params
    ) -> Problem:
        return cls(row, column, code, tuple(params.items()), severity, check)

    @property
    def kind(self) -> str:
        return self.check or self.code

    def text(self, lang: str = "en") -> str:
        """The message alone, in ``lang``."""
        return _render(self.code, self.params, lang)

    @property
    def message(self) -> str:
        return self.text("en")

    def describe(self, lang: str = "en") -> str:
        """'row 3, column 'Huyện': …' in ``lang``."""
        where = []
        if self.row is not None:
            where.append(_render("where.row", {"row": self.row}, lang))
        if self.column:
            where.append(_render("where.column", {"column": self.column}, lang))
        prefix = ", ".join(where)
        return f"{prefix}: {self.text(lang)}" if prefix else self.text(lang)

    def __str__(self) -> str:
        return self.describe("en")


@dataclass(frozen=True)
class Tally:
    """How many rows one check found wrong in one column, and the first of them as an example."""

    check: str
    column: str | None
    rows: int
    first: Problem


def tally(problems: list[Problem], totals: dict[tuple[str, str | None], int] | None = None) -> list[Tally]:
    """Per check and column: the number of rows it found, and its first problem.

    ``totals`` gives the true count where only the first problems of a check were kept.
    """
    firsts: dict[tuple[str, str | None], Problem] = {}
    counts: Counter = Counter()
    for p in problems:
        key = (p.kind, p.column)
        firsts.setdefault(key, p)
        counts[key] += 1
    return [Tally(check, column, (totals or {}).get((check, column), counts[(check, column)]), first)
            for (check, column), first in firsts.items()]  # fmt: skip


class ValidationError(InputError):
    """A file failed validation; carries every problem found (or the first ones of each check), all at once.

    ``error_rows``: how many rows of the file have at least one error (a problem without a row, such
    as a missing column, counts as one); ``tallies``: the errors per check and column.
    """

    def __init__(
        self,
        source: str,
        problems: list[Problem],
        totals: dict[tuple[str, str | None], int] | None = None,
        error_rows: int | None = None,
    ):
        self.source = source
        self.problems = problems
        errors = [p for p in problems if p.severity == "error"]
        self.tallies = tally(errors, totals)
        rows = {p.row for p in errors if p.row is not None}
        self.error_rows = error_rows if error_rows is not None else len(rows) + sum(p.row is None for p in errors)
        super().__init__(self.text("en"))

    def summary(self, lang: str = "en") -> str:
        """'300 rows have errors; nothing was stored' and one line per check with more than one row."""
        errors = [p for p in self.problems if p.severity == "error"]
        if errors and all(p.row is None for p in errors):  # the file as a whole: no row to count
            lines = [_render("validation.refused", {"source": self.source}, lang)]
        else:
            lines = [_render("validation.summary", {"source": self.source, "rows": self.error_rows}, lang)]
        for t in self.tallies:
            if t.rows > 1:
                lines.append(
                    "  "
                    + _render(
                        "validation.tally",
                        {"rows": t.rows, "column": t.column or "—", "example": t.first.describe(lang)},
                        lang,
                    )
                )
        return "\n".join(lines)

    def text(self, lang: str = "en") -> str:
        errors = [p for p in self.problems if p.severity == "error"]
        shown = [f"  {p.describe(lang)}" for p in errors[:MAX_SHOWN]]
        listed = sum(t.rows for t in self.tallies)
        if listed > len(shown):
            shown.append("  " + _render("validation.more", {"count": listed - len(shown)}, lang))
        return "\n".join([self.summary(lang), *shown])


class MeasureNeeded(InputError):
    """Whether the counts are cumulative or daily cannot be told from the headers: ask the user."""

    def __init__(self, source: str, columns: list[str]):
        self.source = source
        self.columns = columns
        super().__init__(code="measure.needed", source=source, columns=columns)
