"""Streamlit entry point: incident selector in the sidebar and st.navigation over the pages."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from flarewatch.dashboard import data

PAGES = Path(__file__).parent / "app_pages"
BUCKETS = (15, 30, 60, 180)


def sidebar() -> None:
    """Incident and bucket selectors shared by every page, kept in session state."""
    frame = data.incidents()
    if frame.empty:
        st.sidebar.info("No incidents yet: `flarewatch incident open` or `flarewatch demo`.")
        st.session_state["incident_id"] = None
        return
    labels = {int(r.id): f"#{r.id} {r.severity} {r.title} ({r.status})" for r in frame.itertuples()}
    st.sidebar.selectbox(
        "Incident", list(labels), format_func=labels.__getitem__, key="incident_id"
    )
    default = data.settings().bucket_minutes
    st.sidebar.select_slider(
        "Bucket (minutes)",
        BUCKETS,
        key="bucket_minutes",
        value=default if default in BUCKETS else 60,
    )


def main() -> None:
    """Render the app."""
    st.set_page_config(page_title="Flarewatch", page_icon="🔥", layout="wide")
    sidebar()
    page = st.navigation(
        [
            st.Page(PAGES / "live.py", title="Live", icon="📈", default=True),
            st.Page(PAGES / "outreach.py", title="Outreach", icon="📣"),
        ]
    )
    page.run()


main()
