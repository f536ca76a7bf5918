"""Collector health, silent sources and what each platform delivered lately."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
from sqlalchemy import Engine

from flarewatch.analysis.health import with_silence, with_verdicts
from flarewatch.pipeline.silence import check_silence, feed_silences
from flarewatch.storage import queries
from flarewatch.storage.engine import session_scope

__all__ = [
    "SILENCE_COLUMNS",
    "STRETCH_COLUMNS",
    "check_silence",
    "platform_activity",
    "silent_stretches",
    "source_health",
    "source_silence",
]

HEALTH_COLUMNS = [
    "source",
    "last_success_at",
    "last_error_at",
    "last_error",
    "consecutive_failures",
    "posts_collected",
    "stream_state",
    "lag_seconds",
]
ACTIVITY_COLUMNS = ["platform", "posts", "last_collected_at", "last_post_at"]
SILENCE_COLUMNS = [
    "source",
    "brand",
    "state",
    "last_post_at",
    "silent_since",
    "usual_gap_minutes",
    "checked_until",
]
STRETCH_COLUMNS = ["source", "brand", "start", "silent_since", "end"]


def source_health(engine: Engine, *, now: datetime | None = None) -> pd.DataFrame:
    """Each source's health with its verdict (`state`: failing, stale, silent (brands) or ok)."""
    now = now or datetime.now(UTC)
    with session_scope(engine) as session:
        frame = pd.DataFrame(queries.source_health(session))
    if frame.empty:
        return pd.DataFrame(columns=["source", "state", *HEALTH_COLUMNS[1:]])
    silent: dict[str, list[str]] = {}
    for feed in feed_silences(engine, now=now):
        if feed.state == "silent":
            silent.setdefault(feed.source, []).append(feed.brand or "all brands")
    return with_silence(with_verdicts(frame, now), silent)


def source_silence(engine: Engine, *, now: datetime | None = None) -> pd.DataFrame:
    """Each feed (source and brand): "ok", "silent" (no posts for far longer than its usual
    gap although the source runs fine) or "learning" (too little history to say)."""
    rows = []
    for feed in feed_silences(engine, now=now):
        last = feed.stretches[-1] if feed.state == "silent" else None
        rows.append(
            {
                "source": feed.source,
                "brand": feed.brand,
                "state": feed.state,
                "last_post_at": last.start if last else None,
                "silent_since": last.silent_since if last else None,
                "usual_gap_minutes": None if feed.usual is None else round(feed.usual.p95 / 60, 1),
                "checked_until": feed.checked_until,
            }
        )
    return pd.DataFrame(rows, columns=SILENCE_COLUMNS)


def silent_stretches(
    engine: Engine,
    *,
    brand: str | None,
    start: datetime,
    end: datetime,
    now: datetime | None = None,
) -> pd.DataFrame:
    """Silent stretches of `brand`'s feeds (every brand's when None) overlapping [start, end).

    A stretch still open ends at its source's last successful run (or `now`).
    """
    now = now or datetime.now(UTC)
    rows = []
    for feed in feed_silences(engine, now=now):
        if brand is not None and feed.brand != brand:
            continue
        for s in feed.stretches:
            until = s.end or feed.checked_until or now
            if s.silent_since < end and until > start:
                rows.append([s.source, s.brand, s.start, s.silent_since, until])
    return pd.DataFrame(rows, columns=STRETCH_COLUMNS)


def platform_activity(engine: Engine, *, window: timedelta = timedelta(hours=24)) -> pd.DataFrame:
    """Posts per platform created over the last `window`, with the newest collected and post times."""
    since = datetime.now(UTC) - window
    with session_scope(engine) as session:
        rows = queries.platform_activity(session, since)
    return pd.DataFrame(rows, columns=ACTIVITY_COLUMNS)
