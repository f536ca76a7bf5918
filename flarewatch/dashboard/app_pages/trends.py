"""Trends page: sentiment by platform and language, and incidents compared side by side."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import streamlit as st

from flarewatch.dashboard import charts, data, state

BREAKDOWNS = {"platform": "By platform", "language": "By language"}


def breakdown(column: str, brand: str | None, window: tuple[datetime, datetime]) -> None:
    """A stacked bar chart and the numbers behind it for one breakdown."""
    frame = data.breakdown(column, brand, *window)
    st.subheader(BREAKDOWNS[column])
    if frame.empty:
        st.info("No posts in this window.")
        return
    st.altair_chart(charts.breakdown_chart(frame, column), width="stretch")
    st.dataframe(
        frame,
        hide_index=True,
        column_config={
            "negative_share": st.column_config.ProgressColumn(
                "negative share", min_value=0, max_value=1, format="percent"
            )
        },
    )


def _aligned(incident_id: int, title: str, bucket: int) -> tuple[pd.DataFrame, dict[str, object]]:
    incident = data.incidents().set_index("id").loc[incident_id]
    frame = data.timeline(incident["brand"], *data.incident_window(incident_id), bucket)
    hours = (frame.index - incident["opened_at"]).total_seconds() / 3600
    line = pd.DataFrame(
        {
            "incident": title,
            "hours_since_open": hours,
            "negative": frame["negative"].to_numpy(),
            "total": frame["total"].to_numpy(),
        }
    )
    scored = int(frame["total"].sum() - frame["unscored"].sum())
    summary = {
        "incident": title,
        "severity": incident["severity"],
        "status": incident["status"],
        "posts": int(frame["total"].sum()),
        "negative": int(frame["negative"].sum()),
        "negative_share": frame["negative"].sum() / scored if scored else 0.0,
        f"peak negative per {bucket} min": int(frame["negative"].max()) if len(frame) else 0,
        "spikes": len(data.spikes(frame)) if len(frame) else 0,
    }
    return line, summary


def compare(bucket: int) -> None:
    """Negative posts against hours since opening, for the incidents the user picks."""
    st.subheader("Compare incidents")
    incidents = data.incidents()
    if incidents.empty:
        st.info("No incidents yet.")
        return
    titles = {int(r.id): f"#{r.id} {r.title}" for r in incidents.itertuples()}
    state.default("keep_trends_compare", list(titles)[:3])
    chosen = st.multiselect(
        "Incidents", list(titles), format_func=titles.__getitem__, key="keep_trends_compare"
    )
    chosen = [i for i in chosen if i in titles]
    if not chosen:
        return
    parts = [_aligned(i, titles[i], bucket) for i in chosen]
    st.altair_chart(charts.compare_chart(pd.concat([p[0] for p in parts]), bucket), width="stretch")
    st.dataframe(
        pd.DataFrame([p[1] for p in parts]),
        hide_index=True,
        column_config={"negative_share": st.column_config.NumberColumn(format="percent")},
    )


def body() -> None:
    """The refreshing part of the page."""
    incident = state.selected_incident()
    bucket = int(st.session_state.get("bucket_minutes", 60))
    if incident is not None:
        st.caption(f"Brand {incident['brand']}, over the window of «{incident['title']}».")
        window = data.incident_window(int(incident.name))
        cols = st.columns(2)
        for col, column in zip(cols, BREAKDOWNS, strict=True):
            with col:
                breakdown(column, incident["brand"], window)
    compare(bucket)


def render() -> None:
    """Render the Trends page."""
    st.title("Trends")
    state.live(body)


render()
