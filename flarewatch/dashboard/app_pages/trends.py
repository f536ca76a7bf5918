"""Trends page: sentiment by platform, language and theme, and incidents compared side by side."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import streamlit as st

from flarewatch.dashboard import charts, data, state
from flarewatch.render.text import escape_markdown as md

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


SUMMARY = {
    "title": "incident",
    "severity": "severity",
    "status": "status",
    "duration": "duration",
    "peak_negative": "peak negative per bucket",
    "peak_at": "peak at",
    "time_to_baseline": "back to baseline after",
    "posts": "posts",
    "negative_posts": "negative posts",
    "negative_share": "negative share",
}


def _aligned(incident: pd.Series, bucket: int) -> pd.DataFrame:
    """One incident's timeline against hours since it opened."""
    frame = data.timeline(incident["brand"], *data.incident_window(int(incident.name)), bucket)
    return pd.DataFrame(
        {
            "incident": f"#{incident.name} {incident['title']}",
            "hours_since_open": (frame.index - incident["opened_at"]).total_seconds() / 3600,
            "negative": frame["negative"].to_numpy(),
            "total": frame["total"].to_numpy(),
        }
    )


def by_theme(incident_id: int) -> None:
    """The incident's complaint themes as bars."""
    st.subheader("By theme")
    found = data.themes(incident_id)
    if found is None:
        st.info("Themes need the sentiment model, which is not installed here.")
    elif found.empty:
        st.info("Too few negative posts to group yet.")
    else:
        st.altair_chart(charts.themes_chart(found), width="stretch")


def _hours(span: object) -> str:
    if not isinstance(span, pd.Timedelta) or pd.isna(span):
        return ""
    minutes = int(span.total_seconds() // 60)
    return f"{minutes // 60} h {minutes % 60:02d} min"


def _readable(summary: pd.DataFrame) -> pd.DataFrame:
    shown = summary[list(SUMMARY)].rename(columns=SUMMARY)
    for column in ("duration", "back to baseline after"):
        shown[column] = shown[column].map(_hours)
    return shown


def compare(bucket: int) -> None:
    """Negative posts against hours since opening, and the summary, for the incidents picked."""
    st.subheader("Compare incidents")
    incidents = data.incidents().set_index("id")
    if incidents.empty:
        st.info("No incidents yet.")
        return
    titles = {int(i): f"#{i} {r['title']}" for i, r in incidents.iterrows()}
    state.default("keep_trends_compare", list(titles)[:3])
    offered = state.only_options("keep_trends_compare", list(titles))
    chosen = st.pills(
        "Incidents",
        offered,
        selection_mode="multi",
        format_func=titles.__getitem__,
        key="keep_trends_compare",
    )
    if not chosen:
        return
    lines = pd.concat([_aligned(incidents.loc[i], bucket) for i in chosen])
    st.altair_chart(charts.compare_chart(lines, bucket), width="stretch")
    summary = data.compare_incidents(bucket)
    st.dataframe(
        _readable(summary[summary["id"].isin(chosen)]),
        hide_index=True,
        column_config={"negative share": st.column_config.NumberColumn(format="percent")},
    )
    compare_answers(list(chosen), titles)


ANSWER_FIELDS = {
    "answered_share": "priority authors answered",
    "median_minutes_to_first_answer": "median minutes to first answer",
    "followed_up_share": "answered who were followed up",
    "recovered_share": "answered who were won back",
}


def compare_answers(chosen: list[int], titles: dict[int, str]) -> None:
    """How well each chosen incident's unhappy authors were answered, and who was won back."""
    rows = [
        {
            "incident": titles[i],
            **{label: data.answers(int(i))[k] for k, label in ANSWER_FIELDS.items()},
        }
        for i in chosen
    ]
    percent = st.column_config.NumberColumn(format="percent")
    st.dataframe(
        pd.DataFrame(rows),
        hide_index=True,
        key="trends_answers",
        column_config={label: percent for k, label in ANSWER_FIELDS.items() if k.endswith("share")},
    )


def body() -> None:
    """The refreshing part of the page."""
    incident = state.selected_incident()
    bucket = int(st.session_state.get("bucket_minutes", 60))
    if incident is not None:
        st.caption(f"Brand {md(incident['brand'])}, over the window of «{md(incident['title'])}».")
        window = data.incident_window(int(incident.name))
        cols = st.columns(2)
        for col, column in zip(cols, BREAKDOWNS, strict=True):
            with col:
                breakdown(column, incident["brand"], window)
        by_theme(int(incident.name))
    compare(bucket)


def render() -> None:
    """Render the Trends page."""
    st.title("Trends")
    state.live(body)


render()
