"""Analyst login for the dashboard: local accounts (`tracker user add NAME`), checked by tracker.auth."""

from __future__ import annotations

import streamlit as st

from tracker import auth, i18n

SESSION_KEY = "analyst"


def analyst() -> str | None:
    """The logged-in analyst's name, or None."""
    return st.session_state.get(SESSION_KEY)


def login_form(folder: str, lang: str) -> str | None:
    """Show the login form until an analyst has logged in; return the analyst's name."""
    if analyst():
        return analyst()
    with st.form("login"):
        st.markdown(f"**{i18n.t('login.heading', lang)}**")
        name = st.text_input(i18n.t("login.name", lang), key="login_name")
        password = st.text_input(i18n.t("login.password", lang), type="password", key="login_password")
        submitted = st.form_submit_button(i18n.t("login.submit", lang))
    if submitted:
        if name and password and auth.verify(folder, name.strip(), password):
            st.session_state[SESSION_KEY] = name.strip()
            st.rerun()
        st.error(i18n.t("login.failed", lang))
    st.caption(i18n.t("login.help", lang))
    return None


def logout_button(lang: str) -> None:
    name = analyst()
    if name and st.sidebar.button(i18n.t("login.logout", lang, name=name), key="logout"):
        st.session_state.pop(SESSION_KEY, None)
        st.rerun()
