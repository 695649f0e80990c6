"""Shared look of every figure, and the toolbar download set up for briefings."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

import plotly.graph_objects as go

# Status colours: green is good, orange a warning, red a miss; grey when there is no figure.
STATUS_COLORS = {
    "met": "#1a9850",
    "on_track": "#66bd63",
    "at_risk": "#f39c12",
    "off_track": "#d73027",
    "missed": "#a50026",
    "unavailable": "#9e9e9e",
}
PROVINCE_COLOR = "#1f4e79"
OVER_COLOR = "#7b3294"  # a reported coverage above 100 %: a data problem to look at, not an achievement
SERIES_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf"]
DOSE_COLORS = {1: "#4c9be8", 2: "#1f4e79", 3: "#f39c12", 4: "#8e44ad"}
FONT = "Be Vietnam Pro, Source Sans Pro, Arial, sans-serif"


def slug(text: str) -> str:
    """ASCII file-name part: 'Huyện Lâm Bình' -> 'huyen-lam-binh'."""
    text = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def download_config(metric: str, place: str, as_of: dt.date | str) -> dict:
    """Plotly `config` for st.plotly_chart: PNG at 2x by default, SVG one click away, a telling file name."""
    day = as_of.isoformat() if isinstance(as_of, dt.date) else str(as_of)
    return {
        "displaylogo": False,
        "toImageButtonOptions": {
            "format": "png",
            "filename": f"{slug(metric)}_{slug(place)}_{day}",
            "scale": 2,
        },
        "modeBarButtonsToAdd": ["toImage"],
    }


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


def style(fig: go.Figure, title: str | None = None, height: int = 420, lang: str | None = None) -> go.Figure:
    """The house style: white background, readable font, legend below, room for a title.

    With `lang`, axis numbers use that language's separators (1.234,5 in Vietnamese) and date
    axes numeric months (04/2021), so no text on the chart is left in the other language.
    """
    if lang:
        fig.update_layout(separators=SEPARATORS[lang])
        fig.update_xaxes(tickformat=MONTH_TICKS[lang], hoverformat=DATE_TICKS[lang], selector={"type": "date"})
    fig.update_layout(
        title={"text": title, "x": 0, "xanchor": "left"} if title else None,
        template="plotly_white",
        font={"family": FONT, "size": 13},
        height=height,
        margin={"l": 10, "r": 10, "t": 50 if title else 20, "b": 10},
        legend={"orientation": "h", "yanchor": "top", "y": -0.12, "x": 0},
        hoverlabel={"font": {"family": FONT}},
    )
    return fig
