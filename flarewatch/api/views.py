"""Read-only views for pages and notebooks: posts, spikes in a window, themes, comparisons."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import Engine

from flarewatch.analysis.compare import SUMMARY_COLUMNS, RecoveryParams, summarise_incident
from flarewatch.analysis.kpis import label_counts
from flarewatch.domain import IncidentRecord
from flarewatch.pipeline.frames import (
    INCIDENT_COLUMNS,
    THEME_COLUMNS,
    Embedder,
    _themes,
    incident_row,
    incident_scope,
    incident_window,
    resolve_model_version,
    timeline,
)
from flarewatch.storage import queries
from flarewatch.storage.engine import session_scope

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
    "model_label",
    "p_negative",
    "p_neutral",
    "p_positive",
]


COMPARE_COLUMNS = [*INCIDENT_COLUMNS, "bucket_minutes", *SUMMARY_COLUMNS]


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
        One row per post with `POST_COLUMNS`: `label` is a reviewer's label where one was set
        (`flarewatch label set`), else the model's, which `model_label` keeps. Posts neither
        scored nor reviewed have no label; unscored posts have NaN probabilities.
    """
    if incident_id is not None:
        scope = incident_scope(engine, incident_id, model_version)
        brand = brand if brand is not None else scope.brand
        start, end = start or scope.start, end or scope.end
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
        found = queries.incident_records(session)
    rows = [_compare_row(engine, i, bucket_minutes, version, params) for i in found]
    return pd.DataFrame(rows, columns=COMPARE_COLUMNS)


def _compare_row(
    engine: Engine,
    incident: IncidentRecord,
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
    return {**incident_row(incident), "bucket_minutes": bucket_minutes, **summary}


def themes(
    engine: Engine,
    *,
    incident_id: int | None = None,
    brand: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    embedder: Embedder | None = None,
    limit: int = 2000,
    max_k: int = 8,
    model_version: str | None = None,
) -> pd.DataFrame:
    """Complaint themes of the negative posts in a window (an incident's, unless given).

    Args:
        engine: The database.
        incident_id: Use this incident's brand, window and brand terms (as stop words).
        brand: Only posts about this brand.
        start: Window start.
        end: Window end.
        embedder: What embeds posts; the configured model by default (loaded on first use).
        limit: Newest negative posts to cluster at most.
        max_k: Most themes.
        model_version: Whose negative labels select the posts.

    Returns:
        One row per theme, largest first, with `THEME_COLUMNS`.
    """
    stop: list[str] = []
    if incident_id is not None:
        scope = incident_scope(engine, incident_id, model_version)
        brand, start, end = brand or scope.brand, start or scope.start, end or scope.end
        stop = [w for term in scope.incident.brand_terms or [] for w in term.lower().split()]
    found = _themes(engine, brand, start, end, embedder, limit, max_k, model_version, stop)
    return pd.DataFrame([dataclasses.asdict(t) for t in found], columns=THEME_COLUMNS)


def breakdown(
    engine: Engine,
    column: str,
    *,
    brand: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    model_version: str | None = None,
) -> pd.DataFrame:
    """Posts by sentiment per `platform` or `language`, with the negative share of scored posts."""
    version = resolve_model_version(engine, model_version)
    with session_scope(engine) as session:
        rows = queries.sentiment_by(
            session, column, model_version=version, brand=brand, start=start, end=end
        )
    long = pd.DataFrame(rows, columns=[column, "label", "count"]).fillna({column: "unknown"})
    wide = label_counts(long, column)
    return wide.sort_values("total", ascending=False).reset_index()
