"""Opening the dashboard in Streamlit's AppTest, shared by the page, risk-page and export tests."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parent.parent / "app.py")


def open_app(page: str | None, lang: str, **state) -> AppTest:
    """Run app.py with `state` set, switch to `page` (a file under pages/, None = the overview),
    and fail on any exception or error element."""
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["lang"] = lang
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    if page:
        at.switch_page(page)
        at.run()
    return checked(at)


def checked(at: AppTest) -> AppTest:
    """`at` after a run that showed no exception and no error element."""
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def _widgets(node):
    """Every widget under an AppTest element tree node."""
    from streamlit.testing.v1.element_tree import Widget

    if isinstance(node, Widget):
        yield node
    for child in getattr(node, "children", {}).values():
        yield from _widgets(child)


def run_like_a_browser(at: AppTest) -> AppTest:
    """at.run(), then keep each widget's value the way the browser does.

    AppTest shows a widget with the value the script gave it on every run. A browser does not: a keyed
    widget keeps its element (Streamlit keys its identity on the key alone) and so keeps the value it
    shows, whatever new default or index the script passes, unless the script sets the value through
    the Session State API (the widget's proto then carries `set_value`). That kept value is what the
    browser sends back on the next click, anywhere on the page. This replays it, so a control that
    would drift from the figures in a real browser drifts here too.
    """
    sent = {w.id: w.value for w in _widgets(at._tree) if hasattr(w.proto, "set_value")}
    at.run()
    for widget in _widgets(at._tree):
        if widget.id not in sent or widget.proto.set_value:
            continue
        value = sent[widget.id]
        options = getattr(widget, "options", None)
        if options is not None and not isinstance(value, list | tuple):
            try:
                formatted = widget.format_func(value)
            except Exception:  # noqa: BLE001 - the option no longer exists: the browser resets it
                continue
            if str(formatted) not in options:
                continue
        widget.set_value(value)
    return at


def _decoded(value):
    """Plotly's JSON with its typed arrays ({"dtype": "f8", "bdata": base64}) as numpy arrays."""
    if isinstance(value, dict):
        if "bdata" in value and "dtype" in value:
            array = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
            shape = value.get("shape")
            return array.reshape([int(n) for n in str(shape).split(",")]) if shape else array
        return {key: _decoded(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_decoded(item) for item in value]
    return value


def charts(at: AppTest) -> list[dict]:
    """The Plotly figures on the page as dicts ({"data": [...], "layout": {...}}), arrays decoded."""
    return [_decoded(json.loads(chart.proto.spec)) for chart in at.get("plotly_chart")]


def shown(element) -> pd.DataFrame:
    """A page's table as a reader sees it: the column_config labels as headers, and each cell as displayed
    (a Styler's display values where the page formats numbers and dates; the values themselves otherwise).
    Hidden columns are left out."""
    frame = element.value
    display = element.proto.arrow_data.styler.display_values
    if display:
        cells = pa.ipc.open_stream(display).read_pandas()
        frame = cells.set_axis(frame.columns, axis=1).set_axis(frame.index, axis=0)
    config = json.loads(element.proto.columns or "{}")
    hidden = [c for c, spec in config.items() if spec.get("hidden") and c in frame.columns]
    labels = {c: spec["label"] for c, spec in config.items() if "label" in spec}
    return pd.DataFrame(frame.drop(columns=hidden)).rename(columns=labels).reset_index(drop=True)
