"""Dashboard entry point: the shared sidebar controls, then the page the user chose.

Run with `make run` (or `streamlit run app.py`). The controls live here so they are kept
across pages; each page in pages/ reads them and renders what tracker/ computes.

The pages are listed here with st.navigation, not discovered from the folder; a page started
without this entry point (Streamlit's old pages/ mode, on the first run after a start) comes
back through it: see dashboard.state.guarded.
"""

from __future__ import annotations

import streamlit as st

from dashboard.access import analyst, login_form
from dashboard.controls import sidebar
from dashboard.loaders import config
from dashboard.state import md_escape
from tracker import auth, i18n
from tracker.errors import TrackerError

st.set_page_config(
    page_title=i18n.t("app.short_title", "vi", province=config().name("vi")),
    page_icon="💉",
    layout="wide",
)

try:
    ctx = sidebar()
except TrackerError as exc:  # e.g. the store is locked or data/ is unreadable: a message, not a traceback
    st.error(i18n.t("app.error", "vi", message=md_escape(str(exc))))
    st.stop()
st.session_state["ctx"] = ctx
# a setting can close the dashboard to visitors; a disabled account is logged out at once (login_form)
if ctx.cfg.require_login_to_view and not (analyst() and auth.is_active(ctx.folder, analyst())):
    st.info(i18n.t("login.required", ctx.lang))
    login_form(ctx.folder, ctx.lang)
    st.stop()
pages = [
    st.Page("pages/overview.py", title=i18n.t("page.overview", ctx.lang), default=True),  # served at /
    st.Page("pages/districts.py", title=i18n.t("page.districts", ctx.lang), url_path="districts"),
    st.Page("pages/trends.py", title=i18n.t("page.trends", ctx.lang), url_path="trends"),
    st.Page("pages/risk.py", title=i18n.t("risk.title", ctx.lang), url_path="risk"),
    st.Page("pages/upload.py", title=i18n.t("upload.title", ctx.lang), url_path="upload"),
    st.Page("pages/about.py", title=i18n.t("about_page.title", ctx.lang), url_path="about"),
]
st.navigation(pages, position="sidebar").run()
