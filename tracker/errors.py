"""Errors the tracker raises for bad input or bad data: shown to users as messages, never tracebacks."""

from __future__ import annotations

from dataclasses import dataclass


class TrackerError(Exception):
    """Base class: anything the user can act on."""


class InputError(TrackerError):
    """A file, argument or configuration value is not usable."""


class DataError(TrackerError):
    """Stored data cannot give the figure asked for (e.g. a unit without population)."""


@dataclass(frozen=True)
class Problem:
    """One finding about an input file: a row (file line number, header = 1) and a column."""

    row: int | None
    column: str | None
    message: str
    severity: str = "error"  # "error" blocks the drop; "warning" does not

    def __str__(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column {self.column!r}")
        prefix = ", ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message


class ValidationError(InputError):
    """A file failed validation; carries every problem found, all at once."""

    def __init__(self, source: str, problems: list[Problem]):
        self.source = source
        self.problems = problems
        errors = [p for p in problems if p.severity == "error"]
        shown = "\n".join(f"  {p}" for p in errors[:50])
        more = f"\n  … and {len(errors) - 50} more" if len(errors) > 50 else ""
        super().__init__(f"{source}: {len(errors)} error(s); nothing was stored\n{shown}{more}")


class MeasureNeeded(InputError):
    """Whether the counts are cumulative or daily cannot be told from the headers: ask the user."""

    def __init__(self, source: str, columns: list[str]):
        self.source = source
        self.columns = columns
        super().__init__(
            f"{source}: cannot tell whether {', '.join(columns)} are cumulative totals or daily counts; "
            "say which with --measure cumulative|daily"
        )
