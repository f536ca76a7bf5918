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


def silence() -> None:
    """Feeds whose source runs fine but which stopped delivering far longer than usual."""
    st.subheader("Silent feeds")
    frame = data.source_silence()
    if frame.empty:
        st.info("No posts collected yet: nothing to learn usual gaps from.")
        return
    silent = frame[frame["state"] == "silent"]
    st.metric("Silent feeds", len(silent))
    if not silent.empty:
        st.warning(
            "A silent feed's gap on the timeline is missing data, not calm: "
            + ", ".join(f"{r.source} for {r.brand or 'all brands'}" for r in silent.itertuples()),
            icon=":material/signal_disconnected:",
        )
    st.dataframe(frame, hide_index=True)


def body() -> None:
    """The refreshing part of the page."""
    health()
    activity()
    silence()


def render() -> None:
    """Render the Sources page."""
    st.title("Sources")
    state.live(body)


render()
