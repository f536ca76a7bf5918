"""Sources page: collector health per source and what each platform delivered lately."""

from __future__ import annotations

import streamlit as st

from flarewatch.dashboard import charts, data, state


def health() -> None:
    """The collector health table, when this Flarewatch records it."""
    st.subheader("Collectors")
    frame = data.source_health()
    if frame.empty:
        st.info("No collector has run yet: `flarewatch collect` or `flarewatch run`.")
        return
    failing = int(frame["consecutive_failures"].gt(0).sum())
    st.metric("Failing sources", failing)
    st.dataframe(frame, hide_index=True)


def activity() -> None:
    """Posts per platform created over the last day, and when each platform last delivered."""
    st.subheader("Posts from the last 24 hours")
    frame = data.platform_activity()
    if frame.empty:
        st.info("No posts from the last 24 hours.")
        return
    st.altair_chart(charts.activity_chart(frame), width="stretch")
    st.dataframe(frame, hide_index=True)


def body() -> None:
    """The refreshing part of the page."""
    health()
    activity()


def render() -> None:
    """Render the Sources page."""
    st.title("Sources")
    state.live(body)


render()
