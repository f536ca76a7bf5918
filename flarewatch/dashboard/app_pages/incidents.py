"""Incidents page: open, re-grade and close incidents; marketing posture; post-incident report."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from flarewatch.dashboard import composer, data, state
from flarewatch.domain import SEVERITIES
from flarewatch.render.text import escape_markdown as md


def _open_incident() -> None:
    title = st.session_state["new_incident_title"].strip()
    if not title:
        st.session_state["new_incident_error"] = "Give the incident a title."
        return
    brand, severity = st.session_state["new_incident_brand"], st.session_state["new_incident_sev"]
    # A callback runs before the sidebar exists, so it may select the new incident.
    st.session_state["incident_id"] = data.open_incident(title, brand, severity)


def open_form() -> None:
    """Declare a new incident; it opens now and becomes the selected one."""
    with st.expander("Open an incident"), st.form("open_incident", clear_on_submit=True):
        st.text_input("Title", placeholder="Login outage", key="new_incident_title")
        st.selectbox(
            "Brand", data.brands(), index=None, placeholder="all brands", key="new_incident_brand"
        )
        st.selectbox("Severity", SEVERITIES, index=2, key="new_incident_sev")
        st.form_submit_button("Open incident", type="primary", on_click=_open_incident)
    if error := st.session_state.pop("new_incident_error", None):
        st.error(error)


def manage(incident: pd.Series) -> None:
    """Severity and closing for the incident chosen in the sidebar."""
    incident_id = int(incident.name)
    st.subheader(f"#{incident_id} {md(incident['title'])}")
    cols = st.columns([2, 1, 3], vertical_alignment="bottom")
    severity = cols[0].selectbox(
        "Severity",
        SEVERITIES,
        index=SEVERITIES.index(incident["severity"]),
        key=f"severity_{incident_id}",
    )
    if severity != incident["severity"]:
        data.set_severity(incident_id, severity)
        st.rerun()
    if incident["status"] == "open":
        if cols[1].button("Resolve incident", type="primary"):
            data.close_incident(incident_id)
            st.rerun()
    else:
        cols[1].metric("Resolved", f"{incident['resolved_at']:%Y-%m-%d %H:%M} UTC")
    if incident["status"] == "resolved":
        close(incident_id, cols[2])


def close(incident_id: int, where: Any) -> None:
    """Closed means customers answered: list high-priority ones still waiting, ask to confirm."""
    waiting = data.unanswered_authors(incident_id)
    sure = True
    if len(waiting):
        st.warning(f"{len(waiting)} high-priority unhappy author(s) still unanswered.")
        st.dataframe(waiting[["platform", "handle", "priority", "reason"]], hide_index=True)
        sure = st.checkbox("Close anyway", key=f"close_anyway_{incident_id}")
    if where.button("Close incident", disabled=not sure, key=f"close_{incident_id}"):
        data.finish_incident(incident_id)
        st.rerun()


def posture(incident_id: int) -> None:
    """Marketing's call: hold campaigns while negativity is above normal, with the reason."""
    found = data.marketing_posture(incident_id)
    say = st.error if found.hold else st.success
    verdict = "Hold marketing" if found.hold else "Marketing may resume"
    say(f"**{verdict}.** {md(found.reason)}", icon=":material/campaign:")


def report(incident: pd.Series) -> None:
    """Build the post-incident report on request, then offer it as Markdown and HTML."""
    incident_id = int(incident.name)
    key = f"report_{incident_id}"
    if st.button("Prepare post-incident report", key=f"prepare_{incident_id}"):
        with st.spinner("Writing the report…"):
            st.session_state[key] = {fmt: data.report(incident_id, fmt) for fmt in ("md", "html")}
    built = st.session_state.get(key)
    if built is None:
        return
    if built["md"] is None:
        st.info("The report groups complaints with the sentiment model, which is not installed.")
        return
    cols = st.columns(2)
    name = f"incident_{incident_id}_report"
    cols[0].download_button(
        "Download report (Markdown)", built["md"], f"{name}.md", "text/markdown", on_click="ignore"
    )
    cols[1].download_button(
        "Download report (HTML)", built["html"], f"{name}.html", "text/html", on_click="ignore"
    )


def render() -> None:
    """Render the Incidents page."""
    st.title("Incidents")
    incidents = data.incidents()
    st.dataframe(
        incidents,
        hide_index=True,
        column_config={
            "opened_at": st.column_config.DatetimeColumn("opened", format="YYYY-MM-DD HH:mm"),
            "resolved_at": st.column_config.DatetimeColumn("resolved", format="YYYY-MM-DD HH:mm"),
        },
    )
    open_form()
    incident = state.selected_incident()
    if incident is not None:
        manage(incident)
        # Marketing's hold stays in sight of whoever writes the public update.
        posture(int(incident.name))
        composer.compose(incident)
        report(incident)


render()
