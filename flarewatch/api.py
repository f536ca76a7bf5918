"""Public DataFrame API over the store, shared by the dashboard, the CLI and notebooks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import Engine

from flarewatch.analysis.compare import SUMMARY_COLUMNS, RecoveryParams, summarise_incident
from flarewatch.analysis.outreach import OUTREACH_COLUMNS, rank_authors
from flarewatch.analysis.spikes import Spike, SpikeParams, detect_spikes
from flarewatch.config import load_settings
from flarewatch.storage import queries
from flarewatch.storage.engine import make_engine, session_scope, upgrade
from flarewatch.storage.schema import LABELS, Incident

__all__ = [
    "COMPARE_COLUMNS",
    "POST_COLUMNS",
    "TIMELINE_COLUMNS",
    "compare_incidents",
    "connect",
    "get_incident",
    "incident_window",
    "incidents",
    "negative_posts",
    "outreach",
    "posts",
    "resolve_model_version",
    "spikes",
    "timeline",
]

LOOKBACK = timedelta(hours=24)
AFTERMATH = timedelta(hours=24)
TIMELINE_COLUMNS = [*LABELS, "unscored", "total", "negative_share"]
INCIDENT_COLUMNS = ["id", "title", "brand", "severity", "status", "opened_at", "resolved_at"]
POST_COLUMNS = [
    "id",
    "created_at",
    "platform",
    "brand",
    "text",
    "url",
    "author_id",
    "handle",
    "followers",
    "like_count",
    "repost_count",
    "reply_count",
    "quote_count",
    "label",
    "p_negative",
    "p_neutral",
    "p_positive",
]
COMPARE_COLUMNS = [*INCIDENT_COLUMNS, "bucket_minutes", *SUMMARY_COLUMNS]


def connect(database_url: str | None = None) -> Engine:
    """Open (and migrate) the configured database, or `database_url` if given."""
    engine = make_engine(load_settings(database_url=database_url).database_url)
    upgrade(engine)
    return engine


def resolve_model_version(engine: Engine, model_version: str | None = None) -> str:
    """Return `model_version`, else the one that scored most recently ('' when nothing is scored)."""
    if model_version:
        return model_version
    with session_scope(engine) as session:
        return queries.latest_model_version(session) or ""


def incidents(engine: Engine) -> pd.DataFrame:
    """All incidents, newest first, as a DataFrame."""
    with session_scope(engine) as session:
        rows = [_incident_row(i) for i in queries.list_incidents(session)]
    return pd.DataFrame(rows, columns=INCIDENT_COLUMNS)


def _incident_row(incident: Incident) -> dict[str, Any]:
    return {
        "id": incident.id,
        "title": incident.title,
        "brand": incident.brand,
        "severity": incident.severity,
        "status": incident.status,
        "opened_at": incident.opened_at,
        "resolved_at": incident.resolved_at,
    }


def get_incident(engine: Engine, incident_id: int) -> Incident:
    """Return one incident (detached, safe to read after the session closes)."""
    with session_scope(engine) as session:
        return queries.get_incident(session, incident_id)


def incident_window(
    engine: Engine, incident: Incident, lookback: timedelta = LOOKBACK, after: timedelta = AFTERMATH
) -> tuple[datetime, datetime]:
    """The time range an incident is judged on: a day before it opened to a day after it closed."""
    start = incident.opened_at - lookback
    if incident.resolved_at is not None:
        return start, incident.resolved_at + after
    with session_scope(engine) as session:
        _, last = queries.time_range(session, incident.brand)
    now = datetime.now(UTC)
    return start, max(now, last) + timedelta(seconds=1) if last else now


def timeline(
    engine: Engine,
    *,
    brand: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    bucket_minutes: int = 15,
    model_version: str | None = None,
) -> pd.DataFrame:
    """Posts per bucket by sentiment label, zero-filled, indexed by bucket start (UTC)."""
    version = resolve_model_version(engine, model_version)
    with session_scope(engine) as session:
        rows = queries.sentiment_buckets(
            session,
            model_version=version,
            bucket_minutes=bucket_minutes,
            brand=brand,
            start=start,
            end=end,
        )
    return _pivot_buckets(rows, bucket_minutes, start, end)


def _pivot_buckets(
    rows: list[tuple[int, str, int]],
    bucket_minutes: int,
    start: datetime | None,
    end: datetime | None,
) -> pd.DataFrame:
    freq = f"{bucket_minutes}min"
    long = pd.DataFrame(rows, columns=["bucket", "label", "count"])
    long["bucket"] = pd.to_datetime(long["bucket"], unit="s", utc=True)
    wide = long.pivot_table(index="bucket", columns="label", values="count", aggfunc="sum")
    wide = wide.reindex(columns=[*LABELS, "unscored"]).fillna(0).astype(int)
    first = pd.Timestamp(start).floor(freq) if start else (wide.index.min() if len(wide) else None)
    last = pd.Timestamp(end).floor(freq) if end else (wide.index.max() if len(wide) else None)
    if first is not None and last is not None:
        wide = wide.reindex(pd.date_range(first, last, freq=freq, name="bucket"), fill_value=0)
    wide["total"] = wide[[*LABELS, "unscored"]].sum(axis=1)
    scored = wide["total"] - wide["unscored"]
    wide["negative_share"] = (wide["negative"] / scored.where(scored > 0)).fillna(0.0)
    wide.columns.name = None
    return wide


def spikes(frame: pd.DataFrame, params: SpikeParams | None = None) -> list[Spike]:
    """Detect negative spikes in a `timeline` frame."""
    return detect_spikes(frame["negative"], params)


def negative_posts(
    engine: Engine,
    *,
    brand: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    model_version: str | None = None,
    limit: int = 50,
) -> pd.DataFrame:
    """The newest negative posts with author, link and p_negative."""
    version = resolve_model_version(engine, model_version)
    with session_scope(engine) as session:
        rows = queries.newest_posts(
            session, model_version=version, brand=brand, start=start, end=end, limit=limit
        )
    return pd.DataFrame(
        rows,
        columns=[
            "id",
            "created_at",
            "platform",
            "text",
            "url",
            "handle",
            "followers",
            "label",
            "p_negative",
        ],
    )


def outreach(
    engine: Engine,
    incident_id: int,
    *,
    now: datetime | None = None,
    model_version: str | None = None,
) -> pd.DataFrame:
    """Unhappy authors of an incident ranked by priority, with reason, latest complaint and status."""
    incident = get_incident(engine, incident_id)
    start, end = incident_window(engine, incident)
    version = resolve_model_version(engine, model_version)
    with session_scope(engine) as session:
        rows = queries.author_activity(
            session, model_version=version, brand=incident.brand, start=start, end=end
        )
        states = queries.outreach_states(session, incident_id)
        latest = queries.latest_negative_post(
            session,
            [r["author_id"] for r in rows],
            model_version=version,
            brand=incident.brand,
            start=start,
            end=end,
        )
    ranked = rank_authors(rows, now or min(end, datetime.now(UTC)))
    return _with_outreach_state(ranked, states, latest)


def _with_outreach_state(
    ranked: pd.DataFrame, states: dict[int, dict[str, Any]], latest: dict[int, dict[str, Any]]
) -> pd.DataFrame:
    ids = ranked["author_id"]
    ranked["latest_post"] = [latest.get(a, {}).get("text") for a in ids]
    ranked["latest_url"] = [latest.get(a, {}).get("url") for a in ids]
    ranked["status"] = [states.get(a, {}).get("status", "new") for a in ids]
    ranked["assignee"] = [states.get(a, {}).get("assignee") for a in ids]
    ranked["note"] = [states.get(a, {}).get("note") for a in ids]
    return ranked[[*OUTREACH_COLUMNS, "latest_post", "latest_url", "status", "assignee", "note"]]


def posts(
    engine: Engine,
    *,
    incident_id: int | None = None,
    brand: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    platform: str | None = None,
    model_version: str | None = None,
) -> pd.DataFrame:
    """Posts with author, engagement and sentiment scores, oldest first.

    Args:
        engine: The database.
        incident_id: Limit to an incident: its brand and window (`incident_window`), unless
            `brand`, `start` or `end` are given, which win.
        brand: Only posts about this brand.
        start: Only posts created at or after this time.
        end: Only posts created before this time.
        platform: Only posts from this platform (`x`, `reddit`, ...).
        model_version: Whose scores to show (default: the most recent model).

    Returns:
        One row per post with `POST_COLUMNS`; unscored posts have no label and NaN probabilities.
    """
    if incident_id is not None:
        incident = get_incident(engine, incident_id)
        window_start, window_end = incident_window(engine, incident)
        brand = brand if brand is not None else incident.brand
        start, end = start or window_start, end or window_end
    version = resolve_model_version(engine, model_version)
    with session_scope(engine) as session:
        rows = queries.posts_with_scores(
            session, model_version=version, brand=brand, start=start, end=end, platform=platform
        )
    frame = pd.DataFrame(rows, columns=POST_COLUMNS)
    frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True)
    return frame


def compare_incidents(
    engine: Engine,
    *,
    bucket_minutes: int = 60,
    model_version: str | None = None,
    params: RecoveryParams | None = None,
) -> pd.DataFrame:
    """Compare every incident: peak negativity, duration, time back to baseline and volume.

    Args:
        engine: The database.
        bucket_minutes: Bucket size of the timelines the peak and recovery are measured on.
        model_version: Whose scores to count (default: the most recent model).
        params: What counts as back to baseline after resolution.

    Returns:
        One row per incident, newest first, with `COMPARE_COLUMNS` (see
        `analysis.compare.summarise_incident` for what each measure means).
    """
    version = resolve_model_version(engine, model_version)
    with session_scope(engine) as session:
        found = queries.list_incidents(session)
    rows = [_compare_row(engine, i, bucket_minutes, version, params) for i in found]
    return pd.DataFrame(rows, columns=COMPARE_COLUMNS)


def _compare_row(
    engine: Engine,
    incident: Incident,
    bucket_minutes: int,
    model_version: str,
    params: RecoveryParams | None,
) -> dict[str, Any]:
    start, end = incident_window(engine, incident)
    frame = timeline(
        engine,
        brand=incident.brand,
        start=start,
        end=end,
        bucket_minutes=bucket_minutes,
        model_version=model_version,
    )
    summary = summarise_incident(frame, incident.opened_at, incident.resolved_at, params)
    return {**_incident_row(incident), "bucket_minutes": bucket_minutes, **summary}
