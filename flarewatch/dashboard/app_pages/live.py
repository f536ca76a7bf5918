"""Live page: early warnings (and past incidents like them), KPIs, timeline, negative posts, themes."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import streamlit as st

from flarewatch.analysis.kpis import recent_vs_before
from flarewatch.analysis.spikes import Spike
from flarewatch.dashboard import charts, data, state
from flarewatch.domain import LABELS
from flarewatch.render.text import escape_markdown, safe_link
from flarewatch.render.text import escape_markdown as md

SELECTED_POST = "live_post_id"
RECENT = pd.Timedelta(hours=1)


def _share_metric(recent: float | None, before: float | None) -> tuple[str, str | None]:
    if recent is None:
        return "–", None
    delta = None if before is None else f"{(recent - before) * 100:+.0f} pts vs pre-incident"
    return f"{recent:.0%}", delta


def kpis(frame: pd.DataFrame, spikes: list[Spike], opened_at: datetime, now: datetime) -> None:
    """Headline numbers for the incident window."""
    recent, before = recent_vs_before(frame, now, opened_at, RECENT)
    value, delta = _share_metric(recent, before)
    cols = st.columns(4)
    cols[0].metric("Posts", f"{int(frame['total'].sum()):,}")
    cols[1].metric("Negative", f"{int(frame['negative'].sum()):,}")
    cols[2].metric("Negative share, last hour", value, delta=delta, delta_color="inverse")
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
            "p_negative": st.column_config.ProgressColumn(
                min_value=0, max_value=1, format="percent"
            ),
            "text": st.column_config.TextColumn(width="large"),
        },
    )
    chosen = posts[posts["id"] == st.session_state.get(SELECTED_POST)]
    if not chosen.empty:
        post = chosen.iloc[0]
        st.markdown(
            f"**@{md(post['handle'])}** on {md(post['platform'])}, {post['created_at']:%H:%M} UTC"
        )
        st.text(post["text"])
        if link := safe_link(post["url"]):
            st.link_button("Open the post", link)
        relabel(int(post["id"]))


def _save_label(post_id: int) -> None:
    label = st.session_state[f"relabel_{post_id}"]
    if label:
        data.set_label_override(post_id, label)
        st.toast(f"Labelled {label}: every view counts it so, and it is kept for retraining.")


def relabel(post_id: int) -> None:
    """Let a person say the model got this post wrong."""
    st.segmented_control(
        "Model wrong? Label it",
        LABELS,
        key=f"relabel_{post_id}",
        on_change=_save_label,
        args=(post_id,),
    )


def themes(incident_id: int) -> None:
    """What the newest negative posts are about, as clusters with their telling words."""
    st.subheader("Themes")
    found = data.themes(incident_id)
    if found is None:
        st.info("Themes need the sentiment model, which is not installed here.")
        return
    if found.empty:
        st.info("Too few negative posts to group yet.")
        return
    found = found.assign(example=[e[0] if len(e) else "" for e in found["examples"]])
    st.dataframe(
        found,
        hide_index=True,
        key="live_themes",
        column_order=["label", "share", "size", "terms", "example"],
        column_config={
            "share": st.column_config.ProgressColumn(min_value=0, max_value=1, format="percent"),
            "terms": st.column_config.ListColumn(),
            "example": st.column_config.TextColumn(width="large"),
        },
    )


def _open_from_warning(event: dict[str, object]) -> None:
    brand = str(event["brand"]) if event["brand"] else None
    title = f"Possible incident: negative spike about {brand or 'all brands'}"
    incident_id = data.promote_warning(int(str(event["id"])), title, brand)
    st.session_state["incident_id"] = incident_id
    state.request_app_rerun()


def learning() -> None:
    """Brands whose baseline the detector is still learning: no early warning can come yet."""
    for brand in data.brands():
        hours = data.baseline_hours_left(brand)
        if hours > 0:
            st.caption(
                f":material/hourglass_top: Early warnings for {brand}: learning the baseline, "
                f"{math.ceil(hours)} h left."
            )


def early_warnings() -> None:
    """Spikes seen while no incident was open: open an incident from one, or dismiss it."""
    learning()
    for event in data.early_warnings().head(3).to_dict("records"):
        with st.container(border=True):
            st.warning(
                f"**Possible incident** for {md(event['brand'] or 'all brands')}: "
                f"{event['observed']} people posting negatively against a baseline of "
                f"{event['baseline']:.0f} ({event['ratio']:.1f}×) since "
                f"{event['started_at']:%Y-%m-%d %H:%M} UTC.",
                icon=":material/warning:",
            )
            cols = st.columns([1, 1, 4])
            cols[0].button(
                "Open incident",
                key=f"promote_{event['id']}",
                on_click=_open_from_warning,
                args=(event,),
                type="primary",
            )
            cols[1].button(
                "Dismiss",
                key=f"dismiss_{event['id']}",
                on_click=data.set_warning_status,
                args=(int(event["id"]), "dismissed"),
            )
            feedback(event, cols[2])
            seen_before(event.get("matches"))


def feedback(event: dict[str, object], where: Any) -> None:
    """Mark an alert useful or noise; the marks give alert precision on Trends."""
    event_id = int(str(event["id"]))
    verdict = where.segmented_control(
        "Was this alert useful?",
        ["useful", "noise"],
        default=event.get("feedback") or None,
        key=f"feedback_{event_id}",
    )
    if verdict and verdict != event.get("feedback"):
        data.set_alert_feedback(event_id, str(verdict))


def seen_before(matches: object) -> None:
    """The brand's past incidents most like this spike, with their root cause and fix."""
    if not isinstance(matches, list) or not matches:
        return
    st.markdown("**Seen before?**")
    for match in matches:
        st.markdown(
            f"#{match['incident_id']} **{escape_markdown(match['title'])}** "
            f"(similarity {float(match['score']):.2f})  \n"
            f"Root cause: {escape_markdown(match['root_cause']) or '—'}  \n"
            f"Fix: {escape_markdown(match['fix']) or '—'}"
        )


def incident_matches(incident_id: int) -> None:
    """Spikes of this incident and the past incidents they resemble."""
    events = data.incident_spikes(incident_id)
    for event in events.head(3).to_dict("records"):
        if event.get("matches"):
            st.caption(f"Spike since {event['started_at']:%Y-%m-%d %H:%M} UTC")
            seen_before(event["matches"])


def voice(incident_id: int) -> None:
    """How long since the brand last said something in public; a warning once that is too long."""
    status = data.voice_status(incident_id)
    if status["last_update"] is None:
        line = f"No public update yet: {status['minutes_since']} min since the incident opened"
    else:
        line = f"Last public update: {status['minutes_since']} min ago"
    if status["silent"]:
        st.warning(
            f"**We are silent.** {line} (limit {status['limit_minutes']} min).",
            icon=":material/campaign:",
        )
    else:
        st.caption(line)


def body() -> None:
    """The refreshing part of the page: numbers, chart and posts."""
    incident = state.selected_incident()
    if incident is None:
        return
    bucket = int(st.session_state.get("bucket_minutes", 60))
    start, end = data.incident_window(int(incident.name))
    frame = data.timeline(incident["brand"], start, end, bucket)
    if frame.empty or not frame["total"].any():
        st.info("No posts in this incident's window yet.")
        return
    spikes = data.spikes(incident["brand"], start, end, bucket)
    kpis(frame, spikes, incident["opened_at"], min(end, datetime.now(UTC)))
    voice(int(incident.name))
    events = {"opened": incident["opened_at"], "resolved": incident["resolved_at"]}
    own = data.own_posts(incident["brand"], start, end)
    silences = data.silent_stretches(incident["brand"], start, end)
    chart = charts.timeline_chart(frame, spikes, bucket, events, own, silences)
    st.altair_chart(chart, width="stretch")
    if not silences.empty:
        sources = ", ".join(sorted(set(silences["source"])))
        st.caption(f"Grey: {sources} delivered nothing although running; missing, not calm.")
    left, right = st.columns([3, 2])
    with left:
        newest_negative(data.negative_posts(incident["brand"], start, end))
    with right:
        themes(int(incident.name))
        incident_matches(int(incident.name))
    st.caption(f"Updated {datetime.now(UTC):%H:%M:%S} UTC")


def render() -> None:
    """Render the Live page for the selected incident."""
    state.live(early_warnings)
    incident = state.selected_incident()
    if incident is None:
        st.title("Flarewatch")
        st.info("No incident selected.")
        return
    st.title(md(incident["title"]))
    st.caption(
        f"{incident['severity']} · {incident['status']} · brand {md(incident['brand'])} · "
        f"opened {incident['opened_at']:%Y-%m-%d %H:%M} UTC"
    )
    state.live(body)


render()
