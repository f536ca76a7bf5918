"""Streamlit entry point: password gate, shared sidebar filters and st.navigation over the pages."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from flarewatch.dashboard import auth, data, state

PAGES = Path(__file__).parent / "app_pages"
BUCKETS = (15, 30, 60, 180)


def sidebar() -> None:
    """Incident, bucket and refresh selectors shared by every page, kept in session state."""
    frame = data.incidents()
    if frame.empty:
        st.sidebar.info(
            "No incidents yet: open one on the Incidents page or run `flarewatch demo`."
        )
        st.session_state["incident_id"] = None
    else:
        labels = {
            int(r.id): f"#{r.id} {r.severity} {r.title} ({r.status})" for r in frame.itertuples()
        }
        if st.session_state.get("incident_id") not in labels:
            st.session_state.pop("incident_id", None)
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
    st.sidebar.toggle("Live refresh", value=True, key="live_refresh")


def pages() -> list[st.Page]:
    """The dashboard pages, Live first."""
    return [
        st.Page(PAGES / "live.py", title="Live", icon=":material/monitoring:", default=True),
        st.Page(PAGES / "outreach.py", title="Outreach", icon=":material/support_agent:"),
        st.Page(PAGES / "trends.py", title="Trends", icon=":material/bar_chart:"),
        st.Page(PAGES / "incidents.py", title="Incidents", icon=":material/emergency:"),
        st.Page(PAGES / "sources.py", title="Sources", icon=":material/sensors:"),
    ]


def record_feedback() -> None:
    """Record "useful"/"noise" from an alert's link (`?alert=ID&feedback=useful`), once."""
    params = st.query_params
    if "alert" not in params or "feedback" not in params:
        return
    try:
        data.set_alert_feedback(int(params["alert"]), params["feedback"])
    except (ValueError, LookupError) as exc:
        st.toast(f"Alert feedback not recorded: {exc}")
    else:
        st.toast(f"Alert {params['alert']} marked {params['feedback']}. Thank you.")
    del params["alert"], params["feedback"]


def main() -> None:
    """Render the app."""
    st.set_page_config(page_title="Flarewatch", page_icon="🔥", layout="wide")
    if not auth.require_login():
        return
    record_feedback()
    state.keep_filters()
    sidebar()
    st.navigation(pages()).run()


main()
