"""Password gate for shared deployments (off unless a password is configured), slowed per client."""

from __future__ import annotations

import hmac
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import streamlit as st

from flarewatch.dashboard import data

SESSION_KEY = "authenticated"
FREE_ATTEMPTS = 3
MAX_DELAY_S = 900.0


def configured_password() -> str | None:
    """The dashboard password from FLAREWATCH_DASHBOARD_PASSWORD (env, .env), else Streamlit secrets."""
    password = data.settings().secret("dashboard_password")
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


@dataclass
class Throttle:
    """Wrong passwords per client: after `FREE_ATTEMPTS`, each one doubles the wait (to 15 min)."""

    clock: Callable[[], float] = time.monotonic
    _failures: dict[str, tuple[int, float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def wait_s(self, client: str) -> float:
        """Seconds `client` must wait before its next attempt counts (0 when it may try now)."""
        with self._lock:
            _, until = self._failures.get(client, (0, 0.0))
        return max(0.0, until - self.clock())

    def failed(self, client: str) -> None:
        """Record a wrong password from `client`."""
        with self._lock:
            count = self._failures.get(client, (0, 0.0))[0] + 1
            delay = (
                0.0 if count < FREE_ATTEMPTS else min(MAX_DELAY_S, 2.0 ** (count - FREE_ATTEMPTS))
            )
            self._failures[client] = (count, self.clock() + delay)

    def succeeded(self, client: str) -> None:
        """Forget `client`'s failures."""
        with self._lock:
            self._failures.pop(client, None)


# One per server process: every browser session of a client shares its count.
THROTTLE = Throttle()


def client_id() -> str:
    """The visitor's address as Streamlit sees it (a reverse proxy's, behind one)."""
    try:
        address = st.context.ip_address
    except (AttributeError, RuntimeError):
        return "unknown"
    return address if isinstance(address, str) and address else "unknown"


def _attempt(given: str, expected: str, client: str) -> None:
    wait = THROTTLE.wait_s(client)
    if wait > 0:
        st.error(f"Too many wrong passwords: try again in {wait:.0f} s.")
        return
    if matches(given, expected):
        THROTTLE.succeeded(client)
        st.session_state[SESSION_KEY] = True
        st.rerun()
    THROTTLE.failed(client)
    st.error("Wrong password.")


def _login_form(expected: str) -> None:
    st.title("Flarewatch")
    with st.form("login"):
        given = st.text_input("Password", type="password")
        if st.form_submit_button("Sign in", type="primary"):
            _attempt(given, expected, client_id())


def require_login() -> bool:
    """Return True when the visitor may see the dashboard; otherwise show the login form."""
    expected = configured_password()
    if expected is None or st.session_state.get(SESSION_KEY):
        return True
    _login_form(expected)
    return False
