"""Outreach page: unhappy authors ranked by priority, editable status, CSV export."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from flarewatch.analysis.export import outreach_csv
from flarewatch.dashboard import data
from flarewatch.storage.schema import OUTREACH_STATUSES

EDITABLE = ("status", "assignee", "note")


def save_edits(incident_id: int, before: pd.DataFrame, after: pd.DataFrame) -> int:
    """Persist rows whose status, assignee or note changed; returns how many."""
    changed = (before[list(EDITABLE)].fillna("") != after[list(EDITABLE)].fillna("")).any(axis=1)
    for row in after[changed].itertuples():
        data.save_outreach(
            incident_id, int(row.author_id), str(row.status), row.assignee or None, row.note or None
        )
    return int(changed.sum())


def render() -> None:
    """Render the ranked outreach table for the selected incident."""
    st.title("Outreach")
    incident_id = st.session_state.get("incident_id")
    if incident_id is None:
        st.info("No incident selected.")
        return
    table = data.outreach(incident_id)
    st.caption(
        f"{len(table)} unhappy authors; {int((table['status'] == 'new').sum())} not contacted yet."
    )
    edited = st.data_editor(
        table,
        hide_index=True,
        key=f"outreach_{incident_id}",
        disabled=[c for c in table.columns if c not in EDITABLE],
        column_config={
            "status": st.column_config.SelectboxColumn(
                options=list(OUTREACH_STATUSES), required=True
            ),
            "priority": st.column_config.ProgressColumn(min_value=0, max_value=100, format="%.0f"),
            "latest_url": st.column_config.LinkColumn("link", display_text="open"),
        },
    )
    if st.button("Save changes", type="primary") and (n := save_edits(incident_id, table, edited)):
        st.success(f"Saved {n} row(s).")
    st.download_button(
        "Download CSV",
        outreach_csv(table),
        file_name=f"outreach_incident_{incident_id}.csv",
        mime="text/csv",
    )


render()
