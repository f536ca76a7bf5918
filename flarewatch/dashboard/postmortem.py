"""The Incidents page's post-mortem editor, roles, archive/delete and repository search."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pandas as pd
import streamlit as st

from flarewatch.dashboard import data
from flarewatch.domain import INCIDENT_KINDS, POSTMORTEM_FIELDS, PostMortem

HELP = {
    "summary": "What happened, in a few sentences.",
    "impact": "Who was affected, how much and for how long.",
    "root_cause": "Why it happened: systems and decisions, never people.",
    "fix": "How it was fixed for good.",
}


def roles(incident: pd.Series) -> None:
    """Kind (it picks the alert destinations), incident commander and comms lead."""
    incident_id = int(incident.name)
    with st.form(f"roles_{incident_id}"):
        cols = st.columns(3)
        kind = cols[0].selectbox(
            "Kind", INCIDENT_KINDS, index=INCIDENT_KINDS.index(incident.get("kind") or "service")
        )
        commander = cols[1].text_input("Incident commander", incident.get("commander") or "")
        comms = cols[2].text_input("Comms lead", incident.get("comms_lead") or "")
        if st.form_submit_button("Save roles"):
            data.set_roles(incident_id, kind, commander, comms)
            st.rerun()


def fields(incident_id: int, found: PostMortem) -> None:
    """The blameless template: summary, impact, root cause, fix."""
    with st.form(f"postmortem_{incident_id}"):
        st.caption("Blameless: describe systems and decisions, not people.")
        edited = {
            name: st.text_area(
                name.replace("_", " ").capitalize(), getattr(found, name), help=HELP[name]
            )
            for name in POSTMORTEM_FIELDS
        }
        if st.form_submit_button("Save post-mortem", type="primary"):
            data.save_postmortem(incident_id, edited)
            st.success("Post-mortem saved.")


def follow_ups(incident_id: int, found: PostMortem) -> None:
    """Follow-up actions (tick when done) and a form to add one."""
    st.markdown("**Follow-up actions**")
    for action in found.follow_ups:
        due = f", due {action.due:%Y-%m-%d}" if action.due else ""
        done = st.checkbox(
            f"{action.action} — {action.owner or 'no owner'}{due}",
            value=action.done,
            key=f"follow_up_{action.id}",
        )
        if done != action.done:
            data.set_follow_up_done(action.id, done)
            st.rerun()
    with st.form(f"add_follow_up_{incident_id}", clear_on_submit=True):
        cols = st.columns([3, 1, 1], vertical_alignment="bottom")
        text = cols[0].text_input("New action")
        owner = cols[1].text_input("Owner")
        due_day = cols[2].date_input("Due", value=None)
        if st.form_submit_button("Add action") and text.strip():
            when = datetime.combine(due_day, time(), UTC) if due_day else None
            data.add_follow_up(incident_id, text, owner or None, when)
            st.rerun()


def timeline(incident_id: int) -> None:
    """Flarewatch's own events and people's entries, and a form to add one."""
    entries = data.incident_timeline(incident_id)
    st.markdown("**Timeline**")
    st.dataframe(
        pd.DataFrame(
            [(e.at, e.event, e.source) for e in entries], columns=["at", "event", "source"]
        ),
        hide_index=True,
        column_config={"at": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")},
    )
    with st.form(f"add_entry_{incident_id}", clear_on_submit=True):
        cols = st.columns([1, 1, 3], vertical_alignment="bottom")
        day = cols[0].date_input("Day", value=datetime.now(UTC).date())
        at = cols[1].time_input("Time (UTC)", value=time(0, 0))
        text = cols[2].text_input("What happened")
        if st.form_submit_button("Add entry") and text.strip():
            data.add_timeline_entry(incident_id, datetime.combine(day, at, UTC), text)
            st.rerun()


def keep_or_delete(incident: pd.Series) -> None:
    """Export for a wiki; archive a resolved incident; delete one without a post-mortem."""
    incident_id = int(incident.name)
    cols = st.columns(3)
    cols[0].download_button(
        "Post-mortem (Markdown, for a wiki)",
        data.export_postmortem(incident_id),
        f"incident_{incident_id}_postmortem.md",
        "text/markdown",
        on_click="ignore",
    )
    if incident["status"] == "resolved" and cols[1].button("Archive incident"):
        data.archive_incident(incident_id)
        st.rerun()
    if cols[2].button("Delete incident", key=f"delete_{incident_id}"):
        try:
            data.delete_incident(incident_id)
        except ValueError as exc:
            st.error(str(exc))
        else:
            st.session_state.pop("incident_id", None)
            st.rerun()


def editor(incident: pd.Series) -> None:
    """The whole post-mortem section for the selected incident."""
    incident_id = int(incident.name)
    st.subheader("Post-mortem")
    found = data.postmortem(incident_id) or PostMortem(incident_id=incident_id)
    roles(incident)
    fields(incident_id, found)
    follow_ups(incident_id, found)
    timeline(incident_id)
    keep_or_delete(incident)


def search() -> None:
    """Search past incidents' titles, post-mortems and complaint themes."""
    text = st.text_input("Search past incidents", placeholder="certificate expired, baggage…")
    if not text.strip():
        return
    try:
        found = data.search_incidents(text)
    except ValueError as exc:
        st.error(str(exc))
        return
    if found.empty:
        st.info("No past incident matches.")
        return
    st.dataframe(
        found.drop(columns=["rank"]),
        hide_index=True,
        column_config={"opened_at": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")},
    )
