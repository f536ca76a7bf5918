"""Live page: KPIs, the sentiment timeline with spikes, and the newest negative posts."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from flarewatch.analysis.spikes import Spike
from flarewatch.dashboard import charts, data


def kpis(frame: pd.DataFrame, spikes: list[Spike], bucket_minutes: int) -> None:
    """Headline numbers for the incident window."""
    last, prev = frame.iloc[-1:], frame.iloc[-2:-1] if len(frame) > 1 else frame.iloc[-1:]
    cols = st.columns(4)
    cols[0].metric("Posts", f"{int(frame['total'].sum()):,}")
    cols[1].metric("Negative", f"{int(frame['negative'].sum()):,}")
    cols[2].metric(
        f"Negative share, last {bucket_minutes} min",
        f"{last['negative_share'].iat[0]:.0%}",
        delta=f"{(last['negative_share'].iat[0] - prev['negative_share'].iat[0]):+.0%}",
        delta_color="inverse",
    )
    cols[3].metric("Spikes", len(spikes))


def render() -> None:
    """Render the Live page for the selected incident."""
    incident_id = st.session_state.get("incident_id")
    if incident_id is None:
        st.title("Flarewatch")
        st.info("No incident selected.")
        return
    incident = data.incidents().set_index("id").loc[incident_id]
    bucket = int(st.session_state.get("bucket_minutes", 60))
    start, end = data.incident_window(incident_id)
    st.title(f"{incident['title']}")
    st.caption(
        f"{incident['severity']} · {incident['status']} · brand {incident['brand']} · "
        f"opened {incident['opened_at']:%Y-%m-%d %H:%M} UTC"
    )
    frame = data.timeline(incident["brand"], start, end, bucket)
    if frame.empty:
        st.info("No posts in this incident's window yet.")
        return
    spikes = data.spikes(frame)
    kpis(frame, spikes, bucket)
    events = {"opened": incident["opened_at"], "resolved": incident["resolved_at"]}
    st.altair_chart(charts.timeline_chart(frame, spikes, bucket, events), width="stretch")
    st.subheader("Newest negative posts")
    st.dataframe(
        data.negative_posts(incident["brand"], start, end),
        hide_index=True,
        column_config={
            "url": st.column_config.LinkColumn("link", display_text="open"),
            "p_negative": st.column_config.ProgressColumn(min_value=0, max_value=1),
        },
    )


render()
