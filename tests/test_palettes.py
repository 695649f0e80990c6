"""Colour-blind-safe palettes: the status colours stay apart under simulated deuteranopia and protanopia, take
white text at WCAG AA, carry an icon; the map's colour scales are sequential; the theme is not red.

The colour maths is here, in numpy, so that the test depends on nothing new:
- CVD simulation: Machado, Oliveira & Fernandes (2009), "A physiologically-based model for simulation of
  color vision deficiency", severity 1.0 matrices, applied to linear RGB (sRGB decoded, matrix, encoded).
- Colour difference: CIEDE2000 (CIE 142-2001) in CIELAB (D65), following Sharma, Wu & Dalal (2005), "The
  CIEDE2000 color-difference formula: implementation notes", whose test pairs check it below.
- Contrast: WCAG 2.x relative luminance and contrast ratio.

Threshold: ΔE00 = 1 is about a just-noticeable difference between two large patches side by side. Status
colours are small (a legend swatch, a table cell, a district) and are matched apart (a swatch in the legend
to a district on the map), and the difference needed grows as marks shrink (Stone, Szafir & Setlur 2014,
"An engineering model for color difference as a function of size"). We ask ΔE00 >= 15: a wide design margin
over "just noticeable", enough to be told apart at a glance, also through the simulation's approximation.
The old red -> green palette falls to 12.4-14.6 between three of its four neighbours under deuteranopia (met
against off track, green against red, to 9.6; on track against at risk to 7.9 under protanopia), and loses
its good/bad meaning (green and red both turn olive): the tests below show both.
"""

from __future__ import annotations

import itertools
import tomllib
import unicodedata
from pathlib import Path

import numpy as np
import plotly.colors as pc
import pytest

from tracker import core, i18n
from tracker.figures import maps, scales
from tracker.figures.common import STATUS_COLORS, STATUS_ICONS, STATUS_TEXT_COLOR, status_label

PROJECT = Path(__file__).resolve().parents[1]
ORDER = ["met", "on_track", "at_risk", "off_track", "missed"]  # worst last; "unavailable" is apart
GOOD, BAD = ORDER[:2], ORDER[2:]
MIN_DE00 = 15.0
MIN_CONTRAST = 4.5  # WCAG 2.x AA, normal-size text
OLD_STATUS_COLORS = {  # the palette before (ColorBrewer RdYlGn), kept to show that the checks can fail
    "met": "#1a9850",
    "on_track": "#66bd63",
    "at_risk": "#f39c12",
    "off_track": "#d73027",
    "missed": "#a50026",
    "unavailable": "#9e9e9e",
}
OLD_COLORSCALE = pc.make_colorscale(pc.diverging.RdYlGn[1:-1])

# --- colour maths ---------------------------------------------------------------------------------------

# Machado et al. (2009), severity 1.0, for linear RGB. Each row sums to 1: white and greys are unchanged.
VISION = {
    "normal": np.eye(3),
    "deuteranopia": np.array(
        [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]]
    ),
    "protanopia": np.array(
        [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]]
    ),
}
CVD = ("deuteranopia", "protanopia")
# linear sRGB -> CIE XYZ (D65), and the D65 white
SRGB_TO_XYZ = np.array(
    [[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750], [0.0193339, 0.1191920, 0.9503041]]
)
D65 = np.array([0.95047, 1.0, 1.08883])


def srgb(color: str) -> np.ndarray:
    """'#rrggbb' or 'rgb(r, g, b)' -> sRGB in [0, 1]."""
    if color.startswith("#"):
        return np.array(pc.hex_to_rgb(color), dtype=float) / 255
    return np.array(pc.unlabel_rgb(color), dtype=float) / 255


def decode(c: np.ndarray) -> np.ndarray:
    """sRGB -> linear RGB (IEC 61966-2-1)."""
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def encode(c: np.ndarray) -> np.ndarray:
    """linear RGB -> sRGB, clipped to the displayable range."""
    c = np.clip(c, 0.0, 1.0)
    return np.where(c <= 0.0031308, 12.92 * c, 1.055 * c ** (1 / 2.4) - 0.055)


def simulate(color: str, vision: str) -> np.ndarray:
    """The sRGB colour a viewer with `vision` sees for `color`."""
    return encode(VISION[vision] @ decode(srgb(color)))


def lab(rgb: np.ndarray) -> np.ndarray:
    """sRGB in [0, 1] -> CIELAB (D65)."""
    xyz = SRGB_TO_XYZ @ decode(rgb) / D65
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def seen(color: str, vision: str) -> np.ndarray:
    """CIELAB of `color` as a viewer with `vision` sees it."""
    return lab(simulate(color, vision))


def de00(lab1, lab2) -> float:
    """CIEDE2000 colour difference (kL = kC = kH = 1), as in Sharma, Wu & Dalal (2005)."""
    (l1, a1, b1), (l2, a2, b2) = lab1, lab2
    c_mean = (np.hypot(a1, b1) + np.hypot(a2, b2)) / 2
    g = 0.5 * (1 - np.sqrt(c_mean**7 / (c_mean**7 + 25**7)))  # a* stretched near the neutral axis
    a1, a2 = a1 * (1 + g), a2 * (1 + g)
    c1, c2 = np.hypot(a1, b1), np.hypot(a2, b2)
    h1, h2 = np.degrees(np.arctan2(b1, a1)) % 360, np.degrees(np.arctan2(b2, a2)) % 360
    dh = 0.0 if c1 * c2 == 0 else (h2 - h1 + 180) % 360 - 180  # hue step, within [-180, 180)
    d_l, d_c, d_h = l2 - l1, c2 - c1, 2 * np.sqrt(c1 * c2) * np.sin(np.radians(dh / 2))
    l_mean, c_mean = (l1 + l2) / 2, (c1 + c2) / 2
    if c1 * c2 == 0:
        h_mean = h1 + h2
    elif abs(h1 - h2) <= 180:
        h_mean = (h1 + h2) / 2
    else:
        h_mean = (h1 + h2 + 360) / 2 if h1 + h2 < 360 else (h1 + h2 - 360) / 2
    t = (
        1
        - 0.17 * np.cos(np.radians(h_mean - 30))
        + 0.24 * np.cos(np.radians(2 * h_mean))
        + 0.32 * np.cos(np.radians(3 * h_mean + 6))
        - 0.20 * np.cos(np.radians(4 * h_mean - 63))
    )
    s_l = 1 + 0.015 * (l_mean - 50) ** 2 / np.sqrt(20 + (l_mean - 50) ** 2)
    s_c = 1 + 0.045 * c_mean
    s_h = 1 + 0.015 * c_mean * t
    # the blue region's hue/chroma interaction
    d_theta = 30 * np.exp(-(((h_mean - 275) / 25) ** 2))
    rotation = -2 * np.sqrt(c_mean**7 / (c_mean**7 + 25**7)) * np.sin(np.radians(2 * d_theta))
    terms = (d_l / s_l) ** 2 + (d_c / s_c) ** 2 + (d_h / s_h) ** 2 + rotation * (d_c / s_c) * (d_h / s_h)
    return float(np.sqrt(terms))


def contrast(fg: str, bg: str) -> float:
    """WCAG 2.x contrast ratio of two colours."""
    lum = [float(np.array([0.2126, 0.7152, 0.0722]) @ decode(srgb(c))) for c in (fg, bg)]
    return (max(lum) + 0.05) / (min(lum) + 0.05)


def too_close(palette: dict[str, str], pairs, vision: str) -> list[tuple[str, str, float]]:
    """The pairs of statuses whose colours are less than MIN_DE00 apart for a viewer with `vision`."""
    out = []
    for a, b in pairs:
        d = de00(seen(palette[a], vision), seen(palette[b], vision))
        if d < MIN_DE00:
            out.append((a, b, round(d, 1)))
    return out


def divide_lost(palette: dict[str, str], vision: str) -> list[str]:
    """The statuses on the wrong side of the blue-yellow axis (b*) for a viewer with `vision`: the good ones
    should look blue (b* < 0), the late ones warm (b* > 0). Red-green colour blindness keeps that axis."""
    return [s for s in ORDER if (seen(palette[s], vision)[2] < 0) != (s in GOOD)]


ADJACENT = list(itertools.pairwise(ORDER))
AGAINST_UNAVAILABLE = [(s, "unavailable") for s in ORDER]
ALL_PAIRS = list(itertools.combinations([*ORDER, "unavailable"], 2))


# --- the maths itself -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lab1", "lab2", "expected"),
    [  # Sharma, Wu & Dalal (2005), table 1: pairs 1, 7, 17 and 34
        ((50.0, 2.6772, -79.7751), (50.0, 0.0, -82.7485), 2.0425),
        ((50.0, 0.0, 0.0), (50.0, -1.0, 2.0), 2.3669),
        ((50.0, 2.5, 0.0), (73.0, 25.0, -18.0), 27.1492),
        ((2.0776, 0.0795, -1.135), (0.9033, -0.0636, -0.5514), 0.9082),
    ],
)
def test_ciede2000_matches_the_published_test_data(lab1, lab2, expected):
    assert de00(lab1, lab2) == pytest.approx(expected, abs=1e-4)
    assert de00(lab2, lab1) == pytest.approx(expected, abs=1e-4)


def test_the_simulation_keeps_greys_and_merges_red_with_green():
    for matrix in VISION.values():
        assert matrix.sum(axis=1) == pytest.approx(np.ones(3), abs=1e-3)  # white stays white
    assert simulate("#777777", "deuteranopia") == pytest.approx(srgb("#777777"), abs=2e-3)
    red, green = "#d73027", "#1a9850"  # far apart to normal sight, close to a deuteranope
    assert de00(seen(red, "normal"), seen(green, "normal")) > 60
    assert de00(seen(red, "deuteranopia"), seen(green, "deuteranopia")) < 30


# --- status palette -------------------------------------------------------------------------------------


def test_every_status_has_a_colour_and_an_icon():
    assert set(STATUS_COLORS) == set(STATUS_ICONS) == {*core.STATUSES, "unavailable"} >= set(ORDER)


@pytest.mark.parametrize("vision", VISION)
@pytest.mark.parametrize(("a", "b"), ADJACENT + AGAINST_UNAVAILABLE)
def test_neighbouring_statuses_stay_apart(vision, a, b):
    assert not too_close(STATUS_COLORS, [(a, b)], vision)


@pytest.mark.parametrize("vision", VISION)
def test_any_two_statuses_stay_apart(vision):
    """A map shows any two statuses side by side, not only neighbours in the order."""
    assert not too_close(STATUS_COLORS, ALL_PAIRS, vision)


@pytest.mark.parametrize("vision", VISION)
def test_good_and_late_stay_on_their_side_of_the_divide(vision):
    assert not divide_lost(STATUS_COLORS, vision)


def test_the_old_red_to_green_palette_fails_these_checks():
    """The checks can fail: the palette before fails them under deuteranopia (and protanopia)."""
    assert [(a, b) for a, b, _ in too_close(OLD_STATUS_COLORS, ADJACENT, "deuteranopia")] == [
        ("met", "on_track"), ("on_track", "at_risk"), ("off_track", "missed"),
    ]  # fmt: skip
    assert too_close(OLD_STATUS_COLORS, ADJACENT, "protanopia")
    assert too_close(OLD_STATUS_COLORS, ALL_PAIRS, "deuteranopia")
    assert divide_lost(OLD_STATUS_COLORS, "deuteranopia") == GOOD  # both greens turn olive, like the reds
    assert divide_lost(OLD_STATUS_COLORS, "protanopia") == GOOD
    # the red-green confusion itself: on track (green) and at risk (orange) were far apart to normal sight
    green, orange = OLD_STATUS_COLORS["on_track"], OLD_STATUS_COLORS["at_risk"]
    normal, deuteranope = (de00(seen(green, v), seen(orange, v)) for v in ("normal", "deuteranopia"))
    assert normal > 40 and deuteranope < MIN_DE00


@pytest.mark.parametrize("status", STATUS_COLORS)
def test_badge_text_is_readable_on_every_status_colour(status):
    """The overview badge, the briefing's PDF/PPTX status cells and the map labels write white on them."""
    assert contrast(STATUS_TEXT_COLOR, STATUS_COLORS[status]) >= MIN_CONTRAST
    assert scales.is_dark(STATUS_COLORS[status])  # so the map writes district names in white on them too


def test_the_old_palette_failed_the_contrast_check():
    assert [s for s, c in OLD_STATUS_COLORS.items() if contrast("#ffffff", c) < MIN_CONTRAST] == [
        "met", "on_track", "at_risk", "unavailable",
    ]  # fmt: skip


def test_icons_are_distinct_plain_text_symbols():
    icons = list(STATUS_ICONS.values())
    assert len(set(icons)) == len(icons)
    for icon in icons:
        assert len(icon) == 1 and not icon.isspace()  # one code point: no emoji variation selector
        assert unicodedata.category(icon) in {"So", "Sm", "Po"}


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_status_label_is_icon_and_word(lang):
    for status in STATUS_COLORS:
        assert status_label(status, lang) == f"{STATUS_ICONS[status]} {i18n.status(status, lang)}"
    assert status_label("met", "vi") == "✓ Đạt" and status_label("missed", "en") == "✕ Missed"


# --- the map's colour scales ----------------------------------------------------------------------------


def lightness_along(scale, points: int = 101) -> np.ndarray:
    """L* of the colours Plotly draws along `scale`, from its low end to its high end."""
    return np.array([lab(srgb(c))[0] for c in pc.sample_colorscale(scale, list(np.linspace(0, 1, points)))])


@pytest.mark.parametrize("reverse", [False, True], ids=["more-is-better", "more-is-worse"])
def test_the_default_scales_are_sequential_light_to_dark(reverse):
    lightness = lightness_along(scales.colorscale_for(reverse=reverse))
    assert np.all(np.diff(lightness) < 0)  # strictly darker as the value grows: the order is read from lightness
    assert lightness[0] - lightness[-1] > 50  # and over a wide range
    for vision in CVD:  # the same for the colour blind: lightness is kept by the simulation
        seen_l = [seen(c, vision)[0] for c in pc.sample_colorscale(scales.colorscale_for(reverse=reverse), 51)]
        assert np.all(np.diff(seen_l) < 0)


def test_the_old_red_to_green_scale_was_not_sequential():
    lightness = lightness_along(OLD_COLORSCALE)
    assert not (np.all(np.diff(lightness) < 0) or np.all(np.diff(lightness) > 0))


@pytest.mark.parametrize("vision", VISION)
@pytest.mark.parametrize("reverse", [False, True], ids=["more-is-better", "more-is-worse"])
def test_no_data_grey_is_not_a_colour_of_the_scale(vision, reverse):
    grey = seen(maps.NO_DATA_COLOR, vision)
    colors = pc.sample_colorscale(scales.colorscale_for(reverse=reverse), 101)
    assert min(de00(grey, seen(c, vision)) for c in colors) >= MIN_DE00


# --- the Streamlit theme --------------------------------------------------------------------------------


def test_the_theme_colour_is_a_readable_blue():
    """primaryColor draws the ranked table's coverage bars and the buttons (white text on it)."""
    theme = tomllib.loads((PROJECT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))["theme"]
    primary = theme["primaryColor"]
    assert contrast(primary, "#ffffff") >= MIN_CONTRAST
    for vision in VISION:
        _, a, b = seen(primary, vision)
        assert b < -20 and abs(a) < abs(b)  # blue to everyone: not Streamlit's default red
