"""Page state shared across reruns: sticky filters, live refresh and the selected incident."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

from flarewatch.dashboard import data

# Filter widgets use keys with this prefix, so their values survive page switches.
STICKY_PREFIX = "keep_"
REFRESH_S = 30
RERUN_APP = "rerun_app"


def keep_filters() -> None:
    """Carry sticky widget values over runs where their page is not shown."""
    for key in [k for k in st.session_state if str(k).startswith(STICKY_PREFIX)]:
        st.session_state[key] = st.session_state[key]


def default(key: str, value: object) -> None:
    """Give a sticky widget its first value (widgets then take no default argument)."""
    st.session_state.setdefault(key, value)


def only_options(key: str, options: list[Any]) -> list[Any]:
    """Drop remembered multi-choice picks that are no longer offered (another incident's)."""
    st.session_state[key] = [v for v in st.session_state.get(key, []) if v in options]
    return options


def refresh_every() -> int | None:
    """Seconds between live refreshes, or None when the user paused them."""
    return REFRESH_S if st.session_state.get("live_refresh", True) else None


def request_app_rerun() -> None:
    """From a widget callback inside a fragment: rerun the whole app, not just the fragment."""
    st.session_state[RERUN_APP] = True


def live(body: Callable[[], None]) -> None:
    """Run `body` as a fragment that reruns on its own; the rest of the page stays as it is."""

    def fragment() -> None:
        if st.session_state.pop(RERUN_APP, False):
            st.rerun(scope="app")
        body()

    st.fragment(run_every=refresh_every())(fragment)()


def selected_incident() -> pd.Series | None:
    """The incident chosen in the sidebar (id in `.name`), or None."""
    incident_id = st.session_state.get("incident_id")
    frame = data.incidents().set_index("id")
    return frame.loc[incident_id] if incident_id in frame.index else None
