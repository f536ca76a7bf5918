"""Altair charts for the dashboard: sentiment timeline, breakdowns, incident comparison."""

from __future__ import annotations

from datetime import datetime

import altair as alt
import pandas as pd

from flarewatch.analysis.spikes import Spike

LABEL_COLORS = {
    "negative": "#d62728",
    "neutral": "#9e9e9e",
    "positive": "#2ca02c",
    "other_language": "#8c6bb1",
    "unscored": "#dddddd",
}


def _long(frame: pd.DataFrame) -> pd.DataFrame:
    labels = [c for c in LABEL_COLORS if c in frame.columns and frame[c].sum() > 0]
    long = (
        frame[labels].reset_index().melt(id_vars="bucket", var_name="sentiment", value_name="posts")
    )
    return long


def _spike_layer(spikes: list[Spike], bucket_minutes: int) -> alt.Chart:
    rows = [
        {
            "start": s.start,
            "end": s.end + pd.Timedelta(minutes=bucket_minutes),
            "spike": f"{s.observed} negative vs baseline {s.baseline:.0f} ({s.ratio:.1f}×)",
        }
        for s in spikes
    ]
    return (
        alt.Chart(pd.DataFrame(rows, columns=["start", "end", "spike"]))
        .mark_rect(color="#ff7f0e", opacity=0.18)
        .encode(x="start:T", x2="end:T", tooltip=["spike:N"])
    )


def _silence_layer(stretches: pd.DataFrame | None) -> alt.Chart:
    rows = [
        {
            "start": r.silent_since,
            "end": r.end,
            "silent": f"{r.source} silent (no posts since {r.start:%H:%M}): missing, not calm",
        }
        for r in (stretches if stretches is not None else pd.DataFrame()).itertuples()
    ]
    return (
        alt.Chart(pd.DataFrame(rows, columns=["start", "end", "silent"]))
        .mark_rect(color="#7f7f7f", opacity=0.25)
        .encode(x="start:T", x2="end:T", tooltip=["silent:N"])
    )


def _event_layer(events: dict[str, datetime | None]) -> alt.Chart:
    rows = [{"at": at, "event": name} for name, at in events.items() if at is not None]
    base = alt.Chart(pd.DataFrame(rows, columns=["at", "event"]))
    rule = base.mark_rule(strokeDash=[6, 3], color="#1f77b4").encode(
        x="at:T", tooltip=["event:N", "at:T"]
    )
    text = base.mark_text(align="left", dx=4, dy=-6, color="#1f77b4").encode(
        x="at:T", y=alt.value(8), text="event:N"
    )
    return rule + text


def _own_layer(own: pd.DataFrame | None) -> alt.Chart:
    """Our own public posts as markers along the top, their text on hover."""
    rows = own if own is not None else pd.DataFrame(columns=["created_at", "platform", "text"])
    return (
        alt.Chart(rows[["created_at", "platform", "text"]])
        .mark_point(shape="triangle-down", size=140, filled=True, color="#2ca02c")
        .encode(
            x="created_at:T",
            y=alt.value(18),
            tooltip=[
                alt.Tooltip("created_at:T", title="we posted"),
                "platform:N",
                alt.Tooltip("text:N", title="what we said"),
            ],
        )
    )


def timeline_chart(
    frame: pd.DataFrame,
    spikes: list[Spike],
    bucket_minutes: int,
    events: dict[str, datetime | None],
    own: pd.DataFrame | None = None,
    silences: pd.DataFrame | None = None,
) -> alt.LayerChart | alt.FacetChart:
    """Stacked posts per bucket by sentiment, spikes shaded, incident open/resolve as rules,
    our own posts as markers.

    Stretches when a source was silent (`api.silent_stretches`) are greyed, so a gap there
    reads as missing data, not as recovery.
    """
    colors = alt.Scale(domain=list(LABEL_COLORS), range=list(LABEL_COLORS.values()))
    bars = (
        alt.Chart(_long(frame))
        .mark_area(interpolate="step-after")
        .encode(
            x=alt.X("bucket:T", title=None),
            y=alt.Y("posts:Q", stack=True, title=f"posts per {bucket_minutes} min"),
            color=alt.Color("sentiment:N", scale=colors, sort=list(LABEL_COLORS)),
            order=alt.Order("order:Q"),
            tooltip=["bucket:T", "sentiment:N", "posts:Q"],
        )
        .transform_calculate(order=f"indexof({list(LABEL_COLORS)}, datum.sentiment)")
    )
    return (
        alt.layer(
            _silence_layer(silences),
            _spike_layer(spikes, bucket_minutes),
            bars,
            _event_layer(events),
            _own_layer(own),
        )
        .properties(height=320)
        .interactive(bind_y=False)
    )


def breakdown_chart(frame: pd.DataFrame, column: str) -> alt.Chart:
    """Horizontal stacked bars of posts by sentiment for each platform or language."""
    labels = [c for c in LABEL_COLORS if c in frame.columns]
    long = frame.melt(id_vars=[column], value_vars=labels, var_name="sentiment", value_name="posts")
    colors = alt.Scale(domain=list(LABEL_COLORS), range=list(LABEL_COLORS.values()))
    return (
        alt.Chart(long)
        .mark_bar()
        .encode(
            y=alt.Y(f"{column}:N", sort=list(frame[column]), title=None),
            x=alt.X("posts:Q", stack=True, title="posts"),
            color=alt.Color("sentiment:N", scale=colors, sort=list(LABEL_COLORS)),
            order=alt.Order("order:Q"),
            tooltip=[f"{column}:N", "sentiment:N", "posts:Q"],
        )
        .transform_calculate(order=f"indexof({list(LABEL_COLORS)}, datum.sentiment)")
        .properties(height=alt.Step(28))
    )


def compare_chart(frame: pd.DataFrame, bucket_minutes: int) -> alt.Chart:
    """Negative posts per bucket against hours since each incident opened, one line per incident."""
    return (
        alt.Chart(frame)
        .mark_line(interpolate="step-after")
        .encode(
            x=alt.X("hours_since_open:Q", title="hours since the incident opened"),
            y=alt.Y("negative:Q", title=f"negative posts per {bucket_minutes} min"),
            color=alt.Color("incident:N", title=None, legend=alt.Legend(orient="bottom")),
            tooltip=["incident:N", "hours_since_open:Q", "negative:Q", "total:Q"],
        )
        .properties(height=300)
        .interactive(bind_y=False)
    )


def activity_chart(frame: pd.DataFrame) -> alt.Chart:
    """Posts per platform as bars."""
    return (
        alt.Chart(frame)
        .mark_bar(color="#1f77b4")
        .encode(
            y=alt.Y("platform:N", sort="-x", title=None),
            x=alt.X("posts:Q", title="posts from the last 24 h"),
            tooltip=["platform:N", "posts:Q", "last_collected_at:T", "last_post_at:T"],
        )
        .properties(height=alt.Step(28))
    )


def themes_chart(frame: pd.DataFrame) -> alt.Chart:
    """Negative posts per complaint theme as bars, largest first, telling words in the tooltip."""
    shown = frame.assign(words=frame["terms"].map(", ".join))
    return (
        alt.Chart(shown)
        .mark_bar(color=LABEL_COLORS["negative"])
        .encode(
            y=alt.Y("label:N", sort="-x", title=None),
            x=alt.X("size:Q", title="negative posts"),
            tooltip=["label:N", "size:Q", alt.Tooltip("share:Q", format=".0%"), "words:N"],
        )
        .properties(height=alt.Step(28))
    )
