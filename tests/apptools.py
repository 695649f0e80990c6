"""Opening the dashboard in Streamlit's AppTest, shared by the page, risk-page and export tests."""

from __future__ import annotations

from pathlib import Path

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
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at
