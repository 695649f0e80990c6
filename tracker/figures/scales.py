"""Colour scales of the maps: the sequential scales, their ticks and colour bar, the colour at a value, and
whether a fill is dark enough for white text. tests/test_palettes.py checks them for colour-blind readers."""

from __future__ import annotations

import math

import numpy as np
import plotly.colors as pc

# Sequential single-hue scales, light to dark (darker = more, as on the UK, OWID and CDC dashboards): lightness
# alone carries the value, so they read the same to the colour blind and in greyscale. Blue for a metric where
# more is better (coverage), orange where more is worse (reverse=True: people still needed, incidence): the
# blue/orange sides of STATUS_COLORS. ColorBrewer Blues / Oranges without their two palest steps, which are
# hard to tell from the white background and from CONTEXT_COLOR; both stay clear of NO_DATA_COLOR (grey).
DEFAULT_COLORSCALE = pc.make_colorscale(pc.sequential.Blues[2:])
WORSE_COLORSCALE = pc.make_colorscale(pc.sequential.Oranges[2:])


def colorscale_for(colorscale: str | list | None = None, reverse: bool = False) -> list[list]:
    """An explicit [[position, colour], ...] scale.

    Without `colorscale`, the sequential default: light to dark blue (DEFAULT_COLORSCALE), or light to dark
    orange when `reverse` says higher is worse (WORSE_COLORSCALE); darker is always more. A given
    `colorscale` (a Plotly name or a list) is flipped when `reverse`.
    """
    if colorscale is None:
        return [[float(p), c] for p, c in (WORSE_COLORSCALE if reverse else DEFAULT_COLORSCALE)]
    if isinstance(colorscale, str):
        scale = pc.get_colorscale(colorscale)
    else:
        scale = colorscale
    scale = [[float(p), c] for p, c in scale]
    return [[round(1 - p, 6), c] for p, c in reversed(scale)] if reverse else scale


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values covering [lo, hi]."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo] if math.isfinite(lo) else []
    raw = (hi - lo) / max(count - 1, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start = math.ceil(lo / step - 1e-9) * step
    ticks = np.arange(start, hi + step * 1e-9, step)
    return [float(round(v, 12)) for v in ticks]


def continuous(values, value_label, fmt_value, colorscale=None, reverse=False, zrange=None) -> dict:
    """Colour scale, range and colour bar (ticks written by fmt_value) of a continuous trace."""
    lo, hi = zrange if zrange is not None else (float(min(values)), float(max(values)))
    ticks = nice_ticks(lo, hi)
    if hi == lo == 0:
        hi = 1.0  # all zero: zero sits at the low (lightest) end of the scale
    colorbar = {
        "title": {"text": value_label, "side": "right"},
        "thickness": 12,
        "len": 0.75,
        "outlinewidth": 0,
        "x": 1.0,
        "xanchor": "right",
        "xpad": 8,
    }
    if ticks:
        colorbar.update(tickmode="array", tickvals=ticks, ticktext=[fmt_value(v) for v in ticks])
    scale = {"colorscale": colorscale_for(colorscale, reverse), "colorbar": colorbar}
    if hi > lo:
        scale.update(zmin=lo, zmax=hi)
    return scale


def colors_at(z: list[float], scale: dict) -> list[str]:
    """The fill colour of each value on the trace's scale."""
    lo, hi = scale.get("zmin"), scale.get("zmax")
    if lo is None or hi is None:
        return pc.sample_colorscale(scale["colorscale"], [0.5] * len(z))
    where = [min(max((v - lo) / (hi - lo), 0.0), 1.0) for v in z]
    return pc.sample_colorscale(scale["colorscale"], where)


def is_dark(color: str) -> bool:
    """True when white text reads better than near-black text on `color` (WCAG relative luminance)."""
    if color.startswith("#"):
        rgb = pc.hex_to_rgb(color)
    else:
        rgb = pc.unlabel_rgb(color)

    def channel(c: float) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b < 0.2


def flat(color: str) -> list[list]:
    return [[0.0, color], [1.0, color]]
