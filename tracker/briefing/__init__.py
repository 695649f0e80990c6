"""The weekly briefing: the overview's headlines, the trend, the map and the district table as PDF or PPTX.

The charts are the figure builders the pages use (tracker.figures), rendered to PNG on the server by
kaleido 1.x, which drives a local Chrome/Chromium (found by choreographer: $BROWSER_PATH, else `chrome`,
`chromium`… on PATH, else the usual install paths such as /usr/bin/chromium). MathJax is off, plotly.js
comes from the plotly package and the maps are offline, so rendering needs no network.
The PDF embeds DejaVu Sans (found at run time) so Vietnamese survives in the text layer; the PPTX
holds real text boxes and tables, with only the charts as pictures.

Public API (the CLI, the dashboard's overview page and the tests use only these):

- ``check()``: raise now (``TrackerError``) when no chart can be rendered on this machine;
  ``find_fonts()``: the DejaVu Sans files the PDF embeds, or ``TrackerError``.
- ``build(ds, cfg, as_of, formats, lang, target) -> {format: bytes}``: the charts rendered once for all formats;
  ``FORMATS``, ``MIME`` and ``file_name(cfg, as_of, lang, format)`` for the files.
- ``collect(ds, cfg, as_of, lang, target) -> Briefing`` (everything a briefing shows, charts rendered),
  ``to_pdf(briefing)``, ``to_pptx(briefing)``; ``SCALE``, ``TREND_SIZE``, ``MAP_SIZE``, ``FONT_ENV``.

The modules, each of one job: ``renderer`` (finding Chrome/Chromium and the fonts, figures to PNG),
``content`` (what the briefing says, from the core and tracker.figures), ``colors`` (the colour helpers both
writers share), ``pdf`` and ``pptx`` (the writers) and ``files`` (the formats, build, the file name).
The renderer's functions are called through their module (``renderer.render_png``, ``renderer.find_fonts``),
so a test patches them, and ``FONT_DIRS``, on ``tracker.briefing.renderer``, not on this package.
"""

from tracker.briefing.content import MAP_SIZE, TREND_SIZE, collect
from tracker.briefing.files import FORMATS, MIME, build, file_name
from tracker.briefing.pdf import to_pdf
from tracker.briefing.pptx import to_pptx
from tracker.briefing.renderer import FONT_ENV, SCALE, check, find_fonts
from tracker.errors import TrackerError

__all__ = [
    "FONT_ENV", "FORMATS", "MAP_SIZE", "MIME", "SCALE", "TREND_SIZE", "TrackerError", "build", "check", "collect",
    "file_name", "find_fonts", "to_pdf", "to_pptx",
]  # fmt: skip
