"""Analyst login for the dashboard: local accounts (`tracker user add NAME`), checked by tracker.auth.

Logins go through ``auth.attempt_login``: throttled per account name and per client (the browser's
address, ``st.context.ip_address``), every attempt recorded in the store. The account is checked
again on every run of a page that shows the login form and just before each write
(``ensure_active``): a disabled or removed account is logged out at once, with a message.
"""

from __future__ import annotations

import math

import streamlit as st

from dashboard.loaders import config
from dashboard.state import md_escape
from tracker import auth, fmt, i18n

SESSION_KEY = "analyst"
ENDED_KEY = "login_ended"  # whose session was ended because the account was disabled or removed
PREVIOUS_KEY = "login_previous"  # the LoginResult of the login, shown once after it


def analyst() -> str | None:
    """The logged-in analyst's name, or None."""
    return st.session_state.get(SESSION_KEY)


def _client() -> str | None:
    """The browser's IP address (None on the server itself, in tests, or when Streamlit cannot tell)."""
    try:
        return st.context.ip_address
    except Exception:  # no session context (e.g. a bare script run)
        return None


def _end_session(name: str) -> None:
    st.session_state.pop(SESSION_KEY, None)
    st.session_state.pop(PREVIOUS_KEY, None)
    st.session_state[ENDED_KEY] = name


def ensure_active(folder: str) -> str:
    """Just before a write: the analyst, while the account still exists and is enabled. Otherwise the
    session ends and the page reruns with the login form saying why: nothing after this call runs."""
    name = analyst()
    if name and auth.is_active(folder, name):
        return name
    _end_session(name or "")
    st.rerun()


def _wait(seconds: int, lang: str) -> str:
    if seconds < 120:
        return i18n.t("login_guard.wait_seconds", lang, n=seconds)
    return i18n.t("login_guard.wait_minutes", lang, n=math.ceil(seconds / 60))


def _previous_login(result: auth.LoginResult, lang: str) -> None:
    """The account's previous successful login and the failed attempts since: a warning when there were some."""
    failures = fmt.number(result.failures_since, lang)
    if result.previous_at is None:
        text = i18n.t("login_guard.first", lang, failures=failures)
    else:
        when = f"{fmt.date(result.previous_at, lang)} {result.previous_at:%H:%M} UTC"
        client = md_escape(result.previous_client) or i18n.t("login_guard.unknown_client", lang)
        text = i18n.t("login_guard.previous", lang, time=when, client=client, failures=failures)
    if result.failures_since:
        st.warning(f"{text} {i18n.t('login_guard.not_you', lang)}")
    else:
        st.info(text)


def login_form(folder: str, lang: str) -> str | None:
    """Show the login form until an analyst has logged in; return the analyst's name.

    Each run checks that the logged-in account still exists and is enabled; if not, the session
    ends and the form comes back with a message."""
    name = analyst()
    if name:
        if auth.is_active(folder, name):
            previous = st.session_state.pop(PREVIOUS_KEY, None)
            if previous is not None:
                _previous_login(previous, lang)
            return name
        _end_session(name)
    ended = st.session_state.pop(ENDED_KEY, None)
    if ended is not None:
        st.warning(i18n.t("login_guard.ended", lang, name=md_escape(ended)))
    with st.form("login"):
        st.markdown(f"**{i18n.t('login.heading', lang)}**")
        name = st.text_input(i18n.t("login.name", lang), key="login_name")
        password = st.text_input(i18n.t("login.password", lang), type="password", key="login_password")
        submitted = st.form_submit_button(i18n.t("login.submit", lang))
    if submitted:
        result = None
        if name.strip() and password:  # an empty form is no attempt: nothing to check or record
            policy = auth.LoginPolicy.from_config(config())
            result = auth.attempt_login(folder, name, password, client=_client(), policy=policy)
        if result is not None and result.ok:
            st.session_state[SESSION_KEY] = result.name
            st.session_state[PREVIOUS_KEY] = result
            st.rerun()
        if result is not None and result.reason == auth.LOCKED:
            st.error(i18n.t("login_guard.locked", lang, wait=_wait(result.retry_after, lang)))
        else:
            st.error(i18n.t("login.failed", lang))
    st.caption(i18n.t("login.help", lang))
    return None


def logout_button(lang: str) -> None:
    name = analyst()
    if name and st.sidebar.button(i18n.t("login.logout", lang, name=md_escape(name)), key="logout"):
        st.session_state.pop(SESSION_KEY, None)
        st.session_state.pop(PREVIOUS_KEY, None)
        st.rerun()
