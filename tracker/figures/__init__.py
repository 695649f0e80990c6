"""Figure builders: the one place every chart is made, for the pages, the exports and the briefings.

Builders take plain DataFrames prepared by tracker.views and a language, and return Plotly figures.
Nothing here reads the store or imports streamlit.
"""

from tracker.figures.common import STATUS_COLORS, download_config

__all__ = ["STATUS_COLORS", "download_config"]
