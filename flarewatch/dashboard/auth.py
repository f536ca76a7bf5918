"""Optional password gate for shared deployments; off unless a password is configured."""

from __future__ import annotations

import hmac

import streamlit as st

from flarewatch.dashboard import data

SESSION_KEY = "authenticated"


def configured_password() -> str | None:
    """The dashboard password from FLAREWATCH_DASHBOARD_PASSWORD (or config), else Streamlit secrets."""
    password = data.settings().dashboard_password
    if password:
        return password
    try:
        secret = st.secrets.get("dashboard_password")
    except FileNotFoundError:  # no secrets.toml: nothing configured
        return None
    return str(secret) if secret else None


def matches(given: str, expected: str) -> bool:
    """Compare in constant time, so response timing does not leak the password."""
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def _login_form(expected: str) -> None:
    st.title("Flarewatch")
    with st.form("login"):
        given = st.text_input("Password", type="password")
        if st.form_submit_button("Sign in", type="primary"):
            if matches(given, expected):
                st.session_state[SESSION_KEY] = True
                st.rerun()
            st.error("Wrong password.")


def require_login() -> bool:
    """Return True when the visitor may see the dashboard; otherwise show the login form."""
    expected = configured_password()
    if expected is None or st.session_state.get(SESSION_KEY):
        return True
    _login_form(expected)
    return False
