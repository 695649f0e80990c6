"""Finding the tools and rendering the charts: the Chrome/Chromium kaleido drives, the DejaVu Sans fonts the PDF
embeds, and figures rendered to PNG in one browser.

kaleido 1.x drives a local Chrome/Chromium (found by choreographer: $BROWSER_PATH, else `chrome`, `chromium`… on
PATH, else the usual install paths such as /usr/bin/chromium). MathJax is off, plotly.js comes from the plotly
package and the maps are offline, so rendering needs no network.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
from pathlib import Path

from tracker.errors import TrackerError

SCALE = 2  # PNG pixels per CSS pixel
RENDER_TIMEOUT = 90  # seconds per chart
FONT_DIRS = (
    "/usr/share/fonts/truetype/dejavu",  # Debian, Ubuntu (fonts-dejavu-core)
    "/usr/share/fonts/dejavu",  # Fedora, Alpine
    "/usr/share/fonts/TTF",  # Arch
    "/usr/local/share/fonts",
    "/Library/Fonts",
)
FONT_FILES = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf")
FONT_ENV = "TRACKER_FONT_DIR"  # a folder holding DejaVuSans.ttf and DejaVuSans-Bold.ttf


class RendererMissing(TrackerError):
    """kaleido or a Chrome/Chromium for it is not installed: no chart can be rendered."""


# --------------------------------------------------------------------------- finding the tools


def _is_exe(path: str | os.PathLike) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


def find_browser() -> str:
    """The Chrome/Chromium kaleido will drive; RendererMissing (with what to do) when there is none."""
    try:
        import kaleido  # noqa: F401
        from choreographer.browsers.chromium import Chromium
    except ImportError:
        raise RendererMissing(
            "the chart renderer is not installed: `pip install 'kaleido>=1,<2'` (it needs a Chrome or Chromium too)"
        ) from None
    explicit = os.environ.get("BROWSER_PATH")
    if explicit:
        if _is_exe(explicit):
            return explicit
        raise RendererMissing(
            f"BROWSER_PATH={explicit!r} is not an executable Chrome or Chromium; the charts cannot be rendered"
        )
    path = Chromium.find_browser(skip_local=False)
    if path and _is_exe(path):
        return path
    raise RendererMissing(
        "no Chrome or Chromium found to render the charts (kaleido needs one): install it "
        "(Debian/Ubuntu: `apt-get install chromium`) or set BROWSER_PATH to its executable"
    )


def find_fonts() -> tuple[Path, Path]:
    """DejaVu Sans regular and bold (they cover Vietnamese); TrackerError when they are not installed."""
    dirs = [os.environ[FONT_ENV]] if os.environ.get(FONT_ENV) else []
    for folder in [*dirs, *FONT_DIRS]:
        paths = tuple(Path(folder) / name for name in FONT_FILES)
        if all(p.is_file() for p in paths):
            return paths
    raise TrackerError(
        f"the PDF needs the DejaVu Sans font ({', '.join(FONT_FILES)}) for Vietnamese text and it is not "
        f"installed (Debian/Ubuntu: `apt-get install fonts-dejavu-core`), or set {FONT_ENV} to its folder"
    )


def check() -> None:
    """Raise RendererMissing / TrackerError now when a briefing could not be made on this machine."""
    find_browser()


# --------------------------------------------------------------------------- rendering charts


def render_png(figures: list[tuple[object, int, int]]) -> list[bytes]:
    """PNG bytes (SCALE× the given width and height) of each (figure, width, height), in one browser."""
    browser = find_browser()
    import kaleido
    from choreographer.errors import BrowserFailedError, ChromeNotFoundError

    async def run() -> list[bytes]:
        async with kaleido.Kaleido(n=1, timeout=RENDER_TIMEOUT, mathjax=False, path=browser) as k:
            return [
                await k.calc_fig(fig, opts={"format": "png", "width": w, "height": h, "scale": SCALE})
                for fig, w, h in figures
            ]

    try:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(run())
        with concurrent.futures.ThreadPoolExecutor(1) as pool:  # called from inside an event loop
            return pool.submit(asyncio.run, run()).result()
    except ChromeNotFoundError:
        raise RendererMissing(f"the chart renderer could not find a browser at {browser}") from None
    except BrowserFailedError as exc:
        raise RendererMissing(f"the browser {browser} did not start for the chart renderer: {exc}") from None
