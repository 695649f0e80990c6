"""Shared look of every figure, and the toolbar download set up for briefings."""

from __future__ import annotations

import datetime as dt
import re
import textwrap
import unicodedata

import plotly.graph_objects as go

from tracker import i18n

# Status colours, in the order of the statuses: a blue -> orange -> dark red diverging scheme that survives
# red-green colour blindness (blue against orange is the axis deuteranopes and protanopes keep; the steps
# also differ in lightness), with dark grey when there is no figure. Good on the blue side: met the darkest
# blue, on track a lighter one (the Okabe-Ito blue); behind on the warm side, darker the worse: at risk a
# dark orange, off track a dark red, missed a wine red. Every colour takes white text at >= 4.5:1 (WCAG AA):
# the overview badge, the status cells of the briefing's PDF and PowerPoint tables and the map labels write
# white on them. tests/test_palettes.py checks all of this, under simulated deuteranopia and protanopia.
# Never shown by colour alone: STATUS_ICONS gives each status a symbol to write before its word.
STATUS_COLORS = {
    "met": "#08306b",
    "on_track": "#0072b2",
    "at_risk": "#c05400",
    "off_track": "#931500",
    "missed": "#5a0f1c",
    "unavailable": "#707070",
}
# Plain text symbols (no emoji presentation, in DejaVu Sans): usable in Streamlit markdown, Plotly legends and
# tooltips and the briefing's fonts. Status labels are written icon + word: status_label().
STATUS_ICONS = {
    "met": "✓",
    "on_track": "▲",
    "at_risk": "!",
    "off_track": "▼",
    "missed": "✕",
    "unavailable": "?",
}
STATUS_TEXT_COLOR = "#ffffff"  # text written on a status colour

PROVINCE_COLOR = "#1f4e79"
OVER_COLOR = "#7b3294"  # a reported coverage above 100 %: a data problem to look at, not an achievement
SERIES_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf"]
DOSE_COLORS = {1: "#4c9be8", 2: "#1f4e79", 3: "#f39c12", 4: "#8e44ad"}
FONT = "Be Vietnam Pro, Source Sans Pro, Arial, sans-serif"


def status_label(code: str, lang: str) -> str:
    """A status as icon + word, e.g. "✓ Đạt" / "✓ Met": the colour is never its only sign."""
    return f"{STATUS_ICONS[code]} {i18n.status(code, lang)}"


def slug(text: str) -> str:
    """ASCII file-name part: 'Huyện Lâm Bình' -> 'huyen-lam-binh'."""
    text = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def download_config(metric: str, place: str, as_of: dt.date | str, lang: str | None = None) -> dict:
    """Plotly `config` for st.plotly_chart: PNG at 2x by default, SVG one click away, a telling file name;
    with `lang` "vi", the chart toolbar's tooltips in Vietnamese (Plotly's own locale mechanism: a
    dictionary from its English texts, the [plotly] entries of tracker/i18n.toml)."""
    day = as_of.isoformat() if isinstance(as_of, dt.date) else str(as_of)
    config = {
        "displaylogo": False,
        "toImageButtonOptions": {
            "format": "png",
            "filename": f"{slug(metric)}_{slug(place)}_{day}",
            "scale": 2,
        },
        "modeBarButtonsToAdd": ["toImage"],
    }
    if lang and lang != "en":
        config["locale"] = lang
        config["locales"] = {lang: {"dictionary": plotly_dictionary(lang)}}
    return config


def plotly_dictionary(lang: str) -> dict[str, str]:
    """Plotly's English interface texts (toolbar tooltips, notices) -> `lang`, from the [plotly] entries."""
    entries = {k: v for k, v in i18n.table().items() if k.startswith("plotly.")}
    return {entry["en"]: entry[lang] for entry in entries.values()}


# Plotly draws its texts (hover labels, legend entries, axis labels, annotations, titles) from a subset of HTML
# (<b>, <i>, <br>, <a href>, <span style>) with entities decoded, a hovertemplate also fills %{…} fields, and
# a text between $…$ is LaTeX. A name from the data is given as entities for those characters.
_PLOTLY = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "%": "&#37;", "$": "&#36;"})


def plotly_text(text) -> str:
    """`text` (a unit name, any string from the data) for a Plotly text or hovertemplate: shown as it is, never
    as a tag, a %{…} field or LaTeX. Not for the names written on a map (a Scattermap `mode="text"` trace):
    plotly.js hands those to MapLibre, which draws plain text."""
    return str(text).translate(_PLOTLY)


# Plotly's number separators per language: decimal mark, then thousands separator.
SEPARATORS = {"vi": ",.", "en": ".,"}
DATE_TICKS = {"vi": "%d/%m/%Y", "en": "%d %b %Y"}
MONTH_TICKS = {"vi": "%m/%Y", "en": "%b %Y"}
TITLE_WIDTH = 44  # characters of a chart title per line: what fits a phone's chart (390 px screen)


def style(fig: go.Figure, title: str | None = None, height: int = 420, lang: str | None = None) -> go.Figure:
    """The house style: white background, readable font, legend below, room for a title.

    With `lang`, axis numbers use that language's separators (1.234,5 in Vietnamese) and date
    axes numeric months (04/2021), so no text on the chart is left in the other language.
    """
    if lang:
        fig.update_layout(separators=SEPARATORS[lang])
        fig.update_xaxes(tickformat=MONTH_TICKS[lang], hoverformat=DATE_TICKS[lang], selector={"type": "date"})
    lines = textwrap.wrap(title, TITLE_WIDTH) if title else []  # a phone's chart is ~360 px: wrap, never clip
    fig.update_layout(
        title={"text": "<br>".join(lines), "x": 0, "xanchor": "left"} if title else None,
        template="plotly_white",
        font={"family": FONT, "size": 13},
        height=height,
        margin={"l": 10, "r": 10, "t": 30 + 20 * len(lines) if title else 20, "b": 10},
        legend={"orientation": "h", "yanchor": "top", "y": -0.12, "x": 0},
        hoverlabel={"font": {"family": FONT}},
    )
    return fig
