"""Every table the product shows, built once as typed values plus a column spec (tracker.tables.spec) and
rendered from that spec alone: on screen (dashboard.tables), as CSV/xlsx and as briefing rows
(tracker.tables.render). docs/tables.md lists them with their columns.

| table | builder | shown on |
|---|---|---|
| ranked districts | districts.ranked | Districts page |
| districts behind, per target | districts.lagging | Overview |
| one district against every target | districts.detail | Districts page |
| report freshness | districts.freshness | Overview |
| risk inputs and level | risk.inputs | Risk page |
| what would lower the level | risk.lower | Risk page |
| the drop log | drops.log | Upload page |
| a file read, its problems, the rows per check | upload.preview, upload.problems, upload.tallies | Upload page |
| the briefing's table | districts.briefing | PDF and PPTX briefings |
"""

from tracker.tables import districts, drops, render, risk
from tracker.tables.spec import KINDS, Column, Table

__all__ = ["KINDS", "Column", "Table", "districts", "drops", "render", "risk"]
