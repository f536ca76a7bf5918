"""Live page: KPIs, the sentiment timeline with spikes, and the newest negative posts."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import streamlit as st

from flarewatch.analysis.spikes import Spike
from flarewatch.dashboard import charts, data, state

SELECTED_POST = "live_post_id"


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


def _remember_selection(posts: pd.DataFrame) -> None:
    rows = st.session_state["live_posts"].selection.rows
    st.session_state[SELECTED_POST] = int(posts.iloc[rows[0]]["id"]) if rows else None


def newest_negative(posts: pd.DataFrame) -> None:
    """Newest negative posts; the chosen post is remembered by id, so a refresh keeps it."""
    st.subheader("Newest negative posts")
    if posts.empty:
        st.info("No negative posts in this window.")
        return
    st.dataframe(
        posts,
        hide_index=True,
        key="live_posts",
        on_select=lambda: _remember_selection(posts),
        selection_mode="single-row",
        column_order=["created_at", "platform", "handle", "followers", "p_negative", "text", "url"],
        column_config={
            "created_at": st.column_config.DatetimeColumn("posted", format="HH:mm"),
            "url": st.column_config.LinkColumn("link", display_text="open"),
            "p_negative": st.column_config.ProgressColumn(min_value=0, max_value=1),
            "text": st.column_config.TextColumn(width="large"),
        },
    )
    chosen = posts[posts["id"] == st.session_state.get(SELECTED_POST)]
    if not chosen.empty:
        post = chosen.iloc[0]
        st.markdown(f"**@{post['handle']}** on {post['platform']}, {post['created_at']:%H:%M} UTC")
        st.text(post["text"])
        if post["url"]:
            st.link_button("Open the post", post["url"])


def body() -> None:
    """The refreshing part of the page: numbers, chart and posts."""
    incident = state.selected_incident()
    if incident is None:
        return
    bucket = int(st.session_state.get("bucket_minutes", 60))
    start, end = data.incident_window(int(incident.name))
    frame = data.timeline(incident["brand"], start, end, bucket)
    if frame.empty:
        st.info("No posts in this incident's window yet.")
        return
    spikes = data.spikes(frame)
    kpis(frame, spikes, bucket)
    events = {"opened": incident["opened_at"], "resolved": incident["resolved_at"]}
    st.altair_chart(charts.timeline_chart(frame, spikes, bucket, events), width="stretch")
    newest_negative(data.negative_posts(incident["brand"], start, end))
    st.caption(f"Updated {datetime.now(UTC):%H:%M:%S} UTC")


def render() -> None:
    """Render the Live page for the selected incident."""
    incident = state.selected_incident()
    if incident is None:
        st.title("Flarewatch")
        st.info("No incident selected.")
        return
    st.title(f"{incident['title']}")
    st.caption(
        f"{incident['severity']} · {incident['status']} · brand {incident['brand']} · "
        f"opened {incident['opened_at']:%Y-%m-%d %H:%M} UTC"
    )
    state.live(body)


render()
